//! What every HTTP channel shares: one POST of a JSON body with the
//! notification's idempotency key, signed when the channel has a secret, and
//! errors that never show the channel's address (it may hold a token).

use super::{Message, Sender, TIMEOUT};
use crate::NotifyError;
use crate::config::ChannelConfig;
use hmac::Mac;
use parapet_core::Secret;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The settings of a channel whose address is its only setting, and a
/// secret (a chat's incoming webhook).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrlSettings {
    /// The webhook's address, which is its credential.
    url: Secret,
}

impl UrlSettings {
    /// Checks a channel's settings.
    pub fn check(config: &ChannelConfig) -> Result<(), NotifyError> {
        super::settings::<UrlSettings>(config).map(drop)
    }

    /// Where the channel posts, its address read.
    pub fn post(config: &ChannelConfig) -> Result<Post, NotifyError> {
        let settings: UrlSettings = super::settings(config)?;
        Post::new(
            &config.name,
            config.read(&settings.url)?,
            None,
            BTreeMap::new(),
        )
    }
}

/// A channel that posts one JSON document per message, and one per digest.
pub struct Posting {
    /// Where it posts.
    pub post: Post,
    /// The document of one message.
    pub body: fn(&Message<'_>) -> Value,
    /// The document of a digest of messages, under its key.
    pub digest: fn(&[Message<'_>], &str) -> Value,
}

impl Sender for Posting {
    fn body(&self, message: &Message<'_>) -> Value {
        (self.body)(message)
    }

    fn send(&self, agent: &ureq::Agent, message: &Message<'_>) -> Result<(), NotifyError> {
        self.post.post(
            agent,
            &(self.body)(message),
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
        self.post
            .post(agent, &(self.digest)(messages, key), key, "digest")
    }
}

/// Where an HTTP channel posts.
pub struct Post {
    /// The channel's name, for errors.
    pub channel: String,
    /// The address.
    pub url: String,
    /// The key of the body's signature.
    pub signing: Option<String>,
    /// More headers to send.
    pub headers: BTreeMap<String, String>,
}

impl Post {
    /// Posts to `url`, with the headers checked.
    pub fn new(
        channel: &str,
        url: String,
        signing: Option<String>,
        headers: BTreeMap<String, String>,
    ) -> Result<Post, NotifyError> {
        for (header, value) in &headers {
            let valid_name = !header.is_empty()
                && header
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            let valid_value = value
                .bytes()
                .all(|b| b == b'\t' || (b' '..=b'~').contains(&b));
            if !valid_name || !valid_value {
                return Err(NotifyError::Config(format!(
                    "channel {channel}: the header `{header}` is not a valid HTTP header"
                )));
            }
        }
        Ok(Post {
            channel: channel.to_owned(),
            url,
            signing,
            headers,
        })
    }

    /// Posts a JSON body, signed when the channel has a secret.
    pub fn post(
        &self,
        agent: &ureq::Agent,
        body: &Value,
        key: &str,
        event: &str,
    ) -> Result<(), NotifyError> {
        let body = body.to_string();
        let mut request = agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("User-Agent", concat!("parapet/", env!("CARGO_PKG_VERSION")))
            .header("Idempotency-Key", key)
            .header("X-Parapet-Event", event);
        if let Some(secret) = &self.signing {
            request = request.header("X-Parapet-Signature", signature(secret, body.as_bytes()));
        }
        for (header, value) in &self.headers {
            request = request.header(header, value);
        }
        request
            .config()
            .timeout_global(Some(TIMEOUT))
            .build()
            .send(body.as_bytes())
            .map(|_| ())
            .map_err(|e| self.failed(describe(&e, &self.url)))
    }

    /// A delivery that failed, with why.
    pub fn failed(&self, reason: String) -> NotifyError {
        NotifyError::Delivery {
            channel: self.channel.clone(),
            reason,
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
pub fn describe(error: &ureq::Error, url: &str) -> String {
    match error {
        ureq::Error::StatusCode(code) => format!("the receiver answered HTTP {code}"),
        ureq::Error::Timeout(_) => format!("no answer within {} s", TIMEOUT.as_secs()),
        other => other.to_string().replace(url, "its address"),
    }
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
        let header = |name: &str, value: &str| {
            Post::new(
                "w",
                "http://127.0.0.1:1".to_owned(),
                None,
                BTreeMap::from([(name.to_owned(), value.to_owned())]),
            )
        };
        assert!(header("Bad Header", "x").is_err());
        assert!(header("X-Team", "line\nbreak").is_err());
        assert!(header("X-Team", "security").is_ok());
    }
}
