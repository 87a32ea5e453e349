//! SNS topics: access policy and encryption.

use super::{Attribute, Collector, Doc, Part, Reach, run_parts, set_attributes};
use crate::collect::{Ctx, Out};
use crate::error::{Call, Named};
use aws_sdk_sns::Client;
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::json;
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
    let attributes = ctx
        .each(arns.clone(), move |arn| async move {
            sns.get_topic_attributes()
                .topic_arn(arn)
                .send()
                .await
                .named("sns:GetTopicAttributes")
                .map(|a| a.attributes().cloned().unwrap_or_default())
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
            set_attributes(
                &mut Doc::of(&mut asset),
                "sns:GetTopicAttributes",
                &attributes,
                &[
                    ("Policy", Attribute::Policy),
                    ("KmsMasterKeyId", Attribute::Text),
                    ("SubscriptionsConfirmed", Attribute::Integer),
                ],
            );
            asset
        })
        .collect())
}
