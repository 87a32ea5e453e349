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
//! - [`image`]: OCI layouts, OCI archives and `docker save` archives.
//! - [`registry`]: images pulled over the OCI distribution API.
//! - [`disk`]: ext4 filesystems in raw, qcow2 and VMDK disk images.
//! - [`sbom`]: CycloneDX and SPDX in, CycloneDX 1.6 out.
//! - [`sarif`]: results as SARIF 2.1.0.
//! - [`target`]: what a scan target is, read into an inventory.
//! - [`error`]: errors, each naming its input.

pub mod db;
pub mod detect;
pub mod disk;
pub mod ecosystem;
pub mod error;
pub mod image;
pub mod matcher;
pub mod osv;
pub mod package;
pub mod registry;
pub mod sarif;
pub mod sbom;
pub mod target;
pub mod tree;

pub use db::AdvisoryDb;
pub use ecosystem::Ecosystem;
pub use error::VulnError;
pub use matcher::{Match, Report, scan};
pub use package::{Inventory, OsRelease, Package, SourcePackage};
pub use target::Target;
