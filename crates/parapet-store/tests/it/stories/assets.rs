use crate::{Backend, at, bucket, scan};
use parapet_core::{CollectionError, EventKind};
use parapet_store::EventQuery;
use parapet_store::Policy;
use parapet_store::roles::*;
use serde_json::json;

const RULE: &str = "aws-s3-bucket-versioning-enabled";

fn kinds(store: &dyn Store, asset: &str) -> Vec<EventKind> {
    let mut events = store
        .events(&EventQuery {
            asset_id: Some(asset.into()),
            ..Default::default()
        })
        .expect("events");
    events.reverse();
    events.into_iter().map(|e| e.event.kind).collect()
}

pub fn a_new_version_is_stored_only_when_the_content_changes(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    let v1 = bucket("logs", json!({"Versioning": {"Status": "Enabled"}}), at(0));
    scan(&mut store, at(0), std::slice::from_ref(&v1), &[], &[]);
    // Seen again, unchanged: no new version, no event.
    let same = bucket("logs", json!({"Versioning": {"Status": "Enabled"}}), at(1));
    let out = scan(&mut store, at(1), &[same], &[], &[]);
    assert_eq!((out.scan.counts.created, out.scan.counts.changed), (0, 0));
    let changed = bucket(
        "logs",
        json!({"Versioning": {"Status": "Suspended"}, "Logging": null}),
        at(2),
    );
    let out = scan(&mut store, at(2), &[changed], &[], &[]);
    assert_eq!(out.scan.counts.changed, 1);

    let history = store.asset_history(&v1.id).expect("history");
    assert_eq!(
        history.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(history[0].asset.config["Versioning"]["Status"], "Enabled");
    assert_eq!(history[1].asset.config["Versioning"]["Status"], "Suspended");
    assert_eq!(history[0].observed_at, at(0));
    assert_eq!(
        kinds(&store, &v1.id),
        vec![EventKind::AssetCreated, EventKind::AssetChanged]
    );

    let changed_event = &store
        .events(&EventQuery {
            kinds: vec![EventKind::AssetChanged],
            ..Default::default()
        })
        .expect("events")[0];
    let changes = changed_event.event.detail["changes"]
        .as_array()
        .expect("changes");
    let paths: Vec<(&str, &str)> = changes
        .iter()
        .map(|c| {
            (
                c["path"].as_str().expect("path"),
                c["kind"].as_str().expect("kind"),
            )
        })
        .collect();
    assert_eq!(
        paths,
        vec![
            ("config.Versioning.Status", "changed"),
            ("config.Logging", "added")
        ]
    );
}

pub fn the_asset_as_it_was_at_a_time(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    scan(
        &mut store,
        at(0),
        &[bucket("a", json!({"N": 1}), at(0))],
        &[],
        &[],
    );
    scan(
        &mut store,
        at(10),
        &[bucket("a", json!({"N": 2}), at(10))],
        &[],
        &[],
    );
    let id = "arn:aws:s3:::a";
    assert!(store.asset_at(id, Some(at(-1))).expect("query").is_none());
    assert_eq!(
        store
            .asset_at(id, Some(at(5)))
            .expect("query")
            .expect("exists")
            .asset
            .config["N"],
        1
    );
    assert_eq!(
        store
            .asset_at(id, Some(at(10)))
            .expect("query")
            .expect("exists")
            .asset
            .config["N"],
        2
    );
    assert_eq!(
        store
            .asset_at(id, None)
            .expect("query")
            .expect("exists")
            .version,
        2
    );
}

pub fn an_asset_missing_from_a_complete_collection_is_deleted_with_an_event(
    backend: &impl Backend,
) {
    let (_dir, mut store) = backend.open(Policy::default());
    let a = bucket("a", json!({}), at(0));
    let b = bucket("b", json!({}), at(0));
    scan(&mut store, at(0), &[a.clone(), b.clone()], &[], &[]);
    let out = scan(&mut store, at(1), std::slice::from_ref(&a), &[], &[]);
    assert_eq!(out.scan.counts.deleted, 1);
    assert_eq!(
        kinds(&store, &b.id),
        vec![EventKind::AssetCreated, EventKind::AssetDeleted]
    );
    let history = store.asset_history(&b.id).expect("history");
    assert_eq!(history.last().expect("version").deleted_at, Some(at(1)));
    // It comes back: created again, as a recreation.
    scan(
        &mut store,
        at(2),
        &[a.clone(), bucket("b", json!({}), at(2))],
        &[],
        &[],
    );
    assert_eq!(
        kinds(&store, &b.id),
        vec![
            EventKind::AssetCreated,
            EventKind::AssetDeleted,
            EventKind::AssetCreated
        ]
    );
    let live = |store: &dyn Store| -> Vec<String> {
        let current = store.current_assets(None).expect("current assets");
        let mut ids: Vec<String> = current.into_iter().map(|asset| asset.id).collect();
        ids.sort();
        ids
    };
    assert_eq!(live(&store), vec![a.id.clone(), b.id.clone()], "live again");
    // Gone again, and back changed: live, at a new version.
    scan(&mut store, at(3), std::slice::from_ref(&a), &[], &[]);
    assert_eq!(live(&store), vec![a.id.clone()]);
    let changed = bucket("b", json!({"Versioning": {"Status": "Enabled"}}), at(4));
    scan(&mut store, at(4), &[a.clone(), changed.clone()], &[], &[]);
    assert_eq!(live(&store), vec![a.id, b.id.clone()]);
    assert_eq!(
        store
            .asset_at(&b.id, None)
            .expect("query")
            .expect("exists")
            .version,
        2
    );
}

pub fn current_assets_are_the_latest_versions_of_those_not_deleted(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    let a = bucket("a", json!({"Versioning": {"Status": "Enabled"}}), at(0));
    let b = bucket("b", json!({}), at(0));
    scan(&mut store, at(0), &[a.clone(), b], &[], &[]);
    let a2 = bucket("a", json!({"Versioning": {"Status": "Suspended"}}), at(1));
    scan(&mut store, at(1), std::slice::from_ref(&a2), &[], &[]);
    let current = store.current_assets(None).expect("current assets");
    assert_eq!(current, vec![a2]);
    assert_eq!(
        store
            .current_assets(Some("111111111111"))
            .expect("one account")
            .len(),
        1
    );
    assert!(
        store
            .current_assets(Some("222222222222"))
            .expect("another account")
            .is_empty()
    );
}

pub fn a_failed_or_denied_collection_does_not_delete_what_it_could_not_see(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    let a = bucket("a", json!({}), at(0));
    let b = bucket("b", json!({}), at(0));
    scan(&mut store, at(0), &[a.clone(), b.clone()], &[], &[]);
    let denied = CollectionError {
        account: Some("111111111111".into()),
        region: None,
        resource_type: Some("AWS::S3::Bucket".into()),
        message: "AccessDenied: s3:ListAllMyBuckets".into(),
    };
    let out = scan(&mut store, at(1), &[], &[], std::slice::from_ref(&denied));
    assert_eq!(out.scan.counts.deleted, 0);
    assert_eq!(out.scan.status, parapet_core::ScanStatus::Partial);
    assert_eq!(kinds(&store, &b.id), vec![EventKind::AssetCreated]);
    // An error in another region does not protect eu-west-1.
    let elsewhere = CollectionError {
        region: Some("us-east-1".into()),
        ..denied
    };
    let out = scan(&mut store, at(2), &[a], &[], &[elsewhere]);
    assert_eq!(out.scan.counts.deleted, 1);
    let scans = store.scans(10).expect("scans");
    assert_eq!(scans.len(), 3);
    assert_eq!(
        scans[1].errors[0].message,
        "AccessDenied: s3:ListAllMyBuckets"
    );
}

pub fn an_asset_outside_the_scope_is_refused_and_nothing_is_written(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    let mut stranger = bucket("x", json!({}), at(0));
    stranger.account = "999999999999".into();
    let id = store
        .begin_scan(&crate::scope(), "test", &crate::provenance(), at(0))
        .expect("begin");
    let error = store
        .finish_scan(
            id,
            &[stranger],
            parapet_store::Evaluated::all(&[]),
            &|_: &str| parapet_core::Severity::Low,
            &[],
            at(0),
        )
        .expect_err("outside the scope");
    assert!(
        error.to_string().contains("outside the scan's scope"),
        "{error}"
    );
    assert!(
        store
            .events(&EventQuery::default())
            .expect("events")
            .is_empty()
    );
    assert_eq!(
        store.scans(1).expect("scans")[0].status,
        parapet_core::ScanStatus::Running
    );
}

pub fn a_scan_records_what_produced_it(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    let asset = bucket("data", json!({}), at(0));
    scan(&mut store, at(0), &[asset], &[], &[]);
    let scans = store.scans(1).expect("scans");
    assert_eq!(scans[0].provenance, Some(crate::provenance()));
    assert_eq!(
        scans[0].provenance.as_ref().map(|p| p.parapet.as_str()),
        Some(env!("CARGO_PKG_VERSION"))
    );
}

pub fn an_asset_another_account_already_has_is_kept_there_and_the_rest_is_recorded(
    backend: &impl Backend,
) {
    let (_dir, mut store) = backend.open(Policy::default());
    let shared = bucket("shared-hub", json!({"v": 1}), at(0));
    let out = scan(&mut store, at(0), std::slice::from_ref(&shared), &[], &[]);
    assert_eq!(out.scan.counts.created, 1);
    // Another account reports an asset of the same id, and one of its own.
    let mut theirs = bucket("shared-hub", json!({"v": 2}), at(1));
    theirs.account = "222222222222".into();
    let mut own = bucket("their-own", json!({}), at(1));
    own.account = "222222222222".into();
    let scope = parapet_core::Scope {
        accounts: vec!["222222222222".into()],
        ..crate::scope()
    };
    let id = store
        .begin_scan(&scope, "test", &crate::provenance(), at(1))
        .expect("begin");
    let evaluations = [
        crate::evaluation("rule", &theirs, parapet_core::Status::Fail),
        crate::evaluation("rule", &own, parapet_core::Status::Fail),
    ];
    let out = store
        .finish_scan(
            id,
            &[theirs.clone(), own.clone()],
            parapet_store::Evaluated::all(&evaluations),
            &|_: &str| parapet_core::Severity::High,
            &[],
            at(1),
        )
        .expect("the rest is recorded");
    assert_eq!(out.scan.status, parapet_core::ScanStatus::Partial);
    assert_eq!((out.scan.counts.created, out.scan.counts.opened), (1, 1));
    assert!(
        out.scan
            .errors
            .iter()
            .any(|e| e.message.contains("shared-hub") && e.message.contains("111111111111")),
        "{:?}",
        out.scan.errors
    );
    let kept = store
        .asset_at(&shared.id, None)
        .expect("read")
        .expect("kept");
    assert_eq!(
        (kept.asset.account.as_str(), kept.version),
        ("111111111111", 1)
    );
    assert!(store.asset_at(&own.id, None).expect("read").is_some());
    assert!(store.finding("rule", &shared.id).expect("read").is_none());
}

/// When `id` was last seen, as the inventory and its finding say.
fn last_seen(
    store: &dyn Store,
    id: &str,
) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    let asset = store
        .assets(&parapet_store::AssetQuery {
            include_deleted: true,
            ..Default::default()
        })
        .expect("assets")
        .into_iter()
        .find(|a| a.id == id)
        .expect("the asset");
    let finding = store
        .finding(RULE, id)
        .expect("query")
        .expect("its finding");
    (asset.last_seen, finding.last_seen)
}

