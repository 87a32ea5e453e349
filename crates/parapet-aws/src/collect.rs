//! The collection: every account, region and resource type, in parallel
//! with a bound on the calls in flight; a part that fails becomes a
//! collection error for its account, region and type, and the rest carries on.

use crate::error::{AwsError, Failure, Named};
use crate::options::{AccountTarget, AssumeRole, AwsOptions, DEFAULT_CONCURRENCY};
use crate::session::{HOME_REGION, Session, Shared, account_of_role};
use crate::types::{COLLECTORS, Collector, Reach};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use parapet_core::{Asset, CollectionError, Provider, Relationship, ResourceType, Scope};
use parapet_provider::{Collection, Part, Progress};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Instant;

/// The region name global resources (IAM) are recorded in.
pub const GLOBAL: &str = "global";

/// What a collector works with: one account in one region.
pub struct Ctx {
    /// The account's session.
    pub session: Session,
    /// The region assets are recorded in: `global` for global services.
    pub region: String,
    /// The region API calls are sent to.
    pub api_region: String,
    /// The regions of the collection, for global services that list
    /// resources of every region (S3 buckets).
    pub regions: Vec<String>,
    /// When the collection started.
    pub observed_at: DateTime<Utc>,
    /// The resource types asked for.
    pub types: Arc<Vec<&'static str>>,
    /// For the types named, the keys of the only resources asked for.
    pub keys: Arc<BTreeMap<String, BTreeSet<String>>>,
}

impl Ctx {
    /// An asset of this account and region (the collector's region, or
    /// `region` when given).
    pub fn asset(
        &self,
        resource_type: &'static str,
        id: impl Into<String>,
        name: impl Into<String>,
        config: serde_json::Value,
    ) -> Asset {
        Asset {
            id: id.into(),
            provider: Provider::Aws,
            account: self.session.account.clone(),
            region: self.region.clone(),
            resource_type: ResourceType::new(resource_type)
                .expect("the collectors' type names are well-formed"),
            name: name.into(),
            tags: BTreeMap::new(),
            config,
            relationships: Vec::new(),
            unknown: BTreeMap::new(),
            observed_at: self.observed_at,
        }
    }

    /// Whether `resource_type` was asked for.
    pub fn wants(&self, resource_type: &str) -> bool {
        self.types.contains(&resource_type)
    }

    /// Whether the resource known by `names` (its id, ARN, name or URL) is
    /// asked for: every resource of its type, unless the collection names
    /// some.
    pub fn selects(&self, resource_type: &str, names: &[&str]) -> bool {
        selects(&self.keys, resource_type, names)
    }

    /// Keeps the listed items the collection asks for, before each is
    /// described.
    pub fn keep<T>(&self, resource_type: &str, items: &mut Vec<T>, names: fn(&T) -> Vec<&str>) {
        if self.keys.contains_key(resource_type) {
            items.retain(|item| self.selects(resource_type, &names(item)));
        }
    }

    /// The SDK configuration for this account and region.
    pub fn sdk(&self) -> aws_types::SdkConfig {
        self.session.in_region(&self.api_region)
    }

    /// An ARN of this account and region.
    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:aws:{service}:{}:{}:{resource}",
            self.region, self.session.account
        )
    }

    /// Runs `call` for each item, a few at a time (the HTTP client bounds
    /// the calls in flight across the collection), keeping their order.
    pub async fn each<T, F, Fut>(&self, items: Vec<T>, call: F) -> Vec<Fut::Output>
    where
        F: FnMut(T) -> Fut,
        Fut: std::future::Future,
    {
        futures::stream::iter(items.into_iter().map(call))
            .buffered(16)
            .collect()
            .await
    }
}

/// Whether `keys` ask for the resource of `resource_type` known by `names`.
fn selects(keys: &BTreeMap<String, BTreeSet<String>>, resource_type: &str, names: &[&str]) -> bool {
    keys.get(resource_type)
        .is_none_or(|keys| keys.iter().any(|k| crate::events::key_names(k, names)))
}

