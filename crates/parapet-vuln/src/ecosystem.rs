//! Package ecosystems as OSV names them, and the version order and name
//! normalisation of each: dpkg for Debian and Ubuntu (epochs, `~`), apk for
//! Alpine, rpm's EVR for Rocky, AlmaLinux and Red Hat, PEP 440 for PyPI,
//! semver for npm and crates.io, Go's semver with `v` and pseudo-versions,
//! Maven's ComparableVersion, and RubyGems' and Composer's own orders.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

/// An ecosystem: where a package comes from, and so how its versions sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Ecosystem {
    /// Debian's archive (`Debian:12`).
    Debian,
    /// Ubuntu's archive (`Ubuntu:22.04:LTS`).
    Ubuntu,
    /// Alpine's aports (`Alpine:v3.20`).
    Alpine,
    /// Rocky Linux (`Rocky Linux:9`).
    #[serde(rename = "Rocky Linux")]
    RockyLinux,
    /// AlmaLinux (`AlmaLinux:9`).
    AlmaLinux,
    /// Red Hat Enterprise Linux (`Red Hat`).
    #[serde(rename = "Red Hat")]
    RedHat,
    /// Go modules and the standard library.
    Go,
    /// The Python Package Index.
    PyPI,
    /// The npm registry.
    #[serde(rename = "npm")]
    Npm,
    /// Rust's crates.io.
    #[serde(rename = "crates.io")]
    CratesIo,
    /// Maven Central and other Maven repositories.
    Maven,
    /// RubyGems.
    RubyGems,
    /// Packagist (Composer).
    Packagist,
}

/// Every ecosystem, in a fixed order.
pub const ALL: [Ecosystem; 13] = [
    Ecosystem::Debian,
    Ecosystem::Ubuntu,
    Ecosystem::Alpine,
    Ecosystem::RockyLinux,
    Ecosystem::AlmaLinux,
    Ecosystem::RedHat,
    Ecosystem::Go,
    Ecosystem::PyPI,
    Ecosystem::Npm,
    Ecosystem::CratesIo,
    Ecosystem::Maven,
    Ecosystem::RubyGems,
    Ecosystem::Packagist,
];

