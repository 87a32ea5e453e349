//! CSV: one row per result, passes included, for spreadsheets. Asset
//! names, tags and messages come from the accounts scanned, so a cell that
//! a spreadsheet would take for a formula (starting with `=`, `+`, `-`,
//! `@`, a tab or a carriage return) is written with a leading `'`, which
//! spreadsheets show as text.

use crate::Report;
use std::borrow::Cow;
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
        let cells = [
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
        ];
        writer.write_record(cells.map(|cell| Text(as_text(cell))))?;
    }
    writer.flush()
}

/// A cell as the CSV writer takes it.
struct Text<'a>(Cow<'a, str>);

impl AsRef<[u8]> for Text<'_> {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// `cell` as a spreadsheet reads it as text, never as a formula.
fn as_text(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
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

    #[test]
    fn cells_a_spreadsheet_would_run_as_formulas_are_written_as_text() {
        let mut assets = fixture::ASSETS.clone();
        for asset in assets.values_mut() {
            asset.name = "=HYPERLINK(\"https://evil.example\",\"open\")".into();
        }
        let frameworks = parapet_rules::framework::builtin();
        let (report, _) = Report::new(
            fixture::report().generated_at,
            &fixture::RULE_LIST,
            &assets,
            &fixture::EVALUATIONS,
            &frameworks,
        );
        let mut out = Vec::new();
        write(&report, &mut out).expect("write");
        let mut reader = ::csv::Reader::from_reader(out.as_slice());
        let first = reader.records().next().expect("a row").expect("readable");
        assert_eq!(&first[8], "'=HYPERLINK(\"https://evil.example\",\"open\")");
        for cell in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(as_text(cell), format!("'{cell}"), "{cell:?}");
        }
        for cell in ["prod-logs", "", "a=b", "1-2"] {
            assert_eq!(as_text(cell), cell);
        }
    }
}
