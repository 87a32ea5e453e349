//! Incremental evaluation against a full one: two databases scan the same
//! estate round after round, one keeping the results whose inputs did not
//! change, the other evaluating everything again; after random changes of
//! assets, vulnerability scans (facts), rules, the tag policy and the clock,
//! both hold the same results and findings.

use chrono::{DateTime, Duration, Utc};
use parapet_core::{Asset, Evaluation, Finding, Vulnerability, VulnerabilityScan};
use parapet_pipeline::{Pipeline, Request, Run};
use parapet_provider::Quiet;
use parapet_provider::file::FileSource;
use parapet_rules::condition::Condition;
use parapet_rules::{IdentityPolicy, RuleSources, TagPolicy, load};
use parapet_store::{Findings, Inventory, Scans, SqliteStore, Store};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

/// The documents the AWS collector produced from moto in two postures
/// (the rules crate's benchmark fixture): the first of each id is the
/// estate, the second its other posture.
fn collected() -> (Vec<Asset>, BTreeMap<String, Asset>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../parapet-rules/benches/fixtures/aws-account.jsonl");
    let text = std::fs::read_to_string(&path).expect("the fixture");
    let mut estate: Vec<Asset> = Vec::new();
    let mut other = BTreeMap::new();
    for line in text.lines() {
        let asset: Asset = serde_json::from_str(line).expect("an asset");
        if estate.iter().any(|a| a.id == asset.id) {
            other.insert(asset.id.clone(), asset);
        } else {
            estate.push(asset);
        }
    }
    (estate, other)
}

/// The rule variants a round can run: the built-in pack, with one rule's
/// condition negated, and with a tag policy.
fn pipeline(variant: usize, clock: DateTime<Utc>, full: bool) -> Pipeline {
    let mut rules = load(&RuleSources {
        builtin: true,
        folders: Vec::new(),
    })
    .rules;
    let mut tags = TagPolicy::default();
    match variant % 3 {
        1 => {
            let index = variant % rules.len();
            let negated = format!("!({})", rules[index].compliant.source);
            rules[index].compliant = Condition::compile(&negated).expect("a negated condition");
        }
        2 => tags.required = vec!["owner".to_owned()],
        _ => {}
    }
    Pipeline::new(rules, &tags, &IdentityPolicy::default())
        .full(full)
        .with_clock(Arc::new(move || clock))
}

/// One random change of the estate or of the facts both databases share.
fn change(
    rng: &mut fastrand::Rng,
    estate: &mut Vec<Asset>,
    gone: &mut Vec<Asset>,
    other: &mut BTreeMap<String, Asset>,
    stores: &mut [&mut SqliteStore; 2],
    clock: DateTime<Utc>,
) {
    match rng.u8(0..6) {
        // The other posture of an asset (a security group, a bucket...).
        0 | 1 => {
            let index = rng.usize(0..estate.len());
            if let Some(next) = other.remove(&estate[index].id) {
                let previous = std::mem::replace(&mut estate[index], next);
                other.insert(previous.id.clone(), previous);
            }
        }
        2 => {
            let index = rng.usize(0..estate.len());
            let asset = &mut estate[index];
            let key = ["owner", "team"][rng.usize(0..2)].to_owned();
            if asset.tags.remove(&key).is_none() {
                asset.tags.insert(key, "x".to_owned());
            }
        }
        3 => {
            if rng.bool() && !gone.is_empty() {
                estate.push(gone.remove(rng.usize(0..gone.len())));
            } else {
                gone.push(estate.swap_remove(rng.usize(0..estate.len())));
            }
        }
        // A scan of an instance or the image it was launched from.
        _ => {
            let scanned: Vec<&Asset> = estate
                .iter()
                .filter(|a| {
                    ["AWS::EC2::Instance", "AWS::EC2::Image"].contains(&a.resource_type.as_str())
                })
                .collect();
            if scanned.is_empty() {
                return;
            }
            let target = scanned[rng.usize(0..scanned.len())].id.clone();
            let fixed = rng.bool().then(|| "1.1".to_owned());
            let scan = VulnerabilityScan {
                target: "docker://app".to_owned(),
                scanned_at: clock,
                packages: 10,
                vulnerabilities: vec![Vulnerability {
                    advisory: format!("DSA-{}", rng.u16(1..5)),
                    aliases: Vec::new(),
                    package: "openssl".to_owned(),
                    version: "1.0".to_owned(),
                    ecosystem: "Debian".to_owned(),
                    severity: Some(parapet_core::Severity::Critical),
                    score: None,
                    fixed,
                }],
            };
            for store in stores.iter_mut() {
                store
                    .attach_vulnerabilities(&target, &scan)
                    .expect("a scan attached");
            }
        }
    }
}

