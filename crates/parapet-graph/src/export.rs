//! The topology as a graph to export: nodes (subnets, route tables,
//! gateways, network ACLs, security groups, instances, interfaces,
//! databases, load balancers, target groups, and the internet) and typed
//! edges, filtered by account, region or VPC, with exposed assets marked;
//! written as JSON, Graphviz DOT (VPCs and subnets as clusters, an
//! exposure's path drawn in bold) or SVG.

use crate::exposure::Exposure;
use crate::topology::{Source, Topology, Via};
use parapet_core::Asset;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// One node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    /// The asset id (or the short id of what has no asset, such as a NAT
    /// gateway named only by a route, or `internet`).
    pub id: String,
    /// The short name shown (`subnet-1`, `i-7`, a load balancer's name).
    pub label: String,
    /// What it is: a resource type, or `Internet`.
    pub kind: String,
    /// The VPC it is in, when it is in one.
    pub vpc: Option<String>,
    /// The subnet it is in, when it is in one.
    pub subnet: Option<String>,
    /// Whether the internet reaches it.
    pub exposed: bool,
    /// Whether it is a subnet, drawn around what it holds.
    #[serde(skip)]
    pub is_subnet: bool,
}

/// One edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    /// From this node id.
    pub from: String,
    /// To this node id.
    pub to: String,
    /// What it means: `routes_to`, `serves`, `guards`, `attached_to`,
    /// `in_subnet`, `uses_security_group`, `allows_from`, `forwards_to`,
    /// `targets`, `associated_with`, `reaches`.
    pub kind: &'static str,
    /// A detail: a route's destination, a rule's ports.
    pub label: String,
}

/// Which part of the estate to draw.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this account.
    pub account: Option<String>,
    /// Only this region.
    pub region: Option<String>,
    /// Only this VPC.
    pub vpc: Option<String>,
}

/// The graph of a topology.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Graph {
    /// Its nodes.
    pub nodes: Vec<Node>,
    /// Its edges.
    pub edges: Vec<Edge>,
}

/// Builds the graph of `topology` (read from `assets`), marking what
/// `exposures` reach and keeping what `filter` selects.
pub fn graph(
    topology: &Topology,
    assets: &[Asset],
    exposures: &[Exposure],
    filter: &Filter,
) -> Graph {
    let mut drawing = Drawing {
        topology,
        filter,
        place: assets
            .iter()
            .map(|a| (a.id.as_str(), (a.account.as_str(), a.region.as_str())))
            .collect(),
        exposed: exposures.iter().map(|e| e.asset_id.as_str()).collect(),
        g: GraphBuilder::default(),
    };
    drawing.network();
    drawing.acls();
    let groups = drawing.endpoints();
    drawing.addresses();
    drawing.groups(&groups);
    drawing.balancers();
    drawing.internet(exposures);
    drawing.g.finish()
}

/// A graph being drawn, and what it is drawn from.
struct Drawing<'a> {
    topology: &'a Topology,
    filter: &'a Filter,
    /// Each asset's account and region.
    place: BTreeMap<&'a str, (&'a str, &'a str)>,
    /// The assets the internet reaches.
    exposed: BTreeSet<&'a str>,
    g: GraphBuilder,
}

impl<'a> Drawing<'a> {
    /// Whether the filter keeps the asset `id` (in network `vpc`).
    fn wanted(&self, id: &str, vpc: Option<&str>) -> bool {
        let (account, region) = self.place.get(id).copied().unwrap_or(("", ""));
        self.filter.account.as_deref().is_none_or(|a| a == account)
            && self.filter.region.as_deref().is_none_or(|r| r == region)
            && self.filter.vpc.as_deref().is_none_or(|v| vpc == Some(v))
    }

    /// The ARN of each subnet, by its id.
    fn subnet_arns(&self) -> BTreeMap<&'a str, &'a str> {
        self.topology
            .subnets
            .values()
            .map(|s| (s.id.as_str(), s.arn.as_str()))
            .collect()
    }

