//! SBOMs made elsewhere as targets: an SPDX 2.3 document's operating system
//! and package URLs, matched like any inventory.

use super::fixtures;
use parapet_vuln::target::Options;
use parapet_vuln::{AdvisoryDb, Ecosystem, Target};

#[test]
fn an_spdx_document_gives_its_operating_system_and_packages() {
    let path = fixtures().join("sbom/app.spdx.json");
    let target = Target::parse(&path.display().to_string()).expect("a target");
    assert!(matches!(target, Target::Sbom(_)), "{target:?}");
    let inventory = target.inventory(&Options::default()).expect("read");
    let os = inventory.os.as_ref().expect("the operating system");
    assert_eq!((os.id.as_str(), os.version_id.as_str()), ("debian", "12.4"));
    let got = super::listed(&inventory);
    assert_eq!(
        got,
        [
            (Ecosystem::Debian, "libc6", "2.36-9+deb12u1", "glibc"),
            (Ecosystem::PyPI, "jinja2", "2.10", "jinja2"),
        ]
    );
    assert_eq!(inventory.errors.len(), 1, "{:?}", inventory.errors);
    assert!(
        inventory.errors[0].contains("pkg:npm/left-pad: no version"),
        "{:?}",
        inventory.errors
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let mut db = AdvisoryDb::open(&dir.path().join("a.db")).expect("open");
    db.import(&fixtures().join("osv")).expect("import");
    let report = parapet_vuln::scan(&db, inventory).expect("scan");
    let ids: Vec<&str> = report.matches.iter().map(|m| m.advisory.as_str()).collect();
    assert_eq!(ids, ["DSA-5514-1"], "glibc below the fix, in Debian 12");
}
