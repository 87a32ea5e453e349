//! The resource types Google Cloud is collected as, in Cloud Asset
//! Inventory's own naming (`storage.googleapis.com/Bucket`), and the asset
//! each inventory record becomes: its id the full resource name, its
//! account the project (or, above projects, the organisation), its region
//! the resource's location, and its document the resource as its own API
//! describes it, with the IAM policy set on it. Adding a type is one line
//! of [`TYPES`] and its documentation page.

use chrono::{DateTime, Utc};
use parapet_core::{Asset, Provider, Relationship, ResourceType};
use parapet_provider::{Action, EventInfo, NetworkRole, ResourceTypeInfo};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One resource type.
pub struct TypeDef {
    /// Its name, as Cloud Asset Inventory writes it.
    pub name: &'static str,
    /// Its documentation page (`docs/resources/gcp/`): fields, where each
    /// comes from, and an example.
    pub page: &'static str,
    /// Whether its IAM policy is read (Cloud Asset Inventory's
    /// `IAM_POLICY` content) into `iamPolicy`.
    pub iam: bool,
    /// The field of the resource that holds its human name; `None`: the
    /// last segment of its full resource name.
    pub display: Option<&'static str>,
    /// The types described again when it changes.
    pub dependents: &'static [&'static str],
    /// Its part in the network topology.
    pub network: Option<NetworkRole>,
}

/// The project's summary asset's type: what the rules about a whole
/// project read.
pub const SUMMARY: &str = "cloudresourcemanager.googleapis.com/Project";
/// The organisation's type.
pub const ORGANIZATION: &str = "cloudresourcemanager.googleapis.com/Organization";

/// Types read only to work out other assets' documents (a project's
/// enabled services, the essential contacts of a project or an
/// organisation), not kept as assets of their own.
pub const FOLDED: &[&str] = &[
    "serviceusage.googleapis.com/Service",
    "essentialcontacts.googleapis.com/Contact",
];

macro_rules! page {
    ($file:literal) => {
        include_str!(concat!("../../../../docs/resources/gcp/", $file))
    };
}

const fn kind(
    name: &'static str,
    page: &'static str,
    iam: bool,
    network: Option<NetworkRole>,
) -> TypeDef {
    TypeDef {
        name,
        page,
        iam,
        display: None,
        dependents: &[],
        network,
    }
}

const fn named(mut def: TypeDef, display: &'static str) -> TypeDef {
    def.display = Some(display);
    def
}

const fn with_dependents(mut def: TypeDef, dependents: &'static [&'static str]) -> TypeDef {
    def.dependents = dependents;
    def
}

