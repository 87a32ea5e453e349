//! Tests of the HTTP API: a real server on 127.0.0.1 over a real SQLite
//! file seeded by two scans of a small estate evaluated with the built-in
//! rules, asked over HTTP.

/// Tokens, scopes, sessions, CSRF, loopback-only open mode, headers.
mod auth;
/// The web UI in headless Chromium.
mod browser;
/// Findings: filters, paging, mutes one by one and in bulk, unmuting.
mod findings;
/// Assets: filters, paging, one asset, history, diffs, facets, overview.
mod inventory;
/// Logging in through an OpenID Connect provider.
mod oidc;
/// The OpenAPI document: it parses, and names every endpoint served.
mod openapi;
/// Rules, compliance, exposure, topology, vulnerabilities.
mod posture;
/// Events, incidents, the live stream.
mod timeline;

use chrono::{DateTime, Duration, Utc};
use parapet_core::{Asset, Scope, Severity, Vulnerability, VulnerabilityScan};
use parapet_rules::{Engine, RuleSources};
use parapet_server::{Access, App, Settings};
use parapet_store::roles::*;
use parapet_store::{Grouping, IncidentPolicy, Policy, SqliteStore, TokenScope};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The first scan's time.
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-29T00:00:00Z")
        .expect("fixed time")
        .with_timezone(&Utc)
}

/// The estate of `tests/fixtures/estate.json`.
pub fn estate() -> Vec<Asset> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/estate.json");
    let text = std::fs::read_to_string(&path).expect("estate fixture");
    serde_json::from_str(&text).expect("estate fixture parses")
}

/// Opens the test database, grouping findings into incidents per rule and
/// account.
fn open(path: &Path) -> Result<SqliteStore, parapet_store::StoreError> {
    let policy = Policy {
        incidents: Some(IncidentPolicy {
            grouping: Grouping::RuleAndAccount,
            min_severity: Severity::Medium,
        }),
        ..Policy::default()
    };
    SqliteStore::open_with(path, policy)
}

/// Scans `assets` at `when` with the built-in rules.
fn scan(store: &mut SqliteStore, assets: &[Asset], when: DateTime<Utc>) {
    let rules = parapet_rules::load(&RuleSources {
        builtin: true,
        folders: Vec::new(),
    })
    .rules;
    let severities: std::collections::HashMap<String, Severity> = rules
        .iter()
        .map(|r| (r.id.to_string(), r.severity))
        .collect();
    let engine = Engine::new(rules);
    let evaluations = engine.evaluate_all(&parapet_rules::Facts::at(when), assets);
    let scope = Scope::whole(
        parapet_core::Provider::Aws,
        vec!["111111111111".into(), "222222222222".into()],
    );
    let id = store
        .begin_scan(
            &scope,
            "test",
            &parapet_core::Provenance::new("test", "builtin"),
            when,
        )
        .expect("begin");
    store
        .finish_scan(
            id,
            assets,
            parapet_store::Evaluated::all(&evaluations),
            &|rule: &str| severities.get(rule).copied().unwrap_or(Severity::Low),
            &[],
            when,
        )
        .expect("finish");
}

/// Seeds `path`: a scan at t0, then one an hour later in which `prod-logs`
/// has versioning enabled, and a vulnerability scan attached to `i-web`.
pub fn seed(path: &Path) {
    let mut store = open(path).expect("open");
    let mut assets = estate();
    scan(&mut store, &assets, t0());
    for asset in &mut assets {
        asset.observed_at = t0() + Duration::hours(1);
        if asset.name == "prod-logs" {
            asset.config["Versioning"]["Status"] = "Enabled".into();
        }
    }
    scan(&mut store, &assets, t0() + Duration::hours(1));
    let vulnerability =
        |advisory: &str, package: &str, severity, fixed: Option<&str>| Vulnerability {
            advisory: advisory.into(),
            aliases: Vec::new(),
            package: package.into(),
            version: "1.0".into(),
            ecosystem: "Debian:12".into(),
            severity: Some(severity),
            score: None,
            fixed: fixed.map(str::to_owned),
        };
    store
        .attach_vulnerabilities(
            "arn:aws:ec2:eu-west-1:111111111111:instance/i-web",
            &VulnerabilityScan {
                target: "ami-1".into(),
                scanned_at: t0(),
                packages: 96,
                vulnerabilities: vec![
                    vulnerability("CVE-2026-0001", "openssl", Severity::Critical, Some("1.1")),
                    vulnerability("CVE-2026-0002", "zlib", Severity::Medium, None),
                    vulnerability("CVE-2026-0003", "bash", Severity::Low, Some("1.2")),
                ],
            },
        )
        .expect("attach");
}

