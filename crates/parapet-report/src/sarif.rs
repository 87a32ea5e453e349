//! SARIF 2.1.0: one run whose tool driver lists the rules that produced a
//! result, and one result per failing or undecided evaluation, located by
//! the asset's id as a logical location. Code-scanning dashboards (GitHub,
//! GitLab, Azure DevOps) read it as it is.

use crate::{INFORMATION_URI, PRODUCT, Report, VERSION};
use parapet_core::{Severity, Status};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The level a failure of a rule of this severity has.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Informational => "note",
    }
}

/// The `security-severity` score dashboards sort by (0 to 10).
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Informational => "0.0",
    }
}

/// The SARIF document as a JSON value.
pub fn document(report: &Report<'_>) -> Value {
    let mut rule_index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules = Vec::new();
    let mut results = Vec::new();
    for row in report.undecided_or_failing() {
        let rule = row.rule;
        let index = *rule_index.entry(&rule.id).or_insert_with(|| {
            let mut help = rule.remediation.text.clone();
            let remediation = &rule.remediation;
            for (label, part) in [
                ("Console", &remediation.console),
                ("CLI", &remediation.cli),
                ("Terraform", &remediation.terraform),
            ] {
                if let Some(part) = part {
                    help.push_str(&format!("\n\n{label}:\n{}", part.trim_end()));
                }
            }
            let tags: Vec<String> = std::iter::once("security".to_owned())
                .chain(rule.frameworks.iter().flat_map(|(framework, controls)| {
                    controls.iter().map(move |c| format!("{framework}/{c}"))
                }))
                .collect();
            let mut descriptor = json!({
                "id": &*rule.id,
                "name": &*rule.id,
                "shortDescription": {"text": &*rule.title},
                "fullDescription": {"text": rule.description.trim()},
                "help": {"text": help},
                "defaultConfiguration": {"level": level(rule.severity)},
                "properties": {
                    "security-severity": security_severity(rule.severity),
                    "severity": rule.severity.as_str(),
                    "tags": tags,
                },
            });
            if let Some(uri) = rule.references.first() {
                descriptor["helpUri"] = json!(uri);
            }
            rules.push(descriptor);
            rules.len() - 1
        });
        let (kind, level) = match row.status() {
            Status::Fail => ("fail", level(rule.severity)),
            _ => ("review", "none"),
        };
        results.push(json!({
            "ruleId": &*rule.id,
            "ruleIndex": index,
            "kind": kind,
            "level": level,
            "message": {"text": row.sentence()},
            "locations": [{
                "logicalLocations": [{
                    "name": &row.asset.name,
                    "fullyQualifiedName": &row.asset.id,
                    "kind": "resource",
                }],
            }],
            "partialFingerprints": {"parapetResult/v1": row.uid()},
            "properties": {
                "status": row.status().as_str(),
                "account": &row.asset.account,
                "region": &row.asset.region,
                "resourceType": &row.asset.resource_type,
                "evidence": &row.evaluation.evidence,
            },
        }));
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": PRODUCT,
                "version": VERSION,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": true,
                "endTimeUtc": report.generated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            }],
            "results": results,
            "properties": {"provenance": report.provenance},
        }],
    })
}

/// Writes the SARIF document.
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(report))?;
    writeln!(out)
}

/// The `sarif` format.
pub const SARIF: crate::format::Format = crate::format::Format {
    name: "sarif",
    description: "SARIF 2.1.0, for code-scanning dashboards: failing and undecided results",
    extensions: &[".sarif", ".sarif.json"],
    write: |report, _, out| write(report, out),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn failures_carry_the_rule_level_and_unknowns_are_for_review() {
        let sarif = document(&fixture::report());
        let run = &sarif["runs"][0];
        assert_eq!(
            run["tool"]["driver"]["rules"].as_array().map(Vec::len),
            Some(2)
        );
        let results = run["results"].as_array().expect("results");
        assert_eq!(results.len(), 2, "the pass is left out");
        assert_eq!(results[0]["kind"], "fail");
        assert_eq!(results[0]["level"], "error");
        assert_eq!(results[1]["kind"], "review");
        assert_eq!(
            results[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            "arn:aws:s3:::site"
        );
        let index = results[1]["ruleIndex"].as_u64().expect("index") as usize;
        assert_eq!(
            run["tool"]["driver"]["rules"][index]["id"],
            results[1]["ruleId"]
        );
    }
}
