//! Results in every report format, for scans and `parapet report`: the
//! terminal tables, files given with `--output`, and `parapet report
//! compliance|frameworks|results` over the latest results in the database.

use crate::cli::{Format, GlobalArgs, OutputSpec, ReportCommand, ReportFormat};
use crate::output::{EXIT_FAILED, Style, print_json};
use crate::rules_cmd::{load_rules, report_load_errors};
use anyhow::{Context, Result};
use chrono::Utc;
use comfy_table::Cell;
use parapet_core::{Asset, Evaluation, Severity, Status};
use parapet_report::compliance::{self, ControlStatus};
use parapet_report::{AssetInfo, Counts, Report, Row};
use parapet_rules::Rule;
use std::collections::{BTreeSet, HashMap};
use std::io::{self, Write};
use std::process::ExitCode;

/// How reports name an asset.
pub fn asset_info(asset: &Asset) -> AssetInfo {
    AssetInfo {
        id: asset.id.clone(),
        resource_type: asset.resource_type.as_str().to_owned(),
        account: asset.account.clone(),
        region: asset.region.clone(),
        name: asset.name.clone(),
    }
}

/// Writes `report` in `format` (not the table) to `out`.
pub fn write_format(
    format: ReportFormat,
    report: &Report<'_>,
    rules: &[Rule],
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        ReportFormat::Table => write_tables(report, false, style, out),
        ReportFormat::Report(format) => format.write(report, rules, out),
    }
}

/// Writes `report` to standard output in `format`.
pub fn write_stdout(
    format: ReportFormat,
    report: &Report<'_>,
    rules: &[Rule],
    style: Style,
) -> Result<()> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    write_format(format, report, rules, style, &mut out)?;
    out.flush()?;
    Ok(())
}

/// Writes every `--output` file; tables in files are never coloured.
pub fn write_outputs(outputs: &[OutputSpec], report: &Report<'_>, rules: &[Rule]) -> Result<()> {
    for output in outputs {
        let file = std::fs::File::create(&output.path)
            .with_context(|| format!("cannot create {}", output.path.display()))?;
        let mut out = io::BufWriter::new(file);
        write_format(output.format, report, rules, Style::plain(), &mut out)
            .and_then(|()| out.flush())
            .with_context(|| format!("cannot write {}", output.path.display()))?;
    }
    Ok(())
}

/// Whether a rule of `threshold` severity or worse fails.
pub fn threshold_met(report: &Report<'_>, threshold: Option<Severity>) -> bool {
    threshold.is_some_and(|threshold| {
        report
            .rows
            .iter()
            .any(|r| r.status() == Status::Fail && r.severity() >= threshold)
    })
}

