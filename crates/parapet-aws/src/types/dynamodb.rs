//! DynamoDB tables: encryption, point-in-time recovery, deletion protection
//! and billing.

use super::{Collector, Doc, Part, Reach, TypeDef, run_parts, tag_map, text, time};
use crate::collect::{Ctx, Out};
use crate::error::{Call, Named};
use aws_sdk_dynamodb::Client;
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) const DYNAMODB: Collector = Collector {
    service: "dynamodb",
    types: &[TypeDef {
        name: TABLE,
        page: include_str!("../../../../docs/resources/aws/dynamodb-table.md"),
        events: r#"
            source: dynamodb.amazonaws.com
            events:
              - {name: CreateTable, action: create, key: [requestParameters.tableName]}
              - {name: DeleteTable, action: delete, key: [requestParameters.tableName]}
              - {name: UpdateTable, action: change, key: [requestParameters.tableName]}
              - {name: UpdateContinuousBackups, action: change, key: [requestParameters.tableName]}
            "#,
        dependents: &[],
        network: None,
    }],
    reach: Reach::Regional,
    calls: &[
        "dynamodb:DescribeContinuousBackups",
        "dynamodb:DescribeTable",
        "dynamodb:ListTables",
        "dynamodb:ListTagsOfResource",
    ],
    run: |ctx| dynamodb(ctx).boxed(),
};

const TABLE: &str = "AWS::DynamoDB::Table";

async fn dynamodb(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let parts: Vec<Part<'_>> = vec![(TABLE, tables(&ctx, &client).boxed())];
    run_parts(&ctx, parts).await
}

async fn tables(ctx: &Ctx, dynamodb: &Client) -> Call<Vec<Asset>> {
    let mut names = all_pages!(dynamodb.list_tables(), "dynamodb:ListTables", table_names)?;
    ctx.keep(TABLE, &mut names, |n| vec![n.as_str()]);
    let described = ctx
        .each(names, move |name| async move {
            let arn = ctx.arn("dynamodb", &format!("table/{name}"));
            let (table, backups, tags) = tokio::join!(
                dynamodb.describe_table().table_name(&name).send(),
                dynamodb
                    .describe_continuous_backups()
                    .table_name(&name)
                    .send(),
                dynamodb.list_tags_of_resource().resource_arn(&arn).send(),
            );
            (
                table.named("dynamodb:DescribeTable"),
                backups
                    .named("dynamodb:DescribeContinuousBackups")
                    .map(|b| {
                        json!(
                            b.continuous_backups_description()
                                .and_then(|d| d.point_in_time_recovery_description())
                                .and_then(|p| p.point_in_time_recovery_status())
                                .map(|s| s.as_str())
                                == Some("ENABLED")
                        )
                    }),
                tags.named("dynamodb:ListTagsOfResource")
                    .map(|t| tag_map(t.tags().iter().map(|t| (Some(t.key()), Some(t.value()))))),
            )
        })
        .await;
    let mut assets = Vec::new();
    for (table, pitr, tags) in described {
        let Some(t) = table?.table().cloned() else {
            continue;
        };
        let name = t.table_name().unwrap_or_default();
        let sse = t.sse_description();
        let mut asset = ctx.asset(
            TABLE,
            t.table_arn().map_or_else(|| ctx.arn("dynamodb", &format!("table/{name}")), str::to_owned),
            name,
            json!({
                "TableName": name,
                "TableStatus": text(t.table_status().map(|s| s.as_str())),
                "CreationDateTime": time(t.creation_date_time()),
                "ItemCount": t.item_count(),
                "BillingMode": text(t.billing_mode_summary().and_then(|b| b.billing_mode()).map(|m| m.as_str())),
                "DeletionProtectionEnabled": t.deletion_protection_enabled().unwrap_or(false),
                "SSEDescription": sse.map_or(Value::Null, |s| json!({
                    "Status": text(s.status().map(|x| x.as_str())),
                    "SSEType": text(s.sse_type().map(|x| x.as_str())),
                    "KMSMasterKeyArn": text(s.kms_master_key_arn()),
                })),
            }),
        );
        let mut doc = Doc::of(&mut asset);
        doc.set("PointInTimeRecoveryEnabled", pitr, &[]);
        doc.tags(tags);
        assets.push(asset);
    }
    Ok(assets)
}
