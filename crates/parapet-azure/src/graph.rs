//! Azure Resource Graph: one query counts the tracked resources of every
//! subscription in scope by type (a census), so that a collection lists
//! only the types each subscription holds. For a tenant of many
//! subscriptions, a few queries stand in for a list per type and
//! subscription. Resource Graph follows Resource Manager within seconds to
//! minutes: a collection uses the census, a refresh of what events named
//! never does.

use crate::arm::{Arm, malformed};
use crate::error::ArmError;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The API version of Microsoft.ResourceGraph.
const API: &str = "2022-10-01";

/// Where queries go (the Resources operation).
const PATH: &str = "/providers/Microsoft.ResourceGraph/resources";

/// The census: how many tracked resources of each type each subscription
/// holds.
const CENSUS: &str = "resources | summarize count() by subscriptionId, type";

/// The most subscriptions one query takes.
const BATCH: usize = 1000;

/// The types (lowercase) of which each of `subscriptions` (by its id,
/// lowercase) holds some tracked resource.
pub async fn census(
    arm: &Arm,
    subscriptions: &[String],
) -> Result<BTreeMap<String, BTreeSet<String>>, ArmError> {
    let mut found: BTreeMap<String, BTreeSet<String>> = subscriptions
        .iter()
        .map(|s| (s.to_lowercase(), BTreeSet::new()))
        .collect();
    for batch in subscriptions.chunks(BATCH) {
        let mut skip: Option<String> = None;
        loop {
            let mut options = json!({"resultFormat": "objectArray", "$top": 1000});
            if let Some(token) = &skip {
                options["$skipToken"] = json!(token);
            }
            let body = json!({"subscriptions": batch, "query": CENSUS, "options": options});
            let answer = arm.query(PATH, API, &body).await?;
            let Some(rows) = answer.get("data").and_then(Value::as_array) else {
                return Err(malformed(PATH, "the query's answer has no `data` array"));
            };
            for row in rows {
                let text = |field: &str| row.get(field).and_then(Value::as_str);
                if let (Some(subscription), Some(kind)) = (text("subscriptionId"), text("type")) {
                    found
                        .entry(subscription.to_lowercase())
                        .or_default()
                        .insert(kind.to_lowercase());
                }
            }
            match answer.get("$skipToken").and_then(Value::as_str) {
                Some(token) if !token.is_empty() => skip = Some(token.to_owned()),
                _ => break,
            }
        }
    }
    Ok(found)
}
