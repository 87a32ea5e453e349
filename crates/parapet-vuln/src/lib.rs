//! Parapet's vulnerability management: which packages a container image, a
//! disk, a root filesystem, a lockfile or an SBOM holds, and which OSV
//! advisories affect them.
//!
//! # Layout
//!
//! - [`ecosystem`]: the package ecosystems, each with its version order.
//! - [`osv`]: OSV advisories, whether a version is affected, severities.

pub mod ecosystem;
pub mod osv;

pub use ecosystem::Ecosystem;
