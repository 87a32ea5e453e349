//! Microsoft.Network's resources that place, route and guard everything
//! else: virtual networks with their subnets, network security groups with
//! their rules, network interfaces, public IP addresses, route tables and
//! load balancers, application gateways and Bastion hosts, and the network watchers with
//! the flow logs they keep. Each is listed across the subscription in one
//! paged call (flow logs, watcher by watcher), its properties as ARM gives
//! them.

use super::subscription::KIND as SUMMARY;
use super::{Collector, Ctx, Document, Out, TypeDef, each, id_of, listed};
use parapet_provider::NetworkRole;

pub(super) const NETWORK: Collector = Collector {
    namespace: "Microsoft.Network",
    types: &[
        TypeDef {
            name: SECURITY_GROUP,
            page: include_str!("../../../../docs/resources/azure/network-security-group.md"),
            operations: &[
                "Microsoft.Network/networkSecurityGroups/write",
                "Microsoft.Network/networkSecurityGroups/delete",
                "Microsoft.Network/networkSecurityGroups/securityRules/write",
                "Microsoft.Network/networkSecurityGroups/securityRules/delete",
            ],
            dependents: &[],
            network: Some(NetworkRole::Firewall),
            tracked: true,
        },
        TypeDef {
            name: VIRTUAL_NETWORK,
            page: include_str!("../../../../docs/resources/azure/network-virtual-network.md"),
            operations: &[
                "Microsoft.Network/virtualNetworks/write",
                "Microsoft.Network/virtualNetworks/delete",
                "Microsoft.Network/virtualNetworks/subnets/write",
                "Microsoft.Network/virtualNetworks/subnets/delete",
            ],
            dependents: &[],
            network: Some(NetworkRole::Network),
            tracked: true,
        },
        TypeDef {
            name: INTERFACE,
            page: include_str!("../../../../docs/resources/azure/network-interface.md"),
            operations: &[
                "Microsoft.Network/networkInterfaces/write",
                "Microsoft.Network/networkInterfaces/delete",
            ],
            dependents: &[],
            network: Some(NetworkRole::Endpoint),
            tracked: true,
        },
        TypeDef {
            name: PUBLIC_ADDRESS,
            page: include_str!("../../../../docs/resources/azure/network-public-ip-address.md"),
            operations: &[
                "Microsoft.Network/publicIPAddresses/write",
                "Microsoft.Network/publicIPAddresses/delete",
            ],
            dependents: &[],
            network: Some(NetworkRole::Address),
            tracked: true,
        },
        TypeDef {
            name: ROUTE_TABLE,
            page: include_str!("../../../../docs/resources/azure/network-route-table.md"),
            operations: &[
                "Microsoft.Network/routeTables/write",
                "Microsoft.Network/routeTables/delete",
                "Microsoft.Network/routeTables/routes/write",
                "Microsoft.Network/routeTables/routes/delete",
            ],
            dependents: &[],
            network: Some(NetworkRole::Routes),
            tracked: true,
        },
        TypeDef {
            name: LOAD_BALANCER,
            page: include_str!("../../../../docs/resources/azure/network-load-balancer.md"),
            operations: &[
                "Microsoft.Network/loadBalancers/write",
                "Microsoft.Network/loadBalancers/delete",
            ],
            dependents: &[],
            network: Some(NetworkRole::Forwarding),
            tracked: true,
        },
        TypeDef {
            name: APPLICATION_GATEWAY,
            page: include_str!("../../../../docs/resources/azure/network-application-gateway.md"),
            operations: &[
                "Microsoft.Network/applicationGateways/write",
                "Microsoft.Network/applicationGateways/delete",
            ],
            dependents: &[],
            network: Some(NetworkRole::Forwarding),
            tracked: true,
        },
        TypeDef {
            name: BASTION,
            page: include_str!("../../../../docs/resources/azure/network-bastion-host.md"),
            operations: &[
                "Microsoft.Network/bastionHosts/write",
                "Microsoft.Network/bastionHosts/delete",
            ],
            dependents: &[SUMMARY],
            network: None,
            tracked: true,
        },
        TypeDef {
            name: WATCHER,
            page: include_str!("../../../../docs/resources/azure/network-network-watcher.md"),
            operations: &[
                "Microsoft.Network/networkWatchers/write",
                "Microsoft.Network/networkWatchers/delete",
            ],
            dependents: &[FLOW_LOG, SUMMARY],
            network: None,
            tracked: true,
        },
        TypeDef {
            name: FLOW_LOG,
            page: include_str!("../../../../docs/resources/azure/network-flow-log.md"),
            operations: &[
                "Microsoft.Network/networkWatchers/flowLogs/write",
                "Microsoft.Network/networkWatchers/flowLogs/delete",
            ],
            dependents: &[],
            network: None,
            tracked: true,
        },
    ],
    actions: &[
        "Microsoft.Network/networkSecurityGroups/read",
        "Microsoft.Network/virtualNetworks/read",
        "Microsoft.Network/networkInterfaces/read",
        "Microsoft.Network/publicIPAddresses/read",
        "Microsoft.Network/routeTables/read",
        "Microsoft.Network/loadBalancers/read",
        "Microsoft.Network/applicationGateways/read",
        "Microsoft.Network/networkWatchers/read",
        "Microsoft.Network/networkWatchers/flowLogs/read",
        "Microsoft.Network/bastionHosts/read",
    ],
    run: |ctx| Box::pin(network(ctx)),
};

