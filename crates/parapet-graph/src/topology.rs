//! The network topology of an estate, read from the assets' configuration
//! documents: VPCs, subnets, route tables, internet gateways, network ACLs,
//! security groups, the network presence of instances, interfaces, databases
//! and load balancers, and what load balancers forward to.

use crate::ports::PortSet;
use ipnet::IpNet;
use parapet_core::Asset;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// A subnet.
#[derive(Debug, Clone)]
pub struct Subnet {
    /// The asset id (ARN).
    pub arn: String,
    /// `subnet-...`.
    pub id: String,
    /// Its VPC.
    pub vpc: String,
    /// IPv4 and IPv6 blocks.
    pub cidrs: Vec<IpNet>,
}

/// A route table and the subnets it serves.
#[derive(Debug, Clone)]
pub struct RouteTable {
    /// The asset id.
    pub arn: String,
    /// `rtb-...`.
    pub id: String,
    /// Its VPC.
    pub vpc: String,
    /// Whether it is the VPC's main table (serving subnets with no table of
    /// their own).
    pub main: bool,
    /// Subnets explicitly associated.
    pub subnets: Vec<String>,
    /// Its routes.
    pub routes: Vec<Route>,
}

/// One route.
#[derive(Debug, Clone)]
pub struct Route {
    /// Where it leads.
    pub destination: IpNet,
    /// The target: `igw-...`, `nat-...`, `pcx-...`, `tgw-...`, `eni-...`,
    /// `local`.
    pub target: String,
    /// Whether it is usable (not blackholed).
    pub active: bool,
}

/// A network ACL entry.
#[derive(Debug, Clone)]
pub struct AclEntry {
    /// Evaluated in increasing order; the first match decides.
    pub number: i64,
    /// Outbound (else inbound).
    pub egress: bool,
    /// Allow (else deny).
    pub allow: bool,
    /// The addresses it matches.
    pub cidr: IpNet,
    /// The ports it matches.
    pub ports: PortSet,
}

/// A network ACL and the subnets it guards.
#[derive(Debug, Clone)]
pub struct Acl {
    /// The asset id.
    pub arn: String,
    /// `acl-...`.
    pub id: String,
    /// Its VPC.
    pub vpc: String,
    /// Whether it is the VPC's default (guarding subnets with no ACL of their
    /// own).
    pub default: bool,
    /// Subnets associated.
    pub subnets: Vec<String>,
    /// Entries, in rule number order.
    pub entries: Vec<AclEntry>,
}

/// Where a security group rule admits traffic from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// An address range.
    Cidr(IpNet),
    /// Members of another group (`sg-...`).
    Group(String),
}

/// An inbound security group rule.
#[derive(Debug, Clone)]
pub struct GroupRule {
    /// What it admits.
    pub ports: PortSet,
    /// From where.
    pub source: Source,
}

/// A security group.
#[derive(Debug, Clone)]
pub struct Group {
    /// The asset id.
    pub arn: String,
    /// `sg-...`.
    pub id: String,
    /// Inbound rules (security groups only allow).
    pub ingress: Vec<GroupRule>,
}

/// The network presence of an asset in one subnet: an interface of an
/// instance, an interface of its own, a database or a load balancer node.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The asset that is reached (an instance, an RDS instance, a load
    /// balancer, an interface).
    pub owner: String,
    /// Its type.
    pub owner_type: String,
    /// Its short name for paths (`i-...`, a database or load balancer name).
    pub owner_name: String,
    /// The interface (`eni-...`), when known.
    pub interface: Option<String>,
    /// The subnet.
    pub subnet: String,
    /// Its security groups.
    pub groups: Vec<String>,
    /// A public IPv4 address (or the DNS name of a public endpoint).
    pub public_ipv4: Option<String>,
    /// IPv6 addresses (all of them routable).
    pub ipv6: Vec<String>,
    /// What the service listens on, when only some ports mean anything
    /// (a database's port, a load balancer's listeners).
    pub listens: Option<PortSet>,
}

