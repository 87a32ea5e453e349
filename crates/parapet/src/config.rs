//! Parapet's configuration file (`--config` or `PARAPET_CONFIG`; TOML when
//! its name ends in `.toml`, YAML otherwise): the database and rule folders,
//! the `aws` section (accounts, regions, organisation role), the `tags`
//! section (the tag policy rules check), `mutes` (accepted risks kept in the
//! database) and the `watch` section (the daemon's event sources, resync and
//! log). Options and environment variables override the file; secrets are
//! never written in it, only where to read them (an environment variable or
//! a file). `examples/parapet.toml` is a commented example.

use crate::cli::{GlobalArgs, LogFormat};
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use parapet_aws::AwsFileConfig;
use parapet_core::{MuteSelector, Secret};
use parapet_rules::{IdentityPolicy, TagPolicy};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The configuration file's contents; every section is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The database: a SQLite file, or a PostgreSQL URL without its
    /// password (`--db` and `PARAPET_DB` override it).
    #[serde(default)]
    pub database: Option<PathBuf>,
    /// Rule folders loaded besides the built-in rules (`--rules` and
    /// `PARAPET_RULES` add to them).
    #[serde(default)]
    pub rules: Vec<PathBuf>,
    /// Which AWS accounts and regions to collect.
    #[serde(default)]
    pub aws: AwsFileConfig,
    /// Which Azure subscriptions to collect.
    #[serde(default)]
    pub azure: parapet_azure::AzureFileConfig,
    /// Which Google Cloud organisation, folder or projects to collect.
    #[serde(default)]
    pub gcp: parapet_gcp::GcpFileConfig,
    /// The tag keys assets must carry.
    #[serde(default)]
    pub tags: TagPolicy,
    /// The principals meant to hold administrator rights.
    #[serde(default)]
    pub identity: IdentityPolicy,
    /// Accepted risks: findings these cover are muted.
    #[serde(default)]
    pub mutes: Vec<MuteConfig>,
    /// `parapet watch`.
    #[serde(default)]
    pub watch: WatchConfig,
    /// Where finding changes are sent.
    #[serde(default)]
    pub notifications: parapet_notify::NotifyConfig,
    /// Findings grouped into incidents (none without this section).
    #[serde(default)]
    pub incidents: Option<IncidentsConfig>,
    /// How long history is kept (`400d`): what `parapet prune` removes
    /// without `--older-than`.
    #[serde(default, deserialize_with = "duration")]
    pub retention: Option<Duration>,
}

/// The `incidents` section.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentsConfig {
    /// `rule-and-account` (the default) or `asset`.
    #[serde(default = "rule_and_account")]
    pub group_by: parapet_store::Grouping,
    /// Only findings this severe or worse (high by default).
    #[serde(default = "high")]
    pub min_severity: parapet_core::Severity,
}

fn rule_and_account() -> parapet_store::Grouping {
    parapet_store::Grouping::RuleAndAccount
}

fn high() -> parapet_core::Severity {
    parapet_core::Severity::High
}

impl IncidentsConfig {
    /// The store's policy.
    pub fn policy(self) -> parapet_store::IncidentPolicy {
        parapet_store::IncidentPolicy {
            grouping: self.group_by,
            min_severity: self.min_severity,
        }
    }
}

/// A mute the configuration keeps: which findings, why, until when.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MuteConfig {
    /// The rule id.
    #[serde(default)]
    pub rule_id: Option<String>,
    /// The asset id, or a pattern with `*` and `?`.
    #[serde(default)]
    pub asset: Option<String>,
    /// The account.
    #[serde(default)]
    pub account: Option<String>,
    /// The region.
    #[serde(default)]
    pub region: Option<String>,
    /// A tag the asset carries, `[key, value]`.
    #[serde(default)]
    pub tag: Option<(String, String)>,
    /// Why the risk is accepted.
    pub reason: String,
    /// When the mute ends.
    #[serde(default)]
    pub expires: Option<DateTime<Utc>>,
}

impl MuteConfig {
    fn selector(&self) -> MuteSelector {
        MuteSelector {
            rule_id: self.rule_id.clone(),
            asset: self.asset.clone(),
            account: self.account.clone(),
            region: self.region.clone(),
            tag: self.tag.clone(),
        }
    }
}

/// The author the configuration's mutes are recorded under.
const MUTE_AUTHOR: &str = "configuration";

