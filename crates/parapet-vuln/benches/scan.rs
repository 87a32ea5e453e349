//! How fast packages are listed and matched. Lists the packages of the
//! Debian image `scripts/test-images` builds, in each of its forms (the
//! best of several runs), then imports the whole of `../shared/vulndb`
//! (Go and PyPI) and matches against it: the Debian image's packages, and
//! one package for each Go and PyPI name the advisories mention (at a
//! version below every fix). Run with
//! `cargo bench -p parapet-vuln --bench scan`
//! (`PARAPET_TEST_IMAGES` and `PARAPET_TEST_VULNDB` as `.ci/test` sets
//! them, or their defaults).

use parapet_vuln::target::Options;
use parapet_vuln::{AdvisoryDb, Ecosystem, Inventory, Package, Target};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[path = "../tests/it/test_images.rs"]
mod test_images;

fn vulndb() -> PathBuf {
    std::env::var_os("PARAPET_TEST_VULNDB")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndb"))
}

/// The best and the median of `runs` timings of `f`.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        last = Some(f());
        times.push(started.elapsed());
    }
    times.sort();
    (times[0], times[runs / 2], last.expect("at least one run"))
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let dir = test_images::images();
    let forms = [
        (
            "OCI layout",
            format!("oci:{}:debian", dir.join("oci").display()),
        ),
        (
            "OCI archive",
            dir.join("debian-oci.tar").display().to_string(),
        ),
        (
            "docker save archive",
            dir.join("debian-docker.tar").display().to_string(),
        ),
        (
            "root filesystem folder",
            dir.join("rootfs").display().to_string(),
        ),
        ("raw ext4 disk", dir.join("disk.img").display().to_string()),
        ("qcow2 disk", dir.join("disk.qcow2").display().to_string()),
    ];
    let mut debian = Inventory::default();
    println!("listing the packages of the Debian 12 minbase image (best and median of 7 runs)");
    for (label, spec) in &forms {
        let target = Target::parse(spec).expect("a target");
        let (best, median, inventory) =
            time(7, || target.inventory(&Options::default()).expect("read"));
        println!(
            "  {label:<24} {:>4} packages  best {:>9}  median {:>9}",
            inventory.packages.len(),
            ms(best),
            ms(median)
        );
        debian = inventory;
    }

    let scratch = tempfile::tempdir().expect("temp dir");
    let mut db = AdvisoryDb::open(&scratch.path().join("advisories.db")).expect("open");
    let started = Instant::now();
    let mut imported = 0;
    for ecosystem in ["go", "pypi"] {
        imported += db
            .import(&vulndb().join(ecosystem))
            .expect("import")
            .imported;
    }
    let size = std::fs::metadata(scratch.path().join("advisories.db"))
        .map(|m| m.len())
        .unwrap_or_default();
    println!(
        "importing {imported} advisories (Go and PyPI): {:.2} s, {:.1} MB on disk",
        started.elapsed().as_secs_f64(),
        size as f64 / 1e6
    );

    let (best, median, report) = time(7, || parapet_vuln::scan(&db, debian.clone()).expect("scan"));
    println!(
        "matching the Debian image's {} packages: best {}, median {} ({} matches: no Go or PyPI package there)",
        report.inventory.packages.len(),
        ms(best),
        ms(median),
        report.matches.len()
    );

    // One package per name the advisories mention, at version 0.0.1 (Go:
    // v0.0.1), below nearly every fix.
    let mut packages = Vec::new();
    for (ecosystem, folder, version) in [
        (Ecosystem::Go, "go", "v0.0.1"),
        (Ecosystem::PyPI, "pypi", "0.0.1"),
    ] {
        let mut names = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(vulndb().join(folder))
            .expect("read_dir")
            .flatten()
        {
            let text = std::fs::read(entry.path()).expect("read");
            let record: serde_json::Value = serde_json::from_slice(&text).expect("JSON");
            for affected in record["affected"].as_array().into_iter().flatten() {
                if let Some(name) = affected["package"]["name"].as_str() {
                    names.insert(name.to_owned());
                }
            }
        }
        for name in names {
            packages.push(Package {
                ecosystem,
                name,
                version: version.to_owned(),
                source: None,
                arch: None,
                location: "bench".to_owned(),
            });
        }
    }
    let wide = Inventory {
        target: "every Go and PyPI package the advisories name".to_owned(),
        packages,
        ..Inventory::default()
    };
    let (best, median, report) = time(5, || parapet_vuln::scan(&db, wide.clone()).expect("scan"));
    println!(
        "matching {} Go and PyPI packages: best {}, median {} ({} matches, {:.0} packages a second)",
        report.inventory.packages.len(),
        ms(best),
        ms(median),
        report.matches.len(),
        report.inventory.packages.len() as f64 / median.as_secs_f64()
    );
}
