use super::Receiver;
use super::webhook::{bucket, scan, setup};
use chrono::Utc;
use parapet_core::Status;
use parapet_store::Store;
use serde_json::Value;

/// A secret in a file of `dir`, as the configuration names it.
fn secret(dir: &std::path::Path, name: &str, value: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("{value}\n")).expect("write");
    format!("{{ file = \"{}\" }}", path.display())
}

fn bodies(receiver: &Receiver) -> Vec<Value> {
    receiver
        .received()
        .iter()
        .map(|r| serde_json::from_str(&r.body).expect("JSON"))
        .collect()
}

#[test]
fn slack_teams_and_pagerduty_get_their_own_formats() {
    let (slack, teams, pagerduty) = (
        Receiver::start(200),
        Receiver::start(202),
        Receiver::start(202),
    );
    let secrets = tempfile::tempdir().expect("temp dir");
    let (_dir, mut store, notifier) = setup(&format!(
        "base_url = \"https://parapet.example.com\"\ndefault = [\"slack\", \"teams\", \"pager\"]\n\
         [[channels]]\ntype = \"slack\"\nname = \"slack\"\nurl = {}\n\
         [[channels]]\ntype = \"teams\"\nname = \"teams\"\nurl = {}\n\
         [[channels]]\ntype = \"pagerduty\"\nname = \"pager\"\nrouting_key = {}\nurl = \"{}/v2/enqueue\"\n",
        secret(
            secrets.path(),
            "slack",
            &format!("{}/services/T0/B0/XYZ", slack.url)
        ),
        secret(
            secrets.path(),
            "teams",
            &format!("{}/workflows/abc", teams.url)
        ),
        secret(secrets.path(), "pager", "R0UT1NGK3Y"),
        pagerduty.url,
    ));
    scan(&mut store, &[(bucket("data"), Status::Fail)]);
    scan(&mut store, &[(bucket("data"), Status::Pass)]);
    let done = notifier
        .deliver_due(&mut store, Utc::now())
        .expect("delivered");
    assert_eq!((done.delivered, done.retrying), (6, 0));

    // Slack: Block Kit, with a fallback text.
    assert_eq!(slack.received()[0].path, "/services/T0/B0/XYZ");
    let slack = bodies(&slack);
    assert_eq!(slack.len(), 2);
    let opened = &slack[0];
    assert!(
        opened["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Opened (critical): S3 bucket policies")),
        "{opened}"
    );
    assert_eq!(opened["blocks"][0]["type"], "header");
    assert_eq!(opened["blocks"][0]["text"]["type"], "plain_text");
    let fields: Vec<&str> = opened["blocks"][1]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["text"].as_str())
        .collect();
    assert!(
        fields.contains(&"*Rule*\naws-s3-bucket-policy-not-public"),
        "{fields:?}"
    );
    assert!(fields.contains(&"*Asset*\narn:aws:s3:::data"));
    assert_eq!(opened["blocks"][2]["elements"][0]["type"], "button");
    assert!(
        opened["blocks"][2]["elements"][0]["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://parapet.example.com/findings?"))
    );
    assert!(
        slack[1]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Resolved"))
    );

    // Teams: an Adaptive Card in a message.
    let teams = bodies(&teams);
    let card = &teams[0]["attachments"][0];
    assert_eq!(teams[0]["type"], "message");
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(card["content"]["type"], "AdaptiveCard");
    assert_eq!(card["content"]["body"][1]["type"], "FactSet");
    assert_eq!(card["content"]["body"][1]["facts"][0]["title"], "Severity");
    assert_eq!(card["content"]["body"][1]["facts"][0]["value"], "critical");
    assert_eq!(card["content"]["actions"][0]["type"], "Action.OpenUrl");

    // PagerDuty: trigger, then resolve the same alert.
    assert_eq!(pagerduty.received()[0].path, "/v2/enqueue");
    let events = bodies(&pagerduty);
    let (trigger, resolve) = (&events[0], &events[1]);
    assert_eq!(trigger["routing_key"], "R0UT1NGK3Y");
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(
        trigger["dedup_key"],
        "parapet/aws-s3-bucket-policy-not-public/arn:aws:s3:::data"
    );
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert_eq!(trigger["payload"]["source"], "arn:aws:s3:::data");
    assert_eq!(
        trigger["payload"]["class"],
        "aws-s3-bucket-policy-not-public"
    );
    assert_eq!(trigger["payload"]["group"], "111111111111");
    assert_eq!(resolve["event_action"], "resolve");
    assert_eq!(resolve["dedup_key"], trigger["dedup_key"]);
    assert!(resolve.get("payload").is_none());
}