/// Adds a relationship.
pub fn relate(asset: &mut Asset, kind: &str, target: impl Into<String>) {
    asset.relationships.push(Relationship {
        kind: kind.to_owned(),
        target: target.into(),
    });
}

/// Adds a `uses_security_group` relationship to each group (ids of `ctx`'s
/// region and account).
pub fn relate_security_groups(
    asset: &mut Asset,
    ctx: &Ctx,
    groups: impl IntoIterator<Item = impl AsRef<str>>,
) {
    for group in groups {
        let arn = ctx.arn("ec2", &format!("security-group/{}", group.as_ref()));
        relate(asset, "uses_security_group", arn);
    }
}

/// What one collector found.
#[derive(Default)]
pub struct Out {
    /// The assets.
    pub assets: Vec<Asset>,
    /// The resource types that could not be collected, and why.
    pub failures: Vec<(&'static str, Failure)>,
}

impl Out {
    /// Records that `resource_type` could not be collected.
    pub fn failed(&mut self, resource_type: &'static str, failure: Failure) {
        self.failures.push((resource_type, failure));
    }
}

/// An account reached: its session and the regions to collect.
type Plan = (Session, Vec<String>);

/// Accounts collected at a time: each account's part is handed on once
/// its group is collected, so that no more than a group (and the parts
/// not yet taken) is held, whatever the organisation's size.
const ACCOUNTS_AT_ONCE: usize = 8;

/// Parts collected ahead of the one being taken.
const PARTS_AHEAD: usize = 2;

/// Collects the estate `options` describe: one part per account, whose
/// scope is the account's regions (`global` included) and the types
/// collected.
pub fn collect(options: &AwsOptions, progress: &dyn Progress) -> Result<Collection, AwsError> {
    Collection::gathered(|each| collect_parts(options, progress, each))
}

/// Collects like [`collect`], a group of accounts at a time, handing each
/// account's part to `each` in the order of the accounts (the next group
/// is collected once no more than [`PARTS_AHEAD`] parts wait to be taken);
/// returns the rest of the collection (its parts empty). Stops once `each`
/// breaks.
pub fn collect_parts(
    options: &AwsOptions,
    progress: &dyn Progress,
    each: &mut dyn FnMut(Part) -> ControlFlow<()>,
) -> Result<Collection, AwsError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(AwsError::Runtime)?;
    let (send, mut receive) = tokio::sync::mpsc::channel::<Part>(PARTS_AHEAD);
    std::thread::scope(|scope| {
        let collecting = scope.spawn(|| {
            runtime.block_on(crate::calls::counted(collect_async(
                options, progress, send,
            )))
        });
        while let Some(part) = receive.blocking_recv() {
            if each(part).is_break() {
                break;
            }
        }
        // The collection stops at the next part it would hand on.
        drop(receive);
        let (collection, calls) = collecting
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        collection.map(|c| Collection { calls, ..c })
    })
}

/// The resource types `options` ask for, known ones only.
pub(crate) fn selected_types(options: &AwsOptions) -> Vec<&'static str> {
    COLLECTORS
        .iter()
        .flat_map(|c| c.types.iter().map(|t| t.name))
        .filter(|t| {
            options
                .resource_types
                .as_ref()
                .is_none_or(|wanted| wanted.iter().any(|w| w == t))
        })
        .collect()
}

