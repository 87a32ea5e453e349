//! The channels: what each sends for a notification, and how. A webhook
//! receives one JSON document per change, with the idempotency key in its
//! body and in the `Idempotency-Key` header, and an HMAC-SHA256 signature of
//! the body when a secret is configured.

use crate::NotifyError;
use crate::config::ChannelConfig;
use hmac::Mac;
use parapet_store::FindingChange;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// How long one delivery may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A channel ready to send: its secret read.
#[derive(Debug)]
pub enum Channel {
    /// JSON posted to a URL.
    Webhook {
        /// Its name.
        name: String,
        /// Where.
        url: String,
        /// The signature's key.
        secret: Option<String>,
        /// More headers.
        headers: BTreeMap<String, String>,
    },
}

/// What a delivery sends: the change, its key, and where to see it.
pub struct Message<'a> {
    /// The change.
    pub change: &'a FindingChange,
    /// The same for every attempt of one notification.
    pub idempotency_key: &'a str,
    /// The finding in the web UI, when a base URL is configured.
    pub link: Option<String>,
}

impl Channel {
    /// The channel `config` describes, its secret read.
    pub fn new(config: &ChannelConfig) -> Result<Channel, NotifyError> {
        match config {
            ChannelConfig::Webhook {
                name,
                url,
                secret,
                headers,
            } => {
                for (header, value) in headers {
                    let valid_name = !header.is_empty()
                        && header
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
                    let valid_value = value
                        .bytes()
                        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b));
                    if !valid_name || !valid_value {
                        return Err(NotifyError::Config(format!(
                            "channel {name}: the header `{header}` is not a valid HTTP header"
                        )));
                    }
                }
                let secret = secret
                    .as_ref()
                    .map(|s| s.read())
                    .transpose()
                    .map_err(|source| NotifyError::Secret {
                        channel: name.clone(),
                        source,
                    })?;
                Ok(Channel::Webhook {
                    name: name.clone(),
                    url: url.clone(),
                    secret,
                    headers: headers.clone(),
                })
            }
        }
    }

    /// The channel's name.
    pub fn name(&self) -> &str {
        match self {
            Channel::Webhook { name, .. } => name,
        }
    }

    /// Sends one message; an error says why without the channel's address.
    pub fn send(&self, agent: &ureq::Agent, message: &Message<'_>) -> Result<(), NotifyError> {
        match self {
            Channel::Webhook {
                name,
                url,
                secret,
                headers,
            } => {
                let body = webhook_body(message).to_string();
                let mut request = agent
                    .post(url)
                    .header("Content-Type", "application/json")
                    .header("User-Agent", concat!("parapet/", env!("CARGO_PKG_VERSION")))
                    .header("Idempotency-Key", message.idempotency_key)
                    .header("X-Parapet-Event", message.change.kind.as_str());
                if let Some(secret) = secret {
                    request =
                        request.header("X-Parapet-Signature", signature(secret, body.as_bytes()));
                }
                for (header, value) in headers {
                    request = request.header(header, value);
                }
                request
                    .config()
                    .timeout_global(Some(TIMEOUT))
                    .build()
                    .send(body.as_bytes())
                    .map(|_| ())
                    .map_err(|e| NotifyError::Delivery {
                        channel: name.clone(),
                        reason: describe(&e, url),
                    })
            }
        }
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Why a request failed, without the address.
fn describe(error: &ureq::Error, url: &str) -> String {
    match error {
        ureq::Error::StatusCode(code) => format!("the receiver answered HTTP {code}"),
        ureq::Error::Timeout(_) => format!("no answer within {} s", TIMEOUT.as_secs()),
        other => other.to_string().replace(url, "its address"),
    }
}

/// The webhook's document.
fn webhook_body(message: &Message<'_>) -> Value {
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_the_hmac_sha256_of_the_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn headers_that_are_not_http_headers_are_refused() {
        let config: ChannelConfig = toml::from_str(
            "type = \"webhook\"\nname = \"w\"\nurl = \"http://127.0.0.1:1\"\nheaders = { \"Bad Header\" = \"x\" }",
        )
        .expect("parses");
        assert!(Channel::new(&config).is_err());
        let config: ChannelConfig = toml::from_str(
            "type = \"webhook\"\nname = \"w\"\nurl = \"http://127.0.0.1:1\"\nheaders = { \"X-Team\" = \"line\\nbreak\" }",
        )
        .expect("parses");
        assert!(Channel::new(&config).is_err());
    }
}
