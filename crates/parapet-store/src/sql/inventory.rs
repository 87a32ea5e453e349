//! The inventory as the API and the web UI read it: assets listed by filter
//! one page at a time, and the overview of the whole estate, each answered
//! by a few aggregate queries rather than by reading documents.

use super::{Arg, Database, Filter, args, json, ms, name_of, rows, severity_from, time};
use crate::error::StoreError;
use crate::query::{
    AccountPosture, AssetQuery, AssetSummary, Facets, Overview, ResultCount, TrendDay,
};
use chrono::{DateTime, Duration, Utc};
use parapet_core::Severity;
use std::collections::BTreeMap;

/// The WHERE clause of `query`'s filters, paging aside. A listing in id
/// order (`in_id_order`) walks the table by id and filters deletions as it
/// goes; a count reads the `assets_place` index.
fn filter<'a, D: Database>(select: &str, query: &'a AssetQuery, in_id_order: bool) -> Filter<'a> {
    let mut filter = Filter::new(select);
    if !query.include_deleted {
        filter.push(
            if in_id_order {
                " AND +deleted_at IS NULL"
            } else {
                " AND deleted_at IS NULL"
            },
            [],
        );
    }
    filter.place("", query.provider.as_deref(), query.account.as_deref());
    filter.equal("region", query.region.as_deref());
    filter.equal("resource_type", query.resource_type.as_deref());
    if let Some((key, value)) = &query.tag {
        filter.push(
            &format!(" AND {}", D::DIALECT.has_tag),
            [
                Arg::from(key),
                Arg::from(value.as_ref()),
                Arg::from(value.as_ref()),
            ],
        );
    }
    if let Some(text) = &query.text {
        let position = D::DIALECT.position;
        filter.push(
            &format!(
                " AND ({position}(lower(id), lower(?)) > 0 OR {position}(lower(name), lower(?)) > 0)"
            ),
            [Arg::from(text), Arg::from(text)],
        );
    }
    filter
}

/// Assets matching `query`, in id order, with their open findings counted.
pub(super) fn assets<D: Database>(
    db: &D,
    query: &AssetQuery,
) -> Result<Vec<AssetSummary>, StoreError> {
    let mut filter = filter::<D>(
        &format!(
            "SELECT id, provider, account, region, resource_type, name, tags, version, first_seen, {}, deleted_at, \
             (SELECT count(*) FROM findings f WHERE f.asset_id = assets.id AND f.status IN ('open', 'reopened') AND f.muted_by IS NULL) \
             FROM assets WHERE 1 = 1",
            super::last_seen_of("assets")
        ),
        query,
        true,
    );
    filter.condition(" AND id > ?", query.after.as_ref().map(Arg::from));
    filter.push(" ORDER BY id LIMIT ?", [(query.limit as i64).into()]);
    rows(db, &filter.sql, &filter.args, |r| {
        Ok(AssetSummary {
            id: r.text(0)?,
            provider: r.text(1)?,
            account: r.text(2)?,
            region: r.text(3)?,
            resource_type: r.text(4)?,
            name: r.text(5)?,
            tags: json(r, 6, "asset tags")?,
            version: r.int(7)?,
            first_seen: r.time(8)?,
            last_seen: r.time(9)?,
            deleted_at: r.opt_time(10)?,
            open_findings: r.int(11)?,
        })
    })
}

/// How many assets match `query`.
pub(super) fn count_assets<D: Database>(db: &D, query: &AssetQuery) -> Result<i64, StoreError> {
    let filter = filter::<D>("SELECT count(*) FROM assets WHERE 1 = 1", query, false);
    Ok(super::first(db, &filter.sql, &filter.args, |r| r.int(0))?.unwrap_or(0))
}

/// The values of each filterable column among current assets, counted, in
/// one pass over the `assets_place` index.
pub(super) fn facets<D: Database>(db: &D) -> Result<Facets, StoreError> {
    let mut facets = Facets::default();
    let groups = rows(
        db,
        "SELECT provider, account, region, resource_type, count(*) FROM assets \
         WHERE deleted_at IS NULL GROUP BY provider, account, region, resource_type",
        &[],
        |r| Ok((r.text(0)?, r.text(1)?, r.text(2)?, r.text(3)?, r.int(4)?)),
    )?;
    for (provider, account, region, resource_type, count) in groups {
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
pub(super) fn overview<D: Database>(
    db: &D,
    now: DateTime<Utc>,
    days: u32,
) -> Result<Overview, StoreError> {
    let mut accounts: BTreeMap<String, Tally> = BTreeMap::new();
    let counts = rows(
        db,
        "SELECT account, count(*) FROM assets WHERE deleted_at IS NULL GROUP BY account",
        &[],
        |r| Ok((r.text(0)?, r.int(1)?)),
    )?;
    for (account, assets) in counts {
        accounts.entry(account).or_default().assets = assets;
    }
    // The findings of current assets as the schema's triggers count them:
    // results by status, and open findings by severity and whether a mute
    // covers them.
    let groups = rows(
        db,
        "SELECT account, result, severity, open, muted, CAST(sum(n) AS BIGINT) FROM finding_counts \
         WHERE live = 1 AND n > 0 GROUP BY account, result, severity, open, muted",
        &[],
        |r| {
            Ok((
                r.text(0)?,
                r.text(1)?,
                r.int(2)?,
                r.int(3)? != 0,
                r.int(4)? != 0,
                r.int(5)?,
            ))
        },
    )?;
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
        trend: trend(db, now, days)?,
    })
}

/// Findings opened and resolved per day, over the `days` days up to `now`.
fn trend<D: Database>(db: &D, now: DateTime<Utc>, days: u32) -> Result<Vec<TrendDay>, StoreError> {
    const DAY_MS: i64 = 86_400_000;
    let today = ms(now).div_euclid(DAY_MS);
    let first = today - i64::from(days.max(1)) + 1;
    let mut per_day: BTreeMap<i64, (i64, i64)> = (first..=today).map(|d| (d, (0, 0))).collect();
    // Counted by the schema's trigger as events are appended.
    per_day.extend(rows(
        db,
        "SELECT day, opened, resolved FROM finding_trend WHERE day BETWEEN ?1 AND ?2",
        args![first, today],
        |r| Ok((r.int(0)?, (r.int(1)?, r.int(2)?))),
    )?);
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
/// schema's triggers count them.
pub(super) fn result_counts<D: Database>(db: &D) -> Result<Vec<ResultCount>, StoreError> {
    rows(
        db,
        "SELECT account, rule_id, result, CAST(sum(n) AS BIGINT) FROM finding_counts \
         WHERE live = 1 AND n > 0 GROUP BY account, rule_id, result",
        &[],
        |r| {
            Ok(ResultCount {
                account: r.text(0)?,
                rule_id: r.text(1)?,
                result: name_of(r, 2, "result")?,
                count: r.int(3)?,
            })
        },
    )
}
