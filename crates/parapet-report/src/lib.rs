//! Parapet's report formats. A [`Report`] is the results of one scan (or the
//! latest results in the store): every rule evaluated on every asset, with
//! the rule's metadata and the asset's place. Each module writes it in one
//! format that other tools read as it is.
//!
//! # Layout
//!
//! - [`format`]: the [`format::Formatter`] trait and the list of formats.
//! - [`json`]: one JSON document, and JSON Lines (one result per line).
//! - [`csv`]: one row per result.
//! - [`sarif`]: SARIF 2.1.0 for code-scanning dashboards.
//! - [`ocsf`]: OCSF Compliance Finding events, for security data lakes.
//! - [`junit`]: JUnit XML, one test suite per rule, for CI systems.
//! - [`html`]: one self-contained HTML page with charts and filters.
//! - [`compliance`]: each framework control's status per account.

pub mod compliance;
pub mod csv;
pub mod format;
pub mod html;
pub mod json;
pub mod junit;
pub mod ocsf;
pub mod sarif;

use chrono::{DateTime, Utc};
use parapet_core::{Evaluation, Severity, Status};
use parapet_rules::{Framework, Rule};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Where an asset is, as reports name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssetInfo {
    /// The asset's id (an ARN on AWS).
    pub id: String,
    /// Its resource type.
    pub resource_type: String,
    /// Its account.
    pub account: String,
    /// Its region (`global` for global services).
    pub region: String,
    /// Its name.
    pub name: String,
}

/// One rule's result on one asset.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// The rule.
    pub rule: &'a Rule,
    /// The asset.
    pub asset: &'a AssetInfo,
    /// The evaluation.
    pub evaluation: &'a Evaluation,
}

impl Row<'_> {
    /// The result's status.
    pub fn status(&self) -> Status {
        self.evaluation.status
    }

    /// The rule's severity.
    pub fn severity(&self) -> Severity {
        self.rule.severity
    }

    /// The result's message as a sentence on its own, naming the asset: as
    /// the rule's template for its status wrote it, or after the asset's
    /// name where the rule has none (unknown and error results, rules
    /// without messages).
    pub fn sentence(&self) -> String {
        let templated = match self.status() {
            Status::Fail => self.rule.fail_message.is_some(),
            Status::Pass => self.rule.pass_message.is_some(),
            Status::Unknown | Status::Error => false,
        };
        if templated {
            self.evaluation.message.to_string()
        } else {
            format!("{}: {}", self.asset.name, self.evaluation.message)
        }
    }

    /// A stable identifier of the (rule, asset) pair.
    pub fn uid(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        hash.update(self.rule.id.as_bytes());
        hash.update([0]);
        hash.update(self.asset.id.as_bytes());
        hex::encode(&hash.finalize()[..16])
    }
}

/// Counts of results by status.
#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Counts {
    /// Failing.
    pub fail: usize,
    /// Not decidable with the data collected.
    pub unknown: usize,
    /// The rule could not be evaluated.
    pub error: usize,
    /// Passing.
    pub pass: usize,
}

impl Counts {
    /// Counts one result.
    pub fn add(&mut self, status: Status) {
        self.add_many(status, 1);
    }

    /// Counts `n` results of one status.
    pub fn add_many(&mut self, status: Status, n: usize) {
        match status {
            Status::Fail => self.fail += n,
            Status::Unknown => self.unknown += n,
            Status::Error => self.error += n,
            Status::Pass => self.pass += n,
        }
    }

    /// Every result counted.
    pub fn total(&self) -> usize {
        self.fail + self.unknown + self.error + self.pass
    }
}

/// The results to write, most severe first, then by rule and asset.
#[derive(Debug)]
pub struct Report<'a> {
    /// When the results were produced.
    pub generated_at: DateTime<Utc>,
    /// How many assets were evaluated.
    pub assets: usize,
    /// How many rules were loaded.
    pub rules: usize,
    /// Every result.
    pub rows: Vec<Row<'a>>,
    /// The frameworks the rules map to, for per-framework views.
    pub frameworks: &'a [Framework],
    /// What produced the results (Parapet, collectors, rule packs), each
    /// once; none when unknown.
    pub provenance: Vec<parapet_core::Provenance>,
}

impl<'a> Report<'a> {
    /// Joins evaluations with their rules and assets. Evaluations whose rule
    /// or asset is missing are left out and their pairs returned.
    pub fn new(
        generated_at: DateTime<Utc>,
        rules: &'a [Rule],
        assets: &'a HashMap<String, AssetInfo>,
        evaluations: &'a [Evaluation],
        frameworks: &'a [Framework],
    ) -> (Report<'a>, Vec<(String, String)>) {
        let by_id: HashMap<&str, &Rule> = rules.iter().map(|r| (&*r.id, r)).collect();
        let mut rows = Vec::with_capacity(evaluations.len());
        let mut missing = Vec::new();
        for evaluation in evaluations {
            match (
                by_id.get(&*evaluation.rule_id),
                assets.get(&*evaluation.asset_id),
            ) {
                (Some(rule), Some(asset)) => rows.push(Row {
                    rule,
                    asset,
                    evaluation,
                }),
                _ => missing.push((
                    evaluation.rule_id.to_string(),
                    evaluation.asset_id.to_string(),
                )),
            }
        }
        rows.sort_by(|a, b| {
            b.severity()
                .cmp(&a.severity())
                .then_with(|| a.rule.id.cmp(&b.rule.id))
                .then_with(|| a.asset.id.cmp(&b.asset.id))
        });
        let report = Report {
            generated_at,
            assets: assets.len(),
            rules: rules.len(),
            rows,
            frameworks,
            provenance: Vec::new(),
        };
        (report, missing)
    }

