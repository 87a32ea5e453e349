use super::Receiver;
use super::fake_jira::{FakeJira, Flavour};
use super::webhook::{bucket, scan, setup, setup_grouped};
use chrono::Utc;
use parapet_core::Status;
use parapet_store::{Incidents, Outbox, SqliteStore, Timeline};
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

/// The label Parapet puts on the issue of `dedup_key`.
fn label_of(dedup_key: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(dedup_key);
    format!("parapet-{}", &hex::encode(digest)[..16])
}

/// A search for the issue labelled for `dedup_key`, on Jira Cloud.
fn search(dedup_key: &str) -> String {
    format!(
        "GET /rest/api/2/search/jql?jql=labels%20%3D%20%22{}%22&fields=summary&maxResults=1",
        label_of(dedup_key)
    )
}

const COMMENT: &str = "POST /rest/api/2/issue/SEC-1/comment";
const OFFERED: &str = "GET /rest/api/2/issue/SEC-1/transitions";
const STATUS: &str = "GET /rest/api/2/issue/SEC-1?fields=status";
const MOVED: &str = "POST /rest/api/2/issue/SEC-1/transitions";
const CREATE: &str = "POST /rest/api/2/issue";

fn jira_channel(jira: &FakeJira, secrets: &std::path::Path, extra: &str) -> String {
    format!(
        "[[channels]]\ntype = \"jira\"\nname = \"jira\"\nurl = \"{}/\"\n\
         user = \"parapet@example.com\"\ntoken = {}\nproject = \"SEC\"\n{extra}",
        jira.url(),
        secret(secrets, "jira", "j1ra-t0ken"),
    )
}

#[test]
fn jira_gets_an_issue_per_finding_then_a_comment_and_a_transition_as_it_resolves_and_reopens() {
    let jira = FakeJira::start(Flavour::default());
    let secrets = tempfile::tempdir().expect("temp dir");
    let (_dir, mut store, notifier) = setup(&format!(
        "default = [\"jira\"]\n{}",
        jira_channel(
            &jira,
            secrets.path(),
            "reopen_transition = \"To Do\"\nlabels = [\"cloud\"]\n"
        )
    ));
    // Opened, resolved, reopened: each change delivered once.
    for status in [Status::Fail, Status::Pass, Status::Fail] {
        scan(&mut store, &[(bucket("data"), status)]);
        let later = Utc::now() + chrono::Duration::hours(1);
        let done = notifier.deliver_due(&mut store, later).expect("pass");
        assert_eq!(done.delivered, 1, "{status:?}");
    }

    let key = "parapet/aws-s3-bucket-policy-not-public/arn:aws:s3:::data";
    // Resolving and reopening: a comment, the transitions offered, the move.
    assert_eq!(
        jira.calls(),
        [
            &search(key),
            CREATE,
            COMMENT,
            OFFERED,
            MOVED,
            COMMENT,
            OFFERED,
            MOVED
        ]
    );
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("parapet@example.com:j1ra-t0ken")
    );
    assert!(
        jira.receiver
            .received()
            .iter()
            .all(|r| r.header("Authorization") == Some(expected.as_str()))
    );
    let issue = &jira.bodies("POST", "/rest/api/2/issue")[0];
    assert_eq!(issue["fields"]["project"]["key"], "SEC");
    assert_eq!(issue["fields"]["issuetype"]["name"], "Bug");
    assert_eq!(
        issue["fields"]["labels"],
        serde_json::json!(["parapet", label_of(key), "cloud"])
    );
    assert!(
        issue["fields"]["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("Opened (critical)"))
    );
    let moves: Vec<Value> = jira
        .bodies("POST", "/rest/api/2/issue/SEC-1/transitions")
        .iter()
        .map(|b| b["transition"]["id"].clone())
        .collect();
    assert_eq!(moves, ["31", "11"], "Done, then To Do");
    assert!(!jira.issues()[0].done);
    let comment = &jira.bodies("POST", "/rest/api/2/issue/SEC-1/comment")[0];
    assert!(
        comment["body"]
            .as_str()
            .is_some_and(|b| b.starts_with("{noformat}\nResolved"))
    );
    assert_eq!(
        store.channel_ref("jira", key).expect("query").as_deref(),
        Some("SEC-1")
    );
}

