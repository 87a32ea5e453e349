//! Secrets Manager secrets: metadata only (rotation, encryption, use).
//! Values are never read: Parapet has no reason to call GetSecretValue.

use super::{Collector, Part, Reach, TypeDef, run_parts, tag_map, text, time};
use crate::collect::{Ctx, Out};
use crate::error::Call;
use aws_sdk_secretsmanager::Client;
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) const SECRETS_MANAGER: Collector = Collector {
    service: "secretsmanager",
    types: &[TypeDef {
        name: SECRET,
        page: include_str!("../../../../docs/resources/aws/secretsmanager-secret.md"),
        events: r#"
            source: secretsmanager.amazonaws.com
            events:
              - {name: CreateSecret, action: create, key: [responseElements.aRN, requestParameters.name]}
              - {name: DeleteSecret, action: delete, key: [requestParameters.secretId]}
              - {name: RotateSecret, action: change, key: [requestParameters.secretId]}
              - {name: UpdateSecret, action: change, key: [requestParameters.secretId]}
              - {name: PutResourcePolicy, action: change, key: [requestParameters.secretId]}
            "#,
        dependents: &[],
        network: None,
    }],
    reach: Reach::Regional,
    calls: &["secretsmanager:ListSecrets"],
    run: |ctx| secretsmanager(ctx).boxed(),
};

const SECRET: &str = "AWS::SecretsManager::Secret";

async fn secretsmanager(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let parts: Vec<Part<'_>> = vec![(SECRET, secrets(&ctx, &client).boxed())];
    run_parts(&ctx, parts).await
}

async fn secrets(ctx: &Ctx, sm: &Client) -> Call<Vec<Asset>> {
    let secrets = all_pages!(sm.list_secrets(), "secretsmanager:ListSecrets", secret_list)?;
    Ok(secrets
        .iter()
        .map(|s| {
            let name = s.name().unwrap_or_default();
            let mut asset = ctx.asset(
                SECRET,
                s.arn().map_or_else(
                    || ctx.arn("secretsmanager", &format!("secret:{name}")),
                    str::to_owned,
                ),
                name,
                json!({
                    "Name": name,
                    "Description": text(s.description()),
                    "KmsKeyId": text(s.kms_key_id()),
                    "RotationEnabled": s.rotation_enabled().unwrap_or(false),
                    "RotationLambdaARN": text(s.rotation_lambda_arn()),
                    "RotationRules": s.rotation_rules().map_or(Value::Null, |r| json!({
                        "AutomaticallyAfterDays": r.automatically_after_days(),
                        "ScheduleExpression": text(r.schedule_expression()),
                    })),
                    "LastRotatedDate": time(s.last_rotated_date()),
                    "LastChangedDate": time(s.last_changed_date()),
                    "LastAccessedDate": time(s.last_accessed_date()),
                    "CreatedDate": time(s.created_date()),
                }),
            );
            asset.tags = tag_map(s.tags().iter().map(|t| (t.key(), t.value())));
            asset
        })
        .collect())
}
