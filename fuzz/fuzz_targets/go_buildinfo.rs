//! A Go binary's embedded build information.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(Ok(info)) = parapet_vuln::detect::gobinary::build_info(data) {
        let _ = info.deps.len();
    }
    let tree = parapet_fuzz::tree_with(&[("/usr/local/bin/app", data)]);
    parapet_fuzz::packages(&tree);
});
