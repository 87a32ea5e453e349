//! EC2: instances, security groups (with normalised rules), network ACLs,
//! volumes, snapshots and images (with who may use them), VPCs (with their
//! flow logs), subnets, route tables, internet and NAT gateways, network
//! interfaces, Elastic IP addresses, and EBS encryption by default.

use super::{Collector, Part, Reach, TypeDef, run_parts, strings, tag_map, text, time};
use crate::collect::{Ctx, Out, relate, relate_security_groups};
use crate::error::{Call, Named};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{ImageAttributeName, IpPermission, SnapshotAttributeName, Tag};
use futures::FutureExt;
use parapet_core::{Asset, Relationship};
use parapet_provider::NetworkRole;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

pub(super) const EC2: Collector = Collector {
    service: "ec2",
    types: &[
        TypeDef {
            name: INSTANCE,
            page: include_str!("../../../../docs/resources/aws/ec2-instance.md"),
            events: r#"
            source: ec2.amazonaws.com
            events:
              - {name: RunInstances, action: create, key: ["responseElements.instancesSet.items[*].instanceId"]}
              - {name: TerminateInstances, action: delete, key: ["requestParameters.instancesSet.items[*].instanceId"]}
              - {name: StartInstances, action: change, key: ["requestParameters.instancesSet.items[*].instanceId"]}
              - {name: StopInstances, action: change, key: ["requestParameters.instancesSet.items[*].instanceId"]}
              - {name: ModifyInstanceAttribute, action: change, key: [requestParameters.instanceId]}
              - {name: ModifyInstanceMetadataOptions, action: change, key: [requestParameters.ModifyInstanceMetadataOptionsRequest.InstanceId, requestParameters.instanceId]}
              - {name: AssociateIamInstanceProfile, action: change, key: [requestParameters.AssociateIamInstanceProfileRequest.InstanceId, requestParameters.instanceId]}
              - {name: DisassociateIamInstanceProfile, action: change, key: [responseElements.DisassociateIamInstanceProfileResponse.iamInstanceProfileAssociation.instanceId]}
            "#,
            dependents: &[],
            network: Some(NetworkRole::Endpoint),
        },
        TypeDef {
            name: SECURITY_GROUP,
            page: include_str!("../../../../docs/resources/aws/ec2-security-group.md"),
            events: r#"
            source: ec2.amazonaws.com
            events:
              - {name: CreateSecurityGroup, action: create, key: [responseElements.groupId]}
              - {name: DeleteSecurityGroup, action: delete, key: [requestParameters.groupId]}
              - {name: AuthorizeSecurityGroupIngress, action: change, key: [requestParameters.groupId]}
              - {name: RevokeSecurityGroupIngress, action: change, key: [requestParameters.groupId]}
              - {name: AuthorizeSecurityGroupEgress, action: change, key: [requestParameters.groupId]}
              - {name: RevokeSecurityGroupEgress, action: change, key: [requestParameters.groupId]}
              - {name: ModifySecurityGroupRules, action: change, key: [requestParameters.ModifySecurityGroupRulesRequest.GroupId]}
              - {name: UpdateSecurityGroupRuleDescriptionsIngress, action: change, key: [requestParameters.groupId]}
            "#,
            dependents: &[],
            network: Some(NetworkRole::Firewall),
        },
        TypeDef {
            name: NETWORK_ACL,
            page: include_str!("../../../../docs/resources/aws/ec2-network-acl.md"),
            events: r#"
            source: ec2.amazonaws.com
            events:
              - {name: CreateNetworkAcl, action: create, key: [responseElements.networkAcl.networkAclId]}
              - {name: DeleteNetworkAcl, action: delete, key: [requestParameters.networkAclId]}
              - {name: CreateNetworkAclEntry, action: change, key: [requestParameters.networkAclId]}
              - {name: DeleteNetworkAclEntry, action: change, key: [requestParameters.networkAclId]}
              - {name: ReplaceNetworkAclEntry, action: change, key: [requestParameters.networkAclId]}
              - {name: ReplaceNetworkAclAssociation, action: change, key: [requestParameters.networkAclId]}
            "#,
            dependents: &[],
            network: Some(NetworkRole::Firewall),
        },
        TypeDef {
            name: VOLUME,
            page: include_str!("../../../../docs/resources/aws/ec2-volume.md"),
            events: r#"
            source: ec2.amazonaws.com
            events:
              - {name: CreateVolume, action: create, key: [responseElements.volumeId]}
              - {name: DeleteVolume, action: delete, key: [requestParameters.volumeId]}
              - {name: AttachVolume, action: change, key: [requestParameters.volumeId]}
              - {name: DetachVolume, action: change, key: [requestParameters.volumeId]}
              - {name: ModifyVolume, action: change, key: [requestParameters.ModifyVolumeRequest.VolumeId, requestParameters.volumeId]}
            "#,
            dependents: &[],
            network: None,
        },
        TypeDef {
            name: SNAPSHOT,
            page: include_str!("../../../../docs/resources/aws/ec2-snapshot.md"),
            events: r#"
            source: ec2.amazonaws.com
            events:
              - {name: CreateSnapshot, action: create, key: [responseElements.snapshotId]}
              - {name: CopySnapshot, action: create, key: [responseElements.snapshotId]}
              - {name: DeleteSnapshot, action: delete, key: [requestParameters.snapshotId]}
              - {name: ModifySnapshotAttribute, action: change, key: [requestParameters.snapshotId]}
              - {name: ResetSnapshotAttribute, action: change, key: [requestParameters.snapshotId]}
            "#,
            dependents: &[],
            network: None,
        },
        TypeDef {
            name: IMAGE,
            page: include_str!("../../../../docs/resources/aws/ec2-image.md"),
            events: r#"
            source: ec2.amazonaws.com
            events:
              - {name: CreateImage, action: create, key: [responseElements.imageId]}
              - {name: RegisterImage, action: create, key: [responseElements.imageId]}
              - {name: CopyImage, action: create, key: [responseElements.imageId]}
              - {name: DeregisterImage, action: delete, key: [requestParameters.imageId]}
              - {name: ModifyImageAttribute, action: change, key: [requestParameters.imageId]}
              - {name: ResetImageAttribute, action: change, key: [requestParameters.imageId]}
            "#,
            dependents: &[],
            network: None,
        },
        TypeDef {
            name: VPC,
            page: include_str!("../../../../docs/resources/aws/ec2-vpc.md"),
            events: r#"
            source: ec2.amazonaws.com
            events:
              - {name: CreateVpc, action: create, key: [responseElements.vpc.vpcId]}
              - {name: DeleteVpc, action: delete, key: [requestParameters.vpcId]}
              - {name: ModifyVpcAttribute, action: change, key: [requestParameters.vpcId]}
              - {name: CreateFlowLogs, action: change, key: ["requestParameters.CreateFlowLogsRequest.ResourceId.content", "requestParameters.CreateFlowLogsRequest.ResourceId[*].content"]}
              - {name: DeleteFlowLogs, action: change, key: ["requestParameters.DeleteFlowLogsRequest.FlowLogId.content"], indirect: true}
              - {name: CreateVpcEndpoint, action: change, key: [awsRegion]}
              - {name: DeleteVpcEndpoints, action: change, key: [awsRegion]}
            "#,
            dependents: &[],
            network: Some(NetworkRole::Network),
        },
        TypeDef {
            name: SUBNET,
            page: include_str!("../../../../docs/resources/aws/ec2-subnet.md"),
            events: r#"
            source: ec2.amazonaws.com
            events:
              - {name: CreateSubnet, action: create, key: [responseElements.subnet.subnetId]}
              - {name: DeleteSubnet, action: delete, key: [requestParameters.subnetId]}
              - {name: ModifySubnetAttribute, action: change, key: [requestParameters.subnetId]}
            "#,
            dependents: &[],
            network: Some(NetworkRole::Subnet),
        },
        TypeDef {
            name: ROUTE_TABLE,
            page: include_str!("../../../../docs/resources/aws/ec2-route-table.md"),
            events: r#"
            source: ec2.amazonaws.com
            events:
              - {name: CreateRouteTable, action: create, key: [responseElements.routeTable.routeTableId]}
              - {name: DeleteRouteTable, action: delete, key: [requestParameters.routeTableId]}
              - {name: CreateRoute, action: change, key: [requestParameters.routeTableId]}
              - {name: ReplaceRoute, action: change, key: [requestParameters.routeTableId]}
              - {name: DeleteRoute, action: change, key: [requestParameters.routeTableId]}
              - {name: AssociateRouteTable, action: change, key: [requestParameters.routeTableId]}
              - {name: DisassociateRouteTable, action: change, key: [requestParameters.associationId], indirect: true}
              - {name: ReplaceRouteTableAssociation, action: change, key: [requestParameters.routeTableId]}
              - {name: AcceptVpcPeeringConnection, action: change, key: [awsRegion]}
              - {name: DeleteVpcPeeringConnection, action: change, key: [awsRegion]}
            "#,
            dependents: &[],
            network: Some(NetworkRole::Routes),
        },
        TypeDef {
            name: INTERNET_GATEWAY,
            page: include_str!("../../../../docs/resources/aws/ec2-internet-gateway.md"),
            events: r#"
            source: ec2.amazonaws.com
            events:
              - {name: CreateInternetGateway, action: create, key: [responseElements.internetGateway.internetGatewayId]}
              - {name: DeleteInternetGateway, action: delete, key: [requestParameters.internetGatewayId]}
              - {name: AttachInternetGateway, action: change, key: [requestParameters.internetGatewayId]}
              - {name: DetachInternetGateway, action: change, key: [requestParameters.internetGatewayId]}
            "#,
            dependents: &[],
            network: Some(NetworkRole::Gateway),
        },
        TypeDef {
            name: NAT_GATEWAY,
            page: include_str!("../../../../docs/resources/aws/ec2-nat-gateway.md"),
            events: r#"
            source: ec2.amazonaws.com
            events:
              - {name: CreateNatGateway, action: create, key: [responseElements.CreateNatGatewayResponse.natGateway.natGatewayId]}
              - {name: DeleteNatGateway, action: delete, key: [requestParameters.DeleteNatGatewayRequest.NatGatewayId]}
            "#,
            dependents: &[],
            network: Some(NetworkRole::Gateway),
        },
        TypeDef {
            name: NETWORK_INTERFACE,
            page: include_str!("../../../../docs/resources/aws/ec2-network-interface.md"),
            events: r#"
            source: ec2.amazonaws.com
            events:
              - {name: CreateNetworkInterface, action: create, key: [responseElements.networkInterface.networkInterfaceId]}
              - {name: DeleteNetworkInterface, action: delete, key: [requestParameters.networkInterfaceId]}
              - {name: AttachNetworkInterface, action: change, key: [requestParameters.networkInterfaceId]}
              - {name: DetachNetworkInterface, action: change, key: [requestParameters.attachmentId], indirect: true}
              - {name: ModifyNetworkInterfaceAttribute, action: change, key: [requestParameters.networkInterfaceId]}
              - {name: AssignIpv6Addresses, action: change, key: [requestParameters.AssignIpv6AddressesRequest.NetworkInterfaceId, requestParameters.networkInterfaceId]}
            "#,
            dependents: &[],
            network: Some(NetworkRole::Endpoint),
        },
        TypeDef {
            name: EIP,
            page: include_str!("../../../../docs/resources/aws/ec2-eip.md"),
            events: r#"
            source: ec2.amazonaws.com
            events:
              - {name: AllocateAddress, action: create, key: [responseElements.allocationId]}
              - {name: ReleaseAddress, action: delete, key: [requestParameters.allocationId]}
              - {name: AssociateAddress, action: change, key: [requestParameters.allocationId]}
              - {name: DisassociateAddress, action: change, key: [requestParameters.associationId], indirect: true}
            "#,
            dependents: &[],
            network: Some(NetworkRole::Address),
        },
    ],
    reach: Reach::Regional,
    calls: &[
        "ec2:DescribeAddresses",
        "ec2:DescribeFlowLogs",
        "ec2:DescribeImageAttribute",
        "ec2:DescribeImages",
        "ec2:DescribeInstances",
        "ec2:DescribeInternetGateways",
        "ec2:DescribeNatGateways",
        "ec2:DescribeNetworkAcls",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeRouteTables",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSnapshotAttribute",
        "ec2:DescribeSnapshots",
        "ec2:DescribeSubnets",
        "ec2:DescribeVolumes",
        "ec2:DescribeVpcEndpoints",
        "ec2:DescribeVpcPeeringConnections",
        "ec2:DescribeVpcs",
    ],
    run: |ctx| ec2(ctx).boxed(),
};

