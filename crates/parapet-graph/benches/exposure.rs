//! The topology and internet exposure of a generated estate of about
//! 100,000 network assets: 1,050 VPCs of 96 assets, each with an internet gateway, two
//! public and two private subnets, three route tables, two network ACLs, ten
//! security groups, sixty instances, ten interfaces of their own, two
//! databases and an internet-facing load balancer with a listener and a
//! target group of five instances.
//!
//! Prints the estate's size, the memory the topology and the exposures take
//! and how many exposures there are; then divan times building the
//! topology and computing every exposure. Run with
//! `cargo bench -p parapet-graph --bench exposure`.

use parapet_core::Asset;
use parapet_graph::{Topology, exposures};
use serde_json::{Value, json};

const VPCS: usize = 1_050;

fn asset(resource_type: &str, id: String, config: Value) -> Asset {
    serde_json::from_value(json!({
        "id": id, "provider": "aws", "account": "111122223333", "region": "eu-west-1",
        "resource_type": resource_type, "name": "", "config": config,
        "observed_at": "2026-11-29T00:00:00Z"
    }))
    .expect("an asset")
}

fn entry(number: i64, egress: bool, action: &str, protocol: &str, from: i64, to: i64) -> Value {
    json!({"RuleNumber": number, "Protocol": protocol, "RuleAction": action, "Egress": egress,
           "CidrBlock": "0.0.0.0/0", "Ipv6CidrBlock": null, "FromPort": from, "ToPort": to})
}

