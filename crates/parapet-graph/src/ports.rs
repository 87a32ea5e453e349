//! Sets of protocols and ports, as firewall rules admit them: the unit in
//! which network ACL and security group decisions are combined.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// A transport protocol, as AWS rules name it by name or number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
    /// ICMP and ICMPv6 (1, 58); ports are types and codes.
    Icmp,
}

impl Protocol {
    /// Every protocol a rule for "all" (`-1`) admits.
    pub const ALL: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Icmp];

    /// The protocols a rule's `IpProtocol` or `Protocol` names: `-1` is all
    /// of them; a protocol Parapet does not model gives none.
    pub fn of_rule(name: &str) -> Vec<Protocol> {
        match name.to_ascii_lowercase().as_str() {
            "-1" | "all" => Protocol::ALL.to_vec(),
            "tcp" | "6" => vec![Protocol::Tcp],
            "udp" | "17" => vec![Protocol::Udp],
            "icmp" | "1" | "icmpv6" | "58" => vec![Protocol::Icmp],
            _ => Vec::new(),
        }
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Icmp => "icmp",
        }
    }
}

/// An inclusive range of ports.
pub type Range = (u16, u16);

/// Ports per protocol, as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortSet(BTreeMap<Protocol, Vec<Range>>);

impl PortSet {
    /// Nothing.
    pub fn empty() -> PortSet {
        PortSet::default()
    }

    /// Every port of every protocol.
    pub fn all() -> PortSet {
        PortSet(
            Protocol::ALL
                .iter()
                .map(|p| (*p, vec![(0, u16::MAX)]))
                .collect(),
        )
    }

    /// What a rule admits: its protocol (`-1` for all) and port range
    /// (`-1`, or a missing bound, for all ports).
    pub fn of_rule(protocol: &str, from: Option<i64>, to: Option<i64>) -> PortSet {
        let protocols = Protocol::of_rule(protocol);
        let range = match (from, to) {
            _ if protocol == "-1" => (0, u16::MAX),
            (Some(f), Some(t)) if f >= 0 && t >= 0 => (clamp(f), clamp(t.max(f))),
            _ => (0, u16::MAX),
        };
        PortSet(protocols.into_iter().map(|p| (p, vec![range])).collect())
    }

    /// One protocol's range.
    pub fn single(protocol: Protocol, from: u16, to: u16) -> PortSet {
        PortSet(BTreeMap::from([(protocol, vec![(from, to.max(from))])]))
    }

    /// Whether it admits nothing.
    pub fn is_empty(&self) -> bool {
        self.0.values().all(Vec::is_empty)
    }

    /// The ranges, protocol by protocol.
    pub fn ranges(&self) -> impl Iterator<Item = (Protocol, Range)> + '_ {
        self.0
            .iter()
            .flat_map(|(p, ranges)| ranges.iter().map(move |r| (*p, *r)))
    }

    /// What either admits.
    pub fn union(&self, other: &PortSet) -> PortSet {
        let mut out = self.0.clone();
        for (protocol, ranges) in &other.0 {
            let merged = out.entry(*protocol).or_default();
            merged.extend(ranges);
            *merged = normalise(std::mem::take(merged));
        }
        PortSet(out)
    }

    /// What both admit.
    pub fn intersect(&self, other: &PortSet) -> PortSet {
        let mut out = BTreeMap::new();
        for (protocol, ours) in &self.0 {
            let Some(theirs) = other.0.get(protocol) else {
                continue;
            };
            let mut both = Vec::new();
            for &(a, b) in ours {
                for &(c, d) in theirs {
                    let (lo, hi) = (a.max(c), b.min(d));
                    if lo <= hi {
                        both.push((lo, hi));
                    }
                }
            }
            let both = normalise(both);
            if !both.is_empty() {
                out.insert(*protocol, both);
            }
        }
        PortSet(out)
    }

    /// What this admits and `other` does not.
    pub fn minus(&self, other: &PortSet) -> PortSet {
        let mut out = BTreeMap::new();
        for (protocol, ours) in &self.0 {
            let theirs = other.0.get(protocol).cloned().unwrap_or_default();
            let mut left = Vec::new();
            for &(a, b) in ours {
                let mut pieces = vec![(a, b)];
                for &(c, d) in &theirs {
                    pieces = pieces
                        .into_iter()
                        .flat_map(|(x, y)| {
                            let mut keep = Vec::new();
                            if d < x || c > y {
                                keep.push((x, y));
                            } else {
                                if c > x {
                                    keep.push((x, c - 1));
                                }
                                if d < y {
                                    keep.push((d + 1, y));
                                }
                            }
                            keep
                        })
                        .collect();
                }
                left.extend(pieces);
            }
            let left = normalise(left);
            if !left.is_empty() {
                out.insert(*protocol, left);
            }
        }
        PortSet(out)
    }
}

impl fmt::Display for PortSet {
    /// `tcp/22`, `tcp/1024-65535`, `all` for everything, joined by commas.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == PortSet::all() {
            return f.write_str("all");
        }
        let parts: Vec<String> = self.ranges().map(|(p, r)| describe(p, r)).collect();
        f.write_str(&parts.join(", "))
    }
}

/// `tcp/22`, `udp/0-65535`, `icmp` (all types).
pub fn describe(protocol: Protocol, (from, to): Range) -> String {
    match (protocol, from, to) {
        (Protocol::Icmp, 0, u16::MAX) => "icmp".to_owned(),
        (p, a, b) if a == b => format!("{}/{a}", p.as_str()),
        (p, a, b) => format!("{}/{a}-{b}", p.as_str()),
    }
}

fn clamp(port: i64) -> u16 {
    u16::try_from(port.clamp(0, i64::from(u16::MAX))).unwrap_or(u16::MAX)
}

/// Sorted, disjoint, non-adjacent.
fn normalise(mut ranges: Vec<Range>) -> Vec<Range> {
    ranges.sort_unstable();
    let mut out: Vec<Range> = Vec::with_capacity(ranges.len());
    for (a, b) in ranges {
        match out.last_mut() {
            Some(last) if u32::from(a) <= u32::from(last.1) + 1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_protocols_by_name_or_number_and_minus_one_as_all() {
        assert_eq!(PortSet::of_rule("-1", Some(-1), Some(-1)), PortSet::all());
        assert_eq!(
            PortSet::of_rule("6", Some(22), Some(22)),
            PortSet::single(Protocol::Tcp, 22, 22)
        );
        assert_eq!(
            PortSet::of_rule("tcp", Some(-1), Some(-1)),
            PortSet::single(Protocol::Tcp, 0, u16::MAX)
        );
        assert!(
            PortSet::of_rule("50", Some(0), Some(0)).is_empty(),
            "ESP is not modelled"
        );
    }

    #[test]
    fn set_operations_split_and_merge_ranges() {
        let wide = PortSet::single(Protocol::Tcp, 0, 1000);
        let hole = PortSet::single(Protocol::Tcp, 22, 22);
        let rest = wide.minus(&hole);
        assert_eq!(rest.to_string(), "tcp/0-21, tcp/23-1000");
        assert_eq!(rest.union(&hole), wide);
        assert_eq!(wide.intersect(&hole), hole);
        assert!(rest.intersect(&hole).is_empty());
        let udp = PortSet::single(Protocol::Udp, 53, 53);
        assert!(wide.intersect(&udp).is_empty());
        assert_eq!(PortSet::all().minus(&PortSet::all()), PortSet::empty());
        assert_eq!(PortSet::all().to_string(), "all");
    }
}
