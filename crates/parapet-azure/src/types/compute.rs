//! Microsoft.Compute's virtual machines and scale sets (their OS, disks,
//! network interfaces and security profile) and the managed disks and
//! snapshots they keep their data on (encryption, network access). Each
//! is listed across the subscription in one paged call, its properties as
//! ARM gives them.

use super::{Collector, Ctx, Out, TypeDef, listed};
use parapet_provider::NetworkRole;

pub(super) const COMPUTE: Collector = Collector {
    namespace: "Microsoft.Compute",
    types: &[
        TypeDef {
            name: MACHINE,
            page: include_str!("../../../../docs/resources/azure/compute-virtual-machine.md"),
            operations: &[
                "Microsoft.Compute/virtualMachines/write",
                "Microsoft.Compute/virtualMachines/delete",
                "Microsoft.Compute/virtualMachines/extensions/write",
                "Microsoft.Compute/virtualMachines/extensions/delete",
            ],
            dependents: &[],
            network: Some(NetworkRole::Endpoint),
            tracked: true,
        },
        TypeDef {
            name: SCALE_SET,
            page: include_str!(
                "../../../../docs/resources/azure/compute-virtual-machine-scale-set.md"
            ),
            operations: &[
                "Microsoft.Compute/virtualMachineScaleSets/write",
                "Microsoft.Compute/virtualMachineScaleSets/delete",
            ],
            dependents: &[],
            network: Some(NetworkRole::Endpoint),
            tracked: true,
        },
        TypeDef {
            name: DISK,
            page: include_str!("../../../../docs/resources/azure/compute-disk.md"),
            operations: &[
                "Microsoft.Compute/disks/write",
                "Microsoft.Compute/disks/delete",
            ],
            dependents: &[],
            network: None,
            tracked: true,
        },
        TypeDef {
            name: SNAPSHOT,
            page: include_str!("../../../../docs/resources/azure/compute-snapshot.md"),
            operations: &[
                "Microsoft.Compute/snapshots/write",
                "Microsoft.Compute/snapshots/delete",
            ],
            dependents: &[],
            network: None,
            tracked: true,
        },
    ],
    actions: &[
        "Microsoft.Compute/virtualMachines/read",
        "Microsoft.Compute/virtualMachineScaleSets/read",
        "Microsoft.Compute/disks/read",
        "Microsoft.Compute/snapshots/read",
    ],
    run: |ctx| Box::pin(compute(ctx)),
};

const MACHINE: &str = "Microsoft.Compute/virtualMachines";
const SCALE_SET: &str = "Microsoft.Compute/virtualMachineScaleSets";
const DISK: &str = "Microsoft.Compute/disks";
const SNAPSHOT: &str = "Microsoft.Compute/snapshots";

/// The API version of Microsoft.Compute's machines (ComputeRP).
const MACHINES_API: &str = "2024-07-01";
/// The API version of its disks and snapshots (DiskRP).
const DISKS_API: &str = "2024-03-02";

async fn compute(ctx: &Ctx) -> Out {
    let (machines, sets, disks, snapshots) = tokio::join!(
        listed(ctx, MACHINE, MACHINES_API),
        listed(ctx, SCALE_SET, MACHINES_API),
        listed(ctx, DISK, DISKS_API),
        listed(ctx, SNAPSHOT, DISKS_API),
    );
    [machines, sets, disks, snapshots].into_iter().collect()
}
