use super::{fixtures, vulndb};
use parapet_core::Severity;
use parapet_vuln::{AdvisoryDb, Ecosystem, Inventory, OsRelease, Package, SourcePackage, scan};
use std::io::Write;
use std::sync::OnceLock;

fn package(ecosystem: Ecosystem, name: &str, version: &str) -> Package {
    Package {
        ecosystem,
        name: name.to_owned(),
        version: version.to_owned(),
        source: None,
        arch: None,
        location: "test".to_owned(),
    }
}

fn os_package(ecosystem: Ecosystem, name: &str, source: &str, version: &str) -> Package {
    Package {
        source: Some(SourcePackage {
            name: source.to_owned(),
            version: version.to_owned(),
        }),
        ..package(ecosystem, name, version)
    }
}

/// The Go and PyPI advisories imported once for every test.
fn real() -> &'static (tempfile::TempDir, std::path::PathBuf) {
    static DB: OnceLock<(tempfile::TempDir, std::path::PathBuf)> = OnceLock::new();
    DB.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("advisories.db");
        let mut db = AdvisoryDb::open(&path).expect("open");
        for ecosystem in ["go", "pypi"] {
            let report = db.import(&vulndb().join(ecosystem)).expect("import");
            assert!(report.errors.is_empty(), "{:?}", report.errors);
            assert!(report.imported > 2000, "{ecosystem}: {report:?}");
        }
        (dir, path)
    })
}

/// `(advisory, fixed)` of each match of `packages`.
fn matched(
    db: &AdvisoryDb,
    os: Option<OsRelease>,
    packages: Vec<Package>,
) -> Vec<(String, Option<String>)> {
    let report = scan(
        db,
        Inventory {
            target: "test".into(),
            os,
            packages,
            errors: Vec::new(),
        },
    )
    .expect("scan");
    assert!(report.undecided.is_empty(), "{:?}", report.undecided);
    let mut found: Vec<_> = report
        .matches
        .into_iter()
        .map(|m| (m.advisory, m.fixed))
        .collect();
    found.sort();
    found
}

fn ids(found: &[(String, Option<String>)]) -> Vec<&str> {
    found.iter().map(|(id, _)| id.as_str()).collect()
}

#[test]
fn the_real_go_and_pypi_advisories_import_and_index_by_ecosystem() {
    let db = AdvisoryDb::open(&real().1).expect("open");
    let counts = db.counts().expect("counts");
    assert!(counts["Go"] > 3000, "{counts:?}");
    assert!(counts["PyPI"] > 2000, "{counts:?}");
    // Importing again changes nothing.
    let mut again = AdvisoryDb::open(&real().1).expect("open");
    let report = again.import(&vulndb().join("pypi")).expect("import");
    assert_eq!(report.imported, 0, "{report:?}");
    assert!(report.unchanged > 2000);
}

#[test]
fn pypi_matches_use_pep440_and_normalised_names() {
    let db = AdvisoryDb::open(&real().1).expect("open");
    let old = matched(&db, None, vec![package(Ecosystem::PyPI, "Jinja2", "2.10")]);
    assert!(
        old.contains(&("PYSEC-2019-217".into(), Some("2.10.1".into()))),
        "{old:?}"
    );
    assert!(old.contains(&("PYSEC-2021-66".into(), Some("2.11.3".into()))));
    let fixed = matched(
        &db,
        None,
        vec![package(Ecosystem::PyPI, "jinja2", "2.11.3")],
    );
    assert!(!ids(&fixed).contains(&"PYSEC-2021-66"), "{fixed:?}");
    assert!(!ids(&fixed).contains(&"PYSEC-2019-217"));
    // A pre-release of the fix is still affected.
    let pre = matched(
        &db,
        None,
        vec![package(Ecosystem::PyPI, "jinja2", "2.10.1rc1")],
    );
    assert!(ids(&pre).contains(&"PYSEC-2019-217"), "{pre:?}");
    // `last_affected` with no fix: every version up to it.
    let py = matched(&db, None, vec![package(Ecosystem::PyPI, "py", "1.11.0")]);
    assert!(py.contains(&("PYSEC-2022-42969".into(), None)), "{py:?}");
}

