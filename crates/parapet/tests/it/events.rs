//! `parapet scan aws --event`: a change made in moto, its CloudTrail event
//! (as EventBridge delivers it) given to Parapet, and the finding opened,
//! then resolved when the change is reverted; what depends on a changed
//! security group is evaluated again with it.

use super::moto::Moto;
use super::{fixture, stderr};
use parapet_core::{EventKind, FindingStatus};
use parapet_store::roles::*;
use parapet_store::{EventQuery, SqliteStore};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

const ACCOUNT: &str = "123456789012";

/// Makes the change in moto and hands its event to `parapet scan aws --event`.
fn change(moto: &Moto, db: &Path, dir: &Path, action: &str, target: &str) {
    let event = moto.python(&fixture("aws-event.py"), &[action, target]);
    let file = dir.join(format!("{action}.json"));
    std::fs::write(&file, &event.stdout).expect("write the event");
    let output = moto.scan(
        db,
        ("testing", "testing"),
        &["--event", file.to_str().expect("utf-8"), "--format", "json"],
    );
    assert!(output.status.success(), "{action}: {}", stderr(&output));
}

pub(super) fn status(db: &Path, rule: &str, asset: &str) -> Option<FindingStatus> {
    SqliteStore::open(db)
        .expect("open")
        .finding(rule, asset)
        .expect("finding")
        .and_then(|f| f.status)
}

fn events_of(db: &Path, asset: &str) -> Vec<EventKind> {
    SqliteStore::open(db)
        .expect("open")
        .events(&EventQuery {
            asset_id: Some(asset.to_owned()),
            ..Default::default()
        })
        .expect("events")
        .into_iter()
        .map(|e| e.event.kind)
        .collect()
}

/// The rules the changes of `aws-event.py` make fail.
const PUBLIC_BUCKET: &str = "aws-s3-bucket-policy-not-public";
const OPEN_GROUP: &str = "aws-ec2-security-group-no-ssh-from-internet";
const PUBLIC_SNAPSHOT: &str = "aws-ec2-snapshot-not-public";

/// The asset ids of what `aws-event.py setup` made.
struct Watched {
    bucket: String,
    group: String,
    instance: String,
    snapshot: String,
}

impl Watched {
    fn of(ids: &BTreeMap<String, String>) -> Watched {
        Watched {
            bucket: format!("arn:aws:s3:::{}", ids["bucket"]),
            group: format!(
                "arn:aws:ec2:eu-west-1:{ACCOUNT}:security-group/{}",
                ids["group"]
            ),
            instance: format!(
                "arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/{}",
                ids["instance"]
            ),
            snapshot: format!("arn:aws:ec2:eu-west-1::snapshot/{}", ids["snapshot"]),
        }
    }
}

/// The latest scan's count of assets described, and the buckets the
/// inventory holds.
fn described_and_buckets(db: &Path) -> (u64, usize) {
    let store = SqliteStore::open(db).expect("open");
    let described = store.scans(1).expect("scans")[0].counts.assets;
    let buckets = store
        .current_assets(Some(ACCOUNT))
        .expect("assets")
        .into_iter()
        .filter(|a| a.resource_type.as_str() == "AWS::S3::Bucket")
        .count();
    (described, buckets)
}

