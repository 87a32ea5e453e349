//! Findings and their latest results, the posture they add up to, and
//! mutes.

use super::{
    Arg, Database, Filter, SqlStore, args, json, name_of, rows, severity_from, severity_number,
};
use crate::error::StoreError;
use crate::lifecycle::{self, MuteCandidate};
use crate::query::{FindingQuery, Overview, ResultCount};
use crate::roles::Findings;
use chrono::{DateTime, Utc};
use parapet_core::{Finding, Mute, MuteSelector};
use std::sync::LazyLock;

/// A finding's columns. Its result was last seen when its asset was last
/// seen, if later than the result was last worked out: a result kept by
/// incremental evaluation stands as of every scan that sees its asset.
static FINDING_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    let asset_seen = super::last_seen_of("a");
    format!(
        "rule_id, asset_id, account, region, resource_type, severity, status, first_seen, \
         COALESCE((SELECT {asset_seen} FROM assets a WHERE a.id = findings.asset_id AND a.deleted_at IS NULL \
         AND {asset_seen} > findings.last_seen), findings.last_seen), \
         resolved_at, result, message, evidence, muted_by"
    )
});

impl<D: Database> Findings for SqlStore<D> {
    fn findings(&self, query: &FindingQuery) -> Result<Vec<Finding>, StoreError> {
        let mut filter = Filter::new(&format!(
            "SELECT {} FROM findings WHERE status IS NOT NULL",
            *FINDING_COLUMNS
        ));
        filter.any_of(
            "status",
            query.statuses.iter().map(|s| s.as_str().into()).collect(),
        );
        filter.condition(
            " AND severity <= ?",
            query.min_severity.map(|min| severity_number(min).into()),
        );
        filter.any_of(
            "severity",
            query
                .severities
                .iter()
                .map(|s| severity_number(*s).into())
                .collect(),
        );
        filter.any_of("rule_id", query.rule_ids.iter().map(Arg::from).collect());
        filter.equal("asset_id", query.asset_id.as_deref());
        filter.equal("account", query.account.as_deref());
        filter.equal("region", query.region.as_deref());
        filter.equal("resource_type", query.resource_type.as_deref());
        if !query.include_muted {
            filter.push(" AND muted_by IS NULL", []);
        }
        if let Some(after) = &query.after {
            filter.push(
                " AND (severity, rule_id, asset_id) > (?, ?, ?)",
                [
                    severity_number(after.severity).into(),
                    Arg::from(&after.rule_id),
                    Arg::from(&after.asset_id),
                ],
            );
        }
        filter.push(
            " ORDER BY severity, rule_id, asset_id LIMIT ? OFFSET ?",
            [(query.limit as i64).into(), (query.offset as i64).into()],
        );
        rows(&self.db, &filter.sql, &filter.args, read_finding)
    }

    fn results(&self, account: Option<&str>) -> Result<Vec<Finding>, StoreError> {
        // With an account, the live assets are those of the account: else
        // every live asset of the estate is looked up for its findings.
        let mut filter = Filter::new(&format!(
            "SELECT {} FROM findings WHERE asset_id IN (SELECT id FROM assets WHERE deleted_at IS NULL",
            *FINDING_COLUMNS
        ));
        filter.place("", None, account);
        filter.push(")", []);
        // The findings' own account too, which their index by account
        // (`findings_account`) narrows by.
        filter.equal("account", account);
        filter.push(" ORDER BY severity, rule_id, asset_id", []);
        rows(&self.db, &filter.sql, &filter.args, read_finding)
    }

    fn results_of(&self, asset_ids: &[&str]) -> Result<Vec<Finding>, StoreError> {
        let mut found = Vec::new();
        super::for_each_row_in(
            &self.db,
            asset_ids,
            |marks| {
                format!(
                    "SELECT {} FROM findings WHERE asset_id IN ({marks}) AND EXISTS \
                     (SELECT 1 FROM assets live WHERE live.id = findings.asset_id AND live.deleted_at IS NULL) \
                     ORDER BY severity, rule_id, asset_id",
                    *FINDING_COLUMNS
                )
            },
            &mut |r| {
                found.push(read_finding(r)?);
                Ok(())
            },
        )?;
        Ok(found)
    }

