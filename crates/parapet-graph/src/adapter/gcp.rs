//! Google Cloud's network, read from the documents of its collector
//! (`docs/resources/gcp/`): VPC networks and their subnetworks, each
//! network's routes (its subnetworks' own ranges, and the routes
//! collected: the default route through the internet gateway), VPC
//! firewall rules applied to each instance as Google applies them (the
//! ingress rules of its network whose target tags or service accounts
//! match it, or that target every instance, by priority, a deny before an
//! allow of the same priority, everything else denied; egress allowed and
//! answers let out, as a stateful firewall does), instances' external
//! addresses, and external load balancers: a forwarding rule, its target
//! HTTPS proxy and URL map or its backend service, and the instances of
//! the backends' managed instance groups. A proxy load balancer reaches
//! its backends from Google's front ends (`130.211.0.0/22`,
//! `35.191.0.0/16`), a passthrough one with the client's own address.
//!
//! Resources name each other by URL
//! (`https://www.googleapis.com/compute/v1/projects/p/...`) and are
//! collected by full resource name (`//compute.googleapis.com/projects/p/...`):
//! both are matched by their path (`projects/p/...`).

use super::{list, strings, text};
use crate::ports::PortSet;
use crate::public::PublicAccess;
use crate::topology::{
    Acl, AclEntry, Balancer, Endpoint, Listener, Route, RouteTable, Subnet, TargetGroup, Topology,
    Via,
};
use ipnet::IpNet;
use parapet_core::{Asset, Provider};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

const NETWORK: &str = "compute.googleapis.com/Network";
const SUBNETWORK: &str = "compute.googleapis.com/Subnetwork";
const ROUTE: &str = "compute.googleapis.com/Route";
const FIREWALL: &str = "compute.googleapis.com/Firewall";
const INSTANCE: &str = "compute.googleapis.com/Instance";
const FORWARDING_RULE: &str = "compute.googleapis.com/ForwardingRule";
const GLOBAL_FORWARDING_RULE: &str = "compute.googleapis.com/GlobalForwardingRule";
const BACKEND_SERVICE: &str = "compute.googleapis.com/BackendService";
const HTTPS_PROXY: &str = "compute.googleapis.com/TargetHttpsProxy";
const URL_MAP: &str = "compute.googleapis.com/UrlMap";

/// The ranges Google's front ends reach a proxy load balancer's backends
/// from.
const FRONT_ENDS: [&str; 2] = ["130.211.0.0/22", "35.191.0.0/16"];

/// The Google Cloud adapter.
pub struct Gcp;

/// The path (`projects/p/...`) of a Compute Engine URL or full resource name.
fn key(reference: &str) -> String {
    let path = reference
        .split_once("/compute/v1/")
        .or_else(|| reference.split_once("/compute/beta/"))
        .map(|(_, p)| p)
        .or_else(|| reference.strip_prefix("//compute.googleapis.com/"))
        .unwrap_or(reference);
    path.to_owned()
}

/// What the assets say, looked up by kind, by path, and (routes and
/// firewall rules) by the network they belong to: each built once, so
/// that an estate's instances do not each read every asset.
struct Estate<'a> {
    assets: &'a [&'a Asset],
    by_path: HashMap<String, &'a Asset>,
    in_network: HashMap<(&'static str, String), Vec<&'a Asset>>,
}

impl<'a> Estate<'a> {
    fn new(assets: &'a [&'a Asset]) -> Estate<'a> {
        let mut in_network: HashMap<(&'static str, String), Vec<&'a Asset>> = HashMap::new();
        for asset in assets {
            let kind = match asset.resource_type.as_str() {
                ROUTE => ROUTE,
                FIREWALL => FIREWALL,
                _ => continue,
            };
            if let Some(network) = text(&asset.config, "network") {
                in_network
                    .entry((kind, key(network)))
                    .or_default()
                    .push(asset);
            }
        }
        Estate {
            assets,
            by_path: assets.iter().map(|a| (key(&a.id), *a)).collect(),
            in_network,
        }
    }

    fn of(&self, kind: &'static str) -> impl Iterator<Item = &'a Asset> + '_ {
        self.assets
            .iter()
            .copied()
            .filter(move |a| a.resource_type.as_str() == kind)
    }

    /// The asset whose path is `path`, of `kind`.
    fn find(&self, kind: &'static str, path: &str) -> Option<&'a Asset> {
        self.by_path
            .get(path)
            .copied()
            .filter(|a| a.resource_type.as_str() == kind)
    }

    /// The routes or firewall rules (`kind`) of the network at `network`.
    fn in_network(&self, kind: &'static str, network: &str) -> &[&'a Asset] {
        self.in_network
            .get(&(kind, network.to_owned()))
            .map_or(&[], Vec::as_slice)
    }
}

