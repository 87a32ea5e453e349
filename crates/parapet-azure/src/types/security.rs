//! Microsoft Defender for Cloud in the subscription: its plans (one
//! `pricings` entry per plan, Free or Standard), the security contacts
//! alerts are mailed to, and the auto-provisioning of its agents.

use super::{Collector, Ctx, Out, TypeDef, listed};

pub(super) const SECURITY: Collector = Collector {
    namespace: "Microsoft.Security",
    types: &[
        TypeDef {
            name: PRICING,
            page: include_str!("../../../../docs/resources/azure/security-pricing.md"),
            operations: &["Microsoft.Security/pricings/write"],
            dependents: &[],
            network: None,
            tracked: false,
        },
        TypeDef {
            name: CONTACT,
            page: include_str!("../../../../docs/resources/azure/security-contact.md"),
            operations: &[
                "Microsoft.Security/securityContacts/write",
                "Microsoft.Security/securityContacts/delete",
            ],
            dependents: &[],
            network: None,
            tracked: false,
        },
        TypeDef {
            name: PROVISIONING,
            page: include_str!(
                "../../../../docs/resources/azure/security-auto-provisioning-setting.md"
            ),
            operations: &["Microsoft.Security/autoProvisioningSettings/write"],
            dependents: &[],
            network: None,
            tracked: false,
        },
    ],
    actions: &[
        "Microsoft.Security/pricings/read",
        "Microsoft.Security/securityContacts/read",
        "Microsoft.Security/autoProvisioningSettings/read",
    ],
    run: |ctx| Box::pin(security(ctx)),
};

const PRICING: &str = "Microsoft.Security/pricings";
const CONTACT: &str = "Microsoft.Security/securityContacts";
const PROVISIONING: &str = "Microsoft.Security/autoProvisioningSettings";

/// The API versions of each: Microsoft.Security versions its APIs one by
/// one, and the contacts and provisioning settings have no stable one.
const PRICING_API: &str = "2023-01-01";
const CONTACT_API: &str = "2020-01-01-preview";
const PROVISIONING_API: &str = "2017-08-01-preview";

async fn security(ctx: &Ctx) -> Out {
    let (pricings, contacts, provisioning) = tokio::join!(
        listed(ctx, PRICING, PRICING_API),
        listed(ctx, CONTACT, CONTACT_API),
        listed(ctx, PROVISIONING, PROVISIONING_API),
    );
    [pricings, contacts, provisioning].into_iter().collect()
}
