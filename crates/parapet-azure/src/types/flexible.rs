//! Azure Database for PostgreSQL and for MySQL, flexible servers: each
//! server with its server parameters (`parameters`: name to value, such
//! as `require_secure_transport` or `log_checkpoints`) and its firewall
//! rules. The two resource providers answer alike; one description
//! serves both.

use super::{Collector, Ctx, Document, Out, TypeDef, id_of, listed_each, properties};
use parapet_core::Asset;
use parapet_provider::NetworkRole;
use serde_json::Value;

pub(super) const POSTGRESQL: Collector = Collector {
    namespace: "Microsoft.DBforPostgreSQL",
    types: &[TypeDef {
        name: POSTGRESQL_SERVER,
        page: include_str!("../../../../docs/resources/azure/postgresql-flexible-server.md"),
        operations: &[
            "Microsoft.DBforPostgreSQL/flexibleServers/write",
            "Microsoft.DBforPostgreSQL/flexibleServers/delete",
            "Microsoft.DBforPostgreSQL/flexibleServers/configurations/write",
            "Microsoft.DBforPostgreSQL/flexibleServers/firewallRules/write",
            "Microsoft.DBforPostgreSQL/flexibleServers/firewallRules/delete",
        ],
        dependents: &[],
        network: Some(NetworkRole::Endpoint),
        tracked: true,
    }],
    actions: &[
        "Microsoft.DBforPostgreSQL/flexibleServers/read",
        "Microsoft.DBforPostgreSQL/flexibleServers/configurations/read",
        "Microsoft.DBforPostgreSQL/flexibleServers/firewallRules/read",
    ],
    run: |ctx| Box::pin(servers(ctx, POSTGRESQL_SERVER, POSTGRESQL_API)),
};

pub(super) const MYSQL: Collector = Collector {
    namespace: "Microsoft.DBforMySQL",
    types: &[TypeDef {
        name: MYSQL_SERVER,
        page: include_str!("../../../../docs/resources/azure/mysql-flexible-server.md"),
        operations: &[
            "Microsoft.DBforMySQL/flexibleServers/write",
            "Microsoft.DBforMySQL/flexibleServers/delete",
            "Microsoft.DBforMySQL/flexibleServers/configurations/write",
            "Microsoft.DBforMySQL/flexibleServers/firewallRules/write",
            "Microsoft.DBforMySQL/flexibleServers/firewallRules/delete",
        ],
        dependents: &[],
        network: Some(NetworkRole::Endpoint),
        tracked: true,
    }],
    actions: &[
        "Microsoft.DBforMySQL/flexibleServers/read",
        "Microsoft.DBforMySQL/flexibleServers/configurations/read",
        "Microsoft.DBforMySQL/flexibleServers/firewallRules/read",
    ],
    run: |ctx| Box::pin(servers(ctx, MYSQL_SERVER, MYSQL_API)),
};

const POSTGRESQL_SERVER: &str = "Microsoft.DBforPostgreSQL/flexibleServers";
const MYSQL_SERVER: &str = "Microsoft.DBforMySQL/flexibleServers";

/// The API version of Microsoft.DBforPostgreSQL's flexible servers.
const POSTGRESQL_API: &str = "2024-08-01";
/// The API version of Microsoft.DBforMySQL's flexible servers.
const MYSQL_API: &str = "2023-12-30";

async fn servers(ctx: &Ctx, kind: &'static str, api: &'static str) -> Out {
    listed_each(ctx, kind, api, |server| described(ctx, kind, api, server)).await
}

/// Each parameter's name and value, of the configurations listed.
fn parameters(configurations: Vec<Value>) -> Value {
    Value::Object(
        configurations
            .iter()
            .filter_map(|c| {
                let name = c.get("name")?.as_str()?;
                let value = c
                    .pointer("/properties/value")
                    .cloned()
                    .unwrap_or(Value::Null);
                Some((name.to_owned(), value))
            })
            .collect(),
    )
}

async fn described(ctx: &Ctx, kind: &'static str, api: &str, server: Value) -> Asset {
    let id = id_of(&server);
    let (configurations, firewall) = tokio::join!(
        ctx.list(format!("{id}/configurations"), api),
        ctx.list(format!("{id}/firewallRules"), api),
    );
    Document::of(&server)
        .read("parameters", configurations.map(parameters))
        .read("firewallRules", firewall.map(properties))
        .asset(ctx, kind, &server)
}
