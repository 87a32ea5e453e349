//! `--output` files in every format, and `parapet report` over the database.

use crate::{example_estate, parapet_with_db, stderr, stdout};
use serde_json::Value;

#[test]
fn outputs_in_every_format_and_compliance_from_the_database() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let db = dir.path().join("parapet.db");
    let path = |name: &str| dir.path().join(name).to_str().expect("UTF-8").to_owned();
    let estate = example_estate();
    let output = parapet_with_db(
        &db,
        &[
            "scan",
            "file",
            estate.to_str().expect("UTF-8"),
            "--format",
            "jsonl",
            "--output",
            &path("r.sarif"),
            "--output",
            &format!("junit={}", path("r.txt")),
            "--output",
            &path("r.html"),
            "--output",
            &path("r.ocsf.jsonl"),
            "--output",
            &path("r.csv"),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let lines: Vec<Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON Lines on standard output"))
        .collect();
    assert_eq!(lines.len(), 113, "every evaluation of the example estate");
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(path("r.sarif")).expect("sarif"))
            .expect("JSON");
    let failing = lines.iter().filter(|l| l["status"] != "pass").count();
    assert_eq!(
        sarif["runs"][0]["results"].as_array().map(Vec::len),
        Some(failing)
    );
    let junit = std::fs::read_to_string(path("r.txt")).expect("junit");
    assert!(
        junit.contains("<testsuites name=\"parapet\" tests=\"113\""),
        "{junit}"
    );
    let ocsf = std::fs::read_to_string(path("r.ocsf.jsonl")).expect("ocsf");
    assert_eq!(ocsf.lines().count(), 113);
    let csv = std::fs::read_to_string(path("r.csv")).expect("csv");
    assert!(csv.starts_with("severity,status,rule_id,"));
    assert_eq!(
        csv.matches(",123456789012,").count(),
        113,
        "one row per result"
    );
    let html = std::fs::read_to_string(path("r.html")).expect("html");
    assert!(html.contains("id=\"report-data\""));

    // Compliance from the recorded results.
    let output = parapet_with_db(
        &db,
        &[
            "report",
            "compliance",
            "--framework",
            "cis-aws-foundations-7.0",
            "--format",
            "json",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let account = &report["accounts"][0];
    assert_eq!(account["account"], "123456789012");
    let status = |id: &str| {
        account["controls"]
            .as_array()
            .expect("controls")
            .iter()
            .find(|c| c["control"]["id"] == id)
            .map(|c| c["status"].as_str().expect("status").to_owned())
    };
    // A user without MFA in the estate fails 2.10; contact details are manual.
    assert_eq!(status("2.10").as_deref(), Some("fail"));
    assert_eq!(status("2.2").as_deref(), Some("manual"));
    let percent = account["passing_percent"].as_f64().expect("percent");
    assert!(percent > 0.0 && percent < 100.0, "{percent}");

    // An unknown framework is refused with the ones there are.
    let output = parapet_with_db(&db, &["report", "compliance", "--framework", "cis-9"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cis-aws-foundations-7.0"),
        "{}",
        stderr(&output)
    );
}
