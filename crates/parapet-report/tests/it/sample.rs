//! A report over the built-in rules, with every status, for the format tests.

use chrono::{DateTime, Utc};
use parapet_core::{Evaluation, Status};
use parapet_report::{AssetInfo, Report};
use parapet_rules::{Framework, Rule, RuleSources};
use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::PathBuf;
use std::sync::Arc;

/// The inputs a report borrows.
pub struct Sample {
    pub rules: Vec<Rule>,
    pub assets: HashMap<String, AssetInfo>,
    pub evaluations: Vec<Evaluation>,
    pub frameworks: Vec<Framework>,
}

impl Sample {
    /// Every built-in rule evaluated on one asset of its type, cycling the
    /// statuses.
    pub fn new() -> Sample {
        let report = parapet_rules::load(&RuleSources {
            builtin: true,
            folders: Vec::new(),
        });
        assert!(report.errors.is_empty());
        let rules = report.rules;
        let mut assets = HashMap::new();
        let mut evaluations = Vec::new();
        let statuses = [Status::Fail, Status::Pass, Status::Unknown, Status::Error];
        for (i, rule) in rules.iter().enumerate() {
            let id = format!("arn:aws:example:eu-west-1:111122223333:thing/{i}");
            assets.insert(
                id.clone(),
                AssetInfo {
                    id: id.clone(),
                    resource_type: rule.resource_types[0].as_str().to_owned(),
                    account: if i % 2 == 0 {
                        "111122223333"
                    } else {
                        "444455556666"
                    }
                    .to_owned(),
                    region: "eu-west-1".to_owned(),
                    name: format!("thing-{i}"),
                },
            );
            evaluations.push(Evaluation {
                rule_id: Arc::clone(&rule.id),
                asset_id: Arc::from(id.as_str()),
                status: statuses[i % statuses.len()],
                message: Arc::from("a message with <markup> & \"quotes\""),
                evidence: [(
                    "config.Field".to_owned(),
                    serde_json::json!({"nested": [1, 2]}),
                )]
                .into_iter()
                .collect(),
            });
        }
        Sample {
            rules,
            assets,
            evaluations,
            frameworks: parapet_rules::framework::builtin(),
        }
    }

    pub fn report(&self) -> Report<'_> {
        let at: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-11-29T10:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let (mut report, missing) = Report::new(
            at,
            &self.rules,
            &self.assets,
            &self.evaluations,
            &self.frameworks,
        );
        report.provenance = vec![parapet_core::Provenance::new(
            "parapet-aws 0.1.0",
            "sha256:abc",
        )];
        assert!(missing.is_empty());
        report
    }
}

/// The folder of published schemas copied for the tests.
pub fn schemas() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/schemas")
}

/// Runs the Python of the environment `scripts/moto-venv` makes (`.ci/test`
/// runs it), which has jsonschema and Selenium, with `args`; its standard
/// output, once it has succeeded.
pub fn python(args: &[&OsStr]) -> Vec<u8> {
    let output = std::process::Command::new(parapet_testkit::tool("python"))
        .args(args)
        .env("PYTHONPATH", parapet_testkit::python_modules())
        .output()
        .expect("run python");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}
