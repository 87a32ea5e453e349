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
            let mut resource = found.clone();
            resource["name"] = found.get("displayName").cloned().unwrap_or_default();
            Out {
                assets: vec![ctx.asset(KIND, &resource, config)],
                errors: Vec::new(),
            }
        }
        Err(error) => Out {
            assets: Vec::new(),
            errors: vec![ctx.failed(KIND, &error)],
        },
    }
}
