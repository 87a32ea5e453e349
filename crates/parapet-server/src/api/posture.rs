//! Rules, compliance per framework and account, exposure to the internet,
//! the topology graph, and vulnerabilities attached to assets.

use super::{Json, owned};
use crate::error::ApiError;
use crate::params::{Page, Params, PathParam};
use crate::state::App;
use axum::extract::State;
use parapet_core::{Severity, parse_name};
use parapet_graph::{Exposure, Topology, exposures};
use parapet_report::Counts;
use parapet_report::compliance::evaluate_counts;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// `GET /api/v1/rules`
pub async fn rules(State(app): State<Arc<App>>, params: Params) -> Json {
    let params = params.only(&["severity", "tag", "framework", "type", "q"])?;
    let severities = params.names(
        "severity",
        "`critical`, `high`, `medium`, `low`, `informational`",
        parse_name::<Severity>,
    )?;
    let tag = params.text("tag");
    let framework = params.text("framework");
    let resource_type = params.text("type");
    let text = params.text("q").map(|q| q.to_lowercase());
    let items: Vec<_> = app
        .rules
        .iter()
        .filter(|r| severities.is_empty() || severities.contains(&r.severity))
        .filter(|r| tag.as_ref().is_none_or(|t| r.tags.contains(t)))
        .filter(|r| {
            framework
                .as_ref()
                .is_none_or(|f| r.frameworks.contains_key(f))
        })
        .filter(|r| {
            resource_type
                .as_ref()
                .is_none_or(|t| r.resource_types.iter().any(|x| x.as_str() == t))
        })
        .filter(|r| {
            text.as_ref().is_none_or(|q| {
                r.id.to_lowercase().contains(q) || r.title.to_lowercase().contains(q)
            })
        })
        .map(|r| r.view(false))
        .collect();
    Ok(axum::Json(json!({ "items": owned(&items)? })))
}

/// `GET /api/v1/rules/{id}`
pub async fn rule(
    State(app): State<Arc<App>>,
    PathParam(id): PathParam<String>,
    params: Params,
) -> Json {
    params.only(&[])?;
    let rule = app
        .rule(&id)
        .ok_or_else(|| ApiError::not_found(format!("no rule `{id}`")))?;
    Ok(axum::Json(owned(&rule.view(true))?))
}

/// Latest results per account and rule, of one account or all.
async fn counts(
    app: &Arc<App>,
    account: Option<String>,
) -> Result<BTreeMap<(String, String), Counts>, ApiError> {
    let rows = app.store(|store| Ok(store.result_counts()?)).await?;
    let mut counts: BTreeMap<(String, String), Counts> = BTreeMap::new();
    for row in rows {
        if account.as_ref().is_some_and(|a| *a != row.account) {
            continue;
        }
        counts
            .entry((row.account, row.rule_id))
            .or_default()
            .add_many(row.result, usize::try_from(row.count).unwrap_or(0));
    }
    Ok(counts)
}

/// `GET /api/v1/compliance`: each framework's share of passing controls
/// in each account.
pub async fn compliance(State(app): State<Arc<App>>, params: Params) -> Json {
    let params = params.only(&["account"])?;
    let account = params.text("account");
    let counts = counts(&app, account.clone()).await?;
    let accounts: Vec<String> = account.into_iter().collect();
    let items: Vec<Value> = app
        .frameworks
        .iter()
        .map(|framework| {
            let per_account: Vec<Value> =
                evaluate_counts(framework, &app.rules, &counts, &accounts)
                    .into_iter()
                    .map(|a| {
                        json!({
                            "account": a.account,
                            "counts": a.counts,
                            "passing_percent": a.passing_percent,
                        })
                    })
                    .collect();
            json!({
                "id": framework.id,
                "name": framework.name,
                "version": framework.version,
                "controls": framework.controls.len(),
                "accounts": per_account,
            })
        })
        .collect();
    Ok(axum::Json(json!({ "items": items })))
}

/// `GET /api/v1/compliance/{framework}`: every control's status in each
/// account.
pub async fn framework(
    State(app): State<Arc<App>>,
    PathParam(id): PathParam<String>,
    params: Params,
) -> Json {
    let params = params.only(&["account"])?;
    let account = params.text("account");
    let framework = app
        .frameworks
        .iter()
        .find(|f| f.id == id)
        .ok_or_else(|| ApiError::not_found(format!("no framework `{id}`")))?;
    let counts = counts(&app, account.clone()).await?;
    let accounts: Vec<String> = account.into_iter().collect();
    let evaluated = evaluate_counts(framework, &app.rules, &counts, &accounts);
    Ok(axum::Json(json!({
        "id": framework.id,
        "name": framework.name,
        "version": framework.version,
        "url": framework.url,
        "accounts": owned(&evaluated)?,
    })))
}