/// The summary by severity and status, then the failing results grouped by
/// rule (the undecided ones too with `show_undecided`).
pub fn write_tables(
    report: &Report<'_>,
    show_undecided: bool,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    let summary = report.summary();
    let mut table = style.table(&["severity", "fail", "unknown", "error", "pass", "total"]);
    let mut total = Counts::default();
    for severity in Severity::ALL {
        let counts = summary.get(&severity).copied().unwrap_or_default();
        total.fail += counts.fail;
        total.unknown += counts.unknown;
        total.error += counts.error;
        total.pass += counts.pass;
        table.add_row(vec![
            style.severity(severity),
            Cell::new(counts.fail),
            Cell::new(counts.unknown),
            Cell::new(counts.error),
            Cell::new(counts.pass),
            Cell::new(counts.total()),
        ]);
    }
    table.add_row(vec![
        Cell::new("all"),
        Cell::new(total.fail),
        Cell::new(total.unknown),
        Cell::new(total.error),
        Cell::new(total.pass),
        Cell::new(total.total()),
    ]);
    writeln!(
        out,
        "{} assets, {} rules, {} evaluations",
        report.assets,
        report.rules,
        total.total()
    )?;
    writeln!(out, "{table}")?;
    let shown: Vec<&Row> = report
        .rows
        .iter()
        .filter(|r| match r.status() {
            Status::Fail => true,
            Status::Unknown | Status::Error => show_undecided,
            Status::Pass => false,
        })
        .collect();
    if shown.is_empty() && total.fail == 0 {
        writeln!(out, "No failing results.")?;
    }
    // Rows are sorted by severity, then rule: each run of one rule is a group.
    for group in shown.chunk_by(|a, b| a.rule.id == b.rule.id) {
        let rule = group[0].rule;
        let failing = group.iter().filter(|r| r.status() == Status::Fail).count();
        writeln!(
            out,
            "\n{} {}: {} ({} failing{})",
            rule.severity.as_str().to_uppercase(),
            rule.id,
            rule.title,
            failing,
            if group.len() > failing {
                format!(", {} undecided", group.len() - failing)
            } else {
                String::new()
            }
        )?;
        let mut table = style.table(&["status", "asset", "account", "region", "message"]);
        for row in group {
            table.add_row(vec![
                style.status(row.status()),
                Cell::new(&row.asset.id),
                Cell::new(&row.asset.account),
                Cell::new(&row.asset.region),
                Cell::new(&*row.evaluation.message),
            ]);
        }
        writeln!(out, "{table}")?;
    }
    if !show_undecided && total.unknown + total.error > 0 {
        writeln!(
            out,
            "{} results could not be decided (unknown or error): --show-undecided lists them.",
            total.unknown + total.error
        )?;
    }
    Ok(())
}

/// The latest results in the database, as assets and evaluations a report
/// borrows.
struct Stored {
    assets: HashMap<String, AssetInfo>,
    evaluations: Vec<Evaluation>,
    accounts: Vec<String>,
    /// What produced the recent scans, each once.
    provenance: Vec<parapet_core::Provenance>,
}

impl Stored {
    /// The report of these results.
    fn report<'a>(
        &'a self,
        rules: &'a [Rule],
        frameworks: &'a [parapet_rules::Framework],
    ) -> Report<'a> {
        let (mut report, _) = Report::new(
            Utc::now(),
            rules,
            &self.assets,
            &self.evaluations,
            frameworks,
        );
        report.provenance = self.provenance.clone();
        report
    }
}

/// The rules (load errors reported) and the latest results in the database.
fn rules_and_results(
    global: &GlobalArgs,
    account: Option<&str>,
) -> Result<(parapet_rules::LoadReport, Stored)> {
    let rules = load_rules(global);
    report_load_errors(&rules);
    Ok((rules, stored(global, account)?))
}

fn stored(global: &GlobalArgs, account: Option<&str>) -> Result<Stored> {
    let store = crate::db::open(global)?;
    let names = store.asset_names(account)?;
    let results = store.results(account)?;
    let mut assets = HashMap::new();
    let mut evaluations = Vec::with_capacity(results.len());
    let mut accounts: BTreeSet<String> = account.map(str::to_owned).into_iter().collect();
    for finding in results {
        if !accounts.contains(&finding.account) {
            accounts.insert(finding.account.clone());
        }
        assets
            .entry(finding.asset_id.clone())
            .or_insert_with(|| AssetInfo {
                name: names
                    .get(&finding.asset_id)
                    .cloned()
                    .unwrap_or_else(|| finding.asset_id.clone()),
                id: finding.asset_id.clone(),
                resource_type: finding.resource_type.clone(),
                account: finding.account.clone(),
                region: finding.region.clone(),
            });
        evaluations.push(Evaluation::from(finding));
    }
    let mut provenance = Vec::new();
    for scan in store.scans(RECENT_SCANS)? {
        if let Some(p) = scan.provenance
            && !provenance.contains(&p)
        {
            provenance.push(p);
        }
    }
    Ok(Stored {
        assets,
        evaluations,
        accounts: accounts.into_iter().collect(),
        provenance,
    })
}

/// How many recent scans a report of stored results names the producers of.
const RECENT_SCANS: usize = 100;

