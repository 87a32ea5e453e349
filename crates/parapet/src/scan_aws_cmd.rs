//! `parapet scan aws`: the AWS provider's options from the command line and
//! the configuration file, a progress bar, and what a collection read.

use crate::cli::{GlobalArgs, ScanAwsArgs};
use crate::output::Style;
use crate::scan_cmd::{Scan, scan_and_report};
use anyhow::{Context, Result};
use comfy_table::Cell;
use indicatif::{ProgressBar, ProgressStyle};
use parapet_aws::{AssumeRole, AwsFileConfig, AwsOptions, AwsProvider};
use parapet_core::CollectionError;
use parapet_pipeline::Request;
use parapet_provider::{Collection, Part, Progress, Provider, Target};
use parapet_store::Policy;
use std::collections::{BTreeMap, HashSet};
use std::io::IsTerminal;
use std::process::ExitCode;

fn options(args: &ScanAwsArgs, file: AwsFileConfig) -> Result<AwsOptions> {
    let regions = if args.regions.is_empty() {
        file.regions
    } else {
        Some(args.regions.clone())
    };
    let known: HashSet<&str> = parapet_aws::catalog().iter().map(|t| t.name).collect();
    if let Some(unknown) = args
        .resource_types
        .iter()
        .find(|t| !known.contains(t.as_str()))
    {
        anyhow::bail!(
            "unknown resource type {unknown}: `parapet resources list` names the ones collected"
        );
    }
    Ok(AwsOptions {
        profile: args.profile.clone(),
        role: args.role_arn.as_ref().map(|arn| AssumeRole {
            role_arn: arn.clone(),
            external_id: args.external_id.clone(),
            session_name: args.session_name.clone(),
        }),
        regions,
        resource_types: (!args.resource_types.is_empty()).then(|| args.resource_types.clone()),
        endpoint_url: args.endpoint_url.clone(),
        accounts: file.accounts,
        organization_role: args.organization_role.clone().or(file.organization_role),
        concurrency: args.concurrency,
        keys: BTreeMap::new(),
        only_accounts: None,
    })
}

/// A progress bar on a terminal's standard error.
struct Bar(ProgressBar);

impl Bar {
    /// The bar of a collection, hidden where standard error is not a
    /// terminal.
    fn collecting() -> Bar {
        let bar = if std::io::stderr().is_terminal() {
            ProgressBar::new(0)
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template("{spinner} collecting [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Bar(bar)
    }
}

impl Progress for Bar {
    fn planned(&self, total: u64) {
        self.0.set_length(total);
    }
    fn done(&self, unit: &str, assets: usize) {
        self.0.set_message(format!("{unit}: {assets} assets"));
        self.0.inc(1);
    }
}

/// The resources the change events of a file (or standard input) touched,
/// each event noted on standard error.
fn event_targets(provider: &dyn Provider, file: &std::path::Path) -> Result<Vec<Target>> {
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
            .context("cannot read the event from standard input")?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?
    };
    let message: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", file.display()))?;
    let decoded = provider
        .decode(&message)
        .with_context(|| file.display().to_string())?;
    for note in decoded.notes {
        eprintln!("{note}");
    }
    Ok(decoded.targets)
}

/// Runs `parapet scan aws`.
pub fn run(
    global: &GlobalArgs,
    config: &crate::config::ConfigFile,
    policy: &Policy,
    args: &ScanAwsArgs,
    style: Style,
) -> Result<ExitCode> {
    if args.enqueue {
        return crate::worker_cmd::enqueue_aws(
            global,
            options(args, config.aws.clone())?,
            args,
            style,
        );
    }
    let provider = AwsProvider::new(options(args, config.aws.clone())?);
    let targets = args
        .event
        .as_deref()
        .map(|file| event_targets(&provider, file))
        .transpose()?;
    let request = match &targets {
        Some(targets) if targets.is_empty() => {
            eprintln!("Nothing to describe again.");
            return Ok(ExitCode::SUCCESS);
        }
        Some(targets) => Request::Refresh(targets),
        None => Request::Whole,
    };
    collect_and_report(
        Scan {
            global,
            config,
            policy,
            args: &args.report,
            style,
        },
        &provider,
        request,
    )
}

/// Collects from `provider` with a progress bar, records, evaluates and
/// reports.
pub fn collect_and_report(
    scan: Scan<'_>,
    provider: &dyn Provider,
    request: Request<'_>,
) -> Result<ExitCode> {
    let progress = Bar::collecting();
    let code = scan_and_report(scan, provider, request, &progress);
    progress.0.finish_and_clear();
    code
}

/// What a scan collected, noted part by part as the parts pass (so that
/// no part has to be kept for the summary).
#[derive(Default)]
pub struct Collected {
    /// Each part: its accounts, regions, assets and errors.
    parts: Vec<serde_json::Value>,
    /// Assets by resource type.
    by_type: BTreeMap<String, usize>,
    /// The parts' errors, each with its part's accounts.
    errors: Vec<(String, CollectionError)>,
}

impl Collected {
    /// Notes what `part` collected.
    pub fn add(&mut self, part: &Part) {
        for asset in &part.assets {
            *self
                .by_type
                .entry(asset.resource_type.as_str().to_owned())
                .or_default() += 1;
        }
        let account = part.scope.accounts.join(",");
        self.parts.push(serde_json::json!({
            "account": account,
            "regions": part.scope.regions,
            "assets": part.assets.len(),
            "errors": part.errors,
        }));
        self.errors
            .extend(part.errors.iter().map(|e| (account.clone(), e.clone())));
    }

    /// How many assets were collected.
    pub fn assets(&self) -> usize {
        self.by_type.values().sum()
    }
}

/// What was collected, for the JSON report.
pub fn summary(collected: &Collected, collection: &Collection) -> serde_json::Value {
    serde_json::json!({
        "accounts": collected.parts,
        "resource_types": collected.by_type,
        "api_calls": collection.api_calls,
        "api_retries": collection.api_retries,
        "api_calls_by_action": collection.calls,
        "duration_seconds": collection.duration.as_secs_f64(),
        "peak_memory_mb": crate::output::peak_memory_mb(),
    })
}

/// What was collected, and what was denied or failed, as tables.
pub fn print_summary(collected: &Collected, collection: &Collection, style: Style) -> Result<()> {
    let mut table = style.table(&["resource type", "assets"]);
    for (resource_type, count) in &collected.by_type {
        table.add_row(vec![Cell::new(resource_type), Cell::new(count)]);
    }
    out!(
        "Collected {} assets of {} types from {} account(s) in {:.1} s with {} API calls{}{}; {} collection error(s).",
        collected.assets(),
        collected.by_type.len(),
        collected.parts.len(),
        collection.duration.as_secs_f64(),
        collection.api_calls,
        match collection.api_retries {
            0 => String::new(),
            n => format!(" ({n} of them retries)"),
        },
        crate::output::peak_memory_note(),
        collected.errors.len()
    );
    out!("{table}");
    if !collected.errors.is_empty() {
        let mut table = style.table(&["account", "region", "resource type", "error"]);
        for (account, error) in &collected.errors {
            table.add_row(vec![
                Cell::new(account),
                Cell::new(error.region.as_deref().unwrap_or("all")),
                Cell::new(error.resource_type.as_deref().unwrap_or("all")),
                Cell::new(&error.message),
            ]);
        }
        out!(
            "Parts that were denied or failed (their rules report unknown, and nothing there is marked deleted):"
        );
        out!("{table}");
    }
    Ok(())
}
