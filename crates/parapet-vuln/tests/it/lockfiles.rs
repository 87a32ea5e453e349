use super::fixtures;
use parapet_vuln::detect::lockfile;

/// `name version` of each package a fixture lockfile locks.
fn locked(folder: &str, file: &str) -> Vec<String> {
    let path = fixtures().join("lockfiles").join(folder).join(file);
    let content = std::fs::read(&path).expect("a fixture");
    lockfile::parse(&format!("/{folder}/{file}"), &content)
        .unwrap_or_else(|e| panic!("{folder}/{file}: {e}"))
        .into_iter()
        .map(|p| format!("{} {}", p.name, p.version))
        .collect()
}

#[test]
fn every_lockfile_format_gives_its_exact_packages() {
    assert_eq!(
        locked("cargo", "Cargo.lock"),
        ["app 0.1.0", "smallvec 1.6.0", "time 0.1.45"]
    );
    assert_eq!(
        locked("npm-v3", "package-lock.json"),
        ["@babel/core 7.24.0", "lodash 4.17.20", "semver 6.3.0"]
    );
    assert_eq!(
        locked("npm-v1", "package-lock.json"),
        ["minimist 0.0.8", "mkdirp 0.5.1"]
    );
    assert_eq!(
        locked("yarn-v1", "yarn.lock"),
        ["@babel/code-frame 7.22.13", "chalk 2.4.2"]
    );
    assert_eq!(locked("yarn-berry", "yarn.lock"), ["lodash 4.17.21"]);
    assert_eq!(
        locked("pnpm-v6", "pnpm-lock.yaml"),
        ["@types/node 20.11.5", "express 4.18.2", "qs 6.11.0"]
    );
    assert_eq!(
        locked("pnpm-v9", "pnpm-lock.yaml"),
        ["@types/node 20.11.5", "axios 1.6.0"]
    );
    assert_eq!(
        locked("pip", "requirements.txt"),
        ["Django 3.2.0", "numpy 1.21.0", "requests 2.25.1"]
    );
    assert_eq!(
        locked("poetry", "poetry.lock"),
        ["pyyaml 5.3.1", "urllib3 1.26.4"]
    );
    assert_eq!(
        locked("pipenv", "Pipfile.lock"),
        ["jinja2 2.10", "markupsafe 1.1.1", "pytest 6.2.2"]
    );
    assert_eq!(locked("uv", "uv.lock"), ["cryptography 41.0.0"]);
    assert_eq!(
        locked("gomod", "go.mod"),
        [
            "github.com/new/lib v1.2.0",
            "golang.org/x/net v0.0.0-20210510120150-4163338589ed",
            "golang.org/x/text v0.3.5"
        ]
    );
    assert_eq!(
        locked("bundler", "Gemfile.lock"),
        ["nokogiri 1.16.0", "racc 1.7.3", "rack 2.2.3"]
    );
    assert_eq!(
        locked("composer", "composer.lock"),
        [
            "guzzlehttp/guzzle 7.4.0",
            "phpunit/phpunit 9.5.0",
            "symfony/http-kernel v5.4.10"
        ]
    );
}

#[test]
fn a_broken_lockfile_names_its_line() {
    let error = lockfile::parse("/x/poetry.lock", b"[[package]]\nname = \"a\"\nversion = \n")
        .expect_err("broken");
    assert!(error.starts_with("not TOML (line 3)"), "{error}");
    let error = lockfile::parse("/x/composer.lock", b"{\n \"packages\": [\n").expect_err("broken");
    assert!(error.starts_with("not JSON (line 3"), "{error}");
    let error =
        lockfile::parse("/x/yarn.lock", b"lodash@^4:\n  resolved \"x\"\n").expect_err("broken");
    assert_eq!(error, "line 1: the entry for lodash has no version");
}