#[test]
fn an_event_refreshes_what_it_changed_and_what_depends_on_it() {
    let (moto, ids, dir, db) = prepared();
    let Watched {
        bucket,
        group,
        instance,
        snapshot,
    } = Watched::of(&ids);
    let reachable = "aws-ec2-instance-ssh-not-reachable-from-internet";
    for (rule, asset) in [
        (PUBLIC_BUCKET, &bucket),
        (OPEN_GROUP, &group),
        (reachable, &instance),
        (PUBLIC_SNAPSHOT, &snapshot),
    ] {
        assert_eq!(status(&db, rule, asset), None, "{rule} before any change");
    }

    // A bucket made public, then private again: only that bucket is
    // described again, and the others stay in the inventory.
    let (_, buckets) = described_and_buckets(&db);
    assert!(buckets > 20, "the burst's buckets and the watched one");
    change(&moto, &db, dir.path(), "bucket-public", &ids["bucket"]);
    assert_eq!(described_and_buckets(&db), (1, buckets));
    assert_eq!(
        status(&db, PUBLIC_BUCKET, &bucket),
        Some(FindingStatus::Open)
    );
    assert!(events_of(&db, &bucket).contains(&EventKind::FindingOpened));
    change(&moto, &db, dir.path(), "bucket-private", &ids["bucket"]);
    assert_eq!(
        status(&db, PUBLIC_BUCKET, &bucket),
        Some(FindingStatus::Resolved)
    );
    assert!(events_of(&db, &bucket).contains(&EventKind::FindingResolved));

    // A group opened to the world: the group's rule fails, and the instance
    // behind it, in a public subnet with an address, is now reachable.
    change(&moto, &db, dir.path(), "sg-open", &ids["group"]);
    assert_eq!(status(&db, OPEN_GROUP, &group), Some(FindingStatus::Open));
    assert_eq!(status(&db, reachable, &instance), Some(FindingStatus::Open));
    change(&moto, &db, dir.path(), "sg-close", &ids["group"]);
    assert_eq!(
        status(&db, OPEN_GROUP, &group),
        Some(FindingStatus::Resolved)
    );
    assert_eq!(
        status(&db, reachable, &instance),
        Some(FindingStatus::Resolved)
    );

    // A snapshot shared with everyone, then unshared.
    change(&moto, &db, dir.path(), "snapshot-share", &ids["snapshot"]);
    assert_eq!(
        status(&db, PUBLIC_SNAPSHOT, &snapshot),
        Some(FindingStatus::Open)
    );
    change(&moto, &db, dir.path(), "snapshot-unshare", &ids["snapshot"]);
    assert_eq!(
        status(&db, PUBLIC_SNAPSHOT, &snapshot),
        Some(FindingStatus::Resolved)
    );

    // A bucket deleted: recorded as deleted.
    change(&moto, &db, dir.path(), "bucket-delete", &ids["bucket"]);
    assert_eq!(described_and_buckets(&db), (0, buckets - 1));
    assert!(
        events_of(&db, &bucket).contains(&EventKind::AssetDeleted),
        "{:?}",
        events_of(&db, &bucket)
    );

    // Events that change nothing Parapet follows describe nothing.
    let file = dir.path().join("read.json");
    let read: Value = serde_json::json!({"eventSource": "s3.amazonaws.com", "eventName": "GetBucketPolicy",
        "awsRegion": "eu-west-1", "recipientAccountId": ACCOUNT, "readOnly": true});
    std::fs::write(&file, read.to_string()).expect("write");
    let output = moto.scan(
        &db,
        ("testing", "testing"),
        &["--event", file.to_str().expect("utf-8")],
    );
    assert!(output.status.success());
    assert!(stderr(&output).contains("read-only"), "{}", stderr(&output));
    let garbled = dir.path().join("garbled.json");
    std::fs::write(
        &garbled,
        "{\"detail-type\": \"EC2 Instance State-change Notification\", \"detail\": {}}",
    )
    .expect("write");
    let output = moto.scan(
        &db,
        ("testing", "testing"),
        &["--event", garbled.to_str().expect("utf-8")],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a CloudTrail event"),
        "{}",
        stderr(&output)
    );
}

/// moto with the estate of `aws-event.py setup` (its ids), scanned into a
/// database in a temporary folder.
fn prepared() -> (
    Moto,
    BTreeMap<String, String>,
    tempfile::TempDir,
    std::path::PathBuf,
) {
    let moto = Moto::start();
    let ids: BTreeMap<String, String> =
        serde_json::from_slice(&moto.python(&fixture("aws-event.py"), &["setup"]).stdout)
            .expect("ids");
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("parapet.db");
    let scan = moto.scan(&db, ("testing", "testing"), &["--regions", "eu-west-1"]);
    assert!(scan.status.success(), "{}", stderr(&scan));
    (moto, ids, dir, db)
}