pub(super) const EC2_ACCOUNT: Collector = Collector {
    service: "ec2-settings",
    types: &[
        TypeDef {
            name: EBS_DEFAULT_ENCRYPTION,
            page: include_str!("../../../../docs/resources/aws/ec2-ebs-encryption-by-default.md"),
            events: r#"
            source: ec2.amazonaws.com
            events:
              - {name: EnableEbsEncryptionByDefault, action: change, key: [awsRegion]}
              - {name: DisableEbsEncryptionByDefault, action: change, key: [awsRegion]}
              - {name: ModifyEbsDefaultKmsKeyId, action: change, key: [awsRegion]}
            "#,
            dependents: &[],
            network: None,
        },
        TypeDef {
            name: SNAPSHOT_BLOCK_PUBLIC_ACCESS,
            page: include_str!(
                "../../../../docs/resources/aws/ec2-snapshot-block-public-access.md"
            ),
            events: r#"
            source: ec2.amazonaws.com
            events:
              - {name: EnableSnapshotBlockPublicAccess, action: change, key: [awsRegion]}
              - {name: DisableSnapshotBlockPublicAccess, action: change, key: [awsRegion]}
            "#,
            dependents: &[],
            network: None,
        },
    ],
    reach: Reach::Regional,
    calls: &[
        "ec2:GetEbsDefaultKmsKeyId",
        "ec2:GetEbsEncryptionByDefault",
        "ec2:GetSnapshotBlockPublicAccessState",
    ],
    run: |ctx| account_settings(ctx).boxed(),
};

