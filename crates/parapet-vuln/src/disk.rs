//! Disk images read without mounting: raw, qcow2 or VMDK with flat
//! extents (through imago,
//! which is never let open a file the image itself names, such as a
//! backing file), holding an ext2/3/4 filesystem either whole or in an MBR
//! or GPT partition; the filesystem is read with ext4-view. This is how a
//! virtual machine is scanned from a copy of its volume, agentless.

use crate::error::VulnError;
use crate::tree::{Limits, Node, Tree, Want};
use ext4_view::{Ext4, Ext4Read};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// A disk's bytes, whatever its image format.
trait Disk {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<()>;
}

struct RawDisk(std::fs::File);

impl Disk for RawDisk {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        self.0.seek(SeekFrom::Start(offset))?;
        self.0.read_exact(buf)
    }
}

struct ImagoDisk(imago::FormatAccess<imago::file::File>);

impl Disk for ImagoDisk {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        if offset.saturating_add(buf.len() as u64) > self.0.size() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "past the end of the disk",
            ));
        }
        self.0.read(buf, offset)
    }
}

/// One partition (or the whole disk) as ext4-view reads it.
struct Partition {
    disk: Box<dyn Disk>,
    start: u64,
}

impl Ext4Read for Partition {
    fn read(
        &mut self,
        start_byte: u64,
        dst: &mut [u8],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync + 'static>> {
        let offset = self
            .start
            .checked_add(start_byte)
            .ok_or("an offset past the end of the disk")?;
        self.disk.read_at(offset, dst).map_err(Box::new)?;
        Ok(())
    }
}

fn open_disk(path: &Path) -> Result<Box<dyn Disk>, VulnError> {
    let name = path.display().to_string();
    let mut file = std::fs::File::open(path).map_err(|e| VulnError::io(path, e))?;
    let mut magic = [0u8; 4];
    let read = Read::read(&mut file, &mut magic).map_err(|e| VulnError::io(path, e))?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| VulnError::io(path, e))?;
    use imago::{FormatDriverBuilder, Storage};
    // The image's own file is opened here; the gate refuses any other.
    let storage = || {
        imago::file::File::open(imago::StorageOpenOptions::new().filename(path))
            .map_err(|e| VulnError::io(path, e))
    };
    let gate = imago::DenyImplicitOpenGate::default();
    if read == 4 && magic == *b"QFI\xfb" {
        let qcow2 = imago::qcow2::Qcow2::<imago::file::File>::builder(storage()?)
            .open(gate)
            .map_err(|e| VulnError::malformed(&name, "qcow2", e))?;
        return Ok(Box::new(ImagoDisk(imago::FormatAccess::new(qcow2))));
    }
    if read == 4 && magic == *b"# Di" {
        let folder = std::fs::canonicalize(path)
            .map_err(|e| VulnError::io(path, e))?
            .parent()
            .map(Path::to_owned)
            .unwrap_or_default();
        let vmdk = imago::vmdk::Vmdk::<imago::file::File>::builder(storage()?)
            .open(ExtentsBeside { folder })
            .map_err(|e| VulnError::malformed(&name, "VMDK", e))?;
        return Ok(Box::new(ImagoDisk(imago::FormatAccess::new(vmdk))));
    }
    if read == 4 && magic == *b"KDMV" {
        return Err(VulnError::Unsupported(format!(
            "{name}: a sparse VMDK (monolithicSparse or streamOptimized) is not read; \
             convert it to raw or qcow2 (`qemu-img convert -O qcow2`)"
        )));
    }
    Ok(Box::new(RawDisk(file)))
}

/// What a VMDK descriptor may open: its extents, read-only, if they are
/// files in the descriptor's own folder (links resolved first); never
/// another image.
struct ExtentsBeside {
    folder: std::path::PathBuf,
}

