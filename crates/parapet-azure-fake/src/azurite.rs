//! Azurite, Microsoft's emulator of Azure Storage, serving its queue
//! service for a test: over HTTPS with a certificate made for the test and
//! with Entra ID sign-in (`--oauth basic`: it reads a bearer token's
//! claims, its audience, issuer and times, as the fake's token endpoint
//! issues them), on a free port of 127.0.0.1, its data in memory. The
//! program is the one `scripts/azurite` installs (`.ci/test` runs it).

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Azurite's well-known development account.
pub const ACCOUNT: &str = "devstoreaccount1";

/// A running Azurite queue service, stopped when dropped.
pub struct Azurite {
    /// Where it listens.
    pub address: SocketAddr,
    /// The PEM of the certificate it serves, to trust.
    pub certificate: String,
    child: Child,
    _dir: tempfile::TempDir,
}

/// The `azurite-queue` program: `PARAPET_AZURITE_QUEUE`, or where
/// `scripts/azurite` installs it.
fn program() -> PathBuf {
    let path = std::env::var_os("PARAPET_AZURITE_QUEUE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| {
                PathBuf::from(h).join(".cache/parapet/azurite/node_modules/.bin/azurite-queue")
            })
        })
        .expect("HOME or PARAPET_AZURITE_QUEUE is set");
    assert!(
        path.exists(),
        "{} is missing: run scripts/azurite (bash .ci/test does)",
        path.display()
    );
    path
}

impl Azurite {
    /// Starts the queue service and waits until it answers.
    pub fn start() -> Azurite {
        let dir = tempfile::tempdir().expect("a folder");
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()])
            .expect("a certificate");
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert, certified.cert.pem()).expect("the certificate");
        let mut file = std::fs::File::create(&key).expect("the key");
        file.write_all(certified.signing_key.serialize_pem().as_bytes())
            .expect("the key");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let said = dir.path().join("azurite.log");
        let mut child = Command::new(program())
            .args(["--queueHost", "127.0.0.1", "--queuePort"])
            .arg(port.to_string())
            .args([
                "--inMemoryPersistence",
                "--silent",
                "--disableTelemetry",
                "--skipApiVersionCheck",
                "--oauth",
                "basic",
                "--cert",
            ])
            .arg(&cert)
            .arg("--key")
            .arg(&key)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&said).expect("a log file"))
            .spawn()
            .expect("azurite-queue starts");
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        while TcpStream::connect(address).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                let said = std::fs::read_to_string(&said).unwrap_or_default();
                panic!("azurite-queue stopped ({status}): {said}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "Azurite did not listen on {address} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Azurite {
            address,
            certificate: certified.cert.pem(),
            child,
            _dir: dir,
        }
    }

    /// The URL of the queue `name` of the development account.
    pub fn queue_url(&self, name: &str) -> String {
        format!("https://{}/{ACCOUNT}/{name}", self.address)
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
