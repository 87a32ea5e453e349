//! Provider adapters: each reads its provider's assets into the
//! provider-neutral topology, and finds the grants that open its resources
//! to everyone. A provider is one module and one line in [`ADAPTERS`].
//!
//! # Layout
//!
//! - [`aws`]: VPCs, subnets, route tables, gateways, network ACLs, security
//!   groups, instances, interfaces, databases and load balancers.
//! - [`aws_public`]: AWS policies, ACLs and permissions that grant everyone.
//! - [`azure`]: virtual networks and subnets, route tables, network
//!   security groups on subnets and interfaces, public addresses, machines
//!   and scale sets, public load balancers.
//! - [`gcp`]: VPC networks and subnetworks, routes, VPC firewall rules by
//!   priority and target, instances' external addresses, external load
//!   balancers and their backends' instances.

pub mod aws;
pub mod aws_public;
pub mod azure;
pub mod gcp;

use crate::ports::PortSet;
use crate::public::PublicAccess;
use crate::topology::Topology;
use ipnet::IpNet;
use parapet_core::{Asset, Provider};
use serde_json::Value;

/// Reads one provider's assets.
pub trait Adapter: Sync {
    /// The provider whose assets it reads.
    fn provider(&self) -> Provider;
    /// Adds what `assets` (all of its provider) say of the network to `t`.
    fn read(&self, assets: &[&Asset], t: &mut Topology);
    /// The grants of `assets` that open a resource to everyone.
    fn public_grants(&self, assets: &[&Asset]) -> Vec<PublicAccess>;
}

/// Every adapter.
pub static ADAPTERS: &[&dyn Adapter] = &[&aws::Aws, &azure::Azure, &gcp::Gcp];

/// Routes of the whole internet (IPv4 and IPv6) to `target`: what a
/// public front end, or a network's default route, answers through.
pub(crate) fn internet_routes(target: &str) -> Vec<crate::topology::Route> {
    ["0.0.0.0/0", "::/0"]
        .iter()
        .filter_map(|d| {
            Some(crate::topology::Route {
                destination: d.parse().ok()?,
                target: target.to_owned(),
                via: crate::topology::Via::Internet,
                target_kind: None,
                active: true,
            })
        })
        .collect()
}

/// A non-empty text field.
pub(crate) fn text<'a>(value: &'a Value, field: &str) -> Option<&'a str> {
    value
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The items of a list field.
pub(crate) fn list<'a>(value: &'a Value, field: &str) -> impl Iterator<Item = &'a Value> {
    value
        .get(field)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// The strings of a list field.
pub(crate) fn strings(value: &Value, field: &str) -> Vec<String> {
    list(value, field)
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// An address block field.
pub(crate) fn cidr(value: &Value, field: &str) -> Option<IpNet> {
    text(value, field).and_then(|c| c.parse().ok())
}

/// A rule's protocol and ports (`protocol_field`, `FromPort`, `ToPort`).
pub(crate) fn rule_ports(rule: &Value, protocol_field: &str) -> PortSet {
    PortSet::of_rule(
        text(rule, protocol_field).unwrap_or("-1"),
        rule.get("FromPort").and_then(Value::as_i64),
        rule.get("ToPort").and_then(Value::as_i64),
    )
}
