//! Browser sessions: who is logged in, logging in with an API token, and
//! logging out.

use super::Json;
use crate::auth::{self, LOGIN_COOKIE, Principal, SESSION_COOKIE, SESSION_LIFETIME};
use crate::error::ApiError;
use crate::params::{Body, Params};
use crate::state::{Access, App};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// `GET /api/v1/session`: who the caller is, and the CSRF token a browser
/// sends with changes.
pub async fn show(State(app): State<Arc<App>>, request: Request) -> Json {
    let required = app.settings.access == Access::Authenticated;
    let value = match auth::principal(&request) {
        Some(Principal { name, scope, via }) => json!({
            "authenticated": true,
            "name": name,
            "scope": scope,
            "csrf_token": via.csrf(),
            "auth_required": required,
            "oidc": app.settings.oidc.is_some(),
        }),
        None => json!({
            "authenticated": false,
            "auth_required": required,
            "oidc": app.settings.oidc.is_some(),
        }),
    };
    Ok(axum::Json(value))
}

/// Logging in.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// An API token.
    pub token: String,
}

/// `POST /api/v1/session`: logs a browser in with an API token.
pub async fn login(
    State(app): State<Arc<App>>,
    params: Params,
    Body(login): Body<Login>,
) -> Result<Response, ApiError> {
    params.only(&[])?;
    let token = auth::valid_token(&app, auth::token_hash(login.token.trim()))
        .await?
        .ok_or_else(|| ApiError::unauthenticated("the API token is not valid"))?;
    let (id, csrf) = auth::start_session(
        &app,
        token.name.clone(),
        token.scope,
        Some(auth::token_hash(login.token.trim())),
    )
    .await?;
    let body = json!({
        "authenticated": true,
        "name": token.name,
        "scope": token.scope,
        "csrf_token": csrf,
    });
    Ok(with_cookie(&app, &id, SESSION_LIFETIME.as_secs(), body))
}

/// `DELETE /api/v1/session`: logs out.
pub async fn logout(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(id) = auth::cookie(&headers, &auth::cookie_name(&app.settings, SESSION_COOKIE)) {
        auth::end_session(&app, auth::token_hash(&id)).await?;
    }
    Ok(with_cookie(&app, "", 0, json!({"authenticated": false})))
}

/// An answer that sets (or, with `max_age` 0, clears) the session cookie.
pub fn with_cookie(app: &App, id: &str, max_age: u64, body: serde_json::Value) -> Response {
    let mut response = axum::Json(body).into_response();
    add_cookie(
        &mut response,
        &auth::set_cookie(&app.settings, SESSION_COOKIE, id, max_age, "Strict"),
    );
    response
}

fn add_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// `GET /auth/oidc/login`: sends the browser to the provider, with the
/// cookie that binds the login to this browser (`SameSite=Lax`: it comes
/// back with the provider's redirect, a top-level navigation).
pub async fn oidc_login(State(app): State<Arc<App>>) -> Result<Response, ApiError> {
    let provider = app
        .settings
        .oidc
        .clone()
        .ok_or_else(|| ApiError::not_found("this server has no OpenID Connect provider"))?;
    let login = provider
        .start()
        .map_err(|e| ApiError::unauthenticated(e.to_string()))?;
    let (state_hash, binding_hash) = (
        auth::token_hash(&login.state),
        auth::token_hash(&login.binding),
    );
    let now = chrono::Utc::now();
    let expires = now + chrono::Duration::from_std(crate::oidc::LOGIN_LIFETIME).unwrap_or_default();
    app.store(move |store| Ok(store.start_login(&state_hash, &binding_hash, expires, now)?))
        .await?;
    let mut response = redirect(&login.url);
    let lifetime = crate::oidc::LOGIN_LIFETIME.as_secs();
    add_cookie(
        &mut response,
        &auth::set_cookie(&app.settings, LOGIN_COOKIE, &login.binding, lifetime, "Lax"),
    );
    Ok(response)
}

/// `GET /auth/oidc/callback`: the provider sends the browser back with a
/// code; a session starts once the ID token checks out, and the browser
/// goes to the UI. A login that fails goes back to the login page with the
/// reason (`/?login_error=...`).
pub async fn oidc_callback(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let binding = auth::cookie(&headers, &auth::cookie_name(&app.settings, LOGIN_COOKIE));
    let identity = match oidc_identity(&app, params, binding).await {
        Ok(identity) => identity,
        Err(e) => {
            let reason: String = form_urlencoded::byte_serialize(e.message.as_bytes()).collect();
            let mut response = redirect(&format!("/?login_error={reason}"));
            add_cookie(
                &mut response,
                &auth::set_cookie(&app.settings, LOGIN_COOKIE, "", 0, "Lax"),
            );
            return response;
        }
    };
    let id = match auth::start_session(&app, identity.name, identity.scope, None).await {
        Ok((id, _)) => id,
        Err(e) => return e.into_response(),
    };
    let mut response = with_cookie(&app, &id, SESSION_LIFETIME.as_secs(), json!({}));
    add_cookie(
        &mut response,
        &auth::set_cookie(&app.settings, LOGIN_COOKIE, "", 0, "Lax"),
    );
    *response.status_mut() = axum::http::StatusCode::FOUND;
    response
        .headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static("/"));
    response
}

/// Who the callback's code names, once the provider and the ID token agree.
async fn oidc_identity(
    app: &Arc<App>,
    params: Params,
    binding: Option<String>,
) -> Result<crate::oidc::Identity, ApiError> {
    let params = params.only(&[
        "code",
        "state",
        "error",
        "error_description",
        "session_state",
        "iss",
        "scope",
        "authuser",
        "prompt",
    ])?;
    let provider = app
        .settings
        .oidc
        .clone()
        .ok_or_else(|| ApiError::not_found("this server has no OpenID Connect provider"))?;
    if let Some(error) = params.text("error") {
        let detail = params.text("error_description").unwrap_or_default();
        return Err(ApiError::unauthenticated(format!(
            "the provider refused the login: {error} {detail}"
        )));
    }
    let (Some(code), Some(state)) = (params.text("code"), params.text("state")) else {
        return Err(ApiError::parameter("the callback needs `code` and `state`"));
    };
    let state_hash = auth::token_hash(&state);
    let bound = app
        .store(move |store| Ok(store.take_login(&state_hash, chrono::Utc::now())?))
        .await?
        .ok_or_else(|| {
            ApiError::unauthenticated(crate::oidc::OidcError::UnknownLogin.to_string())
        })?;
    let binding = binding.unwrap_or_default();
    let brought = auth::token_hash(&binding);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        brought.as_bytes(),
        bound.as_bytes(),
    )) {
        return Err(ApiError::unauthenticated(
            crate::oidc::OidcError::OtherBrowser.to_string(),
        ));
    }
    tokio::task::spawn_blocking(move || provider.finish(&code, &binding))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| match e {
            crate::oidc::OidcError::Provider { .. } => ApiError::new(
                axum::http::StatusCode::BAD_GATEWAY,
                "provider",
                e.to_string(),
            ),
            other => ApiError::unauthenticated(other.to_string()),
        })
}

/// A 302 to `url`.
fn redirect(url: &str) -> Response {
    let mut response = axum::http::StatusCode::FOUND.into_response();
    if let Ok(value) = HeaderValue::from_str(url) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}