const SECURITY_GROUP: &str = "Microsoft.Network/networkSecurityGroups";
const VIRTUAL_NETWORK: &str = "Microsoft.Network/virtualNetworks";
const INTERFACE: &str = "Microsoft.Network/networkInterfaces";
const PUBLIC_ADDRESS: &str = "Microsoft.Network/publicIPAddresses";
const ROUTE_TABLE: &str = "Microsoft.Network/routeTables";
const LOAD_BALANCER: &str = "Microsoft.Network/loadBalancers";
const APPLICATION_GATEWAY: &str = "Microsoft.Network/applicationGateways";
const WATCHER: &str = "Microsoft.Network/networkWatchers";
const BASTION: &str = "Microsoft.Network/bastionHosts";
const FLOW_LOG: &str = "Microsoft.Network/networkWatchers/flowLogs";

/// The API version of Microsoft.Network.
const API: &str = "2024-05-01";

async fn network(ctx: &Ctx) -> Out {
    let (groups, networks, interfaces, addresses, routes, balancers, gateways, bastions, watchers) = tokio::join!(
        listed(ctx, SECURITY_GROUP, API),
        listed(ctx, VIRTUAL_NETWORK, API),
        listed(ctx, INTERFACE, API),
        listed(ctx, PUBLIC_ADDRESS, API),
        listed(ctx, ROUTE_TABLE, API),
        listed(ctx, LOAD_BALANCER, API),
        listed(ctx, APPLICATION_GATEWAY, API),
        listed(ctx, BASTION, API),
        watchers(ctx),
    );
    [
        groups, networks, interfaces, addresses, routes, balancers, gateways, bastions, watchers,
    ]
    .into_iter()
    .collect()
}

/// The network watchers, each with the flow logs it keeps (an asset of
/// their own each, named by the security group or network they log).
async fn watchers(ctx: &Ctx) -> Out {
    if (!ctx.wanted.wants(WATCHER) && !ctx.wanted.wants(FLOW_LOG)) || ctx.absent(WATCHER) {
        return Out::default();
    }
    let path = format!("/subscriptions/{}/providers/{WATCHER}", ctx.subscription);
    let watchers = match ctx.arm.list(&path, API).await {
        Ok(mut watchers) => {
            watchers.retain(|w| {
                ctx.wanted.selects(WATCHER, id_of(w)) || ctx.wanted.under(FLOW_LOG, id_of(w))
            });
            watchers
        }
        Err(error) => {
            return [ctx.failed(WATCHER, &error), ctx.failed(FLOW_LOG, &error)]
                .into_iter()
                .collect();
        }
    };
    let described = Out {
        assets: watchers
            .iter()
            .map(|watcher| Document::of(watcher).asset(ctx, WATCHER, watcher))
            .collect(),
        errors: Vec::new(),
    };
    let logs = each(watchers, |watcher| async move {
        let id = id_of(&watcher);
        if !ctx.wanted.under(FLOW_LOG, id) || ctx.absent(FLOW_LOG) {
            return Out::default();
        }
        match ctx.arm.list(&format!("{id}/flowLogs"), API).await {
            Ok(logs) => Out {
                assets: logs
                    .iter()
                    .filter(|log| ctx.wanted.selects(FLOW_LOG, id_of(log)))
                    .map(|log| Document::of(log).asset(ctx, FLOW_LOG, log))
                    .collect(),
                errors: Vec::new(),
            },
            Err(error) => ctx.failed(FLOW_LOG, &error),
        }
    })
    .await;
    std::iter::once(described).chain(logs).collect()
}
