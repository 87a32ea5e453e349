//! AWS's network, read from the documents of its collector
//! (`docs/resources/aws/`): VPC subnets, route tables, internet gateways,
//! network ACLs, security groups, elastic IPs, the network presence of
//! instances, interfaces, RDS instances and load balancers, what sits in a
//! VPC without being reached directly (functions, search domains, EKS
//! clusters), and what load balancers forward to.

use super::{Adapter, cidr, list, rule_ports, strings, text};
use crate::ports::PortSet;
use crate::public::PublicAccess;
use crate::topology::{
    Acl, AclEntry, Address, Balancer, Endpoint, Gateway, Group, GroupRule, Listener, Route,
    RouteTable, Source, Subnet, TargetGroup, Topology, Via,
};
use ipnet::IpNet;
use parapet_core::{Asset, Provider};
use serde_json::Value;

const SUBNET: &str = "AWS::EC2::Subnet";
const ROUTE_TABLE: &str = "AWS::EC2::RouteTable";
const INTERNET_GATEWAY: &str = "AWS::EC2::InternetGateway";
const NETWORK_ACL: &str = "AWS::EC2::NetworkAcl";
const SECURITY_GROUP: &str = "AWS::EC2::SecurityGroup";
const INSTANCE: &str = "AWS::EC2::Instance";
const INTERFACE: &str = "AWS::EC2::NetworkInterface";
const EIP: &str = "AWS::EC2::EIP";
const DATABASE: &str = "AWS::RDS::DBInstance";
const LOAD_BALANCER: &str = "AWS::ElasticLoadBalancingV2::LoadBalancer";
const LISTENER: &str = "AWS::ElasticLoadBalancingV2::Listener";
const TARGET_GROUP: &str = "AWS::ElasticLoadBalancingV2::TargetGroup";

/// In a VPC but with no public address of their own: in the graph, never
/// reached directly (an EKS cluster's public endpoint is AWS's, listed among
/// public grants). Each with where its document keeps its network.
const MEMBERS: &[(&str, &str)] = &[
    ("AWS::Lambda::Function", "VpcConfig"),
    ("AWS::OpenSearchService::Domain", "VPCOptions"),
    ("AWS::EKS::Cluster", "ResourcesVpcConfig"),
];

/// The AWS adapter.
pub struct Aws;

impl Adapter for Aws {
    fn provider(&self) -> Provider {
        Provider::Aws
    }

    fn read(&self, assets: &[&Asset], t: &mut Topology) {
        for asset in assets {
            match asset.resource_type.as_str() {
                SUBNET => subnet(asset, t),
                ROUTE_TABLE => t.route_tables.push(route_table(asset)),
                INTERNET_GATEWAY => gateway(asset, t),
                NETWORK_ACL => t.acls.push(acl(asset)),
                SECURITY_GROUP => group(asset, t),
                INSTANCE => instance(asset, t),
                LOAD_BALANCER => balancer(asset, t),
                TARGET_GROUP => target_group(asset, t),
                kind => {
                    if let Some((_, network)) = MEMBERS.iter().find(|(k, _)| *k == kind) {
                        member(asset, network, t);
                    }
                }
            }
        }
        // What refers to other assets, once they are all read; interfaces,
        // then databases, then load balancers, as the order of endpoints.
        let of = |kind: &'static str| {
            assets
                .iter()
                .filter(move |a| a.resource_type.as_str() == kind)
        };
        for asset in of(LISTENER) {
            listener(asset, t);
        }
        for asset in of(INTERFACE) {
            interface(asset, t);
        }
        for asset in of(DATABASE) {
            database(asset, t);
        }
        for asset in of(EIP) {
            address(asset, t);
        }
        balancer_endpoints(t);
    }

    fn public_grants(&self, assets: &[&Asset]) -> Vec<PublicAccess> {
        super::aws_public::grants(assets)
    }
}

