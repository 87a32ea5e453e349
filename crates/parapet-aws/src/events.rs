//! The built-in map from CloudTrail events to the AWS resource types they
//! create, change or delete: each type's part, declared beside its
//! collector (`TypeDef::events`), read into one [`EventMap`]. Reading the
//! events themselves is `parapet-cloudtrail`'s.

pub use parapet_cloudtrail::*;
use std::sync::LazyLock;

static MAP: LazyLock<EventMap> = LazyLock::new(|| {
    EventMap::of(crate::types::resource_types().map(|(def, _)| (def.name, def.events)))
        .expect("every type's events are checked by a test")
});

/// The built-in map.
pub fn builtin() -> &'static EventMap {
    &MAP
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::collections::BTreeSet;

    fn record(source: &str, name: &str, request: Value, response: Value) -> Value {
        json!({
            "eventVersion": "1.09", "eventID": "e-1", "eventTime": "2026-11-29T10:00:00Z",
            "eventSource": source, "eventName": name, "awsRegion": "eu-west-1",
            "recipientAccountId": "123456789012", "userIdentity": {"type": "IAMUser", "accountId": "123456789012"},
            "requestParameters": request, "responseElements": response, "readOnly": false,
        })
    }

    fn targets(resolved: &[Resolved]) -> Vec<(&str, &str, &str, Action)> {
        resolved
            .iter()
            .flat_map(|r| match r {
                Resolved::Targets { targets, .. } => targets
                    .iter()
                    .map(|t| {
                        (
                            t.resource_type.as_str(),
                            t.region.as_str(),
                            t.key.as_str(),
                            t.action,
                        )
                    })
                    .collect(),
                _ => Vec::new(),
            })
            .collect()
    }

    #[test]
    fn every_collected_type_has_events_that_change_it() {
        let coverage = builtin().coverage();
        for (def, _) in crate::types::resource_types() {
            let resource_type = def.name;
            let actions = coverage
                .get(resource_type)
                .unwrap_or_else(|| panic!("{resource_type} has no event mapped"));
            assert!(
                actions.contains(&Action::Change) || actions.contains(&Action::Create),
                "{resource_type} has no creating or changing event"
            );
        }
        let collected: BTreeSet<&str> = crate::types::resource_types()
            .map(|(t, _)| t.name)
            .collect();
        for resource_type in coverage.keys() {
            assert!(
                collected.contains(resource_type),
                "{resource_type} is mapped but not collected"
            );
        }
    }

    #[test]
    fn an_eventbridge_envelope_names_the_bucket_it_changed() {
        let envelope = json!({
            "version": "0", "id": "x", "detail-type": "AWS API Call via CloudTrail", "source": "aws.s3",
            "account": "123456789012", "region": "eu-west-1",
            "detail": record("s3.amazonaws.com", "PutBucketPolicy", json!({"bucketName": "data", "policy": "{}"}), Value::Null),
        });
        let resolved = builtin().resolve(&envelope).expect("resolved");
        assert_eq!(
            targets(&resolved),
            vec![("AWS::S3::Bucket", "eu-west-1", "data", Action::Change)]
        );
    }

    #[test]
    fn lists_in_responses_give_one_target_each_and_iam_is_global() {
        let run = record(
            "ec2.amazonaws.com",
            "RunInstances",
            json!({"instanceType": "t3.micro"}),
            json!({"instancesSet": {"items": [{"instanceId": "i-1"}, {"instanceId": "i-2"}]}}),
        );
        let attach = record(
            "iam.amazonaws.com",
            "AttachUserPolicy",
            json!({"userName": "bob", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
            Value::Null,
        );
        let file = json!({"Records": [run, attach]});
        let resolved = builtin().resolve(&file).expect("resolved");
        assert_eq!(
            targets(&resolved),
            vec![
                ("AWS::EC2::Instance", "eu-west-1", "i-1", Action::Create),
                ("AWS::EC2::Instance", "eu-west-1", "i-2", Action::Create),
                (
                    "AWS::IAM::Policy",
                    "global",
                    "arn:aws:iam::aws:policy/AdministratorAccess",
                    Action::Change
                ),
                ("AWS::IAM::User", "global", "bob", Action::Change),
            ]
        );
    }

    #[test]
    fn versioned_names_read_only_failed_and_unknown_events() {
        let map = builtin();
        let lambda = record(
            "lambda.amazonaws.com",
            "AddPermission20150331v2",
            json!({"functionName": "resize"}),
            Value::Null,
        );
        assert_eq!(
            targets(&map.resolve(&lambda).expect("resolved")),
            vec![(
                "AWS::Lambda::Function",
                "eu-west-1",
                "resize",
                Action::Change
            )]
        );
        let mut describe = record(
            "ec2.amazonaws.com",
            "DescribeInstances",
            Value::Null,
            Value::Null,
        );
        describe["readOnly"] = json!(true);
        assert!(matches!(
            map.resolve(&describe).expect("resolved")[0],
            Resolved::ReadOnly { .. }
        ));
        let mut denied = record(
            "s3.amazonaws.com",
            "PutBucketPolicy",
            json!({"bucketName": "data"}),
            Value::Null,
        );
        denied["errorCode"] = json!("AccessDenied");
        assert!(
            matches!(&map.resolve(&denied).expect("resolved")[0], Resolved::Failed { error, .. } if error == "AccessDenied")
        );
        let other = record(
            "glue.amazonaws.com",
            "CreateDatabase",
            Value::Null,
            Value::Null,
        );
        assert!(matches!(
            map.resolve(&other).expect("resolved")[0],
            Resolved::Unmapped { .. }
        ));
    }

    #[test]
    fn conditions_pick_the_root_sign_in() {
        let map = builtin();
        let mut login = record(
            "signin.amazonaws.com",
            "ConsoleLogin",
            Value::Null,
            json!({"ConsoleLogin": "Success"}),
        );
        assert!(
            targets(&map.resolve(&login).expect("resolved")).is_empty(),
            "an IAM user's sign-in"
        );
        login["userIdentity"]["type"] = json!("Root");
        assert_eq!(
            targets(&map.resolve(&login).expect("resolved")),
            vec![(
                "AWS::IAM::RootAccount",
                "global",
                "123456789012",
                Action::Change
            )]
        );
    }

    #[test]
    fn messages_that_are_not_cloudtrail_events_are_refused_with_the_reason() {
        let map = builtin();
        let other = json!({"detail-type": "EC2 Instance State-change Notification", "detail": {}});
        assert_eq!(
            map.resolve(&other).expect_err("refused").to_string(),
            "not a CloudTrail event: an EventBridge event of type `EC2 Instance State-change Notification`"
        );
        assert_eq!(
            map.resolve(&json!({"hello": 1}))
                .expect_err("refused")
                .to_string(),
            "not a CloudTrail event: no `eventSource`"
        );
        assert!(map.resolve(&json!({"Records": 3})).is_err());
        let bad = EventMap::of([(
            "AWS::S3::Bucket",
            "{source: s3, events: [{name: X, action: destroy, key: [a]}]}",
        )]);
        assert!(
            bad.expect_err("refused")
                .starts_with("AWS::S3::Bucket's events:"),
            "the error names the type"
        );
        assert!(
            EventMap::of([(
                "AWS::S3::Bucket",
                "{source: s3, events: [{name: X, action: change, key: []}]}"
            )])
            .is_err()
        );
    }

    #[test]
    fn keys_name_resources_by_id_arn_name_or_url() {
        let group = ["arn:aws:ec2:eu-west-1:1:security-group/sg-1", "web"];
        assert!(key_names("sg-1", &group));
        assert!(!key_names("sg-10", &group), "a prefix is not a name");
        assert!(!key_names("g-1", &group), "nor a part of a segment");
        let queue = ["arn:aws:sqs:eu-west-1:1:jobs", "jobs"];
        assert!(key_names(
            "https://sqs.eu-west-1.amazonaws.com/1/jobs",
            &queue
        ));
        assert!(!key_names(
            "https://sqs.eu-west-1.amazonaws.com/1/jobs-dlq",
            &queue
        ));
        let function = ["arn:aws:lambda:eu-west-1:1:function:resize", "resize"];
        assert!(key_names(
            "arn:aws:lambda:eu-west-1:1:function:resize",
            &function
        ));
        assert!(key_names("resize", &function));
        assert!(!key_names("", &[""]), "nothing names nothing");
    }

    #[test]
    fn association_ids_and_places_do_not_name_a_resource() {
        let map = builtin();
        let names = |event: Value| -> Vec<bool> {
            match &map.resolve(&event).expect("resolved")[0] {
                Resolved::Targets { targets, .. } => {
                    targets.iter().map(|t| t.names_resource).collect()
                }
                other => panic!("no targets: {other:?}"),
            }
        };
        let create = record(
            "ec2.amazonaws.com",
            "CreateRoute",
            json!({"routeTableId": "rtb-1"}),
            Value::Null,
        );
        assert_eq!(names(create), vec![true]);
        let disassociate = record(
            "ec2.amazonaws.com",
            "DisassociateRouteTable",
            json!({"associationId": "rtbassoc-1"}),
            Value::Null,
        );
        assert_eq!(names(disassociate), vec![false]);
        let policy = record(
            "iam.amazonaws.com",
            "UpdateAccountPasswordPolicy",
            json!({"minimumPasswordLength": 14}),
            Value::Null,
        );
        assert_eq!(names(policy), vec![false]);
    }
}
