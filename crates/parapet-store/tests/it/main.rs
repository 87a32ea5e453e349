//! Integration tests of the store. The stories (under `stories/`) are what
//! every backend must tell alike, each run on every backend below; what is
//! particular to one backend has a module of its own.

/// PostgreSQL alone: TLS, the password, migrations by processes starting
/// together, the refusal of a newer schema, the same tables as SQLite.
mod postgres;
/// SQLite alone: migrations, the refusal of a newer schema, the overview's
/// counters kept by triggers.
mod sqlite;
/// The stories every backend runs.
mod stories;

use chrono::{DateTime, Duration, Utc};
use parapet_core::{Asset, CollectionError, Evaluation, Provider, Scope, Severity, Status};
use parapet_store::roles::*;
use parapet_store::{Policy, PostgresStore, ScanOutput, SqliteStore};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A backend the stories run on.
pub trait Backend {
    /// Its store.
    type Store: Store + 'static;
    /// A fresh, empty store recording with `policy`, and what must live as
    /// long as it (a temporary folder).
    fn open(&self, policy: Policy) -> (Box<dyn std::any::Any>, Self::Store);
    /// A fresh, empty database, and a way to open as many stores on it as
    /// there are workers.
    fn open_shared(&self, policy: Policy) -> (Box<dyn std::any::Any>, Opener<Self::Store>);
}

/// Opens another store on one database.
pub type Opener<S> = std::sync::Arc<dyn Fn() -> S + Send + Sync>;

/// SQLite, in a file of a temporary folder.
pub struct Sqlite;

impl Backend for Sqlite {
    type Store = SqliteStore;
    fn open(&self, policy: Policy) -> (Box<dyn std::any::Any>, SqliteStore) {
        let (dir, store) = sqlite_store(policy);
        (Box::new(dir), store)
    }
    fn open_shared(&self, policy: Policy) -> (Box<dyn std::any::Any>, Opener<SqliteStore>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("parapet.db");
        let open = move || SqliteStore::open_with(&path, policy.clone()).expect("open store");
        (Box::new(dir), std::sync::Arc::new(open))
    }
}

/// PostgreSQL, in a new database of the test server.
pub struct Postgres;

impl Backend for Postgres {
    type Store = PostgresStore;
    fn open(&self, policy: Policy) -> (Box<dyn std::any::Any>, PostgresStore) {
        (Box::new(()), postgres_store(policy))
    }
    fn open_shared(&self, policy: Policy) -> (Box<dyn std::any::Any>, Opener<PostgresStore>) {
        let url = parapet_testkit::postgres::database();
        let target = parapet_store::postgres::Target::new(&url, None).expect("a test URL");
        let open = move || PostgresStore::connect_with(&target, policy.clone()).expect("connect");
        (Box::new(()), std::sync::Arc::new(open))
    }
}

/// A fresh PostgreSQL database on the test server.
pub fn postgres_store(policy: Policy) -> PostgresStore {
    let url = parapet_testkit::postgres::database();
    let target = parapet_store::postgres::Target::new(&url, None).expect("a test URL");
    PostgresStore::connect_with(&target, policy).expect("connect")
}

/// A fresh SQLite database in a temporary folder.
pub fn sqlite_store(policy: Policy) -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open_with(&dir.path().join("parapet.db"), policy).expect("open store");
    (dir, store)
}

/// One test per story and backend:
/// `[backend_name: Backend, ...] { module { story, ... } ... }`.
macro_rules! stories {
    ([$($backend:ident: $kind:expr),* $(,)?] $stories:tt) => {
        $(stories_on!($backend: $kind; $stories);)*
    };
}

/// The stories on one backend.
macro_rules! stories_on {
    ($backend:ident: $kind:expr; { $($module:ident { $($story:ident),* $(,)? }),* $(,)? }) => {
        mod $backend {
            $(
                mod $module {
                    $(
                        #[test]
                        fn $story() {
                            crate::stories::$module::$story(&$kind);
                        }
                    )*
                }
            )*
        }
    };
}

