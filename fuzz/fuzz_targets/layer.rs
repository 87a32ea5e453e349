//! An image layer: a tar stream (long names, whiteouts, links, hard links)
//! applied to a tree, then package detection over what it kept.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parapet_vuln::detect::{self, Scope};
use parapet_vuln::tree::Tree;

fuzz_target!(|data: &[u8]| {
    let limits = parapet_fuzz::limits();
    let scope = Scope { lockfiles: true };
    let mut tree = Tree::new();
    if tree
        .apply_layer("fuzz", data, &detect::wanted(scope), &limits)
        .is_ok()
    {
        detect::inventory("fuzz", &tree, scope);
    }
});