impl super::Adapter for Gcp {
    fn provider(&self) -> Provider {
        Provider::Gcp
    }

    fn read(&self, assets: &[&Asset], t: &mut Topology) {
        let estate = Estate::new(assets);
        let mut ranges: BTreeMap<String, Vec<IpNet>> = BTreeMap::new();
        for subnet in estate.of(SUBNETWORK) {
            let network = text(&subnet.config, "network").map(key).unwrap_or_default();
            let mut cidrs: Vec<IpNet> = text(&subnet.config, "ipCidrRange")
                .and_then(|c| c.parse().ok())
                .into_iter()
                .collect();
            cidrs.extend(
                list(&subnet.config, "secondaryIpRanges")
                    .filter_map(|r| text(r, "ipCidrRange")?.parse::<IpNet>().ok()),
            );
            ranges.entry(network.clone()).or_default().extend(&cidrs);
            t.subnets.insert(
                key(&subnet.id),
                Subnet {
                    arn: subnet.id.clone(),
                    kind: SUBNETWORK.to_owned(),
                    id: key(&subnet.id),
                    name: subnet.name.clone(),
                    vpc: network,
                    cidrs,
                },
            );
        }
        for network in estate.of(NETWORK) {
            let path = key(&network.id);
            t.route_tables.push(routes(
                network,
                &estate,
                ranges.get(&path).map_or(&[], Vec::as_slice),
            ));
        }
        let members = group_members(&estate);
        for instance in estate.of(INSTANCE) {
            instance_endpoints(instance, &estate, t);
            t.instances.insert(instance.id.clone(), instance.id.clone());
        }
        for rule in estate
            .of(GLOBAL_FORWARDING_RULE)
            .chain(estate.of(FORWARDING_RULE))
        {
            load_balancer(rule, &estate, &members, t);
        }
    }

    fn public_grants(&self, _: &[&Asset]) -> Vec<PublicAccess> {
        Vec::new()
    }
}

/// A network's routes: its subnetworks' ranges stay in it, and each route
/// collected of it (one through the default internet gateway reaches the
/// internet). Routes limited to tagged instances count for every
/// instance.
fn routes(network: &Asset, estate: &Estate, ranges: &[IpNet]) -> RouteTable {
    let path = key(&network.id);
    let local = ranges.iter().map(|r| Route {
        destination: *r,
        target: path.clone(),
        via: Via::Local,
        target_kind: None,
        active: true,
    });
    let collected = estate.in_network(ROUTE, &path).iter().filter_map(|r| {
        let internet = text(&r.config, "nextHopGateway")
            .is_some_and(|g| g.ends_with("/default-internet-gateway"));
        Some(Route {
            destination: text(&r.config, "destRange")?.parse().ok()?,
            target: r.id.clone(),
            via: if internet { Via::Internet } else { Via::Other },
            target_kind: Some(ROUTE.to_owned()),
            active: true,
        })
    });
    let routes = local.chain(collected).collect();
    RouteTable {
        arn: network.id.clone(),
        kind: NETWORK.to_owned(),
        id: format!("{} routes", network.name),
        vpc: path.clone(),
        main: true,
        subnets: Vec::new(),
        routes,
    }
}

/// Whether the firewall rule `rule` applies to an instance with these
/// network tags and service accounts.
fn targets(rule: &Value, tags: &[String], accounts: &[String]) -> bool {
    let by_tag = strings(rule, "targetTags");
    let by_account = strings(rule, "targetServiceAccounts");
    match (by_tag.is_empty(), by_account.is_empty()) {
        (true, true) => true,
        (false, _) => by_tag.iter().any(|t| tags.contains(t)),
        (true, false) => by_account.iter().any(|a| accounts.contains(a)),
    }
}

