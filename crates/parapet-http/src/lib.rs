//! Serving HTTP the one way Parapet does, for `parapet serve` and the watch
//! daemon's endpoint alike: an axum router on a TCP listener, each
//! connection on hyper's HTTP/1 with
//!
//! - a deadline for each request's head, which also closes a connection
//!   that idles between requests (a client that connects and stalls holds
//!   nothing for long);
//! - at most [`Limits::max_connections`] connections at once: further ones
//!   wait in the kernel's backlog until one closes, rather than costing
//!   memory or file descriptors;
//! - a deadline for each answer to begin, which bounds a body sent slowly
//!   and a handler that hangs (a stream, once begun, runs on);
//! - a graceful stop: no new connection once asked, and those open are
//!   given [`Limits::grace`] to finish.

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::IntoResponse;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// What a server allows each client.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections served at once.
    pub max_connections: usize,
    /// How long a request's head may take to arrive, counted from the
    /// connection's start or the end of its previous answer.
    pub head_timeout: Duration,
    /// How long an answer may take to begin, body reading included.
    pub answer_timeout: Duration,
    /// How long open connections are given to finish at a stop.
    pub grace: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 512,
            head_timeout: Duration::from_secs(10),
            answer_timeout: Duration::from_secs(30),
            grace: Duration::from_secs(5),
        }
    }
}

/// A server on a thread of its own (with a small runtime), until a flag
/// is set: a daemon's endpoint beside its work.
pub struct Background {
    /// The address it listens on (a free port when asked for port 0).
    pub address: std::net::SocketAddr,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            // It stops with its flag; a panicked server has nothing more
            // to say.
            let _ = thread.join();
        }
    }
}

/// Serves `router` on `address` within `limits`, on a thread named `name`,
/// until `stop` is set.
pub fn serve_in_background(
    address: &str,
    name: &str,
    router: Router,
    limits: Limits,
    stop: Arc<AtomicBool>,
) -> std::io::Result<Background> {
    let listener = std::net::TcpListener::bind(address)?;
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let thread = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = TcpListener::from_std(listener) else {
                    return;
                };
                let stopped = async move {
                    while !stop.load(Ordering::Relaxed) {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                };
                serve(listener, router, limits, stopped).await;
            });
        })?;
    Ok(Background {
        address: bound,
        thread: Some(thread),
    })
}

/// A pause after the listener fails to accept (no file descriptor left),
/// so that the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `router` on `listener` within `limits` until `shutdown`
/// completes, then stops gracefully.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let answer_timeout = limits.answer_timeout;
    let router = router.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| async move {
            match tokio::time::timeout(answer_timeout, next.run(request)).await {
                Ok(response) => response,
                Err(_) => (
                    StatusCode::REQUEST_TIMEOUT,
                    "the request took too long to arrive or to answer\n",
                )
                    .into_response(),
            }
        },
    ));
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stopping, stop_seen) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let stream = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let Ok((stream, _)) = stream else {
            tokio::time::sleep(ACCEPT_BACKOFF).await;
            continue;
        };
        let service = TowerToHyperService::new(router.clone());
        let mut stop_seen = stop_seen.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.head_timeout);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stop_seen.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(limits.grace, slots.acquire_many(all)).await;
}