#[test]
fn an_issue_created_whose_answer_was_lost_is_found_by_its_label_not_created_twice() {
    for data_center in [false, true] {
        let jira = FakeJira::start(Flavour {
            data_center,
            lose_first_answer: true,
        });
        let secrets = tempfile::tempdir().expect("temp dir");
        let (_dir, mut store, notifier) = setup(&format!(
            "default = [\"jira\"]\n{}",
            jira_channel(&jira, secrets.path(), "")
        ));
        scan(&mut store, &[(bucket("data"), Status::Fail)]);
        let done = notifier.deliver_due(&mut store, Utc::now()).expect("pass");
        assert_eq!(done.retrying, 1, "the answer was lost: tried again");
        let later = Utc::now() + chrono::Duration::hours(1);
        let done = notifier.deliver_due(&mut store, later).expect("pass");
        assert_eq!(done.delivered, 1);
        assert_eq!(jira.issues().len(), 1, "{:?}", jira.issues());
        let key = "parapet/aws-s3-bucket-policy-not-public/arn:aws:s3:::data";
        assert_eq!(
            store.channel_ref("jira", key).expect("query").as_deref(),
            Some("SEC-1")
        );
        let searches = jira
            .calls()
            .iter()
            .filter(|c| c.starts_with("GET /rest/api/2/search"))
            .count();
        assert_eq!(
            searches,
            if data_center { 4 } else { 2 },
            "Data Center has no search/jql: {:?}",
            jira.calls()
        );
    }
}

#[test]
fn with_incidents_pagerduty_and_jira_follow_the_incident_not_each_finding() {
    let pagerduty = Receiver::start(202);
    let jira = FakeJira::start(Flavour::default());
    let secrets = tempfile::tempdir().expect("temp dir");
    let (_dir, mut store, notifier) = setup_grouped(
        &format!(
            "default = [\"pager\", \"jira\"]\n\
         [[channels]]\ntype = \"pagerduty\"\nname = \"pager\"\nrouting_key = {}\nurl = \"{}/v2/enqueue\"\n{}",
            secret(secrets.path(), "pager", "R0UT1NG"),
            pagerduty.url,
            jira_channel(&jira, secrets.path(), ""),
        ),
        Some(parapet_store::IncidentPolicy {
            grouping: parapet_store::Grouping::RuleAndAccount,
            min_severity: parapet_core::Severity::High,
        }),
    );
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
    let incident = store.incidents(None, None, 10).expect("incidents");
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

    assert_eq!(
        jira.calls(),
        [
            &search(&key),
            CREATE,
            COMMENT,
            COMMENT,
            COMMENT,
            OFFERED,
            MOVED
        ],
        "one issue for the incident, closed with it"
    );
    assert_eq!(
        store.channel_ref("jira", &key).expect("query").as_deref(),
        Some("SEC-1")
    );
}