/// A finding as both databases must hold it: when its asset was last seen
/// aside (the full evaluation rewrites it, the incremental one keeps it).
fn held(store: &SqliteStore) -> Vec<Finding> {
    let mut findings = store.results(None).expect("results");
    for f in &mut findings {
        f.last_seen = DateTime::<Utc>::UNIX_EPOCH;
    }
    findings.sort_by(|a, b| (&a.rule_id, &a.asset_id).cmp(&(&b.rule_id, &b.asset_id)));
    findings
}

/// A result as reports show it: rule, asset, status, message, evidence.
type Shown = (String, String, String, String, String);

/// Results as reports show them, in one order.
fn shown(evaluations: &[Evaluation]) -> Vec<Shown> {
    let mut shown: Vec<_> = evaluations
        .iter()
        .map(|e| {
            (
                e.rule_id.to_string(),
                e.asset_id.to_string(),
                e.status.as_str().to_owned(),
                e.message.to_string(),
                serde_json::to_string(&e.evidence).expect("evidence"),
            )
        })
        .collect();
    shown.sort();
    shown
}

fn scan(pipeline: &Pipeline, file: &Path, store: &mut SqliteStore) -> Run {
    let source = FileSource::new(file.to_owned(), Vec::new());
    pipeline
        .run(
            &source,
            Some(store as &mut dyn Store),
            Request::Whole,
            &Quiet,
        )
        .expect("a run")
}

#[test]
fn incremental_results_equal_a_full_evaluation_after_random_changes() {
    let (mut estate, mut other) = collected();
    let mut gone = Vec::new();
    let (dir, mut kept) = crate::store();
    let (_full_dir, mut full) = crate::store();
    let file = dir.path().join("estate.jsonl");
    let mut rng = fastrand::Rng::with_seed(24);
    let mut clock: DateTime<Utc> = "2026-12-04T18:00:00Z".parse().expect("a time");
    let mut variant = 0;
    let (mut total_kept, mut rule_changes) = (0, 0);
    // Results that read the time: worked out again by the incremental
    // scans, and in all.
    let mut timed = (0, 0);
    for round in 0..16 {
        if round > 0 {
            for _ in 0..rng.usize(0..6) {
                change(
                    &mut rng,
                    &mut estate,
                    &mut gone,
                    &mut other,
                    &mut [&mut kept, &mut full],
                    clock,
                );
            }
            // Within a day and a half, or up to two months.
            clock += match rng.bool() {
                true => Duration::minutes(rng.i64(0..36 * 60)),
                false => Duration::days(rng.i64(0..60)) + Duration::minutes(rng.i64(0..24 * 60)),
            };
            if rng.u8(0..4) == 0 {
                variant = rng.usize(0..300);
                rule_changes += 1;
            }
        }
        let lines: String = estate
            .iter()
            .map(|a| serde_json::to_string(a).expect("JSON") + "\n")
            .collect();
        std::fs::write(&file, lines).expect("the estate written");
        let incremental = pipeline(variant, clock, false);
        let a = scan(&incremental, &file, &mut kept);
        let b = scan(&pipeline(variant, clock, true), &file, &mut full);
        assert_eq!(b.reuse.kept, 0, "a full evaluation keeps nothing");
        total_kept += a.reuse.kept;
        if round > 0 {
            let time_rules: HashSet<&str> = incremental
                .engine()
                .rules()
                .iter()
                .filter(|r| r.context().contains("now"))
                .map(|r| &*r.id)
                .collect();
            let time = |e: &&Evaluation| time_rules.contains(&*e.rule_id);
            timed.0 += a
                .reuse
                .worked_out
                .get(&parapet_rules::Why::Time)
                .copied()
                .unwrap_or(0);
            timed.1 += b.evaluations.iter().filter(time).count() as u64;
        }
        let counts = |run: &Run| {
            let c = &run.recorded[0].counts;
            (
                c.assets, c.created, c.changed, c.deleted, c.opened, c.resolved, c.reopened,
            )
        };
        assert_eq!(
            counts(&a),
            counts(&b),
            "round {round}: what the scans changed"
        );
        assert!(
            held(&kept) == held(&full),
            "round {round}: the findings differ"
        );
        let assets: Vec<&Asset> = a.collection.assets().collect();
        let all = incremental
            .all_results(&kept, &assets, &a.evaluations)
            .expect("the results");
        let (all, everything) = (shown(&all), shown(&b.evaluations));
        let only = |x: &[Shown], y: &[Shown]| -> Vec<Shown> {
            x.iter().filter(|e| !y.contains(e)).cloned().collect()
        };
        assert_eq!(
            (only(&all, &everything), only(&everything, &all)),
            (Vec::new(), Vec::new()),
            "round {round}: the report (results only incremental, only full)"
        );
        assert_eq!(
            kept.current_assets(None).expect("assets").len(),
            estate.len()
        );
    }
    assert!(total_kept > 0, "unchanged results were kept");
    assert!(rule_changes > 0, "the rules changed at least once");
    assert!(
        timed.0 > 0 && timed.0 < timed.1,
        "results that read the time were worked out again only when their answer could change ({timed:?})"
    );
    // Nothing changed, the clock neither: every result is kept.
    let again = scan(&pipeline(variant, clock, false), &file, &mut kept);
    assert_eq!(again.reuse.worked_out(), 0);
    assert!(again.reuse.kept > 0);
}