/// How many events of `kind` (of `rule`, when given) `asset` has.
fn count_events(store: &dyn Store, asset: &str, rule: Option<&str>, kind: EventKind) -> usize {
    store
        .events(&EventQuery {
            asset_id: Some(asset.to_owned()),
            rule_id: rule.map(str::to_owned),
            kinds: vec![kind],
            ..Default::default()
        })
        .expect("events")
        .len()
}

/// A configuration file in `dir` sending every finding change to the
/// webhook at `url` (`/hook`).
pub(super) fn webhook_config(dir: &Path, url: &str) -> std::path::PathBuf {
    let config = dir.join("parapet.toml");
    std::fs::write(
        &config,
        format!(
            "[notifications]\ndefault = [\"security\"]\n[[notifications.channels]]\ntype = \"webhook\"\n\
             name = \"security\"\nurl = \"{url}/hook\"\n"
        ),
    )
    .expect("the configuration");
    config
}

/// Waits until `done` holds, up to `seconds`.
pub(super) fn eventually(seconds: u64, done: impl FnMut() -> bool) -> bool {
    eventually_every(seconds, std::time::Duration::from_millis(200), done)
}

/// Whether `done` becomes true within `seconds`, asked every `every`.
fn eventually_every(
    seconds: u64,
    every: std::time::Duration,
    mut done: impl FnMut() -> bool,
) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while std::time::Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(every);
    }
    done()
}

#[test]
fn watch_follows_the_queue_and_stops_on_sigterm() {
    let (moto, ids, dir, db) = prepared();
    let script = fixture("aws-event.py");
    let queue = &ids["queue"];
    // Both servers bind a free port of their own and the log names it.
    let mut watch = moto
        .watch(&db, dir.path(), queue)
        .args([
            "--log-format",
            "json",
            "--listen",
            "127.0.0.1:0",
            "--resync",
            "3s",
            "--serve",
            "127.0.0.1:0",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("parapet watch starts");
    let tail = LogTail::follow(&mut watch);
    let watching = tail.watching();
    let listen = watching["listen"]
        .as_str()
        .expect("the endpoint's address")
        .to_owned();
    let serve = watching["serve"]
        .as_str()
        .expect("the server's address")
        .to_owned();
    assert!(
        !listen.ends_with(":0") && !serve.ends_with(":0"),
        "{watching}"
    );
    let bucket = format!("arn:aws:s3:::{}", ids["bucket"]);
    let rule = "aws-s3-bucket-policy-not-public";
    let send = |action: &str, target: &str| {
        moto.python(&script, &[action, target, "--send-to", queue]);
    };

    send("bucket-public", &ids["bucket"]);
    assert!(
        eventually(60, || status(&db, rule, &bucket)
            == Some(FindingStatus::Open)),
        "the public bucket's finding was not opened"
    );
    // A message that is not an event is set aside; the daemon goes on.
    send("garbage", "-");
    send("bucket-private", &ids["bucket"]);
    assert!(
        eventually(60, || status(&db, rule, &bucket)
            == Some(FindingStatus::Resolved)),
        "the finding was not resolved"
    );
    // Health and metrics.
    let get = |path: &str| -> String {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&listen).expect("connect");
        write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").expect("request");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("answer");
        answer
    };
    assert!(get("/health").ends_with("ok\n"), "{}", get("/health"));
    let metrics = get("/metrics");
    let value = |name: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {metrics}"))
    };
    assert!(
        value("parapet_watch_messages_received_total") >= 3,
        "{metrics}"
    );
    assert_eq!(value("parapet_watch_messages_set_aside_total"), 1);
    assert!(value("parapet_watch_findings_opened_total") >= 1);
    assert!(value("parapet_watch_findings_resolved_total") >= 1);
    // Events that arrive while a resync runs are refreshed in one batch
    // after it: at least one refresh, two when none coincided.
    assert!(value("parapet_watch_refreshes_total") >= 1);
    assert!(value("parapet_watch_lag_milliseconds") > 0);
    assert!(
        get("/nothing").starts_with("HTTP/1.0 404") || get("/nothing").starts_with("HTTP/1.1 404")
    );
    // The API and the web UI are served beside the daemon, over its
    // database: the bucket's finding, resolved, is in the API.
    let api = |path: &str| -> String {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&serve).expect("connect");
        write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").expect("request");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("answer");
        answer
    };
    let findings = api(&format!("/api/v1/findings?status=resolved&rule={rule}"));
    assert!(
        findings.starts_with("HTTP/1.0 200") || findings.starts_with("HTTP/1.1 200"),
        "{findings}"
    );
    assert!(findings.contains(&bucket), "{findings}");
    assert!(api("/").contains("<title>Parapet</title>"));
    // The periodic resync ran (every 3 s).
    assert!(eventually(30, || {
        let metrics = get("/metrics");
        metrics.lines().any(|l| {
            l.strip_prefix("parapet_watch_resyncs_total ")
                .is_some_and(|v| v.trim() != "0")
        })
    }));

    // Every message was deleted once handled.
    let remaining = moto.python(&fixture("aws-queue-depth.py"), &[queue]);
    assert_eq!(String::from_utf8_lossy(&remaining.stdout).trim(), "0");

    let pid = watch.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = watch.wait().expect("wait");
    let log = tail.finish();
    assert!(status.success(), "{log}");
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(lines.iter().any(|l| l["message"] == "message set aside"
        && l["reason"].as_str().is_some_and(|r| r.contains("not JSON"))));
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "refreshed" && l["opened"] == 1)
    );
    assert_eq!(
        lines.last().map(|l| l["message"].clone()),
        Some(Value::from("stopped"))
    );
}

