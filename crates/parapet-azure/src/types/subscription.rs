//! The subscription itself, as a summary asset (as AWS has its region
//! assets): its state, tenant and policies, the regions its resources are
//! in (every resource Resource Manager tracks, Resources_List, not only the
//! types Parapet collects), and what the rules about a whole subscription
//! read, gathered from the rest of its collection once that is done: the
//! activity log alerts that watch it, the categories its activity log
//! exports, the regions Network Watcher covers, its Bastion hosts, and how
//! many principals own it. A summary field whose source could not be read
//! is unknown, never empty.

use super::{Collector, Ctx, Document, Out, TypeDef};
use parapet_core::Asset;
use serde_json::{Value, json};
use std::collections::BTreeSet;

pub(super) const SUBSCRIPTION: Collector = Collector {
    namespace: "Microsoft.Resources",
    types: &[TypeDef {
        name: KIND,
        page: include_str!("../../../../docs/resources/azure/resources-subscription.md"),
        operations: &[],
        dependents: &[],
        network: None,
        tracked: false,
    }],
    actions: &[
        "Microsoft.Resources/subscriptions/read",
        "Microsoft.Resources/subscriptions/resources/read",
    ],
    run: |ctx| Box::pin(subscription(ctx)),
};

pub(super) const KIND: &str = "Microsoft.Resources/subscriptions";

/// The API version of Microsoft.Resources' subscriptions.
const API: &str = "2022-12-01";

/// The API version of Microsoft.Resources' resources (Resources_List).
const RESOURCES_API: &str = "2021-04-01";

/// The built-in Owner role's definition id.
const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";

async fn subscription(ctx: &Ctx) -> Out {
    let path = format!("/subscriptions/{}", ctx.subscription);
    let (found, resources) = tokio::join!(
        ctx.arm.get(&path, API),
        ctx.list(format!("{path}/resources"), RESOURCES_API),
    );
    match found {
        Ok(found) => {
            let mut config = serde_json::Map::new();
            for field in [
                "subscriptionId",
                "displayName",
                "tenantId",
                "state",
                "subscriptionPolicies",
            ] {
                config.insert(
                    field.to_owned(),
                    found.get(field).cloned().unwrap_or(Value::Null),
                );
            }
            let mut asset = Document::with(config)
                .read("regionsInUse", resources.map(regions_in_use))
                .asset(ctx, KIND, &found);
            if let Some(name) = found.get("displayName").and_then(|n| n.as_str()) {
                name.clone_into(&mut asset.name);
            }
            Out {
                assets: vec![asset],
                errors: Vec::new(),
            }
        }
        Err(error) => ctx.failed(KIND, &error),
    }
}

/// The regions some resource of the subscription is in, as Azure names
/// regions (`westeurope`); global resources aside.
fn regions_in_use(resources: Vec<Value>) -> Value {
    let regions: BTreeSet<String> = resources
        .iter()
        .filter_map(|r| r.get("location").and_then(Value::as_str))
        .map(|location| location.replace(' ', "").to_lowercase())
        .filter(|region| !region.is_empty() && region != "global")
        .collect();
    json!(regions)
}

/// One summary field: its name, the types it is gathered from, and how.
struct Field {
    name: &'static str,
    from: &'static [&'static str],
    gather: fn(&[Asset], &str) -> Value,
}

const FIELDS: &[Field] = &[
    Field {
        name: "activityLogAlerts",
        from: &["Microsoft.Insights/activityLogAlerts"],
        gather: alerts,
    },
    Field {
        name: "activityLogCategories",
        from: &["Microsoft.Insights/diagnosticSettings"],
        gather: categories,
    },
    Field {
        name: "networkWatcherRegions",
        from: &["Microsoft.Network/networkWatchers"],
        gather: watcher_regions,
    },
    Field {
        name: "bastionHosts",
        from: &["Microsoft.Network/bastionHosts"],
        gather: bastions,
    },
    Field {
        name: "ownerAssignments",
        from: &["Microsoft.Authorization/roleAssignments"],
        gather: owners,
    },
];

