//! Assets as they are and were (versions, the version current at a time,
//! names), the vulnerability scans attached to them, and the timeline.

use super::{
    Arg, Database, Filter, SqlStore, args, decode, encode, first, json, ms, name_of, rows, time,
};
use crate::error::StoreError;
use crate::query::{AssetQuery, AssetSummary, AssetVersion, EventQuery, Facets, StoredEvent};
use crate::roles::{Inventory, Timeline};
use chrono::{DateTime, Utc};
use parapet_core::diff::diff;
use parapet_core::{Asset, ContentHash, Event, EventKind};
use std::collections::HashMap;

/// A stored version: number, hash, when observed, document.
struct Version {
    version: i64,
    hash: String,
    observed: i64,
    document: String,
}

fn read_version_row(r: &dyn super::Row) -> Result<Version, StoreError> {
    Ok(Version {
        version: r.int(0)?,
        hash: r.text(1)?,
        observed: r.int(2)?,
        document: r.text(3)?,
    })
}

impl Version {
    fn into_asset_version(
        self,
        database: &str,
        deleted_at: Option<i64>,
    ) -> Result<AssetVersion, StoreError> {
        let asset = read_version(database, &self.document, self.observed)?;
        Ok(AssetVersion {
            version: self.version,
            content_hash: parse_hash(&self.hash).unwrap_or_else(|| asset.content_hash()),
            observed_at: time(self.observed),
            deleted_at: deleted_at.map(time),
            asset,
        })
    }
}

impl<D: Database> Inventory for SqlStore<D> {
    fn asset_history(&self, asset_id: &str) -> Result<Vec<AssetVersion>, StoreError> {
        let deleted_at = first(
            &self.db,
            "SELECT deleted_at FROM assets WHERE id = ?1",
            args![asset_id],
            |r| r.opt_int(0),
        )?
        .flatten();
        let versions = rows(
            &self.db,
            "SELECT version, content_hash, observed_at, document FROM asset_versions WHERE asset_id = ?1 ORDER BY version",
            args![asset_id],
            read_version_row,
        )?;
        let last = versions.len();
        versions
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                v.into_asset_version(
                    self.db.name(),
                    if i + 1 == last { deleted_at } else { None },
                )
            })
            .collect()
    }

    fn asset_at(
        &self,
        asset_id: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<Option<AssetVersion>, StoreError> {
        let at_ms = at.map_or(i64::MAX, ms);
        let Some(version) = first(
            &self.db,
            "SELECT version, content_hash, observed_at, document FROM asset_versions \
             WHERE asset_id = ?1 AND observed_at <= ?2 ORDER BY version DESC LIMIT 1",
            args![asset_id, at_ms],
            read_version_row,
        )?
        else {
            return Ok(None);
        };
        let deleted_at = first(
            &self.db,
            "SELECT deleted_at FROM assets WHERE id = ?1 AND version = ?2",
            args![asset_id, version.version],
            |r| r.opt_int(0),
        )?
        .flatten()
        .filter(|d| *d <= at_ms);
        version
            .into_asset_version(self.db.name(), deleted_at)
            .map(Some)
    }

    fn assets(&self, query: &AssetQuery) -> Result<Vec<AssetSummary>, StoreError> {
        super::inventory::assets(&self.db, query)
    }

    fn count_assets(&self, query: &AssetQuery) -> Result<i64, StoreError> {
        super::inventory::count_assets(&self.db, query)
    }

    fn facets(&self) -> Result<Facets, StoreError> {
        super::inventory::facets(&self.db)
    }

    fn current_assets(&self, account: Option<&str>) -> Result<Vec<Asset>, StoreError> {
        let mut filter = Filter::new(
            "SELECT v.document, v.observed_at FROM assets a \
             JOIN asset_versions v ON v.asset_id = a.id AND v.version = a.version \
             WHERE a.deleted_at IS NULL",
        );
        filter.place("a.", None, account);
        rows(&self.db, &filter.sql, &filter.args, |r| {
            read_version(r.database(), &r.text(0)?, r.int(1)?)
        })
    }

    fn asset_names(&self, account: Option<&str>) -> Result<HashMap<String, String>, StoreError> {
        let mut filter = Filter::new("SELECT id, name FROM assets WHERE deleted_at IS NULL");
        filter.place("", None, account);
        Ok(rows(&self.db, &filter.sql, &filter.args, |r| {
            Ok((r.text(0)?, r.text(1)?))
        })?
        .into_iter()
        .collect())
    }

    fn attach_vulnerabilities(
        &mut self,
        asset_id: &str,
        scan: &parapet_core::VulnerabilityScan,
    ) -> Result<(), StoreError> {
        self.write(
            "INSERT INTO vulnerability_scans (asset_id, scanned_at, scan) VALUES (?1, ?2, ?3) \
             ON CONFLICT (asset_id) DO UPDATE SET scanned_at = excluded.scanned_at, scan = excluded.scan",
            args![asset_id, ms(scan.scanned_at), encode(scan)],
        )?;
        Ok(())
    }

    fn vulnerability_scans(
        &self,
    ) -> Result<HashMap<String, parapet_core::VulnerabilityScan>, StoreError> {
        Ok(rows(
            &self.db,
            "SELECT asset_id, scan FROM vulnerability_scans",
            &[],
            |r| Ok((r.text(0)?, json(r, 1, "vulnerability scan")?)),
        )?
        .into_iter()
        .collect())
    }
}