impl Ecosystem {
    /// OSV's name for it (the part of `Debian:12` before the colon).
    pub fn osv_name(self) -> &'static str {
        match self {
            Ecosystem::Debian => "Debian",
            Ecosystem::Ubuntu => "Ubuntu",
            Ecosystem::Alpine => "Alpine",
            Ecosystem::RockyLinux => "Rocky Linux",
            Ecosystem::AlmaLinux => "AlmaLinux",
            Ecosystem::RedHat => "Red Hat",
            Ecosystem::Go => "Go",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Npm => "npm",
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Maven => "Maven",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::Packagist => "Packagist",
        }
    }

    /// The ecosystem of an OSV ecosystem string (`Debian:12`, `PyPI`) and
    /// its release, if it has one (`12`); none for ecosystems Parapet does
    /// not know.
    pub fn from_osv(text: &str) -> Option<(Ecosystem, Option<&str>)> {
        let (name, release) = match text.split_once(':') {
            Some((name, release)) => (name, Some(release)),
            None => (text, None),
        };
        ALL.into_iter()
            .find(|e| e.osv_name() == name)
            .map(|e| (e, release.filter(|r| !r.is_empty())))
    }

    /// The package URL type (`deb`, `apk`, `rpm`, `golang`, `pypi`, ...).
    pub fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::Debian | Ecosystem::Ubuntu => "deb",
            Ecosystem::Alpine => "apk",
            Ecosystem::RockyLinux | Ecosystem::AlmaLinux | Ecosystem::RedHat => "rpm",
            Ecosystem::Go => "golang",
            Ecosystem::PyPI => "pypi",
            Ecosystem::Npm => "npm",
            Ecosystem::CratesIo => "cargo",
            Ecosystem::Maven => "maven",
            Ecosystem::RubyGems => "gem",
            Ecosystem::Packagist => "composer",
        }
    }

    /// Whether it is an operating system's package archive (advisories are
    /// then per release and keyed by source package).
    pub fn is_os(self) -> bool {
        matches!(
            self,
            Ecosystem::Debian
                | Ecosystem::Ubuntu
                | Ecosystem::Alpine
                | Ecosystem::RockyLinux
                | Ecosystem::AlmaLinux
                | Ecosystem::RedHat
        )
    }

    /// A package name as the ecosystem compares names: PyPI's normalised
    /// (PEP 503: lowercase, runs of `-`, `_`, `.` made one `-`), Composer's
    /// and npm's lowercase; others as they are.
    pub fn normalise_name(self, name: &str) -> String {
        match self {
            Ecosystem::PyPI => {
                let mut out = String::with_capacity(name.len());
                let mut separator = false;
                for c in name.trim().chars() {
                    if matches!(c, '-' | '_' | '.') {
                        separator = true;
                        continue;
                    }
                    if separator && !out.is_empty() {
                        out.push('-');
                    }
                    separator = false;
                    out.extend(c.to_lowercase());
                }
                out
            }
            Ecosystem::Packagist | Ecosystem::Npm => name.trim().to_lowercase(),
            _ => name.trim().to_owned(),
        }
    }

    /// Compares two versions in the ecosystem's order; none when either is
    /// not a version of it.
    pub fn compare(self, a: &str, b: &str) -> Option<Ordering> {
        match self {
            Ecosystem::Debian | Ecosystem::Ubuntu => {
                let a: debversion::Version = a.trim().parse().ok()?;
                let b: debversion::Version = b.trim().parse().ok()?;
                Some(a.cmp(&b))
            }
            Ecosystem::Alpine => apk_version::compare_apk_versions(a.trim(), b.trim()),
            Ecosystem::RockyLinux | Ecosystem::AlmaLinux | Ecosystem::RedHat => {
                if a.trim().is_empty() || b.trim().is_empty() {
                    return None;
                }
                Some(rpm_version::Evr::parse(a.trim()).cmp(&rpm_version::Evr::parse(b.trim())))
            }
            Ecosystem::PyPI => {
                let a: pep440_rs::Version = a.trim().parse().ok()?;
                let b: pep440_rs::Version = b.trim().parse().ok()?;
                Some(a.cmp(&b))
            }
            Ecosystem::Npm | Ecosystem::CratesIo => {
                Some(semantic(a.trim())?.cmp(&semantic(b.trim())?))
            }
            Ecosystem::Go => Some(go(a)?.cmp(&go(b)?)),
            Ecosystem::Maven => {
                if a.trim().is_empty() || b.trim().is_empty() {
                    return None;
                }
                Some(
                    maven_version::new_artifact_version(a.trim())
                        .cmp(&maven_version::new_artifact_version(b.trim())),
                )
            }
            Ecosystem::RubyGems => Some(gem_segments(a)?.cmp_gem(&gem_segments(b)?)),
            Ecosystem::Packagist => Some(composer(a)?.cmp(&composer(b)?)),
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.osv_name())
    }
}

/// A semantic version, with a leading `v` or `=` tolerated (npm's loose
/// form); build metadata does not order.
fn semantic(text: &str) -> Option<SemverKey> {
    let text = text.trim_start_matches(['v', '=']);
    let v = semver::Version::parse(text).ok()?;
    Some(SemverKey(semver::Version {
        build: semver::BuildMetadata::EMPTY,
        ..v
    }))
}

/// A semver version ordered by precedence (build metadata already dropped).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct SemverKey(semver::Version);

