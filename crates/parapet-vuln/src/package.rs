//! What a target holds: its operating system, if it has one, and its
//! packages, each with the ecosystem that versions it, the source package it
//! was built from (operating system advisories name that one: libc6 belongs
//! to glibc), and the file it was found in.

use crate::ecosystem::Ecosystem;
use serde::{Deserialize, Serialize};

/// One installed or locked package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Package {
    /// Where its versions come from.
    pub ecosystem: Ecosystem,
    /// Its name.
    pub name: String,
    /// Its version, as the ecosystem writes it (dpkg's with the epoch).
    pub version: String,
    /// The source package it was built from (operating systems).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourcePackage>,
    /// Its architecture, when the package database gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// The file it was found in (`/var/lib/dpkg/status`, `/app/poetry.lock`).
    pub location: String,
}

/// The source package of a binary package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SourcePackage {
    /// Its name (`glibc`).
    pub name: String,
    /// Its version, when it differs from the binary's.
    pub version: String,
}

impl Package {
    /// The name advisories use: the source package's for operating
    /// systems, the package's own otherwise.
    pub fn advisory_name(&self) -> &str {
        match &self.source {
            Some(source) if self.ecosystem.is_os() => &source.name,
            _ => &self.name,
        }
    }

    /// The version advisories use (the source package's, for operating
    /// systems).
    pub fn advisory_version(&self) -> &str {
        match &self.source {
            Some(source) if self.ecosystem.is_os() => &source.version,
            _ => &self.version,
        }
    }

    /// Its package URL (`pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12`).
    pub fn purl(&self, os: Option<&OsRelease>) -> String {
        let (namespace, name) = match self.ecosystem {
            Ecosystem::Debian | Ecosystem::Ubuntu | Ecosystem::Alpine => (
                Some(
                    os.map(|o| o.id.clone())
                        .unwrap_or_else(|| self.ecosystem.osv_name().to_lowercase()),
                ),
                self.name.as_str(),
            ),
            Ecosystem::RockyLinux | Ecosystem::AlmaLinux | Ecosystem::RedHat => {
                (os.map(|o| o.id.clone()), self.name.as_str())
            }
            Ecosystem::Maven => match self.name.split_once(':') {
                Some((group, artifact)) => (Some(group.to_owned()), artifact),
                None => (None, self.name.as_str()),
            },
            Ecosystem::Go | Ecosystem::Npm | Ecosystem::Packagist => {
                match self.name.rsplit_once('/') {
                    Some((namespace, name)) => (Some(namespace.to_owned()), name),
                    None => (None, self.name.as_str()),
                }
            }
            Ecosystem::PyPI | Ecosystem::CratesIo | Ecosystem::RubyGems => {
                (None, self.name.as_str())
            }
        };
        let mut qualifiers: Vec<(&str, String)> = Vec::new();
        if let Some(arch) = &self.arch {
            qualifiers.push(("arch", arch.clone()));
        }
        if self.ecosystem.is_os()
            && let Some(os) = os
        {
            qualifiers.push(("distro", format!("{}-{}", os.id, os.version_id)));
        }
        if let Some(source) = &self.source
            && self.ecosystem.is_os()
            && (source.name != self.name || source.version != self.version)
        {
            qualifiers.push((
                "upstream",
                if source.version == self.version {
                    source.name.clone()
                } else {
                    format!("{}@{}", source.name, source.version)
                },
            ));
        }
        let built =
            packageurl::PackageUrl::new(self.ecosystem.purl_type(), name).and_then(|mut p| {
                if let Some(namespace) = &namespace {
                    p.with_namespace(namespace.as_str())?;
                }
                p.with_version(self.version.as_str())?;
                for (key, value) in &qualifiers {
                    p.add_qualifier(*key, value.as_str())?;
                }
                Ok(p.to_string())
            });
        // Names and versions come from package databases; one that a
        // package URL cannot hold still gets a readable identifier.
        built.unwrap_or_else(|_| {
            format!(
                "pkg:{}/{}@{}",
                self.ecosystem.purl_type(),
                self.name,
                self.version
            )
        })
    }
}

/// An operating system, from `/etc/os-release`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    /// `debian`, `ubuntu`, `alpine`, `rocky`, `almalinux`, `rhel`.
    pub id: String,
    /// `12`, `22.04`, `3.20.3`, `9.4`.
    pub version_id: String,
    /// `Debian GNU/Linux 12 (bookworm)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
}