const INSTANCE: &str = "AWS::EC2::Instance";
const SECURITY_GROUP: &str = "AWS::EC2::SecurityGroup";
const NETWORK_ACL: &str = "AWS::EC2::NetworkAcl";
const VOLUME: &str = "AWS::EC2::Volume";
const SNAPSHOT: &str = "AWS::EC2::Snapshot";
const IMAGE: &str = "AWS::EC2::Image";
const VPC: &str = "AWS::EC2::VPC";
const SUBNET: &str = "AWS::EC2::Subnet";
const ROUTE_TABLE: &str = "AWS::EC2::RouteTable";
const INTERNET_GATEWAY: &str = "AWS::EC2::InternetGateway";
const NAT_GATEWAY: &str = "AWS::EC2::NatGateway";
const NETWORK_INTERFACE: &str = "AWS::EC2::NetworkInterface";
const EIP: &str = "AWS::EC2::EIP";
const EBS_DEFAULT_ENCRYPTION: &str = "AWS::EC2::EBSEncryptionByDefault";
const SNAPSHOT_BLOCK_PUBLIC_ACCESS: &str = "AWS::EC2::SnapshotBlockPublicAccess";

async fn ec2(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let c = &client;
    let x = &*ctx;
    let parts: Vec<Part<'_>> = vec![
        (INSTANCE, instances(x, c).boxed()),
        (SECURITY_GROUP, security_groups(x, c).boxed()),
        (NETWORK_ACL, network_acls(x, c).boxed()),
        (VOLUME, volumes(x, c).boxed()),
        (SNAPSHOT, snapshots(x, c).boxed()),
        (IMAGE, images(x, c).boxed()),
        (VPC, vpcs(x, c).boxed()),
        (SUBNET, subnets(x, c).boxed()),
        (ROUTE_TABLE, route_tables(x, c).boxed()),
        (INTERNET_GATEWAY, internet_gateways(x, c).boxed()),
        (NAT_GATEWAY, nat_gateways(x, c).boxed()),
        (NETWORK_INTERFACE, network_interfaces(x, c).boxed()),
        (EIP, addresses(x, c).boxed()),
    ];
    run_parts(x, parts).await
}

fn tags(tags: &[Tag]) -> std::collections::BTreeMap<String, String> {
    tag_map(tags.iter().map(|t| (t.key(), t.value())))
}

/// The `Name` tag, or the id.
fn name_of(tags: &[Tag], id: &str) -> String {
    tags.iter()
        .find(|t| t.key() == Some("Name"))
        .and_then(|t| t.value())
        .unwrap_or(id)
        .to_owned()
}

/// An asset with its tags and name from them.
fn tagged(
    ctx: &Ctx,
    resource_type: &'static str,
    resource: &str,
    id: &str,
    tag_list: &[Tag],
    config: Value,
) -> Asset {
    let mut asset = ctx.asset(
        resource_type,
        ctx.arn("ec2", &format!("{resource}/{id}")),
        name_of(tag_list, id),
        config,
    );
    asset.tags = tags(tag_list);
    asset
}

fn arn_of(ctx: &Ctx, resource: &str, id: &str) -> String {
    ctx.arn("ec2", &format!("{resource}/{id}"))
}

