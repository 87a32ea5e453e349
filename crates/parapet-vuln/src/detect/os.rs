//! Operating system packages: `/etc/os-release`, dpkg's `status` and
//! `status.d`, apk's `installed`, and rpm's SQLite database, each package
//! with its source package (or apk origin).

use crate::ecosystem::Ecosystem;
use crate::package::{OsRelease, Package, SourcePackage};
use crate::tree::Tree;

/// The files the operating system detectors read.
pub fn wanted(path: &str) -> bool {
    matches!(
        path,
        "/etc/os-release"
            | "/usr/lib/os-release"
            | "/var/lib/dpkg/status"
            | "/lib/apk/db/installed"
            | "/var/lib/rpm/rpmdb.sqlite"
            | "/var/lib/rpm/rpmdb.sqlite-wal"
            | "/usr/lib/sysimage/rpm/rpmdb.sqlite"
            | "/usr/lib/sysimage/rpm/rpmdb.sqlite-wal"
    ) || path
        .strip_prefix("/var/lib/dpkg/status.d/")
        .is_some_and(|name| !name.contains('/') && !name.ends_with(".md5sums"))
}

/// The operating system, from `/etc/os-release` or `/usr/lib/os-release`.
pub fn os_release(tree: &Tree) -> Option<OsRelease> {
    ["/etc/os-release", "/usr/lib/os-release"]
        .iter()
        .find_map(|p| OsRelease::parse(&String::from_utf8_lossy(tree.read(p)?)))
}

/// The ecosystem of the operating system's packages: from `os-release`,
/// else from the package database found (Debian's for dpkg).
fn ecosystem_of(os: Option<&OsRelease>, fallback: Ecosystem) -> Ecosystem {
    os.and_then(OsRelease::ecosystem)
        .map(|(e, _)| e)
        .filter(|e| e.is_os())
        .unwrap_or(fallback)
}

/// dpkg's packages: `status` and `status.d/*` (distroless images). Only
/// installed packages count.
pub fn dpkg(
    tree: &Tree,
    os: Option<&OsRelease>,
    packages: &mut Vec<Package>,
    errors: &mut Vec<String>,
) {
    let ecosystem = ecosystem_of(os, Ecosystem::Debian);
    let mut files: Vec<(&str, &[u8])> = Vec::new();
    if let Some(status) = tree.read("/var/lib/dpkg/status") {
        files.push(("/var/lib/dpkg/status", status));
    }
    for (path, content) in tree.files() {
        if path.starts_with("/var/lib/dpkg/status.d/") && wanted(path) {
            files.push((path, content));
        }
    }
    for (path, content) in files {
        match stanzas(content) {
            Ok(stanzas) => {
                for (line, fields) in stanzas {
                    match dpkg_package(ecosystem, path, &fields) {
                        Ok(Some(p)) => packages.push(p),
                        Ok(None) => {}
                        Err(reason) => errors.push(format!("{path}: line {line}: {reason}")),
                    }
                }
            }
            Err(reason) => errors.push(format!("{path}: {reason}")),
        }
    }
}

/// One stanza's fields, by name, and the line it starts on.
type Stanza = (usize, Vec<(String, String)>);