/// A server on 127.0.0.1 over a seeded database.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The database file.
    pub db: PathBuf,
    _dir: Option<tempfile::TempDir>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts a server with `access` over a freshly seeded database.
    pub fn start(access: Access) -> Server {
        Server::start_with(access, |_, _| ())
    }

    /// Starts a server with `access` and the settings `configure` changes,
    /// given the server's base URL.
    pub fn start_with(access: Access, configure: impl FnOnce(&str, &mut Settings)) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("parapet.db");
        seed(&db);
        let mut server = Server::serve(db, access, configure);
        server._dir = Some(dir);
        server
    }

    /// Another server over this one's database, as a second replica behind
    /// a load balancer would be.
    pub fn replica(&self, access: Access) -> Server {
        Server::serve(self.db.clone(), access, |_, _| ())
    }

    /// A server with `access` and the settings `configure` changes over
    /// the database `db`.
    fn serve(db: PathBuf, access: Access, configure: impl FnOnce(&str, &mut Settings)) -> Server {
        let rules = parapet_rules::load(&RuleSources {
            builtin: true,
            folders: Vec::new(),
        })
        .rules;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let mut settings = Settings {
            access,
            secure_cookies: false,
            poll_interval: std::time::Duration::from_millis(100),
            oidc: None,
        };
        configure(&base, &mut settings);
        let path = db.clone();
        let app = App::new(
            Arc::new(move || Ok(Box::new(open(&path)?))),
            rules,
            parapet_rules::framework::builtin(),
            settings,
        )
        .expect("app");
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
                parapet_server::serve(listener, app, async {
                    let _ = stopped.await;
                })
                .await;
            });
        });
        Server {
            base,
            db,
            _dir: None,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// A new API token with `scope`.
    pub fn token(&self, scope: TokenScope) -> String {
        let token = parapet_server::auth::new_token().expect("random");
        let mut store = open(&self.db).expect("open");
        store
            .create_token(
                "tester",
                scope,
                &parapet_server::auth::token_hash(&token),
                None,
                Utc::now(),
            )
            .expect("token");
        token
    }

    /// The store under the server.
    pub fn store(&self) -> SqliteStore {
        open(&self.db).expect("open")
    }

    /// `GET path` with `headers`.
    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = agent().get(format!("{}{path}", self.base));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        Answer::from(request.call().expect("request"))
    }

    /// `METHOD path` with a JSON `body` and `headers`.
    pub fn send(&self, method: &str, path: &str, body: &str, headers: &[(&str, &str)]) -> Answer {
        let url = format!("{}{path}", self.base);
        let mut request = match method {
            "POST" => agent().post(url),
            "PUT" => agent().put(url),
            "PATCH" => agent().patch(url),
            other => panic!("no body with {other}"),
        }
        .header("content-type", "application/json");
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        Answer::from(request.send(body).expect("request"))
    }

    /// `DELETE path` with `headers`.
    pub fn delete(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = agent().delete(format!("{}{path}", self.base));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        Answer::from(request.call().expect("request"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An HTTP client that returns 4xx and 5xx answers rather than failing.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// An answer: status, headers and JSON body.
pub struct Answer {
    /// The status.
    pub status: u16,
    /// The headers, names in lowercase.
    pub headers: Vec<(String, String)>,
    /// The body as JSON (`null` when it is not).
    pub json: Value,
    /// The body as text.
    pub text: String,
}

impl From<ureq::http::Response<ureq::Body>> for Answer {
    fn from(mut response: ureq::http::Response<ureq::Body>) -> Answer {
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        Answer {
            status: response.status().as_u16(),
            headers,
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }
}

impl Answer {
    /// The value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The error code of an error answer.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }

    /// The `field` of every item.
    pub fn items(&self, field: &str) -> Vec<String> {
        self.json["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| match &i[field] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()
    }
}

/// `text` escaped for a URL's path or query.
pub fn escape(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Follows `path`'s pages (its query without `cursor`), returning every
/// item's `field` and how many pages there were.
pub fn all_pages(
    server: &Server,
    path: &str,
    field: &str,
    auth: &[(&str, &str)],
) -> (Vec<String>, usize) {
    let mut items = Vec::new();
    let mut pages = 0;
    let mut next = path.to_owned();
    loop {
        let answer = server.get(&next, auth);
        assert_eq!(answer.status, 200, "{}", answer.text);
        items.extend(answer.items(field));
        pages += 1;
        match answer.json["next_cursor"].as_str() {
            Some(cursor) => {
                let join = if path.contains('?') { '&' } else { '?' };
                next = format!("{path}{join}cursor={cursor}");
            }
            None => return (items, pages),
        }
    }
}