/// `GET /api/v1/exposure`: what the internet reaches, and the grants that
/// open resources to everyone.
pub async fn exposure(State(app): State<Arc<App>>, params: Params) -> Json {
    let params = params.only(&["account", "asset"])?;
    let account = params.text("account");
    let asset = params.text("asset");
    let value = app
        .store(move |store| {
            let (network, public) = exposed(store, account.as_deref(), asset.as_deref())?;
            Ok(json!({"network": owned(&network)?, "public_by_policy": owned(&public)?}))
        })
        .await?;
    Ok(axum::Json(value))
}

/// What the internet reaches of the current assets of one account (or
/// all), and the grants that open resources to everyone; of one asset when
/// given.
pub fn exposed(
    store: &dyn parapet_store::Store,
    account: Option<&str>,
    asset: Option<&str>,
) -> Result<(Vec<Exposure>, Vec<parapet_graph::PublicAccess>), ApiError> {
    let assets = store.current_assets(account)?;
    let mut network = exposures(&Topology::build(&assets));
    let mut public = parapet_graph::public_by_policy(&assets);
    if let Some(asset) = asset {
        network.retain(|e| e.asset_id == asset);
        public.retain(|p| p.asset_id == asset);
    }
    Ok((network, public))
}

/// `GET /api/v1/topology`: the graph of an account, region or VPC, exposed
/// nodes marked, and the path that exposes `path` when asked.
pub async fn topology(State(app): State<Arc<App>>, params: Params) -> Json {
    let params = params.only(&["account", "region", "vpc", "path"])?;
    let filter = parapet_graph::Filter {
        account: params.text("account"),
        region: params.text("region"),
        vpc: params.text("vpc"),
    };
    let wanted = params.text("path");
    let value = app
        .store(move |store| {
            let assets = store.current_assets(filter.account.as_deref())?;
            let topology = Topology::build(&assets);
            let found = exposures(&topology);
            let graph = parapet_graph::graph(&topology, &assets, &found, &filter);
            let path: Option<&Exposure> = match &wanted {
                Some(id) => Some(found.iter().find(|e| e.asset_id == *id).ok_or_else(|| {
                    ApiError::not_found(format!(
                        "`{id}` is not reachable from the internet: no path to draw"
                    ))
                })?),
                None => None,
            };
            let shown: Vec<&Exposure> = found
                .iter()
                .filter(|e| graph.nodes.iter().any(|n| n.id == e.asset_id))
                .collect();
            Ok(json!({
                "nodes": owned(&graph.nodes)?,
                "edges": owned(&graph.edges)?,
                "exposures": owned(&shown)?,
                "path": owned(&path)?,
            }))
        })
        .await?;
    Ok(axum::Json(value))
}

/// `GET /api/v1/vulnerabilities`: every vulnerability of every attached
/// scan, most severe first.
pub async fn vulnerabilities(State(app): State<Arc<App>>, params: Params) -> Json {
    let params = params.only(&[
        "asset",
        "severity",
        "package",
        "fixed_only",
        "limit",
        "cursor",
    ])?;
    let severities = params.names(
        "severity",
        "`critical`, `high`, `medium`, `low`, `informational`",
        parse_name::<Severity>,
    )?;
    let asset = params.text("asset");
    let package = params.text("package");
    let fixed_only = params.flag("fixed_only")?;
    let limit = params.limit()?;
    let start: usize = params.cursor("vulnerabilities")?.unwrap_or(0);
    let scans = app.store(|store| Ok(store.vulnerability_scans()?)).await?;
    let mut rows: Vec<(
        String,
        &parapet_core::VulnerabilityScan,
        &parapet_core::Vulnerability,
    )> = scans
        .iter()
        .filter(|(id, _)| asset.as_ref().is_none_or(|a| a == *id))
        .flat_map(|(id, scan)| {
            scan.vulnerabilities
                .iter()
                .map(move |v| (id.clone(), scan, v))
        })
        .filter(|(_, _, v)| {
            severities.is_empty() || v.severity.is_some_and(|s| severities.contains(&s))
        })
        .filter(|(_, _, v)| package.as_ref().is_none_or(|p| *p == v.package))
        .filter(|(_, _, v)| !fixed_only || v.fixed.is_some())
        .collect();
    rows.sort_by(|a, b| {
        b.2.severity
            .cmp(&a.2.severity)
            .then_with(|| a.2.advisory.cmp(&b.2.advisory))
            .then_with(|| a.0.cmp(&b.0))
            .then_with(|| a.2.package.cmp(&b.2.package))
    });
    let items: Vec<Value> = rows
        .iter()
        .skip(start)
        .take(limit)
        .map(|(id, scan, v)| {
            let mut value = owned(v).unwrap_or_default();
            value["asset_id"] = json!(id);
            value["target"] = json!(scan.target);
            value["scanned_at"] = json!(scan.scanned_at);
            value
        })
        .collect();
    let next = start + items.len();
    let mut page = owned(&Page::of(items, limit, "vulnerabilities", |_| next))?;
    page["total"] = json!(rows.len());
    Ok(axum::Json(page))
}
