//! `parapet scan file`: evaluate every rule over the assets of a JSON Lines
//! file and summarise; and the evaluation and report every scan shares.

use crate::cli::{Format, GlobalArgs, ReportArgs, ScanFileArgs};
use crate::output::{EXIT_ERROR, EXIT_FAILED, Style, print_json};
use crate::rules_cmd::{load_rules, report_load_errors};
use anyhow::{Context, Result};
use chrono::Utc;
use comfy_table::Cell;
use parapet_core::{Asset, Evaluation, Provider, ScanRun, Scope, Severity, Status, jsonl};
use parapet_rules::{Engine, TagPolicy};
use parapet_store::Store;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::BufReader;
use std::process::ExitCode;

/// Counts of results for one severity, by status.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
struct Counts {
    fail: usize,
    unknown: usize,
    error: usize,
    pass: usize,
}

impl Counts {
    fn add(&mut self, status: Status) {
        match status {
            Status::Fail => self.fail += 1,
            Status::Unknown => self.unknown += 1,
            Status::Error => self.error += 1,
            Status::Pass => self.pass += 1,
        }
    }

    fn total(&self) -> usize {
        self.fail + self.unknown + self.error + self.pass
    }
}

/// One evaluation with its rule's severity, as printed.
#[derive(Serialize)]
struct ResultView<'a> {
    severity: Severity,
    #[serde(flatten)]
    evaluation: &'a Evaluation,
}

#[derive(Serialize)]
struct ScanReport<'a> {
    /// What a collector read, for scans that collect.
    #[serde(skip_serializing_if = "Option::is_none")]
    collection: Option<&'a serde_json::Value>,
    assets: usize,
    rules: usize,
    summary: BTreeMap<Severity, Counts>,
    input_errors: Vec<String>,
    /// The scan runs written to the database, one per provider.
    recorded: Vec<ScanRun>,
    results: Vec<ResultView<'a>>,
}

fn read_assets(args: &ScanFileArgs) -> Result<(Vec<Asset>, Vec<String>)> {
    let name = args.assets.display().to_string();
    let reader: Box<dyn std::io::BufRead> = if name == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        let file = std::fs::File::open(&args.assets)
            .with_context(|| format!("cannot open the assets file {name}"))?;
        Box::new(BufReader::new(file))
    };
    let mut assets = Vec::new();
    let mut errors = Vec::new();
    for item in jsonl::read_assets(reader, &name) {
        match item {
            Ok(asset) => assets.push(asset),
            Err(e) => errors.push(e.to_string()),
        }
    }
    Ok((assets, errors))
}

/// Records the scan in the database: one scan run per provider in the file,
/// whose scope is the accounts in the file (and those given with
/// `--account`), each written as one transaction.
fn record(
    global: &GlobalArgs,
    args: &ScanFileArgs,
    assets: &[Asset],
    evaluations: &[Evaluation],
    severity: &dyn Fn(&str) -> Severity,
) -> Result<Vec<ScanRun>> {
    let mut providers: BTreeSet<Provider> = assets.iter().map(|a| a.provider).collect();
    if providers.is_empty() && !args.accounts.is_empty() {
        providers.insert(Provider::Aws);
    }
    if providers.is_empty() {
        return Ok(Vec::new());
    }
    let mut store = crate::db::open(global)?;
    let source = match args.assets.to_str() {
        Some("-") => "standard input".to_owned(),
        _ => args.assets.display().to_string(),
    };
    let single = providers.len() == 1;
    let mut runs = Vec::new();
    for provider in providers {
        // A file of one provider, the usual case, is recorded without copies.
        let (assets, evaluations): (Cow<[Asset]>, Cow<[Evaluation]>) = if single {
            (Cow::Borrowed(assets), Cow::Borrowed(evaluations))
        } else {
            let of_provider: Vec<Asset> = assets
                .iter()
                .filter(|a| a.provider == provider)
                .cloned()
                .collect();
            let ids: HashSet<&str> = of_provider.iter().map(|a| a.id.as_str()).collect();
            let evaluations = evaluations
                .iter()
                .filter(|e| ids.contains(&*e.asset_id))
                .cloned()
                .collect();
            (Cow::Owned(of_provider), Cow::Owned(evaluations))
        };
        let accounts: BTreeSet<String> = assets
            .iter()
            .map(|a| a.account.clone())
            .chain(args.accounts.iter().cloned())
            .collect();
        let scope = Scope {
            provider,
            accounts: accounts.into_iter().collect(),
            regions: None,
            resource_types: None,
        };
        let started = Utc::now();
        let id = store.begin_scan(&scope, &source, started)?;
        let output = store
            .finish_scan(id, &assets, &evaluations, severity, &[], Utc::now())
            .with_context(|| format!("recording scan {id} in {}", store.path().display()))?;
        runs.push(output.scan);
    }
    Ok(runs)
}

/// Runs `parapet scan file`.
pub fn run_file(global: &GlobalArgs, args: &ScanFileArgs, style: Style) -> Result<ExitCode> {
    let config = crate::config::load(global)?;
    let (assets, input_errors) = read_assets(args)?;
    for error in &input_errors {
        eprintln!("error: {error}");
    }
    evaluate_and_report(
        global,
        &args.report,
        style,
        &assets,
        &input_errors,
        None,
        &config.tags,
        |assets, evaluations, severity| record(global, args, assets, evaluations, severity),
    )
}

