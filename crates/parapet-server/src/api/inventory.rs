//! The inventory: the overview, assets listed by filter, one asset with its
//! findings, vulnerabilities and exposure, its history and the difference
//! between two of its versions, and the values filters can take.

use super::{Json, owned};
use crate::error::ApiError;
use crate::params::{Page, Params, PathParam};
use crate::state::App;
use axum::extract::State;
use chrono::Utc;
use parapet_core::FindingStatus;
use parapet_core::diff::diff;
use parapet_store::{AssetQuery, EventQuery, FindingQuery};
use serde_json::{Value, json};
use std::sync::Arc;

/// How many days of trend the overview shows.
const TREND_DAYS: u32 = 30;
/// How many of the newest events the overview shows.
const NEWEST_EVENTS: usize = 15;

/// `GET /api/v1/overview`
pub async fn overview(State(app): State<Arc<App>>, params: Params) -> Json {
    params.only(&[])?;
    let (overview, events) = app
        .store(|store| {
            let overview = store.overview(Utc::now(), TREND_DAYS)?;
            let events = store.events(&EventQuery {
                limit: NEWEST_EVENTS,
                ..EventQuery::default()
            })?;
            Ok((overview, events))
        })
        .await?;
    let mut value = owned(&overview)?;
    value["newest_events"] = owned(&events)?;
    Ok(axum::Json(value))
}

/// The filters of an asset listing.
fn asset_query(params: &Params) -> Result<AssetQuery, ApiError> {
    let tag = params.text("tag").map(|t| AssetQuery::tag_filter(&t));
    Ok(AssetQuery {
        provider: params.text("provider"),
        account: params.text("account"),
        region: params.text("region"),
        resource_type: params.text("type"),
        tag,
        text: params.text("q"),
        include_deleted: params.flag("include_deleted")?,
        after: params.cursor("assets")?,
        limit: params.limit()?,
    })
}

/// `GET /api/v1/assets`
pub async fn list(State(app): State<Arc<App>>, params: Params) -> Json {
    let params = params.only(&[
        "provider",
        "account",
        "region",
        "type",
        "tag",
        "q",
        "include_deleted",
        "limit",
        "cursor",
    ])?;
    let query = asset_query(&params)?;
    let limit = query.limit;
    let (items, total) = app
        .store(move |store| {
            let total = store.count_assets(&AssetQuery {
                after: None,
                ..query.clone()
            })?;
            Ok((store.assets(&query)?, total))
        })
        .await?;
    let page = Page::of(items, limit, "assets", |a| a.id.clone());
    let mut value = owned(&page)?;
    value["total"] = json!(total);
    Ok(axum::Json(value))
}

/// `GET /api/v1/assets/{id}`: the asset as it is (or was `at` a time),
/// with its findings, attached vulnerability scan and exposure.
pub async fn show(
    State(app): State<Arc<App>>,
    PathParam(id): PathParam<String>,
    params: Params,
) -> Json {
    let params = params.only(&["at"])?;
    let at = params.time("at")?;
    let value = app
        .store(move |store| {
            let version = store.asset_at(&id, at)?.ok_or_else(|| match at {
                Some(at) => ApiError::not_found(format!("no asset `{id}` at {}", at.to_rfc3339())),
                None => ApiError::not_found(format!("no asset `{id}`")),
            })?;
            let findings = store.findings(&FindingQuery {
                asset_id: Some(id.clone()),
                statuses: vec![
                    FindingStatus::Open,
                    FindingStatus::Reopened,
                    FindingStatus::Resolved,
                ],
                include_muted: true,
                limit: 10_000,
                ..FindingQuery::default()
            })?;
            let vulnerabilities = store.vulnerability_scans()?.remove(&id);
            let (exposure, public) =
                super::posture::exposed(store, Some(&version.asset.account), Some(&id))?;
            Ok(json!({
                "version": owned(&version)?,
                "findings": owned(&findings)?,
                "vulnerabilities": owned(&vulnerabilities)?,
                "exposure": owned(&exposure)?,
                "public_by_policy": owned(&public)?,
            }))
        })
        .await?;
    Ok(axum::Json(value))
}

/// `GET /api/v1/assets/{id}/history`: every version, oldest first, without
/// its document.
pub async fn history(
    State(app): State<Arc<App>>,
    PathParam(id): PathParam<String>,
    params: Params,
) -> Json {
    params.only(&[])?;
    let versions = app
        .store(move |store| {
            let versions = store.asset_history(&id)?;
            if versions.is_empty() {
                return Err(ApiError::not_found(format!("no asset `{id}`")));
            }
            Ok(versions)
        })
        .await?;
    let items: Vec<Value> = versions
        .iter()
        .map(|v| {
            json!({
                "version": v.version,
                "content_hash": v.content_hash.to_string(),
                "observed_at": v.observed_at,
                "deleted_at": v.deleted_at,
            })
        })
        .collect();
    Ok(axum::Json(json!({ "items": items })))
}

/// `GET /api/v1/assets/{id}/diff`: what changed between versions `from`
/// and `to` (by default the one before the latest, and the latest).
pub async fn changes(
    State(app): State<Arc<App>>,
    PathParam(id): PathParam<String>,
    params: Params,
) -> Json {
    let params = params.only(&["from", "to"])?;
    let (from, to) = (params.number("from")?, params.number("to")?);
    let value = app
        .store(move |store| {
            let versions = store.asset_history(&id)?;
            let latest = versions
                .last()
                .ok_or_else(|| ApiError::not_found(format!("no asset `{id}`")))?
                .version;
            let to = to.unwrap_or(latest);
            let from = from.unwrap_or((to - 1).max(1));
            let find = |n: i64| {
                versions.iter().find(|v| v.version == n).ok_or_else(|| {
                    ApiError::not_found(format!(
                        "asset `{id}` has no version {n}; it has 1 to {latest}"
                    ))
                })
            };
            let (old, new) = (find(from)?, find(to)?);
            let changes = diff(&old.asset.content_document(), &new.asset.content_document());
            Ok(json!({
                "from": {"version": old.version, "observed_at": old.observed_at},
                "to": {"version": new.version, "observed_at": new.observed_at},
                "changes": owned(&changes)?,
            }))
        })
        .await?;
    Ok(axum::Json(value))
}

/// `GET /api/v1/facets`: the values the inventory's filters can take.
pub async fn facets(State(app): State<Arc<App>>, params: Params) -> Json {
    params.only(&[])?;
    let facets = app.store(|store| Ok(store.facets()?)).await?;
    Ok(axum::Json(owned(&facets)?))
}
