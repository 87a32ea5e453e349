//! A fake of Google Cloud's Cloud Asset Inventory on 127.0.0.1, for the
//! tests and the demo. Every request is checked against Google's discovery
//! document of the API (`discovery/cloudasset-v1.json`, cut to the
//! methods Parapet calls): a request that matches no method, or whose
//! path parameter breaks its pattern, or that carries a query parameter
//! its method does not take, repeats one that is not repeated, or gives a
//! value outside its enum, format or bounds, is answered as Google answers
//! it (400 `INVALID_ARGUMENT`) and noted as a violation, which fails the
//! test. So is an asset type that Cloud Asset Inventory does not have
//! (`discovery/asset-types.txt`).
//!
//! Requests are signed in as Google's client libraries sign in with a
//! service account key: a self-signed JWT (RS256, with the key's id) as
//! the bearer token, whose signature, issuer, expiry and scope the fake
//! checks against the service account it knows ([`SERVICE_ACCOUNT_KEY`]),
//! or with an access token the fake's IAM Service Account Credentials API
//! issued to act as another service account (`generateAccessToken`, for
//! the accounts of [`Estate::impersonable`]), or that its metadata server
//! issued to the machine's service account ([`Estate::machine_account`],
//! at `GCE_METADATA_HOST`).
//!
//! Pub/Sub's pull subscriptions and topics are served from Pub/Sub's
//! discovery document, request bodies checked against its schemas.
//!
//! The estate is an organisation with folders, projects and the assets in
//! them, as ListAssets answers them (`RESOURCE` and `IAM_POLICY` content,
//! paged with `nextPageToken`); BatchGetAssetsHistory answers an asset's
//! current state, or its deletion. Calls can be denied (403
//! `PERMISSION_DENIED`) by parent and content type.
//!
//! What it does not model: other content types (`ORG_POLICY`,
//! `ACCESS_POLICY`, `OS_INVENTORY`, `RELATIONSHIP`), `readTime`, asset
//! type patterns beyond exact names and `.*` wildcards, time windows of
//! history (only the current state), and the schemas of the resources it
//! answers with (an asset is answered as the estate holds it).

mod discovery;
mod jwt;
mod pubsub;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use discovery::{Discovery, Request};
use pubsub::PubSub;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The service account key the fake signs in (a key made for the tests):
/// Application Default Credentials read it from the file
/// `GOOGLE_APPLICATION_CREDENTIALS` names.
pub const SERVICE_ACCOUNT_KEY: &str = include_str!("../fixtures/service-account.json");

/// The organisation of the estates.
pub const ORGANIZATION: &str = "538192046571";

/// One project of an estate.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProjectDef {
    /// Its id.
    pub id: String,
    /// Its number.
    pub number: String,
    /// The folder it is in (its number); none: right under the organisation.
    #[serde(default)]
    pub folder: Option<String>,
    /// The IAM policy set on it.
    #[serde(default)]
    pub iam_policy: Option<Value>,
}

/// One folder of an estate.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FolderDef {
    /// Its number.
    pub number: String,
    /// Its display name.
    pub display_name: String,
    /// The IAM policy set on it.
    #[serde(default)]
    pub iam_policy: Option<Value>,
}

/// One resource of an estate.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AssetDef {
    /// Its full resource name.
    pub name: String,
    /// Its type.
    pub asset_type: String,
    /// The project it is in (its id); none: the organisation itself.
    #[serde(default)]
    pub project: Option<String>,
    /// Its location (`us-central1`, `us`, `global`).
    #[serde(default)]
    pub location: String,
    /// The resource, as its API describes it.
    pub data: Value,
    /// The IAM policy set on it.
    #[serde(default)]
    pub iam_policy: Option<Value>,
}