/// A Go version: a module's `v1.2.3`, a pseudo-version
/// (`v0.0.0-20240101000000-abcdef123456`, a pre-release in semver's order),
/// `+incompatible`, or the toolchain's `go1.21.3` / `1.21rc2` as the
/// standard library's advisories give it.
fn go(text: &str) -> Option<SemverKey> {
    let text = text.trim();
    let bare = text
        .strip_prefix("go")
        .or_else(|| text.strip_prefix('v'))
        .unwrap_or(text);
    if let Some(key) = semantic(bare) {
        return Some(key);
    }
    // The toolchain's own forms: `1.21`, `1.21rc2`, `1.21.0-rc.2`.
    let (numbers, pre) = match bare.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => (&bare[..at], Some(&bare[at..])),
        None => (bare, None),
    };
    let mut parts = numbers.split('.').map(|p| p.parse::<u64>().ok());
    let major = parts.next()??;
    let minor = parts.next().unwrap_or(Some(0))?;
    let patch = parts.next().unwrap_or(Some(0))?;
    if parts.next().is_some() {
        return None;
    }
    let pre = match pre {
        Some(pre) => {
            let split = pre.find(|c: char| c.is_ascii_digit()).unwrap_or(pre.len());
            let (word, number) = pre.split_at(split);
            let text = if number.is_empty() {
                word.to_owned()
            } else {
                format!("{word}.{number}")
            };
            semver::Prerelease::new(&text).ok()?
        }
        None => semver::Prerelease::EMPTY,
    };
    Some(SemverKey(semver::Version {
        major,
        minor,
        patch,
        pre,
        build: semver::BuildMetadata::EMPTY,
    }))
}