/// One VPC's assets; about 100 of them.
fn vpc(v: usize) -> Vec<Asset> {
    let arn = |kind: &str, id: &str| format!("arn:aws:ec2:eu-west-1:111122223333:{kind}/{id}");
    let vpc = format!("vpc-{v:08x}");
    let igw = format!("igw-{v:08x}");
    let subnets: Vec<String> = (0..4).map(|s| format!("subnet-{v:08x}{s}")).collect();
    let mut out = vec![
        asset(
            "AWS::EC2::VPC",
            arn("vpc", &vpc),
            json!({"VpcId": vpc, "CidrBlock": "10.0.0.0/16"}),
        ),
        asset(
            "AWS::EC2::InternetGateway",
            arn("internet-gateway", &igw),
            json!({"InternetGatewayId": igw, "Attachments": [{"VpcId": vpc, "State": "available"}]}),
        ),
    ];
    for (s, subnet) in subnets.iter().enumerate() {
        out.push(asset(
            "AWS::EC2::Subnet",
            arn("subnet", subnet),
            json!({"SubnetId": subnet, "VpcId": vpc, "CidrBlock": format!("10.0.{s}.0/24")}),
        ));
    }
    let local =
        json!({"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"});
    for (t, (main, routes, served)) in [
        (true, json!([local]), json!([{"Main": true, "SubnetId": null}])),
        (false, json!([local, {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw, "State": "active"}]),
            json!([{"Main": false, "SubnetId": subnets[0]}, {"Main": false, "SubnetId": subnets[1]}])),
        (false, json!([local, {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1", "State": "active"}]),
            json!([{"Main": false, "SubnetId": subnets[2]}, {"Main": false, "SubnetId": subnets[3]}])),
    ].into_iter().enumerate() {
        let id = format!("rtb-{v:08x}{t}");
        out.push(asset("AWS::EC2::RouteTable", arn("route-table", &id),
            json!({"RouteTableId": id, "VpcId": vpc, "Main": main, "Routes": routes, "Associations": served})));
    }
    let acl_default = format!("acl-{v:08x}0");
    out.push(asset("AWS::EC2::NetworkAcl", arn("network-acl", &acl_default), json!({
        "NetworkAclId": acl_default, "VpcId": vpc, "IsDefault": true, "SubnetIds": [subnets[0], subnets[2], subnets[3]],
        "Entries": [entry(100, false, "allow", "-1", -1, -1), entry(100, true, "allow", "-1", -1, -1),
                    entry(32767, false, "deny", "-1", -1, -1), entry(32767, true, "deny", "-1", -1, -1)]})));
    let acl_custom = format!("acl-{v:08x}1");
    out.push(asset("AWS::EC2::NetworkAcl", arn("network-acl", &acl_custom), json!({
        "NetworkAclId": acl_custom, "VpcId": vpc, "IsDefault": false, "SubnetIds": [subnets[1]],
        "Entries": [entry(90, false, "deny", "tcp", 22, 22), entry(100, false, "allow", "tcp", 0, 65535),
                    entry(100, true, "allow", "tcp", 1024, 65535)]})));
    let groups: Vec<String> = (0..10).map(|g| format!("sg-{v:08x}{g}")).collect();
    for (g, group) in groups.iter().enumerate() {
        let rules = match g {
            0 => {
                json!([{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": []}])
            }
            1 => {
                json!([{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": []}])
            }
            2 => {
                json!([{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [], "Ipv6Ranges": [], "UserIdGroupPairs": [{"GroupId": groups[0]}]}])
            }
            3 => {
                json!([{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": []}])
            }
            _ => {
                json!([{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.0.0.0/16"}], "Ipv6Ranges": []}])
            }
        };
        out.push(asset(
            "AWS::EC2::SecurityGroup",
            arn("security-group", group),
            json!({"GroupId": group, "VpcId": vpc, "IpPermissions": rules}),
        ));
    }
    let mut instances = Vec::new();
    for i in 0..60 {
        let id = format!("i-{v:08x}{i:02}");
        let subnet = &subnets[i % 4];
        let public = (i % 4 < 2 && i % 3 != 0).then(|| format!("198.51.{}.{}", v % 250, i));
        out.push(asset("AWS::EC2::Instance", arn("instance", &id), json!({"InstanceId": id, "State": "running",
            "NetworkInterfaces": [{"NetworkInterfaceId": format!("eni-{v:08x}{i:02}"), "SubnetId": subnet,
                "PublicIp": public, "Ipv6Addresses": [], "Groups": [groups[i % 10].clone()]}]})));
        instances.push(id);
    }
    for e in 0..10 {
        let id = format!("eni-{v:08x}x{e}");
        out.push(asset("AWS::EC2::NetworkInterface", arn("network-interface", &id), json!({"NetworkInterfaceId": id,
            "SubnetId": subnets[e % 2], "PublicIp": format!("203.0.{}.{}", v % 250, e), "Ipv6Addresses": [],
            "RequesterManaged": false, "Attachment": null, "Groups": [{"GroupId": groups[e % 4]}]})));
    }
    for d in 0..2 {
        let id = format!("db-{v}-{d}");
        out.push(asset("AWS::RDS::DBInstance", format!("arn:aws:rds:eu-west-1:111122223333:db:{id}"), json!({
            "DBInstanceIdentifier": id, "PubliclyAccessible": d == 0, "Endpoint": {"Address": format!("{id}.example"), "Port": 5432},
            "VpcSecurityGroups": [groups[3 + d]], "SubnetIds": [subnets[0], subnets[1]]})));
    }
    let lb =
        format!("arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/lb-{v}/1");
    let tg = format!("arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/tg-{v}/1");
    out.push(asset("AWS::ElasticLoadBalancingV2::LoadBalancer", lb.clone(), json!({"LoadBalancerName": format!("lb-{v}"),
        "Scheme": "internet-facing", "Type": "application", "Subnets": [subnets[0], subnets[1]], "SecurityGroups": [groups[0]]})));
    out.push(asset("AWS::ElasticLoadBalancingV2::Listener", format!("{lb}/listener"), json!({"LoadBalancerArn": lb,
        "Protocol": "HTTPS", "Port": 443, "DefaultActions": [{"Type": "forward", "TargetGroupArn": tg}]})));
    out.push(asset("AWS::ElasticLoadBalancingV2::TargetGroup", tg, json!({"TargetGroupName": format!("tg-{v}"), "Port": 8080,
        "Targets": instances.iter().skip(2).step_by(10).take(5).map(|i| json!({"Id": i, "Port": 8080})).collect::<Vec<_>>()})));
    out
}

fn estate() -> Vec<Asset> {
    (0..VPCS).flat_map(vpc).collect()
}

fn resident_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<usize>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

fn main() {
    let assets = estate();
    let before = resident_bytes();
    let started = std::time::Instant::now();
    let topology = Topology::build(&assets);
    let built = started.elapsed();
    let found = exposures(&topology);
    let total = started.elapsed();
    let after = resident_bytes();
    println!(
        "{} assets ({} endpoints): topology in {:.2} s, {} exposures in {:.2} s more; {} MB for the topology and exposures",
        assets.len(),
        topology.endpoints.len(),
        built.as_secs_f64(),
        found.len(),
        (total - built).as_secs_f64(),
        (after.saturating_sub(before)) / 1_000_000
    );
    drop((topology, found));
    divan::main();
}

static ESTATE: std::sync::LazyLock<Vec<Asset>> = std::sync::LazyLock::new(estate);

/// Builds the topology and computes every exposure.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn build_and_expose(bencher: divan::Bencher) {
    let assets = &*ESTATE;
    bencher.bench(|| {
        let topology = Topology::build(assets);
        exposures(&topology).len()
    });
}
