//! The JSON Lines estate `parapet scan file` reads: every line that loads
//! loads again, the same, read where it was located.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parapet_core::jsonl::{read_line_at, read_located};

fuzz_target!(|data: &[u8]| {
    let mut file = std::io::Cursor::new(data);
    for (at, item) in read_located(data, "fuzz.jsonl") {
        if let Ok(asset) = item {
            let _ = asset.content_hash();
            let again = read_line_at(&mut file, at, "fuzz.jsonl").expect("a line that loaded");
            assert_eq!(again, asset);
        }
    }
});