pub fn an_asset_seen_again_unchanged_was_last_seen_when_its_place_was(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    let sighting = |when| bucket("a", json!({}), at(when));
    let result = |when| crate::evaluation(RULE, &sighting(when), parapet_core::Status::Fail);
    scan(&mut store, at(0), &[sighting(0)], &[result(0)], &[]);
    // Seen again unchanged, its result kept: nothing of it is written.
    scan(&mut store, at(1), &[sighting(1)], &[], &[]);
    assert_eq!(last_seen(&store, &sighting(0).id), (at(1), at(1)));
    // A collection that failed in its place did not see it.
    let denied = CollectionError {
        account: Some("111111111111".into()),
        region: Some("eu-west-1".into()),
        resource_type: None,
        message: "AccessDenied".into(),
    };
    scan(&mut store, at(2), &[], &[], std::slice::from_ref(&denied));
    assert_eq!(last_seen(&store, &sighting(0).id), (at(1), at(1)));
    // Seen again, beside an asset of another region.
    let mut elsewhere = bucket("b", json!({}), at(3));
    elsewhere.region = "us-east-1".into();
    elsewhere.id = "arn:aws:s3:::elsewhere".into();
    scan(
        &mut store,
        at(3),
        &[sighting(3), elsewhere.clone()],
        &[],
        &[],
    );
    assert_eq!(last_seen(&store, &sighting(0).id), (at(3), at(3)));
    // Deleted later, it was last seen at its last sighting, not when it was
    // found missing.
    let out = scan(&mut store, at(4), &[elsewhere], &[], &[]);
    assert_eq!(out.scan.counts.deleted, 1);
    let (asset, _) = last_seen(&store, &sighting(0).id);
    assert_eq!(asset, at(3));
}
