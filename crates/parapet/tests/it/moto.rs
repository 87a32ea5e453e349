//! moto's server, the AWS emulator (with the services it lacks emulated by
//! `scripts/moto-server.py`), on a free local port for one test.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A running moto server, stopped when dropped.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    venv: PathBuf,
}

/// The virtual environment `scripts/moto-venv` makes (`.ci/test` runs it).
pub fn venv() -> PathBuf {
    parapet_testkit::venv()
}

impl Moto {
    /// Starts moto with `env` on a free port and waits until it answers.
    pub fn start_with(env: &[(&str, &str)]) -> Moto {
        let venv = venv();
        assert!(
            venv.join("bin/moto_server").exists(),
            "moto is not installed in {}: run scripts/moto-venv (bash .ci/test does)",
            venv.display()
        );
        // moto's server, with the services it lacks emulated from their
        // published models. It binds a port the system chooses and says
        // which: no other test can take it between a probe and its bind.
        let server = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/moto-server.py");
        let mut command = Command::new(venv.join("bin/python"));
        command
            .arg(server)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .env("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("moto_server starts");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let port = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| {
                line.split("Running on http://127.0.0.1:")
                    .nth(1)
                    .and_then(|rest| rest.trim().parse::<u16>().ok())
            })
            .expect("moto says which port it listens on");
        // Its request log is read and dropped, so that a full pipe never
        // stops it.
        std::thread::spawn(move || lines.for_each(drop));
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            venv,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// Starts moto.
    pub fn start() -> Moto {
        Moto::start_with(&[])
    }

    /// Runs a Python script of the venv (boto3 comes with moto) against
    /// this server.
    pub fn python(&self, script: &Path, args: &[&str]) -> Output {
        let output = Command::new(self.venv.join("bin/python"))
            .arg(script)
            .args(["--endpoint", &self.endpoint])
            .args(args)
            .output()
            .expect("python runs");
        assert!(
            output.status.success(),
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// Seeds the README's example estate with `scale` extra resources of
    /// each common kind.
    pub fn seed_demo(&self, scale: usize) {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/aws-demo/seed.py");
        self.python(&script, &["--scale", &scale.to_string()]);
    }

    /// Runs `parapet scan aws` against this server with emulator credentials
    /// and no shared configuration of the user's.
    pub fn scan(&self, db: &Path, credentials: (&str, &str), args: &[&str]) -> Output {
        let home = tempfile::tempdir().expect("temp home");
        self.parapet(db, credentials, home.path())
            .args(["scan", "aws", "--endpoint-url", &self.endpoint])
            .args(args)
            .output()
            .expect("parapet runs")
    }

    /// `parapet watch` following `queue` (a queue of this server in
    /// eu-west-1), with emulator credentials and the database `db`.
    pub fn watch(&self, db: &Path, home: &Path, queue: &str) -> Command {
        let mut command = self.parapet(db, ("testing", "testing"), home);
        command.args([
            "watch",
            "--queue-url",
            queue,
            "--queue-region",
            "eu-west-1",
            "--endpoint-url",
            &self.endpoint,
        ]);
        command
    }

    /// `parapet` with emulator credentials, no shared configuration of the
    /// user's (`home` stands for the user's folder) and the database `db`.
    pub fn parapet(&self, db: &Path, credentials: (&str, &str), home: &Path) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_parapet"));
        command
            .env("PARAPET_DB", db)
            .env("HOME", home)
            .env("AWS_ACCESS_KEY_ID", credentials.0)
            .env("AWS_SECRET_ACCESS_KEY", credentials.1)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("PARAPET_RULES")
            .env_remove("PARAPET_CONFIG");
        command
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
