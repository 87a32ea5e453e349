//! Resources that the internet reaches through their policies rather than
//! the network: buckets, snapshots, images, search domains, functions,
//! queues, topics, repositories and keys that grant everyone access, each
//! with the statement or permission that does it. Each provider's adapter
//! finds its own.

use parapet_core::Asset;
use serde::Serialize;
use serde_json::Value;

/// One grant that opens a resource to everyone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublicAccess {
    /// The resource.
    pub asset_id: String,
    /// Its type.
    pub resource_type: String,
    /// Its name.
    pub name: String,
    /// Where the grant is: `bucket policy`, `bucket ACL`, `restore
    /// permission`...
    pub grant: &'static str,
    /// The statement, ACL grant or permission itself.
    pub statement: Value,
}

/// Every public grant in `assets`, each found by its provider's adapter.
pub fn public_by_policy(assets: &[Asset]) -> Vec<PublicAccess> {
    let mut out = Vec::new();
    for adapter in crate::adapter::ADAPTERS {
        let own: Vec<&Asset> = assets
            .iter()
            .filter(|a| a.provider == adapter.provider())
            .collect();
        out.extend(adapter.public_grants(&own));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::asset;
    use serde_json::Value;
    use serde_json::json;

    fn anyone(action: &str) -> Value {
        json!({"Effect": "Allow", "Principal": "*", "Action": action, "Resource": "*"})
    }

    #[test]
    fn public_statements_grants_and_permissions_are_found_with_what_grants_them() {
        let assets = vec![
            asset(
                "AWS::S3::Bucket",
                "site",
                json!({"Policy": {"Statement": [anyone("s3:GetObject"),
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:*", "Resource": "*"}]},
                "Acl": {"Grants": [{"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]},
                "PublicAccessBlock": null}),
            ),
            asset(
                "AWS::EC2::Snapshot",
                "snap",
                json!({"CreateVolumePermissions": [{"Group": "all"}]}),
            ),
            asset(
                "AWS::RDS::DBSnapshot",
                "dbsnap",
                json!({"RestoreAttribute": ["all"]}),
            ),
            asset(
                "AWS::SQS::Queue",
                "queue",
                json!({"Policy": {"Statement": anyone("sqs:SendMessage")}}),
            ),
            asset(
                "AWS::Lambda::Function",
                "fn",
                json!({"Policy": null, "FunctionUrlConfig": {"AuthType": "NONE"}}),
            ),
            asset(
                "AWS::OpenSearchService::Domain",
                "search",
                json!({"VPCOptions": {"VPCId": "vpc-1"},
                "AccessPolicies": {"Statement": [anyone("es:*")]}}),
            ),
            asset(
                "AWS::EKS::Cluster",
                "eks",
                json!({"ResourcesVpcConfig": {"EndpointPublicAccess": true, "PublicAccessCidrs": ["0.0.0.0/0"]}}),
            ),
            asset(
                "AWS::EKS::Cluster",
                "eks-office",
                json!({"ResourcesVpcConfig": {"EndpointPublicAccess": true, "PublicAccessCidrs": ["203.0.113.0/24"]}}),
            ),
            asset(
                "AWS::KMS::Key",
                "key",
                json!({"KeyPolicy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": "111122223333"}}}]}}),
            ),
        ];
        let found = public_by_policy(&assets);
        let grants: Vec<(&str, &str)> = found.iter().map(|p| (p.name.as_str(), p.grant)).collect();
        assert_eq!(
            grants,
            vec![
                ("site", "bucket policy"),
                ("site", "bucket ACL"),
                ("snap", "create-volume permission"),
                ("dbsnap", "restore permission"),
                ("queue", "queue policy"),
                ("fn", "function URL without authentication"),
                ("eks", "public API endpoint"),
            ]
        );
        assert_eq!(found[0].statement["Action"], "s3:GetObject");
    }

    #[test]
    fn public_access_blocks_of_the_bucket_or_account_close_it() {
        let policy = json!({"Statement": [anyone("s3:GetObject")]});
        let blocked_bucket = asset(
            "AWS::S3::Bucket",
            "a",
            json!({"Policy": policy,
            "PublicAccessBlock": {"RestrictPublicBuckets": true, "IgnorePublicAcls": true}}),
        );
        assert!(public_by_policy(&[blocked_bucket]).is_empty());
        let open = asset(
            "AWS::S3::Bucket",
            "b",
            json!({"Policy": policy, "PublicAccessBlock": null}),
        );
        let account = asset(
            "AWS::S3::AccountPublicAccessBlock",
            "account",
            json!({"PublicAccessBlock": {"RestrictPublicBuckets": true}}),
        );
        assert!(public_by_policy(&[open.clone(), account]).is_empty());
        assert_eq!(public_by_policy(&[open]).len(), 1);
    }
}
