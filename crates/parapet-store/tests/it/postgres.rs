use crate::stories::inventory::estate;
use crate::{at, bucket, evaluation, scan};
use chrono::{DateTime, Utc};
use parapet_core::Status;
use parapet_store::postgres::{SCHEMA_VERSION, Target};
use parapet_store::roles::*;
use parapet_store::{Policy, PostgresStore, StoreError};
use std::collections::BTreeMap;

fn connect(url: &str) -> Result<PostgresStore, StoreError> {
    PostgresStore::connect(&Target::new(url, None)?)
}

#[test]
fn tls_verifies_the_server_against_the_authority_the_url_names() {
    let Some((url, authority)) = parapet_testkit::postgres::tls_database() else {
        eprintln!("the test server is not the tests' own cluster: its TLS is not known");
        return;
    };
    let verified = format!(
        "{url}?sslmode=verify-full&sslrootcert={}&application_name=parapet-tls",
        authority.display()
    );
    let mut store = connect(&verified).expect("TLS with the test authority");
    estate(&mut store);
    assert!(!store.scans(10).expect("scans").is_empty());
    assert!(!store.facets().expect("facets").accounts.is_empty());
    assert_eq!(parapet_testkit::postgres::sessions("parapet-tls"), (1, 1));

    // The public roots do not know the test authority: refused, not
    // downgraded.
    let error = connect(&format!("{url}?sslmode=require"))
        .err()
        .expect("an unknown authority is refused")
        .to_string();
    assert!(error.contains("certificate"), "{error}");
    assert!(error.contains("127.0.0.1"), "{error}");

    // A certificate for another name is refused too.
    let elsewhere = format!(
        "postgres://parapet@localhost:{}/postgres?sslmode=verify-full&sslrootcert={}",
        url.split(':')
            .nth(2)
            .and_then(|p| p.split('/').next())
            .expect("port"),
        authority.display()
    );
    assert!(
        connect(&elsewhere).is_err(),
        "the certificate names 127.0.0.1 only"
    );

    // Without sslmode the connection is plain.
    let _plain = connect(&format!("{url}?application_name=parapet-plain")).expect("plain");
    assert_eq!(parapet_testkit::postgres::sessions("parapet-plain"), (1, 0));
}

#[test]
fn processes_starting_together_migrate_once() {
    let url = parapet_testkit::postgres::database();
    let started: Vec<_> = (0..6)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || connect(&url).map(|s| s.schema_version()))
        })
        .collect();
    for handle in started {
        let version = handle.join().expect("thread").expect("connect");
        assert_eq!(version.expect("version"), SCHEMA_VERSION);
    }
    let rows = parapet_testkit::postgres::connect(&url)
        .query("SELECT version FROM parapet_schema", &[])
        .expect("schema table");
    assert_eq!(rows.len(), 1);
}

#[test]
fn a_database_from_a_newer_parapet_is_refused_with_a_clear_message() {
    let url = parapet_testkit::postgres::database();
    drop(connect(&url).expect("create the schema"));
    parapet_testkit::postgres::connect(&url)
        .batch_execute("UPDATE parapet_schema SET version = 99")
        .expect("pretend a newer Parapet wrote it");
    let message = connect(&url).err().expect("refused").to_string();
    assert!(
        message.contains("schema version 99, newer than this Parapet supports"),
        "{message}"
    );
    assert!(message.starts_with("postgres://parapet@"), "{message}");
}

#[test]
fn the_password_is_used_and_a_refused_one_is_not_repeated() {
    let Some((tcp, _)) = parapet_testkit::postgres::tls_database() else {
        eprintln!("the test server is not the tests' own cluster: its users are not known");
        return;
    };
    // The cluster asks `guarded`, and only it, for a password over TCP.
    parapet_testkit::postgres::connect(&parapet_testkit::postgres::database())
        .batch_execute(
            "DO $$ BEGIN CREATE ROLE guarded LOGIN PASSWORD 'right-horse'; \
             EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        )
        .expect("role");
    let guarded = tcp.replace("parapet@", "guarded@");
    let wrong = Target::new(&guarded, Some("wrong-battery-staple".into())).expect("URL");
    assert!(!format!("{wrong:?}").contains("wrong-battery-staple"));
    let error = PostgresStore::connect(&wrong).err().expect("refused");
    let message = format!("{error} {error:?}");
    assert!(
        message.contains("password authentication failed"),
        "{message}"
    );
    assert!(!message.contains("wrong-battery-staple"), "{message}");
    let none = PostgresStore::connect(&Target::new(&guarded, None).expect("URL"));
    assert!(none.is_err(), "no password, no connection");
    // The database belongs to `parapet`; `guarded` may connect and read
    // the schema's version, which is enough to show the password worked.
    let right = Target::new(&guarded, Some("right-horse".into())).expect("URL");
    match PostgresStore::connect(&right) {
        Ok(_) => {}
        Err(e) => {
            let message = e.to_string();
            assert!(message.contains("permission denied"), "{message}");
        }
    }
}

/// Every table's columns, by name, as SQLite and PostgreSQL list them.
type Columns = BTreeMap<String, Vec<String>>;

#[test]
fn both_backends_have_the_same_tables_and_columns() {
    let (dir, sqlite) = crate::sqlite_store(Policy::default());
    drop(sqlite);
    let conn = rusqlite::Connection::open(dir.path().join("parapet.db")).expect("sqlite");
    let mut on_sqlite = Columns::new();
    let mut tables = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .expect("tables");
    let names: Vec<String> = tables
        .query_map([], |r| r.get(0))
        .expect("tables")
        .collect::<Result<_, _>>()
        .expect("names");
    for table in names {
        let mut columns = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .expect("columns");
        let mut names: Vec<String> = columns
            .query_map([], |r| r.get(0))
            .expect("columns")
            .collect::<Result<_, _>>()
            .expect("names");
        names.sort();
        on_sqlite.insert(table, names);
    }
    let url = parapet_testkit::postgres::database();
    drop(connect(&url).expect("schema"));
    let mut on_postgres = Columns::new();
    for row in parapet_testkit::postgres::connect(&url)
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' \
             AND table_name NOT IN (SELECT relname FROM pg_class WHERE relispartition) ORDER BY 1, 2",
            &[],
        )
        .expect("columns")
    {
        on_postgres.entry(row.get(0)).or_default().push(row.get(1));
    }
    // PostgreSQL's own: its schema version, and the deltas a transaction
    // folds into the overview's counters before it commits.
    for own in ["parapet_schema", "finding_count_log", "finding_trend_log"] {
        assert!(on_postgres.remove(own).is_some(), "{own}");
    }
    assert_eq!(on_postgres, on_sqlite);
}

