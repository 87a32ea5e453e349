//! A fake of Azure Resource Manager and of Microsoft Entra ID's token
//! endpoint on 127.0.0.1, over TLS with a certificate made for the test
//! (Azure's SDK signs in over HTTPS only). Every ARM request is checked
//! against the operations Microsoft's REST API specifications define
//! (`operations.json`): a request that matches none, names
//! another API version or none, or carries a query parameter its operation
//! does not take is answered as ARM answers it and noted as a violation,
//! which fails the test. Resources are seeded by id; a list holds the
//! resources of its type (read off their ids) under its scope (Resources_List,
//! every tracked resource of the subscription), two a page, each page but the
//! last with a `nextLink`. Requests can be made to be throttled (429 with
//! `Retry-After`) or denied (403 `AuthorizationFailed`). A resource is also
//! read by its id (Resources_GetById, with its provider's API version, the
//! one its type's list takes).
//!
//! Management groups are a tree set by the test (`management_groups`,
//! `placements`), which ManagementGroups_GetDescendants walks.
//!
//! Resources are created with PUT ([`Fake::put`], or over HTTPS) through the
//! operations that create them (a provider's own, or Resources_CreateOrUpdateById),
//! and what a test seeds directly must be one of those would create.
//!
//! What it does not model: PATCH, DELETE and long-running operations,
//! resource groups as resources, `$filter` and `$expand`, the schemas of
//! request bodies and of answers (a resource is answered as it was put or
//! seeded).

pub mod azurite;
mod entra;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use entra::{access_token, token};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The tenant the token endpoint signs in to.
pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/// The one application (client) id it knows.
pub const CLIENT_ID: &str = "5b4d6c1e-0f3a-4d1b-9a61-1f2e3d4c5b6a";
/// That application's secret.
pub const SECRET: &str = "fake-client-secret-value";
/// That application's certificate and its private key (PEM), made for
/// the tests: a client assertion signed with it signs the application in.
pub const CLIENT_CERTIFICATE: &str = include_str!("../fixtures/client-certificate.pem");

/// A parameter's pattern, compiled once as the operations are read.
mod serde_regex_text {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<regex::Regex, D::Error> {
        let text = String::deserialize(d)?;
        regex::Regex::new(&text).map_err(serde::de::Error::custom)
    }
}

/// What the specifications say of one operation.
#[derive(Debug, Clone, Deserialize)]
struct Operation {
    id: String,
    method: String,
    path: String,
    api_version: String,
    #[serde(default)]
    lists: Option<String>,
    #[serde(default)]
    query: Vec<String>,
    /// Whether its answer is paged (`x-ms-pageable`); one that is not
    /// holds every item in one answer.
    #[serde(default = "paged")]
    pageable: bool,
}

fn paged() -> bool {
    true
}

#[derive(Debug, Deserialize)]
struct Parameter {
    #[serde(with = "serde_regex_text")]
    pattern: regex::Regex,
    /// `many` for a parameter that holds slashes
    /// (`x-ms-skip-url-encoding`: a scope, a resource's id).
    #[serde(default)]
    segments: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Operations {
    parameters: HashMap<String, Parameter>,
    operations: Vec<Operation>,
}

/// The operations of `operations.json`, read once.
fn specs() -> &'static Operations {
    static SPECS: std::sync::OnceLock<Operations> = std::sync::OnceLock::new();
    SPECS.get_or_init(|| {
        serde_json::from_str(include_str!("../operations.json")).expect("the operations")
    })
}

impl Operations {
    /// The operation of `method` on `path`, the first the specifications
    /// define that matches it.
    fn of(&self, method: &str, path: &str) -> Option<&Operation> {
        self.operations
            .iter()
            .find(|o| o.method == method && matches(self, &o.path, path))
    }