/// The ports a firewall rule's `allowed` or `denied` entries name.
fn rule_ports(entries: &[&Value]) -> PortSet {
    let mut all = PortSet::empty();
    for entry in entries {
        let protocol = match text(entry, "IPProtocol").unwrap_or("all") {
            "all" => "-1",
            "tcp" | "6" => "tcp",
            "udp" | "17" => "udp",
            "icmp" | "1" => "icmp",
            other => other,
        };
        let ports = strings(entry, "ports");
        if ports.is_empty() || protocol == "-1" {
            all = all.union(&PortSet::of_rule(protocol, None, None));
            continue;
        }
        for port in ports {
            let (from, to) = port.split_once('-').unwrap_or((&port, &port));
            if let (Ok(from), Ok(to)) = (from.parse::<i64>(), to.parse::<i64>()) {
                all = all.union(&PortSet::of_rule(protocol, Some(from), Some(to)));
            }
        }
    }
    all
}

/// The ingress firewall rules of `network` that apply to `instance`, as
/// an ordered rule list: by priority, a deny before an allow of the same
/// priority, each source range an entry; every egress allowed.
fn firewall(instance: &Asset, network: &str, estate: &Estate) -> Acl {
    let tags = strings(&instance.config["tags"], "items");
    let accounts: Vec<String> = list(&instance.config, "serviceAccounts")
        .filter_map(|s| text(s, "email").map(str::to_owned))
        .collect();
    let mut rules: Vec<&Asset> = estate
        .in_network(FIREWALL, network)
        .iter()
        .copied()
        .filter(|f| text(&f.config, "direction").unwrap_or("INGRESS") == "INGRESS")
        .filter(|f| f.config.get("disabled") != Some(&Value::Bool(true)))
        .filter(|f| targets(&f.config, &tags, &accounts))
        .collect();
    let priority = |f: &Asset| {
        f.config
            .get("priority")
            .and_then(Value::as_i64)
            .unwrap_or(1000)
    };
    rules.sort_by_key(|f| {
        (
            priority(f),
            f.config.get("denied").is_none(),
            f.name.clone(),
        )
    });
    let mut entries = Vec::new();
    for (at, rule) in rules.iter().enumerate() {
        let allow = rule.config.get("denied").is_none();
        let field = if allow { "allowed" } else { "denied" };
        let ports = rule_ports(&list(&rule.config, field).collect::<Vec<_>>());
        let label = format!("{} (priority {})", rule.name, priority(rule));
        let number = priority(rule) * 1000 + i64::try_from(at).unwrap_or(0);
        for cidr in strings(&rule.config, "sourceRanges") {
            let Ok(cidr) = cidr.parse::<IpNet>() else {
                continue;
            };
            entries.push(AclEntry {
                number,
                egress: false,
                allow,
                cidr,
                ports: ports.clone(),
                label: Some(label.clone()),
            });
        }
    }
    entries.extend(["0.0.0.0/0", "::/0"].iter().filter_map(|n| {
        Some(AclEntry {
            number: i64::MAX,
            egress: true,
            allow: true,
            cidr: n.parse().ok()?,
            ports: PortSet::all(),
            label: Some("egress, implied".to_owned()),
        })
    }));
    Acl {
        arn: format!("{}#firewall", instance.id),
        kind: FIREWALL.to_owned(),
        id: format!("firewall of {}", instance.name),
        vpc: network.to_owned(),
        default: false,
        subnets: Vec::new(),
        entries,
    }
}

/// An instance's network interfaces, each an endpoint in its subnetwork
/// with the firewall rules that apply to it and its external address.
fn instance_endpoints(instance: &Asset, estate: &Estate, t: &mut Topology) {
    for nic in list(&instance.config, "networkInterfaces") {
        let (Some(network), Some(subnet)) = (text(nic, "network"), text(nic, "subnetwork")) else {
            continue;
        };
        let acl = firewall(instance, &key(network), estate);
        let name = text(nic, "name").unwrap_or("nic0");
        t.endpoints.push(Endpoint {
            owner: instance.id.clone(),
            owner_type: INSTANCE.to_owned(),
            owner_name: instance.name.clone(),
            interface: Some(format!("{}/{name}", instance.id)),
            interface_kind: INSTANCE.to_owned(),
            subnet: key(subnet),
            groups: Vec::new(),
            acl: Some(acl.arn.clone()),
            public_ipv4: list(nic, "accessConfigs")
                .find_map(|c| text(c, "natIP"))
                .map(str::to_owned),
            ipv6: list(nic, "ipv6AccessConfigs")
                .filter_map(|c| text(c, "externalIpv6"))
                .map(str::to_owned)
                .collect(),
            listens: None,
        });
        t.acls.push(acl);
    }
}

