//! Logging browsers in through an OpenID Connect provider: the
//! authorization code flow with PKCE (S256), a one-time `state` and a
//! `nonce` per login, the code exchanged at the token endpoint with the
//! client's secret (HTTP Basic), and the ID token checked before a session
//! starts: its signature (RS256 or ES256, with ring, against the provider's
//! published keys), issuer, audience, expiry and nonce. The provider's
//! endpoints come from its discovery document, read at start.
//!
//! A login is bound to the browser that started it: the `state` is only
//! accepted with the short-lived cookie set when the login began (no login
//! CSRF). Who may log in is named, never assumed: by subject (`sub`, which
//! the provider never reassigns), by an email address the provider says it
//! verified, or by a group in the ID token's groups claim; a user name the
//! user can change (`preferred_username`) grants nothing.

use crate::auth::random_secret;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use parapet_store::TokenScope;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::Mutex;
use std::time::Duration;
use thiserror::Error;

/// How long a login may take, from the redirect to the provider to the
/// callback.
pub const LOGIN_LIFETIME: Duration = Duration::from_secs(600);
/// The clock difference tolerated between the provider and this server.
const LEEWAY_SECONDS: i64 = 60;

/// What the server is told about its provider.
#[derive(Clone)]
pub struct OidcSettings {
    /// The issuer URL; its discovery document is
    /// `ISSUER/.well-known/openid-configuration`.
    pub issuer: String,
    /// This server's client id at the provider.
    pub client_id: String,
    /// This server's client secret, if the provider gave it one.
    pub client_secret: Option<String>,
    /// The callback URL registered at the provider:
    /// `https://parapet.example/auth/oidc/callback`.
    pub redirect_url: String,
    /// Who may change things: each a subject, a verified email address
    /// (any entry with `@`), `group:NAME` (a group in the groups claim) or
    /// `*` (anyone the provider admits).
    pub read_write: Vec<String>,
    /// Who may read, named the same way; no one else may log in.
    pub read_only: Vec<String>,
    /// The ID token's claim that lists the user's groups.
    pub groups_claim: String,
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "(hidden)"),
            )
            .field("redirect_url", &self.redirect_url)
            .field("read_write", &self.read_write)
            .field("read_only", &self.read_only)
            .field("groups_claim", &self.groups_claim)
            .finish()
    }
}

/// What went wrong with the provider or a login.
#[derive(Debug, Error)]
pub enum OidcError {
    /// The provider could not be reached or answered something unusable.
    #[error("the OpenID Connect provider {url}: {message}")]
    Provider {
        /// What was asked.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// No one is named who may log in.
    #[error(
        "name who may log in through the provider (`--oidc-read-only`, `--oidc-read-write`): subjects, verified email addresses, `group:NAME` or `*`"
    )]
    NoOneAllowed,
    /// The login is not one this server started, or it took too long.
    #[error("this login was not started here, was already used, or took too long; log in again")]
    UnknownLogin,
    /// The callback came to a browser other than the one that started the
    /// login (someone sent it their own login).
    #[error("this login was started in another browser; log in again")]
    OtherBrowser,
    /// The provider admitted a user this server does not name.
    #[error("`{0}` may not use this server; ask its administrator to add you")]
    NotAllowed(String),
    /// The provider refused the login.
    #[error("the provider refused the login: {0}")]
    Refused(String),
    /// The ID token is not acceptable.
    #[error("the ID token is not valid: {0}")]
    Token(String),
}

/// One of the provider's signing keys.
#[derive(Debug, Clone, Deserialize)]
struct Jwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
}

/// A login just started.
#[derive(Debug)]
pub struct Login {
    /// The provider's authorization page, where the browser goes.
    pub url: String,
    /// What the browser keeps in a cookie and brings back to the callback:
    /// the login's nonce and PKCE verifier are derived from it, so that the
    /// server keeps no secret of a login in progress.
    pub binding: String,
    /// The `state` the provider sends back with the code, by which the
    /// server finds the login (it keeps the hashes of it and of the
    /// binding).
    pub state: String,
}

/// A secret of a login derived from its browser binding: its `nonce` or
/// its PKCE `verifier` (43 base64url characters).
fn derived(binding: &str, purpose: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!("parapet-login-{purpose}:{binding}")))
}

/// Who logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The verified email address, or else the subject.
    pub name: String,
    /// What they may do.
    pub scope: TokenScope,
}

