//! apk's installed database.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tree = parapet_fuzz::tree_with(&[
        ("/etc/os-release", b"ID=alpine\nVERSION_ID=3.20.3\n"),
        ("/lib/apk/db/installed", data),
    ]);
    parapet_fuzz::packages(&tree);
});