    /// The API version `operation` on `path` takes: its own, or for the
    /// generic operations by id the resource provider's, the one the
    /// type's own read (or list) takes here.
    fn version(&self, operation: &Operation, path: &str) -> Option<String> {
        if operation.api_version != "of the type" {
            return Some(operation.api_version.clone());
        }
        let kind = type_of(path);
        // A type with a read of its own: the path must be one it reads
        // (its names within their patterns); else the type's list says.
        let reads: Vec<&Operation> = self
            .operations
            .iter()
            .filter(|o| {
                o.method == "GET"
                    && o.lists.is_none()
                    && o.api_version != "of the type"
                    && type_of(&o.path).eq_ignore_ascii_case(&kind)
            })
            .collect();
        let found = match reads.as_slice() {
            [] => self.operations.iter().find(|o| {
                o.lists
                    .as_deref()
                    .is_some_and(|l| l.eq_ignore_ascii_case(&kind))
            }),
            reads => reads.iter().copied().find(|o| matches(self, &o.path, path)),
        };
        found.map(|o| o.api_version.clone())
    }
}

/// What the fake holds and saw.
#[derive(Default)]
pub struct Estate {
    /// Resources by id, lowercased (ARM's ids are not case-sensitive).
    pub resources: BTreeMap<String, Value>,
    /// How many resources a page of a list holds (two when not set, so
    /// that tests page; a benchmark sets ARM's own, a thousand).
    pub page_size: Option<usize>,
    /// How many of the next ARM requests are throttled.
    pub throttle: u32,
    /// Paths (lowercased) whose reads are denied.
    pub denied: HashSet<String>,
    /// The reads left in the subscription's window, said with every
    /// answer (`x-ms-ratelimit-remaining-subscription-reads`) when set.
    pub reads_left: Option<u64>,
    /// How many answers say `reads_left` before the window refills and
    /// they say 12,000 (every answer, when not set).
    pub reads_left_for: Option<u32>,
    /// The management groups, each with its parent (`None` under the
    /// tenant's root).
    pub management_groups: BTreeMap<String, Option<String>>,
    /// The management group each subscription is placed in.
    pub placements: BTreeMap<String, String>,
    /// Every ARM request, as the operation it matched (or the path).
    pub calls: Vec<String>,
    /// Requests the specifications would refuse.
    pub violations: Vec<String>,
    /// Tenants besides [`TENANT`] the application is registered in (a
    /// multitenant application consented there).
    pub tenants: BTreeSet<String>,
    /// Tokens issued, each with the tenant it was issued in.
    tokens: Vec<(String, String)>,
    /// Token requests.
    pub sign_ins: u32,
}

impl Estate {
    /// Whether the management group `group` is `ancestor` or lies under it.
    fn under(&self, group: &str, ancestor: &str) -> bool {
        let mut at = Some(group.to_owned());
        while let Some(current) = at {
            if current.eq_ignore_ascii_case(ancestor) {
                return true;
            }
            at = self.management_groups.get(&current).cloned().flatten();
        }
        false
    }

    /// What ManagementGroups_GetDescendants answers for `group`: each
    /// management group and subscription under it, at any depth.
    fn descendants(&self, group: &str) -> Vec<Value> {
        let entity = |id: String, kind: &str, name: &str, parent: &str| {
            json!({"id": id, "type": kind, "name": name, "properties": {"displayName": name,
                "parent": {"id": format!("/providers/Microsoft.Management/managementGroups/{parent}")}}})
        };
        let groups = self
            .management_groups
            .iter()
            .filter(|(g, parent)| {
                !g.eq_ignore_ascii_case(group) && parent.is_some() && self.under(g, group)
            })
            .map(|(g, parent)| {
                entity(
                    format!("/providers/Microsoft.Management/managementGroups/{g}"),
                    "Microsoft.Management/managementGroups",
                    g,
                    parent.as_deref().unwrap_or_default(),
                )
            });
        let subscriptions = self
            .placements
            .iter()
            .filter(|(_, g)| self.under(g, group))
            .map(|(s, g)| entity(format!("/subscriptions/{s}"), "/subscriptions", s, g));
        groups.chain(subscriptions).collect()
    }

    /// Seeds `resource` under its `id`, which must be one an operation of
    /// the specifications creates (its names within their patterns), with
    /// an API version known for its type; a subscription is the tenant's.
    pub fn seed(&mut self, resource: Value) {
        let id = resource["id"].as_str().expect("a resource id");
        let subscription = id.matches('/').count() == 2 && id.starts_with("/subscriptions/");
        let created = specs()
            .of("PUT", id)
            .is_some_and(|o| specs().version(o, id).is_some());
        assert!(
            subscription || created,
            "no operation of the specifications creates {id}"
        );
        self.resources.insert(id.to_lowercase(), resource);
    }
}

