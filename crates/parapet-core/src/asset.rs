//! An asset: one component of a cloud account, in the shape AWS Config made
//! familiar: a stable id, where it lives, its type, and one configuration
//! document merged from every API call that describes it.

use crate::error::AssetError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;

/// The cloud an asset belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Amazon Web Services.
    Aws,
    /// Microsoft Azure.
    Azure,
    /// Google Cloud.
    Gcp,
}

impl Provider {
    /// Every provider.
    pub const ALL: [Provider; 3] = [Provider::Aws, Provider::Azure, Provider::Gcp];

    /// The lowercase name used in the interchange format.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Aws => "aws",
            Provider::Azure => "azure",
            Provider::Gcp => "gcp",
        }
    }

    /// The account a rule's example is placed in when it names none: an
    /// AWS account, an Azure subscription, a Google Cloud project.
    pub fn example_account(self) -> &'static str {
        match self {
            Provider::Aws => "123456789012",
            Provider::Azure => "00000000-0000-0000-0000-000000000000",
            Provider::Gcp => "example-project",
        }
    }

    /// The region a rule's example is placed in when it names none.
    pub fn example_region(self) -> &'static str {
        match self {
            Provider::Aws => "us-east-1",
            Provider::Azure => "westeurope",
            Provider::Gcp => "europe-west1",
        }
    }

    /// The provider whose naming a resource type follows: AWS's
    /// `AWS::Service::Type`, Azure Resource Manager's
    /// `Microsoft.Namespace/type`, Google Cloud Asset Inventory's
    /// `service.googleapis.com/Type`.
    fn naming(name: &str) -> Option<Provider> {
        if name.starts_with("AWS::") {
            Some(Provider::Aws)
        } else if name.starts_with("Microsoft.") {
            Some(Provider::Azure)
        } else if name.contains(".googleapis.com/") {
            Some(Provider::Gcp)
        } else {
            None
        }
    }
}

