//! S3: buckets (`AWS::S3::Bucket`) with every setting the rules read, and
//! the account's public access block (`AWS::S3::AccountPublicAccessBlock`).

use super::{Collector, Doc, Reach, TypeDef, tag_map, text, time};
use crate::collect::{Ctx, Out};
use crate::error::{Call, Named};
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) const BUCKETS: Collector = Collector {
    service: "s3",
    types: &[TypeDef {
        name: BUCKET,
        page: include_str!("../../../../docs/resources/aws/s3-bucket.md"),
        events: r#"
            source: s3.amazonaws.com
            events:
              - {name: CreateBucket, action: create, key: [requestParameters.bucketName]}
              - {name: DeleteBucket, action: delete, key: [requestParameters.bucketName]}
              - {name: PutBucketPolicy, action: change, key: [requestParameters.bucketName]}
              - {name: DeleteBucketPolicy, action: change, key: [requestParameters.bucketName]}
              - {name: PutBucketAcl, action: change, key: [requestParameters.bucketName]}
              - {name: PutBucketPublicAccessBlock, action: change, key: [requestParameters.bucketName]}
              - {name: DeleteBucketPublicAccessBlock, action: change, key: [requestParameters.bucketName]}
              - {name: PutBucketEncryption, action: change, key: [requestParameters.bucketName]}
              - {name: DeleteBucketEncryption, action: change, key: [requestParameters.bucketName]}
              - {name: PutBucketVersioning, action: change, key: [requestParameters.bucketName]}
              - {name: PutBucketLogging, action: change, key: [requestParameters.bucketName]}
              - {name: PutBucketOwnershipControls, action: change, key: [requestParameters.bucketName]}
              - {name: DeleteBucketOwnershipControls, action: change, key: [requestParameters.bucketName]}
              - {name: PutBucketTagging, action: change, key: [requestParameters.bucketName]}
              - {name: DeleteBucketTagging, action: change, key: [requestParameters.bucketName]}
            "#,
        dependents: &[],
        network: None,
    }],
    reach: Reach::Listed,
    calls: &[
        "s3:GetBucketAcl",
        "s3:GetBucketLocation",
        "s3:GetBucketLogging",
        "s3:GetBucketOwnershipControls",
        "s3:GetBucketPolicy",
        "s3:GetBucketPolicyStatus",
        "s3:GetBucketPublicAccessBlock",
        "s3:GetBucketTagging",
        "s3:GetBucketVersioning",
        "s3:GetEncryptionConfiguration",
        "s3:ListAllMyBuckets",
    ],
    run: |ctx| buckets(ctx).boxed(),
};

pub(super) const ACCOUNT: Collector = Collector {
    service: "s3control",
    types: &[TypeDef {
        name: ACCOUNT_BLOCK,
        page: include_str!("../../../../docs/resources/aws/s3-account-public-access-block.md"),
        events: r#"
            source: s3.amazonaws.com
            events:
              - {name: PutAccountPublicAccessBlock, action: change, key: [recipientAccountId]}
              - {name: DeleteAccountPublicAccessBlock, action: change, key: [recipientAccountId]}
            "#,
        dependents: &[],
        network: None,
    }],
    reach: Reach::Global,
    calls: &["s3:GetAccountPublicAccessBlock"],
    run: |ctx| account_block(ctx).boxed(),
};

const BUCKET: &str = "AWS::S3::Bucket";
const ACCOUNT_BLOCK: &str = "AWS::S3::AccountPublicAccessBlock";

fn block_json(
    acls: Option<bool>,
    ignore: Option<bool>,
    policy: Option<bool>,
    restrict: Option<bool>,
) -> Value {
    json!({
        "BlockPublicAcls": acls.unwrap_or(false),
        "IgnorePublicAcls": ignore.unwrap_or(false),
        "BlockPublicPolicy": policy.unwrap_or(false),
        "RestrictPublicBuckets": restrict.unwrap_or(false),
    })
}

