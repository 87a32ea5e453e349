//! SQS queues: access policy, encryption and dead-letter settings.

use super::{Attribute, Collector, Doc, Part, Reach, TypeDef, run_parts, set_attributes, tag_hash};
use crate::collect::{Ctx, Out};
use crate::error::{Call, Named};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName;
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::json;
use std::sync::Arc;

pub(super) const SQS: Collector = Collector {
    service: "sqs",
    types: &[TypeDef {
        name: QUEUE,
        page: include_str!("../../../../docs/resources/aws/sqs-queue.md"),
        events: r#"
            source: sqs.amazonaws.com
            events:
              - {name: CreateQueue, action: create, key: [responseElements.queueUrl]}
              - {name: DeleteQueue, action: delete, key: [requestParameters.queueUrl]}
              - {name: SetQueueAttributes, action: change, key: [requestParameters.queueUrl]}
              - {name: TagQueue, action: change, key: [requestParameters.queueUrl]}
              - {name: UntagQueue, action: change, key: [requestParameters.queueUrl]}
            "#,
        dependents: &[],
        network: None,
    }],
    reach: Reach::Regional,
    calls: &[
        "sqs:GetQueueAttributes",
        "sqs:ListQueueTags",
        "sqs:ListQueues",
    ],
    run: |ctx| sqs(ctx).boxed(),
};

const QUEUE: &str = "AWS::SQS::Queue";

async fn sqs(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let parts: Vec<Part<'_>> = vec![(QUEUE, queues(&ctx, &client).boxed())];
    run_parts(&ctx, parts).await
}

async fn queues(ctx: &Ctx, sqs: &Client) -> Call<Vec<Asset>> {
    let mut urls = all_pages!(sqs.list_queues(), "sqs:ListQueues", queue_urls)?;
    ctx.keep(QUEUE, &mut urls, |u| vec![u.as_str()]);
    let details = ctx
        .each(urls.clone(), move |url| async move {
            let (attributes, tags) = tokio::join!(
                sqs.get_queue_attributes()
                    .queue_url(&url)
                    .attribute_names(QueueAttributeName::All)
                    .send(),
                sqs.list_queue_tags().queue_url(&url).send(),
            );
            (
                attributes.named("sqs:GetQueueAttributes").map(|a| {
                    a.attributes()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                        .collect()
                }),
                tags.named("sqs:ListQueueTags").map(|t| tag_hash(t.tags())),
            )
        })
        .await;
    Ok(urls
        .iter()
        .zip(details)
        .map(|(url, (attributes, tags))| {
            let name = url.rsplit('/').next().unwrap_or(url);
            let mut asset = ctx.asset(
                QUEUE,
                ctx.arn("sqs", name),
                name,
                json!({"QueueUrl": url, "QueueName": name}),
            );
            let mut doc = Doc::of(&mut asset);
            doc.tags(tags);
            set_attributes(
                &mut doc,
                "sqs:GetQueueAttributes",
                &attributes,
                &[
                    ("Policy", Attribute::Policy),
                    ("KmsMasterKeyId", Attribute::Text),
                    ("SqsManagedSseEnabled", Attribute::Flag),
                    ("RedrivePolicy", Attribute::Policy),
                    ("MessageRetentionPeriod", Attribute::Integer),
                ],
            );
            asset
        })
        .collect())
}
