use parapet_store::{SqliteStore, Store, StoreError};

#[test]
fn a_new_database_gets_the_current_schema_and_reopens() {
    let (dir, store) = super::store();
    assert_eq!(
        store.schema_version().expect("version"),
        parapet_store::sqlite::SCHEMA_VERSION
    );
    drop(store);
    let again = SqliteStore::open(&dir.path().join("parapet.db")).expect("reopen");
    assert_eq!(again.scans(10).expect("scans").len(), 0);
    assert_eq!(again.integrity_check().expect("check"), "ok");
}

#[test]
fn a_database_from_a_newer_parapet_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("future.db");
    {
        let conn = rusqlite::Connection::open(&path).expect("sqlite");
        conn.pragma_update(None, "user_version", 99)
            .expect("set version");
    }
    let error = match SqliteStore::open(&path) {
        Err(e) => e,
        Ok(_) => panic!("a newer schema must be refused"),
    };
    assert!(
        matches!(error, StoreError::NewerSchema { found: 99, .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("future.db"), "{message}");
    assert!(message.contains("upgrade Parapet"), "{message}");
}

#[test]
fn the_folder_of_the_database_is_created() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("a/b/parapet.db");
    SqliteStore::open(&path).expect("open in new folders");
    assert!(path.exists());
}

#[test]
fn a_version_1_database_is_migrated_with_its_history() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("v1.db");
    {
        let conn = rusqlite::Connection::open(&path).expect("sqlite");
        conn.execute_batch(include_str!("../../src/sqlite/migrations/0001_initial.sql"))
            .expect("schema 1");
        conn.pragma_update(None, "user_version", 1)
            .expect("set version");
        let document = |n: u32| {
            format!(
                r#"{{"id":"arn:aws:s3:::old","provider":"aws","account":"111111111111","region":"eu-west-1","resource_type":"AWS::S3::Bucket","name":"old","config":{{"Versioning":{{"Status":"S{n}"}}}},"observed_at":"2026-01-0{n}T00:00:00Z"}}"#
            )
        };
        for n in 1..=2 {
            conn.execute(
                "INSERT INTO asset_versions (asset_id, version, content_hash, observed_at, document) VALUES ('arn:aws:s3:::old', ?1, ?2, ?3, ?4)",
                rusqlite::params![n, format!("{n:064}"), 1_767_225_600_000_i64 + i64::from(n - 1) * 86_400_000, document(n)],
            )
            .expect("version");
        }
    }
    let store = SqliteStore::open(&path).expect("migrate");
    assert_eq!(
        store.schema_version().expect("version"),
        parapet_store::sqlite::SCHEMA_VERSION
    );
    let history = store.asset_history("arn:aws:s3:::old").expect("history");
    assert_eq!(
        history.iter().map(|v| v.version).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(history[1].asset.config["Versioning"]["Status"], "S2");
    assert_eq!(store.integrity_check().expect("check"), "ok");
}

#[test]
fn a_vulnerability_scan_attached_to_an_asset_replaces_its_last_one() {
    use parapet_core::{Severity, Vulnerability, VulnerabilityScan};
    use parapet_store::Store;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = parapet_store::SqliteStore::open(&dir.path().join("p.db")).expect("open");
    let scan = |target: &str, severity| VulnerabilityScan {
        target: target.to_owned(),
        scanned_at: chrono::Utc::now(),
        packages: 96,
        vulnerabilities: vec![Vulnerability {
            advisory: "DSA-5514-1".to_owned(),
            aliases: vec!["CVE-2023-4911".to_owned()],
            package: "libc6".to_owned(),
            version: "2.36-9+deb12u1".to_owned(),
            ecosystem: "Debian".to_owned(),
            severity,
            score: Some(7.8),
            fixed: Some("2.36-9+deb12u3".to_owned()),
        }],
    };
    let image = "arn:aws:ec2:eu-west-1::image/ami-1";
    store
        .attach_vulnerabilities(image, &scan("old.img", Some(Severity::High)))
        .expect("attach");
    store
        .attach_vulnerabilities(image, &scan("new.img", None))
        .expect("attach");
    let scans = store.vulnerability_scans().expect("read");
    assert_eq!(scans.len(), 1);
    assert_eq!(scans[image].target, "new.img");
    assert_eq!(scans[image].vulnerabilities[0].severity, None);
    assert_eq!(
        scans[image].vulnerabilities[0].fixed.as_deref(),
        Some("2.36-9+deb12u3")
    );
}