/// The provider, as its discovery document describes it.
pub struct Provider {
    settings: OidcSettings,
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    keys: Mutex<Vec<Jwk>>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

fn provider_error(url: &str, message: impl std::fmt::Display) -> OidcError {
    OidcError::Provider {
        url: url.to_owned(),
        message: message.to_string(),
    }
}

fn decode(part: &str, what: &str) -> Result<Vec<u8>, OidcError> {
    URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| OidcError::Token(format!("its {what} is not base64url")))
}

impl Provider {
    /// Reads the provider's discovery document and keys.
    pub fn discover(settings: OidcSettings) -> Result<Provider, OidcError> {
        if settings.read_write.is_empty() && settings.read_only.is_empty() {
            return Err(OidcError::NoOneAllowed);
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        let url = format!(
            "{}/.well-known/openid-configuration",
            settings.issuer.trim_end_matches('/')
        );
        let document = get_json(&agent, &url)?;
        let field = |name: &str| {
            document[name].as_str().map(str::to_owned).ok_or_else(|| {
                provider_error(&url, format!("the discovery document has no `{name}`"))
            })
        };
        let provider = Provider {
            issuer: field("issuer")?,
            authorization_endpoint: field("authorization_endpoint")?,
            token_endpoint: field("token_endpoint")?,
            jwks_uri: field("jwks_uri")?,
            settings,
            keys: Mutex::new(Vec::new()),
            agent,
        };
        if provider.issuer.trim_end_matches('/') != provider.settings.issuer.trim_end_matches('/') {
            return Err(provider_error(
                &url,
                format!(
                    "it names the issuer `{}`, not the one configured",
                    provider.issuer
                ),
            ));
        }
        provider.refresh_keys()?;
        Ok(provider)
    }

    fn refresh_keys(&self) -> Result<(), OidcError> {
        let document = get_json(&self.agent, &self.jwks_uri)?;
        let keys: Vec<Jwk> = serde_json::from_value(document["keys"].clone()).map_err(|e| {
            provider_error(&self.jwks_uri, format!("the key set is not valid: {e}"))
        })?;
        if let Ok(mut held) = self.keys.lock() {
            *held = keys;
        }
        Ok(())
    }

    /// Starts a login: the provider's authorization page, and the binding
    /// the browser keeps until the callback.
    pub fn start(&self) -> Result<Login, OidcError> {
        let random =
            || random_secret().map_err(|e| OidcError::Refused(format!("no randomness: {e}")));
        let (state, binding) = (random()?, random()?);
        let nonce = derived(&binding, "nonce");
        let challenge =
            URL_SAFE_NO_PAD.encode(Sha256::digest(derived(&binding, "verifier").as_bytes()));
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", &self.settings.redirect_url)
            .append_pair("scope", "openid email profile")
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        let join = if self.authorization_endpoint.contains('?') {
            '&'
        } else {
            '?'
        };
        Ok(Login {
            url: format!("{}{join}{query}", self.authorization_endpoint),
            binding,
            state,
        })
    }

    /// Finishes a login from the callback's `code` in the browser that
    /// brought back `binding` (the caller has found the login by its
    /// `state` and checked that this browser started it): exchanges the
    /// code and checks the ID token. Blocking (it calls the provider).
    pub fn finish(&self, code: &str, binding: &str) -> Result<Identity, OidcError> {
        let verifier = derived(binding, "verifier");
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.settings.redirect_url),
            ("client_id", &self.settings.client_id),
            ("code_verifier", &verifier),
        ];
        let mut request = self.agent.post(&self.token_endpoint);
        if let Some(secret) = &self.settings.client_secret {
            let pair = format!(
                "{}:{}",
                form_urlencoded::byte_serialize(self.settings.client_id.as_bytes())
                    .collect::<String>(),
                form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>()
            );
            request = request.header("Authorization", format!("Basic {}", STANDARD.encode(pair)));
        }
        let mut response = request
            .send_form(form)
            .map_err(|e| provider_error(&self.token_endpoint, e))?;
        let status = response.status();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| provider_error(&self.token_endpoint, e))?;
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !status.is_success() {
            let reason = body["error_description"]
                .as_str()
                .or(body["error"].as_str())
                .unwrap_or("no reason given");
            return Err(OidcError::Refused(format!(
                "the token endpoint answered {status}: {reason}"
            )));
        }
        let token = body["id_token"]
            .as_str()
            .ok_or_else(|| OidcError::Refused("the token endpoint gave no ID token".to_owned()))?;
        let claims = self.verify(token)?;
        self.identity(&claims, &derived(binding, "nonce"))
    }

    /// The claims of `token` once its signature is the provider's.
    fn verify(&self, token: &str) -> Result<Value, OidcError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(OidcError::Token(
                "it is not three dot-separated parts".to_owned(),
            ));
        };
        let head: Value = serde_json::from_slice(&decode(header, "header")?)
            .map_err(|_| OidcError::Token("its header is not JSON".to_owned()))?;
        let alg = head["alg"].as_str().unwrap_or("");
        let kid = head["kid"].as_str();
        let signed = format!("{header}.{payload}");
        let signature = decode(signature, "signature")?;
        let check = |keys: &[Jwk]| -> Option<bool> {
            let key = keys
                .iter()
                .find(|k| kid.is_none_or(|kid| k.kid.as_deref() == Some(kid)))?;
            Some(verify_signature(alg, key, signed.as_bytes(), &signature))
        };
        let held = self.keys.lock().map(|k| k.clone()).unwrap_or_default();
        let verdict = match check(&held) {
            Some(v) => v,
            None => {
                // A key the provider rotated in since start.
                self.refresh_keys()?;
                let held = self.keys.lock().map(|k| k.clone()).unwrap_or_default();
                check(&held).ok_or_else(|| {
                    OidcError::Token(
                        "it is signed by a key the provider does not publish".to_owned(),
                    )
                })?
            }
        };
        if !verdict {
            return Err(OidcError::Token(format!(
                "its {alg} signature does not verify"
            )));
        }
        serde_json::from_slice(&decode(payload, "payload")?)
            .map_err(|_| OidcError::Token("its claims are not JSON".to_owned()))
    }

    /// Who the verified `claims` name, once they are for this server, now,
    /// and this login.
    fn identity(&self, claims: &Value, nonce: &str) -> Result<Identity, OidcError> {
        if claims["iss"].as_str() != Some(self.issuer.as_str()) {
            return Err(OidcError::Token(
                "it was issued by another issuer".to_owned(),
            ));
        }
        let audience = match &claims["aud"] {
            Value::String(a) => a == &self.settings.client_id,
            Value::Array(list) => list
                .iter()
                .any(|a| a.as_str() == Some(&self.settings.client_id)),
            _ => false,
        };
        if !audience {
            return Err(OidcError::Token(
                "it is meant for another client".to_owned(),
            ));
        }
        let now = chrono::Utc::now().timestamp();
        let exp = claims["exp"]
            .as_i64()
            .ok_or_else(|| OidcError::Token("it has no expiry".to_owned()))?;
        if exp + LEEWAY_SECONDS < now {
            return Err(OidcError::Token("it has expired".to_owned()));
        }
        if claims["iat"]
            .as_i64()
            .is_some_and(|iat| iat - LEEWAY_SECONDS > now)
        {
            return Err(OidcError::Token("it was issued in the future".to_owned()));
        }
        let given = claims["nonce"].as_str().unwrap_or("");
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            given.as_bytes(),
            nonce.as_bytes(),
        )) {
            return Err(OidcError::Token("its nonce is not this login's".to_owned()));
        }
        let subject = claims["sub"]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| OidcError::Token("it names no subject".to_owned()))?;
        let user = User::of(claims, subject, &self.settings.groups_claim);
        let name = user.email.unwrap_or(subject).to_owned();
        let scope = if self.settings.read_write.iter().any(|e| user.is(e)) {
            TokenScope::ReadWrite
        } else if self.settings.read_only.iter().any(|e| user.is(e)) {
            TokenScope::ReadOnly
        } else {
            return Err(OidcError::NotAllowed(name));
        };
        Ok(Identity { name, scope })
    }
}

