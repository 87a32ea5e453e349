//! Pub/Sub's pull subscriptions, as the fake keeps them: the messages
//! published to a subscription wait until a pull hands them out with an
//! ack id; an acknowledged message is gone, one whose deadline passes
//! (ten seconds, or as modifyAckDeadline sets it; zero hands it back at
//! once) is handed out again. A pull waits up to two seconds for a
//! message. Messages published to a topic are kept for the test to read.

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// How long a pull waits for a message.
const PULL_WAIT: Duration = Duration::from_secs(2);

/// The ack deadline a pulled message starts with.
const ACK_DEADLINE: Duration = Duration::from_secs(10);

/// One message of a subscription.
#[derive(Debug, Clone)]
struct Pending {
    id: String,
    data: String,
    publish_time: String,
    attempts: u32,
}

/// One subscription's messages.
#[derive(Debug, Default)]
struct Subscription {
    waiting: VecDeque<Pending>,
    outstanding: BTreeMap<String, (Pending, Instant)>,
    acknowledged: usize,
}

/// Every subscription and topic.
#[derive(Debug, Default)]
pub struct PubSub {
    subscriptions: BTreeMap<String, Subscription>,
    published: BTreeMap<String, Vec<Value>>,
    next: u64,
}

type Answer = Result<Value, (StatusCode, String)>;

impl PubSub {
    /// Creates the subscription `name` (`projects/P/subscriptions/S`).
    pub fn subscribe(&mut self, name: &str) {
        self.subscriptions.entry(name.to_owned()).or_default();
    }

    /// Publishes `data` to the subscription `name`.
    pub fn deliver(&mut self, name: &str, data: &[u8]) {
        self.next += 1;
        let pending = Pending {
            id: format!("{}", 9_000_000_000_u64 + self.next),
            data: STANDARD.encode(data),
            publish_time: "2026-12-06T10:00:00.000Z".to_owned(),
            attempts: 0,
        };
        self.subscriptions
            .entry(name.to_owned())
            .or_default()
            .waiting
            .push_back(pending);
    }

    /// How many messages of `name` were acknowledged, and how many are
    /// still waiting or handed out.
    pub fn counts(&self, name: &str) -> (usize, usize) {
        self.subscriptions.get(name).map_or((0, 0), |s| {
            (s.acknowledged, s.waiting.len() + s.outstanding.len())
        })
    }

    /// The messages published to the topic `name`.
    pub fn published(&self, name: &str) -> Vec<Value> {
        self.published.get(name).cloned().unwrap_or_default()
    }

    fn subscription(&mut self, name: &str) -> Result<&mut Subscription, (StatusCode, String)> {
        self.subscriptions.get_mut(name).ok_or((
            StatusCode::NOT_FOUND,
            format!("Resource not found (resource={name})."),
        ))
    }

    /// Hands out up to `most` messages of `name`, if any wait (or have
    /// passed their deadline); `None`: none yet.
    pub fn pull(&mut self, name: &str, most: usize) -> Result<Option<Value>, (StatusCode, String)> {
        let subscription = self.subscription(name)?;
        let now = Instant::now();
        let expired: Vec<String> = subscription
            .outstanding
            .iter()
            .filter(|(_, (_, deadline))| *deadline <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for ack in expired {
            if let Some((pending, _)) = subscription.outstanding.remove(&ack) {
                subscription.waiting.push_front(pending);
            }
        }
        if subscription.waiting.is_empty() {
            return Ok(None);
        }
        let mut received = Vec::new();
        while received.len() < most.max(1) {
            let Some(mut pending) = subscription.waiting.pop_front() else {
                break;
            };
            pending.attempts += 1;
            let ack = format!("ack-{}-{}", pending.id, pending.attempts);
            received.push(json!({
                "ackId": ack,
                "message": {
                    "data": pending.data,
                    "messageId": pending.id,
                    "publishTime": pending.publish_time,
                },
                "deliveryAttempt": pending.attempts,
            }));
            subscription
                .outstanding
                .insert(ack, (pending, now + ACK_DEADLINE));
        }
        Ok(Some(json!({"receivedMessages": received})))
    }

    /// Acknowledges the messages of `ack_ids`.
    pub fn acknowledge(&mut self, name: &str, body: &Value) -> Answer {
        let subscription = self.subscription(name)?;
        for ack in ack_ids(body)? {
            if subscription.outstanding.remove(&ack).is_some() {
                subscription.acknowledged += 1;
            }
        }
        Ok(json!({}))
    }

    /// Sets the deadline of the messages of `ack_ids`.
    pub fn modify(&mut self, name: &str, body: &Value) -> Answer {
        let seconds = body["ackDeadlineSeconds"]
            .as_u64()
            .filter(|s| *s <= 600)
            .ok_or((
                StatusCode::BAD_REQUEST,
                "ackDeadlineSeconds must be 0 to 600".to_owned(),
            ))?;
        let subscription = self.subscription(name)?;
        for ack in ack_ids(body)? {
            if let Some((_, deadline)) = subscription.outstanding.get_mut(&ack) {
                *deadline = Instant::now() + Duration::from_secs(seconds);
            }
        }
        Ok(json!({}))
    }

    /// Publishes the body's messages to the topic `name`.
    pub fn publish(&mut self, name: &str, body: &Value) -> Answer {
        let messages = body["messages"].as_array().cloned().unwrap_or_default();
        if messages.is_empty() {
            return Err((StatusCode::BAD_REQUEST, "no messages".to_owned()));
        }
        let mut ids = Vec::new();
        for message in messages {
            self.next += 1;
            ids.push(json!(format!("{}", 8_000_000_000_u64 + self.next)));
            self.published
                .entry(name.to_owned())
                .or_default()
                .push(message);
        }
        Ok(json!({"messageIds": ids}))
    }

    /// How long a pull waits.
    pub fn wait() -> Duration {
        PULL_WAIT
    }
}

/// The ack ids of a request body.
fn ack_ids(body: &Value) -> Result<Vec<String>, (StatusCode, String)> {
    let ids: Vec<String> = body["ackIds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str().map(str::to_owned))
        .collect();
    match ids.is_empty() {
        true => Err((StatusCode::BAD_REQUEST, "No ack ids specified.".to_owned())),
        false => Ok(ids),
    }
}
