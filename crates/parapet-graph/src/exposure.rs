//! Internet exposure: for every asset with a network presence, the
//! protocols and ports the internet reaches, evaluated hop by hop (a public
//! address, a route to an attached internet gateway in the subnet's route
//! table, the network ACL's inbound rules in order and its outbound rules
//! for the answer, the interface's own ordered rules where it has them,
//! the security groups), IPv4 and IPv6, and through
//! internet-facing load balancers to their targets. Each exposure carries
//! the path that explains it.

use crate::ports::{PortSet, Protocol, describe};
use crate::topology::{Acl, Balancer, Endpoint, Source, Subnet, Topology, Via};
use ipnet::IpNet;
use parapet_core::{ExposureFact, ExposureFacts};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One step of an exposure's path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hop {
    /// The asset (its id), or `internet`.
    pub id: String,
    /// What a person reads: `rtb-2 (0.0.0.0/0)`, `acl-4 rule 100 allow`.
    pub label: String,
}

/// One protocol and port range of an asset that the internet reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exposure {
    /// The asset reached.
    pub asset_id: String,
    /// Its type.
    pub resource_type: String,
    /// `ipv4` or `ipv6`.
    pub family: &'static str,
    /// The public address (or DNS name) reached.
    pub address: String,
    /// The protocol.
    pub protocol: Protocol,
    /// The first port of the range.
    pub from_port: u16,
    /// The last port of the range.
    pub to_port: u16,
    /// The internet addresses it is reachable from.
    pub source: String,
    /// Whether that is the whole internet (`0.0.0.0/0` or `::/0`).
    pub from_anywhere: bool,
    /// The load balancer in front, when reached through one.
    pub via: Option<String>,
    /// From the internet to the asset.
    pub path: Vec<Hop>,
}

impl Exposure {
    /// `tcp/22`, `tcp/1024-65535`.
    pub fn ports(&self) -> String {
        describe(self.protocol, (self.from_port, self.to_port))
    }

    /// Whether it admits `port` of `protocol`.
    pub fn includes(&self, protocol: Protocol, port: u16) -> bool {
        self.protocol == protocol && self.from_port <= port && port <= self.to_port
    }

    /// The path as one line: `internet → igw-1 → ... → i-7`.
    pub fn path_text(&self) -> String {
        self.path
            .iter()
            .map(|h| h.label.as_str())
            .collect::<Vec<_>>()
            .join(" → ")
    }
}

/// Address space the internet cannot send from.
const NOT_INTERNET: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
];

static NOT_INTERNET_NETS: std::sync::LazyLock<Vec<IpNet>> = std::sync::LazyLock::new(|| {
    NOT_INTERNET
        .iter()
        .filter_map(|n| n.parse::<IpNet>().ok())
        .collect()
});

fn from_internet(net: &IpNet) -> bool {
    !NOT_INTERNET_NETS
        .iter()
        .any(|private| private.contains(net))
}

/// The smaller of two ranges when one holds the other.
fn narrower(a: &IpNet, b: &IpNet) -> Option<IpNet> {
    if a.contains(b) {
        Some(*b)
    } else if b.contains(a) {
        Some(*a)
    } else {
        None
    }
}

/// What a path calls an endpoint's interface: its id, or the last part of
/// a long resource id (Azure's).
fn interface_label(interface: &str) -> String {
    interface.rsplit('/').next().unwrap_or(interface).to_owned()
}

fn hop(id: &str, label: impl Into<String>) -> Hop {
    Hop {
        id: id.to_owned(),
        label: label.into(),
    }
}

/// The ports of `wanted` that `acl` lets through for `peer` in one
/// direction, each with the rule number that allowed it (first match in
/// rule order). No ACL known: everything, with no rule.
fn acl_allows(
    acl: Option<&Acl>,
    egress: bool,
    peer: &IpNet,
    wanted: &PortSet,
) -> Vec<(Option<i64>, PortSet)> {
    let Some(acl) = acl else {
        return vec![(None, wanted.clone())];
    };
    let mut undecided = wanted.clone();
    let mut allowed = Vec::new();
    for entry in acl
        .entries
        .iter()
        .filter(|e| e.egress == egress && e.cidr.contains(peer))
    {
        let matched = undecided.intersect(&entry.ports);
        if matched.is_empty() {
            continue;
        }
        undecided = undecided.minus(&matched);
        if entry.allow {
            allowed.push((Some(entry.number), matched));
        }
        if undecided.is_empty() {
            break;
        }
    }
    allowed
}

