//! A registry's `WWW-Authenticate` challenge.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parapet_vuln::registry::Challenge;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let challenge = Challenge::parse(text);
    for name in ["realm", "service", "scope", ""] {
        let _ = challenge.parameter(name);
    }
});
