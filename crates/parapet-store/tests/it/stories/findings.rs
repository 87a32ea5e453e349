use crate::{Backend, at, bucket, evaluation, scan};
use parapet_core::{EventKind, FindingStatus, Status};
use parapet_store::Policy;
use parapet_store::roles::*;
use parapet_store::{Content, EventQuery, FindingQuery};
use serde_json::json;

const RULE: &str = "aws-s3-bucket-versioning-enabled";

fn finding_events(store: &dyn Store) -> Vec<EventKind> {
    let mut events = store
        .events(&EventQuery {
            rule_id: Some(RULE.into()),
            ..Default::default()
        })
        .expect("events");
    events.reverse();
    events.into_iter().map(|e| e.event.kind).collect()
}

pub fn every_lifecycle_transition_with_its_event(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    let step = |store: &mut dyn Store, hour: i64, status: Status| {
        let asset = bucket("data", json!({"hour": hour}), at(hour));
        let evaluation = evaluation(RULE, &asset, status);
        scan(store, at(hour), &[asset], &[evaluation], &[]);
        store.finding(RULE, "arn:aws:s3:::data").expect("query")
    };
    // Passing first: recorded, but not a finding.
    let f = step(&mut store, 0, Status::Pass).expect("evaluation kept");
    assert_eq!((f.status, f.result), (None, Status::Pass));
    // Fails: opened.
    let f = step(&mut store, 1, Status::Fail).expect("finding");
    assert_eq!(f.status, Some(FindingStatus::Open));
    assert_eq!(f.first_seen, Some(at(1)));
    // Unknown and error never resolve it.
    for (hour, status) in [(2, Status::Unknown), (3, Status::Error)] {
        let f = step(&mut store, hour, status).expect("finding");
        assert_eq!(f.status, Some(FindingStatus::Open));
        assert_eq!(f.result, status);
        assert_eq!(f.last_seen, at(hour));
    }
    // Passes: resolved.
    let f = step(&mut store, 4, Status::Pass).expect("finding");
    assert_eq!(f.status, Some(FindingStatus::Resolved));
    assert_eq!(f.resolved_at, Some(at(4)));
    // Unknown does not reopen it.
    let f = step(&mut store, 5, Status::Unknown).expect("finding");
    assert_eq!(f.status, Some(FindingStatus::Resolved));
    // Fails again: reopened, first seen kept.
    let f = step(&mut store, 6, Status::Fail).expect("finding");
    assert_eq!(f.status, Some(FindingStatus::Reopened));
    assert_eq!(f.first_seen, Some(at(1)));
    assert_eq!(f.resolved_at, None);
    // Still failing: no new event.
    step(&mut store, 7, Status::Fail);
    assert_eq!(
        finding_events(&store),
        vec![
            EventKind::FindingOpened,
            EventKind::FindingResolved,
            EventKind::FindingReopened
        ]
    );
}

pub fn findings_list_filters_and_hides_resolved_by_default(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    let a = bucket("a", json!({}), at(0));
    let b = bucket("b", json!({}), at(0));
    let c = bucket("c", json!({}), at(0));
    let evaluations = [
        evaluation(RULE, &a, Status::Fail),
        evaluation(RULE, &b, Status::Fail),
        evaluation(RULE, &c, Status::Pass),
    ];
    scan(
        &mut store,
        at(0),
        &[a.clone(), b.clone(), c.clone()],
        &evaluations,
        &[],
    );
    let evaluations = [
        evaluation(RULE, &a, Status::Fail),
        evaluation(RULE, &b, Status::Pass),
        evaluation(RULE, &c, Status::Pass),
    ];
    scan(&mut store, at(1), &[a, b, c], &evaluations, &[]);
    let open = store.findings(&FindingQuery::default()).expect("findings");
    assert_eq!(
        open.iter().map(|f| f.asset_id.as_str()).collect::<Vec<_>>(),
        vec!["arn:aws:s3:::a"]
    );
    let resolved = store
        .findings(&FindingQuery {
            statuses: vec![FindingStatus::Resolved],
            ..Default::default()
        })
        .expect("findings");
    assert_eq!(resolved.len(), 1);
    let none_critical = store
        .findings(&FindingQuery {
            min_severity: Some(parapet_core::Severity::Critical),
            ..Default::default()
        })
        .expect("findings");
    assert!(none_critical.is_empty(), "rules here are high");
    assert_eq!(
        open[0].evidence.get("config.Versioning.Status"),
        Some(&json!("x"))
    );
}

pub fn deleting_an_asset_resolves_its_open_findings(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    let a = bucket("a", json!({}), at(0));
    scan(
        &mut store,
        at(0),
        std::slice::from_ref(&a),
        &[evaluation(RULE, &a, Status::Fail)],
        &[],
    );
    scan(&mut store, at(1), &[], &[], &[]);
    let f = store.finding(RULE, &a.id).expect("query").expect("kept");
    assert_eq!(f.status, Some(FindingStatus::Resolved));
    let events = store
        .events(&EventQuery {
            kinds: vec![EventKind::FindingResolved],
            ..Default::default()
        })
        .expect("events");
    assert_eq!(events[0].event.detail["why"], "asset deleted");
}

