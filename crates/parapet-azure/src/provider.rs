//! Azure as a provider of the pipeline: its scope is the subscriptions the
//! options name, those under a management group (at any depth), or every
//! enabled subscription the identity can read, in its own tenant or in each
//! of the tenants named (a multitenant application's, or the Azure CLI
//! user's); each is collected (whole, or as a refresh names) and handed on
//! as a part of its own.

use crate::arm::Arm;
use crate::credentials::{Credentials, Endpoints};
use crate::error::{ArmError, AzureError};
use crate::types::{self, Ctx, Wanted};
use parapet_core::Asset;
use parapet_core::{Provider as Cloud, Scope};
use parapet_provider::{
    Collection, Decoded, Narrowing, Part, Progress, Provider, ProviderError, ResourceTypeInfo,
    Target,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Instant;

/// The API version of Microsoft.Resources' subscriptions.
const SUBSCRIPTIONS_API: &str = "2022-12-01";
/// The API version of Microsoft.Management's management groups.
const MANAGEMENT_API: &str = "2021-04-01";

/// What to collect, and as whom.
#[derive(Debug, Clone)]
pub struct AzureOptions {
    /// Only these subscriptions; `None`: every enabled subscription the
    /// identity can read.
    pub subscriptions: Option<Vec<String>>,
    /// Every subscription under this management group, at any depth
    /// (when no subscriptions are named).
    pub management_group: Option<String>,
    /// The tenants signed in to, each in turn; none: the credential's own.
    pub tenants: Vec<String>,
    /// The credential.
    pub credentials: Credentials,
    /// Where Azure is.
    pub endpoints: Endpoints,
}

/// The `azure` section of Parapet's configuration file.
#[derive(Debug, Clone, Default, serde::Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AzureFileConfig {
    /// The subscriptions to collect [default: every enabled subscription
    /// the identity can read].
    #[serde(default)]
    pub subscriptions: Option<Vec<String>>,
    /// Every subscription under this management group, at any depth.
    #[serde(default)]
    pub management_group: Option<String>,
    /// The tenants to sign in to [default: the credential's own].
    #[serde(default)]
    pub tenants: Option<Vec<String>>,
}

/// The Azure provider.
pub struct AzureProvider {
    options: AzureOptions,
}

impl AzureProvider {
    /// A provider collecting what `options` say.
    pub fn new(options: AzureOptions) -> AzureProvider {
        AzureProvider { options }
    }

    /// A client of Resource Manager for each tenant, signed in.
    fn arms(&self) -> Result<Vec<Arm>, AzureError> {
        let endpoints = &self.options.endpoints;
        let http = endpoints.http_client()?;
        let credentials = match self.options.tenants.as_slice() {
            [] => vec![self.options.credentials.clone()],
            tenants => tenants
                .iter()
                .map(|t| self.options.credentials.in_tenant(t))
                .collect::<Result<_, _>>()?,
        };
        credentials
            .iter()
            .map(|c| {
                let credential = c.token_credential(endpoints, &http)?;
                Ok(Arm::new(credential, endpoints, http.clone()))
            })
            .collect()
    }

    /// The subscriptions in scope, each with the client of its tenant (its
    /// place in `arms`).
    async fn subscriptions(&self, arms: &[Arm]) -> Result<Vec<(usize, String)>, AzureError> {
        let several = arms.len() > 1;
        let mut found = Vec::new();
        for (at, arm) in arms.iter().enumerate() {
            let subscriptions = match (&self.options.subscriptions, &self.options.management_group)
            {
                (Some(named), _) if !several => named.clone(),
                (Some(named), _) => enabled_subscriptions(arm)
                    .await?
                    .into_iter()
                    .filter(|s| named.iter().any(|n| n.eq_ignore_ascii_case(s)))
                    .collect(),
                (None, Some(group)) => subscriptions_under(arm, group).await?,
                (None, None) => enabled_subscriptions(arm).await?,
            };
            found.extend(subscriptions.into_iter().map(|s| (at, s)));
        }
        if several && let Some(named) = &self.options.subscriptions {
            let missing: Vec<&str> = named
                .iter()
                .filter(|n| !found.iter().any(|(_, s)| s.eq_ignore_ascii_case(n)))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                return Err(AzureError::Setting {
                    setting: "subscriptions".to_owned(),
                    message: format!(
                        "{} not found enabled in the tenants {}",
                        missing.join(", "),
                        self.options.tenants.join(", ")
                    ),
                });
            }
        }
        Ok(found)
    }
}

/// Resource Graph's census of each tenant's subscriptions, by
/// subscription (lowercase); a tenant whose census fails (Resource Graph
/// denied) has none, and its subscriptions are listed type by type.
async fn census(
    arms: &[Arm],
    subscriptions: &[(usize, String)],
) -> BTreeMap<String, Arc<BTreeSet<String>>> {
    let mut found = BTreeMap::new();
    for (at, arm) in arms.iter().enumerate() {
        let ids: Vec<String> = subscriptions
            .iter()
            .filter(|(a, _)| *a == at)
            .map(|(_, s)| s.clone())
            .collect();
        if ids.is_empty() {
            continue;
        }
        if let Ok(counted) = crate::graph::census(arm, &ids).await {
            found.extend(counted.into_iter().map(|(s, types)| (s, Arc::new(types))));
        }
    }
    found
}

