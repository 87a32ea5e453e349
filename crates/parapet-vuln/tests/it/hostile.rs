//! Hostile images: paths and links out of the root, a decompression bomb, a
//! truncated layer, corrupt package databases. Each gives a clear error
//! naming the image and the entry, and nothing is written outside the
//! scratch area.

use parapet_vuln::Target;
use parapet_vuln::target::Options;
use parapet_vuln::tree::Limits;
use sha2::Digest;
use std::io::Write;
use std::path::{Path, PathBuf};

/// An entry of a layer: path (written as given), content or link target,
/// kind.
type Entry<'a> = (&'a str, &'a [u8], tar::EntryType);

/// A gzip-compressed tar of `entries`, names written byte for byte (`..`
/// included, as an attacker would).
fn layer(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data, kind) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(*kind);
        header.set_mode(0o644);
        header.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
        let body: &[u8] = if *kind == tar::EntryType::Symlink {
            header.as_old_mut().linkname[..data.len()].copy_from_slice(data);
            b""
        } else {
            data
        };
        header.set_size(body.len() as u64);
        header.set_cksum();
        builder.append(&header, body).expect("append");
    }
    let tar = builder.into_inner().expect("tar");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).expect("gzip");
    gz.finish().expect("gzip")
}

/// Writes `blob` under `layout/blobs/sha256`; its digest.
fn blob(layout: &Path, content: &[u8]) -> String {
    let hex = hex::encode(sha2::Sha256::digest(content));
    std::fs::write(layout.join("blobs/sha256").join(&hex), content).expect("blob");
    format!("sha256:{hex}")
}

/// An OCI image layout of `layers` in `dir`.
fn image(dir: &Path, layers: &[Vec<u8>]) -> PathBuf {
    let layout = dir.join("image");
    std::fs::create_dir_all(layout.join("blobs/sha256")).expect("mkdir");
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion": "1.0.0"}"#,
    )
    .expect("write");
    let config = blob(&layout, br#"{"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}"#);
    let layer_descriptors: Vec<serde_json::Value> = layers
        .iter()
        .map(|l| {
            serde_json::json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": blob(&layout, l), "size": l.len(),
            })
        })
        .collect();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 10},
        "layers": layer_descriptors,
    });
    let manifest_digest = blob(&layout, manifest.to_string().as_bytes());
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest, "size": 1,
    }]});
    std::fs::write(layout.join("index.json"), index.to_string()).expect("write");
    layout
}

fn scan(layout: &Path, limits: Limits) -> Result<parapet_vuln::Inventory, String> {
    Target::parse(&layout.display().to_string())
        .and_then(|t| {
            t.inventory(&Options {
                limits,
                ..Options::default()
            })
        })
        .map_err(|e| e.to_string())
}

const FILE: tar::EntryType = tar::EntryType::Regular;
const LINK: tar::EntryType = tar::EntryType::Symlink;

/// A path outside every scratch area, unique to this test run.
fn outside(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("parapet-escape-{name}-{}", std::process::id()))
}

#[test]
fn a_path_out_of_the_root_is_refused_and_nothing_is_written_there() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = outside("traversal");
    let name = format!("../../../../../../../..{}", target.display());
    let layout = image(
        dir.path(),
        &[layer(&[
            ("etc/os-release", b"ID=debian\n", FILE),
            (&name, b"pwned", FILE),
        ])],
    );
    let error = scan(&layout, Limits::default()).expect_err("refused");
    assert!(
        error.contains("layer 1") && error.contains("climbs out of the root"),
        "{error}"
    );
    assert!(!target.exists());
}

#[test]
fn a_write_through_a_link_out_of_the_root_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = outside("symlink");
    let parent = target.parent().expect("a parent").display().to_string();
    let link_target = format!("../../../../../../../..{parent}");
    let file = format!(
        "escape/{}",
        target.file_name().expect("a name").to_string_lossy()
    );
    let layout = image(
        dir.path(),
        &[
            layer(&[("escape", link_target.as_bytes(), LINK)]),
            layer(&[(&file, b"pwned", FILE)]),
        ],
    );
    let error = scan(&layout, Limits::default()).expect_err("refused");
    assert!(
        error.contains("layer 2") && error.contains("leads out of the root"),
        "{error}"
    );
    assert!(!target.exists());
}

