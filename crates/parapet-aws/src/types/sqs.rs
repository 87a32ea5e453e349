//! SQS queues: access policy, encryption and dead-letter settings.

use super::{Collector, Doc, Part, Reach, optional_policy, run_parts};
use crate::collect::{Ctx, Out};
use crate::error::{Call, Named};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName;
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) const SQS: Collector = Collector {
    service: "sqs",
    types: &[QUEUE],
    reach: Reach::Regional,
    run: |ctx| sqs(ctx).boxed(),
};

const QUEUE: &str = "AWS::SQS::Queue";

async fn sqs(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let parts: Vec<Part<'_>> = vec![(QUEUE, queues(&ctx, &client).boxed())];
    run_parts(&ctx, parts).await
}

async fn queues(ctx: &Ctx, sqs: &Client) -> Call<Vec<Asset>> {
    let urls = all_pages!(sqs.list_queues(), "sqs:ListQueues", queue_urls)?;
    let client = sqs.clone();
    let attributes = ctx
        .each(urls.clone(), move |url| {
            let client = client.clone();
            async move {
                client
                    .get_queue_attributes()
                    .queue_url(url)
                    .attribute_names(QueueAttributeName::All)
                    .send()
                    .await
                    .named("sqs:GetQueueAttributes")
            }
            .boxed()
        })
        .await;
    Ok(urls
        .iter()
        .zip(attributes)
        .map(|(url, attributes)| {
            let name = url.rsplit('/').next().unwrap_or(url);
            let mut asset = ctx.asset(
                QUEUE,
                ctx.arn("sqs", name),
                name,
                json!({"QueueUrl": url, "QueueName": name}),
            );
            let mut doc = Doc::of(&mut asset);
            match attributes {
                Ok(answer) => {
                    let get = |key: &str| {
                        answer
                            .attributes()
                            .and_then(|m| m.get(&QueueAttributeName::from(key)))
                            .map(String::as_str)
                    };
                    doc.set(
                        "Policy",
                        optional_policy("sqs:GetQueueAttributes", get("Policy")),
                        &[],
                    );
                    doc.set(
                        "KmsMasterKeyId",
                        Ok(get("KmsMasterKeyId").map_or(Value::Null, |k| json!(k))),
                        &[],
                    );
                    doc.set(
                        "SqsManagedSseEnabled",
                        Ok(json!(get("SqsManagedSseEnabled") == Some("true"))),
                        &[],
                    );
                    doc.set(
                        "RedrivePolicy",
                        optional_policy("sqs:GetQueueAttributes", get("RedrivePolicy")),
                        &[],
                    );
                    doc.set(
                        "MessageRetentionPeriod",
                        Ok(get("MessageRetentionPeriod")
                            .and_then(|v| v.parse::<i64>().ok())
                            .map_or(Value::Null, |v| json!(v))),
                        &[],
                    );
                }
                Err(failure) => {
                    for field in [
                        "Policy",
                        "KmsMasterKeyId",
                        "SqsManagedSseEnabled",
                        "RedrivePolicy",
                        "MessageRetentionPeriod",
                    ] {
                        doc.unknown(field, &failure);
                    }
                }
            }
            asset
        })
        .collect())
}