/// A load balancer's listener and where it forwards.
#[derive(Debug, Clone)]
pub struct Listener {
    /// The listener's asset id.
    pub arn: String,
    /// What it accepts.
    pub ports: PortSet,
    /// The target groups it forwards to.
    pub target_groups: Vec<String>,
}

/// A load balancer.
#[derive(Debug, Clone)]
pub struct Balancer {
    /// The asset id.
    pub arn: String,
    /// Its name.
    pub name: String,
    /// `internet-facing` gives it public addresses.
    pub internet_facing: bool,
    /// Its subnets.
    pub subnets: Vec<String>,
    /// Its security groups (none for most network load balancers).
    pub groups: Vec<String>,
    /// Its listeners.
    pub listeners: Vec<Listener>,
}

/// A target group's registered targets.
#[derive(Debug, Clone)]
pub struct TargetGroup {
    /// The asset id.
    pub arn: String,
    /// Its name.
    pub name: String,
    /// Each target's id (an instance id or an address) and port.
    pub targets: Vec<(String, u16)>,
}

/// The topology of a set of assets.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    /// Subnets by id.
    pub subnets: BTreeMap<String, Subnet>,
    /// Route tables.
    pub route_tables: Vec<RouteTable>,
    /// Internet gateways by id, with the VPCs they are attached to.
    pub gateways: BTreeMap<String, (String, Vec<String>)>,
    /// Network ACLs.
    pub acls: Vec<Acl>,
    /// Security groups by id.
    pub groups: BTreeMap<String, Group>,
    /// The network presence of instances, interfaces, databases and load
    /// balancers.
    pub endpoints: Vec<Endpoint>,
    /// Load balancers by ARN.
    pub balancers: BTreeMap<String, Balancer>,
    /// Target groups by ARN.
    pub target_groups: BTreeMap<String, TargetGroup>,
    /// Instance asset ids by instance id.
    pub instances: BTreeMap<String, String>,
    /// Lookups built once: the route table and network ACL of each subnet
    /// (its own), each VPC's main table and default ACL, and each owner's
    /// endpoints.
    index: Index,
}

#[derive(Debug, Clone, Default)]
struct Index {
    table_of_subnet: HashMap<String, usize>,
    main_table: HashMap<String, usize>,
    acl_of_subnet: HashMap<String, usize>,
    default_acl: HashMap<String, usize>,
    endpoints_of: HashMap<String, Vec<usize>>,
}