/// Runs `parapet report ...`.
pub fn run(global: &GlobalArgs, command: &ReportCommand, style: Style) -> Result<ExitCode> {
    let frameworks = parapet_rules::framework::builtin();
    match command {
        ReportCommand::Frameworks { format } => {
            let rules = load_rules(global);
            report_load_errors(&rules);
            let coverage: Vec<compliance::Coverage> = frameworks
                .iter()
                .map(|f| compliance::coverage(f, &rules.rules))
                .collect();
            match format {
                Format::Json => print_json(&coverage)?,
                Format::Table => {
                    let mut table = style.table(&[
                        "framework",
                        "name",
                        "version",
                        "controls",
                        "covered",
                        "manual, with evidence",
                        "manual",
                        "not covered",
                    ]);
                    for c in &coverage {
                        table.add_row(vec![
                            Cell::new(c.id),
                            Cell::new(c.name),
                            Cell::new(c.version),
                            Cell::new(c.controls),
                            Cell::new(c.covered.len()),
                            Cell::new(c.evidence.len()),
                            Cell::new(c.manual.len()),
                            Cell::new(c.not_covered.len()),
                        ]);
                    }
                    out!("{table}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ReportCommand::Compliance {
            framework,
            account,
            format,
        } => {
            let Some(framework) = frameworks.iter().find(|f| &f.id == framework) else {
                let known: Vec<&str> = frameworks.iter().map(|f| f.id.as_str()).collect();
                anyhow::bail!(
                    "unknown framework {framework}: the frameworks are {}",
                    known.join(", ")
                );
            };
            let (rules, data) = rules_and_results(global, account.as_deref())?;
            let report = data.report(&rules.rules, &frameworks);
            let accounts =
                compliance::evaluate(framework, &rules.rules, &report.rows, &data.accounts);
            match format {
                Format::Json => print_json(&serde_json::json!({
                    "framework": {"id": framework.id, "name": framework.name, "version": framework.version},
                    "accounts": accounts,
                }))?,
                Format::Table => {
                    if accounts.is_empty() {
                        out!("No results in the database: run a scan first.");
                    }
                    for account in &accounts {
                        out!(
                            "{} {}, account {}: {:.1}% of controls passing ({} pass, {} fail, {} unknown, {} manual)",
                            framework.name,
                            framework.version,
                            account.account,
                            account.passing_percent,
                            account.counts["pass"],
                            account.counts["fail"],
                            account.counts["unknown"],
                            account.counts["manual"],
                        );
                        let mut table = style.table(&[
                            "control", "status", "title", "fail", "unknown", "pass", "rules",
                        ]);
                        for c in &account.controls {
                            let status = Cell::new(c.status.as_str());
                            let status = match c.status {
                                ControlStatus::Pass => style.status_cell(status, Status::Pass),
                                ControlStatus::Fail => style.status_cell(status, Status::Fail),
                                ControlStatus::Unknown => {
                                    style.status_cell(status, Status::Unknown)
                                }
                                ControlStatus::Manual => status,
                            };
                            let rules = if c.rules.is_empty() && c.status != ControlStatus::Manual {
                                "no rule checks it".to_owned()
                            } else {
                                c.rules.join("\n")
                            };
                            table.add_row(vec![
                                Cell::new(&c.control.id),
                                status,
                                Cell::new(&c.control.title),
                                Cell::new(c.results.fail),
                                Cell::new(c.results.unknown + c.results.error),
                                Cell::new(c.results.pass),
                                Cell::new(rules),
                            ]);
                        }
                        out!("{table}");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ReportCommand::Results {
            account,
            format,
            output,
            fail_on,
            show_undecided,
        } => {
            let (rules, data) = rules_and_results(global, account.as_deref())?;
            let report = data.report(&rules.rules, &frameworks);
            write_outputs(output, &report, &rules.rules)?;
            match format {
                ReportFormat::Table => {
                    let mut stdout = io::stdout().lock();
                    write_tables(&report, *show_undecided, style, &mut stdout)?;
                }
                other => write_stdout(*other, &report, &rules.rules, style)?,
            }
            Ok(if threshold_met(&report, *fail_on) {
                ExitCode::from(EXIT_FAILED)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