#[test]
fn an_incident_acknowledged_and_resolved_by_hand_is_followed_by_its_alert_and_issue() {
    let pagerduty = Receiver::start(202);
    let hook = Receiver::start(200);
    let jira = FakeJira::start(Flavour::default());
    let secrets = tempfile::tempdir().expect("temp dir");
    // The webhook only hears of another rule: it never carried the incident.
    let (_dir, mut store, notifier) = setup_grouped(
        &format!(
            "default = [\"pager\", \"jira\"]\n\
         [[routes]]\nrules = [\"aws-iam-*\"]\nchannels = [\"hook\"]\n\
         [[channels]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"{}\"\n\
         [[channels]]\ntype = \"pagerduty\"\nname = \"pager\"\nrouting_key = {}\nurl = \"{}/v2/enqueue\"\n{}",
            hook.url,
            secret(secrets.path(), "pager", "R0UT1NG"),
            pagerduty.url,
            jira_channel(&jira, secrets.path(), "reopen_transition = \"To Do\"\n"),
        ),
        Some(parapet_store::IncidentPolicy {
            grouping: parapet_store::Grouping::RuleAndAccount,
            min_severity: parapet_core::Severity::High,
        }),
    );
    let deliver = |store: &mut SqliteStore| {
        let later = Utc::now() + chrono::Duration::hours(1);
        let done = notifier.deliver_due(store, later).expect("pass");
        assert_eq!((done.failed, done.retrying), (0, 0));
        done.delivered
    };
    let both = |status| [(bucket("data"), status), (bucket("logs"), status)];
    // `data` fails, then `logs` joins the open incident: its issue offers
    // no `To Do`, being open, so the second change only comments.
    scan(&mut store, &[(bucket("data"), Status::Fail)]);
    scan(&mut store, &both(Status::Fail));
    assert_eq!(deliver(&mut store), 4);
    let id = store.incidents(None, None, 10).expect("incidents")[0].id;
    let key = format!("parapet/incident/{id}");

    store
        .acknowledge_incident(id, "alice", Utc::now())
        .expect("ack");
    assert_eq!(deliver(&mut store), 2, "pager and jira, not the webhook");
    store
        .resolve_incident(id, "alice", Utc::now())
        .expect("resolve");
    assert_eq!(deliver(&mut store), 2);
    assert!(jira.issues()[0].done);
    // Still failing: nothing changed, nothing to send.
    scan(&mut store, &both(Status::Fail));
    assert_eq!(deliver(&mut store), 0);
    // Fixed: the findings resolve; the issue is already done. Broken again:
    // the incident reopens, and with it the alert and the issue.
    scan(&mut store, &both(Status::Pass));
    assert_eq!(deliver(&mut store), 4);
    scan(&mut store, &both(Status::Fail));
    assert_eq!(deliver(&mut store), 4);
    assert!(!jira.issues()[0].done);
    assert_eq!(jira.issues().len(), 1);
    assert!(hook.received().is_empty(), "{:?}", hook.received());

    let events = bodies(&pagerduty);
    let actions: Vec<&str> = events
        .iter()
        .filter_map(|e| {
            (e["dedup_key"] == key.as_str())
                .then_some(e["event_action"].as_str())
                .flatten()
        })
        .collect();
    assert_eq!(
        actions,
        [
            "trigger",
            "trigger",
            "acknowledge",
            "resolve",
            "resolve",
            "resolve",
            "trigger",
            "trigger"
        ]
    );
    assert_eq!(
        events[2].as_object().map(|o| o.len()),
        Some(3),
        "an acknowledgement is the routing key, the action and the key: {}",
        events[2]
    );

    assert_eq!(
        jira.calls(),
        [
            &search(&key),
            CREATE,
            COMMENT,
            OFFERED,
            STATUS,  // logs joins the open issue
            COMMENT, // acknowledged
            COMMENT,
            OFFERED,
            MOVED, // resolved by hand: Done
            COMMENT,
            OFFERED,
            STATUS, // data resolves: already done
            COMMENT,
            OFFERED,
            STATUS, // logs resolves: already done
            COMMENT,
            OFFERED,
            MOVED, // data fails again: To Do
            COMMENT,
            OFFERED,
            STATUS, // logs joins the reopened issue
        ]
    );
    let comments = jira.bodies("POST", "/rest/api/2/issue/SEC-1/comment");
    let text = |i: usize| {
        let body = comments[i]["body"].as_str().unwrap_or_default();
        body.strip_prefix("{noformat}\n").unwrap_or(body).to_owned()
    };
    assert!(
        text(1).starts_with(&format!("Incident {id} acknowledged by alice: ")),
        "{}",
        text(1)
    );
    assert!(
        text(2).starts_with(&format!("Incident {id} resolved by alice: ")),
        "{}",
        text(2)
    );

    // The timeline has both, each naming the incident and who.
    let timeline = store
        .events(&parapet_store::EventQuery {
            kinds: vec![
                parapet_core::EventKind::IncidentAcknowledged,
                parapet_core::EventKind::IncidentResolved,
            ],
            ..Default::default()
        })
        .expect("events");
    let said: Vec<(&str, &Value, &Value)> = timeline
        .iter()
        .map(|e| {
            (
                e.event.kind.as_str(),
                &e.event.detail["incident"],
                &e.event.detail["by"],
            )
        })
        .collect();
    assert_eq!(
        said,
        [
            ("incident_resolved", &Value::from(id), &Value::from("alice")),
            (
                "incident_acknowledged",
                &Value::from(id),
                &Value::from("alice")
            ),
        ]
    );
}
