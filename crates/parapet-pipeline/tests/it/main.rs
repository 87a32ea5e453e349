//! Integration tests of the pipeline: runs over a JSON Lines file and over a
//! provider of the test's own, recorded in real SQLite files.

/// Whole scans of an inventory file, and what they record.
mod file;
/// Incremental evaluation against a full one.
mod incremental;
/// Refreshes of what change events touched.
mod refresh;
/// Runs that hand each part on as soon as it is recorded.
mod stream;

use parapet_core::Asset;
use parapet_pipeline::Pipeline;
use parapet_rules::{IdentityPolicy, RuleSources, TagPolicy, load};
use parapet_store::SqliteStore;
use serde_json::{Value, json};

/// A pipeline over the built-in rules.
pub fn pipeline() -> Pipeline {
    let report = load(&RuleSources {
        builtin: true,
        folders: Vec::new(),
    });
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    Pipeline::new(
        report.rules,
        &TagPolicy::default(),
        &IdentityPolicy::default(),
    )
}

/// A fresh database.
pub fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("parapet.db")).expect("open");
    (dir, store)
}

/// A bucket of account 111111111111 in eu-west-1.
pub fn bucket(name: &str, config: Value) -> Asset {
    serde_json::from_value(json!({
        "id": format!("arn:aws:s3:::{name}"), "provider": "aws", "account": "111111111111",
        "region": "eu-west-1", "resource_type": "AWS::S3::Bucket", "name": name,
        "config": config, "observed_at": "2026-11-29T10:00:00Z",
    }))
    .expect("an asset")
}
