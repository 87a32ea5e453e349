//! Cloud Asset Inventory feed messages: each a `TemporalAsset` in JSON
//! (the asset as it is now, with its resource or its IAM policy as the
//! feed's content type says, whether it was deleted, and what it was
//! before), as Pub/Sub delivers them. A message names the asset it
//! changed; the asset it carries is kept so that the refresh describes it
//! from the message rather than asking again (asking the inventory only for
//! what the message lacks).

use crate::types::{self, FOLDED, ORGANIZATION, SUMMARY};
use google_cloud_asset_v1::model::{self, temporal_asset::PriorAssetState};
use parapet_provider::{Action, Decoded, Target};
use serde_json::Value;

/// Why a message is not a feed message.
#[derive(Debug, thiserror::Error)]
#[error("not a Cloud Asset Inventory feed message: {0}")]
pub struct NotAFeedMessage(String);

/// What one feed message says of one asset.
#[derive(Debug, Clone)]
pub struct Fed {
    /// The asset as the message carries it (its resource, or its IAM
    /// policy, as the feed's content type gives).
    pub asset: model::Asset,
    /// Whether the change deleted it.
    pub deleted: bool,
    /// Whether the message gave its IAM policy (an IAM feed's messages
    /// do, a resource feed's do not).
    pub policy_known: bool,
}

impl Fed {
    /// What this message and an earlier one of the same asset say
    /// together: the later's resource and policy, the earlier's where the
    /// later lacks them.
    pub fn after(mut self, earlier: Fed) -> Fed {
        if !self.deleted {
            if self.asset.resource.is_none() {
                self.asset.resource = earlier.asset.resource;
            }
            if !self.policy_known && earlier.policy_known {
                self.asset.iam_policy = earlier.asset.iam_policy;
                self.policy_known = true;
            }
        }
        self
    }
}

/// The targets a feed message names, with the asset it carries (none for
/// a type Parapet does not collect).
pub fn decode(message: &Value) -> Result<(Decoded, Option<Fed>), NotAFeedMessage> {
    let temporal: model::TemporalAsset = serde_json::from_value(message.clone())
        .map_err(|e| NotAFeedMessage(format!("not a TemporalAsset: {e}")))?;
    let asset = temporal
        .asset
        .ok_or_else(|| NotAFeedMessage("no `asset`".to_owned()))?;
    if asset.name.is_empty() || asset.asset_type.is_empty() {
        return Err(NotAFeedMessage(
            "the asset has no `name` or no `assetType`".to_owned(),
        ));
    }
    let action = match (temporal.deleted, &temporal.prior_asset_state) {
        (true, _) => Action::Delete,
        (false, PriorAssetState::DoesNotExist) => Action::Create,
        _ => Action::Change,
    };
    let account = account_of(&asset.ancestors);
    let region = asset
        .resource
        .as_ref()
        .map(|r| r.location.to_lowercase())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "global".to_owned());
    let target = |resource_type: &str, names: bool| Target {
        resource_type: resource_type.to_owned(),
        account: account.clone(),
        region: region.clone(),
        key: asset.name.clone(),
        names_resource: names,
        action,
    };
    let kind = asset.asset_type.as_str();
    let (targets, note) = if types::def(kind).is_some() {
        (vec![target(kind, true)], format!("{kind} {}", asset.name))
    } else if FOLDED.contains(&kind) {
        // A service or a contact is read into its project's or
        // organisation's summary (and a project's API keys).
        let mut targets = vec![target(
            match account.starts_with("organizations/") {
                true => ORGANIZATION,
                false => SUMMARY,
            },
            false,
        )];
        if kind == "serviceusage.googleapis.com/Service" {
            targets.push(target("apikeys.googleapis.com/Key", false));
        }
        (targets, format!("{kind} {}: its summary", asset.name))
    } else {
        (
            Vec::new(),
            format!("{kind} {}: a type not collected", asset.name),
        )
    };
    let fed = (!targets.is_empty()).then(|| Fed {
        policy_known: asset.iam_policy.is_some(),
        asset,
        deleted: temporal.deleted,
    });
    Ok((
        Decoded {
            targets,
            notes: vec![note],
        },
        fed,
    ))
}

