//! The documentation of every resource type collected: its configuration
//! fields, where each comes from, and an example, as `docs/resources/aws/`
//! holds it and `parapet resources show` prints it.

/// Each type's documentation page.
const PAGES: &[(&str, &str)] = &[
    (
        "AWS::Account::Region",
        include_str!("../../../docs/resources/aws/account-region.md"),
    ),
    (
        "AWS::S3::Bucket",
        include_str!("../../../docs/resources/aws/s3-bucket.md"),
    ),
    (
        "AWS::S3::AccountPublicAccessBlock",
        include_str!("../../../docs/resources/aws/s3-account-public-access-block.md"),
    ),
    (
        "AWS::EC2::Instance",
        include_str!("../../../docs/resources/aws/ec2-instance.md"),
    ),
    (
        "AWS::EC2::SecurityGroup",
        include_str!("../../../docs/resources/aws/ec2-security-group.md"),
    ),
    (
        "AWS::EC2::NetworkAcl",
        include_str!("../../../docs/resources/aws/ec2-network-acl.md"),
    ),
    (
        "AWS::EC2::Volume",
        include_str!("../../../docs/resources/aws/ec2-volume.md"),
    ),
    (
        "AWS::EC2::Snapshot",
        include_str!("../../../docs/resources/aws/ec2-snapshot.md"),
    ),
    (
        "AWS::EC2::Image",
        include_str!("../../../docs/resources/aws/ec2-image.md"),
    ),
    (
        "AWS::EC2::VPC",
        include_str!("../../../docs/resources/aws/ec2-vpc.md"),
    ),
    (
        "AWS::EC2::Subnet",
        include_str!("../../../docs/resources/aws/ec2-subnet.md"),
    ),
    (
        "AWS::EC2::RouteTable",
        include_str!("../../../docs/resources/aws/ec2-route-table.md"),
    ),
    (
        "AWS::EC2::InternetGateway",
        include_str!("../../../docs/resources/aws/ec2-internet-gateway.md"),
    ),
    (
        "AWS::EC2::NatGateway",
        include_str!("../../../docs/resources/aws/ec2-nat-gateway.md"),
    ),
    (
        "AWS::EC2::NetworkInterface",
        include_str!("../../../docs/resources/aws/ec2-network-interface.md"),
    ),
    (
        "AWS::EC2::EIP",
        include_str!("../../../docs/resources/aws/ec2-eip.md"),
    ),
    (
        "AWS::EC2::EBSEncryptionByDefault",
        include_str!("../../../docs/resources/aws/ec2-ebs-encryption-by-default.md"),
    ),
    (
        "AWS::IAM::User",
        include_str!("../../../docs/resources/aws/iam-user.md"),
    ),
    (
        "AWS::IAM::Role",
        include_str!("../../../docs/resources/aws/iam-role.md"),
    ),
    (
        "AWS::IAM::Group",
        include_str!("../../../docs/resources/aws/iam-group.md"),
    ),
    (
        "AWS::IAM::Policy",
        include_str!("../../../docs/resources/aws/iam-policy.md"),
    ),
    (
        "AWS::IAM::PasswordPolicy",
        include_str!("../../../docs/resources/aws/iam-password-policy.md"),
    ),
    (
        "AWS::IAM::AccountSummary",
        include_str!("../../../docs/resources/aws/iam-account-summary.md"),
    ),
    (
        "AWS::IAM::RootAccount",
        include_str!("../../../docs/resources/aws/iam-root-account.md"),
    ),
    (
        "AWS::RDS::DBInstance",
        include_str!("../../../docs/resources/aws/rds-db-instance.md"),
    ),
    (
        "AWS::RDS::DBCluster",
        include_str!("../../../docs/resources/aws/rds-db-cluster.md"),
    ),
    (
        "AWS::RDS::DBSnapshot",
        include_str!("../../../docs/resources/aws/rds-db-snapshot.md"),
    ),
    (
        "AWS::RDS::DBClusterSnapshot",
        include_str!("../../../docs/resources/aws/rds-db-cluster-snapshot.md"),
    ),
    (
        "AWS::CloudTrail::Trail",
        include_str!("../../../docs/resources/aws/cloudtrail-trail.md"),
    ),
    (
        "AWS::KMS::Key",
        include_str!("../../../docs/resources/aws/kms-key.md"),
    ),
    (
        "AWS::OpenSearchService::Domain",
        include_str!("../../../docs/resources/aws/opensearch-domain.md"),
    ),
    (
        "AWS::Lambda::Function",
        include_str!("../../../docs/resources/aws/lambda-function.md"),
    ),
    (
        "AWS::SQS::Queue",
        include_str!("../../../docs/resources/aws/sqs-queue.md"),
    ),
    (
        "AWS::SNS::Topic",
        include_str!("../../../docs/resources/aws/sns-topic.md"),
    ),
    (
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        include_str!("../../../docs/resources/aws/elbv2-load-balancer.md"),
    ),
    (
        "AWS::ElasticLoadBalancingV2::Listener",
        include_str!("../../../docs/resources/aws/elbv2-listener.md"),
    ),
    (
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        include_str!("../../../docs/resources/aws/elbv2-target-group.md"),
    ),
    (
        "AWS::ECR::Repository",
        include_str!("../../../docs/resources/aws/ecr-repository.md"),
    ),
    (
        "AWS::EKS::Cluster",
        include_str!("../../../docs/resources/aws/eks-cluster.md"),
    ),
    (
        "AWS::Logs::LogGroup",
        include_str!("../../../docs/resources/aws/logs-log-group.md"),
    ),
    (
        "AWS::DynamoDB::Table",
        include_str!("../../../docs/resources/aws/dynamodb-table.md"),
    ),
    (
        "AWS::SecretsManager::Secret",
        include_str!("../../../docs/resources/aws/secretsmanager-secret.md"),
    ),
    (
        "AWS::GuardDuty::Detector",
        include_str!("../../../docs/resources/aws/guardduty-detector.md"),
    ),
    (
        "AWS::Config::ConfigurationRecorder",
        include_str!("../../../docs/resources/aws/config-configuration-recorder.md"),
    ),
    (
        "AWS::CertificateManager::Certificate",
        include_str!("../../../docs/resources/aws/acm-certificate.md"),
    ),
];

