//! `parapet scan file`, and what every scan shares: one run of the
//! pipeline over a provider, then the report.

use crate::cli::{GlobalArgs, ReportArgs, ReportFormat, ScanFileArgs};
use crate::output::{EXIT_ERROR, EXIT_FAILED, Style, print_json};
use crate::rules_cmd::{load_rules, report_load_errors};
use crate::scan_aws_cmd::Collected;
use anyhow::Result;
use parapet_core::{ScanRun, Severity};
use parapet_pipeline::{Pipeline, Request, Run};
use parapet_provider::file::FileSource;
use parapet_provider::{Progress, Provider, Quiet};
use parapet_report::json::ResultRecord;
use parapet_report::{AssetInfo, Counts, Report};
use parapet_store::{Policy, Store};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::process::ExitCode;

#[derive(Serialize)]
struct ScanReport<'a> {
    /// What a collector read, for scans that collect.
    #[serde(skip_serializing_if = "Option::is_none")]
    collection: Option<serde_json::Value>,
    assets: usize,
    rules: usize,
    summary: BTreeMap<Severity, Counts>,
    input_errors: &'a [String],
    /// The scan runs written to the database, one per part collected.
    recorded: &'a [ScanRun],
    results: Vec<ResultRecord<'a>>,
}

/// Runs `parapet scan file`.
pub fn run_file(
    global: &GlobalArgs,
    config: &crate::config::ConfigFile,
    policy: &Policy,
    args: &ScanFileArgs,
    style: Style,
) -> Result<ExitCode> {
    let source = FileSource::new(args.assets.clone(), args.accounts.clone());
    scan_and_report(
        Scan {
            global,
            config,
            policy,
            args: &args.report,
            style,
        },
        &source,
        Request::Whole,
        &Quiet,
    )
}

/// What a scan command was asked.
pub struct Scan<'a> {
    /// The global options.
    pub global: &'a GlobalArgs,
    /// The configuration file.
    pub config: &'a crate::config::ConfigFile,
    /// How recorded changes are routed and grouped.
    pub policy: &'a Policy,
    /// How results are reported.
    pub args: &'a ReportArgs,
    /// Tables and colour.
    pub style: Style,
}

/// Runs the pipeline over `provider` (recording unless `--no-store`) and
/// reports.
pub fn scan_and_report(
    scan: Scan<'_>,
    provider: &dyn Provider,
    request: Request<'_>,
    progress: &dyn Progress,
) -> Result<ExitCode> {
    let Scan {
        global,
        config,
        policy,
        args,
        style,
    } = scan;
    let rules = load_rules(global);
    let rules_failed = report_load_errors(&rules);
    let pipeline = Pipeline::new(rules.rules, &config.tags, &config.identity).full(args.full);
    let mut store = if args.no_store {
        None
    } else {
        Some(crate::db::open_with(global, policy)?)
    };
    // Each part is noted as it passes, and only what the report needs is
    // kept of it.
    let mut collected = Collected::default();
    let mut infos: HashMap<String, AssetInfo> = HashMap::new();
    let mut evaluations = Vec::new();
    let run = pipeline.run_each(
        provider,
        store.as_mut().map(|s| &mut **s as &mut dyn Store),
        request,
        progress,
        &mut |done| {
            collected.add(&done.part);
            infos.extend(
                done.part
                    .assets
                    .iter()
                    .map(|a| (a.id.clone(), crate::report_cmd::asset_info(a))),
            );
            match done.store {
                Some(store) if done.kept > 0 => {
                    let assets: Vec<&parapet_core::Asset> = done.part.assets.iter().collect();
                    evaluations.extend(pipeline.all_results(store, &assets, &done.evaluations)?);
                }
                _ => evaluations.extend(done.evaluations),
            }
            Ok(())
        },
    )?;
    for error in &run.collection.input_errors {
        eprintln!("error: {error}");
    }
    let collects = run.collection.api_calls > 0;
    if collects && args.format == ReportFormat::Table {
        crate::scan_aws_cmd::print_summary(&collected, &run.collection, style)?;
    }
    let frameworks = parapet_rules::framework::builtin();
    let (mut report, _) = Report::new(
        run.now,
        pipeline.engine().rules(),
        &infos,
        &evaluations,
        &frameworks,
    );
    report.provenance = vec![run.provenance.clone()];
    write_report(&pipeline, &run, &collected, &report, args, style, collects)?;
    let failed = crate::report_cmd::threshold_met(&report, args.fail_on);
    Ok(if rules_failed || !run.collection.input_errors.is_empty() {
        ExitCode::from(EXIT_ERROR)
    } else if failed {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes the report of `run`: files first (a closed standard output must
/// not lose them), then standard output.
fn write_report(
    pipeline: &Pipeline,
    run: &Run,
    collected: &Collected,
    report: &Report<'_>,
    args: &ReportArgs,
    style: Style,
    collects: bool,
) -> Result<()> {
    let rules = pipeline.engine().rules();
    crate::report_cmd::write_outputs(&args.output, report, rules)?;
    match args.format {
        ReportFormat::Report(format) if format.name() == "json" => print_json(&ScanReport {
            collection: collects.then(|| crate::scan_aws_cmd::summary(collected, &run.collection)),
            assets: collected.assets(),
            rules: rules.len(),
            summary: report.summary(),
            input_errors: &run.collection.input_errors,
            recorded: &run.recorded,
            results: report
                .undecided_or_failing()
                .map(ResultRecord::of)
                .collect(),
        })?,
        ReportFormat::Table => {
            let mut stdout = std::io::stdout().lock();
            crate::report_cmd::write_tables(report, args.show_undecided, style, &mut stdout)?;
            for run in &run.recorded {
                let c = &run.counts;
                writeln!(
                    stdout,
                    "Recorded scan {}: {} assets ({} new, {} changed, {} deleted); results {} worked out, {} kept; findings {} opened, {} resolved, {} reopened.",
                    run.id,
                    c.assets,
                    c.created,
                    c.changed,
                    c.deleted,
                    c.evaluations,
                    c.kept,
                    c.opened,
                    c.resolved,
                    c.reopened
                )?;
            }
        }
        other => crate::report_cmd::write_stdout(other, report, rules, style)?,
    }
    Ok(())
}
