//! OpenSearch domains: access policy, encryption at rest and in transit,
//! fine-grained access control, and whether the endpoint is public or in a
//! VPC.

use super::{
    Collector, Doc, Part, Reach, TypeDef, optional_policy, run_parts, strings, tag_map, text,
};
use crate::collect::{Ctx, Out, relate_security_groups};
use crate::error::{Call, Named};
use aws_sdk_opensearch::Client;
use futures::FutureExt;
use parapet_core::Asset;
use parapet_provider::NetworkRole;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) const OPENSEARCH: Collector = Collector {
    service: "es",
    types: &[TypeDef {
        name: DOMAIN,
        page: include_str!("../../../../docs/resources/aws/opensearch-domain.md"),
        events: r#"
            source: es.amazonaws.com
            events:
              - {name: CreateDomain, action: create, key: [requestParameters.domainName]}
              - {name: CreateElasticsearchDomain, action: create, key: [requestParameters.domainName]}
              - {name: DeleteDomain, action: delete, key: [requestParameters.domainName]}
              - {name: DeleteElasticsearchDomain, action: delete, key: [requestParameters.domainName]}
              - {name: UpdateDomainConfig, action: change, key: [requestParameters.domainName]}
              - {name: UpdateElasticsearchDomainConfig, action: change, key: [requestParameters.domainName]}
            "#,
        dependents: &[],
        network: Some(NetworkRole::Member),
    }],
    reach: Reach::Regional,
    calls: &["es:DescribeDomain", "es:ListDomainNames", "es:ListTags"],
    run: |ctx| opensearch(ctx).boxed(),
};

const DOMAIN: &str = "AWS::OpenSearchService::Domain";

async fn opensearch(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let parts: Vec<Part<'_>> = vec![(DOMAIN, domains(&ctx, &client).boxed())];
    run_parts(&ctx, parts).await
}

async fn domains(ctx: &Ctx, opensearch: &Client) -> Call<Vec<Asset>> {
    let mut names: Vec<String> = opensearch
        .list_domain_names()
        .send()
        .await
        .named("es:ListDomainNames")?
        .domain_names()
        .iter()
        .filter_map(|d| d.domain_name().map(str::to_owned))
        .collect();
    ctx.keep(DOMAIN, &mut names, |n| vec![n.as_str()]);
    let described = ctx
        .each(names, move |name| async move {
            let answer = opensearch
                .describe_domain()
                .domain_name(name)
                .send()
                .await
                .named("es:DescribeDomain")?;
            let arn = answer.domain_status().map(|d| d.arn().to_owned());
            let tags = match arn {
                Some(arn) => opensearch
                    .list_tags()
                    .arn(arn)
                    .send()
                    .await
                    .named("es:ListTags")
                    .map(|t| {
                        tag_map(
                            t.tag_list()
                                .iter()
                                .map(|t| (Some(t.key()), Some(t.value()))),
                        )
                    }),
                None => Ok(Default::default()),
            };
            Ok::<_, crate::error::Failure>((answer, tags))
        })
        .await;
    let mut assets = Vec::new();
    for answer in described {
        let (answer, tags) = answer?;
        let Some(d) = answer.domain_status() else {
            continue;
        };
        // A domain in a VPC names its subnets (the VPC id may be left out).
        let vpc = d
            .vpc_options()
            .filter(|v| v.vpc_id().is_some() || !v.subnet_ids().is_empty());
        let mut asset = ctx.asset(
            DOMAIN,
            d.arn(),
            d.domain_name(),
            json!({
                "DomainName": d.domain_name(),
                "DomainId": d.domain_id(),
                "EngineVersion": text(d.engine_version()),
                "Endpoint": text(d.endpoint()),
                "VPCOptions": vpc.map_or(Value::Null, |v| json!({
                    "VPCId": text(v.vpc_id()),
                    "SubnetIds": strings(v.subnet_ids().iter().map(String::as_str)),
                    "SecurityGroupIds": strings(v.security_group_ids().iter().map(String::as_str)),
                })),
                "EncryptionAtRestOptions": {
                    "Enabled": d.encryption_at_rest_options().and_then(|e| e.enabled()).unwrap_or(false),
                    "KmsKeyId": text(d.encryption_at_rest_options().and_then(|e| e.kms_key_id())),
                },
                "NodeToNodeEncryptionOptions": {
                    "Enabled": d.node_to_node_encryption_options().and_then(|e| e.enabled()).unwrap_or(false),
                },
                "DomainEndpointOptions": {
                    "EnforceHTTPS": d.domain_endpoint_options().and_then(|e| e.enforce_https()).unwrap_or(false),
                    "TLSSecurityPolicy": text(d.domain_endpoint_options().and_then(|e| e.tls_security_policy()).map(|p| p.as_str())),
                },
                "AdvancedSecurityOptions": {
                    "Enabled": d.advanced_security_options().and_then(|a| a.enabled()).unwrap_or(false),
                    "InternalUserDatabaseEnabled": d.advanced_security_options().and_then(|a| a.internal_user_database_enabled()).unwrap_or(false),
                },
            }),
        );
        let mut doc = Doc::of(&mut asset);
        doc.set(
            "AccessPolicies",
            optional_policy("es:DescribeDomain", d.access_policies()),
            &[],
        );
        doc.tags(tags);
        relate_security_groups(
            &mut asset,
            ctx,
            vpc.map(|v| v.security_group_ids()).unwrap_or_default(),
        );
        assets.push(asset);
    }
    Ok(assets)
}