/// RFC 822 stanzas, as dpkg writes them: `Field: value`, continuation
/// lines starting with a space, stanzas separated by blank lines.
fn stanzas(content: &[u8]) -> Result<Vec<Stanza>, String> {
    let text = std::str::from_utf8(content)
        .map_err(|e| format!("not text: invalid UTF-8 at byte {}", e.valid_up_to()))?;
    let mut all = Vec::new();
    let mut current: Vec<(String, String)> = Vec::new();
    let mut start = 1;
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        if line.trim().is_empty() {
            if !current.is_empty() {
                all.push((start, std::mem::take(&mut current)));
            }
            start = number + 1;
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match current.last_mut() {
                Some((_, value)) => {
                    value.push('\n');
                    value.push_str(line.trim());
                }
                None => return Err(format!("line {number}: a continuation with no field")),
            }
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(format!("line {number}: not a `Field: value` line"));
        };
        if key.is_empty() || key.contains(' ') {
            return Err(format!("line {number}: `{key}` is not a field name"));
        }
        current.push((key.to_owned(), value.trim().to_owned()));
    }
    if !current.is_empty() {
        all.push((start, current));
    }
    Ok(all)
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn dpkg_package(
    ecosystem: Ecosystem,
    path: &str,
    fields: &[(String, String)],
) -> Result<Option<Package>, String> {
    let Some(name) = field(fields, "Package") else {
        return Err("a stanza without `Package`".to_owned());
    };
    // `status.d` files have no Status: they are installed.
    if let Some(status) = field(fields, "Status")
        && !status.split_whitespace().any(|w| w == "installed")
    {
        return Ok(None);
    }
    let Some(version) = field(fields, "Version") else {
        return Err(format!("package {name} has no `Version`"));
    };
    if ecosystem.compare(version, version).is_none() {
        return Err(format!("package {name}: `{version}` is not a dpkg version"));
    }
    let source = match field(fields, "Source") {
        Some(source) => match source.split_once('(') {
            Some((source_name, rest)) => SourcePackage {
                name: source_name.trim().to_owned(),
                version: rest.trim_end_matches(')').trim().to_owned(),
            },
            None => SourcePackage {
                name: source.trim().to_owned(),
                version: version.to_owned(),
            },
        },
        None => SourcePackage {
            name: name.to_owned(),
            version: version.to_owned(),
        },
    };
    Ok(Some(Package {
        ecosystem,
        name: name.to_owned(),
        version: version.to_owned(),
        source: Some(source),
        arch: field(fields, "Architecture").map(str::to_owned),
        location: path.to_owned(),
    }))
}

/// apk's packages: `/lib/apk/db/installed`, `P:` name, `V:` version, `A:`
/// architecture, `o:` origin (the source package).
pub fn apk(
    tree: &Tree,
    os: Option<&OsRelease>,
    packages: &mut Vec<Package>,
    errors: &mut Vec<String>,
) {
    const PATH: &str = "/lib/apk/db/installed";
    let Some(content) = tree.read(PATH) else {
        return;
    };
    let ecosystem = ecosystem_of(os, Ecosystem::Alpine);
    let Ok(text) = std::str::from_utf8(content) else {
        errors.push(format!("{PATH}: not text"));
        return;
    };
    let mut fields: Vec<(char, &str)> = Vec::new();
    let mut start = 1;
    let mut flush = |fields: &mut Vec<(char, &str)>, start: usize, errors: &mut Vec<String>| {
        if fields.is_empty() {
            return;
        }
        let get = |k: char| fields.iter().find(|(c, _)| *c == k).map(|(_, v)| *v);
        match (get('P'), get('V')) {
            (Some(name), Some(version)) => {
                if ecosystem.compare(version, version).is_none() {
                    errors.push(format!(
                        "{PATH}: line {start}: package {name}: `{version}` is not an apk version"
                    ));
                } else {
                    packages.push(Package {
                        ecosystem,
                        name: name.to_owned(),
                        version: version.to_owned(),
                        source: Some(SourcePackage {
                            name: get('o').unwrap_or(name).to_owned(),
                            version: version.to_owned(),
                        }),
                        arch: get('A').map(str::to_owned),
                        location: PATH.to_owned(),
                    });
                }
            }
            _ => errors.push(format!(
                "{PATH}: line {start}: a package without `P:` or `V:`"
            )),
        }
        fields.clear();
    };
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() {
            flush(&mut fields, start, errors);
            start = i + 2;
            continue;
        }
        let mut chars = line.chars();
        match (chars.next(), chars.next()) {
            (Some(key), Some(':')) => fields.push((key, &line[key.len_utf8() + 1..])),
            _ => {
                errors.push(format!("{PATH}: line {}: not a `K:value` line", i + 1));
                fields.clear();
                return;
            }
        }
    }
    flush(&mut fields, start, errors);
}

