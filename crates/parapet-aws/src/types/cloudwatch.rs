//! CloudWatch metric alarms: the metric each watches and the actions it
//! takes, which the region summary joins to the trail's metric filters.

use super::{Collector, Doc, Part, Reach, TypeDef, run_parts, strings, tag_map, text, time};
use crate::collect::{Ctx, Out, relate};
use crate::error::{Call, Named};
use aws_sdk_cloudwatch::Client;
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::json;
use std::sync::Arc;

pub(super) const CLOUDWATCH: Collector = Collector {
    service: "cloudwatch",
    types: &[TypeDef {
        name: ALARM,
        page: include_str!("../../../../docs/resources/aws/cloudwatch-alarm.md"),
        events: r#"
            source: monitoring.amazonaws.com
            events:
              - {name: PutMetricAlarm, action: create, key: [requestParameters.alarmName]}
              - {name: DeleteAlarms, action: delete, key: ["requestParameters.alarmNames[*]"]}
              - {name: EnableAlarmActions, action: change, key: ["requestParameters.alarmNames[*]"]}
              - {name: DisableAlarmActions, action: change, key: ["requestParameters.alarmNames[*]"]}
            "#,
        dependents: &[super::region::REGION],
        network: None,
    }],
    reach: Reach::Regional,
    calls: &[
        "cloudwatch:DescribeAlarms",
        "cloudwatch:ListTagsForResource",
    ],
    run: |ctx| cloudwatch(ctx).boxed(),
};

pub(super) const ALARM: &str = "AWS::CloudWatch::Alarm";

async fn cloudwatch(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let parts: Vec<Part<'_>> = vec![(ALARM, alarms(&ctx, &client).boxed())];
    run_parts(&ctx, parts).await
}

async fn alarms(ctx: &Ctx, cloudwatch: &Client) -> Call<Vec<Asset>> {
    let mut alarms = all_pages!(
        cloudwatch.describe_alarms(),
        "cloudwatch:DescribeAlarms",
        metric_alarms
    )?;
    ctx.keep(ALARM, &mut alarms, |a| {
        a.alarm_name().into_iter().chain(a.alarm_arn()).collect()
    });
    let arns: Vec<String> = alarms
        .iter()
        .map(|a| {
            a.alarm_arn().map_or_else(
                || {
                    ctx.arn(
                        "cloudwatch",
                        &format!("alarm:{}", a.alarm_name().unwrap_or_default()),
                    )
                },
                str::to_owned,
            )
        })
        .collect();
    let tags = ctx
        .each(arns.clone(), move |arn| async move {
            cloudwatch
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .named("cloudwatch:ListTagsForResource")
                .map(|t| tag_map(t.tags().iter().map(|t| (t.key(), t.value()))))
        })
        .await;
    Ok(alarms
        .iter()
        .zip(arns)
        .zip(tags)
        .map(|((a, arn), tags)| {
            let name = a.alarm_name().unwrap_or_default();
            // A metric math alarm watches the metrics of its queries.
            let mut metrics: Vec<serde_json::Value> = a
                .metric_name()
                .map(|m| json!({"Namespace": text(a.namespace()), "MetricName": m}))
                .into_iter()
                .collect();
            metrics.extend(
                a.metrics()
                    .iter()
                    .filter_map(|q| q.metric_stat()?.metric())
                    .map(|m| json!({"Namespace": text(m.namespace()), "MetricName": text(m.metric_name())})),
            );
            let mut asset = ctx.asset(
                ALARM,
                arn,
                name,
                json!({
                    "AlarmName": name,
                    "Metrics": metrics,
                    "ActionsEnabled": a.actions_enabled().unwrap_or(false),
                    "AlarmActions": strings(a.alarm_actions().iter().map(String::as_str)),
                    "StateValue": text(a.state_value().map(|s| s.as_str())),
                    "StateUpdatedTimestamp": time(a.state_updated_timestamp()),
                }),
            );
            for action in a.alarm_actions() {
                if action.starts_with("arn:aws:sns:") {
                    relate(&mut asset, "notifies", action.as_str());
                }
            }
            Doc::of(&mut asset).tags(tags);
            asset
        })
        .collect())
}
