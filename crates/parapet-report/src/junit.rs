//! JUnit XML: one test suite per rule and one test case per asset it was
//! evaluated on. A failing result is a `failure`, an evaluation error an
//! `error`, and an undecided result is `skipped`, so CI systems show the
//! posture as a test report.

use crate::{Counts, Report, Row};
use parapet_core::Status;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use std::io::{self, Write};

/// Writes the results as JUnit XML.
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut total = Counts::default();
    report.rows.iter().for_each(|r| total.add(r.status()));
    let mut suites: Vec<Vec<&Row<'_>>> = Vec::new();
    for row in &report.rows {
        match suites.last_mut() {
            Some(suite) if suite[0].rule.id == row.rule.id => suite.push(row),
            _ => suites.push(vec![row]),
        }
    }
    let mut writer = Writer::new_with_indent(out, b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let timestamp = report
        .generated_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    writer
        .create_element("testsuites")
        .with_attributes([
            ("name", "parapet"),
            ("tests", total.total().to_string().as_str()),
            ("failures", total.fail.to_string().as_str()),
            ("errors", total.error.to_string().as_str()),
            ("skipped", total.unknown.to_string().as_str()),
            ("timestamp", timestamp.as_str()),
        ])
        .write_inner_content(|writer| {
            for suite in &suites {
                write_suite(writer, suite, &timestamp)?;
            }
            Ok::<_, io::Error>(())
        })?;
    writeln!(writer.get_mut())
}

fn write_suite<W: Write>(
    writer: &mut Writer<W>,
    suite: &[&Row<'_>],
    timestamp: &str,
) -> io::Result<()> {
    let mut counts = Counts::default();
    suite.iter().for_each(|r| counts.add(r.status()));
    let rule = suite[0].rule;
    writer
        .create_element("testsuite")
        .with_attributes([
            ("name", &*rule.id),
            ("tests", counts.total().to_string().as_str()),
            ("failures", counts.fail.to_string().as_str()),
            ("errors", counts.error.to_string().as_str()),
            ("skipped", counts.unknown.to_string().as_str()),
            ("timestamp", timestamp),
        ])
        .write_inner_content(|writer| {
            for row in suite {
                let case = writer
                    .create_element("testcase")
                    .with_attributes([("classname", &*rule.id), ("name", row.asset.id.as_str())]);
                let message = &*row.evaluation.message;
                let evidence =
                    serde_json::to_string_pretty(&row.evaluation.evidence).unwrap_or_default();
                match row.status() {
                    Status::Pass => {
                        case.write_empty()?;
                    }
                    Status::Fail => {
                        case.write_inner_content(|w| {
                            w.create_element("failure")
                                .with_attributes([
                                    ("message", message),
                                    ("type", rule.severity.as_str()),
                                ])
                                .write_text_content(BytesText::new(&evidence))?;
                            Ok::<_, io::Error>(())
                        })?;
                    }
                    Status::Error => {
                        case.write_inner_content(|w| {
                            w.create_element("error")
                                .with_attribute(("message", message))
                                .write_empty()?;
                            Ok::<_, io::Error>(())
                        })?;
                    }
                    Status::Unknown => {
                        case.write_inner_content(|w| {
                            w.create_element("skipped")
                                .with_attribute(("message", message))
                                .write_empty()?;
                            Ok::<_, io::Error>(())
                        })?;
                    }
                }
            }
            Ok::<_, io::Error>(())
        })?;
    Ok(())
}

/// The `junit` format.
pub const JUNIT: crate::format::Format = crate::format::Format {
    name: "junit",
    description: "JUnit XML: one test suite per rule, one test case per asset",
    extensions: &[".xml"],
    write: |report, _, out| write(report, out),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;
    use quick_xml::Reader;
    use quick_xml::events::Event;

    #[test]
    fn suites_per_rule_with_escaped_failures() {
        let mut out = Vec::new();
        write(&fixture::report(), &mut out).expect("write");
        let text = String::from_utf8(out).expect("UTF-8");
        assert!(
            text.contains(
                r#"<testsuites name="parapet" tests="3" failures="1" errors="0" skipped="1""#
            ),
            "{text}"
        );
        assert!(
            text.contains("&quot;KMS&quot; &amp; &lt;keys&gt;"),
            "{text}"
        );
        let mut reader = Reader::from_str(&text);
        let (mut suites, mut cases) = (0, 0);
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testsuite" => {
                    suites += 1
                }
                Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testcase" => cases += 1,
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!((suites, cases), (2, 3));
    }
}
