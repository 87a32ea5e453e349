//! Package detection in a file tree: the operating system and its package
//! database, language packages installed in it, Go binaries, and (for
//! folders rather than images, as Trivy does) lockfiles.

pub mod gobinary;
pub mod lang;
pub mod lockfile;
pub mod os;

use crate::package::Inventory;
use crate::tree::{Tree, Want};

/// What to look for besides the operating system and installed packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// Lockfiles and manifests (a source folder); images' are left out, as
    /// what they lock is not necessarily what is installed.
    pub lockfiles: bool,
}

/// Which files of a tree detection reads, for `scope`.
pub fn wanted(scope: Scope) -> impl Fn(&str, u32) -> Want {
    move |path, mode| {
        if os::wanted(path) {
            Want::Content
        } else if lang::wanted(path) || (scope.lockfiles && lockfile::wanted(path)) {
            Want::Manifest
        } else if mode & 0o111 != 0 {
            Want::IfGoBinary
        } else {
            Want::Nothing
        }
    }
}

/// Everything detection finds in `tree`, named `target`.
pub fn inventory(target: &str, tree: &Tree, scope: Scope) -> Inventory {
    let os = os::os_release(tree);
    let mut packages = Vec::new();
    let mut errors = Vec::new();
    os::dpkg(tree, os.as_ref(), &mut packages, &mut errors);
    os::apk(tree, os.as_ref(), &mut packages, &mut errors);
    os::rpm(tree, os.as_ref(), &mut packages, &mut errors);
    for (path, content) in tree.files() {
        if os::wanted(path) {
            continue;
        }
        if lang::wanted(path) {
            lang::detect(path, content, &mut packages, &mut errors);
        } else if scope.lockfiles && lockfile::wanted(path) {
            match lockfile::parse(path, content) {
                Ok(found) => packages.extend(found),
                Err(reason) => errors.push(format!("{path}: {reason}")),
            }
        } else {
            gobinary::detect(path, content, &mut packages, &mut errors);
        }
    }
    packages.sort();
    packages.dedup();
    Inventory {
        target: target.to_owned(),
        os,
        packages,
        errors: errors
            .into_iter()
            .map(|e| format!("{target}: {e}"))
            .collect(),
    }
}
