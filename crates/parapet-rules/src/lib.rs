//! Parapet's rules: the YAML rule format, its CEL conditions with the
//! functions cloud rules need, loading from the built-in folder and user
//! folders, evaluation over assets, example tests and lint.
//!
//! A rule's `compliant` condition is true when the asset complies. A field the
//! asset lacks, or that its collector could not read, makes the result
//! `unknown`, never `pass`. See `docs/rules.md` for the format.
//!
//! # Layout
//!
//! - [`rule`]: the file format, parsed and checked into [`Rule`].
//! - [`condition`]: CEL conditions compiled and checked at load time.
//! - [`functions`]: the functions Parapet adds to CEL.
//! - [`cel`]: the CEL evaluator: conditions compiled once, assets read in place.
//! - [`engine`]: evaluation of rules over assets, in parallel.
//! - [`incremental`]: results kept while what they read is unchanged.
//! - [`loader`]: built-in and user rule folders.
//! - [`examples`]: running each rule's examples.
//! - [`lint`]: style checks.
//! - [`message`]: the templates of results' messages.
//! - [`framework`]: compliance frameworks and their controls.
//! - [`pack`]: the rule pack's digest.
//! - [`tag_policy`]: the tag keys assets must carry, from configuration.
//! - [`identity_policy`]: the principals meant to be administrators, from
//!   configuration.
//! - [`error`]: rule file errors with file and position.

pub mod cel;
pub mod condition;
pub mod engine;
pub mod error;
pub mod examples;
pub mod framework;
pub mod functions;
pub mod identity_policy;
pub mod incremental;
pub mod lint;
pub mod loader;
pub mod message;
pub mod pack;
pub mod rule;
pub mod tag_policy;

pub use engine::{Engine, ExampleFacts, Facts};
pub use error::{RuleError, RuleErrorKind};
pub use framework::{Control, Framework};
pub use identity_policy::IdentityPolicy;
pub use incremental::{Before, Incremental, Reuse, RulePack, Stamp, Subject, Why};
pub use loader::{LoadReport, RuleSources, load};
pub use parapet_core::{
    ExposureFact, ExposureFacts, PermissionFacts, Permissions, VulnerabilityFact,
    VulnerabilityFacts,
};
pub use rule::Rule;
pub use tag_policy::TagPolicy;