/// The daemon's log (JSON, a line each) as it writes it, read on a thread
/// of its own so that the daemon never waits on a full pipe.
pub(super) struct LogTail {
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LogTail {
    /// Follows the standard error of `daemon`.
    pub(super) fn follow(daemon: &mut std::process::Child) -> LogTail {
        use std::io::BufRead;
        let stderr = daemon.stderr.take().expect("a piped standard error");
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = std::sync::Arc::clone(&lines);
        let thread = std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                kept.lock().expect("lock").push(line);
            }
        });
        LogTail {
            lines,
            thread: Some(thread),
        }
    }

    /// The `watching` line: where the daemon listens, once it does.
    pub(super) fn watching(&self) -> Value {
        let mut found = None;
        assert!(
            eventually_every(30, Duration::from_millis(20), || {
                found = self
                    .lines
                    .lock()
                    .expect("lock")
                    .iter()
                    .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                    .find(|l| l["message"] == "watching");
                found.is_some()
            }),
            "the daemon did not say where it listens"
        );
        found.unwrap_or_default()
    }

    /// The address of its endpoint, once it listens.
    pub(super) fn listening(&self) -> String {
        self.watching()["listen"]
            .as_str()
            .expect("the endpoint's address")
            .to_owned()
    }

    /// What it has written so far.
    pub(super) fn so_far(&self) -> String {
        self.lines.lock().expect("lock").join("\n")
    }

    /// Everything it wrote, once it has stopped.
    pub(super) fn finish(mut self) -> String {
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the log reader");
        }
        self.lines.lock().expect("lock").join("\n")
    }
}

/// How many times the daemon is killed, each at another moment.
const KILLS: usize = 20;

