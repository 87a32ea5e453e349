//! Who is asking, and what they may do.
//!
//! - API tokens (`ppt_` and 43 base64url characters, 256 random bits) sent
//!   as `Authorization: Bearer`, kept only as a SHA-256 hash, each
//!   read-only or read-write.
//! - Browser sessions: logging in with a token (or with the OpenID Connect
//!   provider) sets an `HttpOnly`, `SameSite=Strict` cookie, named
//!   `__Host-parapet_session` when cookies are `Secure`; a session made
//!   from a token ends when the token is revoked, and so does its live
//!   stream. Sessions live in the store by the hash of their cookie, so
//!   that every replica of the server knows them; the session's CSRF
//!   token is derived from the cookie.
//! - CSRF: a request that changes something and is not sent with a bearer
//!   token must carry the session's `X-CSRF-Token` and, when the browser
//!   names an `Origin`, come from the server's own origin.
//! - A server open on loopback needs no credentials, but then answers only
//!   requests addressed to a loopback host name, so that a web page cannot
//!   reach it by rebinding its own name to 127.0.0.1, and refuses requests
//!   that a proxy forwarded (a proxy on the same host would otherwise open
//!   it to whoever reaches the proxy).
//! - Security headers on every answer: a strict Content Security Policy
//!   (the pages load nothing from anywhere else), no framing, no sniffing,
//!   no referrer.

use crate::error::ApiError;
use crate::state::{Access, App};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use parapet_store::{TokenScope, WebSession};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use subtle::ConstantTimeEq;

/// The cookie that carries a browser session (see [`cookie_name`]).
pub const SESSION_COOKIE: &str = "parapet_session";
/// The cookie that binds a login through the OpenID Connect provider to
/// the browser that started it.
pub const LOGIN_COOKIE: &str = "parapet_login";
/// Headers a proxy adds to what it forwards.
const FORWARDING_HEADERS: [&str; 5] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
];
/// The header that carries a session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a browser session lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// 32 random bytes, base64url.
pub fn random_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// A new API token's secret.
pub fn new_token() -> Result<String, getrandom::Error> {
    Ok(format!("ppt_{}", random_secret()?))
}

/// The hash a token is stored and looked up by.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Who a request comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// A name for the timeline: the token's name, the OIDC user, or
    /// `local` on an open loopback server.
    pub name: String,
    /// What they may do.
    pub scope: TokenScope,
    /// How they proved it.
    pub via: Via,
}

/// How a request proved who it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A bearer token; its hash.
    Token(String),
    /// A browser session.
    Session {
        /// The hash of its cookie.
        id_hash: String,
        /// Its CSRF token.
        csrf: String,
    },
    /// Nothing: an open loopback server; the server's CSRF token.
    Open(String),
}

impl Via {
    /// The CSRF token a browser sends with changes, if it is a browser.
    pub fn csrf(&self) -> Option<&str> {
        match self {
            Via::Session { csrf, .. } | Via::Open(csrf) => Some(csrf),
            Via::Token(_) => None,
        }
    }
}

/// The name of cookie `base` under these settings: with the `__Host-`
/// prefix when cookies are `Secure`, so that browsers keep it only from
/// this host, over HTTPS, for every path (the prefix needs `Secure`).
pub fn cookie_name(settings: &crate::Settings, base: &str) -> String {
    if settings.secure_cookies {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

/// A `Set-Cookie` value for cookie `base` (named by [`cookie_name`]) that
/// holds `value` for `max_age` seconds (0 clears it).
pub fn set_cookie(
    settings: &crate::Settings,
    base: &str,
    value: &str,
    max_age: u64,
    same_site: &str,
) -> String {
    let secure = if settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}",
        cookie_name(settings, base)
    )
}

/// The CSRF token of a session: derived from its cookie, so that the store
/// keeps no secret of it (only the cookie's hash).
pub fn csrf_of(session_cookie: &str) -> String {
    token_hash(&format!("parapet-csrf:{session_cookie}"))
}

/// Starts a browser session for `name` with `scope` (made from the API
/// token that hashes to `token_hash`, if any), kept in the store so that
/// every replica of the server knows it; returns its cookie value and its
/// CSRF token.
pub async fn start_session(
    app: &Arc<App>,
    name: String,
    scope: TokenScope,
    token_hash: Option<String>,
) -> Result<(String, String), ApiError> {
    let id = random_secret().map_err(ApiError::internal)?;
    let id_hash = self::token_hash(&id);
    let now = Utc::now();
    let session = WebSession {
        name,
        scope,
        token_hash,
        expires_at: now + chrono::Duration::from_std(SESSION_LIFETIME).unwrap_or_default(),
    };
    app.store(move |store| Ok(store.start_session(&id_hash, &session, now)?))
        .await?;
    let csrf = csrf_of(&id);
    Ok((id, csrf))
}