/// The compliant estate (`estates/compliant.json`) of `subscription`: a
/// resource or more of every type Parapet collects, each configured as
/// the CIS Azure Foundations Benchmark asks, and the settings beside
/// them (a blob service, a server's auditing, a vault's keys), as ARM
/// answers them.
pub fn compliant_estate(subscription: &str) -> Vec<Value> {
    let text = include_str!("../estates/compliant.json")
        .replace("{subscription}", subscription)
        .replace("{tenant}", TENANT);
    serde_json::from_str(&text).expect("the compliant estate")
}

/// The non-compliant estate of `subscription`: the compliant one with the
/// changes of `estates/noncompliant.json` (each a JSON merge patch, a
/// removal or an addition, naming the rules it makes fail).
pub fn noncompliant_estate(subscription: &str) -> Vec<Value> {
    let text = include_str!("../estates/noncompliant.json")
        .replace("{subscription}", subscription)
        .replace("{tenant}", TENANT);
    let changes: Value = serde_json::from_str(&text).expect("the non-compliant estate");
    let id_of = |v: &Value| v["id"].as_str().expect("an id").to_lowercase();
    let mut estate = compliant_estate(subscription);
    let listed = |key: &str| changes[key].as_array().cloned().unwrap_or_default();
    for change in listed("merge") {
        let resource = estate
            .iter_mut()
            .find(|r| id_of(r) == id_of(&change))
            .unwrap_or_else(|| panic!("no resource {} to change", change["id"]));
        merge_patch(resource, &change["patch"]);
    }
    let removed: Vec<String> = listed("remove").iter().map(id_of).collect();
    estate.retain(|r| !removed.contains(&id_of(r)));
    estate.extend(listed("add").into_iter().map(|a| a["resource"].clone()));
    estate
}