#[test]
fn a_decompression_bomb_stops_at_the_limit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let zeros = vec![0u8; 64 * 1024 * 1024];
    let bomb = layer(&[
        ("a", &zeros, FILE),
        ("b", &zeros, FILE),
        ("c", &zeros, FILE),
    ]);
    assert!(
        bomb.len() < 4 * 1024 * 1024,
        "192 MB in {} bytes",
        bomb.len()
    );
    let layout = image(dir.path(), &[bomb]);
    let limits = Limits {
        max_bytes: 100 * 1024 * 1024,
        ..Limits::default()
    };
    let error = scan(&layout, limits).expect_err("refused");
    assert!(
        error.contains("the uncompressed size goes beyond the limit"),
        "{error}"
    );
    // A package database larger than a file may be is refused too.
    let big_status = layer(&[("var/lib/dpkg/status", &zeros, FILE)]);
    let dir = tempfile::tempdir().expect("temp dir");
    let layout = image(dir.path(), &[big_status]);
    let limits = Limits {
        max_file: 1024 * 1024,
        ..Limits::default()
    };
    let error = scan(&layout, limits).expect_err("refused");
    assert!(
        error.contains("the file /var/lib/dpkg/status goes beyond"),
        "{error}"
    );
}

#[test]
fn a_truncated_layer_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let content = (0..200_000u32)
        .flat_map(|n| n.to_le_bytes())
        .collect::<Vec<u8>>();
    let whole = layer(&[
        ("etc/os-release", b"ID=debian\n", FILE),
        ("data", &content, FILE),
    ]);
    let layout = image(dir.path(), std::slice::from_ref(&whole));
    let hex = hex::encode(sha2::Sha256::digest(&whole));
    let path = layout.join("blobs/sha256").join(&hex);
    std::fs::write(&path, &whole[..whole.len() / 2]).expect("truncate");
    let error = scan(&layout, Limits::default()).expect_err("truncated");
    assert!(
        error.contains(&format!("layer 1 (sha256:{hex})")),
        "{error}"
    );
}

#[test]
fn corrupt_package_databases_are_named_and_the_rest_is_still_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let layout = image(
        dir.path(),
        &[layer(&[
            ("etc/os-release", b"ID=debian\nVERSION_ID=12\n", FILE),
            (
                "var/lib/dpkg/status",
                b"Package: ok\nStatus: install ok installed\nVersion: 1.0-1\n\n\x00\x01garbage\xff",
                FILE,
            ),
            (
                "var/lib/rpm/rpmdb.sqlite",
                b"SQLite format 3\x00 but not really a database at all",
                FILE,
            ),
            (
                "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
                b"Name: six\nVersion: 1.16.0\n",
                FILE,
            ),
        ])],
    );
    let inventory = scan(&layout, Limits::default()).expect("read");
    let errors = inventory.errors.join("\n");
    assert!(
        errors.contains("/var/lib/dpkg/status: not text"),
        "{errors}"
    );
    assert!(
        errors.contains("/var/lib/rpm/rpmdb.sqlite: not an"),
        "{errors}"
    );
    let names: Vec<&str> = inventory.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["six"], "what could be read was read");
}

#[test]
fn what_follows_a_layers_tar_is_never_decompressed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut blob = layer(&[("etc/os-release", b"ID=debian\nVERSION_ID=12\n", FILE)]);
    // A second gzip member after the tar's end: a bomb would be expanded
    // here; this one is corrupt, so reading it at all fails the layer.
    blob.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    blob.extend_from_slice(&[0xff; 4096]);
    let layout = image(dir.path(), &[blob]);
    let inventory = scan(&layout, Limits::default()).expect("the tar was whole");
    let os = inventory
        .os
        .as_ref()
        .map(|o| (o.id.as_str(), o.version_id.as_str()));
    assert_eq!(os, Some(("debian", "12")), "{:?}", inventory.errors);
}

#[test]
fn links_and_special_files_in_a_layout_folder_are_refused_not_followed() {
    use std::os::unix::fs::symlink;
    let secret = outside("secret");
    std::fs::write(&secret, "{\"schemaVersion\": 2, \"layers\": []}").expect("write");
    let dir = tempfile::tempdir().expect("temp dir");
    let layout = image(
        dir.path(),
        &[layer(&[("etc/os-release", b"ID=debian\n", FILE)])],
    );
    let blobs = layout.join("blobs/sha256");
    let layer_blob = std::fs::read_dir(&blobs)
        .expect("blobs")
        .flatten()
        .map(|e| e.path())
        .find(|p| std::fs::read(p).is_ok_and(|b| b.starts_with(&[0x1f, 0x8b])))
        .expect("the layer's blob");
    // The layer's blob becomes a link to a file elsewhere, then a FIFO.
    std::fs::remove_file(&layer_blob).expect("remove");
    symlink(&secret, &layer_blob).expect("symlink");
    let error = scan(&layout, Limits::default()).expect_err("a link");
    assert!(error.contains("not a regular file"), "{error}");
    std::fs::remove_file(&layer_blob).expect("remove");
    let made = std::process::Command::new("mkfifo")
        .arg(&layer_blob)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let error = scan(&layout, Limits::default()).expect_err("a FIFO, without blocking");
    assert!(error.contains("not a regular file"), "{error}");
    // A linked folder on the way is refused too.
    let elsewhere = tempfile::tempdir().expect("temp dir");
    std::fs::remove_file(&layer_blob).expect("remove");
    let moved = elsewhere.path().join("sha256");
    std::fs::rename(&blobs, &moved).expect("move");
    symlink(&moved, &blobs).expect("symlink");
    let error = scan(&layout, Limits::default()).expect_err("a linked folder");
    assert!(
        error.contains("not a regular file") || error.contains("link"),
        "{error}"
    );
    std::fs::remove_file(&secret).expect("clean up");
}

