//! The timeline and incidents: events by asset, account, rule, kind and
//! time; incidents by status, one with its own timeline, taken and resolved
//! by hand; and the live stream of new events (server-sent events).

use super::{Json, owned};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::params::{Body, Page, Params, PathParam};
use crate::state::App;
use axum::Extension;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::Utc;
use futures_util::Stream;
use parapet_core::{EventKind, parse_name};
use parapet_store::{EventQuery, IncidentStatus};
use serde::Deserialize;
use serde_json::json;
use std::convert::Infallible;
use std::sync::Arc;

/// `GET /api/v1/events`
pub async fn events(State(app): State<Arc<App>>, params: Params) -> Json {
    let params = params.only(&[
        "asset", "account", "rule", "kind", "since", "until", "limit", "cursor",
    ])?;
    let kinds = params.names(
        "kind",
        "`asset_created`, `asset_changed`, `asset_deleted`, `finding_opened`, `finding_resolved`, `finding_reopened`, `finding_muted`, `finding_unmuted`, `incident_acknowledged`, `incident_resolved`",
        parse_name::<EventKind>,
    )?;
    let query = EventQuery {
        asset_id: params.text("asset"),
        account: params.text("account"),
        rule_id: params.text("rule"),
        kinds,
        since: params.time("since")?,
        until: params.time("until")?,
        before_id: params.cursor("events")?,
        after_id: None,
        limit: params.limit()?,
    };
    let limit = query.limit;
    let events = app.store(move |store| Ok(store.events(&query)?)).await?;
    Ok(axum::Json(owned(&Page::of(
        events,
        limit,
        "events",
        |e| e.id,
    ))?))
}

/// `GET /api/v1/scans`
pub async fn scans(State(app): State<Arc<App>>, params: Params) -> Json {
    let params = params.only(&["limit", "cursor"])?;
    let before: Option<i64> = params.cursor("scans")?;
    let limit = params.limit()?;
    let scans = app
        .store(move |store| Ok(store.scans_page(before, limit)?))
        .await?;
    Ok(axum::Json(owned(&Page::of(scans, limit, "scans", |s| {
        s.id
    }))?))
}

/// `GET /api/v1/incidents`
pub async fn incidents(State(app): State<Arc<App>>, params: Params) -> Json {
    let params = params.only(&["status", "limit", "cursor"])?;
    let status = params.name(
        "status",
        "`open`, `acknowledged`, `resolved`",
        parse_name::<IncidentStatus>,
    )?;
    let before: Option<i64> = params.cursor("incidents")?;
    let limit = params.limit()?;
    let incidents = app
        .store(move |store| Ok(store.incidents(status, before, limit)?))
        .await?;
    Ok(axum::Json(owned(&Page::of(
        incidents,
        limit,
        "incidents",
        |i| i.id,
    ))?))
}

/// `GET /api/v1/incidents/{id}`
pub async fn incident(
    State(app): State<Arc<App>>,
    PathParam(id): PathParam<i64>,
    params: Params,
) -> Json {
    params.only(&[])?;
    let (incident, timeline) = app
        .store(move |store| {
            store
                .incident(id)?
                .ok_or_else(|| ApiError::not_found(format!("no incident {id}")))
        })
        .await?;
    let mut value = owned(&incident)?;
    value["timeline"] = owned(&timeline)?;
    Ok(axum::Json(value))
}

/// Taking an incident.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acknowledge {
    /// Who takes it (the caller by default).
    #[serde(default)]
    pub owner: Option<String>,
}

/// `POST /api/v1/incidents/{id}/acknowledge`: someone takes the incident;
/// its channels hear of it when `parapet watch` or `parapet notify send`
/// next delivers.
pub async fn acknowledge(
    State(app): State<Arc<App>>,
    Extension(principal): Extension<Principal>,
    PathParam(id): PathParam<i64>,
    params: Params,
    Body(request): Body<Acknowledge>,
) -> Json {
    params.only(&[])?;
    let owner = request.owner.unwrap_or(principal.name);
    let incident = app
        .store(move |store| Ok(store.acknowledge_incident(id, &owner, Utc::now())?))
        .await?;
    Ok(axum::Json(owned(&incident)?))
}

/// `POST /api/v1/incidents/{id}/resolve`
pub async fn resolve(
    State(app): State<Arc<App>>,
    Extension(principal): Extension<Principal>,
    PathParam(id): PathParam<i64>,
    params: Params,
) -> Json {
    params.only(&[])?;
    let incident = app
        .store(move |store| Ok(store.resolve_incident(id, &principal.name, Utc::now())?))
        .await?;
    Ok(axum::Json(owned(&incident)?))
}

/// How many events one poll of the stream sends at most.
const STREAM_BATCH: usize = 500;

/// `GET /api/v1/stream`: every new event as it is committed, as
/// server-sent events (`event: timeline`, `id` the event's, `data` the
/// event). A client that reconnects with `Last-Event-ID` misses nothing.
/// The stream ends once the token or the session that opened it no longer
/// holds (revoked, expired, logged out).
pub async fn stream(
    State(app): State<Arc<App>>,
    axum::Extension(principal): axum::Extension<crate::auth::Principal>,
    headers: HeaderMap,
    params: Params,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    params.only(&[])?;
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let start = match resume {
        Some(id) => id,
        None => {
            app.store(|store| {
                Ok(store
                    .events(&EventQuery {
                        limit: 1,
                        ..EventQuery::default()
                    })?
                    .first()
                    .map_or(0, |e| e.id))
            })
            .await?
        }
    };
    let interval = app.settings.poll_interval;
    let principal = Arc::new(principal);
    let state = (app, start, Vec::<Event>::new());
    let events = futures_util::stream::unfold(state, move |(app, mut last, mut queue)| {
        let principal = Arc::clone(&principal);
        async move {
            loop {
                if let Some(event) = queue.pop() {
                    return Some((Ok(event), (app, last, queue)));
                }
                tokio::time::sleep(interval).await;
                if let Ok(false) = crate::auth::still_valid(&app, &principal).await {
                    return None;
                }
                let after = last;
                let found = app
                    .store(move |store| {
                        Ok(store.events(&EventQuery {
                            after_id: Some(after),
                            limit: STREAM_BATCH,
                            ..EventQuery::default()
                        })?)
                    })
                    .await;
                // A failed poll (the database busy) is tried again at the next.
                let Ok(found) = found else { continue };
                if let Some(newest) = found.last() {
                    last = newest.id;
                }
                // Popped from the end: oldest first.
                queue = found
                    .iter()
                    .rev()
                    .map(|e| {
                        Event::default()
                            .event("timeline")
                            .id(e.id.to_string())
                            .data(
                                serde_json::to_string(e)
                                    .unwrap_or_else(|_| json!(null).to_string()),
                            )
                    })
                    .collect();
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
