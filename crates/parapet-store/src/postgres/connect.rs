//! What a PostgreSQL URL says and how Parapet connects to it.
//!
//! A URL names the server, the user and the database
//! (`postgres://parapet@db.example:5432/parapet`, or a Unix socket folder:
//! `postgres://parapet@/parapet?host=/run/postgresql`); it never holds the
//! password, which comes from `PGPASSWORD` or from the file that
//! `PARAPET_DB_PASSWORD_FILE` names. TLS is used when the URL asks
//! (`sslmode=require`, `verify-ca` or `verify-full`: the server's
//! certificate and name are always verified, against `sslrootcert` when
//! given, else the public roots); `sslmode=prefer` tries TLS and falls back
//! to plain; without `sslmode` the connection is plain.

use crate::error::StoreError;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Runtime;
use tokio_postgres::config::SslMode;

/// The environment variable that holds the database password.
pub const PASSWORD_ENV: &str = "PGPASSWORD";

/// The environment variable that names a file holding the database password.
pub const PASSWORD_FILE_ENV: &str = "PARAPET_DB_PASSWORD_FILE";

/// A PostgreSQL database to connect to, with its password and TLS settings.
#[derive(Clone)]
pub struct Target {
    config: tokio_postgres::Config,
    name: String,
    roots: Option<PathBuf>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target").field("name", &self.name).finish()
    }
}