async fn collect_async(
    options: &AwsOptions,
    progress: &dyn Progress,
    parts: tokio::sync::mpsc::Sender<Part>,
) -> Result<Collection, AwsError> {
    let started = Instant::now();
    let observed_at = Utc::now();
    let shared = Shared::new(if options.concurrency == 0 {
        DEFAULT_CONCURRENCY
    } else {
        options.concurrency
    });
    let base = shared
        .base(options.profile.as_deref(), options.endpoint_url.as_deref())
        .await;
    let home = match &options.role {
        Some(role) => Session::assume(&base, role).await,
        None => Session::identify(base.clone()).await,
    }
    .map_err(AwsError::Identity)?;
    let (targets, unreachable) = {
        let (targets, mut unreachable) = accounts(options, &home).await;
        let plans = sessions(options, &home, &base, targets, &mut unreachable).await;
        (plans, unreachable)
    };
    let types = selected_types(options);
    progress.planned(units(options, &targets, &types, observed_at).len() as u64);
    // Every account in order, those that could not be reached among them.
    let mut order: Vec<(String, Result<Plan, Part>)> = unreachable
        .into_iter()
        .map(|(account, failure)| {
            let part = unreachable_part(options, &account, &failure, &types);
            (account, Err(part))
        })
        .chain(
            targets
                .into_iter()
                .map(|(session, regions)| (session.account.clone(), Ok((session, regions)))),
        )
        .collect();
    order.sort_by(|a, b| a.0.cmp(&b.0));
    let mut group: Vec<Plan> = Vec::new();
    let mut entries = order.into_iter().peekable();
    while let Some((_, entry)) = entries.next() {
        let unreached = match entry {
            Ok(plan) => {
                group.push(plan);
                None
            }
            Err(part) => Some(part),
        };
        let last = entries.peek().is_none();
        if !group.is_empty() && (unreached.is_some() || group.len() == ACCOUNTS_AT_ONCE || last) {
            let collected = collect_group(options, progress, &group, &types, observed_at).await;
            group.clear();
            for part in collected {
                if parts.send(part).await.is_err() {
                    break;
                }
            }
        }
        if let Some(part) = unreached
            && parts.send(part).await.is_err()
        {
            break;
        }
    }
    Ok(Collection {
        parts: Vec::new(),
        resource_types: types.iter().map(|t| (*t).to_owned()).collect(),
        partial: options.partial(),
        api_calls: shared.calls(),
        api_retries: shared.retries(),
        calls: BTreeMap::new(),
        duration: started.elapsed(),
        input_errors: Vec::new(),
    })
}

