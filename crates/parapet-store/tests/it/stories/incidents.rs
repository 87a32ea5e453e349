use crate::{Backend, at, bucket, evaluation, scan};
use parapet_core::{Severity, Status};
use parapet_store::Policy;
use parapet_store::roles::*;
use parapet_store::{Grouping, IncidentPolicy, IncidentStatus};
use serde_json::json;

const VERSIONING: &str = "aws-s3-bucket-versioning-enabled";
const LOGGING: &str = "aws-s3-bucket-access-logging-enabled";

fn policy(grouping: Grouping) -> IncidentPolicy {
    IncidentPolicy {
        grouping,
        min_severity: Severity::High,
    }
}

/// One scan of the buckets `data` and `logs`, each failing or passing
/// `VERSIONING` and `LOGGING` as given.
fn run(store: &mut dyn Store, hour: i64, results: [(Status, Status); 2]) {
    let assets = [
        bucket("data", json!({}), at(hour)),
        bucket("logs", json!({}), at(hour)),
    ];
    let evaluations: Vec<_> = assets
        .iter()
        .zip(results)
        .flat_map(|(a, (v, l))| [evaluation(VERSIONING, a, v), evaluation(LOGGING, a, l)])
        .collect();
    scan(store, at(hour), &assets, &evaluations, &[]);
}

fn kinds(store: &dyn Store, id: i64) -> Vec<String> {
    store
        .incident(id)
        .expect("query")
        .expect("an incident")
        .1
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

pub fn findings_of_one_rule_and_account_make_one_incident_that_resolves_and_reopens_with_them(
    backend: &impl Backend,
) {
    use Status::{Fail, Pass};
    let (_dir, mut store) = backend.open(Policy {
        incidents: Some(policy(Grouping::RuleAndAccount)),
        ..Policy::default()
    });
    run(&mut store, 0, [(Fail, Pass), (Fail, Pass)]);
    let incidents = store.incidents(None, None, 10).expect("incidents");
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    let incident = &incidents[0];
    assert_eq!(
        incident.group_key,
        format!("rule:{VERSIONING}/account:111111111111")
    );
    assert_eq!(incident.status, IncidentStatus::Open);
    assert_eq!(incident.findings.len(), 2);
    assert_eq!(incident.open_findings, 2);
    assert_eq!(incident.severity, Severity::High);
    let id = incident.id;

    // One resolves: still open. The other: resolved by itself.
    run(&mut store, 1, [(Pass, Pass), (Fail, Pass)]);
    let incident = store.incident(id).expect("q").expect("incident").0;
    assert_eq!(
        (incident.status, incident.open_findings),
        (IncidentStatus::Open, 1)
    );
    run(&mut store, 2, [(Pass, Pass), (Pass, Pass)]);
    let incident = store.incident(id).expect("q").expect("incident").0;
    assert_eq!(incident.status, IncidentStatus::Resolved);
    assert_eq!(incident.resolved_at, Some(at(2)));

    // A finding of it fails again: the same incident reopens.
    run(&mut store, 3, [(Fail, Pass), (Pass, Pass)]);
    assert_eq!(store.incidents(None, None, 10).expect("incidents").len(), 1);
    let incident = store.incident(id).expect("q").expect("incident").0;
    assert_eq!(incident.status, IncidentStatus::Open);
    assert_eq!(incident.resolved_at, None);
    assert_eq!(
        kinds(&store, id),
        [
            "opened",
            "finding_added",
            "finding_added",
            "resolved",
            "reopened",
            "finding_added"
        ]
    );

    // Another rule fails: an incident of its own.
    run(&mut store, 4, [(Fail, Fail), (Pass, Pass)]);
    assert_eq!(store.incidents(None, None, 10).expect("incidents").len(), 2);
}

pub fn acknowledged_then_resolved_by_hand_with_a_timeline(backend: &impl Backend) {
    use Status::{Fail, Pass};
    let (_dir, mut store) = backend.open(Policy {
        incidents: Some(policy(Grouping::Asset)),
        ..Policy::default()
    });
    run(&mut store, 0, [(Fail, Fail), (Pass, Pass)]);
    let incidents = store.incidents(None, None, 10).expect("incidents");
    assert_eq!(incidents.len(), 1, "both of data's findings, one incident");
    assert_eq!(incidents[0].group_key, "asset:arn:aws:s3:::data");
    let id = incidents[0].id;
    let acked = store.acknowledge_incident(id, "alice", at(1)).expect("ack");
    assert_eq!(acked.status, IncidentStatus::Acknowledged);
    assert_eq!(acked.owner.as_deref(), Some("alice"));
    assert_eq!(acked.acknowledged_at, Some(at(1)));
    let resolved = store.resolve_incident(id, "alice", at(2)).expect("resolve");
    assert_eq!(resolved.status, IncidentStatus::Resolved);
    assert!(
        store.acknowledge_incident(id, "bob", at(3)).is_err(),
        "resolved"
    );
    assert!(
        store.acknowledge_incident(99, "bob", at(3)).is_err(),
        "no such incident"
    );
    // Both on the timeline, on the finding evaluated last; without routes,
    // nothing to send.
    let timeline = store
        .events(&parapet_store::EventQuery {
            kinds: vec![
                parapet_core::EventKind::IncidentAcknowledged,
                parapet_core::EventKind::IncidentResolved,
            ],
            ..Default::default()
        })
        .expect("events");
    let said: Vec<(&str, &str, serde_json::Value)> = timeline
        .iter()
        .map(|e| {
            (
                e.event.kind.as_str(),
                e.event.asset_id.as_str(),
                e.event.detail.clone(),
            )
        })
        .collect();
    let detail = json!({"incident": id, "title": "Findings on arn:aws:s3:::data", "by": "alice"});
    assert_eq!(
        said,
        [
            ("incident_resolved", "arn:aws:s3:::data", detail.clone()),
            ("incident_acknowledged", "arn:aws:s3:::data", detail),
        ]
    );
    assert!(store.notifications(None, 10).expect("outbox").is_empty());
    let (_, events) = store.incident(id).expect("q").expect("incident");
    assert_eq!(events[3].kind, "acknowledged");
    assert_eq!(events[3].detail["owner"], "alice");
    assert_eq!(events[4].kind, "resolved");
    assert_eq!(events[4].detail["by"], "alice");
    assert_eq!(
        store
            .incidents(Some(IncidentStatus::Open), None, 10)
            .expect("open ones")
            .len(),
        0
    );
}

pub fn findings_milder_than_the_policy_make_no_incident(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy {
        incidents: Some(IncidentPolicy {
            grouping: Grouping::Asset,
            min_severity: Severity::Critical,
        }),
        ..Policy::default()
    });
    run(
        &mut store,
        0,
        [(Status::Fail, Status::Fail), (Status::Pass, Status::Pass)],
    );
    assert!(
        store
            .incidents(None, None, 10)
            .expect("incidents")
            .is_empty()
    );
}
