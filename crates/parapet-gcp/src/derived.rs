//! What is worked out across assets, for the rules that need more than one
//! resource: a project's summary (its enabled services, essential
//! contacts, log sinks, own and inherited, and the log metrics an enabled
//! alert policy watches), an organisation's essential contacts, a VPC
//! network's DNS logging policies, the log sinks that export to a bucket,
//! and the services an API key names that are not enabled.

use crate::types::{ORGANIZATION, SUMMARY, last_segment};
use parapet_core::Asset;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The types the derived fields of `kind` are worked out from: what a
/// refresh of it lists beside it.
pub fn inputs(kind: &str) -> &'static [&'static str] {
    match kind {
        SUMMARY => &[
            "logging.googleapis.com/LogSink",
            "logging.googleapis.com/LogMetric",
            "monitoring.googleapis.com/AlertPolicy",
            "serviceusage.googleapis.com/Service",
            "essentialcontacts.googleapis.com/Contact",
        ],
        ORGANIZATION => &["essentialcontacts.googleapis.com/Contact"],
        "compute.googleapis.com/Network" => &["dns.googleapis.com/Policy"],
        "storage.googleapis.com/Bucket" => &["logging.googleapis.com/LogSink"],
        "apikeys.googleapis.com/Key" => &["serviceusage.googleapis.com/Service"],
        _ => &[],
    }
}

/// A record read only to work out others: an enabled service or an
/// essential contact, with the account it belongs to.
#[derive(Debug, Clone)]
pub struct Folded {
    /// The project or organisation it belongs to.
    pub account: String,
    /// Its type.
    pub kind: String,
    /// Its full resource name.
    pub name: String,
    /// The resource, as its API describes it.
    pub data: Value,
}

/// Fills in what `assets` say of each other, with what `folded` says.
pub fn derive(assets: &mut [Asset], folded: &[Folded]) {
    let by_type = |kind: &str| -> Vec<&Asset> {
        assets
            .iter()
            .filter(|a| a.resource_type.as_str() == kind)
            .collect()
    };
    let sinks: Vec<(String, Value)> = by_type("logging.googleapis.com/LogSink")
        .into_iter()
        .map(|a| (a.account.clone(), sink(a)))
        .collect();
    let alerted = alerted_metrics(&by_type("monitoring.googleapis.com/AlertPolicy"));
    let metrics: Vec<(String, Value)> = by_type("logging.googleapis.com/LogMetric")
        .into_iter()
        .filter(|m| alerted.contains(&(m.account.clone(), metric_name(m))))
        .map(|m| {
            let filter = m.config.get("filter").cloned().unwrap_or(Value::Null);
            (
                m.account.clone(),
                json!({"name": metric_name(m), "filter": filter}),
            )
        })
        .collect();
    let dns_logging = dns_logging(&by_type("dns.googleapis.com/Policy"));
    let bucket_sinks = bucket_sinks(&by_type("logging.googleapis.com/LogSink"));
    for asset in assets.iter_mut() {
        let Value::Object(config) = &mut asset.config else {
            continue;
        };
        let account = asset.account.clone();
        let of_account = |list: &[(String, Value)]| -> Value {
            list.iter()
                .filter(|(a, _)| *a == account)
                .map(|(_, v)| v.clone())
                .collect()
        };
        match asset.resource_type.as_str() {
            SUMMARY => {
                let mut own_sinks = of_account(&sinks);
                if let Value::Array(list) = &mut own_sinks {
                    list.extend(inherited_sinks(&sinks, &asset.account, config));
                }
                config.insert("logSinks".to_owned(), own_sinks);
                config.insert("alertedLogMetrics".to_owned(), of_account(&metrics));
                config.insert("services".to_owned(), services(folded, &account));
                config.insert("essentialContacts".to_owned(), contacts(folded, &account));
            }
            ORGANIZATION => {
                config.insert("essentialContacts".to_owned(), contacts(folded, &account));
            }
            "compute.googleapis.com/Network" => {
                let policies = dns_logging.get(&asset.id).cloned().unwrap_or_default();
                config.insert("dnsLoggingPolicies".to_owned(), json!(policies));
            }
            "apikeys.googleapis.com/Key" => {
                let enabled = services(folded, &account);
                let inactive: Vec<Value> = config
                    .get("restrictions")
                    .and_then(|r| r.get("apiTargets"))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.get("service").cloned())
                    .filter(|s| enabled.as_array().is_some_and(|e| !e.contains(s)))
                    .collect();
                config.insert("inactiveServices".to_owned(), Value::Array(inactive));
            }
            "storage.googleapis.com/Bucket" => {
                let name = last_segment(&asset.id).to_owned();
                let exporting = bucket_sinks.get(&name).cloned().unwrap_or_default();
                config.insert("logSinks".to_owned(), json!(exporting));
            }
            _ => {}
        }
    }
}

