use crate::{Backend, at, bucket, evaluation, scan};
use parapet_core::{MuteSelector, Severity, Status};
use parapet_store::Policy;
use parapet_store::roles::*;
use parapet_store::{AssetQuery, FindingQuery, TokenScope};
use serde_json::json;

pub const RULE: &str = "aws-s3-bucket-versioning-enabled";

/// Five buckets (`dev-0`, `dev-1`, `prod-2`...), even ones failing.
pub fn estate(store: &mut dyn Store) {
    let assets: Vec<_> = (0..5)
        .map(|i| {
            let name = if i < 2 {
                format!("dev-{i}")
            } else {
                format!("prod-{i}")
            };
            bucket(&name, json!({}), at(0))
        })
        .collect();
    let evaluations: Vec<_> = assets
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let status = if i % 2 == 0 {
                Status::Fail
            } else {
                Status::Pass
            };
            evaluation(RULE, a, status)
        })
        .collect();
    scan(store, at(0), &assets, &evaluations, &[]);
}

fn ids(store: &dyn Store, query: &AssetQuery) -> Vec<String> {
    store
        .assets(query)
        .expect("assets")
        .into_iter()
        .map(|a| a.id.trim_start_matches("arn:aws:s3:::").to_owned())
        .collect()
}

pub fn assets_filter_by_tag_text_and_place_and_page_by_id(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    estate(&mut store);
    let all = AssetQuery::default();
    assert_eq!(
        ids(&store, &all),
        ["dev-0", "dev-1", "prod-2", "prod-3", "prod-4"]
    );
    let tagged = AssetQuery {
        tag: Some(("env".into(), Some("dev".into()))),
        ..AssetQuery::default()
    };
    assert_eq!(ids(&store, &tagged), ["dev-0", "dev-1"]);
    let key_only = AssetQuery {
        tag: Some(("env".into(), None)),
        ..AssetQuery::default()
    };
    assert_eq!(store.count_assets(&key_only).expect("count"), 5);
    let missing = AssetQuery {
        tag: Some(("owner".into(), None)),
        ..AssetQuery::default()
    };
    assert!(ids(&store, &missing).is_empty());
    let text = AssetQuery {
        text: Some("PROD".into()),
        ..AssetQuery::default()
    };
    assert_eq!(ids(&store, &text), ["prod-2", "prod-3", "prod-4"]);
    let elsewhere = AssetQuery {
        region: Some("us-east-1".into()),
        ..AssetQuery::default()
    };
    assert_eq!(store.count_assets(&elsewhere).expect("count"), 0);
    // Two pages of two, then the last one.
    let mut query = AssetQuery {
        limit: 2,
        ..AssetQuery::default()
    };
    let mut pages = Vec::new();
    loop {
        let page = store.assets(&query).expect("page");
        let Some(last) = page.last() else { break };
        query.after = Some(last.id.clone());
        pages.push(page.len());
    }
    assert_eq!(pages, [2, 2, 1]);
    // Open findings are counted on each asset.
    let first = &store.assets(&all).expect("assets")[0];
    assert_eq!((first.name.as_str(), first.open_findings), ("dev-0", 1));
    assert_eq!(first.tags["env"], "dev");
    let facets = store.facets().expect("facets");
    assert_eq!(facets.resource_types["AWS::S3::Bucket"], 5);
    assert_eq!(facets.regions.keys().collect::<Vec<_>>(), ["eu-west-1"]);
}

pub fn findings_filter_by_severities_rules_and_place(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    estate(&mut store);
    let count = |query: FindingQuery| store.findings(&query).expect("findings").len();
    // The scan's severity is high for every rule.
    assert_eq!(count(FindingQuery::default()), 3);
    let high = FindingQuery {
        severities: vec![Severity::High],
        ..FindingQuery::default()
    };
    assert_eq!(count(high), 3);
    let low = FindingQuery {
        severities: vec![Severity::Low, Severity::Critical],
        ..FindingQuery::default()
    };
    assert_eq!(count(low), 0);
    let other_rule = FindingQuery {
        rule_ids: vec!["other".into()],
        ..FindingQuery::default()
    };
    assert_eq!(count(other_rule), 0);
    let place = FindingQuery {
        rule_ids: vec!["other".into(), RULE.into()],
        region: Some("eu-west-1".into()),
        resource_type: Some("AWS::S3::Bucket".into()),
        ..FindingQuery::default()
    };
    assert_eq!(count(place), 3);
}

