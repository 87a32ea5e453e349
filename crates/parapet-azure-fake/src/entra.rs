//! The fake of Microsoft Entra ID's token endpoint: the client credentials
//! grant with the application's secret or a client assertion signed with
//! its certificate, in the tenant or one the test registers, answered with
//! a JWT carrying Entra ID's claims.

use crate::{CLIENT_CERTIFICATE, CLIENT_ID, SECRET, Served, TENANT};
use axum::Json;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The certificate's RSA public key (PKCS#1 DER), which checks an
/// assertion's signature.
const CLIENT_PUBLIC_KEY: &[u8] = include_bytes!("../fixtures/client-certificate.rsapub.der");
/// The type of a client assertion (RFC 7523).
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Entra ID's token endpoint, for the client credentials grant.
pub(crate) async fn token(
    State(served): State<Served>,
    Path(tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut estate = served.estate.lock().expect("the estate");
    estate.sign_ins += 1;
    let field = |name: &str| form.get(name).map(String::as_str);
    let refused = |error: &str, description: &str| {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": error, "error_description": description})),
        )
            .into_response()
    };
    if tenant != TENANT && !estate.tenants.contains(&tenant) {
        return refused("invalid_request", "AADSTS90002: Tenant not found.");
    }
    if field("grant_type") != Some("client_credentials")
        || field("scope").is_none_or(|s| !s.ends_with("/.default"))
    {
        return refused(
            "invalid_request",
            "AADSTS900144: The request body must contain the grant_type and a scope ending in /.default.",
        );
    }
    if field("client_id") != Some(CLIENT_ID) {
        return refused(
            "unauthorized_client",
            "AADSTS700016: Application not found in the directory.",
        );
    }
    match (
        field("client_secret"),
        field("client_assertion_type"),
        field("client_assertion"),
    ) {
        (Some(SECRET), None, None) => {}
        (None, Some(JWT_BEARER), Some(assertion)) => {
            let audience = format!("{}/{tenant}/oauth2/v2.0/token", served.base);
            if let Err(why) = assertion_checks(assertion, &audience) {
                return refused("invalid_client", why);
            }
        }
        (None, None, None) | (None, Some(_), _) | (None, None, Some(_)) => {
            return refused(
                "invalid_request",
                "AADSTS7000218: The request body must contain client_assertion or client_secret.",
            );
        }
        _ => {
            return refused(
                "invalid_client",
                "AADSTS7000215: Invalid client secret provided.",
            );
        }
    }
    let token = access_token(
        field("scope").unwrap_or_default(),
        &tenant,
        estate.tokens.len() + 1,
    );
    estate.tokens.push((token.clone(), tenant));
    Json(json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}))
        .into_response()
}

/// Whether a client assertion is one Entra ID takes from the
/// application's certificate: a JWT signed RS256 with the certificate's key,
/// naming it by its thumbprint (`x5t`, SHA-1 of its DER), issued by and
/// about the application, for this token endpoint, and current.
fn assertion_checks(assertion: &str, audience: &str) -> Result<(), &'static str> {
    use base64::Engine;
    const INVALID: &str = "AADSTS50027: JWT token is invalid or malformed.";
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Err(INVALID);
    };
    let json = |part: &str| -> Result<Value, &'static str> {
        let bytes = engine.decode(part).map_err(|_| INVALID)?;
        serde_json::from_slice(&bytes).map_err(|_| INVALID)
    };
    let (head, body) = (json(header)?, json(claims)?);
    let certificate = {
        use rustls::pki_types::pem::PemObject;
        rustls::pki_types::CertificateDer::from_pem_slice(CLIENT_CERTIFICATE.as_bytes())
            .expect("the test certificate")
    };
    let thumbprint = engine.encode(ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        &certificate,
    ));
    if head["alg"] != "RS256" || head["x5t"] != thumbprint.as_str() {
        return Err(
            "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application.",
        );
    }
    let signature = engine.decode(signature).map_err(|_| INVALID)?;
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        CLIENT_PUBLIC_KEY,
    )
    .verify(format!("{header}.{claims}").as_bytes(), &signature)
    .map_err(|_| "AADSTS700027: Client assertion failed signature validation.")?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let within = body["nbf"].as_u64().is_some_and(|nbf| nbf <= now + 300)
        && body["exp"].as_u64().is_some_and(|exp| exp > now);
    if body["aud"] != audience
        || body["iss"] != CLIENT_ID
        || body["sub"] != CLIENT_ID
        || body["jti"].as_str().is_none_or(str::is_empty)
        || !within
    {
        return Err(
            "AADSTS700024: Client assertion is not within its valid time range, or names another audience or client.",
        );
    }
    Ok(())
}

/// An access token as Entra ID issues one, a JWT, for `scope`'s resource:
/// its claims as Entra ID's (audience, issuer, times, tenant, app), its
/// signature not a real one. Azurite (with `--oauth basic`) reads the
/// claims and checks them; ARM's fake knows the tokens it issued.
pub(crate) fn access_token(scope: &str, tenant: &str, serial: usize) -> String {
    use base64::Engine;
    let encode =
        |value: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let claims = json!({
        "aud": scope.trim_end_matches("/.default"),
        "iss": format!("https://sts.windows.net/{tenant}/"),
        "iat": now, "nbf": now, "exp": now + 3599,
        "tid": tenant, "appid": CLIENT_ID, "oid": CLIENT_ID, "ver": "1.0",
        "uti": format!("fake-{serial}"),
    });
    format!(
        "{}.{}.{}",
        encode(json!({"typ": "JWT", "alg": "RS256"})),
        encode(claims),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("fake-signature-{serial}"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn a_client_assertion_not_signed_by_the_certificate_is_refused() {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let certificate = {
            use rustls::pki_types::pem::PemObject;
            rustls::pki_types::CertificateDer::from_pem_slice(CLIENT_CERTIFICATE.as_bytes())
                .expect("the certificate")
        };
        let thumbprint = engine.encode(ring::digest::digest(
            &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            &certificate,
        ));
        let header = engine.encode(json!({"alg": "RS256", "x5t": thumbprint}).to_string());
        let claims = engine.encode(
            json!({"aud": "https://fake/t/oauth2/v2.0/token", "iss": CLIENT_ID, "sub": CLIENT_ID,
                "jti": "1", "nbf": 0, "exp": u64::MAX})
            .to_string(),
        );
        let forged = format!("{header}.{claims}.{}", engine.encode([7u8; 256]));
        let refused = assertion_checks(&forged, "https://fake/t/oauth2/v2.0/token");
        assert!(refused.is_err_and(|why| why.contains("signature")));
        let other = engine.encode(json!({"alg": "RS256", "x5t": "another"}).to_string());
        let refused = assertion_checks(&format!("{other}.{claims}.AAAA"), "aud");
        assert!(refused.is_err_and(|why| why.contains("not registered")));
        assert!(assertion_checks("not a jwt", "aud").is_err());
    }
}
