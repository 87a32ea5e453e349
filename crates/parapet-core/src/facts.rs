//! Facts about an asset that come from the estate around it rather than its
//! own document, as rules read them: how the internet reaches it (the
//! `exposure` variable, from the topology) and the known vulnerabilities of
//! its software (the `vulnerabilities` variable, from the scans attached to
//! it and to what it runs from) and what a principal may do (the
//! `permissions` variable, from the policies that reach it).
//! `docs/rules.md` documents them.

use crate::vulnerability::Vulnerability;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One way the internet reaches an asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExposureFact {
    /// `tcp`, `udp`, `icmp` or `all`.
    pub protocol: String,
    /// The first port of the range reached.
    pub from_port: u16,
    /// The last port of the range reached.
    pub to_port: u16,
    /// `ipv4` or `ipv6`.
    pub family: String,
    /// The public address (or DNS name) reached.
    pub address: String,
    /// The internet addresses it is reachable from.
    pub source: String,
    /// Whether that is the whole internet (`0.0.0.0/0` or `::/0`).
    pub from_anywhere: bool,
    /// The load balancer in front, when reached through one.
    #[serde(default)]
    pub via: Option<String>,
    /// The hops from the internet to the asset, as one line.
    pub path: String,
}

/// What the internet reaches of each asset of an estate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExposureFacts {
    /// Each exposed asset's exposures, by asset id; an asset absent here is
    /// not reached.
    pub exposed: HashMap<String, Vec<ExposureFact>>,
    /// Assets whose exposure could not be decided, with why (the topology
    /// around them is incomplete).
    pub undecided: HashMap<String, String>,
}

/// A known vulnerability of an asset's software, with the asset whose scan
/// found it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VulnerabilityFact {
    /// The vulnerability.
    #[serde(flatten)]
    pub vulnerability: Vulnerability,
    /// The asset the scan is attached to: the asset itself, or the image,
    /// volume or snapshot it runs from.
    pub source: String,
}

/// The known vulnerabilities of each asset a vulnerability scan covers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VulnerabilityFacts {
    /// By asset id; an asset absent here is covered by no scan, and rules
    /// that read its vulnerabilities are unknown.
    pub scanned: HashMap<String, Vec<VulnerabilityFact>>,
}

/// What a principal may do: the statements of every policy that reaches it
/// (its own, those of its groups, and the managed policies attached to
/// either), and the boundary that caps them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Permissions {
    /// Each statement as its policy writes it, with `Source` added: the
    /// policy it comes from and how it reaches the principal.
    pub statements: Vec<serde_json::Value>,
    /// The statements of its permissions boundary, when it has one: an
    /// action is allowed only where the boundary allows it too.
    #[serde(default)]
    pub boundary: Option<Vec<serde_json::Value>>,
}

/// The permissions of each principal of an estate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PermissionFacts {
    /// By principal id; an asset absent here is no principal.
    pub principals: HashMap<String, Permissions>,
    /// Principals whose permissions could not be worked out, with why (a
    /// policy or group that reaches them was not collected).
    pub undecided: HashMap<String, String>,
}