fn subnet(asset: &Asset, t: &mut Topology) {
    let c = &asset.config;
    let (Some(id), Some(vpc)) = (text(c, "SubnetId"), text(c, "VpcId")) else {
        return;
    };
    let mut cidrs: Vec<IpNet> = cidr(c, "CidrBlock").into_iter().collect();
    cidrs.extend(list(c, "Ipv6CidrBlocks").filter_map(|v| v.as_str()?.parse::<IpNet>().ok()));
    t.subnets.insert(
        id.to_owned(),
        Subnet {
            arn: asset.id.clone(),
            kind: SUBNET.to_owned(),
            id: id.to_owned(),
            name: id.to_owned(),
            vpc: vpc.to_owned(),
            cidrs,
        },
    );
}

/// What a route's target is, and its type, from its id's prefix.
fn route_target(target: &str) -> (Via, Option<&'static str>) {
    match target.split('-').next() {
        Some("igw") => (Via::Internet, Some(INTERNET_GATEWAY)),
        Some("nat") => (Via::Nat, Some("AWS::EC2::NatGateway")),
        Some("pcx") => (Via::Peering, Some("AWS::EC2::VPCPeeringConnection")),
        Some("tgw") => (Via::Transit, Some("AWS::EC2::TransitGateway")),
        Some("eni") => (Via::Interface, Some(INTERFACE)),
        _ if target == "local" => (Via::Local, None),
        _ => (Via::Other, None),
    }
}

fn route_table(asset: &Asset) -> RouteTable {
    let c = &asset.config;
    RouteTable {
        arn: asset.id.clone(),
        kind: ROUTE_TABLE.to_owned(),
        id: text(c, "RouteTableId").unwrap_or(&asset.name).to_owned(),
        vpc: text(c, "VpcId").unwrap_or_default().to_owned(),
        main: list(c, "Associations").any(|a| a["Main"] == true),
        subnets: list(c, "Associations")
            .filter_map(|a| text(a, "SubnetId").map(str::to_owned))
            .collect(),
        routes: list(c, "Routes")
            .filter_map(|r| {
                let destination = cidr(r, "DestinationCidrBlock")
                    .or_else(|| cidr(r, "DestinationIpv6CidrBlock"))?;
                let target = [
                    "GatewayId",
                    "NatGatewayId",
                    "TransitGatewayId",
                    "VpcPeeringConnectionId",
                    "NetworkInterfaceId",
                    "InstanceId",
                ]
                .iter()
                .find_map(|f| text(r, f))?
                .to_owned();
                let (via, kind) = route_target(&target);
                Some(Route {
                    destination,
                    target,
                    via,
                    target_kind: kind.map(str::to_owned),
                    active: text(r, "State").is_none_or(|s| s == "active"),
                })
            })
            .collect(),
    }
}

fn gateway(asset: &Asset, t: &mut Topology) {
    let c = &asset.config;
    let Some(id) = text(c, "InternetGatewayId") else {
        return;
    };
    let vpcs = list(c, "Attachments")
        .filter(|a| text(a, "State").is_none_or(|s| s == "available" || s == "attached"))
        .filter_map(|a| text(a, "VpcId").map(str::to_owned))
        .collect();
    t.gateways.insert(
        id.to_owned(),
        Gateway {
            arn: asset.id.clone(),
            kind: INTERNET_GATEWAY.to_owned(),
            vpcs,
        },
    );
}

fn acl(asset: &Asset) -> Acl {
    let c = &asset.config;
    let mut entries: Vec<AclEntry> = list(c, "Entries")
        .filter_map(|e| {
            Some(AclEntry {
                number: e.get("RuleNumber")?.as_i64()?,
                egress: e["Egress"] == true,
                allow: text(e, "RuleAction") == Some("allow"),
                cidr: cidr(e, "CidrBlock").or_else(|| cidr(e, "Ipv6CidrBlock"))?,
                ports: rule_ports(e, "Protocol"),
                label: None,
            })
        })
        .collect();
    entries.sort_by_key(|e| e.number);
    Acl {
        arn: asset.id.clone(),
        kind: NETWORK_ACL.to_owned(),
        id: text(c, "NetworkAclId").unwrap_or(&asset.name).to_owned(),
        vpc: text(c, "VpcId").unwrap_or_default().to_owned(),
        default: c["IsDefault"] == true,
        subnets: strings(c, "SubnetIds"),
        entries,
    }
}

