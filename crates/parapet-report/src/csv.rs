//! CSV: one row per result, passes included, for spreadsheets.

use crate::Report;
use std::io::{self, Write};

/// The header row.
pub const HEADER: [&str; 12] = [
    "severity",
    "status",
    "rule_id",
    "rule_title",
    "asset_id",
    "resource_type",
    "account",
    "region",
    "asset_name",
    "message",
    "frameworks",
    "remediation",
];

/// Writes every result as CSV with a header row.
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut writer = ::csv::Writer::from_writer(out);
    writer.write_record(HEADER)?;
    for row in &report.rows {
        let frameworks: Vec<String> = row
            .rule
            .frameworks
            .iter()
            .flat_map(|(framework, controls)| {
                controls.iter().map(move |c| format!("{framework}:{c}"))
            })
            .collect();
        writer.write_record([
            row.severity().as_str(),
            row.status().as_str(),
            &row.rule.id,
            &row.rule.title,
            &row.asset.id,
            &row.asset.resource_type,
            &row.asset.account,
            &row.asset.region,
            &row.asset.name,
            &row.evaluation.message,
            &frameworks.join(" "),
            &row.rule.remediation.text,
        ])?;
    }
    writer.flush()
}

/// The `csv` format.
pub const CSV: crate::format::Format = crate::format::Format {
    name: "csv",
    description: "CSV: every result, one row each, with framework controls and remediation",
    extensions: &[".csv"],
    write: |report, _, out| write(report, out),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn quotes_survive_and_every_result_is_a_row() {
        let mut out = Vec::new();
        write(&fixture::report(), &mut out).expect("write");
        let mut reader = ::csv::Reader::from_reader(out.as_slice());
        assert_eq!(reader.headers().expect("header").len(), HEADER.len());
        let rows: Vec<::csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(&rows[1][1], "fail");
        assert_eq!(
            &rows[1][9],
            "S3 buckets are encrypted with \"KMS\" & <keys>"
        );
        assert_eq!(&rows[1][10], "cis-aws-foundations-7.0:3.1.1");
    }
}
