//! The limits as a client meets them: a real server on 127.0.0.1, clients
//! on plain TCP sockets that stall, drip and wait.

use axum::Router;
use axum::routing::{get, post};
use parapet_http::Limits;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A server with `limits` on a port of its own: `/health`, `/echo` (reads
/// the body) and `/hang` (never answers); stopped when the sender drops.
fn start(
    limits: Limits,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<Duration>,
) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    listener.set_nonblocking(true).expect("non-blocking");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let router = Router::new()
                .route("/health", get(|| async { "ok\n" }))
                .route("/echo", post(|body: String| async move { body }))
                .route("/hang", get(std::future::pending::<&'static str>));
            let asked = std::sync::Arc::new(std::sync::Mutex::new(None));
            let when = std::sync::Arc::clone(&asked);
            parapet_http::serve(listener, router, limits, async move {
                let _ = stopped.await;
                *when.lock().expect("lock") = Some(Instant::now());
            })
            .await;
            let asked = asked.lock().expect("lock").unwrap_or_else(Instant::now);
            asked.elapsed()
        })
    });
    (address, stop, thread)
}

/// Sends `request` on a new connection and reads the answer's first line.
fn ask(address: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
        answer.push(byte[0]);
    }
    String::from_utf8_lossy(&answer).trim().to_owned()
}

/// Whether the server closes `stream` (a read ends) within `within`.
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).expect("timeout");
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).is_ok()
}

fn limits(max_connections: usize) -> Limits {
    Limits {
        max_connections,
        head_timeout: Duration::from_millis(500),
        answer_timeout: Duration::from_millis(800),
        grace: Duration::from_millis(500),
    }
}

#[test]
fn stalled_connections_are_closed_and_never_keep_others_out() {
    let (address, _stop, _thread) = start(limits(4));
    // Four clients take every slot and send nothing, or half a head.
    let mut stalled: Vec<TcpStream> = (0..4)
        .map(|i| {
            let mut stream = TcpStream::connect(address).expect("connect");
            if i % 2 == 1 {
                stream
                    .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
                    .expect("drip");
            }
            stream
        })
        .collect();
    // A fifth is answered once the deadline has closed one of them.
    let answer = ask(
        address,
        "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(answer, "HTTP/1.1 200 OK");
    for stream in &mut stalled {
        assert!(
            closed_within(stream, Duration::from_secs(5)),
            "a stalled connection stayed open"
        );
    }
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_head_deadline() {
    let (address, _stop, _thread) = start(limits(8));
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    let mut first = [0u8; 15];
    stream.read_exact(&mut first).expect("an answer");
    assert_eq!(&first, b"HTTP/1.1 200 OK");
    assert!(closed_within(&mut stream, Duration::from_secs(5)));
}

#[test]
fn a_body_sent_too_slowly_and_a_hung_handler_are_answered_408() {
    let (address, _stop, _thread) = start(limits(8));
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream
        .write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        .expect("send");
    let mut first = [0u8; 12];
    stream.read_exact(&mut first).expect("an answer");
    assert_eq!(&first, b"HTTP/1.1 408");
    let hung = ask(address, "GET /hang HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(hung.starts_with("HTTP/1.1 408"), "{hung}");
}

#[test]
fn a_stop_ends_the_server_within_its_grace_however_its_clients_behave() {
    let (address, stop, thread) = start(limits(8));
    let _hanging = {
        let mut stream = TcpStream::connect(address).expect("connect");
        stream
            .write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
            .expect("send");
        stream
    };
    std::thread::sleep(Duration::from_millis(100));
    drop(stop);
    let took = thread.join().expect("the server");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(TcpStream::connect(address).is_err(), "still listening");
}