impl imago::format::gate::ImplicitOpenGate<imago::file::File> for ExtentsBeside {
    fn open_format<F: imago::FormatDriverBuilder<imago::file::File>>(
        &mut self,
        _builder: F,
    ) -> std::io::Result<imago::FormatAccess<imago::file::File>> {
        Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "the image names another image, which is not opened",
        ))
    }

    fn open_storage(
        &mut self,
        options: imago::StorageOpenOptions,
    ) -> std::io::Result<imago::file::File> {
        use imago::Storage;
        let denied =
            |why: &str| std::io::Error::new(std::io::ErrorKind::PermissionDenied, why.to_owned());
        let name = options
            .get_filename()
            .ok_or_else(|| denied("an extent without a file name"))?;
        let real = std::fs::canonicalize(name)?;
        if real.parent() != Some(self.folder.as_path()) {
            return Err(denied(
                "an extent outside the descriptor's folder is not opened",
            ));
        }
        imago::file::File::open(imago::StorageOpenOptions::new().filename(real))
    }
}

/// Whether an ext2/3/4 superblock starts 1024 bytes after `start`.
fn has_ext4(disk: &mut dyn Disk, start: u64) -> bool {
    let mut magic = [0u8; 2];
    disk.read_at(start + 1080, &mut magic).is_ok() && magic == [0x53, 0xef]
}

/// Refuses a superblock whose sizes cannot be its disk's, before ext4-view
/// sizes its tables by them: a block size over 64 KiB, groups of fewer
/// than 256 blocks, or more blocks than the disk holds (ext4-view would
/// reserve memory for every group the superblock claims).
fn check_superblock(disk: &mut dyn Disk, start: u64) -> Result<(), String> {
    let mut sb = [0u8; 1024];
    disk.read_at(start + 1024, &mut sb)
        .map_err(|e| format!("its superblock: {e}"))?;
    let le32 = |at: usize| u32::from_le_bytes([sb[at], sb[at + 1], sb[at + 2], sb[at + 3]]);
    let log = le32(24);
    if log > 6 {
        return Err(format!("a block size of 2^{} bytes", u64::from(log) + 10));
    }
    let block = 1024u64 << log;
    let per_group = le32(32);
    if per_group < 256 {
        return Err(format!("groups of {per_group} blocks"));
    }
    let mut blocks = u64::from(le32(4));
    if le32(0x60) & 0x80 != 0 {
        blocks |= u64::from(le32(0x150)) << 32;
    }
    let last = blocks
        .checked_mul(block)
        .and_then(|size| start.checked_add(size))
        .and_then(|end| end.checked_sub(1));
    let mut byte = [0u8; 1];
    match last {
        Some(last) if disk.read_at(last, &mut byte).is_ok() => Ok(()),
        _ => Err(format!(
            "it says it holds {blocks} blocks of {block} bytes, more than its disk"
        )),
    }
}

/// Where each partition starts, from the MBR or, when it says so, the GPT.
fn partitions(disk: &mut dyn Disk) -> Vec<u64> {
    let mut mbr = [0u8; 512];
    if disk.read_at(0, &mut mbr).is_err() || mbr[510..512] != [0x55, 0xaa] {
        return Vec::new();
    }
    let le32 = |b: &[u8], at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let le64 = |b: &[u8], at: usize| {
        u64::from_le_bytes([
            b[at],
            b[at + 1],
            b[at + 2],
            b[at + 3],
            b[at + 4],
            b[at + 5],
            b[at + 6],
            b[at + 7],
        ])
    };
    let mut starts = Vec::new();
    for i in 0..4 {
        let entry = &mbr[446 + i * 16..446 + (i + 1) * 16];
        let kind = entry[4];
        if kind == 0xee {
            // A protective MBR: the GPT header is in sector 1.
            let mut header = [0u8; 512];
            if disk.read_at(512, &mut header).is_err() || &header[..8] != b"EFI PART" {
                return starts;
            }
            let table = le64(&header, 72).saturating_mul(512);
            let count = le32(&header, 80).min(256);
            let size = u64::from(le32(&header, 84)).clamp(128, 4096);
            for n in 0..u64::from(count) {
                let mut gpt_entry = vec![0u8; size as usize];
                if disk
                    .read_at(table.saturating_add(n * size), &mut gpt_entry)
                    .is_err()
                {
                    break;
                }
                if gpt_entry[..16].iter().any(|b| *b != 0) {
                    starts.push(le64(&gpt_entry, 32).saturating_mul(512));
                }
            }
            return starts;
        }
        if kind != 0 {
            starts.push(u64::from(le32(entry, 8)) * 512);
        }
    }
    starts
}

