//! Google Cloud as a provider of the pipeline: its scope is an
//! organisation, a folder (each at any depth) or named projects. Each
//! parent is read from Cloud Asset Inventory in two paged listings (every
//! resource of the types collected, and the IAM policies set on them);
//! the assets are grouped by the project they belong to (an
//! organisation's and its folders' own under the organisation), what is
//! worked out across them is filled in, and each project is handed on as a
//! part of its own.

use crate::credentials::{Credentials, Endpoints};
use crate::derived::{self, Folded};
use crate::error::{GcpError, InventoryError};
use crate::inventory::{Content, Inventory};
use crate::types::{self, FOLDED, Record, SUMMARY};
use google_cloud_asset_v1::model;
use parapet_core::{Asset, CollectionError, Provider as Cloud, Scope};
use parapet_provider::{
    Collection, Narrowing, Part, Progress, Provider, ProviderError, ResourceTypeInfo,
};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::time::Instant;

/// What is collected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GcpScope {
    /// Every project of the organisation (its number), and the
    /// organisation's own resources.
    Organization(String),
    /// Every project under the folder (its number), at any depth.
    Folder(String),
    /// These projects (by id).
    Projects(Vec<String>),
}

/// What to collect, and as whom.
#[derive(Debug, Clone)]
pub struct GcpOptions {
    /// The scope.
    pub scope: GcpScope,
    /// The credential.
    pub credentials: Credentials,
    /// Where Google is.
    pub endpoints: Endpoints,
}

/// The `gcp` section of Parapet's configuration file.
#[derive(Debug, Clone, Default, serde::Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GcpFileConfig {
    /// The organisation to collect (its number).
    #[serde(default)]
    pub organization: Option<String>,
    /// The folder to collect (its number).
    #[serde(default)]
    pub folder: Option<String>,
    /// The projects to collect (by id).
    #[serde(default)]
    pub projects: Option<Vec<String>>,
    /// A service account to impersonate.
    #[serde(default)]
    pub impersonate_service_account: Option<String>,
}

/// The Google Cloud provider.
pub struct GcpProvider {
    options: GcpOptions,
}

impl GcpProvider {
    /// A provider collecting what `options` say.
    pub fn new(options: GcpOptions) -> GcpProvider {
        GcpProvider { options }
    }

    /// The parents listed: `organizations/N`, `folders/N` or each `projects/ID`.
    fn parents(&self) -> Vec<String> {
        match &self.options.scope {
            GcpScope::Organization(n) => vec![format!("organizations/{n}")],
            GcpScope::Folder(n) => vec![format!("folders/{n}")],
            GcpScope::Projects(ids) => ids.iter().map(|p| format!("projects/{p}")).collect(),
        }
    }
}

/// What the listings of one parent gave.
struct Listing {
    resources: Vec<model::Asset>,
    policies: Result<BTreeMap<String, Value>, String>,
}

/// Reads `parent`'s resources of `kinds`, and the IAM policies of those
/// that have one.
async fn listing(
    inventory: &Inventory,
    parent: &str,
    kinds: &[&str],
) -> Result<Listing, InventoryError> {
    let with_iam: Vec<&str> = types::with_iam()
        .into_iter()
        .filter(|t| kinds.contains(t))
        .collect();
    let (resources, policies) =
        tokio::join!(inventory.list(parent, kinds, Content::Resource), async {
            match with_iam.is_empty() {
                true => Ok(Vec::new()),
                false => inventory.list(parent, &with_iam, Content::IamPolicy).await,
            }
        });
    let policies = policies
        .map(|listed| {
            listed
                .into_iter()
                .filter_map(|a| Some((a.name.clone(), policy_document(a.iam_policy.as_ref()?))))
                .collect()
        })
        .map_err(|e| e.to_string());
    Ok(Listing {
        resources: resources?,
        policies,
    })
}

/// An IAM policy as a document: its `bindings` (each `{role, members}`,
/// with its `condition` `{title, expression}` where it has one) and
/// `auditConfigs` (each `{service, auditLogConfigs: [{logType,
/// exemptedMembers}]}`), log types by name as Google's JSON names them.
fn policy_document(policy: &google_cloud_iam_v1::model::Policy) -> Value {
    let bindings: Vec<Value> = policy
        .bindings
        .iter()
        .map(|b| {
            let mut binding = json!({"role": b.role, "members": b.members});
            if let Some(condition) = &b.condition {
                binding["condition"] = json!({
                    "title": condition.title,
                    "expression": condition.expression,
                });
            }
            binding
        })
        .collect();
    let audit: Vec<Value> = policy
        .audit_configs
        .iter()
        .map(|a| {
            let configs: Vec<Value> = a
                .audit_log_configs
                .iter()
                .map(|c| {
                    json!({
                        "logType": c.log_type.name().unwrap_or("LOG_TYPE_UNSPECIFIED"),
                        "exemptedMembers": c.exempted_members,
                    })
                })
                .collect();
            json!({"service": a.service, "auditLogConfigs": configs})
        })
        .collect();
    json!({"bindings": bindings, "auditConfigs": audit})
}

/// The project (by id) or, above projects, the organisation (or folder)
/// an asset belongs to, from its ancestors (closest first) and the
/// projects' ids by number.
fn account_of(ancestors: &[String], project_ids: &BTreeMap<String, String>) -> String {
    if let Some(number) = ancestors.iter().find_map(|a| a.strip_prefix("projects/")) {
        return project_ids
            .get(number)
            .cloned()
            .unwrap_or_else(|| number.to_owned());
    }
    ancestors
        .iter()
        .find(|a| a.starts_with("organizations/"))
        .or(ancestors.first())
        .cloned()
        .unwrap_or_default()
}

