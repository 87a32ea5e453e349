//! Azure RBAC: the role assignments that apply in the subscription (at
//! it, its resource groups and resources, or inherited from above) and
//! the custom role definitions assignable in it. Built-in roles are
//! Microsoft's and the same everywhere, so they are left out; an
//! assignment names its role by id.

use super::subscription::KIND as SUMMARY;
use super::{Collector, Ctx, Document, Out, TypeDef, listed};
use serde_json::Value;

pub(super) const AUTHORIZATION: Collector = Collector {
    namespace: "Microsoft.Authorization",
    types: &[
        TypeDef {
            name: ASSIGNMENT,
            page: include_str!("../../../../docs/resources/azure/authorization-role-assignment.md"),
            operations: &[
                "Microsoft.Authorization/roleAssignments/write",
                "Microsoft.Authorization/roleAssignments/delete",
            ],
            dependents: &[SUMMARY],
            network: None,
            tracked: false,
        },
        TypeDef {
            name: DEFINITION,
            page: include_str!("../../../../docs/resources/azure/authorization-role-definition.md"),
            operations: &[
                "Microsoft.Authorization/roleDefinitions/write",
                "Microsoft.Authorization/roleDefinitions/delete",
            ],
            dependents: &[],
            network: None,
            tracked: false,
        },
    ],
    actions: &[
        "Microsoft.Authorization/roleAssignments/read",
        "Microsoft.Authorization/roleDefinitions/read",
    ],
    run: |ctx| Box::pin(authorization(ctx)),
};

const ASSIGNMENT: &str = "Microsoft.Authorization/roleAssignments";
const DEFINITION: &str = "Microsoft.Authorization/roleDefinitions";

/// The API version of Microsoft.Authorization.
const API: &str = "2022-04-01";

async fn authorization(ctx: &Ctx) -> Out {
    let (assignments, definitions) = tokio::join!(listed(ctx, ASSIGNMENT, API), custom_roles(ctx));
    [assignments, definitions].into_iter().collect()
}

/// The custom role definitions assignable in the subscription, named by
/// their role names.
async fn custom_roles(ctx: &Ctx) -> Out {
    if !ctx.wanted.wants(DEFINITION) {
        return Out::default();
    }
    let path = format!("/subscriptions/{}/providers/{DEFINITION}", ctx.subscription);
    match ctx.arm.list(&path, API).await {
        Ok(definitions) => Out {
            assets: definitions
                .iter()
                .filter(|d| {
                    d.pointer("/properties/type").and_then(Value::as_str) == Some("CustomRole")
                })
                .map(|definition| {
                    let mut asset = Document::of(definition).asset(ctx, DEFINITION, definition);
                    if let Some(name) = definition
                        .pointer("/properties/roleName")
                        .and_then(Value::as_str)
                    {
                        name.clone_into(&mut asset.name);
                    }
                    asset
                })
                .collect(),
            errors: Vec::new(),
        },
        Err(error) => ctx.failed(DEFINITION, &error),
    }
}
