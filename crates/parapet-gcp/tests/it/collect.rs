//! Collections of the fake's estates: every type, each asset in its
//! project, IAM policies read or left unknown, and what is worked out
//! across assets.

use parapet_core::Asset;
use parapet_gcp::{Credentials, Endpoints, GcpOptions, GcpProvider, GcpScope};
use parapet_gcp_fake::{Fake, ORGANIZATION, compliant_estate};
use parapet_provider::{Collection, Provider, Quiet};
use serde_json::json;

/// A provider of `scope` signed in to `fake` with its service account key.
pub fn provider(fake: &Fake, scope: GcpScope) -> GcpProvider {
    GcpProvider::new(GcpOptions {
        scope,
        credentials: Credentials {
            file: Some(fake.key_file().to_path_buf()),
            impersonate: None,
        },
        endpoints: Endpoints::new(Some(&fake.url()), None).expect("the fake's endpoint"),
    })
}

fn find<'a>(collection: &'a Collection, kind: &str, name: &str) -> &'a Asset {
    collection
        .assets()
        .find(|a| a.resource_type.as_str() == kind && a.name == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

#[test]
fn an_organisation_is_collected_whole_each_project_a_part() {
    let mut estate = compliant_estate();
    estate.page_size = Some(7);
    let fake = Fake::start(estate);
    let collection = provider(&fake, GcpScope::Organization(ORGANIZATION.to_owned()))
        .collect(None, &Quiet)
        .expect("a collection");
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    let accounts: Vec<&str> = collection
        .parts
        .iter()
        .map(|p| p.scope.accounts[0].as_str())
        .collect();
    let organization = format!("organizations/{ORGANIZATION}");
    assert_eq!(accounts, [organization.as_str(), "parapet-prod"]);
    let types: std::collections::BTreeSet<&str> = collection
        .assets()
        .map(|a| a.resource_type.as_str())
        .collect();
    assert_eq!(types.len(), parapet_gcp::types::TYPES.len(), "{types:?}");
    assert!(collection.parts.iter().all(|p| p.errors.is_empty()));
    assert!(
        collection.calls["cloudasset.assets.listResource"] > 1,
        "pages are followed"
    );

    let bucket = find(
        &collection,
        "storage.googleapis.com/Bucket",
        "parapet-prod-audit-logs",
    );
    assert_eq!(bucket.account, "parapet-prod");
    assert_eq!(bucket.region, "eu");
    assert_eq!(
        bucket.config["iamConfiguration"]["uniformBucketLevelAccess"]["enabled"],
        json!(true)
    );
    assert!(
        bucket.config["iamPolicy"]["bindings"]
            .as_array()
            .is_some_and(|b| !b.is_empty())
    );
    assert_eq!(
        bucket.config["logSinks"],
        json!(["parapet-prod/all-to-audit-bucket"]),
        "the sink exporting to it"
    );
    let project = find(
        &collection,
        "cloudresourcemanager.googleapis.com/Project",
        "parapet-prod",
    );
    assert_eq!(
        project.config["auditConfigs"],
        json!(null),
        "the policy holds them"
    );
    assert_eq!(
        project.config["iamPolicy"]["auditConfigs"][0]["service"],
        json!("allServices")
    );
    assert_eq!(
        project.config["alertedLogMetrics"].as_array().map(Vec::len),
        Some(8)
    );
    assert!(
        project.config["services"]
            .as_array()
            .is_some_and(|s| s.contains(&json!("cloudasset.googleapis.com")))
    );
    let sinks: Vec<&str> = project.config["logSinks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(
        sinks,
        ["all-to-audit-bucket", "org-audit-to-bigquery"],
        "its own and the organisation's"
    );
    let org = find(
        &collection,
        "cloudresourcemanager.googleapis.com/Organization",
        "example.com",
    );
    assert_eq!(org.account, organization);
    assert_eq!(
        org.config["essentialContacts"][0]["email"],
        json!("security@example.com")
    );
    let network = find(&collection, "compute.googleapis.com/Network", "prod-vpc");
    assert_eq!(
        network.config["dnsLoggingPolicies"],
        json!(["prod-dns-logging"])
    );
    let instance = find(&collection, "compute.googleapis.com/Instance", "web-1");
    assert_eq!(instance.region, "europe-west1-b");
    assert_eq!(instance.tags.get("team").map(String::as_str), Some("web"));
    assert_eq!(
        instance.relationships[0].target,
        "//compute.googleapis.com/projects/parapet-prod/zones/europe-west1-b/disks/web-1"
    );
    assert!(
        collection
            .assets()
            .all(|a| a.resource_type.as_str() != "serviceusage.googleapis.com/Service"),
        "services are folded into the summary"
    );
}

#[test]
fn a_denied_iam_listing_leaves_policies_unknown_and_a_missing_project_fails_alone() {
    let mut estate = compliant_estate();
    estate
        .denied
        .insert("projects/parapet-prod IAM_POLICY".to_owned());
    let fake = Fake::start(estate);
    let scope = GcpScope::Projects(vec!["parapet-prod".to_owned(), "gone-project".to_owned()]);
    let collection = provider(&fake, scope)
        .collect(None, &Quiet)
        .expect("a collection");
    let bucket = find(
        &collection,
        "storage.googleapis.com/Bucket",
        "parapet-prod-audit-logs",
    );
    assert!(bucket.config.get("iamPolicy").is_none());
    assert!(
        bucket.unknown["iamPolicy"].contains("PERMISSION_DENIED"),
        "{:?}",
        bucket.unknown
    );
    let firewall = find(
        &collection,
        "compute.googleapis.com/Firewall",
        "allow-ssh-from-iap",
    );
    assert!(
        firewall.unknown.is_empty(),
        "a type without a policy is not touched"
    );
    let gone = collection
        .parts
        .iter()
        .find(|p| p.scope.accounts == ["gone-project"])
        .expect("a part for the project named");
    assert!(gone.assets.is_empty());
    assert_eq!(gone.errors.len(), 1);
    assert!(
        gone.errors[0].resource_type.is_none(),
        "every type is unknown"
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[test]
fn a_credential_the_fake_does_not_know_is_refused() {
    let fake = Fake::start(compliant_estate());
    let dir = tempfile::tempdir().expect("a folder");
    let other = dir.path().join("key.json");
    let mut key: serde_json::Value =
        serde_json::from_str(parapet_gcp_fake::SERVICE_ACCOUNT_KEY).expect("the key");
    key["client_email"] = json!("intruder@elsewhere.iam.gserviceaccount.com");
    std::fs::write(&other, key.to_string()).expect("written");
    let provider = GcpProvider::new(GcpOptions {
        scope: GcpScope::Organization(ORGANIZATION.to_owned()),
        credentials: Credentials {
            file: Some(other),
            impersonate: None,
        },
        endpoints: Endpoints::new(Some(&fake.url()), None).expect("the fake's endpoint"),
    });
    let refused = provider.collect(None, &Quiet).expect_err("refused");
    let text = format!("{refused}: {:?}", std::error::Error::source(&refused));
    assert!(text.contains("UNAUTHENTICATED"), "{text}");
    assert!(!text.contains("PRIVATE KEY"), "{text}");
}

#[test]
fn an_impersonated_service_account_signs_in_and_one_not_granted_is_refused() {
    const SCANNER: &str = "parapet-scanner@security-tools.iam.gserviceaccount.com";
    let mut estate = compliant_estate();
    estate.impersonable.insert(SCANNER.to_owned());
    let fake = Fake::start(estate);
    let dir = tempfile::tempdir().expect("a folder");
    let as_scanner = |target: &str| {
        GcpProvider::new(GcpOptions {
            scope: GcpScope::Projects(vec!["parapet-prod".to_owned()]),
            credentials: Credentials {
                file: Some(fake.impersonation_file(target, dir.path())),
                impersonate: None,
            },
            endpoints: Endpoints::new(Some(&fake.url()), None).expect("the fake's endpoint"),
        })
    };
    let collection = as_scanner(SCANNER)
        .collect(None, &Quiet)
        .expect("a collection as the scanner");
    assert!(collection.assets().count() > 30);
    // Acting as an account not granted: the project is a collection
    // error, its assets unknown rather than gone.
    let refused = as_scanner("someone-else@security-tools.iam.gserviceaccount.com")
        .collect(None, &Quiet)
        .expect("a collection of errors");
    let part = &refused.parts[0];
    assert!(part.assets.is_empty());
    assert!(
        part.errors[0].message.contains("UNAUTHENTICATED"),
        "{:?}",
        part.errors
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[test]
fn a_folder_is_collected_with_the_projects_under_it() {
    let fake = Fake::start(compliant_estate());
    let collection = provider(&fake, GcpScope::Folder("271828182845".to_owned()))
        .collect(None, &Quiet)
        .expect("a collection");
    let accounts: Vec<&str> = collection
        .parts
        .iter()
        .map(|p| p.scope.accounts[0].as_str())
        .collect();
    assert!(accounts.contains(&"parapet-prod"), "{accounts:?}");
    assert!(
        collection
            .assets()
            .any(|a| a.resource_type.as_str() == "cloudresourcemanager.googleapis.com/Folder"),
        "the folder itself"
    );
    assert!(
        collection
            .assets()
            .all(|a| a.resource_type.as_str() != "cloudresourcemanager.googleapis.com/Organization"),
        "nothing above it"
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}
