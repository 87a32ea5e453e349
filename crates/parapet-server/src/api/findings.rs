//! Findings: listed by status, severity, rule, framework and control,
//! account, region, type and asset; muted (one selector, or a list of
//! findings at once) and unmuted; the mutes themselves.

use super::{Json, owned};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::params::{Body, Page, Params, PathParam};
use crate::state::App;
use axum::Extension;
use axum::extract::State;
use chrono::{DateTime, Utc};
use parapet_core::{FindingStatus, MuteSelector, Severity, parse_name};
use parapet_store::{FindingCursor, FindingQuery};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// The severities, as the API names them.
const SEVERITIES: &str = "`critical`, `high`, `medium`, `low`, `informational`";

fn severity(name: &str) -> Option<Severity> {
    parse_name(name)
}

/// `GET /api/v1/findings`
pub async fn list(State(app): State<Arc<App>>, params: Params) -> Json {
    let params = params.only(&[
        "status",
        "severity",
        "min_severity",
        "rule",
        "framework",
        "control",
        "account",
        "region",
        "type",
        "asset",
        "include_muted",
        "limit",
        "cursor",
    ])?;
    let statuses = params.names("status", "`open`, `reopened`, `resolved`", |s| {
        parse_name::<FindingStatus>(s)
    })?;
    let min_severity = params.name("min_severity", SEVERITIES, severity)?;
    let mut rule_ids = params.list("rule");
    if let Some(unknown) = rule_ids.iter().find(|r| app.rule(r).is_none()) {
        return Err(ApiError::parameter(format!("`rule`: no rule `{unknown}`")));
    }
    if let Some(framework) = params.text("framework") {
        let mapped = framework_rules(&app, &framework, params.text("control").as_deref())?;
        rule_ids = if rule_ids.is_empty() {
            mapped
        } else {
            rule_ids
                .into_iter()
                .filter(|r| mapped.contains(r))
                .collect()
        };
        if rule_ids.is_empty() {
            // No rule checks it: no finding can match.
            return Ok(axum::Json(owned(&Page::<()>::of(
                vec![],
                1,
                "findings",
                |_| (),
            ))?));
        }
    } else if params.text("control").is_some() {
        return Err(ApiError::parameter("`control` needs `framework`"));
    }
    let after: Option<(Severity, String, String)> = params.cursor("findings")?;
    let query = FindingQuery {
        statuses: if statuses.is_empty() {
            FindingQuery::default().statuses
        } else {
            statuses
        },
        min_severity,
        severities: params.names("severity", SEVERITIES, severity)?,
        rule_ids,
        asset_id: params.text("asset"),
        account: params.text("account"),
        region: params.text("region"),
        resource_type: params.text("type"),
        include_muted: params.flag("include_muted")?,
        limit: params.limit()?,
        offset: 0,
        after: after.map(|(severity, rule_id, asset_id)| FindingCursor {
            severity,
            rule_id,
            asset_id,
        }),
    };
    let limit = query.limit;
    let findings = app.store(move |store| Ok(store.findings(&query)?)).await?;
    let page = Page::of(findings, limit, "findings", |f| {
        (f.severity, f.rule_id.clone(), f.asset_id.clone())
    });
    Ok(axum::Json(owned(&page)?))
}