fn group(asset: &Asset, t: &mut Topology) {
    let c = &asset.config;
    let Some(id) = text(c, "GroupId") else {
        return;
    };
    let ingress = list(c, "IpPermissions")
        .flat_map(|p| {
            let ports = rule_ports(p, "IpProtocol");
            let cidrs = list(p, "IpRanges")
                .filter_map(|r| cidr(r, "CidrIp"))
                .chain(list(p, "Ipv6Ranges").filter_map(|r| cidr(r, "CidrIpv6")))
                .map(Source::Cidr);
            let groups = list(p, "UserIdGroupPairs")
                .filter_map(|g| text(g, "GroupId"))
                .map(|g| Source::Group(g.to_owned()));
            cidrs
                .chain(groups)
                .map(|source| GroupRule {
                    ports: ports.clone(),
                    source,
                })
                .collect::<Vec<_>>()
        })
        .collect();
    t.groups.insert(
        id.to_owned(),
        Group {
            arn: asset.id.clone(),
            kind: SECURITY_GROUP.to_owned(),
            id: id.to_owned(),
            ingress,
        },
    );
}

/// An endpoint of `asset` in `subnet`, of no interface, address or port of
/// its own; the caller fills what it has.
fn endpoint(asset: &Asset, name: &str, subnet: String, groups: Vec<String>) -> Endpoint {
    Endpoint {
        owner: asset.id.clone(),
        owner_type: asset.resource_type.as_str().to_owned(),
        owner_name: name.to_owned(),
        interface: None,
        interface_kind: INTERFACE.to_owned(),
        subnet,
        groups,
        acl: None,
        public_ipv4: None,
        ipv6: Vec::new(),
        listens: None,
    }
}

fn instance(asset: &Asset, t: &mut Topology) {
    let c = &asset.config;
    let Some(id) = text(c, "InstanceId") else {
        return;
    };
    t.instances.insert(id.to_owned(), asset.id.clone());
    // Only a running instance answers.
    if text(c, "State").is_some_and(|s| s != "running") {
        return;
    }
    for n in list(c, "NetworkInterfaces") {
        let subnet = text(n, "SubnetId").unwrap_or_default().to_owned();
        t.endpoints.push(Endpoint {
            interface: text(n, "NetworkInterfaceId").map(str::to_owned),
            public_ipv4: text(n, "PublicIp").map(str::to_owned),
            ipv6: strings(n, "Ipv6Addresses"),
            ..endpoint(asset, id, subnet, strings(n, "Groups"))
        });
    }
}

/// An interface of its own: not an instance's (listed with it) and not made
/// by a service for its resource (databases and load balancers are read
/// from their own documents).
fn interface(asset: &Asset, t: &mut Topology) {
    let c = &asset.config;
    let attached = c["Attachment"]["InstanceId"]
        .as_str()
        .is_some_and(|i| !i.is_empty());
    if attached || c["RequesterManaged"] == true {
        return;
    }
    let id = text(c, "NetworkInterfaceId").unwrap_or(&asset.name);
    let subnet = text(c, "SubnetId").unwrap_or_default().to_owned();
    let groups = list(c, "Groups")
        .filter_map(|g| text(g, "GroupId").map(str::to_owned))
        .collect();
    t.endpoints.push(Endpoint {
        interface: Some(id.to_owned()),
        public_ipv4: text(c, "PublicIp").map(str::to_owned),
        ipv6: strings(c, "Ipv6Addresses"),
        ..endpoint(asset, id, subnet, groups)
    });
}

fn database(asset: &Asset, t: &mut Topology) {
    let c = &asset.config;
    let port = c["Endpoint"]["Port"].as_i64();
    let public = c["PubliclyAccessible"] == true;
    let name = text(c, "DBInstanceIdentifier").unwrap_or(&asset.name);
    for subnet in strings(c, "SubnetIds") {
        t.endpoints.push(Endpoint {
            public_ipv4: public.then(|| {
                text(&c["Endpoint"], "Address")
                    .unwrap_or("public endpoint")
                    .to_owned()
            }),
            listens: Some(port.map_or_else(PortSet::empty, |p| {
                PortSet::of_rule("tcp", Some(p), Some(p))
            })),
            ..endpoint(asset, name, subnet, strings(c, "VpcSecurityGroups"))
        });
    }
}

