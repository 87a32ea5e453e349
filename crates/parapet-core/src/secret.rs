//! Secrets in configuration: written as where to read them (an environment
//! variable or a file), never as their value, which is read when needed and
//! never shown.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Where a secret is read from: an environment variable or a file, never
/// the configuration file itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// The variable's value.
    Env(String),
    /// The file's contents, without a trailing newline.
    File(PathBuf),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretReference {
    #[serde(default)]
    env: Option<String>,
    #[serde(default)]
    file: Option<PathBuf>,
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        struct Reference;
        impl<'de> serde::de::Visitor<'de> for Reference {
            type Value = Secret;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`{ env = \"NAME\" }` or `{ file = \"PATH\" }`")
            }
            // The text itself is neither kept nor repeated.
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Secret, E> {
                Err(E::custom(
                    "a secret is not written in the configuration file: give `{ env = \"NAME\" }` or `{ file = \"PATH\" }`",
                ))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Secret, A::Error> {
                let reference = SecretReference::deserialize(
                    serde::de::value::MapAccessDeserializer::new(map),
                )?;
                match (reference.env, reference.file) {
                    (Some(env), None) => Ok(Secret::Env(env)),
                    (None, Some(file)) => Ok(Secret::File(file)),
                    _ => Err(serde::de::Error::custom(
                        "a secret names either `env` or `file`, exactly one",
                    )),
                }
            }
        }
        d.deserialize_any(Reference)
    }
}

/// A secret that could not be read: where it was looked for, never what
/// it holds.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The variable is not set, or empty.
    #[error("the environment variable {0} holds no secret")]
    Env(String),
    /// The file could not be read, or is empty.
    #[error("cannot read a secret from the file {path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl Secret {
    /// The secret's value.
    pub fn read(&self) -> Result<String, SecretError> {
        match self {
            Secret::Env(name) => std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| SecretError::Env(name.clone())),
            Secret::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| SecretError::File {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
                let value = text.trim_end_matches(['\n', '\r']);
                if value.is_empty() {
                    return Err(SecretError::File {
                        path: path.clone(),
                        reason: "it is empty".to_owned(),
                    });
                }
                Ok(value.to_owned())
            }
        }
    }

    /// Takes a relative file's path from `folder` (the configuration
    /// file's).
    pub fn anchor(&mut self, folder: &Path) {
        if let Secret::File(path) = self
            && path.is_relative()
        {
            *path = folder.join(&*path);
        }
    }
}