/// A sink as a summary lists it.
fn sink(asset: &Asset) -> Value {
    let field = |key: &str| asset.config.get(key).cloned().unwrap_or(Value::Null);
    json!({
        "name": asset.name,
        "parent": parent_of(&asset.id),
        "destination": field("destination"),
        "filter": asset.config.get("filter").cloned().unwrap_or(json!("")),
        "disabled": asset.config.get("disabled").cloned().unwrap_or(json!(false)),
        "includeChildren": asset.config.get("includeChildren").cloned().unwrap_or(json!(false)),
    })
}

/// The sinks of the organisation and folders above a project that include
/// their children, as the project's `ancestors` list them.
fn inherited_sinks(
    sinks: &[(String, Value)],
    project: &str,
    config: &serde_json::Map<String, Value>,
) -> Vec<Value> {
    let ancestors: BTreeSet<&str> = config
        .get("ancestors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    sinks
        .iter()
        .filter(|(account, sink)| {
            let parent = sink
                .get("parent")
                .and_then(Value::as_str)
                .unwrap_or_default();
            account != project
                && !parent.starts_with("projects/")
                && ancestors.contains(parent)
                && sink.get("includeChildren") == Some(&json!(true))
        })
        .map(|(_, sink)| sink.clone())
        .collect()
}

/// The organisation, folder or project a sink or metric belongs to
/// (`folders/123` of `//logging.googleapis.com/folders/123/sinks/audit`).
fn parent_of(name: &str) -> String {
    let path = name
        .trim_start_matches("//")
        .splitn(4, '/')
        .collect::<Vec<_>>();
    match path.as_slice() {
        [_, kind, id, ..] => format!("{kind}/{id}"),
        _ => String::new(),
    }
}

/// A log metric's name (its last segment).
fn metric_name(metric: &Asset) -> String {
    last_segment(&metric.id).to_owned()
}

/// The user-defined log metrics an enabled alert policy watches, by
/// account and metric name: each condition's filter naming
/// `metric.type="logging.googleapis.com/user/NAME"`.
fn alerted_metrics(policies: &[&Asset]) -> BTreeSet<(String, String)> {
    const PREFIX: &str = "logging.googleapis.com/user/";
    let mut found = BTreeSet::new();
    for policy in policies {
        if policy.config.get("enabled") != Some(&json!(true)) {
            continue;
        }
        let conditions = policy.config.get("conditions").and_then(Value::as_array);
        for condition in conditions.into_iter().flatten() {
            let filters = condition
                .as_object()
                .into_iter()
                .flat_map(|c| c.values())
                .filter_map(|kind| kind.get("filter").and_then(Value::as_str));
            for filter in filters {
                let mut rest = filter;
                while let Some(at) = rest.find(PREFIX) {
                    let name: String = rest[at + PREFIX.len()..]
                        .chars()
                        .take_while(|c| !matches!(c, '"' | '\'' | ' ' | ')'))
                        .collect();
                    found.insert((policy.account.clone(), name));
                    rest = &rest[at + PREFIX.len()..];
                }
            }
        }
    }
    found
}

/// The DNS server policies with query logging on, by the full resource
/// name of each network they apply to.
fn dns_logging(policies: &[&Asset]) -> BTreeMap<String, Vec<String>> {
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for policy in policies {
        if policy.config.get("enableLogging") != Some(&json!(true)) {
            continue;
        }
        let networks = policy.config.get("networks").and_then(Value::as_array);
        for url in networks
            .into_iter()
            .flatten()
            .filter_map(|n| n.get("networkUrl").and_then(Value::as_str))
        {
            if let Some(network) = crate::types::compute_name(url) {
                found.entry(network).or_default().push(policy.name.clone());
            }
        }
    }
    found
}

/// The sinks exporting to each Cloud Storage bucket, by bucket name.
fn bucket_sinks(sinks: &[&Asset]) -> BTreeMap<String, Vec<String>> {
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for sink in sinks {
        let destination = sink.config.get("destination").and_then(Value::as_str);
        if let Some(bucket) = destination.and_then(|d| d.strip_prefix("storage.googleapis.com/")) {
            found
                .entry(bucket.to_owned())
                .or_default()
                .push(format!("{}/{}", sink.account, sink.name));
        }
    }
    found
}

/// The services enabled in `account`, by name (`compute.googleapis.com`).
fn services(folded: &[Folded], account: &str) -> Value {
    let names: BTreeSet<String> = folded
        .iter()
        .filter(|f| f.account == account && f.kind == "serviceusage.googleapis.com/Service")
        .filter(|f| f.data.get("state").and_then(Value::as_str) == Some("ENABLED"))
        .map(|f| last_segment(&f.name).to_owned())
        .collect();
    json!(names)
}

/// The essential contacts of `account`: `{email, notificationCategorySubscriptions}`.
fn contacts(folded: &[Folded], account: &str) -> Value {
    folded
        .iter()
        .filter(|f| f.account == account && f.kind == "essentialcontacts.googleapis.com/Contact")
        .map(|f| {
            json!({
                "email": f.data.get("email"),
                "notificationCategorySubscriptions": f.data.get("notificationCategorySubscriptions"),
            })
        })
        .collect()
}
