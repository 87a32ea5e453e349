use chrono::Utc;
use parapet_rules::examples::run_examples;
use parapet_rules::lint::lint;
use parapet_rules::{Engine, RuleSources, load};
use std::collections::HashSet;

fn builtin() -> Engine {
    let report = load(&RuleSources {
        builtin: true,
        folders: Vec::new(),
    });
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    Engine::new(report.rules, Utc::now())
}

#[test]
fn every_builtin_example_gives_its_expected_status() {
    let engine = builtin();
    let outcomes = run_examples(&engine);
    let failed: Vec<_> = outcomes.iter().filter(|o| !o.passed()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let rules_with_examples: HashSet<_> = outcomes.iter().map(|o| o.rule_id.as_str()).collect();
    assert_eq!(rules_with_examples.len(), engine.rules().len());
}

#[test]
fn builtin_rules_pass_lint() {
    let engine = builtin();
    let warnings: Vec<_> = engine.rules().iter().flat_map(lint).collect();
    assert!(warnings.is_empty(), "{warnings:#?}");
}

#[test]
fn builtin_rules_cover_the_first_resource_types() {
    let engine = builtin();
    for t in [
        "AWS::S3::Bucket",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::Volume",
        "AWS::EC2::Snapshot",
        "AWS::IAM::User",
    ] {
        assert!(engine.rule_count_for(t) > 0, "no rule for {t}");
    }
}

#[test]
fn every_resource_type_a_rule_reads_is_documented() {
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/assets.md"))
            .expect("docs/assets.md");
    let documented: HashSet<&str> = docs
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .map(str::trim)
        .collect();
    for rule in builtin().rules() {
        for t in &rule.resource_types {
            assert!(
                documented.contains(t.as_str()),
                "rule {} reads {t}, which docs/assets.md does not document",
                rule.id
            );
        }
    }
}
