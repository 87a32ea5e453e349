//! Azure Cosmos DB's database accounts: their network access (public
//! network access, IP rules, virtual network rules), keys and
//! authentication (local authentication, Entra ID) and encryption.

use super::{Collector, Ctx, Out, TypeDef, listed};
use parapet_provider::NetworkRole;

pub(super) const COSMOS: Collector = Collector {
    namespace: "Microsoft.DocumentDB",
    types: &[TypeDef {
        name: ACCOUNT,
        page: include_str!("../../../../docs/resources/azure/cosmos-database-account.md"),
        operations: &[
            "Microsoft.DocumentDB/databaseAccounts/write",
            "Microsoft.DocumentDB/databaseAccounts/delete",
        ],
        dependents: &[],
        network: Some(NetworkRole::Member),
        tracked: true,
    }],
    actions: &["Microsoft.DocumentDB/databaseAccounts/read"],
    run: |ctx| Box::pin(cosmos(ctx)),
};

const ACCOUNT: &str = "Microsoft.DocumentDB/databaseAccounts";

/// The API version of Microsoft.DocumentDB.
const API: &str = "2024-11-15";

async fn cosmos(ctx: &Ctx) -> Out {
    listed(ctx, ACCOUNT, API).await
}