async fn instances(ctx: &Ctx, ec2: &Client) -> Call<Vec<Asset>> {
    let reservations = all_pages!(
        ec2.describe_instances(),
        "ec2:DescribeInstances",
        reservations
    )?;
    let mut assets = Vec::new();
    for instance in reservations.iter().flat_map(|r| r.instances()) {
        let id = instance.instance_id().unwrap_or_default();
        let metadata = instance.metadata_options();
        let config = json!({
            "InstanceId": id,
            "InstanceType": text(instance.instance_type().map(|t| t.as_str())),
            "ImageId": text(instance.image_id()),
            "State": text(instance.state().and_then(|s| s.name()).map(|n| n.as_str())),
            "LaunchTime": time(instance.launch_time()),
            "VpcId": text(instance.vpc_id()),
            "SubnetId": text(instance.subnet_id()),
            "PrivateIpAddress": text(instance.private_ip_address()),
            "PublicIpAddress": text(instance.public_ip_address()),
            "IamInstanceProfile": instance.iam_instance_profile().map_or(Value::Null, |p| json!({"Arn": text(p.arn())})),
            "MetadataOptions": metadata.map_or(Value::Null, |m| json!({
                "HttpTokens": text(m.http_tokens().map(|t| t.as_str())),
                "HttpEndpoint": text(m.http_endpoint().map(|t| t.as_str())),
                "HttpPutResponseHopLimit": m.http_put_response_hop_limit(),
            })),
            "SecurityGroups": instance.security_groups().iter().map(|g| json!({"GroupId": text(g.group_id()), "GroupName": text(g.group_name())})).collect::<Vec<_>>(),
            "NetworkInterfaces": instance.network_interfaces().iter().map(|n| json!({
                "NetworkInterfaceId": text(n.network_interface_id()),
                "SubnetId": text(n.subnet_id()),
                "PrivateIpAddress": text(n.private_ip_address()),
                "PublicIp": text(n.association().and_then(|a| a.public_ip())),
                "Ipv6Addresses": strings(n.ipv6_addresses().iter().filter_map(|a| a.ipv6_address())),
                "Groups": strings(n.groups().iter().filter_map(|g| g.group_id())),
            })).collect::<Vec<_>>(),
            "BlockDeviceMappings": instance.block_device_mappings().iter().map(|b| json!({
                "DeviceName": text(b.device_name()),
                "VolumeId": text(b.ebs().and_then(|e| e.volume_id())),
            })).collect::<Vec<_>>(),
        });
        let mut asset = tagged(ctx, INSTANCE, "instance", id, instance.tags(), config);
        relate_security_groups(
            &mut asset,
            ctx,
            instance
                .security_groups()
                .iter()
                .filter_map(|g| g.group_id()),
        );
        if let Some(subnet) = instance.subnet_id() {
            relate(&mut asset, "in_subnet", arn_of(ctx, "subnet", subnet));
        }
        if let Some(vpc) = instance.vpc_id() {
            relate(&mut asset, "in_vpc", arn_of(ctx, "vpc", vpc));
        }
        for volume in instance
            .block_device_mappings()
            .iter()
            .filter_map(|b| b.ebs().and_then(|e| e.volume_id()))
        {
            relate(
                &mut asset,
                Relationship::ATTACHED_VOLUME,
                arn_of(ctx, "volume", volume),
            );
        }
        for eni in instance
            .network_interfaces()
            .iter()
            .filter_map(|n| n.network_interface_id())
        {
            relate(
                &mut asset,
                "has_network_interface",
                arn_of(ctx, "network-interface", eni),
            );
        }
        if let Some(profile) = instance.iam_instance_profile().and_then(|p| p.arn()) {
            relate(&mut asset, "uses_instance_profile", profile);
        }
        if let Some(image) = instance.image_id() {
            relate(
                &mut asset,
                Relationship::RUNS_IMAGE,
                format!("arn:aws:ec2:{}::image/{image}", ctx.region),
            );
        }
        assets.push(asset);
    }
    Ok(assets)
}

/// The protocol as AWS names it in answers (`tcp`, `udp`, `icmp`, `-1`).
fn protocol_name(protocol: &str) -> String {
    match protocol.to_ascii_lowercase().as_str() {
        "6" | "tcp" => "tcp".into(),
        "17" | "udp" => "udp".into(),
        "1" | "icmp" => "icmp".into(),
        "-1" | "all" => "-1".into(),
        other => other.into(),
    }
}

/// A rule with every field present: ports -1 when the protocol is all.
fn permission(p: &IpPermission) -> Value {
    let protocol = protocol_name(p.ip_protocol().unwrap_or("-1"));
    let (from, to) = if protocol == "-1" {
        (-1, -1)
    } else {
        (p.from_port().unwrap_or(-1), p.to_port().unwrap_or(-1))
    };
    json!({
        "IpProtocol": protocol,
        "FromPort": from,
        "ToPort": to,
        "IpRanges": p.ip_ranges().iter().map(|r| {
            let mut range = json!({"CidrIp": text(r.cidr_ip())});
            if let Some(d) = r.description() { range["Description"] = json!(d); }
            range
        }).collect::<Vec<_>>(),
        "Ipv6Ranges": p.ipv6_ranges().iter().map(|r| {
            let mut range = json!({"CidrIpv6": text(r.cidr_ipv6())});
            if let Some(d) = r.description() { range["Description"] = json!(d); }
            range
        }).collect::<Vec<_>>(),
        "UserIdGroupPairs": p.user_id_group_pairs().iter().map(|g| {
            let mut pair = json!({"GroupId": text(g.group_id())});
            if let Some(u) = g.user_id() { pair["UserId"] = json!(u); }
            pair
        }).collect::<Vec<_>>(),
        "PrefixListIds": p.prefix_list_ids().iter().map(|l| json!({"PrefixListId": text(l.prefix_list_id())})).collect::<Vec<_>>(),
    })
}

async fn security_groups(ctx: &Ctx, ec2: &Client) -> Call<Vec<Asset>> {
    let groups = all_pages!(
        ec2.describe_security_groups(),
        "ec2:DescribeSecurityGroups",
        security_groups
    )?;
    Ok(groups
        .iter()
        .map(|g| {
            let id = g.group_id().unwrap_or_default();
            let config = json!({
                "GroupId": id,
                "GroupName": text(g.group_name()),
                "VpcId": text(g.vpc_id()),
                "Description": text(g.description()),
                "IpPermissions": g.ip_permissions().iter().map(permission).collect::<Vec<_>>(),
                "IpPermissionsEgress": g.ip_permissions_egress().iter().map(permission).collect::<Vec<_>>(),
            });
            let mut asset = tagged(ctx, SECURITY_GROUP, "security-group", id, g.tags(), config);
            asset.name = g.group_name().unwrap_or(id).to_owned();
            if let Some(vpc) = g.vpc_id() {
                relate(&mut asset, "in_vpc", arn_of(ctx, "vpc", vpc));
            }
            asset
        })
        .collect())
}

