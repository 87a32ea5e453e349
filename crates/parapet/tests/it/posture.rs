//! The built-in rule pack against moto: an account seeded to comply with
//! every rule (`fixtures/aws-posture.py --posture compliant`) produces no
//! failure, and one seeded to break them fails every rule that moto lets
//! fail. Each exception names what moto cannot do.

use super::moto::Moto;
use super::{fixture, parapet, stderr, stdout};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Rules that fail even on the compliant account, and why.
const CANNOT_PASS: &[(&str, &str)] = &[
    (
        "aws-iam-root-mfa-enabled",
        "moto's account summary has no MFA for the root user, and none can be assigned",
    ),
    (
        "aws-iam-root-hardware-mfa",
        "moto's account summary has no MFA for the root user, and none can be assigned",
    ),
    (
        "aws-s3-bucket-mfa-delete",
        "moto does not implement MFA Delete on bucket versioning",
    ),
];

/// Rules whose result on the compliant account is unknown: moto does not
/// implement the call their data comes from.
const MOTO_LACKS: &[(&str, &str)] = &[
    (
        "aws-organizations-policy-management-delegated",
        "moto does not implement organizations:DescribeResourcePolicy",
    ),
    (
        "aws-organizations-root-access-centralised",
        "moto does not implement iam:ListOrganizationsFeatures",
    ),
];

/// Rules with no result on the compliant account (nothing they apply to
/// exists there), and why.
const NOT_ON_COMPLIANT: &[(&str, &str)] = &[
    (
        VULNERABLE,
        "no instance of the compliant account is reachable from the internet",
    ),
    (
        "aws-iam-root-account-mfa-active",
        "moto's credential report has no root row",
    ),
    (
        "aws-iam-root-not-used-recently",
        "moto's credential report has no root row",
    ),
    (
        "aws-ec2-image-not-public",
        "moto's images always have unencrypted snapshots",
    ),
    (
        "aws-ec2-image-snapshots-encrypted",
        "moto's images always have unencrypted snapshots",
    ),
    (
        "aws-eks-cluster-public-endpoint-restricted",
        "the compliant cluster's endpoint is private",
    ),
    (
        "aws-iam-server-certificate-not-expired",
        "moto's server certificates all expire in 2012, so the compliant account stores none",
    ),
];

/// Rules that do not fail on the non-compliant account, and why.
const CANNOT_FAIL: &[(&str, &str)] = &[
    (
        "aws-iam-root-account-mfa-active",
        "moto's credential report has no root row",
    ),
    (
        "aws-iam-root-not-used-recently",
        "moto's credential report has no root row",
    ),
    (
        "aws-iam-root-no-access-keys",
        "moto's root user has no access keys, and none can be made",
    ),
    (
        "aws-iam-user-access-keys-rotated",
        "moto dates access keys at their creation; they cannot be backdated",
    ),
    (
        "aws-iam-user-unused-credentials",
        "moto dates access keys and passwords at their creation",
    ),
    (
        "aws-iam-user-credentials-unused-90-days",
        "moto dates access keys and passwords at their creation",
    ),
    (
        "aws-secretsmanager-secret-rotated-within-90-days",
        "moto dates secrets at their creation",
    ),
    (
        "aws-secretsmanager-secret-recently-used",
        "moto dates secrets at their creation",
    ),
];

/// The tag policy of both scans: `owner` on every type the seed tags.
const TAG_POLICY: &str = "tags:
  by_type:
    AWS::S3::Bucket: [owner]
    AWS::KMS::Key: [owner]
    AWS::EC2::VPC: [owner]
    AWS::EC2::Instance: [owner]
    AWS::IAM::User: [owner]
    AWS::Logs::LogGroup: [owner]
    AWS::CloudTrail::Trail: [owner]
    AWS::GuardDuty::Detector: [owner]
    AWS::RDS::DBInstance: [owner]
    AWS::RDS::DBCluster: [owner]
    AWS::DynamoDB::Table: [owner]
    AWS::SQS::Queue: [owner]
    AWS::SNS::Topic: [owner]
    AWS::ECR::Repository: [owner]
    AWS::SecretsManager::Secret: [owner]
    AWS::Lambda::Function: [owner]
    AWS::CertificateManager::Certificate: [owner]
    AWS::ElasticLoadBalancingV2::LoadBalancer: [owner]
    AWS::OpenSearchService::Domain: [owner]
    AWS::EKS::Cluster: [owner]
";

/// The rule that needs a vulnerability scan attached to the instances.
const VULNERABLE: &str = "aws-ec2-instance-exposed-no-critical-vulnerability-with-fix";

