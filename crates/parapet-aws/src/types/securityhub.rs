//! Security Hub: the hub of each region where the account is subscribed,
//! which the region summary reads (CIS 5.16).

use super::{Collector, Reach, TypeDef, run_parts, text};
use crate::collect::{Ctx, Out};
use crate::error::{Call, Named};
use aws_sdk_securityhub::Client;
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::json;
use std::sync::Arc;

pub(super) const SECURITY_HUB: Collector = Collector {
    service: "securityhub",
    types: &[TypeDef {
        name: HUB,
        page: include_str!("../../../../docs/resources/aws/securityhub-hub.md"),
        events: r#"
            source: securityhub.amazonaws.com
            events:
              - {name: EnableSecurityHub, action: change, key: [awsRegion]}
              - {name: DisableSecurityHub, action: change, key: [awsRegion]}
              - {name: UpdateSecurityHubConfiguration, action: change, key: [awsRegion]}
            "#,
        dependents: &[super::region::REGION],
        network: None,
    }],
    reach: Reach::Regional,
    calls: &["securityhub:DescribeHub"],
    run: |ctx| security_hub(ctx).boxed(),
};

pub(super) const HUB: &str = "AWS::SecurityHub::Hub";

async fn security_hub(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    run_parts(&ctx, vec![(HUB, hub(&ctx, &client).boxed())]).await
}

/// The region's hub, or none when the account is not subscribed there
/// (`InvalidAccessException`).
async fn hub(ctx: &Ctx, securityhub: &Client) -> Call<Vec<Asset>> {
    let hub = match securityhub
        .describe_hub()
        .send()
        .await
        .named("securityhub:DescribeHub")
    {
        Ok(hub) => hub,
        Err(failure) if failure.code == "InvalidAccessException" => return Ok(Vec::new()),
        Err(failure) => return Err(failure),
    };
    let arn = hub
        .hub_arn()
        .map_or_else(|| ctx.arn("securityhub", "hub/default"), str::to_owned);
    let asset = ctx.asset(
        HUB,
        arn.clone(),
        "default",
        json!({
            "HubArn": arn,
            "SubscribedAt": text(hub.subscribed_at()),
            "AutoEnableControls": hub.auto_enable_controls(),
            "ControlFindingGenerator": text(hub.control_finding_generator().map(|g| g.as_str())),
        }),
    );
    Ok(vec![asset])
}
