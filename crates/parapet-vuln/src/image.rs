//! Container images on disk: OCI image layout folders, OCI archives (a tar
//! of a layout) and `docker save` archives. The manifest is chosen (by tag,
//! or the platform's in an index), then its layers are read in order into
//! one file tree, each blob checked against its digest, gzip and zstd
//! layers decompressed as they stream.

use crate::error::VulnError;
use crate::tree::{Limits, Tree, Want};
use sha2::Digest;
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Where an image's files are: a folder, or entries of a tar archive.
enum Store {
    Folder(PathBuf),
    Archive {
        path: PathBuf,
        /// Entry path to (offset of its data, size).
        entries: HashMap<String, (u64, u64)>,
    },
}

/// An image read from disk, ready to be applied layer by layer.
pub struct Image {
    /// What the image is called in messages (`debian.tar`, `layout:tag`).
    pub name: String,
    store: Store,
    /// The manifest's layers: blob path, digest (when addressed by one),
    /// media type.
    layers: Vec<Layer>,
    /// The image's configuration (platform, history).
    pub config: serde_json::Value,
}

struct Layer {
    path: String,
    digest: Option<String>,
    media_type: String,
}

const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

impl Store {
    fn open(&self, entry: &str) -> std::io::Result<Box<dyn Read + Send + '_>> {
        match self {
            Store::Folder(root) => Ok(Box::new(std::io::BufReader::with_capacity(
                256 * 1024,
                open_inside(root, entry)?,
            ))),
            Store::Archive { path, entries } => {
                let key = crate::tree::normalise(entry).unwrap_or_default();
                let (offset, size) = *entries.get(&key).ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no such entry")
                })?;
                let mut file = std::fs::File::open(path)?;
                file.seek(SeekFrom::Start(offset))?;
                Ok(Box::new(std::io::BufReader::with_capacity(
                    256 * 1024,
                    file.take(size),
                )))
            }
        }
    }

    fn read_json(&self, input: &str, entry: &str) -> Result<serde_json::Value, VulnError> {
        let mut text = Vec::new();
        self.open(entry)
            .and_then(|r| r.take(64 * 1024 * 1024).read_to_end(&mut text))
            .map_err(|e| VulnError::malformed(input, entry, e))?;
        serde_json::from_slice(&text).map_err(|e| {
            VulnError::malformed(
                input,
                entry,
                format!("not JSON (line {}, column {}): {e}", e.line(), e.column()),
            )
        })
    }

    fn exists(&self, entry: &str) -> bool {
        match self {
            Store::Folder(root) => root.join(entry).is_file(),
            Store::Archive { entries, .. } => entries.contains_key(&format!("/{entry}")),
        }
    }
}

/// Opens the regular file `entry` of the folder `root` without following a
/// link anywhere on the way and without blocking on a FIFO: blob paths come
/// from the image's own JSON, and whoever made the folder chose its links.
fn open_inside(root: &Path, entry: &str) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let not_regular = || std::io::Error::other(format!("{entry} is not a regular file"));
    let relative = crate::tree::normalise(entry)
        .ok_or_else(|| std::io::Error::other("a path out of the image"))?;
    let mut path = root.to_owned();
    for part in relative.split('/').filter(|p| !p.is_empty()) {
        path.push(part);
        if std::fs::symlink_metadata(&path)?.file_type().is_symlink() {
            return Err(not_regular());
        }
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&path)?;
    if !file.metadata()?.is_file() {
        return Err(not_regular());
    }
    Ok(file)
}

/// The blob path of a digest (`sha256:abc` → `blobs/sha256/abc`).
fn blob_path(input: &str, digest: &str) -> Result<String, VulnError> {
    let (algorithm, hex) = digest.split_once(':').ok_or_else(|| {
        VulnError::malformed(input, "manifest", format!("`{digest}` is not a digest"))
    })?;
    if algorithm != "sha256" || hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(VulnError::malformed(
            input,
            "manifest",
            format!("`{digest}` is not a sha256 digest"),
        ));
    }
    Ok(format!("blobs/sha256/{hex}"))
}

impl Image {
    /// Opens an OCI layout folder, an OCI archive or a `docker save`
    /// archive at `path`; `tag` picks a manifest of a layout holding
    /// several.
    pub fn open(path: &Path, tag: Option<&str>) -> Result<Image, VulnError> {
        let name = match tag {
            Some(tag) => format!("{}:{tag}", path.display()),
            None => path.display().to_string(),
        };
        let store = if path.is_dir() {
            Store::Folder(path.to_owned())
        } else {
            Store::Archive {
                path: path.to_owned(),
                entries: index_archive(&name, path)?,
            }
        };
        if store.exists("index.json") {
            Image::from_layout(name, store, tag)
        } else if store.exists("manifest.json") {
            Image::from_docker_save(name, store, tag)
        } else {
            Err(VulnError::Unsupported(format!(
                "{name}: neither an OCI image layout (index.json) nor a `docker save` archive (manifest.json)"
            )))
        }
    }

