//! Storage accounts, with their blob service's properties (soft delete,
//! versioning), their containers' public access and their file service's
//! properties (share soft delete, SMB versions and channel encryption).

use super::{Collector, Ctx, Document, Out, TypeDef, id_of, listed_each};
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
            "Microsoft.Storage/storageAccounts/fileServices/write",
        ],
        dependents: &[],
        network: Some(NetworkRole::Member),
        tracked: true,
    }],
    actions: &[
        "Microsoft.Storage/storageAccounts/read",
        "Microsoft.Storage/storageAccounts/blobServices/read",
        "Microsoft.Storage/storageAccounts/blobServices/containers/read",
        "Microsoft.Storage/storageAccounts/fileServices/read",
    ],
    run: |ctx| Box::pin(storage(ctx)),
};

const ACCOUNT: &str = "Microsoft.Storage/storageAccounts";

/// The API version of Microsoft.Storage.
const API: &str = "2024-01-01";

async fn storage(ctx: &Ctx) -> Out {
    listed_each(ctx, ACCOUNT, API, |account| described(ctx, account)).await
}

/// One account's asset: its resource, its blob service's properties and
/// its containers' public access (each left unknown, with the reason,
/// where its read failed).
async fn described(ctx: &Ctx, account: Value) -> Asset {
    let blob = format!("{}/blobServices/default", id_of(&account));
    let files = format!("{}/fileServices/default", id_of(&account));
    let (service, containers, file_service) = tokio::join!(
        ctx.setting(blob.clone(), API),
        ctx.list(format!("{blob}/containers"), API),
        ctx.setting(files, API),
    );
    Document::of(&account)
        .read("blobService", service)
        .read("fileService", file_service)
        .read(
            "containers",
            containers.map(|containers| {
                Value::Array(
                    containers
                        .iter()
                        .map(|c| {
                            json!({
                                "name": c.get("name"),
                                "publicAccess": c.pointer("/properties/publicAccess"),
                            })
                        })
                        .collect(),
                )
            }),
        )
        .asset(ctx, ACCOUNT, &account)
}
