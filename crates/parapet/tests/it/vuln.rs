//! `parapet vuln` as a user runs it: advisories imported, the Debian image
//! scanned in every output format (SARIF and CycloneDX checked against their
//! schemas), its SBOM scanned again with the same result, and bad targets
//! refused with a clear error.

use super::moto::venv;
use super::test_images::images;
use super::{stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `parapet` with `args`, the advisory database at `db`.
fn vuln(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parapet"))
        .args(args)
        .env("PARAPET_VULN_DB", db)
        .env_remove("NO_COLOR")
        .output()
        .expect("parapet runs")
}

/// An advisory for the Debian image's glibc: its installed version is
/// affected (fixed in a later revision), and one whose fix is installed.
fn advisories(dir: &Path) -> PathBuf {
    let listed = std::fs::read_to_string(images().join("expected/debian.txt")).expect("list");
    let glibc = listed
        .lines()
        .find(|l| l.starts_with("libc6 "))
        .and_then(|l| l.split(' ').nth(3))
        .expect("libc6 with its source version")
        .to_owned();
    let folder = dir.join("osv");
    std::fs::create_dir_all(&folder).expect("mkdir");
    let record = |id: &str, fixed: &str| {
        serde_json::json!({
            "id": id, "modified": "2026-11-01T00:00:00Z", "aliases": [format!("CVE-2099-{}", &id[4..8])],
            "summary": format!("glibc: {id}"),
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected": [{"package": {"ecosystem": "Debian:12", "name": "glibc"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}],
        })
    };
    let later = format!("{glibc}+fix1");
    for (id, fixed) in [
        ("DSA-9001-1", later.as_str()),
        ("DSA-9002-1", glibc.as_str()),
    ] {
        std::fs::write(
            folder.join(format!("{id}.json")),
            record(id, fixed).to_string(),
        )
        .expect("write");
    }
    folder
}

/// The schema errors of a document, from the test venv's validators.
fn validate(kind: &str, file: &Path) -> String {
    let script = match kind {
        "cyclonedx" => {
            "import sys\n\
            from cyclonedx.schema import SchemaVersion\n\
            from cyclonedx.validation.json import JsonStrictValidator\n\
            e = JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read())\n\
            print(e or '', end='')\n"
        }
        _ => {
            "import json, sys, jsonschema\n\
            schema = json.load(open(sys.argv[2]))\n\
            for e in jsonschema.Draft4Validator(schema).iter_errors(json.load(open(sys.argv[1]))):\n    print(e.message)\n"
        }
    };
    let schema = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../parapet-report/tests/schemas/sarif-schema-2.1.0.json");
    let output = Command::new(venv().join("bin/python"))
        .args(["-c", script])
        .arg(file)
        .arg(schema)
        .output()
        .expect("python runs");
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
}

#[test]
fn the_debian_image_is_scanned_in_every_format_and_its_sbom_gives_the_same_result() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("advisories.db");
    let empty = vuln(&db, &["vuln", "scan", "x"]);
    assert_eq!(empty.status.code(), Some(2));
    assert!(
        stderr(&empty).contains("the advisory database is empty"),
        "{}",
        stderr(&empty)
    );
    let folder = advisories(dir.path());
    let imported = vuln(
        &db,
        &["vuln", "db", "import", folder.to_str().expect("utf-8")],
    );
    assert!(imported.status.success(), "{}", stderr(&imported));
    assert!(
        stdout(&imported).contains("2 imported"),
        "{}",
        stdout(&imported)
    );

    let image = images().join("debian-docker.tar");
    let image = image.to_str().expect("utf-8");
    let json = vuln(&db, &["vuln", "scan", image, "--format", "json"]);
    assert!(json.status.success(), "{}", stderr(&json));
    assert!(
        stderr(&json).contains("96 package(s) on Debian GNU/Linux 12 (bookworm) in"),
        "{}",
        stderr(&json)
    );
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let matches = report["matches"].as_array().expect("matches");
    let found: Vec<(&str, &str)> = matches
        .iter()
        .map(|m| {
            (
                m["package"]["name"].as_str().unwrap_or(""),
                m["advisory"].as_str().unwrap_or(""),
            )
        })
        .collect();
    // glibc's binary packages of the image, each affected by DSA-9001-1 only.
    assert!(found.contains(&("libc6", "DSA-9001-1")), "{found:?}");
    assert!(found.iter().all(|(_, id)| *id == "DSA-9001-1"), "{found:?}");
    assert!(
        matches
            .iter()
            .all(|m| m["fixed"].as_str().is_some_and(|f| f.ends_with("+fix1")))
    );
    assert_eq!(matches[0]["rating"]["severity"], "critical");

    let table = vuln(&db, &["vuln", "scan", image, "--fail-on", "high"]);
    assert_eq!(table.status.code(), Some(1), "a critical one is there");
    assert!(
        stdout(&table).contains("CVE-2099-9001"),
        "{}",
        stdout(&table)
    );
    let quiet = vuln(
        &db,
        &[
            "vuln",
            "scan",
            image,
            "--min-severity",
            "critical",
            "--fixed-only",
            "--format",
            "json",
        ],
    );
    assert!(quiet.status.success());

    let sarif = vuln(&db, &["vuln", "scan", image, "--format", "sarif"]);
    let sarif_file = dir.path().join("scan.sarif");
    std::fs::write(&sarif_file, &sarif.stdout).expect("write");
    assert_eq!(validate("sarif", &sarif_file), "");
    let log: serde_json::Value = serde_json::from_slice(&sarif.stdout).expect("JSON");
    assert_eq!(
        log["runs"][0]["results"].as_array().map(Vec::len),
        Some(matches.len())
    );
    assert_eq!(
        log["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["security-severity"],
        "9.8"
    );

    let cyclonedx = vuln(&db, &["vuln", "scan", image, "--format", "cyclonedx"]);
    let cdx_file = dir.path().join("scan.cdx.json");
    std::fs::write(&cdx_file, &cyclonedx.stdout).expect("write");
    assert_eq!(validate("cyclonedx", &cdx_file), "");
    let bom: serde_json::Value = serde_json::from_slice(&cyclonedx.stdout).expect("JSON");
    assert_eq!(
        bom["vulnerabilities"].as_array().map(Vec::len),
        Some(matches.len())
    );

    // The SBOM alone, then scanned as a target: the same matches.
    let sbom = vuln(&db, &["vuln", "sbom", image]);
    assert!(sbom.status.success(), "{}", stderr(&sbom));
    let sbom_file = dir.path().join("image.cdx.json");
    std::fs::write(&sbom_file, &sbom.stdout).expect("write");
    assert_eq!(validate("cyclonedx", &sbom_file), "");
    let again = vuln(
        &db,
        &[
            "vuln",
            "scan",
            sbom_file.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
    );
    assert!(again.status.success(), "{}", stderr(&again));
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).expect("JSON");
    assert_eq!(
        again["matches"],
        report["matches"]
            .clone()
            .as_array()
            .map(|m| {
                m.iter()
                    .map(|m| {
                        let mut m = m.clone();
                        m["package"]["location"] =
                            serde_json::json!(sbom_file.display().to_string());
                        m
                    })
                    .collect::<Vec<_>>()
            })
            .map(serde_json::Value::from)
            .unwrap_or_default()
    );
}

#[test]
fn targets_that_cannot_be_read_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("advisories.db");
    let missing = vuln(&db, &["vuln", "sbom", "/nonexistent/image.tar"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no such file or folder"),
        "{}",
        stderr(&missing)
    );
    let image = images().join("debian-oci.tar");
    let bomb = vuln(
        &db,
        &[
            "vuln",
            "sbom",
            image.to_str().expect("utf-8"),
            "--max-size",
            "10MiB",
        ],
    );
    assert_eq!(bomb.status.code(), Some(2));
    assert!(
        stderr(&bomb).contains("the uncompressed size goes beyond the limit of 10485760 bytes"),
        "{}",
        stderr(&bomb)
    );
}

#[test]
fn db_update_downloads_each_ecosystem_s_export_and_imports_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    // osv.dev's layout: SOURCE/ECOSYSTEM/all.zip, one record a file.
    let fixtures =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../parapet-vuln/tests/fixtures/osv");
    let zip = dir.path().join("all.zip");
    let made = Command::new("python3")
        .args(["-c", "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z:\n    for f in sys.argv[2:]: z.write(f, f.rsplit('/', 1)[-1])"])
        .arg(&zip)
        .arg(fixtures.join("DSA-5514-1.json"))
        .arg(fixtures.join("RLSA-2024-0003.json"))
        .output()
        .expect("python3 runs");
    assert!(made.status.success(), "{}", stderr(&made));
    let content = std::fs::read(&zip).expect("zip");
    let server = std::sync::Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("a server"));
    let port = server.server_addr().to_ip().expect("an IP address").port();
    let serving = std::sync::Arc::clone(&server);
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = std::sync::Arc::clone(&asked);
    std::thread::spawn(move || {
        for request in serving.incoming_requests() {
            log.lock().expect("lock").push(request.url().to_owned());
            let response = if request.url().ends_with("/all.zip") {
                tiny_http::Response::from_data(content.clone())
            } else {
                tiny_http::Response::from_data(Vec::new()).with_status_code(404)
            };
            let _ = request.respond(response);
        }
    });
    let db = dir.path().join("advisories.db");
    let source = format!("http://127.0.0.1:{port}/osv");
    let updated = vuln(
        &db,
        &[
            "vuln",
            "db",
            "update",
            "--source",
            &source,
            "--ecosystem",
            "Debian",
            "--ecosystem",
            "Rocky Linux",
        ],
    );
    server.unblock();
    assert!(updated.status.success(), "{}", stderr(&updated));
    assert!(
        stdout(&updated).contains("Debian: 2 imported"),
        "{}",
        stdout(&updated)
    );
    assert!(
        stdout(&updated).contains("Rocky Linux: 0 imported, 2 unchanged"),
        "{}",
        stdout(&updated)
    );
    assert_eq!(
        *asked.lock().expect("lock"),
        ["/osv/Debian/all.zip", "/osv/Rocky%20Linux/all.zip"]
    );
    let status = vuln(&db, &["vuln", "db", "status", "--format", "json"]);
    let counts: serde_json::Value = serde_json::from_slice(&status.stdout).expect("JSON");
    assert_eq!(counts, serde_json::json!({"Debian": 1, "Rocky Linux": 1}));
    let unknown = vuln(&db, &["vuln", "db", "update", "--ecosystem", "Hackage"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("`Hackage` is not an ecosystem"),
        "{}",
        stderr(&unknown)
    );
}

