//! Real images, disks and package databases built with Debian's tools
//! (`scripts/test-images`): every form lists exactly the packages Debian's
//! and rpm's own tools list.

use super::fixtures;
use super::test_images::images;
use parapet_vuln::target::Options;
use parapet_vuln::{Ecosystem, Inventory, Target};

fn inventory(spec: &str) -> Inventory {
    let inventory = Target::parse(spec)
        .and_then(|t| t.inventory(&Options::default()))
        .unwrap_or_else(|e| panic!("{spec}: {e}"));
    assert!(
        inventory.errors.is_empty(),
        "{spec}: {:?}",
        inventory.errors
    );
    inventory
}

/// `name version source source-version` of the dpkg packages, sorted.
fn dpkg_lines(inventory: &Inventory) -> Vec<String> {
    let mut lines: Vec<String> = inventory
        .packages
        .iter()
        .filter(|p| p.ecosystem == Ecosystem::Debian)
        .map(|p| {
            let source = p.source.as_ref().expect("a source package");
            format!(
                "{} {} {} {}",
                p.name, p.version, source.name, source.version
            )
        })
        .collect();
    lines.sort();
    lines
}

fn expected(name: &str) -> Vec<String> {
    let text =
        std::fs::read_to_string(images().join("expected").join(name)).expect("expected list");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

#[test]
fn the_debian_image_in_every_form_lists_exactly_what_dpkg_lists() {
    let dir = images();
    let want = expected("debian.txt");
    assert!(want.len() > 80, "a minbase system: {}", want.len());
    let forms = [
        format!("oci:{}:debian", dir.join("oci").display()),
        dir.join("debian-oci.tar").display().to_string(),
        dir.join("debian-docker.tar").display().to_string(),
        dir.join("rootfs").display().to_string(),
        dir.join("disk.img").display().to_string(),
        dir.join("disk.qcow2").display().to_string(),
        dir.join("disk.vmdk").display().to_string(),
        dir.join("disk-gpt.img").display().to_string(),
    ];
    for form in &forms {
        let found = inventory(form);
        let os = found
            .os
            .as_ref()
            .unwrap_or_else(|| panic!("{form}: no os-release"));
        assert_eq!(
            (os.id.as_str(), os.version_id.as_str()),
            ("debian", "12"),
            "{form}"
        );
        assert_eq!(dpkg_lines(&found), want, "{form}");
        assert_eq!(
            found.packages.len(),
            want.len(),
            "{form}: nothing but dpkg's packages: {:?}",
            found
                .packages
                .iter()
                .filter(|p| p.ecosystem != Ecosystem::Debian)
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn layers_apply_whiteouts_and_opaque_folders() {
    let spec = format!("oci:{}:two-layers", images().join("oci").display());
    let found = inventory(&spec);
    let want = expected("two-layers-dpkg.txt");
    assert!(!want.iter().any(|l| l.starts_with("tzdata ")));
    assert_eq!(dpkg_lines(&found), want);
    let python: Vec<(&str, &str)> = found
        .packages
        .iter()
        .filter(|p| p.ecosystem == Ecosystem::PyPI)
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(
        python,
        [("bar", "2.0")],
        "foo whited out, hidden under an opaque folder"
    );
    let go: Vec<&str> = found
        .packages
        .iter()
        .filter(|p| p.ecosystem == Ecosystem::Go)
        .map(|p| p.location.as_str())
        .collect();
    assert!(
        !go.is_empty() && go.iter().all(|l| *l == "/usr/local/bin/umoci"),
        "{go:?}"
    );
    assert!(
        found.packages.iter().any(|p| p.ecosystem == Ecosystem::Go
            && p.name == "stdlib"
            && p.version.starts_with("v1.")),
        "the Go toolchain the binary was built with"
    );
}

#[test]
fn an_rpm_database_written_by_rpm_justdb_lists_what_rpm_lists() {
    let found = inventory(&images().join("rpmroot").display().to_string());
    let os = found.os.as_ref().expect("os-release");
    assert_eq!(
        os.ecosystem(),
        Some((Ecosystem::RockyLinux, "9".to_owned()))
    );
    let mut got: Vec<String> = found
        .packages
        .iter()
        .map(|p| {
            let evr = if p.version.contains(':') {
                p.version.clone()
            } else {
                format!("0:{}", p.version)
            };
            let source = p.source.as_ref().expect("a source");
            let without_epoch = source
                .version
                .split_once(':')
                .map_or(source.version.as_str(), |(_, rest)| rest);
            let (version, release) = without_epoch.rsplit_once('-').expect("version-release");
            format!(
                "{} {evr} {}-{version}-{release}.src.rpm",
                p.name, source.name
            )
        })
        .collect();
    got.sort();
    assert!(
        found
            .packages
            .iter()
            .all(|p| p.ecosystem == Ecosystem::RockyLinux)
    );
    assert_eq!(got, expected("rpm.txt"));
}

#[test]
fn a_hand_written_apk_database_lists_its_packages_with_their_origin() {
    let found = inventory(&fixtures().join("alpine-root").display().to_string());
    let got = super::listed(&found);
    assert_eq!(
        got,
        [
            (Ecosystem::Alpine, "busybox", "1.36.1-r28", "busybox"),
            (Ecosystem::Alpine, "busybox-binsh", "1.36.1-r28", "busybox"),
            (Ecosystem::Alpine, "musl", "1.2.5-r0", "musl"),
            (Ecosystem::Alpine, "ssl_client", "1.36.1-r28", "busybox"),
        ]
    );
}
