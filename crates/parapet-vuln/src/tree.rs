//! A file tree read without extracting anything to disk: image layers
//! applied in order (whiteouts and opaque directories included), a root
//! filesystem directory walked without following links, or a disk's
//! filesystem. Every path is kept with its kind; only the files package
//! detection reads keep their content. Paths that climb out of the root,
//! entries written through a link that leads out of it, and inputs beyond
//! the limits are refused with an error naming the input and the entry.

use crate::error::VulnError;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::Arc;

/// Limits against decompression bombs and oversized inputs: what is read,
/// and what is held in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Uncompressed bytes read from one input (all its layers).
    pub max_bytes: u64,
    /// Entries read from one input.
    pub max_entries: u64,
    /// Bytes of one package database (dpkg, apk, rpm) or executable read
    /// whole.
    pub max_file: u64,
    /// Bytes of one package manifest or lockfile (`package.json`, a
    /// `METADATA`, `Cargo.lock`): they are small.
    pub max_manifest: u64,
    /// Bytes of file content held at once from one input, all files
    /// together.
    pub max_kept: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_bytes: 32 * 1024 * 1024 * 1024,
            max_entries: 5_000_000,
            max_file: 512 * 1024 * 1024,
            max_manifest: 16 * 1024 * 1024,
            max_kept: 2 * 1024 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// The most bytes of one file read for `wanted`.
    fn file_cap(&self, wanted: Want) -> u64 {
        match wanted {
            Want::Manifest => self.max_manifest,
            _ => self.max_file,
        }
    }
}

/// What package detection wants of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Nothing: only that it exists.
    Nothing,
    /// Its content: a package database.
    Content,
    /// Its content: a package manifest or a lockfile, small.
    Manifest,
    /// Its content if it is a Go binary (an executable with Go's build
    /// information).
    IfGoBinary,
}

/// One path of the tree.
#[derive(Debug, Clone)]
pub enum Node {
    /// A directory.
    Dir,
    /// A file, with its content when detection wanted it.
    File {
        /// Its size.
        size: u64,
        /// Its permission bits.
        mode: u32,
        /// Its content, if kept.
        content: Option<Arc<Vec<u8>>>,
    },
    /// A symbolic link and its target, as written.
    Symlink(String),
}

impl Node {
    /// A device, FIFO or socket: present, nothing to read.
    pub const SPECIAL: Node = Node::File {
        size: 0,
        mode: 0,
        content: None,
    };
}

/// The magic that starts a Go binary's build information.
pub const GO_BUILDINFO_MAGIC: &[u8] = b"\xff Go buildinf:";

/// What to keep of a file that can seek (a folder's, a disk's), given
/// what detection wants of it: all of it (within the limit for its kind),
/// or the Go build information section of an executable. `(input, path)`
/// name it in errors.
pub fn keep<R: Read + std::io::Seek>(
    (input, path): (&str, &str),
    size: u64,
    wanted: Want,
    limits: &Limits,
    open: impl FnOnce() -> std::io::Result<R>,
) -> Result<Option<Arc<Vec<u8>>>, VulnError> {
    match wanted {
        Want::Nothing => Ok(None),
        Want::IfGoBinary => Ok(open()
            .ok()
            .and_then(|f| go_section(f, limits))
            .map(Arc::new)),
        Want::Content | Want::Manifest => {
            let cap = file_within(input, path, size, wanted, limits)?;
            let mut bytes = Vec::new();
            open()
                .and_then(|f| f.take(cap + 1).read_to_end(&mut bytes))
                .map_err(|e| VulnError::malformed(input, path, e))?;
            Ok(Some(Arc::new(bytes)))
        }
    }
}

/// The cap on a file of `size` bytes wanted as `wanted`; an error when it
/// is larger.
fn file_within(
    input: &str,
    path: &str,
    size: u64,
    wanted: Want,
    limits: &Limits,
) -> Result<u64, VulnError> {
    let cap = limits.file_cap(wanted);
    if size > cap {
        return Err(VulnError::Limit {
            input: input.to_owned(),
            what: format!("the file {path}"),
            limit: format!("{cap} bytes"),
        });
    }
    Ok(cap)
}

