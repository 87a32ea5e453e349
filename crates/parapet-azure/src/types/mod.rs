//! The resource types Azure is collected as, in Azure Resource Manager's
//! own naming (`Microsoft.Storage/storageAccounts`), one module per
//! resource provider. Each module declares its [`Collector`]: the types it
//! yields with what is known of each, and the RBAC actions it reads with.
//! Adding a type is its module's declaration and, for a new module, one
//! line of [`COLLECTORS`].

mod authorization;
mod compute;
mod container;
mod cosmos;
mod flexible;
mod insights;
mod keyvault;
mod network;
mod security;
mod sql;
mod storage;
mod subscription;
mod web;

use crate::arm::Arm;
use crate::error::ArmError;
use chrono::{DateTime, Utc};
use futures_util::{StreamExt, stream};
use parapet_core::{Asset, CollectionError, Provider, ResourceType};
use parapet_provider::{Action, EventInfo, Narrowing, NetworkRole, ResourceTypeInfo};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;

/// Every collector, in the order they run.
pub const COLLECTORS: &[Collector] = &[
    subscription::SUBSCRIPTION,
    authorization::AUTHORIZATION,
    security::SECURITY,
    insights::INSIGHTS,
    storage::STORAGE,
    network::NETWORK,
    compute::COMPUTE,
    sql::SQL,
    flexible::POSTGRESQL,
    flexible::MYSQL,
    cosmos::COSMOS,
    keyvault::KEY_VAULT,
    web::WEB,
    container::SERVICE,
    container::REGISTRY,
];

/// The subscription's summary asset's type: what the rules about a whole
/// subscription read.
pub const SUMMARY: &str = subscription::KIND;

/// How many resources of a subscription are described at once (each
/// description being a few reads beside the resource's own).
const CONCURRENT: usize = 8;

/// How many collectors of a subscription run at once (their results kept
/// in the order of [`COLLECTORS`]).
const COLLECTORS_AT_ONCE: usize = 4;

/// One resource type.
pub struct TypeDef {
    /// Its name (`Microsoft.Storage/storageAccounts`).
    pub name: &'static str,
    /// Its documentation page (`docs/resources/azure/`): fields, where
    /// each comes from, and an example.
    pub page: &'static str,
    /// The ARM operations that create, change or delete it, as Event Grid
    /// names them in `data.operationName`.
    pub operations: &'static [&'static str],
    /// The types described again when it changes.
    pub dependents: &'static [&'static str],
    /// Its part in the network topology.
    pub network: Option<NetworkRole>,
    /// Whether Resource Manager tracks it (it has a location): Azure
    /// Resource Graph's `resources` table then holds it, and a
    /// subscription whose census counts none of it is not listed for it.
    pub tracked: bool,
}

/// What a collector's run gives: a future of its assets and errors.
pub type Run<'a> = Pin<Box<dyn Future<Output = Out> + Send + 'a>>;

/// One resource provider's collector.
pub struct Collector {
    /// The resource provider (`Microsoft.Storage`).
    pub namespace: &'static str,
    /// The types it yields.
    pub types: &'static [TypeDef],
    /// The RBAC actions it reads with (`Microsoft.Storage/storageAccounts/read`):
    /// what the Reader role grants, and what a custom role needs.
    pub actions: &'static [&'static str],
    /// Runs it in one subscription.
    pub run: for<'a> fn(&'a Ctx) -> Run<'a>,
}

/// What a collector runs with: ARM, the subscription, what is asked for,
/// and the time of the collection.
pub struct Ctx {
    /// Azure Resource Manager.
    pub arm: Arm,
    /// The subscription collected.
    pub subscription: String,
    /// The types and resources asked for.
    pub wanted: Wanted,
    /// The types (lowercase, as Azure Resource Graph names them) of which
    /// the subscription holds some tracked resource, when a census was
    /// taken: a tracked type it does not count is not listed.
    pub census: Option<std::sync::Arc<BTreeSet<String>>>,
    /// When the collection began: every asset's observation time.
    pub observed_at: DateTime<Utc>,
}

/// What a collection asks for: every type, or (continuous mode's refresh)
/// some types whole and, of others, only the resources with these ids.
/// ARM's ids are compared without regard to case, as ARM compares them
/// (Event Grid writes `resourcegroups` where a list writes
/// `resourceGroups`).
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    /// Types described whole; `None`: every type.
    whole: Option<BTreeSet<String>>,
    /// Types of which only the resources with these ids are.
    keyed: BTreeMap<String, BTreeSet<String>>,
}

