//! The images, disks and package databases `scripts/test-images` builds
//! with Debian's tools (shared with the `parapet` binary's tests).

use std::path::PathBuf;
use std::sync::OnceLock;

/// The folder `scripts/test-images` built (`PARAPET_TEST_IMAGES`, which
/// `.ci/test` sets; otherwise the script is run, and caches its result).
pub fn images() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(dir) = std::env::var_os("PARAPET_TEST_IMAGES") {
            return PathBuf::from(dir);
        }
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/test-images");
        let output = std::process::Command::new("bash")
            .arg(&script)
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("scripts/test-images runs");
        assert!(output.status.success(), "scripts/test-images failed");
        PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
    })
}
