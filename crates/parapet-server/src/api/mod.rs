//! The REST API under `/api/v1`, described by the OpenAPI document it
//! serves at `/api/v1/openapi.json`.

pub mod findings;
pub mod inventory;
pub mod posture;
pub mod session;
pub mod timeline;

use crate::error::ApiError;
use crate::state::App;
use axum::Router;
use axum::routing::{delete, get, post};
use serde::Serialize;
use serde_json::Value;
use std::sync::{Arc, LazyLock};

/// What JSON endpoints answer.
pub type Json = Result<axum::Json<Value>, ApiError>;

/// `value` as JSON.
pub fn owned(value: &impl Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(value).map_err(ApiError::internal)
}

/// The OpenAPI document, written in YAML beside this module.
static OPENAPI: LazyLock<Result<Value, String>> = LazyLock::new(|| {
    serde_norway::from_str(include_str!("openapi.yaml")).map_err(|e| e.to_string())
});

async fn openapi() -> Json {
    OPENAPI
        .as_ref()
        .map(|v| axum::Json(v.clone()))
        .map_err(ApiError::internal)
}

async fn unknown_endpoint(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!(
        "no endpoint `{}`; see /api/v1/openapi.json",
        uri.path()
    ))
}

async fn wrong_method(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "`{}` does not take {method}; see /api/v1/openapi.json",
            uri.path()
        ),
    )
}

/// Every endpoint.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route(
            "/api/v1/session",
            get(session::show)
                .post(session::login)
                .delete(session::logout),
        )
        .route("/auth/oidc/login", get(session::oidc_login))
        .route("/auth/oidc/callback", get(session::oidc_callback))
        .route("/api/v1/overview", get(inventory::overview))
        .route("/api/v1/facets", get(inventory::facets))
        .route("/api/v1/assets", get(inventory::list))
        .route("/api/v1/assets/{id}", get(inventory::show))
        .route("/api/v1/assets/{id}/history", get(inventory::history))
        .route("/api/v1/assets/{id}/diff", get(inventory::changes))
        .route("/api/v1/findings", get(findings::list))
        .route("/api/v1/findings/unmute", post(findings::unmute))
        .route("/api/v1/mutes", get(findings::mutes).post(findings::mute))
        .route("/api/v1/mutes/{id}", delete(findings::lift))
        .route("/api/v1/events", get(timeline::events))
        .route("/api/v1/stream", get(timeline::stream))
        .route("/api/v1/scans", get(timeline::scans))
        .route("/api/v1/incidents", get(timeline::incidents))
        .route("/api/v1/incidents/{id}", get(timeline::incident))
        .route(
            "/api/v1/incidents/{id}/acknowledge",
            post(timeline::acknowledge),
        )
        .route("/api/v1/incidents/{id}/resolve", post(timeline::resolve))
        .route("/api/v1/rules", get(posture::rules))
        .route("/api/v1/rules/{id}", get(posture::rule))
        .route("/api/v1/compliance", get(posture::compliance))
        .route("/api/v1/compliance/{framework}", get(posture::framework))
        .route("/api/v1/exposure", get(posture::exposure))
        .route("/api/v1/topology", get(posture::topology))
        .route("/api/v1/vulnerabilities", get(posture::vulnerabilities))
        .route("/api/{*rest}", axum::routing::any(unknown_endpoint))
        .method_not_allowed_fallback(wrong_method)
}
