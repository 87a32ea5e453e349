//! An OSV advisory record, and its verdict on versions of every ecosystem.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parapet_vuln::ecosystem;
use parapet_vuln::osv::Advisory;

fuzz_target!(|data: &[u8]| {
    let Ok(advisory) = serde_json::from_slice::<Advisory>(data) else {
        return;
    };
    for affected in &advisory.affected {
        let _ = affected.rating(&advisory);
        for ecosystem in ecosystem::ALL {
            for version in [
                "0",
                "1.0",
                "1.2.3-1",
                "2:1.0~rc1-3+deb12u1",
                "v1.2.3",
                "1.0.0a1",
            ] {
                let _ = affected.verdict(ecosystem, version);
            }
        }
    }
});
