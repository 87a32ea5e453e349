//! Parapet's configuration file (`--config` or `PARAPET_CONFIG`; TOML when
//! its name ends in `.toml`, YAML otherwise): the `aws` section (accounts,
//! regions, organisation role) and the `tags` section (the tag policy rules
//! check). `examples/parapet.toml` is a commented example.

use crate::cli::GlobalArgs;
use anyhow::{Context, Result};
use parapet_aws::AwsFileConfig;
use parapet_rules::TagPolicy;
use serde::Deserialize;

/// The configuration file's contents; every section is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Which AWS accounts and regions to collect.
    #[serde(default)]
    pub aws: AwsFileConfig,
    /// The tag keys assets must carry.
    #[serde(default)]
    pub tags: TagPolicy,
}

/// Reads the configuration file given with `--config`; the defaults without one.
pub fn load(global: &GlobalArgs) -> Result<ConfigFile> {
    let Some(path) = &global.config else {
        return Ok(ConfigFile::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
    let parsed = if path.extension().is_some_and(|e| e == "toml") {
        toml::from_str(&text).map_err(anyhow::Error::from)
    } else {
        serde_norway::from_str(&text).map_err(anyhow::Error::from)
    };
    parsed.with_context(|| format!("the configuration file {} is not valid", path.display()))
}