impl OsRelease {
    /// The ecosystem of its packages, and the release OSV names
    /// (`Debian:12`, `Alpine:v3.20`, `Rocky Linux:9`); none for an
    /// operating system Parapet has no advisories for.
    pub fn ecosystem(&self) -> Option<(Ecosystem, String)> {
        let major = self.version_id.split('.').next().unwrap_or_default();
        match self.id.as_str() {
            "debian" => Some((Ecosystem::Debian, major.to_owned())),
            "ubuntu" => Some((Ecosystem::Ubuntu, self.version_id.clone())),
            "alpine" => {
                let minor: Vec<&str> = self.version_id.split('.').take(2).collect();
                Some((Ecosystem::Alpine, format!("v{}", minor.join("."))))
            }
            "rocky" => Some((Ecosystem::RockyLinux, major.to_owned())),
            "almalinux" => Some((Ecosystem::AlmaLinux, major.to_owned())),
            "rhel" => Some((Ecosystem::RedHat, major.to_owned())),
            _ => None,
        }
    }

    /// Reads the text of an `os-release` file; none without `ID`.
    pub fn parse(text: &str) -> Option<OsRelease> {
        let mut id = None;
        let mut version_id = None;
        let mut pretty_name = None;
        for line in text.lines() {
            let Some((key, value)) = line.trim().split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches(['"', '\'']).to_owned();
            match key.trim() {
                "ID" => id = Some(value),
                "VERSION_ID" => version_id = Some(value),
                "PRETTY_NAME" => pretty_name = Some(value),
                _ => {}
            }
        }
        Some(OsRelease {
            id: id?.to_lowercase(),
            version_id: version_id.unwrap_or_default(),
            pretty_name,
        })
    }
}

/// Everything found in one target.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    /// What was read (`debian.tar`, `registry.example.com/app:1.2`).
    pub target: String,
    /// Its operating system, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<OsRelease>,
    /// Its packages, sorted.
    pub packages: Vec<Package>,
    /// What could not be read (each naming the file and the place); the
    /// rest was read all the same.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn debian() -> OsRelease {
        OsRelease::parse(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
        )
        .expect("an os-release")
    }

    #[test]
    fn os_release_names_the_ecosystem_and_release() {
        let os = debian();
        assert_eq!(
            os.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(os.ecosystem(), Some((Ecosystem::Debian, "12".to_owned())));
        let alpine = OsRelease::parse("ID=alpine\nVERSION_ID=3.20.3\n").expect("parsed");
        assert_eq!(
            alpine.ecosystem(),
            Some((Ecosystem::Alpine, "v3.20".to_owned()))
        );
        let rocky = OsRelease::parse("ID=\"rocky\"\nVERSION_ID=\"9.4\"\n").expect("parsed");
        assert_eq!(
            rocky.ecosystem(),
            Some((Ecosystem::RockyLinux, "9".to_owned()))
        );
        assert_eq!(OsRelease::parse("NAME=x\n"), None);
    }

    #[test]
    fn package_urls_follow_the_purl_spec() {
        let libc = Package {
            ecosystem: Ecosystem::Debian,
            name: "libc6".into(),
            version: "2.36-9+deb12u7".into(),
            source: Some(SourcePackage {
                name: "glibc".into(),
                version: "2.36-9+deb12u7".into(),
            }),
            arch: Some("amd64".into()),
            location: "/var/lib/dpkg/status".into(),
        };
        assert_eq!(
            libc.purl(Some(&debian())),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12&upstream=glibc"
        );
        assert_eq!(libc.advisory_name(), "glibc");
        let module = Package {
            ecosystem: Ecosystem::Go,
            name: "golang.org/x/net".into(),
            version: "v0.17.0".into(),
            source: None,
            arch: None,
            location: "/app/go.mod".into(),
        };
        assert_eq!(module.purl(None), "pkg:golang/golang.org/x/net@v0.17.0");
        let scoped = Package {
            ecosystem: Ecosystem::Npm,
            name: "@babel/core".into(),
            version: "7.24.0".into(),
            source: None,
            arch: None,
            location: "package-lock.json".into(),
        };
        assert_eq!(scoped.purl(None), "pkg:npm/%40babel/core@7.24.0");
    }
}
