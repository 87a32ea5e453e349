//! PagerDuty's Events API v2: an opened finding (or incident) triggers an
//! alert, its acknowledgement acknowledges it, its resolution resolves it;
//! one dedup key per finding, or per incident when findings are grouped.

use super::post::Post;
use super::{ChannelType, Message, Sender, clip, closes, dedup_key};
use crate::NotifyError;
use crate::config::ChannelConfig;
use parapet_core::{EventKind, Secret, Severity};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A PagerDuty channel's settings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// The integration's routing key.
    routing_key: Secret,
    /// The Events API's address.
    #[serde(default = "events_api")]
    url: String,
}

fn events_api() -> String {
    "https://events.pagerduty.com/v2/enqueue".to_owned()
}

/// The PagerDuty kind.
pub const TYPE: ChannelType = ChannelType {
    name: "pagerduty",
    description: "PagerDuty's Events API v2: an alert per finding or incident, resolved with it",
    check: |config| super::settings::<Settings>(config).map(drop),
    build: |config: &ChannelConfig| {
        let settings: Settings = super::settings(config)?;
        Ok(Box::new(PagerDuty {
            routing_key: config.read(&settings.routing_key)?,
            post: Post::new(&config.name, settings.url, None, BTreeMap::new())?,
        }))
    },
};

struct PagerDuty {
    routing_key: String,
    post: Post,
}

impl Sender for PagerDuty {
    fn body(&self, message: &Message<'_>) -> Value {
        body(&self.routing_key, message)
    }

    fn send(&self, agent: &ureq::Agent, message: &Message<'_>) -> Result<(), NotifyError> {
        if message.change.kind == EventKind::FindingResolved && !closes(message.change) {
            // One finding of a still open incident: its alert stays.
            return Ok(());
        }
        self.post.post(
            agent,
            &self.body(message),
            message.idempotency_key,
            message.change.kind.as_str(),
        )
    }

    fn digests(&self) -> bool {
        false
    }

    fn send_digest(&self, _: &ureq::Agent, _: &[Message<'_>], _: &str) -> Result<(), NotifyError> {
        Err(NotifyError::Config(format!(
            "channel {}: PagerDuty alerts are one per finding, never a digest",
            self.post.channel
        )))
    }
}

/// A PagerDuty Events API v2 event.
fn body(routing_key: &str, message: &Message<'_>) -> Value {
    let change = message.change;
    let action = if closes(change) {
        "resolve"
    } else if change.kind == EventKind::IncidentAcknowledged {
        "acknowledge"
    } else {
        "trigger"
    };
    let severity = match change.severity {
        Severity::Critical => "critical",
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Informational => "info",
    };
    let mut body = json!({
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": dedup_key(change),
    });
    if action == "trigger" {
        body["payload"] = json!({
            "summary": clip(
                change.incident.as_ref().map_or(&message.title, |i| &i.title),
                1024,
            ),
            "source": change.asset_id,
            "severity": severity,
            "timestamp": change.at,
            "component": change.resource_type,
            "group": change.account,
            "class": change.rule_id,
            "custom_details": {
                "region": change.region,
                "asset": change.asset_name,
                "tags": change.tags,
            },
        });
        body["client"] = json!("Parapet");
        if let Some(link) = &message.link {
            body["client_url"] = json!(link);
            body["links"] = json!([{"href": link, "text": "Open in Parapet"}]);
        }
    }
    body
}
