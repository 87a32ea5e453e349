//! Managed policies with their default version's document: every customer
//! managed policy (`Scope: Local`), and the AWS managed policies attached to
//! a user, group or role (`Scope: AWS`), whose documents the principals'
//! effective permissions are worked out from.

use super::POLICY;
use crate::collect::Ctx;
use crate::error::{Call, Named};
use crate::types::{Doc, optional_policy, tag_map, text, time};
use aws_sdk_iam::Client;
use aws_sdk_iam::types::{Policy, PolicyScopeType};
use parapet_core::Asset;
use serde_json::json;

pub(super) async fn policies(ctx: &Ctx, iam: &Client) -> Call<Vec<Asset>> {
    let (local, aws) = tokio::join!(
        async {
            all_pages!(
                iam.list_policies().scope(PolicyScopeType::Local),
                "iam:ListPolicies",
                policies
            )
        },
        async {
            all_pages!(
                iam.list_policies()
                    .scope(PolicyScopeType::Aws)
                    .only_attached(true),
                "iam:ListPolicies",
                policies
            )
        },
    );
    let mut policies: Vec<(&str, Policy)> = local?
        .into_iter()
        .map(|p| ("Local", p))
        .chain(aws?.into_iter().map(|p| ("AWS", p)))
        .collect();
    ctx.keep(POLICY, &mut policies, |(_, p)| {
        p.arn().into_iter().chain(p.policy_name()).collect()
    });
    let documents = ctx
        .each(
            policies
                .iter()
                .map(|(_, p)| {
                    (
                        p.arn().unwrap_or_default().to_owned(),
                        p.default_version_id().unwrap_or("v1").to_owned(),
                    )
                })
                .collect(),
            move |(arn, version)| async move {
                let answer = iam
                    .get_policy_version()
                    .policy_arn(arn)
                    .version_id(version)
                    .send()
                    .await
                    .named("iam:GetPolicyVersion")?;
                optional_policy(
                    "iam:GetPolicyVersion",
                    answer.policy_version().and_then(|v| v.document()),
                )
            },
        )
        .await;
    Ok(policies
        .iter()
        .zip(documents)
        .map(|((scope, policy), document)| {
            let arn = policy.arn().unwrap_or_default();
            let mut asset = ctx.asset(
                POLICY,
                arn,
                policy.policy_name().unwrap_or(arn),
                json!({
                    "PolicyName": text(policy.policy_name()),
                    "PolicyId": text(policy.policy_id()),
                    "Arn": arn,
                    "Scope": scope,
                    "DefaultVersionId": text(policy.default_version_id()),
                    "AttachmentCount": policy.attachment_count(),
                    "PermissionsBoundaryUsageCount": policy.permissions_boundary_usage_count(),
                    "CreateDate": time(policy.create_date()),
                    "UpdateDate": time(policy.update_date()),
                }),
            );
            asset.tags = tag_map(
                policy
                    .tags()
                    .iter()
                    .map(|t| (Some(t.key()), Some(t.value()))),
            );
            Doc::of(&mut asset).set("PolicyDocument", document, &[]);
            asset
        })
        .collect())
}
