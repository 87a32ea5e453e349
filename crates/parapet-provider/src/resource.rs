//! What a provider says of each resource type it collects: its
//! documentation page, the change events that create, change or delete it,
//! the types described again with it, and its part in the network.

use crate::events::Action;
use serde::Serialize;

/// The part a resource type plays in the network topology. A change to a
/// type on the path from the internet ([`NetworkRole::on_path`]) changes
/// what reaches every endpoint behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkRole {
    /// A private network (a VPC, a virtual network).
    Network,
    /// A subnet of one.
    Subnet,
    /// Routes out of subnets (a route table).
    Routes,
    /// A gateway: to the internet, or a NAT.
    Gateway,
    /// Rules that admit traffic: a security group, a network ACL, a
    /// firewall rule set.
    Firewall,
    /// A public address of its own (an elastic IP).
    Address,
    /// What forwards traffic on: a load balancer's listener or target group.
    Forwarding,
    /// What the internet may reach: an instance, an interface, a database,
    /// a load balancer.
    Endpoint,
    /// In a network behind firewalls, but never reached directly (a
    /// function, a search domain, a cluster's private endpoint).
    Member,
}

impl NetworkRole {
    /// Whether the type lies on the path from the internet to endpoints.
    pub fn on_path(self) -> bool {
        !matches!(self, NetworkRole::Endpoint | NetworkRole::Member)
    }
}

/// One change event that touches a resource type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventInfo {
    /// The service that emits it (`s3.amazonaws.com`).
    pub source: String,
    /// Its name (`PutBucketPolicy`).
    pub name: String,
    /// What it does to the resource.
    pub action: Action,
}

/// One resource type a provider collects.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceTypeInfo {
    /// The type, in the provider's own naming (`AWS::S3::Bucket`).
    pub name: &'static str,
    /// The service whose API describes it (`s3`).
    pub service: &'static str,
    /// Its documentation page: fields, where each comes from, and an
    /// example, in Markdown.
    #[serde(skip)]
    pub page: &'static str,
    /// The change events that create, change or delete it.
    pub events: Vec<EventInfo>,
    /// The types described again when it changes (besides, for a type on
    /// the network path, every endpoint).
    pub dependents: &'static [&'static str],
    /// Its part in the network topology, if any.
    pub network: Option<NetworkRole>,
}

impl ResourceTypeInfo {
    /// The page's first paragraph after the title: what the type is.
    pub fn summary(&self) -> &'static str {
        self.page
            .lines()
            .skip_while(|l| l.starts_with('#') || l.trim().is_empty())
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
    }

    /// The configuration fields the page's table lists.
    pub fn fields(&self) -> Vec<&'static str> {
        self.page
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split('`').next())
            .collect()
    }
}

/// The types described again when `resource_type` changes, among `types`:
/// its own dependents and, for a type on the network path, every endpoint.
pub fn dependents_of<'a>(types: &'a [ResourceTypeInfo], resource_type: &str) -> Vec<&'a str> {
    let Some(info) = types.iter().find(|t| t.name == resource_type) else {
        return Vec::new();
    };
    let mut out: Vec<&str> = info.dependents.to_vec();
    if info.network.is_some_and(NetworkRole::on_path) {
        out.extend(
            types
                .iter()
                .filter(|t| t.network == Some(NetworkRole::Endpoint))
                .map(|t| t.name),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &'static str, network: Option<NetworkRole>) -> ResourceTypeInfo {
        ResourceTypeInfo {
            name,
            service: "x",
            page: "# X\n\nA thing.\n\n| `Name` | text |\n",
            events: Vec::new(),
            dependents: &[],
            network,
        }
    }

    #[test]
    fn a_change_on_the_network_path_reaches_every_endpoint() {
        let types = [
            info("Firewall", Some(NetworkRole::Firewall)),
            info("Vm", Some(NetworkRole::Endpoint)),
            info("Function", Some(NetworkRole::Member)),
            info("Bucket", None),
        ];
        assert_eq!(dependents_of(&types, "Firewall"), ["Vm"]);
        assert!(dependents_of(&types, "Vm").is_empty());
        assert!(dependents_of(&types, "Function").is_empty());
        assert!(dependents_of(&types, "Unknown").is_empty());
        assert_eq!(types[0].summary(), "A thing.");
        assert_eq!(types[0].fields(), ["Name"]);
    }
}
