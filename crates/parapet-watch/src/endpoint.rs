//! The daemon's HTTP endpoint, on axum: `/health`, `/metrics` (Prometheus'
//! text format) and, with a secret, `/events`: events POSTed one request at
//! a time (an EventBridge API destination sends one event, an Event Grid
//! webhook a batch), refused unless it carries the shared secret
//! (`X-Parapet-Secret`, what an EventBridge connection's API key or an
//! Event Grid subscription's secret delivery property sends) or an
//! HMAC-SHA256 of its time and body (`X-Parapet-Timestamp: UNIX_SECONDS`,
//! `X-Parapet-Signature: sha256=HEX` of `SECONDS.BODY`, no more than five
//! minutes away from now, so that a signed request recorded on the way
//! cannot be replayed later), and answered only once its result is
//! committed. Event Grid's validation handshakes are answered here too,
//! once the request proves the secret: its own schema's
//! (`aeg-event-type: SubscriptionValidation`, answered with the validation
//! code) and the CloudEvents abuse protection's (`OPTIONS` with
//! `WebHook-Request-Origin`, answered with `WebHook-Allowed-Origin`).
//! Served within the limits of `parapet-http`.

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
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::time::Duration;

/// The largest event the endpoint accepts (EventBridge's own limit).
const MAX_EVENT_BYTES: usize = 256 * 1024;

/// How long an endpoint request waits for its event's result.
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// How far a signature's timestamp may be from now, either way.
const SIGNATURE_WINDOW_SECONDS: i64 = 300;

/// How long an event's body may take to arrive.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// What the handlers share.
struct Shared {
    secret: Option<String>,
    sender: mpsc::SyncSender<Work>,
    metrics: Arc<Metrics>,
    log: Log,
}

/// The endpoint, served on a thread of its own until the daemon stops.
pub type Endpoint = parapet_http::Background;

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
    let limits = parapet_http::Limits {
        answer_timeout: REPLY_TIMEOUT + BODY_TIMEOUT,
        ..parapet_http::Limits::default()
    };
    parapet_http::serve_in_background(address, "parapet-watch-endpoint", app, limits, stop)
        .map_err(cannot)
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
    if request.method() == Method::OPTIONS {
        return abuse_protection(&shared, request.headers(), secret.as_bytes());
    }
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
    let body = match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, MAX_EVENT_BYTES))
        .await
    {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            return refuse(
                &shared,
                StatusCode::PAYLOAD_TOO_LARGE,
                "the event is larger than 256 KiB",
            );
        }
        Err(_) => {
            return refuse(
                &shared,
                StatusCode::REQUEST_TIMEOUT,
                "the event's body took longer than 10 s to arrive",
            );
        }
    };
    if let Err(why) = proves(&parts.headers, secret.as_bytes(), &body) {
        return refuse(&shared, StatusCode::UNAUTHORIZED, why);
    }
    let Ok(body) = String::from_utf8(body.to_vec()) else {
        return refuse(&shared, StatusCode::BAD_REQUEST, "the body is not UTF-8");
    };
    if parts
        .headers
        .get(EVENT_GRID_TYPE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"SubscriptionValidation"))
    {
        return validation(&shared, &body);
    }
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

/// The header Event Grid says what it delivers with.
const EVENT_GRID_TYPE: &str = "aeg-event-type";

/// The event type of Event Grid's validation handshake.
const VALIDATION_EVENT: &str = "Microsoft.EventGrid.SubscriptionValidationEvent";

/// Answers Event Grid's validation handshake (its own schema): the
/// validation code of the batch's validation event, which tells Event Grid
/// that this endpoint consents to its subscription's events.
fn validation(shared: &Shared, body: &str) -> Response {
    let events: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let handshake = events
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e.get("eventType").and_then(|t| t.as_str()) == Some(VALIDATION_EVENT));
    let Some(handshake) = handshake else {
        return refuse(
            shared,
            StatusCode::BAD_REQUEST,
            "a SubscriptionValidation request without a validation event",
        );
    };
    let Some(code) = handshake
        .pointer("/data/validationCode")
        .and_then(|c| c.as_str())
    else {
        return refuse(
            shared,
            StatusCode::BAD_REQUEST,
            "the validation event has no data.validationCode",
        );
    };
    shared.log.line(
        "info",
        "event subscription validated",
        serde_json::json!({"topic": handshake.get("topic"), "subject": handshake.get("subject")}),
    );
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({"validationResponse": code}).to_string(),
    )
        .into_response()
}

