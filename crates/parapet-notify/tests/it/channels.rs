use super::Receiver;
use super::webhook::{bucket, scan, setup};
use chrono::Utc;
use parapet_core::Status;
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