async fn network_acls(ctx: &Ctx, ec2: &Client) -> Call<Vec<Asset>> {
    let acls = all_pages!(
        ec2.describe_network_acls(),
        "ec2:DescribeNetworkAcls",
        network_acls
    )?;
    Ok(acls
        .iter()
        .map(|acl| {
            let id = acl.network_acl_id().unwrap_or_default();
            let config = json!({
                "NetworkAclId": id,
                "VpcId": text(acl.vpc_id()),
                "IsDefault": acl.is_default().unwrap_or(false),
                "Entries": acl.entries().iter().map(|e| {
                    let protocol = protocol_name(e.protocol().unwrap_or("-1"));
                    let (from, to) = match (protocol.as_str(), e.port_range()) {
                        ("-1", _) | (_, None) => (-1, -1),
                        (_, Some(r)) => (r.from().unwrap_or(-1), r.to().unwrap_or(-1)),
                    };
                    json!({
                        "RuleNumber": e.rule_number(),
                        "Protocol": protocol,
                        "RuleAction": text(e.rule_action().map(|a| a.as_str())),
                        "Egress": e.egress().unwrap_or(false),
                        "CidrBlock": text(e.cidr_block()),
                        "Ipv6CidrBlock": text(e.ipv6_cidr_block()),
                        "FromPort": from,
                        "ToPort": to,
                    })
                }).collect::<Vec<_>>(),
                "SubnetIds": strings(acl.associations().iter().filter_map(|a| a.subnet_id())),
            });
            let mut asset = tagged(ctx, NETWORK_ACL, "network-acl", id, acl.tags(), config);
            for subnet in acl.associations().iter().filter_map(|a| a.subnet_id()) {
                relate(&mut asset, "protects_subnet", arn_of(ctx, "subnet", subnet));
            }
            asset
        })
        .collect())
}

async fn volumes(ctx: &Ctx, ec2: &Client) -> Call<Vec<Asset>> {
    let volumes = all_pages!(ec2.describe_volumes(), "ec2:DescribeVolumes", volumes)?;
    Ok(volumes
        .iter()
        .map(|v| {
            let id = v.volume_id().unwrap_or_default();
            let mut config = json!({
                "VolumeId": id,
                "VolumeType": text(v.volume_type().map(|t| t.as_str())),
                "AvailabilityZone": text(v.availability_zone()),
                "State": text(v.state().map(|s| s.as_str())),
                "Size": v.size(),
                "Encrypted": v.encrypted().unwrap_or(false),
                "SnapshotId": text(v.snapshot_id().filter(|s| !s.is_empty())),
                "CreateTime": time(v.create_time()),
                "Attachments": v.attachments().iter().map(|a| json!({
                    "InstanceId": text(a.instance_id()),
                    "Device": text(a.device()),
                    "State": text(a.state().map(|s| s.as_str())),
                })).collect::<Vec<_>>(),
            });
            if let Some(key) = v.kms_key_id() {
                config["KmsKeyId"] = json!(key);
            }
            let mut asset = tagged(ctx, VOLUME, "volume", id, v.tags(), config);
            for instance in v.attachments().iter().filter_map(|a| a.instance_id()) {
                relate(&mut asset, "attached_to", arn_of(ctx, "instance", instance));
            }
            asset
        })
        .collect())
}

/// Who may use a snapshot or image besides its owner.
fn permissions<'a>(items: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>) -> Value {
    Value::Array(
        items
            .map(|(group, user)| match (group, user) {
                (Some(group), _) => json!({"Group": group}),
                (None, user) => json!({"UserId": text(user)}),
            })
            .collect(),
    )
}

async fn snapshots(ctx: &Ctx, ec2: &Client) -> Call<Vec<Asset>> {
    let mut snapshots = all_pages!(
        ec2.describe_snapshots().owner_ids("self"),
        "ec2:DescribeSnapshots",
        snapshots
    )?;
    ctx.keep(SNAPSHOT, &mut snapshots, |s| {
        s.snapshot_id().into_iter().collect()
    });
    let attributes = ctx
        .each(
            snapshots
                .iter()
                .map(|s| s.snapshot_id().unwrap_or_default().to_owned())
                .collect(),
            move |id| async move {
                ec2.describe_snapshot_attribute()
                    .snapshot_id(id)
                    .attribute(SnapshotAttributeName::CreateVolumePermission)
                    .send()
                    .await
                    .named("ec2:DescribeSnapshotAttribute")
            },
        )
        .await;
    Ok(snapshots
        .iter()
        .zip(attributes)
        .map(|(s, attribute)| {
            let id = s.snapshot_id().unwrap_or_default();
            let config = json!({
                "SnapshotId": id,
                "VolumeId": text(s.volume_id()),
                "State": text(s.state().map(|x| x.as_str())),
                "Description": text(s.description()),
                "Encrypted": s.encrypted().unwrap_or(false),
                "KmsKeyId": text(s.kms_key_id()),
                "VolumeSize": s.volume_size(),
                "StartTime": time(s.start_time()),
            });
            let mut asset = ctx.asset(
                SNAPSHOT,
                format!("arn:aws:ec2:{}::snapshot/{id}", ctx.region),
                name_of(s.tags(), id),
                config,
            );
            asset.tags = tags(s.tags());
            super::Doc::of(&mut asset).set(
                "CreateVolumePermissions",
                attribute.map(|a| {
                    permissions(
                        a.create_volume_permissions()
                            .iter()
                            .map(|p| (p.group().map(|g| g.as_str()), p.user_id())),
                    )
                }),
                &[],
            );
            if let Some(volume) = s.volume_id() {
                relate(
                    &mut asset,
                    Relationship::SNAPSHOT_OF,
                    arn_of(ctx, "volume", volume),
                );
            }
            asset
        })
        .collect())
}