/// Three months of history: `a` changes each month (failing a rule in the
/// first), `b` appears in the second. Returns the start of the third.
fn three_months(store: &mut dyn parapet_store::Store) -> DateTime<Utc> {
    let month = |m: i64| at(24 * (5 - 30 * m));
    let a = |m: i64| bucket("a", serde_json::json!({ "v": m }), month(m));
    let b = |m: i64| bucket("b", serde_json::json!({}), month(m));
    scan(
        store,
        month(3),
        &[a(3)],
        &[evaluation("r", &a(3), Status::Fail)],
        &[],
    );
    scan(
        store,
        month(2),
        &[a(2), b(2)],
        &[evaluation("r", &a(2), Status::Pass)],
        &[],
    );
    scan(
        store,
        month(1),
        &[a(1), b(1)],
        &[evaluation("r", &a(1), Status::Pass)],
        &[],
    );
    at(24 * (1 - 30))
}

#[test]
fn history_is_kept_by_month_and_prune_drops_months_with_nothing_to_keep() {
    let url = parapet_testkit::postgres::database();
    let mut on_postgres = connect(&url).expect("connect");
    let cutoff = three_months(&mut on_postgres);
    let mut sql = parapet_testkit::postgres::connect(&url);
    let partitions = |sql: &mut postgres::Client| -> Vec<String> {
        sql.query(
            "SELECT relname::text FROM pg_class WHERE relispartition AND relkind = 'r' ORDER BY 1",
            &[],
        )
        .expect("partitions")
        .iter()
        .map(|r| r.get(0))
        .collect()
    };
    let in_default = |sql: &mut postgres::Client| -> i64 {
        sql.query_one("SELECT count(*) FROM asset_versions_default", &[])
            .expect("count")
            .get(0)
    };
    // Months before the process started had no partition: their rows wait
    // in the default one, and the next process gives them their own.
    assert_eq!(in_default(&mut sql), 4);
    drop(connect(&url).expect("another process"));
    assert_eq!(in_default(&mut sql), 0);
    let months = partitions(&mut sql);
    for month in ["2026m08", "2026m09", "2026m10"] {
        for table in ["asset_versions", "events"] {
            let part = format!("{table}_y{month}");
            assert!(months.contains(&part), "{part}: {months:?}");
        }
    }

    let (_dir, mut on_sqlite) = crate::sqlite_store(Policy::default());
    three_months(&mut on_sqlite);
    let pruned = on_postgres.prune(cutoff).expect("prune");
    assert_eq!(pruned, on_sqlite.prune(cutoff).expect("prune"));
    assert_eq!(pruned.rows["asset_versions"], 1, "{pruned:?}");
    // August held only a's first version, superseded before the cutoff:
    // dropped whole. September's versions are those current at the cutoff.
    let months = partitions(&mut sql);
    assert!(
        !months.contains(&"asset_versions_y2026m08".to_owned()),
        "{months:?}"
    );
    assert!(
        !months.contains(&"events_y2026m08".to_owned()),
        "{months:?}"
    );
    assert!(
        !months.contains(&"events_y2026m09".to_owned()),
        "{months:?}"
    );
    assert!(
        months.contains(&"asset_versions_y2026m09".to_owned()),
        "{months:?}"
    );
    for id in ["arn:aws:s3:::a", "arn:aws:s3:::b"] {
        assert_eq!(
            on_postgres.asset_history(id).expect("history"),
            on_sqlite.asset_history(id).expect("history"),
            "{id}"
        );
    }
    let everything = parapet_store::EventQuery {
        limit: 1000,
        ..Default::default()
    };
    let events = |store: &dyn parapet_store::Store| -> Vec<_> {
        store
            .events(&everything)
            .expect("events")
            .into_iter()
            .map(|e| (e.event.at, e.event.kind, e.event.asset_id))
            .collect()
    };
    assert_eq!(events(&on_postgres), events(&on_sqlite));
    assert!(!events(&on_postgres).is_empty());
}