/// Applies the JSON merge patch (RFC 7386) `patch` to `target`.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    let object = target.as_object_mut().expect("an object");
    for (key, value) in changes {
        if value.is_null() {
            object.remove(key);
        } else {
            merge_patch(object.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// A subscription as Subscriptions_Get answers it, named by its `state`.
pub fn subscription(id: &str, state: &str) -> Value {
    json!({
        "id": format!("/subscriptions/{id}"),
        "subscriptionId": id,
        "tenantId": TENANT,
        "displayName": format!("subscription {state}"),
        "state": state,
        "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"}
    })
}

/// A storage account of the resource group `posture` of `subscription`,
/// as StorageAccounts_List answers it: secure transfer, TLS 1.2, no blob
/// public access.
pub fn storage_account(subscription: &str, name: &str) -> Value {
    json!({
        "id": posture(subscription, "Microsoft.Storage/storageAccounts", name),
        "name": name,
        "type": "Microsoft.Storage/storageAccounts",
        "location": "westeurope",
        "kind": "StorageV2",
        "sku": {"name": "Standard_LRS", "tier": "Standard"},
        "properties": {"supportsHttpsTrafficOnly": true, "minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": false}
    })
}

/// A network security group of the resource group `posture` of
/// `subscription`, as NetworkSecurityGroups_ListAll answers it, with these
/// inbound rules (name, port, source prefix), each allowed.
pub fn network_security_group(
    subscription: &str,
    name: &str,
    inbound: &[(&str, &str, &str)],
) -> Value {
    let id = posture(
        subscription,
        "Microsoft.Network/networkSecurityGroups",
        name,
    );
    let rules: Vec<Value> = inbound
        .iter()
        .enumerate()
        .map(|(i, (rule, port, source))| {
            json!({
                "id": format!("{id}/securityRules/{rule}"),
                "name": rule,
                "type": "Microsoft.Network/networkSecurityGroups/securityRules",
                "properties": {
                    "protocol": "Tcp",
                    "sourcePortRange": "*",
                    "destinationPortRange": port,
                    "sourceAddressPrefix": source,
                    "destinationAddressPrefix": "*",
                    "access": "Allow",
                    "priority": 100 + i,
                    "direction": "Inbound",
                    "provisioningState": "Succeeded"
                }
            })
        })
        .collect();
    json!({
        "id": id,
        "name": name,
        "type": "Microsoft.Network/networkSecurityGroups",
        "location": "westeurope",
        "properties": {"securityRules": rules, "defaultSecurityRules": [], "provisioningState": "Succeeded"}
    })
}

/// The id of a resource of the resource group `posture`.
fn posture(subscription: &str, kind: &str, name: &str) -> String {
    format!("/subscriptions/{subscription}/resourceGroups/posture/providers/{kind}/{name}")
}

/// A virtual network of the resource group `posture`, as
/// VirtualNetworks_ListAll answers it, with one subnet `web` guarded by
/// the network security group `web`.
pub fn virtual_network(subscription: &str, name: &str) -> Value {
    let id = posture(subscription, "Microsoft.Network/virtualNetworks", name);
    json!({
        "id": id,
        "name": name,
        "type": "Microsoft.Network/virtualNetworks",
        "location": "westeurope",
        "properties": {
            "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
            "subnets": [{
                "id": format!("{id}/subnets/web"),
                "name": "web",
                "properties": {
                    "addressPrefix": "10.0.1.0/24",
                    "networkSecurityGroup": {"id": posture(subscription, "Microsoft.Network/networkSecurityGroups", "web")}
                }
            }],
            "enableDdosProtection": false,
            "provisioningState": "Succeeded"
        }
    })
}

/// A network interface in the subnet `web` of the virtual network
/// `posture`, with the public IP address `address` when given.
pub fn network_interface(subscription: &str, name: &str, address: Option<&str>) -> Value {
    let id = posture(subscription, "Microsoft.Network/networkInterfaces", name);
    let mut configuration = json!({
        "id": format!("{id}/ipConfigurations/ipconfig1"),
        "name": "ipconfig1",
        "properties": {
            "privateIPAddress": "10.0.1.4",
            "privateIPAllocationMethod": "Dynamic",
            "subnet": {"id": format!("{}/subnets/web", posture(subscription, "Microsoft.Network/virtualNetworks", "posture"))}
        }
    });
    if let Some(address) = address {
        configuration["properties"]["publicIPAddress"] =
            json!({"id": posture(subscription, "Microsoft.Network/publicIPAddresses", address)});
    }
    json!({
        "id": id,
        "name": name,
        "type": "Microsoft.Network/networkInterfaces",
        "location": "westeurope",
        "properties": {"ipConfigurations": [configuration], "enableIPForwarding": false, "provisioningState": "Succeeded"}
    })
}

/// A static public IP address (Standard SKU) attached to the first IP
/// configuration of the network interface `interface`.
pub fn public_ip_address(subscription: &str, name: &str, interface: &str) -> Value {
    json!({
        "id": posture(subscription, "Microsoft.Network/publicIPAddresses", name),
        "name": name,
        "type": "Microsoft.Network/publicIPAddresses",
        "location": "westeurope",
        "sku": {"name": "Standard", "tier": "Regional"},
        "properties": {
            "ipAddress": "20.61.15.4",
            "publicIPAllocationMethod": "Static",
            "publicIPAddressVersion": "IPv4",
            "ipConfiguration": {"id": format!("{}/ipConfigurations/ipconfig1", posture(subscription, "Microsoft.Network/networkInterfaces", interface))},
            "provisioningState": "Succeeded"
        }
    })
}

/// A route table of the resource group `posture` sending everything to a
/// virtual appliance at 10.0.2.4.
pub fn route_table(subscription: &str, name: &str) -> Value {
    let id = posture(subscription, "Microsoft.Network/routeTables", name);
    json!({
        "id": id,
        "name": name,
        "type": "Microsoft.Network/routeTables",
        "location": "westeurope",
        "properties": {
            "disableBgpRoutePropagation": false,
            "routes": [{
                "id": format!("{id}/routes/default"),
                "name": "default",
                "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.2.4"}
            }],
            "provisioningState": "Succeeded"
        }
    })
}

/// A Standard public load balancer of the resource group `posture`
/// forwarding TCP 443 from the public IP address `address`.
pub fn load_balancer(subscription: &str, name: &str, address: &str) -> Value {
    let id = posture(subscription, "Microsoft.Network/loadBalancers", name);
    json!({
        "id": id,
        "name": name,
        "type": "Microsoft.Network/loadBalancers",
        "location": "westeurope",
        "sku": {"name": "Standard", "tier": "Regional"},
        "properties": {
            "frontendIPConfigurations": [{
                "id": format!("{id}/frontendIPConfigurations/public"),
                "name": "public",
                "properties": {"publicIPAddress": {"id": posture(subscription, "Microsoft.Network/publicIPAddresses", address)}}
            }],
            "loadBalancingRules": [{
                "id": format!("{id}/loadBalancingRules/https"),
                "name": "https",
                "properties": {"protocol": "Tcp", "frontendPort": 443, "backendPort": 443}
            }],
            "provisioningState": "Succeeded"
        }
    })
}

/// A running fake.
pub struct Fake {
    /// Where it listens.
    pub address: SocketAddr,
    /// What it holds and saw.
    pub estate: Arc<Mutex<Estate>>,
    /// The PEM of the certificate it serves, to trust.
    pub certificate: String,
    /// Its routes, to send it requests without a connection.
    app: Router,
    _runtime: tokio::runtime::Runtime,
}

impl Fake {
    /// Starts the fake on a port of 127.0.0.1.
    pub fn start() -> Fake {
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()])
            .expect("a certificate");
        let certificate = certified.cert.pem();
        let key = rustls::pki_types::PrivateKeyDer::try_from(certified.signing_key.serialize_der())
            .expect("a key");
        let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .expect("the server's certificate");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let estate = Arc::new(Mutex::new(Estate::default()));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("a port");
        let address = listener.local_addr().expect("its address");
        let state = Served {
            estate: Arc::clone(&estate),
            specs: specs(),
            base: format!("https://{address}"),
        };
        let app = Router::new()
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .fallback(arm)
            .with_state(state);
        let app_kept = app.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, app) = (acceptor.clone(), app.clone());
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(stream).await else {
                        return;
                    };
                    let service = hyper_util::service::TowerToHyperService::new(app);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Fake {
            address,
            estate,
            certificate,
            app: app_kept,
            _runtime: runtime,
        }
    }

    /// The environment that signs Parapet in to this fake as its service
    /// principal, trusting the certificates of the PEM file `ca_file`.
    pub fn settings(&self, ca_file: &std::path::Path) -> Vec<(&'static str, String)> {
        let url = format!("https://{}", self.address);
        vec![
            ("PARAPET_AZURE_RESOURCE_MANAGER", url.clone()),
            ("AZURE_AUTHORITY_HOST", url),
            ("PARAPET_AZURE_CA_FILE", ca_file.display().to_string()),
            ("AZURE_TENANT_ID", TENANT.to_owned()),
            ("AZURE_CLIENT_ID", CLIENT_ID.to_owned()),
            ("AZURE_CLIENT_SECRET", SECRET.to_owned()),
        ]
    }

    /// Creates or replaces the resource `id` with `body` as a user would,
    /// through the operation of the specifications that creates it (PUT,
    /// with its API version and a token issued here), and returns what ARM
    /// answers: its status and the resource.
    pub fn put(&self, id: &str, body: &Value) -> (u16, Value) {
        use tower::ServiceExt;
        let version = specs()
            .of("PUT", id)
            .and_then(|o| specs().version(o, id))
            .unwrap_or_else(|| panic!("no operation of the specifications creates {id}"));
        let token = {
            let mut estate = self.estate.lock().expect("the estate");
            let token = access_token(
                "https://management.azure.com/.default",
                TENANT,
                estate.tokens.len() + 1,
            );
            estate.tokens.push((token.clone(), TENANT.to_owned()));
            token
        };
        let request = axum::http::Request::builder()
            .method(Method::PUT)
            .uri(format!("{id}?api-version={version}"))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body.to_string()))
            .expect("a request");
        let answer = self
            ._runtime
            .block_on(self.app.clone().oneshot(request))
            .expect("an answer");
        let status = answer.status().as_u16();
        let bytes = self
            ._runtime
            .block_on(axum::body::to_bytes(answer.into_body(), usize::MAX))
            .expect("the body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// The violations seen so far.
    pub fn violations(&self) -> Vec<String> {
        self.estate.lock().expect("the estate").violations.clone()
    }
}