/// Answers the CloudEvents webhook abuse protection's `OPTIONS` request
/// (what Event Grid sends a CloudEvents subscription's endpoint): the
/// origin it names may send, at any rate.
fn abuse_protection(shared: &Shared, headers: &HeaderMap, secret: &[u8]) -> Response {
    let Some(origin) = headers
        .get("WebHook-Request-Origin")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
    else {
        return refuse(
            shared,
            StatusCode::METHOD_NOT_ALLOWED,
            "events are POSTed (OPTIONS is the CloudEvents handshake, with WebHook-Request-Origin)",
        );
    };
    if let Err(why) = proves(headers, secret, b"") {
        return refuse(shared, StatusCode::UNAUTHORIZED, why);
    }
    shared.log.line(
        "info",
        "event subscription validated",
        serde_json::json!({"origin": origin}),
    );
    (
        StatusCode::OK,
        [
            ("WebHook-Allowed-Origin", origin),
            ("WebHook-Allowed-Rate", "*"),
        ],
    )
        .into_response()
}

/// Whether a request's headers prove it holds the secret; if not, why.
fn proves(headers: &HeaderMap, secret: &[u8], body: &[u8]) -> Result<(), &'static str> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    authentic(
        secret,
        Proof {
            secret: header("X-Parapet-Secret"),
            signature: header("X-Parapet-Signature"),
            timestamp: header("X-Parapet-Timestamp"),
        },
        body,
        chrono::Utc::now().timestamp(),
    )
}

/// What a request offers as proof.
#[derive(Debug, Clone, Copy, Default)]
struct Proof<'a> {
    secret: Option<&'a str>,
    signature: Option<&'a str>,
    timestamp: Option<&'a str>,
}

/// Whether `proof` shows the sender holds `secret` at `now` (Unix seconds):
/// the secret itself, or the HMAC-SHA256 of `TIMESTAMP.BODY` under it with
/// a timestamp within the window; compared in constant time.
fn authentic(secret: &[u8], proof: Proof<'_>, body: &[u8], now: i64) -> Result<(), &'static str> {
    use hmac::Mac;
    use subtle::ConstantTimeEq;
    const NO_PROOF: &str = "no valid X-Parapet-Secret or X-Parapet-Signature";
    if let Some(given) = proof.secret {
        return bool::from(given.as_bytes().ct_eq(secret))
            .then_some(())
            .ok_or(NO_PROOF);
    }
    let signature = proof
        .signature
        .and_then(|s| s.strip_prefix("sha256="))
        .and_then(|s| hex::decode(s.trim()).ok())
        .ok_or(NO_PROOF)?;
    let timestamp = proof.timestamp.ok_or(
        "a signed event needs X-Parapet-Timestamp (Unix seconds), signed as TIMESTAMP.BODY",
    )?;
    let seconds: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| "X-Parapet-Timestamp is not a number of Unix seconds")?;
    if (now - seconds).abs() > SIGNATURE_WINDOW_SECONDS {
        return Err("X-Parapet-Timestamp is more than five minutes away from now");
    }
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).map_err(|_| NO_PROOF)?;
    mac.update(timestamp.trim().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&signature).map_err(|_| NO_PROOF)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::Mac;

    fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key");
        mac.update(format!("{timestamp}.").as_bytes());
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn requests_prove_the_secret_by_itself_or_by_a_recent_signature_of_the_body() {
        let body = br#"{"detail-type": "AWS API Call via CloudTrail"}"#;
        let now = 1_780_000_000;
        let secret = |given| Proof {
            secret: Some(given),
            ..Proof::default()
        };
        assert!(authentic(b"s3cret", secret("s3cret"), body, now).is_ok());
        assert!(authentic(b"s3cret", secret("s3cre"), body, now).is_err());
        assert!(authentic(b"s3cret", secret(""), body, now).is_err());
        let at = "1780000000";
        let signature = sign(b"s3cret", at, body);
        let signed = |signature, timestamp| Proof {
            signature: Some(signature),
            timestamp,
            ..Proof::default()
        };
        assert!(authentic(b"s3cret", signed(&signature, Some(at)), body, now).is_ok());
        assert!(
            authentic(b"s3cret", signed(&signature, Some(at)), body, now + 299).is_ok(),
            "within five minutes"
        );
        let replayed = authentic(b"s3cret", signed(&signature, Some(at)), body, now + 301);
        assert!(replayed.is_err_and(|why| why.contains("five minutes")));
        assert!(
            authentic(b"s3cret", signed(&signature, Some("1780000001")), body, now).is_err(),
            "the timestamp is signed"
        );
        let untimed = authentic(b"s3cret", signed(&signature, None), body, now);
        assert!(untimed.is_err_and(|why| why.contains("X-Parapet-Timestamp")));
        assert!(authentic(b"s3cret", signed(&signature, Some("soon")), body, now).is_err());
        assert!(
            authentic(b"s3cret", signed(&signature, Some(at)), b"{}", now).is_err(),
            "a signature of another body"
        );
        assert!(authentic(b"other", signed(&signature, Some(at)), body, now).is_err());
        assert!(authentic(b"s3cret", signed("sha256=zz", Some(at)), body, now).is_err());
        let bare = signature.trim_start_matches("sha256=");
        assert!(authentic(b"s3cret", signed(bare, Some(at)), body, now).is_err());
        assert!(authentic(b"s3cret", Proof::default(), body, now).is_err());
    }
}