/// What a path says of the rule numbered `number` of `acl` that allowed
/// the traffic: `acl-4 rule 100 allow`, or its label where it has one
/// (`firewall of web-1: allow-ssh (priority 1000) allow`).
fn rule_text(acl: &Acl, number: i64) -> String {
    match acl
        .entries
        .iter()
        .find(|e| e.number == number)
        .and_then(|e| e.label.as_deref())
    {
        Some(label) => format!("{}: {label} allow", acl.id),
        None => format!("{} rule {number} allow", acl.id),
    }
}

/// Whether `acl` lets the answers to `peer` out: some ephemeral port of the
/// protocol is allowed outbound.
fn answers_leave(acl: Option<&Acl>, peer: &IpNet, protocol: Protocol) -> bool {
    let ephemeral = PortSet::single(protocol, 1024, u16::MAX);
    let wanted = if protocol == Protocol::Icmp {
        PortSet::single(Protocol::Icmp, 0, u16::MAX)
    } else {
        ephemeral
    };
    !acl_allows(acl, true, peer, &wanted).is_empty()
}

/// Computes every exposure of the topology.
pub fn exposures(t: &Topology) -> Vec<Exposure> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for endpoint in &t.endpoints {
        let Some(subnet) = t.subnets.get(&endpoint.subnet) else {
            continue;
        };
        for found in reach(t, endpoint, subnet) {
            let balancer = t.balancers.get(&found.asset_id);
            let behind = balancer.map(|b| through(t, b, &found)).unwrap_or_default();
            for e in std::iter::once(found).chain(behind) {
                let key = (
                    e.asset_id.clone(),
                    e.family,
                    e.protocol,
                    e.from_port,
                    e.to_port,
                    e.source.clone(),
                    e.via.clone(),
                );
                if seen.insert(key) {
                    out.push(e);
                }
            }
        }
    }
    out
}

impl Exposure {
    /// The exposure as rules read it in `exposure`.
    pub fn fact(&self) -> ExposureFact {
        ExposureFact {
            protocol: self.protocol.as_str().to_owned(),
            from_port: self.from_port,
            to_port: self.to_port,
            family: self.family.to_owned(),
            address: self.address.clone(),
            source: self.source.clone(),
            from_anywhere: self.from_anywhere,
            via: self.via.clone(),
            path: self.path_text(),
        }
    }
}

/// What the internet reaches of every asset of the topology, as rules read
/// it, with the assets whose exposure could not be decided.
pub fn facts(t: &Topology) -> ExposureFacts {
    let mut facts = ExposureFacts::default();
    for exposure in exposures(t) {
        let fact = exposure.fact();
        facts
            .exposed
            .entry(exposure.asset_id)
            .or_default()
            .push(fact);
    }
    facts.undecided = undecided(t).into_iter().collect();
    facts
}

/// The assets whose exposure cannot be decided from the topology, with why:
/// an endpoint's subnet, its route table or one of its security groups is
/// not among the assets (not collected, or its collection failed).
pub fn undecided(t: &Topology) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for endpoint in &t.endpoints {
        let reason = match t.subnets.get(&endpoint.subnet) {
            None => Some(format!("subnet {} is not known", endpoint.subnet)),
            Some(subnet) if t.route_table(subnet).is_none() => {
                Some(format!("no route table is known for {}", subnet.id))
            }
            Some(_) => match &endpoint.acl {
                Some(acl) if t.interface_acl(endpoint).is_none() => {
                    Some(format!("network security group {acl} is not known"))
                }
                _ => endpoint
                    .groups
                    .iter()
                    .find(|g| !t.groups.contains_key(*g))
                    .map(|g| format!("security group {g} is not known")),
            },
        };
        if let Some(reason) = reason {
            out.entry(endpoint.owner.clone()).or_insert(reason);
        }
    }
    out
}