#[test]
fn a_daemon_killed_with_events_in_flight_leaves_each_effect_exactly_once_after_restart() {
    let (moto, ids, dir, db) = prepared();
    let script = fixture("aws-event.py");
    let queue = &ids["queue"];
    let start = || {
        moto.watch(&db, dir.path(), queue)
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("parapet watch starts")
    };
    let buckets: Vec<String> = (0..20)
        .map(|n| format!("arn:aws:s3:::watch-burst-{n}"))
        .collect();
    let rule = "aws-s3-bucket-policy-not-public";
    let opened = |bucket: &str| {
        count_events(
            &SqliteStore::open(&db).expect("open"),
            bucket,
            Some(rule),
            EventKind::FindingOpened,
        )
    };

    // The burst is queued before the daemon starts (a daemon that keeps up
    // with the sender would leave nothing in flight); the daemon is killed
    // again and again, each time at another moment: while it starts, as
    // soon as it has committed something, a little after, or later. Now
    // and then the burst is sent again, so that there is always work in
    // flight (a repeat changes nothing, so it opens nothing).
    moto.python(&script, &["burst-public", "-", "--send-to", queue]);
    let committed = || buckets.iter().filter(|b| opened(b) > 0).count();
    let mut kills = 0;
    let mut first_kill_left = None;
    for round in 0..KILLS {
        let before = committed();
        let mut daemon = start();
        let moment = Duration::from_millis(40 + 23 * round as u64);
        match round % 4 {
            0 => std::thread::sleep(moment),
            1 | 2 => {
                eventually_every(2, Duration::from_millis(2), || committed() > before);
                if round % 4 == 2 {
                    std::thread::sleep(moment / 4);
                }
            }
            _ => std::thread::sleep(moment * 6),
        }
        if matches!(daemon.try_wait(), Ok(None)) {
            kills += 1;
        }
        daemon.kill().expect("SIGKILL");
        daemon.wait().expect("reaped");
        first_kill_left.get_or_insert(buckets.len() - committed());
        if round % 5 == 4 {
            moto.python(&script, &["burst-public", "-", "--send-to", queue]);
        }
    }
    assert!(
        kills >= 20,
        "only {kills} daemons were killed while running"
    );
    // A receive takes ten messages at most: the first kill left some in
    // flight.
    assert!(
        first_kill_left.is_some_and(|left| left > 0),
        "all committed before the first kill"
    );
    let committed = committed();

    let mut second = start();
    assert!(
        eventually(90, || buckets
            .iter()
            .all(|b| status(&db, rule, b) == Some(FindingStatus::Open))),
        "not every bucket's finding was opened after the restarts ({committed} before the last kill)"
    );
    for bucket in &buckets {
        assert_eq!(opened(bucket), 1, "{bucket}: opened exactly once");
    }
    assert!(eventually(30, || {
        let depth = moto.python(&fixture("aws-queue-depth.py"), &[queue]);
        String::from_utf8_lossy(&depth.stdout).trim() == "0"
    }));
    second.kill().expect("stop");
    second.wait().expect("reaped");
    let integrity = SqliteStore::open(&db)
        .expect("open")
        .integrity_check()
        .expect("check");
    assert_eq!(integrity, "ok");
}

/// One POST to the daemon's endpoint: the status and the body.
pub(super) fn post(address: &str, body: &[u8], headers: &[(&str, &str)]) -> (u16, String) {
    let (status, _, body) = request(address, "POST", body, headers);
    (status, body)
}

/// One request to the daemon's `/events`: the status, the head and the
/// body of the answer.
pub(super) fn request(
    address: &str,
    method: &str,
    body: &[u8],
    headers: &[(&str, &str)],
) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    let mut request = format!(
        "{method} /events HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("request");
    stream.write_all(body).expect("body");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer}"));
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .map(|(h, b)| (h.to_owned(), b.to_owned()))
        .unwrap_or_default();
    (status, head, body)
}

