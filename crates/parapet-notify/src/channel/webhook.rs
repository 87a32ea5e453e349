//! A webhook: one JSON document per change posted to a URL, with the
//! idempotency key in its body and in the `Idempotency-Key` header, and an
//! HMAC-SHA256 signature of the body (`X-Parapet-Signature`) when a secret
//! is configured.

use super::post::{Post, Posting};
use super::{ChannelType, Message};
use parapet_core::Secret;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A webhook's settings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// Where to post (the address may hold a token: it is never logged).
    url: String,
    /// The key of the `X-Parapet-Signature` header.
    #[serde(default)]
    secret: Option<Secret>,
    /// More headers to send.
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

/// The webhook kind.
pub const TYPE: ChannelType = ChannelType {
    name: "webhook",
    description: "JSON posted to a URL, signed with HMAC-SHA256 when a secret is given",
    check: |config| super::settings::<Settings>(config).map(drop),
    build: |config| {
        let settings: Settings = super::settings(config)?;
        let signing = settings
            .secret
            .as_ref()
            .map(|s| config.read(s))
            .transpose()?;
        Ok(Box::new(Posting {
            post: Post::new(&config.name, settings.url, signing, settings.headers)?,
            body,
            digest,
        }))
    },
};

/// A digest: every change's document under one key.
fn digest(messages: &[Message<'_>], key: &str) -> Value {
    json!({
        "idempotency_key": key,
        "digest": true,
        "count": messages.len(),
        "notifications": messages.iter().map(body).collect::<Vec<_>>(),
    })
}

/// The webhook's document.
fn body(message: &Message<'_>) -> Value {
    let change = message.change;
    json!({
        "idempotency_key": message.idempotency_key,
        "event": change.kind.as_str(),
        "at": change.at,
        "finding": {
            "rule_id": change.rule_id,
            "severity": change.severity,
            "message": change.message,
            "url": message.link,
        },
        "asset": {
            "id": change.asset_id,
            "name": change.asset_name,
            "account": change.account,
            "region": change.region,
            "resource_type": change.resource_type,
            "tags": change.tags,
        },
        "incident": change.incident,
    })
}
