//! What `parapet vuln scan TARGET` names, told apart by an explicit prefix
//! (`oci:`, `oci-archive:`, `docker-archive:`, `docker://`, `dir:`,
//! `disk:`, `sbom:`, `lockfile:`, `binary:`) or by looking at it, and read
//! into an inventory.

use crate::detect::{self, Scope};
use crate::error::VulnError;
use crate::image::Image;
use crate::package::Inventory;
use crate::tree::{Limits, Tree};
use std::io::Read;
use std::path::{Path, PathBuf};

/// A scan target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An OCI layout folder, OCI archive or `docker save` archive, with the
    /// tag to pick.
    Image(PathBuf, Option<String>),
    /// An image in a registry (`host[:port]/repository[:tag|@digest]`).
    Registry(String),
    /// A root filesystem or source folder.
    Folder(PathBuf),
    /// A disk image with an ext4 filesystem (raw, or qcow2).
    Disk(PathBuf),
    /// A CycloneDX or SPDX JSON document.
    Sbom(PathBuf),
    /// One lockfile or manifest.
    Lockfile(PathBuf),
    /// One Go binary.
    Binary(PathBuf),
}

/// How to read targets.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Limits against bombs.
    pub limits: Limits,
    /// Registry access.
    pub registry: crate::registry::Access,
}

/// `path[:tag]`: the tag when `path` itself does not exist.
fn with_tag(spec: &str) -> (PathBuf, Option<String>) {
    if Path::new(spec).exists() {
        return (PathBuf::from(spec), None);
    }
    match spec.rsplit_once(':') {
        Some((path, tag)) if Path::new(path).exists() && !tag.contains('/') => {
            (PathBuf::from(path), Some(tag.to_owned()))
        }
        _ => (PathBuf::from(spec), None),
    }
}

impl Target {
    /// The target `spec` names.
    pub fn parse(spec: &str) -> Result<Target, VulnError> {
        let prefixed = [
            ("oci-archive:", 0),
            ("docker-archive:", 0),
            ("oci:", 0),
            ("dir:", 1),
            ("disk:", 2),
            ("sbom:", 3),
            ("lockfile:", 4),
            ("binary:", 5),
        ];
        if let Some(reference) = spec.strip_prefix("docker://") {
            return Ok(Target::Registry(reference.to_owned()));
        }
        for (prefix, kind) in prefixed {
            if let Some(rest) = spec.strip_prefix(prefix) {
                return Ok(match kind {
                    0 => {
                        let (path, tag) = with_tag(rest);
                        Target::Image(path, tag)
                    }
                    1 => Target::Folder(rest.into()),
                    2 => Target::Disk(rest.into()),
                    3 => Target::Sbom(rest.into()),
                    4 => Target::Lockfile(rest.into()),
                    _ => Target::Binary(rest.into()),
                });
            }
        }
        let (path, tag) = with_tag(spec);
        if path.is_dir() {
            return Ok(if path.join("oci-layout").is_file() {
                Target::Image(path, tag)
            } else {
                Target::Folder(path)
            });
        }
        if !path.is_file() {
            return Err(VulnError::Unsupported(format!(
                "{spec}: no such file or folder (a registry image is `docker://HOST/REPOSITORY:TAG`)"
            )));
        }
        if detect::lockfile::wanted(&path.to_string_lossy()) {
            return Ok(Target::Lockfile(path));
        }
        let mut head = vec![0u8; 4096];
        let read = std::fs::File::open(&path)
            .and_then(|mut f| f.read(&mut head))
            .map_err(|e| VulnError::io(&path, e))?;
        head.truncate(read);
        if head.get(257..262) == Some(b"ustar") {
            return Ok(Target::Image(path, tag));
        }
        if head.starts_with(b"QFI\xfb")
            || head.starts_with(b"KDMV")
            || head.starts_with(b"# Disk DescriptorFile")
            || head.get(1080..1082) == Some(&[0x53, 0xef])
            || head.get(510..512) == Some(&[0x55, 0xaa])
        {
            return Ok(Target::Disk(path));
        }
        let text = String::from_utf8_lossy(&head);
        if text.trim_start().starts_with('{')
            && (text.contains("\"bomFormat\"") || text.contains("\"spdxVersion\""))
        {
            return Ok(Target::Sbom(path));
        }
        if head.starts_with(b"\x7fELF")
            || head.starts_with(b"MZ")
            || head.starts_with(&[0xcf, 0xfa, 0xed, 0xfe])
        {
            return Ok(Target::Binary(path));
        }
        Err(VulnError::Unsupported(format!(
            "{spec}: not an image, a folder, a disk image, an SBOM, a lockfile or a binary Parapet reads"
        )))
    }

