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
        tenants: Vec::new(),
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
        for name in ["alpha", "bravo", "charlie"] {
            estate.seed(storage_account(SUBSCRIPTION, name));
        }
        // The list's two pages (one after the other) say 12 reads are
        // left; the answers after them, 12,000.
        estate.reads_left = Some(12);
        estate.reads_left_for = Some(2);
    }
    let (azure, _dir) = provider(&fake, Some(vec![SUBSCRIPTION.to_owned()]));
    let accounts = parapet_provider::Narrowing {
        whole: Some(["Microsoft.Storage/storageAccounts".to_owned()].into()),
        ..parapet_provider::Narrowing::accounts([SUBSCRIPTION.to_owned()].into())
    };
    let started = std::time::Instant::now();
    let collection = azure
        .collect(Some(&accounts), &Quiet)
        .expect("a collection");
    let reads: u64 = collection.calls.values().sum();
    assert_eq!(
        reads,
        2 + 3 * 3,
        "two pages, then three reads beside each account"
    );
    let elapsed = started.elapsed();
    assert!(
        elapsed >= std::time::Duration::from_secs(2),
        "once ARM said 12 reads were left, the next requests went out one a second: {elapsed:?}"
    );
    assert!(
        elapsed < std::time::Duration::from_secs(6),
        "once it said 12,000 were left, they went out at once: {elapsed:?}"
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

/// An Event Grid event of a successful write of `operation` on `uri`.
fn event(operation: &str, uri: &str) -> serde_json::Value {
    serde_json::json!([{
        "subject": uri, "eventType": "Microsoft.Resources.ResourceWriteSuccess", "id": "1",
        "eventTime": "2026-12-06T10:00:00Z", "dataVersion": "2", "metadataVersion": "1",
        "topic": format!("/subscriptions/{SUBSCRIPTION}"),
        "data": {"operationName": operation, "resourceUri": uri, "subscriptionId": SUBSCRIPTION},
    }])
}

#[test]
fn an_event_s_refresh_reads_only_the_resources_it_names_and_what_depends_on_them() {
    let fake = Fake::start();
    {
        let mut estate = fake.estate.lock().expect("the estate");
        for resource in parapet_azure_fake::compliant_estate(SUBSCRIPTION) {
            estate.seed(resource);
        }
    }
    let (azure, _dir) = provider(&fake, Some(vec![SUBSCRIPTION.to_owned()]));
    let whole = azure.collect(None, &Quiet).expect("a collection");
    let stored: Vec<_> = whole.assets().cloned().collect();
    let prefix = format!("/subscriptions/{SUBSCRIPTION}/resourcegroups/posture/providers");
    let refresh = |operation: &str, uri: &str| {
        let decoded = azure.decode(&event(operation, uri)).expect("an event");
        let narrowing = azure.plan(&decoded.targets, &stored);
        (
            narrowing.clone(),
            azure.collect(Some(&narrowing), &Quiet).expect("a refresh"),
        )
    };

    // A container's write: its account alone, by the id Event Grid writes
    // in lowercase.
    let (narrowing, refreshed) = refresh(
        "Microsoft.Storage/storageAccounts/blobServices/containers/write",
        &format!(
            "{prefix}/Microsoft.Storage/storageAccounts/postureaudit/blobServices/default/containers/x"
        ),
    );
    assert_eq!(narrowing.whole, Some(Default::default()));
    assert!(refreshed.partial);
    let part = &refreshed.parts[0];
    let ids: Vec<&str> = part.assets.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        [format!(
            "/subscriptions/{SUBSCRIPTION}/resourceGroups/posture/providers/Microsoft.Storage/storageAccounts/postureaudit"
        )]
    );
    assert_eq!(
        part.scope.resource_types,
        Some(vec!["Microsoft.Storage/storageAccounts".to_owned()])
    );
    let before = whole.assets().find(|a| a.id == ids[0]).expect("stored");
    assert_eq!(
        part.assets[0].config, before.config,
        "described as a whole collection does"
    );
    assert!(
        refreshed
            .calls
            .keys()
            .all(|action| action.starts_with("Microsoft.Storage/")),
        "{:?}",
        refreshed.calls
    );
    assert!(
        refreshed.api_calls < whole.api_calls / 5,
        "{} calls",
        refreshed.api_calls
    );

    // A database's write: the database, its server's settings unread.
    let database = stored
        .iter()
        .find(|a| a.resource_type.as_str() == "Microsoft.Sql/servers/databases")
        .expect("a database");
    let (_, refreshed) = refresh(
        "Microsoft.Sql/servers/databases/transparentDataEncryption/write",
        &format!(
            "{}/transparentDataEncryption/current",
            database.id.to_lowercase()
        ),
    );
    let ids: Vec<&str> = refreshed.parts[0]
        .assets
        .iter()
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(ids, [database.id.as_str()]);
    assert!(
        !refreshed
            .calls
            .contains_key("Microsoft.Sql/servers/encryptionProtector/read"),
        "{:?}",
        refreshed.calls
    );

    // A role assignment's write: the subscription's summary again, with
    // every type it is filled from, and nothing else.
    let (narrowing, refreshed) = refresh(
        "Microsoft.Authorization/roleAssignments/write",
        &format!(
            "/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleAssignments/new"
        ),
    );
    let whole_types = narrowing.whole.expect("types");
    for read in [
        "Microsoft.Resources/subscriptions",
        "Microsoft.Authorization/roleAssignments",
        "Microsoft.Insights/activityLogAlerts",
        "Microsoft.Insights/diagnosticSettings",
        "Microsoft.Network/networkWatchers",
        "Microsoft.Network/bastionHosts",
    ] {
        assert!(whole_types.contains(read), "{read} not in {whole_types:?}");
    }
    let part = &refreshed.parts[0];
    let summary = part
        .assets
        .iter()
        .find(|a| a.resource_type.as_str() == "Microsoft.Resources/subscriptions")
        .expect("the summary");
    let stored_summary = stored
        .iter()
        .find(|a| a.resource_type.as_str() == "Microsoft.Resources/subscriptions")
        .expect("stored");
    assert_eq!(summary.config, stored_summary.config);
    assert!(summary.unknown.is_empty(), "{:?}", summary.unknown);
    assert!(
        part.assets
            .iter()
            .all(|a| whole_types.contains(a.resource_type.as_str())),
        "only the types asked for"
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[test]
fn each_tenant_named_is_signed_in_to_and_its_subscriptions_collected_with_its_own_token() {
    const PARTNER: &str = "3f8c1d2e-5b6a-4c7d-8e9f-0a1b2c3d4e5f";
    let fake = Fake::start();
    {
        let mut estate = fake.estate.lock().expect("the estate");
        estate.tenants.insert(PARTNER.to_owned());
        estate.seed(subscription(SUBSCRIPTION, "Enabled"));
        let mut partner = subscription(OTHER, "Enabled");
        partner["tenantId"] = PARTNER.into();
        estate.seed(partner);
        estate.seed(storage_account(SUBSCRIPTION, "alpha"));
        estate.seed(storage_account(OTHER, "bravo"));
    }
    let (endpoints, _dir) = endpoints(&fake);
    let options = |tenants: Vec<String>, subscriptions: Option<Vec<String>>| AzureOptions {
        subscriptions,
        management_group: None,
        tenants,
        credentials: principal(SECRET),
        endpoints: endpoints.clone(),
    };
    let both = vec![parapet_azure_fake::TENANT.to_owned(), PARTNER.to_owned()];
    let collection = AzureProvider::new(options(both.clone(), None))
        .collect(None, &Quiet)
        .expect("a collection");
    let parts: Vec<(&str, Vec<&str>)> = collection
        .parts
        .iter()
        .map(|p| {
            (
                p.scope.accounts[0].as_str(),
                p.assets.iter().map(|a| a.name.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        parts,
        [
            (SUBSCRIPTION, vec!["subscription Enabled", "alpha"]),
            (OTHER, vec!["subscription Enabled", "bravo"])
        ]
    );
    assert!(
        collection.parts.iter().all(|p| p.errors.is_empty()),
        "each subscription read with its tenant's token"
    );
    // Its own tenant alone lists its own subscription alone.
    let own = AzureProvider::new(options(Vec::new(), None))
        .collect(None, &Quiet)
        .expect("a collection");
    assert_eq!(own.parts.len(), 1);
    // A subscription named but in none of the tenants is said.
    let missing = AzureProvider::new(options(
        both,
        Some(vec![
            OTHER.to_owned(),
            "9d4f0c38-0000-4000-8000-000000000000".to_owned(),
        ]),
    ))
    .collect(None, &Quiet)
    .expect_err("refused");
    let said = format!("{:?}", missing);
    assert!(
        said.contains("9d4f0c38") && said.contains(PARTNER),
        "{said}"
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[test]
fn resource_graph_s_census_spares_the_lists_of_types_a_subscription_does_not_hold() {
    let fake = Fake::start();
    {
        let mut estate = fake.estate.lock().expect("the estate");
        estate.seed(subscription(SUBSCRIPTION, "Enabled"));
        estate.seed(storage_account(SUBSCRIPTION, "alpha"));
    }
    let (azure, _dir) = provider(&fake, Some(vec![SUBSCRIPTION.to_owned()]));
    let counted = azure.collect(None, &Quiet).expect("a collection");
    let names: Vec<&str> = counted.assets().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["subscription Enabled", "alpha"]);
    let calls = &counted.calls;
    assert_eq!(
        calls.get("Microsoft.ResourceGraph/resources/read"),
        Some(&1)
    );
    assert_eq!(
        calls.get("Microsoft.Storage/storageAccounts/read"),
        Some(&1)
    );
    for spared in [
        "Microsoft.Compute/virtualMachines/read",
        "Microsoft.Sql/servers/read",
        "Microsoft.Network/networkSecurityGroups/read",
    ] {
        assert!(!calls.contains_key(spared), "{spared}: {calls:?}");
    }
    assert!(
        calls.contains_key("Microsoft.Authorization/roleAssignments/read"),
        "types Resource Graph's resources table does not hold are listed"
    );

    // Resource Graph denied: every type is listed, and nothing is lost.
    fake.estate
        .lock()
        .expect("the estate")
        .denied
        .insert("/providers/microsoft.resourcegraph/resources".to_owned());
    let listed = azure.collect(None, &Quiet).expect("a collection");
    let names: Vec<&str> = listed.assets().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["subscription Enabled", "alpha"]);
    assert!(
        listed
            .calls
            .contains_key("Microsoft.Compute/virtualMachines/read")
    );
    assert!(
        listed.parts[0].errors.is_empty(),
        "{:?}",
        listed.parts[0].errors
    );
    assert!(listed.api_calls > counted.api_calls + 10);
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}
