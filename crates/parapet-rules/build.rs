//! Embeds the built-in rule files (`rules/` at the workspace root) and
//! framework files (`frameworks/`) in the crate, so that the `parapet` binary
//! carries them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

/// Writes a constant listing every YAML file under `dir` (relative path,
/// then the text, embedded).
fn embed(code: &mut String, name: &str, what: &str, dir: &Path) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files = Vec::new();
    collect(dir, &mut files);
    files.sort();
    writeln!(
        code,
        "/// Built-in {what} files: path under the folder, then the text.\npub const {name}: &[(&str, &str)] = &["
    )
    .expect("write to String");
    for file in &files {
        let relative = file
            .strip_prefix(dir)
            .expect("under the folder")
            .to_string_lossy()
            .replace('\\', "/");
        let absolute = file.canonicalize().expect("the file exists");
        writeln!(
            code,
            "    ({relative:?}, include_str!({:?})),",
            absolute.display().to_string()
        )
        .expect("write to String");
    }
    code.push_str("];\n");
}

fn main() {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let mut code = String::new();
    embed(
        &mut code,
        "BUILTIN_RULES",
        "rule",
        &manifest.join("../../rules"),
    );
    embed(
        &mut code,
        "BUILTIN_FRAMEWORKS",
        "framework",
        &manifest.join("../../frameworks"),
    );
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("builtin_rules.rs");
    std::fs::write(out, code).expect("write builtin_rules.rs");
}
