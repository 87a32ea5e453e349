//! Assets as they are and were (versions, the version current at a time,
//! names), the vulnerability scans attached to them, and the timeline.

use super::{AtPath, Filter, SqliteStore, decode, encode, ms, named, time};
use crate::error::StoreError;
use crate::query::{AssetQuery, AssetSummary, AssetVersion, EventQuery, Facets, StoredEvent};
use crate::roles::{Inventory, Timeline};
use chrono::{DateTime, Utc};
use parapet_core::diff::diff;
use parapet_core::{Asset, ContentHash, Event, EventKind};
use rusqlite::types::Value as SqlValue;
use rusqlite::{OptionalExtension, params, params_from_iter};
use std::path::Path;

impl Inventory for SqliteStore {
    fn asset_history(&self, asset_id: &str) -> Result<Vec<AssetVersion>, StoreError> {
        let deleted_at: Option<i64> = self
            .conn
            .query_row(
                "SELECT deleted_at FROM assets WHERE id = ?1",
                params![asset_id],
                |r| r.get(0),
            )
            .optional()
            .at(&self.path)?
            .flatten();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT version, content_hash, observed_at, document FROM asset_versions WHERE asset_id = ?1 ORDER BY version",
            )
            .at(&self.path)?;
        let rows = stmt
            .query_map(params![asset_id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .at(&self.path)?
            .collect::<Result<Vec<_>, _>>()
            .at(&self.path)?;
        let last = rows.len();
        rows.into_iter()
            .enumerate()
            .map(|(i, (version, hash, observed, document))| {
                let asset = read_version(&self.path, &document, observed)?;
                Ok(AssetVersion {
                    version,
                    content_hash: parse_hash(&hash).unwrap_or_else(|| asset.content_hash()),
                    observed_at: time(observed),
                    deleted_at: if i + 1 == last {
                        deleted_at.map(time)
                    } else {
                        None
                    },
                    asset,
                })
            })
            .collect()
    }

    fn asset_at(
        &self,
        asset_id: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<Option<AssetVersion>, StoreError> {
        let at_ms = at.map_or(i64::MAX, ms);
        let row: Option<(i64, String, i64, String)> = self
            .conn
            .query_row(
                "SELECT version, content_hash, observed_at, document FROM asset_versions \
                 WHERE asset_id = ?1 AND observed_at <= ?2 ORDER BY version DESC LIMIT 1",
                params![asset_id, at_ms],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .at(&self.path)?;
        let Some((version, hash, observed, document)) = row else {
            return Ok(None);
        };
        let deleted_at: Option<i64> = self
            .conn
            .query_row(
                "SELECT deleted_at FROM assets WHERE id = ?1 AND version = ?2",
                params![asset_id, version],
                |r| r.get(0),
            )
            .optional()
            .at(&self.path)?
            .flatten()
            .filter(|d| *d <= at_ms);
        let asset = read_version(&self.path, &document, observed)?;
        Ok(Some(AssetVersion {
            version,
            content_hash: parse_hash(&hash).unwrap_or_else(|| asset.content_hash()),
            observed_at: time(observed),
            deleted_at: deleted_at.map(time),
            asset,
        }))
    }

    fn assets(&self, query: &AssetQuery) -> Result<Vec<AssetSummary>, StoreError> {
        super::inventory::assets(&self.conn, &self.path, query)
    }

    fn count_assets(&self, query: &AssetQuery) -> Result<i64, StoreError> {
        super::inventory::count_assets(&self.conn, &self.path, query)
    }

    fn facets(&self) -> Result<Facets, StoreError> {
        super::inventory::facets(&self.conn, &self.path)
    }

    fn current_assets(&self, account: Option<&str>) -> Result<Vec<Asset>, StoreError> {
        let mut filter = Filter::new(
            "SELECT v.document, v.observed_at FROM assets a \
             JOIN asset_versions v ON v.asset_id = a.id AND v.version = a.version \
             WHERE a.deleted_at IS NULL",
        );
        filter.equal("a.account", account);
        let mut stmt = self.conn.prepare(&filter.sql).at(&self.path)?;
        let rows: Vec<(String, i64)> = stmt
            .query_map(params_from_iter(filter.args), |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .at(&self.path)?
            .collect::<Result<_, _>>()
            .at(&self.path)?;
        rows.iter()
            .map(|(document, observed)| read_version(&self.path, document, *observed))
            .collect()
    }

    fn asset_names(
        &self,
        account: Option<&str>,
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        let mut filter = Filter::new("SELECT id, name FROM assets WHERE deleted_at IS NULL");
        filter.equal("account", account);
        let mut stmt = self.conn.prepare(&filter.sql).at(&self.path)?;
        let rows = stmt
            .query_map(params_from_iter(filter.args), |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .at(&self.path)?
            .collect::<Result<_, _>>()
            .at(&self.path)?;
        Ok(rows)
    }

    fn attach_vulnerabilities(
        &mut self,
        asset_id: &str,
        scan: &parapet_core::VulnerabilityScan,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO vulnerability_scans (asset_id, scanned_at, scan) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (asset_id) DO UPDATE SET scanned_at = ?2, scan = ?3",
                params![asset_id, ms(scan.scanned_at), encode(scan)],
            )
            .at(&self.path)?;
        self.committed();
        Ok(())
    }

    fn vulnerability_scans(
        &self,
    ) -> Result<std::collections::HashMap<String, parapet_core::VulnerabilityScan>, StoreError>
    {
        let mut stmt = self
            .conn
            .prepare("SELECT asset_id, scan FROM vulnerability_scans")
            .at(&self.path)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .at(&self.path)?;
        let mut scans = std::collections::HashMap::new();
        for row in rows {
            let (asset_id, scan) = row.at(&self.path)?;
            scans.insert(asset_id, decode(&self.path, &scan, "vulnerability scan")?);
        }
        Ok(scans)
    }
}

impl Timeline for SqliteStore {
    fn events(&self, query: &EventQuery) -> Result<Vec<StoredEvent>, StoreError> {
        let mut filter = Filter::new(
            "SELECT id, at, kind, asset_id, account, rule_id, scan_id, detail FROM events WHERE 1 = 1",
        );
        filter.equal("asset_id", query.asset_id.as_deref());
        filter.equal("account", query.account.as_deref());
        filter.equal("rule_id", query.rule_id.as_deref());
        filter.any_of("kind", query.kinds.iter().map(|k| k.as_str()));
        filter.condition(
            " AND at >= ?",
            query.since.map(|t| SqlValue::Integer(ms(t))),
        );
        filter.condition(" AND at < ?", query.until.map(|t| SqlValue::Integer(ms(t))));
        filter.condition(" AND id < ?", query.before_id.map(SqlValue::Integer));
        filter.condition(" AND id > ?", query.after_id.map(SqlValue::Integer));
        let (mut sql, mut args) = (filter.sql, filter.args);
        sql.push_str(if query.after_id.is_some() {
            " ORDER BY id LIMIT ?"
        } else {
            " ORDER BY id DESC LIMIT ?"
        });
        args.push(SqlValue::Integer(query.limit as i64));
        let mut stmt = self.conn.prepare_cached(&sql).at(&self.path)?;
        let rows = stmt
            .query_map(params_from_iter(args), |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<i64>>(6)?,
                    r.get::<_, String>(7)?,
                ))
            })
            .at(&self.path)?
            .collect::<Result<Vec<_>, _>>()
            .at(&self.path)?;
        rows.into_iter()
            .map(
                |(id, at, kind, asset_id, account, rule_id, scan_id, detail)| {
                    let kind: EventKind = named(&self.path, &kind, "event kind")?;
                    let mut detail: serde_json::Value = self.decode(&detail, "event detail")?;
                    if kind == EventKind::AssetChanged {
                        self.add_changes(&asset_id, &mut detail)?;
                    }
                    Ok(StoredEvent {
                        id,
                        scan_id,
                        event: Event {
                            at: time(at),
                            kind,
                            asset_id,
                            account,
                            rule_id,
                            detail,
                        },
                    })
                },
            )
            .collect()
    }
}

impl SqliteStore {
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
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT document FROM asset_versions WHERE asset_id = ?1 AND version = ?2",
            )
            .at(&self.path)?;
        let mut document = |v: i64| -> Result<Option<serde_json::Value>, StoreError> {
            let text: Option<String> = stmt
                .query_row(params![asset_id, v], |r| r.get(0))
                .optional()
                .at(&self.path)?;
            text.map(|t| decode(&self.path, &t, "asset version"))
                .transpose()
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
fn read_version(path: &Path, document: &str, observed: i64) -> Result<Asset, StoreError> {
    let mut doc: serde_json::Value = decode(path, document, "asset version")?;
    if let Some(map) = doc.as_object_mut() {
        map.insert(
            "observed_at".to_owned(),
            serde_json::to_value(time(observed)).unwrap_or_default(),
        );
    }
    serde_json::from_value(doc).map_err(|source| StoreError::Corrupt {
        path: path.to_owned(),
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
