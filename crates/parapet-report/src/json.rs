//! JSON: one document with the summary and the results that are not passes;
//! JSON Lines: every result, one object per line, for log pipelines.

use crate::{Report, Row};
use parapet_core::{Evidence, Severity, Status};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// One result as JSON and JSON Lines write it.
#[derive(Debug, Serialize)]
pub struct ResultRecord<'a> {
    /// The rule's severity.
    pub severity: Severity,
    /// The outcome.
    pub status: Status,
    /// The rule.
    pub rule_id: &'a str,
    /// What a compliant asset looks like.
    pub rule_title: &'a str,
    /// The asset.
    pub asset_id: &'a str,
    /// The asset's type.
    pub resource_type: &'a str,
    /// The asset's account.
    pub account: &'a str,
    /// The asset's region.
    pub region: &'a str,
    /// The asset's name.
    pub asset_name: &'a str,
    /// Why, for results that are not passes.
    pub message: &'a str,
    /// The values the rule read.
    #[serde(skip_serializing_if = "Evidence::is_empty")]
    pub evidence: &'a Evidence,
    /// The framework controls the rule maps to.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub frameworks: &'a BTreeMap<String, Vec<String>>,
    /// How to fix it.
    pub remediation: &'a parapet_rules::rule::Remediation,
}

impl<'a> ResultRecord<'a> {
    /// The record of one row.
    pub fn of(row: &Row<'a>) -> ResultRecord<'a> {
        ResultRecord {
            severity: row.severity(),
            status: row.status(),
            rule_id: &row.rule.id,
            rule_title: &row.rule.title,
            asset_id: &row.asset.id,
            resource_type: &row.asset.resource_type,
            account: &row.asset.account,
            region: &row.asset.region,
            asset_name: &row.asset.name,
            message: &row.evaluation.message,
            evidence: &row.evaluation.evidence,
            frameworks: &row.rule.frameworks,
            remediation: &row.rule.remediation,
        }
    }
}

/// The JSON document.
#[derive(Serialize)]
struct Document<'a> {
    generated_at: chrono::DateTime<chrono::Utc>,
    assets: usize,
    rules: usize,
    summary: BTreeMap<Severity, crate::Counts>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    provenance: &'a [parapet_core::Provenance],
    results: Vec<ResultRecord<'a>>,
}

/// Writes the summary and every result that is not a pass, as one JSON
/// document.
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let document = Document {
        generated_at: report.generated_at,
        assets: report.assets,
        rules: report.rules,
        summary: report.summary(),
        provenance: &report.provenance,
        results: report
            .undecided_or_failing()
            .map(ResultRecord::of)
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

/// Writes every result, passes included, one JSON object per line.
pub fn write_lines(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    for row in &report.rows {
        serde_json::to_writer(&mut *out, &ResultRecord::of(row))?;
        writeln!(out)?;
    }
    Ok(())
}

/// The `json` format.
pub const JSON: crate::format::Format = crate::format::Format {
    name: "json",
    description: "One JSON document: the summary and every result that is not a pass",
    extensions: &[".json"],
    write: |report, _, out| write(report, out),
};

/// The `jsonl` format.
pub const LINES: crate::format::Format = crate::format::Format {
    name: "jsonl",
    description: "JSON Lines: every result, passes included, one object per line",
    extensions: &[".jsonl", ".ndjson"],
    write: |report, _, out| write_lines(report, out),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn json_lines_carry_every_result_and_json_leaves_out_passes() {
        let report = fixture::report();
        let mut lines = Vec::new();
        write_lines(&report, &mut lines).expect("write");
        let lines: Vec<serde_json::Value> = String::from_utf8(lines)
            .expect("UTF-8")
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["severity"], "high");
        assert_eq!(
            lines[0]["frameworks"]["cis-aws-foundations-7.0"][0],
            "3.1.1"
        );

        let mut document = Vec::new();
        write(&report, &mut document).expect("write");
        let document: serde_json::Value = serde_json::from_slice(&document).expect("JSON");
        let statuses: Vec<&str> = document["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| r["status"].as_str().expect("status"))
            .collect();
        assert_eq!(statuses, ["fail", "unknown"]);
        assert_eq!(document["summary"]["high"]["pass"], 1);
    }
}
