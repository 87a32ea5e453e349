//! Microsoft Teams, through an incoming (Workflows) webhook: an Adaptive
//! Card per change, and a list of changes as a digest. Cards render a
//! subset of Markdown, so every text is escaped: a name chosen in a scanned
//! account (`[click](https://...)`) is shown as written, never as a link.

use super::post::{Posting, UrlSettings};
use super::{ChannelType, DIGEST_LINES, Message, facts};
use serde_json::{Value, json};

/// The Teams kind.
pub const TYPE: ChannelType = ChannelType {
    name: "teams",
    description: "a Microsoft Teams incoming webhook: an Adaptive Card",
    check: UrlSettings::check,
    build: |config| {
        Ok(Box::new(Posting {
            post: UrlSettings::post(config)?,
            body,
            digest,
        }))
    },
};

/// A digest: a card with a heading and a line per change.
fn digest(messages: &[Message<'_>], _key: &str) -> Value {
    let heading = format!("Parapet: {} finding changes", messages.len());
    let mut body =
        vec![json!({"type": "TextBlock", "size": "Medium", "weight": "Bolder", "text": heading})];
    body.extend(messages.iter().take(DIGEST_LINES).map(
        |m| json!({"type": "TextBlock", "wrap": true, "text": format!("- {}", markdown(&m.title))}),
    ));
    if messages.len() > DIGEST_LINES {
        body.push(json!({"type": "TextBlock", "isSubtle": true,
            "text": format!("and {} more", messages.len() - DIGEST_LINES)}));
    }
    envelope(json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard", "version": "1.4", "body": body,
    }))
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
            {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": true, "text": markdown(&message.title)},
            {"type": "FactSet", "facts": facts(change)
                .into_iter()
                .map(|(label, value)| json!({"title": label, "value": markdown(&value)}))
                .collect::<Vec<_>>()},
        ],
    });
    if let Some(link) = &message.link {
        card["actions"] =
            json!([{"type": "Action.OpenUrl", "title": "Open in Parapet", "url": link}]);
    }
    envelope(card)
}

/// `text` with every character that Markdown (or a card's `{{DATE()}}`
/// function) would read as markup escaped by a backslash.
fn markdown(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_{}[]()<>#+-!|~.".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(markdown("[a](b) *c*"), "\\[a\\]\\(b\\) \\*c\\*");
        assert_eq!(markdown("plain words"), "plain words");
    }

    #[test]
    fn names_from_a_scanned_account_never_become_links() {
        let texts = super::super::hostile_texts(body, digest);
        assert!(texts.len() >= 2, "{texts:?}");
        for text in texts {
            assert!(
                !text.contains("[urgent](") && !text.contains("](https"),
                "{text}"
            );
        }
    }
}
