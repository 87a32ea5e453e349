//! Resources that the internet reaches through their policies rather than
//! the network: buckets, snapshots, images, search domains, functions,
//! queues, topics, repositories and keys that grant everyone access, each
//! with the statement or permission that does it.

use parapet_core::Asset;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

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

/// The statements of `policy` (a document, as collectors record policies)
/// that make it public.
fn public_statements(policy: &Value) -> Vec<&Value> {
    if !policy
        .get("Statement")
        .is_some_and(|s| s.is_array() || s.is_object())
    {
        return Vec::new();
    }
    parapet_policy::statements(policy)
        .unwrap_or_default()
        .into_iter()
        .filter(|s| parapet_policy::is_public_statement(*s))
        .collect()
}

/// Whether a public access block setting is on, for the bucket or its
/// account.
fn blocked(bucket: &Value, account: Option<&Value>, setting: &str) -> bool {
    bucket["PublicAccessBlock"][setting] == true
        || account.is_some_and(|a| a["PublicAccessBlock"][setting] == true)
}

/// Every public grant in `assets`.
pub fn public_by_policy(assets: &[Asset]) -> Vec<PublicAccess> {
    let account_blocks: BTreeMap<&str, &Value> = assets
        .iter()
        .filter(|a| a.resource_type.as_str() == "AWS::S3::AccountPublicAccessBlock")
        .map(|a| (a.account.as_str(), &a.config))
        .collect();
    let mut out = Vec::new();
    for asset in assets {
        let c = &asset.config;
        let mut grant = |grant: &'static str, statement: &Value| {
            out.push(PublicAccess {
                asset_id: asset.id.clone(),
                resource_type: asset.resource_type.as_str().to_owned(),
                name: asset.name.clone(),
                grant,
                statement: statement.clone(),
            });
        };
        match asset.resource_type.as_str() {
            "AWS::S3::Bucket" => {
                let account = account_blocks.get(asset.account.as_str()).copied();
                if !blocked(c, account, "RestrictPublicBuckets") {
                    for s in public_statements(&c["Policy"]) {
                        grant("bucket policy", s);
                    }
                }
                if !blocked(c, account, "IgnorePublicAcls") {
                    for g in c["Acl"]["Grants"].as_array().into_iter().flatten() {
                        let uri = g["Grantee"]["URI"].as_str().unwrap_or_default();
                        if uri.ends_with("/global/AllUsers")
                            || uri.ends_with("/global/AuthenticatedUsers")
                        {
                            grant("bucket ACL", g);
                        }
                    }
                }
            }
            "AWS::EC2::Snapshot" => {
                for p in c["CreateVolumePermissions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    if p["Group"] == "all" {
                        grant("create-volume permission", p);
                    }
                }
            }
            "AWS::EC2::Image" => {
                for p in c["LaunchPermissions"].as_array().into_iter().flatten() {
                    if p["Group"] == "all" {
                        grant("launch permission", p);
                    }
                }
            }
            "AWS::RDS::DBSnapshot" | "AWS::RDS::DBClusterSnapshot"
                if c["RestoreAttribute"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|v| v == "all")) =>
            {
                grant("restore permission", &c["RestoreAttribute"]);
            }
            "AWS::OpenSearchService::Domain" if c["VPCOptions"].is_null() => {
                for s in public_statements(&c["AccessPolicies"]) {
                    grant("domain access policy", s);
                }
            }
            "AWS::Lambda::Function" => {
                for s in public_statements(&c["Policy"]) {
                    grant("function policy", s);
                }
                if c["FunctionUrlConfig"]["AuthType"] == "NONE" {
                    grant(
                        "function URL without authentication",
                        &c["FunctionUrlConfig"],
                    );
                }
            }
            "AWS::SQS::Queue" | "AWS::SNS::Topic" | "AWS::ECR::Repository" => {
                let kind = match asset.resource_type.as_str() {
                    "AWS::SQS::Queue" => "queue policy",
                    "AWS::SNS::Topic" => "topic policy",
                    _ => "repository policy",
                };
                for s in public_statements(&c["Policy"]) {
                    grant(kind, s);
                }
            }
            "AWS::EKS::Cluster" if c["ResourcesVpcConfig"]["EndpointPublicAccess"] == true => {
                let cidrs = &c["ResourcesVpcConfig"]["PublicAccessCidrs"];
                let anywhere = cidrs
                    .as_array()
                    .is_none_or(|list| list.is_empty() || list.iter().any(|v| v == "0.0.0.0/0"));
                if anywhere {
                    grant("public API endpoint", cidrs);
                }
            }
            "AWS::KMS::Key" => {
                for s in public_statements(&c["KeyPolicy"]) {
                    grant("key policy", s);
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::asset;
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
