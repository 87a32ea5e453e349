//! Finding changes routed to notification channels: one outbox entry per
//! channel, written in the transaction of the change, each with an
//! idempotency key that every delivery attempt carries.

use super::Ledger;
use crate::error::StoreError;
use crate::query::{FindingChange, Router};

/// The key receivers drop duplicates by: the same for every attempt to
/// deliver the change recorded as event `event_id` to `channel`.
pub fn idempotency_key(event_id: i64, channel: &str) -> String {
    format!("parapet-{event_id}-{channel}")
}

/// Writes the notifications of `change`, recorded as event `event_id`, to
/// the channels `router` names for it.
pub fn route(
    ledger: &mut dyn Ledger,
    router: &dyn Router,
    event_id: i64,
    change: &FindingChange,
) -> Result<(), StoreError> {
    let channels = router.channels(change);
    let channels: Vec<&str> = channels.iter().map(String::as_str).collect();
    enqueue(ledger, event_id, &channels, change)
}

/// Writes one notification of `change` per channel.
pub fn enqueue(
    ledger: &mut dyn Ledger,
    event_id: i64,
    channels: &[&str],
    change: &FindingChange,
) -> Result<(), StoreError> {
    for channel in channels {
        ledger.enqueue(
            event_id,
            channel,
            &idempotency_key(event_id, channel),
            change,
        )?;
    }
    Ok(())
}