/// The file tree of the disk's ext4 filesystem.
pub fn tree(
    path: &Path,
    want: &dyn Fn(&str, u32) -> Want,
    limits: &Limits,
) -> Result<Tree, VulnError> {
    let name = path.display().to_string();
    let mut disk = open_disk(path)?;
    let start = if has_ext4(disk.as_mut(), 0) {
        0
    } else {
        partitions(disk.as_mut())
            .into_iter()
            .find(|start| has_ext4(disk.as_mut(), *start))
            .ok_or_else(|| {
                VulnError::Unsupported(format!(
                    "{name}: no ext2/3/4 filesystem on the disk or in its partitions"
                ))
            })?
    };
    check_superblock(disk.as_mut(), start).map_err(|e| VulnError::malformed(&name, "ext4", e))?;
    let fs = Ext4::load(Box::new(Partition { disk, start }))
        .map_err(|e| VulnError::malformed(&name, "ext4", e))?;
    let mut tree = Tree::new();
    // A directory hard-linked into one of its own folders (which a corrupt
    // or hostile filesystem can hold) would be walked for ever: each folder
    // is known by its metadata and listing, and one that is one of its
    // ancestors again is not entered. ext4-view does not say inode numbers.
    let mut seen: Vec<(u64, Option<usize>)> = Vec::new();
    let mut folders: Vec<(String, Option<usize>)> = vec![("/".to_owned(), None)];
    while let Some((folder, parent)) = folders.pop() {
        let entries = fs
            .read_dir(folder.as_str())
            .and_then(|listing| listing.collect::<Result<Vec<_>, _>>())
            .map_err(|e| VulnError::malformed(&name, &folder, e))?;
        let metadata = fs
            .metadata(folder.as_str())
            .map_err(|e| VulnError::malformed(&name, &folder, e))?;
        let identity = folder_identity(&metadata, &entries);
        let mut ancestor = parent;
        let mut looped = false;
        while let Some(at) = ancestor {
            looped |= seen[at].0 == identity;
            ancestor = seen[at].1;
        }
        if looped {
            continue;
        }
        seen.push((identity, parent));
        let here = Some(seen.len() - 1);
        for entry in entries {
            let file_name = entry.file_name();
            let Ok(file_name) = file_name.as_str() else {
                continue;
            };
            if file_name == "." || file_name == ".." {
                continue;
            }
            let full = if folder == "/" {
                format!("/{file_name}")
            } else {
                format!("{folder}/{file_name}")
            };
            let kind = entry
                .file_type()
                .map_err(|e| VulnError::malformed(&name, &full, e))?;
            let node = if kind.is_dir() {
                tree.account(&name, 0, limits)?;
                folders.push((full.clone(), here));
                Node::Dir
            } else if kind.is_symlink() {
                tree.account(&name, 0, limits)?;
                let target = fs
                    .read_link(full.as_str())
                    .map_err(|e| VulnError::malformed(&name, &full, e))?;
                Node::Symlink(target.display().to_string())
            } else if kind.is_regular_file() {
                let meta = entry
                    .metadata()
                    .map_err(|e| VulnError::malformed(&name, &full, e))?;
                tree.account(&name, meta.len(), limits)?;
                let mode = u32::from(meta.mode());
                let content = crate::tree::keep(
                    (&name, &full),
                    meta.len(),
                    want(&full, mode),
                    limits,
                    || {
                        fs.open(full.as_str())
                            .map_err(|e| std::io::Error::other(e.to_string()))
                    },
                )?;
                Node::File {
                    size: meta.len(),
                    mode,
                    content,
                }
            } else {
                Node::SPECIAL
            };
            tree.insert(&name, &full, node, limits)?;
        }
    }
    Ok(tree)
}

/// What tells two folders apart without their inode numbers: their
/// metadata (times to the nanosecond among it) and their entries.
fn folder_identity(metadata: &ext4_view::Metadata, entries: &[ext4_view::DirEntry]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    metadata.hash(&mut hasher);
    for entry in entries {
        entry.file_name().as_ref().hash(&mut hasher);
        format!("{:?}", entry.file_type().ok()).hash(&mut hasher);
    }
    hasher.finish()
}
