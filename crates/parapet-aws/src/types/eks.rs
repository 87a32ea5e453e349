//! EKS clusters: endpoint access (public, private, from which CIDRs),
//! control plane logging, secrets encryption and version.

use super::{Collector, Part, Reach, TypeDef, run_parts, strings, tag_hash, text, time};
use crate::collect::{Ctx, Out, relate_security_groups};
use crate::error::{Call, Named};
use aws_sdk_eks::Client;
use futures::FutureExt;
use parapet_core::Asset;
use parapet_provider::NetworkRole;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) const EKS: Collector = Collector {
    service: "eks",
    types: &[TypeDef {
        name: CLUSTER,
        page: include_str!("../../../../docs/resources/aws/eks-cluster.md"),
        events: r#"
            source: eks.amazonaws.com
            events:
              - {name: CreateCluster, action: create, key: [requestParameters.name]}
              - {name: DeleteCluster, action: delete, key: [requestParameters.name]}
              - {name: UpdateClusterConfig, action: change, key: [requestParameters.name]}
              - {name: UpdateClusterVersion, action: change, key: [requestParameters.name]}
              - {name: AssociateEncryptionConfig, action: change, key: [requestParameters.clusterName, requestParameters.name]}
            "#,
        dependents: &[],
        network: Some(NetworkRole::Member),
    }],
    reach: Reach::Regional,
    calls: &["eks:DescribeCluster", "eks:ListClusters"],
    run: |ctx| eks(ctx).boxed(),
};

const CLUSTER: &str = "AWS::EKS::Cluster";

async fn eks(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let parts: Vec<Part<'_>> = vec![(CLUSTER, clusters(&ctx, &client).boxed())];
    run_parts(&ctx, parts).await
}

async fn clusters(ctx: &Ctx, eks: &Client) -> Call<Vec<Asset>> {
    let mut names = all_pages!(eks.list_clusters(), "eks:ListClusters", clusters)?;
    ctx.keep(CLUSTER, &mut names, |n| vec![n.as_str()]);
    let described = ctx
        .each(names, move |name| async move {
            eks.describe_cluster()
                .name(name)
                .send()
                .await
                .named("eks:DescribeCluster")
        })
        .await;
    let mut assets = Vec::new();
    for answer in described {
        let Some(c) = answer?.cluster().cloned() else {
            continue;
        };
        let name = c.name().unwrap_or_default();
        let vpc = c.resources_vpc_config();
        let enabled_logs: Vec<&str> = c
            .logging()
            .map(|l| l.cluster_logging())
            .unwrap_or_default()
            .iter()
            .filter(|s| s.enabled() == Some(true))
            .flat_map(|s| s.types().iter().map(|t| t.as_str()))
            .collect();
        let mut asset = ctx.asset(
            CLUSTER,
            c.arn().map_or_else(|| ctx.arn("eks", &format!("cluster/{name}")), str::to_owned),
            name,
            json!({
                "Name": name,
                "Version": text(c.version()),
                "Status": text(c.status().map(|s| s.as_str())),
                "Endpoint": text(c.endpoint()),
                "RoleArn": text(c.role_arn()),
                "CreatedAt": time(c.created_at()),
                "ResourcesVpcConfig": vpc.map_or(Value::Null, |v| json!({
                    "VpcId": text(v.vpc_id()),
                    "SubnetIds": strings(v.subnet_ids().iter().map(String::as_str)),
                    "SecurityGroupIds": strings(v.security_group_ids().iter().map(String::as_str)),
                    "EndpointPublicAccess": v.endpoint_public_access(),
                    "EndpointPrivateAccess": v.endpoint_private_access(),
                    "PublicAccessCidrs": strings(v.public_access_cidrs().iter().map(String::as_str)),
                })),
                "EnabledLogTypes": strings(enabled_logs),
                "EncryptionConfig": c.encryption_config().iter().map(|e| json!({
                    "Resources": strings(e.resources().iter().map(String::as_str)),
                    "KeyArn": text(e.provider().and_then(|p| p.key_arn())),
                })).collect::<Vec<_>>(),
            }),
        );
        asset.tags = tag_hash(c.tags());
        relate_security_groups(
            &mut asset,
            ctx,
            vpc.map(|v| v.security_group_ids()).unwrap_or_default(),
        );
        assets.push(asset);
    }
    Ok(assets)
}
