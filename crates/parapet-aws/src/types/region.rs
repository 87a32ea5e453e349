//! Regions (`AWS::Account::Region`): one asset per account and region
//! collected, carrying what watches over the region, so that region-level
//! controls ("a region without a trail") are results like any other.
//!
//! The trails that apply to a region are asked of the region itself
//! (`DescribeTrails` with shadow trails: multi-region trails homed anywhere,
//! and organisation trails), each trail's status and selectors of its home
//! region; so a trail homed in a region outside the collection still counts.
//! GuardDuty detectors and AWS Config recorders are filled in from the
//! collection's own assets of the region once it is done.

use super::cloudtrail::selectors_document;
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
/// account's detectors and recorders of that region. A type that was not
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
    for asset in assets
        .iter_mut()
        .filter(|a| a.resource_type.as_str() == REGION)
    {
        let region = asset.region.clone();
        for (field, resource_type, found) in [
            ("GuardDutyDetectors", DETECTOR, &detectors),
            ("ConfigurationRecorders", RECORDER, &recorders),
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

    const ALL: &[&str] = &[REGION, DETECTOR, RECORDER];

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