/// An instance group's path without its project, which a manager's
/// `created-by` names by number and a backend by id
/// (`zones/europe-west1-b/instanceGroups/web`).
fn group_key(path: &str) -> String {
    match path
        .split_once('/')
        .and_then(|(_, rest)| rest.split_once('/'))
    {
        Some((_, rest)) if path.starts_with("projects/") => rest.to_owned(),
        _ => path.to_owned(),
    }
}

/// The instances of each managed instance group (by [`group_key`]), as
/// their `created-by` metadata names their manager.
fn group_members(estate: &Estate) -> BTreeMap<String, Vec<String>> {
    let mut members: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for instance in estate.of(INSTANCE) {
        let manager = list(&instance.config["metadata"], "items")
            .find(|i| text(i, "key") == Some("created-by"))
            .and_then(|i| text(i, "value"));
        if let Some(manager) = manager {
            let group =
                group_key(&key(manager).replace("/instanceGroupManagers/", "/instanceGroups/"));
            members.entry(group).or_default().push(instance.id.clone());
        }
    }
    members
}

/// The backend services a forwarding rule sends to: its own, or those its
/// target HTTPS proxy's URL map names.
fn backend_services<'a>(rule: &Asset, estate: &Estate<'a>) -> Vec<&'a Asset> {
    let mut paths = BTreeSet::new();
    if let Some(service) = text(&rule.config, "backendService") {
        paths.insert(key(service));
    }
    let proxy = text(&rule.config, "target").and_then(|t| estate.find(HTTPS_PROXY, &key(t)));
    let map = proxy
        .and_then(|p| text(&p.config, "urlMap"))
        .and_then(|m| estate.find(URL_MAP, &key(m)));
    if let Some(map) = map {
        paths.extend(text(&map.config, "defaultService").map(key));
        for matcher in list(&map.config, "pathMatchers") {
            paths.extend(text(matcher, "defaultService").map(key));
            paths.extend(
                list(matcher, "pathRules")
                    .filter_map(|r| text(r, "service"))
                    .map(key),
            );
        }
    }
    paths
        .iter()
        .filter_map(|p| estate.find(BACKEND_SERVICE, p))
        .collect()
}