/// The ids of the projects listed, by number.
fn project_ids(listings: &[(String, Listing)]) -> BTreeMap<String, String> {
    listings
        .iter()
        .flat_map(|(_, l)| &l.resources)
        .filter(|a| a.asset_type == SUMMARY)
        .filter_map(|a| {
            let data = a.resource.as_ref()?.data.as_ref()?;
            let number = data.get("projectNumber")?.as_str()?.to_owned();
            let id = data.get("projectId")?.as_str()?.to_owned();
            Some((number, id))
        })
        .collect()
}

/// The assets and folded records of the listings, each in its account.
fn assets_of(
    listings: Vec<(String, Listing)>,
    observed_at: chrono::DateTime<chrono::Utc>,
) -> (Vec<Asset>, Vec<Folded>) {
    let ids = project_ids(&listings);
    let mut assets = Vec::new();
    let mut folded = Vec::new();
    for (_, listing) in listings {
        for record in listing.resources {
            let account = account_of(&record.ancestors, &ids);
            let Some(resource) = record.resource else {
                continue;
            };
            let mut data: Map<String, Value> = resource.data.unwrap_or_default();
            if FOLDED.contains(&record.asset_type.as_str()) {
                folded.push(Folded {
                    account,
                    kind: record.asset_type,
                    name: record.name,
                    data: Value::Object(data),
                });
                continue;
            }
            let Some(def) = types::def(&record.asset_type) else {
                continue;
            };
            if def.name == SUMMARY {
                data.insert("ancestors".to_owned(), json!(record.ancestors));
            }
            let iam_policy = def.iam.then(|| match &listing.policies {
                Ok(policies) => Ok(policies
                    .get(&record.name)
                    .cloned()
                    .unwrap_or_else(|| json!({"bindings": []}))),
                Err(why) => Err(why.clone()),
            });
            let record = Record {
                name: &record.name,
                def,
                data,
                location: &resource.location,
                iam_policy,
            };
            assets.push(record.asset(&account, observed_at));
        }
    }
    (assets, folded)
}

impl Provider for GcpProvider {
    fn source(&self) -> String {
        "gcp".to_owned()
    }

    fn version(&self) -> String {
        format!("parapet-gcp {}", env!("CARGO_PKG_VERSION"))
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
        // Google's credentials keep their token fresh on the runtime.
        let _entered = runtime.enter();
        let credentials = self
            .options
            .credentials
            .signed_in()
            .map_err(ProviderError::start)?;
        let inventory = runtime
            .block_on(Inventory::new(credentials, &self.options.endpoints))
            .map_err(ProviderError::start)?;
        let kinds = types::listed();
        let parents = self.parents();
        progress.planned(parents.len() as u64);
        let observed_at = chrono::Utc::now();
        let mut listings = Vec::new();
        let mut failed = Vec::new();
        for parent in parents {
            match runtime.block_on(listing(&inventory, &parent, &kinds)) {
                Ok(listing) => {
                    progress.done(&parent, listing.resources.len());
                    listings.push((parent, listing));
                }
                Err(error) => match parent.strip_prefix("projects/") {
                    Some(project) => {
                        progress.done(&parent, 0);
                        failed.push((project.to_owned(), error));
                    }
                    None => return Err(ProviderError::start(GcpError::Inventory(error))),
                },
            }
        }
        let (mut assets, folded) = assets_of(listings, observed_at);
        derived::derive(&mut assets, &folded);
        let mut by_account: BTreeMap<String, Vec<Asset>> = BTreeMap::new();
        if let GcpScope::Projects(named) = &self.options.scope {
            by_account.extend(named.iter().map(|p| (p.clone(), Vec::new())));
        }
        for asset in assets {
            by_account
                .entry(asset.account.clone())
                .or_default()
                .push(asset);
        }
        let mut errors: BTreeMap<String, Vec<CollectionError>> = BTreeMap::new();
        for (project, error) in failed {
            errors
                .entry(project.clone())
                .or_default()
                .push(CollectionError {
                    account: Some(project),
                    region: None,
                    resource_type: None,
                    message: error.to_string(),
                });
        }
        let wanted: Option<BTreeSet<String>> = narrowing.map(|n| n.accounts.clone());
        for (account, assets) in by_account {
            if wanted.as_ref().is_some_and(|w| !w.contains(&account)) {
                continue;
            }
            let part = Part {
                scope: Scope::whole(Cloud::Gcp, vec![account.clone()]),
                assets,
                errors: errors.remove(&account).unwrap_or_default(),
            };
            if each(part, false).is_break() {
                break;
            }
        }
        let calls = inventory.calls();
        let made: u64 = calls.values().sum();
        Ok(Collection {
            parts: Vec::new(),
            resource_types: types::TYPES.iter().map(|t| t.name.to_owned()).collect(),
            partial: false,
            api_calls: made,
            api_retries: 0,
            calls,
            duration: started.elapsed(),
            input_errors: Vec::new(),
        })
    }

    fn names(&self, key: &str, asset: &Asset) -> bool {
        key == asset.id
    }

    fn configured_accounts(&self) -> BTreeSet<String> {
        match &self.options.scope {
            GcpScope::Projects(ids) => ids.iter().cloned().collect(),
            _ => BTreeSet::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_asset_belongs_to_its_project_else_its_organisation() {
        let ids = BTreeMap::from([("314".to_owned(), "prod".to_owned())]);
        let path = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            account_of(
                &path(&["projects/314", "folders/9", "organizations/1"]),
                &ids
            ),
            "prod"
        );
        assert_eq!(
            account_of(&path(&["projects/271", "organizations/1"]), &ids),
            "271"
        );
        assert_eq!(
            account_of(&path(&["folders/9", "organizations/1"]), &ids),
            "organizations/1"
        );
    }
}