/// The account an asset's ancestors name: its project (by number, which
/// the refresh plan turns into its id) or its organisation.
fn account_of(ancestors: &[String]) -> String {
    ancestors
        .iter()
        .find(|a| a.starts_with("projects/"))
        .or_else(|| ancestors.iter().find(|a| a.starts_with("organizations/")))
        .or(ancestors.first())
        .cloned()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bucket_change(deleted: bool, prior: &str) -> Value {
        json!({
            "asset": {
                "name": "//storage.googleapis.com/logs",
                "assetType": "storage.googleapis.com/Bucket",
                "resource": {
                    "version": "v1",
                    "discoveryDocumentUri": "https://www.googleapis.com/discovery/v1/apis/storage/v1/rest",
                    "discoveryName": "Bucket",
                    "parent": "//cloudresourcemanager.googleapis.com/projects/314",
                    "data": {"name": "logs", "iamConfiguration": {"uniformBucketLevelAccess": {"enabled": false}}},
                    "location": "EU"
                },
                "ancestors": ["projects/314", "organizations/538"],
                "updateTime": "2026-12-06T10:00:00Z"
            },
            "window": {"startTime": "2026-12-06T10:00:00Z"},
            "deleted": deleted,
            "priorAssetState": prior
        })
    }

    #[test]
    fn a_feed_message_names_its_asset_and_carries_it() {
        let (decoded, fed) = decode(&bucket_change(false, "PRESENT")).expect("a feed message");
        let target = &decoded.targets[0];
        assert_eq!(target.resource_type, "storage.googleapis.com/Bucket");
        assert_eq!(target.account, "projects/314");
        assert_eq!(target.region, "eu");
        assert_eq!(target.action, Action::Change);
        assert!(target.names_resource);
        let fed = fed.expect("the asset");
        assert!(!fed.deleted);
        assert!(fed.asset.resource.is_some_and(|r| r.data.is_some()));
        let (created, _) = decode(&bucket_change(false, "DOES_NOT_EXIST")).expect("a feed message");
        assert_eq!(created.targets[0].action, Action::Create);
        let (deleted, _) = decode(&bucket_change(true, "PRESENT")).expect("a feed message");
        assert_eq!(deleted.targets[0].action, Action::Delete);
    }

    #[test]
    fn a_service_refreshes_its_projects_summary_and_other_types_nothing() {
        let mut message = bucket_change(false, "PRESENT");
        message["asset"]["assetType"] = json!("serviceusage.googleapis.com/Service");
        let (decoded, _) = decode(&message).expect("a feed message");
        let kinds: Vec<&str> = decoded
            .targets
            .iter()
            .map(|t| t.resource_type.as_str())
            .collect();
        assert_eq!(kinds, [SUMMARY, "apikeys.googleapis.com/Key"]);
        assert!(decoded.targets.iter().all(|t| !t.names_resource));
        message["asset"]["assetType"] = json!("spanner.googleapis.com/Instance");
        let (decoded, fed) = decode(&message).expect("a feed message");
        assert!(decoded.targets.is_empty() && fed.is_none());
        assert!(decoded.notes[0].contains("not collected"));
    }

    #[test]
    fn what_is_not_a_feed_message_says_why() {
        for (message, why) in [
            (json!({"Records": []}), "no `asset`"),
            (json!({"asset": {"name": ""}}), "no `name`"),
            (json!([1, 2]), "not a TemporalAsset"),
        ] {
            let refused = decode(&message).expect_err("refused");
            assert!(refused.to_string().contains(why), "{refused}");
        }
    }
}
