//! What `parapet --version` says: the release, the commit the binary was
//! built from, and the digest of its built-in rule pack, which every scan
//! records beside its results.

use parapet_rules::{RuleSources, load};

/// The commit, as the build script found it.
pub const COMMIT: &str = env!("PARAPET_COMMIT");

/// Whether the arguments ask for the version, the only time the rule pack
/// is loaded before the command runs.
pub fn asked() -> bool {
    std::env::args_os()
        .skip(1)
        .any(|a| a == "--version" || a == "-V")
}

/// `0.1.0 (commit 1a2b3c4d5e6f, built-in rules sha256:…, 215 rules)`.
pub fn long() -> String {
    let pack = load(&RuleSources {
        builtin: true,
        folders: Vec::new(),
    });
    format!(
        "{} (commit {COMMIT}, built-in rules {}, {} rules)",
        env!("CARGO_PKG_VERSION"),
        parapet_rules::pack::digest(&pack.rules),
        pack.rules.len()
    )
}