/// The `watch` section: the same settings as `parapet watch`'s options,
/// which override them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchConfig {
    /// The cloud watched: `aws`, `azure` or `gcp`.
    #[serde(default)]
    pub cloud: Option<crate::cli::Cloud>,
    /// The queue change events arrive on (an SQS queue, a Storage queue).
    #[serde(default)]
    pub queue_url: Option<String>,
    /// The queue's region.
    #[serde(default)]
    pub queue_region: Option<String>,
    /// Where messages that are not events are set aside.
    #[serde(default)]
    pub dead_letter_queue_url: Option<String>,
    /// How long to wait before describing what a batch changed (`2s`).
    #[serde(default, deserialize_with = "duration")]
    pub delay: Option<Duration>,
    /// How long one receive waits, in seconds.
    #[serde(default)]
    pub wait_seconds: Option<i32>,
    /// Where `/health`, `/metrics` and the event endpoint are served.
    #[serde(default)]
    pub listen: Option<String>,
    /// How often each account is collected whole (`6h`).
    #[serde(default, deserialize_with = "duration")]
    pub resync: Option<Duration>,
    /// `human` or `json`.
    #[serde(default)]
    pub log_format: Option<LogFormat>,
    /// The secret senders to `/events` prove they hold.
    #[serde(default)]
    pub event_secret: Option<Secret>,
}

fn duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(d)?;
    humantime::parse_duration(&text)
        .map(Some)
        .map_err(|e| serde::de::Error::custom(format!("`{text}` is not a duration: {e}")))
}