#[derive(Clone)]
struct Served {
    estate: Arc<Mutex<Estate>>,
    specs: &'static Operations,
    base: String,
}

/// ARM's error shape.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

/// Whether `path` matches the template `template` under the parameters'
/// constraints: literal segments compare without regard to case; a
/// parameter that holds slashes takes one or more segments.
fn matches(specs: &Operations, template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (
        template.trim_matches('/').split('/').collect(),
        path.trim_matches('/').split('/').collect(),
    );
    segments_match(specs, &t, &p)
}

fn segments_match(specs: &Operations, template: &[&str], path: &[&str]) -> bool {
    let Some((first, rest)) = template.split_first() else {
        return path.is_empty();
    };
    let Some(name) = first.strip_prefix('{').map(|n| n.trim_end_matches('}')) else {
        return path.split_first().is_some_and(|(p, after)| {
            first.eq_ignore_ascii_case(p) && segments_match(specs, rest, after)
        });
    };
    let Some(constraint) = specs.parameters.get(name) else {
        return false;
    };
    let pattern = &constraint.pattern;
    let most = match constraint.segments.as_deref() {
        Some("many") => path.len(),
        _ => path.len().min(1),
    };
    (1..=most).any(|taken| {
        let value = path[..taken].join("/");
        path[..taken].iter().all(|s| !s.is_empty())
            && pattern.is_match(&value)
            && segments_match(specs, rest, &path[taken..])
    })
}

