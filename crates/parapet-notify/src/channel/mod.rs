//! The channels: what each sends for a notification, and how. Each kind of
//! channel is one module with its settings and a [`Sender`], registered in
//! [`CHANNEL_TYPES`]: a new kind is one file and one line there.
//!
//! # Layout
//!
//! - [`webhook`]: one JSON document per change, signed with HMAC-SHA256.
//! - [`slack`]: a Block Kit message.
//! - [`teams`]: an Adaptive Card.
//! - [`email`]: plain text over SMTP.
//! - [`jira`]: one issue per finding or incident, commented on and moved.
//! - [`pagerduty`]: an Events API v2 alert per finding or incident.
//! - [`post`]: what every HTTP channel shares.

pub mod email;
pub mod jira;
pub mod pagerduty;
pub mod post;
pub mod slack;
pub mod teams;
pub mod webhook;

use crate::NotifyError;
use crate::config::ChannelConfig;
use parapet_core::EventKind;
use parapet_store::FindingChange;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

pub use post::signature;

/// How long one delivery may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// How many changes a chat digest lists; the rest are counted.
const DIGEST_LINES: usize = 40;

/// What a delivery sends: the change, its key, and where to see it.
pub struct Message<'a> {
    /// The change.
    pub change: &'a FindingChange,
    /// The same for every attempt of one notification.
    pub idempotency_key: &'a str,
    /// The finding in the web UI, when a base URL is configured.
    pub link: Option<String>,
    /// The title, from the channel's template.
    pub title: String,
    /// The text, from the channel's template.
    pub text: String,
}

/// One kind of channel, as `type` names it in the configuration.
pub struct ChannelType {
    /// Its `type`.
    pub name: &'static str,
    /// What it sends, in a few words.
    pub description: &'static str,
    /// Checks the settings of a channel of this kind (without reading its
    /// secrets).
    pub check: fn(&ChannelConfig) -> Result<(), NotifyError>,
    /// Builds a channel from its settings, its secrets read.
    pub build: fn(&ChannelConfig) -> Result<Box<dyn Sender>, NotifyError>,
}

/// Every kind of channel.
pub static CHANNEL_TYPES: &[ChannelType] = &[
    webhook::TYPE,
    slack::TYPE,
    teams::TYPE,
    email::TYPE,
    jira::TYPE,
    pagerduty::TYPE,
];

