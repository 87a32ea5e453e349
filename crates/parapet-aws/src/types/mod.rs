//! The resource types Parapet collects, one module per service, and the
//! helpers that turn SDK answers into curated configuration documents.

use crate::collect::{Ctx, Out};
use crate::error::{Call, Failure};
use futures::future::BoxFuture;
use parapet_core::Asset;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Every page of a paginated call, the items of `$items` of each, or the
/// first failure.
macro_rules! all_pages {
    ($request:expr, $action:expr, $items:ident) => {{
        let mut stream = $request.into_paginator().send();
        let mut all = Vec::new();
        let mut failure = None;
        while let Some(page) = stream.next().await {
            match crate::error::Named::named(page, $action) {
                Ok(page) => all.extend(page.$items().iter().cloned()),
                Err(f) => {
                    failure = Some(f);
                    break;
                }
            }
        }
        match failure {
            Some(f) => Err(f),
            None => Ok(all),
        }
    }};
}

mod accessanalyzer;
mod account;
mod acm;
mod cloudtrail;
mod cloudwatch;
mod config;
mod dynamodb;
mod ec2;
mod ecr;
mod efs;
mod eks;
mod elbv2;
mod guardduty;
mod iam;
mod kms;
mod lambda;
mod logs;
mod macie;
mod opensearch;
mod organizations;
mod rds;
pub(crate) mod region;
mod s3;
mod secretsmanager;
mod securityhub;
mod sns;
mod sqs;

/// One part of a collector: the assets of one resource type.
pub type Part<'a> = (&'static str, BoxFuture<'a, Call<Vec<Asset>>>);

/// Runs the parts whose types were asked for, all at once.
pub async fn run_parts(ctx: &Ctx, parts: Vec<Part<'_>>) -> Out {
    let results = futures::future::join_all(
        parts
            .into_iter()
            .filter(|(t, _)| ctx.wants(t))
            .map(|(t, part)| async move { (t, part.await) }),
    )
    .await;
    let mut out = Out::default();
    for (resource_type, result) in results {
        match result {
            Ok(assets) => out.assets.extend(assets),
            Err(failure) => out.failed(resource_type, failure),
        }
    }
    out
}

/// Where a collector's calls go and where its assets live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Once per region; assets in that region.
    Regional,
    /// Once per account; assets in the region `global` (IAM).
    Global,
    /// Once per account; one listing returns every region's resources,
    /// each recorded in its own region (S3 buckets).
    Listed,
}

/// Everything Parapet knows of one resource type, declared beside its
/// collector.
pub struct TypeDef {
    /// The type's name (`AWS::S3::Bucket`).
    pub name: &'static str,
    /// Its documentation page (`docs/resources/aws/`): fields, where each
    /// comes from, and an example.
    pub page: &'static str,
    /// The CloudTrail management events that create, change or delete it,
    /// in YAML: the event source (`source`), `global: true` for resources
    /// of no region (IAM), and its `events`, each a name (`eventName`; a
    /// version suffix such as `20150331v2` is ignored), what it does
    /// (`create`, `change` or `delete`) and where the resource's key is
    /// (`key`: candidate paths into the record, tried in order; `[*]` walks
    /// a list), with `when` conditions on other paths and, for an event of
    /// another service, its own `source`. The key is what the
    /// collector describes the resource by (an id, a name or an ARN).
    /// `indirect: true` marks a key that does not name the resource (an
    /// association id), and a key of `recipientAccountId` or `awsRegion`
    /// names only where the change happened: for those, the whole type is
    /// described again in that account and region.
    pub events: &'static str,
    /// The types described again when it changes, besides (for a type on
    /// the network path) every endpoint.
    pub dependents: &'static [&'static str],
    /// Its part in the network topology.
    pub network: Option<parapet_provider::NetworkRole>,
}

/// One service's collector: the types it yields and how it runs.
pub struct Collector {
    /// The service, as IAM names it (`s3`).
    pub service: &'static str,
    /// The resource types it yields.
    pub types: &'static [TypeDef],
    /// Where it runs.
    pub reach: Reach,
    /// The API calls it can make, as IAM names their actions
    /// (`s3:GetBucketPolicy`): what `parapet permissions aws` grants. A test
    /// holds it to the calls the collector makes on the emulator.
    pub calls: &'static [&'static str],
    /// Runs it.
    pub run: fn(Arc<Ctx>) -> BoxFuture<'static, Out>,
}

