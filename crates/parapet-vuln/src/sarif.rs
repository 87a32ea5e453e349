//! Vulnerability results as SARIF 2.1.0: one rule per advisory (with its
//! `security-severity` for code scanning), one result per affected package,
//! located at the file the package was found in.

use crate::matcher::Report;
use parapet_core::Severity;
use serde_json::{Value, json};

/// SARIF's level for a severity.
fn level(severity: Option<Severity>) -> &'static str {
    match severity {
        Some(Severity::Critical | Severity::High) => "error",
        Some(Severity::Medium) | None => "warning",
        Some(Severity::Low | Severity::Informational) => "note",
    }
}

/// The SARIF log of `report`.
pub fn document(report: &Report) -> Value {
    let mut rules: Vec<Value> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut results = Vec::new();
    for m in &report.matches {
        let severity = m.rating.as_ref().map(|r| r.severity);
        let rule_index = *index.entry(m.advisory.as_str()).or_insert_with(|| {
            let mut properties = json!({
                "tags": ["security", "vulnerability"],
                "precision": "very-high",
            });
            if let Some(score) = m.rating.as_ref().and_then(|r| r.score) {
                properties["security-severity"] = json!(format!("{score:.1}"));
            }
            rules.push(json!({
                "id": m.advisory,
                "name": m.cve().unwrap_or(&m.advisory),
                "shortDescription": {"text": m.summary.clone().unwrap_or_else(|| m.advisory.clone())},
                "helpUri": m.url,
                "help": {"text": format!("See {}.", m.url)},
                "defaultConfiguration": {"level": level(severity)},
                "properties": properties,
            }));
            rules.len() - 1
        });
        let fix = match &m.fixed {
            Some(fixed) => format!("fixed in {fixed}"),
            None => "no fixed version is known".to_owned(),
        };
        results.push(json!({
            "ruleId": m.advisory,
            "ruleIndex": rule_index,
            "level": level(severity),
            "message": {"text": format!(
                "{} {} is affected by {}: {fix}.",
                m.package.name, m.package.version, m.advisory
            )},
            "locations": [{"physicalLocation": {"artifactLocation": {
                "uri": m.package.location.trim_start_matches('/'),
            }}}],
            "partialFingerprints": {
                "packageAdvisory/v1": format!("{}@{}/{}", m.package.name, m.package.version, m.advisory),
            },
        }));
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "parapet",
                "informationUri": "https://github.com/parapet-cspm/parapet",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}