    /// Subnets, route tables and their targets, and the gateways of the
    /// networks drawn.
    fn network(&mut self) {
        let topology = self.topology;
        let subnet_arn: BTreeMap<&str, &str> = topology
            .subnets
            .values()
            .map(|s| (s.id.as_str(), s.arn.as_str()))
            .collect();
        let mut vpcs_drawn = BTreeSet::new();
        for subnet in topology.subnets.values() {
            if !self.wanted(&subnet.arn, Some(&subnet.vpc)) {
                continue;
            }
            vpcs_drawn.insert(subnet.vpc.clone());
            self.g.node(
                &subnet.arn,
                &subnet.name,
                &subnet.kind,
                Some(&subnet.vpc),
                None,
                false,
            );
            self.g.subnet(&subnet.arn);
        }
        for table in &topology.route_tables {
            if !self.wanted(&table.arn, Some(&table.vpc)) {
                continue;
            }
            self.g.node(
                &table.arn,
                &table.id,
                &table.kind,
                Some(&table.vpc),
                None,
                false,
            );
            for subnet in &table.subnets {
                if let Some(arn) = subnet_arn.get(subnet.as_str()) {
                    self.g.edge(&table.arn, arn, "serves", "");
                }
            }
            for route in table.routes.iter().filter(|r| r.via != Via::Local) {
                let target = topology
                    .gateways
                    .get(&route.target)
                    .map_or(route.target.as_str(), |g| g.arn.as_str());
                let kind = route.target_kind.as_deref().unwrap_or("route target");
                self.g.node(target, &route.target, kind, None, None, false);
                self.g.edge(
                    &table.arn,
                    target,
                    "routes_to",
                    &route.destination.to_string(),
                );
            }
        }
        for (id, gateway) in &topology.gateways {
            if gateway.vpcs.iter().any(|v| vpcs_drawn.contains(v)) {
                self.g
                    .node(&gateway.arn, id, &gateway.kind, None, None, false);
            }
        }
    }

    /// Network ACLs and the subnets they guard.
    fn acls(&mut self) {
        let topology = self.topology;
        let subnet_arn = self.subnet_arns();
        for acl in &topology.acls {
            if !self.wanted(&acl.arn, Some(&acl.vpc)) {
                continue;
            }
            self.g
                .node(&acl.arn, &acl.id, &acl.kind, Some(&acl.vpc), None, false);
            for subnet in &acl.subnets {
                if let Some(arn) = subnet_arn.get(subnet.as_str()) {
                    self.g.edge(&acl.arn, arn, "guards", "");
                }
            }
        }
    }

    /// Endpoints, their interfaces, subnets and groups; returns the groups
    /// they use.
    fn endpoints(&mut self) -> BTreeSet<String> {
        let topology = self.topology;
        let mut groups_used = BTreeSet::new();
        for endpoint in &topology.endpoints {
            let Some(subnet) = topology.subnets.get(&endpoint.subnet) else {
                continue;
            };
            if !self.wanted(&endpoint.owner, Some(&subnet.vpc)) {
                continue;
            }
            let is_exposed = self.exposed.contains(endpoint.owner.as_str());
            let owner_in_subnet = endpoint.interface.is_none();
            self.g.node(
                &endpoint.owner,
                &endpoint.owner_name,
                &endpoint.owner_type,
                Some(&subnet.vpc),
                owner_in_subnet.then_some(subnet.id.as_str()),
                is_exposed,
            );
            let anchor = match &endpoint.interface {
                Some(interface) if *interface != endpoint.owner_name => {
                    self.g.node(
                        interface,
                        interface,
                        &endpoint.interface_kind,
                        Some(&subnet.vpc),
                        Some(&subnet.id),
                        is_exposed,
                    );
                    self.g.edge(&endpoint.owner, interface, "attached_to", "");
                    interface.as_str()
                }
                _ => endpoint.owner.as_str(),
            };
            self.g.edge(anchor, &subnet.arn, "in_subnet", "");
            if let Some(own) = topology.interface_acl(endpoint) {
                self.g.edge(&own.arn, anchor, "guards", "");
            }
            for group in endpoint
                .groups
                .iter()
                .filter_map(|id| topology.groups.get(id))
            {
                self.g.edge(anchor, &group.arn, "uses_security_group", "");
                groups_used.insert(group.id.clone());
            }
        }
        groups_used
    }

    fn addresses(&mut self) {
        let topology = self.topology;
        // Public addresses, beside the interfaces they are associated with.
        for address in &topology.addresses {
            if self.g.has(&address.interface) {
                self.g
                    .node(&address.arn, &address.ip, &address.kind, None, None, false);
                self.g
                    .edge(&address.arn, &address.interface, "associated_with", "");
            }
        }
    }