fn member(asset: &Asset, network: &str, t: &mut Topology) {
    let network = &asset.config[network];
    for subnet in strings(network, "SubnetIds") {
        let groups = strings(network, "SecurityGroupIds");
        t.endpoints
            .push(endpoint(asset, &asset.name, subnet, groups));
    }
}

fn balancer(asset: &Asset, t: &mut Topology) {
    let c = &asset.config;
    t.balancers.insert(
        asset.id.clone(),
        Balancer {
            arn: asset.id.clone(),
            kind: LOAD_BALANCER.to_owned(),
            name: text(c, "LoadBalancerName")
                .unwrap_or(&asset.name)
                .to_owned(),
            internet_facing: text(c, "Scheme") == Some("internet-facing"),
            subnets: strings(c, "Subnets"),
            groups: strings(c, "SecurityGroups"),
            listeners: Vec::new(),
        },
    );
}

fn target_group(asset: &Asset, t: &mut Topology) {
    let c = &asset.config;
    let default_port = c.get("Port").and_then(Value::as_u64);
    t.target_groups.insert(
        asset.id.clone(),
        TargetGroup {
            arn: asset.id.clone(),
            kind: TARGET_GROUP.to_owned(),
            name: text(c, "TargetGroupName").unwrap_or(&asset.name).to_owned(),
            targets: list(c, "Targets")
                .filter_map(|target| {
                    let port = target
                        .get("Port")
                        .and_then(Value::as_u64)
                        .or(default_port)?;
                    Some((text(target, "Id")?.to_owned(), u16::try_from(port).ok()?))
                })
                .collect(),
        },
    );
}

fn listener(asset: &Asset, t: &mut Topology) {
    let c = &asset.config;
    let balancer = text(c, "LoadBalancerArn").unwrap_or_default();
    let port = c
        .get("Port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok());
    let protocol = match text(c, "Protocol") {
        Some("UDP") => "udp",
        Some("TCP_UDP") => "-1",
        _ => "tcp",
    };
    if let (Some(b), Some(port)) = (t.balancers.get_mut(balancer), port) {
        b.listeners.push(Listener {
            arn: asset.id.clone(),
            ports: PortSet::of_rule(protocol, Some(i64::from(port)), Some(i64::from(port))),
            target_groups: list(c, "DefaultActions")
                .filter_map(|a| text(a, "TargetGroupArn").map(str::to_owned))
                .collect(),
        });
    }
}

/// An elastic IP, beside the interface it is associated with.
fn address(asset: &Asset, t: &mut Topology) {
    let c = &asset.config;
    if let Some(interface) = text(c, "NetworkInterfaceId") {
        t.addresses.push(Address {
            arn: asset.id.clone(),
            kind: EIP.to_owned(),
            ip: text(c, "PublicIp").unwrap_or(&asset.name).to_owned(),
            interface: interface.to_owned(),
        });
    }
}

/// Each load balancer's node in each of its subnets, listening on its
/// listeners' ports.
fn balancer_endpoints(t: &mut Topology) {
    let endpoints: Vec<Endpoint> = t
        .balancers
        .values()
        .flat_map(|b| {
            let listens = b
                .listeners
                .iter()
                .fold(PortSet::empty(), |all, l| all.union(&l.ports));
            b.subnets.iter().map(move |subnet| Endpoint {
                owner: b.arn.clone(),
                owner_type: b.kind.clone(),
                owner_name: b.name.clone(),
                interface: None,
                interface_kind: INTERFACE.to_owned(),
                subnet: subnet.clone(),
                groups: b.groups.clone(),
                acl: None,
                public_ipv4: b.internet_facing.then(|| b.name.clone()),
                ipv6: Vec::new(),
                listens: Some(listens.clone()),
            })
        })
        .collect();
    t.endpoints.extend(endpoints);
}