/// The type of the resource `id` names, as ARM reads it off the id: the
/// namespace and the types after its last `/providers/`, or a
/// subscription's or resource group's.
fn type_of(id: &str) -> String {
    let segments: Vec<&str> = id.trim_matches('/').split('/').collect();
    match segments
        .iter()
        .rposition(|s| s.eq_ignore_ascii_case("providers"))
    {
        Some(at) => {
            let after = &segments[at + 1..];
            let types: Vec<&str> = after.iter().skip(1).step_by(2).copied().collect();
            format!(
                "{}/{}",
                after.first().copied().unwrap_or_default(),
                types.join("/")
            )
        }
        None if segments.len() == 2 => "Microsoft.Resources/subscriptions".to_owned(),
        None => "Microsoft.Resources/resourceGroups".to_owned(),
    }
}

/// Azure Resource Manager.
async fn arm(
    State(served): State<Served>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mut estate = served.estate.lock().expect("the estate");
    let path = uri.path().to_owned();
    let query: Vec<(String, String)> = uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let Some(operation) = served.specs.of(method.as_str(), &path).cloned() else {
        estate.violations.push(format!(
            "{method} {path}: no operation of the specifications"
        ));
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidResourceType",
            "The resource type could not be found.",
        );
    };
    estate.calls.push(operation.id.clone());
    let tenant = match signed_in(&mut estate, &headers, &operation, &path) {
        Ok(tenant) => tenant,
        Err(refused) => return *refused,
    };
    let operation = match versioned(&mut estate, served.specs, operation, &path, &query) {
        Ok(operation) => operation,
        Err(refused) => return *refused,
    };
    if estate.throttle > 0 {
        estate.throttle -= 1;
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            "SubscriptionRequestsThrottled",
            "Number of requests for subscription exceeded the limit.",
        );
        response
            .headers_mut()
            .insert("retry-after", "1".parse().expect("a header"));
        return response;
    }
    if estate.denied.contains(&path.to_lowercase()) {
        return error(
            StatusCode::FORBIDDEN,
            "AuthorizationFailed",
            "The client does not have authorization to perform action over scope.",
        );
    }
    if operation.method == "PUT" {
        return created(&mut estate, &path, &body);
    }
    if operation.method == "POST" {
        return graph(&mut estate, &body, &tenant);
    }
    let mut answer = answer(&estate, &served, &operation, &path, &query, &tenant);
    if let Some(mut left) = estate.reads_left {
        match estate.reads_left_for {
            Some(0) => left = 12_000,
            Some(n) => estate.reads_left_for = Some(n - 1),
            None => {}
        }
        answer.headers_mut().insert(
            "x-ms-ratelimit-remaining-subscription-reads",
            left.to_string().parse().expect("a header"),
        );
    }
    answer
}