    fn finding(&self, rule_id: &str, asset_id: &str) -> Result<Option<Finding>, StoreError> {
        super::first(
            &self.db,
            &format!(
                "SELECT {} FROM findings WHERE rule_id = ?1 AND asset_id = ?2",
                *FINDING_COLUMNS
            ),
            args![rule_id, asset_id],
            read_finding,
        )
    }

    fn result_counts(&self) -> Result<Vec<ResultCount>, StoreError> {
        super::inventory::result_counts(&self.db)
    }

    fn overview(&self, now: DateTime<Utc>, days: u32) -> Result<Overview, StoreError> {
        super::inventory::overview(&self.db, now, days)
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
        read_mutes(&self.db, include_lifted)
    }
}

/// A finding from a row of `FINDING_COLUMNS`.
fn read_finding(r: &dyn super::Row) -> Result<Finding, StoreError> {
    Ok(Finding {
        rule_id: r.text(0)?,
        asset_id: r.text(1)?,
        account: r.text(2)?,
        region: r.text(3)?,
        resource_type: r.text(4)?,
        severity: severity_from(r.int(5)?),
        status: r
            .opt_text(6)?
            .map(|s| super::named(r.database(), &s, "finding status"))
            .transpose()?,
        first_seen: r.opt_time(7)?,
        last_seen: r.time(8)?,
        resolved_at: r.opt_time(9)?,
        result: name_of(r, 10, "evaluation status")?,
        message: r.text(11)?,
        evidence: json(r, 12, "evidence")?,
        muted_by: r.opt_int(13)?,
    })
}

/// Every mute, lifted ones too when asked.
pub(super) fn read_mutes<D: Database>(
    db: &D,
    include_lifted: bool,
) -> Result<Vec<Mute>, StoreError> {
    let sql = if include_lifted {
        "SELECT id, selector, reason, author, created_at, expires_at, lifted_at FROM mutes ORDER BY id"
    } else {
        "SELECT id, selector, reason, author, created_at, expires_at, lifted_at FROM mutes WHERE lifted_at IS NULL ORDER BY id"
    };
    rows(db, sql, &[], |r| {
        Ok(Mute {
            id: r.int(0)?,
            selector: json(r, 1, "mute selector")?,
            reason: r.text(2)?,
            author: r.text(3)?,
            created_at: r.time(4)?,
            expires_at: r.opt_time(5)?,
            lifted_at: r.opt_time(6)?,
        })
    })
}

/// Findings (pairs that have failed at least once) muted by `muted_by`
/// (`None`: not muted), with their assets' tags; narrowed in SQL by the
/// exact criteria of `selector`, where given, and matched in full by the
/// caller.
pub(super) fn mute_candidates<D: Database>(
    db: &D,
    muted_by: Option<i64>,
    selector: Option<&MuteSelector>,
) -> Result<Vec<MuteCandidate>, StoreError> {
    let mut filter = Filter::new(
        "SELECT f.rule_id, f.asset_id, f.account, f.region, a.tags FROM findings f \
         JOIN assets a ON a.id = f.asset_id \
         WHERE f.status IS NOT NULL",
    );
    match muted_by {
        Some(mute) => filter.push(" AND f.muted_by = ?", [mute.into()]),
        None => filter.push(" AND f.muted_by IS NULL", []),
    }
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
    rows(db, &filter.sql, &filter.args, |r| {
        Ok(MuteCandidate {
            rule_id: r.text(0)?,
            asset_id: r.text(1)?,
            account: r.text(2)?,
            region: r.text(3)?,
            tags: json(r, 4, "asset tags")?,
        })
    })
}