#[test]
fn the_event_endpoint_answers_once_the_result_is_committed() {
    use hmac::Mac;
    let (moto, ids, dir, db) = prepared();
    let script = fixture("aws-event.py");
    let bucket = format!("arn:aws:s3:::{}", ids["bucket"]);
    let rule = "aws-s3-bucket-policy-not-public";
    let secret = "endpoint-secret-4f1c";
    std::fs::write(dir.path().join("event-secret"), format!("{secret}\n")).expect("write");
    // Every setting from the configuration file: no queue, the endpoint
    // only, its secret in a file; and an accepted risk.
    let config = dir.path().join("parapet.toml");
    std::fs::write(
        &config,
        format!(
            "[watch]\nlisten = \"127.0.0.1:0\"\nlog_format = \"json\"\nevent_secret = {{ file = \"event-secret\" }}\n\n\
             [[mutes]]\nrule_id = \"aws-s3-bucket-versioning-enabled\"\nasset = \"{bucket}\"\nreason = \"rewritten daily\"\n"
        ),
    )
    .expect("write");
    let mut watch = moto
        .parapet(&db, ("testing", "testing"), dir.path())
        .args(["--config", config.to_str().expect("utf-8")])
        .args(["watch", "--endpoint-url", &moto.endpoint])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("parapet watch starts");
    let tail = LogTail::follow(&mut watch);
    let listen = tail.listening();

    let public = moto
        .python(&script, &["bucket-public", &ids["bucket"]])
        .stdout;
    assert_eq!(post(&listen, &public, &[]).0, 401, "no proof");
    assert_eq!(
        post(&listen, &public, &[("X-Parapet-Secret", "guess")]).0,
        401
    );
    assert_eq!(
        status(&db, rule, &bucket),
        None,
        "a refused event changed nothing"
    );
    // With the secret: answered once committed, so the finding is there.
    let (code, body) = post(&listen, &public, &[("X-Parapet-Secret", secret)]);
    assert_eq!(code, 200, "{body}");
    assert_eq!(status(&db, rule, &bucket), Some(FindingStatus::Open));
    let summary: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(summary["committed"], true);
    assert!(summary["opened"].as_u64().is_some_and(|n| n >= 1), "{body}");

    // Signed with HMAC-SHA256 instead, with the time.
    let private = moto
        .python(&script, &["bucket-private", &ids["bucket"]])
        .stdout;
    let sign = |at: i64| {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
        mac.update(format!("{at}.").as_bytes());
        mac.update(&private);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    };
    let now = chrono::Utc::now().timestamp();
    let (signature, at) = (sign(now), now.to_string());
    let signed = [
        ("X-Parapet-Signature", signature.as_str()),
        ("X-Parapet-Timestamp", at.as_str()),
    ];
    assert_eq!(
        post(&listen, &public, &signed).0,
        401,
        "the signature of another body"
    );
    let (old_signature, old_at) = (sign(now - 600), (now - 600).to_string());
    let (code, body) = post(
        &listen,
        &private,
        &[
            ("X-Parapet-Signature", &old_signature),
            ("X-Parapet-Timestamp", &old_at),
        ],
    );
    assert_eq!(code, 401, "a signature ten minutes old: {body}");
    assert_eq!(post(&listen, &private, &signed).0, 200);
    assert_eq!(status(&db, rule, &bucket), Some(FindingStatus::Resolved));

    // What is not an event is refused with the reason; the daemon goes on.
    let (code, body) = post(&listen, b"{\"hello\": 1}", &[("X-Parapet-Secret", secret)]);
    assert_eq!(code, 400);
    assert!(body.contains("not a CloudTrail event"), "{body}");
    let big = vec![b' '; 300 * 1024];
    assert_eq!(post(&listen, &big, &[("X-Parapet-Secret", secret)]).0, 413);

    // The configuration's mute holds.
    let muted = SqliteStore::open(&db)
        .expect("open")
        .finding("aws-s3-bucket-versioning-enabled", &bucket)
        .expect("finding")
        .expect("the bucket fails the rule");
    assert!(muted.muted_by.is_some());

    let pid = watch.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let stopped = eventually(30, || watch.try_wait().ok().flatten().is_some());
    assert!(stopped, "SIGTERM did not stop the daemon");
    let log = tail.finish();
    assert!(!log.contains(secret), "the secret is in the log: {log}");
    let refused = log
        .lines()
        .filter(|l| l.contains("\"request refused\""))
        .count();
    assert_eq!(refused, 5, "{log}");
}

