//! The subscription itself, as a summary asset (as AWS has its region
//! assets): its state, tenant and policies; the rules about a whole
//! subscription read it.

use super::{Collector, Ctx, Out, TypeDef};
use serde_json::json;

pub(super) const SUBSCRIPTION: Collector = Collector {
    namespace: "Microsoft.Resources",
    types: &[TypeDef {
        name: KIND,
        page: include_str!("../../../../docs/resources/azure/resources-subscription.md"),
        operations: &[],
        dependents: &[],
        network: None,
    }],
    actions: &["Microsoft.Resources/subscriptions/read"],
    run: |ctx| Box::pin(subscription(ctx)),
};

const KIND: &str = "Microsoft.Resources/subscriptions";

/// The API version of Microsoft.Resources' subscriptions.
const API: &str = "2022-12-01";

async fn subscription(ctx: &Ctx) -> Out {
    let path = format!("/subscriptions/{}", ctx.subscription);
    match ctx.arm.get(&path, API).await {
        Ok(found) => {
            let config = json!({
                "subscriptionId": found.get("subscriptionId"),
                "displayName": found.get("displayName"),
                "tenantId": found.get("tenantId"),
                "state": found.get("state"),
                "subscriptionPolicies": found.get("subscriptionPolicies"),
            });
            let mut asset = ctx.asset(KIND, &found, config);
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
