//! Elastic Load Balancing v2: application and network load balancers (scheme,
//! security groups, attributes, the WAF web ACL in front), their listeners (protocol, port, TLS
//! policy) and target groups.

use super::{Collector, Doc, Part, Reach, TypeDef, run_parts, strings, tag_map, text, time};
use crate::collect::{Ctx, Out, relate, relate_security_groups};
use crate::error::{Call, Named};
use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types::LoadBalancer;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use parapet_core::Asset;
use parapet_provider::NetworkRole;
use serde_json::{Map, Value, json};
use std::sync::Arc;

pub(super) const ELBV2: Collector = Collector {
    service: "elasticloadbalancing",
    types: &[
        TypeDef {
            name: LOAD_BALANCER,
            page: include_str!("../../../../docs/resources/aws/elbv2-load-balancer.md"),
            events: r#"
            source: elasticloadbalancing.amazonaws.com
            events:
              - {name: CreateLoadBalancer, action: create, key: ["responseElements.loadBalancers[*].loadBalancerArn"]}
              - {name: DeleteLoadBalancer, action: delete, key: [requestParameters.loadBalancerArn]}
              - {name: ModifyLoadBalancerAttributes, action: change, key: [requestParameters.loadBalancerArn]}
              - {name: SetSecurityGroups, action: change, key: [requestParameters.loadBalancerArn]}
              - {name: SetSubnets, action: change, key: [requestParameters.loadBalancerArn]}
              - {name: AssociateWebACL, source: wafv2.amazonaws.com, action: change, key: [requestParameters.resourceArn]}
              - {name: DisassociateWebACL, source: wafv2.amazonaws.com, action: change, key: [requestParameters.resourceArn]}
            "#,
            dependents: &[],
            network: Some(NetworkRole::Endpoint),
        },
        TypeDef {
            name: LISTENER,
            page: include_str!("../../../../docs/resources/aws/elbv2-listener.md"),
            events: r#"
            source: elasticloadbalancing.amazonaws.com
            events:
              - {name: CreateListener, action: create, key: ["responseElements.listeners[*].listenerArn"]}
              - {name: DeleteListener, action: delete, key: [requestParameters.listenerArn]}
              - {name: ModifyListener, action: change, key: [requestParameters.listenerArn]}
            "#,
            dependents: &[],
            network: Some(NetworkRole::Forwarding),
        },
        TypeDef {
            name: TARGET_GROUP,
            page: include_str!("../../../../docs/resources/aws/elbv2-target-group.md"),
            events: r#"
            source: elasticloadbalancing.amazonaws.com
            events:
              - {name: CreateTargetGroup, action: create, key: ["responseElements.targetGroups[*].targetGroupArn"]}
              - {name: DeleteTargetGroup, action: delete, key: [requestParameters.targetGroupArn]}
              - {name: ModifyTargetGroup, action: change, key: [requestParameters.targetGroupArn]}
              - {name: RegisterTargets, action: change, key: [requestParameters.targetGroupArn]}
              - {name: DeregisterTargets, action: change, key: [requestParameters.targetGroupArn]}
            "#,
            dependents: &[],
            network: Some(NetworkRole::Forwarding),
        },
    ],
    reach: Reach::Regional,
    calls: &[
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeTags",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
        "wafv2:GetWebACLForResource",
    ],
    run: |ctx| elbv2(ctx).boxed(),
};

const LOAD_BALANCER: &str = "AWS::ElasticLoadBalancingV2::LoadBalancer";
const LISTENER: &str = "AWS::ElasticLoadBalancingV2::Listener";
const TARGET_GROUP: &str = "AWS::ElasticLoadBalancingV2::TargetGroup";

/// The region's load balancers, listed once for both the balancers and
/// their listeners.
type Balancers<'a> = Shared<BoxFuture<'a, Call<Vec<LoadBalancer>>>>;

async fn elbv2(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let (c, x) = (&client, &*ctx);
    let balancers: Balancers<'_> = async {
        all_pages!(
            c.describe_load_balancers(),
            "elasticloadbalancing:DescribeLoadBalancers",
            load_balancers
        )
    }
    .boxed()
    .shared();
    let parts: Vec<Part<'_>> = vec![
        (
            LOAD_BALANCER,
            load_balancers(x, c, balancers.clone()).boxed(),
        ),
        (LISTENER, listeners(x, c, balancers).boxed()),
        (TARGET_GROUP, target_groups(x, c).boxed()),
    ];
    run_parts(x, parts).await
}

