//! The IAM credential report: generated on demand, read once per
//! collection, shared by users and the root account.

use crate::error::{Call, Failure, Named};
use aws_sdk_iam::Client;
use aws_sdk_iam::types::ReportStateType;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The credential report's rows by user name (`<root_account>` for root).
pub(super) type Report = Arc<Call<HashMap<String, HashMap<String, String>>>>;

pub(super) async fn credential_report(iam: &Client) -> Report {
    Arc::new(read_credential_report(iam).await)
}

async fn read_credential_report(iam: &Client) -> Call<HashMap<String, HashMap<String, String>>> {
    // The report is generated on demand and may take a few seconds.
    for _ in 0..20 {
        let state = iam
            .generate_credential_report()
            .send()
            .await
            .named("iam:GenerateCredentialReport")?;
        if state.state() == Some(&ReportStateType::Complete) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let answer = iam
        .get_credential_report()
        .send()
        .await
        .named("iam:GetCredentialReport")?;
    let content = answer
        .content()
        .ok_or_else(|| Failure::malformed("iam:GetCredentialReport", "the report is empty"))?;
    parse_credential_report(content.as_ref())
        .map_err(|e| Failure::malformed("iam:GetCredentialReport", e))
}

/// The rows of a credential report (CSV with a header line).
fn parse_credential_report(
    content: &[u8],
) -> Result<HashMap<String, HashMap<String, String>>, String> {
    let mut reader = csv::Reader::from_reader(content);
    let headers = reader
        .headers()
        .map_err(|e| format!("the report's header does not parse: {e}"))?
        .clone();
    let mut rows = HashMap::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("row {} does not parse: {e}", line + 2))?;
        let row: HashMap<String, String> = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.to_owned(), v.to_owned()))
            .collect();
        if let Some(user) = row.get("user") {
            rows.insert(user.clone(), row);
        }
    }
    Ok(rows)
}

/// A report cell as a JSON value: booleans, `null` for `N/A` and
/// `no_information`, strings otherwise.
pub(super) fn cell(row: &HashMap<String, String>, column: &str) -> Value {
    match row.get(column).map(String::as_str) {
        Some("true") => Value::Bool(true),
        Some("false") => Value::Bool(false),
        None | Some("N/A") | Some("not_supported") | Some("no_information") => Value::Null,
        Some(other) => Value::String(other.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_reports_are_read_by_user() {
        let csv = "user,arn,user_creation_time,password_enabled,mfa_active,access_key_1_active\n\
                   <root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,true,false\n\
                   alice,arn:aws:iam::123456789012:user/alice,2021-01-01T00:00:00+00:00,true,false,true\n";
        let rows = parse_credential_report(csv.as_bytes()).expect("parses");
        assert_eq!(cell(&rows["alice"], "password_enabled"), Value::Bool(true));
        assert_eq!(cell(&rows["alice"], "mfa_active"), Value::Bool(false));
        assert_eq!(
            cell(&rows["<root_account>"], "password_enabled"),
            Value::Null
        );
        assert_eq!(
            cell(&rows["<root_account>"], "mfa_active"),
            Value::Bool(true)
        );
    }

    #[test]
    fn a_broken_credential_report_is_an_error_with_its_row() {
        let csv = "user,arn\nalice,arn,extra\n";
        let error = parse_credential_report(csv.as_bytes()).expect_err("broken");
        assert!(error.contains("row 2"), "{error}");
    }
}
