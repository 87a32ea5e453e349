//! Parapet's HTTP API and web UI: the inventory, findings, timeline,
//! incidents, compliance, topology and vulnerabilities over a REST API
//! under `/api/v1` (described by the OpenAPI document it serves), live
//! updates as server-sent events, and the pages a security engineer keeps
//! open, served from the binary with nothing fetched from anywhere else.
//!
//! # Layout
//!
//! - [`api`]: the endpoints, and `api/openapi.yaml` that describes them.
//! - [`auth`]: API tokens, browser sessions, CSRF, loopback-only open mode,
//!   security headers.
//! - [`oidc`]: logging in through an OpenID Connect provider.
//! - [`params`]: query parameters checked against each endpoint's list,
//!   cursors, bounded JSON bodies.
//! - [`state`]: the store connections, rules and settings requests share.
//! - [`ui`]: the web UI's files.
//! - [`error`]: the one error shape every failure answers with.

pub mod api;
pub mod auth;
pub mod error;
pub mod oidc;
pub mod params;
pub mod state;
pub mod ui;

pub use error::ApiError;
pub use state::{Access, App, OpenStore, Settings};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::future::Future;
use std::sync::Arc;

/// The whole application: API, pages, authentication and headers.
pub fn router(app: Arc<App>) -> Router {
    api::routes()
        .merge(ui::routes())
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            auth::guard,
        ))
        .layer(axum::middleware::from_fn(auth::security_headers))
        .layer(DefaultBodyLimit::max(params::MAX_BODY))
        .with_state(app)
}

/// Serves `app` on `listener` until `shutdown` completes, within the
/// limits every Parapet server keeps (connections, deadlines).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()>,
) {
    parapet_http::serve(
        listener,
        router(app),
        parapet_http::Limits::default(),
        shutdown,
    )
    .await;
}
