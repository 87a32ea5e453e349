//! Regions (`AWS::Account::Region`): one asset per account and region
//! collected, carrying what watches over the region, so that region-level
//! controls ("a region without a trail") are results like any other.
//!
//! The trails that apply to a region are asked of the region itself
//! (`DescribeTrails` with shadow trails: multi-region trails homed anywhere,
//! and organisation trails), each trail's status and selectors of its home
//! region; so a trail homed in a region outside the collection still counts.
//! GuardDuty detectors, AWS Config recorders, Security Hub hubs, Macie
//! sessions and IAM Access Analyzer analyzers are filled in from the
//! collection's own assets of the region once it is done, and so are the
//! alarms on the covering trails' logs: each metric filter of a trail's log
//! group, the alarms on its metrics and the subscribers of their topics
//! (the CIS monitoring controls).

use super::accessanalyzer::ANALYZER;
use super::cloudtrail::selectors_document;
use super::cloudwatch::ALARM;
use super::logs::LOG_GROUP;
use super::macie::SESSION;
use super::securityhub::HUB;
use super::sns::TOPIC;
use super::{Collector, Doc, Reach, TypeDef, text};
use crate::collect::{Ctx, Out, relate};
use crate::error::{Call, Named};
use futures::FutureExt;
use parapet_core::{Asset, CollectionError};
use serde_json::{Value, json};

pub(super) const REGIONS: Collector = Collector {
    service: "account",
    types: &[TypeDef {
        name: REGION,
        page: include_str!("../../../../docs/resources/aws/account-region.md"),
        events: r#"
            source: cloudtrail.amazonaws.com
            events:
              - {name: CreateTrail, action: change, key: [awsRegion]}
              - {name: DeleteTrail, action: change, key: [awsRegion]}
              - {name: StartLogging, action: change, key: [awsRegion]}
              - {name: StopLogging, action: change, key: [awsRegion]}
              - {name: UpdateTrail, action: change, key: [awsRegion]}
              - {name: PutEventSelectors, action: change, key: [awsRegion]}
            "#,
        dependents: &[],
        network: None,
    }],
    reach: Reach::Regional,
    calls: &[
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetEventSelectors",
        "cloudtrail:GetTrailStatus",
    ],
    run: |ctx| async move { region(&ctx).await }.boxed(),
};

/// The region's resource type.
pub const REGION: &str = "AWS::Account::Region";
const DETECTOR: &str = "AWS::GuardDuty::Detector";
const RECORDER: &str = "AWS::Config::ConfigurationRecorder";

async fn region(ctx: &Ctx) -> Out {
    let name = ctx.region.clone();
    let mut asset = ctx.asset(
        REGION,
        format!("arn:aws:account::{}:region/{name}", ctx.session.account),
        name.clone(),
        json!({"RegionName": name}),
    );
    let trails = trails(ctx).await;
    if let Ok(found) = &trails {
        for trail in found {
            if let Some(arn) = trail["TrailARN"].as_str() {
                relate(&mut asset, "logged_by", arn);
            }
        }
    }
    Doc::of(&mut asset).set("Trails", trails.map(Value::Array), &[]);
    Out {
        assets: vec![asset],
        failures: Vec::new(),
    }
}

/// The trails that apply to the region, each with whether it is logging and
/// what its selectors record. A field its home region would not tell is
/// left out, which makes a rule that reads it unknown.
async fn trails(ctx: &Ctx) -> Call<Vec<Value>> {
    let here = aws_sdk_cloudtrail::Client::new(&ctx.sdk());
    let answer = here
        .describe_trails()
        .include_shadow_trails(true)
        .send()
        .await
        .named("cloudtrail:DescribeTrails")?;
    let trails = answer.trail_list().to_vec();
    Ok(ctx
        .each(trails, |t| async move {
            let arn = t.trail_arn().unwrap_or_default().to_owned();
            let home = t.home_region().unwrap_or(&ctx.api_region).to_owned();
            let client = aws_sdk_cloudtrail::Client::new(&ctx.session.in_region(&home));
            let (status, selectors) = tokio::join!(
                client.get_trail_status().name(&arn).send(),
                client.get_event_selectors().trail_name(&arn).send(),
            );
            let mut trail = json!({
                "TrailARN": arn,
                "Region": home,
                "IsMultiRegionTrail": t.is_multi_region_trail().unwrap_or(false),
                "IsOrganizationTrail": t.is_organization_trail().unwrap_or(false),
                "S3BucketName": text(t.s3_bucket_name()),
                "CloudWatchLogsLogGroupArn": text(t.cloud_watch_logs_log_group_arn()),
            });
            if let Ok(status) = status.named("cloudtrail:GetTrailStatus") {
                trail["IsLogging"] = json!(status.is_logging().unwrap_or(false));
            }
            if let Ok(selectors) = selectors.named("cloudtrail:GetEventSelectors") {
                let selectors = json!({"Selectors": selectors_document(&selectors)});
                trail["LogsManagementEvents"] = logs_management_events(&selectors);
                trail["S3ObjectReadEvents"] = s3_object_events(&selectors, "ReadOnly");
                trail["S3ObjectWriteEvents"] = s3_object_events(&selectors, "WriteOnly");
            }
            trail
        })
        .await)
}

