//! The outbox worker: sends the notifications that are due, records each
//! delivery, and schedules a failed one again with exponential backoff
//! until its last attempt, after which it stays in the outbox marked failed
//! (`parapet notify outbox`).

use crate::NotifyError;
use crate::channel::{Channel, Message};
use crate::config::NotifyConfig;
use crate::template::Templates;
use chrono::{DateTime, Utc};
use parapet_store::{FindingChange, Notification, Outbox};
use std::collections::BTreeMap;

/// Attempts before a notification is marked failed, unless configured.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

/// The longest wait between two attempts.
const MAX_BACKOFF_SECONDS: i64 = 15 * 60;

/// How many notifications one pass takes from the outbox.
const BATCH: usize = 100;

/// What one pass over the outbox did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// Accepted by their channel.
    pub delivered: usize,
    /// Failed, to be tried again.
    pub retrying: usize,
    /// Failed for the last time.
    pub failed: usize,
    /// Put off by their channel's rate limit.
    pub deferred: usize,
}

/// A channel's limit a minute, and the times of its sends in the last one.
type RateLimit = (
    u32,
    std::sync::Mutex<std::collections::VecDeque<DateTime<Utc>>>,
);

/// The configured channels and how to reach them.
pub struct Notifier {
    channels: BTreeMap<String, Channel>,
    templates: Templates,
    /// Per rate-limited channel: its limit a minute, and when it was last
    /// sent to.
    limits: BTreeMap<String, RateLimit>,
    /// Per digest channel: its window.
    digests: BTreeMap<String, chrono::Duration>,
    max_attempts: u32,
    base_url: Option<String>,
    agent: ureq::Agent,
}