/// What the fake holds: an organisation, its folders and projects, and
/// their resources.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Estate {
    /// The organisation's IAM policy.
    #[serde(default)]
    pub organization_iam_policy: Option<Value>,
    /// The folders.
    #[serde(default)]
    pub folders: Vec<FolderDef>,
    /// The projects.
    #[serde(default)]
    pub projects: Vec<ProjectDef>,
    /// The resources.
    #[serde(default)]
    pub assets: Vec<AssetDef>,
    /// Assets a page (as `pageSize` asks, at most this); none: as asked.
    #[serde(skip)]
    pub page_size: Option<usize>,
    /// Parents and content types denied (`projects/ID IAM_POLICY`).
    #[serde(skip)]
    pub denied: BTreeSet<String>,
    /// The names of the resources deleted: their history says so.
    #[serde(skip)]
    deleted: BTreeSet<String>,
    /// The service accounts (by email) the fake's service account may act
    /// as (it holds Service Account Token Creator on them).
    #[serde(skip)]
    pub impersonable: BTreeSet<String>,
    /// The service account of the machine the fake's metadata server
    /// serves (as a VM's, at `GCE_METADATA_HOST`); none: it answers 404.
    #[serde(skip)]
    pub machine_account: Option<String>,
}

impl Estate {
    /// Adds a resource, or replaces the one of its name.
    pub fn put(&mut self, asset: AssetDef) {
        self.deleted.remove(&asset.name);
        self.assets.retain(|a| a.name != asset.name);
        self.assets.push(asset);
    }

    /// Deletes the resource named `name`; it is then known as deleted.
    pub fn delete(&mut self, name: &str) {
        self.deleted.insert(name.to_owned());
        self.assets.retain(|a| a.name != name);
    }

    /// The project with the id or number `key`.
    fn project(&self, key: &str) -> Option<&ProjectDef> {
        self.projects
            .iter()
            .find(|p| p.id == key || p.number == key)
    }

    /// An asset's ancestors, closest first (`projects/N`, `folders/N`,
    /// `organizations/N`).
    fn ancestors(&self, project: Option<&str>, folder: Option<&str>) -> Vec<String> {
        let mut found = Vec::new();
        let mut folder = folder.map(str::to_owned);
        if let Some(project) = project.and_then(|p| self.project(p)) {
            found.push(format!("projects/{}", project.number));
            folder = project.folder.clone();
        }
        if let Some(folder) = folder {
            found.push(format!("folders/{folder}"));
        }
        found.push(format!("organizations/{ORGANIZATION}"));
        found
    }

    /// Every asset of the estate as Cloud Asset Inventory holds it: the
    /// organisation, its folders and projects, and their resources, each
    /// with its ancestors.
    fn records(&self) -> Vec<Record> {
        let organization = Record {
            name: format!("//cloudresourcemanager.googleapis.com/organizations/{ORGANIZATION}"),
            asset_type: "cloudresourcemanager.googleapis.com/Organization".to_owned(),
            location: "global".to_owned(),
            data: json!({
                "name": format!("organizations/{ORGANIZATION}"),
                "displayName": "example.com",
                "lifecycleState": "ACTIVE",
                "owner": {"directoryCustomerId": "C03xk9v2q"},
            }),
            iam_policy: self.organization_iam_policy.clone(),
            ancestors: vec![format!("organizations/{ORGANIZATION}")],
        };
        let folders = self.folders.iter().map(|f| Record {
            name: format!("//cloudresourcemanager.googleapis.com/folders/{}", f.number),
            asset_type: "cloudresourcemanager.googleapis.com/Folder".to_owned(),
            location: "global".to_owned(),
            data: json!({
                "name": format!("folders/{}", f.number),
                "displayName": f.display_name,
                "parent": format!("organizations/{ORGANIZATION}"),
                "lifecycleState": "ACTIVE",
            }),
            iam_policy: f.iam_policy.clone(),
            ancestors: self.ancestors(None, Some(&f.number)),
        });
        let projects = self.projects.iter().map(|p| Record {
            name: format!(
                "//cloudresourcemanager.googleapis.com/projects/{}",
                p.number
            ),
            asset_type: "cloudresourcemanager.googleapis.com/Project".to_owned(),
            location: "global".to_owned(),
            data: json!({
                "projectNumber": p.number,
                "projectId": p.id,
                "lifecycleState": "ACTIVE",
                "name": p.id,
                "parent": match &p.folder {
                    Some(folder) => json!({"type": "folder", "id": folder}),
                    None => json!({"type": "organization", "id": ORGANIZATION}),
                },
                "createTime": "2024-03-11T09:21:44.512Z",
            }),
            iam_policy: p.iam_policy.clone(),
            ancestors: self.ancestors(Some(&p.id), None),
        });
        let resources = self.assets.iter().map(|a| Record {
            name: a.name.clone(),
            asset_type: a.asset_type.clone(),
            location: a.location.clone(),
            data: a.data.clone(),
            iam_policy: a.iam_policy.clone(),
            ancestors: self.ancestors(a.project.as_deref(), None),
        });
        std::iter::once(organization)
            .chain(folders)
            .chain(projects)
            .chain(resources)
            .collect()
    }
}

