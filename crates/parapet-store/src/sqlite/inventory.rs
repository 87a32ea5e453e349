//! The inventory as the API and the web UI read it: assets listed by filter
//! one page at a time, and the overview of the whole estate, each answered
//! by a few aggregate queries rather than by reading documents.

use super::{AtPath, Filter, decode, ms, named, severity_from, time};
use crate::error::StoreError;
use crate::query::{
    AccountPosture, AssetQuery, AssetSummary, Facets, Overview, ResultCount, TrendDay,
};
use chrono::{DateTime, Duration, Utc};
use parapet_core::Severity;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params, params_from_iter};
use std::collections::BTreeMap;
use std::path::Path;

/// The WHERE clause of `query`'s filters, paging aside. A listing in id
/// order (`in_id_order`) walks the table by id and filters deletions as it
/// goes; a count reads the `assets_place` index.
fn filter(select: &str, query: &AssetQuery, in_id_order: bool) -> Filter {
    let mut filter = Filter::new(select);
    if !query.include_deleted {
        filter.sql.push_str(if in_id_order {
            " AND +deleted_at IS NULL"
        } else {
            " AND deleted_at IS NULL"
        });
    }
    filter.equal("provider", query.provider.as_deref());
    filter.equal("account", query.account.as_deref());
    filter.equal("region", query.region.as_deref());
    filter.equal("resource_type", query.resource_type.as_deref());
    if let Some((key, value)) = &query.tag {
        filter.sql.push_str(
            " AND EXISTS (SELECT 1 FROM json_each(assets.tags) t WHERE t.key = ? AND (? IS NULL OR t.value = ?))",
        );
        let value = value.clone().map_or(SqlValue::Null, SqlValue::Text);
        filter
            .args
            .extend([SqlValue::Text(key.clone()), value.clone(), value]);
    }
    if let Some(text) = &query.text {
        filter
            .sql
            .push_str(" AND (instr(lower(id), lower(?)) > 0 OR instr(lower(name), lower(?)) > 0)");
        filter
            .args
            .extend([SqlValue::Text(text.clone()), SqlValue::Text(text.clone())]);
    }
    filter
}

/// Assets matching `query`, in id order, with their open findings counted.
pub(super) fn assets(
    conn: &Connection,
    path: &Path,
    query: &AssetQuery,
) -> Result<Vec<AssetSummary>, StoreError> {
    let mut filter = filter(
        "SELECT id, provider, account, region, resource_type, name, tags, version, first_seen, last_seen, deleted_at, \
         (SELECT count(*) FROM findings f WHERE f.asset_id = assets.id AND f.status IN ('open', 'reopened') AND f.muted_by IS NULL) \
         FROM assets WHERE 1 = 1",
        query,
        true,
    );
    filter.condition(" AND id > ?", query.after.clone().map(SqlValue::Text));
    filter.sql.push_str(" ORDER BY id LIMIT ?");
    filter.args.push(SqlValue::Integer(query.limit as i64));
    let mut stmt = conn.prepare_cached(&filter.sql).at(path)?;
    let rows = stmt
        .query_map(params_from_iter(filter.args), |r| {
            Ok((
                (
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ),
                (
                    r.get::<_, String>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, i64>(8)?,
                    r.get::<_, i64>(9)?,
                    r.get::<_, Option<i64>>(10)?,
                    r.get::<_, i64>(11)?,
                ),
            ))
        })
        .at(path)?
        .collect::<Result<Vec<_>, _>>()
        .at(path)?;
    rows.into_iter()
        .map(
            |(
                (id, provider, account, region, resource_type, name),
                (tags, version, first_seen, last_seen, deleted_at, open_findings),
            )| {
                Ok(AssetSummary {
                    id,
                    provider,
                    account,
                    region,
                    resource_type,
                    name,
                    tags: decode(path, &tags, "asset tags")?,
                    version,
                    first_seen: time(first_seen),
                    last_seen: time(last_seen),
                    deleted_at: deleted_at.map(time),
                    open_findings,
                })
            },
        )
        .collect()
}

/// How many assets match `query`.
pub(super) fn count_assets(
    conn: &Connection,
    path: &Path,
    query: &AssetQuery,
) -> Result<i64, StoreError> {
    let filter = filter("SELECT count(*) FROM assets WHERE 1 = 1", query, false);
    conn.prepare_cached(&filter.sql)
        .at(path)?
        .query_row(params_from_iter(filter.args), |r| r.get(0))
        .at(path)
}

/// The values of each filterable column among current assets, counted, in
/// one pass over the `assets_place` index.
pub(super) fn facets(conn: &Connection, path: &Path) -> Result<Facets, StoreError> {
    let mut facets = Facets::default();
    let mut stmt = conn
        .prepare_cached(
            "SELECT provider, account, region, resource_type, count(*) FROM assets \
             WHERE deleted_at IS NULL GROUP BY 1, 2, 3, 4",
        )
        .at(path)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })
        .at(path)?;
    for row in rows {
        let (provider, account, region, resource_type, count) = row.at(path)?;
        *facets.providers.entry(provider).or_default() += count;
        *facets.accounts.entry(account).or_default() += count;
        *facets.regions.entry(region).or_default() += count;
        *facets.resource_types.entry(resource_type).or_default() += count;
    }
    Ok(facets)
}