#[test]
fn a_secret_that_cannot_be_read_names_the_channel_not_the_value() {
    let config: parapet_notify::NotifyConfig = toml::from_str(
        "[[channels]]\ntype = \"slack\"\nname = \"alerts\"\nurl = { env = \"PARAPET_TEST_UNSET_SLACK_URL\" }\n",
    )
    .expect("valid");
    let error = parapet_notify::Notifier::new(&config)
        .err()
        .expect("refused")
        .to_string();
    assert!(
        error.contains("alerts") && error.contains("PARAPET_TEST_UNSET_SLACK_URL"),
        "{error}"
    );
    let inline: Result<parapet_notify::NotifyConfig, _> = toml::from_str(
        "[[channels]]\ntype = \"slack\"\nname = \"alerts\"\nurl = \"https://hooks.slack.com/services/T/B/X\"\n",
    );
    assert!(
        inline.is_err(),
        "a Slack address is a secret, never written inline"
    );
}

#[test]
fn a_slack_digest_lists_each_change_with_its_link() {
    let slack = Receiver::start(200);
    let secrets = tempfile::tempdir().expect("temp dir");
    let (_dir, mut store, notifier) = setup(&format!(
        "base_url = \"https://parapet.example.com\"\ndefault = [\"slack\"]\n\
         [[channels]]\ntype = \"slack\"\nname = \"slack\"\nurl = {}\n[limits.slack]\ndigest = \"1m\"\n",
        secret(
            secrets.path(),
            "slack",
            &format!("{}/services/T/B/X", slack.url)
        ),
    ));
    let assets: Vec<_> = (0..3)
        .map(|n| (bucket(&format!("b{n}")), Status::Fail))
        .collect();
    scan(&mut store, &assets);
    let later = Utc::now() + chrono::Duration::minutes(2);
    assert_eq!(
        notifier
            .deliver_due(&mut store, later)
            .expect("pass")
            .delivered,
        3
    );
    let bodies = bodies(&slack);
    assert_eq!(bodies.len(), 1);
    let blocks = bodies[0]["blocks"].as_array().expect("blocks");
    assert_eq!(blocks[0]["text"]["text"], "Parapet: 3 finding changes");
    assert_eq!(blocks.len(), 4);
    let line = blocks[1]["text"]["text"].as_str().expect("a line");
    assert!(
        line.starts_with("• <https://parapet.example.com/findings?")
            && line.contains("|Opened (critical)"),
        "{line}"
    );
}

