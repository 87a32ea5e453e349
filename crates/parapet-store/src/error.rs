//! Store errors: each says which database and what went wrong.

use std::path::PathBuf;
use thiserror::Error;

/// What went wrong in the store.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database was written by a newer Parapet whose schema this one
    /// does not know.
    #[error(
        "{database}: the database has schema version {found}, newer than this Parapet supports ({supported}); upgrade Parapet to use it"
    )]
    NewerSchema {
        /// The database: a file, or a server and database name.
        database: String,
        /// The schema version in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// The database failed.
    #[error("{database}: {source}")]
    Backend {
        /// The database: a file, or a server and database name (never a
        /// credential).
        database: String,
        /// The backend's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A stored JSON document could not be read back.
    #[error("{database}: stored {what} is not valid: {source}")]
    Corrupt {
        /// The database: a file, or a server and database name.
        database: String,
        /// What was being read.
        what: &'static str,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
    /// A stored name (a status, an event kind) is not one this Parapet knows.
    #[error("{database}: stored {what} `{name}` is not known")]
    UnknownName {
        /// The database: a file, or a server and database name.
        database: String,
        /// What was being read.
        what: &'static str,
        /// The name found.
        name: String,
    },
    /// The database file or its folder could not be created.
    #[error("cannot create {}: {source}", path.display())]
    Folder {
        /// The folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A request the store refuses, such as a mute that selects nothing.
    #[error("{0}")]
    Invalid(String),
    /// No such record.
    #[error("{0}")]
    NotFound(String),
}