/// Whether `text` is a PostgreSQL URL rather than a file name.
pub fn is_url(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

fn invalid(reason: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(format!("the database URL is not valid: {reason}"))
}

impl Target {
    /// The database `url` names, with the password from `PGPASSWORD` or
    /// the file `PARAPET_DB_PASSWORD_FILE` names, if either is set.
    pub fn from_env(url: &str) -> Result<Target, StoreError> {
        let password = match (
            std::env::var(PASSWORD_ENV).ok(),
            std::env::var_os(PASSWORD_FILE_ENV),
        ) {
            (Some(password), _) => Some(password),
            (None, Some(file)) => {
                let file = PathBuf::from(file);
                let text = std::fs::read_to_string(&file).map_err(|e| {
                    StoreError::Invalid(format!(
                        "{} (named by {PASSWORD_FILE_ENV}): {e}",
                        file.display()
                    ))
                })?;
                Some(text.trim_end_matches(['\r', '\n']).to_owned())
            }
            (None, None) => None,
        };
        Target::new(url, password)
    }

    /// The database `url` names, with `password`.
    pub fn new(url: &str, password: Option<String>) -> Result<Target, StoreError> {
        if !is_url(url) {
            return Err(invalid(
                "it does not start with postgres:// or postgresql://",
            ));
        }
        let inline = || {
            invalid(format!(
                "it holds a password; give the password in {PASSWORD_ENV} or in a file named by {PASSWORD_FILE_ENV}"
            ))
        };
        // What PostgreSQL's own URLs say that the client does not read is
        // taken out here: the roots to verify the server with, and the
        // modes that verify (this client always does).
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut roots = None;
        let mut asked_tls = false;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
            match key {
                "password" => return Err(inline()),
                "sslrootcert" => roots = Some(PathBuf::from(decoded.as_ref())),
                "sslmode" => {
                    asked_tls = true;
                    if matches!(decoded.as_ref(), "verify-ca" | "verify-full") {
                        kept.push("sslmode=require".to_owned());
                    } else {
                        kept.push(pair.to_owned());
                    }
                }
                _ => kept.push(pair.to_owned()),
            }
        }
        let text = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let mut config = tokio_postgres::Config::from_str(&text).map_err(invalid)?;
        if config.get_password().is_some() {
            return Err(inline());
        }
        if !asked_tls {
            config.ssl_mode(SslMode::Disable);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if let Some(password) = password {
            config.password(password);
        }
        let name = name_of(&config);
        Ok(Target {
            config,
            name,
            roots,
        })
    }

    /// The database as errors and logs name it: server, user and database,
    /// never the password.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A new connection.
    pub(super) fn connect(&self) -> Result<Session, StoreError> {
        let fail = |source| super::backend(&self.name, source);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::Backend {
                database: self.name.clone(),
                source: e.into(),
            })?;
        let client = if self.config.get_ssl_mode() == SslMode::Disable {
            let (client, connection) = runtime
                .block_on(self.config.connect(tokio_postgres::NoTls))
                .map_err(fail)?;
            runtime.spawn(connection);
            client
        } else {
            let tls = tokio_postgres_rustls::MakeRustlsConnect::new(self.tls()?);
            let (client, connection) = runtime.block_on(self.config.connect(tls)).map_err(fail)?;
            runtime.spawn(connection);
            client
        };
        Ok(Session { runtime, client })
    }

    /// The TLS settings: the roots `sslrootcert` names, or the public ones.
    fn tls(&self) -> Result<rustls::ClientConfig, StoreError> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        match &self.roots {
            Some(file) => {
                let unreadable = |e: &dyn std::fmt::Display| {
                    StoreError::Invalid(format!("{} (sslrootcert): {e}", file.display()))
                };
                for cert in CertificateDer::pem_file_iter(file).map_err(|e| unreadable(&e))? {
                    roots
                        .add(cert.map_err(|e| unreadable(&e))?)
                        .map_err(|e| unreadable(&e))?;
                }
                if roots.is_empty() {
                    return Err(unreadable(&"no certificate in the file"));
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Ok(rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::Invalid(format!("TLS: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth())
    }
}

/// An open connection: its client, and the runtime its connection runs on,
/// driven whenever the client waits for an answer.
pub(super) struct Session {
    pub runtime: Runtime,
    pub client: tokio_postgres::Client,
}

/// The database as a URL without anything secret: user, servers, database.
fn name_of(config: &tokio_postgres::Config) -> String {
    use tokio_postgres::config::Host;
    let mut tcp = Vec::new();
    let mut sockets = Vec::new();
    for (i, host) in config.get_hosts().iter().enumerate() {
        let port = config
            .get_ports()
            .get(i)
            .or(config.get_ports().first())
            .filter(|p| **p != 5432)
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        match host {
            Host::Tcp(name) => tcp.push(format!("{name}{port}")),
            Host::Unix(folder) => sockets.push(folder.display().to_string()),
        }
    }
    let mut name = format!(
        "postgres://{}@{}/{}",
        config.get_user().unwrap_or(""),
        tcp.join(","),
        config.get_dbname().unwrap_or("")
    );
    if !sockets.is_empty() {
        name.push_str(&format!("?host={}", sockets.join(",")));
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_with_a_password_is_refused_without_repeating_it() {
        for url in [
            "postgres://parapet:s3cret-pw@db.example/parapet",
            "postgres://parapet@db.example/parapet?password=s3cret-pw",
        ] {
            let error = Target::new(url, None).expect_err(url).to_string();
            assert!(error.contains("PGPASSWORD"), "{error}");
            assert!(!error.contains("s3cret-pw"), "{error}");
        }
    }

    #[test]
    fn the_name_shows_server_user_and_database_only() {
        let target = Target::new(
            "postgresql://parapet@db.example:6432/inventory?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=x",
            Some("s3cret-pw".into()),
        )
        .expect("valid");
        assert_eq!(
            target.name(),
            "postgres://parapet@db.example:6432/inventory"
        );
        assert_eq!(target.config.get_ssl_mode(), SslMode::Require);
        assert_eq!(target.roots, Some(PathBuf::from("/etc/ca.pem")));
        assert!(!format!("{target:?}").contains("s3cret-pw"));
        let socket =
            Target::new("postgres://parapet@/inventory?host=/run/postgresql", None).expect("valid");
        assert_eq!(
            socket.name(),
            "postgres://parapet@/inventory?host=/run/postgresql"
        );
        assert_eq!(socket.config.get_ssl_mode(), SslMode::Disable);
    }

    #[test]
    fn other_schemes_and_bad_urls_are_refused() {
        assert!(Target::new("mysql://x@y/z", None).is_err());
        assert!(Target::new("postgres://x@y/z?sslmode=sometimes", None).is_err());
        assert!(Target::new("postgres://x@y:port/z", None).is_err());
        assert!(Target::new("not a url", None).is_err());
    }
}