impl Notifier {
    /// The channels of `config`, their secrets read.
    pub fn new(config: &NotifyConfig) -> Result<Notifier, NotifyError> {
        let mut channels = BTreeMap::new();
        for channel in &config.channels {
            let built = Channel::new(channel)?;
            if channels.insert(built.name().to_owned(), built).is_some() {
                return Err(NotifyError::Config(format!(
                    "two channels are named `{}`",
                    channel.name()
                )));
            }
        }
        let templates = Templates::new(&config.templates, channels.keys().map(String::as_str))?;
        let mut limits = BTreeMap::new();
        let mut digests = BTreeMap::new();
        for (name, limit) in &config.limits {
            let Some(channel) = channels.get(name) else {
                return Err(NotifyError::Config(format!(
                    "a limit is given for the channel `{name}`, which is not defined"
                )));
            };
            if let Some(per_minute) = limit.per_minute {
                if per_minute == 0 {
                    return Err(NotifyError::Config(format!(
                        "channel {name}: a limit of 0 a minute would never send"
                    )));
                }
                limits.insert(name.clone(), (per_minute, Default::default()));
            }
            if let Some(window) = limit.digest {
                if !channel.digests() {
                    return Err(NotifyError::Config(format!(
                        "channel {name}: PagerDuty alerts are one per finding, never a digest"
                    )));
                }
                let window = chrono::Duration::from_std(window).map_err(|_| {
                    NotifyError::Config(format!("channel {name}: the digest window is too long"))
                })?;
                digests.insert(name.clone(), window);
            }
        }
        let agent = ureq::Agent::config_builder()
            // A receiver's refusal is an answer to record, not to follow.
            .max_redirects(0)
            .build()
            .new_agent();
        Ok(Notifier {
            channels,
            templates,
            limits,
            digests,
            max_attempts: config.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS).max(1),
            base_url: config
                .base_url
                .as_ref()
                .map(|u| u.trim_end_matches('/').to_owned()),
            agent,
        })
    }

    /// The channels' names.
    pub fn channel_names(&self) -> impl Iterator<Item = &str> {
        self.channels.keys().map(String::as_str)
    }

    /// The finding's page in the web UI.
    fn link(&self, change: &FindingChange) -> Option<String> {
        self.base_url.as_ref().map(|base| {
            format!(
                "{base}/findings?rule={}&asset={}",
                encode(&change.rule_id),
                encode(&change.asset_id)
            )
        })
    }

    /// When the attempt after `attempts` failed ones is due.
    fn retry_at(&self, attempts: i64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (attempts < i64::from(self.max_attempts)).then(|| {
            let wait = 1_i64
                .checked_shl(u32::try_from(attempts.saturating_sub(1)).unwrap_or(u32::MAX))
                .unwrap_or(MAX_BACKOFF_SECONDS)
                .clamp(1, MAX_BACKOFF_SECONDS);
            now + chrono::Duration::seconds(wait)
        })
    }

    /// When `channel` may next be sent to, if its limit is reached at `now`;
    /// otherwise the send is counted against the limit.
    fn limited(&self, channel: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let (per_minute, sent) = self.limits.get(channel)?;
        let mut sent = sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let minute = chrono::Duration::minutes(1);
        while sent.front().is_some_and(|t| *t + minute <= now) {
            sent.pop_front();
        }
        if sent.len() >= *per_minute as usize {
            return sent.front().map(|first| *first + minute);
        }
        sent.push_back(now);
        None
    }

    /// Sends what is due at `now` (one batch), recording each outcome.
    pub fn deliver_due(
        &self,
        store: &mut dyn Outbox,
        now: DateTime<Utc>,
    ) -> Result<Delivery, NotifyError> {
        let mut done = Delivery::default();
        let mut digests: BTreeMap<String, Vec<Notification>> = BTreeMap::new();
        for notification in store.due_notifications(now, BATCH)? {
            if self.digests.contains_key(&notification.channel) {
                digests
                    .entry(notification.channel.clone())
                    .or_default()
                    .push(notification);
                continue;
            }
            if let Some(free_at) = self.limited(&notification.channel, Utc::now()) {
                store.notification_deferred(notification.id, free_at)?;
                done.deferred += 1;
                continue;
            }
            let sent = match self.channels.get(&notification.channel) {
                Some(channel) if channel.keeps_references() => {
                    self.send_tracked(store, channel, &notification)
                }
                Some(channel) => {
                    self.send(channel, &notification.change, &notification.idempotency_key)
                }
                None => Err(NotifyError::Config(format!(
                    "no channel is named `{}` any more",
                    notification.channel
                ))),
            };
            self.record(store, &[notification], sent, &mut done)?;
        }
        for (name, group) in digests {
            let window = self.digests[&name];
            // The window opens with the oldest change it holds.
            let opened = group.iter().map(|n| n.created_at).min().unwrap_or(now);
            let closes = opened + window;
            let free_at = if closes > now {
                Some(closes)
            } else {
                self.limited(&name, Utc::now())
            };
            if let Some(free_at) = free_at {
                for n in &group {
                    store.notification_deferred(n.id, free_at)?;
                }
                done.deferred += group.len();
                continue;
            }
            let sent = match self.channels.get(&name) {
                Some(channel) => self.send_digest(channel, &group),
                None => Err(NotifyError::Config(format!(
                    "no channel is named `{name}` any more"
                ))),
            };
            self.record(store, &group, sent, &mut done)?;
        }
        Ok(done)
    }

    /// Records the outcome of one message that carried `notifications`.
    fn record(
        &self,
        store: &mut dyn Outbox,
        notifications: &[Notification],
        sent: Result<(), NotifyError>,
        done: &mut Delivery,
    ) -> Result<(), NotifyError> {
        for notification in notifications {
            match &sent {
                Ok(()) => {
                    store.notification_delivered(notification.id, Utc::now())?;
                    done.delivered += 1;
                }
                Err(error) => {
                    let retry = self.retry_at(notification.attempts + 1, Utc::now());
                    store.notification_failed(notification.id, &error.to_string(), retry)?;
                    if retry.is_some() {
                        done.retrying += 1;
                    } else {
                        done.failed += 1;
                    }
                }
            }
        }
        Ok(())
    }

    /// Renders each of `group` with the channel's templates and sends them
    /// as one digest, under a key made of theirs.
    fn send_digest(&self, channel: &Channel, group: &[Notification]) -> Result<(), NotifyError> {
        use sha2::Digest;
        let links: Vec<Option<String>> = group.iter().map(|n| self.link(&n.change)).collect();
        let mut messages = Vec::new();
        for (n, link) in group.iter().zip(&links) {
            let rendered = self
                .templates
                .render(
                    channel.name(),
                    &n.change,
                    &n.idempotency_key,
                    link.as_deref(),
                )
                .map_err(|reason| NotifyError::Delivery {
                    channel: channel.name().to_owned(),
                    reason,
                })?;
            messages.push(Message {
                change: &n.change,
                idempotency_key: &n.idempotency_key,
                link: link.clone(),
                title: rendered.title,
                text: rendered.text,
            });
        }
        let mut keys: Vec<&str> = group.iter().map(|n| n.idempotency_key.as_str()).collect();
        keys.sort_unstable();
        let digest = sha2::Sha256::digest(keys.join("\n"));
        let key = format!("parapet-digest-{}", &hex::encode(digest)[..32]);
        channel.send_digest(&self.agent, &messages, &key)
    }

    /// Sends a test message to `channel` now, outside the outbox.
    pub fn test(&self, channel: &str) -> Result<(), NotifyError> {
        let channel = self
            .channels
            .get(channel)
            .ok_or_else(|| NotifyError::Config(format!("no channel is named `{channel}`")))?;
        let change = FindingChange {
            kind: parapet_core::EventKind::FindingOpened,
            at: Utc::now(),
            rule_id: "parapet-test".to_owned(),
            rule_title: "Parapet can send to this channel".to_owned(),
            severity: parapet_core::Severity::Informational,
            message: "A test message from Parapet: this channel works".to_owned(),
            asset_id: "parapet-test".to_owned(),
            asset_name: "parapet-test".to_owned(),
            account: String::new(),
            region: String::new(),
            resource_type: String::new(),
            tags: BTreeMap::new(),
            incident: None,
        };
        let key = format!("parapet-test-{}", change.at.timestamp_millis());
        self.send(channel, &change, &key)
    }

    /// Sends to a channel that keeps a reference per finding (a Jira issue),
    /// recording the one it creates.
    fn send_tracked(
        &self,
        store: &mut dyn Outbox,
        channel: &Channel,
        notification: &Notification,
    ) -> Result<(), NotifyError> {
        let change = &notification.change;
        let link = self.link(change);
        let rendered = self
            .templates
            .render(
                channel.name(),
                change,
                &notification.idempotency_key,
                link.as_deref(),
            )
            .map_err(|reason| NotifyError::Delivery {
                channel: channel.name().to_owned(),
                reason,
            })?;
        let subject = crate::channel::dedup_key(change);
        let existing = store.channel_ref(channel.name(), &subject)?;
        let message = Message {
            change,
            idempotency_key: &notification.idempotency_key,
            link,
            title: rendered.title,
            text: rendered.text,
        };
        if let Some(created) = channel.send_tracked(&self.agent, &message, existing.as_deref())? {
            store.set_channel_ref(channel.name(), &subject, &created)?;
        }
        Ok(())
    }

    /// Renders `change` with the channel's templates and sends it.
    fn send(
        &self,
        channel: &Channel,
        change: &FindingChange,
        key: &str,
    ) -> Result<(), NotifyError> {
        let link = self.link(change);
        let rendered = self
            .templates
            .render(channel.name(), change, key, link.as_deref())
            .map_err(|reason| NotifyError::Delivery {
                channel: channel.name().to_owned(),
                reason,
            })?;
        channel.send(
            &self.agent,
            &Message {
                change,
                idempotency_key: key,
                link,
                title: rendered.title,
                text: rendered.text,
            },
        )
    }
}

