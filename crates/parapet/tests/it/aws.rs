//! `parapet scan aws` against moto's server: the real collector, through the
//! official SDK, over an estate seeded by the README's demo script.

use super::moto::Moto;
use super::{stderr, stdout};
use parapet_core::{Asset, EventKind};
use parapet_store::roles::*;
use parapet_store::{EventQuery, FindingQuery, SqliteStore};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const REGIONS: &str = "eu-west-1,us-east-1";
const ACCOUNT: &str = "123456789012";

/// Every asset in the database, latest versions.
fn assets(store: &SqliteStore) -> Vec<Asset> {
    let created = store
        .events(&EventQuery {
            kinds: vec![EventKind::AssetCreated],
            limit: 100_000,
            ..Default::default()
        })
        .expect("events");
    created
        .iter()
        .filter_map(|e| store.asset_at(&e.event.asset_id, None).expect("asset"))
        .map(|v| v.asset)
        .collect()
}

fn named<'a>(assets: &'a [Asset], resource_type: &str, name: &str, region: &str) -> &'a Asset {
    assets
        .iter()
        .find(|a| a.resource_type.as_str() == resource_type && a.name == name && a.region == region)
        .unwrap_or_else(|| panic!("no {resource_type} named {name} in {region}"))
}

#[test]
fn the_collector_reads_every_seeded_type_field_by_field() {
    let moto = Moto::start();
    moto.seed_demo(3);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("parapet.db");
    let output = moto.scan(&db, ("testing", "testing"), &["--regions", REGIONS]);
    assert!(
        output.status.success(),
        "scan aws failed: {}\n{}",
        stderr(&output),
        stdout(&output)
    );
    let text = stdout(&output);
    assert!(text.contains("API calls"), "{text}");
    let store = SqliteStore::open(&db).expect("open");
    let all = assets(&store);

    // Every type the collector knows was seen, except the root user, which
    // the emulator does not have.
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for a in &all {
        *by_type.entry(a.resource_type.as_str()).or_default() += 1;
        assert_eq!(a.account, ACCOUNT);
        // Every field of every document is on its type's page.
        let doc = parapet_aws::catalog::find(a.resource_type.as_str()).expect("documented type");
        for field in a.config.as_object().expect("object").keys() {
            assert!(
                doc.fields().contains(&field.as_str()),
                "{}: field {field} is not documented",
                a.resource_type
            );
        }
    }
    for resource_type in parapet_aws::catalog().iter().map(|t| t.name) {
        if resource_type != "AWS::IAM::RootAccount" {
            assert!(
                by_type.contains_key(resource_type),
                "no {resource_type}: {by_type:?}"
            );
        }
    }

    // S3.
    let logs = named(&all, "AWS::S3::Bucket", "parapet-demo-logs", "eu-west-1");
    assert_eq!(logs.id, "arn:aws:s3:::parapet-demo-logs");
    assert_eq!(logs.config["Versioning"]["Status"], "Enabled");
    assert_eq!(
        logs.config["PublicAccessBlock"],
        json!({"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true})
    );
    assert_eq!(
        logs.config["Encryption"]["Rules"][0]["SSEAlgorithm"],
        "AES256"
    );
    assert_eq!(logs.config["Policy"]["Statement"][0]["Effect"], "Deny");
    assert_eq!(logs.config["Logging"], Value::Null);
    let public = named(&all, "AWS::S3::Bucket", "parapet-demo-public", "eu-west-1");
    assert_eq!(
        public.config["Policy"]["Statement"][0]["Principal"],
        json!({"AWS": "*"})
    );
    assert_eq!(public.config["PublicAccessBlock"], Value::Null);
    assert_eq!(public.config["Versioning"]["Status"], "Suspended");
    let never_versioned = named(&all, "AWS::S3::Bucket", "parapet-demo-acl", "us-east-1");
    assert_eq!(never_versioned.config["Versioning"]["Status"], Value::Null);
    assert!(!never_versioned.unknown.contains_key("Versioning"));
    // moto 5.1 does not implement GetBucketPolicyStatus: it answers with a
    // bucket listing, which is a malformed answer, so the field is unknown.
    assert!(never_versioned.config.get("PolicyStatus").is_none());
    assert_eq!(
        never_versioned
            .unknown
            .get("PolicyStatus")
            .map(String::as_str),
        Some("MalformedResponse: s3:GetBucketPolicyStatus")
    );
    assert_eq!(
        public.config["Logging"]["TargetBucket"],
        "parapet-demo-logs"
    );
    assert_eq!(
        public.tags.get("owner").map(String::as_str),
        Some("web-team")
    );
    assert!(
        public
            .relationships
            .iter()
            .any(|r| r.kind == "logs_to" && r.target == "arn:aws:s3:::parapet-demo-logs")
    );
    let acl = named(&all, "AWS::S3::Bucket", "parapet-demo-acl", "us-east-1");
    assert!(
        acl.config["Acl"]["Grants"]
            .as_array()
            .expect("grants")
            .iter()
            .any(
                |g| g["Grantee"]["URI"] == "http://acs.amazonaws.com/groups/global/AllUsers"
                    && g["Permission"] == "READ"
            ),
        "{}",
        acl.config["Acl"]
    );
    let account_block = all
        .iter()
        .find(|a| a.resource_type.as_str() == "AWS::S3::AccountPublicAccessBlock")
        .expect("account block");
    assert_eq!(
        account_block.config["PublicAccessBlock"]["BlockPublicAcls"],
        true
    );
    assert_eq!(
        account_block.config["PublicAccessBlock"]["BlockPublicPolicy"],
        false
    );

    // EC2, in both regions.
    for region in ["eu-west-1", "us-east-1"] {
        let ssh = named(
            &all,
            "AWS::EC2::SecurityGroup",
            "parapet-demo-ssh-open",
            region,
        );
        assert_eq!(
            ssh.config["IpPermissions"],
            json!([{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [], "UserIdGroupPairs": [], "PrefixListIds": []}])
        );
        let egress = &ssh.config["IpPermissionsEgress"][0];
        assert_eq!(
            (egress["IpProtocol"].as_str(), egress["FromPort"].as_i64()),
            (Some("-1"), Some(-1))
        );
        let rdp = named(
            &all,
            "AWS::EC2::SecurityGroup",
            "parapet-demo-rdp-open",
            region,
        );
        assert_eq!(
            rdp.config["IpPermissions"][0]["Ipv6Ranges"][0]["CidrIpv6"],
            "::/0"
        );

        let web = named(&all, "AWS::EC2::Instance", "parapet-demo-web", region);
        assert_eq!(web.config["MetadataOptions"]["HttpTokens"], "optional");
        assert_eq!(web.config["InstanceType"], "t3.micro");
        let group_id = ssh.config["GroupId"].as_str().expect("group id");
        assert!(
            web.relationships
                .iter()
                .any(|r| r.kind == "uses_security_group" && r.target == ssh.id)
        );
        assert!(
            web.config["SecurityGroups"]
                .as_array()
                .expect("groups")
                .iter()
                .any(|g| g["GroupId"] == group_id)
        );
        let worker = named(&all, "AWS::EC2::Instance", "parapet-demo-worker", region);
        assert_eq!(worker.config["MetadataOptions"]["HttpTokens"], "required");

        let plain = named(&all, "AWS::EC2::Volume", "parapet-demo-plain", region);
        assert_eq!(
            (
                plain.config["Encrypted"].as_bool(),
                plain.config["Size"].as_i64()
            ),
            (Some(false), Some(8))
        );
        assert!(plain.config.get("KmsKeyId").is_none());
        let encrypted = named(&all, "AWS::EC2::Volume", "parapet-demo-encrypted", region);
        assert_eq!(encrypted.config["Encrypted"], true);

        let snapshot = named(
            &all,
            "AWS::EC2::Snapshot",
            "parapet-demo-public-snapshot",
            region,
        );
        assert_eq!(
            snapshot.config["CreateVolumePermissions"],
            json!([{"Group": "all"}])
        );
        assert!(
            snapshot
                .relationships
                .iter()
                .any(|r| r.kind == "snapshot_of" && r.target == plain.id)
        );
        let private = all
            .iter()
            .find(|a| {
                a.region == region && a.config["Description"] == "parapet-demo-private-snapshot"
            })
            .expect("private snapshot");
        assert_eq!(private.config["CreateVolumePermissions"], json!([]));

        let image = named(&all, "AWS::EC2::Image", "parapet-demo-image", region);
        assert_eq!(image.config["LaunchPermissions"], json!([{"Group": "all"}]));

        let vpc = named(&all, "AWS::EC2::VPC", "parapet-demo-vpc", region);
        assert_eq!(vpc.config["CidrBlock"], "10.0.0.0/16");
        let flow_logs = vpc.config["FlowLogs"].as_array().expect("flow logs").len();
        assert_eq!(flow_logs, usize::from(region == "eu-west-1"), "{region}");

        let default_encryption = all
            .iter()
            .find(|a| {
                a.region == region && a.resource_type.as_str() == "AWS::EC2::EBSEncryptionByDefault"
            })
            .expect("EBS default encryption");
        assert_eq!(
            default_encryption.config["EbsEncryptionByDefault"],
            region == "eu-west-1"
        );

        let acl = all
            .iter()
            .find(|a| {
                a.region == region
                    && a.resource_type.as_str() == "AWS::EC2::NetworkAcl"
                    && a.config["VpcId"] == vpc.config["VpcId"]
                    && a.config["IsDefault"] == false
            })
            .expect("network ACL");
        assert!(
            acl.config["Entries"]
                .as_array()
                .expect("entries")
                .iter()
                .any(|e| e["RuleNumber"] == 100
                    && e["FromPort"] == 22
                    && e["RuleAction"] == "allow"
                    && e["Protocol"] == "tcp"),
            "{}",
            acl.config["Entries"]
        );
        let table = all
            .iter()
            .find(|a| {
                a.region == region
                    && a.resource_type.as_str() == "AWS::EC2::RouteTable"
                    && a.relationships
                        .iter()
                        .any(|r| r.kind == "routes_to" && r.target.contains("internet-gateway/"))
            })
            .expect("a route table to the internet gateway");
        assert!(
            table.config["Routes"]
                .as_array()
                .expect("routes")
                .iter()
                .any(|r| r["DestinationCidrBlock"] == "0.0.0.0/0")
        );
    }

    // IAM.
    let alice = named(&all, "AWS::IAM::User", "parapet-demo-alice", "global");
    assert_eq!(
        (
            alice.config["PasswordEnabled"].as_bool(),
            alice.config["MfaActive"].as_bool()
        ),
        (Some(true), Some(true))
    );
    assert_eq!(alice.config["Groups"], json!(["parapet-demo-developers"]));
    assert_eq!(alice.tags.get("team").map(String::as_str), Some("platform"));
    let bob = named(&all, "AWS::IAM::User", "parapet-demo-bob", "global");
    assert_eq!(
        (
            bob.config["PasswordEnabled"].as_bool(),
            bob.config["MfaActive"].as_bool()
        ),
        (Some(true), Some(false))
    );
    assert_eq!(
        bob.config["AttachedPolicies"][0]["PolicyName"],
        "parapet-demo-admin"
    );
    assert_eq!(bob.config["InlinePolicies"][0]["PolicyName"], "inline-s3");
    assert!(
        bob.config["InlinePolicies"][0]["PolicyDocument"]["Statement"].is_array(),
        "{}",
        bob.config["InlinePolicies"]
    );
    assert_eq!(bob.config["PermissionsBoundary"], json!(null));
    let legacy = named(
        &all,
        "AWS::IAM::ServerCertificate",
        "parapet-demo-legacy",
        "global",
    );
    assert!(legacy.config["Expiration"].is_string());
    assert_eq!(
        legacy.id,
        "arn:aws:iam::123456789012:server-certificate/parapet-demo-legacy"
    );
    let summary = named(&all, "AWS::IAM::AccountSummary", ACCOUNT, "global");
    assert_eq!(summary.config["RootVirtualMfaDevice"], json!(null));
    let ci = named(&all, "AWS::IAM::User", "parapet-demo-ci", "global");
    let keys = ci.config["AccessKeys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["Status"], "Active");
    assert!(keys[0]["CreateDate"].is_string());
    let anyone = named(&all, "AWS::IAM::Role", "parapet-demo-anyone", "global");
    assert_eq!(
        anyone.config["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
        json!({"AWS": "*"})
    );
    let admin = named(&all, "AWS::IAM::Policy", "parapet-demo-admin", "global");
    assert!(
        bob.relationships
            .iter()
            .any(|r| r.kind == "has_policy" && r.target == admin.id)
    );
    assert_eq!(
        admin.config["PolicyDocument"]["Statement"][0]["Action"],
        "*"
    );
    let group = named(&all, "AWS::IAM::Group", "parapet-demo-developers", "global");
    assert!(
        group.config["Users"]
            .as_array()
            .expect("users")
            .contains(&json!("parapet-demo-alice"))
    );
    let password = all
        .iter()
        .find(|a| a.resource_type.as_str() == "AWS::IAM::PasswordPolicy")
        .expect("password policy");
    assert_eq!(
        password.config["PasswordPolicy"]["MinimumPasswordLength"],
        8
    );

    // The other services, in the first region (the seed makes the same in
    // both).
    let region = "eu-west-1";
    let public_db = named(
        &all,
        "AWS::RDS::DBInstance",
        "parapet-demo-public-db",
        region,
    );
    assert_eq!(public_db.config["PubliclyAccessible"], true);
    assert_eq!(public_db.config["StorageEncrypted"], false);
    assert_eq!(public_db.config["Engine"], "postgres");
    let private_db = named(
        &all,
        "AWS::RDS::DBInstance",
        "parapet-demo-private-db",
        region,
    );
    assert_eq!(private_db.config["StorageEncrypted"], true);
    assert_eq!(private_db.config["BackupRetentionPeriod"], 7);
    let db_snapshot = named(
        &all,
        "AWS::RDS::DBSnapshot",
        "parapet-demo-public-db-snapshot",
        region,
    );
    assert_eq!(db_snapshot.config["RestoreAttribute"], json!(["all"]));
    assert!(
        db_snapshot
            .relationships
            .iter()
            .any(|r| r.kind == "snapshot_of" && r.target == public_db.id)
    );
    // Each instance's automated snapshot, judged like a manual one: its
    // encryption follows the instance's and it cannot be shared.
    for instance in [public_db, private_db] {
        let automated = all
            .iter()
            .find(|a| {
                a.resource_type.as_str() == "AWS::RDS::DBSnapshot"
                    && a.config["SnapshotType"] == "automated"
                    && a.relationships
                        .iter()
                        .any(|r| r.kind == "snapshot_of" && r.target == instance.id)
            })
            .unwrap_or_else(|| panic!("no automated snapshot of {}", instance.name));
        assert!(automated.name.starts_with("rds:"), "{}", automated.name);
        assert_eq!(
            automated.config["Encrypted"],
            instance.config["StorageEncrypted"]
        );
        assert_eq!(automated.config["RestoreAttribute"], json!([]));
    }
    let cluster = named(&all, "AWS::RDS::DBCluster", "parapet-demo-cluster", region);
    assert_eq!(cluster.config["StorageEncrypted"], true);
    let cluster_snapshot = named(
        &all,
        "AWS::RDS::DBClusterSnapshot",
        "parapet-demo-cluster-snapshot",
        region,
    );
    assert_eq!(cluster_snapshot.config["RestoreAttribute"], json!(["all"]));
    assert!(
        cluster_snapshot
            .relationships
            .iter()
            .any(|r| r.kind == "snapshot_of" && r.target == cluster.id)
    );

    // Tags of every type that has them, from each service's own tag call.
    for (resource_type, name) in [
        ("AWS::SQS::Queue", "parapet-demo-encrypted-queue"),
        ("AWS::SNS::Topic", "parapet-demo-encrypted-topic"),
        ("AWS::Logs::LogGroup", "parapet-demo-audit"),
        ("AWS::DynamoDB::Table", "parapet-demo-table"),
        ("AWS::ECR::Repository", "parapet-demo-repo"),
        ("AWS::CertificateManager::Certificate", "demo.example.com"),
        (
            "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "parapet-demo-alb",
        ),
        ("AWS::Lambda::Function", "parapet-demo-function"),
        ("AWS::OpenSearchService::Domain", "parapet-demo-search"),
        ("AWS::CloudTrail::Trail", "parapet-demo-trail"),
    ] {
        let asset = named(&all, resource_type, name, region);
        assert_eq!(
            asset.tags.get("owner").map(String::as_str),
            Some("platform"),
            "{resource_type} {name}: {:?} {:?}",
            asset.tags,
            asset.unknown
        );
    }
    let untagged = named(&all, "AWS::SQS::Queue", "parapet-demo-public-queue", region);
    assert!(untagged.tags.is_empty() && !untagged.unknown.contains_key("tags"));

    // Regions: the multi-region trail of eu-west-1 covers both; GuardDuty
    // and Config are set up in eu-west-1 only.
    let home = named(&all, "AWS::Account::Region", "eu-west-1", "eu-west-1");
    let other = named(&all, "AWS::Account::Region", "us-east-1", "us-east-1");
    for region_asset in [home, other] {
        let trails = region_asset.config["Trails"].as_array().expect("trails");
        assert!(
            trails
                .iter()
                .any(|t| t["IsMultiRegionTrail"] == true && t["IsLogging"] == true),
            "{}",
            region_asset.config
        );
    }
    assert_eq!(
        home.config["Trails"][0]["Region"], "eu-west-1",
        "the trail's home region"
    );
    assert_eq!(home.config["GuardDutyDetectors"][0]["Status"], "ENABLED");
    assert_eq!(other.config["GuardDutyDetectors"], json!([]));
    assert_eq!(home.config["ConfigurationRecorders"][0]["Name"], "default");
    assert_eq!(other.config["ConfigurationRecorders"], json!([]));
    // Security Hub, Macie and Access Analyzer watch eu-west-1 only.
    assert_eq!(
        home.config["SecurityHubs"][0]["HubArn"],
        "arn:aws:securityhub:eu-west-1:123456789012:hub/default"
    );
    assert_eq!(other.config["SecurityHubs"], json!([]));
    assert_eq!(home.config["MacieSessions"], json!([{"Status": "ENABLED"}]));
    assert_eq!(other.config["MacieSessions"], json!([]));
    assert_eq!(
        home.config["AccessAnalyzers"],
        json!([{"AnalyzerName": "parapet-demo-external", "Type": "ACCOUNT", "Status": "ACTIVE"}])
    );
    assert_eq!(other.config["AccessAnalyzers"], json!([]));
    // The trail's log group has one CIS filter (root use) whose alarm
    // notifies a topic with one confirmed subscriber: both regions see it
    // through the multi-region trail.
    for region_asset in [home, other] {
        let alarms = &region_asset.config["LogMetricAlarms"];
        assert_eq!(alarms.as_array().map(Vec::len), Some(1), "{alarms}");
        assert_eq!(alarms[0]["FilterName"], "root-user-use");
        assert_eq!(alarms[0]["LogGroupName"], "parapet-demo-audit");
        assert_eq!(
            alarms[0]["Alarms"][0]["AlarmName"],
            "parapet-demo-root-user-use"
        );
        assert_eq!(alarms[0]["Subscribers"], 1);
    }
    let alarm = named(
        &all,
        "AWS::CloudWatch::Alarm",
        "parapet-demo-root-user-use",
        "eu-west-1",
    );
    assert_eq!(
        alarm.config["Metrics"],
        json!([{"Namespace": "CISBenchmark", "MetricName": "RootUserUse"}])
    );
    assert!(alarm.relationships.iter().any(|r| r.kind == "notifies"
        && r.target == "arn:aws:sns:eu-west-1:123456789012:parapet-demo-security"));
    let contacts = named(&all, "AWS::Account::Contacts", ACCOUNT, "global");
    assert_eq!(contacts.config["SecurityContact"]["Name"], "Security team");
    assert_eq!(contacts.config["BillingContact"], Value::Null);
    let organization = named(&all, "AWS::Organizations::Organization", ACCOUNT, "global");
    assert_eq!(organization.config["Organization"], Value::Null);
    assert_eq!(organization.config["IsManagementAccount"], false);

    let trail = named(&all, "AWS::CloudTrail::Trail", "parapet-demo-trail", region);
    assert_eq!(trail.config["IsMultiRegionTrail"], true);
    assert_eq!(trail.config["LogFileValidationEnabled"], true);
    assert_eq!(trail.config["Status"]["IsLogging"], true);
    assert!(trail.relationships.iter().any(|r| r.kind == "logs_to" && r.target == "arn:aws:s3:::parapet-demo-trail-eu-west-1"));
    let other_trail = named(
        &all,
        "AWS::CloudTrail::Trail",
        "parapet-demo-trail",
        "us-east-1",
    );
    assert_eq!(other_trail.config["Status"]["IsLogging"], false);

    let keys: Vec<&Asset> = all
        .iter()
        .filter(|a| a.region == region && a.resource_type.as_str() == "AWS::KMS::Key")
        .collect();
    let rotated = keys
        .iter()
        .find(|k| k.config["Description"] == "parapet-demo-rotated")
        .expect("rotated key");
    assert_eq!(rotated.config["KeyRotationEnabled"], true);
    assert_eq!(
        rotated.tags.get("owner").map(String::as_str),
        Some("platform")
    );
    assert!(rotated.config["KeyPolicy"]["Statement"].is_array());
    let unrotated = keys
        .iter()
        .find(|k| k.config["Description"] == "parapet-demo-unrotated")
        .expect("unrotated key");
    assert_eq!(unrotated.config["KeyRotationEnabled"], false);

    let queue = named(&all, "AWS::SQS::Queue", "parapet-demo-public-queue", region);
    assert_eq!(queue.config["Policy"]["Statement"][0]["Principal"], "*");
    assert_eq!(queue.config["KmsMasterKeyId"], Value::Null);
    let encrypted_queue = named(
        &all,
        "AWS::SQS::Queue",
        "parapet-demo-encrypted-queue",
        region,
    );
    assert!(encrypted_queue.config["KmsMasterKeyId"].is_string());
    let topic = named(
        &all,
        "AWS::SNS::Topic",
        "parapet-demo-encrypted-topic",
        region,
    );
    assert!(topic.config["KmsMasterKeyId"].is_string());

    let function = named(
        &all,
        "AWS::Lambda::Function",
        "parapet-demo-function",
        region,
    );
    assert_eq!(function.config["FunctionUrlConfig"]["AuthType"], "NONE");
    assert_eq!(function.config["Policy"]["Statement"][0]["Principal"], "*");
    assert_eq!(
        function.config["EnvironmentVariableNames"],
        json!(["DB_PASSWORD"])
    );
    assert!(
        function
            .relationships
            .iter()
            .any(|r| r.kind == "assumes_role" && r.target.ends_with("role/parapet-demo-lambda"))
    );

    let domain = named(
        &all,
        "AWS::OpenSearchService::Domain",
        "parapet-demo-search",
        region,
    );
    assert_eq!(domain.config["EncryptionAtRestOptions"]["Enabled"], false);
    assert_eq!(domain.config["VPCOptions"], Value::Null);
    assert_eq!(
        domain.config["AccessPolicies"]["Statement"][0]["Principal"],
        json!({"AWS": "*"})
    );

    let eks = named(&all, "AWS::EKS::Cluster", "parapet-demo-eks", region);
    assert_eq!(
        eks.config["ResourcesVpcConfig"]["EndpointPublicAccess"],
        true
    );
    let audit = named(&all, "AWS::Logs::LogGroup", "parapet-demo-audit", region);
    assert_eq!(audit.config["RetentionInDays"], 365);
    let app = named(&all, "AWS::Logs::LogGroup", "parapet-demo-app", region);
    assert_eq!(app.config["RetentionInDays"], Value::Null);
    let table = named(&all, "AWS::DynamoDB::Table", "parapet-demo-table", region);
    assert_eq!(table.config["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(table.config["PointInTimeRecoveryEnabled"], false);
    let secret = named(
        &all,
        "AWS::SecretsManager::Secret",
        "parapet-demo-secret",
        region,
    );
    assert_eq!(secret.config["RotationEnabled"], false);
    let repository = named(&all, "AWS::ECR::Repository", "parapet-demo-repo", region);
    assert_eq!(
        repository.config["ImageScanningConfiguration"]["ScanOnPush"],
        false
    );
    assert_eq!(repository.config["Policy"], Value::Null);
    let certificate = named(
        &all,
        "AWS::CertificateManager::Certificate",
        "demo.example.com",
        region,
    );
    assert!(certificate.config["NotAfter"].is_string());
    let detector = all
        .iter()
        .find(|a| a.resource_type.as_str() == "AWS::GuardDuty::Detector")
        .expect("detector");
    assert_eq!(
        (detector.region.as_str(), &detector.config["Status"]),
        (region, &json!("ENABLED"))
    );
    let recorder = named(
        &all,
        "AWS::Config::ConfigurationRecorder",
        "default",
        region,
    );
    assert_eq!(recorder.config["RecordingGroup"]["AllSupported"], true);

    let balancer = named(
        &all,
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "parapet-demo-alb",
        region,
    );
    assert_eq!(balancer.config["Scheme"], "internet-facing");
    let web_group = named(&all, "AWS::EC2::SecurityGroup", "parapet-demo-web", region);
    assert!(
        balancer
            .relationships
            .iter()
            .any(|r| r.kind == "uses_security_group" && r.target == web_group.id)
    );
    let targets = named(
        &all,
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        "parapet-demo-targets",
        region,
    );
    let listener = all
        .iter()
        .find(|a| {
            a.resource_type.as_str() == "AWS::ElasticLoadBalancingV2::Listener"
                && a.config["LoadBalancerArn"] == json!(balancer.id)
        })
        .expect("listener");
    assert_eq!(
        (
            listener.config["Protocol"].as_str(),
            listener.config["Port"].as_i64()
        ),
        (Some("HTTP"), Some(80))
    );
    assert!(
        listener
            .relationships
            .iter()
            .any(|r| r.kind == "forwards_to" && r.target == targets.id)
    );

    // Values that are secrets never reach the database.
    let raw = std::fs::read(&db).expect("database file");
    assert!(
        !raw.windows(15).any(|w| w == b"never-collected"),
        "a secret value is in the database"
    );

    // The rules ran over what was collected.
    let open = store
        .findings(&FindingQuery {
            limit: 10_000,
            ..Default::default()
        })
        .expect("findings");
    let failing = |rule: &str, asset: &str| {
        open.iter()
            .any(|f| f.rule_id == rule && f.asset_id == asset)
    };
    assert!(failing("aws-s3-bucket-policy-not-public", &public.id));
    assert!(!failing("aws-s3-bucket-policy-not-public", &logs.id));
    assert!(failing("aws-iam-user-mfa-enabled", &bob.id));
    assert!(!failing("aws-iam-user-mfa-enabled", &alice.id));
    let ssh = named(
        &all,
        "AWS::EC2::SecurityGroup",
        "parapet-demo-ssh-open",
        "eu-west-1",
    );
    assert!(failing(
        "aws-ec2-security-group-no-ssh-from-internet",
        &ssh.id
    ));
    assert!(failing("aws-rds-instance-not-public", &public_db.id));
    assert!(!failing("aws-rds-instance-not-public", &private_db.id));
    assert!(failing("aws-rds-snapshot-not-public", &db_snapshot.id));
    let automated_of_public = all
        .iter()
        .find(|a| {
            a.resource_type.as_str() == "AWS::RDS::DBSnapshot"
                && a.config["SnapshotType"] == "automated"
                && a.config["DBInstanceIdentifier"] == "parapet-demo-public-db"
                && a.region == region
        })
        .expect("the public instance's automated snapshot");
    assert!(failing(
        "aws-rds-snapshot-encrypted",
        &automated_of_public.id
    ));
    assert!(failing(
        "aws-lambda-function-url-authenticated",
        &function.id
    ));
    assert!(failing(
        "aws-lambda-function-policy-not-public",
        &function.id
    ));
    assert!(failing("aws-sqs-queue-policy-not-public", &queue.id));
    assert!(!failing("aws-kms-key-rotation-enabled", &rotated.id));
    assert!(failing("aws-kms-key-rotation-enabled", &unrotated.id));
    assert!(failing("aws-eks-cluster-endpoint-not-public", &eks.id));
    assert!(!failing(
        "aws-cloudtrail-trail-multi-region-logging",
        &trail.id
    ));
    assert!(failing(
        "aws-cloudtrail-trail-multi-region-logging",
        &other_trail.id
    ));
    assert!(failing(
        "aws-s3-account-public-access-blocked",
        &account_block.id
    ));
    let web = named(&all, "AWS::EC2::Instance", "parapet-demo-web", "eu-west-1");
    let worker = named(
        &all,
        "AWS::EC2::Instance",
        "parapet-demo-worker",
        "eu-west-1",
    );
    assert!(failing("aws-ec2-instance-imdsv2-required", &web.id));
    assert!(failing("aws-iam-policy-no-full-admin", &admin.id));
    let read = named(&all, "AWS::IAM::Policy", "parapet-demo-read", "global");
    assert!(!failing("aws-iam-policy-no-full-admin", &read.id));
    assert!(failing(
        "aws-iam-password-policy-minimum-length",
        &password.id
    ));
    assert!(failing("aws-ecr-repository-scan-on-push", &repository.id));
    // Never expiring counts as kept for a year; 365 days too.
    assert!(!failing("aws-logs-log-group-retention-one-year", &app.id));
    assert!(!failing("aws-logs-log-group-retention-one-year", &audit.id));
    assert!(!failing("aws-guardduty-detector-enabled", &detector.id));
    assert!(failing("aws-opensearch-domain-in-vpc", &domain.id));
    assert!(failing("aws-rds-instance-backups-enabled", &public_db.id));
    assert!(!failing("aws-rds-instance-backups-enabled", &private_db.id));
    // moto's account summary reports no root MFA and no root keys.
    let summary = all
        .iter()
        .find(|a| a.resource_type.as_str() == "AWS::IAM::AccountSummary")
        .expect("account summary");
    assert!(failing("aws-iam-root-mfa-enabled", &summary.id));
    assert!(!failing("aws-iam-root-no-access-keys", &summary.id));
    let internal = named(
        &all,
        "AWS::EC2::SecurityGroup",
        "parapet-demo-internal",
        "eu-west-1",
    );
    assert!(!failing(
        "aws-ec2-security-group-no-high-risk-ports-from-internet",
        &internal.id
    ));
    assert!(!failing("aws-ec2-instance-imdsv2-required", &worker.id));
    let scans = store.scans(10).expect("scans");
    assert_eq!(scans.len(), 1);
    assert_eq!(scans[0].scope.accounts, vec![ACCOUNT.to_owned()]);
}

#[test]
fn a_region_counts_a_trail_homed_in_a_region_outside_the_collection() {
    let moto = Moto::start();
    moto.seed_demo(0);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("parapet.db");
    // Only us-east-1, only regions: the multi-region trail lives in eu-west-1.
    let output = moto.scan(
        &db,
        ("testing", "testing"),
        &[
            "--regions",
            "us-east-1",
            "--resource-types",
            "AWS::Account::Region",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let all = assets(&SqliteStore::open(&db).expect("open"));
    assert_eq!(all.len(), 1, "{all:?}");
    let region = named(&all, "AWS::Account::Region", "us-east-1", "us-east-1");
    let trails = region.config["Trails"].as_array().expect("trails");
    let home = trails
        .iter()
        .find(|t| t["Region"] == "eu-west-1")
        .unwrap_or_else(|| panic!("no eu-west-1 trail: {trails:?}"));
    assert_eq!(home["IsMultiRegionTrail"], true);
    assert_eq!(home["IsLogging"], true);
    // Its selectors were read in its home region, where the demo has it
    // record management events.
    assert_eq!(home["LogsManagementEvents"], true);
    // The region's own trail is single-region and stopped.
    let own = trails
        .iter()
        .find(|t| t["Region"] == "us-east-1")
        .expect("the us-east-1 trail");
    assert_eq!(own["IsLogging"], false);
    // Detectors and recorders were not collected: unknown, not empty; and
    // so are the alarms on the trail's logs, whose log group lies in a
    // region the scan did not cover.
    assert!(region.unknown.contains_key("GuardDutyDetectors"));
    assert!(region.config.get("GuardDutyDetectors").is_none());
    assert!(region.config.get("LogMetricAlarms").is_none());
    assert!(region.unknown.contains_key("LogMetricAlarms"));
}

#[test]
fn denied_calls_give_collection_errors_and_unknown_results_never_passes() {
    // moto enforcing IAM after the fixture's seven bootstrap calls.
    let moto = Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "7")]);
    let seeded = moto.python(&super::fixture("aws-auditor.py"), &[]);
    let key: Value = serde_json::from_slice(&seeded.stdout).expect("the auditor's key");
    let (id, secret) = (
        key["AccessKeyId"].as_str().expect("key id"),
        key["SecretAccessKey"].as_str().expect("secret"),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("parapet.db");
    let output = moto.scan(
        &db,
        (id, secret),
        &[
            "--regions",
            "eu-west-1",
            "--resource-types",
            "AWS::S3::Bucket,AWS::EC2::SecurityGroup,AWS::IAM::User",
            "--format",
            "json",
        ],
    );
    let text = stdout(&output);
    assert!(
        output.status.success(),
        "scan aws failed: {}",
        stderr(&output)
    );
    // The secret never shows, not in the output, not in the database.
    assert!(
        !text.contains(secret) && !stderr(&output).contains(secret),
        "the secret leaked"
    );
    let raw = std::fs::read(&db).expect("database file");
    assert!(
        !raw.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the secret is in the database"
    );

    let report: Value = serde_json::from_str(&text).expect("JSON report");
    let errors = report["collection"]["accounts"][0]["errors"]
        .as_array()
        .expect("errors");
    let iam_error = errors
        .iter()
        .find(|e| e["resource_type"] == "AWS::IAM::User")
        .unwrap_or_else(|| panic!("no IAM error: {errors:?}"));
    assert_eq!(iam_error["region"], "global");
    assert!(
        iam_error["message"]
            .as_str()
            .expect("message")
            .contains("AccessDenied"),
        "{iam_error}"
    );
    assert!(
        errors
            .iter()
            .all(|e| e["resource_type"] != "AWS::S3::Bucket"),
        "{errors:?}"
    );

    let store = SqliteStore::open(&db).expect("open");
    let bucket = store
        .asset_at("arn:aws:s3:::restricted-bucket", None)
        .expect("read")
        .expect("the bucket was collected")
        .asset;
    assert!(bucket.config.get("Policy").is_none(), "{}", bucket.config);
    assert_eq!(
        bucket.unknown.get("Policy").map(String::as_str),
        Some("AccessDenied: s3:GetBucketPolicy")
    );
    let finding = store
        .finding("aws-s3-bucket-policy-not-public", &bucket.id)
        .expect("read")
        .expect("evaluated");
    assert_eq!(finding.result, parapet_core::Status::Unknown);
    // The scan is partial, and no IAM user is marked deleted or created.
    let scans = store.scans(1).expect("scans");
    assert_eq!(scans[0].status, parapet_core::ScanStatus::Partial);
    assert!(
        assets(&store)
            .iter()
            .all(|a| a.resource_type.as_str() != "AWS::IAM::User")
    );
    assert!(assets(&store).iter().any(|a| a.name == "auditor-visible"));
}

#[test]
fn an_organisations_member_accounts_are_collected_each_as_its_own_scan() {
    let moto = Moto::start();
    let seeded = moto.python(&super::fixture("aws-organization.py"), &[]);
    let member = String::from_utf8_lossy(&seeded.stdout).trim().to_owned();
    assert_eq!(member.len(), 12, "{member}");
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("parapet.db");
    let output = moto.scan(
        &db,
        ("testing", "testing"),
        &[
            "--regions",
            "us-east-1",
            "--resource-types",
            "AWS::S3::Bucket",
            "--organization-role",
            "OrganizationAccountAccessRole",
        ],
    );
    assert!(
        output.status.success(),
        "scan aws failed: {}",
        stderr(&output)
    );
    let store = SqliteStore::open(&db).expect("open");
    let management = store
        .asset_at("arn:aws:s3:::management-bucket", None)
        .expect("read")
        .expect("the management account's bucket")
        .asset;
    assert_eq!(management.account, ACCOUNT);
    let theirs = store
        .asset_at("arn:aws:s3:::member-bucket", None)
        .expect("read")
        .expect("the member account's bucket")
        .asset;
    assert_eq!(theirs.account, member);
    let mut scanned: Vec<Vec<String>> = store
        .scans(10)
        .expect("scans")
        .into_iter()
        .map(|s| s.scope.accounts)
        .collect();
    scanned.sort();
    let mut expected = vec![vec![member.clone()], vec![ACCOUNT.to_owned()]];
    expected.sort();
    assert_eq!(scanned, expected);

    // The same member account, listed in the configuration file instead.
    let config = dir.path().join("parapet.yaml");
    std::fs::write(
        &config,
        format!(
            "aws:\n  regions: [us-east-1]\n  accounts:\n    - name: member\n      role_arn: arn:aws:iam::{member}:role/OrganizationAccountAccessRole\n      session_name: parapet-test\n"
        ),
    )
    .expect("write the configuration");
    let db = dir.path().join("configured.db");
    let config = config.to_str().expect("UTF-8 path");
    let output = moto.scan(
        &db,
        ("testing", "testing"),
        &["--resource-types", "AWS::S3::Bucket", "--config", config],
    );
    assert!(
        output.status.success(),
        "scan aws failed: {}",
        stderr(&output)
    );
    let store = SqliteStore::open(&db).expect("open");
    let theirs = store
        .asset_at("arn:aws:s3:::member-bucket", None)
        .expect("read")
        .expect("the configured account's bucket");
    assert_eq!(theirs.asset.account, member);
    assert_eq!(store.scans(10).expect("scans").len(), 2);

    // A configuration file that does not parse is refused with its path.
    std::fs::write(dir.path().join("broken.yaml"), "aws:\n  acounts: []\n").expect("write");
    let broken = dir.path().join("broken.yaml");
    let output = moto.scan(
        &db,
        ("testing", "testing"),
        &["--config", broken.to_str().expect("UTF-8")],
    );
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("broken.yaml") && message.contains("acounts"),
        "{message}"
    );
}

#[test]
fn the_emulated_services_answer_as_their_models_say_and_refuse_what_they_forbid() {
    let moto = Moto::start();
    let output = moto.python(&super::fixture("aws-emulated.py"), &[]);
    let got: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        got,
        json!({
            "hub before": "InvalidAccessException",
            "macie before": "AccessDeniedException",
            "create analyzer": "ok",
            "analyzer type not in the model": "ValidationException",
            "analyzer name against its pattern": "ValidationException",
            "operation not emulated": "NotImplemented",
            "query parameter not in the model": 400,
            "path of no operation": 400,
            "analyzers": ["a"],
            "enable hub": "ok",
            "hub after": "ok",
            "enable macie": "ok",
            "macie after": "ENABLED",
            "snapshot sharing before": "unblocked",
            "snapshot sharing enabled as unblocked": "InvalidParameterValue",
            "enable snapshot blocking": "ok",
            "snapshot sharing after": "block-all-sharing",
            "EBS default key before": "alias/aws/ebs",
            "EBS default key changed": "alias/ebs-cmk",
            "EBS default key after": "alias/ebs-cmk",
            "EBS default key reset": "alias/aws/ebs",
            "moto behind": "ok",
            "moto's own EC2 behind": 1,
        })
    );
}

/// The actions a `parapet permissions aws` statement grants.
fn granted(policy: &Value, sid: &str) -> std::collections::BTreeSet<String> {
    let statement = policy["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("no statement {sid} in {policy}"));
    statement["Action"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| a.as_str().expect("an action").to_owned())
        .collect()
}

/// The collection summary of a `--format json` scan.
fn collection_of(output: &std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "scan aws failed: {}",
        stderr(output)
    );
    let report: Value = serde_json::from_str(&stdout(output)).expect("JSON report");
    report["collection"].clone()
}

/// The calls a collection made, by action.
fn calls_by_action(collection: &Value) -> BTreeMap<String, u64> {
    serde_json::from_value(collection["api_calls_by_action"].clone()).expect("calls by action")
}

/// The calls a `--format json` scan made, by action, after checking that
/// every request it sent, retries aside, was one of them.
fn calls_made(output: &std::process::Output) -> BTreeMap<String, u64> {
    let collection = collection_of(output);
    let calls = calls_by_action(&collection);
    let count = |name: &str| collection[name].as_u64().expect("a count");
    assert_eq!(
        calls.values().sum::<u64>(),
        count("api_calls") - count("api_retries"),
        "every request the collector sent is named by its action: {calls:?}"
    );
    calls
}

#[test]
fn the_printed_policy_grants_every_call_the_collectors_make_and_nothing_more() {
    let moto = Moto::start();
    moto.seed_demo(2);
    // An organisation, for the calls that read one.
    moto.python(&super::fixture("aws-organization.py"), &[]);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("parapet.db");
    let home = tempfile::tempdir().expect("temp home");
    let printed = moto
        .parapet(&db, ("testing", "testing"), home.path())
        .args(["permissions", "aws", "--organization"])
        .output()
        .expect("parapet runs");
    assert!(printed.status.success(), "{}", stderr(&printed));
    let policy: Value = serde_json::from_slice(&printed.stdout).expect("a JSON policy");
    assert_eq!(policy["Version"], "2012-10-17");
    assert_eq!(policy["Statement"].as_array().map(Vec::len), Some(2));
    let policy_actions = granted(&policy, "ParapetCollect");

    let whole = moto.scan(
        &db,
        ("testing", "testing"),
        &["--regions", REGIONS, "--format", "json"],
    );
    let mut made: std::collections::BTreeSet<String> = calls_made(&whole).into_keys().collect();
    // Without --regions the enabled regions are asked for.
    let regions = moto.scan(
        &db,
        ("testing", "testing"),
        &[
            "--resource-types",
            "AWS::IAM::AccountSummary",
            "--format",
            "json",
        ],
    );
    made.extend(calls_made(&regions).into_keys());
    // Who the credentials are is answered to anyone: IAM does not govern it.
    assert!(made.remove("sts:GetCallerIdentity"));
    let ungranted: Vec<_> = made.difference(&policy_actions).collect();
    assert!(
        ungranted.is_empty(),
        "calls the policy does not grant: {ungranted:?}"
    );
    let ungranted: Vec<_> = made.difference(&policy_actions).collect();
    assert!(
        ungranted.is_empty(),
        "calls the policy does not grant: {ungranted:?}"
    );
    let unused: Vec<_> = policy_actions.difference(&made).collect();
    assert!(
        unused.is_empty(),
        "the policy grants calls the collectors never made: {unused:?}"
    );

    // Listing the member accounts takes one call more, which the
    // organisation's statement grants. (Assuming their roles is the
    // caller's own permission, not the audit role's.)
    let organization = moto.scan(
        &db,
        ("testing", "testing"),
        &[
            "--regions",
            "us-east-1",
            "--resource-types",
            "AWS::S3::Bucket",
            "--organization-role",
            "OrganizationAccountAccessRole",
            "--format",
            "json",
        ],
    );
    let listing: std::collections::BTreeSet<String> =
        calls_by_action(&collection_of(&organization))
            .into_keys()
            .filter(|call| !policy_actions.contains(call) && call != "sts:GetCallerIdentity")
            .collect();
    assert_eq!(listing, granted(&policy, "ParapetListMemberAccounts"));
}
