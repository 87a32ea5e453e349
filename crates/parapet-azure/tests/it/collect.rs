//! A subscription collected type by type from the fake: the summary asset,
//! storage accounts with their blob service and containers, and what a
//! denied read leaves unknown.

use crate::arm::{SUBSCRIPTION, client, wait};
use parapet_azure::types::{self, Ctx};
use parapet_azure_fake::{
    Fake, SECRET, compliant_estate, load_balancer, network_interface, network_security_group,
    public_ip_address, route_table, storage_account, subscription, virtual_network,
};
use serde_json::{Value, json};

/// Seeds the subscription, a compliant account and a public one.
fn seed(fake: &Fake) {
    let mut estate = fake.estate.lock().expect("the estate");
    estate.seed(subscription(SUBSCRIPTION, "Enabled"));
    let mut public = storage_account(SUBSCRIPTION, "publicdata");
    public["properties"]["allowBlobPublicAccess"] = json!(true);
    public["tags"] = json!({"owner": "data"});
    for (account, versioning, access) in [
        (storage_account(SUBSCRIPTION, "privatelogs"), true, "None"),
        (public, false, "Container"),
    ] {
        let id = account["id"].as_str().expect("an id").to_owned();
        estate.seed(json!({
            "id": format!("{id}/blobServices/default"),
            "name": "default",
            "type": "Microsoft.Storage/storageAccounts/blobServices",
            "properties": {"isVersioningEnabled": versioning, "deleteRetentionPolicy": {"enabled": versioning, "days": 7}}
        }));
        estate.seed(json!({
            "id": format!("{id}/fileServices/default"),
            "name": "default",
            "type": "Microsoft.Storage/storageAccounts/fileServices",
            "properties": {"shareDeleteRetentionPolicy": {"enabled": versioning, "days": 7}}
        }));
        estate.seed(json!({
            "id": format!("{id}/blobServices/default/containers/logs"),
            "name": "logs",
            "type": "Microsoft.Storage/storageAccounts/blobServices/containers",
            "properties": {"publicAccess": access}
        }));
        estate.seed(account);
    }
    estate.seed(network_security_group(
        SUBSCRIPTION,
        "web",
        &[("ssh-from-anywhere", "22", "*")],
    ));
    estate.seed(virtual_network(SUBSCRIPTION, "posture"));
    estate.seed(network_interface(SUBSCRIPTION, "web-nic", Some("web-ip")));
    estate.seed(public_ip_address(SUBSCRIPTION, "web-ip", "web-nic"));
    estate.seed(route_table(SUBSCRIPTION, "through-firewall"));
    estate.seed(load_balancer(SUBSCRIPTION, "front", "web-ip"));
}

fn ctx(arm: parapet_azure::Arm) -> Ctx {
    Ctx {
        arm,
        subscription: SUBSCRIPTION.to_owned(),
        wanted: parapet_azure::types::Wanted::every(),
        census: None,
        observed_at: "2026-12-06T10:00:00Z".parse().expect("a time"),
    }
}

