//! Refreshes of what feed messages named: the asset a message carries,
//! with what it lacks read from the inventory.

use parapet_gcp::{GcpProvider, GcpScope};
use parapet_gcp_fake::{Fake, ORGANIZATION, compliant_estate};
use parapet_provider::{Collection, Provider, Quiet};
use serde_json::{Value, json};

const BUCKET: &str = "//storage.googleapis.com/parapet-prod-access-logs";

fn provider(fake: &Fake) -> GcpProvider {
    super::collect::provider(fake, GcpScope::Organization(ORGANIZATION.to_owned()))
}

/// A resource feed's message of the bucket, its uniform access turned
/// off in the message only: what the refresh describes comes from it.
fn message(fake: &Fake) -> Value {
    let estate = fake.estate.lock().expect("the estate");
    let mut message = estate.feed_message(BUCKET, false).expect("the bucket");
    message["asset"]["resource"]["data"]["iamConfiguration"]["uniformBucketLevelAccess"]["enabled"] =
        json!(false);
    message
}

#[test]
fn a_refresh_describes_the_asset_a_message_carries_and_reads_only_its_policy() {
    let fake = Fake::start(compliant_estate());
    let provider = provider(&fake);
    let whole = provider.collect(None, &Quiet).expect("a collection");
    let stored: Vec<_> = whole.assets().cloned().collect();
    let decoded = provider.decode(&message(&fake)).expect("a feed message");
    let narrowing = provider.plan(&decoded.targets, &stored);
    assert_eq!(
        narrowing.accounts.iter().collect::<Vec<_>>(),
        ["parapet-prod"]
    );
    let before = fake.calls().len();
    let refreshed: Collection = provider
        .collect(Some(&narrowing), &Quiet)
        .expect("a refresh");
    let asked = fake.calls()[before..].to_vec();
    let bucket = refreshed
        .assets()
        .find(|a| a.id == BUCKET)
        .unwrap_or_else(|| panic!("the bucket: {:?} {narrowing:?}", refreshed.parts));
    assert_eq!(bucket.account, "parapet-prod");
    assert_eq!(
        bucket.config["iamConfiguration"]["uniformBucketLevelAccess"]["enabled"],
        json!(false),
        "as the message says"
    );
    assert!(
        bucket.config["iamPolicy"]["bindings"]
            .as_array()
            .is_some_and(|b| !b.is_empty())
    );
    assert_eq!(
        bucket.config["logSinks"],
        json!([]),
        "no sink exports to it"
    );
    assert!(
        refreshed.assets().all(|a| a.id == BUCKET),
        "only what was named"
    );
    assert!(
        asked
            .iter()
            .all(|c| !c.contains("RESOURCE") || c.starts_with("cloudasset.assets.list")),
        "{asked:?}"
    );
    assert!(
        asked
            .iter()
            .any(|c| c.starts_with("cloudasset.batchGetAssetsHistory IAM_POLICY")),
        "{asked:?}"
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[test]
fn a_project_named_by_number_is_found_by_id_before_any_collection() {
    let fake = Fake::start(compliant_estate());
    let decoded = provider(&fake)
        .decode(&message(&fake))
        .expect("a feed message");
    assert_eq!(decoded.targets[0].account, "parapet-prod");
    assert!(
        fake.calls()
            .iter()
            .any(|c| c.ends_with("//cloudresourcemanager.googleapis.com/projects/314159265358")),
        "{:?}",
        fake.calls()
    );
}

#[test]
fn a_project_number_the_inventory_cannot_resolve_is_not_asked_again_for_every_message() {
    let fake = Fake::start(compliant_estate());
    let provider = provider(&fake);
    let mut unknown = message(&fake);
    unknown["asset"]["ancestors"] = json!(["projects/271828182845", "organizations/538"]);
    let lookup = "//cloudresourcemanager.googleapis.com/projects/271828182845";
    for _ in 0..3 {
        let decoded = provider.decode(&unknown).expect("a feed message");
        assert_eq!(decoded.targets[0].account, "271828182845", "the number");
    }
    let asked = fake.calls().iter().filter(|c| c.ends_with(lookup)).count();
    assert_eq!(asked, 1, "{:?}", fake.calls());
    let known = provider
        .decode(&message(&fake))
        .expect("a feed message of a known project");
    assert_eq!(known.targets[0].account, "parapet-prod");
}
