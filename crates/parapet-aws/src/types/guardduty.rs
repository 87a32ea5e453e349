//! GuardDuty detectors: status and publishing frequency, one per region
//! where GuardDuty is enabled.

use super::{Collector, Part, Reach, TypeDef, run_parts, tag_hash, text};
use crate::collect::{Ctx, Out};
use crate::error::{Call, Named};
use aws_sdk_guardduty::Client;
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::json;
use std::sync::Arc;

pub(super) const GUARDDUTY: Collector = Collector {
    service: "guardduty",
    types: &[TypeDef {
        name: DETECTOR,
        page: include_str!("../../../../docs/resources/aws/guardduty-detector.md"),
        events: r#"
            source: guardduty.amazonaws.com
            events:
              - {name: CreateDetector, action: create, key: [responseElements.detectorId]}
              - {name: DeleteDetector, action: delete, key: [requestParameters.detectorId]}
              - {name: UpdateDetector, action: change, key: [requestParameters.detectorId]}
            "#,
        dependents: &[super::region::REGION],
        network: None,
    }],
    reach: Reach::Regional,
    calls: &["guardduty:GetDetector", "guardduty:ListDetectors"],
    run: |ctx| guardduty(ctx).boxed(),
};

const DETECTOR: &str = "AWS::GuardDuty::Detector";

async fn guardduty(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let parts: Vec<Part<'_>> = vec![(DETECTOR, detectors(&ctx, &client).boxed())];
    run_parts(&ctx, parts).await
}

async fn detectors(ctx: &Ctx, guardduty: &Client) -> Call<Vec<Asset>> {
    let ids = all_pages!(
        guardduty.list_detectors(),
        "guardduty:ListDetectors",
        detector_ids
    )?;
    let described = ctx
        .each(ids.clone(), move |id| async move {
            guardduty
                .get_detector()
                .detector_id(id)
                .send()
                .await
                .named("guardduty:GetDetector")
        })
        .await;
    ids.iter()
        .zip(described)
        .map(|(id, d)| {
            let d = d?;
            let mut asset = ctx.asset(
                DETECTOR,
                ctx.arn("guardduty", &format!("detector/{id}")),
                id.clone(),
                json!({
                    "DetectorId": id,
                    "Status": text(d.status().map(|s| s.as_str())),
                    "FindingPublishingFrequency": text(d.finding_publishing_frequency().map(|f| f.as_str())),
                    "CreatedAt": text(d.created_at()),
                    "Features": d.features().iter().map(|f| json!({
                        "Name": text(f.name().map(|n| n.as_str())),
                        "Status": text(f.status().map(|s| s.as_str())),
                    })).collect::<Vec<_>>(),
                }),
            );
            asset.tags = tag_hash(d.tags());
            Ok(asset)
        })
        .collect()
}
