//! Azure SQL: logical servers with what guards them (firewall rules,
//! auditing, the Entra ID administrator, the TDE protector, Defender's
//! alert policy), and their databases with transparent data encryption
//! and their own auditing. The `master` database is the server's and is
//! left out, as Azure's portal leaves it out.

use super::{Collector, Ctx, Document, Out, TypeDef, each, id_of, properties};
use parapet_core::Asset;
use parapet_provider::NetworkRole;
use serde_json::Value;

pub(super) const SQL: Collector = Collector {
    namespace: "Microsoft.Sql",
    types: &[
        TypeDef {
            name: SERVER,
            page: include_str!("../../../../docs/resources/azure/sql-server.md"),
            operations: &[
                "Microsoft.Sql/servers/write",
                "Microsoft.Sql/servers/delete",
                "Microsoft.Sql/servers/firewallRules/write",
                "Microsoft.Sql/servers/firewallRules/delete",
                "Microsoft.Sql/servers/auditingSettings/write",
                "Microsoft.Sql/servers/administrators/write",
                "Microsoft.Sql/servers/administrators/delete",
                "Microsoft.Sql/servers/encryptionProtector/write",
                "Microsoft.Sql/servers/securityAlertPolicies/write",
            ],
            dependents: &[DATABASE],
            network: Some(NetworkRole::Endpoint),
            tracked: true,
        },
        TypeDef {
            name: DATABASE,
            page: include_str!("../../../../docs/resources/azure/sql-database.md"),
            operations: &[
                "Microsoft.Sql/servers/databases/write",
                "Microsoft.Sql/servers/databases/delete",
                "Microsoft.Sql/servers/databases/transparentDataEncryption/write",
                "Microsoft.Sql/servers/databases/auditingSettings/write",
            ],
            dependents: &[],
            network: None,
            tracked: true,
        },
    ],
    actions: &[
        "Microsoft.Sql/servers/read",
        "Microsoft.Sql/servers/firewallRules/read",
        "Microsoft.Sql/servers/auditingSettings/read",
        "Microsoft.Sql/servers/administrators/read",
        "Microsoft.Sql/servers/encryptionProtector/read",
        "Microsoft.Sql/servers/securityAlertPolicies/read",
        "Microsoft.Sql/servers/databases/read",
        "Microsoft.Sql/servers/databases/transparentDataEncryption/read",
        "Microsoft.Sql/servers/databases/auditingSettings/read",
    ],
    run: |ctx| Box::pin(sql(ctx)),
};

const SERVER: &str = "Microsoft.Sql/servers";
const DATABASE: &str = "Microsoft.Sql/servers/databases";

/// The API version of Microsoft.Sql.
const API: &str = "2021-11-01";

async fn sql(ctx: &Ctx) -> Out {
    if ctx.absent(SERVER) {
        return Out::default();
    }
    let path = format!("/subscriptions/{}/providers/{SERVER}", ctx.subscription);
    let servers = match ctx.arm.list(&path, API).await {
        Ok(mut servers) => {
            servers.retain(|s| {
                ctx.wanted.selects(SERVER, id_of(s)) || ctx.wanted.under(DATABASE, id_of(s))
            });
            servers
        }
        Err(error) => {
            return [ctx.failed(SERVER, &error), ctx.failed(DATABASE, &error)]
                .into_iter()
                .collect();
        }
    };
    each(servers, |server| described(ctx, server))
        .await
        .into_iter()
        .collect()
}

/// One server's asset and its databases', each when asked for.
async fn described(ctx: &Ctx, server: Value) -> Out {
    let id = id_of(&server);
    let (asset, databases) = tokio::join!(
        async {
            if !ctx.wanted.selects(SERVER, id) {
                return None;
            }
            let (firewall, auditing, administrators, protector, alerts) = tokio::join!(
                ctx.list(format!("{id}/firewallRules"), API),
                ctx.setting(format!("{id}/auditingSettings/default"), API),
                ctx.list(format!("{id}/administrators"), API),
                ctx.setting(format!("{id}/encryptionProtector/current"), API),
                ctx.setting(format!("{id}/securityAlertPolicies/Default"), API),
            );
            Some(
                Document::of(&server)
                    .read("firewallRules", firewall.map(properties))
                    .read("auditing", auditing)
                    .read("administrators", administrators.map(properties))
                    .read("encryptionProtector", protector)
                    .read("securityAlertPolicy", alerts)
                    .asset(ctx, SERVER, &server),
            )
        },
        databases(ctx, id),
    );
    let server = Out {
        assets: asset.into_iter().collect(),
        errors: Vec::new(),
    };
    [server, databases].into_iter().collect()
}

/// The databases of the server `id` asked for, `master` aside.
async fn databases(ctx: &Ctx, id: &str) -> Out {
    if !ctx.wanted.under(DATABASE, id) || ctx.absent(DATABASE) {
        return Out::default();
    }
    match ctx.list(format!("{id}/databases"), API).await {
        Ok(databases) => Out {
            assets: each(
                databases
                    .into_iter()
                    .filter(|d| d.get("name").and_then(Value::as_str) != Some("master"))
                    .filter(|d| ctx.wanted.selects(DATABASE, id_of(d)))
                    .collect(),
                |database| database_described(ctx, database),
            )
            .await,
            errors: Vec::new(),
        },
        Err(error) => ctx.failed(DATABASE, &error),
    }
}

/// One database's asset: its resource, its transparent data encryption
/// and its auditing.
async fn database_described(ctx: &Ctx, database: Value) -> Asset {
    let id = id_of(&database);
    let (encryption, auditing) = tokio::join!(
        ctx.setting(format!("{id}/transparentDataEncryption/current"), API),
        ctx.setting(format!("{id}/auditingSettings/default"), API),
    );
    Document::of(&database)
        .read("transparentDataEncryption", encryption)
        .read("auditing", auditing)
        .asset(ctx, DATABASE, &database)
}