/// rpm's packages from its SQLite database (`Packages` table of header
/// blobs); `gpg-pubkey` entries are keys, not packages.
pub fn rpm(
    tree: &Tree,
    os: Option<&OsRelease>,
    packages: &mut Vec<Package>,
    errors: &mut Vec<String>,
) {
    let ecosystem = ecosystem_of(os, Ecosystem::RedHat);
    for path in [
        "/var/lib/rpm/rpmdb.sqlite",
        "/usr/lib/sysimage/rpm/rpmdb.sqlite",
    ] {
        let Some(content) = tree.read(path) else {
            continue;
        };
        // Changes not yet checkpointed are in the write-ahead log.
        let wal = tree.read(&format!("{path}-wal")).map(|w| w.as_slice());
        match rpm_headers(content, wal) {
            Ok(headers) => {
                for (hnum, blob) in headers {
                    match rpm_package(ecosystem, path, &blob) {
                        Ok(Some(p)) => packages.push(p),
                        Ok(None) => {}
                        Err(reason) => errors.push(format!("{path}: package {hnum}: {reason}")),
                    }
                }
            }
            Err(reason) => errors.push(format!("{path}: {reason}")),
        }
        return;
    }
}

/// The header blobs of an rpm SQLite database (and its write-ahead log),
/// by number; read from a copy in a scratch folder.
fn rpm_headers(content: &[u8], wal: Option<&[u8]>) -> Result<Vec<(i64, Vec<u8>)>, String> {
    let scratch = tempfile::tempdir().map_err(|e| format!("a scratch folder: {e}"))?;
    let db = scratch.path().join("rpmdb.sqlite");
    std::fs::write(&db, content).map_err(|e| format!("a scratch file: {e}"))?;
    if let Some(wal) = wal {
        std::fs::write(scratch.path().join("rpmdb.sqlite-wal"), wal)
            .map_err(|e| format!("a scratch file: {e}"))?;
    }
    use rusqlite::{OpenFlags, OptionalExtension};
    // The image chose the schema: read only, with no function a view or a
    // trigger of its own could call, from a real table, within bounds.
    let conn = rusqlite::Connection::open_with_flags(
        &db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("not an SQLite database: {e}"))?;
    let not_rpm = |e: rusqlite::Error| format!("not an rpm database: {e}");
    conn.pragma_update(None, "trusted_schema", "OFF")
        .map_err(not_rpm)?;
    conn.pragma_update(None, "query_only", "ON")
        .map_err(not_rpm)?;
    let kind: Option<String> = conn
        .query_row(
            "SELECT type FROM sqlite_schema WHERE name = 'Packages'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(not_rpm)?;
    if kind.as_deref() != Some("table") {
        return Err("not an rpm database: `Packages` is not a table".to_owned());
    }
    let mut stmt = conn
        .prepare(
            "SELECT hnum, blob FROM Packages WHERE typeof(blob) = 'blob' AND length(blob) <= ?1 \
             ORDER BY hnum LIMIT ?2",
        )
        .map_err(not_rpm)?;
    let rows = stmt
        .query_map([MAX_RPM_HEADER, MAX_RPM_PACKAGES + 1], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(not_rpm)?;
    let headers = rows.collect::<Result<Vec<_>, _>>().map_err(not_rpm)?;
    if headers.len() > MAX_RPM_PACKAGES as usize {
        return Err(format!("more than {MAX_RPM_PACKAGES} packages"));
    }
    Ok(headers)
}

/// The most packages an rpm database is read for.
const MAX_RPM_PACKAGES: i64 = 200_000;
/// The largest package header read (a package's file list is in it).
const MAX_RPM_HEADER: i64 = 64 * 1024 * 1024;

const RPMTAG_NAME: i32 = 1000;
const RPMTAG_VERSION: i32 = 1001;
const RPMTAG_RELEASE: i32 = 1002;
const RPMTAG_EPOCH: i32 = 1003;
const RPMTAG_ARCH: i32 = 1022;
const RPMTAG_SOURCERPM: i32 = 1044;

/// An rpm header's tags: strings and the first integer of each.
#[derive(Debug, Default)]
struct Header {
    strings: std::collections::HashMap<i32, String>,
    integers: std::collections::HashMap<i32, i64>,
}

/// Reads a header blob: index count and data length (big-endian), the
/// index entries (tag, type, offset, count), then the data.
fn rpm_header(blob: &[u8]) -> Result<Header, String> {
    let be32 = |at: usize| -> Result<i32, String> {
        blob.get(at..at + 4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| "the header is cut short".to_owned())
    };
    let entries = usize::try_from(be32(0)?).map_err(|_| "a negative index count".to_owned())?;
    let length = usize::try_from(be32(4)?).map_err(|_| "a negative data length".to_owned())?;
    let data_start = 8 + entries
        .checked_mul(16)
        .ok_or_else(|| "an index too large".to_owned())?;
    let data = blob
        .get(data_start..data_start.saturating_add(length))
        .ok_or_else(|| "the header is cut short".to_owned())?;
    let mut header = Header::default();
    for i in 0..entries {
        let at = 8 + i * 16;
        let (tag, kind, offset) = (be32(at)?, be32(at + 4)?, be32(at + 8)?);
        let offset =
            usize::try_from(offset).map_err(|_| format!("tag {tag}: a negative offset"))?;
        match kind {
            // STRING, I18NSTRING (the first), STRING_ARRAY (the first).
            6 | 8 | 9 => {
                let rest = data
                    .get(offset..)
                    .ok_or_else(|| format!("tag {tag}: its offset is past the data"))?;
                let end = memchr::memchr(0, rest)
                    .ok_or_else(|| format!("tag {tag}: an unterminated string"))?;
                let text = std::str::from_utf8(&rest[..end])
                    .map_err(|_| format!("tag {tag}: not UTF-8"))?;
                header.strings.insert(tag, text.to_owned());
            }
            // INT32.
            4 => {
                let b = data
                    .get(offset..offset + 4)
                    .ok_or_else(|| format!("tag {tag}: its offset is past the data"))?;
                header
                    .integers
                    .insert(tag, i64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]])));
            }
            _ => {}
        }
    }
    Ok(header)
}

