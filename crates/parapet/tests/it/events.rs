//! `parapet scan aws --event`: a change made in moto, its CloudTrail event
//! (as EventBridge delivers it) given to Parapet, and the finding opened,
//! then resolved when the change is reverted; what depends on a changed
//! security group is evaluated again with it.

use super::moto::Moto;
use super::{fixture, stderr};
use parapet_core::{EventKind, FindingStatus};
use parapet_store::{EventQuery, SqliteStore, Store};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

const ACCOUNT: &str = "123456789012";

/// Makes the change in moto and hands its event to `parapet scan aws --event`.
fn change(moto: &Moto, db: &Path, dir: &Path, action: &str, target: &str) {
    let event = moto.python(&fixture("aws-event.py"), &[action, target]);
    let file = dir.join(format!("{action}.json"));
    std::fs::write(&file, &event.stdout).expect("write the event");
    let output = moto.scan(
        db,
        ("testing", "testing"),
        &["--event", file.to_str().expect("utf-8"), "--format", "json"],
    );
    assert!(output.status.success(), "{action}: {}", stderr(&output));
}

fn status(db: &Path, rule: &str, asset: &str) -> Option<FindingStatus> {
    SqliteStore::open(db)
        .expect("open")
        .finding(rule, asset)
        .expect("finding")
        .and_then(|f| f.status)
}

fn events_of(db: &Path, asset: &str) -> Vec<EventKind> {
    SqliteStore::open(db)
        .expect("open")
        .events(&EventQuery {
            asset_id: Some(asset.to_owned()),
            ..Default::default()
        })
        .expect("events")
        .into_iter()
        .map(|e| e.event.kind)
        .collect()
}

#[test]
fn an_event_refreshes_what_it_changed_and_what_depends_on_it() {
    let moto = Moto::start();
    let ids: BTreeMap<String, String> =
        serde_json::from_slice(&moto.python(&fixture("aws-event.py"), &["setup"]).stdout)
            .expect("ids");
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("parapet.db");
    let scan = moto.scan(&db, ("testing", "testing"), &["--regions", "eu-west-1"]);
    assert!(scan.status.success(), "{}", stderr(&scan));
    let bucket = format!("arn:aws:s3:::{}", ids["bucket"]);
    let group = format!(
        "arn:aws:ec2:eu-west-1:{ACCOUNT}:security-group/{}",
        ids["group"]
    );
    let instance = format!(
        "arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/{}",
        ids["instance"]
    );
    let snapshot = format!("arn:aws:ec2:eu-west-1::snapshot/{}", ids["snapshot"]);
    let public_bucket = "aws-s3-bucket-policy-not-public";
    let open_group = "aws-ec2-security-group-no-ssh-from-internet";
    let reachable = "aws-ec2-instance-ssh-not-reachable-from-internet";
    let public_snapshot = "aws-ec2-snapshot-not-public";
    for (rule, asset) in [
        (public_bucket, &bucket),
        (open_group, &group),
        (reachable, &instance),
        (public_snapshot, &snapshot),
    ] {
        assert_eq!(status(&db, rule, asset), None, "{rule} before any change");
    }

    // A bucket made public, then private again.
    change(&moto, &db, dir.path(), "bucket-public", &ids["bucket"]);
    assert_eq!(
        status(&db, public_bucket, &bucket),
        Some(FindingStatus::Open)
    );
    assert!(events_of(&db, &bucket).contains(&EventKind::FindingOpened));
    change(&moto, &db, dir.path(), "bucket-private", &ids["bucket"]);
    assert_eq!(
        status(&db, public_bucket, &bucket),
        Some(FindingStatus::Resolved)
    );
    assert!(events_of(&db, &bucket).contains(&EventKind::FindingResolved));

    // A group opened to the world: the group's rule fails, and the instance
    // behind it, in a public subnet with an address, is now reachable.
    change(&moto, &db, dir.path(), "sg-open", &ids["group"]);
    assert_eq!(status(&db, open_group, &group), Some(FindingStatus::Open));
    assert_eq!(status(&db, reachable, &instance), Some(FindingStatus::Open));
    change(&moto, &db, dir.path(), "sg-close", &ids["group"]);
    assert_eq!(
        status(&db, open_group, &group),
        Some(FindingStatus::Resolved)
    );
    assert_eq!(
        status(&db, reachable, &instance),
        Some(FindingStatus::Resolved)
    );

    // A snapshot shared with everyone, then unshared.
    change(&moto, &db, dir.path(), "snapshot-share", &ids["snapshot"]);
    assert_eq!(
        status(&db, public_snapshot, &snapshot),
        Some(FindingStatus::Open)
    );
    change(&moto, &db, dir.path(), "snapshot-unshare", &ids["snapshot"]);
    assert_eq!(
        status(&db, public_snapshot, &snapshot),
        Some(FindingStatus::Resolved)
    );

    // A bucket deleted: recorded as deleted.
    change(&moto, &db, dir.path(), "bucket-delete", &ids["bucket"]);
    assert!(
        events_of(&db, &bucket).contains(&EventKind::AssetDeleted),
        "{:?}",
        events_of(&db, &bucket)
    );

    // Events that change nothing Parapet follows describe nothing.
    let file = dir.path().join("read.json");
    let read: Value = serde_json::json!({"eventSource": "s3.amazonaws.com", "eventName": "GetBucketPolicy",
        "awsRegion": "eu-west-1", "recipientAccountId": ACCOUNT, "readOnly": true});
    std::fs::write(&file, read.to_string()).expect("write");
    let output = moto.scan(
        &db,
        ("testing", "testing"),
        &["--event", file.to_str().expect("utf-8")],
    );
    assert!(output.status.success());
    assert!(stderr(&output).contains("read-only"), "{}", stderr(&output));
    let garbled = dir.path().join("garbled.json");
    std::fs::write(
        &garbled,
        "{\"detail-type\": \"EC2 Instance State-change Notification\", \"detail\": {}}",
    )
    .expect("write");
    let output = moto.scan(
        &db,
        ("testing", "testing"),
        &["--event", garbled.to_str().expect("utf-8")],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a CloudTrail event"),
        "{}",
        stderr(&output)
    );
}
