//! Policy documents read for what they allow and to whom: the statements of
//! an IAM identity policy or a resource policy (bucket, queue, topic, key,
//! repository, function, domain), whether a statement allows an action (with
//! `*` and `?` wildcards, `Action` and `NotAction`), whether a principal is
//! everyone, and whether a condition restricts who can use a statement. Both
//! the rules and the topology read policies, as JSON, through this crate.
//!
//! # Layout
//!
//! - [`document`]: the [`Document`] trait, a JSON-like value the analysis
//!   reads, implemented here for `serde_json` values.
//! - [`statement`]: statements, effects, actions, principals and conditions.
//! - [`error`]: what can be wrong with a policy document.

pub mod document;
pub mod error;
pub mod statement;

pub use document::Document;
pub use error::PolicyError;
pub use statement::{
    action_matches, allows_action, allows_action_within, arn_like, covers_action, effect_is,
    has_restrictive_condition, is_public_principal, is_public_statement, statements,
};