#[test]
fn a_subscription_is_collected_as_its_summary_and_its_storage_accounts_field_by_field() {
    let fake = Fake::start();
    seed(&fake);
    let (arm, _dir) = client(&fake, SECRET);
    let out = wait(types::collect(&ctx(arm)));
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let kinds: Vec<(&str, &str)> = out
        .assets
        .iter()
        .map(|a| (a.resource_type.as_str(), a.name.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("Microsoft.Resources/subscriptions", "subscription Enabled"),
            ("Microsoft.Storage/storageAccounts", "privatelogs"),
            ("Microsoft.Storage/storageAccounts", "publicdata"),
            ("Microsoft.Network/networkSecurityGroups", "web"),
            ("Microsoft.Network/virtualNetworks", "posture"),
            ("Microsoft.Network/networkInterfaces", "web-nic"),
            ("Microsoft.Network/publicIPAddresses", "web-ip"),
            ("Microsoft.Network/routeTables", "through-firewall"),
            ("Microsoft.Network/loadBalancers", "front"),
        ]
    );
    assert_eq!(
        out.assets[7].config["properties"]["routes"][0]["properties"]["nextHopType"],
        "VirtualAppliance"
    );
    assert_eq!(out.assets[8].config["sku"]["name"], "Standard");
    let address = &out.assets[6];
    assert_eq!(address.config["sku"]["name"], "Standard");
    assert_eq!(address.config["properties"]["ipAddress"], "20.61.15.4");
    assert_eq!(
        out.assets[4].config["properties"]["subnets"][0]["name"],
        "web"
    );
    let rule = &out.assets[3].config["properties"]["securityRules"][0]["properties"];
    assert_eq!(rule["destinationPortRange"], "22");
    assert_eq!(rule["sourceAddressPrefix"], "*");
    let summary = &out.assets[0];
    assert_eq!(summary.region, "global");
    assert_eq!(summary.account, SUBSCRIPTION);
    assert_eq!(summary.config["state"], "Enabled");
    let public = &out.assets[2];
    assert_eq!(public.region, "westeurope");
    assert_eq!(public.tags.get("owner").map(String::as_str), Some("data"));
    assert_eq!(public.config["properties"]["allowBlobPublicAccess"], true);
    assert_eq!(public.config["blobService"]["isVersioningEnabled"], false);
    assert_eq!(
        public.config["containers"],
        json!([{"name": "logs", "publicAccess": "Container"}])
    );
    assert_eq!(
        out.assets[1].config["containers"][0]["publicAccess"],
        "None"
    );
    assert!(out.assets.iter().all(|a| a.unknown.is_empty()));
    let estate = fake.estate.lock().expect("the estate");
    assert!(estate.violations.is_empty(), "{:?}", estate.violations);
    for operation in [
        "Subscriptions_Get",
        "StorageAccounts_List",
        "BlobServices_GetServiceProperties",
        "BlobContainers_List",
        "NetworkSecurityGroups_ListAll",
        "VirtualNetworks_ListAll",
        "NetworkInterfaces_ListAll",
        "PublicIPAddresses_ListAll",
        "RouteTables_ListAll",
        "LoadBalancers_ListAll",
    ] {
        assert!(estate.calls.iter().any(|c| c == operation), "{operation}");
    }
}