/// Records a scan's assets and evaluations; returns the scan runs written.
pub trait Recorder:
    FnOnce(&[Asset], &[Evaluation], &dyn Fn(&str) -> Severity) -> Result<Vec<ScanRun>>
{
}

impl<F> Recorder for F where
    F: FnOnce(&[Asset], &[Evaluation], &dyn Fn(&str) -> Severity) -> Result<Vec<ScanRun>>
{
}

/// Evaluates every rule over `assets`, records them unless `--no-store`, and
/// reports. `collection` is what a collector printed about its work, for the
/// JSON report.
pub fn evaluate_and_report(
    global: &GlobalArgs,
    args: &ReportArgs,
    style: Style,
    assets: &[Asset],
    input_errors: &[String],
    collection: Option<&serde_json::Value>,
    tags: &TagPolicy,
    record: impl Recorder,
) -> Result<ExitCode> {
    let report = load_rules(global);
    let rules_failed = report_load_errors(&report);
    let engine = Engine::new(report.rules, Utc::now()).with_tag_policy(tags);
    let evaluations = engine.evaluate_all(assets);
    let severity: HashMap<&str, Severity> = engine
        .rules()
        .iter()
        .map(|r| (&*r.id, r.severity))
        .collect();
    let rule_severity = |rule: &str| {
        severity
            .get(rule)
            .copied()
            .unwrap_or(Severity::Informational)
    };
    let severity_of = |e: &Evaluation| rule_severity(&e.rule_id);

    let mut summary: BTreeMap<Severity, Counts> = Severity::ALL
        .iter()
        .map(|s| (*s, Counts::default()))
        .collect();
    for evaluation in &evaluations {
        summary
            .entry(severity_of(evaluation))
            .or_default()
            .add(evaluation.status);
    }
    let mut results: Vec<ResultView> = evaluations
        .iter()
        .map(|evaluation| ResultView {
            severity: severity_of(evaluation),
            evaluation,
        })
        .collect();
    results.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.evaluation.rule_id.cmp(&b.evaluation.rule_id))
            .then(a.evaluation.asset_id.cmp(&b.evaluation.asset_id))
    });
    let recorded = if args.no_store {
        Vec::new()
    } else {
        record(assets, &evaluations, &rule_severity)?
    };
    let threshold_met = args.fail_on.is_some_and(|threshold| {
        results
            .iter()
            .any(|r| r.evaluation.status == Status::Fail && r.severity >= threshold)
    });

    match args.format {
        Format::Json => {
            let results = results
                .into_iter()
                .filter(|r| r.evaluation.status != Status::Pass)
                .collect();
            print_json(&ScanReport {
                collection,
                assets: assets.len(),
                rules: engine.rules().len(),
                summary,
                input_errors: input_errors.to_vec(),
                recorded: recorded.clone(),
                results,
            })?;
        }
        Format::Table => {
            print_tables(
                &summary,
                &results,
                assets.len(),
                engine.rules().len(),
                args.show_undecided,
                style,
            )?;
            for run in &recorded {
                let c = &run.counts;
                out!(
                    "Recorded scan {}: {} assets ({} new, {} changed, {} deleted); findings {} opened, {} resolved, {} reopened.",
                    run.id,
                    c.assets,
                    c.created,
                    c.changed,
                    c.deleted,
                    c.opened,
                    c.resolved,
                    c.reopened
                );
            }
        }
    }
    Ok(if rules_failed || !input_errors.is_empty() {
        ExitCode::from(EXIT_ERROR)
    } else if threshold_met {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_tables(
    summary: &BTreeMap<Severity, Counts>,
    results: &[ResultView],
    assets: usize,
    rules: usize,
    show_undecided: bool,
    style: Style,
) -> Result<()> {
    let mut table = style.table(&["severity", "fail", "unknown", "error", "pass", "total"]);
    let mut total = Counts::default();
    for severity in Severity::ALL {
        let counts = summary.get(&severity).cloned().unwrap_or_default();
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
    out!(
        "{assets} assets, {rules} rules, {} evaluations",
        total.total()
    );
    out!("{table}");
    let shown: Vec<&ResultView> = results
        .iter()
        .filter(|r| match r.evaluation.status {
            Status::Fail => true,
            Status::Unknown | Status::Error => show_undecided,
            Status::Pass => false,
        })
        .collect();
    if shown.is_empty() {
        if total.fail == 0 {
            out!("No failing results.");
        }
    } else {
        let mut table = style.table(&["severity", "status", "rule", "asset", "message"]);
        for r in shown {
            table.add_row(vec![
                style.severity(r.severity),
                style.status(r.evaluation.status),
                Cell::new(&*r.evaluation.rule_id),
                Cell::new(&*r.evaluation.asset_id),
                Cell::new(&*r.evaluation.message),
            ]);
        }
        out!("{table}");
    }
    if !show_undecided && total.unknown + total.error > 0 {
        out!(
            "{} results could not be decided (unknown or error): --show-undecided lists them.",
            total.unknown + total.error
        );
    }
    Ok(())
}
