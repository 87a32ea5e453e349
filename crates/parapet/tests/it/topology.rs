//! Internet exposure over topologies seeded in moto whose answers are known
//! (`fixtures/aws-topology.py`): the real collector, then `parapet
//! exposure`, case by case, with the path of each exposure.

use super::moto::Moto;
use super::{fixture, parapet_with_db, stderr, stdout};
use serde_json::Value;
use std::collections::BTreeMap;

/// The case's exposures (by the instance or load balancer id it names).
fn of<'a>(exposures: &'a [Value], cases: &BTreeMap<String, String>, case: &str) -> Vec<&'a Value> {
    let id = &cases[case];
    exposures
        .iter()
        .filter(|e| {
            let asset = e["asset_id"].as_str().expect("asset id");
            asset == id || asset.ends_with(&format!("/{id}"))
        })
        .collect()
}

/// The id of the security group named `name`, from a scan's results.
fn group_id(results: &std::process::Output, name: &str) -> String {
    stdout(results)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON line"))
        .find(|r| r["resource_type"] == "AWS::EC2::SecurityGroup" && r["asset_name"] == name)
        .and_then(|r| {
            r["asset_id"]
                .as_str()
                .map(|a| a.rsplit('/').next().unwrap_or(a).to_owned())
        })
        .unwrap_or_else(|| panic!("no group {name}"))
}

fn labels(exposure: &Value) -> Vec<String> {
    exposure["path"]
        .as_array()
        .expect("path")
        .iter()
        .map(|h| h["label"].as_str().expect("label").to_owned())
        .collect()
}

fn ports(exposure: &Value) -> (String, u64, u64) {
    (
        exposure["protocol"].as_str().expect("protocol").to_owned(),
        exposure["from_port"].as_u64().expect("from"),
        exposure["to_port"].as_u64().expect("to"),
    )
}

