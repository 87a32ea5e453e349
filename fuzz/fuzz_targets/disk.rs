//! A disk image: its MBR or GPT partition table and the ext2/3/4
//! filesystem on it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parapet_vuln::detect::{self, Scope};

fuzz_target!(|data: &[u8]| {
    parapet_fuzz::with_file(data, "disk.img", |path| {
        let wanted = detect::wanted(Scope { lockfiles: false });
        let _ = parapet_vuln::disk::tree(path, &wanted, &parapet_fuzz::limits());
    });
});
