use crate::{Backend, at, bucket, evaluation, provenance, scope};
use parapet_core::{Severity, Status};
use parapet_store::roles::*;
use parapet_store::{JobScan, JobStatus, NewJob, Policy};
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;

const LEASE: Duration = Duration::from_secs(60);

fn job(kind: &str, group: &str, stage: i64, n: i64) -> NewJob {
    NewJob {
        kind: kind.into(),
        run_id: None,
        group: group.into(),
        stage,
        payload: json!({"n": n}),
        max_attempts: 3,
    }
}

pub fn a_group_runs_stage_after_stage_and_a_failure_is_tried_again_later(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    store
        .enqueue_jobs(
            &[
                job("collect", "run1/a", 0, 1),
                job("collect", "run1/a", 0, 2),
                job("record", "run1/a", 1, 3),
            ],
            at(0),
        )
        .expect("enqueue");
    let first = store
        .claim_job("w1", &[], LEASE, at(0))
        .expect("claim")
        .expect("a job");
    let second = store
        .claim_job("w2", &[], LEASE, at(0))
        .expect("claim")
        .expect("a job");
    assert_eq!(
        (first.payload["n"].as_i64(), second.payload["n"].as_i64()),
        (Some(1), Some(2))
    );
    assert_eq!(first.attempt, 1);
    assert!(
        store
            .claim_job("w3", &[], LEASE, at(0))
            .expect("claim")
            .is_none(),
        "the record step waits for the collections of its group"
    );
    assert!(
        store
            .complete_job(&first, &json!({"assets": 4}), &[], at(0))
            .expect("complete")
    );
    let retry_at = at(0) + chrono::Duration::minutes(5);
    assert!(
        store
            .fail_job(&second, "throttled", retry_at, at(0))
            .expect("fail")
    );
    assert!(
        store
            .claim_job("w3", &[], LEASE, at(0))
            .expect("claim")
            .is_none(),
        "the failed collection is not due yet, and the record step still waits for it"
    );
    let again = store
        .claim_job("w3", &[], LEASE, retry_at)
        .expect("claim")
        .expect("the retry");
    assert_eq!((again.id, again.attempt), (second.id, 2));
    assert!(!again.lease_lost_before, "it was failed, not abandoned");
    assert!(
        store
            .complete_job(&again, &json!({}), &[], retry_at)
            .expect("complete")
    );
    let record = store
        .claim_job("w1", &["record"], LEASE, retry_at)
        .expect("claim")
        .expect("the record step");
    assert_eq!(record.payload["n"], 3);
    let jobs = store.group_jobs("run1/a").expect("group");
    assert_eq!(
        jobs.iter().map(|j| j.status).collect::<Vec<_>>(),
        [JobStatus::Done, JobStatus::Done, JobStatus::Running]
    );
    assert_eq!(jobs[0].result, Some(json!({"assets": 4})));
    assert_eq!(jobs[1].attempts, 2);
    assert_eq!(jobs[1].error.as_deref(), Some("throttled"));
}

pub fn a_job_whose_lease_passed_is_claimed_again_and_its_first_worker_can_no_longer_finish_it(
    backend: &impl Backend,
) {
    let (_dir, mut store) = backend.open(Policy::default());
    store
        .enqueue_jobs(&[job("collect", "g", 0, 1)], at(0))
        .expect("enqueue");
    let lost = store
        .claim_job("w1", &[], LEASE, at(0))
        .expect("claim")
        .expect("a job");
    let later = at(0) + chrono::Duration::seconds(30);
    assert!(
        store
            .renew_lease(&lost, later + chrono::Duration::seconds(60))
            .expect("renew")
    );
    assert!(
        store
            .claim_job("w2", &[], LEASE, later + chrono::Duration::seconds(59))
            .expect("claim")
            .is_none(),
        "the renewed lease still holds"
    );
    let after = later + chrono::Duration::seconds(61);
    let taken = store
        .claim_job("w2", &[], LEASE, after)
        .expect("claim")
        .expect("claimed again");
    assert_eq!(
        (taken.id, taken.attempt, taken.lease_lost_before),
        (lost.id, 2, true)
    );
    assert!(
        !store.renew_lease(&lost, after).expect("renew"),
        "w1's lease is gone"
    );
    assert!(
        !store
            .complete_job(
                &lost,
                &json!({"by": "w1"}),
                &[job("record", "g2", 0, 9)],
                after
            )
            .expect("complete"),
        "w1 cannot finish it"
    );
    assert!(!store.fail_job(&lost, "late", after, after).expect("fail"));
    assert!(
        store
            .complete_job(
                &taken,
                &json!({"by": "w2"}),
                &[job("record", "g2", 0, 9)],
                after
            )
            .expect("complete")
    );
    let jobs = store.group_jobs("g").expect("group");
    assert_eq!(jobs[0].result, Some(json!({"by": "w2"})));
    assert_eq!(jobs[0].worker.as_deref(), Some("w2"));
    assert_eq!(
        store.group_jobs("g2").expect("follow-up").len(),
        1,
        "only the completion that held the lease queued what follows"
    );
}