stories! {
    [on_sqlite: crate::Sqlite, on_postgres: crate::Postgres]
    {
        assets { a_new_version_is_stored_only_when_the_content_changes, an_asset_another_account_already_has_is_kept_there_and_the_rest_is_recorded, the_asset_as_it_was_at_a_time, an_asset_missing_from_a_complete_collection_is_deleted_with_an_event, current_assets_are_the_latest_versions_of_those_not_deleted, a_failed_or_denied_collection_does_not_delete_what_it_could_not_see, an_asset_outside_the_scope_is_refused_and_nothing_is_written, a_scan_records_what_produced_it, an_asset_seen_again_unchanged_was_last_seen_when_its_place_was },
        findings { every_lifecycle_transition_with_its_event, findings_list_filters_and_hides_resolved_by_default, deleting_an_asset_resolves_its_open_findings, results_of_some_assets_or_one_account_leave_out_the_rest_and_the_deleted, events_are_queryable_by_kind_account_and_time, paging_by_cursor_visits_every_finding_once_in_order, a_result_whose_rule_no_longer_applies_is_removed, a_kept_result_is_seen_with_its_asset, a_version_left_without_its_text_is_kept_with_it },
        incidents { findings_of_one_rule_and_account_make_one_incident_that_resolves_and_reopens_with_them, acknowledged_then_resolved_by_hand_with_a_timeline, findings_milder_than_the_policy_make_no_incident },
        jobs { a_group_runs_stage_after_stage_and_a_failure_is_tried_again_later, a_job_whose_lease_passed_is_claimed_again_and_its_first_worker_can_no_longer_finish_it, a_job_abandoned_on_its_last_attempt_fails_for_good, a_scan_is_recorded_with_its_job_only_while_the_lease_holds, workers_claiming_at_once_each_take_different_jobs },
        inventory { assets_filter_by_tag_text_and_place_and_page_by_id, findings_filter_by_severities_rules_and_place, overview_counts_results_open_findings_mutes_and_trend, tokens_are_found_by_hash_used_and_revoked, a_vulnerability_scan_attached_to_an_asset_replaces_its_last_one },
        mutes { a_mute_by_tag_hides_matching_findings_which_are_still_kept_and_evaluated, expiry_unmutes_with_an_event, a_finding_opened_under_an_active_mute_is_muted_at_once, a_mute_must_select_something_and_say_why },
        outbox { each_change_of_state_is_routed_once_in_the_scans_transaction, delivery_attempts_retry_then_fail_and_stay_visible, without_a_router_nothing_is_queued },
        resyncs { accounts_are_resynced_spread_over_the_interval_and_new_ones_join, before_any_account_is_known_one_whole_collection_stands_for_all, processes_claiming_at_once_take_each_resync_once },
        retention { prune_removes_old_history_and_keeps_what_is_current },
        sessions { sessions_last_until_they_expire_or_end_and_a_login_is_taken_once }
    }
}

/// A fixed starting time.
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
        .expect("fixed time")
        .with_timezone(&Utc)
}

/// `t0` plus `hours`.
pub fn at(hours: i64) -> DateTime<Utc> {
    t0() + Duration::hours(hours)
}

/// A bucket in account 111111111111, eu-west-1.
pub fn bucket(name: &str, config: Value, observed: DateTime<Utc>) -> Asset {
    serde_json::from_value(json!({
        "id": format!("arn:aws:s3:::{name}"), "provider": "aws", "account": "111111111111",
        "region": "eu-west-1", "resource_type": "AWS::S3::Bucket", "name": name,
        "tags": {"env": if name.starts_with("dev") { "dev" } else { "prod" }},
        "config": config, "observed_at": observed.to_rfc3339()
    }))
    .expect("valid asset")
}

/// The scope of account 111111111111, every region and type.
pub fn scope() -> Scope {
    Scope::whole(Provider::Aws, vec!["111111111111".into()])
}

/// What the stories' scans say produced them.
pub fn provenance() -> parapet_core::Provenance {
    parapet_core::Provenance::new("test 1", "sha256:0")
}

/// An evaluation of `rule` on `asset`.
pub fn evaluation(rule: &str, asset: &Asset, status: Status) -> Evaluation {
    Evaluation {
        rule_id: rule.into(),
        asset_id: asset.id.as_str().into(),
        status,
        message: format!("{rule} is {status}").into(),
        evidence: BTreeMap::from([("config.Versioning.Status".to_owned(), json!("x"))]).into(),
    }
}

/// Runs one whole scan.
pub fn scan(
    store: &mut dyn Store,
    when: DateTime<Utc>,
    assets: &[Asset],
    evaluations: &[Evaluation],
    errors: &[CollectionError],
) -> ScanOutput {
    let id = store
        .begin_scan(&scope(), "test", &provenance(), when)
        .expect("begin scan");
    store
        .finish_scan(
            id,
            assets,
            parapet_store::Evaluated::all(evaluations),
            &|_: &str| Severity::High,
            errors,
            when,
        )
        .expect("finish scan")
}
