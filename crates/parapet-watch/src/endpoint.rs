//! The daemon's HTTP endpoint, on axum: `/health`, `/metrics` (Prometheus'
//! text format) and, with a secret, `/events`: one event per POST (as an
//! EventBridge API destination sends them), refused unless it carries the
//! shared secret (`X-Parapet-Secret`, what an EventBridge connection's API
//! key sends) or an HMAC-SHA256 of its body (`X-Parapet-Signature:
//! sha256=HEX`), and answered only once its result is committed.

use crate::WatchError;
use crate::daemon::{Reply, Work};
use crate::log::Log;
use crate::metrics::Metrics;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// The largest event the endpoint accepts (EventBridge's own limit).
const MAX_EVENT_BYTES: usize = 256 * 1024;

/// How long an endpoint request waits for its event's result.
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// What the handlers share.
struct Shared {
    secret: Option<String>,
    sender: mpsc::SyncSender<Work>,
    metrics: Arc<Metrics>,
    log: Log,
}

/// The endpoint, served on a thread of its own until the daemon stops.
pub struct Endpoint {
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            // It stops with the daemon's flag; a panicked server has
            // nothing more to say.
            let _ = thread.join();
        }
    }
}

/// Serves the endpoint on `address` until `stop` is set.
pub fn serve(
    address: &str,
    secret: Option<String>,
    sender: mpsc::SyncSender<Work>,
    metrics: Arc<Metrics>,
    log: Log,
    stop: Arc<AtomicBool>,
) -> Result<Endpoint, WatchError> {
    let cannot = |e: std::io::Error| WatchError::Listen {
        address: address.to_owned(),
        source: e,
    };
    let listener = std::net::TcpListener::bind(address).map_err(cannot)?;
    listener.set_nonblocking(true).map_err(cannot)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(cannot)?;
    let shared = Arc::new(Shared {
        secret,
        sender,
        metrics,
        log,
    });
    let app = Router::new()
        .route("/health", get(|| async { text(StatusCode::OK, "ok\n") }))
        .route("/metrics", get(metrics_page))
        .route("/events", any(events))
        .fallback(|| async { text(StatusCode::NOT_FOUND, "not found\n") })
        .with_state(shared);
    let thread = std::thread::Builder::new()
        .name("parapet-watch-endpoint".to_owned())
        .spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let stopped = async move {
                    while !stop.load(Ordering::Relaxed) {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                };
                // Errors of single connections are the clients'; the
                // server itself ends only with the daemon.
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(stopped)
                    .await;
            });
        })
        .map_err(cannot)?;
    Ok(Endpoint {
        thread: Some(thread),
    })
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain")], body.into()).into_response()
}

async fn metrics_page(State(shared): State<Arc<Shared>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        shared.metrics.render(),
    )
        .into_response()
}

/// Refuses a request, counted and logged.
fn refuse(shared: &Shared, status: StatusCode, why: &str) -> Response {
    Metrics::add(&shared.metrics.requests_refused, 1);
    shared.log.line(
        "warn",
        "request refused",
        serde_json::json!({"status": status.as_u16(), "reason": why}),
    );
    text(status, format!("{why}\n"))
}

async fn events(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let Some(secret) = shared.secret.clone() else {
        return text(StatusCode::NOT_FOUND, "not found\n");
    };
    if request.method() != Method::POST {
        return refuse(&shared, StatusCode::METHOD_NOT_ALLOWED, "events are POSTed");
    }
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_EVENT_BYTES) {
        return refuse(
            &shared,
            StatusCode::PAYLOAD_TOO_LARGE,
            "the event is larger than 256 KiB",
        );
    }
    let body = match axum::body::to_bytes(body, MAX_EVENT_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            return refuse(
                &shared,
                StatusCode::PAYLOAD_TOO_LARGE,
                "the event is larger than 256 KiB",
            );
        }
    };
    if !proves(&parts.headers, secret.as_bytes(), &body) {
        return refuse(
            &shared,
            StatusCode::UNAUTHORIZED,
            "no valid X-Parapet-Secret or X-Parapet-Signature",
        );
    }
    let Ok(body) = String::from_utf8(body.to_vec()) else {
        return refuse(&shared, StatusCode::BAD_REQUEST, "the body is not UTF-8");
    };
    Metrics::add(&shared.metrics.messages_received, 1);
    let sender = shared.sender.clone();
    let answered = tokio::task::spawn_blocking(move || {
        let (reply, answer) = mpsc::channel::<Reply>();
        let work = Work::Request {
            body,
            received_at_ms: chrono::Utc::now().timestamp_millis(),
            reply,
        };
        if sender.send(work).is_err() {
            return (503, "the daemon is stopping".to_owned());
        }
        answer
            .recv_timeout(REPLY_TIMEOUT)
            .unwrap_or_else(|_| (503, "not committed; send it again".to_owned()))
    })
    .await;
    let (status, text) =
        answered.unwrap_or_else(|_| (503, "not committed; send it again".to_owned()));
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
        [(header::CONTENT_TYPE, "application/json")],
        text,
    )
        .into_response()
}

/// Whether a request's headers prove it holds the secret.
fn proves(headers: &HeaderMap, secret: &[u8], body: &[u8]) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    authentic(
        secret,
        header("X-Parapet-Secret"),
        header("X-Parapet-Signature"),
        body,
    )
}

/// Whether a request proves it holds `secret`: the secret itself, or the
/// HMAC-SHA256 of the body under it; both compared in constant time.
fn authentic(secret: &[u8], given: Option<&str>, signature: Option<&str>, body: &[u8]) -> bool {
    use hmac::Mac;
    use subtle::ConstantTimeEq;
    if let Some(given) = given {
        return given.as_bytes().ct_eq(secret).into();
    }
    let Some(signature) = signature.and_then(|s| s.strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(signature) = hex::decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::Mac;

    fn sign(secret: &[u8], body: &[u8]) -> String {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key");
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn requests_prove_the_secret_by_itself_or_by_a_signature_of_the_body() {
        let body = br#"{"detail-type": "AWS API Call via CloudTrail"}"#;
        assert!(authentic(b"s3cret", Some("s3cret"), None, body));
        assert!(!authentic(b"s3cret", Some("s3cre"), None, body));
        assert!(!authentic(b"s3cret", Some(""), None, body));
        let signature = sign(b"s3cret", body);
        assert!(authentic(b"s3cret", None, Some(&signature), body));
        assert!(
            !authentic(b"s3cret", None, Some(&signature), b"{}"),
            "a signature of another body"
        );
        assert!(!authentic(b"other", None, Some(&signature), body));
        assert!(!authentic(b"s3cret", None, Some("sha256=zz"), body));
        assert!(!authentic(
            b"s3cret",
            None,
            Some(signature.trim_start_matches("sha256=")),
            body
        ));
        assert!(!authentic(b"s3cret", None, None, body));
    }
}