/// The id of an instance, image, volume or snapshot.
fn ec2_id(kind: &str, id: &str) -> String {
    let resource = kind.rsplit("::").next().unwrap_or(kind).to_lowercase();
    format!("arn:aws:ec2:eu-west-1:123456789012:{resource}/{id}")
}

/// An instance, image, volume or snapshot as the AWS collector writes it,
/// with its relationships (`kind`, target type and id).
fn ec2(
    kind: &str,
    id: &str,
    config: serde_json::Value,
    relationships: &[(&str, &str, &str)],
) -> String {
    let relationships: Vec<serde_json::Value> = relationships
        .iter()
        .map(|(kind, target_kind, target)| {
            serde_json::json!({"kind": kind, "target": ec2_id(target_kind, target)})
        })
        .collect();
    serde_json::json!({
        "id": ec2_id(kind, id), "provider": "aws",
        "account": "123456789012", "region": "eu-west-1", "resource_type": kind, "name": id,
        "config": config, "relationships": relationships, "observed_at": "2026-11-29T10:00:00Z",
    })
    .to_string()
        + "\n"
}

#[test]
fn a_scan_attached_to_an_ami_or_a_volume_s_snapshot_reaches_the_instances_that_run_from_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("parapet.db");
    let advisories = dir.path().join("advisories.db");
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../parapet-vuln/tests/fixtures");
    // i-1 runs from ami-1; i-2 from ami-2 with vol-2, of which snap-2 is a
    // snapshot; i-3 from ami-3, never scanned.
    let estate = dir.path().join("estate.jsonl");
    let volume = |id: &str| serde_json::json!({"BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "VolumeId": id}]});
    let mut text = String::new();
    for (instance, image, vol) in [
        ("i-1", "ami-1", "vol-1"),
        ("i-2", "ami-2", "vol-2"),
        ("i-3", "ami-3", "vol-3"),
    ] {
        let mut config = volume(vol);
        config["InstanceId"] = serde_json::json!(instance);
        config["ImageId"] = serde_json::json!(image);
        text += &ec2(
            "AWS::EC2::Instance",
            instance,
            config,
            &[
                ("runs_image", "AWS::EC2::Image", image),
                ("attached_volume", "AWS::EC2::Volume", vol),
            ],
        );
        text += &ec2(
            "AWS::EC2::Image",
            image,
            serde_json::json!({"ImageId": image}),
            &[],
        );
    }
    text += &ec2(
        "AWS::EC2::Snapshot",
        "snap-2",
        serde_json::json!({"SnapshotId": "snap-2", "VolumeId": "vol-2"}),
        &[("snapshot_of", "AWS::EC2::Volume", "vol-2")],
    );
    std::fs::write(&estate, text).expect("write");
    // A rule of the user's: no high vulnerability with a fix.
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).expect("mkdir");
    std::fs::write(
        rules.join("patched.yaml"),
        "id: custom-instance-patched\ntitle: Instances run no software with a high vulnerability that has a fix\n\
         description: Patched.\nseverity: high\nresource_types: [AWS::EC2::Instance]\n\
         compliant: '!vulnerabilities.exists(v, v.severity == \"high\" && v.fixed != null)'\n\
         remediation: {text: Patch.}\n\
         examples:\n  compliant: [{description: none, config: {}, vulnerabilities: []}]\n  \
         non_compliant: [{description: one, config: {}, vulnerabilities: [{severity: high, fixed: '2'}]}]\n",
    )
    .expect("write");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_parapet"))
            .args([
                "--no-builtin-rules",
                "--rules",
                rules.to_str().expect("utf-8"),
            ])
            .args(args)
            .env("PARAPET_DB", &db)
            .env("PARAPET_VULN_DB", &advisories)
            .output()
            .expect("parapet runs")
    };
    let scan_estate = || {
        let output = run(&[
            "scan",
            "file",
            estate.to_str().expect("utf-8"),
            "--format",
            "json",
        ]);
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        let mut statuses: Vec<(String, String)> = report["results"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    r["asset_name"].as_str().unwrap_or("").to_owned(),
                    r["status"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        statuses.sort();
        statuses
    };
    let unknown = |name: &str| (name.to_owned(), "unknown".to_owned());
    let fail = |name: &str| (name.to_owned(), "fail".to_owned());
    assert_eq!(
        scan_estate(),
        [unknown("i-1"), unknown("i-2"), unknown("i-3")],
        "nothing scanned yet"
    );

    let imported = run(&[
        "vuln",
        "db",
        "import",
        fixtures.join("osv").to_str().expect("utf-8"),
    ]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    // The SBOM's glibc is below DSA-5514-1's fix (a high vulnerability);
    // its package without a version is left out.
    let mut document: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures.join("sbom/app.spdx.json")).expect("read"))
            .expect("JSON");
    if let Some(packages) = document["packages"].as_array_mut() {
        packages.retain(|p| p["name"] != "broken");
    }
    let sbom = dir.path().join("app.spdx.json");
    std::fs::write(&sbom, document.to_string()).expect("write");
    let attached = run(&[
        "vuln",
        "scan",
        sbom.to_str().expect("utf-8"),
        "--asset",
        "ami-1",
    ]);
    assert!(attached.status.success(), "{}", stderr(&attached));
    assert!(
        stderr(&attached).contains("attached to arn:aws:ec2:eu-west-1:123456789012:image/ami-1"),
        "{}",
        stderr(&attached)
    );
    let attached = run(&[
        "vuln",
        "scan",
        sbom.to_str().expect("utf-8"),
        "--asset",
        "snap-2",
    ]);
    assert!(attached.status.success(), "{}", stderr(&attached));
    assert_eq!(scan_estate(), [fail("i-1"), fail("i-2"), unknown("i-3")]);

    let missing = run(&[
        "vuln",
        "scan",
        sbom.to_str().expect("utf-8"),
        "--asset",
        "ami-404",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no asset of the inventory has that id or name"),
        "{}",
        stderr(&missing)
    );
}
