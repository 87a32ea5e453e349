//! The bearer tokens Google's client libraries send when signed in with a
//! service account key: a JWT the key signed itself (RS256), naming the
//! key (`kid`), the service account (`iss`, `sub`), the scopes asked for
//! (`scope`) or the API (`aud`), and when it expires (`exp`).

use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// The scope every call needs.
const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";

/// The public half of the service account's key.
const PUBLIC_KEY: &[u8] = include_bytes!("../fixtures/service-account.rsapub.der");

/// Checks the request's bearer token: one of the access tokens `issued`
/// (to the service account each names), or a JWT of the service account
/// `key` (its signature, key id, issuer, expiry and scope). Gives the
/// service account signed in; `Err` says why the token does not sign the
/// request in.
pub fn verify(
    headers: &HeaderMap,
    key: &Value,
    issued: &std::collections::BTreeMap<String, String>,
) -> Result<String, String> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or("Request is missing required authentication credential")?;
    if let Some(account) = issued.get(token) {
        return Ok(account.clone());
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Err("the bearer token is not a JWT".to_owned());
    };
    let decode = |part: &str| -> Result<Value, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| "the bearer token is not Base64".to_owned())?;
        serde_json::from_slice(&bytes).map_err(|_| "the bearer token is not JSON".to_owned())
    };
    let (header, claims) = (decode(header)?, decode(claims)?);
    if header["alg"] != "RS256" || header["kid"] != key["private_key_id"] {
        return Err(format!("the token's header {header} names another key"));
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| "the signature is not Base64".to_owned())?;
    let signed = &token[..token.rfind('.').unwrap_or_default()];
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        PUBLIC_KEY,
    )
    .verify(signed.as_bytes(), &signature)
    .map_err(|_| "the token's signature does not verify".to_owned())?;
    if claims["iss"] != key["client_email"] {
        return Err(format!("the token is issued by {}", claims["iss"]));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    if claims["exp"].as_u64().is_none_or(|exp| exp <= now) {
        return Err("the token has expired".to_owned());
    }
    let scoped = claims["scope"]
        .as_str()
        .is_some_and(|s| s.split(' ').any(|s| s == CLOUD_PLATFORM));
    let audience = claims["aud"]
        .as_str()
        .is_some_and(|a| a.ends_with(".googleapis.com/"));
    match scoped || audience {
        true => Ok(key["client_email"].as_str().unwrap_or_default().to_owned()),
        false => {
            Err("the token has neither the cloud-platform scope nor an API audience".to_owned())
        }
    }
}
