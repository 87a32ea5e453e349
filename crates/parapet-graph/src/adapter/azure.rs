//! Azure's network, read from the documents of its collector
//! (`docs/resources/azure/`): virtual networks and their subnets, the
//! routes each subnet follows (Azure's system routes, with a route table's
//! user-defined routes in their place where the subnet has one), network
//! security groups on subnets and on network interfaces (both must allow,
//! rules in priority order, answers let out as a stateful firewall does),
//! public IP addresses, virtual machines and scale sets by their network
//! interfaces, and public load balancers with the back ends their rules
//! forward to.
//!
//! Azure's resource ids are not case-sensitive and references spell them
//! as they like: everything is matched lowercase, and an endpoint names its
//! owner by the owner's asset id as collected.

use super::{list, text};
use crate::ports::PortSet;
use crate::public::PublicAccess;
use crate::topology::{
    Acl, AclEntry, Balancer, Endpoint, Listener, Route, RouteTable, Subnet, TargetGroup, Topology,
    Via,
};
use ipnet::IpNet;
use parapet_core::{Asset, Provider};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

const VIRTUAL_NETWORK: &str = "Microsoft.Network/virtualNetworks";
const SUBNET: &str = "Microsoft.Network/virtualNetworks/subnets";
const ROUTE_TABLE: &str = "Microsoft.Network/routeTables";
const SECURITY_GROUP: &str = "Microsoft.Network/networkSecurityGroups";
const INTERFACE: &str = "Microsoft.Network/networkInterfaces";
const PUBLIC_ADDRESS: &str = "Microsoft.Network/publicIPAddresses";
const LOAD_BALANCER: &str = "Microsoft.Network/loadBalancers";
const SCALE_SET: &str = "Microsoft.Compute/virtualMachineScaleSets";

/// The next hop Azure's system routes send the internet to.
const INTERNET: &str = "Internet";

/// The Azure adapter.
pub struct Azure;

/// The properties of an ARM document.
fn props(value: &Value) -> &Value {
    &value["properties"]
}

/// The lowercase resource id a reference (`{"id": ...}`) names.
fn reference(value: &Value) -> Option<String> {
    text(value, "id").map(str::to_lowercase)
}

/// The last segment of a resource id: its name.
fn last(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// What the assets say, looked up by lowercase id.
struct Estate<'a> {
    /// Each asset by its lowercase id.
    assets: HashMap<String, &'a Asset>,
    /// The public address of each IP configuration (of an interface, a
    /// load balancer's front end), by the configuration's lowercase id.
    addresses: HashMap<String, String>,
}