async fn images(ctx: &Ctx, ec2: &Client) -> Call<Vec<Asset>> {
    let mut images = all_pages!(
        ec2.describe_images().owners("self"),
        "ec2:DescribeImages",
        images
    )?;
    ctx.keep(IMAGE, &mut images, |i| {
        i.image_id().into_iter().chain(i.name()).collect()
    });
    let attributes = ctx
        .each(
            images
                .iter()
                .map(|i| i.image_id().unwrap_or_default().to_owned())
                .collect(),
            move |id| async move {
                ec2.describe_image_attribute()
                    .image_id(id)
                    .attribute(ImageAttributeName::LaunchPermission)
                    .send()
                    .await
                    .named("ec2:DescribeImageAttribute")
            },
        )
        .await;
    Ok(images
        .iter()
        .zip(attributes)
        .map(|(image, attribute)| {
            let id = image.image_id().unwrap_or_default();
            let config = json!({
                "ImageId": id,
                "Name": text(image.name()),
                "State": text(image.state().map(|s| s.as_str())),
                "Public": image.public().unwrap_or(false),
                "CreationDate": text(image.creation_date()),
                "Architecture": text(image.architecture().map(|a| a.as_str())),
                "RootDeviceType": text(image.root_device_type().map(|a| a.as_str())),
                "BlockDeviceMappings": image.block_device_mappings().iter().map(|b| json!({
                    "DeviceName": text(b.device_name()),
                    "SnapshotId": text(b.ebs().and_then(|e| e.snapshot_id())),
                    "Encrypted": b.ebs().and_then(|e| e.encrypted()),
                })).collect::<Vec<_>>(),
            });
            let mut asset = ctx.asset(
                IMAGE,
                format!("arn:aws:ec2:{}::image/{id}", ctx.region),
                image.name().unwrap_or(id),
                config,
            );
            asset.tags = tags(image.tags());
            super::Doc::of(&mut asset).set(
                "LaunchPermissions",
                attribute.map(|a| {
                    permissions(
                        a.launch_permissions()
                            .iter()
                            .map(|p| (p.group().map(|g| g.as_str()), p.user_id())),
                    )
                }),
                &[],
            );
            asset
        })
        .collect())
}

async fn vpcs(ctx: &Ctx, ec2: &Client) -> Call<Vec<Asset>> {
    let (vpcs, flow_logs, endpoints) = tokio::join!(
        async { all_pages!(ec2.describe_vpcs(), "ec2:DescribeVpcs", vpcs) },
        async { all_pages!(ec2.describe_flow_logs(), "ec2:DescribeFlowLogs", flow_logs) },
        async {
            all_pages!(
                ec2.describe_vpc_endpoints(),
                "ec2:DescribeVpcEndpoints",
                vpc_endpoints
            )
        },
    );
    let vpcs = vpcs?;
    let endpoints = endpoints.map(|all| {
        super::grouped(
            &all,
            |e| e.vpc_id(),
            |e| {
                json!({
                    "VpcEndpointId": text(e.vpc_endpoint_id()),
                    "ServiceName": text(e.service_name()),
                    "VpcEndpointType": text(e.vpc_endpoint_type().map(|t| t.as_str())),
                    "State": text(e.state().map(|s| s.as_str())),
                })
            },
        )
    });
    let flow_logs = flow_logs.map(|all| {
        super::grouped(
            &all,
            |l| l.resource_id(),
            |l| {
                json!({
                    "FlowLogId": text(l.flow_log_id()),
                    "FlowLogStatus": text(l.flow_log_status()),
                    "TrafficType": text(l.traffic_type().map(|t| t.as_str())),
                    "LogDestinationType": text(l.log_destination_type().map(|t| t.as_str())),
                    "LogDestination": text(l.log_destination()),
                    "LogGroupName": text(l.log_group_name()),
                })
            },
        )
    });
    Ok(vpcs
        .iter()
        .map(|v| {
            let id = v.vpc_id().unwrap_or_default();
            let config = json!({
                "VpcId": id,
                "CidrBlock": text(v.cidr_block()),
                "Ipv6CidrBlocks": strings(v.ipv6_cidr_block_association_set().iter().filter_map(|a| a.ipv6_cidr_block())),
                "IsDefault": v.is_default().unwrap_or(false),
                "State": text(v.state().map(|s| s.as_str())),
            });
            let mut asset = tagged(ctx, VPC, "vpc", id, v.tags(), config);
            let mut doc = super::Doc::of(&mut asset);
            doc.set_group("FlowLogs", &flow_logs, id);
            doc.set_group("Endpoints", &endpoints, id);
            asset
        })
        .collect())
}

async fn subnets(ctx: &Ctx, ec2: &Client) -> Call<Vec<Asset>> {
    let subnets = all_pages!(ec2.describe_subnets(), "ec2:DescribeSubnets", subnets)?;
    Ok(subnets
        .iter()
        .map(|s| {
            let id = s.subnet_id().unwrap_or_default();
            let config = json!({
                "SubnetId": id,
                "VpcId": text(s.vpc_id()),
                "CidrBlock": text(s.cidr_block()),
                "Ipv6CidrBlocks": strings(s.ipv6_cidr_block_association_set().iter().filter_map(|a| a.ipv6_cidr_block())),
                "AvailabilityZone": text(s.availability_zone()),
                "MapPublicIpOnLaunch": s.map_public_ip_on_launch().unwrap_or(false),
                "DefaultForAz": s.default_for_az().unwrap_or(false),
            });
            let mut asset = tagged(ctx, SUBNET, "subnet", id, s.tags(), config);
            if let Some(vpc) = s.vpc_id() {
                relate(&mut asset, "in_vpc", arn_of(ctx, "vpc", vpc));
            }
            asset
        })
        .collect())
}

/// Each VPC peering connection's two sides, as the VPC id and the CIDR
/// blocks of each.
type PeeringSides = HashMap<String, [(String, Vec<String>); 2]>;