#[test]
fn go_matches_take_pseudo_versions_and_skip_withdrawn_advisories() {
    let db = AdvisoryDb::open(&real().1).expect("open");
    let before = matched(
        &db,
        None,
        vec![package(
            Ecosystem::Go,
            "golang.org/x/net",
            "v0.0.0-20210510120150-4163338589ed",
        )],
    );
    assert!(
        before.contains(&(
            "GO-2021-0238".into(),
            Some("0.0.0-20210520170846-37e1c6afe023".into())
        )),
        "{before:?}"
    );
    let after = matched(
        &db,
        None,
        vec![package(
            Ecosystem::Go,
            "golang.org/x/net",
            "v0.0.0-20210525063256-abc453219eb5",
        )],
    );
    assert!(!ids(&after).contains(&"GO-2021-0238"), "{after:?}");
    // GO-2024-2442 (teleport) was withdrawn: it affects nothing.
    let teleport = matched(
        &db,
        None,
        vec![package(
            Ecosystem::Go,
            "github.com/gravitational/teleport",
            "v13.0.0+incompatible",
        )],
    );
    assert!(!ids(&teleport).contains(&"GO-2024-2442"), "{teleport:?}");
    // The standard library, as a Go binary reports its toolchain.
    let stdlib = matched(
        &db,
        None,
        vec![package(Ecosystem::Go, "stdlib", "go1.20.1")],
    );
    assert!(stdlib.len() > 10, "{stdlib:?}");
    assert!(stdlib.iter().all(|(_, fixed)| fixed.is_some()));
}

#[test]
fn os_advisories_match_source_packages_in_their_release() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut db = AdvisoryDb::open(&dir.path().join("os.db")).expect("open");
    let report = db.import(&fixtures().join("osv")).expect("import");
    assert_eq!((report.imported, report.errors.len()), (6, 0), "{report:?}");
    let debian = |version: &str| OsRelease {
        id: "debian".into(),
        version_id: version.into(),
        pretty_name: None,
    };
    // libc6 belongs to glibc; the fix is in 2.36-9+deb12u3.
    let libc = |v: &str| os_package(Ecosystem::Debian, "libc6", "glibc", v);
    let old = scan(
        &db,
        Inventory {
            target: "t".into(),
            os: Some(debian("12")),
            packages: vec![libc("2.36-9+deb12u1")],
            errors: Vec::new(),
        },
    )
    .expect("scan");
    assert_eq!(
        old.matches.len(),
        1,
        "withdrawn DSA-9999-1 left out: {old:?}"
    );
    let hit = &old.matches[0];
    assert_eq!(hit.advisory, "DSA-5514-1");
    assert_eq!(hit.fixed.as_deref(), Some("2.36-9+deb12u3"));
    assert_eq!(hit.cve(), Some("CVE-2023-4911"));
    let rating = hit.rating.as_ref().expect("rated");
    assert_eq!((rating.severity, rating.score), (Severity::High, Some(7.8)));
    assert!(matched(&db, Some(debian("12")), vec![libc("2.36-9+deb12u10")]).is_empty());
    // Debian 11's fix is another version; Debian 13 has no entry.
    assert_eq!(
        matched(&db, Some(debian("11")), vec![libc("2.31-13+deb11u6")]),
        [("DSA-5514-1".to_owned(), Some("2.31-13+deb11u7".to_owned()))]
    );
    assert!(matched(&db, Some(debian("13")), vec![libc("2.36-9")]).is_empty());
    // Epochs and tildes.
    let fixture = |v: &str| os_package(Ecosystem::Debian, "libfixture1", "libfixture", v);
    assert!(
        matched(&db, Some(debian("12")), vec![fixture("1.5-1")]).is_empty(),
        "no epoch: before 1:1.0-1"
    );
    assert_eq!(
        matched(&db, Some(debian("12")), vec![fixture("1:1.2.0~rc1-1")]).len(),
        1
    );
    assert!(matched(&db, Some(debian("12")), vec![fixture("1:1.2.0~rc2-1")]).is_empty());
    assert!(matched(&db, Some(debian("12")), vec![fixture("1:1.2.0-1")]).is_empty());

    let ubuntu = OsRelease {
        id: "ubuntu".into(),
        version_id: "22.04".into(),
        pretty_name: None,
    };
    let openssl = |v: &str| os_package(Ecosystem::Ubuntu, "libssl3", "openssl", v);
    let found = scan(
        &db,
        Inventory {
            target: "t".into(),
            os: Some(ubuntu.clone()),
            packages: vec![openssl("3.0.2-0ubuntu1.12")],
            errors: Vec::new(),
        },
    )
    .expect("scan");
    assert_eq!(
        found.matches[0].rating.as_ref().map(|r| r.severity),
        Some(Severity::Medium)
    );
    assert!(matched(&db, Some(ubuntu), vec![openssl("3.0.2-0ubuntu1.15")]).is_empty());

    let alpine = OsRelease {
        id: "alpine".into(),
        version_id: "3.20.3".into(),
        pretty_name: None,
    };
    let busybox = |v: &str| os_package(Ecosystem::Alpine, "busybox-binsh", "busybox", v);
    assert_eq!(
        matched(&db, Some(alpine.clone()), vec![busybox("1.36.1-r28")]),
        [(
            "ALPINE-CVE-2024-0002".to_owned(),
            Some("1.36.1-r29".to_owned())
        )]
    );
    assert!(matched(&db, Some(alpine), vec![busybox("1.36.1-r29")]).is_empty());

    let rocky = OsRelease {
        id: "rocky".into(),
        version_id: "9.4".into(),
        pretty_name: None,
    };
    let curl = |v: &str| os_package(Ecosystem::RockyLinux, "libcurl", "curl", v);
    assert_eq!(
        matched(&db, Some(rocky.clone()), vec![curl("7.76.1-29.el9_4")]).len(),
        1
    );
    assert!(matched(&db, Some(rocky), vec![curl("7.76.1-29.el9_4.1")]).is_empty());
}

