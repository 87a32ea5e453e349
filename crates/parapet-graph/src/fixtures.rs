//! Small estates for the unit tests: a VPC with a public and a private
//! subnet, and helpers for groups, instances and interfaces.

use parapet_core::Asset;
use serde_json::{Value, json};

pub fn asset(resource_type: &str, id: &str, config: Value) -> Asset {
    serde_json::from_value(json!({
        "id": format!("arn:{id}"), "provider": "aws", "account": "123456789012",
        "region": "eu-west-1", "resource_type": resource_type, "name": id,
        "config": config, "observed_at": "2026-11-29T00:00:00Z"
    }))
    .expect("an asset")
}

pub fn all_traffic(number: i64, egress: bool, action: &str, cidr: &str) -> Value {
    let (v4, v6) = if cidr.contains(':') {
        (Value::Null, json!(cidr))
    } else {
        (json!(cidr), Value::Null)
    };
    json!({"RuleNumber": number, "Protocol": "-1", "RuleAction": action, "Egress": egress,
           "CidrBlock": v4, "Ipv6CidrBlock": v6, "FromPort": -1, "ToPort": -1})
}

/// A VPC with a public subnet (routes to igw-1), a private one (routes
/// to a NAT gateway only), and the default network ACL open both ways.
pub fn network() -> Vec<Asset> {
    vec![
        asset(
            "AWS::EC2::VPC",
            "vpc-1",
            json!({"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}),
        ),
        asset(
            "AWS::EC2::Subnet",
            "subnet-pub",
            json!({"SubnetId": "subnet-pub", "VpcId": "vpc-1",
            "CidrBlock": "10.0.1.0/24", "Ipv6CidrBlocks": ["2001:db8:0:1::/64"]}),
        ),
        asset(
            "AWS::EC2::Subnet",
            "subnet-priv",
            json!({"SubnetId": "subnet-priv", "VpcId": "vpc-1",
            "CidrBlock": "10.0.2.0/24"}),
        ),
        asset(
            "AWS::EC2::InternetGateway",
            "igw-1",
            json!({"InternetGatewayId": "igw-1",
            "Attachments": [{"VpcId": "vpc-1", "State": "available"}]}),
        ),
        asset(
            "AWS::EC2::RouteTable",
            "rtb-main",
            json!({"RouteTableId": "rtb-main", "VpcId": "vpc-1",
            "Associations": [{"Main": true, "SubnetId": null}],
            "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"}]}),
        ),
        asset(
            "AWS::EC2::RouteTable",
            "rtb-pub",
            json!({"RouteTableId": "rtb-pub", "VpcId": "vpc-1",
            "Associations": [{"Main": false, "SubnetId": "subnet-pub"}],
            "Routes": [
                {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"},
                {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1", "State": "active"},
                {"DestinationIpv6CidrBlock": "::/0", "GatewayId": "igw-1", "State": "active"}]}),
        ),
        asset(
            "AWS::EC2::RouteTable",
            "rtb-priv",
            json!({"RouteTableId": "rtb-priv", "VpcId": "vpc-1",
            "Associations": [{"Main": false, "SubnetId": "subnet-priv"}],
            "Routes": [{"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1", "State": "active"}]}),
        ),
        asset(
            "AWS::EC2::NetworkAcl",
            "acl-default",
            json!({"NetworkAclId": "acl-default", "VpcId": "vpc-1",
            "IsDefault": true, "SubnetIds": ["subnet-pub", "subnet-priv"], "Entries": [
                all_traffic(100, false, "allow", "0.0.0.0/0"), all_traffic(101, false, "allow", "::/0"),
                all_traffic(100, true, "allow", "0.0.0.0/0"), all_traffic(101, true, "allow", "::/0"),
                all_traffic(32767, false, "deny", "0.0.0.0/0"), all_traffic(32767, true, "deny", "0.0.0.0/0")]}),
        ),
    ]
}

pub fn group(id: &str, permissions: Value) -> Asset {
    asset(
        "AWS::EC2::SecurityGroup",
        id,
        json!({"GroupId": id, "VpcId": "vpc-1", "IpPermissions": permissions}),
    )
}

pub fn tcp_from(port: i64, cidr: &str) -> Value {
    if cidr.contains(':') {
        json!({"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [], "Ipv6Ranges": [{"CidrIpv6": cidr}]})
    } else {
        json!({"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": cidr}], "Ipv6Ranges": []})
    }
}

pub fn instance(id: &str, interfaces: Value) -> Asset {
    asset(
        "AWS::EC2::Instance",
        id,
        json!({"InstanceId": id, "State": "running", "NetworkInterfaces": interfaces}),
    )
}

pub fn nic(id: &str, subnet: &str, public: Option<&str>, groups: &[&str]) -> Value {
    json!({"NetworkInterfaceId": id, "SubnetId": subnet, "PublicIp": public, "Ipv6Addresses": [], "Groups": groups})
}

/// The network, with a private instance `i-app` (its group admits 8080
/// from the load balancer's only) behind an internet-facing load balancer
/// `alb` in the public subnet, whose listener on 443 forwards to `tg`.
pub fn behind_balancer() -> Vec<Asset> {
    let mut assets = network();
    assets.push(group("sg-alb", json!([tcp_from(443, "0.0.0.0/0")])));
    assets.push(group(
        "sg-app",
        json!([{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
        "IpRanges": [], "Ipv6Ranges": [], "UserIdGroupPairs": [{"GroupId": "sg-alb"}]}]),
    ));
    assets.push(instance(
        "i-app",
        json!([nic("eni-app", "subnet-priv", None, &["sg-app"])]),
    ));
    assets.push(asset("AWS::ElasticLoadBalancingV2::LoadBalancer", "alb", json!({
        "LoadBalancerName": "alb", "Scheme": "internet-facing", "Subnets": ["subnet-pub"], "SecurityGroups": ["sg-alb"]})));
    assets.push(asset(
        "AWS::ElasticLoadBalancingV2::Listener",
        "listener",
        json!({
        "LoadBalancerArn": "arn:alb", "Protocol": "HTTPS", "Port": 443,
        "DefaultActions": [{"Type": "forward", "TargetGroupArn": "arn:tg"}]}),
    ));
    assets.push(asset(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        "tg",
        json!({
        "TargetGroupName": "tg", "Port": 8080, "Targets": [{"Id": "i-app", "Port": 8080}]}),
    ));
    assets
}

/// `i-web`, in the public subnet with a public address, in `group`.
pub fn public_instance(group: &str) -> Asset {
    instance(
        "i-web",
        json!([nic("eni-1", "subnet-pub", Some("198.51.100.7"), &[group])]),
    )
}
