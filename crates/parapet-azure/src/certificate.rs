//! A service principal's certificate as its credential: Entra ID's client
//! assertion (RFC 7523), a JWT signed RS256 with the certificate's private
//! key and naming the certificate by its SHA-1 thumbprint (`x5t`), handed to
//! `azure_identity`'s `ClientAssertionCredential`, which asks the token
//! endpoint with it. The certificate and its unencrypted private key (PKCS#8
//! or PKCS#1 RSA) are read from one PEM file, as `AZURE_CLIENT_CERTIFICATE_PATH`
//! names it; a PKCS#12 file is converted first
//! (`openssl pkcs12 -in cert.pfx -nodes -out cert.pem`).

use azure_core::http::ClientMethodOptions;
use azure_identity::ClientAssertion;
use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

/// How long an assertion is valid, in seconds.
const LIFETIME: u64 = 600;

/// The assertions of one application's certificate, for one token
/// endpoint.
pub struct CertificateAssertion {
    client_id: String,
    /// The token endpoint the assertion is for (its `aud`).
    audience: String,
    /// The certificate's thumbprint, as `x5t` says it.
    thumbprint: String,
    key: Arc<RsaKeyPair>,
}

impl std::fmt::Debug for CertificateAssertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAssertion")
            .field("client_id", &self.client_id)
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

impl CertificateAssertion {
    /// The assertions of the certificate and key in the PEM file `path`,
    /// for `client_id` at `audience`; why not, naming the file.
    pub fn from_file(path: &Path, client_id: &str, audience: &str) -> Result<Self, String> {
        let place = path.display();
        let certificate = CertificateDer::from_pem_file(path)
            .map_err(|e| format!("{place}: no certificate ({e})"))?;
        let key = match PrivateKeyDer::from_pem_file(path)
            .map_err(|e| format!("{place}: no unencrypted private key ({e})"))?
        {
            PrivateKeyDer::Pkcs8(key) => RsaKeyPair::from_pkcs8(key.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(key) => RsaKeyPair::from_der(key.secret_pkcs1_der()),
            _ => return Err(format!("{place}: the private key is not an RSA key")),
        }
        .map_err(|e| format!("{place}: the private key is not a usable RSA key ({e})"))?;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let thumbprint = engine.encode(ring::digest::digest(
            &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            &certificate,
        ));
        Ok(CertificateAssertion {
            client_id: client_id.to_owned(),
            audience: audience.to_owned(),
            thumbprint,
            key: Arc::new(key),
        })
    }

    /// A new assertion, valid from `now` (Unix seconds).
    fn signed(&self, now: u64) -> Result<String, ring::error::Unspecified> {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let random = SystemRandom::new();
        let mut id = [0u8; 16];
        random.fill(&mut id)?;
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t": self.thumbprint});
        let claims = serde_json::json!({
            "aud": self.audience, "iss": self.client_id, "sub": self.client_id,
            "jti": hex_of(&id), "nbf": now, "iat": now, "exp": now + LIFETIME,
        });
        let signed = format!(
            "{}.{}",
            engine.encode(header.to_string()),
            engine.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key.sign(
            &RSA_PKCS1_SHA256,
            &random,
            signed.as_bytes(),
            &mut signature,
        )?;
        Ok(format!("{signed}.{}", engine.encode(signature)))
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[async_trait::async_trait]
impl ClientAssertion for CertificateAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.signed(now).map_err(|_| {
            azure_core::Error::with_message(
                azure_core::error::ErrorKind::Credential,
                "the client assertion could not be signed",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assertion_names_the_certificate_and_the_application_and_is_signed() {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("cert.pem");
        std::fs::write(&path, parapet_azure_fake::CLIENT_CERTIFICATE).expect("written");
        let assertion = CertificateAssertion::from_file(&path, "app", "https://login/t/token")
            .expect("the certificate");
        let jwt = assertion.signed(1_780_000_000).expect("signed");
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value =
            serde_json::from_slice(&engine.decode(parts[1]).expect("base64")).expect("JSON");
        assert_eq!(claims["aud"], "https://login/t/token");
        assert_eq!(claims["iss"], "app");
        assert_eq!(claims["exp"], 1_780_000_600);
        assert!(!format!("{assertion:?}").contains("PRIVATE"));

        std::fs::write(
            &path,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .expect("written");
        let refused = CertificateAssertion::from_file(&path, "app", "aud").expect_err("no key");
        assert!(
            refused.contains("cert.pem") && refused.contains("private key"),
            "{refused}"
        );
    }
}
