use super::{Server, all_pages, escape};
use parapet_server::Access;
use serde_json::json;

const IMDS: &str = "aws-ec2-instance-imdsv2-required";
const VERSIONING: &str = "aws-s3-bucket-versioning-enabled";

/// The CSRF token of an open loopback server.
fn csrf(server: &Server) -> String {
    let answer = server.get("/api/v1/session", &[]);
    answer.json["csrf_token"]
        .as_str()
        .expect("csrf token")
        .to_owned()
}

#[test]
fn findings_filter_by_status_severity_rule_framework_and_place() {
    let server = Server::start(Access::OpenOnLoopback);
    let rules = |query: &str| {
        let answer = server.get(&format!("/api/v1/findings{query}"), &[]);
        assert_eq!(answer.status, 200, "{query}: {}", answer.text);
        answer.items("rule_id")
    };
    let open = rules("?limit=500");
    assert!(open.contains(&IMDS.to_owned()), "{open:?}");
    // prod-logs's versioning finding was resolved by the second scan.
    let resolved = server.get(
        &format!("/api/v1/findings?status=resolved&rule={VERSIONING}"),
        &[],
    );
    assert_eq!(resolved.items("asset_id"), ["arn:aws:s3:::prod-logs"]);
    let open_versioning = server.get(&format!("/api/v1/findings?rule={VERSIONING}"), &[]);
    assert_eq!(
        open_versioning.items("asset_id"),
        ["arn:aws:s3:::audit-trail", "arn:aws:s3:::dev-scratch"]
    );
    let account = server.get(
        &format!("/api/v1/findings?rule={VERSIONING}&account=222222222222"),
        &[],
    );
    assert_eq!(account.items("asset_id"), ["arn:aws:s3:::audit-trail"]);
    for severity in rules("?severity=medium,low&limit=500") {
        assert!(!severity.is_empty());
    }
    let severities = server.get("/api/v1/findings?severity=critical,high&limit=500", &[]);
    assert!(
        severities
            .items("severity")
            .iter()
            .all(|s| s == "critical" || s == "high"),
        "{:?}",
        severities.items("severity")
    );
    // Versioning maps to S3.14 of the AWS Foundational Security Best Practices.
    let framework = rules("?framework=aws-foundational-security-best-practices&control=S3.14");
    assert_eq!(framework, [VERSIONING, VERSIONING]);
    let answer = server.get("/api/v1/findings?framework=no-such", &[]);
    assert_eq!(answer.status, 400);
    let answer = server.get("/api/v1/findings?control=S3.14", &[]);
    assert_eq!(answer.status, 400);
    let answer = server.get("/api/v1/findings?rule=no-such-rule", &[]);
    assert!(
        answer.text.contains("no rule `no-such-rule`"),
        "{}",
        answer.text
    );
    let answer = server.get("/api/v1/findings?severity=urgent", &[]);
    assert!(
        answer.text.contains("`urgent` is not one of"),
        "{}",
        answer.text
    );
    let answer = server.get("/api/v1/findings?status=closed", &[]);
    assert_eq!(answer.status, 400);
}

#[test]
fn findings_page_by_cursor() {
    let server = Server::start(Access::OpenOnLoopback);
    let all = server.get("/api/v1/findings?limit=500", &[]);
    let expected: Vec<String> = all.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|f| format!("{}|{}", f["rule_id"], f["asset_id"]))
        .collect();
    assert!(expected.len() > 5, "{}", expected.len());
    let mut paged = Vec::new();
    let (rules, pages) = all_pages(&server, "/api/v1/findings?limit=2", "rule_id", &[]);
    let (assets, _) = all_pages(&server, "/api/v1/findings?limit=2", "asset_id", &[]);
    for (r, a) in rules.iter().zip(&assets) {
        paged.push(format!("\"{r}\"|\"{a}\""));
    }
    assert_eq!(paged, expected);
    assert_eq!(
        pages,
        expected.len().div_ceil(2) + usize::from(expected.len().is_multiple_of(2))
    );
}

