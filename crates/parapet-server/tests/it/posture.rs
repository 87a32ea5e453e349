use super::{Server, escape};
use parapet_server::Access;

const WEB: &str = "arn:aws:ec2:eu-west-1:111111111111:instance/i-web";
const DB: &str = "arn:aws:ec2:eu-west-1:111111111111:instance/i-db";

#[test]
fn rules_are_listed_by_filter_and_shown() {
    let server = Server::start(Access::OpenOnLoopback);
    let all = server.get("/api/v1/rules", &[]);
    let count = all.items("id").len();
    assert!(count > 150, "{count}");
    let s3 = server.get(
        "/api/v1/rules?type=AWS::S3::Bucket&severity=medium&tag=resilience",
        &[],
    );
    assert!(
        s3.items("id")
            .contains(&"aws-s3-bucket-versioning-enabled".to_owned())
    );
    assert!(s3.items("severity").iter().all(|s| s == "medium"));
    let text = server.get("/api/v1/rules?q=IMDSv2", &[]);
    assert!(
        text.items("id").iter().all(|id| id.contains("imds")),
        "{:?}",
        text.items("id")
    );
    let rule = server.get("/api/v1/rules/aws-s3-bucket-versioning-enabled", &[]);
    assert_eq!(
        rule.json["detail"]["compliant"],
        "config.Versioning.Status == \"Enabled\""
    );
    assert_eq!(server.get("/api/v1/rules/nope", &[]).status, 404);
    assert_eq!(server.get("/api/v1/rules?severity=bad", &[]).status, 400);
}

#[test]
fn compliance_per_framework_account_and_control() {
    let server = Server::start(Access::OpenOnLoopback);
    let summary = server.get("/api/v1/compliance", &[]);
    assert_eq!(summary.status, 200, "{}", summary.text);
    let fsbp = summary.json["items"]
        .as_array()
        .expect("frameworks")
        .iter()
        .find(|f| f["id"] == "aws-foundational-security-best-practices")
        .expect("FSBP")
        .clone();
    assert_eq!(fsbp["accounts"].as_array().map(Vec::len), Some(2));
    let one = server.get("/api/v1/compliance?account=222222222222", &[]);
    assert_eq!(
        one.json["items"][0]["accounts"].as_array().map(Vec::len),
        Some(1)
    );
    let detail = server.get(
        "/api/v1/compliance/aws-foundational-security-best-practices?account=222222222222",
        &[],
    );
    let control = detail.json["accounts"][0]["controls"]
        .as_array()
        .expect("controls")
        .iter()
        .find(|c| c["control"]["id"] == "S3.14")
        .expect("S3.14")
        .clone();
    // audit-trail's versioning is suspended.
    assert_eq!(control["status"], "fail");
    assert_eq!(control["results"]["fail"], 1);
    assert_eq!(server.get("/api/v1/compliance/nope", &[]).status, 404);
}

#[test]
fn exposure_and_the_topology_with_an_exposure_path() {
    let server = Server::start(Access::OpenOnLoopback);
    let exposure = server.get("/api/v1/exposure", &[]);
    let exposed: Vec<String> = exposure.json["network"]
        .as_array()
        .expect("network")
        .iter()
        .map(|e| e["asset_id"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(exposed.contains(&WEB.to_owned()), "{exposed:?}");
    assert!(!exposed.contains(&DB.to_owned()), "{exposed:?}");
    let graph = server.get("/api/v1/topology?account=111111111111&vpc=vpc-1", &[]);
    assert_eq!(graph.status, 200, "{}", graph.text);
    let nodes = graph.json["nodes"].as_array().expect("nodes");
    let web = nodes
        .iter()
        .find(|n| n["id"] == WEB)
        .expect("the web instance");
    assert_eq!(web["exposed"], true);
    assert!(nodes.iter().any(|n| n["id"] == "internet"));
    assert!(graph.json["path"].is_null());
    let path = server.get(
        &format!("/api/v1/topology?account=111111111111&path={}", escape(WEB)),
        &[],
    );
    let hops = path.json["path"]["path"].as_array().expect("hops");
    assert!(hops.len() >= 3, "{hops:?}");
    let none = server.get(&format!("/api/v1/topology?path={}", escape(DB)), &[]);
    assert_eq!(none.status, 404);
    assert!(
        none.text.contains("not reachable from the internet"),
        "{}",
        none.text
    );
}

#[test]
fn vulnerabilities_filter_by_severity_fix_and_asset() {
    let server = Server::start(Access::OpenOnLoopback);
    let all = server.get("/api/v1/vulnerabilities", &[]);
    assert_eq!(
        all.items("advisory"),
        ["CVE-2026-0001", "CVE-2026-0002", "CVE-2026-0003"]
    );
    assert_eq!(all.json["items"][0]["asset_id"], WEB);
    let fixed = server.get(
        "/api/v1/vulnerabilities?fixed_only=true&severity=critical,low",
        &[],
    );
    assert_eq!(fixed.items("advisory"), ["CVE-2026-0001", "CVE-2026-0003"]);
    let page = server.get("/api/v1/vulnerabilities?limit=2", &[]);
    let cursor = page.json["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let next = server.get(
        &format!("/api/v1/vulnerabilities?limit=2&cursor={cursor}"),
        &[],
    );
    assert_eq!(next.items("advisory"), ["CVE-2026-0003"]);
    let other = server.get(
        &format!("/api/v1/vulnerabilities?asset={}", escape(DB)),
        &[],
    );
    assert!(other.items("advisory").is_empty());
}
