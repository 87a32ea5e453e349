use super::{parapet, rule_fixtures, stderr, stdout};
use serde_json::Value;

#[test]
fn rules_test_runs_every_shipped_example() {
    let output = parapet(&["rules", "test"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let text = stdout(&output);
    assert!(
        text.lines().any(|l| l.ends_with(" passed, 0 failed")),
        "{text}"
    );
}

#[test]
fn rules_test_fails_when_an_example_is_wrong() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("wrong.yaml"),
        "id: custom-wrong\ntitle: Wrong\ndescription: d\nseverity: low\nresource_types: [AWS::S3::Bucket]\n\
         compliant: config.Versioning.Status == 'Enabled'\nremediation: {text: t}\n\
         examples:\n  compliant: [{description: mislabelled, config: {Versioning: {Status: Suspended}}}]\n  \
         non_compliant: [{description: b, config: {Versioning: {Status: Suspended}}}]\n",
    )
    .expect("write rule");
    let output = parapet(&[
        "--no-builtin-rules",
        "--rules",
        dir.path().to_str().expect("utf-8"),
        "rules",
        "test",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("mislabelled"), "{text}");
    assert!(text.contains("1 passed, 1 failed"), "{text}");
}

#[test]
fn rules_list_json_names_every_rule_once() {
    let output = parapet(&["rules", "list", "--format", "json"]);
    let rules: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let ids: Vec<&str> = rules
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    assert!(ids.len() >= 10);
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len());
    let filtered = parapet(&[
        "rules",
        "list",
        "--format",
        "json",
        "--resource-type",
        "AWS::IAM::User",
    ]);
    let filtered: Value = serde_json::from_slice(&filtered.stdout).expect("JSON");
    assert!(filtered.as_array().expect("array").iter().all(|r| {
        r["resource_types"]
            .as_array()
            .is_some_and(|types| types.iter().any(|t| t == "AWS::IAM::User"))
    }));
    let tagged = parapet(&["rules", "list", "--format", "json", "--tag", "secrets"]);
    let tagged: Value = serde_json::from_slice(&tagged.stdout).expect("JSON");
    let ids: Vec<&str> = tagged
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"aws-secretsmanager-secret-rotation-enabled"),
        "{ids:?}"
    );
    assert!(
        !ids.contains(&"aws-s3-bucket-versioning-enabled"),
        "{ids:?}"
    );
    assert!(tagged.as_array().expect("array").iter().all(|r| {
        r["tags"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == "secrets"))
    }));
}