    fn from_layout(name: String, store: Store, tag: Option<&str>) -> Result<Image, VulnError> {
        let index = store.read_json(&name, "index.json")?;
        let manifests = index["manifests"].as_array().cloned().unwrap_or_default();
        let chosen = match tag {
            Some(tag) => manifests.iter().find(|m| {
                m["annotations"]["org.opencontainers.image.ref.name"].as_str() == Some(tag)
            }),
            None if manifests.len() == 1 => manifests.first(),
            None => {
                return Err(VulnError::malformed(
                    &name,
                    "index.json",
                    format!(
                        "it holds {} manifests: name one with PATH:TAG",
                        manifests.len()
                    ),
                ));
            }
        }
        .ok_or_else(|| VulnError::malformed(&name, "index.json", "no manifest has that tag"))?;
        let mut descriptor = chosen.clone();
        // An index (several platforms): linux/amd64, else the first.
        for _ in 0..4 {
            let media = descriptor["mediaType"].as_str().unwrap_or_default();
            let digest = descriptor["digest"].as_str().unwrap_or_default().to_owned();
            let path = blob_path(&name, &digest)?;
            let document = store.read_json(&name, &path)?;
            let media = document["mediaType"].as_str().unwrap_or(media).to_owned();
            if INDEX_TYPES.contains(&media.as_str()) {
                descriptor = platform_manifest(&name, &document)?;
                continue;
            }
            return Image::from_manifest(name, store, &document);
        }
        Err(VulnError::malformed(
            &name,
            "index.json",
            "indexes nest too deep",
        ))
    }

    fn from_manifest(
        name: String,
        store: Store,
        manifest: &serde_json::Value,
    ) -> Result<Image, VulnError> {
        let config_digest = manifest["config"]["digest"].as_str().unwrap_or_default();
        let config = store.read_json(&name, &blob_path(&name, config_digest)?)?;
        let mut layers = Vec::new();
        for layer in manifest["layers"].as_array().into_iter().flatten() {
            let digest = layer["digest"].as_str().unwrap_or_default().to_owned();
            layers.push(Layer {
                path: blob_path(&name, &digest)?,
                digest: Some(digest),
                media_type: layer["mediaType"].as_str().unwrap_or_default().to_owned(),
            });
        }
        Ok(Image {
            name,
            store,
            layers,
            config,
        })
    }

    fn from_docker_save(name: String, store: Store, tag: Option<&str>) -> Result<Image, VulnError> {
        let manifest = store.read_json(&name, "manifest.json")?;
        let images = manifest.as_array().cloned().unwrap_or_default();
        let chosen = match tag {
            Some(tag) => images.iter().find(|i| {
                i["RepoTags"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|t| t.as_str() == Some(tag))
            }),
            None => images.first(),
        }
        .ok_or_else(|| VulnError::malformed(&name, "manifest.json", "no image with that tag"))?;
        let config_path = chosen["Config"].as_str().unwrap_or_default();
        let config = store.read_json(&name, config_path)?;
        let layers = chosen["Layers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l.as_str())
            .map(|path| Layer {
                path: path.to_owned(),
                // `blobs/sha256/HEX` (Docker 25 and later) names its digest.
                digest: path
                    .strip_prefix("blobs/sha256/")
                    .map(|hex| format!("sha256:{hex}")),
                media_type: String::new(),
            })
            .collect();
        Ok(Image {
            name,
            store,
            layers,
            config,
        })
    }

    /// How many layers it has.
    pub fn layer_count(&self) -> usize {
        self.layers.len()
    }

    /// Applies every layer, in order, to a new tree. Each layer streams
    /// through three threads: one reads the blob and hashes it, one
    /// decompresses it, and this one reads the tar.
    pub fn tree(
        &self,
        want: &(dyn Fn(&str, u32) -> Want + Sync),
        limits: &Limits,
    ) -> Result<Tree, VulnError> {
        let mut tree = Tree::new();
        for (i, layer) in self.layers.iter().enumerate() {
            let label = format!(
                "{} layer {} ({})",
                self.name,
                i + 1,
                layer.digest.as_deref().unwrap_or(&layer.path)
            );
            let raw = self
                .store
                .open(&layer.path)
                .map_err(|e| VulnError::malformed(&label, "blob", e))?;
            let digest = std::thread::scope(|scope| {
                let (raw_tx, raw_rx) = std::sync::mpsc::sync_channel(8);
                let (tar_tx, tar_rx) = std::sync::mpsc::sync_channel(8);
                let hashing = scope.spawn(move || {
                    let mut hasher = sha2::Sha256::new();
                    // The whole blob counts for the digest, also when the
                    // tar ends before it: what follows is hashed, never
                    // decompressed.
                    pump(raw, &raw_tx, Drained::HashTheRest, |chunk| {
                        hasher.update(chunk)
                    });
                    hasher.finalize()
                });
                let media_type = layer.media_type.as_str();
                let decompress_label = label.as_str();
                scope.spawn(move || {
                    match decompress(decompress_label, media_type, Pipe::new(raw_rx)) {
                        Ok(stream) => pump(stream, &tar_tx, Drained::Stop, |_| {}),
                        Err(e) => {
                            let _ = tar_tx.send(Err(std::io::Error::other(e.to_string())));
                        }
                    }
                });
                let tar = Pipe::new(tar_rx);
                let applied = tree.apply_layer(&label, tar, want, limits);
                let digest = hashing.join().map_err(|_| {
                    VulnError::malformed(&label, "blob", "the thread that read it failed")
                })?;
                applied.map(|()| digest)
            })?;
            if let Some(expected) = &layer.digest {
                let got = format!("sha256:{}", hex::encode(digest));
                if &got != expected {
                    return Err(VulnError::malformed(
                        &label,
                        "blob",
                        format!("its content does not match its digest (it is {got})"),
                    ));
                }
            }
        }
        Ok(tree)
    }
}

/// One piece of a stream passed between threads.
type Chunk = std::io::Result<Vec<u8>>;

/// What [`pump`] does once its receiver is gone.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Drained {
    /// Stops reading.
    Stop,
    /// Reads the rest of its source, calling `each` on it, sending nothing.
    HashTheRest,
}

