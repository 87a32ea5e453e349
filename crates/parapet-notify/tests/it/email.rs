use super::webhook::{bucket, scan, setup};
use chrono::Utc;
use parapet_core::Status;
use parapet_store::Outbox;
use std::path::{Path, PathBuf};
use std::process::Child;

/// An SMTP server on 127.0.0.1 (STARTTLS and authentication required),
/// stopped when dropped.
struct Sink {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Sink {
    fn start(user: &str, password: &str) -> Sink {
        let dir = tempfile::tempdir().expect("temp dir");
        let password_file = dir.path().join("password");
        std::fs::write(&password_file, password).expect("write");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smtp-sink.py");
        let (child, line) = parapet_testkit::start_python(
            &script,
            &[
                "--user".as_ref(),
                user.as_ref(),
                "--dir".as_ref(),
                dir.path().as_os_str(),
                "--password-file".as_ref(),
                password_file.as_os_str(),
            ],
            true,
        );
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the SMTP sink did not start: {line}"));
        Sink { child, port, dir }
    }

    /// The messages it got, as its records.
    fn messages(&self) -> Vec<serde_json::Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("messages"))
            .expect("messages")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| serde_json::from_slice(&std::fs::read(f).expect("read")).expect("JSON"))
            .collect()
    }

    fn config(&self, password_file: &Path) -> String {
        format!(
            "base_url = \"https://parapet.example.com\"\ndefault = [\"mail\"]\n\
             [[channels]]\ntype = \"email\"\nname = \"mail\"\nhost = \"127.0.0.1\"\nport = {}\n\
             username = \"parapet\"\npassword = {{ file = \"{}\" }}\n\
             from = \"Parapet <parapet@example.com>\"\nto = [\"security@example.com\", \"oncall@example.com\"]\n\
             ca_file = \"{}\"\n",
            self.port,
            password_file.display(),
            self.dir.path().join("ca.pem").display()
        )
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

#[test]
fn email_goes_over_starttls_with_authentication() {
    let sink = Sink::start("parapet", "sm7p-pass");
    let secrets = tempfile::tempdir().expect("temp dir");
    let password = secrets.path().join("smtp-password");
    std::fs::write(&password, "sm7p-pass\n").expect("write");
    let (_dir, mut store, notifier) = setup(&sink.config(&password));
    scan(&mut store, &[(bucket("data"), Status::Fail)]);
    let done = notifier.deliver_due(&mut store, Utc::now()).expect("pass");
    assert_eq!(
        (done.delivered, done.retrying),
        (1, 0),
        "{:?}",
        store.notifications(None, 1)
    );

    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let record = &messages[0];
    assert_eq!(record["tls"], true, "sent after STARTTLS");
    assert_eq!(record["authenticated"], true);
    assert_eq!(record["mail_from"], "parapet@example.com");
    assert_eq!(
        record["rcpt_tos"],
        serde_json::json!(["security@example.com", "oncall@example.com"])
    );
    let data = record["data"].as_str().expect("the message");
    assert!(
        data.contains("Subject: Opened (critical): S3 bucket policies"),
        "{data}"
    );
    let key = &store.notifications(None, 1).expect("outbox")[0].idempotency_key;
    assert!(
        data.contains(&format!("Message-ID: <{key}@parapet>")),
        "{data}"
    );
    assert!(
        data.contains("Rule: aws-s3-bucket-policy-not-public"),
        "{data}"
    );
    assert!(
        data.contains("Open in Parapet: https://parapet.example.com/findings?"),
        "{data}"
    );
}

#[test]
fn a_refused_login_is_a_failed_attempt_that_does_not_show_the_password() {
    let sink = Sink::start("parapet", "the-right-one");
    let secrets = tempfile::tempdir().expect("temp dir");
    let password = secrets.path().join("smtp-password");
    std::fs::write(&password, "a-wrong-one").expect("write");
    let (_dir, mut store, notifier) = setup(&sink.config(&password));
    scan(&mut store, &[(bucket("data"), Status::Fail)]);
    let done = notifier.deliver_due(&mut store, Utc::now()).expect("pass");
    assert_eq!(done.retrying, 1);
    assert!(sink.messages().is_empty());
    let error = store.notifications(None, 1).expect("outbox")[0]
        .last_error
        .clone()
        .unwrap_or_default();
    assert!(
        !error.is_empty() && !error.contains("a-wrong-one"),
        "{error}"
    );
}

#[test]
fn email_addresses_are_checked_when_the_configuration_is_read() {
    let config: parapet_notify::NotifyConfig = toml::from_str(
        "[[channels]]\ntype = \"email\"\nname = \"mail\"\nhost = \"127.0.0.1\"\nfrom = \"not an address\"\nto = [\"a@example.com\"]\n",
    )
    .expect("valid TOML");
    let error = parapet_notify::Notifier::new(&config)
        .err()
        .expect("refused")
        .to_string();
    assert!(
        error.contains("channel mail") && error.contains("not an email address"),
        "{error}"
    );
}