    /// Result counts by severity, every severity present.
    pub fn summary(&self) -> BTreeMap<Severity, Counts> {
        let mut summary: BTreeMap<Severity, Counts> = Severity::ALL
            .iter()
            .map(|s| (*s, Counts::default()))
            .collect();
        for row in &self.rows {
            summary.entry(row.severity()).or_default().add(row.status());
        }
        summary
    }

    /// The results that are not passes.
    pub fn undecided_or_failing(&self) -> impl Iterator<Item = &Row<'a>> {
        self.rows.iter().filter(|r| r.status() != Status::Pass)
    }
}

/// The name and version reports give as their producer.
pub const PRODUCT: &str = "Parapet";
/// Parapet's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Where Parapet is documented.
pub const INFORMATION_URI: &str = "https://github.com/parapet-security/parapet";

#[cfg(test)]
pub(crate) mod fixture {
    //! A small report for the writers' unit tests.

    use super::*;
    use parapet_rules::rule::Rule;
    use std::sync::{Arc, LazyLock};

    const RULES: &[&str] = &[
        r#"
id: aws-s3-bucket-demo-encrypted
title: S3 buckets are encrypted with "KMS" & <keys>
description: Demo.
severity: high
resource_types: [AWS::S3::Bucket]
compliant: config.Encrypted == true
remediation:
  text: Turn on default encryption.
  cli: aws s3api put-bucket-encryption --bucket B
references: [https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-encryption.html]
frameworks:
  cis-aws-foundations-7.0: ["3.1.1"]
examples:
  compliant: [{description: on, config: {Encrypted: true}}]
  non_compliant: [{description: off, config: {Encrypted: false}}]
"#,
        r#"
id: aws-ec2-demo-low
title: A low rule
description: Demo.
severity: low
resource_types: [AWS::EC2::Volume]
compliant: config.Ok == true
remediation: {text: Fix it.}
examples:
  compliant: [{description: ok, config: {Ok: true}}]
  non_compliant: [{description: not ok, config: {Ok: false}}]
"#,
    ];

    pub static RULE_LIST: LazyLock<Vec<Rule>> = LazyLock::new(|| {
        RULES
            .iter()
            .map(|text| Rule::parse(std::path::Path::new("demo.yaml"), text).expect("parses"))
            .collect()
    });

    pub static ASSETS: LazyLock<HashMap<String, AssetInfo>> = LazyLock::new(|| {
        [
            ("arn:aws:s3:::logs", "AWS::S3::Bucket", "111111111111"),
            ("arn:aws:s3:::site", "AWS::S3::Bucket", "222222222222"),
            ("vol-1", "AWS::EC2::Volume", "111111111111"),
        ]
        .into_iter()
        .map(|(id, t, account)| {
            (
                id.to_owned(),
                AssetInfo {
                    id: id.to_owned(),
                    resource_type: t.to_owned(),
                    account: account.to_owned(),
                    region: "eu-west-1".to_owned(),
                    name: id.rsplit(':').next().unwrap_or(id).to_owned(),
                },
            )
        })
        .collect()
    });

    pub static EVALUATIONS: LazyLock<Vec<Evaluation>> = LazyLock::new(|| {
        let e = |rule: &str, asset: &str, status: Status, message: &str| Evaluation {
            rule_id: Arc::from(rule),
            asset_id: Arc::from(asset),
            status,
            message: Arc::from(message),
            evidence: [("config.Encrypted".to_owned(), serde_json::json!(false))]
                .into_iter()
                .collect(),
        };
        vec![
            e(
                "aws-s3-bucket-demo-encrypted",
                "arn:aws:s3:::logs",
                Status::Pass,
                "",
            ),
            e(
                "aws-s3-bucket-demo-encrypted",
                "arn:aws:s3:::site",
                Status::Fail,
                "S3 buckets are encrypted with \"KMS\" & <keys>",
            ),
            e(
                "aws-ec2-demo-low",
                "vol-1",
                Status::Unknown,
                "`Ok` could not be collected: AccessDenied",
            ),
        ]
    });

    pub fn report() -> Report<'static> {
        let frameworks: &'static [Framework] =
            Box::leak(parapet_rules::framework::builtin().into_boxed_slice());
        let generated_at = DateTime::parse_from_rfc3339("2026-11-29T10:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let (report, missing) =
            Report::new(generated_at, &RULE_LIST, &ASSETS, &EVALUATIONS, frameworks);
        assert!(missing.is_empty());
        report
    }
}
