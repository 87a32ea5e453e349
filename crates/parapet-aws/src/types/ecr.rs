//! ECR repositories: repository and lifecycle policies, scanning on push,
//! tag mutability, encryption and tags.

use super::{
    Collector, Doc, Part, Reach, TypeDef, optional_policy, run_parts, tag_map, text, time,
};
use crate::collect::{Ctx, Out};
use crate::error::{Call, Named};
use aws_sdk_ecr::Client;
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) const ECR: Collector = Collector {
    service: "ecr",
    types: &[TypeDef {
        name: REPOSITORY,
        page: include_str!("../../../../docs/resources/aws/ecr-repository.md"),
        events: r#"
            source: ecr.amazonaws.com
            events:
              - {name: CreateRepository, action: create, key: [requestParameters.repositoryName]}
              - {name: DeleteRepository, action: delete, key: [requestParameters.repositoryName]}
              - {name: SetRepositoryPolicy, action: change, key: [requestParameters.repositoryName]}
              - {name: DeleteRepositoryPolicy, action: change, key: [requestParameters.repositoryName]}
              - {name: PutImageScanningConfiguration, action: change, key: [requestParameters.repositoryName]}
              - {name: PutImageTagMutability, action: change, key: [requestParameters.repositoryName]}
              - {name: PutLifecyclePolicy, action: change, key: [requestParameters.repositoryName]}
              - {name: DeleteLifecyclePolicy, action: change, key: [requestParameters.repositoryName]}
            "#,
        dependents: &[],
        network: None,
    }],
    reach: Reach::Regional,
    calls: &[
        "ecr:DescribeRepositories",
        "ecr:GetLifecyclePolicy",
        "ecr:GetRepositoryPolicy",
        "ecr:ListTagsForResource",
    ],
    run: |ctx| ecr(ctx).boxed(),
};

const REPOSITORY: &str = "AWS::ECR::Repository";

async fn ecr(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let parts: Vec<Part<'_>> = vec![(REPOSITORY, repositories(&ctx, &client).boxed())];
    run_parts(&ctx, parts).await
}

async fn repositories(ctx: &Ctx, ecr: &Client) -> Call<Vec<Asset>> {
    let mut repositories = all_pages!(
        ecr.describe_repositories(),
        "ecr:DescribeRepositories",
        repositories
    )?;
    ctx.keep(REPOSITORY, &mut repositories, |r| {
        r.repository_name()
            .into_iter()
            .chain(r.repository_arn())
            .collect()
    });
    let details = ctx
        .each(
            repositories
                .iter()
                .filter_map(|r| {
                    Some((
                        r.repository_name()?.to_owned(),
                        r.repository_arn()?.to_owned(),
                    ))
                })
                .collect(),
            move |(name, arn)| async move {
                let (policy, lifecycle, tags) = tokio::join!(
                    ecr.get_repository_policy().repository_name(&name).send(),
                    ecr.get_lifecycle_policy().repository_name(&name).send(),
                    ecr.list_tags_for_resource().resource_arn(arn).send(),
                );
                (
                    policy
                        .named("ecr:GetRepositoryPolicy")
                        .and_then(|p| optional_policy("ecr:GetRepositoryPolicy", p.policy_text())),
                    lifecycle.named("ecr:GetLifecyclePolicy").and_then(|p| {
                        optional_policy("ecr:GetLifecyclePolicy", p.lifecycle_policy_text())
                    }),
                    tags.named("ecr:ListTagsForResource").map(|t| {
                        tag_map(t.tags().iter().map(|t| (Some(t.key()), Some(t.value()))))
                    }),
                )
            },
        )
        .await;
    Ok(repositories
        .iter()
        .zip(details)
        .map(|(r, (policy, lifecycle, tags))| {
            let name = r.repository_name().unwrap_or_default();
            let arn = r
                .repository_arn()
                .map_or_else(|| ctx.arn("ecr", &format!("repository/{name}")), str::to_owned);
            let mut asset = ctx.asset(
                REPOSITORY,
                arn,
                name,
                json!({
                    "RepositoryName": name,
                    "RepositoryUri": text(r.repository_uri()),
                    "CreatedAt": time(r.created_at()),
                    "ImageTagMutability": text(r.image_tag_mutability().map(|m| m.as_str())),
                    "ImageScanningConfiguration": r.image_scanning_configuration().map_or(Value::Null, |s| json!({"ScanOnPush": s.scan_on_push()})),
                    "EncryptionConfiguration": r.encryption_configuration().map_or(Value::Null, |e| json!({
                        "EncryptionType": e.encryption_type().as_str(),
                        "KmsKey": text(e.kms_key()),
                    })),
                }),
            );
            let mut doc = Doc::of(&mut asset);
            doc.set("Policy", policy, &["RepositoryPolicyNotFoundException"]);
            doc.set(
                "LifecyclePolicy",
                lifecycle,
                &["LifecyclePolicyNotFoundException"],
            );
            doc.tags(tags);
            asset
        })
        .collect())
}
