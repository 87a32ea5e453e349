//! Lockfiles and manifests, by file name: `Cargo.lock`, `package-lock.json`
//! (v1, v2, v3), `yarn.lock` (v1 and Berry), `pnpm-lock.yaml`,
//! `requirements.txt` (pinned lines), `poetry.lock`, `Pipfile.lock`,
//! `uv.lock`, `go.mod` (with `replace`), `Gemfile.lock` and `composer.lock`.

use crate::ecosystem::Ecosystem;
use crate::package::Package;

/// The lockfile names read, with their ecosystem.
const NAMES: &[(&str, Ecosystem)] = &[
    ("Cargo.lock", Ecosystem::CratesIo),
    ("package-lock.json", Ecosystem::Npm),
    ("yarn.lock", Ecosystem::Npm),
    ("pnpm-lock.yaml", Ecosystem::Npm),
    ("requirements.txt", Ecosystem::PyPI),
    ("poetry.lock", Ecosystem::PyPI),
    ("Pipfile.lock", Ecosystem::PyPI),
    ("uv.lock", Ecosystem::PyPI),
    ("go.mod", Ecosystem::Go),
    ("Gemfile.lock", Ecosystem::RubyGems),
    ("composer.lock", Ecosystem::Packagist),
];

/// Whether `path` is a lockfile Parapet reads (outside `node_modules`).
pub fn wanted(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    NAMES.iter().any(|(n, _)| *n == name) && !path.contains("/node_modules/")
}

/// The packages a lockfile at `path` locks; an error names the file and
/// the line.
pub fn parse(path: &str, content: &[u8]) -> Result<Vec<Package>, String> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some((_, ecosystem)) = NAMES.iter().find(|(n, _)| *n == name) else {
        return Err(format!("`{name}` is not a lockfile Parapet reads"));
    };
    let text = std::str::from_utf8(content)
        .map_err(|e| format!("not text: invalid UTF-8 at byte {}", e.valid_up_to()))?;
    let locked = match name {
        "Cargo.lock" | "poetry.lock" | "uv.lock" => toml_packages(text)?,
        "package-lock.json" => package_lock(text)?,
        "yarn.lock" => yarn(text)?,
        "pnpm-lock.yaml" => pnpm(text)?,
        "requirements.txt" => requirements(text),
        "Pipfile.lock" => pipfile(text)?,
        "go.mod" => go_mod(text)?,
        "Gemfile.lock" => gemfile(text),
        _ => composer(text)?,
    };
    let mut packages: Vec<Package> = locked
        .into_iter()
        .map(|(name, version)| Package {
            ecosystem: *ecosystem,
            name,
            version,
            source: None,
            arch: None,
            location: path.to_owned(),
        })
        .collect();
    packages.sort();
    packages.dedup();
    Ok(packages)
}

type Locked = Vec<(String, String)>;

fn json(text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text)
        .map_err(|e| format!("not JSON (line {}, column {}): {e}", e.line(), e.column()))
}

/// `[[package]]` tables with `name` and `version` (Cargo, Poetry, uv); uv's
/// project itself (an editable or virtual source) is not a dependency.
fn toml_packages(text: &str) -> Result<Locked, String> {
    let document: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        match line {
            Some(line) => format!("not TOML (line {line}): {}", e.message()),
            None => format!("not TOML: {}", e.message()),
        }
    })?;
    let mut locked = Vec::new();
    for (i, package) in document
        .get("package")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .enumerate()
    {
        let source = package.get("source");
        let local = source
            .and_then(|s| s.as_table())
            .is_some_and(|s| s.contains_key("editable") || s.contains_key("virtual"));
        if local {
            continue;
        }
        match (
            package.get("name").and_then(|v| v.as_str()),
            package.get("version").and_then(|v| v.as_str()),
        ) {
            (Some(n), Some(v)) => locked.push((n.to_owned(), v.to_owned())),
            _ => return Err(format!("package {} has no name or version", i + 1)),
        }
    }
    Ok(locked)
}