#[test]
fn stamps_without_a_fingerprint_keep_every_result_and_gain_one() {
    let (estate, _) = collected();
    let (dir, mut store) = crate::store();
    let file = dir.path().join("estate.jsonl");
    let lines: Vec<String> = estate
        .iter()
        .map(|a| serde_json::to_string(a).expect("a document"))
        .collect();
    std::fs::write(&file, lines.join("\n")).expect("the estate");
    let clock: DateTime<Utc> = "2026-12-06T12:00:00Z".parse().expect("a time");
    let pipeline = pipeline(0, clock, false);
    scan(&pipeline, &file, &mut store);
    let account = &estate[0].account;
    let stamps = |store: &SqliteStore| -> Vec<(String, parapet_rules::Stamp)> {
        store
            .evaluated_assets_of(parapet_core::Provider::Aws, account)
            .expect("the stamps")
            .into_iter()
            .map(|a| {
                (
                    a.id,
                    parapet_rules::Stamp::parse(&a.stamp).expect("a stamp"),
                )
            })
            .collect()
    };
    let first = stamps(&store);
    assert!(!first.is_empty() && first.iter().all(|(_, s)| s.content != 0));
    // As a version before fingerprints wrote them: the last field dropped.
    let db = rusqlite::Connection::open(dir.path().join("parapet.db")).expect("the database");
    for (id, stamp) in &first {
        let text = stamp.to_text();
        let old = text.rsplit_once('/').expect("fields").0;
        db.execute(
            "UPDATE assets SET evaluated = ?1 WHERE id = ?2",
            (old, id.as_str()),
        )
        .expect("an old stamp");
    }
    drop(db);
    assert!(stamps(&store).iter().all(|(_, s)| s.content == 0));
    let rescan = scan(&pipeline, &file, &mut store);
    assert_eq!(rescan.reuse.worked_out(), 0, "{:?}", rescan.reuse);
    let changed: u64 = rescan.recorded.iter().map(|s| s.counts.changed).sum();
    assert_eq!(changed, 0, "no asset changed");
    assert_eq!(stamps(&store), first, "the fingerprints written back");
    let again = scan(&pipeline, &file, &mut store);
    assert_eq!(again.reuse.worked_out(), 0);
}
