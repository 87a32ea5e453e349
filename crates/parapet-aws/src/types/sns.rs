//! SNS topics: access policy and encryption.

use super::{Collector, Doc, Part, Reach, optional_policy, run_parts};
use crate::collect::{Ctx, Out};
use crate::error::{Call, Named};
use aws_sdk_sns::Client;
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) const SNS: Collector = Collector {
    service: "sns",
    types: &[TOPIC],
    reach: Reach::Regional,
    run: |ctx| sns(ctx).boxed(),
};

const TOPIC: &str = "AWS::SNS::Topic";

async fn sns(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let parts: Vec<Part<'_>> = vec![(TOPIC, topics(&ctx, &client).boxed())];
    run_parts(&ctx, parts).await
}

async fn topics(ctx: &Ctx, sns: &Client) -> Call<Vec<Asset>> {
    let topics = all_pages!(sns.list_topics(), "sns:ListTopics", topics)?;
    let arns: Vec<String> = topics
        .iter()
        .filter_map(|t| t.topic_arn().map(str::to_owned))
        .collect();
    let client = sns.clone();
    let attributes = ctx
        .each(arns.clone(), move |arn| {
            let client = client.clone();
            async move {
                client
                    .get_topic_attributes()
                    .topic_arn(arn)
                    .send()
                    .await
                    .named("sns:GetTopicAttributes")
            }
            .boxed()
        })
        .await;
    Ok(arns
        .iter()
        .zip(attributes)
        .map(|(arn, attributes)| {
            let name = arn.rsplit(':').next().unwrap_or(arn);
            let mut asset = ctx.asset(
                TOPIC,
                arn.clone(),
                name,
                json!({"TopicArn": arn, "TopicName": name}),
            );
            let mut doc = Doc::of(&mut asset);
            match attributes {
                Ok(answer) => {
                    let get = |key: &str| {
                        answer
                            .attributes()
                            .and_then(|m| m.get(key))
                            .map(String::as_str)
                    };
                    doc.set(
                        "Policy",
                        optional_policy("sns:GetTopicAttributes", get("Policy")),
                        &[],
                    );
                    doc.set(
                        "KmsMasterKeyId",
                        Ok(get("KmsMasterKeyId").map_or(Value::Null, |k| json!(k))),
                        &[],
                    );
                    doc.set(
                        "SubscriptionsConfirmed",
                        Ok(get("SubscriptionsConfirmed")
                            .and_then(|v| v.parse::<i64>().ok())
                            .map_or(Value::Null, |v| json!(v))),
                        &[],
                    );
                }
                Err(failure) => {
                    for field in ["Policy", "KmsMasterKeyId", "SubscriptionsConfirmed"] {
                        doc.unknown(field, &failure);
                    }
                }
            }
            asset
        })
        .collect())
}