impl<'a> Estate<'a> {
    fn of(assets: &[&'a Asset]) -> Estate<'a> {
        let by_id: HashMap<String, &Asset> =
            assets.iter().map(|a| (a.id.to_lowercase(), *a)).collect();
        let addresses = assets
            .iter()
            .filter(|a| a.resource_type.as_str() == PUBLIC_ADDRESS)
            .filter_map(|a| {
                let p = props(&a.config);
                Some((
                    reference(&p["ipConfiguration"])?,
                    text(p, "ipAddress").unwrap_or(&a.name).to_owned(),
                ))
            })
            .collect();
        Estate {
            assets: by_id,
            addresses,
        }
    }

    /// The public address of an IP configuration (an interface's, a load
    /// balancer front end's): as the public IP address names the
    /// configuration, or as the configuration names the address.
    fn public_address(&self, configuration: &Value) -> Option<String> {
        reference(configuration)
            .and_then(|c| self.addresses.get(&c).cloned())
            .or_else(|| {
                reference(&props(configuration)["publicIPAddress"])
                    .and_then(|a| self.assets.get(&a))
                    .and_then(|a| text(props(&a.config), "ipAddress").map(str::to_owned))
            })
    }

    /// The asset id, as collected, of the lowercase resource id `id`
    /// (`id` itself when it was not collected).
    fn collected(&self, id: Option<String>) -> Option<String> {
        id.map(|id| self.assets.get(&id).map_or(id, |a| a.id.clone()))
    }
}

impl super::Adapter for Azure {
    fn provider(&self) -> Provider {
        Provider::Azure
    }

    fn read(&self, assets: &[&Asset], t: &mut Topology) {
        let estate = Estate::of(assets);
        let of = |kind: &'static str| {
            assets
                .iter()
                .copied()
                .filter(move |a| a.resource_type.as_str() == kind)
        };
        let mut guarded: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut routed: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for network in of(VIRTUAL_NETWORK) {
            virtual_network(network, t, &mut guarded, &mut routed);
        }
        for table in of(ROUTE_TABLE) {
            route_table(table, routed.remove(&table.id.to_lowercase()), t);
        }
        for group in of(SECURITY_GROUP) {
            let subnets = guarded.remove(&group.id.to_lowercase()).unwrap_or_default();
            t.acls.push(security_group(group, subnets));
        }
        let mut pools: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for interface in of(INTERFACE) {
            network_interface(interface, &estate, t, &mut pools);
        }
        for set in of(SCALE_SET) {
            scale_set(set, &estate, t, &mut pools);
        }
        for balancer in of(LOAD_BALANCER) {
            load_balancer(balancer, &estate, &pools, t);
        }
    }

    fn public_grants(&self, _: &[&Asset]) -> Vec<PublicAccess> {
        Vec::new()
    }
}

/// Azure's system routes for a subnet without a route table: the
/// network's own prefixes stay in it, the rest goes to the internet.
fn system_routes(prefixes: &[IpNet]) -> Vec<Route> {
    let local = prefixes.iter().map(|p| Route {
        destination: *p,
        target: "VnetLocal".to_owned(),
        via: Via::Local,
        target_kind: None,
        active: true,
    });
    local.chain(super::internet_routes(INTERNET)).collect()
}

/// A network's subnets, and the system route table of those without one
/// of their own; notes which subnets each security group and route table
/// serves.
fn virtual_network(
    asset: &Asset,
    t: &mut Topology,
    guarded: &mut BTreeMap<String, Vec<String>>,
    routed: &mut BTreeMap<String, Vec<String>>,
) {
    let network = asset.id.to_lowercase();
    let p = props(&asset.config);
    let prefixes: Vec<IpNet> = list(&p["addressSpace"], "addressPrefixes")
        .filter_map(|v| v.as_str()?.parse().ok())
        .collect();
    for subnet in list(p, "subnets") {
        let Some(id) = reference(subnet) else {
            continue;
        };
        let sp = props(subnet);
        let mut cidrs: Vec<IpNet> = text(sp, "addressPrefix")
            .and_then(|c| c.parse().ok())
            .into_iter()
            .collect();
        cidrs.extend(list(sp, "addressPrefixes").filter_map(|v| v.as_str()?.parse::<IpNet>().ok()));
        if let Some(group) = reference(&sp["networkSecurityGroup"]) {
            guarded.entry(group).or_default().push(id.clone());
        }
        if let Some(table) = reference(&sp["routeTable"]) {
            routed.entry(table).or_default().push(id.clone());
        }
        let name = format!(
            "{}/{}",
            asset.name,
            text(subnet, "name").unwrap_or(last(&id))
        );
        t.subnets.insert(
            id.clone(),
            Subnet {
                arn: id.clone(),
                kind: SUBNET.to_owned(),
                id,
                name,
                vpc: network.clone(),
                cidrs,
            },
        );
    }
    t.route_tables.push(RouteTable {
        arn: asset.id.clone(),
        kind: VIRTUAL_NETWORK.to_owned(),
        id: format!("{} system routes", asset.name),
        vpc: network,
        main: true,
        subnets: Vec::new(),
        routes: system_routes(&prefixes),
    });
}

/// A route table and the subnets it serves: its routes, and Azure's
/// system routes to the internet for the families it does not route
/// itself.
fn route_table(asset: &Asset, subnets: Option<Vec<String>>, t: &mut Topology) {
    let Some(subnets) = subnets else {
        return;
    };
    let mut routes: Vec<Route> = list(props(&asset.config), "routes")
        .filter_map(|r| {
            let rp = props(r);
            let destination: IpNet = text(rp, "addressPrefix")?.parse().ok()?;
            let hop = text(rp, "nextHopType").unwrap_or("None");
            let (via, target) = match hop {
                "Internet" => (Via::Internet, INTERNET.to_owned()),
                "VirtualAppliance" => (
                    Via::Interface,
                    text(rp, "nextHopIpAddress").unwrap_or(hop).to_owned(),
                ),
                "VirtualNetworkGateway" => (Via::Transit, hop.to_owned()),
                "VnetLocal" => (Via::Local, hop.to_owned()),
                _ => (Via::Other, hop.to_owned()),
            };
            Some(Route {
                destination,
                target,
                via,
                target_kind: None,
                active: hop != "None",
            })
        })
        .collect();
    let defaults = system_routes(&[]);
    for default in defaults {
        if !routes.iter().any(|r| {
            r.destination.prefix_len() == 0
                && r.destination.addr().is_ipv4() == default.destination.addr().is_ipv4()
        }) {
            routes.push(default);
        }
    }
    let network = subnets
        .first()
        .and_then(|s| t.subnets.get(s))
        .map(|s| s.vpc.clone())
        .unwrap_or_default();
    t.route_tables.push(RouteTable {
        arn: asset.id.clone(),
        kind: ROUTE_TABLE.to_owned(),
        id: asset.name.clone(),
        vpc: network,
        main: false,
        subnets,
        routes,
    });
}

/// The address ranges a rule's sources stand for, where the internet can
/// be among them: `*`, `Internet` and `Any` are every address; service
/// tags for Azure's own ranges (`VirtualNetwork`, `AzureLoadBalancer`...)
/// never hold an internet client and are left out.
fn sources(rule: &Value) -> Vec<IpNet> {
    let named = text(rule, "sourceAddressPrefix")
        .into_iter()
        .map(str::to_owned);
    let listed = list(rule, "sourceAddressPrefixes").filter_map(|v| v.as_str().map(str::to_owned));
    named
        .chain(listed)
        .flat_map(|prefix| match prefix.as_str() {
            "*" | "Internet" | "Any" => ["0.0.0.0/0", "::/0"]
                .iter()
                .filter_map(|n| n.parse().ok())
                .collect::<Vec<IpNet>>(),
            text => text
                .parse::<IpNet>()
                .ok()
                .or_else(|| text.parse::<std::net::IpAddr>().ok().map(IpNet::from))
                .into_iter()
                .collect(),
        })
        .collect()
}

/// The ports a rule admits: its protocol and each of its destination port
/// ranges (`22`, `1000-2000`, `*`).
fn rule_ports(rule: &Value) -> PortSet {
    let protocol = match text(rule, "protocol").unwrap_or("*") {
        "Tcp" | "tcp" => "tcp",
        "Udp" | "udp" => "udp",
        "Icmp" | "icmp" => "icmp",
        "*" => "-1",
        _ => "none",
    };
    let named = text(rule, "destinationPortRange")
        .into_iter()
        .map(str::to_owned);
    let listed = list(rule, "destinationPortRanges").filter_map(|v| v.as_str().map(str::to_owned));
    named.chain(listed).fold(PortSet::empty(), |all, spec| {
        let (from, to) = match spec.split_once('-') {
            _ if spec == "*" => (None, None),
            Some((a, b)) => (a.trim().parse().ok(), b.trim().parse().ok()),
            None => (spec.trim().parse().ok(), spec.trim().parse().ok()),
        };
        if protocol == "-1" && (from.is_some() || to.is_some()) {
            let ranged = ["tcp", "udp"].iter().fold(PortSet::empty(), |p, proto| {
                p.union(&PortSet::of_rule(proto, from, to))
            });
            return all.union(&ranged);
        }
        all.union(&PortSet::of_rule(protocol, from, to))
    })
}

/// A network security group as ordered rules: its inbound rules and
/// defaults by priority; answers always leave (it is stateful).
fn security_group(asset: &Asset, subnets: Vec<String>) -> Acl {
    let p = props(&asset.config);
    let mut entries: Vec<AclEntry> = list(p, "securityRules")
        .chain(list(p, "defaultSecurityRules"))
        .filter(|r| text(props(r), "direction") == Some("Inbound"))
        .flat_map(|r| {
            let rp = props(r);
            let number = rp
                .get("priority")
                .and_then(Value::as_i64)
                .unwrap_or(i64::MAX);
            let allow = text(rp, "access") == Some("Allow");
            let ports = rule_ports(rp);
            sources(rp).into_iter().map(move |cidr| AclEntry {
                number,
                egress: false,
                allow,
                cidr,
                ports: ports.clone(),
                label: None,
            })
        })
        .collect();
    entries.sort_by_key(|e| e.number);
    entries.extend(["0.0.0.0/0", "::/0"].iter().filter_map(|n| {
        Some(AclEntry {
            number: i64::MAX,
            egress: true,
            allow: true,
            cidr: n.parse().ok()?,
            ports: PortSet::all(),
            label: None,
        })
    }));
    Acl {
        arn: asset.id.clone(),
        kind: SECURITY_GROUP.to_owned(),
        id: asset.name.clone(),
        vpc: String::new(),
        default: false,
        subnets,
        entries,
    }
}

/// An endpoint of `owner` in `subnet`; the caller fills what it has.
fn endpoint(owner: &Asset, subnet: String) -> Endpoint {
    Endpoint {
        owner: owner.id.clone(),
        owner_type: owner.resource_type.as_str().to_owned(),
        owner_name: owner.name.clone(),
        interface: None,
        interface_kind: INTERFACE.to_owned(),
        subnet,
        groups: Vec::new(),
        acl: None,
        public_ipv4: None,
        ipv6: Vec::new(),
        listens: None,
    }
}

/// A network interface's IP configurations: an endpoint of its machine
/// (or of itself, when none) in each configuration's subnet, with its
/// public address and its own security group; notes the back-end pools
/// each configuration joins.
fn network_interface(
    asset: &Asset,
    estate: &Estate,
    t: &mut Topology,
    pools: &mut BTreeMap<String, Vec<String>>,
) {
    let p = props(&asset.config);
    let interface = asset.id.to_lowercase();
    let owner = reference(&p["virtualMachine"])
        .and_then(|vm| estate.assets.get(&vm).copied())
        .unwrap_or(asset);
    t.instances.insert(interface.clone(), owner.id.clone());
    let group = estate.collected(reference(&p["networkSecurityGroup"]));
    for configuration in list(p, "ipConfigurations") {
        let cp = props(configuration);
        let Some(subnet) = reference(&cp["subnet"]) else {
            continue;
        };
        for pool in list(cp, "loadBalancerBackendAddressPools").filter_map(reference) {
            pools.entry(pool).or_default().push(interface.clone());
        }
        t.endpoints.push(Endpoint {
            interface: Some(asset.id.clone()),
            acl: group.clone(),
            public_ipv4: estate.public_address(configuration),
            ..endpoint(owner, subnet)
        });
    }
}

/// A scale set's network interface configurations: an endpoint of the
/// scale set in each subnet its instances join, with a public address
/// when each instance gets one.
fn scale_set(
    asset: &Asset,
    estate: &Estate,
    t: &mut Topology,
    pools: &mut BTreeMap<String, Vec<String>>,
) {
    let set = asset.id.to_lowercase();
    t.instances.insert(set.clone(), asset.id.clone());
    let profile = &props(&asset.config)["virtualMachineProfile"]["networkProfile"];
    for configuration in list(profile, "networkInterfaceConfigurations") {
        let cp = props(configuration);
        let group = estate.collected(reference(&cp["networkSecurityGroup"]));
        for ip in list(cp, "ipConfigurations") {
            let ip = props(ip);
            let Some(subnet) = reference(&ip["subnet"]) else {
                continue;
            };
            for pool in list(ip, "loadBalancerBackendAddressPools").filter_map(reference) {
                pools.entry(pool).or_default().push(set.clone());
            }
            t.endpoints.push(Endpoint {
                acl: group.clone(),
                public_ipv4: ip
                    .get("publicIPAddressConfiguration")
                    .filter(|c| !c.is_null())
                    .map(|_| "each instance's public address".to_owned()),
                ..endpoint(asset, subnet)
            });
        }
    }
}

/// A load balancer whose front end has a public address: reached from the
/// internet on its rules' front-end ports (through a front end of its own,
/// outside any subnet), forwarding each to the back-end port of its pool's
/// members.
fn load_balancer(
    asset: &Asset,
    estate: &Estate,
    pools: &BTreeMap<String, Vec<String>>,
    t: &mut Topology,
) {
    let p = props(&asset.config);
    let public: Vec<String> = list(p, "frontendIPConfigurations")
        .filter_map(|f| estate.public_address(f))
        .collect();
    if public.is_empty() {
        return;
    }
    let mut listeners = Vec::new();
    for rule in list(p, "loadBalancingRules") {
        let rp = props(rule);
        let (Some(id), Some(pool)) = (reference(rule), reference(&rp["backendAddressPool"])) else {
            continue;
        };
        let protocol = match text(rp, "protocol") {
            Some("Udp") => "udp",
            Some("All") => "-1",
            _ => "tcp",
        };
        let port = |field: &str| rp.get(field).and_then(Value::as_i64);
        let (Some(front), Some(back)) = (port("frontendPort"), port("backendPort")) else {
            continue;
        };
        let Ok(back) = u16::try_from(back) else {
            continue;
        };
        let arn = text(rule, "id").unwrap_or(&id).to_owned();
        t.target_groups.insert(
            id.clone(),
            TargetGroup {
                arn: arn.clone(),
                kind: "Microsoft.Network/loadBalancers/loadBalancingRules".to_owned(),
                name: format!("{}/{}", asset.name, text(rule, "name").unwrap_or(last(&id))),
                targets: pools
                    .get(&pool)
                    .into_iter()
                    .flatten()
                    .map(|m| (m.clone(), back))
                    .collect(),
            },
        );
        listeners.push(Listener {
            arn,
            ports: PortSet::of_rule(protocol, Some(front), Some(front)),
            target_groups: vec![id],
        });
    }
    let listens = listeners
        .iter()
        .fold(PortSet::empty(), |all, l| all.union(&l.ports));
    let front = format!("{}/frontend", asset.id.to_lowercase());
    t.subnets.insert(
        front.clone(),
        Subnet {
            arn: asset.id.clone(),
            kind: LOAD_BALANCER.to_owned(),
            id: front.clone(),
            name: format!("{} front end", asset.name),
            vpc: front.clone(),
            cidrs: Vec::new(),
        },
    );
    t.route_tables.push(RouteTable {
        arn: asset.id.clone(),
        kind: LOAD_BALANCER.to_owned(),
        id: format!("{} system routes", asset.name),
        vpc: front.clone(),
        main: true,
        subnets: Vec::new(),
        routes: system_routes(&[]),
    });
    t.balancers.insert(
        asset.id.clone(),
        Balancer {
            arn: asset.id.clone(),
            kind: LOAD_BALANCER.to_owned(),
            name: asset.name.clone(),
            internet_facing: true,
            subnets: vec![front.clone()],
            groups: Vec::new(),
            listeners,
        },
    );
    for address in public {
        t.endpoints.push(Endpoint {
            public_ipv4: Some(address),
            listens: Some(listens.clone()),
            ..endpoint(asset, front.clone())
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::exposure::exposures;
    use crate::topology::Topology;
    use parapet_core::Asset;
    use serde_json::{Value, json};

    const RG: &str = "/subscriptions/s/resourceGroups/posture/providers";

    fn id(kind: &str, name: &str) -> String {
        format!("{RG}/{kind}/{name}")
    }

    fn asset(kind: &str, name: &str, properties: Value) -> Asset {
        serde_json::from_value(json!({
            "id": id(kind, name), "provider": "azure", "account": "s", "region": "westeurope",
            "resource_type": kind, "name": name, "config": {"properties": properties},
            "observed_at": "2026-12-06T00:00:00Z"
        }))
        .expect("an asset")
    }

    /// A rule of a network security group.
    fn rule(name: &str, priority: i64, access: &str, port: &str, source: &str) -> Value {
        json!({"name": name, "properties": {"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": port,
            "sourceAddressPrefix": source, "destinationAddressPrefix": "*", "access": access, "priority": priority, "direction": "Inbound"}})
    }

    fn group(name: &str, rules: Vec<Value>) -> Asset {
        asset(
            "Microsoft.Network/networkSecurityGroups",
            name,
            json!({"securityRules": rules}),
        )
    }

    /// A network with the subnet `web`, guarded by the group `subnet-nsg`
    /// and routed by `table` when given.
    fn network(table: Option<&str>) -> Asset {
        let mut subnet = json!({"id": format!("{}/subnets/web", id("Microsoft.Network/virtualNetworks", "posture")), "name": "web",
            "properties": {"addressPrefix": "10.0.1.0/24", "networkSecurityGroup": {"id": id("Microsoft.Network/networkSecurityGroups", "subnet-nsg")}}});
        if let Some(table) = table {
            subnet["properties"]["routeTable"] =
                json!({"id": id("Microsoft.Network/routeTables", table)});
        }
        asset(
            "Microsoft.Network/virtualNetworks",
            "posture",
            json!({"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "subnets": [subnet]}),
        )
    }

    /// The machine `web` with its interface in `web`, guarded by
    /// `nic-nsg`, with the public address 20.61.15.4 when `public`, in the
    /// pool `web` of the load balancer `front` when `pooled`.
    fn machine(public: bool, pooled: bool) -> Vec<Asset> {
        let nic = id("Microsoft.Network/networkInterfaces", "web-nic");
        let mut configuration = json!({"id": format!("{nic}/ipConfigurations/ipconfig1"), "name": "ipconfig1",
            "properties": {"privateIPAddress": "10.0.1.4",
                "subnet": {"id": format!("{}/subnets/web", id("Microsoft.Network/virtualNetworks", "posture"))}}});
        if pooled {
            configuration["properties"]["loadBalancerBackendAddressPools"] = json!([{"id":
                format!("{}/backendAddressPools/web", id("Microsoft.Network/loadBalancers", "front"))}]);
        }
        let mut assets = vec![
            asset(
                "Microsoft.Compute/virtualMachines",
                "web",
                json!({"networkProfile": {"networkInterfaces": [{"id": nic}]}}),
            ),
            asset(
                "Microsoft.Network/networkInterfaces",
                "web-nic",
                json!({"ipConfigurations": [configuration],
                    "networkSecurityGroup": {"id": id("Microsoft.Network/networkSecurityGroups", "nic-nsg")},
                    "virtualMachine": {"id": id("Microsoft.Compute/virtualMachines", "web").to_uppercase()}}),
            ),
        ];
        if public {
            assets.push(asset(
                "Microsoft.Network/publicIPAddresses",
                "web-ip",
                json!({"ipAddress": "20.61.15.4", "ipConfiguration": {"id": format!("{nic}/ipConfigurations/ipconfig1")}}),
            ));
        }
        assets
    }

    fn exposed(assets: &[Asset]) -> Vec<(String, String, String, bool)> {
        let t = Topology::build(assets);
        exposures(&t)
            .into_iter()
            .map(|e| {
                (
                    e.asset_id.rsplit('/').next().unwrap_or_default().to_owned(),
                    e.ports(),
                    e.path_text(),
                    e.from_anywhere,
                )
            })
            .collect()
    }

    #[test]
    fn a_machine_with_a_public_address_is_reached_where_both_groups_allow() {
        let mut assets = machine(true, false);
        assets.push(network(None));
        assets.push(group(
            "subnet-nsg",
            vec![
                rule("ssh", 100, "Allow", "22", "*"),
                rule("https", 110, "Allow", "443", "Internet"),
            ],
        ));
        assets.push(group(
            "nic-nsg",
            vec![rule("ssh", 100, "Allow", "22", "Internet")],
        ));
        let found = exposed(&assets);
        assert_eq!(found.len(), 1, "{found:?}");
        let (machine, ports, path, anywhere) = &found[0];
        assert_eq!(
            (machine.as_str(), ports.as_str(), *anywhere),
            ("web", "tcp/22", true)
        );
        assert_eq!(
            path,
            "internet → Internet → posture system routes (0.0.0.0/0) → posture/web → subnet-nsg rule 100 allow → web-nic → nic-nsg rule 100 allow → web"
        );
    }

    #[test]
    fn a_deny_of_either_group_ahead_of_its_allow_closes_the_port() {
        let mut assets = machine(true, false);
        assets.push(network(None));
        assets.push(group(
            "subnet-nsg",
            vec![rule("ssh", 200, "Allow", "22", "*")],
        ));
        assets.push(group(
            "nic-nsg",
            vec![
                rule("no-ssh", 100, "Deny", "22", "*"),
                rule("ssh", 200, "Allow", "22", "*"),
            ],
        ));
        assert!(exposed(&assets).is_empty());
        let mut assets = machine(true, false);
        assets.push(network(None));
        assets.push(group(
            "subnet-nsg",
            vec![rule("ssh", 200, "Allow", "22", "*")],
        ));
        assets.push(group("nic-nsg", vec![]));
        assert!(
            exposed(&assets).is_empty(),
            "a group without rules denies the internet"
        );
    }

    #[test]
    fn a_source_narrower_than_the_internet_is_reported_as_such() {
        let mut assets = machine(true, false);
        assets.push(network(None));
        assets.push(group(
            "subnet-nsg",
            vec![rule("ssh", 100, "Allow", "22", "203.0.113.0/24")],
        ));
        assets.push(group(
            "nic-nsg",
            vec![
                rule("ssh", 100, "Allow", "22", "*"),
                rule("lan", 110, "Allow", "3389", "VirtualNetwork"),
            ],
        ));
        let t = Topology::build(&assets);
        let found = exposures(&t);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].source, "203.0.113.0/24");
        assert!(!found[0].from_anywhere);
    }

    #[test]
    fn a_route_table_sending_the_internet_to_an_appliance_keeps_the_machine_unreached() {
        let mut assets = machine(true, false);
        assets.push(network(Some("through-firewall")));
        assets.push(group(
            "subnet-nsg",
            vec![rule("ssh", 100, "Allow", "22", "*")],
        ));
        assets.push(group("nic-nsg", vec![rule("ssh", 100, "Allow", "22", "*")]));
        let routes = |hop: &str| {
            asset(
                "Microsoft.Network/routeTables",
                "through-firewall",
                json!({"routes": [{"name": "default", "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": hop, "nextHopIpAddress": "10.0.2.4"}}]}),
            )
        };
        let mut routed = assets.clone();
        routed.push(routes("VirtualAppliance"));
        assert!(exposed(&routed).is_empty());
        // A table that routes only private space leaves the system route
        // to the internet in place.
        let mut local = assets;
        local.push(asset(
            "Microsoft.Network/routeTables",
            "through-firewall",
            json!({"routes": [{"name": "onprem", "properties": {"addressPrefix": "192.168.0.0/16", "nextHopType": "VirtualNetworkGateway"}}]}),
        ));
        assert_eq!(exposed(&local).len(), 1);
    }

    #[test]
    fn a_machine_without_a_public_address_is_reached_through_a_public_load_balancer_on_its_back_end_port()
     {
        let mut assets = machine(false, true);
        assets.push(network(None));
        assets.push(group(
            "subnet-nsg",
            vec![rule("app", 100, "Allow", "8443", "Internet")],
        ));
        assets.push(group(
            "nic-nsg",
            vec![rule("app", 100, "Allow", "8443", "*")],
        ));
        let lb = id("Microsoft.Network/loadBalancers", "front");
        assets.push(asset(
            "Microsoft.Network/loadBalancers",
            "front",
            json!({"frontendIPConfigurations": [{"id": format!("{lb}/frontendIPConfigurations/public"), "name": "public",
                    "properties": {"publicIPAddress": {"id": id("Microsoft.Network/publicIPAddresses", "front-ip")}}}],
                "loadBalancingRules": [{"id": format!("{lb}/loadBalancingRules/https"), "name": "https",
                    "properties": {"protocol": "Tcp", "frontendPort": 443, "backendPort": 8443,
                        "backendAddressPool": {"id": format!("{lb}/backendAddressPools/web")}}}]}),
        ));
        assets.push(asset(
            "Microsoft.Network/publicIPAddresses",
            "front-ip",
            json!({"ipAddress": "20.61.15.9", "ipConfiguration": {"id": format!("{lb}/frontendIPConfigurations/public")}}),
        ));
        let found = exposed(&assets);
        let machine: Vec<_> = found.iter().filter(|e| e.0 == "web").collect();
        assert_eq!(machine.len(), 1, "{found:?}");
        assert_eq!(machine[0].1, "tcp/8443");
        assert!(machine[0].2.contains("front tcp/443 → front/https → posture/web → subnet-nsg rule 100 allow → web-nic → nic-nsg rule 100 allow → web"), "{}", machine[0].2);
        assert!(found.iter().any(|e| e.0 == "front" && e.1 == "tcp/443"));
    }

    #[test]
    fn a_scale_set_whose_instances_get_public_addresses_is_judged_by_its_own_group() {
        let subnet = format!(
            "{}/subnets/web",
            id("Microsoft.Network/virtualNetworks", "posture")
        );
        let set = |public: bool| {
            let mut ip = json!({"name": "ipconfig", "properties": {"subnet": {"id": subnet}}});
            if public {
                ip["properties"]["publicIPAddressConfiguration"] = json!({"name": "pip"});
            }
            asset(
                "Microsoft.Compute/virtualMachineScaleSets",
                "workers",
                json!({"virtualMachineProfile": {"networkProfile": {"networkInterfaceConfigurations": [{"name": "nic",
                    "properties": {"networkSecurityGroup": {"id": id("Microsoft.Network/networkSecurityGroups", "NIC-NSG")},
                        "ipConfigurations": [ip]}}]}}}),
            )
        };
        let base = vec![
            network(None),
            group("subnet-nsg", vec![rule("ssh", 100, "Allow", "22", "*")]),
            group("nic-nsg", vec![rule("ssh", 100, "Allow", "22", "*")]),
        ];
        let mut public = base.clone();
        public.push(set(true));
        let t = Topology::build(&public);
        assert!(
            crate::exposure::undecided(&t).is_empty(),
            "{:?}",
            crate::exposure::undecided(&t)
        );
        let found = exposed(&public);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].0.as_str(), found[0].1.as_str()),
            ("workers", "tcp/22")
        );
        let mut private = base;
        private.push(set(false));
        assert!(exposed(&private).is_empty());
    }

    #[test]
    fn a_machine_without_any_group_is_reached_on_every_port() {
        let mut assets = machine(true, false);
        let mut open = network(None);
        open.config["properties"]["subnets"][0]["properties"]
            .as_object_mut()
            .expect("an object")
            .remove("networkSecurityGroup");
        assets.push(open);
        let interface = assets
            .iter_mut()
            .find(|a| a.name == "web-nic")
            .expect("the interface");
        interface.config["properties"]
            .as_object_mut()
            .expect("an object")
            .remove("networkSecurityGroup");
        let ports: Vec<String> = exposed(&assets).into_iter().map(|e| e.1).collect();
        assert_eq!(ports, ["tcp/0-65535", "udp/0-65535", "icmp"]);
    }
}