/// What an ID token says of its user that may grant access.
struct User<'a> {
    subject: &'a str,
    /// The email address, only when the provider says it verified it.
    email: Option<&'a str>,
    groups: Vec<&'a str>,
}

impl<'a> User<'a> {
    fn of(claims: &'a Value, subject: &'a str, groups_claim: &str) -> User<'a> {
        let verified = claims["email_verified"] == Value::Bool(true)
            || claims["email_verified"].as_str() == Some("true");
        let groups = match &claims[groups_claim] {
            Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
            Value::String(one) => vec![one.as_str()],
            _ => Vec::new(),
        };
        User {
            subject,
            email: claims["email"].as_str().filter(|_| verified),
            groups,
        }
    }

    /// Whether `entry` of an access list names this user.
    fn is(&self, entry: &str) -> bool {
        let entry = entry.trim();
        if entry == "*" {
            return true;
        }
        if let Some(group) = entry.strip_prefix("group:") {
            return self.groups.contains(&group);
        }
        if entry.contains('@') {
            return self
                .email
                .is_some_and(|email| email.eq_ignore_ascii_case(entry));
        }
        entry == self.subject
    }
}

/// A JSON document from the provider.
fn get_json(agent: &ureq::Agent, url: &str) -> Result<Value, OidcError> {
    let mut response = agent.get(url).call().map_err(|e| provider_error(url, e))?;
    if !response.status().is_success() {
        return Err(provider_error(
            url,
            format!("answered {}", response.status()),
        ));
    }
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| provider_error(url, e))?;
    serde_json::from_str(&text).map_err(|e| provider_error(url, format!("not JSON: {e}")))
}