/// Every collector.
pub static COLLECTORS: &[Collector] = &[
    s3::BUCKETS,
    s3::ACCOUNT,
    ec2::EC2,
    ec2::EC2_ACCOUNT,
    iam::IAM,
    rds::RDS,
    cloudtrail::CLOUDTRAIL,
    cloudwatch::CLOUDWATCH,
    kms::KMS,
    opensearch::OPENSEARCH,
    lambda::LAMBDA,
    sqs::SQS,
    sns::SNS,
    elbv2::ELBV2,
    ecr::ECR,
    eks::EKS,
    efs::EFS,
    logs::LOGS,
    dynamodb::DYNAMODB,
    secretsmanager::SECRETS_MANAGER,
    guardduty::GUARDDUTY,
    config::CONFIG,
    acm::ACM,
    securityhub::SECURITY_HUB,
    accessanalyzer::ACCESS_ANALYZER,
    account::ACCOUNT,
    organizations::ORGANIZATIONS,
    macie::MACIE,
    region::REGIONS,
];

/// Every resource type collected, with its service.
pub fn resource_types() -> impl Iterator<Item = (&'static TypeDef, &'static str)> {
    COLLECTORS
        .iter()
        .flat_map(|c| c.types.iter().map(move |t| (t, c.service)))
}

/// The configuration document of an asset being built, with the fields that
/// could not be read.
pub struct Doc<'a> {
    asset: &'a mut Asset,
}

