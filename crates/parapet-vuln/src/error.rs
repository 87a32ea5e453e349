//! Errors of vulnerability scanning: each names the input (a file, an
//! image, an archive entry) and the place in it.

use std::path::PathBuf;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum VulnError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An input is not what it claims to be: `input` names it, `place`
    /// where in it.
    #[error("{input}: {place}: {reason}")]
    Malformed {
        /// The file, image or archive.
        input: String,
        /// Where in it (an entry, a line, a field).
        place: String,
        /// What is wrong.
        reason: String,
    },
    /// An input goes beyond a limit set against decompression bombs.
    #[error("{input}: {what} goes beyond the limit of {limit}")]
    Limit {
        /// The file, image or archive.
        input: String,
        /// What grew too large.
        what: String,
        /// The limit.
        limit: String,
    },
    /// The advisory database could not be used.
    #[error("the advisory database {}: {source}", path.display())]
    Database {
        /// Its file.
        path: PathBuf,
        /// Why.
        source: rusqlite::Error,
    },
    /// A download or a registry failed.
    #[error("{url}: {reason}")]
    Remote {
        /// What was asked for (without credentials).
        url: String,
        /// Why.
        reason: String,
    },
    /// A target of a kind Parapet does not read.
    #[error("{0}")]
    Unsupported(String),
}

impl VulnError {
    /// A [`VulnError::Malformed`].
    pub fn malformed(
        input: impl Into<String>,
        place: impl Into<String>,
        reason: impl std::fmt::Display,
    ) -> VulnError {
        VulnError::Malformed {
            input: input.into(),
            place: place.into(),
            reason: reason.to_string(),
        }
    }

    /// A [`VulnError::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> VulnError {
        VulnError::Io {
            path: path.into(),
            source,
        }
    }
}
