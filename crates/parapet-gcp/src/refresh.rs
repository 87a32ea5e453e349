//! What a refresh of the resources change events named asks of Cloud
//! Asset Inventory: the types described whole (with those their derived
//! fields are worked out from), and the assets named one by one, taken
//! from the feed messages that carried them and read from the inventory
//! only for what the messages lacked (an IAM feed carries no resource, a
//! resource feed no IAM policy) or for assets no message carried.

use crate::derived;
use crate::events::Fed;
use crate::inventory::{Content, Inventory};
use crate::provider::policy_document;
use crate::types;
use google_cloud_asset_v1::model;
use parapet_core::{Asset, CollectionError};
use parapet_provider::Narrowing;
use std::collections::{BTreeMap, BTreeSet};

/// What a collection asks for: everything, or (a refresh) what its
/// narrowing names: some types whole and some assets by name.
#[derive(Debug, Clone, Default)]
pub struct Wanted(Option<Narrowing>);

impl Wanted {
    /// What `narrowing` asks for, or everything.
    pub fn of(narrowing: Option<&Narrowing>) -> Wanted {
        Wanted(narrowing.cloned())
    }

    /// The types described whole; `None`: every type.
    fn whole(&self) -> Option<&BTreeSet<String>> {
        self.0.as_ref()?.whole.as_ref()
    }

    /// Whether only some types are asked for.
    pub fn partial(&self) -> bool {
        self.whole().is_some()
    }

    /// The types listed whole: those asked for, and those their derived
    /// fields (and the keyed assets') are worked out from.
    pub fn listed(&self) -> Vec<&'static str> {
        let Some(whole) = self.whole() else {
            return types::listed();
        };
        let asked = whole.iter().chain(self.keyed().keys());
        let mut kinds: BTreeSet<&'static str> = types::listed()
            .into_iter()
            .filter(|t| whole.contains(*t))
            .collect();
        for kind in asked {
            kinds.extend(derived::inputs(kind));
        }
        if !kinds.is_empty() {
            // The projects say which project (by id) each asset is in.
            kinds.insert(types::SUMMARY);
        }
        kinds.into_iter().collect()
    }

    /// Whether `asset` was asked for.
    pub fn keeps(&self, asset: &Asset) -> bool {
        let kind = asset.resource_type.as_str();
        self.whole().is_none_or(|w| w.contains(kind))
            || self
                .keyed()
                .get(kind)
                .is_some_and(|names| names.contains(&asset.id))
    }

    /// The types a part covers; `None`: every type.
    pub fn covered(&self) -> Option<Vec<String>> {
        self.0.as_ref()?.resource_types()
    }

    /// The names asked for one by one, by type.
    pub fn keyed(&self) -> &BTreeMap<String, BTreeSet<String>> {
        static NONE: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        self.0.as_ref().map_or(&NONE, |n| &n.keyed)
    }
}

/// The parent Cloud Asset Inventory reads an account's assets under.
pub fn parent_of(account: &str) -> String {
    match account.starts_with("organizations/") || account.starts_with("folders/") {
        true => account.to_owned(),
        false => format!("projects/{account}"),
    }
}

/// The named assets of `names` (of types with an IAM policy or not) in
/// `account`: each as the feed carried it, or as the inventory says now,
/// with its IAM policy (`Err`: why it could not be read); or a collection
/// error for the type when the inventory could not be read.
pub async fn named(
    inventory: &Inventory,
    account: &str,
    kind: &str,
    names: &BTreeSet<String>,
    fed: &mut BTreeMap<String, Fed>,
) -> Result<Vec<(model::Asset, Option<Result<serde_json::Value, String>>)>, CollectionError> {
    let with_iam = types::def(kind).is_some_and(|t| t.iam);
    let parent = parent_of(account);
    let mut carried: BTreeMap<String, Fed> = names
        .iter()
        .filter_map(|n| fed.remove(n).map(|f| (n.clone(), f)))
        .collect();
    let lacking = |wants: fn(&Fed) -> bool| -> BTreeSet<String> {
        names
            .iter()
            .filter(|n| carried.get(*n).is_none_or(|f| !f.deleted && wants(f)))
            .cloned()
            .collect()
    };
    let no_resource = lacking(|f| f.asset.resource.is_none());
    let no_policy = match with_iam {
        true => lacking(|f| !f.policy_known),
        false => BTreeSet::new(),
    };
    let failed = |e: crate::error::InventoryError| CollectionError {
        account: Some(account.to_owned()),
        region: None,
        resource_type: Some(kind.to_owned()),
        message: e.to_string(),
    };
    if !no_resource.is_empty() {
        let current = inventory
            .current(&parent, &no_resource, Content::Resource)
            .await
            .map_err(failed)?;
        for (name, asset) in current {
            let entry = carried.entry(name).or_insert_with(|| Fed {
                asset: model::Asset::default(),
                deleted: false,
                policy_known: false,
            });
            match asset {
                Some(asset) => {
                    let policy = entry.asset.iam_policy.take();
                    entry.asset = asset;
                    entry.asset.iam_policy = policy;
                }
                None => entry.deleted = true,
            }
        }
    }
    let policies = match no_policy.is_empty() {
        true => Ok(BTreeMap::new()),
        false => inventory
            .current(&parent, &no_policy, Content::IamPolicy)
            .await
            .map_err(|e| e.to_string()),
    };
    Ok(carried
        .into_values()
        .filter(|f| !f.deleted && f.asset.resource.is_some())
        .map(|f| {
            let name = f.asset.name.clone();
            let policy = with_iam.then(|| match (&policies, f.policy_known) {
                (_, true) => Ok(policy_document(f.asset.iam_policy.as_ref())),
                (Ok(read), false) => Ok(policy_document(
                    read.get(&name)
                        .and_then(|a| a.as_ref())
                        .and_then(|a| a.iam_policy.as_ref()),
                )),
                (Err(why), false) => Err(why.clone()),
            });
            (f.asset, policy)
        })
        .collect())
}