pub fn overview_counts_results_open_findings_mutes_and_trend(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    estate(&mut store);
    let selector = MuteSelector {
        asset: Some("arn:aws:s3:::prod-4".into()),
        ..MuteSelector::default()
    };
    store
        .add_mute(&selector, "accepted", "alice", None, at(1))
        .expect("mute");
    let overview = store.overview(at(30), 3).expect("overview");
    assert_eq!(overview.assets, 5);
    assert_eq!(overview.results["fail"], 3);
    assert_eq!(overview.results["pass"], 2);
    assert_eq!(overview.posture_score, Some(40.0));
    assert_eq!(overview.open_by_severity[&Severity::High], 2);
    assert_eq!(overview.muted, 1);
    assert_eq!(overview.accounts.len(), 1);
    assert_eq!(overview.accounts[0].assets, 5);
    let counts: Vec<_> = store
        .result_counts()
        .expect("counts")
        .into_iter()
        .map(|c| (c.result, c.count))
        .collect();
    assert_eq!(counts, [(Status::Fail, 3), (Status::Pass, 2)]);
    let days: Vec<_> = overview
        .trend
        .iter()
        .map(|d| (d.day.as_str(), d.opened, d.resolved))
        .collect();
    assert_eq!(
        days,
        [
            ("2026-10-31", 0, 0),
            ("2026-11-01", 3, 0),
            ("2026-11-02", 0, 0)
        ]
    );
}

pub fn tokens_are_found_by_hash_used_and_revoked(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    let token = store
        .create_token("ci", TokenScope::ReadOnly, "ab12", Some(at(48)), at(0))
        .expect("create");
    let found = store.token_by_hash("ab12").expect("lookup").expect("found");
    assert_eq!((found.id, found.scope), (token.id, TokenScope::ReadOnly));
    assert!(found.is_valid(at(1)));
    assert!(!found.is_valid(at(48)), "expired");
    assert!(store.token_by_hash("cd34").expect("lookup").is_none());
    store.token_used(token.id, at(2)).expect("used");
    let revoked = store.revoke_token(token.id, at(3)).expect("revoke");
    assert_eq!(revoked.last_used_at, Some(at(2)));
    assert!(!revoked.is_valid(at(4)));
    assert!(store.revoke_token(token.id, at(5)).is_err(), "twice");
    assert!(store.revoke_token(99, at(5)).is_err(), "unknown");
    assert!(
        store
            .create_token(" ", TokenScope::ReadWrite, "x", None, at(0))
            .is_err()
    );
    assert!(
        store
            .create_token("again", TokenScope::ReadWrite, "ab12", None, at(0))
            .is_err(),
        "one hash, one token"
    );
    assert_eq!(store.tokens().expect("list").len(), 1);
}

pub fn a_vulnerability_scan_attached_to_an_asset_replaces_its_last_one(backend: &impl Backend) {
    use parapet_core::{Severity, Vulnerability, VulnerabilityScan};
    let (_dir, mut store) = backend.open(Policy::default());
    let scan = |target: &str, severity| VulnerabilityScan {
        target: target.to_owned(),
        scanned_at: chrono::Utc::now(),
        packages: 96,
        vulnerabilities: vec![Vulnerability {
            advisory: "DSA-5514-1".to_owned(),
            aliases: vec!["CVE-2023-4911".to_owned()],
            package: "libc6".to_owned(),
            version: "2.36-9+deb12u1".to_owned(),
            ecosystem: "Debian".to_owned(),
            severity,
            score: Some(7.8),
            fixed: Some("2.36-9+deb12u3".to_owned()),
        }],
    };
    let image = "arn:aws:ec2:eu-west-1::image/ami-1";
    store
        .attach_vulnerabilities(image, &scan("old.img", Some(Severity::High)))
        .expect("attach");
    store
        .attach_vulnerabilities(image, &scan("new.img", None))
        .expect("attach");
    let scans = store.vulnerability_scans().expect("read");
    assert_eq!(scans.len(), 1);
    assert_eq!(scans[image].target, "new.img");
    assert_eq!(scans[image].vulnerabilities[0].severity, None);
    assert_eq!(
        scans[image].vulnerabilities[0].fixed.as_deref(),
        Some("2.36-9+deb12u3")
    );
}