/// Reads the configuration file given with `--config` (the defaults
/// without one); its relative paths are taken from the file's folder.
pub fn load(global: &GlobalArgs) -> Result<ConfigFile> {
    let Some(path) = &global.config else {
        return Ok(ConfigFile::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
    let parsed = if path.extension().is_some_and(|e| e == "toml") {
        parse_toml(&text)
    } else {
        serde_norway::from_str(&text).map_err(anyhow::Error::from)
    };
    let mut config: ConfigFile = parsed
        .with_context(|| format!("the configuration file {} is not valid", path.display()))?;
    let folder = path.parent().unwrap_or(Path::new("."));
    let anchor = |p: &mut PathBuf| {
        if p.is_relative() {
            *p = folder.join(&*p);
        }
    };
    config
        .database
        .iter_mut()
        .filter(|d| !d.to_str().is_some_and(parapet_store::postgres::is_url))
        .for_each(anchor);
    config.rules.iter_mut().for_each(anchor);
    if let Some(secret) = &mut config.watch.event_secret {
        secret.anchor(folder);
    }
    for channel in &mut config.notifications.channels {
        channel.secrets_from(folder);
    }
    for (i, mute) in config.mutes.iter().enumerate() {
        anyhow::ensure!(
            !mute.selector().is_empty(),
            "the configuration file {}: mute {} names no rule, asset, account, region or tag",
            path.display(),
            i + 1
        );
    }
    Ok(config)
}

/// Reads TOML; an error names the line and column but does not quote the
/// text there, which may be a secret written where it should not be.
fn parse_toml(text: &str) -> Result<ConfigFile> {
    toml::from_str(text).map_err(|e| {
        let place = e.span().map_or(String::new(), |span| {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!(" (line {line}, column {column})")
        });
        anyhow::anyhow!("{}{place}", e.message())
    })
}

/// The options with the configuration file's database and rule folders
/// where the options give none.
pub fn merged(mut global: GlobalArgs, config: &ConfigFile) -> GlobalArgs {
    if global.db.is_none() {
        global.db = config.database.clone();
    }
    global.rules.splice(0..0, config.rules.iter().cloned());
    global
}

/// Makes the database's mutes from the configuration match it: a mute
/// added to the file is recorded, one removed from it is lifted (mutes
/// made with `parapet findings mute` are left alone). Returns how many were
/// added and lifted.
pub fn sync_mutes(global: &GlobalArgs, config: &ConfigFile) -> Result<(usize, usize)> {
    let mut store = crate::db::open(global)?;
    let now = Utc::now();
    let active: Vec<_> = store
        .mutes(false)?
        .into_iter()
        .filter(|m| m.author == MUTE_AUTHOR && m.is_active(now))
        .collect();
    let same = |m: &parapet_core::Mute, c: &MuteConfig| {
        m.selector == c.selector() && m.reason == c.reason && m.expires_at == c.expires
    };
    let mut added = 0;
    for wanted in &config.mutes {
        if wanted.expires.is_some_and(|e| e <= now) {
            continue;
        }
        if !active.iter().any(|m| same(m, wanted)) {
            store.add_mute(
                &wanted.selector(),
                &wanted.reason,
                MUTE_AUTHOR,
                wanted.expires,
                now,
            )?;
            added += 1;
        }
    }
    let mut lifted = 0;
    for stale in active
        .iter()
        .filter(|m| !config.mutes.iter().any(|c| same(m, c)))
    {
        store.lift_mute(stale.id, now)?;
        lifted += 1;
    }
    Ok((added, lifted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<ConfigFile> {
        parse_toml(toml_text)
    }

    #[test]
    fn secrets_are_read_from_the_environment_or_a_file_never_written_inline() {
        let config = parse("[watch]\nevent_secret = { env = \"PARAPET_TEST_SECRET\" }")
            .expect("a reference");
        assert_eq!(
            config.watch.event_secret,
            Some(Secret::Env("PARAPET_TEST_SECRET".into()))
        );
        let error = parse("[watch]\nevent_secret = \"hunter2\"")
            .expect_err("an inline secret")
            .to_string();
        assert!(
            error.contains("not written in the configuration file"),
            "{error}"
        );
        assert!(error.contains("line 2, column 16"), "{error}");
        assert!(
            !error.contains("hunter2"),
            "the error repeats the secret: {error}"
        );
        assert!(parse("[watch]\nevent_secret = { env = \"A\", file = \"b\" }").is_err());
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("secret");
        std::fs::write(&file, "s3cret\n").expect("write");
        assert_eq!(Secret::File(file).read().expect("read"), "s3cret");
        let missing = Secret::Env("PARAPET_TEST_SECRET_THAT_IS_NOT_SET".into())
            .read()
            .expect_err("unset");
        assert!(
            missing
                .to_string()
                .contains("PARAPET_TEST_SECRET_THAT_IS_NOT_SET")
        );
    }

    #[test]
    fn durations_formats_and_unknown_keys() {
        let config = parse(
            "[watch]\ndelay = \"1500ms\"\nresync = \"6h\"\nlog_format = \"json\"\nqueue_url = \"https://sqs.eu-west-1.amazonaws.com/1/q\"",
        )
        .expect("valid");
        assert_eq!(config.watch.delay, Some(Duration::from_millis(1500)));
        assert_eq!(config.watch.resync, Some(Duration::from_secs(6 * 3600)));
        assert_eq!(config.watch.log_format, Some(LogFormat::Json));
        let error = parse("[watch]\nresync = \"often\"").expect_err("not a duration");
        assert!(
            error.to_string().contains("`often` is not a duration"),
            "{error}"
        );
        assert!(parse("[watch]\nqueue = \"x\"").is_err(), "unknown key");
    }

    #[test]
    fn relative_paths_are_the_configuration_files_and_options_override_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("parapet.toml");
        std::fs::write(
            &path,
            "database = \"data/parapet.db\"\nrules = [\"rules\", \"/abs/rules\"]\n[[mutes]]\nrule_id = \"aws-s3-bucket-versioning-enabled\"\nreason = \"logs are rewritten daily\"\n",
        )
        .expect("write");
        let global = GlobalArgs {
            rules: vec![PathBuf::from("/cli/rules")],
            no_builtin_rules: false,
            no_color: false,
            db: None,
            config: Some(path),
        };
        let config = load(&global).expect("valid");
        assert_eq!(config.database, Some(dir.path().join("data/parapet.db")));
        let merged_args = merged(global, &config);
        assert_eq!(merged_args.db, Some(dir.path().join("data/parapet.db")));
        assert_eq!(
            merged_args.rules,
            [
                dir.path().join("rules"),
                "/abs/rules".into(),
                "/cli/rules".into()
            ]
        );
        let overridden = merged(
            GlobalArgs {
                db: Some("/cli/parapet.db".into()),
                ..merged_args
            },
            &config,
        );
        assert_eq!(overridden.db, Some(PathBuf::from("/cli/parapet.db")));
    }

    #[test]
    fn the_azure_section_names_subscriptions_and_nothing_else() {
        let config = parse("[azure]\nsubscriptions = [\"0b1f6471-1bf0-4dda-aec3-cb9272f09590\"]")
            .expect("valid");
        assert_eq!(
            config.azure.subscriptions,
            Some(vec!["0b1f6471-1bf0-4dda-aec3-cb9272f09590".to_owned()])
        );
        assert_eq!(parse("").expect("valid").azure.subscriptions, None);
        assert!(parse("[azure]\ntenant = \"x\"").is_err(), "unknown key");
    }

    #[test]
    fn the_gcp_section_names_a_scope_and_an_account_to_act_as() {
        let config = parse(
            "[gcp]\norganization = \"538192046571\"\n\
             impersonate_service_account = \"scanner@tools.iam.gserviceaccount.com\"",
        )
        .expect("valid");
        assert_eq!(config.gcp.organization.as_deref(), Some("538192046571"));
        assert_eq!(
            config.gcp.impersonate_service_account.as_deref(),
            Some("scanner@tools.iam.gserviceaccount.com")
        );
        assert!(parse("[gcp]\norganisation = \"1\"").is_err(), "unknown key");
    }

    #[test]
    fn a_mute_must_select_something() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("parapet.toml");
        std::fs::write(&path, "[[mutes]]\nreason = \"everything\"\n").expect("write");
        let global = GlobalArgs {
            rules: Vec::new(),
            no_builtin_rules: false,
            no_color: false,
            db: None,
            config: Some(path),
        };
        let error = load(&global).expect_err("refused").to_string();
        assert!(error.contains("mute 1 names no rule"), "{error}");
    }
}
