//! An HTTP receiver on 127.0.0.1 that keeps every request it gets: the
//! stand-in for a webhook, chat or paging service in tests (Parapet's own
//! tests include this file too).

use std::sync::{Arc, Mutex};

/// One request a receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// `POST`.
    pub method: String,
    /// The path and query.
    pub path: String,
    /// Every header.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
    /// When it arrived, in milliseconds since the epoch.
    pub at_ms: i64,
}

impl Received {
    /// The value of the header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An HTTP receiver on a free port of 127.0.0.1 that answers `status` and
/// keeps what it gets.
pub struct Receiver {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    got: Arc<Mutex<Vec<Received>>>,
    server: Arc<tiny_http::Server>,
}

impl Receiver {
    /// Starts one on a free port.
    pub fn start(status: u16) -> Receiver {
        Receiver::start_on("127.0.0.1:0", status, std::time::Duration::ZERO)
    }

    /// Starts one on `address` that takes `delay` over each request.
    pub fn start_on(address: &str, status: u16, delay: std::time::Duration) -> Receiver {
        Receiver::answering(address, move |_| {
            std::thread::sleep(delay);
            (status, String::new())
        })
    }

    /// Starts one on `address` that answers each request as `answer` says:
    /// a status and a JSON body (a service's API).
    pub fn answering(
        address: &str,
        answer: impl Fn(&Received) -> (u16, String) + Send + 'static,
    ) -> Receiver {
        let server = Arc::new(tiny_http::Server::http(address).expect("listen"));
        let port = server.server_addr().to_ip().expect("an IP address").port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let (s, g) = (Arc::clone(&server), Arc::clone(&got));
        std::thread::spawn(move || {
            for mut request in s.incoming_requests() {
                let mut body = String::new();
                request
                    .as_reader()
                    .read_to_string(&mut body)
                    .expect("a UTF-8 body");
                let received = Received {
                    method: request.method().to_string(),
                    path: request.url().to_owned(),
                    headers: request
                        .headers()
                        .iter()
                        .map(|h| (h.field.to_string(), h.value.to_string()))
                        .collect(),
                    body,
                    at_ms: std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
                };
                g.lock().expect("lock").push(received.clone());
                let (status, body) = answer(&received);
                let response = tiny_http::Response::from_string(body).with_status_code(status);
                let _ = request.respond(response);
            }
        });
        Receiver {
            url: format!("http://127.0.0.1:{port}"),
            got,
            server,
        }
    }

    /// What it got so far.
    pub fn received(&self) -> Vec<Received> {
        self.got.lock().expect("lock").clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.unblock();
    }
}
