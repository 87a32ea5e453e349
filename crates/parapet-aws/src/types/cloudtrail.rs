//! CloudTrail trails: where they deliver (and whether their bucket keeps
//! access logs), whether they log now, which events they select, log file
//! validation, encryption and tags.

use super::{Collector, Doc, Part, Reach, TypeDef, run_parts, tag_map, text, time};
use crate::collect::{Ctx, Out, relate};
use crate::error::{Call, Named};
use aws_sdk_cloudtrail::Client;
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::json;
use std::sync::Arc;

pub(super) const CLOUDTRAIL: Collector = Collector {
    service: "cloudtrail",
    types: &[TypeDef {
        name: TRAIL,
        page: include_str!("../../../../docs/resources/aws/cloudtrail-trail.md"),
        events: r#"
            source: cloudtrail.amazonaws.com
            events:
              - {name: CreateTrail, action: create, key: [responseElements.trailARN, requestParameters.name]}
              - {name: DeleteTrail, action: delete, key: [requestParameters.name]}
              - {name: UpdateTrail, action: change, key: [requestParameters.name]}
              - {name: StartLogging, action: change, key: [requestParameters.name]}
              - {name: StopLogging, action: change, key: [requestParameters.name]}
              - {name: PutEventSelectors, action: change, key: [requestParameters.trailName]}
              - {name: PutBucketLogging, source: s3.amazonaws.com, action: change, key: [requestParameters.bucketName], indirect: true}
            "#,
        dependents: &[super::region::REGION],
        network: None,
    }],
    reach: Reach::Regional,
    calls: &[
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetEventSelectors",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:ListTags",
        "s3:GetBucketLogging",
    ],
    run: |ctx| cloudtrail(ctx).boxed(),
};

const TRAIL: &str = "AWS::CloudTrail::Trail";

async fn cloudtrail(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let parts: Vec<Part<'_>> = vec![(TRAIL, trails(&ctx, &client).boxed())];
    run_parts(&ctx, parts).await
}

/// A trail's event selectors as its `Selectors` field: the basic
/// selectors in full, and how many advanced ones there are.
pub(super) fn selectors_document(
    s: &aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput,
) -> serde_json::Value {
    json!({
        "EventSelectors": s.event_selectors().iter().map(|e| json!({
            "ReadWriteType": text(e.read_write_type().map(|r| r.as_str())),
            "IncludeManagementEvents": e.include_management_events().unwrap_or(false),
            "DataResources": e.data_resources().iter().map(|d| json!({
                "Type": text(d.r#type()),
                "Values": d.values(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "AdvancedEventSelectors": s.advanced_event_selectors().len(),
    })
}

async fn trails(ctx: &Ctx, cloudtrail: &Client) -> Call<Vec<Asset>> {
    // Trails of this region only: a multi-region trail is recorded once, in
    // its home region.
    let answer = cloudtrail
        .describe_trails()
        .include_shadow_trails(false)
        .send()
        .await
        .named("cloudtrail:DescribeTrails")?;
    let trails: Vec<_> = answer.trail_list().to_vec();
    let details = ctx
        .each(
            trails
                .iter()
                .map(|t| t.trail_arn().or(t.name()).unwrap_or_default().to_owned())
                .collect(),
            move |arn| async move {
                let (status, selectors, tags) = tokio::join!(
                    cloudtrail.get_trail_status().name(&arn).send(),
                    cloudtrail.get_event_selectors().trail_name(&arn).send(),
                    cloudtrail.list_tags().resource_id_list(&arn).send(),
                );
                (
                    status.named("cloudtrail:GetTrailStatus").map(|s| {
                        json!({
                            "IsLogging": s.is_logging().unwrap_or(false),
                            "LatestDeliveryTime": time(s.latest_delivery_time()),
                            "LatestDeliveryError": text(s.latest_delivery_error()),
                        })
                    }),
                    selectors
                        .named("cloudtrail:GetEventSelectors")
                        .map(|s| selectors_document(&s)),
                    tags.named("cloudtrail:ListTags").map(|t| {
                        tag_map(
                            t.resource_tag_list()
                                .iter()
                                .flat_map(|r| r.tags_list())
                                .map(|t| (Some(t.key()), t.value())),
                        )
                    }),
                )
            },
        )
        .await;
    let buckets: Vec<Option<String>> = trails
        .iter()
        .map(|t| t.s3_bucket_name().map(str::to_owned))
        .collect();
    let logging = ctx
        .each(buckets, |bucket| async move {
            match bucket {
                Some(bucket) => Some(bucket_logging(ctx, &bucket).await),
                None => None,
            }
        })
        .await;
    Ok(trails
        .iter()
        .zip(details)
        .zip(logging)
        .map(|((t, (status, selectors, tags)), logging)| {
            let name = t.name().unwrap_or_default();
            let arn = t
                .trail_arn()
                .map_or_else(|| ctx.arn("cloudtrail", &format!("trail/{name}")), str::to_owned);
            let mut asset = ctx.asset(
                TRAIL,
                arn,
                name,
                json!({
                    "Name": name,
                    "S3BucketName": text(t.s3_bucket_name()),
                    "S3KeyPrefix": text(t.s3_key_prefix()),
                    "IsMultiRegionTrail": t.is_multi_region_trail().unwrap_or(false),
                    "IncludeGlobalServiceEvents": t.include_global_service_events().unwrap_or(false),
                    "IsOrganizationTrail": t.is_organization_trail().unwrap_or(false),
                    "HomeRegion": text(t.home_region()),
                    "LogFileValidationEnabled": t.log_file_validation_enabled().unwrap_or(false),
                    "KmsKeyId": text(t.kms_key_id()),
                    "CloudWatchLogsLogGroupArn": text(t.cloud_watch_logs_log_group_arn()),
                    "SnsTopicARN": text(t.sns_topic_arn()),
                }),
            );
            let mut doc = Doc::of(&mut asset);
            doc.set("Status", status, &[]);
            doc.set("Selectors", selectors, &[]);
            doc.tags(tags);
            if let Some(logging) = logging {
                doc.set("S3BucketLogging", logging, &[]);
            }
            if let Some(bucket) = t.s3_bucket_name() {
                relate(&mut asset, "logs_to", format!("arn:aws:s3:::{bucket}"));
            }
            asset
        })
        .collect())
}

/// The server access logging of the bucket a trail delivers to, asked of
/// the bucket's region. A bucket of another account usually refuses, which
/// leaves the field unknown.
async fn bucket_logging(ctx: &Ctx, bucket: &str) -> Call<serde_json::Value> {
    let region = super::s3::bucket_region(ctx, bucket).await?;
    let answer = ctx
        .session
        .s3(&region)
        .get_bucket_logging()
        .bucket(bucket)
        .send()
        .await
        .named("s3:GetBucketLogging")?;
    Ok(super::s3::logging_document(&answer))
}