/// Fills in each region asset of one account's `assets` from the
/// account's watchers of that region (GuardDuty detectors, Config
/// recorders, Security Hub hubs, Macie sessions, Access Analyzer analyzers)
/// and the alarms on its covering trails' logs. A type that was not
/// collected, or whose collection failed in the region, leaves its field
/// unknown.
pub fn fill(assets: &mut [Asset], errors: &[CollectionError], collected: &[&str]) {
    let detectors: Vec<(String, Value)> = of_type(
        assets,
        DETECTOR,
        |d| json!({"DetectorId": d.config["DetectorId"], "Status": d.config["Status"]}),
    );
    let recorders: Vec<(String, Value)> = of_type(assets, RECORDER, |r| {
        json!({
            "Name": r.config["Name"],
            "Recording": r.config["Status"]["Recording"],
            "AllSupported": r.config["RecordingGroup"]["AllSupported"],
            "IncludeGlobalResourceTypes": r.config["RecordingGroup"]["IncludeGlobalResourceTypes"],
        })
    });
    let hubs = of_type(
        assets,
        HUB,
        |h| json!({"HubArn": h.config["HubArn"], "SubscribedAt": h.config["SubscribedAt"]}),
    );
    let sessions = of_type(assets, SESSION, |s| json!({"Status": s.config["Status"]}));
    let analyzers = of_type(
        assets,
        ANALYZER,
        |a| json!({"AnalyzerName": a.config["AnalyzerName"], "Type": a.config["Type"], "Status": a.config["Status"]}),
    );
    for asset in assets
        .iter_mut()
        .filter(|a| a.resource_type.as_str() == REGION)
    {
        let region = asset.region.clone();
        for (field, resource_type, found) in [
            ("GuardDutyDetectors", DETECTOR, &detectors),
            ("ConfigurationRecorders", RECORDER, &recorders),
            ("SecurityHubs", HUB, &hubs),
            ("MacieSessions", SESSION, &sessions),
            ("AccessAnalyzers", ANALYZER, &analyzers),
        ] {
            match gap(errors, collected, resource_type, &region) {
                Some(reason) => {
                    asset.unknown.insert(field.to_owned(), reason);
                }
                None => {
                    let here: Vec<Value> = found
                        .iter()
                        .filter(|(r, _)| *r == region)
                        .map(|(_, v)| v.clone())
                        .collect();
                    if let Value::Object(map) = &mut asset.config {
                        map.insert(field.to_owned(), Value::Array(here));
                    }
                }
            }
        }
    }
    let estate = Estate {
        assets,
        errors,
        collected,
    };
    let alarms: Vec<Result<Value, String>> = assets
        .iter()
        .filter(|a| a.resource_type.as_str() == REGION)
        .map(|region| estate.metric_alarms(region))
        .collect();
    for (asset, found) in assets
        .iter_mut()
        .filter(|a| a.resource_type.as_str() == REGION)
        .zip(alarms)
    {
        match found {
            Ok(value) => {
                if let Value::Object(map) = &mut asset.config {
                    map.insert("LogMetricAlarms".to_owned(), value);
                }
            }
            Err(reason) => {
                asset.unknown.insert("LogMetricAlarms".to_owned(), reason);
            }
        }
    }
}

/// One account's collection, read to join a region's trails to the alarms
/// on their logs.
struct Estate<'a> {
    assets: &'a [Asset],
    errors: &'a [CollectionError],
    collected: &'a [&'a str],
}

