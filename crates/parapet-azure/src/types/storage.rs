//! Storage accounts, with their blob service's properties (soft delete,
//! versioning) and their containers' public access.

use super::{Collector, Ctx, Out, TypeDef};
use parapet_core::Asset;
use parapet_provider::NetworkRole;
use serde_json::{Value, json};

pub(super) const STORAGE: Collector = Collector {
    namespace: "Microsoft.Storage",
    types: &[TypeDef {
        name: ACCOUNT,
        page: include_str!("../../../../docs/resources/azure/storage-account.md"),
        operations: &[
            "Microsoft.Storage/storageAccounts/write",
            "Microsoft.Storage/storageAccounts/delete",
            "Microsoft.Storage/storageAccounts/blobServices/write",
            "Microsoft.Storage/storageAccounts/blobServices/containers/write",
            "Microsoft.Storage/storageAccounts/blobServices/containers/delete",
        ],
        dependents: &[],
        network: Some(NetworkRole::Member),
    }],
    actions: &[
        "Microsoft.Storage/storageAccounts/read",
        "Microsoft.Storage/storageAccounts/blobServices/read",
        "Microsoft.Storage/storageAccounts/blobServices/containers/read",
    ],
    run: |ctx| Box::pin(storage(ctx)),
};

const ACCOUNT: &str = "Microsoft.Storage/storageAccounts";

/// The API version of Microsoft.Storage.
const API: &str = "2024-01-01";

async fn storage(ctx: &Ctx) -> Out {
    let path = format!(
        "/subscriptions/{}/providers/Microsoft.Storage/storageAccounts",
        ctx.subscription
    );
    let accounts = match ctx.arm.list(&path, API).await {
        Ok(accounts) => accounts,
        Err(error) => return ctx.failed(ACCOUNT, &error),
    };
    let mut out = Out::default();
    for account in &accounts {
        out.assets.push(described(ctx, account).await);
    }
    out
}

/// One account's asset: its resource, its blob service's properties and
/// its containers (each left unknown, with the reason, where its read
/// failed).
async fn described(ctx: &Ctx, account: &Value) -> Asset {
    let id = account
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let blob = format!("{id}/blobServices/default");
    let listed = format!("{blob}/containers");
    let (service, containers) = tokio::join!(ctx.arm.get(&blob, API), ctx.arm.list(&listed, API));
    let mut unknown = Vec::new();
    let service = match service {
        Ok(service) => service.get("properties").cloned().unwrap_or(Value::Null),
        Err(error) => {
            unknown.push(("blobService", error.to_string()));
            Value::Null
        }
    };
    let containers = match containers {
        Ok(containers) => Value::Array(
            containers
                .iter()
                .map(|c| {
                    json!({
                        "name": c.get("name"),
                        "publicAccess": c.pointer("/properties/publicAccess"),
                    })
                })
                .collect(),
        ),
        Err(error) => {
            unknown.push(("containers", error.to_string()));
            Value::Null
        }
    };
    let config = json!({
        "kind": account.get("kind"),
        "sku": account.get("sku"),
        "properties": account.get("properties"),
        "blobService": service,
        "containers": containers,
    });
    let mut asset = ctx.asset(ACCOUNT, account, config);
    for (field, reason) in unknown {
        if let Some(object) = asset.config.as_object_mut() {
            object.remove(field);
        }
        asset.unknown.insert(field.to_owned(), reason);
    }
    asset
}
