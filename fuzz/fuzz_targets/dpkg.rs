//! dpkg's status database (and a distroless `status.d` file).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tree = parapet_fuzz::tree_with(&[
        ("/etc/os-release", b"ID=debian\nVERSION_ID=12\n"),
        ("/var/lib/dpkg/status", data),
        ("/var/lib/dpkg/status.d/app", data),
    ]);
    parapet_fuzz::packages(&tree);
});
