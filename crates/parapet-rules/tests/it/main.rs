//! Integration tests of parapet-rules: the built-in rule pack, rule files
//! from disk (good and broken), and the engine over assets.

/// The built-in rules and their examples.
mod builtin;
/// The engine: unknown versus pass, errors, evidence, parallel evaluation.
mod engine;
/// Incremental evaluation: what is worked out again, and why.
mod incremental;
/// Loading rule folders, and the errors of broken files.
mod loading;

use std::path::PathBuf;

/// The folder of rule file fixtures.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}
