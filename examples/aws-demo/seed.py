"""Seeds an emulated AWS account (moto's server) with an example estate.

A realistic mix of compliant and non-compliant resources in two regions:
S3 buckets, EC2 networks, instances, volumes, snapshots and images, and IAM
users, groups, roles and policies. Names starting with `parapet-demo-` are
the ones the tests look at; `--scale N` adds N more of each common kind.

    python seed.py --endpoint http://127.0.0.1:5000 --scale 10
"""

import argparse
import json

import boto3

REGIONS = ["eu-west-1", "us-east-1"]
ACCOUNT = "123456789012"


def client(endpoint, service, region="us-east-1"):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="demo",
        aws_secret_access_key="demo",
    )


def s3control(endpoint):
    """S3 Control puts the account id in front of the endpoint's host, which
    a local emulator's address does not resolve: send it to the plain host."""
    control = client(endpoint, "s3control")

    def plain_host(request, **_):
        request.url = request.url.replace(f"//{ACCOUNT}.", "//", 1)

    control.meta.events.register("before-sign.s3-control.*", plain_host)
    return control


def seed_s3(endpoint, scale):
    s3 = client(endpoint, "s3", "eu-west-1")
    eu = {"LocationConstraint": "eu-west-1"}
    for name in ["parapet-demo-logs", "parapet-demo-public"]:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration=eu)
    s3.put_bucket_versioning(
        Bucket="parapet-demo-logs", VersioningConfiguration={"Status": "Enabled"}
    )
    s3.put_public_access_block(
        Bucket="parapet-demo-logs",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket="parapet-demo-logs",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_policy(
        Bucket="parapet-demo-logs",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": {"AWS": "*"},
                        "Action": "s3:*",
                        "Resource": [
                            "arn:aws:s3:::parapet-demo-logs",
                            "arn:aws:s3:::parapet-demo-logs/*",
                        ],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                    {
                        "Sid": "AccessLogDelivery",
                        "Effect": "Allow",
                        "Principal": {"Service": "logging.s3.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": "arn:aws:s3:::parapet-demo-logs/*",
                    },
                ],
            }
        ),
    )
    s3.put_bucket_policy(
        Bucket="parapet-demo-public",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "PublicRead",
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::parapet-demo-public/*",
                    }
                ],
            }
        ),
    )
    s3.put_bucket_logging(
        Bucket="parapet-demo-public",
        BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": "parapet-demo-logs", "TargetPrefix": "public/"}
        },
    )
    s3.put_bucket_versioning(
        Bucket="parapet-demo-public", VersioningConfiguration={"Status": "Suspended"}
    )
    s3.put_bucket_tagging(
        Bucket="parapet-demo-public",
        Tagging={"TagSet": [{"Key": "owner", "Value": "web-team"}]},
    )
    us = client(endpoint, "s3", "us-east-1")
    us.create_bucket(Bucket="parapet-demo-acl")
    us.put_bucket_acl(Bucket="parapet-demo-acl", ACL="public-read")
    for i in range(scale):
        name = f"data-{i:03d}"
        if i % 2:
            us.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration=eu)
        if i % 3 == 0:
            (us if i % 2 else s3).put_bucket_versioning(
                Bucket=name, VersioningConfiguration={"Status": "Enabled"}
            )
    s3control(endpoint).put_public_access_block(
        AccountId=ACCOUNT,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )


def rule(port, cidr=None, cidr6=None, protocol="tcp"):
    permission = {"IpProtocol": protocol, "FromPort": port, "ToPort": port}
    if cidr:
        permission["IpRanges"] = [{"CidrIp": cidr}]
    if cidr6:
        permission["Ipv6Ranges"] = [{"CidrIpv6": cidr6}]
    return permission


def seed_ec2(endpoint, region, scale):
    ec2 = client(endpoint, "ec2", region)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": "parapet-demo-vpc"}])
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    private = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    nat_ip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.create_nat_gateway(SubnetId=subnet, AllocationId=nat_ip)
    if region == REGIONS[0]:
        ec2.create_flow_logs(
            ResourceIds=[vpc],
            ResourceType="VPC",
            TrafficType="ALL",
            LogDestinationType="cloud-watch-logs",
            LogGroupName="parapet-demo-flow-logs",
            DeliverLogsPermissionArn=f"arn:aws:iam::{ACCOUNT}:role/flow-logs",
        )
        ec2.enable_ebs_encryption_by_default()
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    ec2.create_network_acl_entry(
        NetworkAclId=acl,
        RuleNumber=100,
        Protocol="6",
        RuleAction="allow",
        Egress=False,
        CidrBlock="0.0.0.0/0",
        PortRange={"From": 22, "To": 22},
    )

    def group(name, rules):
        gid = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
        if rules:
            ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=rules)
        return gid

    ssh = group("parapet-demo-ssh-open", [rule(22, cidr="0.0.0.0/0")])
    group("parapet-demo-rdp-open", [rule(3389, cidr6="::/0")])
    web = group("parapet-demo-web", [rule(443, cidr="0.0.0.0/0"), rule(80, cidr="0.0.0.0/0")])
    group("parapet-demo-internal", [rule(5432, cidr="10.0.0.0/16")])
    for i in range(scale):
        group(f"app-{i:03d}", [rule(8000 + i, cidr="10.0.0.0/8")])

    ami = "ami-12c6146b"
    web_instance = ec2.run_instances(
        ImageId=ami,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        SubnetId=subnet,
        SecurityGroupIds=[ssh, web],
        MetadataOptions={"HttpTokens": "optional", "HttpEndpoint": "enabled"},
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "parapet-demo-web"}]}
        ],
    )["Instances"][0]["InstanceId"]
    ec2.run_instances(
        ImageId=ami,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        SubnetId=private,
        MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled"},
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "parapet-demo-worker"}]}
        ],
    )
    address = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=address, InstanceId=web_instance)

    zone = f"{region}a"
    plain = ec2.create_volume(
        AvailabilityZone=zone,
        Size=8,
        Encrypted=False,
        TagSpecifications=[
            {"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": "parapet-demo-plain"}]}
        ],
    )["VolumeId"]
    ec2.create_volume(
        AvailabilityZone=zone,
        Size=16,
        Encrypted=True,
        TagSpecifications=[
            {"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": "parapet-demo-encrypted"}]}
        ],
    )
    for i in range(scale):
        ec2.create_volume(AvailabilityZone=zone, Size=1 + i % 10, Encrypted=bool(i % 2))
    public = ec2.create_snapshot(
        VolumeId=plain,
        Description="parapet-demo-public-snapshot",
        TagSpecifications=[
            {
                "ResourceType": "snapshot",
                "Tags": [{"Key": "Name", "Value": "parapet-demo-public-snapshot"}],
            }
        ],
    )["SnapshotId"]
    ec2.modify_snapshot_attribute(
        SnapshotId=public,
        Attribute="createVolumePermission",
        OperationType="add",
        GroupNames=["all"],
    )
    ec2.create_snapshot(VolumeId=plain, Description="parapet-demo-private-snapshot")
    image = ec2.create_image(InstanceId=web_instance, Name="parapet-demo-image")["ImageId"]
    ec2.modify_image_attribute(
        ImageId=image,
        LaunchPermission={"Add": [{"Group": "all"}]},
    )


def self_signed(name):
    """A self-signed certificate and its key, PEM-encoded."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=400))
        .not_valid_after(now - datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    body = cert.public_bytes(serialization.Encoding.PEM).decode()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return body, pem


def seed_iam(endpoint, scale):
    client(endpoint, "account").put_alternate_contact(
        AlternateContactType="SECURITY",
        Name="Security team",
        Title="Security",
        EmailAddress="security@example.com",
        PhoneNumber="+1-555-0100",
    )
    iam = client(endpoint, "iam")
    iam.update_account_password_policy(MinimumPasswordLength=8, RequireSymbols=False)
    # An expired certificate left in IAM from before ACM.
    body, key = self_signed("legacy.example.com")
    iam.upload_server_certificate(ServerCertificateName="parapet-demo-legacy", CertificateBody=body, PrivateKey=key)
    admin = iam.create_policy(
        PolicyName="parapet-demo-admin",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )["Policy"]["Arn"]
    readonly = iam.create_policy(
        PolicyName="parapet-demo-read",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    iam.create_group(GroupName="parapet-demo-developers")
    iam.attach_group_policy(GroupName="parapet-demo-developers", PolicyArn=readonly)
    iam.put_group_policy(
        GroupName="parapet-demo-developers",
        PolicyName="list-demo-buckets",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::parapet-demo-*"}
                ],
            }
        ),
    )

    iam.create_user(UserName="parapet-demo-alice", Tags=[{"Key": "team", "Value": "platform"}])
    iam.create_login_profile(UserName="parapet-demo-alice", Password="Correct-Horse-1")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="parapet-demo-alice")
    iam.enable_mfa_device(
        UserName="parapet-demo-alice",
        SerialNumber=device["VirtualMFADevice"]["SerialNumber"],
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    iam.add_user_to_group(GroupName="parapet-demo-developers", UserName="parapet-demo-alice")

    iam.create_user(UserName="parapet-demo-bob")
    iam.create_login_profile(UserName="parapet-demo-bob", Password="Correct-Horse-2")
    iam.attach_user_policy(UserName="parapet-demo-bob", PolicyArn=admin)
    iam.put_user_policy(
        UserName="parapet-demo-bob",
        PolicyName="inline-s3",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )

    iam.create_user(UserName="parapet-demo-ci")
    iam.create_access_key(UserName="parapet-demo-ci")
    for i in range(scale):
        name = f"user-{i:03d}"
        iam.create_user(UserName=name)
        iam.add_user_to_group(GroupName="parapet-demo-developers", UserName=name)

    iam.create_role(
        RoleName="parapet-demo-anyone",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )
    iam.create_role(
        RoleName="parapet-demo-lambda",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    iam.attach_role_policy(RoleName="parapet-demo-lambda", PolicyArn=readonly)
    iam.put_role_policy(
        RoleName="parapet-demo-lambda",
        PolicyName="write-logs",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": "arn:aws:logs:*:*:log-group:/aws/lambda/*",
                    }
                ],
            }
        ),
    )


def lambda_zip():
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 'ok'\n")
    return buffer.getvalue()


def alarm(endpoint, region, name, metric, topic, tags):
    """An alarm on any occurrence of a CIS monitoring metric, notifying `topic`."""
    client(endpoint, "cloudwatch", region).put_metric_alarm(
        AlarmName=name,
        MetricName=metric,
        Namespace="CISBenchmark",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[topic],
        Tags=tags,
    )


def seed_services(endpoint, region, scale):
    """One or two of each other collected type, compliant and not."""
    kms = client(endpoint, "kms", region)
    rotated = kms.create_key(Description="parapet-demo-rotated", Tags=[{"TagKey": "owner", "TagValue": "platform"}])[
        "KeyMetadata"
    ]["KeyId"]
    kms.enable_key_rotation(KeyId=rotated)
    kms.create_key(Description="parapet-demo-unrotated")

    rds = client(endpoint, "rds", region)
    rds.create_db_instance(
        DBInstanceIdentifier="parapet-demo-public-db",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="admin",
        MasterUserPassword="not-a-secret-1",
        AllocatedStorage=20,
        PubliclyAccessible=True,
        StorageEncrypted=False,
    )
    rds.create_db_instance(
        DBInstanceIdentifier="parapet-demo-private-db",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="admin",
        MasterUserPassword="not-a-secret-2",
        AllocatedStorage=20,
        PubliclyAccessible=False,
        StorageEncrypted=True,
        BackupRetentionPeriod=7,
    )
    rds.create_db_snapshot(
        DBSnapshotIdentifier="parapet-demo-public-db-snapshot",
        DBInstanceIdentifier="parapet-demo-public-db",
    )
    rds.modify_db_snapshot_attribute(
        DBSnapshotIdentifier="parapet-demo-public-db-snapshot",
        AttributeName="restore",
        ValuesToAdd=["all"],
    )
    rds.create_db_cluster(
        DBClusterIdentifier="parapet-demo-cluster",
        Engine="aurora-postgresql",
        MasterUsername="admin",
        MasterUserPassword="not-a-secret-3",
        StorageEncrypted=True,
    )
    rds.create_db_cluster_snapshot(
        DBClusterSnapshotIdentifier="parapet-demo-cluster-snapshot",
        DBClusterIdentifier="parapet-demo-cluster",
    )
    rds.modify_db_cluster_snapshot_attribute(
        DBClusterSnapshotIdentifier="parapet-demo-cluster-snapshot",
        AttributeName="restore",
        ValuesToAdd=["all"],
    )

    s3 = client(endpoint, "s3", region)
    trail_bucket = f"parapet-demo-trail-{region}"
    if region == "us-east-1":
        s3.create_bucket(Bucket=trail_bucket)
    else:
        s3.create_bucket(Bucket=trail_bucket, CreateBucketConfiguration={"LocationConstraint": region})
    trail = client(endpoint, "cloudtrail", region)
    trail.create_trail(
        Name=f"parapet-demo-trail",
        S3BucketName=trail_bucket,
        IsMultiRegionTrail=region == REGIONS[0],
        EnableLogFileValidation=region == REGIONS[0],
        TagsList=[{"Key": "owner", "Value": "platform"}],
    )
    if region == REGIONS[0]:
        trail.start_logging(Name="parapet-demo-trail")

    sqs = client(endpoint, "sqs", region)
    url = sqs.create_queue(QueueName="parapet-demo-public-queue")["QueueUrl"]
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={
            "Policy": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}
                    ],
                }
            )
        },
    )
    sqs.create_queue(
        QueueName="parapet-demo-encrypted-queue", Attributes={"KmsMasterKeyId": rotated}, tags={"owner": "platform"}
    )
    sns = client(endpoint, "sns", region)
    sns.create_topic(Name="parapet-demo-topic")
    sns.create_topic(
        Name="parapet-demo-encrypted-topic",
        Attributes={"KmsMasterKeyId": rotated},
        Tags=[{"Key": "owner", "Value": "platform"}],
    )

    efs = client(endpoint, "efs", region)
    efs.create_file_system(
        CreationToken="parapet-demo-shared",
        Encrypted=True,
        KmsKeyId=rotated,
        Backup=True,
        Tags=[{"Key": "Name", "Value": "parapet-demo-shared"}, {"Key": "owner", "Value": "platform"}],
    )
    efs.create_file_system(CreationToken="parapet-demo-scratch", Tags=[{"Key": "Name", "Value": "parapet-demo-scratch"}])

    logs = client(endpoint, "logs", region)
    logs.create_log_group(logGroupName="parapet-demo-app")
    logs.create_log_group(logGroupName="parapet-demo-audit", tags={"owner": "platform"})
    logs.put_retention_policy(logGroupName="parapet-demo-audit", retentionInDays=365)
    if region == REGIONS[0]:
        # The multi-region trail delivers to the audit log group, where one
        # CIS monitoring filter (root use) raises an alarm to a topic with
        # a subscriber; the other fourteen are missing. Security Hub, Macie
        # and Access Analyzer watch this region only.
        trail.put_event_selectors(
            TrailName="parapet-demo-trail",
            EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}],
        )
        trail.update_trail(
            Name="parapet-demo-trail",
            CloudWatchLogsLogGroupArn=f"arn:aws:logs:{region}:{ACCOUNT}:log-group:parapet-demo-audit:*",
            CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCOUNT}:role/flow-logs",
        )
        logs.put_metric_filter(
            logGroupName="parapet-demo-audit",
            filterName="root-user-use",
            filterPattern='{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
            '&& $.eventType != "AwsServiceEvent" }',
            metricTransformations=[{"metricName": "RootUserUse", "metricNamespace": "CISBenchmark", "metricValue": "1"}],
        )
        client(endpoint, "securityhub", region).enable_security_hub(EnableDefaultStandards=False)
        client(endpoint, "macie2", region).enable_macie(status="ENABLED")
        client(endpoint, "accessanalyzer", region).create_analyzer(analyzerName="parapet-demo-external", type="ACCOUNT")
        topic = sns.create_topic(Name="parapet-demo-security")["TopicArn"]
        queue = sqs.create_queue(QueueName="parapet-demo-security-inbox")["QueueUrl"]
        inbox = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox)
        alarm(endpoint, region, "parapet-demo-root-user-use", "RootUserUse", topic, [{"Key": "owner", "Value": "platform"}])

    ddb = client(endpoint, "dynamodb", region)
    ddb.create_table(
        TableName="parapet-demo-table",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": "owner", "Value": "platform"}],
    )

    client(endpoint, "secretsmanager", region).create_secret(
        Name="parapet-demo-secret", SecretString="never-collected"
    )
    client(endpoint, "ecr", region).create_repository(
        repositoryName="parapet-demo-repo",
        imageScanningConfiguration={"scanOnPush": False},
        tags=[{"Key": "owner", "Value": "platform"}],
    )
    client(endpoint, "acm", region).request_certificate(
        DomainName="demo.example.com", ValidationMethod="DNS", Tags=[{"Key": "owner", "Value": "platform"}]
    )
    if region == REGIONS[0]:
        client(endpoint, "guardduty", region).create_detector(Enable=True)
        config = client(endpoint, "config", region)
        config.put_configuration_recorder(
            ConfigurationRecorder={
                "name": "default",
                "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config",
                "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
            }
        )

    ec2 = client(endpoint, "ec2", region)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["parapet-demo-vpc"]}])["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]]
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["parapet-demo-web"]}, {"Name": "vpc-id", "Values": [vpc]}]
    )["SecurityGroups"]
    elb = client(endpoint, "elbv2", region)
    balancer = elb.create_load_balancer(
        Name="parapet-demo-alb",
        Subnets=subnets[:2],
        SecurityGroups=[groups[0]["GroupId"]],
        Scheme="internet-facing",
        Type="application",
        Tags=[{"Key": "owner", "Value": "platform"}],
    )["LoadBalancers"][0]["LoadBalancerArn"]
    target = elb.create_target_group(
        Name="parapet-demo-targets", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance"
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(
        LoadBalancerArn=balancer,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target}],
    )

    iam = client(endpoint, "iam")
    role = iam.get_role(RoleName="parapet-demo-lambda")["Role"]["Arn"]
    function = client(endpoint, "lambda", region)
    function.create_function(
        FunctionName="parapet-demo-function",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": lambda_zip()},
        Environment={"Variables": {"DB_PASSWORD": "never-collected"}},
        Tags={"owner": "platform"},
    )
    function.add_permission(
        FunctionName="parapet-demo-function",
        StatementId="public",
        Action="lambda:InvokeFunction",
        Principal="*",
    )
    function.create_function_url_config(FunctionName="parapet-demo-function", AuthType="NONE")

    opensearch = client(endpoint, "opensearch", region)
    opensearch.create_domain(
        DomainName="parapet-demo-search",
        EngineVersion="OpenSearch_2.11",
        EncryptionAtRestOptions={"Enabled": False},
        TagList=[{"Key": "owner", "Value": "platform"}],
        AccessPolicies=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "es:*", "Resource": "*"}],
            }
        ),
    )
    client(endpoint, "eks", region).create_cluster(
        name="parapet-demo-eks",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks",
        resourcesVpcConfig={"subnetIds": subnets[:2], "endpointPublicAccess": True, "endpointPrivateAccess": False},
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--scale", type=int, default=10)
    args = parser.parse_args()
    seed_s3(args.endpoint, args.scale)
    for region in REGIONS:
        seed_ec2(args.endpoint, region, args.scale)
    seed_iam(args.endpoint, args.scale)
    for region in REGIONS:
        seed_services(args.endpoint, region, args.scale)


if __name__ == "__main__":
    main()