pub fn results_of_some_assets_or_one_account_leave_out_the_rest_and_the_deleted(
    backend: &impl Backend,
) {
    let (_dir, mut store) = backend.open(Policy::default());
    let [a, b, c] = ["a", "b", "c"].map(|name| bucket(name, json!({}), at(0)));
    scan(
        &mut store,
        at(0),
        &[a.clone(), b.clone(), c.clone()],
        &[
            evaluation(RULE, &a, Status::Fail),
            evaluation(RULE, &b, Status::Pass),
            evaluation(RULE, &c, Status::Fail),
        ],
        &[],
    );
    scan(&mut store, at(1), &[a.clone(), b.clone()], &[], &[]);
    let assets = |found: Vec<parapet_core::Finding>| -> Vec<String> {
        let mut ids: Vec<String> = found.into_iter().map(|f| f.asset_id).collect();
        ids.sort();
        ids
    };
    let of = store
        .results_of(&[a.id.as_str(), c.id.as_str(), "arn:aws:s3:::unknown"])
        .expect("results of assets");
    assert_eq!(assets(of), std::slice::from_ref(&a.id), "c was deleted");
    let of_account = store.results(Some(&a.account)).expect("results");
    assert_eq!(assets(of_account), [a.id.clone(), b.id.clone()]);
    assert!(
        store
            .results(Some("999999999999"))
            .expect("results")
            .is_empty()
    );
}

pub fn events_are_queryable_by_kind_account_and_time(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    let a = bucket("a", json!({}), at(0));
    scan(
        &mut store,
        at(0),
        std::slice::from_ref(&a),
        &[evaluation(RULE, &a, Status::Fail)],
        &[],
    );
    scan(
        &mut store,
        at(5),
        &[bucket("a", json!({"x": 1}), at(5))],
        &[],
        &[],
    );
    let all = store.events(&EventQuery::default()).expect("events");
    assert_eq!(all.len(), 3);
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    let since = store
        .events(&EventQuery {
            since: Some(at(1)),
            ..Default::default()
        })
        .expect("events");
    assert_eq!(since.len(), 1);
    assert_eq!(since[0].event.kind, EventKind::AssetChanged);
    let until = store
        .events(&EventQuery {
            until: Some(at(1)),
            ..Default::default()
        })
        .expect("events");
    assert_eq!(until.len(), 2);
    let other_account = store
        .events(&EventQuery {
            account: Some("222222222222".into()),
            ..Default::default()
        })
        .expect("events");
    assert!(other_account.is_empty());
    let page = store
        .events(&EventQuery {
            limit: 1,
            before_id: Some(all[0].id),
            ..Default::default()
        })
        .expect("events");
    assert_eq!(page[0].id, all[1].id);
}

pub fn paging_by_cursor_visits_every_finding_once_in_order(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    let assets: Vec<_> = (0..25)
        .map(|n| bucket(&format!("b{n:02}"), json!({}), at(0)))
        .collect();
    let evaluations: Vec<_> = assets
        .iter()
        .map(|a| evaluation(RULE, a, Status::Fail))
        .collect();
    scan(&mut store, at(0), &assets, &evaluations, &[]);
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .findings(&FindingQuery {
                limit: 10,
                after: after.clone(),
                ..Default::default()
            })
            .expect("page");
        let Some(last) = page.last() else { break };
        after = Some(parapet_store::FindingCursor::after(last));
        seen.extend(page.iter().map(|f| f.asset_id.clone()));
    }
    let expected: Vec<String> = assets.iter().map(|a| a.id.clone()).collect();
    assert_eq!(seen, expected);
}

/// Records one scan of `assets` with `evaluated`.
fn scan_with(
    store: &mut dyn Store,
    when: chrono::DateTime<chrono::Utc>,
    assets: &[parapet_core::Asset],
    evaluated: parapet_store::Evaluated<'_>,
) -> parapet_core::ScanCounts {
    let id = store
        .begin_scan(&crate::scope(), "test", &crate::provenance(), when)
        .expect("begin scan");
    store
        .finish_scan(
            id,
            assets,
            evaluated,
            &|_: &str| parapet_core::Severity::High,
            &[],
            when,
        )
        .expect("finish scan")
        .scan
        .counts
}

