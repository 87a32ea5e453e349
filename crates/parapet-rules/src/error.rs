//! Errors of rule files: each names the file and, where it can be found, the
//! line and column of the problem.

use std::fmt;
use std::path::PathBuf;
use thiserror::Error;

/// What is wrong with a rule file.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RuleErrorKind {
    /// The file could not be read.
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    /// The YAML is malformed, has an unknown field, or a field of the wrong type.
    #[error("{0}")]
    Yaml(String),
    /// A CEL expression does not parse or uses something that does not exist.
    #[error("field `{field}`: {message}")]
    Cel {
        /// The field holding the expression (`compliant` or `applies`).
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A field's value is not acceptable.
    #[error("field `{field}`: {message}")]
    Invalid {
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Another rule file already declares this id.
    #[error("rule id `{id}` is already declared in {}", first.display())]
    DuplicateId {
        /// The id.
        id: String,
        /// The file that declared it first.
        first: PathBuf,
    },
}

/// A rule file that could not be loaded, with where the problem is.
#[derive(Debug, Error)]
pub struct RuleError {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line of the problem, where known.
    pub line: Option<usize>,
    /// The 1-based column of the problem, where known.
    pub column: Option<usize>,
    /// What is wrong.
    #[source]
    pub kind: RuleErrorKind,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.kind)
    }
}
