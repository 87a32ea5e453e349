//! The Pub/Sub subscription a Cloud Asset Inventory feed's topic delivers
//! to, read through Pub/Sub's REST methods (`pull`, `acknowledge`,
//! `modifyAckDeadline`, and `publish` for the dead-letter topic) signed
//! with the same credential as the rest of Parapet (Pub/Sub Subscriber on
//! the subscription is what it needs; Publisher on the dead-letter topic).
//! Google's Rust client of Pub/Sub speaks gRPC streaming pull only; the
//! REST pull is the same service's published method, and needs no HTTP/2
//! stream held open. A pull waits on the server until messages come or its
//! wait is over. Pulled messages get a minute before Pub/Sub hands them
//! out again, and are acknowledged once their batch is committed; one that
//! is not a feed message is published to the dead-letter topic, when there
//! is one, then acknowledged.

use crate::credentials::{Credentials, Endpoints};
use crate::error::GcpError;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use parapet_provider::{Message, ProviderError};
use serde_json::{Value, json};
use std::time::Duration;

/// The most messages one pull takes.
const BATCH: u32 = 100;

/// How long pulled messages stay with this reader before Pub/Sub hands
/// them out again, in seconds.
const HELD_SECONDS: u32 = 60;

/// Pub/Sub's public endpoint.
const PUBSUB: &str = "https://pubsub.googleapis.com";

/// A Pub/Sub subscription of Cloud Asset Inventory feed messages.
pub struct PubSubQueue {
    /// The subscription (`projects/P/subscriptions/S`).
    name: String,
    dead_letter: Option<String>,
    root: String,
    http: reqwest::Client,
    credentials: google_cloud_auth::credentials::Credentials,
    runtime: tokio::runtime::Runtime,
}

impl PubSubQueue {
    /// The subscription `name` (`projects/P/subscriptions/S`), with the
    /// dead-letter topic `dead_letter` (`projects/P/topics/T`) when given,
    /// signed in with `credentials`.
    pub fn connect(
        name: &str,
        dead_letter: Option<&str>,
        credentials: &Credentials,
        endpoints: &Endpoints,
    ) -> Result<PubSubQueue, GcpError> {
        let setting = |setting: &str, message: String| GcpError::Setting {
            setting: setting.to_owned(),
            message,
        };
        let named = |what: &str, value: &str, kind: &str| {
            let parts: Vec<&str> = value.split('/').collect();
            match parts.as_slice() {
                ["projects", p, k, s] if *k == kind && !p.is_empty() && !s.is_empty() => Ok(()),
                _ => Err(setting(
                    what,
                    format!("{value}: not projects/PROJECT/{kind}/NAME"),
                )),
            }
        };
        named("subscription", name, "subscriptions")?;
        if let Some(topic) = dead_letter {
            named("dead-letter topic", topic, "topics")?;
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| setting("runtime", e.to_string()))?;
        let credentials = {
            let _entered = runtime.enter();
            credentials.signed_in()?
        };
        crate::credentials::install_crypto();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| setting("Pub/Sub endpoint", e.to_string()))?;
        Ok(PubSubQueue {
            name: name.to_owned(),
            dead_letter: dead_letter.map(str::to_owned),
            root: endpoints
                .pubsub
                .clone()
                .unwrap_or_else(|| PUBSUB.to_owned()),
            http,
            credentials,
            runtime,
        })
    }

    fn failed(&self, what: &str, why: impl std::fmt::Display) -> ProviderError {
        ProviderError::Queue {
            queue: self.name.clone(),
            reason: format!("{what}: {why}"),
        }
    }

    /// Calls `verb` on `resource` with `body`, waiting at most `wait`;
    /// `Ok(None)`: the wait passed without an answer.
    fn call(
        &self,
        resource: &str,
        verb: &str,
        body: &Value,
        wait: Duration,
    ) -> Result<Option<Value>, ProviderError> {
        let url = format!("{}/v1/{resource}:{verb}", self.root);
        self.runtime.block_on(async {
            let headers = match self.credentials.headers(http::Extensions::new()).await {
                Ok(google_cloud_auth::credentials::CacheableResource::New { data, .. }) => data,
                Ok(google_cloud_auth::credentials::CacheableResource::NotModified) => {
                    return Err(self.failed(verb, "no credential headers"));
                }
                Err(e) => return Err(self.failed(verb, e)),
            };
            let sent = self
                .http
                .post(&url)
                .headers(headers)
                .header("content-type", "application/json")
                .body(body.to_string())
                .timeout(wait)
                .send()
                .await;
            let answer = match sent {
                Ok(answer) => answer,
                Err(e) if e.is_timeout() => return Ok(None),
                Err(e) => return Err(self.failed(verb, e)),
            };
            let status = answer.status();
            let text = answer.text().await.map_err(|e| self.failed(verb, e))?;
            let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if !status.is_success() {
                let message = value["error"]["message"].as_str().unwrap_or(&text);
                let code = value["error"]["status"].as_str().unwrap_or_default();
                return Err(self.failed(verb, format!("{status} {code}: {message}")));
            }
            Ok(Some(value))
        })
    }
}

/// A pulled message as the daemon reads it: its text (the feed's JSON),
/// its ack id as the receipt, and when it was published.
fn message(received: &Value) -> Option<Message> {
    let ack = received["ackId"].as_str()?;
    let data = received["message"]["data"].as_str().unwrap_or_default();
    let body = STANDARD
        .decode(data)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_else(|| data.to_owned());
    let sent_at_ms = received["message"]["publishTime"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp_millis());
    Some(Message {
        id: received["message"]["messageId"]
            .as_str()
            .unwrap_or(ack)
            .to_owned(),
        receipt: ack.to_owned(),
        body,
        sent_at_ms,
    })
}

impl parapet_provider::Queue for PubSubQueue {
    fn name(&self) -> &str {
        &self.name
    }

    fn receive(&self, wait_seconds: i32) -> Result<Vec<Message>, ProviderError> {
        let wait = Duration::from_secs(u64::try_from(wait_seconds.max(1)).unwrap_or(1));
        let body = json!({"maxMessages": BATCH});
        let Some(answer) = self.call(&self.name, "pull", &body, wait)? else {
            return Ok(Vec::new());
        };
        let received = answer["receivedMessages"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let messages: Vec<Message> = received.iter().filter_map(message).collect();
        if !messages.is_empty() {
            let ids: Vec<&str> = messages.iter().map(|m| m.receipt.as_str()).collect();
            let held = json!({"ackIds": ids, "ackDeadlineSeconds": HELD_SECONDS});
            self.call(
                &self.name,
                "modifyAckDeadline",
                &held,
                Duration::from_secs(30),
            )?;
        }
        Ok(messages)
    }

    fn delete(&self, messages: &[&Message]) -> Result<(), ProviderError> {
        if messages.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = messages.iter().map(|m| m.receipt.as_str()).collect();
        self.call(
            &self.name,
            "acknowledge",
            &json!({"ackIds": ids}),
            Duration::from_secs(30),
        )?;
        Ok(())
    }

    fn set_aside(&self, message: &Message) -> Result<(), ProviderError> {
        if let Some(topic) = &self.dead_letter {
            let kept = json!({"messages": [{
                "data": STANDARD.encode(&message.body),
                "attributes": {"parapetSubscription": self.name},
            }]});
            self.call(topic, "publish", &kept, Duration::from_secs(30))?;
        }
        self.delete(&[message])
    }
}
