//! `parapet scan aws`: collect an AWS estate with the official SDK, record
//! it one scan per account, evaluate every rule and report.

use crate::cli::{GlobalArgs, ReportFormat, ScanAwsArgs};
use crate::output::Style;
use crate::scan_cmd::{ScanInput, evaluate_and_report};
use anyhow::{Context, Result};
use chrono::Utc;
use comfy_table::Cell;
use indicatif::{ProgressBar, ProgressStyle};
use parapet_aws::{AssumeRole, AwsFileConfig, AwsOptions, Collection, Progress};
use parapet_core::{Asset, Evaluation, Provider, Scope};
use parapet_store::Store;
use std::collections::{BTreeMap, HashSet};
use std::io::IsTerminal;
use std::process::ExitCode;

fn options(args: &ScanAwsArgs, file: AwsFileConfig) -> Result<AwsOptions> {
    let regions = if args.regions.is_empty() {
        file.regions
    } else {
        Some(args.regions.clone())
    };
    let known: HashSet<&str> = parapet_aws::resource_types().map(|(t, _)| t).collect();
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

/// The resource types whose assets depend on each type's configuration,
/// described again with it: what a security group, route, ACL or load
/// balancer change alters is the exposure of what sits behind them; a
/// trail, detector or recorder is part of its region's summary.
fn dependents(resource_type: &str) -> &'static [&'static str] {
    const ENDPOINTS: &[&str] = &[
        "AWS::EC2::Instance",
        "AWS::EC2::NetworkInterface",
        "AWS::RDS::DBInstance",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
    ];
    match resource_type {
        "AWS::EC2::SecurityGroup"
        | "AWS::EC2::NetworkAcl"
        | "AWS::EC2::RouteTable"
        | "AWS::EC2::Subnet"
        | "AWS::EC2::InternetGateway"
        | "AWS::EC2::NatGateway"
        | "AWS::EC2::VPC"
        | "AWS::EC2::EIP"
        | "AWS::ElasticLoadBalancingV2::Listener"
        | "AWS::ElasticLoadBalancingV2::TargetGroup" => ENDPOINTS,
        "AWS::CloudTrail::Trail"
        | "AWS::GuardDuty::Detector"
        | "AWS::Config::ConfigurationRecorder" => &["AWS::Account::Region"],
        _ => &[],
    }
}

/// The regions and resource types a CloudTrail event asks to describe
/// again; `None` when it changed nothing Parapet collects.
fn event_scope(file: &std::path::Path) -> Result<Option<(Vec<String>, Vec<String>)>> {
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
            .context("cannot read the event from standard input")?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?
    };
    let message: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", file.display()))?;
    let (scope, notes) =
        scope_of(&message).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    for note in notes {
        eprintln!("{note}");
    }
    Ok(scope)
}

/// What a message asks to describe again: the regions and resource types
/// (with their dependents), `None` when nothing changed; and one line per
/// event saying what it touched, or why it changed nothing.
pub type EventScope = (Option<(Vec<String>, Vec<String>)>, Vec<String>);

/// The scope resolved events name.
fn targets_scope(resolved: &[parapet_aws::events::Resolved]) -> EventScope {
    let mut notes = Vec::new();
    let mut regions = std::collections::BTreeSet::new();
    let mut types = std::collections::BTreeSet::new();
    for outcome in resolved {
        use parapet_aws::events::Resolved;
        match outcome {
            Resolved::Targets { event, targets, .. } => {
                for t in targets {
                    notes.push(format!(
                        "{event}: {} {} in {} ({:?})",
                        t.resource_type, t.key, t.region, t.action
                    ));
                    if t.region != "global" {
                        regions.insert(t.region.clone());
                    }
                    types.insert(t.resource_type.clone());
                    types.extend(dependents(&t.resource_type).iter().map(|d| (*d).to_owned()));
                }
            }
            Resolved::ReadOnly { event } => {
                notes.push(format!("{event}: read-only, nothing changed"))
            }
            Resolved::Failed { event, error } => {
                notes.push(format!("{event}: the call failed ({error})"));
            }
            Resolved::Unmapped { event } => {
                notes.push(format!("{event}: not a change Parapet follows"));
            }
        }
    }
    if types.is_empty() {
        return (None, notes);
    }
    if regions.is_empty() {
        // Only global resources (IAM): their collector runs from one region.
        regions.insert("us-east-1".to_owned());
    }
    (
        Some((regions.into_iter().collect(), types.into_iter().collect())),
        notes,
    )
}

/// Runs `parapet scan aws`.
pub fn run(global: &GlobalArgs, args: &ScanAwsArgs, style: Style) -> Result<ExitCode> {
    let config = crate::config::load(global)?;
    let mut options = options(args, config.aws)?;
    if let Some(file) = &args.event {
        match event_scope(file)? {
            Some((regions, types)) => {
                options.regions = Some(regions);
                options.resource_types = Some(types);
            }
            None => {
                eprintln!("Nothing to describe again.");
                return Ok(ExitCode::SUCCESS);
            }
        }
    }
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(0)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} collecting [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Utc::now();
    let collection = parapet_aws::collect(&options, &Bar(bar.clone()))
        .context("the AWS collection could not start")?;
    bar.finish_and_clear();

    let summary = summary(&collection);
    if args.report.format == ReportFormat::Table {
        print_summary(&collection, style)?;
    }
    let assets: Vec<Asset> = collection
        .accounts
        .iter()
        .flat_map(|a| a.assets.iter().cloned())
        .collect();
    let record = recorder(global, &collection, started);
    let surroundings = surroundings(global, args.report.no_store, &options, &collection)?;
    evaluate_and_report(
        global,
        &args.report,
        style,
        ScanInput {
            assets: &assets,
            input_errors: &[],
            collection: Some(&summary),
            tags: &config.tags,
            surroundings: &surroundings,
        },
        record,
    )
}

