use chrono::Utc;
use parapet_core::{Asset, ExposureFacts, Status};
use parapet_rules::{Before, Engine, Facts, Incremental, Rule, RulePack, Subject, Why};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

fn rule(id: &str, compliant: &str) -> Rule {
    let text = format!(
        "id: {id}\ntitle: Test rule\ndescription: d\nseverity: high\nresource_types: [AWS::S3::Bucket]\n\
         compliant: {compliant:?}\nremediation: {{text: t}}\n\
         examples: {{compliant: [{{description: a, config: {{}}}}], non_compliant: [{{description: b, config: {{}}}}]}}\n"
    );
    Rule::parse(Path::new("test.yaml"), &text).expect("test rule parses")
}

fn engine() -> Engine {
    Engine::new(vec![
        rule("content", "config.A == 1"),
        rule("exposed", "size(exposure) == 0"),
        rule("recent", "ageDays(config.Created) < 90"),
    ])
}

fn bucket() -> Asset {
    serde_json::from_value(json!({
        "id": "arn:aws:s3:::b", "provider": "aws", "account": "123456789012", "region": "us-east-1",
        "resource_type": "AWS::S3::Bucket", "name": "b",
        "config": {"A": 1, "Created": "2026-11-01T00:00:00Z"},
        "observed_at": "2026-11-29T00:00:00Z"
    }))
    .expect("valid asset")
}

fn undecided(why: &str, now: chrono::DateTime<Utc>) -> Facts {
    Facts::at(now).with_exposure(ExposureFacts {
        exposed: HashMap::new(),
        undecided: HashMap::from([("arn:aws:s3:::b".to_owned(), why.to_owned())]),
    })
}

/// Evaluates the bucket again after `first`, as `hash` now, under `facts`
/// and `engine`'s pack, with what `first` recorded under `pack`.
fn again(
    engine: &Engine,
    facts: &Facts,
    hash: &str,
    first: &Incremental,
    pack: &RulePack,
) -> Incremental {
    let asset = bucket();
    let now = engine.pack();
    let changed = engine.changed_rules(&now, pack);
    engine.evaluate_changed(
        facts,
        &now,
        &[Subject {
            asset: &asset,
            content_hash: hash,
            content_fingerprint: 0,
            before: Some(Before {
                content_hash: "h1",
                stamp: &first.stamps[0],
                changed_rules: &changed,
            }),
        }],
    )
}

/// The bucket evaluated for the first time, under `facts`.
fn first_run(engine: &Engine, facts: &Facts) -> Incremental {
    let asset = bucket();
    engine.evaluate_changed(
        facts,
        &engine.pack(),
        &[Subject {
            asset: &asset,
            content_hash: "h1",
            content_fingerprint: 0,
            before: None,
        }],
    )
}

/// The rules worked out, in order.
fn rules(run: &Incremental) -> Vec<&str> {
    run.evaluations.iter().map(|e| &*e.rule_id).collect()
}

#[test]
fn a_result_is_worked_out_again_only_when_what_it_reads_changed() {
    let engine = engine();
    let pack = engine.pack();
    let now = Utc::now();
    let facts = undecided("a route table could not be read", now);
    let first = first_run(&engine, &facts);
    assert_eq!(first.evaluations.len(), 3);
    assert_eq!(first.reuse.worked_out, BTreeMap::from([(Why::New, 3)]));
    assert_eq!(first.reuse.kept, 0);

    // Nothing changed: every result is kept, the one that reads the time
    // too while its count of days stands.
    let same = again(&engine, &facts, "h1", &first, &pack);
    assert_eq!(rules(&same), Vec::<&str>::new());
    assert_eq!(same.reuse.kept, 3);
    assert_eq!(same.stamps, first.stamps);

    // The content changed: every rule.
    let changed = again(&engine, &facts, "h2", &first, &pack);
    assert_eq!(changed.reuse.worked_out, BTreeMap::from([(Why::Asset, 3)]));

    // The exposure changed: the rule that reads it.
    let decided = Facts::at(now);
    let exposure = again(&engine, &decided, "h1", &first, &pack);
    let mut found: Vec<(&str, Status)> = exposure
        .evaluations
        .iter()
        .map(|e| (&*e.rule_id, e.status))
        .collect();
    found.sort();
    assert_eq!(found, [("exposed", Status::Pass)]);
    assert_eq!(
        exposure.reuse.worked_out,
        BTreeMap::from([(Why::Exposure, 1)])
    );
    assert_ne!(exposure.stamps, first.stamps);

    // One rule changed: that rule.
    let edited = Engine::new(vec![
        rule("content", "config.A == 2"),
        rule("exposed", "size(exposure) == 0"),
        rule("recent", "ageDays(config.Created) < 90"),
    ]);
    let edit = again(&edited, &facts, "h1", &first, &pack);
    assert_eq!(rules(&edit), ["content"]);
    assert_eq!(edit.reuse.worked_out, BTreeMap::from([(Why::Rule, 1)]));
    assert_eq!(edit.evaluations[0].status, Status::Fail);
}

