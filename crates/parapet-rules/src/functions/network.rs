//! Network functions: CIDR containment, the whole internet, public ranges and
//! port ranges, for IPv4 and IPv6 alike.

use super::{arg, error, int, text};
use crate::cel::{Env, EvalError, Val};
use ipnet::IpNet;
use std::net::IpAddr;

/// Parses a CIDR range, or a single address as a one-address range.
pub fn parse_range(function: &str, text: &str) -> Result<IpNet, EvalError> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net);
    }
    text.parse::<IpAddr>().map(IpNet::from).map_err(|_| {
        error(
            function,
            format!("`{text}` is not an IP address or CIDR range"),
        )
    })
}

/// `cidrContains(range, inner)`: whether `inner` (an address or range) lies
/// wholly inside `range`. Ranges of different families never contain each
/// other.
pub fn cidr_contains<'a>(args: &[Val<'a>], _: &Env<'a>) -> Result<Val<'a>, EvalError> {
    let outer = parse_range("cidrContains", text("cidrContains", args, 0)?)?;
    let inner = parse_range("cidrContains", text("cidrContains", args, 1)?)?;
    Ok(Val::Bool(outer.contains(&inner)))
}

/// `isInternet(range)`: whether the range is the whole internet of its
/// family: `0.0.0.0/0` or `::/0` (host bits set, as in `1.2.3.4/0`, count).
pub fn is_internet<'a>(args: &[Val<'a>], _: &Env<'a>) -> Result<Val<'a>, EvalError> {
    let range = parse_range("isInternet", text("isInternet", args, 0)?)?;
    Ok(Val::Bool(range.prefix_len() == 0))
}

/// Ranges that are not reachable from the internet: private, shared,
/// loopback, link-local and unique-local space.
const NON_PUBLIC: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "::1/128",
    "::/128",
    "fc00::/7",
    "fe80::/10",
];

/// `isPublicCidr(range)`: whether any address of the range is outside
/// private, shared, loopback and link-local space, so that the internet can
/// be among the sources it admits.
pub fn is_public_cidr<'a>(args: &[Val<'a>], _: &Env<'a>) -> Result<Val<'a>, EvalError> {
    let range = parse_range("isPublicCidr", text("isPublicCidr", args, 0)?)?;
    let inside_private = NON_PUBLIC
        .iter()
        .filter_map(|p| p.parse::<IpNet>().ok())
        .any(|private| private.contains(&range));
    Ok(Val::Bool(!inside_private))
}

/// The inclusive port range `from..=to`, where `-1` on either end (the EC2
/// API's "all ports") means 0 to 65535.
fn port_range(function: &str, from: i64, to: i64) -> Result<(i64, i64), EvalError> {
    if from == -1 || to == -1 {
        return Ok((0, 65535));
    }
    if !(0..=65535).contains(&from) || !(0..=65535).contains(&to) || from > to {
        return Err(error(
            function,
            format!("`{from}..{to}` is not a port range"),
        ));
    }
    Ok((from, to))
}

/// `portRangeIncludes(from, to, port)`: whether the inclusive range includes
/// `port`; `-1` at either end means all ports.
pub fn port_range_includes<'a>(args: &[Val<'a>], _: &Env<'a>) -> Result<Val<'a>, EvalError> {
    let f = "portRangeIncludes";
    let (lo, hi) = port_range(f, int(f, args, 0)?, int(f, args, 1)?)?;
    let port = int(f, args, 2)?;
    Ok(Val::Bool(lo <= port && port <= hi))
}

/// `portRangesOverlap(from1, to1, from2, to2)`: whether two inclusive ranges
/// share a port; `-1` at either end of a range means all ports.
pub fn port_ranges_overlap<'a>(args: &[Val<'a>], _: &Env<'a>) -> Result<Val<'a>, EvalError> {
    let f = "portRangesOverlap";
    let (lo1, hi1) = port_range(f, int(f, args, 0)?, int(f, args, 1)?)?;
    let (lo2, hi2) = port_range(f, int(f, args, 2)?, int(f, args, 3)?)?;
    Ok(Val::Bool(lo1 <= hi2 && lo2 <= hi1))
}