/// npm's lockfile: v2 and v3 `packages` (`node_modules/NAME` keys), v1
/// `dependencies` (nested). Linked workspace folders are not packages.
fn package_lock(text: &str) -> Result<Locked, String> {
    let lock = json(text)?;
    let mut locked = Vec::new();
    if let Some(packages) = lock["packages"].as_object() {
        for (key, entry) in packages {
            let Some(at) = key.rfind("node_modules/") else {
                continue;
            };
            if entry["link"].as_bool() == Some(true) {
                continue;
            }
            let name = entry["name"]
                .as_str()
                .unwrap_or(&key[at + "node_modules/".len()..]);
            if let Some(version) = entry["version"].as_str() {
                locked.push((name.to_owned(), version.to_owned()));
            }
        }
        return Ok(locked);
    }
    fn walk(dependencies: &serde_json::Value, locked: &mut Locked) {
        for (name, entry) in dependencies.as_object().into_iter().flatten() {
            if let Some(version) = entry["version"].as_str()
                && !version.starts_with("file:")
            {
                locked.push((name.clone(), version.to_owned()));
            }
            walk(&entry["dependencies"], locked);
        }
    }
    walk(&lock["dependencies"], &mut locked);
    Ok(locked)
}

/// The package name of a yarn descriptor (`@scope/name@^1.0.0`,
/// `name@npm:^1.0.0`).
fn descriptor_name(descriptor: &str) -> &str {
    let descriptor = descriptor.trim().trim_matches('"');
    let search_from = usize::from(descriptor.starts_with('@'));
    match descriptor[search_from..].find('@') {
        Some(at) => &descriptor[..at + search_from],
        None => descriptor,
    }
}

/// `yarn.lock`: v1 (`version "1.2.3"`) and Berry (`version: 1.2.3`);
/// workspace entries and Berry's `__metadata` are not packages.
fn yarn(text: &str) -> Result<Locked, String> {
    let mut locked = Vec::new();
    let mut current: Option<(String, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            let Some(header) = line.strip_suffix(':') else {
                return Err(format!("line {}: not an entry header", i + 1));
            };
            let first = header.split(", ").next().unwrap_or(header);
            current = if first.contains("__metadata") || header.contains("@workspace:") {
                None
            } else {
                Some((descriptor_name(first).to_owned(), i + 1))
            };
            continue;
        }
        let Some((name, _)) = &current else {
            continue;
        };
        let trimmed = line.trim();
        let version = trimmed
            .strip_prefix("version ")
            .or_else(|| trimmed.strip_prefix("version: "));
        if let Some(version) = version
            && line.starts_with("  ")
            && !line.starts_with("   ")
        {
            locked.push((name.clone(), version.trim().trim_matches('"').to_owned()));
            current = None;
        }
    }
    if let Some((name, line)) = current {
        return Err(format!("line {line}: the entry for {name} has no version"));
    }
    Ok(locked)
}

/// `pnpm-lock.yaml`: `packages` keys, `/name/1.2.3` (v5), `/name@1.2.3`
/// (v6), `name@1.2.3` (v9), with peer suffixes dropped.
fn pnpm(text: &str) -> Result<Locked, String> {
    let lock: serde_json::Value = serde_norway::from_str(text).map_err(|e| match e.location() {
        Some(l) => format!("not YAML (line {}, column {}): {e}", l.line(), l.column()),
        None => format!("not YAML: {e}"),
    })?;
    let v5 = lock["lockfileVersion"]
        .as_f64()
        .or_else(|| {
            lock["lockfileVersion"]
                .as_str()
                .and_then(|s| s.parse().ok())
        })
        .is_some_and(|v| v < 6.0);
    let mut locked = Vec::new();
    for key in lock["packages"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
    {
        let key = key.trim_start_matches('/');
        let key = key.split('(').next().unwrap_or(key);
        let split = if v5 {
            key.rfind('/')
        } else {
            key.get(1..).and_then(|k| k.find('@')).map(|at| at + 1)
        };
        let Some(at) = split else {
            continue;
        };
        let version = key[at + 1..].split('_').next().unwrap_or_default();
        locked.push((key[..at].to_owned(), version.to_owned()));
    }
    Ok(locked)
}

/// `requirements.txt`: only `name==version` pins say which version runs.
fn requirements(text: &str) -> Locked {
    let mut locked = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default();
        let line = line.split(';').next().unwrap_or_default().trim();
        if line.starts_with('-') {
            continue;
        }
        if let Some((name, version)) = line.split_once("==") {
            let name = name.split('[').next().unwrap_or(name).trim();
            let version = version.split_whitespace().next().unwrap_or_default();
            if !name.is_empty() && !version.is_empty() && !version.contains('*') {
                locked.push((name.to_owned(), version.to_owned()));
            }
        }
    }
    locked
}