impl Estate {
    /// The message a Cloud Asset Inventory feed of `RESOURCE` content
    /// publishes when the asset named `name` changes: a `TemporalAsset`
    /// with the asset as the estate holds it now, or, with `deleted`, its
    /// deletion (the asset as it was last).
    pub fn feed_message(&self, name: &str, deleted: bool) -> Option<Value> {
        let record = self.records().into_iter().find(|r| r.name == name)?;
        let asset = record.answer("RESOURCE")?;
        Some(json!({
            "asset": asset,
            "window": {"startTime": "2026-12-06T10:00:00Z"},
            "deleted": deleted,
            "priorAssetState": "PRESENT",
        }))
    }
}

/// An asset as Cloud Asset Inventory holds it.
#[derive(Debug, Clone)]
struct Record {
    name: String,
    asset_type: String,
    location: String,
    data: Value,
    iam_policy: Option<Value>,
    ancestors: Vec<String>,
}

impl Record {
    /// Its answer with `content` (`RESOURCE` or `IAM_POLICY`), or none
    /// where it has no such content.
    fn answer(&self, content: &str) -> Option<Value> {
        let service = self.asset_type.split('/').next().unwrap_or_default();
        let kind = self.asset_type.split('/').nth(1).unwrap_or_default();
        let mut answer = json!({
            "name": self.name,
            "assetType": self.asset_type,
            "ancestors": self.ancestors,
            "updateTime": "2026-12-01T08:00:00.000000Z",
        });
        match content {
            "RESOURCE" => {
                let api = service.trim_end_matches(".googleapis.com");
                answer["resource"] = json!({
                    "version": "v1",
                    "discoveryDocumentUri":
                        format!("https://www.googleapis.com/discovery/v1/apis/{api}/v1/rest"),
                    "discoveryName": kind,
                    "parent": self.parent(),
                    "data": self.data,
                    "location": self.location,
                });
            }
            "IAM_POLICY" => answer["iamPolicy"] = self.iam_policy.clone()?,
            _ => return None,
        }
        Some(answer)
    }

    /// The full resource name of its parent.
    fn parent(&self) -> String {
        self.ancestors
            .iter()
            .find(|a| format!("//cloudresourcemanager.googleapis.com/{a}") != self.name)
            .map(|a| format!("//cloudresourcemanager.googleapis.com/{a}"))
            .unwrap_or_default()
    }

    /// Whether it lies under `parent` (`organizations/N`, `folders/N`,
    /// `projects/ID or number`).
    fn under(&self, parent: &str, estate: &Estate) -> bool {
        match parent.split_once('/') {
            Some(("projects", key)) => estate
                .project(key)
                .is_some_and(|p| self.ancestors.contains(&format!("projects/{}", p.number))),
            _ => self.ancestors.iter().any(|a| a == parent),
        }
    }
}

/// The compliant estate (`estates/compliant.json`): a resource or more of
/// every type Parapet collects, configured as the CIS Google Cloud
/// Platform Foundation Benchmark asks.
pub fn compliant_estate() -> Estate {
    serde_json::from_str(include_str!("../estates/compliant.json")).expect("the compliant estate")
}

/// The non-compliant estate: the compliant one with the changes of
/// `estates/noncompliant.json` (each a JSON merge patch of an asset's data
/// or policy, or an addition, naming the rules it makes fail).
pub fn noncompliant_estate() -> Estate {
    let changes: Value = serde_json::from_str(include_str!("../estates/noncompliant.json"))
        .expect("the non-compliant estate");
    let mut estate = compliant_estate();
    let listed = |key: &str| changes[key].as_array().cloned().unwrap_or_default();
    for change in listed("merge") {
        let name = change["name"].as_str().expect("a name");
        let patch = &change["patch"];
        if let Some(project) = estate.projects.iter_mut().find(|p| p.id == name) {
            let mut policy = project.iam_policy.take().unwrap_or(json!({}));
            merge_patch(&mut policy, &patch["iamPolicy"]);
            project.iam_policy = Some(policy);
            continue;
        }
        let asset = estate
            .assets
            .iter_mut()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("no asset {name} to change"));
        let mut whole = serde_json::to_value(&*asset).expect("an asset");
        merge_patch(&mut whole, patch);
        *asset = serde_json::from_value(whole).expect("an asset");
    }
    for added in listed("add") {
        estate.put(serde_json::from_value(added["asset"].clone()).expect("an asset"));
    }
    estate
}