/// Whether `signature` over `message` verifies with `key` under `alg`.
fn verify_signature(alg: &str, key: &Jwk, message: &[u8], signature: &[u8]) -> bool {
    let part = |v: &Option<String>| v.as_deref().and_then(|s| URL_SAFE_NO_PAD.decode(s).ok());
    match (alg, key.kty.as_str()) {
        ("RS256", "RSA") => match (part(&key.n), part(&key.e)) {
            (Some(n), Some(e)) => ring::signature::RsaPublicKeyComponents { n: &n, e: &e }
                .verify(
                    &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                    message,
                    signature,
                )
                .is_ok(),
            _ => false,
        },
        ("ES256", "EC") if key.crv.as_deref() == Some("P-256") => {
            match (part(&key.x), part(&key.y)) {
                (Some(x), Some(y)) => {
                    let mut point = vec![4u8];
                    point.extend(x);
                    point.extend(y);
                    ring::signature::UnparsedPublicKey::new(
                        &ring::signature::ECDSA_P256_SHA256_FIXED,
                        point,
                    )
                    .verify(message, signature)
                    .is_ok()
                }
                _ => false,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_and_unknown_algorithms_never_verify() {
        let key = Jwk {
            kty: "RSA".into(),
            kid: None,
            n: Some("AQAB".into()),
            e: Some("AQAB".into()),
            crv: None,
            x: None,
            y: None,
        };
        for alg in ["none", "HS256", "RS512", ""] {
            assert!(!verify_signature(alg, &key, b"m", b""), "{alg}");
        }
        assert!(!verify_signature("RS256", &key, b"m", b"not a signature"));
    }

    #[test]
    fn the_client_secret_is_not_shown_by_debug() {
        let settings = OidcSettings {
            issuer: "https://idp.example".into(),
            client_id: "parapet".into(),
            client_secret: Some("s3cr3t-value".into()),
            redirect_url: "https://parapet.example/auth/oidc/callback".into(),
            read_write: vec![],
            read_only: vec![],
            groups_claim: "groups".into(),
        };
        assert!(!format!("{settings:?}").contains("s3cr3t-value"));
    }

    #[test]
    fn access_is_granted_by_subject_verified_email_or_group_never_by_user_name() {
        let claims = serde_json::json!({
            "sub": "00u1",
            "email": "Alice@Example.com",
            "email_verified": true,
            "preferred_username": "admin",
            "groups": ["secops", "dev"],
        });
        let user = User::of(&claims, "00u1", "groups");
        for entry in ["00u1", "alice@example.com", "group:secops", "*"] {
            assert!(user.is(entry), "{entry}");
        }
        for entry in ["admin", "group:admins", "00u", "bob@example.com", "group:"] {
            assert!(!user.is(entry), "{entry}");
        }
        let unverified = serde_json::json!({"sub": "00u2", "email": "alice@example.com"});
        let user = User::of(&unverified, "00u2", "groups");
        assert!(!user.is("alice@example.com"), "an unverified address");
        assert_eq!(user.email, None);
        let false_verified =
            serde_json::json!({"sub": "x", "email": "a@b", "email_verified": false});
        assert!(!User::of(&false_verified, "x", "groups").is("a@b"));
        let other_claim = serde_json::json!({"sub": "x", "roles": "parapet-admins"});
        assert!(User::of(&other_claim, "x", "roles").is("group:parapet-admins"));
    }
}