#[test]
fn exposure_follows_routes_gateways_acls_groups_and_load_balancers() {
    let moto = Moto::start();
    let seeded = moto.python(&fixture("aws-topology.py"), &[]);
    let cases: BTreeMap<String, String> =
        serde_json::from_slice(&seeded.stdout).expect("the cases as JSON");
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("parapet.db");
    let scan = moto.scan(&db, ("testing", "testing"), &["--regions", "eu-west-1"]);
    assert!(scan.status.success(), "{}", stderr(&scan));
    let output = parapet_with_db(&db, &["exposure", "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let exposures: Vec<Value> = report["network"].as_array().expect("network").clone();

    // A public subnet, a public address, SSH open to the world.
    let open = of(&exposures, &cases, "public-open");
    assert_eq!(open.len(), 1, "{exposures:#?}");
    assert_eq!(ports(open[0]), ("tcp".into(), 22, 22));
    assert_eq!(open[0]["from_anywhere"], true);
    let path = labels(open[0]);
    assert_eq!(path[0], "internet");
    assert!(path[1].starts_with("igw-"), "{path:?}");
    assert!(
        path[2].starts_with("rtb-") && path[2].ends_with("(0.0.0.0/0)"),
        "{path:?}"
    );
    assert!(path[3].starts_with("subnet-"), "{path:?}");
    assert!(
        path[4].starts_with("acl-") && path[4].ends_with("rule 100 allow"),
        "{path:?}"
    );
    assert!(path[5].starts_with("eni-"), "{path:?}");
    assert!(
        path[6].starts_with("sg-") && path[6].ends_with("tcp/22 from 0.0.0.0/0"),
        "{path:?}"
    );
    assert_eq!(path[7], cases["public-open"]);

    // The same group where only a NAT gateway leads out; no public
    // address; a network ACL deny ahead of the allow; a group that admits
    // only another group: none reachable.
    for case in ["private-nat", "no-address", "acl-deny", "group-only"] {
        assert!(
            of(&exposures, &cases, case).is_empty(),
            "{case}: {exposures:#?}"
        );
    }

    // Behind the internet-facing load balancer: its port 80 is exposed, and
    // through it the private instance's 8080 (not 80).
    let balancer = of(&exposures, &cases, "alb");
    assert_eq!(balancer.len(), 1, "{exposures:#?}");
    assert_eq!(ports(balancer[0]), ("tcp".into(), 80, 80));
    let behind = of(&exposures, &cases, "behind-alb");
    assert_eq!(behind.len(), 1, "{exposures:#?}");
    assert_eq!(ports(behind[0]), ("tcp".into(), 8080, 8080));
    assert_eq!(behind[0]["via"], cases["alb"].as_str());
    let path = labels(behind[0]);
    assert!(path.contains(&"topology-alb".to_owned()), "{path:?}");
    assert!(
        path.contains(&"topology-app".to_owned()),
        "the target group: {path:?}"
    );
    assert!(
        path.iter().any(|h| h.contains("tcp/8080 from sg-")),
        "the target's group admits the balancer's: {path:?}"
    );

    // IPv6 only: reached over IPv6, from ::/0, and not over IPv4.
    let v6 = of(&exposures, &cases, "ipv6-only");
    assert_eq!(v6.len(), 1, "{exposures:#?}");
    assert_eq!(v6[0]["family"], "ipv6");
    assert_eq!(v6[0]["source"], "::/0");
    assert_eq!(ports(v6[0]), ("tcp".into(), 443, 443));
    assert!(labels(v6[0])[2].ends_with("(::/0)"));

    // Two interfaces: reached through the public one only.
    let two = of(&exposures, &cases, "two-nics");
    assert_eq!(two.len(), 1, "{exposures:#?}");
    assert!(
        labels(two[0]).contains(&cases["two-nics-public-interface"]),
        "{:?}",
        labels(two[0])
    );

    // Public by policy, with the statement: the open bucket, not the blocked one.
    let public = report["public_by_policy"]
        .as_array()
        .expect("public by policy");
    let open_bucket: Vec<&Value> = public
        .iter()
        .filter(|p| p["asset_id"] == cases["topology-public"].as_str())
        .collect();
    assert_eq!(open_bucket.len(), 1, "{public:#?}");
    assert_eq!(open_bucket[0]["grant"], "bucket policy");
    assert_eq!(open_bucket[0]["statement"]["Action"], "s3:GetObject");
    assert!(
        !public
            .iter()
            .any(|p| p["asset_id"] == cases["topology-blocked"].as_str())
    );

    // Rules read the exposure: SSH reachable where the path lets it
    // through, not where the same open group sits behind a NAT gateway, a
    // network ACL or no address; the open rule on the group itself stays.
    let results = moto.scan(
        &db,
        ("testing", "testing"),
        &["--regions", "eu-west-1", "--format", "jsonl"],
    );
    assert!(results.status.success(), "{}", stderr(&results));
    let status = |rule: &str, id: &str| -> String {
        stdout(&results)
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("JSON line"))
            .find(|r| {
                r["rule_id"] == rule && r["asset_id"].as_str().is_some_and(|a| a.ends_with(id))
            })
            .map(|r| r["status"].as_str().expect("status").to_owned())
            .unwrap_or_else(|| panic!("no result of {rule} on {id}"))
    };
    let ssh = "aws-ec2-instance-ssh-not-reachable-from-internet";
    assert_eq!(status(ssh, &cases["public-open"]), "fail");
    assert_eq!(status(ssh, &cases["two-nics"]), "fail");
    for case in [
        "private-nat",
        "acl-deny",
        "no-address",
        "behind-alb",
        "group-only",
    ] {
        assert_eq!(status(ssh, &cases[case]), "pass", "{case}");
    }
    // A scan of the instances alone still knows their network: the rest of
    // the topology comes from the database.
    let instances_only = moto.scan(
        &db,
        ("testing", "testing"),
        &[
            "--regions",
            "eu-west-1",
            "--resource-types",
            "AWS::EC2::Instance",
            "--format",
            "jsonl",
        ],
    );
    assert!(
        instances_only.status.success(),
        "{}",
        stderr(&instances_only)
    );
    let partial = stdout(&instances_only);
    let ssh_results: Vec<Value> = partial
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON line"))
        .filter(|r| r["rule_id"] == ssh)
        .collect();
    assert_eq!(ssh_results.len(), 8, "{partial}");
    assert!(
        ssh_results.iter().all(|r| r["status"] != "unknown"),
        "{ssh_results:#?}"
    );
    assert_eq!(
        ssh_results.iter().filter(|r| r["status"] == "fail").count(),
        2
    );
    let web_only = "aws-ec2-instance-only-web-ports-reachable-from-internet";
    assert_eq!(
        status(web_only, &cases["behind-alb"]),
        "pass",
        "8080 through the balancer"
    );
    assert_eq!(status(web_only, &cases["ipv6-only"]), "pass");
    let group_rule = "aws-ec2-security-group-no-ssh-from-internet";
    let ssh_group = group_id(&results, "topology-ssh");
    assert_eq!(status(group_rule, &ssh_group), "fail");

    // The topology drawn: DOT with the VPC as a cluster and the path of
    // the instance behind the load balancer in bold, SVG, and JSON.
    let dot = parapet_with_db(&db, &["graph", "--path", &cases["behind-alb"]]);
    assert!(dot.status.success(), "{}", stderr(&dot));
    let dot = stdout(&dot);
    assert!(
        dot.starts_with("digraph parapet {") && dot.contains("subgraph cluster_vpc_"),
        "{dot}"
    );
    let bold: Vec<&str> = dot.lines().filter(|l| l.contains("penwidth=3")).collect();
    assert!(
        bold.iter().any(|l| l.contains("routes_to 0.0.0.0/0")),
        "{bold:?}"
    );
    assert!(
        bold.iter().any(|l| l.contains(&cases["behind-alb"])),
        "{bold:?}"
    );
    let svg_file = dir.path().join("topology.svg");
    let svg = parapet_with_db(
        &db,
        &[
            "graph",
            "--format",
            "svg",
            "-o",
            svg_file.to_str().expect("utf-8"),
        ],
    );
    assert!(svg.status.success(), "{}", stderr(&svg));
    let drawn = std::fs::read_to_string(&svg_file).expect("svg file");
    assert!(
        drawn.contains("<svg") && drawn.contains("topology-alb"),
        "{}",
        &drawn[..200.min(drawn.len())]
    );
    let json = parapet_with_db(&db, &["graph", "--format", "json"]);
    let graph: Value = serde_json::from_slice(&json.stdout).expect("graph JSON");
    let exposed: Vec<&str> = graph["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter(|n| n["exposed"] == true)
        .filter_map(|n| n["label"].as_str())
        .collect();
    for case in ["public-open", "behind-alb", "ipv6-only", "two-nics"] {
        assert!(
            exposed.contains(&cases[case].as_str()),
            "{case}: {exposed:?}"
        );
    }
    assert!(!exposed.contains(&cases["private-nat"].as_str()));
    let elsewhere = parapet_with_db(&db, &["graph", "--format", "json", "--vpc", "vpc-00000000"]);
    let empty: Value = serde_json::from_slice(&elsewhere.stdout).expect("graph JSON");
    assert_eq!(empty["nodes"], Value::Array(Vec::new()));
    let unreachable = parapet_with_db(&db, &["graph", "--path", &cases["private-nat"]]);
    assert_eq!(unreachable.status.code(), Some(2));
    assert!(stderr(&unreachable).contains("not reachable from the internet"));

    // One asset, explained in words.
    let explained = parapet_with_db(&db, &["exposure", &cases["behind-alb"]]);
    let text = stdout(&explained);
    assert!(
        text.starts_with("tcp/8080 ipv4 from 0.0.0.0/0 through"),
        "{text}"
    );
    assert!(text.contains("internet → igw-"), "{text}");
    let closed = parapet_with_db(&db, &["exposure", &cases["acl-deny"]]);
    assert!(
        stdout(&closed).contains("is not reachable from the internet"),
        "{}",
        stdout(&closed)
    );
}
