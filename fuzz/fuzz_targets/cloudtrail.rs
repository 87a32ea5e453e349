//! What a queue or the `/events` endpoint receives: an SQS message body or
//! a POSTed event, read as JSON and resolved by a map of the shapes the
//! collectors declare (a key in the request, lists in the response,
//! conditions, a global service, an event of another service).
#![no_main]

use libfuzzer_sys::fuzz_target;
use parapet_cloudtrail::EventMap;
use std::sync::LazyLock;

static MAP: LazyLock<Option<EventMap>> = LazyLock::new(|| {
    EventMap::of([
        (
            "AWS::S3::Bucket",
            r#"
            source: s3.amazonaws.com
            events:
              - {name: CreateBucket, action: create, key: [requestParameters.bucketName]}
              - {name: PutBucketPolicy, action: change, key: [requestParameters.bucketName]}
              - {name: DeleteBucket, action: delete, key: [requestParameters.bucketName]}
            "#,
        ),
        (
            "AWS::EC2::Instance",
            r#"
            source: ec2.amazonaws.com
            events:
              - {name: RunInstances, action: create, key: ["responseElements.instancesSet.items[*].instanceId"]}
              - {name: TerminateInstances, action: delete, key: ["requestParameters.instancesSet.items[*].instanceId"]}
              - {name: ModifyInstanceMetadataOptions, action: change, key: [requestParameters.ModifyInstanceMetadataOptionsRequest.InstanceId, requestParameters.instanceId]}
            "#,
        ),
        (
            "AWS::IAM::Role",
            r#"
            source: iam.amazonaws.com
            global: true
            events:
              - {name: CreateRole, action: create, key: [requestParameters.roleName]}
              - {name: AttachRolePolicy, action: change, key: [requestParameters.roleName]}
            "#,
        ),
        (
            "AWS::CloudTrail::Trail",
            r#"
            source: cloudtrail.amazonaws.com
            events:
              - {name: UpdateTrail, action: change, key: [requestParameters.name]}
              - {name: PutBucketLogging, source: s3.amazonaws.com, action: change, key: [requestParameters.bucketName], indirect: true}
            "#,
        ),
    ])
    .ok()
});

fuzz_target!(|data: &[u8]| {
    let Some(map) = MAP.as_ref() else { return };
    if let Ok(message) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = map.resolve(&message);
    }
});