/// How much of a Go binary is kept after each place its build information
/// may start: the header and two strings (the Go version and the module
/// list) fit well within it.
const GO_BUILDINFO_WINDOW: usize = 1024 * 1024;
/// How many such places are kept at most.
const GO_BUILDINFO_WINDOWS: usize = 8;

/// What a Go binary read whole (a layer's executable) keeps: a window
/// after each 16-byte aligned build information magic, each padded to 16
/// bytes so that the alignment holds; `None` when there is none (not a Go
/// binary). The binary itself is not held.
fn go_windows(binary: &[u8]) -> Option<Vec<u8>> {
    let mut kept = Vec::new();
    for at in memchr::memmem::find_iter(binary, GO_BUILDINFO_MAGIC)
        .filter(|at| at % 16 == 0)
        .take(GO_BUILDINFO_WINDOWS)
    {
        let window = &binary[at..binary.len().min(at + GO_BUILDINFO_WINDOW)];
        kept.extend_from_slice(window);
        kept.resize(kept.len().next_multiple_of(16), 0);
    }
    (!kept.is_empty()).then_some(kept)
}

/// The Go build information section (`.go.buildinfo`) of an ELF
/// executable read from a file that can seek: only its headers and that
/// section are read. `None` for anything else (a script, a binary that is
/// not Go's).
pub fn go_section(reader: impl Read + std::io::Seek, limits: &Limits) -> Option<Vec<u8>> {
    use object::{Object, ObjectSection};
    let cache = object::ReadCache::new(reader);
    let file = object::File::parse(&cache).ok()?;
    let section = file.section_by_name(".go.buildinfo")?;
    if section.size() > limits.max_file {
        return None;
    }
    let data = section.data().ok()?;
    memchr::memmem::find(data, GO_BUILDINFO_MAGIC).map(|_| data.to_vec())
}

/// A file tree.
#[derive(Debug, Default)]
pub struct Tree {
    nodes: BTreeMap<String, Node>,
    read: u64,
    entries: u64,
    /// Bytes of content kept so far (replaced files included).
    kept: u64,
}

/// Normalises an entry path to `/a/b`: `.` parts dropped, `..` resolved;
/// `None` when it climbs above the root.
pub fn normalise(path: &str) -> Option<String> {
    normalise_within(path, false)
}

/// Normalises a path; `..` above the root stays at the root when
/// `clamp`, as `chroot` resolves it, and is `None` otherwise.
fn normalise_within(path: &str, clamp: bool) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() && !clamp {
                    return None;
                }
            }
            other => parts.push(other),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// The parent of a normalised path.
fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(at) => &path[..at],
    }
}

/// The folders above a normalised path, nearest first (`/` excluded).
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(parent(path)), |p| Some(parent(p))).take_while(|p| *p != "/")
}

/// The longest entry path read from a layer, as Linux's `PATH_MAX`.
pub const MAX_PATH_BYTES: usize = 4096;
/// The most folders deep an entry path of a layer may be.
pub const MAX_PATH_DEPTH: usize = 128;
/// The largest extended header (PAX records, a GNU long name) read.
pub const MAX_EXTENDED_HEADER: u64 = 1024 * 1024;

/// `raw` normalised, if within bounds; `None` for the root itself.
fn bounded_path(input: &str, raw: &str) -> Result<Option<String>, VulnError> {
    let shown = || raw.chars().take(200).collect::<String>();
    if raw.len() > MAX_PATH_BYTES || raw.split('/').count() > MAX_PATH_DEPTH {
        return Err(VulnError::malformed(
            input,
            format!("entry {}…", shown()),
            format!(
                "its path is longer than {MAX_PATH_BYTES} bytes or deeper than {MAX_PATH_DEPTH} folders"
            ),
        ));
    }
    let Some(path) = normalise(raw) else {
        return Err(VulnError::malformed(
            input,
            format!("entry {raw}"),
            "its path climbs out of the root",
        ));
    };
    Ok((path != "/").then_some(path))
}

/// The long path and link target that PAX records or GNU long-name
/// entries give the entry after them.
#[derive(Default)]
struct Extended {
    path: Option<Vec<u8>>,
    link: Option<Vec<u8>>,
}

