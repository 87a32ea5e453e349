//! A PostgreSQL server for tests, and a fresh database on it for each test.
//!
//! The server is the one `PARAPET_TEST_POSTGRES_URL` names (its user must
//! be allowed to create databases), or else a cluster of the test process's
//! own: `initdb` in a temporary folder and the server on a Unix socket
//! there, started on first use with the binaries of `PARAPET_PG_BIN`, the
//! newest `/usr/lib/postgresql/*/bin`, or `PATH`, as the `postgres` user
//! when the tests run as root (PostgreSQL refuses root). The cluster also
//! listens on 127.0.0.1 with TLS, its certificate signed by an authority
//! made for it. It stops, and its folder goes, when the test process ends,
//! however it ends.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// The environment variable naming a server to use instead of a cluster
/// of the tests' own.
pub const URL_ENV: &str = "PARAPET_TEST_POSTGRES_URL";

/// The server the tests use.
struct Server {
    /// The URL of its maintenance database.
    admin: String,
    /// Where it also listens with TLS, when it is a cluster of the tests'
    /// own: its port on 127.0.0.1 and the certificate of the authority
    /// that signed its certificate.
    tls: Option<(u16, PathBuf)>,
    /// The cluster script, kept running (its standard input open) for as
    /// long as the test process lives.
    _cluster: Option<Mutex<Child>>,
}

/// The folder of PostgreSQL's programs.
fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PARAPET_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Starts a cluster of the test process's own; returns it, its socket
/// folder and its TCP port.
fn start_cluster() -> (Child, String, u16) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/postgres-cluster.sh");
    let bin = bin_dir().map_or_else(
        || "$(dirname \"$(command -v initdb)\")".to_owned(),
        |b| b.display().to_string(),
    );
    let run = format!("bash {} {bin}", shell_quote(&script.display().to_string()));
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "bash", "-c", &run]);
        c
    } else {
        let mut c = Command::new("bash");
        c.args(["-c", &run]);
        c
    };
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("the test PostgreSQL cluster does not start: {e}"));
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        std::io::BufReader::new(out)
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("the test PostgreSQL cluster printed nothing: {e}"));
    }
    let (folder, port) = line
        .trim()
        .split_once(' ')
        .and_then(|(folder, port)| Some((folder.to_owned(), port.parse().ok()?)))
        .unwrap_or_else(|| {
            panic!(
                "the test PostgreSQL cluster did not start (is Debian's postgresql installed? scripts/postgres installs it)"
            )
        });
    (child, folder, port)
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| match std::env::var(URL_ENV) {
        Ok(url) => Server {
            admin: url,
            tls: None,
            _cluster: None,
        },
        Err(_) => {
            let (child, folder, port) = start_cluster();
            Server {
                admin: format!("postgres://parapet@/postgres?host={folder}&port={port}"),
                tls: Some((port, PathBuf::from(folder).join("ca.pem"))),
                _cluster: Some(Mutex::new(child)),
            }
        }
    })
}

/// A new, empty database on the test server; its URL (without a password).
pub fn database() -> String {
    with_database(&server().admin, &create_database())
}

/// A new, empty database on the test cluster, reached over TCP on
/// 127.0.0.1: the URL without TLS options, and the certificate of the
/// authority that signed the server's certificate. `None` when the tests
/// use a server `PARAPET_TEST_POSTGRES_URL` names, whose TLS they do not
/// know.
pub fn tls_database() -> Option<(String, PathBuf)> {
    let (port, authority) = server().tls.clone()?;
    let name = create_database();
    Some((
        format!("postgres://parapet@127.0.0.1:{port}/{name}"),
        authority,
    ))
}

/// A plain connection to the database `url` names, for tests that look
/// behind the store.
pub fn connect(url: &str) -> postgres::Client {
    let config: postgres::Config = url
        .parse()
        .unwrap_or_else(|e| panic!("not a PostgreSQL URL: {e}"));
    config
        .connect(postgres::NoTls)
        .unwrap_or_else(|e| panic!("the test PostgreSQL server refuses a connection: {e:?}"))
}

/// How many connections to the test server named `application` are open,
/// and how many of them use TLS.
pub fn sessions(application: &str) -> (i64, i64) {
    let row = connect(&server().admin)
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE s.ssl) FROM pg_stat_activity a \
             JOIN pg_stat_ssl s USING (pid) WHERE a.application_name = $1",
            &[&application],
        )
        .unwrap_or_else(|e| panic!("pg_stat_ssl: {e:?}"));
    (row.get(0), row.get(1))
}

/// Creates a new, empty database; returns its name.
fn create_database() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let server = server();
    let name = format!(
        "parapet_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    // Databases are copied from a template that must have no other user:
    // one creation at a time.
    static CREATING: Mutex<()> = Mutex::new(());
    let _one = CREATING.lock().unwrap_or_else(|e| e.into_inner());
    connect(&server.admin)
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("cannot create database {name}: {e:?}"));
    name
}

/// `url` naming database `name` instead of its own.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (rest, query) = rest
        .split_once('?')
        .map_or((rest, None), |(r, q)| (r, Some(q)));
    let authority = rest.split_once('/').map_or(rest, |(a, _)| a);
    match query {
        Some(query) => format!("{scheme}://{authority}/{name}?{query}"),
        None => format!("{scheme}://{authority}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_url_names_another_database_with_its_options_kept() {
        assert_eq!(
            super::with_database("postgres://parapet@/postgres?host=/tmp/x", "t1"),
            "postgres://parapet@/t1?host=/tmp/x"
        );
        assert_eq!(
            super::with_database("postgresql://u@db.example:6432", "t2"),
            "postgresql://u@db.example:6432/t2"
        );
    }
}
