//! Go binaries' embedded build information (Go 1.18 and later write it
//! inline after the `\xff Go buildinf:` magic): the toolchain version (the
//! standard library, `stdlib`), the main module, and every dependency with
//! replacements applied.

use crate::ecosystem::Ecosystem;
use crate::package::Package;
use crate::tree::GO_BUILDINFO_MAGIC;

/// What a Go binary says of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildInfo {
    /// `go1.22.1`.
    pub go_version: String,
    /// The main module's path and version (`(devel)` when built from a
    /// checkout).
    pub main: Option<(String, String)>,
    /// The dependencies, replacements applied.
    pub deps: Vec<(String, String)>,
}

/// The build information of a binary, if it is a Go binary; an error when
/// the magic is there but what follows is not build information Parapet
/// reads (a binary built before Go 1.18).
pub fn build_info(binary: &[u8]) -> Option<Result<BuildInfo, String>> {
    let mut last_error = None;
    for at in memchr::memmem::find_iter(binary, GO_BUILDINFO_MAGIC) {
        // The header is 32 bytes, aligned to 16.
        if at % 16 != 0 {
            continue;
        }
        match parse(&binary[at..]) {
            Ok(info) => return Some(Ok(info)),
            Err(e) => last_error = Some(e),
        }
    }
    last_error.map(Err)
}

fn parse(header: &[u8]) -> Result<BuildInfo, String> {
    let flags = *header.get(15).ok_or("the build information is cut short")?;
    if flags & 0x2 == 0 {
        return Err("built before Go 1.18: its build information is not inline".to_owned());
    }
    let data = header
        .get(32..)
        .ok_or("the build information is cut short")?;
    let (version, rest) = varint_string(data)?;
    let (modinfo, _) = varint_string(rest)?;
    let go_version = std::str::from_utf8(version)
        .map_err(|_| "the Go version is not text".to_owned())?
        .to_owned();
    if !go_version.starts_with("go") {
        return Err(format!("`{go_version}` is not a Go version"));
    }
    // The module information sits between two 16-byte sentinels.
    let modinfo = if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        &modinfo[16..modinfo.len() - 16]
    } else {
        modinfo
    };
    let text = String::from_utf8_lossy(modinfo);
    let mut main = None;
    let mut deps: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["mod", path, version, ..] => main = Some((path.to_string(), version.to_string())),
            ["dep", path, version, ..] => deps.push((path.to_string(), version.to_string())),
            ["=>", path, version, ..] => {
                if let Some(last) = deps.last_mut() {
                    *last = (path.to_string(), version.to_string());
                }
            }
            // A replacement by a local folder has no version.
            ["=>", path] => {
                if let Some(last) = deps.last_mut() {
                    *last = (path.to_string(), String::new());
                }
            }
            _ => {}
        }
    }
    Ok(BuildInfo {
        go_version,
        main,
        deps,
    })
}

/// A string prefixed by its length as an unsigned varint.
fn varint_string(data: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let mut length: u64 = 0;
    let mut shift = 0;
    for (i, byte) in data.iter().enumerate() {
        if shift > 63 {
            break;
        }
        length |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            let start = i + 1;
            let end = usize::try_from(length)
                .ok()
                .and_then(|l| start.checked_add(l))
                .filter(|end| *end <= data.len())
                .ok_or("the build information is cut short")?;
            return Ok((&data[start..end], &data[end..]));
        }
        shift += 7;
    }
    Err("the build information is cut short".to_owned())
}

/// The packages of a Go binary at `path`.
pub fn detect(path: &str, binary: &[u8], packages: &mut Vec<Package>, errors: &mut Vec<String>) {
    let info = match build_info(binary) {
        None => return,
        Some(Err(reason)) => {
            errors.push(format!("{path}: {reason}"));
            return;
        }
        Some(Ok(info)) => info,
    };
    let package = |name: &str, version: &str| Package {
        ecosystem: Ecosystem::Go,
        name: name.to_owned(),
        version: version.to_owned(),
        source: None,
        arch: None,
        location: path.to_owned(),
    };
    if let Some((name, version)) = &info.main
        && !version.is_empty()
        && version != "(devel)"
    {
        packages.push(package(name, version));
    }
    for (name, version) in &info.deps {
        if !version.is_empty() {
            packages.push(package(name, version));
        }
    }
    // `go1.22.1 X:boringcrypto`: the toolchain is the first word; written
    // `v1.22.1`, as Trivy and the module proxy write versions.
    let toolchain = info
        .go_version
        .split_whitespace()
        .next()
        .unwrap_or_default();
    packages.push(package(
        "stdlib",
        &format!("v{}", toolchain.trim_start_matches("go")),
    ));
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A binary's bytes with inline build information, as Go 1.18+ lays it
    /// out (16-byte aligned).
    pub fn binary(go_version: &str, modinfo: &str) -> Vec<u8> {
        let mut bytes = vec![0x7f, b'E', b'L', b'F'];
        bytes.resize(64, 0);
        bytes.extend_from_slice(GO_BUILDINFO_MAGIC);
        bytes.push(8);
        bytes.push(0x2);
        bytes.resize(64 + 32, 0);
        let sentinel_start = b"0123456789abcdef";
        let sentinel_end = b"\nfedcba987654321";
        let mut module = sentinel_start.to_vec();
        module.extend_from_slice(modinfo.as_bytes());
        module.extend_from_slice(sentinel_end);
        for part in [go_version.as_bytes(), &module] {
            bytes.push(part.len() as u8 | if part.len() > 127 { 0x80 } else { 0 });
            if part.len() > 127 {
                bytes.push((part.len() >> 7) as u8);
            }
            bytes.extend_from_slice(part);
        }
        bytes
    }

    #[test]
    fn modules_replacements_and_the_toolchain_are_read() {
        let modinfo = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\tgolang.org/x/net\tv0.17.0\th1:x\ndep\tgithub.com/a/b\tv1.0.0\th1:y\n=>\tgithub.com/fork/b\tv1.0.1\th1:z\nbuild\t-compiler=gc\n";
        let (mut packages, mut errors) = (Vec::new(), Vec::new());
        detect(
            "/app",
            &binary("go1.22.1 X:boringcrypto", modinfo),
            &mut packages,
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors:?}");
        let got: Vec<(&str, &str)> = packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("golang.org/x/net", "v0.17.0"),
                ("github.com/fork/b", "v1.0.1"),
                ("stdlib", "v1.22.1")
            ]
        );
        let mut old = binary("go1.17", "");
        old[64 + 15] = 0;
        detect("/old", &old, &mut packages, &mut errors);
        assert!(
            errors[0].contains("/old: built before Go 1.18"),
            "{errors:?}"
        );
        assert!(build_info(b"an ordinary file").is_none());
        let cut = binary("go1.22.1", modinfo);
        assert!(matches!(build_info(&cut[..cut.len() - 40]), Some(Err(_))));
    }
}