#[test]
fn jira_gets_an_issue_per_finding_then_a_comment_and_a_transition_as_it_resolves_and_reopens() {
    let jira = Receiver::answering("127.0.0.1:0", |request| {
        let answer = match (request.method.as_str(), request.path.as_str()) {
            ("POST", "/rest/api/2/issue") => (201, r#"{"id": "10001", "key": "SEC-1"}"#),
            ("POST", "/rest/api/2/issue/SEC-1/comment") => (201, r#"{"id": "5"}"#),
            ("GET", "/rest/api/2/issue/SEC-1/transitions") => (
                200,
                r#"{"transitions": [{"id": "11", "name": "To Do"}, {"id": "31", "name": "Done"}]}"#,
            ),
            ("POST", "/rest/api/2/issue/SEC-1/transitions") => (204, ""),
            _ => (404, r#"{"errorMessages": ["no such thing"]}"#),
        };
        (answer.0, answer.1.to_owned())
    });
    let secrets = tempfile::tempdir().expect("temp dir");
    let (_dir, mut store, notifier) = setup(&format!(
        "default = [\"jira\"]\n[[channels]]\ntype = \"jira\"\nname = \"jira\"\nurl = \"{}/\"\n\
         user = \"parapet@example.com\"\ntoken = {}\nproject = \"SEC\"\nreopen_transition = \"To Do\"\nlabels = [\"cloud\"]\n",
        jira.url,
        secret(secrets.path(), "jira", "j1ra-t0ken"),
    ));
    // Opened, resolved, reopened: each change delivered once.
    for status in [Status::Fail, Status::Pass, Status::Fail] {
        scan(&mut store, &[(bucket("data"), status)]);
        let later = Utc::now() + chrono::Duration::hours(1);
        let done = notifier.deliver_due(&mut store, later).expect("pass");
        assert_eq!(done.delivered, 1, "{status:?}");
    }

    let calls: Vec<(String, String)> = jira
        .received()
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    let call = |m: &str, p: &str| (m.to_owned(), p.to_owned());
    // Resolving and reopening: a comment, the transitions offered, the move.
    let follow = [
        call("POST", "/rest/api/2/issue/SEC-1/comment"),
        call("GET", "/rest/api/2/issue/SEC-1/transitions"),
        call("POST", "/rest/api/2/issue/SEC-1/transitions"),
    ];
    let mut expected = vec![call("POST", "/rest/api/2/issue")];
    expected.extend(follow.iter().cloned());
    expected.extend(follow.iter().cloned());
    assert_eq!(calls, expected);
    let got = jira.received();
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("parapet@example.com:j1ra-t0ken")
    );
    assert!(
        got.iter()
            .all(|r| r.header("Authorization") == Some(expected.as_str()))
    );
    let issue: Value = serde_json::from_str(&got[0].body).expect("JSON");
    assert_eq!(issue["fields"]["project"]["key"], "SEC");
    assert_eq!(issue["fields"]["issuetype"]["name"], "Bug");
    assert_eq!(
        issue["fields"]["labels"],
        serde_json::json!(["parapet", "cloud"])
    );
    assert!(
        issue["fields"]["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("Opened (critical)"))
    );
    let done: Value = serde_json::from_str(&got[3].body).expect("JSON");
    assert_eq!(done["transition"]["id"], "31");
    let reopened: Value = serde_json::from_str(&got[6].body).expect("JSON");
    assert_eq!(reopened["transition"]["id"], "11");
    let comment: Value = serde_json::from_str(&got[1].body).expect("JSON");
    assert!(
        comment["body"]
            .as_str()
            .is_some_and(|b| b.starts_with("Resolved"))
    );
    assert_eq!(
        store
            .channel_ref(
                "jira",
                "parapet/aws-s3-bucket-policy-not-public/arn:aws:s3:::data"
            )
            .expect("query")
            .as_deref(),
        Some("SEC-1")
    );
}

#[test]
fn with_incidents_pagerduty_and_jira_follow_the_incident_not_each_finding() {
    let pagerduty = Receiver::start(202);
    let jira = Receiver::answering("127.0.0.1:0", |request| {
        let answer = match (request.method.as_str(), request.path.as_str()) {
            ("POST", "/rest/api/2/issue") => (201, r#"{"key": "SEC-7"}"#),
            ("GET", "/rest/api/2/issue/SEC-7/transitions") => {
                (200, r#"{"transitions": [{"id": "31", "name": "Done"}]}"#)
            }
            ("POST", p) if p.starts_with("/rest/api/2/issue/SEC-7/") => (204, ""),
            _ => (404, "{}"),
        };
        (answer.0, answer.1.to_owned())
    });
    let secrets = tempfile::tempdir().expect("temp dir");
    let (_dir, mut store, notifier) = setup(&format!(
        "default = [\"pager\", \"jira\"]\n\
         [[channels]]\ntype = \"pagerduty\"\nname = \"pager\"\nrouting_key = {}\nurl = \"{}/v2/enqueue\"\n\
         [[channels]]\ntype = \"jira\"\nname = \"jira\"\nurl = \"{}\"\nuser = \"u\"\ntoken = {}\nproject = \"SEC\"\n",
        secret(secrets.path(), "pager", "R0UT1NG"),
        pagerduty.url,
        jira.url,
        secret(secrets.path(), "jira", "t0ken"),
    ));
    store.set_incident_policy(parapet_store::IncidentPolicy {
        grouping: parapet_store::Grouping::RuleAndAccount,
        min_severity: parapet_core::Severity::High,
    });
    // Two buckets fail one rule: one incident, one alert, one issue.
    for results in [
        [Status::Fail, Status::Fail],
        [Status::Pass, Status::Fail],
        [Status::Pass, Status::Pass],
    ] {
        let assets: Vec<_> = ["data", "logs"]
            .into_iter()
            .zip(results)
            .map(|(name, status)| (bucket(name), status))
            .collect();
        scan(&mut store, &assets);
        let later = Utc::now() + chrono::Duration::hours(1);
        let done = notifier.deliver_due(&mut store, later).expect("pass");
        assert_eq!((done.retrying, done.failed), (0, 0), "{results:?}");
    }
    let incident = store.incidents(None, 10).expect("incidents");
    assert_eq!(incident.len(), 1);
    let key = format!("parapet/incident/{}", incident[0].id);

    let events = bodies(&pagerduty);
    let actions: Vec<(&str, &str)> = events
        .iter()
        .filter_map(|e| Some((e["event_action"].as_str()?, e["dedup_key"].as_str()?)))
        .collect();
    assert_eq!(
        actions,
        [
            ("trigger", key.as_str()),
            ("trigger", key.as_str()),
            ("resolve", key.as_str())
        ],
        "the first finding resolving leaves the alert open"
    );
    assert!(
        events[0]["payload"]["summary"]
            .as_str()
            .is_some_and(|s| s.ends_with("in 111111111111")),
        "the incident's title: {}",
        events[0]["payload"]["summary"]
    );

    let calls: Vec<String> = jira
        .received()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        calls,
        [
            "POST /rest/api/2/issue",
            "POST /rest/api/2/issue/SEC-7/comment",
            "POST /rest/api/2/issue/SEC-7/comment",
            "POST /rest/api/2/issue/SEC-7/comment",
            "GET /rest/api/2/issue/SEC-7/transitions",
            "POST /rest/api/2/issue/SEC-7/transitions",
        ],
        "one issue for the incident, closed with it"
    );
    assert_eq!(
        store.channel_ref("jira", &key).expect("query").as_deref(),
        Some("SEC-7")
    );
}
