//! Regions (`AWS::Account::Region`): one asset per account and region
//! collected, carrying what watches over the region (the trails that log it,
//! GuardDuty detectors, AWS Config recorders). They are filled in from the
//! other assets of the collection once it is done, so that region-level
//! controls ("a region without a trail") are results like any other.

use super::{Collector, Reach};
use crate::collect::{Ctx, Out, relate};
use futures::FutureExt;
use parapet_core::{Asset, CollectionError};
use serde_json::{Value, json};

pub(super) const REGIONS: Collector = Collector {
    service: "account",
    types: &[REGION],
    reach: Reach::Regional,
    run: |ctx| async move { region(&ctx) }.boxed(),
};

/// The region's resource type.
pub const REGION: &str = "AWS::Account::Region";
const TRAIL: &str = "AWS::CloudTrail::Trail";
const DETECTOR: &str = "AWS::GuardDuty::Detector";
const RECORDER: &str = "AWS::Config::ConfigurationRecorder";

fn region(ctx: &Ctx) -> Out {
    let name = ctx.region.clone();
    let asset = ctx.asset(
        REGION,
        format!("arn:aws:account::{}:region/{name}", ctx.session.account),
        name.clone(),
        json!({"RegionName": name}),
    );
    Out {
        assets: vec![asset],
        failures: Vec::new(),
    }
}

/// Fills in each region asset of one account's `assets` from its trails,
/// detectors and recorders. A watcher type that was not collected, or whose
/// collection failed where it matters, leaves its field unknown unless what
/// was found already settles it (a logging trail covers the region).
pub fn fill(assets: &mut [Asset], errors: &[CollectionError], collected: &[&str]) {
    let trails: Vec<Value> = assets
        .iter()
        .filter(|a| a.resource_type.as_str() == TRAIL)
        .map(|t| {
            json!({
                "TrailARN": t.id,
                "Region": t.region,
                "IsMultiRegionTrail": t.config["IsMultiRegionTrail"],
                "IsLogging": t.config["Status"]["IsLogging"],
                "LogsManagementEvents": logs_management_events(&t.config),
                "S3ObjectReadEvents": s3_object_events(&t.config, "ReadOnly"),
                "S3ObjectWriteEvents": s3_object_events(&t.config, "WriteOnly"),
            })
        })
        .collect();
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
        let covering: Vec<Value> = trails
            .iter()
            .filter(|t| t["IsMultiRegionTrail"] == true || t["Region"] == region.as_str())
            .cloned()
            .collect();
        let settled = covering.iter().any(|t| t["IsLogging"] == true);
        // A multi-region trail lives in its home region: a failure anywhere
        // may hide the trail that covers this one.
        let trail_gap = gap(errors, collected, TRAIL, None);
        let in_region = |found: &[(String, Value)]| -> Vec<Value> {
            found
                .iter()
                .filter(|(r, _)| *r == region)
                .map(|(_, v)| v.clone())
                .collect()
        };
        let watchers = [
            ("Trails", covering, trail_gap.filter(|_| !settled)),
            (
                "GuardDutyDetectors",
                in_region(&detectors),
                gap(errors, collected, DETECTOR, Some(&region)),
            ),
            (
                "ConfigurationRecorders",
                in_region(&recorders),
                gap(errors, collected, RECORDER, Some(&region)),
            ),
        ];
        for (field, found, gap) in watchers {
            match gap {
                Some(reason) => {
                    asset.unknown.insert(field.to_owned(), reason);
                }
                None => {
                    for watcher in &found {
                        let target = watcher["TrailARN"].as_str().map(str::to_owned);
                        if let Some(target) = target {
                            relate(asset, "logged_by", target);
                        }
                    }
                    if let Value::Object(map) = &mut asset.config {
                        map.insert(field.to_owned(), Value::Array(found));
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

/// Why `resource_type` is not fully known (in `region`, or anywhere when
/// `None`): not collected, or its collection failed.
fn gap(
    errors: &[CollectionError],
    collected: &[&str],
    resource_type: &str,
    region: Option<&str>,
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
                && region.is_none_or(|r| e.region.as_deref().is_none_or(|x| x == r))
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

    const ALL: &[&str] = &[REGION, TRAIL, DETECTOR, RECORDER];

    fn trail(region: &str, multi: bool, logging: bool) -> Asset {
        asset(
            TRAIL,
            region,
            &format!("trail/{region}"),
            json!({
                "IsMultiRegionTrail": multi,
                "Status": {"IsLogging": logging},
                "Selectors": {"EventSelectors": [{"IncludeManagementEvents": true, "ReadWriteType": "All"}], "AdvancedEventSelectors": 0},
            }),
        )
    }

    #[test]
    fn a_multi_region_trail_covers_every_region_and_a_regional_one_its_own() {
        let mut assets = regions();
        assets.push(trail("eu-west-1", false, true));
        fill(&mut assets, &[], ALL);
        assert_eq!(assets[0].config["Trails"][0]["TrailARN"], "trail/eu-west-1");
        assert_eq!(assets[0].config["Trails"][0]["LogsManagementEvents"], true);
        assert_eq!(assets[0].config["Trails"][0]["S3ObjectWriteEvents"], false);
        assert_eq!(assets[1].config["Trails"], json!([]));

        let mut assets = regions();
        assets.push(trail("eu-west-1", true, true));
        fill(&mut assets, &[], ALL);
        assert_eq!(assets[1].config["Trails"][0]["TrailARN"], "trail/eu-west-1");
        assert_eq!(assets[1].relationships[0].kind, "logged_by");
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
            &[REGION, DETECTOR, RECORDER],
        );
        assert!(!assets[0].unknown.contains_key("GuardDutyDetectors"));
        assert_eq!(
            assets[1].unknown["GuardDutyDetectors"],
            "AccessDenied: guardduty:ListDetectors"
        );
        assert_eq!(
            assets[1].unknown["Trails"],
            format!("NotCollected: {TRAIL}")
        );
        assert!(assets[1].config.get("Trails").is_none());

        // A trail error elsewhere does not matter once a logging trail covers the region.
        let mut assets = regions();
        assets.push(trail("us-east-1", true, true));
        let error = CollectionError {
            region: Some("eu-west-1".into()),
            resource_type: Some(TRAIL.into()),
            ..error
        };
        fill(&mut assets, &[error], ALL);
        assert!(assets[1].unknown.is_empty());
        assert!(assets[0].unknown.is_empty(), "{:?}", assets[0].unknown);
    }
}