/// Every enabled subscription the identity can read, by id.
async fn enabled_subscriptions(arm: &Arm) -> Result<Vec<String>, ArmError> {
    let listed = arm.list("/subscriptions", SUBSCRIPTIONS_API).await?;
    Ok(listed
        .iter()
        .filter(|s| s.get("state").and_then(Value::as_str) == Some("Enabled"))
        .filter_map(|s| s.get("subscriptionId").and_then(Value::as_str))
        .map(str::to_owned)
        .collect())
}

/// Every subscription under the management group `group`, at any depth.
async fn subscriptions_under(arm: &Arm, group: &str) -> Result<Vec<String>, ArmError> {
    let path = format!("/providers/Microsoft.Management/managementGroups/{group}/descendants");
    let listed = arm.list(&path, MANAGEMENT_API).await?;
    Ok(listed
        .iter()
        .filter(|d| d.get("type").and_then(Value::as_str) == Some("/subscriptions"))
        .filter_map(|d| d.get("name").and_then(Value::as_str))
        .map(str::to_owned)
        .collect())
}

impl Provider for AzureProvider {
    fn source(&self) -> String {
        "azure".to_owned()
    }

    fn version(&self) -> String {
        format!("parapet-azure {}", env!("CARGO_PKG_VERSION"))
    }

    fn resource_types(&self) -> Vec<ResourceTypeInfo> {
        types::catalog()
    }

    fn collect(
        &self,
        narrowing: Option<&Narrowing>,
        progress: &dyn Progress,
    ) -> Result<Collection, ProviderError> {
        Collection::of_parts(self, narrowing, progress)
    }

    fn collect_parts(
        &self,
        narrowing: Option<&Narrowing>,
        progress: &dyn Progress,
        each: &mut dyn FnMut(Part, bool) -> ControlFlow<()>,
    ) -> Result<Collection, ProviderError> {
        let started = Instant::now();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(ProviderError::start)?;
        let arms = self.arms().map_err(ProviderError::start)?;
        let mut subscriptions = runtime
            .block_on(self.subscriptions(&arms))
            .map_err(ProviderError::start)?;
        if let Some(narrowing) = narrowing {
            subscriptions.retain(|(_, s)| narrowing.accounts.contains(s));
        }
        let wanted = narrowing.map_or_else(Wanted::every, Wanted::of);
        let partial = narrowing.is_some_and(|n| n.whole.is_some());
        // A whole collection takes Resource Graph's census first; a refresh
        // of what events named does not (the census may not have them yet).
        let census = match partial {
            true => BTreeMap::new(),
            false => runtime.block_on(census(&arms, &subscriptions)),
        };
        progress.planned(subscriptions.len() as u64);
        let observed_at = chrono::Utc::now();
        for (at, subscription) in subscriptions {
            let ctx = Ctx {
                arm: arms[at].clone(),
                census: census.get(&subscription.to_lowercase()).cloned(),
                subscription: subscription.clone(),
                wanted: wanted.clone(),
                observed_at,
            };
            let out = runtime.block_on(types::collect(&ctx));
            progress.done(&subscription, out.assets.len());
            let mut scope = Scope::whole(Cloud::Azure, vec![subscription]);
            if partial {
                scope.resource_types = Some(types::covered(&wanted));
            }
            let part = Part {
                scope,
                assets: out.assets,
                errors: out.errors,
            };
            if each(part, partial).is_break() {
                break;
            }
        }
        let mut calls = BTreeMap::new();
        for arm in &arms {
            for (action, count) in arm.counts().calls() {
                *calls.entry(action).or_insert(0) += count;
            }
        }
        let made: u64 = calls.values().sum();
        let tries: u64 = arms.iter().map(|a| a.counts().tries()).sum();
        Ok(Collection {
            parts: Vec::new(),
            resource_types: types::catalog().iter().map(|t| t.name.to_owned()).collect(),
            partial,
            api_calls: tries,
            api_retries: tries.saturating_sub(made),
            calls,
            duration: started.elapsed(),
            input_errors: Vec::new(),
        })
    }

    fn decode(&self, message: &Value) -> Result<Decoded, ProviderError> {
        crate::events::decode(message).map_err(|e| ProviderError::NotAnEvent(e.to_string()))
    }

    fn plan(&self, targets: &[Target], stored: &[Asset]) -> Narrowing {
        parapet_provider::plan::plan(
            &self.resource_types(),
            targets,
            stored,
            types::SUMMARY,
            |key, asset| self.names(key, asset),
        )
    }

    fn names(&self, key: &str, asset: &Asset) -> bool {
        key.eq_ignore_ascii_case(&asset.id)
    }

    fn configured_accounts(&self) -> BTreeSet<String> {
        self.options
            .subscriptions
            .iter()
            .flatten()
            .cloned()
            .collect()
    }
}
