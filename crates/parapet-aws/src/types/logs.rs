//! CloudWatch Logs log groups: retention, encryption, metric filters and
//! tags.

use super::{Collector, Doc, Grouped, Part, Reach, TypeDef, grouped, run_parts, tag_hash, text};
use crate::collect::{Ctx, Out};
use crate::error::{Call, Named};
use aws_sdk_cloudwatchlogs::Client;
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) const LOGS: Collector = Collector {
    service: "logs",
    types: &[TypeDef {
        name: LOG_GROUP,
        page: include_str!("../../../../docs/resources/aws/logs-log-group.md"),
        events: r#"
            source: logs.amazonaws.com
            events:
              - {name: CreateLogGroup, action: create, key: [requestParameters.logGroupName]}
              - {name: DeleteLogGroup, action: delete, key: [requestParameters.logGroupName]}
              - {name: PutRetentionPolicy, action: change, key: [requestParameters.logGroupName]}
              - {name: DeleteRetentionPolicy, action: change, key: [requestParameters.logGroupName]}
              - {name: AssociateKmsKey, action: change, key: [requestParameters.logGroupName]}
              - {name: DisassociateKmsKey, action: change, key: [requestParameters.logGroupName]}
              - {name: PutMetricFilter, action: change, key: [requestParameters.logGroupName]}
              - {name: DeleteMetricFilter, action: change, key: [requestParameters.logGroupName]}
            "#,
        dependents: &[super::region::REGION],
        network: None,
    }],
    reach: Reach::Regional,
    calls: &[
        "logs:DescribeLogGroups",
        "logs:DescribeMetricFilters",
        "logs:ListTagsForResource",
    ],
    run: |ctx| logs(ctx).boxed(),
};

pub(super) const LOG_GROUP: &str = "AWS::Logs::LogGroup";

async fn logs(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let parts: Vec<Part<'_>> = vec![(LOG_GROUP, log_groups(&ctx, &client).boxed())];
    run_parts(&ctx, parts).await
}

/// Milliseconds since the epoch as RFC 3339.
fn millis(ms: Option<i64>) -> Value {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map_or(Value::Null, |t| {
            json!(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        })
}

async fn log_groups(ctx: &Ctx, logs: &Client) -> Call<Vec<Asset>> {
    let mut groups = all_pages!(
        logs.describe_log_groups(),
        "logs:DescribeLogGroups",
        log_groups
    )?;
    ctx.keep(LOG_GROUP, &mut groups, |g| {
        g.log_group_name()
            .into_iter()
            .chain(g.log_group_arn())
            .collect()
    });
    let arns: Vec<String> = groups
        .iter()
        .map(|g| {
            g.log_group_arn().map_or_else(
                || {
                    ctx.arn(
                        "logs",
                        &format!("log-group:{}", g.log_group_name().unwrap_or_default()),
                    )
                },
                str::to_owned,
            )
        })
        .collect();
    let filters = metric_filters(logs).await;
    let tags = ctx
        .each(arns.clone(), move |arn| async move {
            logs.list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .named("logs:ListTagsForResource")
                .map(|t| tag_hash(t.tags()))
        })
        .await;
    Ok(groups
        .iter()
        .zip(arns)
        .zip(tags)
        .map(|((g, arn), tags)| {
            let name = g.log_group_name().unwrap_or_default();
            let mut asset = ctx.asset(
                LOG_GROUP,
                arn,
                name,
                json!({
                    "LogGroupName": name,
                    "RetentionInDays": g.retention_in_days(),
                    "KmsKeyId": text(g.kms_key_id()),
                    "CreationTime": millis(g.creation_time()),
                    "StoredBytes": g.stored_bytes(),
                    "MetricFilterCount": g.metric_filter_count(),
                }),
            );
            let mut doc = Doc::of(&mut asset);
            doc.tags(tags);
            doc.set_group("MetricFilters", &filters, name);
            asset
        })
        .collect())
}

/// The region's metric filters by log group, each as its name, pattern
/// and the metrics it feeds: one listing for every group.
async fn metric_filters(logs: &Client) -> Call<Grouped> {
    let all = all_pages!(
        logs.describe_metric_filters(),
        "logs:DescribeMetricFilters",
        metric_filters
    )?;
    Ok(grouped(
        &all,
        |f| f.log_group_name(),
        |f| {
            json!({
                "FilterName": text(f.filter_name()),
                "FilterPattern": f.filter_pattern().unwrap_or_default(),
                "Metrics": f.metric_transformations().iter().map(|m| json!({
                    "MetricNamespace": m.metric_namespace(),
                    "MetricName": m.metric_name(),
                })).collect::<Vec<_>>(),
            })
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creation_times_are_read_as_timestamps() {
        assert_eq!(
            millis(Some(1_700_000_000_000)),
            json!("2023-11-14T22:13:20Z")
        );
        assert_eq!(millis(None), Value::Null);
    }
}
