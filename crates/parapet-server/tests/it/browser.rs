//! The web UI end to end: Debian's headless Chromium, driven by Selenium
//! (`tests/browser/drive_ui.py`, in the venv `scripts/moto-venv` makes;
//! Chromium from `scripts/chromium`), logs in, filters the inventory, opens
//! a bucket's diff, mutes a finding, opens compliance and the topology with
//! an exposure path, and sees the timeline update live. Screenshots go to
//! `target/ui-screenshots` (or `PARAPET_SCREENSHOT_DIR`).

use super::Server;
use parapet_server::Access;
use parapet_store::roles::*;
use parapet_store::{FindingQuery, TokenScope};
use std::path::PathBuf;

const WEB: &str = "arn:aws:ec2:eu-west-1:111111111111:instance/i-web";

#[test]
fn a_person_uses_the_web_ui_in_chromium() {
    for program in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        assert!(
            std::path::Path::new(program).exists(),
            "{program} is missing: run scripts/chromium (bash .ci/test does)"
        );
    }
    let server = Server::start(Access::Authenticated);
    let token = server.token(TokenScope::ReadWrite);
    let shots = std::env::var_os("PARAPET_SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/ui-screenshots")
        });
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser/drive_ui.py");
    let output = std::process::Command::new(parapet_testkit::tool("python"))
        .arg(&script)
        .args([&server.base, &token])
        .arg(&shots)
        .env("PYTHONPATH", parapet_testkit::python_modules())
        .output()
        .expect("run the browser");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert!(
        seen["bad_login"]
            .as_str()
            .is_some_and(|t| t.contains("not valid")),
        "{seen}"
    );
    assert_eq!(seen["who"], "tester (read-write)");
    assert_eq!(seen["overview"]["assets"], "16");
    assert_eq!(seen["overview"]["events"], 15);
    assert!(
        seen["overview"]["score"]
            .as_str()
            .is_some_and(|s| s.ends_with('%'))
    );
    assert_eq!(seen["inventory_before"], 16);
    assert_eq!(seen["inventory_total"], "3 assets match");
    assert_eq!(
        seen["inventory"],
        serde_json::json!(["audit-trail", "prod-data", "prod-logs"])
    );
    assert_eq!(seen["asset_title"], "prod-logs");
    assert_eq!(seen["history"], 2);
    assert_eq!(
        seen["diff"],
        serde_json::json!([[
            "config.Versioning.Status",
            "changed",
            "\"Suspended\"",
            "\"Enabled\""
        ]])
    );
    assert_eq!(
        seen["findings_before"],
        serde_json::json!(["arn:aws:s3:::audit-trail", "arn:aws:s3:::dev-scratch"])
    );
    assert_eq!(
        seen["findings_after"],
        serde_json::json!(["arn:aws:s3:::audit-trail"])
    );
    // The mute is in the store, by the token's name.
    let store = server.store();
    let muted = store
        .finding(
            "aws-s3-bucket-versioning-enabled",
            "arn:aws:s3:::dev-scratch",
        )
        .expect("query")
        .expect("finding");
    let mute = store.mutes(false).expect("mutes");
    assert!(muted.muted_by.is_some());
    assert!(
        mute.iter()
            .any(|m| m.reason == "scratch bucket, no data kept" && m.author == "tester")
    );
    assert!(
        seen["frameworks"].as_array().is_some_and(|f| f.len() >= 2),
        "{seen}"
    );
    // Muting hides a finding; its control still fails in both accounts.
    assert_eq!(seen["s3_14"], serde_json::json!(["fail", "fail"]));
    let exposed = seen["exposed_nodes"].as_array().expect("exposed");
    assert!(exposed.contains(&serde_json::json!(WEB)), "{exposed:?}");
    assert!(!exposed.contains(&serde_json::json!(
        "arn:aws:ec2:eu-west-1:111111111111:instance/i-db"
    )));
    assert!(
        seen["node_info"]
            .as_str()
            .is_some_and(|t| t.contains("Draw its exposure path")),
        "{seen}"
    );
    let path: Vec<&str> = seen["path_nodes"]
        .as_array()
        .expect("path")
        .iter()
        .filter_map(|n| n.as_str())
        .collect();
    assert!(
        path.contains(&"internet") && path.contains(&WEB),
        "{path:?}"
    );
    assert!(seen["path_edges"].as_u64().unwrap_or(0) >= 2, "{seen}");
    assert!(
        seen["path_text"].as_str().is_some_and(|t| t.contains("→")),
        "{seen}"
    );
    assert!(
        seen["live"]["fresh"]
            .as_array()
            .is_some_and(|f| f.iter().all(|k| k == "finding_muted") && !f.is_empty()),
        "{seen}"
    );
    let errors: Vec<&serde_json::Value> = seen["console"]
        .as_array()
        .expect("console")
        .iter()
        .filter(|m| !m.as_str().unwrap_or("").contains("401"))
        .collect();
    assert!(errors.is_empty(), "the console: {errors:?}");
    for page in [
        "login",
        "overview",
        "inventory",
        "asset-diff",
        "findings",
        "compliance",
        "compliance-framework",
        "topology",
        "timeline",
    ] {
        assert!(shots.join(format!("{page}.png")).exists(), "{page}.png");
    }
    // Nothing else was asked of the store meanwhile.
    assert!(store.findings(&FindingQuery::default()).is_ok());
}
