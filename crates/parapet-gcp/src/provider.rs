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
use crate::events::Fed;
use crate::inventory::{Content, Inventory};
use crate::refresh::{self, Wanted};
use crate::types::{self, FOLDED, Record, SUMMARY};
use google_cloud_asset_v1::model;
use parapet_core::{Asset, CollectionError, Provider as Cloud, Scope};
use parapet_provider::{
    Collection, Decoded, Narrowing, Part, Progress, Provider, ProviderError, ResourceTypeInfo,
    Target,
};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
    /// The assets feed messages carried, by name, until a refresh
    /// describes them.
    fed: Mutex<BTreeMap<String, Fed>>,
    /// The projects' ids by number, as collections found them (feed
    /// messages name projects by number).
    projects: Mutex<BTreeMap<String, String>>,
    /// The project numbers Cloud Asset Inventory could not resolve, with
    /// when it was last asked.
    unresolved: Mutex<BTreeMap<String, Instant>>,
}

/// How long a project number the inventory could not resolve goes
/// unasked: the messages of a project Parapet may not read, or that was
/// deleted, each ask otherwise, with a sign-in each.
const UNRESOLVED_FOR: Duration = Duration::from_secs(300);

impl GcpProvider {
    /// A provider collecting what `options` say.
    pub fn new(options: GcpOptions) -> GcpProvider {
        GcpProvider {
            options,
            fed: Mutex::default(),
            projects: Mutex::default(),
            unresolved: Mutex::default(),
        }
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

impl GcpProvider {
    /// A runtime, and a client of Cloud Asset Inventory signed in on it.
    fn client(&self) -> Result<(tokio::runtime::Runtime, Inventory), ProviderError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(ProviderError::start)?;
        let inventory = {
            // Google's credentials keep their token fresh on the runtime.
            let _entered = runtime.enter();
            let credentials = self
                .options
                .credentials
                .signed_in()
                .map_err(ProviderError::start)?;
            runtime
                .block_on(Inventory::new(credentials, &self.options.endpoints))
                .map_err(ProviderError::start)?
        };
        Ok((runtime, inventory))
    }

    /// The id of the project numbered `number`: as `stored` or an earlier
    /// collection knows it, else as Cloud Asset Inventory says (the
    /// number itself when it cannot be asked, or could not in the last
    /// [`UNRESOLVED_FOR`]).
    fn project_id(&self, number: &str, stored: &[Asset]) -> String {
        let known = stored
            .iter()
            .find(|a| {
                a.resource_type.as_str() == SUMMARY
                    && a.config.get("projectNumber").and_then(Value::as_str) == Some(number)
            })
            .map(|a| a.account.clone())
            .or_else(|| self.projects.lock().ok()?.get(number).cloned());
        if let Some(id) = known {
            return id;
        }
        let asked_lately = self.unresolved.lock().ok().is_some_and(|unresolved| {
            unresolved
                .get(number)
                .is_some_and(|at| at.elapsed() < UNRESOLVED_FOR)
        });
        if asked_lately {
            return number.to_owned();
        }
        let name = format!("//cloudresourcemanager.googleapis.com/projects/{number}");
        let asked = self.client().ok().and_then(|(runtime, inventory)| {
            let names = BTreeSet::from([name.clone()]);
            let found = runtime
                .block_on(inventory.current(
                    &format!("projects/{number}"),
                    &names,
                    Content::Resource,
                ))
                .ok()?;
            let data = found
                .get(&name)?
                .as_ref()?
                .resource
                .as_ref()?
                .data
                .as_ref()?;
            data.get("projectId")?.as_str().map(str::to_owned)
        });
        match asked {
            Some(id) => {
                if let Ok(mut projects) = self.projects.lock() {
                    projects.insert(number.to_owned(), id.clone());
                }
                id
            }
            None => {
                if let Ok(mut unresolved) = self.unresolved.lock() {
                    unresolved.insert(number.to_owned(), Instant::now());
                }
                number.to_owned()
            }
        }
    }

    /// The listings of every parent of the scope, of the types `wanted`
    /// lists, with a collection error for each project that failed (an
    /// organisation or folder that fails stops the collection).
    async fn listings(
        &self,
        inventory: &Inventory,
        wanted: &Wanted,
        progress: &dyn Progress,
    ) -> Result<(Vec<Listing>, Vec<CollectionError>), ProviderError> {
        let kinds = wanted.listed();
        let parents = self.parents();
        let mut listings = Vec::new();
        let mut errors = Vec::new();
        if kinds.is_empty() {
            return Ok((listings, errors));
        }
        progress.planned(parents.len() as u64);
        for parent in parents {
            match listing(inventory, &parent, &kinds).await {
                Ok(listing) => {
                    progress.done(&parent, listing.resources.len());
                    listings.push(listing);
                }
                Err(error) => match parent.strip_prefix("projects/") {
                    Some(project) => {
                        progress.done(&parent, 0);
                        errors.push(CollectionError {
                            account: Some(project.to_owned()),
                            region: None,
                            resource_type: None,
                            message: error.to_string(),
                        });
                    }
                    None => return Err(ProviderError::start(GcpError::Inventory(error))),
                },
            }
        }
        Ok((listings, errors))
    }

    /// The assets `narrowing` names one by one, from the feed messages
    /// that carried them and the inventory, each account's and type's as
    /// a listing of their own; a collection error for each that could not
    /// be read.
    async fn named(
        &self,
        inventory: &Inventory,
        narrowing: &Narrowing,
        wanted: &Wanted,
    ) -> (Vec<Listing>, Vec<CollectionError>) {
        let mut listings = Vec::new();
        let mut errors = Vec::new();
        let Ok(mut fed) = self.fed.lock().map(|f| f.clone()) else {
            return (listings, errors);
        };
        for account in &narrowing.accounts {
            for (kind, names) in wanted.keyed() {
                match refresh::named(inventory, account, kind, names, &mut fed).await {
                    Ok(found) => {
                        let mut policies = Ok(BTreeMap::new());
                        let mut resources = Vec::new();
                        for (asset, policy) in found {
                            match (policy, &mut policies) {
                                (Some(Ok(p)), Ok(map)) => {
                                    map.insert(asset.name.clone(), p);
                                }
                                (Some(Err(why)), _) => policies = Err(why),
                                _ => {}
                            }
                            resources.push(asset);
                        }
                        listings.push(Listing {
                            resources,
                            policies,
                            account: Some(account.clone()),
                        });
                    }
                    Err(error) => errors.push(error),
                }
            }
        }
        if let Ok(mut kept) = self.fed.lock() {
            let named: BTreeSet<&String> = wanted.keyed().values().flatten().collect();
            kept.retain(|name, _| !named.contains(name));
        }
        (listings, errors)
    }
}

/// What the listings of one parent gave.
struct Listing {
    resources: Vec<model::Asset>,
    policies: Result<BTreeMap<String, Value>, String>,
    /// The account all its assets belong to, when it is known beforehand
    /// (the assets named in one account); `None`: each asset's ancestors
    /// say.
    account: Option<String>,
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
                .filter_map(|a| {
                    Some((
                        a.name.clone(),
                        policy_document(Some(a.iam_policy.as_ref()?)),
                    ))
                })
                .collect()
        })
        .map_err(|e| e.to_string());
    Ok(Listing {
        resources: resources?,
        policies,
        account: None,
    })
}