/// Ends the session whose cookie hashes to `id_hash`.
pub async fn end_session(app: &Arc<App>, id_hash: String) -> Result<(), ApiError> {
    app.store(move |store| Ok(store.end_session(&id_hash)?))
        .await
}

/// The CSRF token of an open loopback server, made on first use.
#[derive(Debug, Default)]
pub struct OpenCsrf(Mutex<Option<String>>);

impl OpenCsrf {
    /// The token.
    pub fn get(&self) -> Result<String, ApiError> {
        let mut token = self.0.lock().map_err(ApiError::internal)?;
        if let Some(token) = &*token {
            return Ok(token.clone());
        }
        let new = random_secret().map_err(ApiError::internal)?;
        *token = Some(new.clone());
        Ok(new)
    }
}

/// The value of cookie `name`.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Whether `host` (a Host header, with or without port) names loopback.
fn loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Who sent `headers`, if anyone the server knows.
async fn authenticate(app: &Arc<App>, headers: &HeaderMap) -> Result<Option<Principal>, ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::unauthenticated("`Authorization` must be `Bearer` and an API token")
            })?;
        let hash = token_hash(token.trim());
        let token = valid_token(app, hash.clone())
            .await?
            .ok_or_else(|| ApiError::unauthenticated("the API token is not valid"))?;
        return Ok(Some(Principal {
            name: token.name,
            scope: token.scope,
            via: Via::Token(hash),
        }));
    }
    let Some(id) = cookie(headers, &cookie_name(&app.settings, SESSION_COOKIE)) else {
        return Ok(None);
    };
    let id_hash = token_hash(&id);
    Ok(live_session(app, &id_hash).await?.map(|session| Principal {
        name: session.name,
        scope: session.scope,
        via: Via::Session {
            id_hash,
            csrf: csrf_of(&id),
        },
    }))
}

/// The session whose cookie has the hash `id_hash`, while it lasts and the
/// token it was made from is valid (it ends with the token).
async fn live_session(app: &Arc<App>, id_hash: &str) -> Result<Option<WebSession>, ApiError> {
    let key = id_hash.to_owned();
    let Some(session) = app
        .store(move |store| Ok(store.session(&key, Utc::now())?))
        .await?
    else {
        return Ok(None);
    };
    if let Some(hash) = &session.token_hash
        && valid_token(app, hash.clone()).await?.is_none()
    {
        end_session(app, id_hash.to_owned()).await?;
        return Ok(None);
    }
    Ok(Some(session))
}

/// Whether what `principal` proved itself with still holds: its token is
/// not revoked or expired, its session not ended. Long requests (the live
/// stream) ask again as they go.
pub async fn still_valid(app: &Arc<App>, principal: &Principal) -> Result<bool, ApiError> {
    Ok(match &principal.via {
        Via::Token(hash) => valid_token(app, hash.clone()).await?.is_some(),
        Via::Session { id_hash, .. } => live_session(app, id_hash).await?.is_some(),
        Via::Open(_) => true,
    })
}

/// The token with `hash` when it is valid now; its use is recorded (at
/// most once a minute).
pub async fn valid_token(
    app: &Arc<App>,
    hash: String,
) -> Result<Option<parapet_store::ApiToken>, ApiError> {
    app.store(move |store| {
        let now = Utc::now();
        let Some(token) = store.token_by_hash(&hash)?.filter(|t| t.is_valid(now)) else {
            return Ok(None);
        };
        if token
            .last_used_at
            .is_none_or(|t| now - t > chrono::Duration::minutes(1))
        {
            store.token_used(token.id, now)?;
        }
        Ok(Some(token))
    })
    .await
}

/// Paths anyone may fetch: the pages, the API description, and logging in.
fn public_path(path: &str) -> bool {
    !path.starts_with("/api/") || path == "/api/v1/openapi.json" || path == "/api/v1/session"
}

/// The request's principal, set by [`guard`] on every API request.
pub fn principal(request: &Request) -> Option<&Principal> {
    request.extensions().get::<Principal>()
}

