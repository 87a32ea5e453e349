//! Findings and their latest results, the posture they add up to, and
//! mutes.

use super::{AtPath, Filter, SqliteStore, decode, named, severity_from, severity_number, time};
use crate::error::StoreError;
use crate::lifecycle::{self, MuteCandidate};
use crate::query::{FindingQuery, Overview, ResultCount};
use crate::roles::Findings;
use chrono::{DateTime, Utc};
use parapet_core::{Finding, Mute, MuteSelector};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params_from_iter};
use std::path::Path;

const FINDING_COLUMNS: &str = "rule_id, asset_id, account, region, resource_type, severity, status, first_seen, last_seen, resolved_at, result, message, evidence, muted_by";

impl Findings for SqliteStore {
    fn findings(&self, query: &FindingQuery) -> Result<Vec<Finding>, StoreError> {
        let mut filter = Filter::new(&format!(
            "SELECT {FINDING_COLUMNS} FROM findings WHERE status IS NOT NULL"
        ));
        filter.any_of("status", query.statuses.iter().map(|s| s.as_str()));
        filter.condition(
            " AND severity <= ?",
            query
                .min_severity
                .map(|min| SqlValue::Integer(severity_number(min))),
        );
        filter.any_of_values(
            "severity",
            query
                .severities
                .iter()
                .map(|s| SqlValue::Integer(severity_number(*s)))
                .collect(),
        );
        filter.any_of("rule_id", query.rule_ids.iter().map(String::as_str));
        filter.equal("asset_id", query.asset_id.as_deref());
        filter.equal("account", query.account.as_deref());
        filter.equal("region", query.region.as_deref());
        filter.equal("resource_type", query.resource_type.as_deref());
        let (mut sql, mut args) = (filter.sql, filter.args);
        if !query.include_muted {
            sql.push_str(" AND muted_by IS NULL");
        }
        if let Some(after) = &query.after {
            sql.push_str(" AND (severity, rule_id, asset_id) > (?, ?, ?)");
            args.extend([
                SqlValue::Integer(severity_number(after.severity)),
                SqlValue::Text(after.rule_id.clone()),
                SqlValue::Text(after.asset_id.clone()),
            ]);
        }
        sql.push_str(" ORDER BY severity, rule_id, asset_id LIMIT ? OFFSET ?");
        args.push(SqlValue::Integer(query.limit as i64));
        args.push(SqlValue::Integer(query.offset as i64));
        self.query_findings(&sql, args)
    }

    fn results(&self, account: Option<&str>) -> Result<Vec<Finding>, StoreError> {
        let mut filter = Filter::new(&format!(
            "SELECT {FINDING_COLUMNS} FROM findings WHERE asset_id IN (SELECT id FROM assets WHERE deleted_at IS NULL)"
        ));
        filter.equal("account", account);
        let (mut sql, args) = (filter.sql, filter.args);
        sql.push_str(" ORDER BY severity, rule_id, asset_id");
        self.query_findings(&sql, args)
    }

    fn finding(&self, rule_id: &str, asset_id: &str) -> Result<Option<Finding>, StoreError> {
        let sql =
            format!("SELECT {FINDING_COLUMNS} FROM findings WHERE rule_id = ? AND asset_id = ?");
        Ok(self
            .query_findings(
                &sql,
                vec![
                    SqlValue::Text(rule_id.to_owned()),
                    SqlValue::Text(asset_id.to_owned()),
                ],
            )?
            .into_iter()
            .next())
    }

    fn result_counts(&self) -> Result<Vec<ResultCount>, StoreError> {
        super::inventory::result_counts(&self.conn, &self.path)
    }

    fn overview(&self, now: DateTime<Utc>, days: u32) -> Result<Overview, StoreError> {
        super::inventory::overview(&self.conn, &self.path, now, days)
    }