/// Whether `name` is well formed for the provider whose naming it follows.
fn well_formed(provider: Option<Provider>, name: &str) -> bool {
    let word = |p: &str, extra: &[char]| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
    };
    match provider {
        Some(Provider::Aws) => {
            let parts: Vec<&str> = name.split("::").collect();
            parts.len() == 3 && parts.iter().all(|p| word(p, &[]))
        }
        Some(Provider::Azure) => {
            let parts: Vec<&str> = name.split('/').collect();
            parts.len() >= 2 && parts.iter().all(|p| word(p, &['.']))
        }
        Some(Provider::Gcp) => name
            .split_once('/')
            .is_some_and(|(service, kind)| word(service, &['.', '-']) && word(kind, &[])),
        None => !name.is_empty() && !name.chars().any(char::is_whitespace),
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resource type in the provider's own naming, such as `AWS::S3::Bucket`,
/// `Microsoft.Storage/storageAccounts` or `storage.googleapis.com/Bucket`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct ResourceType(String);

/// Written as its name, without a copy of it (every asset's content hash
/// writes its type).
impl Serialize for ResourceType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl ResourceType {
    /// Checks the name against its provider's naming: AWS types are
    /// `AWS::Service::Type`, Azure's `Microsoft.Namespace/type[/child]`,
    /// Google Cloud's `service.googleapis.com/Type`; a name of no known
    /// naming must at least be non-empty and free of white space.
    pub fn new(name: impl Into<String>) -> Result<Self, AssetError> {
        let name = name.into();
        if well_formed(Provider::naming(&name), &name) {
            Ok(ResourceType(name))
        } else {
            Err(AssetError::ResourceType(name))
        }
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The provider this type's name belongs to, where the name shows it.
    pub fn provider(&self) -> Option<Provider> {
        Provider::naming(&self.0)
    }
}

impl TryFrom<String> for ResourceType {
    type Error = AssetError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        ResourceType::new(value)
    }
}

impl From<ResourceType> for String {
    fn from(value: ResourceType) -> Self {
        value.0
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A typed edge from one asset to another, such as an instance's
/// `uses_security_group` edge to the group's id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Relationship {
    /// The edge's kind, in snake_case: `uses_security_group`, `in_subnet`,
    /// `attached_volume`, `snapshot_of`, `routes_to`, ...
    pub kind: String,
    /// The id of the asset at the other end.
    pub target: String,
}

/// The kinds of edge that derived facts follow, the contract between the
/// collectors that draw them and the facts read through them.
impl Relationship {
    /// From an instance to the image it was launched from.
    pub const RUNS_IMAGE: &'static str = "runs_image";
    /// From an instance to a volume attached to it.
    pub const ATTACHED_VOLUME: &'static str = "attached_volume";
    /// From a snapshot to the volume it was taken of.
    pub const SNAPSHOT_OF: &'static str = "snapshot_of";
    /// From a principal to a managed policy attached to it (whose
    /// configuration holds its `PolicyDocument`).
    pub const HAS_POLICY: &'static str = "has_policy";
    /// From a member to its group (a user to an IAM group, whose policies it
    /// holds; a database instance to its cluster).
    pub const MEMBER_OF: &'static str = "member_of";
    /// From a principal to the managed policy that bounds its permissions.
    pub const PERMISSIONS_BOUNDARY: &'static str = "permissions_boundary";
}

/// The SHA-256 of an asset's content (everything but `observed_at`): two
/// observations with the same hash describe the same state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentHash(pub [u8; 32]);

impl ContentHash {
    /// The SHA-256 of `content`.
    pub fn of(content: &[u8]) -> ContentHash {
        ContentHash(Sha256::digest(content).into())
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut hex = [0; 64];
        // 32 bytes always fit 64 hex digits, which are ASCII.
        let _ = hex::encode_to_slice(self.0, &mut hex);
        f.write_str(std::str::from_utf8(&hex).unwrap_or_default())
    }
}

/// One cloud component as last observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawAsset")]
pub struct Asset {
    /// Globally unique and stable: the ARN on AWS.
    pub id: String,
    /// The cloud it belongs to.
    pub provider: Provider,
    /// The account (AWS account id) it lives in.
    pub account: String,
    /// The region it lives in, or `global` for global services such as IAM.
    pub region: String,
    /// The resource type in the provider's naming.
    pub resource_type: ResourceType,
    /// A human name (bucket name, group name, instance Name tag).
    pub name: String,
    /// The provider's tags.
    pub tags: BTreeMap<String, String>,
    /// The curated configuration document: a JSON object merged from every API
    /// call that describes the asset, documented per resource type.
    pub config: serde_json::Value,
    /// Edges to other assets.
    pub relationships: Vec<Relationship>,
    /// Configuration fields that could not be collected (the call was denied
    /// or failed), each with the reason. Rules that read such a field report
    /// `unknown`, never `pass`.
    pub unknown: BTreeMap<String, String>,
    /// When this state was observed.
    pub observed_at: DateTime<Utc>,
}

/// An asset as written in the interchange format, before it is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAsset {
    id: String,
    provider: Provider,
    account: String,
    #[serde(default)]
    region: String,
    resource_type: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    config: serde_json::Value,
    #[serde(default)]
    relationships: Vec<Relationship>,
    #[serde(default)]
    unknown: BTreeMap<String, String>,
    observed_at: DateTime<Utc>,
}

impl TryFrom<RawAsset> for Asset {
    type Error = AssetError;

    fn try_from(raw: RawAsset) -> Result<Self, Self::Error> {
        if raw.id.trim().is_empty() {
            return Err(AssetError::Empty { field: "id" });
        }
        if raw.account.trim().is_empty() {
            return Err(AssetError::Empty { field: "account" });
        }
        let resource_type = ResourceType::new(raw.resource_type)?;
        if let Some(owner) = resource_type.provider()
            && owner != raw.provider
        {
            return Err(AssetError::ProviderMismatch {
                provider: raw.provider.to_string(),
                resource_type: resource_type.to_string(),
            });
        }
        if !raw.config.is_object() {
            return Err(AssetError::ConfigNotObject(json_kind(&raw.config)));
        }
        if let Some(bad) = raw.relationships.iter().find(|r| {
            r.kind.is_empty()
                || !r
                    .kind
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        }) {
            return Err(AssetError::RelationshipKind(bad.kind.clone()));
        }
        Ok(Asset {
            id: raw.id,
            provider: raw.provider,
            account: raw.account,
            region: raw.region,
            resource_type,
            name: raw.name,
            tags: raw.tags,
            config: raw.config,
            relationships: raw.relationships,
            unknown: raw.unknown,
            observed_at: raw.observed_at,
        })
    }
}

/// The JSON kind of a value, for error messages.
pub(crate) fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The part of an asset its content hash covers: all but the observation time.
#[derive(Serialize)]
struct Content<'a> {
    id: &'a str,
    provider: Provider,
    account: &'a str,
    region: &'a str,
    resource_type: &'a ResourceType,
    name: &'a str,
    tags: &'a BTreeMap<String, String>,
    config: &'a serde_json::Value,
    relationships: Relationships<'a>,
    unknown: &'a BTreeMap<String, String>,
}

