//! Azure Monitor in the subscription: the diagnostic settings that export
//! its activity log (which categories, to which workspace, storage
//! account or event hub) and the activity log alerts that watch for
//! operations (such as the creation of a network security group rule).

use super::subscription::KIND as SUMMARY;
use super::{Collector, Ctx, Out, TypeDef, listed};

pub(super) const INSIGHTS: Collector = Collector {
    namespace: "Microsoft.Insights",
    types: &[
        TypeDef {
            name: DIAGNOSTIC_SETTING,
            page: include_str!("../../../../docs/resources/azure/insights-diagnostic-setting.md"),
            operations: &[
                "Microsoft.Insights/diagnosticSettings/write",
                "Microsoft.Insights/diagnosticSettings/delete",
            ],
            dependents: &[SUMMARY],
            network: None,
            tracked: false,
        },
        TypeDef {
            name: ALERT,
            page: include_str!("../../../../docs/resources/azure/insights-activity-log-alert.md"),
            operations: &[
                "Microsoft.Insights/activityLogAlerts/write",
                "Microsoft.Insights/activityLogAlerts/delete",
            ],
            dependents: &[SUMMARY],
            network: None,
            tracked: true,
        },
    ],
    actions: &[
        "Microsoft.Insights/diagnosticSettings/read",
        "Microsoft.Insights/activityLogAlerts/read",
    ],
    run: |ctx| Box::pin(insights(ctx)),
};

const DIAGNOSTIC_SETTING: &str = "Microsoft.Insights/diagnosticSettings";
const ALERT: &str = "Microsoft.Insights/activityLogAlerts";

/// The API version of diagnostic settings (the subscription's, and a
/// resource's, as a key vault's).
pub(super) const DIAGNOSTICS_API: &str = "2021-05-01-preview";
/// The API version of the activity log alerts.
const ALERTS_API: &str = "2020-10-01";

async fn insights(ctx: &Ctx) -> Out {
    let (settings, alerts) = tokio::join!(
        listed(ctx, DIAGNOSTIC_SETTING, DIAGNOSTICS_API),
        listed(ctx, ALERT, ALERTS_API),
    );
    [settings, alerts].into_iter().collect()
}