impl Estate<'_> {
    /// The asset of `resource_type` in `region` that `matches`, or why
    /// that type is not fully known there.
    fn find(
        &self,
        resource_type: &str,
        region: &str,
        matches: impl Fn(&Asset) -> bool,
    ) -> Result<Option<&Asset>, String> {
        if let Some(reason) = gap(self.errors, self.collected, resource_type, region) {
            return Err(reason);
        }
        if !self
            .assets
            .iter()
            .any(|a| a.resource_type.as_str() == REGION && a.region == region)
        {
            return Err(format!("NotCollected: region {region}"));
        }
        Ok(self.assets.iter().find(|a| {
            a.resource_type.as_str() == resource_type && a.region == region && matches(a)
        }))
    }

    /// Every metric filter on the log group of each trail covering
    /// `region` that logs all regions' management events now, with the
    /// alarms (actions enabled) on the metrics it feeds and the confirmed
    /// subscriptions of their topics.
    fn metric_alarms(&self, region: &Asset) -> Result<Value, String> {
        if let Some(reason) = region.unknown.get("Trails") {
            return Err(reason.clone());
        }
        let mut found = Vec::new();
        let trails = region.config["Trails"].as_array().into_iter().flatten();
        let multi_region = trails.filter(|t| t["IsMultiRegionTrail"] == true);
        // A trail whose status or selectors its home region would not tell
        // may be the one that covers the region: the alarms are unknown.
        for (field, call) in [
            ("IsLogging", "cloudtrail:GetTrailStatus"),
            ("LogsManagementEvents", "cloudtrail:GetEventSelectors"),
        ] {
            if let Some(trail) = multi_region.clone().find(|t| t.get(field).is_none()) {
                return Err(format!(
                    "NotCollected: {call} of trail {}",
                    trail["TrailARN"].as_str().unwrap_or("?")
                ));
            }
        }
        for trail in
            multi_region.filter(|t| t["IsLogging"] == true && t["LogsManagementEvents"] == true)
        {
            let Some(group_arn) = trail["CloudWatchLogsLogGroupArn"].as_str() else {
                continue;
            };
            let Some((group_region, group_account, group_name)) = log_group_of(group_arn) else {
                return Err(format!("MalformedResponse: log group ARN {group_arn}"));
            };
            if group_account != region.account {
                return Err(format!(
                    "NotCollected: log group {group_arn} of another account"
                ));
            }
            let Some(group) = self.find(LOG_GROUP, group_region, |g| {
                g.config["LogGroupName"] == group_name
            })?
            else {
                continue;
            };
            if let Some(reason) = group.unknown.get("MetricFilters") {
                return Err(reason.clone());
            }
            for filter in group.config["MetricFilters"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let alarms = self.alarms_on(group_region, &filter["Metrics"])?;
                let subscribers: u64 = alarms
                    .iter()
                    .flat_map(|a| a["Topics"].as_array().into_iter().flatten())
                    .filter_map(|t| t["ConfirmedSubscriptions"].as_u64())
                    .sum();
                found.push(json!({
                    "TrailARN": trail["TrailARN"],
                    "LogGroupName": group_name,
                    "FilterName": filter["FilterName"],
                    "FilterPattern": filter["FilterPattern"],
                    "Alarms": alarms,
                    "Subscribers": subscribers,
                }));
            }
        }
        Ok(Value::Array(found))
    }

    /// The alarms of `region` with actions enabled on any of `metrics`
    /// (`{MetricNamespace, MetricName}`), each with its SNS topics and
    /// their confirmed subscriptions.
    fn alarms_on(&self, region: &str, metrics: &Value) -> Result<Vec<Value>, String> {
        if let Some(reason) = gap(self.errors, self.collected, ALARM, region) {
            return Err(reason);
        }
        let watched = |alarm: &Asset| {
            alarm.config["Metrics"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|m| {
                    metrics.as_array().into_iter().flatten().any(|f| {
                        m["Namespace"] == f["MetricNamespace"] && m["MetricName"] == f["MetricName"]
                    })
                })
        };
        let mut found = Vec::new();
        for alarm in self.assets.iter().filter(|a| {
            a.resource_type.as_str() == ALARM
                && a.region == region
                && a.config["ActionsEnabled"] == true
                && watched(a)
        }) {
            let mut topics = Vec::new();
            for action in alarm.config["AlarmActions"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let Some(arn) = action.as_str().filter(|a| a.starts_with("arn:aws:sns:")) else {
                    continue;
                };
                let topic_region = arn.split(':').nth(3).unwrap_or_default();
                let topic = self.find(TOPIC, topic_region, |t| t.id == arn)?;
                let confirmed = match topic {
                    Some(t) => {
                        if let Some(reason) = t.unknown.get("Subscriptions") {
                            return Err(reason.clone());
                        }
                        t.config["Subscriptions"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter(|s| {
                                s["SubscriptionArn"]
                                    .as_str()
                                    .is_some_and(|a| a.starts_with("arn:"))
                            })
                            .count()
                    }
                    None => 0,
                };
                topics.push(json!({"TopicArn": arn, "ConfirmedSubscriptions": confirmed}));
            }
            found.push(json!({"AlarmName": alarm.config["AlarmName"], "Topics": topics}));
        }
        Ok(found)
    }
}

