//! What can be wrong with a policy document.

use thiserror::Error;

/// A policy document that cannot be read as one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyError {
    /// Policy text (as AWS returns bucket and queue policies) that is not
    /// JSON.
    #[error("policy text is not JSON: {0}")]
    NotJson(String),
    /// A `Statement` that is neither a list nor a map.
    #[error("`Statement` must be a list or a map, found {found}")]
    StatementShape {
        /// What was found.
        found: &'static str,
    },
    /// Not a policy at all.
    #[error("not a policy: {0}")]
    NotAPolicy(&'static str),
}
