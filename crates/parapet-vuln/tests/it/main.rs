//! parapet-vuln against real data: the Go and PyPI advisories of
//! `../shared/vulndb/`, OS advisories written as fixtures.

mod advisories;
mod hostile;
mod images;
mod lockfiles;
mod registry;
mod sbom;
pub mod test_images;

use std::path::PathBuf;

/// The real advisories (`PARAPET_TEST_VULNDB`, which `.ci/test` sets, or
/// `../shared/vulndb` beside the repository).
pub fn vulndb() -> PathBuf {
    let path = std::env::var_os("PARAPET_TEST_VULNDB")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndb")
        });
    assert!(
        path.join("go").is_dir() && path.join("pypi").is_dir(),
        "the real advisories are not at {} (set PARAPET_TEST_VULNDB)",
        path.display()
    );
    path
}

/// The test fixtures folder.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Each package as (ecosystem, name, version, the name advisories use).
pub fn listed(
    inventory: &parapet_vuln::Inventory,
) -> Vec<(parapet_vuln::Ecosystem, &str, &str, &str)> {
    inventory
        .packages
        .iter()
        .map(|p| {
            (
                p.ecosystem,
                p.name.as_str(),
                p.version.as_str(),
                p.advisory_name(),
            )
        })
        .collect()
}