/// What the internet reaches of one endpoint directly.
fn reach(t: &Topology, endpoint: &Endpoint, subnet: &Subnet) -> Vec<Exposure> {
    let mut out = Vec::new();
    let Some(table) = t.route_table(subnet) else {
        return out;
    };
    let acl = t.acl(subnet);
    let own = t.interface_acl(endpoint);
    let families: [(&'static str, Option<&String>); 2] = [
        ("ipv4", endpoint.public_ipv4.as_ref()),
        ("ipv6", endpoint.ipv6.first()),
    ];
    for (family, address) in families {
        let Some(address) = address else { continue };
        let v6 = family == "ipv6";
        for route in table.routes.iter().filter(|r| {
            r.active && r.via == Via::Internet && matches!(r.destination, IpNet::V6(_)) == v6
        }) {
            // A gateway known to be detached from the VPC carries nothing.
            if t.gateways
                .get(&route.target)
                .is_some_and(|g| !g.vpcs.contains(&subnet.vpc))
            {
                continue;
            }
            let gateway_id = t
                .gateways
                .get(&route.target)
                .map_or(route.target.as_str(), |g| g.arn.as_str());
            // Where the groups admit traffic from, within what the route
            // answers; no group (a network load balancer) admits everything.
            let mut admitted: Vec<(Option<&str>, IpNet, PortSet)> = Vec::new();
            if endpoint.groups.is_empty() {
                // Without groups, the ordered rules decide: the whole
                // internet, and each narrower internet range they allow.
                admitted.push((None, route.destination, PortSet::all()));
                let allowing = [acl, own]
                    .into_iter()
                    .flatten()
                    .flat_map(|a| &a.entries)
                    .filter(|e| !e.egress && e.allow);
                for entry in allowing {
                    if let Some(source) = narrower(&route.destination, &entry.cidr)
                        && source != route.destination
                        && from_internet(&source)
                    {
                        admitted.push((None, source, PortSet::all()));
                    }
                }
            }
            for group in endpoint.groups.iter().filter_map(|g| t.groups.get(g)) {
                for rule in &group.ingress {
                    if let Source::Cidr(cidr) = &rule.source
                        && let Some(source) = narrower(&route.destination, cidr)
                        && from_internet(&source)
                    {
                        admitted.push((Some(group.id.as_str()), source, rule.ports.clone()));
                    }
                }
            }
            for (group, source, ports) in admitted {
                let wanted = match &endpoint.listens {
                    Some(listens) => ports.intersect(listens),
                    None => ports,
                };
                let through_subnet = acl_allows(acl, false, &source, &wanted);
                let through_both = through_subnet.into_iter().flat_map(|(rule, allowed)| {
                    acl_allows(own, false, &source, &allowed)
                        .into_iter()
                        .map(move |(own_rule, allowed)| (rule, own_rule, allowed))
                });
                for (rule, own_rule, allowed) in through_both {
                    for (protocol, range) in allowed.ranges() {
                        if !answers_leave(acl, &source, protocol)
                            || !answers_leave(own, &source, protocol)
                        {
                            continue;
                        }
                        let mut path = vec![
                            hop("internet", "internet"),
                            hop(gateway_id, route.target.clone()),
                            hop(&table.arn, format!("{} ({})", table.id, route.destination)),
                            hop(&subnet.arn, subnet.name.clone()),
                        ];
                        if let (Some(acl), Some(number)) = (acl, rule) {
                            path.push(hop(&acl.arn, rule_text(acl, number)));
                        }
                        if let Some(interface) = &endpoint.interface {
                            path.push(hop(interface, interface_label(interface)));
                        }
                        if let (Some(own), Some(number)) = (own, own_rule) {
                            path.push(hop(&own.arn, rule_text(own, number)));
                        }
                        if let Some(group) = group.and_then(|g| t.groups.get(g)) {
                            path.push(hop(
                                &group.arn,
                                format!("{} {} from {source}", group.id, describe(protocol, range)),
                            ));
                        }
                        path.push(hop(&endpoint.owner, endpoint.owner_name.clone()));
                        out.push(Exposure {
                            asset_id: endpoint.owner.clone(),
                            resource_type: endpoint.owner_type.clone(),
                            family,
                            address: address.clone(),
                            protocol,
                            from_port: range.0,
                            to_port: range.1,
                            source: source.to_string(),
                            from_anywhere: source.prefix_len() == 0,
                            via: None,
                            path,
                        });
                    }
                }
            }
        }
    }
    out
}

/// What an exposed load balancer exposes of its targets: each registered
/// instance on its target port, where the target's network ACL and groups
/// let the load balancer in.
fn through(t: &Topology, balancer: &Balancer, front: &Exposure) -> Vec<Exposure> {
    let mut out = Vec::new();
    // Where the targets see traffic from: the load balancer's subnets (or,
    // for a load balancer without groups, which keeps the client's address,
    // the internet source itself).
    let peers: Vec<IpNet> = if balancer.groups.is_empty() {
        front.source.parse().into_iter().collect()
    } else {
        balancer
            .subnets
            .iter()
            .filter_map(|s| t.subnets.get(s))
            .flat_map(|s| s.cidrs.iter().copied())
            .collect()
    };
    for listener in balancer.listeners.iter().filter(|l| {
        l.ports
            .ranges()
            .any(|(p, (a, b))| p == front.protocol && a <= front.to_port && front.from_port <= b)
    }) {
        for group in listener
            .target_groups
            .iter()
            .filter_map(|g| t.target_groups.get(g))
        {
            for (target, port) in &group.targets {
                let Some(owner) = t.instances.get(target) else {
                    continue;
                };
                for endpoint in t.endpoints_of(owner) {
                    let Some(subnet) = t.subnets.get(&endpoint.subnet) else {
                        continue;
                    };
                    let wanted = PortSet::single(front.protocol, *port, *port);
                    let acl = t.acl(subnet);
                    let Some((peer, rule)) = peers.iter().find_map(|peer| {
                        let allowed = acl_allows(acl, false, peer, &wanted);
                        allowed.first().map(|(rule, _)| (*peer, *rule))
                    }) else {
                        continue;
                    };
                    let own = t.interface_acl(endpoint);
                    let Some(own_rule) = acl_allows(own, false, &peer, &wanted)
                        .first()
                        .map(|(rule, _)| *rule)
                    else {
                        continue;
                    };
                    let Some((group_hop, admits)) =
                        admitted_from(t, endpoint, balancer, &peer, &wanted)
                    else {
                        continue;
                    };
                    let mut path = front.path.clone();
                    path.push(hop(
                        &listener.arn,
                        format!("{} {}", balancer.name, front.ports()),
                    ));
                    path.push(hop(&group.arn, group.name.clone()));
                    path.push(hop(&subnet.arn, subnet.name.clone()));
                    if let (Some(acl), Some(number)) = (acl, rule) {
                        path.push(hop(&acl.arn, rule_text(acl, number)));
                    }
                    if let Some(interface) = &endpoint.interface {
                        path.push(hop(interface, interface_label(interface)));
                    }
                    if let (Some(own), Some(number)) = (own, own_rule) {
                        path.push(hop(&own.arn, rule_text(own, number)));
                    }
                    path.extend(group_hop);
                    path.push(hop(&endpoint.owner, endpoint.owner_name.clone()));
                    out.push(Exposure {
                        asset_id: endpoint.owner.clone(),
                        resource_type: endpoint.owner_type.clone(),
                        family: front.family,
                        address: front.address.clone(),
                        protocol: front.protocol,
                        from_port: admits.0,
                        to_port: admits.1,
                        source: front.source.clone(),
                        from_anywhere: front.from_anywhere,
                        via: Some(balancer.arn.clone()),
                        path,
                    });
                }
            }
        }
    }
    out
}

/// The group rule of `endpoint` that admits `wanted` from the load
/// balancer (its groups, or `peer`'s addresses), as a path hop and the
/// ports it admits; an endpoint without groups (guarded by ordered rules
/// alone, as on Azure) admits all of `wanted`.
fn admitted_from(
    t: &Topology,
    endpoint: &Endpoint,
    balancer: &Balancer,
    peer: &IpNet,
    wanted: &PortSet,
) -> Option<(Option<Hop>, (u16, u16))> {
    if endpoint.groups.is_empty() {
        return wanted.ranges().next().map(|(_, range)| (None, range));
    }
    for group in endpoint.groups.iter().filter_map(|g| t.groups.get(g)) {
        for rule in &group.ingress {
            let from = match &rule.source {
                Source::Group(g) if balancer.groups.contains(g) => g.clone(),
                Source::Cidr(c) if c.contains(peer) => c.to_string(),
                _ => continue,
            };
            let both = rule.ports.intersect(wanted);
            if let Some((protocol, range)) = both.ranges().next() {
                let label = format!("{} {} from {from}", group.id, describe(protocol, range));
                return Some((Some(hop(&group.arn, label)), range));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use parapet_core::Asset;
    use serde_json::json;

    fn exposed(assets: &[Asset]) -> Vec<Exposure> {
        exposures(&Topology::build(assets))
    }

    fn of<'a>(found: &'a [Exposure], asset: &str) -> Vec<&'a Exposure> {
        found
            .iter()
            .filter(|e| e.asset_id == format!("arn:{asset}"))
            .collect()
    }

    #[test]
    fn an_open_group_in_a_public_subnet_is_exposed_with_its_path() {
        let mut assets = network();
        assets.push(group("sg-ssh", json!([tcp_from(22, "0.0.0.0/0")])));
        assets.push(public_instance("sg-ssh"));
        let found = exposed(&assets);
        let web = of(&found, "i-web");
        assert_eq!(web.len(), 1, "{found:#?}");
        assert!(web[0].includes(Protocol::Tcp, 22) && web[0].from_anywhere);
        assert_eq!(web[0].address, "198.51.100.7");
        assert_eq!(
            web[0].path_text(),
            "internet → igw-1 → rtb-pub (0.0.0.0/0) → subnet-pub → acl-default rule 100 allow → eni-1 → sg-ssh tcp/22 from 0.0.0.0/0 → i-web"
        );
    }

    #[test]
    fn the_same_group_in_a_private_subnet_behind_a_nat_gateway_is_not_exposed() {
        let mut assets = network();
        assets.push(group("sg-ssh", json!([tcp_from(22, "0.0.0.0/0")])));
        assets.push(instance(
            "i-app",
            json!([nic(
                "eni-1",
                "subnet-priv",
                Some("198.51.100.7"),
                &["sg-ssh"]
            )]),
        ));
        assert!(exposed(&assets).is_empty());
    }

    #[test]
    fn a_network_acl_deny_ahead_of_the_allow_closes_the_port() {
        let mut assets = network();
        let acl = assets
            .iter_mut()
            .find(|a| a.name == "acl-default")
            .expect("acl");
        acl.config["Entries"]
            .as_array_mut()
            .expect("entries")
            .push(json!({
            "RuleNumber": 90, "Protocol": "tcp", "RuleAction": "deny", "Egress": false,
            "CidrBlock": "0.0.0.0/0", "Ipv6CidrBlock": null, "FromPort": 22, "ToPort": 22}));
        assets.push(group(
            "sg-web",
            json!([tcp_from(22, "0.0.0.0/0"), tcp_from(443, "0.0.0.0/0")]),
        ));
        assets.push(public_instance("sg-web"));
        let found = exposed(&assets);
        let web = of(&found, "i-web");
        assert!(
            !web.iter().any(|e| e.includes(Protocol::Tcp, 22)),
            "{web:#?}"
        );
        assert!(web.iter().any(|e| e.includes(Protocol::Tcp, 443)));
    }

    #[test]
    fn answers_the_network_acl_keeps_in_mean_no_exposure() {
        let mut assets = network();
        let acl = assets
            .iter_mut()
            .find(|a| a.name == "acl-default")
            .expect("acl");
        acl.config["Entries"]
            .as_array_mut()
            .expect("entries")
            .retain(|e| e["Egress"] == false);
        assets.push(group("sg-web", json!([tcp_from(443, "0.0.0.0/0")])));
        assets.push(public_instance("sg-web"));
        assert!(exposed(&assets).is_empty());
    }

    #[test]
    fn a_route_to_the_gateway_without_a_public_address_exposes_nothing() {
        let mut assets = network();
        assets.push(group("sg-ssh", json!([tcp_from(22, "0.0.0.0/0")])));
        assets.push(instance(
            "i-web",
            json!([nic("eni-1", "subnet-pub", None, &["sg-ssh"])]),
        ));
        assert!(exposed(&assets).is_empty());
    }

    #[test]
    fn a_detached_gateway_carries_nothing() {
        let mut assets = network();
        let igw = assets.iter_mut().find(|a| a.name == "igw-1").expect("igw");
        igw.config["Attachments"] = json!([]);
        assets.push(group("sg-ssh", json!([tcp_from(22, "0.0.0.0/0")])));
        assets.push(public_instance("sg-ssh"));
        assert!(exposed(&assets).is_empty());
    }

    #[test]
    fn a_private_instance_behind_an_internet_facing_load_balancer_is_exposed_on_its_port() {
        let assets = behind_balancer();
        let found = exposed(&assets);
        let alb = of(&found, "alb");
        assert_eq!(alb.len(), 1, "{found:#?}");
        assert!(alb[0].includes(Protocol::Tcp, 443));
        let app = of(&found, "i-app");
        assert_eq!(app.len(), 1, "{found:#?}");
        assert!(app[0].includes(Protocol::Tcp, 8080) && !app[0].includes(Protocol::Tcp, 443));
        assert_eq!(app[0].via.as_deref(), Some("arn:alb"));
        assert_eq!(
            app[0].path_text(),
            "internet → igw-1 → rtb-pub (0.0.0.0/0) → subnet-pub → acl-default rule 100 allow → sg-alb tcp/443 from 0.0.0.0/0 → alb → alb tcp/443 → tg → subnet-priv → acl-default rule 100 allow → eni-app → sg-app tcp/8080 from sg-alb → i-app"
        );
    }

    #[test]
    fn ipv6_only_exposure_is_found_on_ipv6_alone() {
        let mut assets = network();
        assets.push(group("sg-v6", json!([tcp_from(443, "::/0")])));
        let mut interface = nic("eni-6", "subnet-pub", None, &["sg-v6"]);
        interface["Ipv6Addresses"] = json!(["2001:db8:0:1::10"]);
        assets.push(instance("i-v6", json!([interface])));
        let found = exposed(&assets);
        let v6 = of(&found, "i-v6");
        assert_eq!(v6.len(), 1, "{found:#?}");
        assert_eq!(
            (v6[0].family, v6[0].address.as_str()),
            ("ipv6", "2001:db8:0:1::10")
        );
        assert!(
            v6[0].path_text().contains("rtb-pub (::/0)"),
            "{}",
            v6[0].path_text()
        );
    }

    #[test]
    fn a_group_admitting_only_another_group_is_not_internet_exposed() {
        let mut assets = network();
        assets.push(group("sg-web", json!([tcp_from(443, "0.0.0.0/0")])));
        assets.push(group(
            "sg-db",
            json!([{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
            "IpRanges": [], "Ipv6Ranges": [], "UserIdGroupPairs": [{"GroupId": "sg-web"}]}]),
        ));
        assets.push(public_instance("sg-web"));
        assets.push(instance(
            "i-db",
            json!([nic("eni-2", "subnet-pub", Some("198.51.100.8"), &["sg-db"])]),
        ));
        let found = exposed(&assets);
        assert_eq!(of(&found, "i-web").len(), 1);
        assert!(of(&found, "i-db").is_empty(), "{found:#?}");
    }

    #[test]
    fn each_interface_of_an_instance_is_judged_in_its_own_subnet() {
        let mut assets = network();
        assets.push(group("sg-ssh", json!([tcp_from(22, "0.0.0.0/0")])));
        assets.push(instance(
            "i-two",
            json!([
                nic("eni-pub", "subnet-pub", Some("198.51.100.9"), &["sg-ssh"]),
                nic(
                    "eni-priv",
                    "subnet-priv",
                    Some("198.51.100.10"),
                    &["sg-ssh"]
                ),
            ]),
        ));
        let found = exposed(&assets);
        let two = of(&found, "i-two");
        assert_eq!(two.len(), 1, "{found:#?}");
        assert!(two[0].path.iter().any(|h| h.id == "eni-pub"));
        assert_eq!(two[0].address, "198.51.100.9");
    }

    #[test]
    fn a_source_narrower_than_the_internet_is_reported_as_such_and_private_ones_not_at_all() {
        let mut assets = network();
        assets.push(group(
            "sg-office",
            json!([tcp_from(22, "203.0.113.0/24"), tcp_from(3389, "10.0.0.0/8")]),
        ));
        assets.push(public_instance("sg-office"));
        let found = exposed(&assets);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].source, "203.0.113.0/24");
        assert!(!found[0].from_anywhere);
    }

    #[test]
    fn an_endpoint_in_an_unknown_subnet_or_group_is_undecided() {
        let mut assets = network();
        assets.push(group("sg-ssh", json!([tcp_from(22, "0.0.0.0/0")])));
        assets.push(instance(
            "i-lost",
            json!([nic(
                "eni-1",
                "subnet-gone",
                Some("198.51.100.7"),
                &["sg-ssh"]
            )]),
        ));
        assets.push(instance(
            "i-nogroup",
            json!([nic(
                "eni-2",
                "subnet-pub",
                Some("198.51.100.8"),
                &["sg-gone"]
            )]),
        ));
        assets.push(instance(
            "i-known",
            json!([nic("eni-3", "subnet-priv", None, &["sg-ssh"])]),
        ));
        let t = Topology::build(&assets);
        let open = undecided(&t);
        assert_eq!(open["arn:i-lost"], "subnet subnet-gone is not known");
        assert_eq!(open["arn:i-nogroup"], "security group sg-gone is not known");
        assert!(!open.contains_key("arn:i-known"));
        let without_tables: Vec<Asset> = assets
            .into_iter()
            .filter(|a| a.resource_type.as_str() != "AWS::EC2::RouteTable")
            .collect();
        let t = Topology::build(&without_tables);
        assert_eq!(
            undecided(&t)["arn:i-known"],
            "no route table is known for subnet-priv"
        );
    }

    #[test]
    fn a_public_database_is_exposed_on_its_port_only() {
        let mut assets = network();
        assets.push(group(
            "sg-open",
            json!([{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": []}]),
        ));
        assets.push(asset(
            "AWS::RDS::DBInstance",
            "db",
            json!({"DBInstanceIdentifier": "db",
            "PubliclyAccessible": true, "Endpoint": {"Address": "db.example", "Port": 5432},
            "VpcSecurityGroups": ["sg-open"], "SubnetIds": ["subnet-pub", "subnet-priv"]}),
        ));
        let found = exposed(&assets);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(
            (found[0].ports(), found[0].address.as_str()),
            ("tcp/5432".to_owned(), "db.example")
        );
        let mut private = network();
        private.push(group(
            "sg-open",
            json!([{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": []}]),
        ));
        private.push(asset(
            "AWS::RDS::DBInstance",
            "db",
            json!({"DBInstanceIdentifier": "db",
            "PubliclyAccessible": false, "Endpoint": {"Address": "db.example", "Port": 5432},
            "VpcSecurityGroups": ["sg-open"], "SubnetIds": ["subnet-pub"]}),
        ));
        assert!(exposed(&private).is_empty());
    }
}
