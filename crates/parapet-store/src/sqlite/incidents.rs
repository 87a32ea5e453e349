//! Incidents as they stand, and the notification outbox.

use super::{AtPath, SqliteStore, decode, ms, named, severity_from, time};
use crate::error::StoreError;
use crate::lifecycle;
use crate::query::{Incident, IncidentEvent, IncidentStatus, Notification, OutboxStatus};
use crate::roles::{Incidents, Outbox};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

impl Incidents for SqliteStore {
    fn incidents(
        &self,
        status: Option<IncidentStatus>,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Incident>, StoreError> {
        self.read_incidents(
            "WHERE (?1 IS NULL OR status = ?1) AND id < ?2 ORDER BY id DESC LIMIT ?3",
            params![
                status.map(IncidentStatus::as_str),
                before.unwrap_or(i64::MAX),
                limit as i64
            ],
        )
    }

    fn incident(&self, id: i64) -> Result<Option<(Incident, Vec<IncidentEvent>)>, StoreError> {
        let Some(incident) = self.read_incidents("WHERE id = ?1", params![id])?.pop() else {
            return Ok(None);
        };
        let path = &self.path;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT at, kind, detail FROM incident_events WHERE incident_id = ?1 ORDER BY id",
            )
            .at(path)?;
        let mut events = Vec::new();
        for row in stmt
            .query_map(params![id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .at(path)?
        {
            let (at, kind, detail) = row.at(path)?;
            events.push(IncidentEvent {
                at: time(at),
                kind,
                detail: decode(path, &detail, "incident event")?,
            });
        }
        Ok(Some((incident, events)))
    }

    fn acknowledge_incident(
        &mut self,
        id: i64,
        owner: &str,
        now: DateTime<Utc>,
    ) -> Result<Incident, StoreError> {
        let current = self.one_incident(id)?;
        self.in_ledger(|ledger, policy| {
            lifecycle::incidents::acknowledge(ledger, &current, owner, now, policy.router.is_some())
        })?;
        self.one_incident(id)
    }

    fn resolve_incident(
        &mut self,
        id: i64,
        who: &str,
        now: DateTime<Utc>,
    ) -> Result<Incident, StoreError> {
        let current = self.one_incident(id)?;
        if current.status == IncidentStatus::Resolved {
            return Ok(current);
        }
        self.in_ledger(|ledger, policy| {
            lifecycle::incidents::resolve(ledger, &current, who, now, policy.router.is_some())
        })?;
        self.one_incident(id)
    }
}

impl Outbox for SqliteStore {
    fn due_notifications(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Notification>, StoreError> {
        self.read_outbox(
            "WHERE status = 'pending' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2",
            params![ms(now), limit as i64],
        )
    }

    fn notification_delivered(&mut self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = ?1, last_error = NULL WHERE id = ?2",
                params![ms(now), id],
            )
            .at(&self.path)?;
        self.committed();
        Ok(())
    }

    fn notification_deferred(&mut self, id: i64, until: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET next_attempt_at = ?1 WHERE id = ?2 AND status = 'pending'",
                params![ms(until), id],
            )
            .at(&self.path)?;
        self.committed();
        Ok(())
    }

    fn notification_failed(
        &mut self,
        id: i64,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let status = if retry_at.is_some() {
            OutboxStatus::Pending
        } else {
            OutboxStatus::Failed
        };
        self.conn
            .execute(
                "UPDATE outbox SET status = ?1, attempts = attempts + 1, last_error = ?2, next_attempt_at = COALESCE(?3, next_attempt_at) WHERE id = ?4",
                params![status.as_str(), error, retry_at.map(ms), id],
            )
            .at(&self.path)?;
        self.committed();
        Ok(())
    }

    fn notifications(
        &self,
        status: Option<OutboxStatus>,
        limit: usize,
    ) -> Result<Vec<Notification>, StoreError> {
        match status {
            Some(status) => self.read_outbox(
                "WHERE status = ?1 ORDER BY id DESC LIMIT ?2",
                params![status.as_str(), limit as i64],
            ),
            None => self.read_outbox("ORDER BY id DESC LIMIT ?1", params![limit as i64]),
        }
    }

    fn channel_ref(&self, channel: &str, subject: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT reference FROM channel_refs WHERE channel = ?1 AND subject = ?2",
                params![channel, subject],
                |r| r.get(0),
            )
            .optional()
            .at(&self.path)
    }

