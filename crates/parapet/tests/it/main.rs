//! Integration tests of the `parapet` binary: run as a user would, on
//! fixture files.

/// The shape of the workspace: a thin binary, short files and functions.
mod architecture;
/// Scans killed with SIGKILL at many points leave a consistent database.
mod atomicity;
/// `parapet scan aws` against moto's server.
mod aws;
/// `parapet scan azure` against the fake of Azure Resource Manager.
mod azure;
/// A Storage queue on Azurite as Event Grid writes to it (shared with parapet-azure's tests).
#[path = "../../../parapet-azure/tests/it/queue_client.rs"]
mod azure_queue;
/// `parapet watch --cloud azure`: Event Grid's events through Azurite and `/events`.
mod azure_watch;
/// The commands that read and act on what scans recorded.
mod commands;
/// The posture checks of the clouds tested against a fake.
mod estates;
/// CloudTrail events refreshing what they changed.
mod events;
/// Faults between Parapet and AWS, injected by a proxy in front of moto.
mod faults;
/// `parapet scan gcp` against the fake of Cloud Asset Inventory.
mod gcp;
/// `parapet watch --cloud gcp`: a Cloud Asset Inventory feed through Pub/Sub.
mod gcp_watch;
/// Effective permissions of IAM principals seeded in moto.
mod identity;
/// moto's server for the AWS tests.
mod moto;
/// Notifications: the outbox delivered through outages and kills.
mod notify;
/// The built-in rule pack against compliant and non-compliant accounts.
mod posture;
/// A webhook receiver on 127.0.0.1 (shared with parapet-notify's tests).
#[path = "../../../parapet-notify/tests/it/receiver.rs"]
mod receiver;
/// `--output` files and `parapet report ...`.
mod report;
/// `parapet rules ...`.
mod rules;
/// `parapet scan file`.
mod scan;
/// `parapet tokens` and `parapet serve`.
mod serve;
/// The database: scans recorded, history, findings, events, mutes.
mod store;
/// The images `scripts/test-images` builds (shared with parapet-vuln's tests).
#[path = "../../../parapet-vuln/tests/it/test_images.rs"]
mod test_images;
/// Internet exposure over topologies seeded in moto.
mod topology;
/// `parapet vuln`: images scanned, SBOMs, output formats.
mod vuln;
/// `parapet worker`: an organisation collected by several workers over
/// PostgreSQL.
mod workers;

use std::path::PathBuf;
use std::process::{Command, Output};

/// The folder of fixtures.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The example estate of the README.
pub fn example_estate() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/estate.jsonl")
}

/// The rule fixtures of parapet-rules.
pub fn rule_fixtures(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../parapet-rules/tests/fixtures")
        .join(name)
}

/// Runs `parapet` with `args` on a database of its own, without the
/// caller's colour and rule settings.
pub fn parapet(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    parapet_with_db(&dir.path().join("parapet.db"), args)
}

/// Runs `parapet` with `args` on the database `db`.
pub fn parapet_with_db(db: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parapet"))
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("PARAPET_RULES")
        .env("PARAPET_DB", db)
        .output()
        .expect("parapet runs")
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
