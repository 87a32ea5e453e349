//! AWS's grants to everyone: bucket policies and ACLs (unless a public
//! access block of the bucket or its account closes them), snapshot and AMI
//! permissions for all, RDS snapshots restorable by all, search domains,
//! functions, queues, topics, repositories and keys whose policies allow
//! anyone, function URLs without authentication, and EKS API endpoints open
//! to the internet.

use crate::public::PublicAccess;
use parapet_core::Asset;
use serde_json::Value;
use std::collections::BTreeMap;

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

/// Every public grant in `assets` (all of AWS).
pub fn grants(assets: &[&Asset]) -> Vec<PublicAccess> {
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
