//! Resource Manager reads through azure_core's pipeline, signed in with a
//! service principal's secret.

use azure_core::credentials::Secret;
use azure_core::http::Url;
use parapet_azure::{Arm, ArmError, Credentials, Endpoints};
use parapet_azure_fake::{CLIENT_ID, Fake, SECRET, TENANT, storage_account};

pub const SUBSCRIPTION: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
pub const OTHER: &str = "8c56bb7a-6f4f-4b4a-9d3e-2a1b0c9d8e7f";
const STORAGE: &str = "2024-01-01";

/// Waits for `future` on a runtime of its own (the fake runs its own).
pub use crate::queue_client::block as wait;

/// The fake's endpoints, trusting its certificate from a PEM file (kept
/// in the folder returned).
pub fn endpoints(fake: &Fake) -> (Endpoints, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a folder");
    let pem = dir.path().join("fake.pem");
    std::fs::write(&pem, &fake.certificate).expect("the certificate written");
    let base = Url::parse(&format!("https://{}", fake.address)).expect("a URL");
    let endpoints = Endpoints {
        resource_manager: base.clone(),
        authority: base,
        extra_roots: Vec::new(),
    }
    .trust(&pem)
    .expect("the certificate trusted");
    (endpoints, dir)
}

/// The fake's service principal, with `secret`.
pub fn principal(secret: &str) -> Credentials {
    Credentials::ClientSecret {
        tenant: TENANT.to_owned(),
        client_id: CLIENT_ID.to_owned(),
        secret: Secret::new(secret.to_owned()),
    }
}

/// A client of the fake, signed in with `secret`.
pub fn client(fake: &Fake, secret: &str) -> (Arm, tempfile::TempDir) {
    let (endpoints, dir) = endpoints(fake);
    let http = endpoints.http_client().expect("a client");
    let credential = principal(secret)
        .token_credential(&endpoints, &http)
        .expect("a credential");
    (Arm::new(credential, &endpoints, http), dir)
}

pub fn accounts_path(subscription: &str) -> String {
    format!("/subscriptions/{subscription}/providers/Microsoft.Storage/storageAccounts")
}

#[test]
fn a_list_is_read_page_after_page_signed_in_once_and_every_request_is_one_the_specifications_define()
 {
    let fake = Fake::start();
    {
        let mut estate = fake.estate.lock().expect("the estate");
        for name in ["alpha", "bravo", "charlie", "delta", "echo"] {
            estate.seed(storage_account(SUBSCRIPTION, name));
        }
        estate.seed(storage_account(OTHER, "foxtrot"));
    }
    let (arm, _dir) = client(&fake, SECRET);
    let listed = wait(arm.list(&accounts_path(SUBSCRIPTION), STORAGE)).expect("the accounts");
    let names: Vec<&str> = listed.iter().filter_map(|a| a["name"].as_str()).collect();
    assert_eq!(names, ["alpha", "bravo", "charlie", "delta", "echo"]);
    let one = wait(arm
        .get(
            &format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/posture/providers/Microsoft.Storage/storageAccounts/charlie"),
            STORAGE,
        )
        )
        .expect("one account");
    assert_eq!(one["properties"]["minimumTlsVersion"], "TLS1_2");
    let estate = fake.estate.lock().expect("the estate");
    assert_eq!(
        estate.calls,
        [
            "StorageAccounts_List",
            "StorageAccounts_List",
            "StorageAccounts_List",
            "StorageAccounts_GetProperties"
        ],
        "three pages of two, then one account"
    );
    assert_eq!(estate.sign_ins, 1, "the token is kept");
    assert!(estate.violations.is_empty(), "{:?}", estate.violations);
}

#[test]
fn what_is_missing_denied_or_refused_by_the_specifications_is_an_error_in_arms_shape() {
    let fake = Fake::start();
    let denied = accounts_path(OTHER);
    fake.estate
        .lock()
        .expect("the estate")
        .denied
        .insert(denied.to_lowercase());
    let (arm, _dir) = client(&fake, SECRET);
    let missing = wait(arm.get(&format!("/subscriptions/{SUBSCRIPTION}"), "2022-12-01"))
        .expect_err("no such subscription");
    assert_eq!(missing.status, Some(404), "{missing}");
    assert_eq!(missing.code, "ResourceNotFound");
    let refused: ArmError = wait(arm.list(&denied, STORAGE)).expect_err("denied");
    assert_eq!(refused.status, Some(403), "{refused}");
    assert_eq!(refused.code, "AuthorizationFailed");
    assert_eq!(refused.operation, format!("GET {denied}"));
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    // An API version the specification does not define is refused, as ARM
    // refuses it, and the fake notes that a real service would have too.
    let wrong =
        wait(arm.list(&accounts_path(SUBSCRIPTION), "2019-01-01")).expect_err("another version");
    assert_eq!(wrong.code, "InvalidApiVersionParameter");
    assert_eq!(fake.violations().len(), 1, "{:?}", fake.violations());
}

#[test]
fn a_throttled_request_is_sent_again_once_retry_after_has_passed() {
    let fake = Fake::start();
    {
        let mut estate = fake.estate.lock().expect("the estate");
        estate.seed(storage_account(SUBSCRIPTION, "alpha"));
        estate.throttle = 2;
    }
    let (arm, _dir) = client(&fake, SECRET);
    let started = std::time::Instant::now();
    let listed =
        wait(arm.list(&accounts_path(SUBSCRIPTION), STORAGE)).expect("the accounts, after waiting");
    assert_eq!(listed.len(), 1);
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "each of two 429s said to wait a second"
    );
    let estate = fake.estate.lock().expect("the estate");
    assert_eq!(estate.calls.len(), 3, "twice throttled, then answered");
    assert!(estate.violations.is_empty(), "{:?}", estate.violations);
}

