//! The network topology of an estate in terms of no provider: networks,
//! subnets, route tables and their routes, internet gateways, stateless
//! subnet rules (network ACLs) and stateful firewalls (security groups), the
//! network presence of endpoints (instances, interfaces, databases, load
//! balancers), public addresses, and what load balancers forward to. Each
//! provider's adapter ([`crate::adapter`]) reads its assets into it.

use crate::ports::PortSet;
use ipnet::IpNet;
use parapet_core::Asset;
use std::collections::{BTreeMap, HashMap};

/// A subnet.
#[derive(Debug, Clone)]
pub struct Subnet {
    /// The asset id (ARN).
    pub arn: String,
    /// Its resource type.
    pub kind: String,
    /// `subnet-...` (on Azure, the subnet's resource id, lowercase).
    pub id: String,
    /// What a path or a drawing calls it (`subnet-...`, `posture/web`).
    pub name: String,
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
    /// Its resource type.
    pub kind: String,
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

/// What a route leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A gateway to the internet.
    Internet,
    /// A NAT gateway (out only).
    Nat,
    /// A peering with another network.
    Peering,
    /// A transit gateway between networks.
    Transit,
    /// An interface (an appliance).
    Interface,
    /// The network itself.
    Local,
    /// Anything else.
    Other,
}

/// One route.
#[derive(Debug, Clone)]
pub struct Route {
    /// Where it leads.
    pub destination: IpNet,
    /// The target's id (`igw-...` on AWS), or `local`.
    pub target: String,
    /// What the target is.
    pub via: Via,
    /// The target's resource type, when the provider names one.
    pub target_kind: Option<String>,
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
    /// What a path says of it, where its number alone does not name it
    /// (a firewall rule's name and priority).
    pub label: Option<String>,
}

/// A network ACL and the subnets it guards.
#[derive(Debug, Clone)]
pub struct Acl {
    /// The asset id.
    pub arn: String,
    /// Its resource type.
    pub kind: String,
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
    /// Its resource type.
    pub kind: String,
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
    /// The interface's resource type.
    pub interface_kind: String,
    /// The subnet.
    pub subnet: String,
    /// Its security groups.
    pub groups: Vec<String>,
    /// The ordered rules of the interface itself (its [`Acl`]'s `arn`):
    /// Azure's network security group on a network interface, which must
    /// allow what the subnet's allows.
    pub acl: Option<String>,
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
    /// Its resource type.
    pub kind: String,
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
    /// Its resource type.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Each target's id (an instance id or an address) and port.
    pub targets: Vec<(String, u16)>,
}

/// An internet gateway and the networks it is attached to.
#[derive(Debug, Clone)]
pub struct Gateway {
    /// The asset id.
    pub arn: String,
    /// Its resource type.
    pub kind: String,
    /// The networks it is attached to.
    pub vpcs: Vec<String>,
}

/// A public address of its own, associated with an interface.
#[derive(Debug, Clone)]
pub struct Address {
    /// The asset id.
    pub arn: String,
    /// Its resource type.
    pub kind: String,
    /// The address.
    pub ip: String,
    /// The interface it is associated with.
    pub interface: String,
}

/// The topology of a set of assets.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    /// Subnets by id.
    pub subnets: BTreeMap<String, Subnet>,
    /// Route tables.
    pub route_tables: Vec<RouteTable>,
    /// Internet gateways by id.
    pub gateways: BTreeMap<String, Gateway>,
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
    /// Public addresses of their own.
    pub addresses: Vec<Address>,
    /// Lookups built once: the route table and network ACL of each subnet
    /// (its own), each VPC's main table and default ACL, and each owner's
    /// endpoints.
    pub(crate) index: Index,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Index {
    table_of_subnet: HashMap<String, usize>,
    main_table: HashMap<String, usize>,
    acl_of_subnet: HashMap<String, usize>,
    acl_by_arn: HashMap<String, usize>,
    default_acl: HashMap<String, usize>,
    endpoints_of: HashMap<String, Vec<usize>>,
}

impl Topology {
    /// Reads the topology from `assets`, each through the adapter of its
    /// provider; assets of other types are ignored, and a document missing
    /// a field leaves that part out.
    pub fn build<'a>(assets: impl IntoIterator<Item = &'a Asset>) -> Topology {
        let mut t = Topology::default();
        let assets: Vec<&Asset> = assets.into_iter().collect();
        for adapter in crate::adapter::ADAPTERS {
            let own: Vec<&Asset> = assets
                .iter()
                .copied()
                .filter(|a| a.provider == adapter.provider())
                .collect();
            if !own.is_empty() {
                adapter.read(&own, &mut t);
            }
        }
        t.index = t.make_index();
        t
    }

    pub(crate) fn make_index(&self) -> Index {
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
            index.acl_by_arn.entry(acl.arn.clone()).or_insert(i);
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

    /// The ordered rules of `endpoint`'s interface, when it has its own.
    pub fn interface_acl(&self, endpoint: &Endpoint) -> Option<&Acl> {
        endpoint
            .acl
            .as_ref()
            .and_then(|arn| self.index.acl_by_arn.get(arn))
            .map(|i| &self.acls[*i])
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