#[test]
fn a_result_that_reads_the_time_stands_until_its_answer_could_change() {
    let engine = engine();
    let pack = engine.pack();
    // Created 2026-11-01: 89 days old from 2027-01-29, 90 from 2027-01-30.
    let at = |text: &str| {
        chrono::DateTime::parse_from_rfc3339(text)
            .expect("a time")
            .to_utc()
    };
    let first = first_run(&engine, &Facts::at(at("2027-01-29T12:00:00Z")));
    let recent = |run: &Incremental| {
        run.evaluations
            .iter()
            .find(|e| &*e.rule_id == "recent")
            .map(|e| e.status)
    };
    let span = |from: &str, to: &str| (at(from).timestamp_millis(), at(to).timestamp_millis());
    let at_time = |time: &str| again(&engine, &Facts::at(at(time)), "h1", &first, &pack);
    assert_eq!(recent(&first), Some(Status::Pass));
    assert_eq!(
        first.stamps[0].time,
        span("2027-01-29T12:00:00Z", "2027-01-30T00:00:00Z")
    );
    // Until the count of days changes the result stands.
    let later = at_time("2027-01-29T23:59:59Z");
    assert_eq!(later.reuse.kept, 3);
    assert_eq!(
        later.stamps, first.stamps,
        "an unchanged asset keeps its stamp"
    );
    // From then it is worked out again, and fails.
    let next = at_time("2027-01-30T00:00:00Z");
    assert_eq!(next.reuse.worked_out, BTreeMap::from([(Why::Time, 1)]));
    assert_eq!(recent(&next), Some(Status::Fail));
    assert_eq!(
        next.stamps[0].time,
        span("2027-01-30T00:00:00Z", "2027-01-31T00:00:00Z")
    );
    // A clock that went back works it out again too.
    let back = at_time("2027-01-29T11:00:00Z");
    assert_eq!(back.reuse.worked_out, BTreeMap::from([(Why::Time, 1)]));

    // A rule that reads `now` itself is worked out at every run, and so are
    // the other results of its asset that read the time.
    let clocked = Engine::new(vec![
        rule("content", "config.A == 1"),
        rule("recent", "ageDays(config.Created) < 90"),
        rule("clock", "now > timestamp(config.Created)"),
    ]);
    let pack = clocked.pack();
    let facts = Facts::at(at("2027-01-29T12:00:00Z"));
    let first = first_run(&clocked, &facts);
    let same = again(&clocked, &facts, "h1", &first, &pack);
    assert_eq!(same.reuse.worked_out, BTreeMap::from([(Why::Time, 2)]));
    assert_eq!(same.reuse.kept, 1);
}

#[test]
fn a_rule_reading_the_required_tags_changes_with_the_tag_policy() {
    let rules = || {
        vec![
            rule("tagged", "required_tags.all(k, k in tags)"),
            rule("content", "config.A == 1"),
        ]
    };
    let plain = Engine::new(rules()).pack();
    let policy: parapet_rules::TagPolicy =
        serde_json::from_value(json!({"required": ["owner"]})).expect("a tag policy");
    let tagged = Engine::new(rules()).with_tag_policy(&policy);
    let changed = tagged.changed_rules(&tagged.pack(), &plain);
    assert_eq!(changed, [true, false]);
}

#[test]
fn many_subjects_shared_among_the_cores_come_out_as_one_at_a_time() {
    let engine = engine();
    let pack = engine.pack();
    let facts = undecided("a route table could not be read", Utc::now());
    // Enough for the chunks to be shared among the cores; every tenth
    // asset fails the content rule.
    let assets: Vec<Asset> = (0..3000)
        .map(|i| {
            let mut asset = bucket();
            asset.id = format!("arn:aws:s3:::b{i}");
            asset.config["A"] = json!(if i % 10 == 0 { 2 } else { 1 });
            asset
        })
        .collect();
    let subject = |asset| Subject {
        asset,
        content_hash: "h1",
        content_fingerprint: 0,
        before: None,
    };
    let subjects: Vec<Subject<'_>> = assets.iter().map(subject).collect();
    let all = engine.evaluate_changed(&facts, &pack, &subjects);
    let mut one_by_one = Incremental::default();
    for asset in &assets {
        let one = engine.evaluate_changed(&facts, &pack, &[subject(asset)]);
        one_by_one.evaluations.extend(one.evaluations);
        one_by_one.stamps.extend(one.stamps);
        one_by_one.reuse.add(&one.reuse);
    }
    assert_eq!(all.evaluations.len(), 9000);
    assert_eq!(all.evaluations, one_by_one.evaluations);
    assert_eq!(all.stamps, one_by_one.stamps);
    assert_eq!(all.reuse.worked_out, one_by_one.reuse.worked_out);
    let failed = all
        .evaluations
        .iter()
        .filter(|e| &*e.rule_id == "content" && e.status == Status::Fail)
        .count();
    assert_eq!(failed, 300);
}