/// Applies the JSON merge patch (RFC 7386) `patch` to `target`.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        if !patch.is_null() {
            *target = patch.clone();
        }
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    if let Value::Object(object) = target {
        for (key, value) in changes {
            if value.is_null() {
                object.remove(key);
            } else {
                merge_patch(object.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// What the server shares with the test.
#[derive(Clone)]
struct Served {
    estate: Arc<Mutex<Estate>>,
    pubsub: Arc<Mutex<PubSub>>,
    violations: Arc<Mutex<Vec<String>>>,
    calls: Arc<Mutex<Vec<String>>>,
    issued: Arc<Mutex<BTreeMap<String, String>>>,
    key: Arc<Value>,
    apis: Arc<[Discovery; 3]>,
    types: Arc<BTreeSet<String>>,
}

/// The fake, serving on 127.0.0.1 until dropped.
pub struct Fake {
    /// Where it listens.
    pub address: SocketAddr,
    /// What it holds.
    pub estate: Arc<Mutex<Estate>>,
    /// Its Pub/Sub subscriptions and topics.
    pub pubsub: Arc<Mutex<PubSub>>,
    violations: Arc<Mutex<Vec<String>>>,
    calls: Arc<Mutex<Vec<String>>>,
    key_file: tempfile::NamedTempFile,
    _runtime: tokio::runtime::Runtime,
}

impl Fake {
    /// Starts the fake with `estate`.
    pub fn start(estate: Estate) -> Fake {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("a port");
        let address = listener.local_addr().expect("its address");
        let served = Served {
            estate: Arc::new(Mutex::new(estate)),
            pubsub: Arc::default(),
            violations: Arc::default(),
            calls: Arc::default(),
            issued: Arc::default(),
            key: Arc::new(serde_json::from_str(SERVICE_ACCOUNT_KEY).expect("the key")),
            apis: Arc::new([
                Discovery::cloud_asset(),
                Discovery::pubsub(),
                Discovery::iam_credentials(),
            ]),
            types: Arc::new(
                include_str!("../discovery/asset-types.txt")
                    .lines()
                    .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
        };
        let (estate, pubsub, violations, calls) = (
            Arc::clone(&served.estate),
            Arc::clone(&served.pubsub),
            Arc::clone(&served.violations),
            Arc::clone(&served.calls),
        );
        let app = Router::new()
            .route(
                "/computeMetadata/v1/instance/service-accounts/default/token",
                axum::routing::get(metadata_token),
            )
            .route(
                "/computeMetadata/v1/universe/universe-domain",
                axum::routing::get(metadata_universe),
            )
            .fallback(serve)
            .with_state(served);
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let mut key_file = tempfile::NamedTempFile::new().expect("a key file");
        std::io::Write::write_all(&mut key_file, SERVICE_ACCOUNT_KEY.as_bytes())
            .expect("the key written");
        Fake {
            address,
            estate,
            pubsub,
            violations,
            calls,
            key_file,
            _runtime: runtime,
        }
    }

    /// Its root URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The file holding the service account's key.
    pub fn key_file(&self) -> &std::path::Path {
        self.key_file.path()
    }

    /// Writes, in `dir`, an `impersonated_service_account` credentials file
    /// (as `gcloud auth application-default login
    /// --impersonate-service-account` writes one) that signs in with the
    /// fake's key and acts as `target` through the fake's IAM Service
    /// Account Credentials API; gives its path.
    pub fn impersonation_file(&self, target: &str, dir: &std::path::Path) -> std::path::PathBuf {
        let source: Value = serde_json::from_str(SERVICE_ACCOUNT_KEY).expect("the key");
        let file = dir.join("impersonated.json");
        let credentials = json!({
            "type": "impersonated_service_account",
            "service_account_impersonation_url": format!(
                "{}/v1/projects/-/serviceAccounts/{target}:generateAccessToken",
                self.url()
            ),
            "source_credentials": source,
            "delegates": [],
        });
        std::fs::write(&file, credentials.to_string()).expect("the credentials file");
        file
    }

    /// The environment that points Parapet at the fake, signed in with
    /// the service account's key.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "GOOGLE_APPLICATION_CREDENTIALS",
                self.key_file.path().display().to_string(),
            ),
            ("PARAPET_GCP_INVENTORY_ENDPOINT", self.url()),
            ("PARAPET_GCP_PUBSUB_ENDPOINT", self.url()),
        ]
    }

    /// The Cloud Asset Inventory calls answered, in order: each method's
    /// id with the content type asked for and its asset names
    /// (`cloudasset.batchGetAssetsHistory IAM_POLICY //storage...`).
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// The requests that broke the discovery document, each with why.
    pub fn violations(&self) -> Vec<String> {
        self.violations
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default()
    }
}

/// Google's error answer.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({
        "error": {"code": status.as_u16(), "message": message, "status": code},
    });
    (status, axum::Json(body)).into_response()
}