/// A RubyGems version's segments: numbers and words, as `Gem::Version`
/// splits them (`1.0.0.rc1` is `1 0 0 rc 1`).
#[derive(Debug)]
struct GemVersion(Vec<GemSegment>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum GemSegment {
    Number(u64),
    Word(String),
}

fn gem_segments(text: &str) -> Option<GemVersion> {
    let text = text.trim();
    if text.is_empty()
        || !text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    {
        return None;
    }
    // `-` in a gem version stands for `.pre.`.
    let text = text.replace('-', ".pre.");
    let mut segments = Vec::new();
    for part in text.split('.') {
        let mut rest = part;
        while !rest.is_empty() {
            let digits = rest.starts_with(|c: char| c.is_ascii_digit());
            let end = rest
                .find(|c: char| c.is_ascii_digit() != digits)
                .unwrap_or(rest.len());
            let (piece, tail) = rest.split_at(end);
            segments.push(if digits {
                GemSegment::Number(piece.parse().ok()?)
            } else {
                GemSegment::Word(piece.to_owned())
            });
            rest = tail;
        }
    }
    // Trailing zeros do not count (`1.0` equals `1`), as `Gem::Version`
    // canonicalises them away.
    while matches!(segments.last(), Some(GemSegment::Number(0))) && segments.len() > 1 {
        segments.pop();
    }
    Some(GemVersion(segments))
}

impl GemVersion {
    /// `Gem::Version#<=>`: segment by segment; a word sorts before a
    /// number (a pre-release before the release), words by their text.
    fn cmp_gem(&self, other: &GemVersion) -> Ordering {
        let longest = self.0.len().max(other.0.len());
        for i in 0..longest {
            let a = self.0.get(i).cloned().unwrap_or(GemSegment::Number(0));
            let b = other.0.get(i).cloned().unwrap_or(GemSegment::Number(0));
            let order = match (&a, &b) {
                (GemSegment::Number(x), GemSegment::Number(y)) => x.cmp(y),
                (GemSegment::Word(x), GemSegment::Word(y)) => x.cmp(y),
                (GemSegment::Word(_), GemSegment::Number(_)) => Ordering::Less,
                (GemSegment::Number(_), GemSegment::Word(_)) => Ordering::Greater,
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        Ordering::Equal
    }
}

/// A Composer version as `version_compare` after Composer's normalisation
/// orders it: numbers, then a stability (`dev` < `alpha` < `beta` < `RC` <
/// stable < `patch`) with its number.
fn composer(text: &str) -> Option<(Vec<u64>, u8, u64)> {
    let text = text
        .trim()
        .trim_start_matches(['v', 'V'])
        .to_ascii_lowercase();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (numbers, suffix) = text.split_at(split);
    let mut release: Vec<u64> = numbers
        .split('.')
        .filter(|p| !p.is_empty())
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    if release.is_empty() {
        return None;
    }
    while release.len() < 4 {
        release.push(0);
    }
    let suffix = suffix.trim_start_matches(['-', '.', '_', '+']);
    let word_end = suffix
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(suffix.len());
    let (word, number) = suffix.split_at(word_end);
    let stability = match word {
        "" => 4,
        "dev" => 0,
        "alpha" | "a" => 1,
        "beta" | "b" => 2,
        "rc" => 3,
        "patch" | "pl" | "p" => 5,
        _ => return None,
    };
    let number = number.trim_start_matches(['.', '-']);
    let number = if number.is_empty() {
        0
    } else {
        number.parse().ok()?
    };
    Some((release, stability, number))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    fn check(ecosystem: Ecosystem, cases: &[(&str, &str, Ordering)]) {
        for (a, b, expected) in cases {
            assert_eq!(
                ecosystem.compare(a, b),
                Some(*expected),
                "{ecosystem}: {a} vs {b}"
            );
            assert_eq!(
                ecosystem.compare(b, a),
                Some(expected.reverse()),
                "{ecosystem}: {b} vs {a}"
            );
        }
    }

    #[test]
    fn dpkg_orders_epochs_tildes_and_revisions() {
        check(
            Ecosystem::Debian,
            &[
                ("1:1.0-1", "2.0-1", Greater),
                ("1.0~rc1-1", "1.0-1", Less),
                ("1.0~~", "1.0~", Less),
                ("2.36-9+deb12u4", "2.36-9+deb12u10", Less),
                ("1.0-1", "1.0-1", Equal),
                ("1.0", "1.0-0", Equal),
                ("3.0.11-1~deb12u2", "3.0.11-1", Less),
                ("0:1.2", "1.2", Equal),
            ],
        );
        assert_eq!(Ecosystem::Debian.compare("not a version!", "1.0"), None);
    }

    #[test]
    fn apk_orders_suffixes_and_revisions() {
        check(
            Ecosystem::Alpine,
            &[
                ("1.2.3-r0", "1.2.3-r1", Less),
                ("1.2.3_alpha1-r0", "1.2.3-r0", Less),
                ("1.2.3_rc1-r0", "1.2.3_beta2-r0", Greater),
                ("1.2.3_p1-r0", "1.2.3-r9", Greater),
                ("3.1.4-r5", "3.1.4-r5", Equal),
                ("1.10-r0", "1.9-r0", Greater),
            ],
        );
    }

    #[test]
    fn rpm_orders_epoch_version_release() {
        check(
            Ecosystem::RockyLinux,
            &[
                ("1:1.0-1.el9", "2.0-1.el9", Greater),
                ("1.0-1.el9", "1.0-2.el9", Less),
                ("1.0~beta-1", "1.0-1", Less),
                ("1.0^post1-1", "1.0-1", Greater),
                ("2.34-60.el9", "2.34-100.el9", Less),
                ("1.0a-1", "1.0-1", Greater),
            ],
        );
    }

    #[test]
    fn pep440_orders_pre_post_and_dev_releases() {
        check(
            Ecosystem::PyPI,
            &[
                ("1.0.dev1", "1.0a1", Less),
                ("1.0a1", "1.0b1", Less),
                ("1.0rc1", "1.0", Less),
                ("1.0", "1.0.post1", Less),
                ("1.0", "1.0.0", Equal),
                ("1!0.1", "2.0", Greater),
                ("2.0.0-rc.1", "2.0.0rc1", Equal),
                ("1.0+local.1", "1.0", Greater),
            ],
        );
    }

    #[test]
    fn pypi_names_are_normalised() {
        assert_eq!(
            Ecosystem::PyPI.normalise_name("Zope.Interface__x"),
            "zope-interface-x"
        );
        assert_eq!(Ecosystem::PyPI.normalise_name("PyYAML"), "pyyaml");
        assert_eq!(
            Ecosystem::Go.normalise_name("golang.org/x/net"),
            "golang.org/x/net"
        );
    }

    #[test]
    fn semver_orders_pre_releases_and_ignores_build_metadata() {
        check(
            Ecosystem::Npm,
            &[
                ("1.0.0-alpha", "1.0.0-alpha.1", Less),
                ("1.0.0-alpha.beta", "1.0.0-beta", Less),
                ("1.0.0-rc.1", "1.0.0", Less),
                ("1.0.0+build.5", "1.0.0", Equal),
                ("v2.0.0", "1.9.9", Greater),
            ],
        );
        check(Ecosystem::CratesIo, &[("0.10.0", "0.9.12", Greater)]);
        assert_eq!(Ecosystem::Npm.compare("1.0", "1.0.0"), None);
    }

    #[test]
    fn go_orders_pseudo_versions_incompatible_and_the_toolchain() {
        check(
            Ecosystem::Go,
            &[
                (
                    "v0.0.0-20200101000000-abcdefabcdef",
                    "v0.0.0-20210101000000-abcdefabcdef",
                    Less,
                ),
                ("v0.0.0-20200101000000-abcdefabcdef", "v0.1.0", Less),
                // A pseudo-version after a tag sorts after the tag, before the next.
                ("v1.2.4-0.20200101000000-abcdefabcdef", "v1.2.3", Greater),
                ("v1.2.4-0.20200101000000-abcdefabcdef", "v1.2.4", Less),
                ("v2.0.0+incompatible", "v2.0.0", Equal),
                ("go1.21.3", "1.21.10", Less),
                ("1.21rc2", "1.21.0", Less),
                ("go1.22", "1.22.0", Equal),
                ("0.0.0-20200101000000-abcdefabcdef", "v0.0.1", Less),
            ],
        );
    }

    #[test]
    fn maven_orders_qualifiers() {
        check(
            Ecosystem::Maven,
            &[
                ("1.0-alpha-1", "1.0", Less),
                ("1.0-SNAPSHOT", "1.0", Less),
                ("1.0", "1.0-sp", Less),
                ("2.12.7.1", "2.12.7", Greater),
                ("1.0.0", "1", Equal),
                ("1.0-RC1", "1.0-rc-1", Equal),
            ],
        );
    }

    #[test]
    fn rubygems_orders_prereleases_before_releases() {
        check(
            Ecosystem::RubyGems,
            &[
                ("1.0.0.rc1", "1.0.0", Less),
                ("1.0.0.pre", "1.0.0.rc1", Less),
                ("1.0", "1", Equal),
                ("1.10.0", "1.9.0", Greater),
                ("7.0.8.1", "7.0.8", Greater),
            ],
        );
    }

    #[test]
    fn composer_orders_stabilities() {
        check(
            Ecosystem::Packagist,
            &[
                ("v1.0.0", "1.0.0", Equal),
                ("1.0.0-dev", "1.0.0-alpha1", Less),
                ("1.0.0-beta2", "1.0.0-RC1", Less),
                ("1.0.0-RC1", "1.0.0", Less),
                ("1.0.0", "1.0.0-p1", Less),
                ("5.4.10", "5.4.9", Greater),
            ],
        );
    }

    #[test]
    fn osv_ecosystem_names_are_read_with_their_release() {
        assert_eq!(
            Ecosystem::from_osv("Debian:12"),
            Some((Ecosystem::Debian, Some("12")))
        );
        assert_eq!(
            Ecosystem::from_osv("Rocky Linux:9"),
            Some((Ecosystem::RockyLinux, Some("9")))
        );
        assert_eq!(Ecosystem::from_osv("PyPI"), Some((Ecosystem::PyPI, None)));
        assert_eq!(Ecosystem::from_osv("Hackage"), None);
        for e in ALL {
            assert_eq!(Ecosystem::from_osv(e.osv_name()), Some((e, None)));
            let json = serde_json::to_value(e).expect("serialises");
            assert_eq!(json, e.osv_name());
        }
    }
}
