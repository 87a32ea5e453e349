//! An image archive (an OCI archive or a `docker save` tar): its index,
//! manifests and configuration read, its layers applied.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parapet_vuln::detect::{self, Scope};
use parapet_vuln::image::Image;

fuzz_target!(|data: &[u8]| {
    parapet_fuzz::with_file(data, "image.tar", |path| {
        if let Ok(image) = Image::open(path, None) {
            let wanted = detect::wanted(Scope { lockfiles: false });
            let _ = image.tree(&wanted, &parapet_fuzz::limits());
        }
    });
});