async fn serve(
    State(served): State<Served>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let issued = served.issued.lock().map(|i| i.clone()).unwrap_or_default();
    let caller = match jwt::verify(&headers, &served.key, &issued) {
        Ok(caller) => caller,
        Err(why) => return error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", &why),
    };
    let violation = |why: &str| {
        if let Ok(mut violations) = served.violations.lock() {
            violations.push(format!("{method} {uri}: {why}"));
        }
    };
    let api = served
        .apis
        .iter()
        .find(|api| api.serves(&method, &uri))
        .unwrap_or(&served.apis[0]);
    let checked = api
        .request(&method, &uri)
        .and_then(|request| api.body(&request, &body).map(|body| (request, body)));
    let (request, body) = match checked {
        Ok(checked) => checked,
        Err(why) => {
            violation(&why);
            return error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", &why);
        }
    };
    if request.method.starts_with("cloudasset.")
        && let Ok(mut calls) = served.calls.lock()
    {
        let mut call = vec![request.method.clone()];
        call.extend(request.single("contentType").map(str::to_owned));
        call.extend(request.all("assetNames"));
        calls.push(call.join(" "));
    }
    let answer = match request.method.as_str() {
        "cloudasset.assets.list" | "cloudasset.batchGetAssetsHistory" => {
            let Ok(estate) = served.estate.lock().map(|e| e.clone()) else {
                return error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "the estate");
            };
            match request.method.as_str() {
                "cloudasset.assets.list" => list(&estate, &served.types, &request),
                _ => history(&estate, &request),
            }
        }
        "pubsub.projects.subscriptions.pull" => pull(&served.pubsub, &request, &body).await,
        "iamcredentials.projects.serviceAccounts.generateAccessToken" => {
            let impersonable = served
                .estate
                .lock()
                .map(|e| e.impersonable.clone())
                .unwrap_or_default();
            impersonate(&served.issued, &impersonable, &caller, &request, &body)
        }
        other => match served.pubsub.lock() {
            Ok(mut pubsub) => match other {
                "pubsub.projects.subscriptions.acknowledge" => {
                    pubsub.acknowledge(&request.path("subscription"), &body)
                }
                "pubsub.projects.subscriptions.modifyAckDeadline" => {
                    pubsub.modify(&request.path("subscription"), &body)
                }
                "pubsub.projects.topics.publish" => pubsub.publish(&request.path("topic"), &body),
                other => Err((
                    StatusCode::NOT_IMPLEMENTED,
                    format!("{other} is not modelled"),
                )),
            },
            Err(_) => Err((StatusCode::INTERNAL_SERVER_ERROR, "Pub/Sub".to_owned())),
        },
    };
    match answer {
        Ok(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        Err((status, why)) => {
            let code = match status {
                StatusCode::FORBIDDEN => "PERMISSION_DENIED",
                StatusCode::BAD_REQUEST => "INVALID_ARGUMENT",
                StatusCode::NOT_FOUND => "NOT_FOUND",
                StatusCode::INTERNAL_SERVER_ERROR => "INTERNAL",
                _ => "UNIMPLEMENTED",
            };
            if status == StatusCode::NOT_IMPLEMENTED {
                violation(&why);
            }
            error(status, code, &why)
        }
    }
}

/// Whether a request to the metadata server says it is one
/// (`Metadata-Flavor: Google`), as the real server requires.
fn flavoured(headers: &HeaderMap) -> bool {
    headers
        .get("metadata-flavor")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"google"))
}