/// Adds the summary fields to the subscription's asset in `out`, the
/// whole collection of `subscription`.
pub(super) fn summarise(out: &mut Out, subscription: &str) {
    let failed: BTreeSet<String> = out
        .errors
        .iter()
        .filter_map(|e| e.resource_type.clone())
        .collect();
    let Some(at) = out
        .assets
        .iter()
        .position(|a| a.resource_type.as_str() == KIND)
    else {
        return;
    };
    let scope = format!("/subscriptions/{subscription}");
    for field in FIELDS {
        let unlisted: Vec<&str> = field
            .from
            .iter()
            .copied()
            .filter(|t| failed.contains(*t))
            .collect();
        let value = (field.gather)(&out.assets, &scope);
        let asset = &mut out.assets[at];
        match unlisted.as_slice() {
            [] => {
                if let Some(config) = asset.config.as_object_mut() {
                    config.insert(field.name.to_owned(), value);
                }
            }
            types => {
                asset.unknown.insert(
                    field.name.to_owned(),
                    format!("{} could not be listed", types.join(", ")),
                );
            }
        }
    }
}

fn of_type<'a>(assets: &'a [Asset], kind: &'a str) -> impl Iterator<Item = &'a Asset> {
    assets
        .iter()
        .filter(move |a| a.resource_type.as_str() == kind)
}

/// Each alert whose scopes take in the whole subscription: its name,
/// whether it is enabled, and the category and operation its condition
/// names.
fn alerts(assets: &[Asset], scope: &str) -> Value {
    let alerts = of_type(assets, "Microsoft.Insights/activityLogAlerts").filter(|alert| {
        alert.config["properties"]["scopes"]
            .as_array()
            .is_some_and(|scopes| {
                scopes
                    .iter()
                    .any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(scope)))
            })
    });
    Value::Array(
        alerts
            .map(|alert| {
                let condition = |field: &str| {
                    alert.config["properties"]["condition"]["allOf"]
                        .as_array()
                        .and_then(|all| {
                            all.iter()
                                .find(|c| c["field"].as_str() == Some(field))
                                .and_then(|c| c.get("equals").cloned())
                        })
                        .unwrap_or(Value::Null)
                };
                json!({
                    "name": alert.name,
                    "enabled": alert.config["properties"]["enabled"],
                    "category": condition("category"),
                    "operationName": condition("operationName"),
                })
            })
            .collect(),
    )
}

/// The categories of the activity log that some diagnostic setting with a
/// destination exports.
fn categories(assets: &[Asset], _: &str) -> Value {
    let mut exported = BTreeSet::new();
    for setting in of_type(assets, "Microsoft.Insights/diagnosticSettings") {
        let properties = &setting.config["properties"];
        let sends = [
            "workspaceId",
            "storageAccountId",
            "eventHubAuthorizationRuleId",
        ]
        .iter()
        .any(|d| properties[*d].as_str().is_some_and(|v| !v.is_empty()));
        if !sends {
            continue;
        }
        for log in properties["logs"].as_array().into_iter().flatten() {
            if log["enabled"] == true
                && let Some(category) = log["category"].as_str()
            {
                exported.insert(category.to_owned());
            }
        }
    }
    json!(exported)
}

/// How many Bastion hosts the subscription has.
fn bastions(assets: &[Asset], _: &str) -> Value {
    json!(of_type(assets, "Microsoft.Network/bastionHosts").count())
}

/// The regions a network watcher is provisioned in.
fn watcher_regions(assets: &[Asset], _: &str) -> Value {
    let regions: BTreeSet<String> = of_type(assets, "Microsoft.Network/networkWatchers")
        .filter(|w| w.config["properties"]["provisioningState"] == "Succeeded")
        .map(|w| w.region.clone())
        .collect();
    json!(regions)
}

/// How many role assignments make a principal Owner of the whole
/// subscription (there, or inherited from above it).
fn owners(assets: &[Asset], scope: &str) -> Value {
    let owner = format!("/{OWNER}");
    let count = of_type(assets, "Microsoft.Authorization/roleAssignments")
        .filter(|a| {
            let properties = &a.config["properties"];
            properties["roleDefinitionId"]
                .as_str()
                .is_some_and(|role| role.ends_with(&owner))
                && properties["scope"].as_str().is_some_and(|s| {
                    s.eq_ignore_ascii_case(scope)
                        || s == "/"
                        || s.to_lowercase()
                            .starts_with("/providers/microsoft.management/")
                })
        })
        .count();
    json!(count)
}
