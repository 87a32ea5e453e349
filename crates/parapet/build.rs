//! Names the commit the binary is built from, for `parapet --version`:
//! `PARAPET_COMMIT` when the build sets it (a container build has no `.git`),
//! else what git says of the checkout, else `unknown` (a source archive).

use std::path::Path;
use std::process::Command;

/// What `git` prints for `args`, run in the package's folder.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_owned())
}

/// Builds again when HEAD moves: a file that does not exist is left out,
/// since cargo would run the script on every build for it.
fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn main() {
    println!("cargo:rerun-if-env-changed=PARAPET_COMMIT");
    let given = std::env::var("PARAPET_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty());
    let commit = given.or_else(|| {
        let commit = git(&["rev-parse", "--short=12", "HEAD"])?;
        if let (Some(dir), Some(common)) = (
            git(&["rev-parse", "--git-dir"]),
            git(&["rev-parse", "--git-common-dir"]),
        ) {
            watch(&Path::new(&dir).join("HEAD"));
            if let Some(head) = git(&["symbolic-ref", "-q", "HEAD"]) {
                watch(&Path::new(&common).join(head));
            }
            watch(&Path::new(&common).join("packed-refs"));
        }
        Some(commit)
    });
    println!(
        "cargo:rustc-env=PARAPET_COMMIT={}",
        commit.as_deref().unwrap_or("unknown")
    );
}