/// The metadata server's access token of the machine's service account.
async fn metadata_token(State(served): State<Served>, headers: HeaderMap) -> Response {
    if !flavoured(&headers) {
        return (
            StatusCode::FORBIDDEN,
            "Missing Metadata-Flavor:Google header.",
        )
            .into_response();
    }
    let account = served
        .estate
        .lock()
        .ok()
        .and_then(|e| e.machine_account.clone());
    let (Some(account), Ok(mut tokens)) = (account, served.issued.lock()) else {
        return (StatusCode::NOT_FOUND, "not on a machine").into_response();
    };
    let token = format!("ya29.fake-metadata-{}", tokens.len() + 1);
    tokens.insert(token.clone(), account);
    axum::Json(json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"}))
        .into_response()
}

/// The metadata server's universe domain.
async fn metadata_universe(headers: HeaderMap) -> Response {
    match flavoured(&headers) {
        true => "googleapis.com".into_response(),
        false => (
            StatusCode::FORBIDDEN,
            "Missing Metadata-Flavor:Google header.",
        )
            .into_response(),
    }
}

/// generateAccessToken: an access token of the service account the path
/// names, for a caller allowed to act as it.
fn impersonate(
    issued: &Mutex<BTreeMap<String, String>>,
    impersonable: &BTreeSet<String>,
    caller: &str,
    request: &Request,
    body: &Value,
) -> Answer {
    let name = request.path("name");
    let target = name.rsplit('/').next().unwrap_or_default().to_owned();
    if !impersonable.contains(&target) {
        return Err((
            StatusCode::FORBIDDEN,
            format!(
                "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist): {caller} acting as {target}"
            ),
        ));
    }
    let scoped = body["scope"].as_array().is_some_and(|s| {
        s.iter()
            .any(|s| s == "https://www.googleapis.com/auth/cloud-platform")
    });
    if !scoped {
        return Err((
            StatusCode::BAD_REQUEST,
            "scope must name cloud-platform".to_owned(),
        ));
    }
    let mut tokens = issued
        .lock()
        .map_err(|_| (StatusCode::INTERNAL_SERVER_ERROR, "tokens".to_owned()))?;
    let token = format!("ya29.fake-impersonated-{}", tokens.len() + 1);
    tokens.insert(token.clone(), target);
    Ok(json!({"accessToken": token, "expireTime": "2099-01-01T00:00:00Z"}))
}

/// A pull: the messages waiting, or, if none, those that arrive within
/// the pull's wait (an empty answer after it).
async fn pull(pubsub: &Mutex<PubSub>, request: &Request, body: &Value) -> Answer {
    let subscription = request.path("subscription");
    let most = body["maxMessages"]
        .as_u64()
        .and_then(|m| usize::try_from(m).ok())
        .filter(|m| *m > 0)
        .ok_or((
            StatusCode::BAD_REQUEST,
            "maxMessages must be positive".to_owned(),
        ))?;
    let until = std::time::Instant::now() + PubSub::wait();
    loop {
        let found = pubsub
            .lock()
            .map_err(|_| (StatusCode::INTERNAL_SERVER_ERROR, "Pub/Sub".to_owned()))?
            .pull(&subscription, most)?;
        match found {
            Some(answer) => return Ok(answer),
            None if std::time::Instant::now() >= until => return Ok(json!({})),
            None => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
}

type Answer = Result<Value, (StatusCode, String)>;

/// The content type asked for, refused where the fake does not model it.
fn content(
    estate: &Estate,
    request: &Request,
    parent: &str,
) -> Result<String, (StatusCode, String)> {
    let content = request
        .single("contentType")
        .unwrap_or("CONTENT_TYPE_UNSPECIFIED")
        .to_owned();
    if estate.denied.contains(&format!("{parent} {content}")) {
        return Err((
            StatusCode::FORBIDDEN,
            format!("The caller does not have permission on {parent} for {content}"),
        ));
    }
    match content.as_str() {
        "RESOURCE" | "IAM_POLICY" => Ok(content),
        other => Err((StatusCode::NOT_IMPLEMENTED, format!("content type {other}"))),
    }
}

/// ListAssets.
fn list(estate: &Estate, known: &BTreeSet<String>, request: &Request) -> Answer {
    let parent = request.path("parent");
    let content = content(estate, request, &parent)?;
    let patterns = request.all("assetTypes");
    let mut types = BTreeSet::new();
    for pattern in &patterns {
        let matching: Vec<&String> = known.iter().filter(|t| type_matches(pattern, t)).collect();
        if matching.is_empty() {
            return Err((
                StatusCode::BAD_REQUEST,
                format!("asset type {pattern} is not supported"),
            ));
        }
        types.extend(matching);
    }
    if let Some(project) = parent.strip_prefix("projects/")
        && estate.project(project).is_none()
    {
        return Err((
            StatusCode::FORBIDDEN,
            format!("project {project} is not found or the caller lacks permission"),
        ));
    }
    let records: Vec<Value> = estate
        .records()
        .into_iter()
        .filter(|r| types.is_empty() || types.contains(&r.asset_type))
        .filter(|r| r.under(&parent, estate))
        .filter_map(|r| r.answer(&content))
        .collect();
    let asked = request
        .single("pageSize")
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(100);
    let size = estate.page_size.map_or(asked, |most| most.min(asked));
    let from = request
        .single("pageToken")
        .filter(|t| !t.is_empty())
        .map(|t| t.parse::<usize>())
        .transpose()
        .map_err(|_| (StatusCode::BAD_REQUEST, "invalid page token".to_owned()))?
        .unwrap_or(0);
    let page: Vec<Value> = records.iter().skip(from).take(size).cloned().collect();
    let mut answer = json!({"readTime": "2026-12-06T10:00:00.000000Z", "assets": page});
    if from + size < records.len() {
        answer["nextPageToken"] = json!((from + size).to_string());
    }
    Ok(answer)
}

/// Whether an `assetTypes` entry matches `kind`: the name itself, or a
/// pattern of `.*` wildcards.
fn type_matches(pattern: &str, kind: &str) -> bool {
    if !pattern.contains(".*") {
        return pattern == kind;
    }
    let quoted: Vec<String> = pattern.split(".*").map(regex::escape).collect();
    regex::Regex::new(&format!("^{}$", quoted.join(".*"))).is_ok_and(|r| r.is_match(kind))
}

/// BatchGetAssetsHistory: each named asset's current state, or its
/// deletion for an asset that is no longer there.
fn history(estate: &Estate, request: &Request) -> Answer {
    let parent = request.path("parent");
    let content = content(estate, request, &parent)?;
    let names = request.all("assetNames");
    if names.len() > 100 {
        return Err((
            StatusCode::BAD_REQUEST,
            format!("{} asset names; at most 100", names.len()),
        ));
    }
    let records = estate.records();
    let mut states = Vec::new();
    for name in names {
        let window = json!({"startTime": "2026-12-06T10:00:00Z"});
        match records
            .iter()
            .find(|r| r.name == name && r.under(&parent, estate))
        {
            Some(record) => {
                if let Some(asset) = record.answer(&content) {
                    states.push(json!({"window": window, "asset": asset, "deleted": false}));
                }
            }
            None if estate.deleted.contains(&name) => states.push(json!({
                "window": window,
                "deleted": true,
                "asset": {"name": name, "assetType": name_type(&name)},
            })),
            None => {
                return Err((
                    StatusCode::BAD_REQUEST,
                    format!("asset {name} does not exist"),
                ));
            }
        }
    }
    Ok(json!({"assets": states}))
}

/// The asset type a deleted asset's name shows (its service only: the
/// fake no longer knows the rest).
fn name_type(name: &str) -> String {
    name.trim_start_matches("//")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_patterns_match_as_google_documents_them() {
        assert!(type_matches(
            "compute.googleapis.com/Disk",
            "compute.googleapis.com/Disk"
        ));
        assert!(type_matches(
            "compute.googleapis.com.*",
            "compute.googleapis.com/Disk"
        ));
        assert!(type_matches(
            ".*Instance",
            "sqladmin.googleapis.com/Instance"
        ));
        assert!(!type_matches(
            "compute.googleapis.com/Dis",
            "compute.googleapis.com/Disk"
        ));
    }

    #[test]
    fn the_estates_load_and_differ() {
        let (good, bad) = (compliant_estate(), noncompliant_estate());
        assert!(good.assets.len() >= 30);
        assert_ne!(
            serde_json::to_value(&good.assets).ok(),
            serde_json::to_value(&bad.assets).ok()
        );
    }
}