/// `Pipfile.lock`: `default` and `develop`, each `name: {version: "==x"}`.
fn pipfile(text: &str) -> Result<Locked, String> {
    let lock = json(text)?;
    let mut locked = Vec::new();
    for section in ["default", "develop"] {
        for (name, entry) in lock[section].as_object().into_iter().flatten() {
            if let Some(version) = entry["version"].as_str() {
                locked.push((name.clone(), version.trim_start_matches("==").to_owned()));
            }
        }
    }
    Ok(locked)
}

/// `go.mod`: `require` lines and blocks, with `replace` applied.
fn go_mod(text: &str) -> Result<Locked, String> {
    let mut required: Vec<(String, String)> = Vec::new();
    let mut replaced: Vec<(String, Option<String>, String, String)> = Vec::new();
    let mut block: Option<&str> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        if line == ")" {
            block = None;
            continue;
        }
        let (directive, rest) = match block {
            Some(d) => (d, line),
            None => match line.split_once(char::is_whitespace) {
                Some((d, rest)) => (d, rest.trim()),
                None => continue,
            },
        };
        if rest == "(" {
            block = Some(directive);
            continue;
        }
        let words: Vec<&str> = rest.split_whitespace().collect();
        match directive {
            "require" => match words.as_slice() {
                [path, version, ..] => required.push((path.to_string(), version.to_string())),
                _ => return Err(format!("line {}: a require without a version", i + 1)),
            },
            "replace" => {
                let Some(arrow) = words.iter().position(|w| *w == "=>") else {
                    return Err(format!("line {}: a replace without `=>`", i + 1));
                };
                let (old, new) = words.split_at(arrow);
                let new = &new[1..];
                let (Some(old_path), Some(new_path)) = (old.first(), new.first()) else {
                    return Err(format!("line {}: an incomplete replace", i + 1));
                };
                replaced.push((
                    old_path.to_string(),
                    old.get(1).map(|v| v.to_string()),
                    new_path.to_string(),
                    new.get(1).map(|v| v.to_string()).unwrap_or_default(),
                ));
            }
            _ => {}
        }
    }
    let mut locked = Vec::new();
    for (path, version) in required {
        let replacement = replaced
            .iter()
            .find(|(old, v, _, _)| *old == path && v.as_ref().is_none_or(|v| *v == version));
        match replacement {
            // Replaced by a local folder: not a module of the proxy.
            Some((_, _, _, new_version)) if new_version.is_empty() => {}
            Some((_, _, new_path, new_version)) => {
                locked.push((new_path.clone(), new_version.clone()))
            }
            None => locked.push((path, version)),
        }
    }
    Ok(locked)
}

/// `Gemfile.lock`: the `specs:` of each `GEM` section, `name (version)`
/// four spaces in (dependencies are six); a platform suffix is dropped.
fn gemfile(text: &str) -> Locked {
    let mut locked = Vec::new();
    let mut in_specs = false;
    for line in text.lines() {
        if !line.starts_with(' ') {
            in_specs = false;
            continue;
        }
        if line.trim() == "specs:" {
            in_specs = true;
            continue;
        }
        if !in_specs || !line.starts_with("    ") || line.starts_with("     ") {
            continue;
        }
        let Some((name, rest)) = line.trim().split_once(" (") else {
            continue;
        };
        let version = rest.trim_end_matches(')');
        let version = match version.split_once('-') {
            Some((v, platform)) if platform.starts_with(|c: char| c.is_ascii_alphabetic()) => v,
            _ => version,
        };
        locked.push((name.to_owned(), version.to_owned()));
    }
    locked
}

/// `composer.lock`: `packages` and `packages-dev`.
fn composer(text: &str) -> Result<Locked, String> {
    let lock = json(text)?;
    let mut locked = Vec::new();
    for section in ["packages", "packages-dev"] {
        for package in lock[section].as_array().into_iter().flatten() {
            if let (Some(n), Some(v)) = (package["name"].as_str(), package["version"].as_str()) {
                locked.push((n.to_owned(), v.to_owned()));
            }
        }
    }
    Ok(locked)
}
