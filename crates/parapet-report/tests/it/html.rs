//! The HTML report in Debian's headless Chromium, driven through ChromeDriver
//! by `tests/browser/drive_report.py` (Selenium, from the environment
//! `scripts/moto-venv` makes; Chromium from `scripts/chromium`): the page
//! logs nothing to the console, its tabs switch, and each filter and the
//! search show exactly the results they should.

use crate::sample::{Sample, python};
use parapet_core::{Severity, Status};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What the browser saw, as the script prints it.
fn drive(report: &Path, screenshots: &Path) -> Value {
    for program in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        assert!(
            Path::new(program).exists(),
            "{program} is missing: run scripts/chromium (bash .ci/test does)"
        );
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser/drive_report.py");
    let output = python(&[
        script.as_os_str(),
        report.as_os_str(),
        screenshots.as_os_str(),
    ]);
    serde_json::from_slice(&output).expect("the script's JSON")
}

/// The rows of one step, and its count line.
fn step<'a>(seen: &'a Value, name: &str) -> (&'a Vec<Value>, &'a str) {
    let step = &seen["steps"][name];
    (
        step["rows"].as_array().expect("rows"),
        step["count"].as_str().expect("count"),
    )
}

#[test]
fn the_html_report_renders_without_console_messages_and_its_filters_work() {
    let sample = Sample::new();
    let report = sample.report();
    let dir = tempfile::tempdir().expect("temporary folder");
    let page = dir.path().join("report.html");
    let mut out = Vec::new();
    parapet_report::html::write(&report, &sample.rules, &mut out).expect("write");
    std::fs::write(&page, &out).expect("write page");
    // The screenshots stay where PARAPET_SCREENSHOT_DIR says, to be looked at.
    let screenshots = std::env::var_os("PARAPET_SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.path().to_owned());
    std::fs::create_dir_all(&screenshots).expect("screenshot folder");
    let seen = drive(&page, &screenshots);

    assert_eq!(
        seen["console"],
        Value::Array(Vec::new()),
        "console messages"
    );
    assert!(seen["title"].as_str().expect("title").contains("Parapet"));
    assert!(seen["summary_cards"].as_u64().expect("cards") > 0);
    assert_eq!(seen["frameworks_visible"], true);
    assert_eq!(seen["results_visible"], true);
    assert_eq!(seen["summary_visible"], false);
    let frameworks: Vec<&str> = seen["framework_options"]
        .as_array()
        .expect("options")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        frameworks.contains(&"cis-aws-foundations-7.0"),
        "{frameworks:?}"
    );
    assert!(seen["framework_rows"].as_u64().expect("rows") > 0);

    // Each step shows exactly the rows the report's own data says it should.
    let total = report.rows.len();
    let expect = |name: &str, keep: &dyn Fn(&parapet_report::Row<'_>) -> bool| {
        let (rows, count) = step(&seen, name);
        let expected: Vec<&parapet_report::Row<'_>> =
            report.rows.iter().filter(|r| keep(r)).collect();
        assert_eq!(rows.len(), expected.len(), "{name}: {count}");
        assert_eq!(
            count,
            format!("{} of {total} results", expected.len()),
            "{name}"
        );
        for (shown, row) in rows.iter().zip(&expected) {
            assert_eq!(shown["rule"], row.rule.id.as_ref(), "{name}");
            assert_eq!(shown["status"], row.status().as_str(), "{name}");
        }
        rows.len()
    };
    let undecided = expect("initial", &|r| r.status() != Status::Pass);
    assert_eq!(expect("every status", &|_| true), total);
    let failing = expect("fail", &|r| r.status() == Status::Fail);
    let critical = expect("fail critical", &|r| {
        r.status() == Status::Fail && r.severity() == Severity::Critical
    });
    let account = expect("every status in 444455556666", &|r| {
        r.asset.account == "444455556666"
    });
    let ssh = expect("search security-group-no-ssh", &|r| {
        r.rule.id.contains("security-group-no-ssh")
    });
    assert_eq!(expect("search nothing", &|_| false), 0);
    // The filters narrowed for real: none of them is trivially everything.
    assert!(0 < critical && critical < failing && failing < undecided && undecided < total);
    assert!(0 < account && account < total);
    assert!(ssh > 0);

    for tab in ["summary", "frameworks", "results"] {
        let png = std::fs::read(screenshots.join(format!("{tab}.png"))).expect("screenshot");
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 20_000,
            "{tab}: {} bytes",
            png.len()
        );
    }
}