/// Every type collected.
pub const TYPES: &[TypeDef] = &[
    named(
        kind(ORGANIZATION, page!("organization.md"), true, None),
        "displayName",
    ),
    named(
        kind(
            "cloudresourcemanager.googleapis.com/Folder",
            page!("folder.md"),
            true,
            None,
        ),
        "displayName",
    ),
    named(kind(SUMMARY, page!("project.md"), true, None), "projectId"),
    kind(
        "compute.googleapis.com/Project",
        page!("compute-project.md"),
        false,
        None,
    ),
    named(
        kind(
            "iam.googleapis.com/ServiceAccount",
            page!("service-account.md"),
            true,
            None,
        ),
        "email",
    ),
    kind(
        "iam.googleapis.com/ServiceAccountKey",
        page!("service-account-key.md"),
        false,
        None,
    ),
    named(
        kind(
            "apikeys.googleapis.com/Key",
            page!("api-key.md"),
            false,
            None,
        ),
        "displayName",
    ),
    kind(
        "cloudkms.googleapis.com/CryptoKey",
        page!("kms-crypto-key.md"),
        true,
        None,
    ),
    kind(
        "storage.googleapis.com/Bucket",
        page!("bucket.md"),
        true,
        Some(NetworkRole::Member),
    ),
    kind(
        "compute.googleapis.com/Instance",
        page!("instance.md"),
        false,
        Some(NetworkRole::Endpoint),
    ),
    kind("compute.googleapis.com/Disk", page!("disk.md"), true, None),
    kind(
        "compute.googleapis.com/Snapshot",
        page!("snapshot.md"),
        true,
        None,
    ),
    kind(
        "compute.googleapis.com/Image",
        page!("image.md"),
        true,
        None,
    ),
    kind(
        "compute.googleapis.com/Firewall",
        page!("firewall.md"),
        false,
        Some(NetworkRole::Firewall),
    ),
    kind(
        "compute.googleapis.com/Network",
        page!("network.md"),
        false,
        Some(NetworkRole::Network),
    ),
    kind(
        "compute.googleapis.com/Subnetwork",
        page!("subnetwork.md"),
        false,
        Some(NetworkRole::Subnet),
    ),
    kind(
        "compute.googleapis.com/Route",
        page!("route.md"),
        false,
        Some(NetworkRole::Routes),
    ),
    kind(
        "compute.googleapis.com/Address",
        page!("address.md"),
        false,
        Some(NetworkRole::Address),
    ),
    kind(
        "compute.googleapis.com/ForwardingRule",
        page!("forwarding-rule.md"),
        false,
        Some(NetworkRole::Forwarding),
    ),
    kind(
        "compute.googleapis.com/GlobalForwardingRule",
        page!("global-forwarding-rule.md"),
        false,
        Some(NetworkRole::Forwarding),
    ),
    kind(
        "compute.googleapis.com/BackendService",
        page!("backend-service.md"),
        false,
        Some(NetworkRole::Forwarding),
    ),
    kind(
        "compute.googleapis.com/TargetHttpsProxy",
        page!("target-https-proxy.md"),
        false,
        Some(NetworkRole::Forwarding),
    ),
    kind(
        "compute.googleapis.com/UrlMap",
        page!("url-map.md"),
        false,
        Some(NetworkRole::Forwarding),
    ),
    kind(
        "compute.googleapis.com/SslPolicy",
        page!("ssl-policy.md"),
        false,
        None,
    ),
    kind(
        "sqladmin.googleapis.com/Instance",
        page!("sql-instance.md"),
        false,
        Some(NetworkRole::Endpoint),
    ),
    kind(
        "container.googleapis.com/Cluster",
        page!("gke-cluster.md"),
        false,
        Some(NetworkRole::Endpoint),
    ),
    with_dependents(
        kind(
            "logging.googleapis.com/LogSink",
            page!("log-sink.md"),
            false,
            None,
        ),
        &[SUMMARY, "storage.googleapis.com/Bucket"],
    ),
    with_dependents(
        kind(
            "logging.googleapis.com/LogMetric",
            page!("log-metric.md"),
            false,
            None,
        ),
        &[SUMMARY],
    ),
    with_dependents(
        named(
            kind(
                "monitoring.googleapis.com/AlertPolicy",
                page!("alert-policy.md"),
                false,
                None,
            ),
            "displayName",
        ),
        &[SUMMARY],
    ),
    kind(
        "dns.googleapis.com/ManagedZone",
        page!("dns-managed-zone.md"),
        false,
        None,
    ),
    with_dependents(
        kind(
            "dns.googleapis.com/Policy",
            page!("dns-policy.md"),
            false,
            None,
        ),
        &["compute.googleapis.com/Network"],
    ),
    kind(
        "bigquery.googleapis.com/Dataset",
        page!("bigquery-dataset.md"),
        true,
        None,
    ),
    kind(
        "bigquery.googleapis.com/Table",
        page!("bigquery-table.md"),
        false,
        None,
    ),
    kind(
        "pubsub.googleapis.com/Topic",
        page!("pubsub-topic.md"),
        true,
        None,
    ),
    kind(
        "cloudfunctions.googleapis.com/CloudFunction",
        page!("cloud-function.md"),
        true,
        Some(NetworkRole::Member),
    ),
    kind(
        "run.googleapis.com/Service",
        page!("cloud-run-service.md"),
        true,
        Some(NetworkRole::Member),
    ),
    kind(
        "dataproc.googleapis.com/Cluster",
        page!("dataproc-cluster.md"),
        false,
        None,
    ),
];

/// The type named `name`.
pub fn def(name: &str) -> Option<&'static TypeDef> {
    TYPES.iter().find(|t| t.name == name)
}

/// Every type's name, with the folded types: what a whole collection
/// asks Cloud Asset Inventory for.
pub fn listed() -> Vec<&'static str> {
    TYPES
        .iter()
        .map(|t| t.name)
        .chain(FOLDED.iter().copied())
        .collect()
}

/// The types whose IAM policy is read.
pub fn with_iam() -> Vec<&'static str> {
    TYPES.iter().filter(|t| t.iam).map(|t| t.name).collect()
}

/// What is known of each type, for the pipeline.
pub fn catalog() -> Vec<ResourceTypeInfo> {
    TYPES
        .iter()
        .map(|t| ResourceTypeInfo {
            name: t.name,
            service: t.name.split('/').next().unwrap_or_default(),
            page: t.page,
            events: vec![EventInfo {
                source: "cloudasset.googleapis.com".to_owned(),
                name: format!("{} feed", t.name),
                action: Action::Change,
            }],
            dependents: t.dependents,
            network: t.network,
        })
        .collect()
}

/// The parts of an inventory record an asset is made of.
pub struct Record<'a> {
    /// Its full resource name (`//storage.googleapis.com/logs`).
    pub name: &'a str,
    /// Its type's definition.
    pub def: &'static TypeDef,
    /// The resource, as its API describes it.
    pub data: Map<String, Value>,
    /// Its location, as Cloud Asset Inventory gives it (`us-central1`,
    /// `us-central1-a`, `us`, `global`), or empty.
    pub location: &'a str,
    /// The IAM policy set on it: `{bindings, auditConfigs}`, or why it
    /// could not be read; `None` for a type without one.
    pub iam_policy: Option<Result<Value, String>>,
}