impl<D: Database> Timeline for SqlStore<D> {
    fn events(&self, query: &EventQuery) -> Result<Vec<StoredEvent>, StoreError> {
        let mut filter = Filter::new(
            "SELECT id, at, kind, asset_id, account, rule_id, scan_id, detail FROM events WHERE 1 = 1",
        );
        filter.equal("asset_id", query.asset_id.as_deref());
        filter.equal("account", query.account.as_deref());
        filter.equal("rule_id", query.rule_id.as_deref());
        filter.any_of(
            "kind",
            query.kinds.iter().map(|k| k.as_str().into()).collect(),
        );
        filter.condition(" AND at >= ?", query.since.map(|t| ms(t).into()));
        filter.condition(" AND at < ?", query.until.map(|t| ms(t).into()));
        filter.condition(" AND id < ?", query.before_id.map(Arg::from));
        filter.condition(" AND id > ?", query.after_id.map(Arg::from));
        filter.push(
            if query.after_id.is_some() {
                " ORDER BY id LIMIT ?"
            } else {
                " ORDER BY id DESC LIMIT ?"
            },
            [(query.limit as i64).into()],
        );
        let events = rows(&self.db, &filter.sql, &filter.args, |r| {
            Ok(StoredEvent {
                id: r.int(0)?,
                scan_id: r.opt_int(6)?,
                event: Event {
                    at: r.time(1)?,
                    kind: name_of(r, 2, "event kind")?,
                    asset_id: r.text(3)?,
                    account: r.text(4)?,
                    rule_id: r.opt_text(5)?,
                    detail: json(r, 7, "event detail")?,
                },
            })
        })?;
        events
            .into_iter()
            .map(|mut stored| {
                if stored.event.kind == EventKind::AssetChanged {
                    self.add_changes(&stored.event.asset_id, &mut stored.event.detail)?;
                }
                Ok(stored)
            })
            .collect()
    }
}

impl<D: Database> SqlStore<D> {
    /// Adds to an `asset_changed` event's detail the fields that changed
    /// between its `previous_version` and `version`, by JSON path.
    fn add_changes(
        &self,
        asset_id: &str,
        detail: &mut serde_json::Value,
    ) -> Result<(), StoreError> {
        let (Some(previous), Some(version)) = (
            detail
                .get("previous_version")
                .and_then(serde_json::Value::as_i64),
            detail.get("version").and_then(serde_json::Value::as_i64),
        ) else {
            return Ok(());
        };
        let document = |v: i64| -> Result<Option<serde_json::Value>, StoreError> {
            first(
                &self.db,
                "SELECT document FROM asset_versions WHERE asset_id = ?1 AND version = ?2",
                args![asset_id, v],
                |r| json(r, 0, "asset version"),
            )
        };
        if let (Some(old), Some(new)) = (document(previous)?, document(version)?) {
            let changes: Vec<serde_json::Value> = diff(&old, &new)
                .into_iter()
                .map(|c| serde_json::json!({"path": c.path, "kind": c.kind}))
                .collect();
            detail["changes"] = serde_json::Value::Array(changes);
        }
        Ok(())
    }
}

/// An asset from a stored version: its content document and the time it
/// was observed.
fn read_version(database: &str, document: &str, observed: i64) -> Result<Asset, StoreError> {
    let mut doc: serde_json::Value = decode(database, document, "asset version")?;
    if let Some(map) = doc.as_object_mut() {
        map.insert(
            "observed_at".to_owned(),
            serde_json::to_value(time(observed)).unwrap_or_default(),
        );
    }
    serde_json::from_value(doc).map_err(|source| StoreError::Corrupt {
        database: database.to_owned(),
        what: "asset version",
        source,
    })
}

fn parse_hash(text: &str) -> Option<ContentHash> {
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()?;
    bytes.try_into().ok().map(ContentHash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_round_trip_through_text() {
        let hash = ContentHash([7; 32]);
        assert_eq!(parse_hash(&hash.to_string()), Some(hash));
        assert_eq!(parse_hash("zz"), None);
    }
}
