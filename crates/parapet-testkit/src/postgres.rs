//! A PostgreSQL server for tests, and a fresh database on it for each test.
//!
//! The server is the one `PARAPET_TEST_POSTGRES_URL` names (its user must
//! be allowed to create databases), or else a cluster of the test process's
//! own: `initdb` in a temporary folder and the server on a Unix socket
//! there, started on first use with the binaries of `PARAPET_PG_BIN`, the
//! newest `/usr/lib/postgresql/*/bin`, or `PATH`, as the `postgres` user
//! when the tests run as root (PostgreSQL refuses root). It stops, and its
//! folder goes, when the test process ends, however it ends.

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

/// Starts a cluster of the test process's own; returns it and its socket
/// folder.
fn start_cluster() -> (Child, String) {
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
    let folder = line.trim().to_owned();
    assert!(
        !folder.is_empty(),
        "the test PostgreSQL cluster did not start (is Debian's postgresql installed? scripts/postgres installs it)"
    );
    (child, folder)
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| match std::env::var(URL_ENV) {
        Ok(url) => Server {
            admin: url,
            _cluster: None,
        },
        Err(_) => {
            let (child, folder) = start_cluster();
            Server {
                admin: format!("postgres://parapet@/postgres?host={folder}"),
                _cluster: Some(Mutex::new(child)),
            }
        }
    })
}

/// A new, empty database on the test server; its URL (without a password).
pub fn database() -> String {
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
    let config: postgres::Config = server
        .admin
        .parse()
        .unwrap_or_else(|e| panic!("not a PostgreSQL URL: {e}"));
    let mut admin = config
        .connect(postgres::NoTls)
        .unwrap_or_else(|e| panic!("the test PostgreSQL server refuses a connection: {e:?}"));
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("cannot create database {name}: {e:?}"));
    with_database(&server.admin, &name)
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
