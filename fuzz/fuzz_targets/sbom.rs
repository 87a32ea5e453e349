//! A CycloneDX or SPDX JSON SBOM and the package URLs in it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parapet_vuln::sbom::parse("fuzz.json", data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parapet_vuln::sbom::from_purl(text, "fuzz");
    }
});
