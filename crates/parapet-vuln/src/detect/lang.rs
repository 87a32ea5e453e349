//! Language packages installed in a file tree: Python distributions
//! (`*.dist-info/METADATA`, `*.egg-info/PKG-INFO`), npm packages
//! (`node_modules/**/package.json`) and RubyGems specifications
//! (`specifications/*.gemspec`).

use crate::ecosystem::Ecosystem;
use crate::package::Package;

/// The files the language detectors read.
pub fn wanted(path: &str) -> bool {
    python_metadata(path) || node_manifest(path) || gemspec(path)
}

fn python_metadata(path: &str) -> bool {
    (path.ends_with(".dist-info/METADATA") || path.ends_with(".egg-info/PKG-INFO"))
        && (path.contains("/site-packages/") || path.contains("/dist-packages/"))
}

fn node_manifest(path: &str) -> bool {
    let Some((dir, "package.json")) = path.rsplit_once('/') else {
        return false;
    };
    // `.../node_modules/NAME/package.json` or `.../node_modules/@SCOPE/NAME/package.json`.
    match dir.rsplit_once("/node_modules/") {
        Some((_, rest)) => {
            let parts: Vec<&str> = rest.split('/').collect();
            matches!(parts.as_slice(), [name] if !name.starts_with('.'))
                || matches!(parts.as_slice(), [scope, _] if scope.starts_with('@'))
        }
        None => false,
    }
}

fn gemspec(path: &str) -> bool {
    path.ends_with(".gemspec") && path.contains("/specifications/")
}

/// The packages of one file the language detectors read.
pub fn detect(path: &str, content: &[u8], packages: &mut Vec<Package>, errors: &mut Vec<String>) {
    let result = if python_metadata(path) {
        python(content).map(|p| p.map(|(n, v)| (Ecosystem::PyPI, n, v)))
    } else if node_manifest(path) {
        node(content).map(|p| p.map(|(n, v)| (Ecosystem::Npm, n, v)))
    } else if gemspec(path) {
        gem(content).map(|p| p.map(|(n, v)| (Ecosystem::RubyGems, n, v)))
    } else {
        return;
    };
    match result {
        Ok(Some((ecosystem, name, version))) => packages.push(Package {
            ecosystem,
            name,
            version,
            source: None,
            arch: None,
            location: path.to_owned(),
        }),
        Ok(None) => {}
        Err(reason) => errors.push(format!("{path}: {reason}")),
    }
}

/// `Name:` and `Version:` from a Python distribution's metadata headers.
fn python(content: &[u8]) -> Result<Option<(String, String)>, String> {
    let text = String::from_utf8_lossy(content);
    let mut name = None;
    let mut version = None;
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Name:") {
            name = Some(v.trim().to_owned());
        } else if let Some(v) = line.strip_prefix("Version:") {
            version = Some(v.trim().to_owned());
        }
    }
    match (name, version) {
        (Some(n), Some(v)) if !n.is_empty() && !v.is_empty() => Ok(Some((n, v))),
        _ => Err("no `Name:` and `Version:` headers".to_owned()),
    }
}

/// `name` and `version` of an installed npm package; a manifest without
/// them (a folder's own) is not a package.
fn node(content: &[u8]) -> Result<Option<(String, String)>, String> {
    let manifest: serde_json::Value = serde_json::from_slice(content)
        .map_err(|e| format!("not JSON (line {}, column {}): {e}", e.line(), e.column()))?;
    match (manifest["name"].as_str(), manifest["version"].as_str()) {
        (Some(n), Some(v)) if !n.is_empty() && !v.is_empty() => {
            Ok(Some((n.to_owned(), v.to_owned())))
        }
        _ => Ok(None),
    }
}

/// `s.name` and `s.version` of a RubyGems specification, as `gem install`
/// writes it (`s.name = "rack".freeze`, `s.version = "3.0.8"`).
fn gem(content: &[u8]) -> Result<Option<(String, String)>, String> {
    let text = String::from_utf8_lossy(content);
    let value = |key: &str| {
        text.lines().find_map(|line| {
            let rest = line.trim().strip_prefix(key)?.trim_start();
            let rest = rest.strip_prefix('=')?.trim();
            let quoted = rest.strip_prefix(['"', '\''])?;
            let end = quoted.find(['"', '\''])?;
            Some(quoted[..end].to_owned())
        })
    };
    match (value("s.name"), value("s.version")) {
        (Some(n), Some(v)) => Ok(Some((n, v))),
        _ => Err("no `s.name` and `s.version`".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_right_files_are_read() {
        assert!(wanted(
            "/usr/lib/python3/dist-packages/requests-2.28.1.dist-info/METADATA"
        ));
        assert!(wanted("/app/node_modules/lodash/package.json"));
        assert!(wanted("/app/node_modules/@babel/core/package.json"));
        assert!(wanted("/app/node_modules/a/node_modules/b/package.json"));
        assert!(!wanted("/app/package.json"));
        assert!(!wanted("/app/node_modules/lodash/fp/package.json"));
        assert!(wanted(
            "/usr/local/bundle/specifications/rack-3.0.8.gemspec"
        ));
    }

    #[test]
    fn packages_are_read_and_bad_files_named() {
        let (mut packages, mut errors) = (Vec::new(), Vec::new());
        detect(
            "/x/site-packages/Jinja2-2.10.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: Jinja2\nVersion: 2.10\n\nbody",
            &mut packages,
            &mut errors,
        );
        detect(
            "/app/node_modules/lodash/package.json",
            br#"{"name": "lodash", "version": "4.17.20"}"#,
            &mut packages,
            &mut errors,
        );
        detect(
            "/g/specifications/rack-3.0.8.gemspec",
            b"Gem::Specification.new do |s|\n  s.name = \"rack\".freeze\n  s.version = \"3.0.8\"\nend\n",
            &mut packages,
            &mut errors,
        );
        detect(
            "/app/node_modules/bad/package.json",
            b"{\"name\": ",
            &mut packages,
            &mut errors,
        );
        let got: Vec<(Ecosystem, &str, &str)> = packages
            .iter()
            .map(|p| (p.ecosystem, p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (Ecosystem::PyPI, "Jinja2", "2.10"),
                (Ecosystem::Npm, "lodash", "4.17.20"),
                (Ecosystem::RubyGems, "rack", "3.0.8"),
            ]
        );
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("/app/node_modules/bad/package.json: not JSON (line 1"),
            "{errors:?}"
        );
    }
}