/// Reads `source` into chunks sent to `to` (an error is sent too), calling
/// `each` on every chunk, until the source ends or, when the receiver is
/// gone, as `drained` says.
fn pump(
    mut source: impl Read,
    to: &std::sync::mpsc::SyncSender<Chunk>,
    drained: Drained,
    mut each: impl FnMut(&[u8]),
) {
    let mut receiving = true;
    loop {
        let mut chunk = vec![0u8; 256 * 1024];
        match source.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => {
                chunk.truncate(n);
                each(&chunk);
                if receiving && to.send(Ok(chunk)).is_err() {
                    if drained == Drained::Stop {
                        return;
                    }
                    receiving = false;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                let _ = to.send(Err(e));
                return;
            }
        }
    }
}

/// The receiving end of [`pump`], read as a stream.
struct Pipe {
    from: std::sync::mpsc::Receiver<Chunk>,
    current: Vec<u8>,
    at: usize,
}

impl Pipe {
    fn new(from: std::sync::mpsc::Receiver<Chunk>) -> Pipe {
        Pipe {
            from,
            current: Vec::new(),
            at: 0,
        }
    }
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.current.len() {
            match self.from.recv() {
                Ok(Ok(chunk)) => {
                    self.current = chunk;
                    self.at = 0;
                }
                Ok(Err(e)) => return Err(e),
                // The sender is done: the end of the stream.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The manifest of an index for linux/amd64, else the first.
fn platform_manifest(
    name: &str,
    index: &serde_json::Value,
) -> Result<serde_json::Value, VulnError> {
    let manifests = index["manifests"].as_array().cloned().unwrap_or_default();
    manifests
        .iter()
        .find(|m| {
            m["platform"]["os"].as_str() == Some("linux")
                && m["platform"]["architecture"].as_str() == Some("amd64")
        })
        .or_else(|| manifests.first())
        .cloned()
        .ok_or_else(|| VulnError::malformed(name, "index", "an index with no manifest"))
}

/// The layer's tar stream: gzip or zstd by media type or magic bytes,
/// plain otherwise.
fn decompress(
    label: &str,
    media_type: &str,
    reader: Pipe,
) -> Result<Box<dyn Read + Send>, VulnError> {
    let mut reader = std::io::BufReader::with_capacity(256 * 1024, reader);
    let magic = std::io::BufRead::fill_buf(&mut reader)
        .map_err(|e| VulnError::malformed(label, "blob", e))?
        .get(..4)
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    if media_type.ends_with("gzip") || magic.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::bufread::MultiGzDecoder::new(reader)))
    } else if media_type.ends_with("zstd") || magic == [0x28, 0xb5, 0x2f, 0xfd] {
        let decoder = ruzstd::decoding::StreamingDecoder::new(reader)
            .map_err(|e| VulnError::malformed(label, "zstd", e))?;
        Ok(Box::new(decoder))
    } else {
        Ok(Box::new(reader))
    }
}

/// Where each entry of a tar archive's data starts, and its size.
fn index_archive(name: &str, path: &Path) -> Result<HashMap<String, (u64, u64)>, VulnError> {
    let file = std::fs::File::open(path).map_err(|e| VulnError::io(path, e))?;
    let mut archive = tar::Archive::new(std::io::BufReader::new(file));
    let mut entries = HashMap::new();
    for entry in archive
        .entries()
        .map_err(|e| VulnError::malformed(name, "tar", e))?
    {
        let entry = entry.map_err(|e| VulnError::malformed(name, "tar", e))?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let entry_path = entry
            .path()
            .map_err(|e| VulnError::malformed(name, "tar", e))?
            .to_string_lossy()
            .into_owned();
        if let Some(normal) = crate::tree::normalise(&entry_path) {
            entries.insert(normal, (entry.raw_file_position(), entry.size()));
        }
    }
    Ok(entries)
}