fn text<'a>(value: &'a Value, field: &str) -> Option<&'a str> {
    value
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn list<'a>(value: &'a Value, field: &str) -> impl Iterator<Item = &'a Value> {
    value
        .get(field)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn strings(value: &Value, field: &str) -> Vec<String> {
    list(value, field)
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn cidr(value: &Value, field: &str) -> Option<IpNet> {
    text(value, field).and_then(|c| c.parse().ok())
}

/// A group rule's protocol and ports (`IpProtocol`, `FromPort`, `ToPort`).
fn rule_ports(rule: &Value, protocol_field: &str) -> PortSet {
    PortSet::of_rule(
        text(rule, protocol_field).unwrap_or("-1"),
        rule.get("FromPort").and_then(Value::as_i64),
        rule.get("ToPort").and_then(Value::as_i64),
    )
}

impl Topology {
    /// Reads the topology from `assets`; assets of other types are ignored,
    /// and a document missing a field leaves that part out.
    pub fn build<'a>(assets: impl IntoIterator<Item = &'a Asset>) -> Topology {
        let mut t = Topology::default();
        let mut interfaces: Vec<&Asset> = Vec::new();
        let mut listeners: Vec<&Asset> = Vec::new();
        let mut databases: Vec<&Asset> = Vec::new();
        for asset in assets {
            let c = &asset.config;
            match asset.resource_type.as_str() {
                "AWS::EC2::Subnet" => {
                    if let (Some(id), Some(vpc)) = (text(c, "SubnetId"), text(c, "VpcId")) {
                        let mut cidrs: Vec<IpNet> = cidr(c, "CidrBlock").into_iter().collect();
                        cidrs.extend(
                            list(c, "Ipv6CidrBlocks")
                                .filter_map(|v| v.as_str()?.parse::<IpNet>().ok()),
                        );
                        t.subnets.insert(
                            id.to_owned(),
                            Subnet {
                                arn: asset.id.clone(),
                                id: id.to_owned(),
                                vpc: vpc.to_owned(),
                                cidrs,
                            },
                        );
                    }
                }
                "AWS::EC2::RouteTable" => t.route_tables.push(RouteTable {
                    arn: asset.id.clone(),
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
                            Some(Route {
                                destination,
                                target,
                                active: text(r, "State").is_none_or(|s| s == "active"),
                            })
                        })
                        .collect(),
                }),
                "AWS::EC2::InternetGateway" => {
                    if let Some(id) = text(c, "InternetGatewayId") {
                        let vpcs = list(c, "Attachments")
                            .filter(|a| {
                                text(a, "State").is_none_or(|s| s == "available" || s == "attached")
                            })
                            .filter_map(|a| text(a, "VpcId").map(str::to_owned))
                            .collect();
                        t.gateways.insert(id.to_owned(), (asset.id.clone(), vpcs));
                    }
                }
                "AWS::EC2::NetworkAcl" => {
                    let mut entries: Vec<AclEntry> = list(c, "Entries")
                        .filter_map(|e| {
                            Some(AclEntry {
                                number: e.get("RuleNumber")?.as_i64()?,
                                egress: e["Egress"] == true,
                                allow: text(e, "RuleAction") == Some("allow"),
                                cidr: cidr(e, "CidrBlock").or_else(|| cidr(e, "Ipv6CidrBlock"))?,
                                ports: rule_ports(e, "Protocol"),
                            })
                        })
                        .collect();
                    entries.sort_by_key(|e| e.number);
                    t.acls.push(Acl {
                        arn: asset.id.clone(),
                        id: text(c, "NetworkAclId").unwrap_or(&asset.name).to_owned(),
                        vpc: text(c, "VpcId").unwrap_or_default().to_owned(),
                        default: c["IsDefault"] == true,
                        subnets: strings(c, "SubnetIds"),
                        entries,
                    });
                }
                "AWS::EC2::SecurityGroup" => {
                    if let Some(id) = text(c, "GroupId") {
                        let ingress = list(c, "IpPermissions")
                            .flat_map(|p| {
                                let ports = rule_ports(p, "IpProtocol");
                                let cidrs = list(p, "IpRanges")
                                    .filter_map(|r| cidr(r, "CidrIp"))
                                    .chain(
                                        list(p, "Ipv6Ranges").filter_map(|r| cidr(r, "CidrIpv6")),
                                    )
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
                                id: id.to_owned(),
                                ingress,
                            },
                        );
                    }
                }
                "AWS::EC2::Instance" => {
                    if let Some(id) = text(c, "InstanceId") {
                        t.instances.insert(id.to_owned(), asset.id.clone());
                        // Only a running instance answers.
                        if text(c, "State").is_none_or(|s| s == "running") {
                            for n in list(c, "NetworkInterfaces") {
                                t.endpoints.push(Endpoint {
                                    owner: asset.id.clone(),
                                    owner_type: asset.resource_type.as_str().to_owned(),
                                    owner_name: id.to_owned(),
                                    interface: text(n, "NetworkInterfaceId").map(str::to_owned),
                                    subnet: text(n, "SubnetId").unwrap_or_default().to_owned(),
                                    groups: strings(n, "Groups"),
                                    public_ipv4: text(n, "PublicIp").map(str::to_owned),
                                    ipv6: strings(n, "Ipv6Addresses"),
                                    listens: None,
                                });
                            }
                        }
                    }
                }
                "AWS::EC2::NetworkInterface" => interfaces.push(asset),
                "AWS::RDS::DBInstance" => databases.push(asset),
                // In a VPC but with no public address of their own: in the
                // graph, never reached directly (an EKS cluster's public
                // endpoint is AWS's, listed among public grants).
                "AWS::Lambda::Function"
                | "AWS::OpenSearchService::Domain"
                | "AWS::EKS::Cluster" => {
                    let (network, subnets, groups) = match asset.resource_type.as_str() {
                        "AWS::Lambda::Function" => ("VpcConfig", "SubnetIds", "SecurityGroupIds"),
                        "AWS::OpenSearchService::Domain" => {
                            ("VPCOptions", "SubnetIds", "SecurityGroupIds")
                        }
                        _ => ("ResourcesVpcConfig", "SubnetIds", "SecurityGroupIds"),
                    };
                    let network = &c[network];
                    for subnet in strings(network, subnets) {
                        t.endpoints.push(Endpoint {
                            owner: asset.id.clone(),
                            owner_type: asset.resource_type.as_str().to_owned(),
                            owner_name: asset.name.clone(),
                            interface: None,
                            subnet,
                            groups: strings(network, groups),
                            public_ipv4: None,
                            ipv6: Vec::new(),
                            listens: None,
                        });
                    }
                }
                "AWS::ElasticLoadBalancingV2::LoadBalancer" => {
                    t.balancers.insert(
                        asset.id.clone(),
                        Balancer {
                            arn: asset.id.clone(),
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
                "AWS::ElasticLoadBalancingV2::Listener" => listeners.push(asset),
                "AWS::ElasticLoadBalancingV2::TargetGroup" => {
                    let default_port = c.get("Port").and_then(Value::as_u64);
                    t.target_groups.insert(
                        asset.id.clone(),
                        TargetGroup {
                            arn: asset.id.clone(),
                            name: text(c, "TargetGroupName").unwrap_or(&asset.name).to_owned(),
                            targets: list(c, "Targets")
                                .filter_map(|target| {
                                    let port = target
                                        .get("Port")
                                        .and_then(Value::as_u64)
                                        .or(default_port)?;
                                    Some((
                                        text(target, "Id")?.to_owned(),
                                        u16::try_from(port).ok()?,
                                    ))
                                })
                                .collect(),
                        },
                    );
                }
                _ => {}
            }
        }
        for listener in listeners {
            let c = &listener.config;
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
                    arn: listener.id.clone(),
                    ports: PortSet::of_rule(protocol, Some(i64::from(port)), Some(i64::from(port))),
                    target_groups: list(c, "DefaultActions")
                        .filter_map(|a| text(a, "TargetGroupArn").map(str::to_owned))
                        .collect(),
                });
            }
        }
        // Interfaces of their own: not an instance's (listed with it) and
        // not made by a service for its resource (databases and load
        // balancers are read from their own documents).
        for asset in interfaces {
            let c = &asset.config;
            let attached = c["Attachment"]["InstanceId"]
                .as_str()
                .is_some_and(|i| !i.is_empty());
            if attached || c["RequesterManaged"] == true {
                continue;
            }
            let id = text(c, "NetworkInterfaceId")
                .unwrap_or(&asset.name)
                .to_owned();
            t.endpoints.push(Endpoint {
                owner: asset.id.clone(),
                owner_type: asset.resource_type.as_str().to_owned(),
                owner_name: id.clone(),
                interface: Some(id),
                subnet: text(c, "SubnetId").unwrap_or_default().to_owned(),
                groups: list(c, "Groups")
                    .filter_map(|g| text(g, "GroupId").map(str::to_owned))
                    .collect(),
                public_ipv4: text(c, "PublicIp").map(str::to_owned),
                ipv6: strings(c, "Ipv6Addresses"),
                listens: None,
            });
        }
        for asset in databases {
            let c = &asset.config;
            let port = c["Endpoint"]["Port"].as_i64();
            let public = c["PubliclyAccessible"] == true;
            for subnet in strings(c, "SubnetIds") {
                t.endpoints.push(Endpoint {
                    owner: asset.id.clone(),
                    owner_type: asset.resource_type.as_str().to_owned(),
                    owner_name: text(c, "DBInstanceIdentifier")
                        .unwrap_or(&asset.name)
                        .to_owned(),
                    interface: None,
                    subnet,
                    groups: strings(c, "VpcSecurityGroups"),
                    public_ipv4: public.then(|| {
                        text(&c["Endpoint"], "Address")
                            .unwrap_or("public endpoint")
                            .to_owned()
                    }),
                    ipv6: Vec::new(),
                    listens: Some(port.map_or_else(PortSet::empty, |p| {
                        PortSet::of_rule("tcp", Some(p), Some(p))
                    })),
                });
            }
        }
        let balancer_endpoints: Vec<Endpoint> = t
            .balancers
            .values()
            .flat_map(|b| {
                let listens = b
                    .listeners
                    .iter()
                    .fold(PortSet::empty(), |all, l| all.union(&l.ports));
                b.subnets.iter().map(move |subnet| Endpoint {
                    owner: b.arn.clone(),
                    owner_type: "AWS::ElasticLoadBalancingV2::LoadBalancer".to_owned(),
                    owner_name: b.name.clone(),
                    interface: None,
                    subnet: subnet.clone(),
                    groups: b.groups.clone(),
                    public_ipv4: b.internet_facing.then(|| b.name.clone()),
                    ipv6: Vec::new(),
                    listens: Some(listens.clone()),
                })
            })
            .collect();
        t.endpoints.extend(balancer_endpoints);
        t.index = t.make_index();
        t
    }

    fn make_index(&self) -> Index {
        let mut index = Index::default();
        for (i, table) in self.route_tables.iter().enumerate() {
            for subnet in &table.subnets {
                index.table_of_subnet.entry(subnet.clone()).or_insert(i);
            }
            if table.main {
                index.main_table.entry(table.vpc.clone()).or_insert(i);
            }
        }
        for (i, acl) in self.acls.iter().enumerate() {
            for subnet in &acl.subnets {
                index.acl_of_subnet.entry(subnet.clone()).or_insert(i);
            }
            if acl.default {
                index.default_acl.entry(acl.vpc.clone()).or_insert(i);
            }
        }
        for (i, endpoint) in self.endpoints.iter().enumerate() {
            index
                .endpoints_of
                .entry(endpoint.owner.clone())
                .or_default()
                .push(i);
        }
        index
    }

    /// The endpoints of the asset `owner`.
    pub fn endpoints_of(&self, owner: &str) -> impl Iterator<Item = &Endpoint> {
        self.index
            .endpoints_of
            .get(owner)
            .into_iter()
            .flatten()
            .map(|i| &self.endpoints[*i])
    }

    /// The route table serving `subnet`: its own, or its VPC's main table.
    pub fn route_table(&self, subnet: &Subnet) -> Option<&RouteTable> {
        self.index
            .table_of_subnet
            .get(&subnet.id)
            .or_else(|| self.index.main_table.get(&subnet.vpc))
            .map(|i| &self.route_tables[*i])
    }

    /// The network ACL guarding `subnet`: its own, or its VPC's default.
    pub fn acl(&self, subnet: &Subnet) -> Option<&Acl> {
        self.index
            .acl_of_subnet
            .get(&subnet.id)
            .or_else(|| self.index.default_acl.get(&subnet.vpc))
            .map(|i| &self.acls[*i])
    }
}