/// An asset's relationships in order: as collected when they already are
/// (most collectors draw them in order), else sorted references to them,
/// so that no relationship is copied to be hashed.
#[derive(Serialize)]
#[serde(untagged)]
enum Relationships<'a> {
    InOrder(&'a [Relationship]),
    Sorted(Vec<&'a Relationship>),
}

impl Relationships<'_> {
    fn len(&self) -> usize {
        match self {
            Relationships::InOrder(all) => all.len(),
            Relationships::Sorted(sorted) => sorted.len(),
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Relationship> {
        let (in_order, sorted): (&[Relationship], &[&Relationship]) = match self {
            Relationships::InOrder(all) => (all, &[]),
            Relationships::Sorted(sorted) => (&[], sorted),
        };
        in_order.iter().chain(sorted.iter().copied())
    }
}

impl Asset {
    fn content(&self) -> Content<'_> {
        Content {
            id: &self.id,
            provider: self.provider,
            account: &self.account,
            region: &self.region,
            resource_type: &self.resource_type,
            name: &self.name,
            tags: &self.tags,
            config: &self.config,
            relationships: self.sorted_relationships(),
            unknown: &self.unknown,
        }
    }

    fn sorted_relationships(&self) -> Relationships<'_> {
        if self.relationships.is_sorted() {
            return Relationships::InOrder(&self.relationships);
        }
        let mut sorted: Vec<&Relationship> = self.relationships.iter().collect();
        sorted.sort();
        Relationships::Sorted(sorted)
    }

    /// The asset as a JSON document without `observed_at`, with its
    /// relationships sorted: what versions are compared on.
    pub fn content_document(&self) -> serde_json::Value {
        // Plain data always converts to a JSON value.
        serde_json::to_value(self.content()).unwrap_or_default()
    }

    /// [`Asset::content_document`] as compact JSON text, written in one
    /// pass: what the content hash covers and what the store keeps. Object
    /// keys of the configuration come out sorted, so the text does not depend
    /// on the order a collector happened to see things in.
    pub fn content_text(&self) -> String {
        serde_json::to_string(&self.content()).unwrap_or_default()
    }

    /// [`Asset::content_text`] with its hash, from one serialisation: for
    /// an asset whose text is kept as a new version.
    pub fn content_text_and_hash(&self) -> (String, ContentHash) {
        let text = self.content_text();
        let hash = ContentHash::of(text.as_bytes());
        (text, hash)
    }

    /// The hash of everything but `observed_at`: of [`Asset::content_text`],
    /// written into a buffer each thread keeps rather than a text of its
    /// own.
    pub fn content_hash(&self) -> ContentHash {
        thread_local! {
            static TEXT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        TEXT.with(|text| {
            let mut text = text.borrow_mut();
            text.clear();
            // Plain data always serialises.
            let _ = serde_json::to_writer(&mut *text, &self.content());
            ContentHash::of(&text)
        })
    }
}

/// The content's structure written for [`Asset::content_fingerprint`]:
/// each string after its length, each value after its kind and each list
/// and object after its length, so that two contents write the same bytes
/// exactly when their texts are the same.
struct Structure(Vec<u8>);

impl Structure {
    /// A length, seven bits a byte (LEB128): most take one.
    fn len(&mut self, mut n: usize) {
        while n >= 0x80 {
            self.0.push((n & 0x7f) as u8 | 0x80);
            n >>= 7;
        }
        self.0.push(n as u8);
    }

    fn text(&mut self, text: &str) {
        self.len(text.len());
        self.0.extend_from_slice(text.as_bytes());
    }

    fn map(&mut self, map: &BTreeMap<String, String>) {
        self.len(map.len());
        for (key, value) in map {
            self.text(key);
            self.text(value);
        }
    }

    fn value(&mut self, value: &serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::Null => self.0.push(0),
            Value::Bool(b) => self.0.push(1 + u8::from(*b)),
            Value::Number(n) => {
                // serde_json writes each kind of number its own way (1 and
                // 1.0), so the kind is part of the structure.
                if let Some(i) = n.as_i64() {
                    self.0.push(3);
                    self.0.extend_from_slice(&i.to_le_bytes());
                } else if let Some(u) = n.as_u64() {
                    self.0.push(4);
                    self.0.extend_from_slice(&u.to_le_bytes());
                } else {
                    self.0.push(5);
                    let f = n.as_f64().unwrap_or_default();
                    self.0.extend_from_slice(&f.to_bits().to_le_bytes());
                }
            }
            Value::String(text) => {
                self.0.push(6);
                self.text(text);
            }
            Value::Array(items) => {
                self.0.push(7);
                self.len(items.len());
                for item in items {
                    self.value(item);
                }
            }
            Value::Object(fields) => {
                self.0.push(8);
                self.len(fields.len());
                for (key, field) in fields {
                    self.text(key);
                    self.value(field);
                }
            }
        }
    }
}

