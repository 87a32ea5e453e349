//! KMS keys: state, manager, rotation and key policy. AWS managed keys are
//! recorded too (rules usually apply to customer managed ones).

use super::{
    Collector, Doc, Part, Reach, TypeDef, optional_policy, run_parts, tag_map, text, time,
};
use crate::collect::{Ctx, Out};
use crate::error::{Call, Named};
use aws_sdk_kms::Client;
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) const KMS: Collector = Collector {
    service: "kms",
    types: &[TypeDef {
        name: KEY,
        page: include_str!("../../../../docs/resources/aws/kms-key.md"),
        events: r#"
            source: kms.amazonaws.com
            events:
              - {name: CreateKey, action: create, key: [responseElements.keyMetadata.keyId]}
              - {name: ScheduleKeyDeletion, action: change, key: [requestParameters.keyId]}
              - {name: CancelKeyDeletion, action: change, key: [requestParameters.keyId]}
              - {name: EnableKeyRotation, action: change, key: [requestParameters.keyId]}
              - {name: DisableKeyRotation, action: change, key: [requestParameters.keyId]}
              - {name: PutKeyPolicy, action: change, key: [requestParameters.keyId]}
              - {name: EnableKey, action: change, key: [requestParameters.keyId]}
              - {name: DisableKey, action: change, key: [requestParameters.keyId]}
              - {name: TagResource, action: change, key: [requestParameters.keyId]}
            "#,
        dependents: &[],
        network: None,
    }],
    reach: Reach::Regional,
    calls: &[
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:ListKeys",
        "kms:ListResourceTags",
    ],
    run: |ctx| kms(ctx).boxed(),
};

const KEY: &str = "AWS::KMS::Key";

async fn kms(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let parts: Vec<Part<'_>> = vec![(KEY, keys(&ctx, &client).boxed())];
    run_parts(&ctx, parts).await
}

async fn keys(ctx: &Ctx, kms: &Client) -> Call<Vec<Asset>> {
    let mut keys = all_pages!(kms.list_keys(), "kms:ListKeys", keys)?;
    ctx.keep(KEY, &mut keys, |k| {
        k.key_id().into_iter().chain(k.key_arn()).collect()
    });
    let found = ctx
        .each(
            keys.iter()
                .filter_map(|k| k.key_id().map(str::to_owned))
                .collect(),
            |id| key(kms, id),
        )
        .await;
    found.into_iter().map(|k| k.map(|k| k.build(ctx))).collect()
}

struct Key {
    id: String,
    metadata: aws_sdk_kms::types::KeyMetadata,
    rotation: Call<Value>,
    policy: Call<Value>,
    tags: Call<std::collections::BTreeMap<String, String>>,
}

impl Key {
    fn build(self, ctx: &Ctx) -> Asset {
        let m = &self.metadata;
        let arn = m.arn().map_or_else(
            || ctx.arn("kms", &format!("key/{}", self.id)),
            str::to_owned,
        );
        let customer = m.key_manager().map(|k| k.as_str()) == Some("CUSTOMER");
        let mut asset = ctx.asset(
            KEY,
            arn,
            self.id.clone(),
            json!({
                "KeyId": self.id,
                "Description": text(m.description()),
                "Enabled": m.enabled(),
                "KeyState": text(m.key_state().map(|s| s.as_str())),
                "KeyManager": text(m.key_manager().map(|s| s.as_str())),
                "KeySpec": text(m.key_spec().map(|s| s.as_str())),
                "KeyUsage": text(m.key_usage().map(|s| s.as_str())),
                "Origin": text(m.origin().map(|s| s.as_str())),
                "MultiRegion": m.multi_region().unwrap_or(false),
                "CreationDate": time(m.creation_date()),
                "DeletionDate": time(m.deletion_date()),
            }),
        );
        let mut doc = Doc::of(&mut asset);
        // Rotation applies to symmetric customer managed keys only.
        if customer {
            doc.set(
                "KeyRotationEnabled",
                self.rotation,
                &["UnsupportedOperationException"],
            );
        } else {
            doc.set("KeyRotationEnabled", Ok(Value::Null), &[]);
        }
        doc.set("KeyPolicy", self.policy, &[]);
        doc.tags(self.tags);
        asset
    }
}

async fn key(kms: &Client, id: String) -> Call<Key> {
    let described = kms
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .named("kms:DescribeKey")?;
    let metadata = described
        .key_metadata()
        .cloned()
        .ok_or_else(|| crate::error::Failure::malformed("kms:DescribeKey", "no key metadata"))?;
    let (rotation, policy, tags) = tokio::join!(
        kms.get_key_rotation_status().key_id(&id).send(),
        kms.get_key_policy()
            .key_id(&id)
            .policy_name("default")
            .send(),
        kms.list_resource_tags().key_id(&id).send(),
    );
    Ok(Key {
        id,
        metadata,
        rotation: rotation
            .named("kms:GetKeyRotationStatus")
            .map(|r| Value::Bool(r.key_rotation_enabled())),
        policy: policy
            .named("kms:GetKeyPolicy")
            .and_then(|p| optional_policy("kms:GetKeyPolicy", p.policy())),
        tags: tags.named("kms:ListResourceTags").map(|t| {
            tag_map(
                t.tags()
                    .iter()
                    .map(|t| (Some(t.tag_key()), Some(t.tag_value()))),
            )
        }),
    })
}
