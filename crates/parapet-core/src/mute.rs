//! Mutes: accepted risks and exceptions. A muted finding is still evaluated
//! and kept; it is hidden from default listings until the mute is lifted or
//! expires.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use wildmatch::WildMatch;

/// Which findings a mute covers. Every criterion given must match; at least
/// one must be given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MuteSelector {
    /// The rule id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    /// The asset id, or a pattern with `*` and `?` wildcards
    /// (`arn:aws:s3:::public-*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    /// The account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// A tag the asset carries: key and value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<(String, String)>,
}

/// The facts a selector is matched against.
#[derive(Debug, Clone, Copy)]
pub struct MuteTarget<'a> {
    /// The rule id.
    pub rule_id: &'a str,
    /// The asset id.
    pub asset_id: &'a str,
    /// The asset's account.
    pub account: &'a str,
    /// The asset's region.
    pub region: &'a str,
    /// The asset's tags.
    pub tags: &'a BTreeMap<String, String>,
}

impl MuteSelector {
    /// Whether no criterion is given (such a selector is refused).
    pub fn is_empty(&self) -> bool {
        self.rule_id.is_none()
            && self.asset.is_none()
            && self.account.is_none()
            && self.region.is_none()
            && self.tag.is_none()
    }

    /// Whether the selector covers the finding of `target`.
    pub fn matches(&self, target: &MuteTarget<'_>) -> bool {
        !self.is_empty()
            && self.rule_id.as_deref().is_none_or(|r| r == target.rule_id)
            && self
                .asset
                .as_deref()
                .is_none_or(|pattern| WildMatch::new(pattern).matches(target.asset_id))
            && self.account.as_deref().is_none_or(|a| a == target.account)
            && self.region.as_deref().is_none_or(|r| r == target.region)
            && self
                .tag
                .as_ref()
                .is_none_or(|(k, v)| target.tags.get(k) == Some(v))
    }
}

/// A mute as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mute {
    /// Its number.
    pub id: i64,
    /// What it covers.
    pub selector: MuteSelector,
    /// Why the risk is accepted.
    pub reason: String,
    /// Who muted.
    pub author: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it ends by itself, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was lifted or expired, if it was.
    pub lifted_at: Option<DateTime<Utc>>,
}

impl Mute {
    /// Whether the mute is in force at `now`.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.lifted_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target<'a>(tags: &'a BTreeMap<String, String>) -> MuteTarget<'a> {
        MuteTarget {
            rule_id: "aws-s3-bucket-versioning-enabled",
            asset_id: "arn:aws:s3:::public-site",
            account: "123456789012",
            region: "eu-west-1",
            tags,
        }
    }

    #[test]
    fn every_given_criterion_must_match() {
        let tags = BTreeMap::from([("env".to_owned(), "dev".to_owned())]);
        let t = target(&tags);
        let by_rule = MuteSelector {
            rule_id: Some("aws-s3-bucket-versioning-enabled".into()),
            ..Default::default()
        };
        assert!(by_rule.matches(&t));
        let pattern = MuteSelector {
            asset: Some("arn:aws:s3:::public-*".into()),
            account: Some("123456789012".into()),
            ..Default::default()
        };
        assert!(pattern.matches(&t));
        let wrong_region = MuteSelector {
            region: Some("us-east-1".into()),
            ..by_rule.clone()
        };
        assert!(!wrong_region.matches(&t));
        let tag = MuteSelector {
            tag: Some(("env".into(), "dev".into())),
            ..Default::default()
        };
        assert!(tag.matches(&t));
        let other_tag = MuteSelector {
            tag: Some(("env".into(), "prod".into())),
            ..Default::default()
        };
        assert!(!other_tag.matches(&t));
        assert!(
            !MuteSelector::default().matches(&t),
            "an empty selector matches nothing"
        );
    }

    #[test]
    fn expiry_and_lifting_end_a_mute() {
        let now = Utc::now();
        let mut mute = Mute {
            id: 1,
            selector: MuteSelector::default(),
            reason: "accepted".into(),
            author: "alice".into(),
            created_at: now,
            expires_at: Some(now + chrono::Duration::days(1)),
            lifted_at: None,
        };
        assert!(mute.is_active(now));
        assert!(!mute.is_active(now + chrono::Duration::days(2)));
        mute.lifted_at = Some(now);
        assert!(!mute.is_active(now));
    }
}