/// Authenticates every request, checks CSRF and scope on those that change
/// something, and refuses foreign hosts on an open loopback server.
pub async fn guard(
    State(app): State<Arc<App>>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let headers = request.headers();
    let open = app.settings.access == Access::OpenOnLoopback;
    if open {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if !loopback_host(host) {
            return Err(ApiError::forbidden(
                "foreign_host",
                format!("this server answers only requests to a loopback host, not `{host}`"),
            ));
        }
        if let Some(name) = FORWARDING_HEADERS
            .iter()
            .find(|h| headers.contains_key(**h))
        {
            return Err(ApiError::forbidden(
                "proxied",
                format!(
                    "this server is open on loopback and answers no request a proxy forwarded (`{name}`); behind a proxy, start it with `--auth`"
                ),
            ));
        }
    }
    let principal = match authenticate(&app, headers).await? {
        Some(principal) => Some(principal),
        None if open => Some(Principal {
            name: "local".to_owned(),
            scope: TokenScope::ReadWrite,
            via: Via::Open(app.open_csrf.get()?),
        }),
        None => None,
    };
    let path = request.uri().path().to_owned();
    let Some(principal) = principal else {
        if public_path(&path) {
            return Ok(next.run(request).await);
        }
        return Err(ApiError::unauthenticated(
            "this server needs an API token (`Authorization: Bearer`) or a session; create one with `parapet tokens create`",
        ));
    };
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe {
        check_csrf(&principal, request.headers())?;
        if principal.scope != TokenScope::ReadWrite && path != "/api/v1/session" {
            return Err(ApiError::forbidden(
                "read_only",
                format!(
                    "`{}` is read-only; changing anything needs a read-write token",
                    principal.name
                ),
            ));
        }
    }
    request.extensions_mut().insert(principal);
    Ok(next.run(request).await)
}

/// A request that changes something from a browser carries the CSRF token
/// and, when it names its origin, comes from this server's.
fn check_csrf(principal: &Principal, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = principal.via.csrf() else {
        return Ok(());
    };
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let same = origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host));
        if !same {
            return Err(ApiError::forbidden(
                "csrf",
                format!("requests from `{origin}` may not change anything here"),
            ));
        }
    }
    let given = headers
        .get(CSRF_HEADER)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    if !bool::from(given.ct_eq(expected.as_bytes())) {
        return Err(ApiError::forbidden(
            "csrf",
            "a change from a browser needs the `X-CSRF-Token` header that `GET /api/v1/session` gives",
        ));
    }
    Ok(())
}

/// Adds the security headers to every answer.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "x-frame-options", "DENY");
    set(headers, "referrer-policy", "no-referrer");
    set(headers, "cross-origin-opener-policy", "same-origin");
    set(headers, "cross-origin-resource-policy", "same-origin");
    set(
        headers,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    );
    if api {
        set(headers, "cache-control", "no-store");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let a = new_token().expect("random");
        let b = new_token().expect("random");
        assert!(a.starts_with("ppt_") && a.len() == 47, "{a}");
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for host in [
            "localhost:8080",
            "127.0.0.1:80",
            "[::1]:8080",
            "127.0.0.1",
            "LOCALHOST",
        ] {
            assert!(loopback_host(host), "{host}");
        }
        for host in [
            "evil.example:8080",
            "10.0.0.1:80",
            "",
            "localhost.evil.example",
        ] {
            assert!(!loopback_host(host), "{host}");
        }
    }

    #[test]
    fn cookies_are_read_by_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; parapet_session=xyz; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie(&headers, "c"), None);
    }

    #[test]
    fn browser_changes_need_the_csrf_token_and_the_same_origin() {
        let principal = Principal {
            name: "alice".into(),
            scope: TokenScope::ReadWrite,
            via: Via::Session {
                id_hash: "h".into(),
                csrf: "s3cret".into(),
            },
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            header::HOST,
            HeaderValue::from_static("parapet.internal:8080"),
        );
        assert_eq!(
            check_csrf(&principal, &headers).expect_err("none").code,
            "csrf"
        );
        headers.insert(CSRF_HEADER, HeaderValue::from_static("s3cret"));
        assert!(check_csrf(&principal, &headers).is_ok());
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(check_csrf(&principal, &headers).is_err());
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://parapet.internal:8080"),
        );
        assert!(check_csrf(&principal, &headers).is_ok());
        headers.insert(CSRF_HEADER, HeaderValue::from_static("guess"));
        assert!(check_csrf(&principal, &headers).is_err());
        let token = Principal {
            via: Via::Token("h".into()),
            ..principal
        };
        assert!(check_csrf(&token, &HeaderMap::new()).is_ok());
    }
}
