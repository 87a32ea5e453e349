//! What Parapet's integration tests share: the Python virtual environment
//! `scripts/moto-venv` makes (`.ci/test` runs it), with moto's server,
//! jsonschema, Selenium, aiosmtpd, cyclonedx-python-lib and schemathesis.

use std::path::PathBuf;

/// The virtual environment: `PARAPET_MOTO_VENV`, or
/// `~/.cache/parapet/moto-venv`.
pub fn venv() -> PathBuf {
    std::env::var_os("PARAPET_MOTO_VENV")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/parapet/moto-venv"))
        })
        .expect("HOME or PARAPET_MOTO_VENV is set")
}

/// A program of the virtual environment (`python`, `moto_server`,
/// `schemathesis`), which must exist.
pub fn tool(name: &str) -> PathBuf {
    let path = venv().join("bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/moto-venv (bash .ci/test does)",
        path.display()
    );
    path
}

/// The folder of the Python modules the tests' scripts share (`chromium`:
/// the browser as the tests drive it), for `PYTHONPATH`.
pub fn python_modules() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python")
}