pub fn a_result_whose_rule_no_longer_applies_is_removed(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    let data = bucket("data", json!({}), at(0));
    let logs = bucket("logs", json!({}), at(0));
    let failing = [
        evaluation(RULE, &data, Status::Fail),
        evaluation(RULE, &logs, Status::Pass),
    ];
    scan(
        &mut store,
        at(0),
        &[data.clone(), logs.clone()],
        &failing,
        &[],
    );
    let inapplicable: Vec<(std::sync::Arc<str>, std::sync::Arc<str>)> = [&data, &logs]
        .iter()
        .map(|a| (RULE.into(), a.id.as_str().into()))
        .collect();
    let counts = scan_with(
        &mut store,
        at(1),
        &[data.clone(), logs.clone()],
        parapet_store::Evaluated {
            evaluations: &[],
            stamps: &[],
            contents: &[],
            kept: 0,
            inapplicable: &inapplicable,
        },
    );
    assert_eq!(counts.resolved, 1, "the open finding is resolved");
    assert!(store.results(None).expect("results").is_empty());
    let resolved = store
        .events(&EventQuery {
            kinds: vec![EventKind::FindingResolved],
            ..Default::default()
        })
        .expect("events");
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].event.asset_id, data.id);
    assert_eq!(
        resolved[0].event.detail["why"],
        json!("the rule no longer applies")
    );
}

pub fn a_kept_result_is_seen_with_its_asset(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    let data = bucket("data", json!({}), at(0));
    scan(
        &mut store,
        at(0),
        std::slice::from_ref(&data),
        &[evaluation(RULE, &data, Status::Fail)],
        &[],
    );
    let later = bucket("data", json!({}), at(3));
    let stamps = [Some("sha256:1/0/0/0".to_owned())];
    let counts = scan_with(
        &mut store,
        at(3),
        std::slice::from_ref(&later),
        parapet_store::Evaluated {
            evaluations: &[],
            stamps: &stamps,
            contents: &[],
            kept: 1,
            inapplicable: &[],
        },
    );
    assert_eq!((counts.evaluations, counts.kept), (0, 1));
    let f = store.finding(RULE, &data.id).expect("query").expect("kept");
    assert_eq!(f.status, Some(FindingStatus::Open));
    assert_eq!(f.last_seen, at(3), "seen when its asset was");
    let evaluated = store
        .evaluated_assets(&[data.id.as_str(), "arn:aws:s3:::elsewhere"])
        .expect("stamps");
    assert_eq!(evaluated.len(), 1);
    assert_eq!(Some(&evaluated[0].stamp), stamps[0].as_ref());
    assert_eq!(evaluated[0].content_hash, later.content_hash().to_string());
    let of_account = store
        .evaluated_assets_of(later.provider, &later.account)
        .expect("stamps");
    assert_eq!(of_account, evaluated, "the same read by account");
    assert!(
        store
            .evaluated_assets_of(later.provider, "999999999999")
            .expect("stamps")
            .is_empty()
    );
    // A stamp that stays is not given again: the one stored stands, and the
    // asset is seen when its place was.
    let again = bucket("data", json!({}), at(4));
    scan_with(
        &mut store,
        at(4),
        std::slice::from_ref(&again),
        parapet_store::Evaluated {
            evaluations: &[],
            stamps: &[None],
            contents: &[],
            kept: 1,
            inapplicable: &[],
        },
    );
    assert_eq!(
        store.evaluated_assets(&[data.id.as_str()]).expect("stamps"),
        evaluated,
        "the stamp stored stands"
    );
    let f = store.finding(RULE, &data.id).expect("query").expect("kept");
    assert_eq!(f.last_seen, at(4), "seen when its asset was");
}

pub fn a_version_left_without_its_text_is_kept_with_it(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    let first = bucket("data", json!({"Versioning": "Off"}), at(0));
    let changed = bucket("data", json!({"Versioning": "On"}), at(1));
    let other = bucket("other", json!({"Versioning": "On"}), at(0));
    for (when, asset, content) in [
        (
            at(0),
            &first,
            Content::Hashed {
                text: String::new(),
                hash: first.content_hash().to_string(),
            },
        ),
        (
            at(1),
            &changed,
            Content::Hashed {
                text: String::new(),
                hash: changed.content_hash().to_string(),
            },
        ),
        (at(2), &other, Content::AsStored),
    ] {
        // Evaluation leaves the text out where the content looked the same
        // as stored (or the content itself, as stored); recording makes it
        // where a version is kept after all.
        let contents = [content];
        scan_with(
            &mut store,
            when,
            std::slice::from_ref(asset),
            parapet_store::Evaluated {
                evaluations: &[],
                stamps: &[],
                contents: &contents,
                kept: 0,
                inapplicable: &[],
            },
        );
        let stored = store
            .asset_at(&asset.id, None)
            .expect("query")
            .expect("the asset");
        assert_eq!(stored.content_hash, asset.content_hash());
        assert_eq!(
            stored.asset.config, asset.config,
            "the version keeps its document"
        );
    }
    assert_eq!(
        store
            .asset_at(&first.id, Some(at(0)))
            .expect("query")
            .expect("the first version")
            .asset
            .config,
        first.config
    );
    // Seen again as stored: the hash stored stands, and no version is added.
    scan_with(
        &mut store,
        at(3),
        std::slice::from_ref(&changed),
        parapet_store::Evaluated {
            evaluations: &[],
            stamps: &[],
            contents: &[Content::AsStored],
            kept: 0,
            inapplicable: &[],
        },
    );
    let history = store.asset_history(&changed.id).expect("history");
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[1].content_hash, changed.content_hash());
}
