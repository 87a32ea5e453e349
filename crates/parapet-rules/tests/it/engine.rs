use chrono::Utc;
use parapet_core::{Asset, Status};
use parapet_rules::{Engine, Facts, Rule};
use serde_json::json;
use std::path::Path;

fn rule(compliant: &str) -> Rule {
    let text = format!(
        "id: test-rule\ntitle: Test rule\ndescription: d\nseverity: high\nresource_types: [AWS::S3::Bucket]\n\
         compliant: {compliant:?}\nremediation: {{text: t}}\n\
         examples: {{compliant: [{{description: a, config: {{}}}}], non_compliant: [{{description: b, config: {{}}}}]}}\n"
    );
    Rule::parse(Path::new("test.yaml"), &text).expect("test rule parses")
}

fn bucket(config: serde_json::Value, unknown: serde_json::Value) -> Asset {
    serde_json::from_value(json!({
        "id": "arn:aws:s3:::b", "provider": "aws", "account": "123456789012", "region": "us-east-1",
        "resource_type": "AWS::S3::Bucket", "name": "b", "config": config, "unknown": unknown,
        "observed_at": "2026-11-29T00:00:00Z"
    }))
    .expect("valid asset")
}

fn status(
    compliant: &str,
    config: serde_json::Value,
    unknown: serde_json::Value,
) -> (Status, String) {
    let engine = Engine::new(vec![rule(compliant)]);
    let evaluations = engine.evaluate(&Facts::at(Utc::now()), &bucket(config, unknown));
    assert_eq!(evaluations.len(), 1);
    (evaluations[0].status, evaluations[0].message.to_string())
}

#[test]
fn a_missing_field_is_unknown_never_pass() {
    let (s, m) = status(
        "config.Versioning.Status == 'Enabled'",
        json!({}),
        json!({}),
    );
    assert_eq!(s, Status::Unknown);
    assert!(m.contains("`Versioning` is missing"), "{m}");
}

#[test]
fn a_field_the_collector_could_not_read_is_unknown_even_when_the_rule_tolerates_absence() {
    let compliant = "!has(config.Policy) || size(publicStatements(config.Policy)) == 0";
    let (s, m) = status(
        compliant,
        json!({}),
        json!({"Policy": "AccessDenied: s3:GetBucketPolicy"}),
    );
    assert_eq!(s, Status::Unknown);
    assert!(m.contains("AccessDenied"), "{m}");
    // The same rule passes a bucket that simply has no policy.
    assert_eq!(status(compliant, json!({}), json!({})).0, Status::Pass);
    // A gap in a field the rule does not read changes nothing.
    assert_eq!(
        status(compliant, json!({}), json!({"Logging": "AccessDenied"})).0,
        Status::Pass
    );
}

#[test]
fn unknown_function_gives_unknown_with_its_reason() {
    let (s, m) = status(
        "config.Mode == 'x' || unknown('mode ' + config.Mode + ' not understood')",
        json!({"Mode": "y"}),
        json!({}),
    );
    assert_eq!(s, Status::Unknown);
    assert_eq!(m, "mode y not understood");
}

#[test]
fn type_errors_and_non_booleans_are_errors() {
    let (s, m) = status("config.Count > 'three'", json!({"Count": 3}), json!({}));
    assert_eq!(s, Status::Error);
    assert!(!m.is_empty());
    let (s, m) = status("config.Count", json!({"Count": 3}), json!({}));
    assert_eq!(s, Status::Error);
    assert!(m.contains("not a boolean"), "{m}");
    let (s, _) = status(
        "isInternet(config.Cidr)",
        json!({"Cidr": "not-a-cidr"}),
        json!({}),
    );
    assert_eq!(s, Status::Error);
}

#[test]
fn failures_carry_the_title_and_the_evidence() {
    let engine = Engine::new(vec![rule(
        "config.Versioning.Status == 'Enabled' && config.Logging != null",
    )]);
    let asset = bucket(
        json!({"Versioning": {"Status": "Suspended"}, "Logging": null, "Other": 1}),
        json!({}),
    );
    let evaluation = &engine.evaluate(&Facts::at(Utc::now()), &asset)[0];
    assert_eq!(evaluation.status, Status::Fail);
    assert_eq!(&*evaluation.message, "Test rule");
    assert_eq!(
        evaluation.evidence.get("config.Versioning.Status"),
        Some(&json!("Suspended"))
    );
    assert_eq!(
        evaluation.evidence.get("config.Logging"),
        Some(&json!(null))
    );
    assert!(!evaluation.evidence.contains_key("config.Other"));
}

#[test]
fn only_rules_of_the_asset_type_are_evaluated() {
    let engine = Engine::new(vec![rule("true")]);
    let mut asset = bucket(json!({}), json!({}));
    asset.resource_type = parapet_core::ResourceType::new("AWS::EC2::Volume").expect("valid type");
    assert!(engine.evaluate(&Facts::at(Utc::now()), &asset).is_empty());
}

#[test]
fn parallel_evaluation_matches_sequential_and_keeps_order() {
    let engine = Engine::new(vec![rule("config.N % 3 != 0")]);
    let assets: Vec<Asset> = (0..500)
        .map(|n| {
            let mut a = bucket(json!({"N": n}), json!({}));
            a.id = format!("arn:aws:s3:::b{n}");
            a
        })
        .collect();
    let parallel = engine.evaluate_all(&Facts::at(Utc::now()), &assets);
    let sequential: Vec<_> = assets
        .iter()
        .flat_map(|a| engine.evaluate(&Facts::at(Utc::now()), a))
        .collect();
    assert_eq!(parallel, sequential);
    assert_eq!(
        parallel.iter().filter(|e| e.status == Status::Fail).count(),
        167
    );
}