async fn account_block(ctx: Arc<Ctx>) -> Out {
    let mut out = Out::default();
    let client = ctx.session.s3control(&ctx.api_region);
    let account = ctx.session.account.clone();
    let answer = client
        .get_public_access_block()
        .account_id(&account)
        .send()
        .await
        .named("s3:GetAccountPublicAccessBlock");
    let config = match answer {
        Ok(answer) => match answer.public_access_block_configuration() {
            Some(b) => block_json(
                b.block_public_acls(),
                b.ignore_public_acls(),
                b.block_public_policy(),
                b.restrict_public_buckets(),
            ),
            None => Value::Null,
        },
        Err(failure) if failure.code == "NoSuchPublicAccessBlockConfiguration" => Value::Null,
        Err(failure) => {
            out.failed(ACCOUNT_BLOCK, failure);
            return out;
        }
    };
    let mut asset = ctx.asset(
        ACCOUNT_BLOCK,
        format!("arn:aws:s3::{account}:account-public-access-block"),
        account.clone(),
        json!({}),
    );
    Doc::of(&mut asset).set("PublicAccessBlock", Ok(config), &[]);
    out.assets.push(asset);
    out
}

async fn buckets(ctx: Arc<Ctx>) -> Out {
    let mut out = Out::default();
    let client = ctx.session.s3(&ctx.api_region);
    let mut listed = Vec::new();
    let mut pages = client.list_buckets().into_paginator().send();
    while let Some(page) = pages.next().await {
        match page.named("s3:ListAllMyBuckets") {
            Ok(page) => listed.extend(page.buckets().iter().map(|b| {
                (
                    b.name().unwrap_or_default().to_owned(),
                    time(b.creation_date()),
                    b.bucket_region().map(str::to_owned),
                )
            })),
            Err(failure) => {
                out.failed(BUCKET, failure);
                return out;
            }
        }
    }
    ctx.keep(BUCKET, &mut listed, |(name, _, _)| vec![name.as_str()]);
    let ctx2 = ctx.clone();
    let found = ctx
        .each(listed, move |(name, created, region)| {
            bucket(ctx2.clone(), name, created, region).boxed()
        })
        .await;
    for result in found {
        match result {
            Ok(Some(asset)) => out.assets.push(asset),
            Ok(None) => {}
            Err(failure) => out.failed(BUCKET, failure),
        }
    }
    out
}

/// A bucket's ACL: its owner and grants.
fn acl_document(a: &aws_sdk_s3::operation::get_bucket_acl::GetBucketAclOutput) -> Value {
    json!({
        "Owner": {"ID": text(a.owner().and_then(|o| o.id()))},
        "Grants": a.grants().iter().map(|g| {
            let mut grantee = json!({});
            if let Some(who) = g.grantee() {
                grantee["Type"] = json!(who.r#type().as_str());
                if let Some(id) = who.id() { grantee["ID"] = json!(id); }
                if let Some(uri) = who.uri() { grantee["URI"] = json!(uri); }
            }
            json!({"Grantee": grantee, "Permission": text(g.permission().map(|p| p.as_str()))})
        }).collect::<Vec<_>>(),
    })
}

/// A bucket's default encryption rules.
fn encryption_document(
    a: &aws_sdk_s3::operation::get_bucket_encryption::GetBucketEncryptionOutput,
) -> Value {
    let rules: Vec<Value> = a
        .server_side_encryption_configuration()
        .map(|c| c.rules())
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let default = r.apply_server_side_encryption_by_default();
            json!({
                "SSEAlgorithm": text(default.map(|d| d.sse_algorithm().as_str())),
                "KMSMasterKeyID": text(default.and_then(|d| d.kms_master_key_id())),
                "BucketKeyEnabled": r.bucket_key_enabled().unwrap_or(false),
            })
        })
        .collect();
    json!({"Rules": rules})
}

/// The region a bucket lives in, as GetBucketLocation names it.
fn location_region(constraint: Option<&str>) -> String {
    match constraint {
        None | Some("") => "us-east-1".to_owned(),
        Some("EU") => "eu-west-1".to_owned(),
        Some(region) => region.to_owned(),
    }
}

/// The region a bucket lives in.
pub(super) async fn bucket_region(ctx: &Ctx, name: &str) -> Call<String> {
    let answer = ctx
        .session
        .s3(&ctx.api_region)
        .get_bucket_location()
        .bucket(name)
        .send()
        .await
        .named("s3:GetBucketLocation")?;
    Ok(location_region(
        answer.location_constraint().map(|c| c.as_str()),
    ))
}

/// A bucket's server access logging: where it delivers, or `null`.
pub(super) fn logging_document(
    answer: &aws_sdk_s3::operation::get_bucket_logging::GetBucketLoggingOutput,
) -> Value {
    answer.logging_enabled().map_or(
        Value::Null,
        |l| json!({"TargetBucket": l.target_bucket(), "TargetPrefix": l.target_prefix()}),
    )
}