/// A resource created or replaced at `path` with the JSON `body`, as ARM
/// answers it: its id, name and type from the path, 201 when it is new,
/// 200 when it replaced one.
fn created(estate: &mut Estate, path: &str, body: &[u8]) -> Response {
    let Ok(Value::Object(mut resource)) = serde_json::from_slice::<Value>(body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized.",
        );
    };
    let name = path.rsplit('/').next().unwrap_or_default();
    resource.insert("id".to_owned(), json!(path));
    resource.insert("name".to_owned(), json!(name));
    resource.insert("type".to_owned(), json!(type_of(path)));
    let replaced = estate
        .resources
        .insert(path.to_lowercase(), Value::Object(resource.clone()))
        .is_some();
    let status = if replaced {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    (status, Json(Value::Object(resource))).into_response()
}

/// The tenant of the request's bearer token, one issued here; a
/// subscription is read with a token of its own tenant.
fn signed_in(
    estate: &mut Estate,
    headers: &HeaderMap,
    operation: &Operation,
    path: &str,
) -> Result<String, Box<Response>> {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(tenant) = bearer.and_then(|t| {
        estate
            .tokens
            .iter()
            .find(|(issued, _)| issued == t)
            .map(|(_, tenant)| tenant.clone())
    }) else {
        estate
            .violations
            .push(format!("{}: no token issued here", operation.id));
        return Err(Box::new(error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "The access token is invalid.",
        )));
    };
    let subscription = path
        .strip_prefix("/subscriptions/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|id| {
            estate
                .resources
                .get(&format!("/subscriptions/{}", id.to_lowercase()))
        });
    if subscription.is_some_and(|s| s["tenantId"].as_str().is_some_and(|t| t != tenant)) {
        return Err(Box::new(error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationTokenTenant",
            "The access token is from the wrong issuer. It must match the tenant associated with this subscription.",
        )));
    }
    Ok(tenant)
}

/// `operation` with the API version it takes on `path` (the generic
/// operations by id take the resource provider's), once the request's
/// `api-version` is that one and its query holds nothing else the
/// operation does not take.
fn versioned(
    estate: &mut Estate,
    specs: &Operations,
    operation: Operation,
    path: &str,
    query: &[(String, String)],
) -> Result<Operation, Box<Response>> {
    let versions: Vec<&str> = query
        .iter()
        .filter(|(k, _)| k == "api-version")
        .map(|(_, v)| v.as_str())
        .collect();
    // The generic operations by id take the resource provider's API
    // version.
    let mut operation = operation;
    match specs.version(&operation, path) {
        Some(version) => operation.api_version = version,
        None => {
            estate.violations.push(format!(
                "{}: no operation reads {}",
                operation.id,
                type_of(path)
            ));
            return Err(Box::new(error(
                StatusCode::BAD_REQUEST,
                "NoRegisteredProviderFound",
                "No registered resource provider found for the location and API version.",
            )));
        }
    }
    match versions.as_slice() {
        [] => {
            estate
                .violations
                .push(format!("{}: no api-version", operation.id));
            return Err(Box::new(error(
                StatusCode::BAD_REQUEST,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )));
        }
        [version] if *version == operation.api_version => {}
        _ => {
            estate.violations.push(format!(
                "{}: api-version {versions:?}, not {}",
                operation.id, operation.api_version
            ));
            return Err(Box::new(error(
                StatusCode::BAD_REQUEST,
                "InvalidApiVersionParameter",
                "The api-version is invalid.",
            )));
        }
    }
    let unknown: Vec<&String> = query
        .iter()
        .map(|(k, _)| k)
        .filter(|k| *k != "api-version" && *k != "$skiptoken" && !operation.query.contains(k))
        .collect();
    if !unknown.is_empty() {
        let message = format!(
            "{}: query parameters {unknown:?} it does not take",
            operation.id
        );
        estate.violations.push(message.clone());
        return Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "InvalidQueryParameter",
            &message,
        )));
    }
    Ok(operation)
}

