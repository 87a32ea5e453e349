//! Parapet's vulnerability management: which packages a container image, a
//! disk, a root filesystem, a lockfile or an SBOM holds, and which OSV
//! advisories affect them.
//!
//! # Layout
//!
//! - [`ecosystem`]: the package ecosystems, each with its version order.
//! - [`osv`]: OSV advisories, whether a version is affected, severities.
//! - [`package`]: packages, their operating system, inventories.
//! - [`db`]: the advisory database, imported from OSV folders and zips.
//! - [`matcher`]: an inventory matched against the database.
//! - [`tree`]: file trees from image layers, directories and disks.
//! - [`detect`]: packages found in a tree, a lockfile or a Go binary.
//! - [`error`]: errors, each naming its input.

pub mod db;
pub mod detect;
pub mod ecosystem;
pub mod error;
pub mod matcher;
pub mod osv;
pub mod package;
pub mod tree;

pub use db::AdvisoryDb;
pub use ecosystem::Ecosystem;
pub use error::VulnError;
pub use matcher::{Match, Report, scan};
pub use package::{Inventory, OsRelease, Package, SourcePackage};
