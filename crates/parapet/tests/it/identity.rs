//! Effective permissions against moto (`fixtures/aws-identity.py`):
//! administrator rights granted by every route and each published privilege
//! escalation path, next to near misses, a boundary that takes the rights
//! away and a principal the configuration names; exactly the principals the
//! fixture expects fail each identity rule, with a message that says how.

use super::moto::Moto;
use super::{fixture, stderr, stdout};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const CONFIG: &str = "identity:\n  administrators: [\"arn:aws:iam::*:role/BreakGlass\"]\n";

#[test]
fn exactly_the_principals_that_hold_administrator_or_escalation_rights_fail() {
    let moto = Moto::start_with(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]);
    let seeded = moto.python(&fixture("aws-identity.py"), &[]);
    let expected: BTreeMap<String, Vec<String>> =
        serde_json::from_slice(&seeded.stdout).expect("the expectations as JSON");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("parapet.yaml");
    std::fs::write(&config, CONFIG).expect("write config");
    let output = moto.scan(
        &dir.path().join("parapet.db"),
        ("testing", "testing"),
        &[
            "--regions",
            "eu-west-1",
            "--format",
            "jsonl",
            "--config",
            config.to_str().expect("utf-8"),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let results: Vec<Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let named = |rule: &str, status: &str| -> BTreeSet<String> {
        results
            .iter()
            .filter(|r| r["rule_id"] == rule && r["status"] == status)
            .map(|r| r["asset_name"].as_str().expect("name").to_owned())
            .collect()
    };
    for (rule, principals) in expected.iter().filter(|(k, _)| k.starts_with("aws-")) {
        let failing = named(rule, "fail");
        let wanted: BTreeSet<String> = principals.iter().cloned().collect();
        assert_eq!(failing, wanted, "{rule}");
        assert!(
            named(rule, "unknown").is_empty(),
            "{rule}: {:?}",
            named(rule, "unknown")
        );
        assert!(!named(rule, "pass").is_empty(), "{rule} passes someone");
        for excluded in &expected["excluded"] {
            assert!(
                !results
                    .iter()
                    .any(|r| r["rule_id"] == *rule && r["asset_name"] == *excluded),
                "{rule} left {excluded} out"
            );
        }
    }
    let message = |rule: &str, name: &str| {
        results
            .iter()
            .find(|r| r["rule_id"] == rule && r["asset_name"] == name)
            .and_then(|r| r["message"].as_str())
            .unwrap_or_else(|| panic!("no result of {rule} for {name}"))
            .to_owned()
    };
    assert_eq!(
        message("aws-iam-principal-no-full-administrator", "admin-member"),
        "User `admin-member` can do everything via managed policy `AdministratorAccess` through group `admins`"
    );
    assert_eq!(
        message(
            "aws-iam-principal-no-full-administrator",
            "admin-customer-managed"
        ),
        "User `admin-customer-managed` can do everything via managed policy `FullAccess`"
    );
    assert_eq!(
        message("aws-iam-principal-no-privilege-escalation", "escalates-14"),
        "User `escalates-14` can escalate its privileges with iam:PassRole and lambda:CreateFunction and lambda:InvokeFunction"
    );
    assert_eq!(
        message(
            "aws-iam-principal-no-full-administrator",
            "admin-not-really"
        ),
        "Role `admin-not-really` cannot do everything"
    );
}
