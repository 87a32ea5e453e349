//! Cloud Asset Inventory's reads, through Google's `google-cloud-asset-v1`
//! client (which signs each request, retries what Google says may be
//! retried and follows pages): every asset of some types under an
//! organisation, folder or project with one kind of content (the
//! resource's configuration, or its IAM policy), and the current state of
//! named assets. Calls are counted by the IAM permission each needs.

use crate::credentials::Endpoints;
use crate::error::{GcpError, InventoryError};
use google_cloud_asset_v1::client::AssetService;
use google_cloud_asset_v1::model::{self, ContentType};
use google_cloud_gax::paginator::Paginator;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

/// Assets a page: the most ListAssets gives.
const PAGE: i32 = 1000;

/// Names a call: the most BatchGetAssetsHistory takes.
const NAMES: usize = 100;

/// What of an asset a read gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// The resource's configuration, as its own API describes it.
    Resource,
    /// The IAM policy set on it.
    IamPolicy,
}

impl Content {
    fn model(self) -> ContentType {
        match self {
            Content::Resource => ContentType::Resource,
            Content::IamPolicy => ContentType::IamPolicy,
        }
    }

    /// The IAM permission a ListAssets call of this content needs.
    fn list_permission(self) -> &'static str {
        match self {
            Content::Resource => "cloudasset.assets.listResource",
            Content::IamPolicy => "cloudasset.assets.listIamPolicy",
        }
    }

    /// The IAM permission a BatchGetAssetsHistory call of this content needs.
    fn history_permission(self) -> &'static str {
        match self {
            Content::Resource => "cloudasset.assets.exportResource",
            Content::IamPolicy => "cloudasset.assets.exportIamPolicy",
        }
    }
}

/// A client of Cloud Asset Inventory, signed in.
#[derive(Clone)]
pub struct Inventory {
    client: AssetService,
    calls: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl Inventory {
    /// A client signed in with `credentials`, at the endpoint `endpoints` name.
    pub async fn new(
        credentials: google_cloud_auth::credentials::Credentials,
        endpoints: &Endpoints,
    ) -> Result<Inventory, GcpError> {
        let mut builder = AssetService::builder().with_credentials(credentials);
        if let Some(url) = &endpoints.inventory {
            builder = builder.with_endpoint(url);
        }
        let client = builder.build().await.map_err(|e| GcpError::Setting {
            setting: "inventory endpoint".to_owned(),
            message: e.to_string(),
        })?;
        Ok(Inventory {
            client,
            calls: Arc::default(),
        })
    }

    /// The calls made, by the IAM permission each needed.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    fn count(&self, permission: &str) {
        if let Ok(mut calls) = self.calls.lock() {
            *calls.entry(permission.to_owned()).or_insert(0) += 1;
        }
    }

    /// Every asset of `types` under `parent` (`organizations/N`,
    /// `folders/N`, `projects/ID`) with `content`, page after page.
    pub async fn list(
        &self,
        parent: &str,
        types: &[&str],
        content: Content,
    ) -> Result<Vec<model::Asset>, InventoryError> {
        let mut pages = self
            .client
            .list_assets()
            .set_parent(parent)
            .set_asset_types(types.iter().map(|t| (*t).to_owned()))
            .set_content_type(content.model())
            .set_page_size(PAGE)
            .by_page();
        let mut assets = Vec::new();
        while let Some(page) = pages.next().await {
            self.count(content.list_permission());
            let page = page.map_err(|e| InventoryError::of(format!("ListAssets {parent}"), &e))?;
            assets.extend(page.assets);
        }
        Ok(assets)
    }

    /// The current state of each asset `names` name under `parent` with
    /// `content`: the asset, or `None` where it has been deleted.
    pub async fn current(
        &self,
        parent: &str,
        names: &BTreeSet<String>,
        content: Content,
    ) -> Result<BTreeMap<String, Option<model::Asset>>, InventoryError> {
        let names: Vec<&String> = names.iter().collect();
        let mut found = BTreeMap::new();
        for chunk in names.chunks(NAMES) {
            self.count(content.history_permission());
            let answer = self
                .client
                .batch_get_assets_history()
                .set_parent(parent)
                .set_asset_names(chunk.iter().map(|n| (*n).clone()))
                .set_content_type(content.model())
                .send()
                .await
                .map_err(|e| InventoryError::of(format!("BatchGetAssetsHistory {parent}"), &e))?;
            found.extend(latest(answer.assets));
        }
        Ok(found)
    }
}

/// Each asset's latest state among `history`: the asset, or `None` when
/// that state is its deletion.
fn latest(history: Vec<model::TemporalAsset>) -> BTreeMap<String, Option<model::Asset>> {
    let start = |t: &model::TemporalAsset| {
        t.window
            .as_ref()
            .and_then(|w| w.start_time.as_ref())
            .map(|s| (s.seconds(), s.nanos()))
    };
    let mut newest: BTreeMap<String, model::TemporalAsset> = BTreeMap::new();
    for state in history {
        let Some(name) = state.asset.as_ref().map(|a| a.name.clone()) else {
            continue;
        };
        match newest.get(&name) {
            Some(known) if start(known) >= start(&state) => {}
            _ => {
                newest.insert(name, state);
            }
        }
    }
    newest
        .into_iter()
        .map(|(name, state)| (name, (!state.deleted).then_some(state.asset).flatten()))
        .collect()
}