impl Asset {
    /// A digest of everything [`Asset::content_hash`] covers, taken over
    /// the content's structure rather than its JSON text (which escapes
    /// every string and formats every number): the first 16 bytes of a
    /// SHA-256. Equal for two assets exactly when their content texts are,
    /// and quicker to take than the content hash, so that a rescan tells an
    /// unchanged asset by it and keeps the hash stored with it.
    pub fn content_fingerprint(&self) -> u128 {
        thread_local! {
            static BYTES: std::cell::RefCell<Structure> = const { std::cell::RefCell::new(Structure(Vec::new())) };
        }
        BYTES.with(|bytes| {
            let mut out = bytes.borrow_mut();
            out.0.clear();
            // Every field of the content, so that one added to it cannot
            // be left out here.
            let Content {
                id,
                provider,
                account,
                region,
                resource_type,
                name,
                tags,
                config,
                relationships,
                unknown,
            } = self.content();
            for text in [
                id,
                provider.as_str(),
                account,
                region,
                resource_type.as_str(),
                name,
            ] {
                out.text(text);
            }
            out.map(tags);
            out.value(config);
            out.len(relationships.len());
            for relationship in relationships.iter() {
                out.text(&relationship.kind);
                out.text(&relationship.target);
            }
            out.map(unknown);
            let digest = Sha256::digest(&out.0);
            let mut first = [0; 16];
            first.copy_from_slice(&digest[..16]);
            u128::from_le_bytes(first)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bucket() -> serde_json::Value {
        json!({
            "id": "arn:aws:s3:::logs",
            "provider": "aws",
            "account": "123456789012",
            "region": "eu-west-1",
            "resource_type": "AWS::S3::Bucket",
            "name": "logs",
            "config": {"Versioning": {"Status": "Enabled"}},
            "relationships": [{"kind": "logs_to", "target": "arn:aws:s3:::audit"}],
            "observed_at": "2026-11-29T10:00:00Z"
        })
    }

    #[test]
    fn reads_a_valid_asset() {
        let asset: Asset = serde_json::from_value(bucket()).expect("valid asset");
        assert_eq!(asset.resource_type.as_str(), "AWS::S3::Bucket");
        assert_eq!(asset.provider, Provider::Aws);
        assert!(asset.tags.is_empty());
    }

    #[test]
    fn rejects_malformed_resource_types() {
        for bad in [
            "AWS::S3",
            "AWS::S3::",
            "AWS::S 3::Bucket",
            "",
            "AWS::S3::Bucket::X",
            "Microsoft.Storage",
            "Microsoft.Storage//containers",
            "storage.googleapis.com/",
            "storage.googleapis.com/Buck et",
        ] {
            assert!(ResourceType::new(bad).is_err(), "{bad}");
        }
        for (good, provider) in [
            ("AWS::S3::Bucket", Some(Provider::Aws)),
            ("Microsoft.Storage/storageAccounts", Some(Provider::Azure)),
            (
                "Microsoft.Storage/storageAccounts/blobServices/containers",
                Some(Provider::Azure),
            ),
            ("storage.googleapis.com/Bucket", Some(Provider::Gcp)),
            ("compute.googleapis.com/Firewall", Some(Provider::Gcp)),
            ("Custom::Thing", None),
        ] {
            let parsed = ResourceType::new(good).expect(good);
            assert_eq!(parsed.provider(), provider, "{good}");
        }
    }

    #[test]
    fn rejects_config_that_is_not_an_object() {
        let mut doc = bucket();
        doc["config"] = json!([1]);
        let err = serde_json::from_value::<Asset>(doc).expect_err("array config");
        assert!(err.to_string().contains("must be a JSON object"), "{err}");
    }

    #[test]
    fn rejects_aws_type_under_another_provider() {
        let mut doc = bucket();
        doc["provider"] = json!("gcp");
        let err = serde_json::from_value::<Asset>(doc).expect_err("mismatch");
        assert!(err.to_string().contains("does not belong"), "{err}");
    }

    #[test]
    fn rejects_unknown_fields() {
        let mut doc = bucket();
        doc["colour"] = json!("red");
        assert!(serde_json::from_value::<Asset>(doc).is_err());
    }

    #[test]
    fn content_hash_ignores_observation_time_and_key_order() {
        let a: Asset = serde_json::from_value(bucket()).expect("valid");
        let mut b = a.clone();
        b.observed_at += chrono::Duration::hours(1);
        assert_eq!(a.content_hash(), b.content_hash());
        let mut c = a.clone();
        c.config["Versioning"]["Status"] = json!("Suspended");
        assert_ne!(a.content_hash(), c.content_hash());
        let mut d = a.clone();
        d.relationships.insert(
            0,
            Relationship {
                kind: "in_vpc".into(),
                target: "vpc-1".into(),
            },
        );
        let mut e = a.clone();
        e.relationships.push(Relationship {
            kind: "in_vpc".into(),
            target: "vpc-1".into(),
        });
        assert_eq!(d.content_hash(), e.content_hash());
        assert_eq!(d.content_text(), e.content_text());
        assert_eq!(
            e.content_text_and_hash(),
            (e.content_text(), e.content_hash())
        );
    }

    #[test]
    fn the_fingerprint_changes_exactly_when_the_content_text_does() {
        let a: Asset = serde_json::from_value(bucket()).expect("valid");
        let mut later = a.clone();
        later.observed_at += chrono::Duration::hours(1);
        later.relationships.insert(
            0,
            Relationship {
                kind: "in_vpc".into(),
                target: "vpc-1".into(),
            },
        );
        let mut reordered = later.clone();
        reordered.relationships.reverse();
        assert_eq!(later.content_fingerprint(), reordered.content_fingerprint());
        let changes: Vec<fn(&mut Asset)> = vec![
            |a| a.config["Versioning"]["Status"] = json!("Suspended"),
            |a| a.config["Versioning"]["Count"] = json!(1),
            |a| a.config["Versioning"]["Count"] = json!(1.0),
            |a| a.config["Versioning"]["Count"] = json!(-1),
            |a| a.config["Versioning"]["Count"] = json!(u64::MAX),
            |a| a.config["Versioning"]["Count"] = json!(null),
            |a| a.config["Versioning"]["Count"] = json!(false),
            |a| a.config["Versioning"]["Count"] = json!([]),
            |a| a.config["Versioning"]["Count"] = json!({}),
            |a| a.config["Versioning"]["Count"] = json!(["", ""]),
            |a| a.config["Versioning"]["Count"] = json!("\"\n"),
            |a| {
                a.tags.insert("env".into(), "prod".into());
            },
            |a| {
                a.unknown.insert("GetBucketPolicy".into(), "denied".into());
            },
            |a| a.name.push('x'),
            |a| a.region = "eu-west".into(),
            |a| a.account = "123456789012eu".into(),
        ];
        let mut seen = BTreeMap::new();
        let unchanged = std::iter::once(None);
        for (i, change) in unchanged.chain(changes.iter().map(Some)).enumerate() {
            let mut changed = a.clone();
            if let Some(change) = change {
                change(&mut changed);
            }
            let text = changed.content_text();
            let earlier = seen.insert(changed.content_fingerprint(), text.clone());
            assert_eq!(earlier, None, "change {i} has another's fingerprint");
            assert_eq!(
                later.content_fingerprint() == changed.content_fingerprint(),
                later.content_text() == text
            );
        }
        assert_eq!(seen.len(), changes.len() + 1);
    }
}
