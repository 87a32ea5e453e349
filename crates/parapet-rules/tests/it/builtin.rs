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
    Engine::new(report.rules)
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
fn every_builtin_failure_says_what_is_wrong_with_the_asset_it_names() {
    let engine = builtin();
    let titles: std::collections::HashMap<&str, &str> =
        engine.rules().iter().map(|r| (&*r.id, &*r.title)).collect();
    let outcomes = run_examples(&engine);
    let failures: Vec<_> = outcomes
        .iter()
        .filter(|o| o.expected == parapet_core::Status::Fail)
        .collect();
    assert!(failures.len() >= engine.rules().len());
    for o in failures {
        let rule = o.rule_id.as_str();
        assert_ne!(o.message, titles[rule], "{rule}: {}", o.example);
        assert!(
            o.message.contains(&o.asset_name),
            "{rule}, example `{}`: `{}` does not name the asset `{}`",
            o.example,
            o.message,
            o.asset_name
        );
        assert!(
            !o.message.contains('?'),
            "{rule}, example `{}`: a placeholder of `{}` could not be worked out",
            o.example,
            o.message
        );
    }
}

#[test]
fn builtin_rules_pass_lint() {
    let engine = builtin();
    let frameworks = parapet_rules::framework::builtin();
    let warnings: Vec<_> = engine
        .rules()
        .iter()
        .flat_map(|r| lint(r, &frameworks))
        .collect();
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
fn every_field_a_rule_reads_is_documented_on_its_type_page() {
    // docs/resources/PROVIDER/*.md: one page per type, titled with the
    // type, with a table whose first column lists the configuration fields.
    let docs = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/resources");
    let mut pages: std::collections::HashMap<String, HashSet<String>> = Default::default();
    let entries = ["aws", "azure", "gcp"].iter().flat_map(|provider| {
        std::fs::read_dir(format!("{docs}/{provider}")).expect("docs/resources")
    });
    for entry in entries {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("page");
        let title = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# "))
            .expect("a title")
            .trim()
            .to_owned();
        let fields = text
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split('`').next())
            .map(str::to_owned)
            .collect();
        pages.insert(title, fields);
    }
    for rule in builtin().rules() {
        for t in &rule.resource_types {
            let fields = pages.get(t.as_str()).unwrap_or_else(|| {
                panic!(
                    "rule {} reads {t}, which docs/resources/ does not document",
                    rule.id
                )
            });
            for path in rule.reads() {
                if let [root, field, ..] = path.as_slice()
                    && root == "config"
                {
                    assert!(
                        fields.contains(field),
                        "rule {} reads config.{field} of {t}, which its page does not list",
                        rule.id
                    );
                }
            }
        }
    }
}

#[test]
fn the_readme_counts_the_builtin_rules_by_service_and_severity() {
    let engine = builtin();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let total = engine.rules().len();
    let of = |prefix: &str| {
        engine
            .rules()
            .iter()
            .filter(|r| r.id.starts_with(prefix))
            .count()
    };
    for phrase in [
        format!("{} AWS rules ship in the binary", of("aws-")),
        format!("{} Azure rules ship in the binary", of("azure-")),
        format!("{} Google Cloud rules ship in the binary", of("gcp-")),
        format!("evaluates {} rules", of("aws-")),
    ] {
        assert!(
            readme.replace('\n', " ").contains(&phrase),
            "README.md does not say `{phrase}`"
        );
    }
    assert_eq!(of("aws-") + of("azure-") + of("gcp-"), total);
    for (prefix, lead) in [
        ("aws-", "By severity"),
        ("azure-", "Azure's by severity"),
        ("gcp-", "Google Cloud's by severity"),
    ] {
        let mut by_severity = std::collections::BTreeMap::new();
        for rule in engine.rules().iter().filter(|r| r.id.starts_with(prefix)) {
            *by_severity.entry(rule.severity.as_str()).or_insert(0) += 1;
        }
        let line = format!(
            "{lead}: {} critical, {} high, {} medium, {} low.",
            by_severity.get("critical").unwrap_or(&0),
            by_severity.get("high").unwrap_or(&0),
            by_severity.get("medium").unwrap_or(&0),
            by_severity.get("low").unwrap_or(&0),
        );
        assert!(
            readme.replace('\n', " ").contains(&line),
            "README.md does not say: {line}"
        );
    }
}
