"""Writes seeds of the cloudtrail fuzz target: what a queue or the /events
endpoint receives, in each form Parapet reads (an EventBridge envelope, a
record, a log file), and what it refuses.

    python seed-events.py OUT_FOLDER
"""

import json
import sys

out = sys.argv[1]


def record(source, name, request, response=None):
    return {
        "eventVersion": "1.09", "eventID": "e-1", "eventTime": "2026-11-29T10:00:00Z",
        "eventSource": source, "eventName": name, "awsRegion": "eu-west-1",
        "recipientAccountId": "123456789012",
        "userIdentity": {"type": "IAMUser", "accountId": "123456789012"},
        "requestParameters": request, "responseElements": response, "readOnly": False,
        "eventType": "AwsApiCall", "managementEvent": True,
    }


def envelope(detail):
    return {"version": "0", "id": "x", "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.s3", "account": "123456789012", "region": "eu-west-1",
            "detail": detail}


seeds = {
    "eventbridge-bucket-policy.json": envelope(
        record("s3.amazonaws.com", "PutBucketPolicy", {"bucketName": "data", "policy": "{}"})),
    "record-run-instances.json": record(
        "ec2.amazonaws.com", "RunInstances", {"instanceType": "t3.micro"},
        {"instancesSet": {"items": [{"instanceId": "i-1"}, {"instanceId": "i-2"}]}}),
    "log-file.json": {"Records": [
        record("iam.amazonaws.com", "CreateRole", {"roleName": "ci"}),
        record("s3.amazonaws.com", "DeleteBucket", {"bucketName": "old"})]},
    "failed-call.json": dict(record("s3.amazonaws.com", "CreateBucket", {"bucketName": "x"}),
                             errorCode="AccessDenied"),
    "other-detail-type.json": {"detail-type": "EC2 Instance State-change Notification",
                               "detail": {}},
}
for name, document in seeds.items():
    with open(f"{out}/{name}", "w") as f:
        json.dump(document, f)
