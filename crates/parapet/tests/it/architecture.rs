//! The shape of the workspace, kept by tests: the binary parses arguments
//! and wires crates (no SQL, no AWS type, no fact joins, no database or SDK
//! crate of its own), and no source file or function grows past what one
//! reader holds.

use std::path::{Path, PathBuf};

/// The workspace's root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file under `folder`.
fn sources(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![folder.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)
            .expect("a readable folder")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The code lines of a file: comments and what follows its first test
/// module left out.
fn code(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .windows(2)
        .position(|w| w[0].trim() == "#[cfg(test)]" && w[1].trim_start().starts_with("mod "))
        .unwrap_or(lines.len());
    lines[..end]
        .iter()
        .copied()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect()
}

#[test]
fn the_binary_holds_no_pipeline_logic() {
    let manifest =
        std::fs::read_to_string(root().join("crates/parapet/Cargo.toml")).expect("manifest");
    let dependencies = manifest
        .split("[dev-dependencies]")
        .next()
        .expect("the dependencies");
    for crate_name in [
        "rusqlite",
        "aws-sdk-",
        "aws-config",
        "tiny_http",
        "cel-parser",
    ] {
        assert!(
            !dependencies.contains(crate_name),
            "the binary depends on {crate_name}: that belongs in a library crate"
        );
    }
    let forbidden = [
        ("AWS::", "an AWS resource type"),
        ("SELECT ", "SQL"),
        ("INSERT INTO", "SQL"),
        ("rusqlite", "the database's crate"),
        ("aws_sdk_", "the AWS SDK"),
        ("runs_image", "a vulnerability join"),
        ("snapshot_of", "a vulnerability join"),
        ("exposure_facts", "an exposure join"),
    ];
    for file in sources(&root().join("crates/parapet/src")) {
        let text = std::fs::read_to_string(&file).expect("a source file");
        for (number, line) in code(&text).iter().enumerate() {
            for (pattern, what) in forbidden {
                assert!(
                    !line.contains(pattern),
                    "{}:{}: {what} in the binary: {line}",
                    file.display(),
                    number + 1
                );
            }
        }
    }
}

/// Every function of `lines` with its first line's index and length.
fn functions(lines: &[&str]) -> Vec<(usize, String, usize)> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let declaration = ["pub(crate) ", "pub(super) ", "pub ", "const ", "async "]
            .iter()
            .fold(trimmed, |rest, prefix| {
                rest.strip_prefix(prefix).unwrap_or(rest)
            });
        let Some(name) = declaration.strip_prefix("fn ") else {
            i += 1;
            continue;
        };
        let name: String = name
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let Some(open) = (i..lines.len()).find(|&j| {
            let l = lines[j].trim_end();
            l.ends_with('{') || l.ends_with(';')
        }) else {
            break;
        };
        if lines[open].trim_end().ends_with(';') {
            i = open + 1;
            continue;
        }
        let close = (open + 1..lines.len())
            .find(|&j| {
                let l = lines[j];
                l.len() > indent && l[..indent].trim().is_empty() && l[indent..].starts_with('}')
            })
            .unwrap_or(lines.len() - 1);
        found.push((i, name, close - i + 1));
        i = close + 1;
    }
    found
}

#[test]
fn no_source_file_or_function_grows_too_long() {
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root().join("crates"))
        .expect("the crates")
        .flatten()
        .map(|e| e.path().join("src"))
        .filter(|p| p.is_dir())
        .collect();
    crates.sort();
    let mut long = Vec::new();
    for file in crates.iter().flat_map(|c| sources(c)) {
        let text = std::fs::read_to_string(&file).expect("a source file");
        let lines = text.lines().count();
        if lines > 1200 {
            long.push(format!("{}: {lines} lines", file.display()));
        }
        let all: Vec<&str> = text.lines().collect();
        let end = all
            .windows(2)
            .position(|w| w[0].trim() == "#[cfg(test)]" && w[1].trim_start().starts_with("mod "))
            .unwrap_or(all.len());
        for (start, name, length) in functions(&all[..end]) {
            if length > 150 {
                long.push(format!(
                    "{}:{}: fn {name}: {length} lines",
                    file.display(),
                    start + 1
                ));
            }
        }
    }
    assert!(long.is_empty(), "too long:\n{}", long.join("\n"));
}

#[test]
fn the_length_check_sees_functions() {
    let text = "fn short() {\n    one();\n}\n\n    pub(crate) async fn indented(\n        a: u8,\n    ) -> u8 {\n        a\n    }\nfn declared();\n";
    let lines: Vec<&str> = text.lines().collect();
    let found: Vec<(String, usize)> = functions(&lines)
        .into_iter()
        .map(|(_, name, length)| (name, length))
        .collect();
    assert_eq!(found, [("short".to_owned(), 3), ("indented".to_owned(), 5)]);
}

#[test]
fn every_aws_sdk_crate_is_built_light_in_tests_and_small_in_releases() {
    let manifest = |path: &Path| -> toml::Table {
        toml::from_str(&std::fs::read_to_string(path).expect("a manifest")).expect("TOML")
    };
    let workspace = manifest(&root().join("Cargo.toml"));
    let aws = manifest(&root().join("crates/parapet-aws/Cargo.toml"));
    let sdks: Vec<&String> = aws["dependencies"]
        .as_table()
        .expect("dependencies")
        .keys()
        .filter(|name| name.starts_with("aws-sdk-"))
        .collect();
    assert!(sdks.len() > 20, "{sdks:?}");
    let profile = |name: &str| &workspace["profile"][name]["package"];
    let mut missing = Vec::new();
    for sdk in &sdks {
        let (dev, release) = (
            profile("dev").get(sdk.as_str()),
            profile("release").get(sdk.as_str()),
        );
        if dev.and_then(|p| p.get("opt-level")) != Some(&toml::Value::Integer(0)) {
            missing.push(format!("[profile.dev.package.{sdk}] opt-level = 0"));
        }
        if release.and_then(|p| p.get("opt-level")) != Some(&toml::Value::String("s".into())) {
            missing.push(format!("[profile.release.package.{sdk}] opt-level = \"s\""));
        }
    }
    assert!(
        missing.is_empty(),
        "missing in Cargo.toml:\n{}",
        missing.join("\n")
    );
}