    /// Reads the target's packages.
    pub fn inventory(&self, options: &Options) -> Result<Inventory, VulnError> {
        let limits = &options.limits;
        match self {
            Target::Image(path, tag) => {
                let image = Image::open(path, tag.as_deref())?;
                let scope = Scope { lockfiles: false };
                let tree = image.tree(&detect::wanted(scope), limits)?;
                Ok(detect::inventory(&image.name, &tree, scope))
            }
            Target::Registry(reference) => {
                let scratch =
                    tempfile::tempdir().map_err(|e| VulnError::io(std::env::temp_dir(), e))?;
                let layout =
                    crate::registry::pull(reference, &options.registry, scratch.path(), limits)?;
                let image = Image::open(&layout, None)?;
                let scope = Scope { lockfiles: false };
                let tree = image.tree(&detect::wanted(scope), limits)?;
                Ok(detect::inventory(reference, &tree, scope))
            }
            Target::Folder(path) => {
                let scope = Scope { lockfiles: true };
                let tree = Tree::from_dir(path, &detect::wanted(scope), limits)?;
                Ok(detect::inventory(&path.display().to_string(), &tree, scope))
            }
            Target::Disk(path) => {
                let scope = Scope { lockfiles: false };
                let tree = crate::disk::tree(path, &detect::wanted(scope), limits)?;
                Ok(detect::inventory(&path.display().to_string(), &tree, scope))
            }
            Target::Sbom(path) => crate::sbom::read(path),
            Target::Lockfile(path) => {
                let name = path.display().to_string();
                let content = read_file(path, limits)?;
                let packages = detect::lockfile::parse(&name, &content)
                    .map_err(|reason| VulnError::malformed(&name, "lockfile", reason))?;
                Ok(Inventory {
                    target: name,
                    os: None,
                    packages,
                    errors: Vec::new(),
                })
            }
            Target::Binary(path) => {
                let name = path.display().to_string();
                let content = read_file(path, limits)?;
                let mut packages = Vec::new();
                let mut errors = Vec::new();
                detect::gobinary::detect(&name, &content, &mut packages, &mut errors);
                if packages.is_empty() && errors.is_empty() {
                    return Err(VulnError::Unsupported(format!(
                        "{name}: a binary without Go build information"
                    )));
                }
                Ok(Inventory {
                    target: name,
                    os: None,
                    packages,
                    errors,
                })
            }
        }
    }
}

/// A whole file, within the limit.
fn read_file(path: &Path, limits: &Limits) -> Result<Vec<u8>, VulnError> {
    let file = std::fs::File::open(path).map_err(|e| VulnError::io(path, e))?;
    let mut content = Vec::new();
    file.take(limits.max_file + 1)
        .read_to_end(&mut content)
        .map_err(|e| VulnError::io(path, e))?;
    if content.len() as u64 > limits.max_file {
        return Err(VulnError::Limit {
            input: path.display().to_string(),
            what: "the file".to_owned(),
            limit: format!("{} bytes", limits.max_file),
        });
    }
    Ok(content)
}