#[test]
fn a_denied_read_leaves_its_field_or_its_type_unknown_never_empty() {
    let fake = Fake::start();
    seed(&fake);
    let public = storage_account(SUBSCRIPTION, "publicdata");
    let containers = format!(
        "{}/blobServices/default/containers",
        public["id"].as_str().expect("an id")
    );
    fake.estate
        .lock()
        .expect("the estate")
        .denied
        .insert(containers.to_lowercase());
    let (arm, _dir) = client(&fake, SECRET);
    let ctx = ctx(arm);
    let out = wait(types::collect(&ctx));
    let denied = out
        .assets
        .iter()
        .find(|a| a.name == "publicdata")
        .expect("the account is still described");
    assert_eq!(denied.config.get("containers"), None::<&Value>);
    let reason = denied
        .unknown
        .get("containers")
        .expect("containers unknown");
    assert!(reason.contains("AuthorizationFailed"), "{reason}");
    assert!(!denied.unknown.contains_key("blobService"));

    // Denied the list of accounts, the type is a collection error.
    fake.estate.lock().expect("the estate").denied.insert(
        format!("/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Storage/storageAccounts")
            .to_lowercase(),
    );
    let out = wait(types::collect(&ctx));
    assert_eq!(
        out.assets.len(),
        7,
        "the summary and the network's six resources"
    );
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    assert_eq!(
        out.errors[0].resource_type.as_deref(),
        Some("Microsoft.Storage/storageAccounts")
    );
    assert_eq!(out.errors[0].account.as_deref(), Some(SUBSCRIPTION));
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[test]
fn the_compliant_estate_yields_every_type_with_every_read_beside_it() {
    let fake = Fake::start();
    {
        let mut estate = fake.estate.lock().expect("the estate");
        for resource in compliant_estate(SUBSCRIPTION) {
            estate.seed(resource);
        }
    }
    let (arm, _dir) = client(&fake, SECRET);
    let out = wait(types::collect(&ctx(arm)));
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let violations = fake.violations();
    assert!(violations.is_empty(), "{violations:?}");
    for info in types::catalog() {
        assert!(
            out.assets
                .iter()
                .any(|a| a.resource_type.as_str() == info.name),
            "no {} collected",
            info.name
        );
    }
    for asset in &out.assets {
        assert!(
            asset.unknown.is_empty(),
            "{}: {:?}",
            asset.id,
            asset.unknown
        );
    }
    let named = |kind: &str, name: &str| {
        out.assets
            .iter()
            .find(|a| a.resource_type.as_str() == kind && a.name == name)
            .unwrap_or_else(|| panic!("{kind} {name}"))
    };
    let of_kind = |kind: &str| {
        out.assets
            .iter()
            .filter(|a| a.resource_type.as_str() == kind)
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
    };

    let server = named("Microsoft.Sql/servers", "posture-sql");
    assert_eq!(server.config["auditing"]["state"], "Enabled");
    assert_eq!(
        server.config["encryptionProtector"]["serverKeyType"],
        "AzureKeyVault"
    );
    assert_eq!(server.config["administrators"][0]["login"], "sql-admins");
    assert_eq!(server.config["firewallRules"], json!([]));
    assert_eq!(server.config["securityAlertPolicy"]["state"], "Enabled");
    assert_eq!(
        of_kind("Microsoft.Sql/servers/databases"),
        ["orders"],
        "master is the server's"
    );
    let database = named("Microsoft.Sql/servers/databases", "orders");
    assert_eq!(
        database.config["transparentDataEncryption"]["state"],
        "Enabled"
    );

    let postgres = named("Microsoft.DBforPostgreSQL/flexibleServers", "posture-pg");
    assert_eq!(postgres.config["parameters"]["log_checkpoints"], "on");
    assert_eq!(
        postgres.config["parameters"].as_object().map(|p| p.len()),
        Some(7),
        "every page of parameters"
    );
    let mysql = named("Microsoft.DBforMySQL/flexibleServers", "posture-mysql");
    assert_eq!(mysql.config["parameters"]["tls_version"], "TLSv1.2,TLSv1.3");

    let vault = named("Microsoft.KeyVault/vaults", "posture-keys");
    assert_eq!(vault.config["keys"][0]["attributes"]["exp"], 1830297600);
    assert_eq!(vault.config["secrets"][0]["name"], "api-token");
    assert_eq!(vault.config["diagnosticSettings"][0]["name"], "audit");
    assert_eq!(
        of_kind("Microsoft.Insights/diagnosticSettings"),
        ["activity-log"],
        "a vault's settings are the vault's"
    );

    let site = named("Microsoft.Web/sites", "posture-web");
    assert_eq!(site.config["config"]["minTlsVersion"], "1.2");
    assert_eq!(site.config["identity"]["type"], "SystemAssigned");
    assert_eq!(
        of_kind("Microsoft.Authorization/roleDefinitions"),
        ["Deployment operator"],
        "built-in roles are left out"
    );
    assert_eq!(
        of_kind("Microsoft.Security/pricings").len(),
        12,
        "an answer unpaged"
    );
    assert_eq!(of_kind("Microsoft.Insights/activityLogAlerts").len(), 11);
    assert_eq!(
        of_kind("Microsoft.Network/networkWatchers/flowLogs"),
        ["web"]
    );
    let summary = &out.assets[0];
    assert_eq!(summary.config["ownerAssignments"], 2);
    assert_eq!(summary.config["regionsInUse"], json!(["westeurope"]));
    assert_eq!(
        summary.config["networkWatcherRegions"],
        json!(["westeurope"])
    );
    assert_eq!(
        summary.config["activityLogCategories"]
            .as_array()
            .map(Vec::len),
        Some(8)
    );
    assert_eq!(
        summary.config["activityLogAlerts"].as_array().map(Vec::len),
        Some(11)
    );
    let machine = named("Microsoft.Compute/virtualMachines", "web");
    assert_eq!(machine.config["zones"], json!(["1"]));
    assert_eq!(
        machine.config["properties"]["securityProfile"]["encryptionAtHost"],
        true
    );
    let calls = fake.estate.lock().expect("the estate").calls.clone();
    for operation in [
        "VirtualMachines_ListAll",
        "TransparentDataEncryptions_Get",
        "Configurations_ListByServer (MySQL)",
        "DiagnosticSettings_List",
        "RoleDefinitions_List",
        "FlowLogs_List",
        "WebApps_GetConfiguration",
    ] {
        assert!(calls.iter().any(|c| c == operation), "{operation}");
    }
}

#[test]
fn a_denied_read_of_a_server_setting_leaves_it_unknown_and_its_databases_described() {
    let fake = Fake::start();
    let server = {
        let mut estate = fake.estate.lock().expect("the estate");
        for resource in compliant_estate(SUBSCRIPTION) {
            estate.seed(resource);
        }
        let server = format!(
            "/subscriptions/{SUBSCRIPTION}/resourceGroups/posture/providers/Microsoft.Sql/servers/posture-sql"
        );
        estate
            .denied
            .insert(format!("{server}/auditingSettings/default").to_lowercase());
        estate.denied.insert(
            format!("{server}/databases/orders/transparentDataEncryption/current").to_lowercase(),
        );
        server
    };
    let (arm, _dir) = client(&fake, SECRET);
    let out = wait(types::collect(&ctx(arm)));
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let found = out
        .assets
        .iter()
        .find(|a| a.id == server)
        .expect("the server");
    assert!(found.config.get("auditing").is_none());
    assert!(found.unknown["auditing"].contains("AuthorizationFailed"));
    assert_eq!(found.config["securityAlertPolicy"]["state"], "Enabled");
    let database = out
        .assets
        .iter()
        .find(|a| a.name == "orders")
        .expect("the database");
    assert!(database.unknown.contains_key("transparentDataEncryption"));
    assert_eq!(database.config["auditing"]["state"], "Enabled");
}

#[test]
fn a_summary_field_whose_source_was_denied_is_unknown_not_empty() {
    let fake = Fake::start();
    {
        let mut estate = fake.estate.lock().expect("the estate");
        for resource in compliant_estate(SUBSCRIPTION) {
            estate.seed(resource);
        }
        estate.denied.insert(
            format!("/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Insights/activityLogAlerts")
                .to_lowercase(),
        );
        estate
            .denied
            .insert(format!("/subscriptions/{SUBSCRIPTION}/resources").to_lowercase());
    }
    let (arm, _dir) = client(&fake, SECRET);
    let out = wait(types::collect(&ctx(arm)));
    let summary = &out.assets[0];
    assert_eq!(
        summary.resource_type.as_str(),
        "Microsoft.Resources/subscriptions"
    );
    assert!(summary.config.get("activityLogAlerts").is_none());
    assert!(
        summary.unknown["activityLogAlerts"].contains("Microsoft.Insights/activityLogAlerts"),
        "{:?}",
        summary.unknown
    );
    assert!(
        summary.unknown["regionsInUse"].contains("AuthorizationFailed"),
        "the resources could not be listed: {:?}",
        summary.unknown
    );
    assert!(
        summary.config["networkWatcherRegions"].is_array(),
        "what its own sources give stays known"
    );
    assert_eq!(summary.config["ownerAssignments"], 2);
}
