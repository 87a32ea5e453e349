//! Key vaults: purge protection and soft delete, the permission model
//! (Azure RBAC or access policies), network rules, and, where the
//! identity may read them through Resource Manager, the keys' and
//! secrets' attributes (enabled, expiry) and the vault's diagnostic
//! settings (where its audit events go).

use super::insights::DIAGNOSTICS_API;
use super::{Collector, Ctx, Document, Out, TypeDef, id_of, listed_each};
use parapet_core::Asset;
use parapet_provider::NetworkRole;
use serde_json::{Value, json};

pub(super) const KEY_VAULT: Collector = Collector {
    namespace: "Microsoft.KeyVault",
    types: &[TypeDef {
        name: VAULT,
        page: include_str!("../../../../docs/resources/azure/keyvault-vault.md"),
        operations: &[
            "Microsoft.KeyVault/vaults/write",
            "Microsoft.KeyVault/vaults/delete",
            "Microsoft.KeyVault/vaults/accessPolicies/write",
            "Microsoft.KeyVault/vaults/keys/write",
            "Microsoft.KeyVault/vaults/secrets/write",
        ],
        dependents: &[],
        network: Some(NetworkRole::Member),
        tracked: true,
    }],
    actions: &[
        "Microsoft.KeyVault/vaults/read",
        "Microsoft.KeyVault/vaults/keys/read",
        "Microsoft.KeyVault/vaults/secrets/read",
        "Microsoft.Insights/diagnosticSettings/read",
    ],
    run: |ctx| Box::pin(vaults(ctx)),
};

const VAULT: &str = "Microsoft.KeyVault/vaults";

/// The API version of Microsoft.KeyVault.
const API: &str = "2023-07-01";

async fn vaults(ctx: &Ctx) -> Out {
    listed_each(ctx, VAULT, API, |vault| described(ctx, vault)).await
}

/// The name and attributes (enabled, `exp`, `nbf`, as seconds since the
/// epoch) of each key or secret listed, and a key's rotation policy.
fn attributes(items: Vec<Value>) -> Value {
    Value::Array(
        items
            .iter()
            .map(|item| {
                let mut described = json!({
                    "name": item.get("name"),
                    "attributes": item.pointer("/properties/attributes"),
                });
                if let Some(policy) = item.pointer("/properties/rotationPolicy") {
                    described["rotationPolicy"] = policy.clone();
                }
                described
            })
            .collect(),
    )
}

async fn described(ctx: &Ctx, vault: Value) -> Asset {
    let id = id_of(&vault);
    let (keys, secrets, diagnostics) = tokio::join!(
        ctx.list(format!("{id}/keys"), API),
        ctx.list(format!("{id}/secrets"), API),
        ctx.list(
            format!("{id}/providers/Microsoft.Insights/diagnosticSettings"),
            DIAGNOSTICS_API
        ),
    );
    Document::of(&vault)
        .read("keys", keys.map(attributes))
        .read("secrets", secrets.map(attributes))
        .read("diagnosticSettings", diagnostics.map(super::properties))
        .asset(ctx, VAULT, &vault)
}