    /// The groups in use, and which admits which.
    fn groups(&mut self, groups_used: &BTreeSet<String>) {
        let topology = self.topology;
        for group in topology
            .groups
            .values()
            .filter(|g| groups_used.contains(&g.id))
        {
            self.g
                .node(&group.arn, &group.id, &group.kind, None, None, false);
            for rule in &group.ingress {
                if let Source::Group(from) = &rule.source
                    && let Some(from) = topology.groups.get(from)
                    && groups_used.contains(&from.id)
                {
                    self.g.edge(
                        &group.arn,
                        &from.arn,
                        "allows_from",
                        &rule.ports.to_string(),
                    );
                }
            }
        }
    }

    /// What load balancers forward to.
    fn balancers(&mut self) {
        let topology = self.topology;
        for balancer in topology.balancers.values() {
            if !self.g.has(&balancer.arn) {
                continue;
            }
            for group in balancer.listeners.iter().flat_map(|l| &l.target_groups) {
                let Some(target_group) = topology.target_groups.get(group) else {
                    continue;
                };
                self.g.node(
                    &target_group.arn,
                    &target_group.name,
                    &target_group.kind,
                    None,
                    None,
                    false,
                );
                self.g
                    .edge(&balancer.arn, &target_group.arn, "forwards_to", "");
                for (target, port) in &target_group.targets {
                    if let Some(instance) = topology.instances.get(target)
                        && self.g.has(instance)
                    {
                        self.g.edge(
                            &target_group.arn,
                            instance,
                            "targets",
                            &format!("tcp/{port}"),
                        );
                    }
                }
            }
        }
    }

    /// The internet, and the gateways it reaches exposed assets through.
    fn internet(&mut self, exposures: &[Exposure]) {
        if exposures.iter().any(|e| self.g.has(&e.asset_id)) {
            self.g
                .node("internet", "internet", "Internet", None, None, false);
            let gateways: BTreeSet<&str> = exposures
                .iter()
                .filter(|e| self.g.has(&e.asset_id) && e.via.is_none())
                .filter_map(|e| e.path.get(1).map(|hop| hop.id.as_str()))
                .collect();
            for gateway in gateways {
                self.g.edge("internet", gateway, "reaches", "");
            }
        }
    }
}

#[derive(Default)]
struct GraphBuilder {
    nodes: BTreeMap<String, Node>,
    edges: BTreeSet<(String, String, &'static str, String)>,
}

impl GraphBuilder {
    fn node(
        &mut self,
        id: &str,
        label: &str,
        kind: &str,
        vpc: Option<&str>,
        subnet: Option<&str>,
        exposed: bool,
    ) {
        let node = self.nodes.entry(id.to_owned()).or_insert_with(|| Node {
            id: id.to_owned(),
            label: label.to_owned(),
            kind: kind.to_owned(),
            vpc: vpc.map(str::to_owned),
            subnet: subnet.map(str::to_owned),
            exposed,
            is_subnet: false,
        });
        node.exposed |= exposed;
    }

    /// Marks a node drawn as a subnet.
    fn subnet(&mut self, id: &str) {
        if let Some(node) = self.nodes.get_mut(id) {
            node.is_subnet = true;
        }
    }

    fn has(&self, id: &str) -> bool {
        self.nodes.contains_key(id)
    }

    fn edge(&mut self, from: &str, to: &str, kind: &'static str, label: &str) {
        self.edges
            .insert((from.to_owned(), to.to_owned(), kind, label.to_owned()));
    }

