use super::{fixture, parapet, stderr, stdout};
use serde_json::Value;

fn scan_json(extra: &[&str]) -> (Value, i32) {
    scan_json_of(&super::example_estate(), extra)
}

/// The JSON report of `scan file` over the estate at `path`, and the exit
/// code.
fn scan_json_of(path: &std::path::Path, extra: &[&str]) -> (Value, i32) {
    let mut args = vec![
        "scan",
        "file",
        path.to_str().expect("utf-8 path"),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let output = parapet(&args);
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    (report, output.status.code().expect("exit code"))
}

fn status_of(report: &Value, rule: &str, asset: &str) -> Option<String> {
    report["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["rule_id"] == rule && r["asset_id"] == asset)
        .map(|r| r["status"].as_str().expect("status").to_owned())
}

#[test]
fn json_report_has_counts_and_every_non_passing_result() {
    let (report, code) = scan_json(&[]);
    assert_eq!(code, 0);
    assert_eq!(report["assets"], 9);
    assert_eq!(report["summary"]["critical"]["fail"], 3);
    assert_eq!(report["summary"]["high"]["unknown"], 2);
    assert_eq!(
        status_of(
            &report,
            "aws-s3-bucket-policy-not-public",
            "arn:aws:s3:::public-website"
        )
        .as_deref(),
        Some("fail")
    );
    assert_eq!(
        status_of(
            &report,
            "aws-ec2-security-group-no-ssh-from-internet",
            "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0a1"
        )
        .as_deref(),
        Some("fail")
    );
    // Passing results are counted but not listed.
    assert_eq!(
        status_of(
            &report,
            "aws-s3-bucket-versioning-enabled",
            "arn:aws:s3:::audit-logs"
        ),
        None
    );
    assert_eq!(report["summary"]["medium"]["pass"], 11);
}

#[test]
fn a_denied_call_makes_the_result_unknown_not_pass() {
    let (report, _) = scan_json(&[]);
    assert_eq!(
        status_of(
            &report,
            "aws-s3-bucket-policy-not-public",
            "arn:aws:s3:::locked"
        )
        .as_deref(),
        Some("unknown")
    );
    let result = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| {
            r["rule_id"] == "aws-s3-bucket-public-access-blocked"
                && r["asset_id"] == "arn:aws:s3:::locked"
        })
        .expect("listed");
    assert!(
        result["message"]
            .as_str()
            .expect("message")
            .contains("AccessDenied")
    );
}

#[test]
fn failures_carry_evidence() {
    let (report, _) = scan_json(&[]);
    let result = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["rule_id"] == "aws-ec2-volume-encrypted")
        .expect("volume fails");
    assert_eq!(result["evidence"]["config.Encrypted"], false);
    assert_eq!(result["severity"], "medium");
}

#[test]
fn fail_on_sets_the_exit_code_by_severity() {
    assert_eq!(scan_json(&["--fail-on", "critical"]).1, 1);
    assert_eq!(scan_json(&["--fail-on", "low"]).1, 1);
    let clean = super::example_estate();
    let output = parapet(&[
        "--no-builtin-rules",
        "--rules",
        super::rule_fixtures("custom").to_str().expect("utf-8"),
        "scan",
        "file",
        clean.to_str().expect("utf-8"),
        "--fail-on",
        "medium",
    ]);
    // The only rule is a low-severity tag rule: failing it does not meet "medium".
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("custom-owner-tag"));
}

#[test]
fn table_output_has_the_summary_then_the_failures_without_colour_when_piped() {
    let path = super::example_estate();
    let output = parapet(&["scan", "file", path.to_str().expect("utf-8")]);
    let text = stdout(&output);
    let listed = parapet(&["rules", "list", "--format", "json"]);
    let rules: Vec<serde_json::Value> = serde_json::from_slice(&listed.stdout).expect("rules");
    assert!(
        text.starts_with(&format!("9 assets, {} rules, 113 evaluations", rules.len())),
        "{text}"
    );
    let summary = text.find("│ critical").expect("summary row");
    let failure = text
        .find("aws-ec2-snapshot-not-public")
        .expect("failure row");
    assert!(summary < failure);
    assert!(!text.contains('\u{1b}'), "colour codes in piped output");
    assert!(text.contains("21 results could not be decided"), "{text}");
}

