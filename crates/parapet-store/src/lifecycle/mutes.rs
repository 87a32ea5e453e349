//! Mutes: accepted risks that hide findings. A mute covers the findings its
//! selector matches, now and as they change; when it is lifted or expires,
//! each of its findings passes to another active mute that covers it, or is
//! unmuted. Each change is an event on the finding's timeline.

use super::{Ledger, MuteCandidate, NewEvent};
use crate::error::StoreError;
use chrono::{DateTime, Utc};
use parapet_core::{EventKind, Mute, MuteSelector};

/// The lock that mutes change under, and that scans hold shared.
pub const LOCK: &str = "mutes";

/// Adds a mute and mutes the findings it covers; returns the mute and how
/// many findings it muted.
pub fn add(
    ledger: &mut dyn Ledger,
    selector: &MuteSelector,
    reason: &str,
    author: &str,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(Mute, usize), StoreError> {
    if selector.is_empty() {
        return Err(StoreError::Invalid(
            "a mute needs at least one of: rule, asset, account, region, tag".to_owned(),
        ));
    }
    if reason.trim().is_empty() {
        return Err(StoreError::Invalid("a mute needs a reason".to_owned()));
    }
    if expires_at.is_some_and(|e| e <= now) {
        return Err(StoreError::Invalid("the expiry is in the past".to_owned()));
    }
    ledger.lock(LOCK, true)?;
    let mute = Mute {
        id: ledger.insert_mute(selector, reason, author, now, expires_at)?,
        selector: selector.clone(),
        reason: reason.to_owned(),
        author: author.to_owned(),
        created_at: now,
        expires_at,
        lifted_at: None,
    };
    let mut muted = 0;
    for candidate in ledger.mute_candidates(None, Some(&mute.selector))? {
        if !mute.selector.matches(&candidate.target()) {
            continue;
        }
        muted += 1;
        ledger.set_muted_by(&candidate.rule_id, &candidate.asset_id, Some(mute.id))?;
        let detail = serde_json::json!({"mute_id": mute.id, "reason": reason, "author": author, "expires_at": expires_at});
        ledger.append_events(&[event(&candidate, EventKind::FindingMuted, now, detail)])?;
    }
    Ok((mute, muted))
}

/// Lifts a mute and releases its findings.
pub fn lift(ledger: &mut dyn Ledger, mute_id: i64, now: DateTime<Utc>) -> Result<Mute, StoreError> {
    ledger.lock(LOCK, true)?;
    let mut mute = ledger
        .mutes(true)?
        .into_iter()
        .find(|m| m.id == mute_id)
        .ok_or_else(|| StoreError::NotFound(format!("no mute {mute_id}")))?;
    if mute.lifted_at.is_some() {
        return Err(StoreError::Invalid(format!(
            "mute {mute_id} has already ended"
        )));
    }
    ledger.end_mute(mute_id, now)?;
    mute.lifted_at = Some(now);
    release(ledger, &mute, "lifted", now)?;
    Ok(mute)
}

/// Whether a mute's expiry has passed at `now`.
pub fn any_expired(ledger: &mut dyn Ledger, now: DateTime<Utc>) -> Result<bool, StoreError> {
    Ok(ledger
        .mutes(false)?
        .iter()
        .any(|m| m.expires_at.is_some_and(|e| e <= now)))
}

/// Ends the mutes whose expiry has passed, releasing their findings;
/// returns them.
pub fn expire(ledger: &mut dyn Ledger, now: DateTime<Utc>) -> Result<Vec<Mute>, StoreError> {
    ledger.lock(LOCK, true)?;
    expire_held(ledger, now)
}

/// [`expire`], the lock already held exclusively.
pub fn expire_held(ledger: &mut dyn Ledger, now: DateTime<Utc>) -> Result<Vec<Mute>, StoreError> {
    let expired: Vec<Mute> = ledger
        .mutes(false)?
        .into_iter()
        .filter(|m| m.expires_at.is_some_and(|e| e <= now))
        .collect();
    let mut ended = Vec::new();
    for mut mute in expired {
        let at = mute.expires_at.unwrap_or(now);
        ledger.end_mute(mute.id, at)?;
        mute.lifted_at = Some(at);
        release(ledger, &mute, "expired", now)?;
        ended.push(mute);
    }
    Ok(ended)
}

/// Releases the findings `mute` covered: each goes to another active mute
/// that covers it, or is unmuted with an event.
fn release(
    ledger: &mut dyn Ledger,
    mute: &Mute,
    why: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let others: Vec<Mute> = ledger
        .mutes(false)?
        .into_iter()
        .filter(|m| m.id != mute.id && m.is_active(now))
        .collect();
    for candidate in ledger.mute_candidates(Some(mute.id), None)? {
        let target = candidate.target();
        match others.iter().find(|m| m.selector.matches(&target)) {
            Some(other) => {
                ledger.set_muted_by(&candidate.rule_id, &candidate.asset_id, Some(other.id))?
            }
            None => {
                ledger.set_muted_by(&candidate.rule_id, &candidate.asset_id, None)?;
                let detail = serde_json::json!({"mute_id": mute.id, "why": why});
                ledger.append_events(&[event(
                    &candidate,
                    EventKind::FindingUnmuted,
                    now,
                    detail,
                )])?;
            }
        }
    }
    Ok(())
}

fn event(
    candidate: &MuteCandidate,
    kind: EventKind,
    at: DateTime<Utc>,
    detail: serde_json::Value,
) -> NewEvent<'_> {
    NewEvent {
        at,
        kind,
        asset_id: &candidate.asset_id,
        account: &candidate.account,
        rule_id: Some(&candidate.rule_id),
        scan_id: None,
        detail,
    }
}
