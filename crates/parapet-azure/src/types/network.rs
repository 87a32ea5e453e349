//! Microsoft.Network's resources that place, route and guard everything
//! else: virtual networks with their subnets, network security groups with
//! their rules, network interfaces, public IP addresses, route tables and
//! load balancers. Each is listed across
//! the subscription in one paged call, its properties as ARM gives them.

use super::{Collector, Ctx, Out, TypeDef, listed};
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
        },
    ],
    actions: &[
        "Microsoft.Network/networkSecurityGroups/read",
        "Microsoft.Network/virtualNetworks/read",
        "Microsoft.Network/networkInterfaces/read",
        "Microsoft.Network/publicIPAddresses/read",
        "Microsoft.Network/routeTables/read",
        "Microsoft.Network/loadBalancers/read",
    ],
    run: |ctx| Box::pin(network(ctx)),
};

const SECURITY_GROUP: &str = "Microsoft.Network/networkSecurityGroups";
const VIRTUAL_NETWORK: &str = "Microsoft.Network/virtualNetworks";
const INTERFACE: &str = "Microsoft.Network/networkInterfaces";
const PUBLIC_ADDRESS: &str = "Microsoft.Network/publicIPAddresses";
const ROUTE_TABLE: &str = "Microsoft.Network/routeTables";
const LOAD_BALANCER: &str = "Microsoft.Network/loadBalancers";

/// The API version of Microsoft.Network.
const API: &str = "2024-05-01";

async fn network(ctx: &Ctx) -> Out {
    let (groups, networks, interfaces, addresses, routes, balancers) = tokio::join!(
        listed(ctx, SECURITY_GROUP, API),
        listed(ctx, VIRTUAL_NETWORK, API),
        listed(ctx, INTERFACE, API),
        listed(ctx, PUBLIC_ADDRESS, API),
        listed(ctx, ROUTE_TABLE, API),
        listed(ctx, LOAD_BALANCER, API),
    );
    let mut out = Out::default();
    for part in [groups, networks, interfaces, addresses, routes, balancers] {
        out.assets.extend(part.assets);
        out.errors.extend(part.errors);
    }
    out
}