/// The share of decided results that pass, in percent.
fn score(results: &BTreeMap<String, i64>) -> Option<f64> {
    let pass = results.get("pass").copied().unwrap_or(0);
    let fail = results.get("fail").copied().unwrap_or(0);
    (pass + fail > 0).then(|| pass as f64 * 100.0 / (pass + fail) as f64)
}

/// One account's counts on the overview.
#[derive(Default)]
struct Tally {
    assets: i64,
    open: BTreeMap<Severity, i64>,
    results: BTreeMap<String, i64>,
}

/// The estate at a glance.
pub(super) fn overview(
    conn: &Connection,
    path: &Path,
    now: DateTime<Utc>,
    days: u32,
) -> Result<Overview, StoreError> {
    let mut accounts: BTreeMap<String, Tally> = BTreeMap::new();
    let mut stmt = conn
        .prepare_cached(
            "SELECT account, count(*) FROM assets WHERE deleted_at IS NULL GROUP BY account",
        )
        .at(path)?;
    let counts = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .at(path)?
        .collect::<Result<Vec<_>, _>>()
        .at(path)?;
    for (account, assets) in counts {
        accounts.entry(account).or_default().assets = assets;
    }
    // The findings of current assets as the triggers of migration 0008
    // count them: results by status, and open findings by severity and
    // whether a mute covers them.
    let mut stmt = conn
        .prepare_cached(
            "SELECT account, result, severity, open, muted, sum(n) FROM finding_counts \
             WHERE live = 1 AND n > 0 GROUP BY 1, 2, 3, 4, 5",
        )
        .at(path)?;
    let groups = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, bool>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })
        .at(path)?
        .collect::<Result<Vec<_>, _>>()
        .at(path)?;
    let mut results: BTreeMap<String, i64> = BTreeMap::new();
    let mut open_by_severity: BTreeMap<Severity, i64> = BTreeMap::new();
    let mut muted = 0;
    for (account, result, severity, open, is_muted, count) in groups {
        let entry = accounts.entry(account).or_default();
        *results.entry(result.clone()).or_default() += count;
        *entry.results.entry(result).or_default() += count;
        if open && is_muted {
            muted += count;
        } else if open {
            *open_by_severity.entry(severity_from(severity)).or_default() += count;
            *entry.open.entry(severity_from(severity)).or_default() += count;
        }
    }
    Ok(Overview {
        assets: accounts.values().map(|a| a.assets).sum(),
        posture_score: score(&results),
        results,
        open_by_severity,
        muted,
        accounts: accounts
            .into_iter()
            .map(|(account, tally)| AccountPosture {
                account,
                assets: tally.assets,
                posture_score: score(&tally.results),
                open_by_severity: tally.open,
            })
            .collect(),
        trend: trend(conn, path, now, days)?,
    })
}

/// Findings opened and resolved per day, over the `days` days up to `now`.
fn trend(
    conn: &Connection,
    path: &Path,
    now: DateTime<Utc>,
    days: u32,
) -> Result<Vec<TrendDay>, StoreError> {
    const DAY_MS: i64 = 86_400_000;
    let today = ms(now).div_euclid(DAY_MS);
    let first = today - i64::from(days.max(1)) + 1;
    let mut per_day: BTreeMap<i64, (i64, i64)> = (first..=today).map(|d| (d, (0, 0))).collect();
    // Counted by the trigger of migration 0008 as events are appended.
    let mut stmt = conn
        .prepare_cached(
            "SELECT day, opened, resolved FROM finding_trend WHERE day BETWEEN ?1 AND ?2",
        )
        .at(path)?;
    let rows = stmt
        .query_map(params![first, today], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .at(path)?
        .collect::<Result<Vec<_>, _>>()
        .at(path)?;
    per_day.extend(
        rows.into_iter()
            .map(|(day, opened, resolved)| (day, (opened, resolved))),
    );
    Ok(per_day
        .into_iter()
        .map(|(day, (opened, resolved))| TrendDay {
            day: (time(0) + Duration::days(day))
                .format("%Y-%m-%d")
                .to_string(),
            opened,
            resolved,
        })
        .collect())
}

/// Latest results per account, rule and status, on current assets, as the
/// triggers of migration 0008 count them.
pub(super) fn result_counts(
    conn: &Connection,
    path: &Path,
) -> Result<Vec<ResultCount>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT account, rule_id, result, sum(n) FROM finding_counts \
             WHERE live = 1 AND n > 0 GROUP BY 1, 2, 3",
        )
        .at(path)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .at(path)?
        .collect::<Result<Vec<_>, _>>()
        .at(path)?;
    rows.into_iter()
        .map(|(account, rule_id, result, count)| {
            Ok(ResultCount {
                account,
                rule_id,
                result: named(path, &result, "result")?,
                count,
            })
        })
        .collect()
}
