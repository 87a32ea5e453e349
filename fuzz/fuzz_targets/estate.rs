//! The JSON Lines estate `parapet scan file` reads.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for asset in parapet_core::jsonl::read_assets(data, "fuzz.jsonl").flatten() {
        let _ = asset.content_hash();
    }
});
