//! A collection planned as units for workers: the accounts the options
//! reach (the organisation's members through their role), each account's
//! regions, and one unit per account, region and collector, as a whole
//! collection runs them; each unit collected alone, by any worker, with the
//! worker's own base credentials; one account's outputs assembled into its
//! part as a whole collection makes it.

use crate::collect::{
    Ctx, accounts, covering, failures, fill_regions, scope_of, selected_types, sessions, units,
    unreachable_part, wanted,
};
use crate::error::AwsError;
use crate::options::{AssumeRole, AwsOptions, DEFAULT_CONCURRENCY};
use crate::session::{Session, Shared};
use crate::types::COLLECTORS;
use chrono::Utc;
use parapet_provider::{AccountUnits, Part, Unit, UnitOutput, UnitPlan};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a worker needs to collect one unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    /// The account.
    account: String,
    /// The role that reaches it; `None`: the home account, reached with the
    /// options' own identity.
    role: Option<AssumeRole>,
    /// The region its assets are recorded in (`global` for IAM).
    region: String,
    /// The region its API calls go to.
    api_region: String,
    /// The account's regions, for collectors that list every region's
    /// resources.
    regions: Vec<String>,
    /// The collector: the first resource type it yields.
    collector: String,
}

fn runtime() -> Result<tokio::runtime::Runtime, AwsError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(AwsError::Runtime)
}

fn concurrency(options: &AwsOptions) -> usize {
    if options.concurrency == 0 {
        DEFAULT_CONCURRENCY
    } else {
        options.concurrency
    }
}

/// The options' own identity: their role assumed, or the base credentials.
async fn home(options: &AwsOptions, base: &aws_types::SdkConfig) -> Result<Session, AwsError> {
    match &options.role {
        Some(role) => Session::assume(base, role).await,
        None => Session::identify(base.clone()).await,
    }
    .map_err(AwsError::Identity)
}

/// Plans the collection `options` describe.
pub fn plan(options: &AwsOptions) -> Result<UnitPlan, AwsError> {
    runtime()?.block_on(async {
        let shared = Shared::new(concurrency(options));
        let base = shared
            .base(options.profile.as_deref(), options.endpoint_url.as_deref())
            .await;
        let home = home(options, &base).await?;
        let (targets, mut unreachable) = accounts(options, &home).await;
        let roles: BTreeMap<String, Option<AssumeRole>> = targets.iter().cloned().collect();
        let plans = sessions(options, &home, &base, targets, &mut unreachable).await;
        let types = selected_types(options);
        let all = units(options, &plans, &types, Utc::now());
        let accounts = plans
            .iter()
            .map(|(session, regions)| {
                let mut covered = regions.clone();
                covered.push(crate::collect::GLOBAL.to_owned());
                AccountUnits {
                    account: session.account.clone(),
                    scope: scope_of(&session.account, covered, &types),
                    units: all
                        .iter()
                        .filter(|(ctx, _)| ctx.session.account == session.account)
                        .map(|(ctx, collector)| unit(ctx, collector, &roles))
                        .collect(),
                }
            })
            .collect();
        Ok(UnitPlan {
            accounts,
            unreachable: unreachable
                .iter()
                .map(|(account, failure)| unreachable_part(options, account, failure, &types))
                .collect(),
            partial: options.partial(),
        })
    })
}

fn unit(
    ctx: &Ctx,
    collector: &crate::types::Collector,
    roles: &BTreeMap<String, Option<AssumeRole>>,
) -> Unit {
    let spec = Spec {
        account: ctx.session.account.clone(),
        role: roles.get(&ctx.session.account).cloned().flatten(),
        region: ctx.region.clone(),
        api_region: ctx.api_region.clone(),
        regions: ctx.regions.clone(),
        collector: collector.types[0].name.to_owned(),
    };
    Unit {
        label: format!("{} {} {}", spec.account, spec.region, collector.service),
        spec: serde_json::to_value(&spec).unwrap_or_default(),
    }
}

fn spec_of(unit: &Unit) -> Result<(Spec, &'static crate::types::Collector), AwsError> {
    let spec: Spec = serde_json::from_value(unit.spec.clone())
        .map_err(|e| AwsError::Unit(format!("{}: {e}", unit.label)))?;
    let collector = COLLECTORS
        .iter()
        .find(|c| c.types.first().is_some_and(|t| t.name == spec.collector))
        .ok_or_else(|| {
            AwsError::Unit(format!("{}: no collector {}", unit.label, spec.collector))
        })?;
    Ok((spec, collector))
}

/// Collects one unit of a plan of `options`.
pub fn collect_unit(options: &AwsOptions, unit: &Unit) -> Result<UnitOutput, AwsError> {
    let (spec, collector) = spec_of(unit)?;
    runtime()?.block_on(async {
        let shared = Shared::new(concurrency(options));
        let base = shared
            .base(options.profile.as_deref(), options.endpoint_url.as_deref())
            .await;
        let session = match &spec.role {
            Some(role) => Session::assume(&base, role)
                .await
                .map_err(AwsError::Identity)?,
            None => home(options, &base).await?,
        };
        let types = selected_types(options);
        let ctx = Arc::new(Ctx {
            session,
            region: spec.region.clone(),
            api_region: spec.api_region.clone(),
            regions: spec.regions.clone(),
            observed_at: Utc::now(),
            types: Arc::new(types.clone()),
            keys: Arc::new(options.keys.clone()),
        });
        let out = (collector.run)(ctx).await;
        Ok(UnitOutput {
            assets: wanted(options, &types, &out.assets),
            errors: failures(&spec.account, &spec.region, collector, &out),
            api_calls: shared.calls(),
            api_retries: shared.retries(),
        })
    })
}

/// One account's part from its units' outputs: a unit that failed as a
/// whole leaves each of its collector's types unknown where it runs.
pub fn assemble(account: &AccountUnits, outputs: &[(Unit, Result<UnitOutput, String>)]) -> Part {
    let mut part =
        parapet_provider::units::assemble(account, outputs, |unit, why| match spec_of(unit) {
            Ok((spec, collector)) => collector
                .types
                .iter()
                .map(|t| {
                    covering(
                        &spec.account,
                        &spec.region,
                        collector,
                        t.name,
                        why.to_owned(),
                    )
                })
                .collect(),
            Err(e) => vec![parapet_core::CollectionError {
                account: Some(account.account.clone()),
                region: None,
                resource_type: None,
                message: format!("{why} ({e})"),
            }],
        });
    fill_regions(&mut part);
    part
}
