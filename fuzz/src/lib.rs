//! What the fuzz targets share: a file tree made of given files, package
//! detection over it, the limits inputs are read within, and an input
//! written to a file for the readers that take a path.

use parapet_vuln::detect::{self, Scope};
use parapet_vuln::package::Inventory;
use parapet_vuln::tree::{Limits, Node, Tree};
use std::path::Path;
use std::sync::Arc;

/// Limits that keep one input's work small.
pub fn limits() -> Limits {
    Limits {
        max_bytes: 64 * 1024 * 1024,
        max_entries: 100_000,
        max_file: 4 * 1024 * 1024,
        ..Limits::default()
    }
}

/// Calls `read` with the path of a scratch file holding `data`.
pub fn with_file(data: &[u8], name: &str, read: impl FnOnce(&Path)) {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join(name);
    if std::fs::write(&path, data).is_ok() {
        read(&path);
    }
}

/// A tree holding `files` (path and content) and nothing else.
pub fn tree_with(files: &[(&str, &[u8])]) -> Tree {
    let mut tree = Tree::new();
    for (path, content) in files {
        let node = Node::File {
            size: content.len() as u64,
            mode: 0o644,
            content: Some(Arc::new(content.to_vec())),
        };
        // Fuzz inputs are small: no limit is reached.
        let _ = tree.insert("fuzz", path, node, &Limits::default());
    }
    tree
}

/// Everything detection finds in `tree`.
pub fn packages(tree: &Tree) -> Inventory {
    detect::inventory("fuzz", tree, Scope { lockfiles: true })
}