#[test]
fn a_secret_entra_id_refuses_fails_every_read_with_its_reason_and_never_shows_the_secret() {
    let fake = Fake::start();
    let wrong = "not-the-secret-42";
    let (arm, _dir) = client(&fake, wrong);
    let failed = wait(arm.list(&accounts_path(SUBSCRIPTION), STORAGE)).expect_err("not signed in");
    let text = failed.to_string();
    assert!(text.contains("AADSTS7000215"), "{text}");
    assert!(!text.contains(wrong), "{text}");
    let estate = fake.estate.lock().expect("the estate");
    assert!(estate.calls.is_empty(), "nothing reached ARM unsigned");
}

#[test]
fn a_service_principal_s_certificate_signs_in_with_a_signed_client_assertion() {
    let fake = Fake::start();
    fake.estate
        .lock()
        .expect("the estate")
        .seed(storage_account(SUBSCRIPTION, "alpha"));
    let (endpoints, dir) = endpoints(&fake);
    let http = endpoints.http_client().expect("a client");
    let signed_in = |pem: &str| {
        let path = dir.path().join("sp.pem");
        std::fs::write(&path, pem).expect("written");
        Credentials::ClientCertificate {
            tenant: TENANT.to_owned(),
            client_id: CLIENT_ID.to_owned(),
            certificate: path,
        }
        .token_credential(&endpoints, &http)
    };
    let credential = signed_in(parapet_azure_fake::CLIENT_CERTIFICATE).expect("a credential");
    let arm = Arm::new(credential, &endpoints, http.clone());
    let listed = wait(arm.list(&accounts_path(SUBSCRIPTION), STORAGE)).expect("the accounts");
    assert_eq!(listed.len(), 1);
    assert_eq!(fake.estate.lock().expect("the estate").sign_ins, 1);

    // Only the certificate, no key: refused before any sign-in, naming the
    // file.
    let certificate_only = parapet_azure_fake::CLIENT_CERTIFICATE
        .split_inclusive("-----END CERTIFICATE-----\n")
        .next()
        .expect("the certificate");
    let refused = signed_in(certificate_only).expect_err("no key").to_string();
    assert!(
        refused.contains("client certificate") && refused.contains("sp.pem"),
        "{refused}"
    );
    // A key that is not the certificate's: Entra ID refuses the assertion.
    let other = rcgen::generate_simple_self_signed(vec!["x".to_owned()]).expect("a key pair");
    let mismatched = format!("{}{}", certificate_only, other.signing_key.serialize_pem());
    match signed_in(&mismatched) {
        Err(error) => assert!(error.to_string().contains("RSA"), "{error}"),
        Ok(credential) => {
            let arm = Arm::new(credential, &endpoints, http.clone());
            let failed =
                wait(arm.list(&accounts_path(SUBSCRIPTION), STORAGE)).expect_err("refused");
            assert!(failed.to_string().contains("AADSTS"), "{failed}");
        }
    }
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[test]
fn resources_put_through_the_operations_that_create_them_are_read_back_by_get_and_list() {
    let fake = Fake::start();
    let group = format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/posture/providers");
    let account = format!("{group}/Microsoft.Storage/storageAccounts/created");
    let body = serde_json::json!({
        "location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"},
        "properties": {"minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": false},
    });
    let (status, created) = fake.put(&account, &body);
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"], "created");
    assert_eq!(created["type"], "Microsoft.Storage/storageAccounts");
    let mut changed = created.clone();
    changed["properties"]["allowBlobPublicAccess"] = true.into();
    assert_eq!(fake.put(&account, &changed).0, 200, "replaced");
    // A network security group goes through Resources_CreateOrUpdateById,
    // with Microsoft.Network's API version.
    let group_id = format!("{group}/Microsoft.Network/networkSecurityGroups/web");
    assert_eq!(
        fake.put(
            &group_id,
            &serde_json::json!({"location": "westeurope", "properties": {"securityRules": []}})
        )
        .0,
        201
    );
    let (arm, _dir) = client(&fake, SECRET);
    let listed = wait(arm.list(&accounts_path(SUBSCRIPTION), STORAGE)).expect("the accounts");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["properties"]["allowBlobPublicAccess"], true);
    let read = wait(arm.get(&group_id, "2024-05-01")).expect("the group");
    assert_eq!(read["id"], group_id.as_str());
    let calls = fake.estate.lock().expect("the estate").calls.clone();
    assert_eq!(
        &calls[..3],
        [
            "Resources_CreateOrUpdateById",
            "Resources_CreateOrUpdateById",
            "Resources_CreateOrUpdateById"
        ]
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[test]
#[should_panic(expected = "no operation of the specifications creates")]
fn a_resource_no_operation_creates_cannot_be_seeded() {
    let fake = Fake::start();
    // Microsoft.Storage's account names are lowercase letters and digits.
    fake.estate
        .lock()
        .expect("the estate")
        .seed(storage_account(SUBSCRIPTION, "Not_Valid"));
}
