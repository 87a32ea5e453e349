//! `parapet scan aws`: the AWS provider's options from the command line and
//! the configuration file, a progress bar, and what a collection read.

use crate::cli::{GlobalArgs, ScanAwsArgs};
use crate::output::Style;
use crate::scan_cmd::{Scan, scan_and_report};
use anyhow::{Context, Result};
use comfy_table::Cell;
use indicatif::{ProgressBar, ProgressStyle};
use parapet_aws::{AssumeRole, AwsFileConfig, AwsOptions, AwsProvider};
use parapet_pipeline::Request;
use parapet_provider::{Collection, Progress, Provider, Target};
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
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(0)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} collecting [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let progress = Bar(bar.clone());
    let code = scan_and_report(
        Scan {
            global,
            config,
            policy,
            args: &args.report,
            style,
        },
        &provider,
        request,
        &progress,
    );
    bar.finish_and_clear();
    code
}

/// Assets by resource type.
fn by_type(collection: &Collection) -> BTreeMap<&str, usize> {
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for asset in collection.assets() {
        *by_type.entry(asset.resource_type.as_str()).or_default() += 1;
    }
    by_type
}

/// What was collected, for the JSON report.
pub fn summary(collection: &Collection) -> serde_json::Value {
    serde_json::json!({
        "accounts": collection.parts.iter().map(|p| serde_json::json!({
            "account": p.scope.accounts.join(","),
            "regions": p.scope.regions,
            "assets": p.assets.len(),
            "errors": p.errors,
        })).collect::<Vec<_>>(),
        "resource_types": by_type(collection),
        "api_calls": collection.api_calls,
        "api_retries": collection.api_retries,
        "api_calls_by_action": collection.calls,
        "duration_seconds": collection.duration.as_secs_f64(),
        "peak_memory_mb": crate::output::peak_memory_mb(),
    })
}

/// What was collected, and what was denied or failed, as tables.
pub fn print_summary(collection: &Collection, style: Style) -> Result<()> {
    let by_type = by_type(collection);
    let mut table = style.table(&["resource type", "assets"]);
    for (resource_type, count) in &by_type {
        table.add_row(vec![Cell::new(resource_type), Cell::new(count)]);
    }
    let errors: Vec<_> = collection
        .parts
        .iter()
        .flat_map(|p| {
            p.errors
                .iter()
                .map(move |e| (p.scope.accounts.join(","), e))
        })
        .collect();
    out!(
        "Collected {} assets of {} types from {} account(s) in {:.1} s with {} API calls{}{}; {} collection error(s).",
        by_type.values().sum::<usize>(),
        by_type.len(),
        collection.parts.len(),
        collection.duration.as_secs_f64(),
        collection.api_calls,
        match collection.api_retries {
            0 => String::new(),
            n => format!(" ({n} of them retries)"),
        },
        crate::output::peak_memory_note(),
        errors.len()
    );
    out!("{table}");
    if !errors.is_empty() {
        let mut table = style.table(&["account", "region", "resource type", "error"]);
        for (account, error) in errors {
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