/// The balancers' ARNs, for the calls made per balancer.
fn arns(balancers: &[LoadBalancer]) -> Vec<String> {
    balancers
        .iter()
        .filter_map(|b| b.load_balancer_arn().map(str::to_owned))
        .collect()
}

async fn load_balancers(ctx: &Ctx, elb: &Client, balancers: Balancers<'_>) -> Call<Vec<Asset>> {
    let balancers = balancers.await?;
    let waf = &aws_sdk_wafv2::Client::new(&ctx.sdk());
    // WAF protects application load balancers only: the others are not asked.
    let applications: Vec<bool> = balancers
        .iter()
        .map(|b| b.r#type().is_some_and(|t| t.as_str() == "application"))
        .collect();
    let details = ctx
        .each(
            arns(&balancers).into_iter().zip(applications).collect(),
            move |(arn, application)| async move {
                let (attributes, tags, web_acl) = tokio::join!(
                    elb.describe_load_balancer_attributes()
                        .load_balancer_arn(&arn)
                        .send(),
                    elb.describe_tags().resource_arns(&arn).send(),
                    async {
                        match application {
                            true => Some(web_acl(waf, &arn).await),
                            false => None,
                        }
                    },
                );
                let tags = tags.named("elasticloadbalancing:DescribeTags").map(|t| {
                    tag_map(
                        t.tag_descriptions()
                            .iter()
                            .flat_map(|d| d.tags())
                            .map(|t| (t.key(), t.value())),
                    )
                });
                let attributes = attributes
                    .named("elasticloadbalancing:DescribeLoadBalancerAttributes")
                    .map(|a| {
                        Value::Object(
                            a.attributes()
                                .iter()
                                .filter_map(|x| Some((x.key()?.to_owned(), json!(x.value()))))
                                .collect::<Map<String, Value>>(),
                        )
                    });
                (attributes, tags, web_acl)
            },
        )
        .await;
    Ok(balancers
        .iter()
        .zip(details)
        .map(|(b, (attributes, tags, web_acl))| {
            let name = b.load_balancer_name().unwrap_or_default();
            let mut asset = ctx.asset(
                LOAD_BALANCER,
                b.load_balancer_arn().unwrap_or_default(),
                name,
                json!({
                    "LoadBalancerName": name,
                    "DNSName": text(b.dns_name()),
                    "Scheme": text(b.scheme().map(|s| s.as_str())),
                    "Type": text(b.r#type().map(|s| s.as_str())),
                    "State": text(b.state().and_then(|s| s.code()).map(|c| c.as_str())),
                    "VpcId": text(b.vpc_id()),
                    "SecurityGroups": strings(b.security_groups().iter().map(String::as_str)),
                    "Subnets": strings(b.availability_zones().iter().filter_map(|z| z.subnet_id())),
                    "IpAddressType": text(b.ip_address_type().map(|s| s.as_str())),
                    "CreatedTime": time(b.created_time()),
                }),
            );
            let mut doc = Doc::of(&mut asset);
            doc.set("Attributes", attributes, &[]);
            doc.tags(tags);
            if let Some(web_acl) = web_acl {
                doc.set("WebAcl", web_acl, &[]);
            }
            relate_security_groups(&mut asset, ctx, b.security_groups());
            for subnet in b.availability_zones().iter().filter_map(|z| z.subnet_id()) {
                relate(
                    &mut asset,
                    "in_subnet",
                    ctx.arn("ec2", &format!("subnet/{subnet}")),
                );
            }
            asset
        })
        .collect())
}

/// The AWS WAF web ACL that protects a load balancer, as its name and ARN,
/// or `null`.
async fn web_acl(waf: &aws_sdk_wafv2::Client, arn: &str) -> Call<Value> {
    let answer = waf
        .get_web_acl_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .named("wafv2:GetWebACLForResource")?;
    Ok(answer.web_acl().map_or(
        Value::Null,
        |acl| json!({"Name": acl.name(), "ARN": acl.arn()}),
    ))
}

async fn listeners(ctx: &Ctx, elb: &Client, balancers: Balancers<'_>) -> Call<Vec<Asset>> {
    let balancers = balancers.await?;
    let listeners = ctx
        .each(arns(&balancers), move |arn| async move {
            all_pages!(
                elb.describe_listeners().load_balancer_arn(arn),
                "elasticloadbalancing:DescribeListeners",
                listeners
            )
        })
        .await;
    let mut assets = Vec::new();
    for listener in listeners {
        for l in listener? {
            let arn = l.listener_arn().unwrap_or_default();
            let mut asset = ctx.asset(
                LISTENER,
                arn,
                format!("{}:{}", text(l.protocol().map(|p| p.as_str())).as_str().unwrap_or("?"), l.port().unwrap_or(0)),
                json!({
                    "ListenerArn": arn,
                    "LoadBalancerArn": text(l.load_balancer_arn()),
                    "Protocol": text(l.protocol().map(|p| p.as_str())),
                    "Port": l.port(),
                    "SslPolicy": text(l.ssl_policy()),
                    "Certificates": strings(l.certificates().iter().filter_map(|c| c.certificate_arn())),
                    "DefaultActions": l.default_actions().iter().map(|a| json!({
                        "Type": text(a.r#type().map(|t| t.as_str())),
                        "TargetGroupArn": text(a.target_group_arn()),
                        "RedirectProtocol": text(a.redirect_config().and_then(|r| r.protocol())),
                    })).collect::<Vec<_>>(),
                }),
            );
            if let Some(balancer) = l.load_balancer_arn() {
                relate(&mut asset, "listener_of", balancer);
            }
            for group in l
                .default_actions()
                .iter()
                .filter_map(|a| a.target_group_arn())
            {
                relate(&mut asset, "forwards_to", group);
            }
            assets.push(asset);
        }
    }
    Ok(assets)
}

async fn target_groups(ctx: &Ctx, elb: &Client) -> Call<Vec<Asset>> {
    let mut groups = all_pages!(
        elb.describe_target_groups(),
        "elasticloadbalancing:DescribeTargetGroups",
        target_groups
    )?;
    ctx.keep(TARGET_GROUP, &mut groups, |g| {
        g.target_group_arn()
            .into_iter()
            .chain(g.target_group_name())
            .collect()
    });
    let targets = ctx
        .each(
            groups
                .iter()
                .map(|g| g.target_group_arn().unwrap_or_default().to_owned())
                .collect(),
            move |arn| async move {
                elb.describe_target_health()
                    .target_group_arn(arn)
                    .send()
                    .await
                    .named("elasticloadbalancing:DescribeTargetHealth")
                    .map(|t| {
                        Value::Array(
                            t.target_health_descriptions()
                                .iter()
                                .map(|d| {
                                    json!({
                                        "Id": text(d.target().and_then(|t| t.id())),
                                        "Port": d.target().and_then(|t| t.port()),
                                        "State": text(d.target_health().and_then(|h| h.state()).map(|s| s.as_str())),
                                    })
                                })
                                .collect(),
                        )
                    })
            },
        )
        .await;
    Ok(groups
        .iter()
        .zip(targets)
        .map(|(g, targets)| {
            let name = g.target_group_name().unwrap_or_default();
            let mut asset = ctx.asset(
                TARGET_GROUP,
                g.target_group_arn().unwrap_or_default(),
                name,
                json!({
                    "TargetGroupName": name,
                    "Protocol": text(g.protocol().map(|p| p.as_str())),
                    "Port": g.port(),
                    "VpcId": text(g.vpc_id()),
                    "TargetType": text(g.target_type().map(|t| t.as_str())),
                    "HealthCheckProtocol": text(g.health_check_protocol().map(|p| p.as_str())),
                    "HealthCheckEnabled": g.health_check_enabled().unwrap_or(false),
                    "LoadBalancerArns": strings(g.load_balancer_arns().iter().map(String::as_str)),
                }),
            );
            Doc::of(&mut asset).set("Targets", targets, &[]);
            asset
        })
        .collect())
}