    fn finish(self) -> Graph {
        let nodes = self.nodes;
        let edges = self
            .edges
            .into_iter()
            .filter(|(from, to, _, _)| nodes.contains_key(from) && nodes.contains_key(to))
            .map(|(from, to, kind, label)| Edge {
                from,
                to,
                kind,
                label,
            })
            .collect();
        Graph {
            nodes: nodes.into_values().collect(),
            edges,
        }
    }
}

/// A DOT string literal.
fn quote(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("\"{escaped}\"")
}

/// The graph in Graphviz DOT: each VPC a cluster with a cluster per
/// subnet, exposed assets filled red, and `path` (an exposure's hops)
/// drawn as bold red edges.
pub fn to_dot(graph: &Graph, path: Option<&Exposure>) -> String {
    let mut out = String::from(
        "digraph parapet {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f4f6f8\", fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10, color=\"#8a94a6\"];\n",
    );
    let mut by_vpc: BTreeMap<Option<&str>, BTreeMap<Option<&str>, Vec<&Node>>> = BTreeMap::new();
    for node in &graph.nodes {
        by_vpc
            .entry(node.vpc.as_deref())
            .or_default()
            .entry(
                node.subnet
                    .as_deref()
                    .or(node.is_subnet.then_some(node.label.as_str())),
            )
            .or_default()
            .push(node);
    }
    let line = |node: &Node| {
        let fill = if node.exposed {
            ", fillcolor=\"#f8d0d0\", color=\"#c62828\""
        } else {
            ""
        };
        let shape = if node.kind == "Internet" {
            ", shape=ellipse"
        } else {
            ""
        };
        format!(
            "{} [label={}{fill}{shape}];\n",
            quote(&node.id),
            quote(&format!("{}\n{}", node.label, short_kind(&node.kind)))
        )
    };
    for (n, (vpc, subnets)) in by_vpc.iter().enumerate() {
        let indent = if vpc.is_some() { "    " } else { "  " };
        if let Some(vpc) = vpc {
            let _ = writeln!(
                out,
                "  subgraph cluster_vpc_{n} {{\n    label={};",
                quote(vpc)
            );
        }
        for (m, (subnet, nodes)) in subnets.iter().enumerate() {
            if let Some(subnet) = subnet {
                let _ = writeln!(
                    out,
                    "{indent}subgraph cluster_vpc_{n}_subnet_{m} {{\n{indent}  label={};",
                    quote(subnet)
                );
            }
            for node in nodes {
                out.push_str(indent);
                out.push_str(&line(node));
            }
            if subnet.is_some() {
                let _ = writeln!(out, "{indent}}}");
            }
        }
        if vpc.is_some() {
            out.push_str("  }\n");
        }
    }
    let on_path: BTreeSet<(&str, &str)> = path
        .map(|e| {
            e.path
                .windows(2)
                .map(|w| (w[0].id.as_str(), w[1].id.as_str()))
                .collect()
        })
        .unwrap_or_default();
    for edge in &graph.edges {
        let (from, to) = (edge.from.as_str(), edge.to.as_str());
        let style = if on_path.contains(&(from, to)) || on_path.contains(&(to, from)) {
            ", color=\"#c62828\", penwidth=3"
        } else {
            ""
        };
        let label = if edge.label.is_empty() {
            edge.kind.to_owned()
        } else {
            format!("{} {}", edge.kind, edge.label)
        };
        let _ = writeln!(
            out,
            "  {} -> {} [label={}{style}];",
            quote(&edge.from),
            quote(&edge.to),
            quote(&label)
        );
    }
    // The path's hops that are not edges of the graph (through a group to
    // the asset), drawn too.
    let drawn: BTreeSet<(&str, &str)> = graph
        .edges
        .iter()
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect();
    let ids: BTreeSet<&str> = graph.nodes.iter().map(|n| n.id.as_str()).collect();
    for (from, to) in &on_path {
        let between = drawn.contains(&(*from, *to)) || drawn.contains(&(*to, *from));
        if !between && ids.contains(from) && ids.contains(to) {
            let _ = writeln!(
                out,
                "  {} -> {} [color=\"#c62828\", penwidth=3];",
                quote(from),
                quote(to)
            );
        }
    }
    out.push_str("}\n");
    out
}

/// `Subnet` for `AWS::EC2::Subnet`.
fn short_kind(kind: &str) -> &str {
    kind.rsplit("::").next().unwrap_or(kind)
}

/// The graph drawn as SVG by the Rust layout engine (layout-rs), which
/// draws the clusters' contents without their frames.
pub fn to_svg(dot: &str) -> Result<String, String> {
    let mut parser = layout::gv::DotParser::new(dot);
    let tree = parser.process()?;
    let mut builder = layout::gv::GraphBuilder::new();
    builder.visit_graph(&tree);
    let mut visual = builder.get();
    let mut svg = layout::backends::svg::SVGWriter::new();
    visual.do_it(false, false, false, &mut svg);
    Ok(svg.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposure::exposures;
    use crate::fixtures::*;
    use serde_json::json;

    /// A private instance behind an internet-facing load balancer in the
    /// public subnet, and a database whose group admits only the app's.
    fn estate() -> Vec<Asset> {
        let mut assets = behind_balancer();
        assets.push(asset(
            "AWS::Lambda::Function",
            "fn",
            json!({
            "VpcConfig": {"SubnetIds": ["subnet-priv"], "SecurityGroupIds": ["sg-app"]}}),
        ));
        assets.push(instance(
            "i-web",
            json!([nic(
                "eni-web",
                "subnet-pub",
                Some("198.51.100.20"),
                &["sg-alb"]
            )]),
        ));
        assets.push(asset(
            "AWS::EC2::EIP",
            "eipalloc-1",
            json!({"PublicIp": "198.51.100.20", "NetworkInterfaceId": "eni-web"}),
        ));
        assets
    }

    fn has_edge(g: &Graph, from: &str, to: &str, kind: &str) -> bool {
        g.edges
            .iter()
            .any(|e| e.from == from && e.to == to && e.kind == kind)
    }

    #[test]
    fn the_graph_links_routes_acls_groups_balancers_and_targets() {
        let assets = estate();
        let t = Topology::build(&assets);
        let found = exposures(&t);
        let g = graph(&t, &assets, &found, &Filter::default());
        assert!(has_edge(&g, "arn:rtb-pub", "arn:subnet-pub", "serves"));
        assert!(has_edge(&g, "arn:rtb-pub", "arn:igw-1", "routes_to"));
        assert!(
            has_edge(&g, "arn:rtb-priv", "nat-1", "routes_to"),
            "{:#?}",
            g.edges
        );
        assert!(has_edge(&g, "arn:acl-default", "arn:subnet-priv", "guards"));
        assert!(has_edge(&g, "arn:i-app", "eni-app", "attached_to"));
        assert!(has_edge(&g, "eni-app", "arn:sg-app", "uses_security_group"));
        assert!(has_edge(&g, "arn:sg-app", "arn:sg-alb", "allows_from"));
        assert!(has_edge(&g, "arn:alb", "arn:tg", "forwards_to"));
        assert!(has_edge(&g, "arn:tg", "arn:i-app", "targets"));
        assert!(has_edge(&g, "internet", "arn:igw-1", "reaches"));
        assert!(
            has_edge(&g, "arn:fn", "arn:subnet-priv", "in_subnet"),
            "a function in the VPC"
        );
        assert!(has_edge(&g, "arn:eipalloc-1", "eni-web", "associated_with"));
        let exposed: Vec<&str> = g
            .nodes
            .iter()
            .filter(|n| n.exposed)
            .map(|n| n.label.as_str())
            .collect();
        assert!(
            exposed.contains(&"alb") && exposed.contains(&"i-app"),
            "{exposed:?}"
        );
        assert!(!exposed.contains(&"subnet-pub"));
    }

    #[test]
    fn filters_keep_one_vpc_or_account() {
        let assets = estate();
        let t = Topology::build(&assets);
        let none = graph(
            &t,
            &assets,
            &[],
            &Filter {
                vpc: Some("vpc-2".into()),
                ..Filter::default()
            },
        );
        assert!(none.nodes.is_empty() && none.edges.is_empty());
        let other = graph(
            &t,
            &assets,
            &[],
            &Filter {
                account: Some("999999999999".into()),
                ..Filter::default()
            },
        );
        assert!(other.nodes.is_empty());
        let all = graph(
            &t,
            &assets,
            &[],
            &Filter {
                vpc: Some("vpc-1".into()),
                ..Filter::default()
            },
        );
        assert!(all.nodes.iter().any(|n| n.label == "i-app"));
    }

    #[test]
    fn dot_clusters_vpcs_and_subnets_draws_the_path_and_renders_to_svg() {
        let assets = estate();
        let t = Topology::build(&assets);
        let found = exposures(&t);
        let g = graph(&t, &assets, &found, &Filter::default());
        let app = found
            .iter()
            .find(|e| e.asset_id == "arn:i-app")
            .expect("exposed");
        let dot = to_dot(&g, Some(app));
        assert!(dot.starts_with("digraph parapet {"));
        assert!(
            dot.contains("subgraph cluster_vpc_") && dot.contains("label=\"subnet-priv\""),
            "{dot}"
        );
        assert!(dot.contains("\"arn:rtb-pub\" -> \"arn:igw-1\" [label=\"routes_to 0.0.0.0/0\", color=\"#c62828\", penwidth=3]"), "{dot}");
        assert!(
            dot.contains("\"arn:i-app\" [label=\"i-app\\nInstance\", fillcolor=\"#f8d0d0\""),
            "{dot}"
        );
        let plain = to_dot(&g, None);
        assert!(!plain.contains("penwidth=3"));
        let svg = to_svg(&dot).expect("svg");
        assert!(
            svg.contains("<svg") && svg.contains("i-app"),
            "{}",
            &svg[..200.min(svg.len())]
        );
        assert!(to_svg("digraph {").is_err());
    }
}