/// The parts of a group of accounts, each collected by its units, in the
/// group's order.
async fn collect_group(
    options: &AwsOptions,
    progress: &dyn Progress,
    plans: &[Plan],
    types: &[&'static str],
    observed_at: DateTime<Utc>,
) -> Vec<Part> {
    let units = units(options, plans, types, observed_at);
    let results: Vec<(Arc<Ctx>, &'static Collector, Out)> =
        futures::stream::iter(units.into_iter().map(|(ctx, collector)| async move {
            let out = (collector.run)(ctx.clone()).await;
            progress.done(
                &format!(
                    "{} {} {}",
                    ctx.session.account, ctx.region, collector.service
                ),
                out.assets.len(),
            );
            (ctx, collector, out)
        }))
        .buffer_unordered(64)
        .collect()
        .await;
    plans
        .iter()
        .map(|(session, regions)| account_part(options, session, regions, &results, types))
        .collect()
}

/// The accounts to collect: the credentials' own, the configured ones, and
/// the organisation's members (each with the role that reaches it); and
/// those that could not be listed.
pub(crate) async fn accounts(
    options: &AwsOptions,
    home: &Session,
) -> (Vec<(String, Option<AssumeRole>)>, Vec<(String, Failure)>) {
    let mut targets: Vec<(String, Option<AssumeRole>)> = vec![(home.account.clone(), None)];
    let mut unreachable: Vec<(String, Failure)> = Vec::new();
    for AccountTarget { role, .. } in &options.accounts {
        let account = account_of_role(&role.role_arn)
            .unwrap_or(&role.role_arn)
            .to_owned();
        if !targets.iter().any(|(a, _)| *a == account) {
            targets.push((account, Some(role.clone())));
        }
    }
    if let Some(role_name) = &options.organization_role {
        match organization_accounts(home).await {
            Ok(accounts) => {
                for account in accounts {
                    if !targets.iter().any(|(a, _)| *a == account) {
                        let role = AssumeRole {
                            role_arn: format!("arn:aws:iam::{account}:role/{role_name}"),
                            external_id: None,
                            session_name: None,
                        };
                        targets.push((account, Some(role)));
                    }
                }
            }
            Err(failure) => unreachable.push((home.account.clone(), failure)),
        }
    }
    if let Some(only) = &options.only_accounts {
        targets.retain(|(account, _)| only.contains(account));
    }
    (targets, unreachable)
}

/// A session in each account, with its regions; the accounts that cannot
/// be reached join `unreachable`.
pub(crate) async fn sessions(
    options: &AwsOptions,
    home: &Session,
    base: &aws_types::SdkConfig,
    targets: Vec<(String, Option<AssumeRole>)>,
    unreachable: &mut Vec<(String, Failure)>,
) -> Vec<(Session, Vec<String>)> {
    let sessions = futures::future::join_all(targets.into_iter().map(|(account, role)| {
        let home = home.clone();
        let base = base.clone();
        async move {
            let session = match role {
                None => Ok(home),
                Some(role) => Session::assume(&base, &role).await,
            };
            (account, session)
        }
    }))
    .await;
    let mut plans = Vec::new();
    for (account, session) in sessions {
        match session {
            Ok(session) => {
                let regions = match &options.regions {
                    Some(regions) => Ok(regions.clone()),
                    None => enabled_regions(&session).await,
                };
                match regions {
                    Ok(regions) => plans.push((session, regions)),
                    Err(failure) => unreachable.push((account, failure)),
                }
            }
            Err(failure) => unreachable.push((account, failure)),
        }
    }
    plans
}

/// The part of an account that could not be reached: one error covering it.
pub(crate) fn unreachable_part(
    options: &AwsOptions,
    account: &str,
    failure: &Failure,
    types: &[&str],
) -> Part {
    // The configuration file's name for the account, when it gives one.
    let label = options
        .accounts
        .iter()
        .find(|t| account_of_role(&t.role.role_arn) == Some(account))
        .and_then(|t| t.name.as_deref());
    Part {
        scope: scope_of(account, Vec::new(), types),
        assets: Vec::new(),
        errors: vec![CollectionError {
            account: None,
            region: None,
            resource_type: None,
            message: match label {
                Some(name) => format!("account {name}: {failure}"),
                None => failure.to_string(),
            },
        }],
    }
}

/// Every (account, region, collector) unit of the plans.
pub(crate) fn units(
    options: &AwsOptions,
    plans: &[(Session, Vec<String>)],
    types: &[&'static str],
    observed_at: DateTime<Utc>,
) -> Vec<(Arc<Ctx>, &'static Collector)> {
    let collectors: Vec<&'static Collector> = COLLECTORS
        .iter()
        .filter(|c| c.types.iter().any(|t| types.contains(&t.name)))
        .collect();
    let wanted = Arc::new(types.to_vec());
    let keys = Arc::new(options.keys.clone());
    let mut units: Vec<(Arc<Ctx>, &'static Collector)> = Vec::new();
    for (session, regions) in plans {
        let home_region = regions.first().map_or(HOME_REGION, String::as_str);
        for collector in &collectors {
            let regions_of: Vec<&str> = match collector.reach {
                Reach::Regional => regions.iter().map(String::as_str).collect(),
                Reach::Global | Reach::Listed => vec![home_region],
            };
            for region in regions_of {
                units.push((
                    Arc::new(Ctx {
                        session: session.clone(),
                        region: match collector.reach {
                            Reach::Global => GLOBAL.to_owned(),
                            Reach::Regional | Reach::Listed => region.to_owned(),
                        },
                        api_region: region.to_owned(),
                        regions: regions.clone(),
                        observed_at,
                        types: wanted.clone(),
                        keys: keys.clone(),
                    }),
                    collector,
                ));
            }
        }
    }
    units
}

/// One account's part: what its units found, and what they could not
/// collect.
fn account_part(
    options: &AwsOptions,
    session: &Session,
    regions: &[String],
    results: &[(Arc<Ctx>, &'static Collector, Out)],
    types: &[&str],
) -> Part {
    let mut assets = Vec::new();
    let mut errors = Vec::new();
    for (ctx, collector, out) in results
        .iter()
        .filter(|(ctx, _, _)| ctx.session.account == session.account)
    {
        assets.extend(wanted(options, types, &out.assets));
        errors.extend(failures(&session.account, &ctx.region, collector, out));
    }
    let mut regions = regions.to_vec();
    regions.push(GLOBAL.to_owned());
    finish_part(scope_of(&session.account, regions, types), assets, errors)
}

/// The assets of `found` that the collection asked for.
pub(crate) fn wanted(options: &AwsOptions, types: &[&str], found: &[Asset]) -> Vec<Asset> {
    found
        .iter()
        .filter(|a| {
            let kind = a.resource_type.as_str();
            types.contains(&kind) && selects(&options.keys, kind, &[&a.id, &a.name])
        })
        .cloned()
        .collect()
}

/// Where a collector's failures in `account` and `region` leave its types
/// unknown.
pub(crate) fn failures(
    account: &str,
    region: &str,
    collector: &Collector,
    out: &Out,
) -> Vec<CollectionError> {
    out.failures
        .iter()
        .map(|(resource_type, failure)| {
            covering(
                account,
                region,
                collector,
                resource_type,
                failure.to_string(),
            )
        })
        .collect()
}

/// An error covering `resource_type` where `collector` runs in `region`.
pub(crate) fn covering(
    account: &str,
    region: &str,
    collector: &Collector,
    resource_type: &str,
    message: String,
) -> CollectionError {
    CollectionError {
        account: Some(account.to_owned()),
        region: match collector.reach {
            Reach::Regional => Some(region.to_owned()),
            Reach::Global => Some(GLOBAL.to_owned()),
            // One listing covers every region's resources.
            Reach::Listed => None,
        },
        resource_type: Some(resource_type.to_owned()),
        message,
    }
}

/// A part of `scope` from its assets and errors: each asset once, in id
/// order, and then the facts of each region filled in (in that order, so
/// that a region's document does not change with the order units finish).
pub(crate) fn finish_part(
    scope: Scope,
    mut assets: Vec<Asset>,
    errors: Vec<CollectionError>,
) -> Part {
    assets.sort_by(|a, b| a.id.cmp(&b.id));
    assets.dedup_by(|a, b| a.id == b.id);
    let mut part = Part {
        scope,
        assets,
        errors,
    };
    fill_regions(&mut part);
    part
}

/// Fills in the facts of each region of a part whose assets are in id
/// order.
pub(crate) fn fill_regions(part: &mut Part) {
    let types: Vec<&str> = part
        .scope
        .resource_types
        .iter()
        .flatten()
        .map(String::as_str)
        .collect();
    crate::types::region::fill(&mut part.assets, &part.errors, &types);
}

/// The scope of one account's part: its regions and the types collected.
pub(crate) fn scope_of(account: &str, regions: Vec<String>, types: &[&str]) -> Scope {
    Scope {
        provider: Provider::Aws,
        accounts: vec![account.to_owned()],
        regions: Some(regions),
        resource_types: Some(types.iter().map(|t| (*t).to_owned()).collect()),
        assets: BTreeMap::new(),
    }
}

async fn enabled_regions(session: &Session) -> Result<Vec<String>, Failure> {
    let ec2 = aws_sdk_ec2::Client::new(&session.in_region(HOME_REGION));
    let answer = ec2
        .describe_regions()
        .send()
        .await
        .named("ec2:DescribeRegions")?;
    let mut regions: Vec<String> = answer
        .regions()
        .iter()
        .filter(|r| r.opt_in_status() != Some("not-opted-in"))
        .filter_map(|r| r.region_name().map(str::to_owned))
        .collect();
    regions.sort();
    Ok(regions)
}

async fn organization_accounts(home: &Session) -> Result<Vec<String>, Failure> {
    let organizations = aws_sdk_organizations::Client::new(&home.in_region(HOME_REGION));
    let mut pages = organizations.list_accounts().into_paginator().send();
    let mut accounts = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.named("organizations:ListAccounts")?;
        for account in page.accounts() {
            let active = account.status().is_none_or(|s| s.as_str() == "ACTIVE");
            if let (Some(id), true) = (account.id(), active) {
                accounts.push(id.to_owned());
            }
        }
    }
    Ok(accounts)
}