impl Wanted {
    /// Every type, whole.
    pub fn every() -> Wanted {
        Wanted::default()
    }

    /// What `narrowing` asks for, by its `whole` and `keyed` types.
    pub fn of(narrowing: &Narrowing) -> Wanted {
        Wanted {
            whole: narrowing.whole.clone(),
            keyed: narrowing.keyed.clone(),
        }
    }

    /// Whether every resource of `kind` is asked for.
    fn whole(&self, kind: &str) -> bool {
        self.whole.as_ref().is_none_or(|w| w.contains(kind))
    }

    /// Whether any resource of `kind` is asked for.
    pub fn wants(&self, kind: &str) -> bool {
        self.whole(kind) || self.keyed.contains_key(kind)
    }

    /// The ids of `kind` asked for, when only those are (a refresh of the
    /// resources events named): each is read by its id rather than listed.
    pub fn only(&self, kind: &str) -> Option<&BTreeSet<String>> {
        match self.whole(kind) {
            true => None,
            false => self.keyed.get(kind),
        }
    }

    /// Whether the resource of `kind` with the id `id` is asked for.
    pub fn selects(&self, kind: &str, id: &str) -> bool {
        self.whole(kind)
            || self
                .only(kind)
                .is_some_and(|ids| ids.iter().any(|k| k.eq_ignore_ascii_case(id)))
    }

    /// Whether some resource of `kind` asked for lies under the resource
    /// with the id `parent` (a server's databases).
    pub fn under(&self, kind: &str, parent: &str) -> bool {
        let prefix = format!("{}/", parent.to_lowercase());
        self.whole(kind)
            || self
                .only(kind)
                .is_some_and(|ids| ids.iter().any(|id| id.to_lowercase().starts_with(&prefix)))
    }

    /// The types asked for; `None`: every type.
    fn types(&self) -> Option<Vec<String>> {
        let whole = self.whole.as_ref()?;
        Some(whole.iter().chain(self.keyed.keys()).cloned().collect())
    }

    /// Keeps what a collector gave that was asked for.
    fn keep(&self, out: &mut Out) {
        out.assets
            .retain(|a| self.selects(a.resource_type.as_str(), &a.id));
        out.errors
            .retain(|e| e.resource_type.as_deref().is_none_or(|t| self.wants(t)));
    }
}

/// What a collector gave.
#[derive(Debug, Default)]
pub struct Out {
    /// The assets described.
    pub assets: Vec<Asset>,
    /// What could not be read, each naming the type it leaves unknown.
    pub errors: Vec<CollectionError>,
}