/// The rules mapped to `framework` (to one of its controls when given).
fn framework_rules(app: &App, id: &str, control: Option<&str>) -> Result<Vec<String>, ApiError> {
    let framework = app.frameworks.iter().find(|f| f.id == id).ok_or_else(|| {
        ApiError::parameter(format!(
            "`framework`: no framework `{id}`; there are {}",
            app.frameworks
                .iter()
                .map(|f| format!("`{}`", f.id))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    if let Some(control) = control
        && framework.control(control).is_none()
    {
        return Err(ApiError::parameter(format!(
            "`control`: {} has no control `{control}`",
            framework.name
        )));
    }
    Ok(app
        .rules
        .iter()
        .filter(|r| {
            r.frameworks
                .get(id)
                .is_some_and(|controls| control.is_none_or(|c| controls.iter().any(|x| x == c)))
        })
        .map(|r| r.id.to_string())
        .collect())
}

/// One finding, by rule and asset.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingKey {
    /// The rule.
    pub rule_id: String,
    /// The asset.
    pub asset_id: String,
}

/// A request to mute.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MuteRequest {
    /// Why the risk is accepted.
    pub reason: String,
    /// When the mute ends by itself.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// What it covers: rule, asset (wildcards allowed), account, region,
    /// tag.
    #[serde(default, deserialize_with = "present")]
    pub selector: Option<MuteSelector>,
    /// Or: these findings, one mute each.
    #[serde(default, deserialize_with = "present")]
    pub findings: Option<Vec<FindingKey>>,
}

/// A field that may be left out but, when given, is not `null`.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// The most findings one request mutes.
const MAX_BULK: usize = 500;

/// `POST /api/v1/mutes`
pub async fn mute(
    State(app): State<Arc<App>>,
    Extension(principal): Extension<Principal>,
    params: Params,
    Body(request): Body<MuteRequest>,
) -> Json {
    params.only(&[])?;
    let selectors: Vec<MuteSelector> = match (request.selector, request.findings) {
        (Some(selector), None) => vec![selector],
        (None, Some(findings)) if !findings.is_empty() && findings.len() <= MAX_BULK => findings
            .into_iter()
            .map(|f| MuteSelector {
                rule_id: Some(f.rule_id),
                asset: Some(f.asset_id),
                ..MuteSelector::default()
            })
            .collect(),
        (None, Some(_)) => {
            return Err(ApiError::body(format!(
                "`findings` must list 1 to {MAX_BULK} findings"
            )));
        }
        _ => {
            return Err(ApiError::body(
                "give either `selector` or `findings`, not both and not neither",
            ));
        }
    };
    let value = app
        .store(move |store| {
            let now = Utc::now();
            let mut mutes = Vec::new();
            let mut muted = 0;
            for selector in &selectors {
                let (mute, count) = store.add_mute(
                    selector,
                    &request.reason,
                    &principal.name,
                    request.expires_at,
                    now,
                )?;
                mutes.push(mute);
                muted += count;
            }
            Ok(json!({"mutes": owned(&mutes)?, "muted_findings": muted}))
        })
        .await?;
    Ok(axum::Json(value))
}

/// `GET /api/v1/mutes`
pub async fn mutes(State(app): State<Arc<App>>, params: Params) -> Json {
    let params = params.only(&["include_lifted"])?;
    let lifted = params.flag("include_lifted")?;
    let mutes = app.store(move |store| Ok(store.mutes(lifted)?)).await?;
    Ok(axum::Json(json!({"items": owned(&mutes)?})))
}

/// `DELETE /api/v1/mutes/{id}`: lifts a mute.
pub async fn lift(
    State(app): State<Arc<App>>,
    PathParam(id): PathParam<i64>,
    params: Params,
) -> Json {
    params.only(&[])?;
    let mute = app
        .store(move |store| Ok(store.lift_mute(id, Utc::now())?))
        .await?;
    Ok(axum::Json(owned(&mute)?))
}

/// `POST /api/v1/findings/unmute`: lifts the mute that covers a finding.
pub async fn unmute(
    State(app): State<Arc<App>>,
    params: Params,
    Body(key): Body<FindingKey>,
) -> Json {
    params.only(&[])?;
    let mute = app
        .store(move |store| {
            let finding = store.finding(&key.rule_id, &key.asset_id)?.ok_or_else(|| {
                ApiError::not_found(format!(
                    "no finding of `{}` on `{}`",
                    key.rule_id, key.asset_id
                ))
            })?;
            let id = finding.muted_by.ok_or_else(|| {
                ApiError::new(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "rejected",
                    format!(
                        "the finding of `{}` on `{}` is not muted",
                        key.rule_id, key.asset_id
                    ),
                )
            })?;
            Ok(store.lift_mute(id, Utc::now())?)
        })
        .await?;
    Ok(axum::Json(owned(&mute)?))
}