pub fn a_job_abandoned_on_its_last_attempt_fails_for_good(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    let mut once = job("collect", "g", 0, 1);
    once.max_attempts = 1;
    store.enqueue_jobs(&[once], at(0)).expect("enqueue");
    store
        .claim_job("w1", &[], LEASE, at(0))
        .expect("claim")
        .expect("a job");
    assert!(
        store
            .claim_job("w2", &[], LEASE, at(1))
            .expect("claim")
            .is_none()
    );
    let jobs = store.group_jobs("g").expect("group");
    assert_eq!(jobs[0].status, JobStatus::Failed);
    assert!(
        jobs[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("stopped answering"))
    );
    let counts = store.queue_counts().expect("counts");
    assert_eq!(counts.with_status(JobStatus::Failed), 1);
    assert_eq!(counts.with_status(JobStatus::Queued), 0);
}

pub fn a_scan_is_recorded_with_its_job_only_while_the_lease_holds(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    store
        .enqueue_jobs(&[job("record", "g", 0, 1)], at(0))
        .expect("enqueue");
    let lost = store
        .claim_job("w1", &[], LEASE, at(0))
        .expect("claim")
        .expect("a job");
    let taken = store
        .claim_job("w2", &[], LEASE, at(1))
        .expect("claim")
        .expect("claimed again");
    let asset = bucket(
        "logs",
        json!({"Versioning": {"Status": "Suspended"}}),
        at(1),
    );
    let evaluations = [evaluation(
        "aws-s3-bucket-versioning-enabled",
        &asset,
        Status::Fail,
    )];
    let scope = scope();
    let provenance = provenance();
    let scan = JobScan {
        scope: &scope,
        source: "aws",
        provenance: &provenance,
        started_at: at(1),
        assets: std::slice::from_ref(&asset),
        evaluated: parapet_store::Evaluated::all(&evaluations),
        rules: &|_: &str| Severity::High,
        errors: &[],
        finished_at: at(1),
    };
    assert!(
        store
            .record_job_scan(&lost, &scan)
            .expect("record")
            .is_none()
    );
    assert!(
        store.scans(10).expect("scans").is_empty(),
        "nothing recorded"
    );
    assert!(store.asset_history(&asset.id).expect("history").is_empty());
    let output = store
        .record_job_scan(&taken, &scan)
        .expect("record")
        .expect("recorded");
    assert_eq!(output.scan.counts.opened, 1);
    assert_eq!(store.scans(10).expect("scans").len(), 1);
    assert_eq!(
        store.group_jobs("g").expect("group")[0].status,
        JobStatus::Done
    );
    assert!(
        store
            .record_job_scan(&taken, &scan)
            .expect("record")
            .is_none(),
        "done once: a second recording of the same job changes nothing"
    );
    assert_eq!(store.scans(10).expect("scans").len(), 1);
}

pub fn workers_claiming_at_once_each_take_different_jobs(backend: &impl Backend) {
    let (_dir, open) = backend.open_shared(Policy::default());
    let jobs: Vec<NewJob> = (0..60)
        .map(|n| job("collect", &format!("g{n}"), 0, n))
        .collect();
    open().enqueue_jobs(&jobs, at(0)).expect("enqueue");
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let open = open.clone();
            std::thread::spawn(move || {
                let mut store = open();
                let mut mine = Vec::new();
                while let Some(lease) = store
                    .claim_job(&format!("w{w}"), &[], LEASE, at(0))
                    .expect("claim")
                {
                    assert!(
                        store
                            .complete_job(&lease, &json!({}), &[], at(0))
                            .expect("complete")
                    );
                    mine.push(lease.payload["n"].as_i64().expect("n"));
                }
                mine
            })
        })
        .collect();
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.join().expect("worker"));
    }
    let distinct: BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), 60, "every job claimed once: {all:?}");
    assert_eq!(distinct.len(), 60);
    assert_eq!(
        open()
            .queue_counts()
            .expect("counts")
            .with_status(JobStatus::Done),
        60
    );
}