impl Ctx {
    /// The asset of the ARM resource `resource` of type `kind`, with
    /// `config` as its document: id, name, region (`location` as Azure
    /// names regions, `westeurope`, or `global`) and tags from the
    /// resource.
    pub fn asset(&self, kind: &'static str, resource: &Value, config: Value) -> Asset {
        let text = |key: &str| {
            resource
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        let tags: BTreeMap<String, String> = resource
            .get("tags")
            .and_then(Value::as_object)
            .map(|tags| {
                tags.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let region = match text("location").replace(' ', "").to_lowercase() {
            location if location.is_empty() => "global".to_owned(),
            location => location,
        };
        Asset {
            id: text("id").to_owned(),
            provider: Provider::Azure,
            account: self.subscription.clone(),
            region,
            resource_type: ResourceType::new(kind)
                .unwrap_or_else(|_| unreachable!("{kind} is a declared type")),
            name: text("name").to_owned(),
            tags,
            config,
            relationships: Vec::new(),
            unknown: BTreeMap::new(),
            observed_at: self.observed_at,
        }
    }

    /// Whether the census says the subscription holds nothing of `kind`,
    /// a tracked type (so that listing it is not needed).
    pub fn absent(&self, kind: &str) -> bool {
        let tracked = COLLECTORS
            .iter()
            .flat_map(|c| c.types)
            .any(|t| t.name == kind && t.tracked);
        tracked
            && self
                .census
                .as_ref()
                .is_some_and(|present| !present.contains(&kind.to_lowercase()))
    }

    /// Every resource the list at `path` holds.
    pub async fn list(&self, path: String, api_version: &str) -> Result<Vec<Value>, ArmError> {
        self.arm.list(&path, api_version).await
    }

    /// The `properties` of the one resource at `path` (a setting, such as
    /// a blob service's or a server's auditing).
    pub async fn setting(&self, path: String, api_version: &str) -> Result<Value, ArmError> {
        let found = self.arm.get(&path, api_version).await?;
        Ok(found.get("properties").cloned().unwrap_or(Value::Null))
    }

    /// What a list that failed with `error` gives: nothing of `kind`, and
    /// a collection error that leaves the type unknown in the subscription
    /// (so that nothing of it is marked deleted).
    pub fn failed(&self, kind: &str, error: &ArmError) -> Out {
        Out {
            assets: Vec::new(),
            errors: vec![CollectionError {
                account: Some(self.subscription.clone()),
                region: None,
                resource_type: Some(kind.to_owned()),
                message: error.to_string(),
            }],
        }
    }
}

impl FromIterator<Out> for Out {
    fn from_iter<I: IntoIterator<Item = Out>>(parts: I) -> Out {
        let mut out = Out::default();
        for part in parts {
            out.assets.extend(part.assets);
            out.errors.extend(part.errors);
        }
        out
    }
}

/// An asset's document as it is put together: the resource's own fields
/// as ARM gives them (`properties`, `sku`, `kind`, `identity`, `zones`,
/// where it has them), then what the reads beside it found, each a field
/// of its own or, where the read failed, unknown with the reason.
pub struct Document {
    config: serde_json::Map<String, Value>,
    unknown: Vec<(String, String)>,
}

impl Document {
    /// The document of `resource`'s own fields.
    pub fn of(resource: &Value) -> Document {
        let mut config = serde_json::Map::new();
        for key in ["properties", "sku", "kind", "identity", "zones"] {
            if let Some(value) = resource.get(key) {
                config.insert(key.to_owned(), value.clone());
            }
        }
        Document {
            config,
            unknown: Vec::new(),
        }
    }

    /// A document of these fields (an object), rather than a resource's.
    pub fn with(fields: serde_json::Map<String, Value>) -> Document {
        Document {
            config: fields,
            unknown: Vec::new(),
        }
    }

    /// `field` as the read `read` found it, or unknown where it failed.
    pub fn read(mut self, field: &str, read: Result<Value, ArmError>) -> Document {
        match read {
            Ok(value) => {
                self.config.insert(field.to_owned(), value);
            }
            Err(error) => self.unknown.push((field.to_owned(), error.to_string())),
        }
        self
    }

    /// The asset of `resource`, of type `kind`, with this document.
    pub fn asset(self, ctx: &Ctx, kind: &'static str, resource: &Value) -> Asset {
        let mut asset = ctx.asset(kind, resource, Value::Object(self.config));
        asset.unknown.extend(self.unknown);
        asset
    }
}

/// The `properties` of each resource a list gave.
pub fn properties(resources: Vec<Value>) -> Value {
    Value::Array(
        resources
            .into_iter()
            .map(|mut resource| {
                let mut properties = resource
                    .get_mut("properties")
                    .map(Value::take)
                    .unwrap_or_else(|| Value::Object(serde_json::Map::new()));
                if let (Some(object), Some(name)) =
                    (properties.as_object_mut(), resource.get_mut("name"))
                {
                    object.insert("name".to_owned(), name.take());
                }
                properties
            })
            .collect(),
    )
}

/// The id of an ARM resource.
pub fn id_of(resource: &Value) -> &str {
    resource
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Each of `items` (resources, or ids) described by `describe`,
/// [`CONCURRENT`] at once, in the order given.
pub async fn each<I, T, F, Fut>(items: Vec<I>, describe: F) -> Vec<T>
where
    F: Fn(I) -> Fut,
    Fut: Future<Output = T>,
{
    stream::iter(items)
        .map(describe)
        .buffered(CONCURRENT)
        .collect()
        .await
}

/// Every resource of `kind` in the subscription that the collection asks
/// for, listed in one paged call (`/subscriptions/{id}/providers/{kind}`),
/// or each read by its id when only some are asked for, each described by
/// `describe`; a failed list or read is a collection error for the type.
/// Nothing is read when no resource of the type is asked for.
pub async fn listed_each<F, Fut>(
    ctx: &Ctx,
    kind: &'static str,
    api_version: &str,
    describe: F,
) -> Out
where
    F: Fn(Value) -> Fut,
    Fut: Future<Output = Asset>,
{
    if !ctx.wanted.wants(kind) || ctx.absent(kind) {
        return Out::default();
    }
    if let Some(ids) = ctx.wanted.only(kind) {
        return match read_each(ctx, ids, api_version).await {
            Ok(resources) => Out {
                assets: each(resources, describe).await,
                errors: Vec::new(),
            },
            Err(error) => ctx.failed(kind, &error),
        };
    }
    let path = format!("/subscriptions/{}/providers/{kind}", ctx.subscription);
    match ctx.arm.list(&path, api_version).await {
        Ok(mut resources) => {
            resources.retain(|r| ctx.wanted.selects(kind, id_of(r)));
            Out {
                assets: each(resources, describe).await,
                errors: Vec::new(),
            }
        }
        Err(error) => ctx.failed(kind, &error),
    }
}

/// The resources with these ids, read [`CONCURRENT`] at once; one that is
/// not found has been deleted and is left out.
async fn read_each(
    ctx: &Ctx,
    ids: &BTreeSet<String>,
    api_version: &str,
) -> Result<Vec<Value>, ArmError> {
    let reads = each(ids.iter().cloned().collect(), |id: String| async move {
        ctx.arm.get(&id, api_version).await
    })
    .await;
    let mut found = Vec::new();
    for read in reads {
        match read {
            Ok(resource) => found.push(resource),
            Err(error) if error.status == Some(404) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(found)
}

/// Every resource of `kind` in the subscription, listed in one paged
/// call, each an asset of its own fields as ARM gives them
/// ([`Document::of`]).
pub async fn listed(ctx: &Ctx, kind: &'static str, api_version: &str) -> Out {
    listed_each(ctx, kind, api_version, |resource| async move {
        Document::of(&resource).asset(ctx, kind, &resource)
    })
    .await
}

/// What the ARM operation `operation` does to a resource of type `kind`
/// that declares it: the type's own delete deletes it, its own write may
/// create it, any other (a child's write or deletion, an action) changes it.
pub(crate) fn action_of(kind: &str, operation: &str) -> Action {
    match operation.rsplit_once('/') {
        Some((of, "delete")) if of.eq_ignore_ascii_case(kind) => Action::Delete,
        Some((of, "write")) if of.eq_ignore_ascii_case(kind) => Action::Create,
        _ => Action::Change,
    }
}

/// What the provider interface says of every type, each operation's
/// action as [`action_of`] reads it.
pub fn catalog() -> Vec<ResourceTypeInfo> {
    COLLECTORS
        .iter()
        .flat_map(|c| c.types.iter().map(move |t| (c.namespace, t)))
        .map(|(namespace, t)| ResourceTypeInfo {
            name: t.name,
            service: namespace,
            page: t.page,
            events: t
                .operations
                .iter()
                .map(|operation| EventInfo {
                    source: namespace.to_owned(),
                    name: (*operation).to_owned(),
                    action: action_of(t.name, operation),
                })
                .collect(),
            dependents: t.dependents,
            network: t.network,
        })
        .collect()
}

/// Collects what `ctx` asks for in its subscription, a few collectors at
/// once (only those yielding a type asked for), then sums up what the rules
/// about the whole subscription read in its summary asset.
pub async fn collect(ctx: &Ctx) -> Out {
    let mut out: Out = stream::iter(COLLECTORS)
        .filter(|collector| {
            std::future::ready(collector.types.iter().any(|t| ctx.wanted.wants(t.name)))
        })
        .map(|collector| (collector.run)(ctx))
        .buffered(COLLECTORS_AT_ONCE)
        .collect::<Vec<Out>>()
        .await
        .into_iter()
        .collect();
    ctx.wanted.keep(&mut out);
    if ctx.wanted.wants(subscription::KIND) {
        subscription::summarise(&mut out, &ctx.subscription);
    }
    out
}

/// The types a collection of `wanted` covers, every one when it asks for
/// all.
pub fn covered(wanted: &Wanted) -> Vec<String> {
    wanted
        .types()
        .unwrap_or_else(|| catalog().iter().map(|t| t.name.to_owned()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_is_named_as_arm_names_it_and_has_its_page_and_operations() {
        let catalog = catalog();
        assert!(!catalog.is_empty());
        for info in &catalog {
            assert!(ResourceType::new(info.name).is_ok(), "{}", info.name);
            assert!(
                info.page.starts_with(&format!("# {}\n", info.name)),
                "{}: its page is titled with its name",
                info.name
            );
            assert!(!info.summary().is_empty(), "{}", info.name);
            for event in &info.events {
                assert!(event.name.starts_with(info.name), "{}", event.name);
            }
        }
        let account = catalog
            .iter()
            .find(|t| t.name == "Microsoft.Storage/storageAccounts")
            .expect("storage accounts");
        let deletes: Vec<&str> = account
            .events
            .iter()
            .filter(|e| e.action == Action::Delete)
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(
            deletes,
            ["Microsoft.Storage/storageAccounts/delete"],
            "deleting a container changes its account"
        );
    }
}