/// A collected resource type and its documentation.
#[derive(Debug, Clone, Copy)]
pub struct ResourceDoc {
    /// The type's name (`AWS::S3::Bucket`).
    pub resource_type: &'static str,
    /// The service whose API describes it.
    pub service: &'static str,
    /// The page: fields, sources and an example, in Markdown.
    pub page: &'static str,
}

impl ResourceDoc {
    /// The page's first paragraph after the title: what the type is.
    pub fn summary(&self) -> &'static str {
        self.page
            .lines()
            .skip_while(|l| l.starts_with('#') || l.trim().is_empty())
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
    }

    /// The configuration fields the page's table lists.
    pub fn fields(&self) -> Vec<&'static str> {
        self.page
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split('`').next())
            .collect()
    }
}

/// Every collected type, in the order `parapet resources list` shows them.
pub fn catalog() -> Vec<ResourceDoc> {
    crate::types::resource_types()
        .map(|(resource_type, service)| ResourceDoc {
            resource_type,
            service,
            page: PAGES
                .iter()
                .find(|(t, _)| *t == resource_type)
                .map_or("", |(_, page)| page),
        })
        .collect()
}

/// The documentation of one type, by its name (case-insensitive).
pub fn find(resource_type: &str) -> Option<ResourceDoc> {
    catalog()
        .into_iter()
        .find(|d| d.resource_type.eq_ignore_ascii_case(resource_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_collected_type_has_a_page_with_fields_and_an_example() {
        for doc in catalog() {
            assert!(!doc.page.is_empty(), "{} has no page", doc.resource_type);
            assert!(
                doc.page.starts_with(&format!("# {}", doc.resource_type)),
                "{}'s page has another title",
                doc.resource_type
            );
            assert!(
                !doc.fields().is_empty(),
                "{} lists no fields",
                doc.resource_type
            );
            assert!(
                !doc.summary().is_empty(),
                "{} has no summary",
                doc.resource_type
            );
            let example = doc
                .page
                .split("```json")
                .nth(1)
                .and_then(|rest| rest.split("```").next())
                .unwrap_or_else(|| panic!("{} has no example", doc.resource_type));
            let example: serde_json::Value = serde_json::from_str(example)
                .unwrap_or_else(|e| panic!("{}'s example: {e}", doc.resource_type));
            for field in example.as_object().expect("an object").keys() {
                assert!(
                    doc.fields().contains(&field.as_str()),
                    "{}: the example's {field} is not in the table",
                    doc.resource_type
                );
            }
        }
        assert_eq!(
            PAGES.len(),
            catalog().len(),
            "a page for a type not collected"
        );
    }
}
