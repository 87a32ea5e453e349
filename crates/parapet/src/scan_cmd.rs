//! `parapet scan file`: evaluate every rule over the assets of a JSON Lines
//! file and summarise; and the evaluation and report every scan shares.

use crate::cli::{GlobalArgs, ReportArgs, ReportFormat, ScanFileArgs};
use crate::output::{EXIT_ERROR, EXIT_FAILED, Style, print_json};
use crate::rules_cmd::{load_rules, report_load_errors};
use anyhow::{Context, Result};
use chrono::Utc;
use parapet_core::{Asset, Evaluation, Provider, ScanRun, Scope, Severity, jsonl};
use parapet_report::json::ResultRecord;
use parapet_report::{AssetInfo, Counts, Report};
use parapet_rules::{Engine, TagPolicy};
use parapet_store::roles::*;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{BufReader, Write as _};
use std::process::ExitCode;

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
    results: Vec<ResultRecord<'a>>,
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
            assets: Default::default(),
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
pub fn run_file(
    global: &GlobalArgs,
    config: &crate::config::ConfigFile,
    args: &ScanFileArgs,
    style: Style,
) -> Result<ExitCode> {
    let (assets, input_errors) = read_assets(args)?;
    for error in &input_errors {
        eprintln!("error: {error}");
    }
    evaluate_and_report(
        global,
        &args.report,
        style,
        ScanInput {
            assets: &assets,
            input_errors: &input_errors,
            collection: None,
            tags: &config.tags,
            surroundings: &[],
        },
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

/// What a scan evaluates, and what it says about its input.
pub struct ScanInput<'a> {
    /// The assets.
    pub assets: &'a [Asset],
    /// Lines of the input that did not load.
    pub input_errors: &'a [String],
    /// What a collector read, for the JSON report.
    pub collection: Option<&'a serde_json::Value>,
    /// The tag policy rules check.
    pub tags: &'a TagPolicy,
    /// The assets around a partial collection (the rest of the estate in
    /// the database), for the topology that exposure is computed on; the
    /// collected assets replace their stored versions.
    pub surroundings: &'a [Asset],
}

/// The estate a topology is computed on: `assets`, and the `surroundings`
/// they do not replace.
fn with_surroundings<'a>(
    assets: &'a [Asset],
    surroundings: &'a [Asset],
) -> impl Iterator<Item = &'a Asset> {
    let fresh: std::collections::HashSet<&str> = assets.iter().map(|a| a.id.as_str()).collect();
    assets.iter().chain(
        surroundings
            .iter()
            .filter(move |a| !fresh.contains(a.id.as_str())),
    )
}

/// What an evaluation produced.
pub struct Evaluated {
    /// The rules and their context.
    pub engine: Engine,
    /// Every result.
    pub evaluations: Vec<Evaluation>,
    /// The scans recorded (none with `--no-store`).
    pub recorded: Vec<ScanRun>,
    /// Whether a rule file did not load.
    pub rules_failed: bool,
}

/// Evaluates every rule over the input's assets (exposure computed with
/// their surroundings) and records them unless `no_store`.
pub fn evaluate_and_record(
    global: &GlobalArgs,
    no_store: bool,
    assets: &[Asset],
    tags: &TagPolicy,
    surroundings: &[Asset],
    record: impl Recorder,
) -> Result<Evaluated> {
    let report = load_rules(global);
    let rules_failed = report_load_errors(&report);
    // The vulnerability scans attached to assets, from the database (none
    // without one).
    let scans = if no_store {
        Default::default()
    } else {
        use parapet_store::roles::*;
        crate::db::open(global)?.vulnerability_scans()?
    };
    let engine = Engine::new(report.rules, Utc::now())
        .with_tag_policy(tags)
        .with_exposure(crate::exposure_cmd::facts(with_surroundings(
            assets,
            surroundings,
        )))
        .with_vulnerabilities(crate::vuln_cmd::facts(
            &scans,
            with_surroundings(assets, surroundings),
        ));
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
    let recorded = if no_store {
        Vec::new()
    } else {
        record(assets, &evaluations, &rule_severity)?
    };
    Ok(Evaluated {
        engine,
        evaluations,
        recorded,
        rules_failed,
    })
}

/// Evaluates every rule over `assets`, records them unless `--no-store`, and
/// reports. `collection` is what a collector printed about its work, for the
/// JSON report.
pub fn evaluate_and_report(
    global: &GlobalArgs,
    args: &ReportArgs,
    style: Style,
    input: ScanInput<'_>,
    record: impl Recorder,
) -> Result<ExitCode> {
    let ScanInput {
        assets,
        input_errors,
        collection,
        tags,
        surroundings,
    } = input;
    let Evaluated {
        engine,
        evaluations,
        recorded,
        rules_failed,
    } = evaluate_and_record(global, args.no_store, assets, tags, surroundings, record)?;
    let infos: HashMap<String, AssetInfo> = assets
        .iter()
        .map(|a| (a.id.clone(), crate::report_cmd::asset_info(a)))
        .collect();
    let frameworks = parapet_rules::framework::builtin();
    let (report, _) = Report::new(
        Utc::now(),
        engine.rules(),
        &infos,
        &evaluations,
        &frameworks,
    );
    // Files first: a closed standard output must not lose them.
    crate::report_cmd::write_outputs(&args.output, &report, engine.rules())?;
    match args.format {
        ReportFormat::Json => {
            print_json(&ScanReport {
                collection,
                assets: assets.len(),
                rules: engine.rules().len(),
                summary: report.summary(),
                input_errors: input_errors.to_vec(),
                recorded: recorded.clone(),
                results: report
                    .undecided_or_failing()
                    .map(ResultRecord::of)
                    .collect(),
            })?;
        }
        ReportFormat::Table => {
            let mut stdout = std::io::stdout().lock();
            crate::report_cmd::write_tables(&report, args.show_undecided, style, &mut stdout)?;
            for run in &recorded {
                let c = &run.counts;
                writeln!(
                    stdout,
                    "Recorded scan {}: {} assets ({} new, {} changed, {} deleted); findings {} opened, {} resolved, {} reopened.",
                    run.id,
                    c.assets,
                    c.created,
                    c.changed,
                    c.deleted,
                    c.opened,
                    c.resolved,
                    c.reopened
                )?;
            }
        }
        other => crate::report_cmd::write_stdout(other, &report, engine.rules(), style)?,
    }
    let threshold_met = crate::report_cmd::threshold_met(&report, args.fail_on);
    Ok(if rules_failed || !input_errors.is_empty() {
        ExitCode::from(EXIT_ERROR)
    } else if threshold_met {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}