fn rpm_package(ecosystem: Ecosystem, path: &str, blob: &[u8]) -> Result<Option<Package>, String> {
    let header = rpm_header(blob)?;
    let get = |tag: i32, what: &str| {
        header
            .strings
            .get(&tag)
            .cloned()
            .ok_or_else(|| format!("no {what}"))
    };
    let name = get(RPMTAG_NAME, "name")?;
    if name == "gpg-pubkey" {
        return Ok(None);
    }
    let version = get(RPMTAG_VERSION, "version")?;
    let release = get(RPMTAG_RELEASE, "release")?;
    let epoch = header.integers.get(&RPMTAG_EPOCH).copied();
    let evr = |v: &str, r: &str| match epoch {
        Some(e) if e != 0 => format!("{e}:{v}-{r}"),
        _ => format!("{v}-{r}"),
    };
    // `curl-7.76.1-29.el9_4.src.rpm`: name, version and release from the
    // right.
    let source = header.strings.get(&RPMTAG_SOURCERPM).and_then(|srpm| {
        let nvr = srpm
            .strip_suffix(".src.rpm")
            .or_else(|| srpm.strip_suffix(".nosrc.rpm"))?;
        let (rest, source_release) = nvr.rsplit_once('-')?;
        let (source_name, source_version) = rest.rsplit_once('-')?;
        Some(SourcePackage {
            name: source_name.to_owned(),
            version: evr(source_version, source_release),
        })
    });
    Ok(Some(Package {
        ecosystem,
        name: name.clone(),
        version: evr(&version, &release),
        source: Some(source.unwrap_or(SourcePackage {
            name,
            version: evr(&version, &release),
        })),
        arch: header.strings.get(&RPMTAG_ARCH).cloned(),
        location: path.to_owned(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{Limits, Want};

    fn tree_with(files: &[(&str, &str)]) -> Tree {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, content) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(content.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder
                .append_data(&mut header, path, content.as_bytes())
                .expect("append");
        }
        let layer = builder.into_inner().expect("tar");
        let mut tree = Tree::new();
        tree.apply_layer("t", &layer[..], &|_, _| Want::Content, &Limits::default())
            .expect("layer");
        tree
    }

    const STATUS: &str = "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u7\nDescription: GNU C Library\n shared libraries\n\nPackage: removed\nStatus: deinstall ok config-files\nVersion: 1.0\n\nPackage: libssl3\nStatus: install ok installed\nSource: openssl (3.0.13-1~deb12u1)\nVersion: 3.0.13-1~deb12u1+b1\nArchitecture: amd64\n";

    #[test]
    fn dpkg_installed_packages_with_their_source() {
        let tree = tree_with(&[
            ("var/lib/dpkg/status", STATUS),
            (
                "var/lib/dpkg/status.d/tzdata",
                "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n",
            ),
            (
                "var/lib/dpkg/status.d/tzdata.md5sums",
                "abc  usr/share/zoneinfo/UTC\n",
            ),
        ]);
        let (mut packages, mut errors) = (Vec::new(), Vec::new());
        dpkg(&tree, None, &mut packages, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let got: Vec<(&str, &str, &str, &str)> = packages
            .iter()
            .map(|p| {
                let s = p.source.as_ref().expect("a source");
                (
                    p.name.as_str(),
                    p.version.as_str(),
                    s.name.as_str(),
                    s.version.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("libc6", "2.36-9+deb12u7", "glibc", "2.36-9+deb12u7"),
                (
                    "libssl3",
                    "3.0.13-1~deb12u1+b1",
                    "openssl",
                    "3.0.13-1~deb12u1"
                ),
                ("tzdata", "2024a-0+deb12u1", "tzdata", "2024a-0+deb12u1"),
            ]
        );
    }

    #[test]
    fn a_corrupt_status_file_is_named_with_its_line() {
        let tree = tree_with(&[(
            "var/lib/dpkg/status",
            "Package: a\nVersion: 1.0\nStatus: install ok installed\ngarbage line\n",
        )]);
        let (mut packages, mut errors) = (Vec::new(), Vec::new());
        dpkg(&tree, None, &mut packages, &mut errors);
        assert_eq!(
            errors,
            ["/var/lib/dpkg/status: line 4: not a `Field: value` line"]
        );
        let tree = tree_with(&[(
            "var/lib/dpkg/status",
            "Package: a\nStatus: install ok installed\n",
        )]);
        dpkg(&tree, None, &mut packages, &mut errors);
        assert!(
            errors[1].contains("line 1: package a has no `Version`"),
            "{errors:?}"
        );
    }

    #[test]
    fn apk_packages_with_their_origin() {
        let tree = tree_with(&[(
            "lib/apk/db/installed",
            "C:Q1abc=\nP:busybox-binsh\nV:1.36.1-r29\nA:x86_64\no:busybox\nT:shell\n\nP:musl\nV:1.2.5-r0\nA:x86_64\no:musl\n",
        )]);
        let (mut packages, mut errors) = (Vec::new(), Vec::new());
        apk(&tree, None, &mut packages, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(packages.len(), 2);
        assert_eq!(packages[0].ecosystem, Ecosystem::Alpine);
        assert_eq!(packages[0].advisory_name(), "busybox");
        assert_eq!(packages[1].version, "1.2.5-r0");
    }

    #[test]
    fn rpm_headers_are_read_and_a_cut_one_is_an_error() {
        // A header with NAME, VERSION, RELEASE, EPOCH and SOURCERPM.
        let strings = [
            "curl\0",
            "7.76.1\0",
            "29.el9_4\0",
            "curl-7.76.1-29.el9_4.src.rpm\0",
        ];
        let tags = [
            RPMTAG_NAME,
            RPMTAG_VERSION,
            RPMTAG_RELEASE,
            RPMTAG_SOURCERPM,
        ];
        let mut data = Vec::new();
        let mut index = Vec::new();
        for (tag, text) in tags.iter().zip(strings) {
            index.push((*tag, 6, data.len() as i32));
            data.extend_from_slice(text.as_bytes());
        }
        index.push((RPMTAG_EPOCH, 4, data.len() as i32));
        data.extend_from_slice(&1i32.to_be_bytes());
        let mut blob = Vec::new();
        blob.extend_from_slice(&(index.len() as i32).to_be_bytes());
        blob.extend_from_slice(&(data.len() as i32).to_be_bytes());
        for (tag, kind, offset) in &index {
            for n in [*tag, *kind, *offset, 1] {
                blob.extend_from_slice(&n.to_be_bytes());
            }
        }
        blob.extend_from_slice(&data);
        let package = rpm_package(Ecosystem::RockyLinux, "db", &blob)
            .expect("read")
            .expect("a package");
        assert_eq!(package.version, "1:7.76.1-29.el9_4");
        let source = package.source.expect("a source");
        assert_eq!(
            (source.name.as_str(), source.version.as_str()),
            ("curl", "1:7.76.1-29.el9_4")
        );
        let cut = rpm_package(Ecosystem::RockyLinux, "db", &blob[..blob.len() - 10]);
        assert_eq!(cut.expect_err("cut").as_str(), "the header is cut short");
    }
}
