use super::{Server, all_pages, escape, t0};
use chrono::Duration;
use parapet_server::Access;

const WEB: &str = "arn:aws:ec2:eu-west-1:111111111111:instance/i-web";
const LOGS: &str = "arn:aws:s3:::prod-logs";

#[test]
fn assets_filter_by_place_type_tag_and_text() {
    let server = Server::start(Access::OpenOnLoopback);
    let ids = |query: &str| {
        let answer = server.get(&format!("/api/v1/assets{query}"), &[]);
        assert_eq!(answer.status, 200, "{query}: {}", answer.text);
        answer.items("name")
    };
    assert_eq!(ids("").len(), 16);
    assert_eq!(
        ids("?type=AWS::S3::Bucket&account=222222222222"),
        ["audit-trail", "b-reports"]
    );
    assert_eq!(ids("?tag=team=web"), ["web-1", "web"], "in id order");
    assert_eq!(ids("?tag=team").len(), 4);
    assert_eq!(ids("?q=PROD-"), ["prod-data", "prod-logs"]);
    assert_eq!(ids("?region=us-east-1&provider=aws"), Vec::<String>::new());
    let answer = server.get("/api/v1/assets?type=AWS::EC2::Instance", &[]);
    assert_eq!(answer.json["total"], 2);
    let web = &answer.json["items"][1];
    assert_eq!(web["id"], WEB);
    assert!(web["open_findings"].as_i64().unwrap_or(0) > 0, "{web}");
}

#[test]
fn assets_page_by_cursor_without_gaps_or_repeats() {
    let server = Server::start(Access::OpenOnLoopback);
    let (ids, pages) = all_pages(&server, "/api/v1/assets?limit=3", "id", &[]);
    assert_eq!(pages, 6, "16 assets, 3 a page");
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, ids, "in id order, each once");
    assert_eq!(ids.len(), 16);
    // A filtered listing pages within its filter.
    let (buckets, _) = all_pages(
        &server,
        "/api/v1/assets?type=AWS::S3::Bucket&limit=2",
        "name",
        &[],
    );
    assert_eq!(buckets.len(), 5);
}

#[test]
fn bad_listing_parameters_are_clear_client_errors() {
    let server = Server::start(Access::OpenOnLoopback);
    for (query, code, says) in [
        (
            "?acount=1",
            "invalid_parameter",
            "unknown parameter `acount`",
        ),
        ("?limit=0", "invalid_parameter", "out of range"),
        ("?limit=many", "invalid_parameter", "not a whole number"),
        ("?cursor=%%%", "invalid_cursor", "not a cursor"),
        ("?cursor=WyJldmVudHMiLDVd", "invalid_cursor", "not a cursor"),
        (
            "?include_deleted=yes",
            "invalid_parameter",
            "not `true` or `false`",
        ),
        ("?type=a&type=b", "invalid_parameter", "given twice"),
    ] {
        let answer = server.get(&format!("/api/v1/assets{query}"), &[]);
        assert_eq!(answer.status, 400, "{query}");
        assert_eq!(answer.code(), code, "{query}");
        let message = answer.json["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains(says), "{query}: {message}");
    }
    let answer = server.get("/api/v1/nothing-here", &[]);
    assert_eq!((answer.status, answer.code()), (404, "not_found"));
    let csrf = server.get("/api/v1/session", &[]).json["csrf_token"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let answer = server.send("PUT", "/api/v1/assets", "{}", &[("x-csrf-token", &csrf)]);
    assert_eq!((answer.status, answer.code()), (405, "method_not_allowed"));
}

#[test]
fn an_asset_with_its_findings_vulnerabilities_and_exposure() {
    let server = Server::start(Access::OpenOnLoopback);
    let answer = server.get(&format!("/api/v1/assets/{}", escape(WEB)), &[]);
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = &answer.json;
    assert_eq!(body["version"]["asset"]["name"], "web-1");
    assert_eq!(body["version"]["asset"]["tags"]["team"], "web");
    assert!(!body["findings"].as_array().expect("findings").is_empty());
    assert_eq!(body["vulnerabilities"]["packages"], 96);
    let ports: Vec<_> = body["exposure"]
        .as_array()
        .expect("exposure")
        .iter()
        .map(|e| e["from_port"].as_i64().unwrap_or(0))
        .collect();
    assert!(ports.contains(&22) && ports.contains(&443), "{ports:?}");
    // As it was before it existed: nothing.
    let before = (t0() - Duration::hours(1)).to_rfc3339();
    let answer = server.get(
        &format!("/api/v1/assets/{}?at={}", escape(WEB), escape(&before)),
        &[],
    );
    assert_eq!(answer.status, 404);
    let answer = server.get("/api/v1/assets/arn%3Anothing", &[]);
    assert_eq!((answer.status, answer.code()), (404, "not_found"));
}

#[test]
fn history_and_the_difference_between_versions() {
    let server = Server::start(Access::OpenOnLoopback);
    let answer = server.get(&format!("/api/v1/assets/{}/history", escape(LOGS)), &[]);
    assert_eq!(answer.items("version"), ["1", "2"]);
    let answer = server.get(&format!("/api/v1/assets/{}/diff", escape(LOGS)), &[]);
    assert_eq!(answer.status, 200, "{}", answer.text);
    let change = &answer.json["changes"][0];
    assert_eq!(change["path"], "config.Versioning.Status");
    assert_eq!(
        (&change["old"], &change["new"]),
        (&"Suspended".into(), &"Enabled".into())
    );
    // The asset as it was at the first scan.
    let answer = server.get(
        &format!(
            "/api/v1/assets/{}?at={}",
            escape(LOGS),
            escape(&t0().to_rfc3339())
        ),
        &[],
    );
    assert_eq!(
        answer.json["version"]["asset"]["config"]["Versioning"]["Status"],
        "Suspended"
    );
    let answer = server.get(&format!("/api/v1/assets/{}/diff?from=9", escape(LOGS)), &[]);
    assert_eq!(answer.status, 404);
    assert!(answer.text.contains("has no version 9"), "{}", answer.text);
}

#[test]
fn overview_and_facets_summarise_the_estate() {
    let server = Server::start(Access::OpenOnLoopback);
    let answer = server.get("/api/v1/overview", &[]);
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = &answer.json;
    assert_eq!(body["assets"], 16);
    assert_eq!(body["accounts"].as_array().map(Vec::len), Some(2));
    let score = body["posture_score"].as_f64().expect("a score");
    assert!(score > 0.0 && score < 100.0, "{score}");
    assert!(
        body["open_by_severity"]["high"].as_i64().unwrap_or(0) > 0,
        "{body}"
    );
    assert_eq!(body["trend"].as_array().map(Vec::len), Some(30));
    assert_eq!(body["newest_events"].as_array().map(Vec::len), Some(15));
    let facets = server.get("/api/v1/facets", &[]);
    assert_eq!(facets.json["resource_types"]["AWS::S3::Bucket"], 5);
    assert_eq!(facets.json["accounts"]["222222222222"], 2);
}
