//! Images pulled from a real registry (Debian's `docker-registry`, the
//! distribution registry) on 127.0.0.1: with basic authentication
//! (htpasswd), and with bearer tokens from a token service, the Debian image
//! pushed there by skopeo and read back package for package.

use super::fixtures;
use super::test_images::images;
use parapet_vuln::registry::Access;
use parapet_vuln::target::Options;
use parapet_vuln::{Ecosystem, Target};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const USER: &str = "parapet";
const PASSWORD: &str = "s3cr3t-Passw0rd";

/// How the registry authenticates.
enum Auth {
    Basic,
    Token,
}

/// A registry and, for tokens, its token service; stopped when dropped.
struct Registry {
    port: u16,
    children: Vec<Child>,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The port the registry says it listens on (`msg="listening on
/// 127.0.0.1:PORT"`); the rest of its log is read and dropped on a thread
/// of its own, so that it never waits on a full pipe.
fn listening_port(log: std::process::ChildStderr) -> u16 {
    use std::io::BufRead;
    let (found, port) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(log).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on 127.0.0.1:").nth(1) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let _ = found.send(digits.parse::<u16>().ok());
            }
        }
    });
    port.recv_timeout(Duration::from_secs(20))
        .ok()
        .flatten()
        .expect("the registry did not say where it listens")
}

impl Registry {
    fn start(auth: Auth) -> Registry {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut children = Vec::new();
        let auth_config = match auth {
            Auth::Basic => {
                let output = Command::new("htpasswd")
                    .args(["-Bbn", USER, PASSWORD])
                    .output()
                    .expect("htpasswd runs (apache2-utils; scripts/test-images installs it)");
                assert!(output.status.success());
                std::fs::write(dir.path().join("htpasswd"), &output.stdout).expect("write");
                format!(
                    "  htpasswd:\n    realm: parapet-test\n    path: {}\n",
                    dir.path().join("htpasswd").display()
                )
            }
            Auth::Token => {
                let (server, line) = parapet_testkit::start_python(
                    &fixtures().join("registry/token_server.py"),
                    &[
                        dir.path().as_os_str(),
                        USER.as_ref(),
                        PASSWORD.as_ref(),
                        "parapet-test".as_ref(),
                        "--anonymous-pull".as_ref(),
                    ],
                    false,
                );
                children.push(server);
                format!(
                    "  token:\n    realm: http://127.0.0.1:{}/token\n    service: parapet-registry\n    issuer: parapet-test\n    rootcertbundle: {}\n",
                    line.trim(),
                    dir.path().join("token.crt").display()
                )
            }
        };
        let config = dir.path().join("config.yml");
        // The registry binds a free port of its own and logs it.
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:0\nauth:\n{auth_config}",
                dir.path().join("data").display()
            ),
        )
        .expect("write");
        let mut registry = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("docker-registry starts (scripts/test-images installs it)");
        let port = listening_port(registry.stderr.take().expect("stderr"));
        children.push(registry);
        let registry = Registry {
            port,
            children,
            _dir: dir,
        };
        registry.push();
        registry
    }

    /// Pushes the Debian test image as `team/debian:12`.
    fn push(&self) {
        let source = format!("oci:{}:debian", images().join("oci").display());
        let output = Command::new("skopeo")
            .args(["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds"])
            .arg(format!("{USER}:{PASSWORD}"))
            .arg(&source)
            .arg(format!("docker://127.0.0.1:{}/team/debian:12", self.port))
            .output()
            .expect("skopeo runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn scan(&self, access: Access) -> Result<parapet_vuln::Inventory, String> {
        let target = Target::parse(&format!("docker://127.0.0.1:{}/team/debian:12", self.port))
            .map_err(|e| e.to_string())?;
        target
            .inventory(&Options {
                registry: access,
                ..Options::default()
            })
            .map_err(|e| e.to_string())
    }
}

fn access(password: &str) -> Access {
    Access {
        username: Some(USER.to_owned()),
        password: Some(password.to_owned()),
        plain_http: false,
    }
}

fn dpkg_count(expected: &Path) -> usize {
    std::fs::read_to_string(expected)
        .expect("list")
        .lines()
        .count()
}

#[test]
fn an_image_is_pulled_with_basic_authentication() {
    let registry = Registry::start(Auth::Basic);
    let inventory = registry.scan(access(PASSWORD)).expect("pulled");
    assert_eq!(
        inventory
            .packages
            .iter()
            .filter(|p| p.ecosystem == Ecosystem::Debian)
            .count(),
        dpkg_count(&images().join("expected/debian.txt"))
    );
    assert_eq!(inventory.os.as_ref().map(|o| o.id.as_str()), Some("debian"));
    let refused = registry.scan(access("wrong")).expect_err("refused");
    assert!(refused.contains("401"), "{refused}");
    assert!(
        !refused.contains("wrong") && !refused.contains(PASSWORD),
        "{refused}"
    );
    let anonymous = registry.scan(Access::default()).expect_err("refused");
    assert!(
        anonymous.contains("wants a user name and password"),
        "{anonymous}"
    );
}

#[test]
fn an_image_is_pulled_with_a_token_from_the_token_service() {
    let registry = Registry::start(Auth::Token);
    let anonymous = registry
        .scan(Access::default())
        .expect("anonymous pull is granted");
    let signed_in = registry.scan(access(PASSWORD)).expect("pulled");
    assert_eq!(anonymous.packages, signed_in.packages);
    assert_eq!(
        signed_in.packages.len(),
        dpkg_count(&images().join("expected/debian.txt"))
    );
    let refused = registry.scan(access("wrong")).expect_err("refused");
    assert!(refused.contains("token service"), "{refused}");
    assert!(
        !refused.contains(PASSWORD) && !refused.contains("wrong"),
        "{refused}"
    );
}
