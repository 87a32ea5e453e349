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