/// A log group ARN's region, account and name
/// (`arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]`).
fn log_group_of(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(7, ':');
    let (_, _, service, region, account, kind) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let name = parts.next()?;
    let name = name.strip_suffix(":*").unwrap_or(name);
    (service == "logs" && kind == "log-group").then_some((region, account, name))
}

/// The assets of one type, each as its region and a summary.
fn of_type(
    assets: &[Asset],
    resource_type: &str,
    summary: fn(&Asset) -> Value,
) -> Vec<(String, Value)> {
    assets
        .iter()
        .filter(|a| a.resource_type.as_str() == resource_type)
        .map(|a| (a.region.clone(), summary(a)))
        .collect()
}

/// Why `resource_type` is not fully known in `region`: not collected, or
/// its collection failed there.
fn gap(
    errors: &[CollectionError],
    collected: &[&str],
    resource_type: &str,
    region: &str,
) -> Option<String> {
    if !collected.contains(&resource_type) {
        return Some(format!("NotCollected: {resource_type}"));
    }
    errors
        .iter()
        .find(|e| {
            e.resource_type
                .as_deref()
                .is_none_or(|t| t == resource_type)
                && e.region.as_deref().is_none_or(|r| r == region)
        })
        .map(|e| e.message.clone())
}

/// Whether a trail's selectors record read and write management events
/// (basic selectors; a trail with advanced selectors is taken as logging
/// them, as the console shows it).
fn logs_management_events(config: &Value) -> Value {
    let selectors = &config["Selectors"];
    if selectors.is_null() {
        return Value::Null;
    }
    let basic = selectors["EventSelectors"].as_array().is_some_and(|list| {
        list.iter()
            .any(|s| s["IncludeManagementEvents"] == true && s["ReadWriteType"] == "All")
    });
    let advanced = selectors["AdvancedEventSelectors"].as_u64().unwrap_or(0) > 0;
    Value::Bool(basic || advanced)
}

