//! `parapet scan aws`: collect an AWS estate with the official SDK, record
//! it one scan per account, evaluate every rule and report.

use crate::cli::{GlobalArgs, ReportFormat, ScanAwsArgs};
use crate::output::Style;
use crate::scan_cmd::{ScanInput, evaluate_and_report};
use anyhow::{Context, Result};
use chrono::Utc;
use comfy_table::Cell;
use indicatif::{ProgressBar, ProgressStyle};
use parapet_aws::events::{Action, Resolved, Target};
use parapet_aws::{AssumeRole, AwsFileConfig, AwsOptions, Collection, Progress};
use parapet_core::{Asset, Evaluation, Provider, Scope};
use parapet_store::roles::*;
use std::collections::{BTreeMap, BTreeSet, HashSet};
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

/// The resource type of a region's summary.
const REGION: &str = "AWS::Account::Region";

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
        | "AWS::Config::ConfigurationRecorder" => &[REGION],
        _ => &[],
    }
}

/// The resources the CloudTrail events of a file (or standard input) touched.
fn event_targets(file: &std::path::Path) -> Result<Vec<Target>> {
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
            .context("cannot read the event from standard input")?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?
    };
    let message: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", file.display()))?;
    let (targets, notes) =
        targets_of(&message).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    for note in notes {
        eprintln!("{note}");
    }
    Ok(targets)
}

/// The resources the events of one message touched, and one line per
/// event saying what it touched, or why it changed nothing.
pub type EventTargets = (Vec<Target>, Vec<String>);

