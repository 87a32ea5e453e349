//! A collection's scope, what failed in it, and the record of a scan run.

use crate::asset::{Asset, Provider};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What a collection covered. An asset of the scope that a complete
/// collection did not see has been deleted. `None` means every region or
/// every resource type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// The cloud.
    pub provider: Provider,
    /// The accounts collected.
    pub accounts: Vec<String>,
    /// The regions collected, or every region.
    #[serde(default)]
    pub regions: Option<Vec<String>>,
    /// The resource types collected, or every type.
    #[serde(default)]
    pub resource_types: Option<Vec<String>>,
    /// For the resource types named here, only these assets (by id) were
    /// described: continuous mode's refresh of the resources an event
    /// changed. Other types of the scope were described whole.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub assets: BTreeMap<String, BTreeSet<String>>,
}

impl Scope {
    /// The whole of `accounts` of `provider`: every region and type.
    pub fn whole(provider: Provider, accounts: Vec<String>) -> Scope {
        Scope {
            provider,
            accounts,
            regions: None,
            resource_types: None,
            assets: BTreeMap::new(),
        }
    }

    /// Whether `asset` lies inside the scope.
    pub fn contains(&self, asset: &Asset) -> bool {
        self.contains_parts(
            asset.provider,
            &asset.account,
            &asset.region,
            asset.resource_type.as_str(),
            &asset.id,
        )
    }

    /// Whether an asset with these parts lies inside the scope.
    pub fn contains_parts(
        &self,
        provider: Provider,
        account: &str,
        region: &str,
        resource_type: &str,
        id: &str,
    ) -> bool {
        provider == self.provider
            && self.accounts.iter().any(|a| a == account)
            && self
                .regions
                .as_ref()
                .is_none_or(|rs| rs.iter().any(|r| r == region))
            && self
                .resource_types
                .as_ref()
                .is_none_or(|ts| ts.iter().any(|t| t == resource_type))
            && self
                .assets
                .get(resource_type)
                .is_none_or(|ids| ids.contains(id))
    }
}

/// A part of a collection that was denied or failed. `None` fields cover
/// everything: an error with only an account covers that whole account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionError {
    /// The account, or every account of the scope.
    #[serde(default)]
    pub account: Option<String>,
    /// The region, or every region.
    #[serde(default)]
    pub region: Option<String>,
    /// The resource type, or every type.
    #[serde(default)]
    pub resource_type: Option<String>,
    /// What went wrong, as the provider said it (never a credential).
    pub message: String,
}

impl CollectionError {
    /// Whether the error covers an asset with these parts: its assets may
    /// exist unseen, so they must not be marked deleted.
    pub fn covers(&self, account: &str, region: &str, resource_type: &str) -> bool {
        self.account.as_deref().is_none_or(|a| a == account)
            && self.region.as_deref().is_none_or(|r| r == region)
            && self
                .resource_type
                .as_deref()
                .is_none_or(|t| t == resource_type)
    }
}

/// How a scan run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanStatus {
    /// Started and not finished: still running, or killed.
    Running,
    /// Finished with every part collected.
    Complete,
    /// Finished, with parts that were denied or failed.
    Partial,
}

impl ScanStatus {
    /// The lowercase name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanStatus::Running => "running",
            ScanStatus::Complete => "complete",
            ScanStatus::Partial => "partial",
        }
    }
}

/// Counts of what a scan changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanCounts {
    /// Assets in the collection.
    pub assets: u64,
    /// Assets seen for the first time.
    pub created: u64,
    /// Assets whose content changed.
    pub changed: u64,
    /// Assets marked deleted.
    pub deleted: u64,
    /// Evaluations recorded: results worked out by this scan.
    pub evaluations: u64,
    /// Results that stood as stored: nothing they read had changed.
    #[serde(default)]
    pub kept: u64,
    /// Findings opened.
    pub opened: u64,
    /// Findings resolved.
    pub resolved: u64,
    /// Findings reopened.
    pub reopened: u64,
}

/// The record of one collection and evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanRun {
    /// Its number, increasing.
    pub id: i64,
    /// What it covered.
    pub scope: Scope,
    /// Where the assets came from (a file, a collector).
    pub source: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it finished, if it did.
    pub finished_at: Option<DateTime<Utc>>,
    /// How it ended.
    pub status: ScanStatus,
    /// What it changed.
    pub counts: ScanCounts,
    /// The parts that were denied or failed.
    pub errors: Vec<CollectionError>,
    /// What produced it; unknown for scans recorded before Parapet kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

/// What produced a scan's results, so that a change in Parapet is never
/// mistaken for a change in the cloud.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// Parapet's version.
    pub parapet: String,
    /// The collector and its version (`parapet-aws 0.1.0`).
    pub collector: String,
    /// The digest of the rule pack that evaluated it.
    pub rules: String,
}

impl Provenance {
    /// Results of this Parapet, from `collector` evaluated by the rule pack
    /// of digest `rules`.
    pub fn new(collector: impl Into<String>, rules: impl Into<String>) -> Provenance {
        Provenance {
            parapet: env!("CARGO_PKG_VERSION").to_owned(),
            collector: collector.into(),
            rules: rules.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_names_some_assets_of_some_types() {
        let scope = Scope {
            provider: Provider::Aws,
            accounts: vec!["1".into()],
            regions: Some(vec!["eu-west-1".into(), "global".into()]),
            resource_types: Some(vec!["AWS::S3::Bucket".into(), "AWS::EC2::Instance".into()]),
            assets: BTreeMap::from([(
                "AWS::S3::Bucket".to_owned(),
                BTreeSet::from(["arn:aws:s3:::data".to_owned()]),
            )]),
        };
        let inside = |region, kind, id| scope.contains_parts(Provider::Aws, "1", region, kind, id);
        assert!(inside("global", "AWS::S3::Bucket", "arn:aws:s3:::data"));
        assert!(
            !inside("global", "AWS::S3::Bucket", "arn:aws:s3:::logs"),
            "another bucket"
        );
        assert!(
            inside("eu-west-1", "AWS::EC2::Instance", "i-1"),
            "every instance"
        );
        assert!(
            !inside("us-east-1", "AWS::EC2::Instance", "i-1"),
            "another region"
        );
        assert!(
            !inside("eu-west-1", "AWS::EC2::Volume", "vol-1"),
            "another type"
        );
        assert!(!scope.contains_parts(
            Provider::Aws,
            "2",
            "global",
            "AWS::S3::Bucket",
            "arn:aws:s3:::data"
        ));
        let text = serde_json::to_string(&Scope {
            assets: BTreeMap::new(),
            ..scope.clone()
        })
        .expect("json");
        assert!(
            !text.contains("assets"),
            "a whole scope is stored as before: {text}"
        );
        let back: Scope =
            serde_json::from_str(&serde_json::to_string(&scope).expect("json")).expect("read");
        assert_eq!(back, scope);
    }
}