#[test]
fn an_rpm_database_whose_packages_are_a_view_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("rpmdb.sqlite");
    let conn = rusqlite::Connection::open(&db).expect("sqlite");
    conn.execute_batch(
        "CREATE VIEW Packages AS SELECT 1 AS hnum, zeroblob(64) AS blob;
         CREATE TABLE Name (key TEXT, hnum INTEGER);",
    )
    .expect("schema");
    drop(conn);
    let content = std::fs::read(&db).expect("read");
    let layout = image(
        dir.path(),
        &[layer(&[
            ("etc/os-release", b"ID=rocky\nVERSION_ID=9.4\n", FILE),
            ("var/lib/rpm/rpmdb.sqlite", &content, FILE),
        ])],
    );
    let inventory = scan(&layout, Limits::default()).expect("read");
    let errors = inventory.errors.join("\n");
    assert!(errors.contains("`Packages` is not a table"), "{errors}");
}

#[test]
fn a_directory_linked_into_itself_on_a_disk_is_walked_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("a/b")).expect("mkdir");
    std::fs::create_dir_all(root.join("etc")).expect("mkdir");
    std::fs::write(root.join("etc/os-release"), "ID=debian\nVERSION_ID=12\n").expect("write");
    std::fs::write(root.join("a/b/file"), "x").expect("write");
    let disk = dir.path().join("disk.img");
    let run = |program: &str, args: &[&std::ffi::OsStr]| {
        let output = std::process::Command::new(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| {
                panic!("{program} (e2fsprogs; scripts/test-images installs it): {e}")
            });
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    run(
        "mke2fs",
        &[
            "-q".as_ref(),
            "-t".as_ref(),
            "ext4".as_ref(),
            "-d".as_ref(),
            root.as_os_str(),
            disk.as_os_str(),
            "8M".as_ref(),
        ],
    );
    // /a/b/up is /a again: a loop no real tool makes.
    run(
        "debugfs",
        &[
            "-w".as_ref(),
            "-R".as_ref(),
            "link /a /a/b/up".as_ref(),
            disk.as_os_str(),
        ],
    );
    let limits = Limits {
        max_entries: 10_000,
        ..Limits::default()
    };
    let inventory = Target::parse(&format!("disk:{}", disk.display()))
        .and_then(|t| {
            t.inventory(&Options {
                limits,
                ..Options::default()
            })
        })
        .expect("the disk is read, the loop entered once");
    let os = inventory.os.as_ref().map(|o| o.id.as_str());
    assert_eq!(os, Some("debian"), "{:?}", inventory.errors);
}

#[test]
fn a_filesystem_that_claims_more_blocks_than_its_disk_is_refused_not_allocated() {
    // Found by fuzzing: ext4-view reserved a descriptor for every block
    // group the superblock claimed (51 GB), and the allocation aborted.
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("etc")).expect("mkdir");
    std::fs::write(root.join("etc/os-release"), "ID=debian\n").expect("write");
    let disk = dir.path().join("disk.img");
    let made = std::process::Command::new("mke2fs")
        .args(["-q", "-t", "ext4", "-d"])
        .arg(&root)
        .arg(&disk)
        .arg("1M")
        .output()
        .expect("mke2fs (e2fsprogs; scripts/test-images installs it)");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let mut bytes = std::fs::read(&disk).expect("read");
    // s_blocks_count_lo, then the 64-bit feature and s_blocks_count_hi.
    bytes[1024 + 4..1024 + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    bytes[1024 + 0x60] |= 0x80;
    bytes[1024 + 0x150..1024 + 0x154].copy_from_slice(&0xffu32.to_le_bytes());
    std::fs::write(&disk, &bytes).expect("write");
    let error = Target::parse(&format!("disk:{}", disk.display()))
        .and_then(|t| t.inventory(&Options::default()))
        .expect_err("refused")
        .to_string();
    assert!(error.contains("more than its disk"), "{error}");
}