/// `text` with everything but unreserved characters percent-encoded.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_last_attempt() {
        let notifier = Notifier::new(&NotifyConfig {
            max_attempts: Some(5),
            ..Default::default()
        })
        .expect("notifier");
        let now = Utc::now();
        let waits: Vec<Option<i64>> = (1..=5)
            .map(|n| notifier.retry_at(n, now).map(|t| (t - now).num_seconds()))
            .collect();
        assert_eq!(waits, [Some(1), Some(2), Some(4), Some(8), None]);
        let many = Notifier::new(&NotifyConfig {
            max_attempts: Some(100),
            ..Default::default()
        })
        .expect("notifier");
        assert_eq!(
            many.retry_at(80, now).map(|t| (t - now).num_seconds()),
            Some(MAX_BACKOFF_SECONDS)
        );
    }

    #[test]
    fn a_rate_limit_lets_so_many_through_a_minute() {
        let config: NotifyConfig = toml::from_str(
            "[[channels]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"http://127.0.0.1:1\"\n[limits.hook]\nper_minute = 2\n",
        )
        .expect("valid");
        let notifier = Notifier::new(&config).expect("notifier");
        let t0 = Utc::now();
        let at = |s: i64| t0 + chrono::Duration::seconds(s);
        assert_eq!(notifier.limited("hook", at(0)), None);
        assert_eq!(notifier.limited("hook", at(10)), None);
        assert_eq!(
            notifier.limited("hook", at(20)),
            Some(at(60)),
            "the third waits"
        );
        assert_eq!(
            notifier.limited("hook", at(60)),
            None,
            "a minute after the first"
        );
        assert_eq!(notifier.limited("other", at(0)), None, "no limit");
        let zero: NotifyConfig = toml::from_str(
            "[[channels]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"http://127.0.0.1:1\"\n[limits.hook]\nper_minute = 0\n",
        )
        .expect("valid");
        assert!(Notifier::new(&zero).is_err());
    }

    #[test]
    fn links_encode_the_finding() {
        let notifier = Notifier::new(&NotifyConfig {
            base_url: Some("https://parapet.example.com/".into()),
            ..Default::default()
        })
        .expect("notifier");
        let change = FindingChange {
            rule_id: "aws-s3-x".into(),
            asset_id: "arn:aws:s3:::a b".into(),
            ..crate::template::sample()
        };
        assert_eq!(
            notifier.link(&change).as_deref(),
            Some(
                "https://parapet.example.com/findings?rule=aws-s3-x&asset=arn%3Aaws%3As3%3A%3A%3Aa%20b"
            )
        );
    }
}