impl<'a> Doc<'a> {
    /// Edits `asset`'s configuration, which must be an object.
    pub fn of(asset: &'a mut Asset) -> Doc<'a> {
        if !asset.config.is_object() {
            asset.config = Value::Object(Map::new());
        }
        Doc { asset }
    }

    /// Sets `field` from a call's result: the value when it succeeded,
    /// `null` when the service said the thing is not configured (one of the
    /// `absent` error codes), and an unknown field otherwise.
    pub fn set(&mut self, field: &str, result: Call<Value>, absent: &[&str]) {
        let value = match result {
            Ok(value) => value,
            Err(failure) if absent.contains(&failure.code.as_str()) => Value::Null,
            Err(failure) => {
                self.unknown(field, &failure);
                return;
            }
        };
        if let Value::Object(map) = &mut self.asset.config {
            map.insert(field.to_owned(), value);
        }
    }

    /// Sets the asset's tags from a call's result, or records that they
    /// could not be read (tag rules are then unknown for it).
    pub fn tags(&mut self, result: Call<std::collections::BTreeMap<String, String>>) {
        match result {
            Ok(tags) => self.asset.tags = tags,
            Err(failure) => self.unknown("tags", &failure),
        }
    }

    /// Sets `field` to the items of a region-wide listing that belong to
    /// `key` (none when no item does), or records that the listing failed.
    pub fn set_group(&mut self, field: &str, listing: &Call<Grouped>, key: &str) {
        let items = listing
            .as_ref()
            .map_err(Clone::clone)
            .map(|groups| Value::Array(groups.get(key).cloned().unwrap_or_default()));
        self.set(field, items, &[]);
    }

    /// Records that `field` could not be read.
    pub fn unknown(&mut self, field: &str, failure: &Failure) {
        self.asset
            .unknown
            .insert(field.to_owned(), failure.reason());
    }
}

/// The items of one listing (a region's flow logs, VPC endpoints, metric
/// filters), each written as a document, by the resource each belongs to.
pub type Grouped = std::collections::HashMap<String, Vec<Value>>;

/// Groups `items` by the resource `owner` names, each written by `doc`.
pub fn grouped<T>(items: &[T], owner: fn(&T) -> Option<&str>, doc: fn(&T) -> Value) -> Grouped {
    let mut groups = Grouped::new();
    for item in items {
        groups
            .entry(owner(item).unwrap_or_default().to_owned())
            .or_default()
            .push(doc(item));
    }
    groups
}

/// How a string attribute (SQS queues and SNS topics describe themselves as
/// a map of strings) becomes a field of the same name.
#[derive(Debug, Clone, Copy)]
pub enum Attribute {
    /// A JSON policy document, or `null` when absent.
    Policy,
    /// Text, or `null` when absent.
    Text,
    /// `"true"` is true; anything else, absence included, is false.
    Flag,
    /// An integer, or `null` when absent or not a number.
    Integer,
}

/// Sets `fields` from the string attributes one call (`action`) returned,
/// or marks them all unknown when it failed.
pub fn set_attributes(
    doc: &mut Doc<'_>,
    action: &str,
    attributes: &Call<std::collections::HashMap<String, String>>,
    fields: &[(&str, Attribute)],
) {
    for (field, kind) in fields {
        let map = match attributes {
            Ok(map) => map,
            Err(failure) => {
                doc.unknown(field, failure);
                continue;
            }
        };
        let raw = map.get(*field).map(String::as_str);
        let value = match kind {
            Attribute::Policy => optional_policy(action, raw),
            Attribute::Text => Ok(text(raw)),
            Attribute::Flag => Ok(Value::Bool(raw == Some("true"))),
            Attribute::Integer => Ok(raw
                .and_then(|v| v.parse::<i64>().ok())
                .map_or(Value::Null, |v| json!(v))),
        };
        doc.set(field, value, &[]);
    }
}

/// An SDK timestamp as RFC 3339, or `null`.
pub fn time(value: Option<&aws_smithy_types::DateTime>) -> Value {
    value
        .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
        .map_or(Value::Null, Value::String)
}

/// An optional string as JSON.
pub fn text(value: Option<&str>) -> Value {
    value.map_or(Value::Null, |s| Value::String(s.to_owned()))
}

/// A policy document (JSON, URL-encoded as IAM returns it or plain) as a
/// JSON value.
pub fn policy(action: &str, document: &str) -> Call<Value> {
    let decoded;
    let text = if document.trim_start().starts_with('{') {
        document
    } else {
        decoded = percent_encoding::percent_decode_str(document)
            .decode_utf8()
            .map_err(|e| Failure::malformed(action, format!("policy is not UTF-8: {e}")))?;
        &decoded
    };
    serde_json::from_str(text)
        .map_err(|e| Failure::malformed(action, format!("policy document does not parse: {e}")))
}

/// An optional policy document as JSON: `null` when there is none.
pub fn optional_policy(action: &str, document: Option<&str>) -> Call<Value> {
    match document {
        Some(d) if !d.trim().is_empty() => policy(action, d),
        _ => Ok(Value::Null),
    }
}

/// Tags as the asset's map, from key and value pairs.
pub fn tag_map<'a>(
    tags: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> std::collections::BTreeMap<String, String> {
    tags.into_iter()
        .filter_map(|(k, v)| Some((k?.to_owned(), v.unwrap_or_default().to_owned())))
        .collect()
}

/// Tags as the asset's map, from the string map some services answer with
/// (none when absent).
pub fn tag_hash(
    tags: Option<&std::collections::HashMap<String, String>>,
) -> std::collections::BTreeMap<String, String> {
    tags.into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// A JSON list of strings.
pub fn strings<'a>(items: impl IntoIterator<Item = &'a str>) -> Value {
    Value::Array(items.into_iter().map(|s| json!(s)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_collector_type_name_is_well_formed_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for collector in COLLECTORS {
            for t in collector.types {
                parapet_core::ResourceType::new(t.name).expect("well-formed");
                assert!(seen.insert(t.name), "{} is collected twice", t.name);
            }
        }
    }

    fn blank() -> Asset {
        serde_json::from_value(json!({
            "id": "arn:aws:sqs:eu-west-1:123456789012:q", "provider": "aws",
            "account": "123456789012", "region": "eu-west-1",
            "resource_type": "AWS::SQS::Queue", "config": {},
            "observed_at": "2026-11-29T00:00:00Z"
        }))
        .expect("an asset")
    }

    const FIELDS: &[(&str, Attribute)] = &[
        ("Policy", Attribute::Policy),
        ("KmsMasterKeyId", Attribute::Text),
        ("SqsManagedSseEnabled", Attribute::Flag),
        ("MessageRetentionPeriod", Attribute::Integer),
    ];

    #[test]
    fn string_attributes_become_typed_fields() {
        let mut asset = blank();
        let attributes = Ok(std::collections::HashMap::from([
            ("SqsManagedSseEnabled".to_owned(), "true".to_owned()),
            ("MessageRetentionPeriod".to_owned(), "345600".to_owned()),
        ]));
        set_attributes(
            &mut Doc::of(&mut asset),
            "sqs:GetQueueAttributes",
            &attributes,
            FIELDS,
        );
        assert_eq!(
            asset.config,
            json!({"Policy": null, "KmsMasterKeyId": null, "SqsManagedSseEnabled": true, "MessageRetentionPeriod": 345600})
        );
        assert!(asset.unknown.is_empty());
    }

    #[test]
    fn a_failed_attribute_call_makes_every_field_unknown() {
        let mut asset = blank();
        let attributes = Err(Failure::malformed("sqs:GetQueueAttributes", "garbled"));
        set_attributes(
            &mut Doc::of(&mut asset),
            "sqs:GetQueueAttributes",
            &attributes,
            FIELDS,
        );
        assert_eq!(asset.config, json!({}));
        assert_eq!(asset.unknown.len(), FIELDS.len());
        assert_eq!(
            asset.unknown["Policy"],
            "MalformedResponse: sqs:GetQueueAttributes"
        );
    }

    #[test]
    fn policies_are_read_plain_or_url_encoded() {
        let plain = policy("iam:GetPolicyVersion", r#"{"Version":"2012-10-17"}"#).expect("plain");
        assert_eq!(plain["Version"], "2012-10-17");
        let encoded = policy(
            "iam:GetPolicyVersion",
            "%7B%22Version%22%3A%222012-10-17%22%7D",
        )
        .expect("encoded");
        assert_eq!(encoded, plain);
        let broken = policy("iam:GetRole", "%7Bnot json").expect_err("broken");
        assert_eq!(broken.code, "MalformedResponse");
        assert!(broken.to_string().contains("iam:GetRole"), "{broken}");
    }
}