#[test]
fn a_bad_record_is_named_and_the_others_still_import() {
    let dir = tempfile::tempdir().expect("temp dir");
    let records = dir.path().join("records");
    std::fs::create_dir(&records).expect("mkdir");
    std::fs::copy(
        fixtures().join("osv/DSA-5514-1.json"),
        records.join("good.json"),
    )
    .expect("copy");
    std::fs::write(
        records.join("broken.json"),
        "{\"id\": \"X-1\",\n \"affected\": [}",
    )
    .expect("write");
    let mut db = AdvisoryDb::open(&dir.path().join("a.db")).expect("open");
    let report = db.import(&records).expect("import");
    assert_eq!(report.imported, 1);
    assert_eq!(report.errors.len(), 1);
    assert!(
        report.errors[0].contains("broken.json") && report.errors[0].contains("line 2"),
        "{:?}",
        report.errors
    );
}

#[test]
fn a_zip_imports_and_an_oversized_entry_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let archive = dir.path().join("all.zip");
    {
        let file = std::fs::File::create(&archive).expect("create");
        let mut zip = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for name in ["DSA-5514-1.json", "ALPINE-CVE-2024-0002.json"] {
            zip.start_file(name, options).expect("entry");
            zip.write_all(&std::fs::read(fixtures().join("osv").join(name)).expect("read"))
                .expect("write");
        }
        // 17 MB of spaces: a few kilobytes compressed.
        zip.start_file("bomb.json", options).expect("entry");
        let spaces = vec![b' '; 1024 * 1024];
        for _ in 0..17 {
            zip.write_all(&spaces).expect("write");
        }
        zip.finish().expect("finish");
    }
    assert!(std::fs::metadata(&archive).expect("size").len() < 200_000);
    let mut db = AdvisoryDb::open(&dir.path().join("a.db")).expect("open");
    let report = db.import(&archive).expect("import");
    assert_eq!(report.imported, 2, "{report:?}");
    assert_eq!(report.errors.len(), 1);
    assert!(
        report.errors[0].contains("all.zip:bomb.json: larger than 16 MB"),
        "{:?}",
        report.errors
    );
}