/// Seeds a fresh moto with `posture` and returns every result of a scan of
/// `regions`, by status and rule. Instances whose vulnerabilities are
/// unknown get a scan attached (a package with a critical, fixable
/// advisory) and the account is scanned again.
fn scan(posture: &str, regions: &str) -> Vec<Value> {
    let moto = Moto::start_with(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]);
    moto.python(&fixture("aws-posture.py"), &["--posture", posture]);
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("parapet.yaml");
    std::fs::write(&config, TAG_POLICY).expect("write config");
    let db = dir.path().join("parapet.db");
    let run = || {
        let output = moto.scan(
            &db,
            ("testing", "testing"),
            &[
                "--regions",
                regions,
                "--format",
                "jsonl",
                "--config",
                config.to_str().expect("utf-8"),
            ],
        );
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output)
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect::<Vec<Value>>()
    };
    let results = run();
    let unscanned: BTreeSet<&str> = results
        .iter()
        .filter(|r| r["rule_id"] == VULNERABLE && r["status"] == "unknown")
        .filter_map(|r| r["asset_id"].as_str())
        .collect();
    if unscanned.is_empty() {
        return results;
    }
    let advisories = dir.path().join("advisories");
    std::fs::create_dir(&advisories).expect("mkdir");
    std::fs::write(
        advisories.join("PARAPET-TEST-1.json"),
        r#"{"id": "PARAPET-TEST-1", "modified": "2026-01-01T00:00:00Z",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected": [{"package": {"ecosystem": "PyPI", "name": "jinja2"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.10.1"}]}]}]}"#,
    )
    .expect("write");
    let sbom = dir.path().join("app.cdx.json");
    std::fs::write(
        &sbom,
        r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
            {"type": "library", "name": "jinja2", "version": "2.10", "purl": "pkg:pypi/jinja2@2.10"}]}"#,
    )
    .expect("write");
    let vuln = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_parapet"))
            .args(args)
            .env("PARAPET_DB", &db)
            .env("PARAPET_VULN_DB", dir.path().join("advisories.db"))
            .output()
            .expect("parapet runs");
        assert!(output.status.success(), "{}", stderr(&output));
    };
    vuln(&["vuln", "db", "import", advisories.to_str().expect("utf-8")]);
    for instance in unscanned {
        vuln(&[
            "vuln",
            "scan",
            sbom.to_str().expect("utf-8"),
            "--asset",
            instance,
        ]);
    }
    run()
}

/// The ids of the built-in AWS rules (Azure's posture is tested against
/// its own fake, in `azure.rs`).
fn builtin_rules() -> BTreeSet<String> {
    let output = parapet(&["rules", "list", "--format", "json"]);
    let rules: Vec<Value> = serde_json::from_slice(&output.stdout).expect("rules as JSON");
    rules
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .filter(|id| id.starts_with("aws-"))
        .collect()
}

fn ids(list: &[(&str, &str)]) -> BTreeSet<String> {
    list.iter().map(|(id, _)| (*id).to_owned()).collect()
}

/// Rule id to the statuses of its results.
fn statuses(results: &[Value]) -> BTreeMap<String, BTreeSet<String>> {
    let mut by_rule: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in results {
        by_rule
            .entry(r["rule_id"].as_str().expect("rule").to_owned())
            .or_default()
            .insert(r["status"].as_str().expect("status").to_owned());
    }
    by_rule
}

#[test]
fn a_compliant_account_fails_no_rule() {
    let results = scan("compliant", "eu-west-1");
    let cannot_pass = ids(CANNOT_PASS);
    let lacks = ids(MOTO_LACKS);
    let wrong: Vec<String> = results
        .iter()
        .filter(|r| r["status"] != "pass")
        .filter(|r| {
            let rule = r["rule_id"].as_str().unwrap_or("");
            let excused = (r["status"] == "fail" && cannot_pass.contains(rule))
                || (r["status"] == "unknown" && lacks.contains(rule));
            !excused
        })
        .map(|r| {
            format!(
                "{} {} {}: {}",
                r["status"], r["rule_id"], r["asset_id"], r["message"]
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "false positives or undecided results:\n{}",
        wrong.join("\n")
    );

    let by_rule = statuses(&results);
    // The exceptions still hold: each excused rule does fail here.
    for id in &cannot_pass {
        assert!(
            by_rule.get(id).is_some_and(|s| s.contains("fail")),
            "{id} no longer fails on moto: remove it from CANNOT_PASS"
        );
    }
    for id in &lacks {
        assert!(
            by_rule.get(id).is_some_and(|s| s.contains("unknown")),
            "{id} is decided on moto now: remove it from MOTO_LACKS"
        );
    }
    // Every other rule was evaluated on something.
    let absent = ids(NOT_ON_COMPLIANT);
    let missing: Vec<String> = builtin_rules()
        .into_iter()
        .filter(|id| !by_rule.contains_key(id) && !absent.contains(id))
        .collect();
    assert!(missing.is_empty(), "rules with no result: {missing:?}");
}

#[test]
fn a_non_compliant_account_fails_every_rule_moto_lets_fail() {
    let results = scan("noncompliant", "eu-west-1,us-east-1");
    let by_rule = statuses(&results);
    let cannot_fail = ids(CANNOT_FAIL);
    let not_failing: Vec<String> = builtin_rules()
        .into_iter()
        .filter(|id| !cannot_fail.contains(id))
        .filter(|id| !by_rule.get(id).is_some_and(|s| s.contains("fail")))
        .map(|id| format!("{id}: {:?}", by_rule.get(&id)))
        .collect();
    assert!(
        not_failing.is_empty(),
        "rules that did not fail:\n{}",
        not_failing.join("\n")
    );
    for id in &cannot_fail {
        assert!(
            !by_rule.get(id).is_some_and(|s| s.contains("fail")),
            "{id} fails on moto now: remove it from CANNOT_FAIL"
        );
    }
    assert!(
        results
            .iter()
            .all(|r| r["status"] == "pass" || r["status"] == "fail"),
        "undecided results: {:?}",
        results
            .iter()
            .filter(|r| r["status"] != "pass" && r["status"] != "fail")
            .map(|r| (&r["rule_id"], &r["message"]))
            .collect::<Vec<_>>()
    );
}