/// Records a collection, one scan per account, with the evaluations of its
/// assets.
fn recorder<'a>(
    global: &'a GlobalArgs,
    collection: &'a Collection,
    started: chrono::DateTime<Utc>,
) -> impl crate::scan_cmd::Recorder + 'a {
    move |assets: &[Asset],
          evaluations: &[Evaluation],
          severity: &dyn Fn(&str) -> parapet_core::Severity| {
        let mut store = crate::db::open(global)?;
        let mut runs = Vec::new();
        let mut offset = 0;
        for account in &collection.accounts {
            let mine = &assets[offset..offset + account.assets.len()];
            offset += account.assets.len();
            let ids: HashSet<&str> = mine.iter().map(|a| a.id.as_str()).collect();
            let evaluations: Vec<Evaluation> = evaluations
                .iter()
                .filter(|e| ids.contains(&*e.asset_id))
                .cloned()
                .collect();
            let scope = Scope {
                provider: Provider::Aws,
                accounts: vec![account.account.clone()],
                regions: Some(account.regions.clone()),
                resource_types: Some(collection.resource_types.clone()),
            };
            let id = store.begin_scan(&scope, "aws", started)?;
            let output = store
                .finish_scan(
                    id,
                    mine,
                    &evaluations,
                    severity,
                    &account.errors,
                    Utc::now(),
                )
                .with_context(|| format!("recording scan {id} in {}", store.path().display()))?;
            runs.push(output.scan);
        }
        Ok(runs)
    }
}

/// Collects what `options` name (a part of the estate), evaluates it on the
/// whole topology and records it, reporting nothing: continuous mode's
/// refresh.
pub fn refresh(
    global: &GlobalArgs,
    options: &AwsOptions,
    tags: &parapet_rules::TagPolicy,
) -> Result<Vec<parapet_core::ScanRun>> {
    struct Quiet;
    impl Progress for Quiet {
        fn planned(&self, _: u64) {}
        fn done(&self, _: &str, _: usize) {}
    }
    let started = Utc::now();
    let collection =
        parapet_aws::collect(options, &Quiet).context("the AWS collection could not start")?;
    let assets: Vec<Asset> = collection
        .accounts
        .iter()
        .flat_map(|a| a.assets.iter().cloned())
        .collect();
    let surroundings = surroundings(global, false, options, &collection)?;
    let evaluated = crate::scan_cmd::evaluate_and_record(
        global,
        false,
        &assets,
        tags,
        &surroundings,
        recorder(global, &collection, started),
    )?;
    Ok(evaluated.recorded)
}

/// The regions and resource types one message asks to describe again, as
/// `scan aws --event` reads them.
pub fn scope_of(message: &serde_json::Value) -> Result<EventScope, String> {
    let resolved = parapet_aws::events::EventMap::builtin()
        .resolve(message)
        .map_err(|e| e.to_string())?;
    Ok(targets_scope(&resolved))
}

/// For a collection limited to some regions or types, the stored assets of
/// its accounts outside that limit: the rest of the topology. Nothing for a
/// full collection, or without a database.
fn surroundings(
    global: &GlobalArgs,
    no_store: bool,
    options: &AwsOptions,
    collection: &Collection,
) -> Result<Vec<Asset>> {
    if no_store || (options.regions.is_none() && options.resource_types.is_none()) {
        return Ok(Vec::new());
    }
    let store = crate::db::open(global)?;
    let mut out = Vec::new();
    for account in &collection.accounts {
        let scope = Scope {
            provider: Provider::Aws,
            accounts: vec![account.account.clone()],
            regions: Some(account.regions.clone()),
            resource_types: Some(collection.resource_types.clone()),
        };
        out.extend(
            store
                .current_assets(Some(&account.account))?
                .into_iter()
                .filter(|a| !scope.contains(a)),
        );
    }
    Ok(out)
}

/// What was collected, for the JSON report.
fn summary(collection: &Collection) -> serde_json::Value {
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for asset in collection.accounts.iter().flat_map(|a| &a.assets) {
        *by_type.entry(asset.resource_type.as_str()).or_default() += 1;
    }
    serde_json::json!({
        "accounts": collection.accounts.iter().map(|a| serde_json::json!({
            "account": a.account,
            "regions": a.regions,
            "assets": a.assets.len(),
            "errors": a.errors,
        })).collect::<Vec<_>>(),
        "resource_types": by_type,
        "api_calls": collection.api_calls,
        "duration_seconds": collection.duration.as_secs_f64(),
        "peak_memory_mb": peak_memory_mb(),
    })
}

/// The process's peak resident memory so far, where the system tells it
/// (Linux's `VmHWM`).
fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn print_summary(collection: &Collection, style: Style) -> Result<()> {
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for asset in collection.accounts.iter().flat_map(|a| &a.assets) {
        *by_type.entry(asset.resource_type.as_str()).or_default() += 1;
    }
    let mut table = style.table(&["resource type", "assets"]);
    for (resource_type, count) in &by_type {
        table.add_row(vec![Cell::new(resource_type), Cell::new(count)]);
    }
    let errors: Vec<_> = collection
        .accounts
        .iter()
        .flat_map(|a| a.errors.iter().map(move |e| (a.account.as_str(), e)))
        .collect();
    out!(
        "Collected {} assets of {} types from {} account(s) in {:.1} s with {} API calls{}; {} collection error(s).",
        by_type.values().sum::<usize>(),
        by_type.len(),
        collection.accounts.len(),
        collection.duration.as_secs_f64(),
        collection.api_calls,
        peak_memory_mb().map_or(String::new(), |mb| format!(", peak memory {mb:.0} MB")),
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
