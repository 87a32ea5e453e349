//! The `notifications` section of the configuration file: channels, routes
//! and the default route, the base URL messages link to, and how many
//! attempts a delivery gets.

use parapet_core::{Secret, Severity};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Where finding changes are sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// The web UI's address; messages link to the finding there.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Attempts before a notification is marked failed (8 by default:
    /// about two minutes of backoff).
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// The channels, each with a name routes refer to.
    #[serde(default)]
    pub channels: Vec<ChannelConfig>,
    /// The routes: a change goes to the channels of every route it matches.
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    /// The channels of a change no route matches.
    #[serde(default)]
    pub default: Vec<String>,
    /// Message templates, for every channel or one.
    #[serde(default)]
    pub templates: crate::template::TemplateConfig,
    /// Per channel, by name: how fast it may be sent to.
    #[serde(default)]
    pub limits: BTreeMap<String, LimitConfig>,
}

/// How fast one channel may be sent to.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitConfig {
    /// At most this many messages in any minute; the rest wait their turn
    /// (no attempt is spent).
    #[serde(default)]
    pub per_minute: Option<u32>,
    /// One message per window (`5m`) listing every change in it, rather
    /// than one per change.
    #[serde(default, deserialize_with = "window")]
    pub digest: Option<std::time::Duration>,
}

fn window<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<std::time::Duration>, D::Error> {
    let text = String::deserialize(d)?;
    humantime::parse_duration(&text)
        .map(Some)
        .map_err(|e| serde::de::Error::custom(format!("`{text}` is not a duration: {e}")))
}

/// One channel.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum ChannelConfig {
    /// JSON posted to a URL, signed with HMAC-SHA256 when a secret is given.
    Webhook {
        /// What routes call it.
        name: String,
        /// Where to post (the address may hold a token: it is never logged).
        url: String,
        /// The key of the `X-Parapet-Signature` header.
        #[serde(default)]
        secret: Option<Secret>,
        /// More headers to send.
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    /// A Slack incoming webhook: a Block Kit message.
    Slack {
        /// What routes call it.
        name: String,
        /// The webhook's address, which is its credential.
        url: Secret,
    },
    /// A Microsoft Teams incoming webhook (a Workflows webhook): an
    /// Adaptive Card.
    Teams {
        /// What routes call it.
        name: String,
        /// The webhook's address, which is its credential.
        url: Secret,
    },
    /// Email through an SMTP server: STARTTLS (the default) or TLS, with
    /// authentication when a user is given.
    Email {
        /// What routes call it.
        name: String,
        /// The SMTP server.
        host: String,
        /// Its port (587 for STARTTLS, 465 for TLS, 25 without).
        #[serde(default)]
        port: Option<u16>,
        /// How the connection is protected.
        #[serde(default)]
        security: SmtpSecurity,
        /// The user to authenticate as.
        #[serde(default)]
        username: Option<String>,
        /// Their password.
        #[serde(default)]
        password: Option<Secret>,
        /// The sender, `Name <address>` or an address.
        from: String,
        /// The recipients.
        to: Vec<String>,
        /// A PEM certificate to trust besides the public roots (a private
        /// CA's).
        #[serde(default)]
        ca_file: Option<std::path::PathBuf>,
    },
    /// Jira (REST API v2): an opened finding creates an issue; its
    /// resolution comments on it and moves it to the resolving transition;
    /// a reopening comments and moves it back.
    Jira {
        /// What routes call it.
        name: String,
        /// The site (`https://example.atlassian.net`).
        url: String,
        /// The account (an email address for Jira Cloud).
        user: String,
        /// Its API token.
        token: Secret,
        /// The project key (`SEC`).
        project: String,
        /// The issue type.
        #[serde(default = "jira_issue_type")]
        issue_type: String,
        /// The transition that closes an issue.
        #[serde(default = "jira_done")]
        resolve_transition: String,
        /// The transition that opens it again, if any.
        #[serde(default)]
        reopen_transition: Option<String>,
        /// Labels every issue gets (besides `parapet`).
        #[serde(default)]
        labels: Vec<String>,
    },
    /// PagerDuty's Events API v2: an opened finding triggers an alert, its
    /// resolution resolves it (one dedup key per finding).
    PagerDuty {
        /// What routes call it.
        name: String,
        /// The integration's routing key.
        routing_key: Secret,
        /// The Events API's address.
        #[serde(default = "pagerduty_events")]
        url: String,
    },
}

/// How an SMTP connection is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which is required.
    #[default]
    Starttls,
    /// TLS from the first byte.
    Tls,
    /// No encryption: only for a relay on the same host.
    None,
}

fn jira_issue_type() -> String {
    "Bug".to_owned()
}

fn jira_done() -> String {
    "Done".to_owned()
}

fn pagerduty_events() -> String {
    "https://events.pagerduty.com/v2/enqueue".to_owned()
}

impl ChannelConfig {
    /// The channel's name.
    pub fn name(&self) -> &str {
        match self {
            ChannelConfig::Webhook { name, .. }
            | ChannelConfig::Slack { name, .. }
            | ChannelConfig::Teams { name, .. }
            | ChannelConfig::Email { name, .. }
            | ChannelConfig::Jira { name, .. }
            | ChannelConfig::PagerDuty { name, .. } => name,
        }
    }

    /// The secrets the channel names, to take relative files from the
    /// configuration file's folder.
    pub fn secrets_mut(&mut self) -> Vec<&mut Secret> {
        match self {
            ChannelConfig::Webhook { secret, .. } => secret.iter_mut().collect(),
            ChannelConfig::Slack { url, .. } | ChannelConfig::Teams { url, .. } => vec![url],
            ChannelConfig::PagerDuty { routing_key, .. } => vec![routing_key],
            ChannelConfig::Email { password, .. } => password.iter_mut().collect(),
            ChannelConfig::Jira { token, .. } => vec![token],
        }
    }
}

/// Which changes go to which channels. Every criterion given must match;
/// a list matches when it holds the value (rules may use `*` and `?`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Where matching changes go.
    pub channels: Vec<String>,
    /// This severity or worse.
    #[serde(default)]
    pub min_severity: Option<Severity>,
    /// Rule ids or patterns.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Rule tags (`internet-exposed`): rules with any of them.
    #[serde(default)]
    pub rule_tags: Vec<String>,
    /// Framework ids a rule maps to (`cis-aws-foundations-7.0`).
    #[serde(default)]
    pub frameworks: Vec<String>,
    /// Accounts.
    #[serde(default)]
    pub accounts: Vec<String>,
    /// Regions.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Resource types.
    #[serde(default)]
    pub resource_types: Vec<String>,
    /// Tags the asset carries, each key with its value.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}