/// `portSpecIncludes(spec, port)`: whether a port written as Azure's
/// network security rules and Google's firewall rules write them (`22`,
/// `1000-2000`, or `*` for every port) includes `port`. A missing spec
/// (`null`) includes nothing.
pub fn port_spec_includes<'a>(args: &[Val<'a>], _: &Env<'a>) -> Result<Val<'a>, EvalError> {
    let f = "portSpecIncludes";
    let port = int(f, args, 1)?;
    if matches!(arg(args, 0), Val::Null) {
        return Ok(Val::Bool(false));
    }
    let spec = text(f, args, 0)?.trim();
    let number = |text: &str| {
        text.trim()
            .parse::<i64>()
            .map_err(|_| error(f, format!("`{spec}` is not a port, a range or `*`")))
    };
    let (lo, hi) = match spec.split_once('-') {
        _ if spec == "*" => (-1, -1),
        Some((from, to)) => (number(from)?, number(to)?),
        None => (number(spec)?, number(spec)?),
    };
    let (lo, hi) = port_range(f, lo, hi)?;
    Ok(Val::Bool(lo <= port && port <= hi))
}

/// `permissionText(permission)`: an EC2 security group permission as a
/// reader says it: `tcp/22 from 0.0.0.0/0, ::/0`, `all traffic from sg-1`,
/// `udp/1000-2000 from pl-1`. Fields it lacks are left out.
pub fn permission_text<'a>(args: &[Val<'a>], _: &Env<'a>) -> Result<Val<'a>, EvalError> {
    let permission = arg(args, 0);
    let text_of = |value: Option<Val<'_>>| match value {
        Some(Val::Int(i)) => Some(i.to_string()),
        Some(v) => v.as_str().map(str::to_owned),
        _ => None,
    };
    let number = |name: &str| match permission.field(name) {
        Some(Val::Int(i)) => Some(i),
        _ => None,
    };
    let protocol = match text_of(permission.field("IpProtocol")).as_deref() {
        None | Some("-1") => None,
        Some("6") => Some("tcp".to_owned()),
        Some("17") => Some("udp".to_owned()),
        Some("1") => Some("icmp".to_owned()),
        Some("58") => Some("icmpv6".to_owned()),
        Some(other) => Some(other.to_owned()),
    };
    let mut text = match protocol {
        None => "all traffic".to_owned(),
        Some(protocol) => match (number("FromPort"), number("ToPort")) {
            _ if protocol.starts_with("icmp") => protocol,
            (Some(from), Some(to)) if from <= 0 && to >= 65535 || from < 0 => {
                format!("{protocol}/all ports")
            }
            (Some(from), Some(to)) if from == to => format!("{protocol}/{from}"),
            (Some(from), Some(to)) => format!("{protocol}/{from}-{to}"),
            _ => protocol,
        },
    };
    let sources: Vec<String> = [
        ("IpRanges", "CidrIp"),
        ("Ipv6Ranges", "CidrIpv6"),
        ("UserIdGroupPairs", "GroupId"),
        ("PrefixListIds", "PrefixListId"),
    ]
    .iter()
    .filter_map(|(list, key)| match permission.field(list) {
        Some(items) if items.is_list() => Some(
            items
                .items()
                .into_iter()
                .flatten()
                .filter_map(|item| text_of(item.field(key)))
                .collect::<Vec<_>>(),
        ),
        _ => None,
    })
    .flatten()
    .collect();
    if !sources.is_empty() {
        text.push_str(" from ");
        text.push_str(&sources.join(", "));
    }
    Ok(Val::string(text))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{eval, fails_with, truth};
    use crate::cel::Val;

    #[test]
    fn permissions_read_as_protocol_ports_and_sources() {
        let text = |permission: &str| eval(&format!("permissionText({permission})")).expect("text");
        let string = Val::string;
        assert_eq!(
            text(
                "{'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22, 'IpRanges': [{'CidrIp': '0.0.0.0/0'}], 'Ipv6Ranges': [{'CidrIpv6': '::/0'}]}"
            ),
            string("tcp/22 from 0.0.0.0/0, ::/0")
        );
        assert_eq!(
            text("{'IpProtocol': '-1', 'UserIdGroupPairs': [{'GroupId': 'sg-1'}]}"),
            string("all traffic from sg-1")
        );
        assert_eq!(
            text(
                "{'IpProtocol': '17', 'FromPort': 1000, 'ToPort': 2000, 'PrefixListIds': [{'PrefixListId': 'pl-1'}]}"
            ),
            string("udp/1000-2000 from pl-1")
        );
        assert_eq!(
            text("{'IpProtocol': 'tcp', 'FromPort': 0, 'ToPort': 65535}"),
            string("tcp/all ports")
        );
        assert_eq!(
            text("{'IpProtocol': 'icmp', 'FromPort': 8, 'ToPort': -1}"),
            string("icmp")
        );
    }

    #[test]
    fn cidr_containment_for_both_families() {
        assert!(truth("cidrContains('10.0.0.0/8', '10.1.2.3')"));
        assert!(truth("cidrContains('10.0.0.0/8', '10.1.0.0/16')"));
        assert!(!truth("cidrContains('10.1.0.0/16', '10.0.0.0/8')"));
        assert!(!truth("cidrContains('10.0.0.0/8', '11.0.0.1')"));
        assert!(truth("cidrContains('0.0.0.0/0', '203.0.113.9')"));
        assert!(truth("cidrContains('2001:db8::/32', '2001:db8:1::/48')"));
        assert!(truth("cidrContains('::/0', '2001:db8::1')"));
        assert!(!truth("cidrContains('::/0', '10.0.0.1')"));
        assert!(!truth("cidrContains('0.0.0.0/0', '::1')"));
        fails_with(
            "cidrContains('10.0.0.0/33', '10.0.0.1')",
            "not an IP address",
        );
        fails_with("cidrContains('banana', '10.0.0.1')", "`banana`");
    }

    #[test]
    fn the_whole_internet_in_v4_and_v6() {
        assert!(truth("isInternet('0.0.0.0/0')"));
        assert!(truth("isInternet('::/0')"));
        assert!(truth("isInternet('1.2.3.4/0')"));
        assert!(!truth("isInternet('0.0.0.0/1')"));
        assert!(!truth("isInternet('::/1')"));
        assert!(!truth("isInternet('0.0.0.0')"));
        assert!(!truth("isInternet('10.0.0.0/8')"));
        fails_with("isInternet('')", "not an IP address");
    }

    #[test]
    fn public_ranges() {
        assert!(truth("isPublicCidr('0.0.0.0/0')"));
        assert!(truth("isPublicCidr('203.0.113.0/24')"));
        assert!(truth("isPublicCidr('::/0')"));
        assert!(truth("isPublicCidr('2001:db8::/32')"));
        assert!(!truth("isPublicCidr('10.20.0.0/16')"));
        assert!(!truth("isPublicCidr('192.168.1.1')"));
        assert!(!truth("isPublicCidr('fd00::/8')"));
        assert!(!truth("isPublicCidr('fe80::1')"));
        // A range that spans private and public space admits public sources.
        assert!(truth("isPublicCidr('8.0.0.0/6')"));
    }

    #[test]
    fn port_ranges() {
        assert!(truth("portRangeIncludes(22, 22, 22)"));
        assert!(truth("portRangeIncludes(0, 65535, 3389)"));
        assert!(truth("portRangeIncludes(-1, -1, 22)"));
        assert!(!truth("portRangeIncludes(80, 443, 22)"));
        assert!(!truth("portRangeIncludes(23, 65535, 22)"));
        assert!(truth("portRangesOverlap(20, 25, 22, 22)"));
        assert!(truth("portRangesOverlap(22, 22, 0, 1024)"));
        assert!(truth("portRangesOverlap(1000, 2000, 2000, 3000)"));
        assert!(!truth("portRangesOverlap(1000, 1999, 2000, 3000)"));
        assert!(truth("portRangesOverlap(-1, -1, 3389, 3389)"));
        fails_with("portRangeIncludes(443, 80, 22)", "not a port range");
        assert!(truth("portSpecIncludes('22', 22)"));
        assert!(truth("portSpecIncludes('*', 3389)"));
        assert!(truth("portSpecIncludes('3000-3500', 3389)"));
        assert!(!truth("portSpecIncludes('80-443', 22)"));
        assert!(!truth("portSpecIncludes(null, 22)"));
        fails_with("portSpecIncludes('ssh', 22)", "is not a port");
        fails_with("portSpecIncludes('443-80', 22)", "not a port range");
        fails_with("portRangeIncludes(0, 70000, 22)", "not a port range");
    }
}