#[test]
fn watch_notifies_a_webhook_of_each_change_it_commits() {
    let (moto, ids, dir, db) = prepared();
    let script = fixture("aws-event.py");
    let queue = &ids["queue"];
    let receiver = super::receiver::Receiver::start(200);
    let Watched {
        bucket,
        group,
        snapshot,
        ..
    } = Watched::of(&ids);
    let config = dir.path().join("parapet.toml");
    std::fs::write(
        &config,
        format!(
            "[notifications]\nbase_url = \"https://parapet.example.com\"\n\
             [[notifications.channels]]\ntype = \"webhook\"\nname = \"security\"\nurl = \"{}/hook\"\n\
             [[notifications.routes]]\nchannels = [\"security\"]\nrules = [\"{PUBLIC_BUCKET}\", \"{OPEN_GROUP}\", \"{PUBLIC_SNAPSHOT}\"]\n",
            receiver.url
        ),
    )
    .expect("write");
    let _watch = Stopped(
        moto.watch(&db, dir.path(), queue)
            .args(["--config", config.to_str().expect("utf-8")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("parapet watch starts"),
    );
    let send = |action: &str, target: &str| {
        moto.python(&script, &[action, target, "--send-to", queue]);
    };
    // The webhook's messages about one finding, in order of arrival.
    let heard = |rule: &str, asset: &str| -> Vec<String> {
        receiver
            .received()
            .iter()
            .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok())
            .filter(|b| b["finding"]["rule_id"] == rule && b["asset"]["id"] == asset)
            .filter_map(|b| b["event"].as_str().map(str::to_owned))
            .collect()
    };
    for (change, revert, rule, asset, id) in [
        (
            "bucket-public",
            "bucket-private",
            PUBLIC_BUCKET,
            &bucket,
            "bucket",
        ),
        ("sg-open", "sg-close", OPEN_GROUP, &group, "group"),
        (
            "snapshot-share",
            "snapshot-unshare",
            PUBLIC_SNAPSHOT,
            &snapshot,
            "snapshot",
        ),
    ] {
        send(change, &ids[id]);
        assert!(
            eventually(60, || heard(rule, asset) == ["finding_opened"]),
            "{change}: the webhook heard {:?}",
            heard(rule, asset)
        );
        assert_eq!(status(&db, rule, asset), Some(FindingStatus::Open));
        assert!(events_of(&db, asset).contains(&EventKind::FindingOpened));
        send(revert, &ids[id]);
        assert!(
            eventually(60, || heard(rule, asset)
                == ["finding_opened", "finding_resolved"]),
            "{revert}: the webhook heard {:?}",
            heard(rule, asset)
        );
        assert_eq!(status(&db, rule, asset), Some(FindingStatus::Resolved));
        assert!(events_of(&db, asset).contains(&EventKind::FindingResolved));
    }
    // A public bucket deleted: its finding resolves with it.
    send("bucket-public", &ids["bucket"]);
    assert!(eventually(60, || heard(PUBLIC_BUCKET, &bucket).len() == 3));
    send("bucket-delete", &ids["bucket"]);
    assert!(
        eventually(60, || heard(PUBLIC_BUCKET, &bucket).len() == 4),
        "{:?}",
        heard(PUBLIC_BUCKET, &bucket)
    );
    assert_eq!(
        heard(PUBLIC_BUCKET, &bucket).last().map(String::as_str),
        Some("finding_resolved")
    );
    assert!(events_of(&db, &bucket).contains(&EventKind::AssetDeleted));

    // Every message once, each with its own key, and nothing about rules
    // the route does not name.
    let got = receiver.received();
    let keys: BTreeSet<&str> = got
        .iter()
        .filter_map(|r| r.header("Idempotency-Key"))
        .collect();
    assert_eq!(keys.len(), got.len());
    assert_eq!(got.len(), 8, "three changes and their reverts, a deletion");
    assert!(
        got.iter().all(|r| r.method == "POST" && r.path == "/hook"),
        "{got:?}"
    );
    assert!(
        got.windows(2).all(|w| w[0].at_ms <= w[1].at_ms),
        "kept in order of arrival"
    );
    let outbox = SqliteStore::open(&db)
        .expect("open")
        .notifications(None, 100)
        .expect("outbox");
    assert!(
        outbox
            .iter()
            .all(|n| n.status == parapet_store::OutboxStatus::Delivered)
    );
}

/// A daemon killed when the test ends, passed or failed.
struct Stopped(std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

#[test]
fn two_daemons_on_one_queue_over_postgresql_handle_every_event_once_in_effect() {
    let moto = Moto::start();
    let ids: BTreeMap<String, String> =
        serde_json::from_slice(&moto.python(&fixture("aws-event.py"), &["setup"]).stdout)
            .expect("ids");
    let dir = tempfile::tempdir().expect("temp dir");
    let url = parapet_testkit::postgres::database();
    let db = std::path::PathBuf::from(&url);
    let scan = moto.scan(&db, ("testing", "testing"), &["--regions", "eu-west-1"]);
    assert!(scan.status.success(), "{}", stderr(&scan));
    let store = || {
        parapet_store::PostgresStore::connect(
            &parapet_store::postgres::Target::new(&url, None).expect("URL"),
        )
        .expect("connect")
    };
    let queue = &ids["queue"];
    let started = chrono::Utc::now();
    let every = chrono::Duration::seconds(2);
    let daemons: Vec<_> = (0..2)
        .map(|_| {
            moto.watch(&db, dir.path(), queue)
                .args(["--resync", "2s"])
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("parapet watch starts")
        })
        .collect();
    let buckets: Vec<String> = (0..20)
        .map(|n| format!("arn:aws:s3:::watch-burst-{n}"))
        .collect();
    let rule = "aws-s3-bucket-policy-not-public";
    let script = fixture("aws-event.py");
    // The burst twice: the second changes nothing, whoever handles it.
    moto.python(&script, &["burst-public", "-", "--send-to", queue]);
    moto.python(&script, &["burst-public", "-", "--send-to", queue]);
    let opened =
        |bucket: &str| count_events(&store(), bucket, Some(rule), EventKind::FindingOpened);
    assert!(
        eventually(90, || buckets.iter().all(|b| opened(b) > 0)),
        "every bucket's finding opened"
    );
    assert!(eventually(30, || {
        let depth = moto.python(&fixture("aws-queue-depth.py"), &[queue]);
        String::from_utf8_lossy(&depth.stdout).trim() == "0"
    }));
    for bucket in &buckets {
        assert_eq!(opened(bucket), 1, "{bucket}: opened exactly once");
        assert_eq!(
            count_events(&store(), bucket, None, EventKind::AssetCreated),
            1,
            "{bucket}: created exactly once"
        );
    }
    // The daemons share one resync schedule: the account is collected
    // whole every 2 s by one or the other, never by both at once.
    assert!(eventually(60, || resyncs_since(&store(), started).len() >= 3));
    for mut daemon in daemons {
        daemon.kill().expect("stop");
        daemon.wait().expect("reaped");
    }
    let resyncs = resyncs_since(&store(), started);
    for pair in resyncs.windows(2) {
        assert!(
            pair[1] - pair[0] >= every - chrono::Duration::milliseconds(100),
            "resyncs closer than the interval: {resyncs:?}"
        );
    }
}

/// When the whole collections (scans of accounts, not of named assets)
/// since `since` started, in order.
fn resyncs_since(
    store: &dyn parapet_store::Store,
    since: chrono::DateTime<chrono::Utc>,
) -> Vec<chrono::DateTime<chrono::Utc>> {
    let mut started: Vec<_> = store
        .scans(1000)
        .expect("scans")
        .into_iter()
        .filter(|s| s.started_at > since && s.scope.assets.is_empty())
        .map(|s| s.started_at)
        .collect();
    started.sort();
    started
}