    fn set_channel_ref(
        &mut self,
        channel: &str,
        subject: &str,
        reference: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO channel_refs (channel, subject, reference) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (channel, subject) DO UPDATE SET reference = ?3",
                params![channel, subject, reference],
            )
            .at(&self.path)?;
        self.committed();
        Ok(())
    }
}

impl SqliteStore {
    /// Incidents, selected and ordered by `tail`, with their findings.
    fn read_incidents(
        &self,
        tail: &str,
        values: impl rusqlite::Params,
    ) -> Result<Vec<Incident>, StoreError> {
        let path = &self.path;
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT id, group_key, title, severity, status, owner, opened_at, acknowledged_at, resolved_at FROM incidents {tail}"
            ))
            .at(path)?;
        let rows = stmt
            .query_map(values, |r| {
                Ok((
                    (
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ),
                    (
                        r.get::<_, i64>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, Option<String>>(5)?,
                    ),
                    (
                        r.get::<_, i64>(6)?,
                        r.get::<_, Option<i64>>(7)?,
                        r.get::<_, Option<i64>>(8)?,
                    ),
                ))
            })
            .at(path)?;
        let mut out = Vec::new();
        for row in rows {
            let ((id, group_key, title), (severity, status, owner), (opened, acked, resolved)) =
                row.at(path)?;
            let mut findings_stmt = self
                .conn
                .prepare_cached(
                    "SELECT i.rule_id, i.asset_id, f.status FROM incident_findings i \
                     LEFT JOIN findings f ON f.rule_id = i.rule_id AND f.asset_id = i.asset_id \
                     WHERE i.incident_id = ?1 ORDER BY i.rule_id, i.asset_id",
                )
                .at(path)?;
            let mut findings = Vec::new();
            let mut open_findings = 0;
            for found in findings_stmt
                .query_map(params![id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                    ))
                })
                .at(path)?
            {
                let (rule, asset, status) = found.at(path)?;
                if matches!(status.as_deref(), Some("open" | "reopened")) {
                    open_findings += 1;
                }
                findings.push((rule, asset));
            }
            out.push(Incident {
                id,
                group_key,
                title,
                severity: severity_from(severity),
                status: named(path, &status, "incident status")?,
                owner,
                opened_at: time(opened),
                acknowledged_at: acked.map(time),
                resolved_at: resolved.map(time),
                findings,
                open_findings,
            });
        }
        Ok(out)
    }

    fn one_incident(&self, id: i64) -> Result<Incident, StoreError> {
        self.read_incidents("WHERE id = ?1", params![id])?
            .pop()
            .ok_or_else(|| StoreError::NotFound(format!("no incident {id}")))
    }

    /// Outbox entries, selected and ordered by `tail`.
    fn read_outbox(
        &self,
        tail: &str,
        values: impl rusqlite::Params,
    ) -> Result<Vec<Notification>, StoreError> {
        let path = &self.path;
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT id, event_id, channel, idempotency_key, change, status, attempts, next_attempt_at, last_error, created_at, delivered_at FROM outbox {tail}"
            ))
            .at(path)?;
        let rows = stmt
            .query_map(values, |r| {
                Ok((
                    (
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                    ),
                    (
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                    ),
                    (
                        r.get::<_, i64>(6)?,
                        r.get::<_, i64>(7)?,
                        r.get::<_, Option<String>>(8)?,
                    ),
                    (r.get::<_, i64>(9)?, r.get::<_, Option<i64>>(10)?),
                ))
            })
            .at(path)?;
        let mut out = Vec::new();
        for row in rows {
            let (
                (id, event_id, channel),
                (idempotency_key, change, status),
                (attempts, next, last_error),
                (created, delivered),
            ) = row.at(path)?;
            out.push(Notification {
                id,
                event_id,
                channel,
                idempotency_key,
                change: decode(path, &change, "outbox change")?,
                status: named(path, &status, "outbox status")?,
                attempts,
                next_attempt_at: time(next),
                last_error,
                created_at: time(created),
                delivered_at: delivered.map(time),
            });
        }
        Ok(out)
    }
}