#[test]
fn mute_in_bulk_then_unmute() {
    let server = Server::start(Access::OpenOnLoopback);
    let csrf = csrf(&server);
    let headers = [("x-csrf-token", csrf.as_str())];
    let body = json!({
        "reason": "accepted until the migration",
        "expires_at": "2099-01-01T00:00:00Z",
        "findings": [
            {"rule_id": VERSIONING, "asset_id": "arn:aws:s3:::audit-trail"},
            {"rule_id": VERSIONING, "asset_id": "arn:aws:s3:::dev-scratch"},
        ],
    });
    let answer = server.send("POST", "/api/v1/mutes", &body.to_string(), &headers);
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json["muted_findings"], 2);
    assert_eq!(answer.json["mutes"][0]["author"], "local");
    let open = server.get(&format!("/api/v1/findings?rule={VERSIONING}"), &[]);
    assert!(open.items("asset_id").is_empty());
    let muted = server.get(
        &format!("/api/v1/findings?rule={VERSIONING}&include_muted=true"),
        &[],
    );
    assert_eq!(muted.items("asset_id").len(), 2);
    let mutes = server.get("/api/v1/mutes", &[]);
    assert_eq!(mutes.items("reason").len(), 2);
    // The timeline says who muted.
    let events = server.get("/api/v1/events?kind=finding_muted", &[]);
    assert_eq!(events.items("asset_id").len(), 2);
    // Unmuting one finding lifts its mute.
    let key = json!({"rule_id": VERSIONING, "asset_id": "arn:aws:s3:::dev-scratch"});
    let answer = server.send(
        "POST",
        "/api/v1/findings/unmute",
        &key.to_string(),
        &headers,
    );
    assert_eq!(answer.status, 200, "{}", answer.text);
    let open = server.get(&format!("/api/v1/findings?rule={VERSIONING}"), &[]);
    assert_eq!(open.items("asset_id"), ["arn:aws:s3:::dev-scratch"]);
    let again = server.send(
        "POST",
        "/api/v1/findings/unmute",
        &key.to_string(),
        &headers,
    );
    assert_eq!((again.status, again.code()), (422, "rejected"));
    // Lifting the other mute by its id.
    let id = mutes.json["items"][0]["id"].as_i64().expect("id");
    let lifted = server.delete(&format!("/api/v1/mutes/{id}"), &headers);
    assert_eq!(lifted.status, 200, "{}", lifted.text);
    let twice = server.delete(&format!("/api/v1/mutes/{id}"), &headers);
    assert_eq!(twice.status, 422);
    let bad = server.delete("/api/v1/mutes/abc", &headers);
    assert_eq!((bad.status, bad.code()), (400, "invalid_parameter"));
    let gone = server.delete("/api/v1/mutes/999", &headers);
    assert_eq!(gone.status, 404);
}

#[test]
fn mute_bodies_are_checked() {
    let server = Server::start(Access::OpenOnLoopback);
    let csrf = csrf(&server);
    let headers = [("x-csrf-token", csrf.as_str())];
    let selector = |extra: serde_json::Value| {
        let mut body = json!({"reason": "r", "selector": {"rule_id": VERSIONING}});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        body.to_string()
    };
    for (body, status, code) in [
        (selector(json!({"reason": " "})), 422, "rejected"),
        (
            selector(json!({"expires_at": "2001-01-01T00:00:00Z"})),
            422,
            "rejected",
        ),
        (selector(json!({"expires_at": "soon"})), 400, "invalid_body"),
        (selector(json!({"owner": "x"})), 400, "invalid_body"),
        (selector(json!({"findings": []})), 400, "invalid_body"),
        (json!({"reason": "r"}).to_string(), 400, "invalid_body"),
        (
            json!({"reason": "r", "findings": []}).to_string(),
            400,
            "invalid_body",
        ),
        ("{not json".to_owned(), 400, "invalid_body"),
        (
            format!("{{\"reason\": \"{}\"}}", "x".repeat(70_000)),
            413,
            "body_too_large",
        ),
    ] {
        let answer = server.send("POST", "/api/v1/mutes", &body, &headers);
        assert_eq!(
            (answer.status, answer.code()),
            (status, code),
            "{}",
            &body[..body.len().min(80)]
        );
    }
    let url = format!("{}/api/v1/mutes", server.base);
    let answer: super::Answer = super::agent()
        .post(url)
        .header("x-csrf-token", &csrf)
        .content_type("text/plain")
        .send(selector(json!({})))
        .expect("request")
        .into();
    assert_eq!(
        (answer.status, answer.code()),
        (415, "unsupported_media_type")
    );
    // A selector by asset pattern mutes what it matches.
    let body = json!({"reason": "dev buckets", "selector": {"asset": "arn:aws:s3:::dev-*"}});
    let answer = server.send("POST", "/api/v1/mutes", &body.to_string(), &headers);
    assert_eq!(answer.status, 200, "{}", answer.text);
    let dev = server.get(
        &format!(
            "/api/v1/findings?asset={}",
            escape("arn:aws:s3:::dev-scratch")
        ),
        &[],
    );
    assert!(dev.items("rule_id").is_empty(), "{}", dev.text);
}