async fn peering_connections(ec2: &Client) -> Call<PeeringSides> {
    let connections = all_pages!(
        ec2.describe_vpc_peering_connections(),
        "ec2:DescribeVpcPeeringConnections",
        vpc_peering_connections
    )?;
    let side = |info: Option<&aws_sdk_ec2::types::VpcPeeringConnectionVpcInfo>| {
        let vpc = info.and_then(|i| i.vpc_id()).unwrap_or_default().to_owned();
        let mut blocks: Vec<String> = info
            .map(|i| {
                i.cidr_block_set()
                    .iter()
                    .filter_map(|b| b.cidr_block().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if blocks.is_empty() {
            blocks.extend(info.and_then(|i| i.cidr_block()).map(str::to_owned));
        }
        blocks.extend(info.into_iter().flat_map(|i| {
            i.ipv6_cidr_block_set()
                .iter()
                .filter_map(|b| b.ipv6_cidr_block().map(str::to_owned))
        }));
        (vpc, blocks)
    };
    Ok(connections
        .iter()
        .filter_map(|c| {
            Some((
                c.vpc_peering_connection_id()?.to_owned(),
                [side(c.requester_vpc_info()), side(c.accepter_vpc_info())],
            ))
        })
        .collect())
}

/// The CIDR blocks of the VPC on the other side of each peering connection
/// that `routes` use, seen from `vpc`.
fn peered_blocks(
    peerings: &PeeringSides,
    vpc: &str,
    routes: &[aws_sdk_ec2::types::Route],
) -> Value {
    let mut found = serde_json::Map::new();
    for id in routes.iter().filter_map(|r| r.vpc_peering_connection_id()) {
        if let Some(sides) = peerings.get(id) {
            let peer = sides.iter().find(|(v, _)| v != vpc).unwrap_or(&sides[1]);
            found.insert(id.to_owned(), json!(peer.1));
        }
    }
    Value::Object(found)
}

async fn route_tables(ctx: &Ctx, ec2: &Client) -> Call<Vec<Asset>> {
    let (tables, peerings) = tokio::join!(
        async {
            all_pages!(
                ec2.describe_route_tables(),
                "ec2:DescribeRouteTables",
                route_tables
            )
        },
        peering_connections(ec2),
    );
    let tables = tables?;
    Ok(tables
        .iter()
        .map(|t| {
            let id = t.route_table_id().unwrap_or_default();
            let config = json!({
                "RouteTableId": id,
                "VpcId": text(t.vpc_id()),
                "Routes": t.routes().iter().map(|r| json!({
                    "DestinationCidrBlock": text(r.destination_cidr_block()),
                    "DestinationIpv6CidrBlock": text(r.destination_ipv6_cidr_block()),
                    "GatewayId": text(r.gateway_id()),
                    "NatGatewayId": text(r.nat_gateway_id()),
                    "InstanceId": text(r.instance_id()),
                    "NetworkInterfaceId": text(r.network_interface_id()),
                    "VpcPeeringConnectionId": text(r.vpc_peering_connection_id()),
                    "TransitGatewayId": text(r.transit_gateway_id()),
                    "State": text(r.state().map(|s| s.as_str())),
                })).collect::<Vec<_>>(),
                "Associations": t.associations().iter().map(|a| json!({
                    "Main": a.main().unwrap_or(false),
                    "SubnetId": text(a.subnet_id()),
                })).collect::<Vec<_>>(),
            });
            let mut asset = tagged(ctx, ROUTE_TABLE, "route-table", id, t.tags(), config);
            super::Doc::of(&mut asset).set(
                "PeeredCidrBlocks",
                peerings
                    .as_ref()
                    .map_err(Clone::clone)
                    .map(|p| peered_blocks(p, t.vpc_id().unwrap_or_default(), t.routes())),
                &[],
            );
            for subnet in t.associations().iter().filter_map(|a| a.subnet_id()) {
                relate(&mut asset, "routes_subnet", arn_of(ctx, "subnet", subnet));
            }
            for gateway in t
                .routes()
                .iter()
                .filter_map(|r| r.gateway_id())
                .filter(|g| g.starts_with("igw-"))
            {
                relate(
                    &mut asset,
                    "routes_to",
                    arn_of(ctx, "internet-gateway", gateway),
                );
            }
            for nat in t.routes().iter().filter_map(|r| r.nat_gateway_id()) {
                relate(&mut asset, "routes_to", arn_of(ctx, "natgateway", nat));
            }
            asset
        })
        .collect())
}

async fn internet_gateways(ctx: &Ctx, ec2: &Client) -> Call<Vec<Asset>> {
    let gateways = all_pages!(
        ec2.describe_internet_gateways(),
        "ec2:DescribeInternetGateways",
        internet_gateways
    )?;
    Ok(gateways
        .iter()
        .map(|g| {
            let id = g.internet_gateway_id().unwrap_or_default();
            let config = json!({
                "InternetGatewayId": id,
                "Attachments": g.attachments().iter().map(|a| json!({
                    "VpcId": text(a.vpc_id()),
                    "State": text(a.state().map(|s| s.as_str())),
                })).collect::<Vec<_>>(),
            });
            let mut asset = tagged(
                ctx,
                INTERNET_GATEWAY,
                "internet-gateway",
                id,
                g.tags(),
                config,
            );
            for vpc in g.attachments().iter().filter_map(|a| a.vpc_id()) {
                relate(&mut asset, "attached_to", arn_of(ctx, "vpc", vpc));
            }
            asset
        })
        .collect())
}

async fn nat_gateways(ctx: &Ctx, ec2: &Client) -> Call<Vec<Asset>> {
    let gateways = all_pages!(
        ec2.describe_nat_gateways(),
        "ec2:DescribeNatGateways",
        nat_gateways
    )?;
    Ok(gateways
        .iter()
        .map(|g| {
            let id = g.nat_gateway_id().unwrap_or_default();
            let config = json!({
                "NatGatewayId": id,
                "VpcId": text(g.vpc_id()),
                "SubnetId": text(g.subnet_id()),
                "State": text(g.state().map(|s| s.as_str())),
                "ConnectivityType": text(g.connectivity_type().map(|s| s.as_str())),
                "NatGatewayAddresses": g.nat_gateway_addresses().iter().map(|a| json!({
                    "AllocationId": text(a.allocation_id()),
                    "PublicIp": text(a.public_ip()),
                    "PrivateIp": text(a.private_ip()),
                })).collect::<Vec<_>>(),
            });
            let mut asset = tagged(ctx, NAT_GATEWAY, "natgateway", id, g.tags(), config);
            if let Some(subnet) = g.subnet_id() {
                relate(&mut asset, "in_subnet", arn_of(ctx, "subnet", subnet));
            }
            asset
        })
        .collect())
}

async fn network_interfaces(ctx: &Ctx, ec2: &Client) -> Call<Vec<Asset>> {
    let interfaces = all_pages!(
        ec2.describe_network_interfaces(),
        "ec2:DescribeNetworkInterfaces",
        network_interfaces
    )?;
    Ok(interfaces
        .iter()
        .map(|n| {
            let id = n.network_interface_id().unwrap_or_default();
            let config = json!({
                "NetworkInterfaceId": id,
                "InterfaceType": text(n.interface_type().map(|t| t.as_str())),
                "Status": text(n.status().map(|s| s.as_str())),
                "VpcId": text(n.vpc_id()),
                "SubnetId": text(n.subnet_id()),
                "PrivateIpAddress": text(n.private_ip_address()),
                "PublicIp": text(n.association().and_then(|a| a.public_ip())),
                "Ipv6Addresses": strings(n.ipv6_addresses().iter().filter_map(|a| a.ipv6_address())),
                "Description": text(n.description()),
                "RequesterManaged": n.requester_managed().unwrap_or(false),
                "Groups": n.groups().iter().map(|g| json!({"GroupId": text(g.group_id()), "GroupName": text(g.group_name())})).collect::<Vec<_>>(),
                "Attachment": n.attachment().map_or(Value::Null, |a| json!({"InstanceId": text(a.instance_id()), "Status": text(a.status().map(|s| s.as_str()))})),
            });
            let mut asset = tagged(ctx, NETWORK_INTERFACE, "network-interface", id, n.tag_set(), config);
            relate_security_groups(&mut asset, ctx, n.groups().iter().filter_map(|g| g.group_id()));
            if let Some(subnet) = n.subnet_id() {
                relate(&mut asset, "in_subnet", arn_of(ctx, "subnet", subnet));
            }
            asset
        })
        .collect())
}

async fn addresses(ctx: &Ctx, ec2: &Client) -> Call<Vec<Asset>> {
    let answer = ec2
        .describe_addresses()
        .send()
        .await
        .named("ec2:DescribeAddresses")?;
    Ok(answer
        .addresses()
        .iter()
        .map(|a| {
            let id = a.allocation_id().or(a.public_ip()).unwrap_or_default();
            // An address that is not associated has no instance or
            // interface; some answers give an empty id instead of none.
            let given = |v: Option<&str>| text(v.filter(|s| !s.is_empty()));
            let config = json!({
                "AllocationId": text(a.allocation_id()),
                "PublicIp": text(a.public_ip()),
                "Domain": text(a.domain().map(|d| d.as_str())),
                "InstanceId": given(a.instance_id()),
                "NetworkInterfaceId": given(a.network_interface_id()),
                "AssociationId": given(a.association_id()),
                "PrivateIpAddress": text(a.private_ip_address()),
            });
            let mut asset = tagged(ctx, EIP, "elastic-ip", id, a.tags(), config);
            if let Some(eni) = a.network_interface_id().filter(|s| !s.is_empty()) {
                relate(
                    &mut asset,
                    "associated_with",
                    arn_of(ctx, "network-interface", eni),
                );
            }
            asset
        })
        .collect())
}

/// The settings of EC2 that hold for a whole account and region: EBS
/// encryption by default and snapshot block public access.
async fn account_settings(ctx: Arc<Ctx>) -> Out {
    let ec2 = Client::new(&ctx.sdk());
    let parts: Vec<Part<'_>> = vec![
        (
            EBS_DEFAULT_ENCRYPTION,
            ebs_default_encryption(&ctx, &ec2).boxed(),
        ),
        (
            SNAPSHOT_BLOCK_PUBLIC_ACCESS,
            snapshot_block_public_access(&ctx, &ec2).boxed(),
        ),
    ];
    run_parts(&ctx, parts).await
}

async fn ebs_default_encryption(ctx: &Ctx, ec2: &Client) -> Call<Vec<Asset>> {
    let (enabled, key) = tokio::join!(
        ec2.get_ebs_encryption_by_default().send(),
        ec2.get_ebs_default_kms_key_id().send(),
    );
    let enabled = enabled.named("ec2:GetEbsEncryptionByDefault")?;
    let mut asset = ctx.asset(
        EBS_DEFAULT_ENCRYPTION,
        ctx.arn("ec2", "ebs-encryption-by-default"),
        format!("EBS encryption by default in {}", ctx.region),
        json!({"EbsEncryptionByDefault": enabled.ebs_encryption_by_default().unwrap_or(false)}),
    );
    super::Doc::of(&mut asset).set(
        "KmsKeyId",
        key.named("ec2:GetEbsDefaultKmsKeyId")
            .map(|k| text(k.kms_key_id())),
        &[],
    );
    Ok(vec![asset])
}

async fn snapshot_block_public_access(ctx: &Ctx, ec2: &Client) -> Call<Vec<Asset>> {
    let answer = ec2
        .get_snapshot_block_public_access_state()
        .send()
        .await
        .named("ec2:GetSnapshotBlockPublicAccessState")?;
    Ok(vec![ctx.asset(
        SNAPSHOT_BLOCK_PUBLIC_ACCESS,
        ctx.arn("ec2", "snapshot-block-public-access"),
        format!("snapshot block public access in {}", ctx.region),
        json!({
            "State": text(answer.state().map(|s| s.as_str())),
            "ManagedBy": text(answer.managed_by().map(|m| m.as_str())),
        }),
    )])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_normalised_with_every_field() {
        let all = IpPermission::builder()
            .ip_protocol("-1")
            .from_port(0)
            .to_port(65535)
            .build();
        let rule = permission(&all);
        assert_eq!(rule["FromPort"], -1);
        assert_eq!(rule["ToPort"], -1);
        assert_eq!(rule["IpRanges"], json!([]));
        assert_eq!(rule["Ipv6Ranges"], json!([]));
        assert_eq!(rule["UserIdGroupPairs"], json!([]));
        let ssh = IpPermission::builder()
            .ip_protocol("6")
            .from_port(22)
            .to_port(22)
            .ip_ranges(
                aws_sdk_ec2::types::IpRange::builder()
                    .cidr_ip("0.0.0.0/0")
                    .build(),
            )
            .build();
        let rule = permission(&ssh);
        assert_eq!(rule["IpProtocol"], "tcp");
        assert_eq!(rule["FromPort"], 22);
        assert_eq!(rule["IpRanges"][0]["CidrIp"], "0.0.0.0/0");
    }
}