/// An IAM policy as a document (none set: no bindings): its `bindings`
/// (each `{role, members}`,
/// with its `condition` `{title, expression}` where it has one) and
/// `auditConfigs` (each `{service, auditLogConfigs: [{logType,
/// exemptedMembers}]}`), log types by name as Google's JSON names them.
pub fn policy_document(policy: Option<&google_cloud_iam_v1::model::Policy>) -> Value {
    let Some(policy) = policy else {
        return json!({"bindings": [], "auditConfigs": []});
    };
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
fn project_ids(listings: &[Listing]) -> BTreeMap<String, String> {
    listings
        .iter()
        .flat_map(|l| &l.resources)
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
    listings: Vec<Listing>,
    observed_at: chrono::DateTime<chrono::Utc>,
) -> (Vec<Asset>, Vec<Folded>) {
    let ids = project_ids(&listings);
    let mut assets = Vec::new();
    let mut folded = Vec::new();
    for listing in listings {
        for record in listing.resources {
            let account = listing
                .account
                .clone()
                .unwrap_or_else(|| account_of(&record.ancestors, &ids));
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
                    .unwrap_or_else(|| policy_document(None))),
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
        let (runtime, inventory) = self.client()?;
        let wanted = Wanted::of(narrowing);
        let observed_at = chrono::Utc::now();
        let (mut listings, mut errors) =
            runtime.block_on(self.listings(&inventory, &wanted, progress))?;
        if let Some(narrowing) = narrowing {
            let (named, failed) = runtime.block_on(self.named(&inventory, narrowing, &wanted));
            listings.extend(named);
            errors.extend(failed);
        }
        if let Ok(mut known) = self.projects.lock() {
            known.extend(project_ids(&listings));
        }
        let (mut assets, folded) = assets_of(listings, observed_at);
        derived::derive(&mut assets, &folded);
        assets.retain(|a| wanted.keeps(a));
        let mut by_account: BTreeMap<String, Vec<Asset>> = BTreeMap::new();
        match (narrowing, &self.options.scope) {
            (Some(narrowing), _) => {
                by_account.extend(narrowing.accounts.iter().map(|a| (a.clone(), Vec::new())))
            }
            (None, GcpScope::Projects(named)) => {
                by_account.extend(named.iter().map(|p| (p.clone(), Vec::new())))
            }
            (None, _) => {}
        }
        for asset in assets {
            by_account
                .entry(asset.account.clone())
                .or_default()
                .push(asset);
        }
        let accounts: Option<&BTreeSet<String>> = narrowing.map(|n| &n.accounts);
        for (account, assets) in by_account {
            if accounts.is_some_and(|w| !w.contains(&account)) {
                continue;
            }
            let mut scope = Scope::whole(Cloud::Gcp, vec![account.clone()]);
            scope.resource_types = wanted.covered();
            let mine = |e: &CollectionError| e.account.as_deref() == Some(account.as_str());
            let part = Part {
                scope,
                assets,
                errors: errors.iter().filter(|e| mine(e)).cloned().collect(),
            };
            if each(part, wanted.partial()).is_break() {
                break;
            }
        }
        let calls = inventory.calls();
        let made: u64 = calls.values().sum();
        Ok(Collection {
            parts: Vec::new(),
            resource_types: types::TYPES.iter().map(|t| t.name.to_owned()).collect(),
            partial: wanted.partial(),
            api_calls: made,
            api_retries: 0,
            calls,
            duration: started.elapsed(),
            input_errors: Vec::new(),
        })
    }

    fn decode(&self, message: &Value) -> Result<Decoded, ProviderError> {
        let (mut decoded, fed) =
            crate::events::decode(message).map_err(|e| ProviderError::NotAnEvent(e.to_string()))?;
        // A feed names a project by its number: its id is the account.
        for target in &mut decoded.targets {
            if let Some(number) = target.account.strip_prefix("projects/") {
                target.account = self.project_id(number, &[]);
            }
        }
        if let (Some(fed), Ok(mut kept)) = (fed, self.fed.lock()) {
            let name = fed.asset.name.clone();
            let merged = match kept.remove(&name) {
                Some(earlier) => fed.after(earlier),
                None => fed,
            };
            kept.insert(name, merged);
        }
        Ok(decoded)
    }

    fn plan(&self, targets: &[Target], stored: &[Asset]) -> Narrowing {
        parapet_provider::plan::plan(
            &self.resource_types(),
            targets,
            stored,
            SUMMARY,
            |key, asset| self.names(key, asset),
        )
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
