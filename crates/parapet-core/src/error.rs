//! Errors for assets read from outside: each names what was wrong and where;
//! and an error told on one line with its causes.

use thiserror::Error;

/// An error with its causes, on one line: `what failed: why: why that`.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// An asset document that does not satisfy the model.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssetError {
    /// A required text field is empty.
    #[error("field `{field}` must not be empty")]
    Empty {
        /// The field's name in the interchange format.
        field: &'static str,
    },
    /// The resource type is not of the form `Provider::Service::Type`.
    #[error(
        "resource type `{0}` is not of the form `Provider::Service::Type` (for example `AWS::S3::Bucket`)"
    )]
    ResourceType(String),
    /// The resource type's provider prefix disagrees with the `provider` field.
    #[error("resource type `{resource_type}` does not belong to provider `{provider}`")]
    ProviderMismatch {
        /// The asset's provider.
        provider: String,
        /// The asset's resource type.
        resource_type: String,
    },
    /// The configuration document is not a JSON object.
    #[error("field `config` must be a JSON object, found {0}")]
    ConfigNotObject(&'static str),
    /// The document does not have the fields and types of an asset.
    #[error("{0}")]
    Document(String),
    /// A relationship kind is not a snake_case word.
    #[error("relationship kind `{0}` must be snake_case letters, digits and underscores")]
    RelationshipKind(String),
}

/// A line of a JSON Lines asset file that could not be read.
#[derive(Debug, Error)]
pub enum JsonlError {
    /// The line is not valid JSON, or not an asset document.
    #[error("{source_name}:{line}:{column}: {message}")]
    Syntax {
        /// The file (or stream) the line came from.
        source_name: String,
        /// The 1-based line number.
        line: usize,
        /// The 1-based column where parsing stopped.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// The line is a JSON document whose content violates the model.
    #[error("{source_name}:{line}: asset `{id}`: {error}")]
    Invalid {
        /// The file (or stream) the line came from.
        source_name: String,
        /// The 1-based line number.
        line: usize,
        /// The asset's id as written, for orientation.
        id: String,
        /// What was wrong.
        error: AssetError,
    },
    /// The line's asset has the id of an asset on an earlier line.
    #[error(
        "{source_name}:{line}: asset `{id}` is also on line {first}; each asset appears once (the first is kept)"
    )]
    Duplicate {
        /// The file (or stream) the line came from.
        source_name: String,
        /// The 1-based line number.
        line: usize,
        /// The id both lines give.
        id: String,
        /// The line that gave it first.
        first: usize,
    },
    /// Reading the file failed.
    #[error("{source_name}: reading line {line}: {error}")]
    Io {
        /// The file (or stream) being read.
        source_name: String,
        /// The 1-based line number being read.
        line: usize,
        /// The I/O error.
        error: std::io::Error,
    },
}
