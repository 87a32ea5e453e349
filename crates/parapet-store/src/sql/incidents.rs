//! Incidents as they stand, and the notification outbox.

use super::{Arg, Database, SqlStore, args, first, json, ms, name_of, rows, severity_from};
use crate::error::StoreError;
use crate::lifecycle;
use crate::query::{Incident, IncidentEvent, IncidentStatus, Notification, OutboxStatus};
use crate::roles::{Incidents, Outbox};
use chrono::{DateTime, Utc};

impl<D: Database> Incidents for SqlStore<D> {
    fn incidents(
        &self,
        status: Option<IncidentStatus>,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Incident>, StoreError> {
        match status {
            Some(status) => self.read_incidents(
                "WHERE status = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
                args![status.as_str(), before.unwrap_or(i64::MAX), limit as i64],
            ),
            None => self.read_incidents(
                "WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
                args![before.unwrap_or(i64::MAX), limit as i64],
            ),
        }
    }

    fn incident(&self, id: i64) -> Result<Option<(Incident, Vec<IncidentEvent>)>, StoreError> {
        let Some(incident) = self.read_incidents("WHERE id = ?1", args![id])?.pop() else {
            return Ok(None);
        };
        let events = rows(
            &self.db,
            "SELECT at, kind, detail FROM incident_events WHERE incident_id = ?1 ORDER BY id",
            args![id],
            |r| {
                Ok(IncidentEvent {
                    at: r.time(0)?,
                    kind: r.text(1)?,
                    detail: json(r, 2, "incident event")?,
                })
            },
        )?;
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

impl<D: Database> Outbox for SqlStore<D> {
    fn due_notifications(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Notification>, StoreError> {
        self.read_outbox(
            "WHERE status = 'pending' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2",
            args![ms(now), limit as i64],
        )
    }

    fn notification_delivered(&mut self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.write(
            "UPDATE outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = ?1, last_error = NULL WHERE id = ?2",
            args![ms(now), id],
        )?;
        Ok(())
    }

    fn notification_deferred(&mut self, id: i64, until: DateTime<Utc>) -> Result<(), StoreError> {
        self.write(
            "UPDATE outbox SET next_attempt_at = ?1 WHERE id = ?2 AND status = 'pending'",
            args![ms(until), id],
        )?;
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
        self.write(
            "UPDATE outbox SET status = ?1, attempts = attempts + 1, last_error = ?2, next_attempt_at = COALESCE(?3, next_attempt_at) WHERE id = ?4",
            args![status.as_str(), error, retry_at.map(ms), id],
        )?;
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
                args![status.as_str(), limit as i64],
            ),
            None => self.read_outbox("ORDER BY id DESC LIMIT ?1", args![limit as i64]),
        }
    }

    fn channel_ref(&self, channel: &str, subject: &str) -> Result<Option<String>, StoreError> {
        first(
            &self.db,
            "SELECT reference FROM channel_refs WHERE channel = ?1 AND subject = ?2",
            args![channel, subject],
            |r| r.text(0),
        )
    }

    fn set_channel_ref(
        &mut self,
        channel: &str,
        subject: &str,
        reference: &str,
    ) -> Result<(), StoreError> {
        self.write(
            "INSERT INTO channel_refs (channel, subject, reference) VALUES (?1, ?2, ?3) \
             ON CONFLICT (channel, subject) DO UPDATE SET reference = excluded.reference",
            args![channel, subject, reference],
        )?;
        Ok(())
    }
}

impl<D: Database> SqlStore<D> {
    /// Incidents, selected and ordered by `tail`, with their findings.
    fn read_incidents(&self, tail: &str, args: &[Arg<'_>]) -> Result<Vec<Incident>, StoreError> {
        let incidents = rows(
            &self.db,
            &format!(
                "SELECT id, group_key, title, severity, status, owner, opened_at, acknowledged_at, resolved_at FROM incidents {tail}"
            ),
            args,
            |r| {
                Ok(Incident {
                    id: r.int(0)?,
                    group_key: r.text(1)?,
                    title: r.text(2)?,
                    severity: severity_from(r.int(3)?),
                    status: name_of(r, 4, "incident status")?,
                    owner: r.opt_text(5)?,
                    opened_at: r.time(6)?,
                    acknowledged_at: r.opt_time(7)?,
                    resolved_at: r.opt_time(8)?,
                    findings: Vec::new(),
                    open_findings: 0,
                })
            },
        )?;
        incidents
            .into_iter()
            .map(|mut incident| {
                let members = rows(
                    &self.db,
                    "SELECT i.rule_id, i.asset_id, f.status FROM incident_findings i \
                     LEFT JOIN findings f ON f.rule_id = i.rule_id AND f.asset_id = i.asset_id \
                     WHERE i.incident_id = ?1 ORDER BY i.rule_id, i.asset_id",
                    args![incident.id],
                    |r| Ok((r.text(0)?, r.text(1)?, r.opt_text(2)?)),
                )?;
                for (rule, asset, status) in members {
                    if matches!(status.as_deref(), Some("open" | "reopened")) {
                        incident.open_findings += 1;
                    }
                    incident.findings.push((rule, asset));
                }
                Ok(incident)
            })
            .collect()
    }

    fn one_incident(&self, id: i64) -> Result<Incident, StoreError> {
        self.read_incidents("WHERE id = ?1", args![id])?
            .pop()
            .ok_or_else(|| StoreError::NotFound(format!("no incident {id}")))
    }

    /// Outbox entries, selected and ordered by `tail`.
    fn read_outbox(&self, tail: &str, args: &[Arg<'_>]) -> Result<Vec<Notification>, StoreError> {
        rows(
            &self.db,
            &format!(
                "SELECT id, event_id, channel, idempotency_key, change, status, attempts, next_attempt_at, last_error, created_at, delivered_at FROM outbox {tail}"
            ),
            args,
            |r| {
                Ok(Notification {
                    id: r.int(0)?,
                    event_id: r.int(1)?,
                    channel: r.text(2)?,
                    idempotency_key: r.text(3)?,
                    change: json(r, 4, "outbox change")?,
                    status: name_of(r, 5, "outbox status")?,
                    attempts: r.int(6)?,
                    next_attempt_at: r.time(7)?,
                    last_error: r.opt_text(8)?,
                    created_at: r.time(9)?,
                    delivered_at: r.opt_time(10)?,
                })
            },
        )
    }
}
