//! rpm's SQLite database and the package headers in it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tree = parapet_fuzz::tree_with(&[
        ("/etc/os-release", b"ID=rocky\nVERSION_ID=9.4\n"),
        ("/var/lib/rpm/rpmdb.sqlite", data),
    ]);
    parapet_fuzz::packages(&tree);
});
