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

/// One channel: its kind, its name, and its kind's settings (each kind's
/// module under `channel/` documents them; docs/notifications.md shows
/// each).
/// It is checked as it is read: a channel of an unknown kind, or whose
/// settings are not its kind's, does not load.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawChannelConfig")]
pub struct ChannelConfig {
    /// Its kind: `webhook`, `slack`, `teams`, `email`, `jira`, `pagerduty`.
    pub kind: String,
    /// What routes call it.
    pub name: String,
    /// The settings of its kind.
    pub settings: serde_json::Map<String, serde_json::Value>,
}

/// A channel as written, before its kind checks it.
#[derive(Deserialize)]
struct RawChannelConfig {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    #[serde(flatten)]
    settings: serde_json::Map<String, serde_json::Value>,
}

impl TryFrom<RawChannelConfig> for ChannelConfig {
    type Error = String;

    fn try_from(raw: RawChannelConfig) -> Result<ChannelConfig, String> {
        let config = ChannelConfig {
            kind: raw.kind,
            name: raw.name,
            settings: raw.settings,
        };
        config.check().map_err(config_reason)?;
        Ok(config)
    }
}

impl ChannelConfig {
    /// The channel's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Checks that its kind exists and its settings are that kind's,
    /// without reading its secrets.
    pub fn check(&self) -> Result<(), crate::NotifyError> {
        let kind = crate::channel::channel_type(&self.kind).map_err(|e| {
            crate::NotifyError::Config(format!("channel {}: {}", self.name, config_reason(e)))
        })?;
        (kind.check)(self)
    }

    /// Reads one of its secrets.
    pub fn read(&self, secret: &Secret) -> Result<String, crate::NotifyError> {
        secret.read().map_err(|source| crate::NotifyError::Secret {
            channel: self.name.clone(),
            source,
        })
    }

    /// Takes the relative files of its secrets (`{ file = "PATH" }`) from
    /// `folder`, the configuration file's.
    pub fn secrets_from(&mut self, folder: &std::path::Path) {
        for value in self.settings.values_mut() {
            let Some(reference) = value.as_object_mut() else {
                continue;
            };
            if reference.len() != 1 {
                continue;
            }
            if let Some(serde_json::Value::String(file)) = reference.get_mut("file") {
                let path = std::path::Path::new(file.as_str());
                if path.is_relative() {
                    *file = folder.join(path).display().to_string();
                }
            }
        }
    }
}

/// The reason of a configuration error, without its prefix.
fn config_reason(error: crate::NotifyError) -> String {
    match error {
        crate::NotifyError::Config(reason) => reason,
        other => other.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_of_an_unknown_kind_or_with_foreign_settings_does_not_load() {
        let unknown =
            toml::from_str::<NotifyConfig>("[[channels]]\ntype = \"pigeon\"\nname = \"coo\"\n")
                .expect_err("no pigeons");
        assert!(
            unknown
                .to_string()
                .contains("channel coo: `pigeon` is not a kind of channel"),
            "{unknown}"
        );
        let foreign = toml::from_str::<NotifyConfig>(
            "[[channels]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"http://127.0.0.1:1\"\nproject = \"SEC\"\n",
        )
        .expect_err("a webhook has no project");
        assert!(
            foreign
                .to_string()
                .contains("channel hook (webhook): unknown field `project`"),
            "{foreign}"
        );
        let webhook = toml::from_str::<NotifyConfig>(
            "[[channels]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"http://127.0.0.1:1\"\nsecret = { file = \"hook.key\" }\n",
        )
        .expect("a webhook");
        let mut channel = webhook.channels[0].clone();
        channel.secrets_from(std::path::Path::new("/etc/parapet"));
        assert_eq!(channel.settings["secret"]["file"], "/etc/parapet/hook.key");
        assert_eq!(channel.settings["url"], "http://127.0.0.1:1");
    }
}