/// An external forwarding rule as a load balancer: its address and ports
/// in front, the instances of its backend services behind.
fn load_balancer(
    rule: &Asset,
    estate: &Estate,
    members: &BTreeMap<String, Vec<String>>,
    t: &mut Topology,
) {
    let scheme = text(&rule.config, "loadBalancingScheme").unwrap_or("EXTERNAL");
    let Some(address) = text(&rule.config, "IPAddress") else {
        return;
    };
    if !scheme.starts_with("EXTERNAL") {
        return;
    }
    let protocol = match text(&rule.config, "IPProtocol").unwrap_or("TCP") {
        "UDP" => "udp",
        _ => "tcp",
    };
    let mut front = PortSet::empty();
    let ranges = text(&rule.config, "portRange")
        .map(str::to_owned)
        .into_iter()
        .chain(strings(&rule.config, "ports"));
    for range in ranges {
        let (from, to) = range.split_once('-').unwrap_or((&range, &range));
        if let (Ok(from), Ok(to)) = (from.parse::<i64>(), to.parse::<i64>()) {
            front = front.union(&PortSet::of_rule(protocol, Some(from), Some(to)));
        }
    }
    let proxied = text(&rule.config, "target").is_some();
    let mut groups = Vec::new();
    for service in backend_services(rule, estate) {
        let port = service
            .config
            .get("port")
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(match text(&service.config, "protocol") {
                Some("HTTP") => 80,
                _ => 443,
            });
        let targets = list(&service.config, "backends")
            .filter_map(|b| text(b, "group"))
            .flat_map(|g| {
                members
                    .get(&group_key(&key(g)))
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|i| (i, port))
            .collect();
        t.target_groups.insert(
            service.id.clone(),
            TargetGroup {
                arn: service.id.clone(),
                kind: BACKEND_SERVICE.to_owned(),
                name: format!("backend service {}", service.name),
                targets,
            },
        );
        groups.push(service.id.clone());
    }
    let front_id = format!("{}/front", rule.id);
    t.subnets.insert(
        front_id.clone(),
        Subnet {
            arn: rule.id.clone(),
            kind: rule.resource_type.as_str().to_owned(),
            id: front_id.clone(),
            name: format!("{} front end", rule.name),
            vpc: front_id.clone(),
            cidrs: match proxied {
                true => FRONT_ENDS.iter().filter_map(|c| c.parse().ok()).collect(),
                false => Vec::new(),
            },
        },
    );
    t.route_tables.push(RouteTable {
        arn: rule.id.clone(),
        kind: rule.resource_type.as_str().to_owned(),
        id: format!("{} front end", rule.name),
        vpc: front_id.clone(),
        main: true,
        subnets: Vec::new(),
        routes: super::internet_routes("internet"),
    });
    t.balancers.insert(
        rule.id.clone(),
        Balancer {
            arn: rule.id.clone(),
            kind: rule.resource_type.as_str().to_owned(),
            name: rule.name.clone(),
            internet_facing: true,
            subnets: vec![front_id.clone()],
            // A proxy's backends see Google's front ends, not the client.
            groups: match proxied {
                true => vec!["google-front-ends".to_owned()],
                false => Vec::new(),
            },
            listeners: vec![Listener {
                arn: rule.id.clone(),
                ports: front.clone(),
                target_groups: groups,
            }],
        },
    );
    t.endpoints.push(Endpoint {
        owner: rule.id.clone(),
        owner_type: rule.resource_type.as_str().to_owned(),
        owner_name: rule.name.clone(),
        interface: None,
        interface_kind: rule.resource_type.as_str().to_owned(),
        subnet: front_id,
        groups: Vec::new(),
        acl: None,
        public_ipv4: Some(address.to_owned()),
        ipv6: Vec::new(),
        listens: Some(front),
    });
}

#[cfg(test)]
mod tests {
    use crate::exposure::exposures;
    use crate::topology::Topology;
    use parapet_core::Asset;
    use serde_json::{Value, json};

    const C: &str = "https://www.googleapis.com/compute/v1/projects/p";

    fn asset(kind: &str, path: &str, config: Value) -> Asset {
        serde_json::from_value(json!({
            "id": format!("//compute.googleapis.com/projects/p/{path}"), "provider": "gcp",
            "account": "p", "region": "europe-west1", "resource_type": kind,
            "name": path.rsplit('/').next(), "config": config, "observed_at": "2026-12-06T00:00:00Z"
        }))
        .expect("an asset")
    }

    fn firewall(name: &str, priority: i64, rule: Value) -> Asset {
        let mut config = json!({"network": format!("{C}/global/networks/vpc"), "direction": "INGRESS", "priority": priority});
        if let (Some(config), Some(rule)) = (config.as_object_mut(), rule.as_object()) {
            config.extend(rule.clone());
        }
        asset(
            "compute.googleapis.com/Firewall",
            &format!("global/firewalls/{name}"),
            config,
        )
    }

    /// A network with a default route, a subnetwork and an instance in it
    /// (external address `address`, tagged `web`, made by the manager of
    /// the group `web`), with `rules`.
    fn estate(address: Option<&str>, rules: Vec<Asset>) -> Vec<Asset> {
        let mut nic = json!({"name": "nic0", "network": format!("{C}/global/networks/vpc"),
            "subnetwork": format!("{C}/regions/europe-west1/subnetworks/web"), "networkIP": "10.0.0.5"});
        if let Some(address) = address {
            nic["accessConfigs"] = json!([{"type": "ONE_TO_ONE_NAT", "natIP": address}]);
        }
        let mut assets = vec![
            asset(
                "compute.googleapis.com/Network",
                "global/networks/vpc",
                json!({"autoCreateSubnetworks": false}),
            ),
            asset(
                "compute.googleapis.com/Subnetwork",
                "regions/europe-west1/subnetworks/web",
                json!({"network": format!("{C}/global/networks/vpc"), "ipCidrRange": "10.0.0.0/24"}),
            ),
            asset(
                "compute.googleapis.com/Route",
                "global/routes/default",
                json!({"network": format!("{C}/global/networks/vpc"),
                "destRange": "0.0.0.0/0", "priority": 1000, "nextHopGateway": format!("{C}/global/gateways/default-internet-gateway")}),
            ),
            asset(
                "compute.googleapis.com/Instance",
                "zones/europe-west1-b/instances/web-1",
                json!({
                "networkInterfaces": [nic], "tags": {"items": ["web"]},
                "metadata": {"items": [{"key": "created-by", "value": "projects/314/zones/europe-west1-b/instanceGroupManagers/web"}]},
                "serviceAccounts": [{"email": "web@p.iam.gserviceaccount.com"}]}),
            ),
        ];
        assets.extend(rules);
        assets
    }

    #[test]
    fn firewall_rules_decide_by_priority_and_target_and_name_the_rule_in_the_path() {
        let ssh = json!({"sourceRanges": ["0.0.0.0/0"], "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}], "targetTags": ["web"]});
        let assets = estate(
            Some("34.76.1.2"),
            vec![firewall("allow-ssh", 1000, ssh.clone())],
        );
        let found = exposures(&Topology::build(&assets));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].from_port, found[0].to_port), (22, 22));
        assert!(
            found[0].path_text().contains("allow-ssh (priority 1000)"),
            "{}",
            found[0].path_text()
        );

        // A deny of higher priority (lower number) wins; one of lower
        // priority does not.
        let deny = |priority| {
            firewall(
                "deny-all",
                priority,
                json!({"sourceRanges": ["0.0.0.0/0"], "denied": [{"IPProtocol": "all"}]}),
            )
        };
        let assets = estate(
            Some("34.76.1.2"),
            vec![firewall("allow-ssh", 1000, ssh.clone()), deny(900)],
        );
        assert!(exposures(&Topology::build(&assets)).is_empty());
        let assets = estate(
            Some("34.76.1.2"),
            vec![firewall("allow-ssh", 1000, ssh.clone()), deny(2000)],
        );
        assert_eq!(exposures(&Topology::build(&assets)).len(), 1);

        // A rule for other tags, or without an external address: nothing.
        let other = json!({"sourceRanges": ["0.0.0.0/0"], "allowed": [{"IPProtocol": "tcp"}], "targetTags": ["db"]});
        assert!(
            exposures(&Topology::build(&estate(
                Some("34.76.1.2"),
                vec![firewall("db", 1000, other)]
            )))
            .is_empty()
        );
        assert!(
            exposures(&Topology::build(&estate(
                None,
                vec![firewall("allow-ssh", 1000, ssh)]
            )))
            .is_empty()
        );
    }

    #[test]
    fn a_proxy_load_balancer_reaches_its_backends_from_google_front_ends() {
        let from_front_ends = json!({"sourceRanges": ["130.211.0.0/22", "35.191.0.0/16"],
            "allowed": [{"IPProtocol": "tcp", "ports": ["443"]}], "targetServiceAccounts": ["web@p.iam.gserviceaccount.com"]});
        let mut assets = estate(None, vec![firewall("allow-lb", 1000, from_front_ends)]);
        assets.extend([
            asset("compute.googleapis.com/GlobalForwardingRule", "global/forwardingRules/web-https", json!({
                "IPAddress": "34.120.5.6", "IPProtocol": "TCP", "portRange": "443-443",
                "target": format!("{C}/global/targetHttpsProxies/web"), "loadBalancingScheme": "EXTERNAL_MANAGED"})),
            asset("compute.googleapis.com/TargetHttpsProxy", "global/targetHttpsProxies/web", json!({"urlMap": format!("{C}/global/urlMaps/web")})),
            asset("compute.googleapis.com/UrlMap", "global/urlMaps/web", json!({"defaultService": format!("{C}/global/backendServices/web")})),
            asset("compute.googleapis.com/BackendService", "global/backendServices/web", json!({"protocol": "HTTPS", "port": 443,
                "backends": [{"group": format!("{C}/zones/europe-west1-b/instanceGroups/web")}]})),
        ]);
        let found = exposures(&Topology::build(&assets));
        let instance = found
            .iter()
            .find(|e| e.asset_id.ends_with("instances/web-1"))
            .unwrap_or_else(|| panic!("the instance behind the load balancer: {found:?}"));
        assert_eq!((instance.from_port, instance.to_port), (443, 443));
        assert!(
            instance
                .via
                .as_deref()
                .is_some_and(|v| v.ends_with("forwardingRules/web-https"))
        );
        let path = instance.path_text();
        assert!(
            path.contains("backend service web") && path.contains("allow-lb (priority 1000)"),
            "{path}"
        );
    }
}
