//! Microsoft Teams, through an incoming (Workflows) webhook: an Adaptive
//! Card per change, and a list of changes as a digest.

use super::post::Post;
use super::{ChannelType, DIGEST_LINES, Message, Sender, facts};
use crate::NotifyError;
use crate::config::ChannelConfig;
use parapet_core::Secret;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A Teams channel's settings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// The webhook's address, which is its credential.
    url: Secret,
}

/// The Teams kind.
pub const TYPE: ChannelType = ChannelType {
    name: "teams",
    description: "a Microsoft Teams incoming webhook: an Adaptive Card",
    check: |config| super::settings::<Settings>(config).map(drop),
    build: |config: &ChannelConfig| {
        let settings: Settings = super::settings(config)?;
        let url = config.read(&settings.url)?;
        Ok(Box::new(Teams(Post::new(
            &config.name,
            url,
            None,
            BTreeMap::new(),
        )?)))
    },
};

struct Teams(Post);

impl Sender for Teams {
    fn body(&self, message: &Message<'_>) -> Value {
        body(message)
    }

    fn send(&self, agent: &ureq::Agent, message: &Message<'_>) -> Result<(), NotifyError> {
        self.0.post(
            agent,
            &body(message),
            message.idempotency_key,
            message.change.kind.as_str(),
        )
    }

    fn send_digest(
        &self,
        agent: &ureq::Agent,
        messages: &[Message<'_>],
        key: &str,
    ) -> Result<(), NotifyError> {
        let heading = format!("Parapet: {} finding changes", messages.len());
        let mut body = vec![
            json!({"type": "TextBlock", "size": "Medium", "weight": "Bolder", "text": heading}),
        ];
        body.extend(
            messages.iter().take(DIGEST_LINES).map(
                |m| json!({"type": "TextBlock", "wrap": true, "text": format!("- {}", m.title)}),
            ),
        );
        if messages.len() > DIGEST_LINES {
            body.push(json!({"type": "TextBlock", "isSubtle": true,
                "text": format!("and {} more", messages.len() - DIGEST_LINES)}));
        }
        let card = json!({
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard", "version": "1.4", "body": body,
        });
        self.0.post(agent, &envelope(card), key, "digest")
    }
}

/// A Teams message carrying `card`.
fn envelope(card: Value) -> Value {
    json!({"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive",
        "contentUrl": null,
        "content": card,
    }]})
}

/// A Teams message carrying an Adaptive Card.
fn body(message: &Message<'_>) -> Value {
    let change = message.change;
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": true, "text": message.title},
            {"type": "FactSet", "facts": facts(change)
                .into_iter()
                .map(|(label, value)| json!({"title": label, "value": value}))
                .collect::<Vec<_>>()},
        ],
    });
    if let Some(link) = &message.link {
        card["actions"] =
            json!([{"type": "Action.OpenUrl", "title": "Open in Parapet", "url": link}]);
    }
    envelope(card)
}