#[test]
fn rules_show_prints_the_condition_and_examples() {
    let output = parapet(&[
        "rules",
        "show",
        "aws-s3-bucket-policy-not-public",
        "--format",
        "json",
    ]);
    let rule: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        rule["detail"]["compliant"],
        "publicStatements(config.Policy) == []"
    );
    assert!(
        !rule["detail"]["examples"]["non_compliant"]
            .as_array()
            .expect("examples")
            .is_empty()
    );
    let missing = parapet(&["rules", "show", "no-such-rule"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn rules_lint_reports_broken_files_with_positions() {
    let broken = rule_fixtures("broken");
    let output = parapet(&["--rules", broken.to_str().expect("utf-8"), "rules", "lint"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains("syntax.yaml:8:17: field `compliant`: syntax error"),
        "{text}"
    );
    assert!(
        text.contains("unknown-field.yaml:7:1: unknown field `remediaton`"),
        "{text}"
    );
    let clean = parapet(&["rules", "lint", "--deny-warnings"]);
    assert_eq!(clean.status.code(), Some(0), "{}", stdout(&clean));
}

/// Runs `parapet ARGS` under `script`, which gives it a terminal, with or
/// without NO_COLOR.
fn on_a_terminal(args: &str, no_color: Option<&str>) -> String {
    let mut command = std::process::Command::new("script");
    command
        .args([
            "-qec",
            &format!("{} {args}", env!("CARGO_BIN_EXE_parapet")),
            "/dev/null",
        ])
        .env_remove("NO_COLOR")
        .env_remove("PARAPET_RULES")
        .env("PARAPET_DB", "/nonexistent/never-opened.db");
    if let Some(value) = no_color {
        command.env("NO_COLOR", value);
    }
    let output = command.output().expect("script (util-linux) runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let coloured = on_a_terminal("rules list", None);
    assert!(
        coloured.contains("aws-s3-bucket-policy-not-public"),
        "{coloured}"
    );
    assert!(
        coloured.contains('\u{1b}'),
        "no colour on a terminal: {coloured}"
    );
    let plain = on_a_terminal("rules list", Some("1"));
    assert!(plain.contains("aws-s3-bucket-policy-not-public"), "{plain}");
    assert!(
        !plain.contains("\u{1b}["),
        "colour despite NO_COLOR: {plain}"
    );
    let flagged = on_a_terminal("--no-color rules list", None);
    assert!(
        !flagged.contains("\u{1b}["),
        "colour despite --no-color: {flagged}"
    );
}

#[test]
fn resources_lists_every_collected_type_and_shows_its_page() {
    let output = parapet(&["resources", "list", "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let listed = listed.as_array().expect("a list");
    assert_eq!(
        listed.len(),
        parapet_aws::catalog().len()
            + parapet_azure::types::catalog().len()
            + parapet_gcp::types::catalog().len()
    );
    assert!(listed.len() >= 40);
    let account = listed
        .iter()
        .find(|t| t["resource_type"] == "Microsoft.Storage/storageAccounts")
        .expect("Azure's storage accounts listed");
    assert_eq!(account["service"], "Microsoft.Storage");
    assert!(
        account["fields"]
            .as_array()
            .expect("fields")
            .contains(&serde_json::json!("containers"))
    );
    let bucket = listed
        .iter()
        .find(|t| t["resource_type"] == "AWS::S3::Bucket")
        .expect("buckets listed");
    assert_eq!(bucket["service"], "s3");
    assert!(
        bucket["fields"]
            .as_array()
            .expect("fields")
            .contains(&serde_json::json!("PublicAccessBlock"))
    );

    let output = parapet(&["resources", "show", "aws::s3::bucket"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let page = stdout(&output);
    assert!(page.starts_with("# AWS::S3::Bucket"), "{page}");
    assert!(page.contains("GetBucketPolicy"), "{page}");
    assert!(
        page.contains("- s3.amazonaws.com PutBucketPolicy (change)"),
        "the events that change it: {page}"
    );

    let output = parapet(&["resources", "show", "AWS::S3::Nothing"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("parapet resources list"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_reader_that_goes_away_is_not_an_error() {
    // `parapet rules list | head -1`: the pipe closes before parapet writes.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_parapet"))
        .args(["rules", "list"])
        .env_remove("PARAPET_RULES")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("parapet runs");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("parapet ends");
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{message}");
    assert!(!message.contains("panicked"), "{message}");
}

/// The controls of CIS AWS Foundations 7.0 that no rule informs: 2.1.3
/// (the management account runs no workloads) needs a person's judgement
/// of what a workload is. The list shrinks, never grows.
const CIS_WITHOUT_RULE: &[&str] = &["2.1.3"];

#[test]
fn the_built_in_rules_inform_every_cis_control_data_can_check() {
    let output = parapet(&["report", "frameworks", "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let frameworks: Vec<Value> = serde_json::from_slice(&output.stdout).expect("JSON");
    let cis = frameworks
        .iter()
        .find(|f| f["id"] == "cis-aws-foundations-7.0")
        .expect("CIS 7.0");
    let list = |key: &str| -> Vec<&str> {
        cis[key]
            .as_array()
            .expect("list")
            .iter()
            .map(|c| c.as_str().expect("id"))
            .collect()
    };
    let without_rule: Vec<&str> = [list("manual"), list("not_covered")].concat();
    let mut expected = CIS_WITHOUT_RULE.to_vec();
    let mut found = without_rule.clone();
    expected.sort_unstable();
    found.sort_unstable();
    assert_eq!(found, expected, "controls no rule informs");
    assert!(list("covered").len() + list("evidence").len() >= 66);
    assert_eq!(cis["controls"], 70);
}
