use crate::{bucket, pipeline, store};
use parapet_pipeline::Request;
use parapet_provider::Quiet;
use parapet_provider::file::FileSource;
use parapet_store::Scans;
use serde_json::json;

fn write(path: &std::path::Path, names: &[&str]) {
    let text: String = names
        .iter()
        .map(|n| {
            serde_json::to_string(&bucket(
                n,
                json!({"Name": n, "Versioning": {"Status": "Suspended"}}),
            ))
            .expect("JSON")
                + "\n"
        })
        .collect();
    std::fs::write(path, text).expect("write");
}

#[test]
fn a_file_is_scanned_recorded_and_rescanned_with_what_produced_it() {
    let pipeline = pipeline();
    let (dir, mut store) = store();
    let file = dir.path().join("estate.jsonl");
    write(&file, &["data", "logs"]);
    let source = FileSource::new(file.clone(), Vec::new());
    let first = pipeline
        .run(&source, Some(&mut store), Request::Whole, &Quiet)
        .expect("a run");
    assert_eq!(first.recorded.len(), 1);
    let scan = &first.recorded[0];
    assert_eq!(scan.counts.created, 2);
    assert!(scan.counts.opened > 0, "suspended versioning fails");
    assert_eq!(
        first.provenance.rules,
        pipeline.rules_digest(),
        "the run names its rule pack"
    );
    assert!(first.provenance.collector.starts_with("jsonl "));
    let stored = store.scans(1).expect("scans");
    assert_eq!(stored[0].provenance.as_ref(), Some(&first.provenance));
    // The same rules again: one engine, compiled once, for every run.
    write(&file, &["data"]);
    let second = pipeline
        .run(&source, Some(&mut store), Request::Whole, &Quiet)
        .expect("a run");
    let counts = &second.recorded[0].counts;
    assert_eq!((counts.created, counts.deleted), (0, 1));
    assert!(counts.resolved > 0, "the deleted bucket's findings resolve");
}

#[test]
fn without_a_store_nothing_is_recorded_and_the_results_are_the_same() {
    let pipeline = pipeline();
    let (dir, mut store) = store();
    let file = dir.path().join("estate.jsonl");
    write(&file, &["data"]);
    let source = FileSource::new(file, Vec::new());
    let alone = pipeline
        .run(&source, None, Request::Whole, &Quiet)
        .expect("a run");
    assert!(alone.recorded.is_empty());
    let recorded = pipeline
        .run(&source, Some(&mut store), Request::Whole, &Quiet)
        .expect("a run");
    let statuses = |run: &parapet_pipeline::Run| {
        run.evaluations
            .iter()
            .map(|e| (e.rule_id.to_string(), e.status))
            .collect::<Vec<_>>()
    };
    assert_eq!(statuses(&alone), statuses(&recorded));
}
