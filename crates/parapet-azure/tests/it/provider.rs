//! The provider over the fake: every enabled subscription the identity
//! can read, each a part of its own, with the calls counted by RBAC action.

use crate::arm::{OTHER, SUBSCRIPTION, endpoints, principal};
use parapet_azure::{AzureOptions, AzureProvider};
use parapet_azure_fake::{Fake, SECRET, storage_account, subscription};
use parapet_provider::{Provider, Quiet};

fn provider(fake: &Fake, subscriptions: Option<Vec<String>>) -> (AzureProvider, tempfile::TempDir) {
    let (endpoints, dir) = endpoints(fake);
    let options = AzureOptions {
        subscriptions,
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
