//! One self-contained HTML page: the summary with charts, each framework's
//! controls per account, and every result in a table with filters and
//! search. The data is embedded as JSON and the page needs no network
//! access to render.

use crate::compliance;
use crate::json::ResultRecord;
use crate::{Report, VERSION};
use minijinja::{Environment, context};
use serde::Serialize;
use std::io::{self, Write};

const TEMPLATE: &str = include_str!("../templates/report.html");

/// One framework's view, for the page.
#[derive(Serialize)]
struct FrameworkView<'a> {
    id: &'a str,
    name: &'a str,
    version: &'a str,
    accounts: Vec<compliance::AccountCompliance<'a>>,
}

/// Writes the HTML report; `rules` are every rule loaded (for the
/// framework views).
pub fn write(
    report: &Report<'_>,
    rules: &[parapet_rules::Rule],
    out: &mut dyn Write,
) -> io::Result<()> {
    let results: Vec<ResultRecord> = report.rows.iter().map(ResultRecord::of).collect();
    let frameworks: Vec<FrameworkView> = report
        .frameworks
        .iter()
        .map(|f| FrameworkView {
            id: &f.id,
            name: &f.name,
            version: &f.version,
            accounts: compliance::evaluate(f, rules, &report.rows, &[]),
        })
        .collect();
    let data = serde_json::json!({
        "generated_at": report.generated_at,
        "version": VERSION,
        "assets": report.assets,
        "rules": report.rules,
        "summary": report.summary(),
        "results": results,
        "frameworks": frameworks,
    });
    let mut env = Environment::new();
    env.add_template("report.html", TEMPLATE)
        .map_err(io::Error::other)?;
    let page = env
        .get_template("report.html")
        .and_then(|t| {
            t.render(context! {
                data => minijinja::value::Serde(&data),
                generated_at => report.generated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                version => VERSION,
                provenance => report
                    .provenance
                    .iter()
                    .map(|p| format!("{} with rules {}", p.collector, p.rules))
                    .collect::<Vec<_>>()
                    .join("; "),
            })
        })
        .map_err(io::Error::other)?;
    out.write_all(page.as_bytes())
}

/// The `html` format.
pub const HTML: crate::format::Format = crate::format::Format {
    name: "html",
    description: "One self-contained HTML page: summary charts, per-framework compliance, filters and search",
    extensions: &[".html", ".htm"],
    write,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn the_data_is_embedded_and_cannot_close_the_script() {
        let mut out = Vec::new();
        write(&fixture::report(), &fixture::RULE_LIST, &mut out).expect("write");
        let page = String::from_utf8(out).expect("UTF-8");
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(!page.contains("<keys>"), "markup in data is escaped");
        assert!(
            !page.contains("http://") && !page.contains("src=\"https"),
            "no network access"
        );
        let start = page.find("id=\"report-data\"").expect("data element");
        assert!(page[start..].contains("aws-s3-bucket-demo-encrypted"));
    }
}