    fn add_mute(
        &mut self,
        selector: &MuteSelector,
        reason: &str,
        author: &str,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(Mute, usize), StoreError> {
        self.in_ledger(|ledger, _| {
            lifecycle::mutes::add(ledger, selector, reason, author, expires_at, now)
        })
    }

    fn lift_mute(&mut self, mute_id: i64, now: DateTime<Utc>) -> Result<Mute, StoreError> {
        self.in_ledger(|ledger, _| lifecycle::mutes::lift(ledger, mute_id, now))
    }

    fn expire_mutes(&mut self, now: DateTime<Utc>) -> Result<Vec<Mute>, StoreError> {
        self.in_ledger(|ledger, _| lifecycle::mutes::expire(ledger, now))
    }

    fn mutes(&self, include_lifted: bool) -> Result<Vec<Mute>, StoreError> {
        read_mutes(&self.conn, &self.path, include_lifted)
    }
}

impl SqliteStore {
    fn query_findings(&self, sql: &str, args: Vec<SqlValue>) -> Result<Vec<Finding>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).at(&self.path)?;
        let rows = stmt
            .query_map(params_from_iter(args), |r| {
                Ok((
                    (
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, i64>(5)?,
                        r.get::<_, Option<String>>(6)?,
                    ),
                    (
                        r.get::<_, Option<i64>>(7)?,
                        r.get::<_, i64>(8)?,
                        r.get::<_, Option<i64>>(9)?,
                        r.get::<_, String>(10)?,
                        r.get::<_, String>(11)?,
                        r.get::<_, String>(12)?,
                        r.get::<_, Option<i64>>(13)?,
                    ),
                ))
            })
            .at(&self.path)?
            .collect::<Result<Vec<_>, _>>()
            .at(&self.path)?;
        rows.into_iter()
            .map(
                |(
                    (rule_id, asset_id, account, region, resource_type, severity, status),
                    (first_seen, last_seen, resolved_at, result, message, evidence, muted_by),
                )| {
                    Ok(Finding {
                        rule_id,
                        asset_id,
                        account,
                        region,
                        resource_type,
                        severity: severity_from(severity),
                        status: status
                            .map(|s| named(&self.path, &s, "finding status"))
                            .transpose()?,
                        first_seen: first_seen.map(time),
                        last_seen: time(last_seen),
                        resolved_at: resolved_at.map(time),
                        result: named(&self.path, &result, "evaluation status")?,
                        message,
                        evidence: self.decode(&evidence, "evidence")?,
                        muted_by,
                    })
                },
            )
            .collect()
    }
}

/// Every mute, lifted ones too when asked.
pub(super) fn read_mutes(
    conn: &Connection,
    path: &Path,
    include_lifted: bool,
) -> Result<Vec<Mute>, StoreError> {
    let sql = if include_lifted {
        "SELECT id, selector, reason, author, created_at, expires_at, lifted_at FROM mutes ORDER BY id"
    } else {
        "SELECT id, selector, reason, author, created_at, expires_at, lifted_at FROM mutes WHERE lifted_at IS NULL ORDER BY id"
    };
    let mut stmt = conn.prepare_cached(sql).at(path)?;
    let rows = stmt
        .query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, i64>(4)?,
                row.get::<_, Option<i64>>(5)?,
                row.get::<_, Option<i64>>(6)?,
            ))
        })
        .at(path)?
        .collect::<Result<Vec<_>, _>>()
        .at(path)?;
    rows.into_iter()
        .map(|(id, selector, reason, author, created, expires, lifted)| {
            Ok(Mute {
                id,
                selector: decode::<MuteSelector>(path, &selector, "mute selector")?,
                reason,
                author,
                created_at: time(created),
                expires_at: expires.map(time),
                lifted_at: lifted.map(time),
            })
        })
        .collect()
}

/// Findings (pairs that have failed at least once) muted by `muted_by`
/// (`None`: not muted), with their assets' tags; narrowed in SQL by the
/// exact criteria of `selector`, where given, and matched in full by the
/// caller.
pub(super) fn mute_candidates(
    conn: &Connection,
    path: &Path,
    muted_by: Option<i64>,
    selector: Option<&MuteSelector>,
) -> Result<Vec<MuteCandidate>, StoreError> {
    let mut filter = Filter::new(
        "SELECT f.rule_id, f.asset_id, f.account, f.region, a.tags FROM findings f \
         JOIN assets a ON a.id = f.asset_id \
         WHERE f.status IS NOT NULL AND f.muted_by IS ?",
    );
    filter
        .args
        .push(muted_by.map_or(SqlValue::Null, SqlValue::Integer));
    if let Some(selector) = selector {
        filter.equal("f.rule_id", selector.rule_id.as_deref());
        filter.equal("f.account", selector.account.as_deref());
        filter.equal("f.region", selector.region.as_deref());
        filter.equal(
            "f.asset_id",
            selector
                .asset
                .as_deref()
                .filter(|a| !a.contains(['*', '?'])),
        );
    }
    let (sql, args) = (filter.sql, filter.args);
    let mut stmt = conn.prepare_cached(&sql).at(path)?;
    let rows = stmt
        .query_map(params_from_iter(args), |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
            ))
        })
        .at(path)?
        .collect::<Result<Vec<_>, _>>()
        .at(path)?;
    rows.into_iter()
        .map(|(rule_id, asset_id, account, region, tags)| {
            Ok(MuteCandidate {
                rule_id,
                asset_id,
                account,
                region,
                tags: decode(path, &tags, "asset tags")?,
            })
        })
        .collect()
}
