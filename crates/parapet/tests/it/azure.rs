//! `parapet scan azure` against the fake of Azure Resource Manager and
//! Entra ID's token endpoint (`parapet-azure-fake`), signed in as a
//! service principal from the environment.

use parapet_azure_fake::{
    Fake, SECRET, compliant_estate, noncompliant_estate, storage_account, subscription,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Output};

const SUBSCRIPTION: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";

/// Runs `parapet` signed in to the fake as its service principal, on the
/// database `db`, trusting the fake's certificate from `pem`.
fn parapet_on(fake: &Fake, db: &std::path::Path, pem: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parapet"))
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("PARAPET_RULES")
        .env("PARAPET_DB", db)
        .envs(fake.settings(pem))
        .output()
        .expect("parapet runs")
}

/// A folder for a run against `fake`: the database's path and the fake's
/// certificate, written.
fn files(fake: &Fake) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().expect("a folder");
    let (db, pem) = (dir.path().join("parapet.db"), dir.path().join("fake.pem"));
    std::fs::write(&pem, &fake.certificate).expect("the certificate written");
    (dir, db, pem)
}

#[test]
fn scan_azure_collects_records_and_reports_the_subscriptions_the_identity_can_read() {
    let fake = Fake::start();
    {
        let mut estate = fake.estate.lock().expect("the estate");
        estate.seed(subscription(SUBSCRIPTION, "Enabled"));
        for (name, public) in [("privatelogs", false), ("publicdata", true)] {
            let mut account = storage_account(SUBSCRIPTION, name);
            account["properties"]["allowBlobPublicAccess"] = json!(public);
            estate.seed(account);
        }
    }
    let (_dir, db, pem) = files(&fake);

    let output = parapet_on(&fake, &db, &pem, &["scan", "azure", "--format", "json"]);
    let (out, err) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(
        !out.contains(SECRET) && !err.contains(SECRET),
        "the secret is never shown"
    );
    let report: Value = serde_json::from_str(&out).expect("a JSON report");
    assert_eq!(report["assets"], 3);
    assert_eq!(report["collection"]["accounts"][0]["account"], SUBSCRIPTION);
    assert_eq!(
        report["collection"]["resource_types"]["Microsoft.Storage/storageAccounts"],
        2
    );
    assert_eq!(
        report["collection"]["api_calls_by_action"]["Microsoft.Storage/storageAccounts/read"],
        1
    );
    assert_eq!(report["recorded"][0]["counts"]["assets"], 3);
    assert_eq!(report["recorded"][0]["source"], "azure");

    // Recorded: the inventory holds them as Azure assets of the
    // subscription.
    let listed = parapet_on(
        &fake,
        &db,
        &pem,
        &["assets", "list", "--provider", "azure", "--format", "json"],
    );
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let assets: Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    let names: Vec<&str> = assets
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(names.len(), 3, "{assets}");
    assert!(names.contains(&"publicdata"), "{names:?}");
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

/// Rules with no result on the compliant estate (nothing they apply to
/// exists there), and why.
const NOT_ON_COMPLIANT: &[(&str, &str)] = &[
    (
        "azure-keyvault-keys-expire-access-policies",
        "the compliant estate's vault grants access with Azure RBAC, as the benchmark asks",
    ),
    (
        "azure-keyvault-secrets-expire-access-policies",
        "the compliant estate's vault grants access with Azure RBAC, as the benchmark asks",
    ),
];

/// Every result of `parapet scan azure` over `estate`, seeded in a fresh
/// fake, by rule id: the statuses it gave.
fn posture(estate: Vec<Value>) -> BTreeMap<String, BTreeSet<String>> {
    let fake = Fake::start();
    {
        let mut seeded = fake.estate.lock().expect("the estate");
        for resource in estate {
            seeded.seed(resource);
        }
    }
    let (_dir, db, pem) = files(&fake);
    let output = parapet_on(&fake, &db, &pem, &["scan", "azure", "--format", "jsonl"]);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(matches!(output.status.code(), Some(0 | 1)), "{err}");
    let violations = fake.violations();
    assert!(violations.is_empty(), "{violations:?}");
    crate::estates::by_rule(&output.stdout)
}

#[test]
fn the_compliant_estate_passes_every_azure_rule() {
    let results = posture(compliant_estate(SUBSCRIPTION));
    let rules = crate::estates::rules("azure-");
    assert!(rules.len() >= 80, "{}", rules.len());
    crate::estates::all_pass(&results, &rules, NOT_ON_COMPLIANT);
}

#[test]
fn the_noncompliant_estate_fails_every_azure_rule() {
    let results = posture(noncompliant_estate(SUBSCRIPTION));
    crate::estates::all_fail(&results, crate::estates::rules("azure-"));
}

#[test]
fn what_the_command_line_refuses_is_refused_before_any_sign_in() {
    let fake = Fake::start();
    let (_dir, db, pem) = files(&fake);
    let plain = format!("http://{}", fake.address);
    let cases: [(&[&str], &str); 2] = [
        (&["--resource-manager", &plain], "not HTTPS"),
        (
            &[
                "--subscriptions",
                SUBSCRIPTION,
                "--management-group",
                "prod",
            ],
            "--management-group",
        ),
    ];
    for (args, said) in cases {
        let mut all = vec!["scan", "azure"];
        all.extend_from_slice(args);
        let output = parapet_on(&fake, &db, &pem, &all);
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(said), "{args:?}: {err}");
    }
    assert_eq!(fake.estate.lock().expect("the estate").sign_ins, 0);
}

#[test]
fn a_management_group_scans_the_subscriptions_under_it() {
    let fake = Fake::start();
    {
        let mut estate = fake.estate.lock().expect("the estate");
        estate.seed(subscription(SUBSCRIPTION, "Enabled"));
        estate.seed(storage_account(SUBSCRIPTION, "underprod"));
        estate.management_groups.insert("prod".to_owned(), None);
        estate
            .placements
            .insert(SUBSCRIPTION.to_owned(), "prod".to_owned());
    }
    let (_dir, db, pem) = files(&fake);
    let output = parapet_on(
        &fake,
        &db,
        &pem,
        &[
            "scan",
            "azure",
            "--management-group",
            "prod",
            "--format",
            "json",
        ],
    );
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(matches!(output.status.code(), Some(0 | 1)), "{err}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    assert_eq!(report["collection"]["accounts"][0]["account"], SUBSCRIPTION);
    assert_eq!(
        report["collection"]["resource_types"]["Microsoft.Storage/storageAccounts"],
        1
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}