/// Azure Resource Graph's answer to the census query (the only one the
/// fake answers; another is a violation): the tracked resources (those
/// with a location) of each subscription asked for, of the token's tenant,
/// counted by type (lowercase, as Resource Graph writes types), a thousand
/// rows a page by `$skipToken`.
fn graph(estate: &mut Estate, body: &[u8], tenant: &str) -> Response {
    const CENSUS: &str = "resources | summarize count() by subscriptionId, type";
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if request["query"] != CENSUS {
        estate.violations.push(format!(
            "Resources (Resource Graph): a query the fake does not answer: {}",
            request["query"]
        ));
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Please provide below info when asking for support.",
        );
    }
    let asked: BTreeSet<String> = request["subscriptions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_lowercase)
        .filter(|s| {
            estate
                .resources
                .get(&format!("/subscriptions/{s}"))
                .is_none_or(|sub| sub["tenantId"].as_str().is_none_or(|t| t == tenant))
        })
        .collect();
    let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
    for (id, resource) in &estate.resources {
        let subscription = id.split('/').nth(2).unwrap_or_default();
        if asked.contains(subscription)
            && id.matches("/providers/").count() == 1
            && resource.get("location").is_some()
        {
            *counts
                .entry((subscription.to_owned(), type_of(id).to_lowercase()))
                .or_default() += 1;
        }
    }
    let rows: Vec<Value> = counts
        .into_iter()
        .map(|((s, t), n)| json!({"subscriptionId": s, "type": t, "count_": n}))
        .collect();
    let skip: usize = request["options"]["$skipToken"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let page: Vec<Value> = rows.iter().skip(skip).take(1000).cloned().collect();
    let mut answer = json!({"totalRecords": rows.len(), "count": page.len(),
        "resultTruncated": "false", "data": page});
    if skip + 1000 < rows.len() {
        answer["$skipToken"] = json!((skip + 1000).to_string());
    }
    Json(answer).into_response()
}

/// The answer to an operation the specifications define.
fn answer(
    estate: &Estate,
    served: &Served,
    operation: &Operation,
    path: &str,
    query: &[(String, String)],
    tenant: &str,
) -> Response {
    match &operation.lists {
        None => match estate.resources.get(&path.to_lowercase()) {
            Some(resource) => Json(resource.clone()).into_response(),
            None => error(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                "The Resource was not found.",
            ),
        },
        Some(kind) => {
            // A list of a provider's type holds those under the path
            // before the provider; a nested list, those under its path.
            let lower = path.to_lowercase();
            let scope = match lower.split_once("/providers/") {
                Some((before, after)) if after.split('/').count() <= 2 => format!("{before}/"),
                _ => format!("{lower}/"),
            };
            // An extension resource (one under another's id, such as a
            // resource's diagnostic settings) is listed only at that
            // resource.
            let depth = |id: &str| id.matches("/providers/").count();
            let descendants;
            let all: Vec<&Value> = match kind.as_str() {
                // Resources_List: every tracked resource (one with a
                // location) of the subscription, extension resources aside.
                "*" => {
                    let subscription = lower.trim_end_matches("/resources");
                    estate
                        .resources
                        .iter()
                        .filter(|(id, r)| {
                            id.starts_with(&format!("{subscription}/"))
                                && depth(id) == 1
                                && r.get("location").is_some()
                        })
                        .map(|(_, r)| r)
                        .collect()
                }
                "descendants" => {
                    let group = path.split('/').nth(4).unwrap_or_default();
                    descendants = estate.descendants(group);
                    descendants.iter().collect()
                }
                _ => estate
                    .resources
                    .iter()
                    .filter(|(id, _)| {
                        id.starts_with(&scope)
                            && depth(id) == depth(&lower)
                            && type_of(id).eq_ignore_ascii_case(kind)
                    })
                    .map(|(_, r)| r)
                    // Subscriptions_List: those of the token's tenant.
                    .filter(|r| r["tenantId"].as_str().is_none_or(|t| t == tenant))
                    .collect(),
            };
            if !operation.pageable {
                return Json(json!({"value": all})).into_response();
            }
            let skip: usize = query
                .iter()
                .find(|(k, _)| k == "$skiptoken")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            let size = estate.page_size.unwrap_or(2).max(1);
            let page: Vec<Value> = all
                .iter()
                .skip(skip)
                .take(size)
                .map(|r| (*r).clone())
                .collect();
            let mut body = json!({"value": page});
            if skip + size < all.len() {
                body["nextLink"] = json!(format!(
                    "{}{path}?api-version={}&$skiptoken={}",
                    served.base,
                    operation.api_version,
                    skip + size
                ));
            }
            Json(body).into_response()
        }
    }
}
