//! Incidents: findings grouped by rule and account, or by asset. An opened
//! finding joins its group's incident (opened if there is none, reopened if
//! the finding's own had resolved); a resolved one resolves its incident
//! once none of the incident's findings is open. Someone may take an
//! incident or resolve it by hand; that is told on the timeline and to the
//! channels that carried the incident.

use super::{Ledger, NewEvent};
use crate::error::StoreError;
use crate::query::{
    FindingChange, Grouping, Incident, IncidentInfo, IncidentPolicy, IncidentStatus,
};
use chrono::{DateTime, Utc};
use parapet_core::{EventKind, Severity};

/// A finding's change of state, as incidents follow it.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// Opened, reopened or resolved.
    pub kind: EventKind,
    /// The rule.
    pub rule_id: String,
    /// The rule's title.
    pub rule_title: String,
    /// The asset.
    pub asset_id: String,
    /// Its account.
    pub account: String,
    /// The rule's severity.
    pub severity: Severity,
}

impl Transition {
    /// The transition a notified change makes.
    pub fn of(change: &FindingChange) -> Transition {
        Transition {
            kind: change.kind,
            rule_id: change.rule_id.clone(),
            rule_title: change.rule_title.clone(),
            asset_id: change.asset_id.clone(),
            account: change.account.clone(),
            severity: change.severity,
        }
    }
}

/// The key that groups a finding with others, and the title of an incident
/// opened for that group.
pub fn group(policy: IncidentPolicy, t: &Transition) -> (String, String) {
    match policy.grouping {
        Grouping::RuleAndAccount => (
            format!("rule:{}/account:{}", t.rule_id, t.account),
            format!("{} in {}", t.rule_title, t.account),
        ),
        Grouping::Asset => (
            format!("asset:{}", t.asset_id),
            format!("Findings on {}", t.asset_id),
        ),
    }
}

/// Follows one finding change in the incidents.
pub fn follow(
    ledger: &mut dyn Ledger,
    policy: IncidentPolicy,
    t: &Transition,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let finding = serde_json::json!({"rule_id": t.rule_id, "asset_id": t.asset_id});
    let previous = ledger.incident_of(&t.rule_id, &t.asset_id)?;
    if t.kind == EventKind::FindingResolved {
        let Some(incident) = previous else {
            return Ok(());
        };
        if incident.status != IncidentStatus::Resolved && ledger.open_findings_in(incident.id)? == 0
        {
            ledger.set_incident_status(incident.id, IncidentStatus::Resolved, None, now)?;
            let detail = serde_json::json!({"why": "every finding resolved", "last": finding});
            ledger.incident_event(incident.id, now, "resolved", detail)?;
        }
        return Ok(());
    }
    if t.severity < policy.min_severity {
        return Ok(());
    }
    let id = match previous {
        Some(incident) if incident.status == IncidentStatus::Resolved => {
            ledger.set_incident_status(incident.id, IncidentStatus::Open, None, now)?;
            ledger.incident_event(incident.id, now, "reopened", finding.clone())?;
            incident.id
        }
        Some(incident) => incident.id,
        None => {
            let (key, title) = group(policy, t);
            match ledger.unresolved_incident(&key)? {
                Some(id) => id,
                None => {
                    let id = ledger.open_incident(&key, &title, t.severity, now)?;
                    ledger.incident_event(id, now, "opened", serde_json::json!({"group": key}))?;
                    id
                }
            }
        }
    };
    ledger.join_incident(&t.rule_id, &t.asset_id, id, t.severity)?;
    ledger.incident_event(id, now, "finding_added", finding)
}

/// Someone takes an open incident.
pub fn acknowledge(
    ledger: &mut dyn Ledger,
    current: &Incident,
    owner: &str,
    now: DateTime<Utc>,
    notify: bool,
) -> Result<(), StoreError> {
    if current.status == IncidentStatus::Resolved {
        return Err(StoreError::Invalid(format!(
            "incident {} is resolved",
            current.id
        )));
    }
    ledger.set_incident_status(current.id, IncidentStatus::Acknowledged, Some(owner), now)?;
    ledger.incident_event(
        current.id,
        now,
        "acknowledged",
        serde_json::json!({"owner": owner}),
    )?;
    by_hand(
        ledger,
        current,
        (
            EventKind::IncidentAcknowledged,
            IncidentStatus::Acknowledged,
        ),
        owner,
        now,
        notify,
    )
}

/// Someone resolves an incident; one already resolved stays as it is.
pub fn resolve(
    ledger: &mut dyn Ledger,
    current: &Incident,
    who: &str,
    now: DateTime<Utc>,
    notify: bool,
) -> Result<(), StoreError> {
    if current.status == IncidentStatus::Resolved {
        return Ok(());
    }
    ledger.set_incident_status(current.id, IncidentStatus::Resolved, None, now)?;
    ledger.incident_event(current.id, now, "resolved", serde_json::json!({"by": who}))?;
    by_hand(
        ledger,
        current,
        (EventKind::IncidentResolved, IncidentStatus::Resolved),
        who,
        now,
        notify,
    )
}

/// Records that `by` acknowledged or resolved `incident` by hand (`kind`),
/// leaving it `status`: an event on the timeline of its most recently
/// evaluated finding and, when notifications are routed, one message to
/// each channel that carried the incident before (so that its PagerDuty
/// alert is acknowledged or resolved and its Jira issue commented on or
/// closed), with the finding of the last message it got.
fn by_hand(
    ledger: &mut dyn Ledger,
    incident: &Incident,
    (kind, status): (EventKind, IncidentStatus),
    by: &str,
    now: DateTime<Utc>,
    notify: bool,
) -> Result<(), StoreError> {
    let Some((rule_id, asset_id, account)) = ledger.latest_finding_in(incident.id)? else {
        return Ok(());
    };
    let ids = ledger.append_events(&[NewEvent {
        at: now,
        kind,
        asset_id: &asset_id,
        account: &account,
        rule_id: Some(&rule_id),
        scan_id: None,
        detail: serde_json::json!({"incident": incident.id, "title": incident.title, "by": by}),
    }])?;
    if !notify {
        return Ok(());
    }
    let messages = ledger.incident_messages(incident.id)?;
    let Some((_, last)) = messages.first() else {
        return Ok(());
    };
    let mut change = last.clone();
    change.kind = kind;
    change.at = now;
    change.incident = Some(IncidentInfo {
        id: incident.id,
        title: incident.title.clone(),
        status,
        by: Some(by.to_owned()),
    });
    let mut channels: Vec<&str> = messages.iter().map(|(c, _)| c.as_str()).collect();
    channels.sort_unstable();
    channels.dedup();
    let event_id = ids.first().copied().unwrap_or_default();
    super::outbox::enqueue(ledger, event_id, &channels, &change)
}
