//! `parapet scan gcp` against the fake of Cloud Asset Inventory
//! (`parapet-gcp-fake`), signed in with the service account key
//! Application Default Credentials find.

use parapet_gcp_fake::{Estate, Fake, ORGANIZATION, compliant_estate, noncompliant_estate};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output};

/// Runs `parapet` signed in to the fake, on a database of its own.
fn parapet_on(fake: &Fake, db: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parapet"))
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("PARAPET_RULES")
        .env_remove("PARAPET_GCP_CREDENTIALS_FILE")
        .env("PARAPET_DB", db)
        .envs(fake.settings())
        .output()
        .expect("parapet runs")
}

/// Rules that have nothing to judge in the compliant estate, with why.
const NOT_ON_COMPLIANT: &[(&str, &str)] = &[(
    "gcp-iam-user-managed-keys-rotated-90-days",
    "the compliant estate has no user-managed key",
)];

/// Every result of `parapet scan gcp` over `estate`, by rule id: the
/// statuses (with the message of those that did not pass).
fn posture(estate: Estate) -> BTreeMap<String, BTreeSet<String>> {
    let fake = Fake::start(estate);
    let dir = tempfile::tempdir().expect("a folder");
    let output = parapet_on(
        &fake,
        &dir.path().join("parapet.db"),
        &[
            "scan",
            "gcp",
            "--organization",
            ORGANIZATION,
            "--format",
            "jsonl",
        ],
    );
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(matches!(output.status.code(), Some(0 | 1)), "{err}");
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    crate::estates::by_rule(&output.stdout)
}

#[test]
fn scan_gcp_collects_the_organisation_and_shows_no_key() {
    let fake = Fake::start(compliant_estate());
    let dir = tempfile::tempdir().expect("a folder");
    let db = dir.path().join("parapet.db");
    let output = parapet_on(
        &fake,
        &db,
        &[
            "scan",
            "gcp",
            "--organization",
            ORGANIZATION,
            "--format",
            "json",
        ],
    );
    let (out, err) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(!out.contains("PRIVATE KEY") && !err.contains("PRIVATE KEY"));
    let report: Value = serde_json::from_str(&out).expect("a JSON report");
    let accounts: BTreeSet<&str> = report["collection"]["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .filter_map(|a| a["account"].as_str())
        .collect();
    let organization = format!("organizations/{ORGANIZATION}");
    assert_eq!(
        accounts,
        BTreeSet::from(["parapet-prod", organization.as_str()])
    );
    let types = report["collection"]["resource_types"]
        .as_object()
        .expect("types");
    assert_eq!(types.len(), parapet_gcp::types::TYPES.len(), "{types:?}");
    assert_eq!(types["sqladmin.googleapis.com/Instance"], 3);

    // A bucket deleted since is marked deleted by the next scan.
    fake.estate
        .lock()
        .expect("the estate")
        .delete("//storage.googleapis.com/parapet-prod-access-logs");
    let again = parapet_on(&fake, &db, &["scan", "gcp", "--organization", ORGANIZATION]);
    assert!(matches!(again.status.code(), Some(0 | 1)));
    let listed = parapet_on(&fake, &db, &["assets", "list", "--format", "json"]);
    let assets: Vec<Value> = serde_json::from_slice(&listed.stdout).expect("assets");
    assert!(
        !assets
            .iter()
            .any(|a| a["name"] == "parapet-prod-access-logs"),
        "the deleted bucket is gone from the inventory"
    );
    assert!(
        assets
            .iter()
            .any(|a| a["name"] == "parapet-prod-audit-logs")
    );
}

#[test]
fn the_compliant_estate_passes_every_gcp_rule() {
    let results = posture(compliant_estate());
    let rules = crate::estates::rules("gcp-");
    assert!(rules.len() >= 70, "{}", rules.len());
    crate::estates::all_pass(&results, &rules, NOT_ON_COMPLIANT);
}

#[test]
fn the_noncompliant_estate_fails_every_gcp_rule() {
    let results = posture(noncompliant_estate());
    crate::estates::all_fail(&results, crate::estates::rules("gcp-"));
}

#[test]
fn a_scan_without_a_scope_or_with_two_is_refused() {
    let fake = Fake::start(compliant_estate());
    let dir = tempfile::tempdir().expect("a folder");
    let db = dir.path().join("parapet.db");
    let output = parapet_on(&fake, &db, &["scan", "gcp"]);
    let err = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(0));
    assert!(err.contains("--organization"), "{err}");
    let output = parapet_on(
        &fake,
        &db,
        &["scan", "gcp", "--organization", "1", "--projects", "p"],
    );
    assert_eq!(output.status.code(), Some(2));
    let output = parapet_on(
        &fake,
        &db,
        &[
            "scan",
            "gcp",
            "--projects",
            "p",
            "--inventory-endpoint",
            "http://example.com",
        ],
    );
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("HTTP is allowed to this machine only"),
        "{err}"
    );
}

#[test]
fn on_a_machine_the_metadata_server_signs_parapet_in() {
    let mut estate = compliant_estate();
    estate.machine_account = Some("314159265358-compute@developer.gserviceaccount.com".to_owned());
    let fake = Fake::start(estate);
    let dir = tempfile::tempdir().expect("a folder");
    // No key file and no gcloud sign-in: Application Default Credentials
    // fall back to the metadata server.
    let output = Command::new(env!("CARGO_BIN_EXE_parapet"))
        .args([
            "scan",
            "gcp",
            "--projects",
            "parapet-prod",
            "--format",
            "json",
        ])
        .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
        .env_remove("PARAPET_GCP_CREDENTIALS_FILE")
        .env_remove("PARAPET_RULES")
        .env("HOME", dir.path())
        .env("CLOUDSDK_CONFIG", dir.path().join("gcloud"))
        .env("GCE_METADATA_HOST", fake.address.to_string())
        .env("PARAPET_GCP_INVENTORY_ENDPOINT", fake.url())
        .env("PARAPET_DB", dir.path().join("parapet.db"))
        .output()
        .expect("parapet runs");
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(matches!(output.status.code(), Some(0 | 1)), "{err}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    let types = report["collection"]["resource_types"]
        .as_object()
        .map_or(0, serde_json::Map::len);
    assert!(types >= 30, "signed in and collected: {report}");
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}