/// One bucket, or `None` when it lies outside the collected regions.
async fn bucket(
    ctx: Arc<Ctx>,
    name: String,
    created: Value,
    region: Option<String>,
) -> Call<Option<Asset>> {
    let region = match region {
        Some(region) => region,
        None => bucket_region(&ctx, &name).await?,
    };
    if !ctx.regions.contains(&region) {
        return Ok(None);
    }
    let s3 = ctx.session.s3(&region);
    let mut asset = ctx.asset(
        BUCKET,
        format!("arn:aws:s3:::{name}"),
        name.clone(),
        json!({"Name": name, "CreationDate": created}),
    );
    asset.region = region;
    let (block, policy, status, acl, encryption, versioning, logging, ownership, tagging) = tokio::join!(
        s3.get_public_access_block().bucket(&name).send(),
        s3.get_bucket_policy().bucket(&name).send(),
        s3.get_bucket_policy_status().bucket(&name).send(),
        s3.get_bucket_acl().bucket(&name).send(),
        s3.get_bucket_encryption().bucket(&name).send(),
        s3.get_bucket_versioning().bucket(&name).send(),
        s3.get_bucket_logging().bucket(&name).send(),
        s3.get_bucket_ownership_controls().bucket(&name).send(),
        s3.get_bucket_tagging().bucket(&name).send(),
    );
    let tags = tagging.named("s3:GetBucketTagging");
    let mut doc = Doc::of(&mut asset);
    doc.set(
        "PublicAccessBlock",
        block.named("s3:GetBucketPublicAccessBlock").map(|a| {
            a.public_access_block_configuration()
                .map_or(Value::Null, |b| {
                    block_json(
                        b.block_public_acls(),
                        b.ignore_public_acls(),
                        b.block_public_policy(),
                        b.restrict_public_buckets(),
                    )
                })
        }),
        &["NoSuchPublicAccessBlockConfiguration"],
    );
    doc.set(
        "Policy",
        policy
            .named("s3:GetBucketPolicy")
            .and_then(|a| super::optional_policy("s3:GetBucketPolicy", a.policy())),
        &["NoSuchBucketPolicy"],
    );
    doc.set(
        "PolicyStatus",
        status.named("s3:GetBucketPolicyStatus").map(
            |a| json!({"IsPublic": a.policy_status().and_then(|s| s.is_public()).unwrap_or(false)}),
        ),
        &["NoSuchBucketPolicy"],
    );
    doc.set(
        "Acl",
        acl.named("s3:GetBucketAcl").map(|a| acl_document(&a)),
        &[],
    );
    doc.set(
        "Encryption",
        encryption
            .named("s3:GetEncryptionConfiguration")
            .map(|a| encryption_document(&a)),
        &["ServerSideEncryptionConfigurationNotFoundError"],
    );
    doc.set(
        "Versioning",
        versioning.named("s3:GetBucketVersioning").map(|a| {
            json!({
                "Status": text(a.status().map(|s| s.as_str())),
                "MFADelete": text(a.mfa_delete().map(|s| s.as_str())),
            })
        }),
        &[],
    );
    doc.set(
        "Logging",
        logging
            .named("s3:GetBucketLogging")
            .map(|a| logging_document(&a)),
        &[],
    );
    doc.set(
        "OwnershipControls",
        ownership.named("s3:GetBucketOwnershipControls").map(|a| {
            json!({
                "ObjectOwnership": text(a.ownership_controls()
                    .and_then(|c| c.rules().first())
                    .map(|r| r.object_ownership().as_str())),
            })
        }),
        &["OwnershipControlsNotFoundError"],
    );
    doc.tags(match tags {
        Err(failure) if failure.code == "NoSuchTagSet" => Ok(Default::default()),
        other => other.map(|answer| {
            tag_map(
                answer
                    .tag_set()
                    .iter()
                    .map(|t| (Some(t.key()), Some(t.value()))),
            )
        }),
    });
    if let Some(target) = asset.config["Logging"]["TargetBucket"].as_str() {
        let target = format!("arn:aws:s3:::{target}");
        crate::collect::relate(&mut asset, "logs_to", target);
    }
    Ok(Some(asset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_locations_name_regions() {
        assert_eq!(location_region(None), "us-east-1");
        assert_eq!(location_region(Some("")), "us-east-1");
        assert_eq!(location_region(Some("EU")), "eu-west-1");
        assert_eq!(location_region(Some("eu-west-2")), "eu-west-2");
    }
}
