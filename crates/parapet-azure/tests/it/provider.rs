//! The provider over the fake: every enabled subscription the identity
//! can read, each a part of its own, with the calls counted by RBAC action.

use crate::arm::{OTHER, SUBSCRIPTION, endpoints, principal};
use parapet_azure::{AzureOptions, AzureProvider};
use parapet_azure_fake::{Fake, SECRET, storage_account, subscription};
use parapet_provider::{Provider, Quiet};

fn provider(fake: &Fake, subscriptions: Option<Vec<String>>) -> (AzureProvider, tempfile::TempDir) {
    scoped(fake, subscriptions, None)
}

fn scoped(
    fake: &Fake,
    subscriptions: Option<Vec<String>>,
    management_group: Option<&str>,
) -> (AzureProvider, tempfile::TempDir) {
    let (endpoints, dir) = endpoints(fake);
    let options = AzureOptions {
        subscriptions,
        management_group: management_group.map(str::to_owned),
        credentials: principal(SECRET),
        endpoints,
    };
    (AzureProvider::new(options), dir)
}

#[test]
fn every_enabled_subscription_is_a_part_of_its_own_and_the_calls_are_counted_by_action() {
    let fake = Fake::start();
    {
        let mut estate = fake.estate.lock().expect("the estate");
        estate.seed(subscription(SUBSCRIPTION, "Enabled"));
        estate.seed(subscription(OTHER, "Disabled"));
        estate.seed(storage_account(SUBSCRIPTION, "alpha"));
        estate.seed(storage_account(OTHER, "bravo"));
        estate.throttle = 1;
    }
    let (azure, _dir) = provider(&fake, None);
    let collection = azure.collect(None, &Quiet).expect("a collection");
    assert_eq!(collection.parts.len(), 1, "the disabled one is left out");
    let part = &collection.parts[0];
    assert_eq!(part.scope.accounts, [SUBSCRIPTION]);
    let names: Vec<&str> = part.assets.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["subscription Enabled", "alpha"]);
    assert_eq!(
        collection
            .calls
            .get("Microsoft.Storage/storageAccounts/read")
            .copied(),
        Some(1)
    );
    assert_eq!(
        collection
            .calls
            .get("Microsoft.Resources/subscriptions/read")
            .copied(),
        Some(2),
        "the list of subscriptions and the one collected"
    );
    assert_eq!(collection.api_retries, 1, "one throttled read, sent again");
    assert_eq!(
        collection.api_calls,
        collection.calls.values().sum::<u64>() + 1
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());

    // Named, a subscription is collected without listing them.
    let (azure, _dir) = provider(&fake, Some(vec![OTHER.to_owned()]));
    let collection = azure.collect(None, &Quiet).expect("a collection");
    let names: Vec<&str> = collection.assets().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["subscription Disabled", "bravo"]);
}

#[test]
fn a_collection_goes_one_request_a_second_once_arm_says_few_reads_are_left() {
    let fake = Fake::start();
    {
        let mut estate = fake.estate.lock().expect("the estate");
        estate.seed(subscription(SUBSCRIPTION, "Enabled"));
        estate.reads_left = Some(12);
        estate.reads_left_for = Some(5);
    }
    let (azure, _dir) = provider(&fake, Some(vec![SUBSCRIPTION.to_owned()]));
    let started = std::time::Instant::now();
    let collection = azure.collect(None, &Quiet).expect("a collection");
    let reads: u64 = collection.calls.values().sum();
    assert!(reads > 5, "{reads}");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= std::time::Duration::from_secs(4),
        "once ARM said 12 reads were left, the next requests went out one a second"
    );
    assert!(
        elapsed < std::time::Duration::from_secs(reads - 1),
        "once it said 12,000 were left, they went out at once"
    );
}

#[test]
fn a_management_group_scopes_the_collection_to_the_subscriptions_under_it_at_any_depth() {
    const THIRD: &str = "5c7e9f10-2b3d-4e5f-8a6b-7c8d9e0f1a2b";
    let fake = Fake::start();
    {
        let mut estate = fake.estate.lock().expect("the estate");
        for (id, name) in [
            (SUBSCRIPTION, "alpha"),
            (OTHER, "bravo"),
            (THIRD, "charlie"),
        ] {
            estate.seed(subscription(id, "Enabled"));
            estate.seed(storage_account(id, name));
        }
        estate.management_groups.insert("root".to_owned(), None);
        estate
            .management_groups
            .insert("prod".to_owned(), Some("root".to_owned()));
        estate
            .management_groups
            .insert("prod-eu".to_owned(), Some("prod".to_owned()));
        estate
            .placements
            .insert(SUBSCRIPTION.to_owned(), "prod".to_owned());
        estate
            .placements
            .insert(OTHER.to_owned(), "prod-eu".to_owned());
        estate
            .placements
            .insert(THIRD.to_owned(), "root".to_owned());
    }
    let (azure, _dir) = scoped(&fake, None, Some("prod"));
    let collection = azure.collect(None, &Quiet).expect("a collection");
    let mut accounts: Vec<&str> = collection
        .parts
        .iter()
        .flat_map(|p| p.scope.accounts.iter().map(String::as_str))
        .collect();
    accounts.sort_unstable();
    let mut expected = [SUBSCRIPTION, OTHER];
    expected.sort_unstable();
    assert_eq!(accounts, expected, "charlie is outside prod");
    assert_eq!(
        collection
            .calls
            .get("Microsoft.Management/managementGroups/descendants/read")
            .copied(),
        Some(2),
        "prod-eu and two subscriptions: two pages"
    );
    let estate = fake.estate.lock().expect("the estate");
    assert!(
        estate
            .calls
            .iter()
            .any(|c| c == "ManagementGroups_GetDescendants"),
        "{:?}",
        estate.calls
    );
    assert!(!estate.calls.iter().any(|c| c == "Subscriptions_List"));
    assert!(estate.violations.is_empty(), "{:?}", estate.violations);
}
