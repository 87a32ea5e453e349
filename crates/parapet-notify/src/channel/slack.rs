//! Slack, through an incoming webhook: a Block Kit message per change, and
//! a list of changes as a digest.

use super::post::{Posting, UrlSettings};
use super::{ChannelType, DIGEST_LINES, Message, clip, facts};
use serde_json::{Value, json};

/// The Slack kind.
pub const TYPE: ChannelType = ChannelType {
    name: "slack",
    description: "a Slack incoming webhook: a Block Kit message",
    check: UrlSettings::check,
    build: |config| {
        Ok(Box::new(Posting {
            post: UrlSettings::post(config)?,
            body,
            digest,
        }))
    },
};

/// A digest: a heading and a line per change, with its link.
fn digest(messages: &[Message<'_>], _key: &str) -> Value {
    let heading = format!("Parapet: {} finding changes", messages.len());
    let mut blocks =
        vec![json!({"type": "header", "text": {"type": "plain_text", "text": heading}})];
    for m in messages.iter().take(DIGEST_LINES) {
        let line = match &m.link {
            Some(link) => format!("• <{link}|{}>", mrkdwn(&m.title)),
            None => format!("• {}", mrkdwn(&m.title)),
        };
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": line}}));
    }
    if messages.len() > DIGEST_LINES {
        blocks.push(json!({"type": "context", "elements": [
            {"type": "mrkdwn", "text": format!("and {} more", messages.len() - DIGEST_LINES)}
        ]}));
    }
    json!({"text": heading, "blocks": blocks})
}

/// Text for Slack's mrkdwn: its three control characters escaped, so that
/// a name chosen in a scanned account (`<!channel>`, `<https://x|y>`) is
/// shown as written, never as a mention or a link.
fn mrkdwn(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A Slack Block Kit message.
fn body(message: &Message<'_>) -> Value {
    let change = message.change;
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": clip(&message.title, 150)}}),
        json!({"type": "section", "fields": facts(change)
            .into_iter()
            .map(|(label, value)| json!({"type": "mrkdwn", "text": format!("*{label}*\n{}", mrkdwn(&value))}))
            .collect::<Vec<_>>()}),
    ];
    if let Some(link) = &message.link {
        blocks.push(json!({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Open in Parapet"}, "url": link}
        ]}));
    }
    blocks.push(json!({"type": "context", "elements": [
        {"type": "mrkdwn", "text": mrkdwn(&format!("{} · {}", change.kind.as_str(), change.at.to_rfc3339()))}
    ]}));
    json!({"text": mrkdwn(&message.title), "blocks": blocks})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_slack() {
        assert_eq!(mrkdwn("<a & b>"), "&lt;a &amp; b&gt;");
    }

    #[test]
    fn names_from_a_scanned_account_never_become_mentions_or_links() {
        let texts = super::super::hostile_texts(body, digest);
        assert!(texts.len() >= 2, "{texts:?}");
        for text in texts {
            assert!(
                !text.contains("<!channel>") && !text.contains("<https://"),
                "{text}"
            );
        }
    }
}
