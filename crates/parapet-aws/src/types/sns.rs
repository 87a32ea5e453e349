//! SNS topics: access policy, encryption, subscriptions and tags.

use super::{
    Attribute, Collector, Doc, Part, Reach, TypeDef, run_parts, set_attributes, tag_map, text,
};
use crate::collect::{Ctx, Out};
use crate::error::{Call, Named};
use aws_sdk_sns::Client;
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) const SNS: Collector = Collector {
    service: "sns",
    types: &[TypeDef {
        name: TOPIC,
        page: include_str!("../../../../docs/resources/aws/sns-topic.md"),
        events: r#"
            source: sns.amazonaws.com
            events:
              - {name: CreateTopic, action: create, key: [responseElements.topicArn]}
              - {name: DeleteTopic, action: delete, key: [requestParameters.topicArn]}
              - {name: SetTopicAttributes, action: change, key: [requestParameters.topicArn]}
              - {name: AddPermission, action: change, key: [requestParameters.topicArn]}
              - {name: RemovePermission, action: change, key: [requestParameters.topicArn]}
              - {name: Subscribe, action: change, key: [requestParameters.topicArn]}
              - {name: ConfirmSubscription, action: change, key: [requestParameters.topicArn]}
              - {name: Unsubscribe, action: change, key: [requestParameters.subscriptionArn], indirect: true}
            "#,
        dependents: &[super::region::REGION],
        network: None,
    }],
    reach: Reach::Regional,
    calls: &[
        "sns:GetTopicAttributes",
        "sns:ListSubscriptionsByTopic",
        "sns:ListTagsForResource",
        "sns:ListTopics",
    ],
    run: |ctx| sns(ctx).boxed(),
};

pub(super) const TOPIC: &str = "AWS::SNS::Topic";

async fn sns(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let parts: Vec<Part<'_>> = vec![(TOPIC, topics(&ctx, &client).boxed())];
    run_parts(&ctx, parts).await
}

async fn topics(ctx: &Ctx, sns: &Client) -> Call<Vec<Asset>> {
    let mut topics = all_pages!(sns.list_topics(), "sns:ListTopics", topics)?;
    ctx.keep(TOPIC, &mut topics, |t| t.topic_arn().into_iter().collect());
    let arns: Vec<String> = topics
        .iter()
        .filter_map(|t| t.topic_arn().map(str::to_owned))
        .collect();
    let details = ctx
        .each(arns.clone(), move |arn| async move {
            let (attributes, tags, subscriptions) = tokio::join!(
                sns.get_topic_attributes().topic_arn(&arn).send(),
                sns.list_tags_for_resource().resource_arn(&arn).send(),
                subscriptions(sns, &arn),
            );
            (
                attributes
                    .named("sns:GetTopicAttributes")
                    .map(|a| a.attributes().cloned().unwrap_or_default()),
                tags.named("sns:ListTagsForResource")
                    .map(|t| tag_map(t.tags().iter().map(|t| (Some(t.key()), Some(t.value()))))),
                subscriptions,
            )
        })
        .await;
    Ok(arns
        .iter()
        .zip(details)
        .map(|(arn, (attributes, tags, subscriptions))| {
            let name = arn.rsplit(':').next().unwrap_or(arn);
            let mut asset = ctx.asset(
                TOPIC,
                arn.clone(),
                name,
                json!({"TopicArn": arn, "TopicName": name}),
            );
            let mut doc = Doc::of(&mut asset);
            doc.tags(tags);
            doc.set("Subscriptions", subscriptions, &[]);
            set_attributes(
                &mut doc,
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

/// A topic's subscriptions, each as its protocol and subscription ARN
/// (`PendingConfirmation` until the subscriber confirms). The endpoint (an
/// address, a URL) is left out.
async fn subscriptions(sns: &Client, arn: &str) -> Call<Value> {
    let all = all_pages!(
        sns.list_subscriptions_by_topic().topic_arn(arn),
        "sns:ListSubscriptionsByTopic",
        subscriptions
    )?;
    Ok(Value::Array(
        all.iter()
            .map(|s| {
                json!({
                    "Protocol": text(s.protocol()),
                    "SubscriptionArn": text(s.subscription_arn()),
                })
            })
            .collect(),
    ))
}
