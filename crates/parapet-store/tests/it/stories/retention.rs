use crate::{Backend, at, bucket, evaluation, scan};
use parapet_core::Status;
use parapet_store::roles::*;
use parapet_store::{EventQuery, FindingQuery, Policy};
use serde_json::json;
use std::collections::BTreeMap;

const RULE: &str = "aws-s3-bucket-versioning-enabled";

pub fn prune_removes_old_history_and_keeps_what_is_current(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    let day = |d: i64| at(24 * d);
    let a = |v: u32, d: i64| bucket("a", json!({"v": v}), day(d));
    let b = |d: i64| bucket("b", json!({}), day(d));
    let c = bucket("c", json!({}), day(0));
    scan(
        &mut store,
        day(0),
        &[a(1, 0), b(0), c.clone()],
        &[
            evaluation(RULE, &a(1, 0), Status::Fail),
            evaluation(RULE, &b(0), Status::Pass),
            evaluation(RULE, &c, Status::Fail),
        ],
        &[],
    );
    // Day 10: a changes, c is gone.
    scan(
        &mut store,
        day(10),
        &[a(2, 10), b(10)],
        &[
            evaluation(RULE, &a(2, 10), Status::Fail),
            evaluation(RULE, &b(10), Status::Pass),
        ],
        &[],
    );
    // Day 20: a changes and passes, b starts failing.
    scan(
        &mut store,
        day(20),
        &[a(3, 20), b(20)],
        &[
            evaluation(RULE, &a(3, 20), Status::Pass),
            evaluation(RULE, &b(20), Status::Fail),
        ],
        &[],
    );
    let pruned = store.prune(day(15)).expect("prune");
    assert_eq!(
        pruned.rows["asset_versions"], 2,
        "a's first version and c's only one: {pruned:?}"
    );
    assert_eq!(pruned.rows["assets"], 1, "c, deleted on day 10");
    assert_eq!(pruned.rows["scans"], 2);
    assert!(pruned.rows["events"] > 0);
    let history = store.asset_history(&a(1, 0).id).expect("history");
    assert_eq!(
        history.iter().map(|v| v.version).collect::<Vec<_>>(),
        [2, 3],
        "the version current at the cutoff stays"
    );
    let then = store
        .asset_at(&a(1, 0).id, Some(day(16)))
        .expect("read")
        .expect("a as it was on day 16");
    assert_eq!(then.asset.config["v"], 2);
    assert!(store.asset_at(&c.id, None).expect("read").is_none());
    assert_eq!(
        store.asset_history(&b(0).id).expect("history").len(),
        1,
        "b's only version is current"
    );
    let open = store.findings(&FindingQuery::default()).expect("findings");
    assert_eq!(
        open.iter().map(|f| f.asset_id.as_str()).collect::<Vec<_>>(),
        [b(0).id.as_str()],
        "the open finding stays"
    );
    let events = store
        .events(&EventQuery {
            limit: 1000,
            ..Default::default()
        })
        .expect("events");
    assert!(events.iter().all(|e| e.event.at >= day(15)), "{events:?}");
    assert!(!events.is_empty(), "day 20's events stay");
    assert_eq!(store.scans(10).expect("scans").len(), 1);
    // The overview's counters follow the deletions.
    let mut recount: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for f in store.results(None).expect("results") {
        *recount
            .entry((f.account, f.rule_id, f.result.as_str().to_owned()))
            .or_default() += 1;
    }
    let counters: BTreeMap<(String, String, String), i64> = store
        .result_counts()
        .expect("counts")
        .into_iter()
        .map(|c| {
            (
                (c.account, c.rule_id, c.result.as_str().to_owned()),
                c.count,
            )
        })
        .collect();
    assert_eq!(counters, recount);
    assert_eq!(
        store.prune(day(15)).expect("again").total(),
        0,
        "nothing more to remove"
    );
}
