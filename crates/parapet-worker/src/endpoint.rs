//! A worker's HTTP endpoint: `/health` (the database answers) and
//! `/metrics` (what the worker has done and the queue's depth, in
//! Prometheus' text format), within the limits every Parapet server keeps.

use crate::{Counters, OpenStore};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use parapet_store::QueueCounts;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The endpoint, served on a thread of its own until its stop flag is set.
pub type Endpoint = parapet_http::Background;

struct Shared {
    name: String,
    counters: Arc<Counters>,
    open: Arc<OpenStore>,
}

/// Serves the endpoint on `address` until `stop` is set.
pub fn serve(
    address: &str,
    name: String,
    counters: Arc<Counters>,
    open: Arc<OpenStore>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<Endpoint> {
    let shared = Arc::new(Shared {
        name,
        counters,
        open,
    });
    let app = Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .fallback(|| async { text(StatusCode::NOT_FOUND, "not found\n".into()) })
        .with_state(shared);
    parapet_http::serve_in_background(
        address,
        "parapet-worker-endpoint",
        app,
        parapet_http::Limits::default(),
        stop,
    )
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        body,
    )
        .into_response()
}

/// The queue's counts, read on a blocking thread; why not, when the
/// database does not answer.
async fn queue(shared: &Arc<Shared>) -> Result<QueueCounts, String> {
    let shared = Arc::clone(shared);
    tokio::task::spawn_blocking(move || {
        (shared.open)()
            .and_then(|store| store.queue_counts())
            .map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()))
}

async fn health(State(shared): State<Arc<Shared>>) -> Response {
    match queue(&shared).await {
        Ok(_) => text(StatusCode::OK, "ok\n".into()),
        Err(why) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the database does not answer: {why}\n"),
        ),
    }
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let queue = queue(&shared).await;
    text(
        StatusCode::OK,
        render(&shared.name, &shared.counters, queue.ok().as_ref()),
    )
}

/// The Prometheus text exposition of a worker's counters and, when the
/// database answered, the queue's depth.
pub fn render(name: &str, counters: &Counters, queue: Option<&QueueCounts>) -> String {
    let worker = name.replace(['\\', '"', '\n'], "_");
    let mut out = String::new();
    for (metric, help, value) in [
        (
            "parapet_worker_jobs_claimed_total",
            "Jobs claimed.",
            &counters.claimed,
        ),
        (
            "parapet_worker_jobs_done_total",
            "Jobs done.",
            &counters.done,
        ),
        (
            "parapet_worker_jobs_failed_total",
            "Attempts that failed (tried again later, or failed for good).",
            &counters.failed,
        ),
        (
            "parapet_worker_lease_losses_total",
            "Jobs whose lease passed to another worker before this one finished them.",
            &counters.lease_losses,
        ),
        (
            "parapet_worker_jobs_reclaimed_total",
            "Jobs claimed after another worker's lease on them had passed.",
            &counters.reclaimed,
        ),
    ] {
        out.push_str(&format!(
            "# HELP {metric} {help}\n# TYPE {metric} counter\n{metric}{{worker=\"{worker}\"}} {}\n",
            value.load(Ordering::Relaxed)
        ));
    }
    out.push_str(&format!(
        "# HELP parapet_worker_up Whether the database answered.\n# TYPE parapet_worker_up gauge\nparapet_worker_up{{worker=\"{worker}\"}} {}\n",
        u8::from(queue.is_some())
    ));
    if let Some(queue) = queue {
        out.push_str(
            "# HELP parapet_jobs Jobs in the queue by kind and status.\n# TYPE parapet_jobs gauge\n",
        );
        for (kind, status, n) in &queue.counts {
            out.push_str(&format!(
                "parapet_jobs{{kind=\"{}\",status=\"{}\"}} {n}\n",
                kind.replace(['\\', '"', '\n'], "_"),
                status.as_str()
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use parapet_store::JobStatus;

    #[test]
    fn metrics_name_the_worker_and_count_the_queue() {
        let counters = Counters::default();
        Counters::add(&counters.claimed);
        Counters::add(&counters.claimed);
        Counters::add(&counters.lease_losses);
        let queue = QueueCounts {
            counts: vec![
                ("collect".into(), JobStatus::Queued, 7),
                ("record".into(), JobStatus::Running, 1),
            ],
        };
        let text = render("host:1\"x", &counters, Some(&queue));
        assert!(
            text.contains("parapet_worker_jobs_claimed_total{worker=\"host:1_x\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("parapet_worker_lease_losses_total{worker=\"host:1_x\"} 1\n"));
        assert!(text.contains("parapet_jobs{kind=\"collect\",status=\"queued\"} 7\n"));
        assert!(text.contains("parapet_worker_up{worker=\"host:1_x\"} 1\n"));
        let down = render("w", &counters, None);
        assert!(down.contains("parapet_worker_up{worker=\"w\"} 0\n"));
        assert!(!down.contains("parapet_jobs{"));
    }
}