/// Whether a trail's basic selectors record S3 object-level events of one
/// kind (`ReadOnly` or `WriteOnly`; a selector of `All` records both) for
/// every bucket (`arn:aws:s3` or `arn:aws:s3:::`). `null` when the trail
/// uses advanced selectors, which Parapet does not read.
fn s3_object_events(config: &Value, kind: &str) -> Value {
    let selectors = &config["Selectors"];
    if selectors.is_null() || selectors["AdvancedEventSelectors"].as_u64().unwrap_or(0) > 0 {
        return Value::Null;
    }
    let every_bucket = |d: &Value| {
        d["Type"] == "AWS::S3::Object"
            && d["Values"].as_array().is_some_and(|values| {
                values
                    .iter()
                    .any(|v| v == "arn:aws:s3" || v == "arn:aws:s3:::")
            })
    };
    Value::Bool(selectors["EventSelectors"].as_array().is_some_and(|list| {
        list.iter().any(|s| {
            (s["ReadWriteType"] == "All" || s["ReadWriteType"] == kind)
                && s["DataResources"]
                    .as_array()
                    .is_some_and(|d| d.iter().any(every_bucket))
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(resource_type: &str, region: &str, id: &str, config: Value) -> Asset {
        serde_json::from_value(json!({
            "id": id, "provider": "aws", "account": "123456789012", "region": region,
            "resource_type": resource_type, "config": config,
            "observed_at": "2026-11-29T00:00:00Z"
        }))
        .expect("an asset")
    }

    fn regions() -> Vec<Asset> {
        ["eu-west-1", "us-east-1"]
            .iter()
            .map(|r| asset(REGION, r, &format!("region/{r}"), json!({"RegionName": r})))
            .collect()
    }

    const ALL: &[&str] = &[
        REGION, DETECTOR, RECORDER, HUB, SESSION, ANALYZER, LOG_GROUP, ALARM, TOPIC,
    ];

    const GROUP_ARN: &str = "arn:aws:logs:us-east-1:123456789012:log-group:trail:*";
    const TOPIC_ARN: &str = "arn:aws:sns:us-east-1:123456789012:security";

    /// Both regions covered by a multi-region trail homed in us-east-1
    /// whose log group has one metric filter on root use, an alarm on its
    /// metric and one with actions disabled, both notifying a topic with
    /// one confirmed and one pending subscription.
    fn monitored() -> Vec<Asset> {
        let mut assets = regions();
        for region in &mut assets {
            region.config["Trails"] = json!([{
                "TrailARN": "arn:aws:cloudtrail:us-east-1:123456789012:trail/main",
                "IsMultiRegionTrail": true, "IsLogging": true, "LogsManagementEvents": true,
                "CloudWatchLogsLogGroupArn": GROUP_ARN,
            }]);
        }
        assets.push(asset(
            LOG_GROUP,
            "us-east-1",
            GROUP_ARN,
            json!({
                "LogGroupName": "trail",
                "MetricFilters": [{
                    "FilterName": "root", "FilterPattern": "{ $.userIdentity.type = \"Root\" }",
                    "Metrics": [{"MetricNamespace": "CIS", "MetricName": "RootUse"}],
                }],
            }),
        ));
        for (name, enabled) in [("root-use", true), ("muted", false)] {
            assets.push(asset(
                ALARM,
                "us-east-1",
                &format!("alarm/{name}"),
                json!({
                    "AlarmName": name, "ActionsEnabled": enabled, "AlarmActions": [TOPIC_ARN],
                    "Metrics": [{"Namespace": "CIS", "MetricName": "RootUse"}],
                }),
            ));
        }
        assets.push(asset(
            TOPIC,
            "us-east-1",
            TOPIC_ARN,
            json!({"Subscriptions": [
                {"Protocol": "email", "SubscriptionArn": "PendingConfirmation"},
                {"Protocol": "sqs", "SubscriptionArn": format!("{TOPIC_ARN}:1")},
            ]}),
        ));
        assets
    }

    #[test]
    fn a_trails_metric_filters_are_joined_to_their_alarms_and_subscribers_in_every_region() {
        let mut assets = monitored();
        fill(&mut assets, &[], ALL);
        for region in &assets[..2] {
            assert!(region.unknown.is_empty(), "{:?}", region.unknown);
            assert_eq!(
                region.config["LogMetricAlarms"],
                json!([{
                    "TrailARN": "arn:aws:cloudtrail:us-east-1:123456789012:trail/main",
                    "LogGroupName": "trail",
                    "FilterName": "root",
                    "FilterPattern": "{ $.userIdentity.type = \"Root\" }",
                    "Alarms": [{"AlarmName": "root-use", "Topics": [{"TopicArn": TOPIC_ARN, "ConfirmedSubscriptions": 1}]}],
                    "Subscribers": 1,
                }])
            );
        }
    }

    #[test]
    fn a_trail_that_does_not_log_every_region_brings_no_filters() {
        let mut assets = monitored();
        assets[0].config["Trails"][0]["IsMultiRegionTrail"] = json!(false);
        assets[1].config["Trails"][0]["IsLogging"] = json!(false);
        fill(&mut assets, &[], ALL);
        assert_eq!(assets[0].config["LogMetricAlarms"], json!([]));
        assert_eq!(assets[1].config["LogMetricAlarms"], json!([]));
    }

    #[test]
    fn alarms_are_unknown_when_a_link_of_the_chain_is_not_known() {
        // The topic's subscriptions could not be listed.
        let mut assets = monitored();
        let topic = assets
            .iter_mut()
            .find(|a| a.id == TOPIC_ARN)
            .expect("topic");
        topic.unknown.insert(
            "Subscriptions".into(),
            "AccessDenied: sns:ListSubscriptionsByTopic".into(),
        );
        fill(&mut assets, &[], ALL);
        assert_eq!(
            assets[0].unknown["LogMetricAlarms"],
            "AccessDenied: sns:ListSubscriptionsByTopic"
        );
        assert!(assets[0].config.get("LogMetricAlarms").is_none());
        // The alarms were not collected.
        let mut assets = monitored();
        fill(&mut assets, &[], &[REGION, LOG_GROUP, TOPIC]);
        assert_eq!(
            assets[1].unknown["LogMetricAlarms"],
            format!("NotCollected: {ALARM}")
        );
        // The log group's region was not collected.
        let mut assets = monitored();
        assets.remove(1);
        fill(&mut assets, &[], ALL);
        assert_eq!(
            assets[0].unknown["LogMetricAlarms"],
            "NotCollected: region us-east-1"
        );
        // A trail's status could not be read in its home region.
        let mut assets = monitored();
        let trail = &mut assets[0].config["Trails"][0];
        let arn = trail["TrailARN"].as_str().expect("an ARN").to_owned();
        trail.as_object_mut().expect("a trail").remove("IsLogging");
        fill(&mut assets, &[], ALL);
        assert_eq!(
            assets[0].unknown["LogMetricAlarms"],
            format!("NotCollected: cloudtrail:GetTrailStatus of trail {arn}")
        );
        // The trails could not be read.
        let mut assets = monitored();
        assets[0].unknown.insert(
            "Trails".into(),
            "AccessDenied: cloudtrail:DescribeTrails".into(),
        );
        fill(&mut assets, &[], ALL);
        assert_eq!(
            assets[0].unknown["LogMetricAlarms"],
            "AccessDenied: cloudtrail:DescribeTrails"
        );
    }

    #[test]
    fn log_group_arns_are_read_with_or_without_their_suffix() {
        assert_eq!(
            log_group_of(GROUP_ARN),
            Some(("us-east-1", "123456789012", "trail"))
        );
        assert_eq!(
            log_group_of("arn:aws:logs:eu-west-1:1:log-group:/aws/a:b"),
            Some(("eu-west-1", "1", "/aws/a:b"))
        );
        assert_eq!(log_group_of("arn:aws:s3:::bucket"), None);
    }

    #[test]
    fn s3_object_events_count_only_selectors_for_every_bucket() {
        let selectors = |kind: &str, values: Value| {
            json!({"Selectors": {"AdvancedEventSelectors": 0, "EventSelectors": [{
                "ReadWriteType": kind, "IncludeManagementEvents": true,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": values}],
            }]}})
        };
        let write = selectors("WriteOnly", json!(["arn:aws:s3"]));
        assert_eq!(s3_object_events(&write, "WriteOnly"), true);
        assert_eq!(s3_object_events(&write, "ReadOnly"), false);
        let all = selectors("All", json!(["arn:aws:s3:::"]));
        assert_eq!(s3_object_events(&all, "ReadOnly"), true);
        let one_bucket = selectors("All", json!(["arn:aws:s3:::logs/"]));
        assert_eq!(s3_object_events(&one_bucket, "WriteOnly"), false);
        let advanced = json!({"Selectors": {"AdvancedEventSelectors": 1, "EventSelectors": []}});
        assert_eq!(s3_object_events(&advanced, "WriteOnly"), Value::Null);
    }

    #[test]
    fn detectors_and_recorders_count_in_their_own_region_only() {
        let mut assets = regions();
        assets.push(asset(
            DETECTOR,
            "us-east-1",
            "detector/1",
            json!({"DetectorId": "1", "Status": "ENABLED"}),
        ));
        fill(&mut assets, &[], ALL);
        assert_eq!(assets[0].config["GuardDutyDetectors"], json!([]));
        assert_eq!(
            assets[1].config["GuardDutyDetectors"][0]["Status"],
            "ENABLED"
        );
        assert_eq!(assets[1].config["ConfigurationRecorders"], json!([]));
    }

    #[test]
    fn a_failed_or_missing_watcher_collection_leaves_the_field_unknown() {
        let error = CollectionError {
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
            resource_type: Some(DETECTOR.into()),
            message: "AccessDenied: guardduty:ListDetectors".into(),
        };
        let mut assets = regions();
        fill(
            &mut assets,
            std::slice::from_ref(&error),
            &[REGION, DETECTOR],
        );
        assert!(!assets[0].unknown.contains_key("GuardDutyDetectors"));
        assert_eq!(assets[0].config["GuardDutyDetectors"], json!([]));
        assert_eq!(
            assets[1].unknown["GuardDutyDetectors"],
            "AccessDenied: guardduty:ListDetectors"
        );
        assert!(assets[1].config.get("GuardDutyDetectors").is_none());
        for region in &assets {
            assert_eq!(
                region.unknown["ConfigurationRecorders"],
                format!("NotCollected: {RECORDER}")
            );
        }
    }
}
