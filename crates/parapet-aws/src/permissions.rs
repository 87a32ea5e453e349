//! The least-privilege IAM policy Parapet needs in an AWS account: the
//! calls every collection makes first (who the credentials are, which
//! regions are enabled), every call the collectors declare (each list held
//! by a test to the calls the collector makes on the emulator), and what
//! options add: listing an organisation's member accounts, and reading the
//! continuous mode's queue.

use crate::types::COLLECTORS;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// What every collection asks before the collectors run: which regions the
/// account has enabled. (It first asks who the credentials are,
/// `sts:GetCallerIdentity`, which IAM does not govern.)
pub const SESSION_CALLS: &[&str] = &["ec2:DescribeRegions"];

/// Listing an organisation's member accounts (`--organization-role`), in
/// the management account or a delegated administrator.
pub const ORGANIZATION_CALLS: &[&str] = &["organizations:ListAccounts"];

/// Reading the continuous mode's queue (`parapet watch --queue-url`); IAM
/// governs DeleteMessageBatch by `sqs:DeleteMessage`.
pub const QUEUE_CALLS: &[&str] = &["sqs:ReceiveMessage", "sqs:DeleteMessage"];

/// Keeping what could not be read in the dead-letter queue
/// (`--dead-letter-queue-url`).
pub const DEAD_LETTER_CALLS: &[&str] = &["sqs:SendMessage"];

/// What the policy should grant besides the collection itself.
#[derive(Debug, Clone, Default)]
pub struct PolicyOptions {
    /// List the organisation's member accounts.
    pub organization: bool,
    /// The ARN of the queue `parapet watch` reads.
    pub queue_arn: Option<String>,
    /// The ARN of its dead-letter queue.
    pub dead_letter_queue_arn: Option<String>,
}

/// Every action a collection of the whole account calls, sorted.
pub fn collection_actions() -> BTreeSet<&'static str> {
    SESSION_CALLS
        .iter()
        .chain(COLLECTORS.iter().flat_map(|c| c.calls))
        .copied()
        .collect()
}

/// The IAM policy document: read-only actions on every resource (the
/// collector lists what is there, so no resource can be named in advance),
/// and the queue actions on the queues named.
pub fn policy(options: &PolicyOptions) -> Value {
    let mut statements = vec![statement(
        "ParapetCollect",
        collection_actions().into_iter(),
        json!("*"),
    )];
    if options.organization {
        statements.push(statement(
            "ParapetListMemberAccounts",
            ORGANIZATION_CALLS.iter().copied(),
            json!("*"),
        ));
    }
    if let Some(queue) = &options.queue_arn {
        statements.push(statement(
            "ParapetReadEvents",
            QUEUE_CALLS.iter().copied(),
            json!(queue),
        ));
    }
    if let Some(queue) = &options.dead_letter_queue_arn {
        statements.push(statement(
            "ParapetKeepUnreadableEvents",
            DEAD_LETTER_CALLS.iter().copied(),
            json!(queue),
        ));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn statement<'a>(sid: &str, actions: impl Iterator<Item = &'a str>, resource: Value) -> Value {
    json!({
        "Sid": sid,
        "Effect": "Allow",
        "Action": actions.collect::<Vec<_>>(),
        "Resource": resource,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_call_is_an_iam_action_granted_once() {
        let mut seen = BTreeSet::new();
        for collector in COLLECTORS {
            for call in collector.calls {
                let (service, action) = call.split_once(':').expect("service:Action");
                assert!(
                    !service.is_empty()
                        && service
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                    "{call} of {}",
                    collector.service
                );
                assert!(
                    action.starts_with(|c: char| c.is_ascii_uppercase())
                        && action.chars().all(|c| c.is_ascii_alphanumeric()),
                    "{call} of {}",
                    collector.service
                );
                seen.insert(*call);
            }
        }
        let policy = policy(&PolicyOptions::default());
        let granted = policy["Statement"][0]["Action"]
            .as_array()
            .expect("a list of actions");
        assert_eq!(granted.len(), collection_actions().len(), "each once");
        assert!(seen.iter().all(|call| granted.contains(&json!(call))));
        assert_eq!(policy["Statement"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn options_add_their_own_statements_on_the_queues_named() {
        let policy = policy(&PolicyOptions {
            organization: true,
            queue_arn: Some("arn:aws:sqs:eu-west-1:111122223333:events".to_owned()),
            dead_letter_queue_arn: Some("arn:aws:sqs:eu-west-1:111122223333:dead".to_owned()),
        });
        let statements = policy["Statement"].as_array().expect("statements");
        assert_eq!(statements.len(), 4);
        assert_eq!(
            statements[1]["Action"],
            json!(["organizations:ListAccounts"])
        );
        assert_eq!(
            statements[2]["Resource"],
            json!("arn:aws:sqs:eu-west-1:111122223333:events")
        );
        assert_eq!(statements[3]["Action"], json!(["sqs:SendMessage"]));
    }
}
