use chrono::Utc;
use parapet_core::{Asset, Status};
use parapet_rules::{Engine, Facts, Rule};
use serde_json::json;
use std::path::Path;

fn rule(compliant: &str) -> Rule {
    rule_named("test-rule", compliant)
}

fn rule_named(id: &str, compliant: &str) -> Rule {
    let text = format!(
        "id: {id}\ntitle: Test rule\ndescription: d\nseverity: high\nresource_types: [AWS::S3::Bucket]\n\
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

/// A security group rule whose message shows what its variable found.
const OPEN_SSH: &str = r#"
id: test-ssh
title: Security groups do not admit SSH from the internet
description: d
severity: high
resource_types: [AWS::S3::Bucket]
variables:
  - name: open
    expression: >
      config.IpPermissions.filter(p, p.FromPort <= 22 && 22 <= p.ToPort
        && p.IpRanges.exists(r, isInternet(r.CidrIp)))
  - name: count
    expression: size(variables.open)
compliant: variables.count == 0
message:
  fail: "Security group `{{ resource.name }}` admits SSH from the internet: {{ variables.open.map(p, permissionText(p)) }} ({{ variables.count }} of {{ size(config.IpPermissions) }})"
  pass: "Security group `{{ resource.name }}` admits SSH from nowhere on the internet"
remediation: {text: t}
examples: {compliant: [{description: a, config: {}}], non_compliant: [{description: b, config: {}}]}
"#;

#[test]
fn results_say_what_their_rule_found_through_its_variables() {
    let rule = Rule::parse(Path::new("ssh.yaml"), OPEN_SSH).expect("parses");
    let engine = Engine::new(vec![rule]);
    let facts = Facts::at(Utc::now());
    let open = json!({"IpPermissions": [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    ]});
    let failing = &engine.evaluate(&facts, &bucket(open, json!({})))[0];
    assert_eq!(failing.status, Status::Fail);
    assert_eq!(
        &*failing.message,
        "Security group `b` admits SSH from the internet: tcp/22 from 0.0.0.0/0 (1 of 2)"
    );
    assert!(failing.evidence.contains_key("config.IpPermissions"));
    let closed = json!({"IpPermissions": [
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
    ]});
    let passing = &engine.evaluate(&facts, &bucket(closed, json!({})))[0];
    assert_eq!(passing.status, Status::Pass);
    assert_eq!(
        &*passing.message,
        "Security group `b` admits SSH from nowhere on the internet"
    );
    let partial = json!({"IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22}]});
    let unknown = &engine.evaluate(&facts, &bucket(partial, json!({})))[0];
    assert_eq!(unknown.status, Status::Unknown);
    assert_eq!(
        &*unknown.message,
        "variables.open: field `IpRanges` is missing"
    );
    let denied = &engine.evaluate(
        &facts,
        &bucket(
            json!({}),
            json!({"IpPermissions": "AccessDenied: ec2:DescribeSecurityGroups"}),
        ),
    )[0];
    assert_eq!(denied.status, Status::Unknown);
    assert!(
        denied.message.contains("AccessDenied"),
        "{}",
        denied.message
    );
}

/// A rule on what principals can really do.
const ADMIN: &str = r#"
id: test-admin
title: No principal can do everything
description: d
severity: high
resource_types: [AWS::S3::Bucket]
applies: "!administrators.exists(p, arnLike(resource.id, p))"
compliant: '!allowsAction(permissions, "*")'
remediation: {text: t}
examples: {compliant: [{description: a, config: {}}], non_compliant: [{description: b, config: {}}]}
"#;

#[test]
fn principals_are_judged_on_their_effective_permissions_and_named_administrators_left_out() {
    use parapet_core::{PermissionFacts, Permissions};
    use parapet_rules::IdentityPolicy;
    let rule = Rule::parse(Path::new("admin.yaml"), ADMIN).expect("parses");
    let engine = Engine::new(vec![rule]).with_identity_policy(&IdentityPolicy {
        administrators: vec!["arn:aws:s3:::break*".to_owned()],
    });
    let admin = |action: &str| Permissions {
        statements: vec![
            json!({"Effect": "Allow", "Action": action, "Resource": "*", "Source": "x"}),
        ],
        boundary: None,
    };
    let facts = Facts::at(Utc::now()).with_permissions(PermissionFacts {
        principals: [
            ("arn:aws:s3:::root".to_owned(), admin("*")),
            ("arn:aws:s3:::reader".to_owned(), admin("s3:Get*")),
            (
                "arn:aws:s3:::bounded".to_owned(),
                Permissions {
                    boundary: Some(vec![json!({"Effect": "Allow", "Action": "s3:*"})]),
                    ..admin("*")
                },
            ),
            ("arn:aws:s3:::breakglass".to_owned(), admin("*")),
        ]
        .into(),
        undecided: [(
            "arn:aws:s3:::lost".to_owned(),
            "its group g was not collected".to_owned(),
        )]
        .into(),
    });
    let judge = |id: &str| {
        let mut asset = bucket(json!({}), json!({}));
        asset.id = id.to_owned();
        engine
            .evaluate(&facts, &asset)
            .first()
            .map(|e| (e.status, e.message.to_string()))
    };
    assert_eq!(judge("arn:aws:s3:::root").map(|r| r.0), Some(Status::Fail));
    assert_eq!(
        judge("arn:aws:s3:::reader").map(|r| r.0),
        Some(Status::Pass)
    );
    assert_eq!(
        judge("arn:aws:s3:::bounded").map(|r| r.0),
        Some(Status::Pass)
    );
    assert_eq!(
        judge("arn:aws:s3:::nobody").map(|r| r.0),
        Some(Status::Pass)
    );
    assert_eq!(
        judge("arn:aws:s3:::breakglass"),
        None,
        "a named administrator"
    );
    assert_eq!(
        judge("arn:aws:s3:::lost"),
        Some((
            Status::Unknown,
            "`permissions` could not be worked out: its group g was not collected".to_owned()
        ))
    );
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
        Some(json!("Suspended"))
    );
    assert_eq!(evaluation.evidence.get("config.Logging"), Some(json!(null)));
    assert!(!evaluation.evidence.contains_key("config.Other"));
}

#[test]
fn rules_that_read_the_same_fields_share_each_assets_evidence_and_no_more() {
    let engine = Engine::new(vec![
        rule_named("versioning", "config.Versioning.Status == 'Enabled'"),
        rule_named("logging", "config.Logging != null"),
        rule_named(
            "versioning-again",
            "config.Versioning.Status in ['Enabled']",
        ),
    ]);
    let facts = Facts::at(Utc::now());
    for status in ["Suspended", "Off"] {
        let asset = bucket(
            json!({"Versioning": {"Status": status}, "Logging": null}),
            json!({}),
        );
        let evaluations = engine.evaluate(&facts, &asset);
        let evidence: Vec<String> = evaluations
            .iter()
            .map(|e| e.evidence.json().to_owned())
            .collect();
        let versioning = format!(r#"{{"config.Versioning.Status":"{status}"}}"#);
        let logging = r#"{"config.Logging":null}"#.to_owned();
        assert_eq!(evidence, [versioning.clone(), logging, versioning]);
    }
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
