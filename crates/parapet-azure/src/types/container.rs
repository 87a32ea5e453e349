//! Containers: AKS managed clusters (Microsoft.ContainerService: RBAC,
//! Entra ID integration, the API server's access profile, network policy,
//! local accounts) and container registries (Microsoft.ContainerRegistry:
//! admin user, anonymous pull, public network access). Each is listed
//! across the subscription in one paged call.

use super::{Collector, TypeDef, listed};
use parapet_provider::NetworkRole;

pub(super) const SERVICE: Collector = Collector {
    namespace: "Microsoft.ContainerService",
    types: &[TypeDef {
        name: CLUSTER,
        page: include_str!("../../../../docs/resources/azure/containerservice-managed-cluster.md"),
        operations: &[
            "Microsoft.ContainerService/managedClusters/write",
            "Microsoft.ContainerService/managedClusters/delete",
            "Microsoft.ContainerService/managedClusters/agentPools/write",
        ],
        dependents: &[],
        network: Some(NetworkRole::Member),
        tracked: true,
    }],
    actions: &["Microsoft.ContainerService/managedClusters/read"],
    run: |ctx| Box::pin(listed(ctx, CLUSTER, SERVICE_API)),
};

pub(super) const REGISTRY: Collector = Collector {
    namespace: "Microsoft.ContainerRegistry",
    types: &[TypeDef {
        name: REGISTRY_TYPE,
        page: include_str!("../../../../docs/resources/azure/containerregistry-registry.md"),
        operations: &[
            "Microsoft.ContainerRegistry/registries/write",
            "Microsoft.ContainerRegistry/registries/delete",
        ],
        dependents: &[],
        network: Some(NetworkRole::Member),
        tracked: true,
    }],
    actions: &["Microsoft.ContainerRegistry/registries/read"],
    run: |ctx| Box::pin(listed(ctx, REGISTRY_TYPE, REGISTRY_API)),
};

const CLUSTER: &str = "Microsoft.ContainerService/managedClusters";
const REGISTRY_TYPE: &str = "Microsoft.ContainerRegistry/registries";

/// The API version of Microsoft.ContainerService's managed clusters.
const SERVICE_API: &str = "2024-09-01";
/// The API version of Microsoft.ContainerRegistry.
const REGISTRY_API: &str = "2023-07-01";
