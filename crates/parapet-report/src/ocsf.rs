//! OCSF: one Compliance Finding event (class 2003) per result, as JSON
//! Lines, with the resource, the compliance status and the framework
//! controls, and the remediation filled in. Security data lakes (Amazon
//! Security Lake and others) take it as it is.

use crate::{INFORMATION_URI, PRODUCT, Report, Row, VERSION};
use parapet_core::{Severity, Status};
use serde_json::{Value, json};
use std::io::{self, Write};

/// The OCSF schema version the events follow.
pub const SCHEMA_VERSION: &str = "1.9.0-dev";
/// The Findings category.
const CATEGORY_UID: u32 = 2;
/// The Compliance Finding class.
const CLASS_UID: u32 = 2003;
/// Activity 1: Create.
const ACTIVITY_ID: u32 = 1;

/// The OCSF severity id and caption of a rule severity.
fn severity(severity: Severity) -> (u32, &'static str) {
    match severity {
        Severity::Informational => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

/// The compliance status id and caption of a result: pass, fail, or
/// warning when the check could not decide.
fn compliance_status(status: Status) -> (u32, &'static str) {
    match status {
        Status::Pass => (1, "Pass"),
        Status::Fail => (3, "Fail"),
        Status::Unknown | Status::Error => (2, "Warning"),
    }
}

/// One result as a Compliance Finding event.
pub fn event(report: &Report<'_>, row: &Row<'_>) -> Value {
    let rule = row.rule;
    let (severity_id, severity_name) = severity(rule.severity);
    let (status_id, status_name) = compliance_status(row.status());
    let standards: Vec<&str> = rule.frameworks.keys().map(String::as_str).collect();
    let requirements: Vec<String> = rule
        .frameworks
        .iter()
        .flat_map(|(framework, controls)| controls.iter().map(move |c| format!("{framework}:{c}")))
        .collect();
    let mut remediation = json!({"desc": rule.remediation.text.trim()});
    if !rule.references.is_empty() {
        remediation["references"] = json!(rule.references);
    }
    let time = report.generated_at.timestamp_millis();
    let message = row.sentence();
    json!({
        "activity_id": ACTIVITY_ID,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "type_uid": CLASS_UID * 100 + ACTIVITY_ID,
        "type_name": "Compliance Finding: Create",
        "severity_id": severity_id,
        "severity": severity_name,
        "status_id": 1,
        "status": "New",
        "status_code": row.status().as_str().to_uppercase(),
        "time": time,
        "message": message,
        "metadata": {
            "version": SCHEMA_VERSION,
            "profiles": ["cloud"],
            "product": {
                "name": PRODUCT,
                "vendor_name": PRODUCT,
                "version": VERSION,
                "uid": "parapet",
                "url_string": INFORMATION_URI,
            },
        },
        "finding_info": {
            "uid": row.uid(),
            "title": &*rule.title,
            "desc": rule.description.trim(),
            "types": ["Cloud Posture"],
            "analytic": {
                "uid": &*rule.id,
                "name": &*rule.id,
                "type_id": 1,
                "type": "Rule",
            },
        },
        "compliance": {
            "status_id": status_id,
            "status": status_name,
            "control": &*rule.id,
            "standards": standards,
            "requirements": requirements,
        },
        "remediation": remediation,
        "resources": [{
            "uid": &row.asset.id,
            "name": &row.asset.name,
            "type": &row.asset.resource_type,
            "region": &row.asset.region,
            "role_id": 1,
            "role": "Target",
        }],
        "cloud": {
            "provider": "AWS",
            "region": &row.asset.region,
            "account": {"uid": &row.asset.account, "type_id": 10, "type": "AWS Account"},
        },
        "unmapped": {"evidence": &row.evaluation.evidence},
    })
}

/// Writes every result as one Compliance Finding event per line.
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    for row in &report.rows {
        serde_json::to_writer(&mut *out, &event(report, row))?;
        writeln!(out)?;
    }
    Ok(())
}

/// The `ocsf` format.
pub const OCSF: crate::format::Format = crate::format::Format {
    name: "ocsf",
    description: "OCSF Compliance Finding events (class 2003), one per line, for security data lakes",
    extensions: &[".ocsf", ".ocsf.json", ".ocsf.jsonl"],
    write: |report, _, out| write(report, out),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn statuses_and_severities_map_to_ocsf_ids() {
        let report = fixture::report();
        let events: Vec<Value> = report.rows.iter().map(|r| event(&report, r)).collect();
        let statuses: Vec<u64> = events
            .iter()
            .map(|e| e["compliance"]["status_id"].as_u64().expect("id"))
            .collect();
        assert_eq!(statuses, [1, 3, 2], "pass, fail, unknown in report order");
        assert_eq!(events[1]["severity_id"], 4);
        assert_eq!(events[0]["type_uid"], 200301);
        assert_eq!(
            events[0]["compliance"]["requirements"][0],
            "cis-aws-foundations-7.0:3.1.1"
        );
    }
}