#[test]
fn bad_lines_are_reported_by_number_and_the_rest_is_scanned() {
    let path = fixture("estate-with-bad-lines.jsonl");
    let output = parapet(&[
        "scan",
        "file",
        path.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let errors = stderr(&output);
    assert!(
        errors.contains("estate-with-bad-lines.jsonl:2:"),
        "{errors}"
    );
    assert!(
        errors.contains("estate-with-bad-lines.jsonl:4: asset `arn:aws:s3:::badtype`"),
        "{errors}"
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    assert_eq!(report["assets"], 3);
    assert_eq!(report["input_errors"].as_array().expect("errors").len(), 2);
}

#[test]
fn standard_input_gives_the_files_report_and_each_account_is_a_scan_of_its_own() {
    // The example estate, and its assets again in a second account, the
    // two accounts' lines interleaved.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("two-accounts.jsonl");
    let example = std::fs::read_to_string(super::example_estate()).expect("the example");
    let mut lines = String::new();
    for line in example.lines().filter(|l| !l.trim().is_empty()) {
        let mut asset: Value = serde_json::from_str(line).expect("an asset");
        lines.push_str(line);
        lines.push('\n');
        asset["id"] = format!("{}#other", asset["id"].as_str().expect("id")).into();
        asset["account"] = "210987654321".into();
        lines.push_str(&asset.to_string());
        lines.push('\n');
    }
    std::fs::write(&path, lines).expect("write");
    let (from_file, code) = scan_json_of(&path, &[]);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_parapet"))
        .args(["scan", "file", "-", "--format", "json"])
        .env_remove("PARAPET_RULES")
        .env("PARAPET_DB", dir.path().join("parapet.db"))
        .stdin(std::fs::File::open(&path).expect("the estate"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("parapet runs");
    let mut text = Vec::new();
    std::io::Read::read_to_end(child.stdout.as_mut().expect("stdout"), &mut text)
        .expect("the report");
    assert_eq!(child.wait().expect("exit").code(), Some(code));
    let from_stdin: Value = serde_json::from_slice(&text).expect("JSON report");
    assert_eq!(from_stdin["summary"], from_file["summary"]);
    assert_eq!(from_stdin["results"], from_file["results"]);
    let accounts = |report: &Value| -> Vec<Value> {
        let recorded = report["recorded"].as_array().expect("recorded scans");
        recorded
            .iter()
            .map(|scan| scan["scope"]["accounts"].clone())
            .collect()
    };
    let text = std::fs::read_to_string(&path).expect("the estate");
    let expected: std::collections::BTreeSet<String> = text
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|asset| asset["account"].as_str().map(str::to_owned))
        .collect();
    let expected: Vec<Value> = expected.iter().map(|a| serde_json::json!([a])).collect();
    assert_eq!(accounts(&from_file), expected, "one scan per account");
    assert_eq!(accounts(&from_stdin), expected);
}

#[test]
fn a_missing_assets_file_is_a_clear_error() {
    let output = parapet(&["scan", "file", "/nonexistent/estate.jsonl"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("cannot open the assets file /nonexistent/estate.jsonl"));
}

#[test]
fn the_commented_toml_example_sets_the_tag_policy_and_a_broken_file_is_named() {
    let config =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/parapet.toml");
    let estate = super::example_estate();
    let output = parapet(&[
        "--config",
        config.to_str().expect("utf-8"),
        "scan",
        "file",
        estate.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    let tag_results: Vec<&Value> = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["rule_id"] == "aws-resource-required-tags")
        .collect();
    assert!(!tag_results.is_empty(), "the example's tag policy applies");
    assert!(tag_results.iter().all(|r| r["status"] == "fail"));

    let dir = tempfile::tempdir().expect("temp dir");
    let broken = dir.path().join("parapet.toml");
    std::fs::write(&broken, "[tags]\nrequired = \"owner\"\n").expect("write");
    let output = parapet(&[
        "--config",
        broken.to_str().expect("utf-8"),
        "scan",
        "file",
        estate.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let errors = stderr(&output);
    assert!(
        errors.contains("parapet.toml") && errors.contains("not valid"),
        "{errors}"
    );
}