/// The resources one message's events touched, as `scan aws --event` and
/// `watch` read them.
pub fn targets_of(message: &serde_json::Value) -> Result<EventTargets, String> {
    let resolved = parapet_aws::events::EventMap::builtin()
        .resolve(message)
        .map_err(|e| e.to_string())?;
    let mut notes = Vec::new();
    let mut targets = Vec::new();
    for outcome in resolved {
        match outcome {
            Resolved::Targets {
                event, targets: t, ..
            } => {
                for target in &t {
                    notes.push(format!(
                        "{event}: {} {} in {} ({:?})",
                        target.resource_type, target.key, target.region, target.action
                    ));
                }
                targets.extend(t);
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
    Ok((targets, notes))
}

/// What a set of event targets asks to describe again.
#[derive(Debug, Default, PartialEq, Eq)]
struct Plan {
    accounts: BTreeSet<String>,
    regions: BTreeSet<String>,
    /// Types described whole in those accounts and regions.
    whole: BTreeSet<String>,
    /// Types of which only the resources these keys name are described.
    keyed: BTreeMap<String, BTreeSet<String>>,
}

impl Plan {
    /// Only the resources the targets name, with what depends on them. A
    /// type is described whole when a key does not name a resource, when
    /// its region's summary depends on it, or when a change names a
    /// resource the inventory does not know (it may know it by another
    /// name: an alias).
    fn of(targets: &[Target], stored: &[Asset]) -> Plan {
        let mut plan = Plan::default();
        for t in targets {
            plan.accounts.insert(t.account.clone());
            if t.region != parapet_aws::collect::GLOBAL {
                plan.regions.insert(t.region.clone());
            }
            let dependents = dependents(&t.resource_type);
            plan.whole
                .extend(dependents.iter().map(|d| (*d).to_owned()));
            let known = || {
                stored.iter().any(|a| {
                    a.account == t.account
                        && a.resource_type.as_str() == t.resource_type
                        && parapet_aws::events::key_names(&t.key, &[&a.id, &a.name])
                })
            };
            if !t.names_resource
                || dependents.contains(&REGION)
                || (t.action != Action::Create && !known())
            {
                plan.whole.insert(t.resource_type.clone());
            } else {
                plan.keyed
                    .entry(t.resource_type.clone())
                    .or_default()
                    .insert(t.key.clone());
            }
        }
        plan.keyed.retain(|t, _| !plan.whole.contains(t));
        if plan.regions.is_empty() && !plan.accounts.is_empty() {
            // Only global resources (IAM): their collector runs from one region.
            plan.regions.insert("us-east-1".to_owned());
        }
        plan
    }

    /// `options` narrowed to the plan.
    fn apply(self, options: &AwsOptions) -> AwsOptions {
        let mut types: Vec<String> = self.whole.into_iter().collect();
        types.extend(self.keyed.keys().cloned());
        AwsOptions {
            regions: Some(self.regions.into_iter().collect()),
            resource_types: Some(types),
            keys: self.keyed,
            only_accounts: Some(self.accounts),
            ..options.clone()
        }
    }
}

/// Runs `parapet scan aws`.
pub fn run(
    global: &GlobalArgs,
    config: &crate::config::ConfigFile,
    args: &ScanAwsArgs,
    style: Style,
) -> Result<ExitCode> {
    let options = options(args, config.aws.clone())?;
    let targets = args.event.as_deref().map(event_targets).transpose()?;
    if targets.as_ref().is_some_and(Vec::is_empty) {
        eprintln!("Nothing to describe again.");
        return Ok(ExitCode::SUCCESS);
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
    let collected = Collected::gather(
        global,
        args.report.no_store,
        &options,
        targets.as_deref(),
        &Bar(bar.clone()),
    )?;
    bar.finish_and_clear();

    let summary = summary(&collected.collection);
    if args.report.format == ReportFormat::Table {
        print_summary(&collected.collection, style)?;
    }
    evaluate_and_report(
        global,
        &args.report,
        style,
        ScanInput {
            assets: &collected.assets,
            input_errors: &[],
            collection: Some(&summary),
            tags: &config.tags,
            surroundings: &collected.surroundings,
        },
        collected.recorder(global),
    )
}

/// A collection ready to evaluate: its assets, the scope each account's
/// scan covers, and the stored assets around a partial collection.
struct Collected {
    collection: Collection,
    started: chrono::DateTime<Utc>,
    assets: Vec<Asset>,
    scopes: Vec<Scope>,
    surroundings: Vec<Asset>,
}

impl Collected {
    /// Collects what `options` name, or, with `targets`, only the resources
    /// they touched and what depends on them.
    fn gather(
        global: &GlobalArgs,
        no_store: bool,
        options: &AwsOptions,
        targets: Option<&[Target]>,
        progress: &dyn Progress,
    ) -> Result<Collected> {
        let mut stored = Stored::new(global, no_store);
        let narrowed;
        let options = match targets {
            Some(targets) => {
                let mut known = Vec::new();
                for account in targets.iter().map(|t| &t.account).collect::<BTreeSet<_>>() {
                    known.extend(stored.of(account)?.iter().cloned());
                }
                narrowed = Plan::of(targets, &known).apply(options);
                &narrowed
            }
            None => options,
        };
        let started = Utc::now();
        let collection = parapet_aws::collect(options, progress)
            .context("the AWS collection could not start")?;
        let partial = options.regions.is_some() || options.resource_types.is_some();
        let mut scopes = Vec::new();
        let mut surroundings = Vec::new();
        for account in &collection.accounts {
            let mut scope = Scope {
                provider: Provider::Aws,
                accounts: vec![account.account.clone()],
                regions: Some(account.regions.clone()),
                resource_types: Some(collection.resource_types.clone()),
                assets: BTreeMap::new(),
            };
            let known = if partial {
                stored.of(&account.account)?
            } else {
                &[]
            };
            // A keyed type's scope: what its keys name, collected or stored
            // (what is stored and no longer collected has been deleted).
            for (resource_type, keys) in &options.keys {
                let named = |a: &&Asset| {
                    a.resource_type.as_str() == resource_type
                        && keys
                            .iter()
                            .any(|k| parapet_aws::events::key_names(k, &[&a.id, &a.name]))
                };
                let ids = account
                    .assets
                    .iter()
                    .filter(|a| a.resource_type.as_str() == resource_type)
                    .chain(known.iter().filter(named))
                    .map(|a| a.id.clone())
                    .collect();
                scope.assets.insert(resource_type.clone(), ids);
            }
            surroundings.extend(known.iter().filter(|a| !scope.contains(a)).cloned());
            scopes.push(scope);
        }
        let assets = collection
            .accounts
            .iter()
            .flat_map(|a| a.assets.iter().cloned())
            .collect();
        Ok(Collected {
            collection,
            started,
            assets,
            scopes,
            surroundings,
        })
    }

    /// Records the collection, one scan per account, with the evaluations
    /// of its assets.
    fn recorder<'a>(&'a self, global: &'a GlobalArgs) -> impl crate::scan_cmd::Recorder + 'a {
        move |assets: &[Asset],
              evaluations: &[Evaluation],
              severity: &dyn Fn(&str) -> parapet_core::Severity| {
            let mut store = crate::db::open(global)?;
            let mut runs = Vec::new();
            let mut offset = 0;
            for (account, scope) in self.collection.accounts.iter().zip(&self.scopes) {
                let mine = &assets[offset..offset + account.assets.len()];
                offset += account.assets.len();
                let ids: HashSet<&str> = mine.iter().map(|a| a.id.as_str()).collect();
                let evaluations: Vec<Evaluation> = evaluations
                    .iter()
                    .filter(|e| ids.contains(&*e.asset_id))
                    .cloned()
                    .collect();
                let id = store.begin_scan(scope, "aws", self.started)?;
                let output = store
                    .finish_scan(
                        id,
                        mine,
                        &evaluations,
                        severity,
                        &account.errors,
                        Utc::now(),
                    )
                    .with_context(|| {
                        format!("recording scan {id} in {}", store.path().display())
                    })?;
                runs.push(output.scan);
            }
            Ok(runs)
        }
    }
}

/// The stored assets of the accounts a partial collection touches, each
/// account read once; nothing without a database.
struct Stored<'a> {
    global: &'a GlobalArgs,
    no_store: bool,
    store: Option<parapet_store::SqliteStore>,
    by_account: BTreeMap<String, Vec<Asset>>,
}

impl<'a> Stored<'a> {
    fn new(global: &'a GlobalArgs, no_store: bool) -> Stored<'a> {
        Stored {
            global,
            no_store,
            store: None,
            by_account: BTreeMap::new(),
        }
    }

    fn of(&mut self, account: &str) -> Result<&[Asset]> {
        if self.no_store {
            return Ok(&[]);
        }
        if !self.by_account.contains_key(account) {
            let store = match &mut self.store {
                Some(store) => store,
                None => self.store.insert(crate::db::open(self.global)?),
            };
            let assets = store.current_assets(Some(account))?;
            self.by_account.insert(account.to_owned(), assets);
        }
        Ok(self.by_account.get(account).map_or(&[], Vec::as_slice))
    }
}

/// Collects what `options` name (a part of the estate, or with `targets`
/// only the resources they touched), evaluates it on the whole topology and
/// records it, reporting nothing: continuous mode's refresh.
pub fn refresh(
    global: &GlobalArgs,
    options: &AwsOptions,
    tags: &parapet_rules::TagPolicy,
    targets: Option<&[Target]>,
) -> Result<Vec<parapet_core::ScanRun>> {
    struct Quiet;
    impl Progress for Quiet {
        fn planned(&self, _: u64) {}
        fn done(&self, _: &str, _: usize) {}
    }
    let collected = Collected::gather(global, false, options, targets, &Quiet)?;
    let evaluated = crate::scan_cmd::evaluate_and_record(
        global,
        false,
        &collected.assets,
        tags,
        &collected.surroundings,
        collected.recorder(global),
    )?;
    Ok(evaluated.recorded)
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
        "peak_memory_mb": crate::output::peak_memory_mb(),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn target(resource_type: &str, region: &str, key: &str, action: Action) -> Target {
        Target {
            resource_type: resource_type.to_owned(),
            account: "111111111111".to_owned(),
            region: region.to_owned(),
            key: key.to_owned(),
            names_resource: true,
            action,
        }
    }

    fn stored(resource_type: &str, id: &str, name: &str) -> Asset {
        serde_json::from_value(serde_json::json!({
            "id": id, "provider": "aws", "account": "111111111111", "region": "eu-west-1",
            "resource_type": resource_type, "name": name, "config": {},
            "observed_at": "2026-11-29T10:00:00Z",
        }))
        .expect("an asset")
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|i| (*i).to_owned()).collect()
    }

    #[test]
    fn a_change_to_a_known_resource_describes_only_it() {
        let known = [stored("AWS::S3::Bucket", "arn:aws:s3:::data", "data")];
        let plan = Plan::of(
            &[target(
                "AWS::S3::Bucket",
                "eu-west-1",
                "data",
                Action::Change,
            )],
            &known,
        );
        assert_eq!(plan.accounts, set(&["111111111111"]));
        assert_eq!(plan.regions, set(&["eu-west-1"]));
        assert!(plan.whole.is_empty());
        assert_eq!(
            plan.keyed,
            BTreeMap::from([("AWS::S3::Bucket".to_owned(), set(&["data"]))])
        );
        let options = plan.apply(&AwsOptions::default());
        assert_eq!(
            options.resource_types,
            Some(vec!["AWS::S3::Bucket".to_owned()])
        );
        assert_eq!(options.only_accounts, Some(set(&["111111111111"])));
    }

    #[test]
    fn a_group_is_described_alone_and_what_sits_behind_it_whole() {
        let known = [stored(
            "AWS::EC2::SecurityGroup",
            "arn:aws:ec2:eu-west-1:111111111111:security-group/sg-1",
            "web",
        )];
        let plan = Plan::of(
            &[target(
                "AWS::EC2::SecurityGroup",
                "eu-west-1",
                "sg-1",
                Action::Change,
            )],
            &known,
        );
        assert_eq!(
            plan.keyed.keys().collect::<Vec<_>>(),
            ["AWS::EC2::SecurityGroup"]
        );
        assert!(plan.whole.contains("AWS::EC2::Instance"));
        assert!(
            plan.whole
                .contains("AWS::ElasticLoadBalancingV2::LoadBalancer")
        );
    }

    #[test]
    fn unknown_names_indirect_keys_and_region_summaries_describe_the_whole_type() {
        // A change to a key the inventory does not know (an alias).
        let plan = Plan::of(
            &[target(
                "AWS::KMS::Key",
                "eu-west-1",
                "alias/app",
                Action::Change,
            )],
            &[],
        );
        assert_eq!(plan.whole, set(&["AWS::KMS::Key"]));
        assert!(plan.keyed.is_empty());
        // A new resource is described by its key, though unknown.
        let plan = Plan::of(
            &[target(
                "AWS::EC2::Instance",
                "eu-west-1",
                "i-9",
                Action::Create,
            )],
            &[],
        );
        assert_eq!(plan.keyed["AWS::EC2::Instance"], set(&["i-9"]));
        // An association id.
        let mut indirect = target(
            "AWS::EC2::RouteTable",
            "eu-west-1",
            "rtbassoc-1",
            Action::Change,
        );
        indirect.names_resource = false;
        let plan = Plan::of(&[indirect], &[]);
        assert!(plan.whole.contains("AWS::EC2::RouteTable"));
        assert!(plan.whole.contains("AWS::EC2::Instance"));
        // A detector: its region's summary is rebuilt from all of them.
        let known = [stored("AWS::GuardDuty::Detector", "arn:d/abc", "abc")];
        let plan = Plan::of(
            &[target(
                "AWS::GuardDuty::Detector",
                "eu-west-1",
                "abc",
                Action::Change,
            )],
            &known,
        );
        assert_eq!(plan.whole, set(&["AWS::GuardDuty::Detector", REGION]));
    }

    #[test]
    fn a_known_key_described_whole_elsewhere_is_not_also_keyed() {
        let known = [stored(
            "AWS::EC2::Instance",
            "arn:aws:ec2:eu-west-1:111111111111:instance/i-1",
            "i-1",
        )];
        let plan = Plan::of(
            &[
                target("AWS::EC2::Instance", "eu-west-1", "i-1", Action::Change),
                target(
                    "AWS::EC2::SecurityGroup",
                    "eu-west-1",
                    "sg-1",
                    Action::Create,
                ),
            ],
            &known,
        );
        assert!(plan.whole.contains("AWS::EC2::Instance"));
        assert!(!plan.keyed.contains_key("AWS::EC2::Instance"));
        assert_eq!(plan.keyed["AWS::EC2::SecurityGroup"], set(&["sg-1"]));
    }

    #[test]
    fn global_changes_are_collected_from_one_region() {
        let known = [stored(
            "AWS::IAM::User",
            "arn:aws:iam::111111111111:user/bob",
            "bob",
        )];
        let plan = Plan::of(
            &[target("AWS::IAM::User", "global", "bob", Action::Change)],
            &known,
        );
        assert_eq!(plan.regions, set(&["us-east-1"]));
        assert_eq!(plan.keyed["AWS::IAM::User"], set(&["bob"]));
    }
}