impl Record<'_> {
    /// The asset of this record in `account`, observed at `observed_at`.
    pub fn asset(self, account: &str, observed_at: DateTime<Utc>) -> Asset {
        let def = self.def;
        let display = def
            .display
            .and_then(|field| self.data.get(field)?.as_str())
            .unwrap_or_else(|| last_segment(self.name))
            .to_owned();
        let tags = labels(&self.data);
        let relationships = relationships(def.name, &self.data);
        let mut config = self.data;
        let mut unknown = BTreeMap::new();
        match self.iam_policy {
            Some(Ok(policy)) => {
                config.insert("iamPolicy".to_owned(), policy);
            }
            Some(Err(why)) => {
                unknown.insert("iamPolicy".to_owned(), why);
            }
            None => {}
        }
        let region = match self.location.to_lowercase() {
            location if location.is_empty() => "global".to_owned(),
            location => location,
        };
        Asset {
            id: self.name.to_owned(),
            provider: Provider::Gcp,
            account: account.to_owned(),
            region,
            resource_type: ResourceType::new(def.name)
                .unwrap_or_else(|_| unreachable!("{} is a declared type", def.name)),
            name: display,
            tags,
            config: Value::Object(config),
            relationships,
            unknown,
            observed_at,
        }
    }
}

/// The last segment of a full resource name.
pub fn last_segment(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// A resource's labels (Cloud Run's under `metadata`), as tags.
fn labels(data: &Map<String, Value>) -> BTreeMap<String, String> {
    data.get("labels")
        .or_else(|| data.get("metadata").and_then(|m| m.get("labels")))
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// The full resource name of a Compute Engine resource its API names by
/// URL (`https://www.googleapis.com/compute/v1/projects/p/zones/z/disks/d`
/// is `//compute.googleapis.com/projects/p/zones/z/disks/d`).
pub fn compute_name(url: &str) -> Option<String> {
    let (_, path) = url.split_once("/compute/")?;
    let (_version, path) = path.split_once('/')?;
    Some(format!("//compute.googleapis.com/{path}"))
}

/// The edges derived facts follow: an instance's disks, a disk's image,
/// a snapshot's disk.
fn relationships(kind: &str, data: &Map<String, Value>) -> Vec<Relationship> {
    let edge = |kind: &str, url: Option<&str>| {
        url.and_then(compute_name).map(|target| Relationship {
            kind: kind.to_owned(),
            target,
        })
    };
    let text = |key: &str| data.get(key).and_then(Value::as_str);
    match kind {
        "compute.googleapis.com/Instance" => data
            .get("disks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|d| edge(Relationship::ATTACHED_VOLUME, d.get("source")?.as_str()))
            .collect(),
        "compute.googleapis.com/Disk" => edge(Relationship::RUNS_IMAGE, text("sourceImage"))
            .into_iter()
            .collect(),
        "compute.googleapis.com/Snapshot" => edge(Relationship::SNAPSHOT_OF, text("sourceDisk"))
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_is_well_named_and_documented() {
        for t in TYPES {
            assert!(ResourceType::new(t.name).is_ok(), "{}", t.name);
            assert!(
                t.page.starts_with(&format!("# {}\n", t.name)),
                "{}'s page",
                t.name
            );
        }
        assert!(TYPES.len() >= 30);
    }

    #[test]
    fn compute_urls_become_full_resource_names() {
        assert_eq!(
            compute_name("https://www.googleapis.com/compute/v1/projects/p/zones/z/disks/d")
                .as_deref(),
            Some("//compute.googleapis.com/projects/p/zones/z/disks/d")
        );
        assert_eq!(compute_name("projects/p/zones/z/disks/d"), None);
    }

    #[test]
    fn a_record_becomes_an_asset_with_its_policy_or_why_it_is_unknown() {
        let data: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "name": "logs", "labels": {"team": "sec"},
        }))
        .expect("an object");
        let def = def("storage.googleapis.com/Bucket").expect("buckets");
        let record = |iam_policy| Record {
            name: "//storage.googleapis.com/logs",
            def,
            data: data.clone(),
            location: "US",
            iam_policy,
        };
        let asset = record(Some(Err("PERMISSION_DENIED".to_owned()))).asset("p", Utc::now());
        assert_eq!(asset.name, "logs");
        assert_eq!(asset.region, "us");
        assert_eq!(asset.tags.get("team").map(String::as_str), Some("sec"));
        assert_eq!(
            asset.unknown.get("iamPolicy").map(String::as_str),
            Some("PERMISSION_DENIED")
        );
        let asset = record(Some(Ok(serde_json::json!({"bindings": []})))).asset("p", Utc::now());
        assert_eq!(asset.config["iamPolicy"]["bindings"], serde_json::json!([]));
        assert!(asset.unknown.is_empty());
    }
}