/// The kind of channel `type` names.
pub fn channel_type(name: &str) -> Result<&'static ChannelType, NotifyError> {
    CHANNEL_TYPES
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| {
            NotifyError::Config(format!(
                "`{name}` is not a kind of channel ({})",
                CHANNEL_TYPES
                    .iter()
                    .map(|t| t.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// A channel's settings, as its kind reads them.
pub fn settings<T: DeserializeOwned>(config: &ChannelConfig) -> Result<T, NotifyError> {
    serde_json::from_value(Value::Object(config.settings.clone()))
        .map_err(|e| NotifyError::Config(format!("channel {} ({}): {e}", config.name, config.kind)))
}

/// Sends one kind of channel's messages.
pub trait Sender: Send + Sync {
    /// The body it sends for `message`.
    fn body(&self, message: &Message<'_>) -> Value;

    /// Sends one message; an error says why without the channel's address.
    fn send(&self, agent: &ureq::Agent, message: &Message<'_>) -> Result<(), NotifyError>;

    /// Whether it can carry a digest (PagerDuty's alerts and Jira's issues
    /// are one per finding).
    fn digests(&self) -> bool {
        true
    }

    /// Sends several messages as one digest under `key`.
    fn send_digest(
        &self,
        agent: &ureq::Agent,
        messages: &[Message<'_>],
        key: &str,
    ) -> Result<(), NotifyError>;

    /// Whether it keeps a reference per finding (a Jira issue).
    fn keeps_references(&self) -> bool {
        false
    }

    /// Sends one message to a channel that keeps references, with the
    /// finding's existing reference; returns the one it created.
    fn send_tracked(
        &self,
        agent: &ureq::Agent,
        message: &Message<'_>,
        existing: Option<&str>,
    ) -> Result<Option<String>, NotifyError> {
        let _ = existing;
        self.send(agent, message).map(|()| None)
    }
}

/// A channel ready to send: its secrets read.
pub struct Channel {
    name: String,
    sender: Box<dyn Sender>,
}

impl Channel {
    /// The channel `config` describes, its secrets read.
    pub fn new(config: &ChannelConfig) -> Result<Channel, NotifyError> {
        let kind = channel_type(&config.kind)?;
        Ok(Channel {
            name: config.name.clone(),
            sender: (kind.build)(config)?,
        })
    }

    /// The channel's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The body the channel sends for `message`.
    pub fn body(&self, message: &Message<'_>) -> Value {
        self.sender.body(message)
    }

    /// Sends one message; an error says why without the channel's address.
    pub fn send(&self, agent: &ureq::Agent, message: &Message<'_>) -> Result<(), NotifyError> {
        self.sender.send(agent, message)
    }

    /// Whether the channel can carry a digest (PagerDuty's alerts and Jira's
    /// issues are one per finding).
    pub fn digests(&self) -> bool {
        self.sender.digests()
    }

    /// Whether the channel keeps a reference per finding (a Jira issue).
    pub fn keeps_references(&self) -> bool {
        self.sender.keeps_references()
    }

    /// Sends one message to a channel that keeps references: with the
    /// finding's (or incident's) existing issue, comments on it and moves
    /// it; without one, creates it when the change opens a finding. Returns
    /// the issue created.
    pub fn send_tracked(
        &self,
        agent: &ureq::Agent,
        message: &Message<'_>,
        existing: Option<&str>,
    ) -> Result<Option<String>, NotifyError> {
        self.sender.send_tracked(agent, message, existing)
    }

    /// Sends several messages as one digest under `key`.
    pub fn send_digest(
        &self,
        agent: &ureq::Agent,
        messages: &[Message<'_>],
        key: &str,
    ) -> Result<(), NotifyError> {
        if !self.sender.digests() {
            return Err(NotifyError::Config(format!(
                "channel {} takes no digest",
                self.name
            )));
        }
        self.sender.send_digest(agent, messages, key)
    }
}

/// The facts every message gives, label and value.
fn facts(change: &FindingChange) -> Vec<(&'static str, String)> {
    vec![
        ("Severity", change.severity.as_str().to_owned()),
        ("Rule", change.rule_id.clone()),
        ("Asset", change.asset_id.clone()),
        ("Type", change.resource_type.clone()),
        ("Account", change.account.clone()),
        ("Region", change.region.clone()),
    ]
}

/// A change whose asset was named by someone who wants the notification to
/// mention everyone and link elsewhere, and its default title.
#[cfg(test)]
pub(crate) fn hostile() -> (FindingChange, String) {
    let name = "<!channel> [urgent](https://evil.example) <https://evil.example|click> {noformat} [~admin] !https://evil.example/x.png!";
    let change = FindingChange {
        asset_name: name.to_owned(),
        asset_id: format!("arn:aws:s3:::{name}"),
        message: format!("Bucket `{name}` is public"),
        ..crate::template::sample()
    };
    let title = crate::template::Templates::new(&Default::default(), ["c"])
        .and_then(|t| {
            t.render("c", &change, "k", None)
                .map_err(crate::NotifyError::Config)
        })
        .map(|r| r.title)
        .unwrap_or_default();
    (change, title)
}

/// Every text a channel renders as markup, of its message and its digest
/// of the hostile change.
#[cfg(test)]
pub(crate) fn hostile_texts(
    body: fn(&Message<'_>) -> Value,
    digest: fn(&[Message<'_>], &str) -> Value,
) -> Vec<String> {
    let (change, title) = hostile();
    let message = Message {
        change: &change,
        idempotency_key: "k",
        link: None,
        title: title.clone(),
        text: title,
    };
    let mut texts = Vec::new();
    for value in [body(&message), digest(std::slice::from_ref(&message), "k")] {
        mrkdwn_texts(&value, &mut texts);
    }
    texts
}

/// Every text of a Slack or Teams message that the service renders as
/// markup (`plain_text` objects are shown as written).
#[cfg(test)]
fn mrkdwn_texts(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) if map.get("type").and_then(Value::as_str) == Some("plain_text") => {}
        Value::Object(map) => {
            for (key, value) in map {
                match value {
                    Value::String(text) if key == "text" || key == "value" => {
                        out.push(text.clone());
                    }
                    other => mrkdwn_texts(other, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| mrkdwn_texts(v, out)),
        _ => {}
    }
}

/// At most `max` characters of `text`.
pub(crate) fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((cut, _)) if text.chars().count() > max => format!("{}…", &text[..cut]),
        _ => text.to_owned(),
    }
}

/// PagerDuty's key (and Jira's subject) for one finding: an opened finding
/// triggers it, its resolution resolves the same alert. When findings are
/// grouped into incidents, the key is the incident's: one alert or issue per
/// incident.
pub fn dedup_key(change: &FindingChange) -> String {
    if let Some(incident) = &change.incident {
        return format!("parapet/incident/{}", incident.id);
    }
    let readable = format!("parapet/{}/{}", change.rule_id, change.asset_id);
    if readable.len() <= 255 {
        return readable;
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{}\n{}", change.rule_id, change.asset_id));
    format!("parapet/{}", hex::encode(digest))
}

/// Whether `change` ends what the channel tracks: the finding resolved, or
/// with incidents, the incident.
fn closes(change: &FindingChange) -> bool {
    match &change.incident {
        Some(incident) => incident.status == parapet_store::IncidentStatus::Resolved,
        None => change.kind == EventKind::FindingResolved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_clipped_on_characters() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
        assert_eq!(clip("ééééé", 3), "éé…");
    }

    #[test]
    fn dedup_keys_stay_within_pagerdutys_limit() {
        let mut change = FindingChange {
            rule_id: "r".into(),
            asset_id: "a".into(),
            ..crate::template::sample()
        };
        assert_eq!(dedup_key(&change), "parapet/r/a");
        change.asset_id = "x".repeat(400);
        let long = dedup_key(&change);
        assert!(long.len() <= 255 && long.starts_with("parapet/"), "{long}");
        change.rule_id = "s".into();
        assert_ne!(dedup_key(&change), long);
    }

    #[test]
    fn every_kind_of_channel_is_registered_once_and_unknown_kinds_are_named() {
        let mut names = std::collections::BTreeSet::new();
        for kind in CHANNEL_TYPES {
            assert!(names.insert(kind.name), "{} twice", kind.name);
            assert!(!kind.description.is_empty());
        }
        let Err(NotifyError::Config(error)) = channel_type("pigeon") else {
            panic!("a pigeon is no channel")
        };
        assert!(
            error.contains("webhook, slack, teams, email, jira, pagerduty"),
            "{error}"
        );
    }
}