impl Extended {
    /// Reads `entry` if it is an extended header (true), within bounds.
    fn read(
        &mut self,
        input: &str,
        index: usize,
        entry: &mut tar::Entry<'_, impl Read>,
    ) -> Result<bool, VulnError> {
        let kind = entry.header().entry_type();
        let pax = kind.is_pax_local_extensions();
        if !(pax
            || kind.is_pax_global_extensions()
            || kind.is_gnu_longname()
            || kind.is_gnu_longlink())
        {
            return Ok(false);
        }
        if entry.size() > MAX_EXTENDED_HEADER {
            return Err(VulnError::Limit {
                input: input.to_owned(),
                what: format!("the extended header of entry {index}"),
                limit: format!("{MAX_EXTENDED_HEADER} bytes"),
            });
        }
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|e| VulnError::malformed(input, format!("entry {index}"), e))?;
        let trimmed = |data: &[u8]| {
            let end = data.iter().position(|b| *b == 0).unwrap_or(data.len());
            data[..end].to_vec()
        };
        if kind.is_gnu_longname() {
            self.path = Some(trimmed(&data));
        } else if kind.is_gnu_longlink() {
            self.link = Some(trimmed(&data));
        } else if pax {
            for record in tar::PaxExtensions::new(&data) {
                let record = record.map_err(|e| {
                    VulnError::malformed(input, format!("entry {index}"), format!("PAX: {e}"))
                })?;
                match record.key_bytes() {
                    b"path" => self.path = Some(record.value_bytes().to_vec()),
                    b"linkpath" => self.link = Some(record.value_bytes().to_vec()),
                    b"size" => {
                        return Err(VulnError::malformed(
                            input,
                            format!("entry {index}"),
                            "a PAX size record (a file over 8 GiB) is not read",
                        ));
                    }
                    _ => {}
                }
            }
        }
        Ok(true)
    }

    /// The path of `entry`: the extended one, else its header's.
    fn path(&mut self, entry: &tar::Entry<'_, impl Read>) -> String {
        let bytes = self
            .path
            .take()
            .unwrap_or_else(|| entry.path_bytes().into_owned());
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The link target of `entry`: the extended one, else its header's.
    fn link(&mut self, entry: &tar::Entry<'_, impl Read>) -> String {
        let bytes = self.link.take().unwrap_or_else(|| {
            entry
                .link_name_bytes()
                .map(|b| b.into_owned())
                .unwrap_or_default()
        });
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Tree {
        Tree::default()
    }

    /// Every path, sorted.
    pub fn paths(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.nodes.iter().map(|(p, n)| (p.as_str(), n))
    }

    /// The files whose content was kept, with it.
    pub fn files(&self) -> impl Iterator<Item = (&str, &Arc<Vec<u8>>)> {
        self.nodes.iter().filter_map(|(p, n)| match n {
            Node::File {
                content: Some(c), ..
            } => Some((p.as_str(), c)),
            _ => None,
        })
    }

    /// The content of the file at `path`, following links inside the tree
    /// (a link that climbs above the root stays at the root).
    pub fn read(&self, path: &str) -> Option<&Arc<Vec<u8>>> {
        let resolved = self.resolve(path, true, 0)?;
        match self.nodes.get(&resolved)? {
            Node::File {
                content: Some(c), ..
            } => Some(c),
            _ => None,
        }
    }

    /// Whether `path` exists (after links).
    pub fn exists(&self, path: &str) -> bool {
        self.resolve(path, true, 0)
            .is_some_and(|p| self.nodes.contains_key(&p))
    }

    /// `path` with every link in it followed, inside the tree; `None` when
    /// links loop. With `clamp`, `..` above the root stays at the root (as
    /// `chroot` resolves it, for reading); without, a link that climbs
    /// above the root is `None` too (for writing).
    fn resolve(&self, path: &str, clamp: bool, depth: usize) -> Option<String> {
        if depth > 40 {
            return None;
        }
        let path = normalise_within(path, clamp)?;
        // Grown one part at a time, so that a path costs its length.
        let mut done = String::with_capacity(path.len());
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        for (i, part) in parts.iter().enumerate() {
            let above = done.len();
            done.push('/');
            done.push_str(part);
            if let Some(Node::Symlink(target)) = self.nodes.get(done.as_str()) {
                let base = if target.starts_with('/') {
                    target.clone()
                } else {
                    format!("{}/{target}", &done[..above])
                };
                let joined = format!("{base}/{}", parts[i + 1..].join("/"));
                return self.resolve(&joined, clamp, depth + 1);
            }
        }
        Some(if done.is_empty() {
            "/".to_owned()
        } else {
            done
        })
    }

    /// Where an entry at `path` is written, with links in its parents
    /// followed as a container runtime would (inside the root): an error
    /// when one leads out of it.
    fn place(&self, input: &str, path: &str) -> Result<String, VulnError> {
        let dir = parent(path);
        let Some(resolved) = self.resolve(dir, false, 0) else {
            return Err(VulnError::malformed(
                input,
                format!("entry {path}"),
                "it is written through a symbolic link that leads out of the root",
            ));
        };
        let name = &path[dir.len()..];
        Ok(if resolved == "/" {
            format!("/{}", name.trim_start_matches('/'))
        } else {
            format!("{resolved}/{}", name.trim_start_matches('/'))
        })
    }

    fn count(&mut self, input: &str, bytes: u64, limits: &Limits) -> Result<(), VulnError> {
        self.entries += 1;
        self.read += bytes;
        if self.entries > limits.max_entries {
            return Err(VulnError::Limit {
                input: input.to_owned(),
                what: "the number of entries".to_owned(),
                limit: limits.max_entries.to_string(),
            });
        }
        if self.read > limits.max_bytes {
            return Err(VulnError::Limit {
                input: input.to_owned(),
                what: "the uncompressed size".to_owned(),
                limit: format!("{} bytes", limits.max_bytes),
            });
        }
        Ok(())
    }

    /// Counts the content `node` keeps against what may be held at once.
    fn hold(&mut self, input: &str, node: &Node, limits: &Limits) -> Result<(), VulnError> {
        if let Node::File {
            content: Some(content),
            ..
        } = node
        {
            self.kept += content.len() as u64;
            if self.kept > limits.max_kept {
                return Err(VulnError::Limit {
                    input: input.to_owned(),
                    what: "the content of package files held".to_owned(),
                    limit: format!("{} bytes", limits.max_kept),
                });
            }
        }
        Ok(())
    }

    /// Removes `path` and everything under it.
    fn remove_all(&mut self, path: &str) {
        let below = format!("{path}/");
        let doomed: Vec<String> = self
            .nodes
            .range(below.clone()..)
            .take_while(|(p, _)| p.starts_with(&below))
            .map(|(p, _)| p.clone())
            .collect();
        for p in doomed {
            self.nodes.remove(&p);
        }
        self.nodes.remove(path);
    }

    /// Applies one layer (an uncompressed tar stream): entries replace
    /// what lower layers had at their path, `.wh.NAME` removes `NAME`, and
    /// `.wh..wh..opq` hides everything lower layers put in its directory.
    /// `input` names the layer in errors; `want` says which files to keep.
    ///
    /// Long names (PAX records, GNU long-name entries) are read here, each
    /// within [`MAX_EXTENDED_HEADER`] bytes, and a path longer than
    /// [`MAX_PATH_BYTES`] or deeper than [`MAX_PATH_DEPTH`] is refused: a
    /// layer costs memory and time in proportion to its size.
    pub fn apply_layer(
        &mut self,
        input: &str,
        reader: impl Read,
        want: &dyn Fn(&str, u32) -> Want,
        limits: &Limits,
    ) -> Result<(), VulnError> {
        let mut archive = tar::Archive::new(reader);
        let entries = archive
            .entries()
            .map_err(|e| VulnError::malformed(input, "tar", e))?
            .raw(true);
        // Paths this layer wrote: an opaque marker hides only lower layers'.
        let mut written: BTreeSet<String> = BTreeSet::new();
        // Folders this layer made opaque, applied once at its end.
        let mut opaque: BTreeSet<String> = BTreeSet::new();
        let mut extended = Extended::default();
        let mut buffer = Vec::new();
        for (index, entry) in entries.enumerate() {
            let mut entry =
                entry.map_err(|e| VulnError::malformed(input, format!("entry {index}"), e))?;
            let size = entry.size();
            self.count(input, size, limits)?;
            if extended.read(input, index, &mut entry)? {
                continue;
            }
            let raw = extended.path(&entry);
            let link = extended.link(&entry);
            let Some(path) = bounded_path(input, &raw)? else {
                continue;
            };
            let name = &path[parent(&path).len()..].trim_start_matches('/');
            if *name == ".wh..wh..opq" {
                opaque.insert(parent(&path).to_owned());
                continue;
            }
            if let Some(hidden) = name.strip_prefix(".wh.") {
                let dir = parent(&path);
                let target = if dir == "/" {
                    format!("/{hidden}")
                } else {
                    format!("{dir}/{hidden}")
                };
                self.remove_all(&target);
                continue;
            }
            let path = self.place(input, &path)?;
            let kind = entry.header().entry_type();
            let node = match kind {
                tar::EntryType::Directory => Node::Dir,
                tar::EntryType::Symlink => Node::Symlink(link),
                tar::EntryType::Link => {
                    let Some(target) = normalise(&link) else {
                        return Err(VulnError::malformed(
                            input,
                            format!("entry {raw}"),
                            "its hard link climbs out of the root",
                        ));
                    };
                    match self.nodes.get(&target) {
                        Some(node) => node.clone(),
                        None => Node::File {
                            size: 0,
                            mode: 0o644,
                            content: None,
                        },
                    }
                }
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let mode = entry.header().mode().unwrap_or(0o644);
                    let content = match want(&path, mode) {
                        Want::Nothing => None,
                        wanted => {
                            let cap = file_within(input, &path, size, wanted, limits)?;
                            buffer.clear();
                            (&mut entry)
                                .take(cap + 1)
                                .read_to_end(&mut buffer)
                                .map_err(|e| {
                                    VulnError::malformed(input, format!("entry {raw}"), e)
                                })?;
                            if wanted == Want::IfGoBinary {
                                go_windows(&buffer).map(Arc::new)
                            } else {
                                Some(Arc::new(std::mem::take(&mut buffer)))
                            }
                        }
                    };
                    Node::File {
                        size,
                        mode,
                        content,
                    }
                }
                _ => Node::SPECIAL,
            };
            // Reading to the end of the entry proves the layer is whole.
            std::io::copy(&mut entry, &mut std::io::sink())
                .map_err(|e| VulnError::malformed(input, format!("entry {raw}"), e))?;
            if !matches!(node, Node::Dir) {
                self.remove_all(&path);
            }
            self.hold(input, &node, limits)?;
            written.insert(path.clone());
            self.nodes.insert(path, node);
        }
        if !opaque.is_empty() {
            self.nodes.retain(|path, _| {
                written.contains(path) || !ancestors(path).any(|a| opaque.contains(a))
            });
        }
        Ok(())
    }

    /// Reads a root filesystem directory, following no link (links are
    /// kept as links, resolved inside the tree).
    pub fn from_dir(
        root: &std::path::Path,
        want: &dyn Fn(&str, u32) -> Want,
        limits: &Limits,
    ) -> Result<Tree, VulnError> {
        use std::os::unix::fs::PermissionsExt;
        let input = root.display().to_string();
        let mut tree = Tree::new();
        for entry in walkdir::WalkDir::new(root).follow_links(false) {
            let entry = entry.map_err(|e| {
                let path = e.path().unwrap_or(root).to_owned();
                VulnError::io(
                    path,
                    e.into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("a loop of links")),
                )
            })?;
            let Ok(relative) = entry.path().strip_prefix(root) else {
                continue;
            };
            let Some(path) = normalise(&relative.to_string_lossy()) else {
                continue;
            };
            if path == "/" {
                continue;
            }
            let meta = entry
                .metadata()
                .map_err(|e| VulnError::io(entry.path(), e.into()))?;
            tree.count(&input, meta.len(), limits)?;
            let kind = entry.file_type();
            let node = if kind.is_dir() {
                Node::Dir
            } else if kind.is_symlink() {
                let target =
                    std::fs::read_link(entry.path()).map_err(|e| VulnError::io(entry.path(), e))?;
                Node::Symlink(target.to_string_lossy().into_owned())
            } else if kind.is_file() {
                let mode = meta.permissions().mode();
                let content = keep(
                    (&input, &path),
                    meta.len(),
                    want(&path, mode),
                    limits,
                    || std::fs::File::open(entry.path()).map(std::io::BufReader::new),
                )?;
                Node::File {
                    size: meta.len(),
                    mode,
                    content,
                }
            } else {
                Node::SPECIAL
            };
            tree.hold(&input, &node, limits)?;
            tree.nodes.insert(path, node);
        }
        Ok(tree)
    }

    /// Adds a file read from elsewhere (a disk's filesystem), its content
    /// counted against what may be held.
    pub fn insert(
        &mut self,
        input: &str,
        path: &str,
        node: Node,
        limits: &Limits,
    ) -> Result<(), VulnError> {
        self.hold(input, &node, limits)?;
        if let Some(path) = normalise(path) {
            self.nodes.insert(path, node);
        }
        Ok(())
    }

    /// Counts an entry read from elsewhere against the limits.
    pub fn account(&mut self, input: &str, bytes: u64, limits: &Limits) -> Result<(), VulnError> {
        self.count(input, bytes, limits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tar of `entries`: (path, content or link target, kind), names
    /// written as they are (`..` included).
    fn layer(entries: &[(&str, &str, tar::EntryType)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, data, kind) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_mode(0o644);
            header.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
            let body = if matches!(kind, tar::EntryType::Symlink | tar::EntryType::Link) {
                header.as_old_mut().linkname[..data.len()].copy_from_slice(data.as_bytes());
                ""
            } else {
                data
            };
            header.set_size(body.len() as u64);
            header.set_cksum();
            builder.append(&header, body.as_bytes()).expect("append");
        }
        builder.into_inner().expect("tar")
    }

    const FILE: tar::EntryType = tar::EntryType::Regular;
    const DIR: tar::EntryType = tar::EntryType::Directory;
    const LINK: tar::EntryType = tar::EntryType::Symlink;

    fn everything(_: &str, _: u32) -> Want {
        Want::Content
    }

    fn apply(tree: &mut Tree, entries: &[(&str, &str, tar::EntryType)]) -> Result<(), VulnError> {
        tree.apply_layer(
            "layer",
            &layer(entries)[..],
            &everything,
            &Limits::default(),
        )
    }

    #[test]
    fn whiteouts_and_opaque_directories_hide_lower_layers() {
        let mut tree = Tree::new();
        apply(
            &mut tree,
            &[
                ("etc/", "", DIR),
                ("etc/a", "a", FILE),
                ("etc/b", "b", FILE),
                ("opt/", "", DIR),
                ("opt/x/", "", DIR),
                ("opt/x/y", "y", FILE),
                ("opt/z", "z", FILE),
            ],
        )
        .expect("layer 1");
        apply(
            &mut tree,
            &[
                ("etc/.wh.a", "", FILE),
                ("opt/new", "n", FILE),
                ("opt/.wh..wh..opq", "", FILE),
            ],
        )
        .expect("layer 2");
        assert!(tree.read("/etc/a").is_none());
        assert_eq!(tree.read("/etc/b").map(|c| c.as_slice()), Some(&b"b"[..]));
        assert!(!tree.exists("/opt/x/y") && !tree.exists("/opt/x") && !tree.exists("/opt/z"));
        assert_eq!(
            tree.read("/opt/new").map(|c| c.as_slice()),
            Some(&b"n"[..]),
            "the opaque layer's own entries stay"
        );
    }

    /// A PAX record: its length (itself included), key, value.
    fn pax_record(key: &str, value: &str) -> String {
        let body = format!(" {key}={value}\n");
        let mut length = body.len() + 1;
        while format!("{length}{body}").len() != length {
            length += 1;
        }
        format!("{length}{body}")
    }

    /// A tar of files, each with a PAX header carrying `records` first.
    fn pax_layer(files: &[(&str, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (records, data) in files {
            let mut pax = tar::Header::new_ustar();
            pax.set_entry_type(tar::EntryType::XHeader);
            pax.set_path("PaxHeaders/x").expect("path");
            pax.set_size(records.len() as u64);
            pax.set_cksum();
            builder.append(&pax, records.as_bytes()).expect("append");
            let mut header = tar::Header::new_ustar();
            header.set_entry_type(FILE);
            header.set_path("short").expect("path");
            header.set_mode(0o644);
            header.set_size(data.len() as u64);
            header.set_cksum();
            builder.append(&header, data.as_bytes()).expect("append");
        }
        builder.into_inner().expect("tar")
    }

    #[test]
    fn long_names_are_read_from_pax_records_and_gnu_headers_within_bounds() {
        let deep = format!("usr/lib/python3/{}/METADATA", "pkg/".repeat(30));
        let mut tree = Tree::new();
        let pax = pax_layer(&[(&pax_record("path", &deep), "Name: x\n")]);
        tree.apply_layer("pax", &pax[..], &everything, &Limits::default())
            .expect("a PAX path");
        assert!(tree.read(&format!("/{deep}")).is_some());
        assert!(!tree.exists("/short"), "the PAX path replaces the header's");
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(2);
        header.set_mode(0o644);
        builder
            .append_data(&mut header, format!("opt/{}", "n".repeat(300)), &b"hi"[..])
            .expect("a GNU long name");
        let gnu = builder.into_inner().expect("tar");
        let mut tree = Tree::new();
        tree.apply_layer("gnu", &gnu[..], &everything, &Limits::default())
            .expect("a GNU long name");
        assert!(tree.exists(&format!("/opt/{}", "n".repeat(300))));
        for (records, says) in [
            (
                pax_record("path", &"a/".repeat(3000)),
                "longer than 4096 bytes or deeper than 128",
            ),
            (
                pax_record("path", &"a/".repeat(200)),
                "longer than 4096 bytes or deeper than 128",
            ),
            (
                pax_record("comment", &"x".repeat(2 * 1024 * 1024)),
                "the extended header of entry 0 goes beyond",
            ),
            (pax_record("size", "99999999999"), "PAX size record"),
        ] {
            let mut tree = Tree::new();
            let error = tree
                .apply_layer(
                    "hostile",
                    &pax_layer(&[(&records, "")])[..],
                    &everything,
                    &Limits::default(),
                )
                .expect_err("refused")
                .to_string();
            assert!(error.contains(says), "{error}");
        }
    }

    #[test]
    fn opaque_markers_repeated_and_nested_hide_each_lower_entry_once() {
        let mut tree = Tree::new();
        let mut lower: Vec<(String, &str, tar::EntryType)> = Vec::new();
        for i in 0..50 {
            lower.push((format!("a/b/c/{i}"), "x", FILE));
        }
        let lower: Vec<(&str, &str, tar::EntryType)> =
            lower.iter().map(|(p, d, k)| (p.as_str(), *d, *k)).collect();
        apply(&mut tree, &lower).expect("layer 1");
        let mut upper: Vec<(&str, &str, tar::EntryType)> = Vec::new();
        for _ in 0..100 {
            upper.push(("a/b/c/.wh..wh..opq", "", FILE));
            upper.push(("a/.wh..wh..opq", "", FILE));
        }
        upper.push(("a/b/c/kept", "k", FILE));
        apply(&mut tree, &upper).expect("layer 2");
        let left: Vec<&str> = tree
            .paths()
            .map(|(p, _)| p)
            .filter(|p| p.starts_with("/a/"))
            .collect();
        assert_eq!(
            left,
            ["/a/b/c/kept"],
            "the lower files are hidden, the upper one kept"
        );
    }

    #[test]
    fn memory_held_is_bounded_by_kind_and_in_all() {
        let manifest = "x".repeat(2048);
        let wanted = |path: &str, _: u32| {
            if path.ends_with("package.json") {
                Want::Manifest
            } else {
                Want::Content
            }
        };
        let small = Limits {
            max_manifest: 1024,
            ..Limits::default()
        };
        let entries = [("node_modules/a/package.json", manifest.as_str(), FILE)];
        let error = Tree::new()
            .apply_layer("m", &layer(&entries)[..], &wanted, &small)
            .expect_err("a manifest over its cap")
            .to_string();
        assert!(
            error.contains(
                "the file /node_modules/a/package.json goes beyond the limit of 1024 bytes"
            ),
            "{error}"
        );
        let held = Limits {
            max_kept: 5000,
            ..Limits::default()
        };
        let entries = [
            ("var/lib/dpkg/status", manifest.as_str(), FILE),
            ("var/lib/dpkg/status.d/a", manifest.as_str(), FILE),
            ("var/lib/dpkg/status.d/b", manifest.as_str(), FILE),
        ];
        let error = Tree::new()
            .apply_layer("k", &layer(&entries)[..], &wanted, &held)
            .expect_err("more held than allowed")
            .to_string();
        assert!(
            error.contains("the content of package files held goes beyond"),
            "{error}"
        );
    }

    #[test]
    fn a_go_binary_read_whole_keeps_only_its_build_information() {
        let mut binary = vec![0u8; 3 * 1024 * 1024];
        let at = 2 * 1024 * 1024 + 64;
        binary[at..at + GO_BUILDINFO_MAGIC.len()].copy_from_slice(GO_BUILDINFO_MAGIC);
        binary[at + 1000] = 0xab;
        let kept = go_windows(&binary).expect("a Go binary");
        assert!(kept.starts_with(GO_BUILDINFO_MAGIC));
        assert_eq!(kept[1000], 0xab, "what follows the magic is kept");
        assert!(kept.len() <= GO_BUILDINFO_WINDOW + 16, "{}", kept.len());
        binary[at + 1] = 0;
        assert!(go_windows(&binary).is_none(), "no magic, nothing kept");
    }

    #[test]
    fn links_resolve_inside_the_root() {
        let mut tree = Tree::new();
        apply(
            &mut tree,
            &[
                ("usr/lib/os-release", "ID=debian\n", FILE),
                ("etc/os-release", "../usr/lib/os-release", LINK),
                ("bin", "usr/bin", LINK),
                ("usr/bin/tool", "t", FILE),
                ("escape", "../../../../usr/lib", LINK),
            ],
        )
        .expect("layer");
        assert_eq!(
            tree.read("/etc/os-release").map(|c| c.as_slice()),
            Some(&b"ID=debian\n"[..])
        );
        assert!(tree.exists("/bin/tool"));
        // Read through, a link out of the root is clamped to it, as
        // `chroot` does.
        assert!(tree.exists("/escape/os-release"));
    }

    #[test]
    fn paths_and_links_out_of_the_root_are_refused() {
        let mut tree = Tree::new();
        let error = apply(&mut tree, &[("../../etc/passwd", "x", FILE)])
            .expect_err("refused")
            .to_string();
        assert!(error.contains("climbs out of the root"), "{error}");
        let mut tree = Tree::new();
        let error = apply(
            &mut tree,
            &[("up", "../../../../tmp", LINK), ("up/evil", "x", FILE)],
        )
        .expect_err("refused")
        .to_string();
        assert!(
            error.contains("entry /up/evil") && error.contains("leads out of the root"),
            "{error}"
        );
        // A link inside the root is written through, as a runtime would.
        let mut tree = Tree::new();
        apply(
            &mut tree,
            &[
                ("usr/lib/", "", DIR),
                ("lib", "usr/lib", LINK),
                ("lib/x", "x", FILE),
            ],
        )
        .expect("layer");
        assert!(tree.read("/usr/lib/x").is_some());
    }

    #[test]
    fn limits_stop_bombs_and_truncated_layers_are_errors() {
        let big = "x".repeat(4096);
        let entries: Vec<(&str, &str, tar::EntryType)> =
            vec![("a", big.as_str(), FILE), ("b", big.as_str(), FILE)];
        let limits = Limits {
            max_bytes: 6000,
            ..Limits::default()
        };
        let mut tree = Tree::new();
        let error = tree
            .apply_layer("bomb", &layer(&entries)[..], &everything, &limits)
            .expect_err("refused")
            .to_string();
        assert!(error.contains("bomb: the uncompressed size"), "{error}");
        let limits = Limits {
            max_file: 100,
            ..Limits::default()
        };
        let error = Tree::new()
            .apply_layer("big", &layer(&entries)[..], &everything, &limits)
            .expect_err("refused")
            .to_string();
        assert!(error.contains("the file /a"), "{error}");
        let whole = layer(&entries);
        let error = Tree::new()
            .apply_layer("cut", &whole[..3000], &everything, &Limits::default())
            .expect_err("truncated")
            .to_string();
        assert!(error.starts_with("cut: entry"), "{error}");
    }
}
