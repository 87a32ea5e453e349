//! The SQS queue continuous mode reads CloudTrail events from (delivered by
//! an EventBridge rule): receiving with a short long-poll, deleting a
//! message only once its result is committed, and setting aside what cannot
//! be read.

use crate::error::{Failure, Named};
use crate::session::Shared;
pub use parapet_provider::Message;
use parapet_provider::ProviderError;

/// The region an SQS URL names (`https://sqs.eu-west-1.amazonaws.com/...`).
fn region_of(url: &str) -> Option<String> {
    let host = url.split("://").nth(1)?.split('/').next()?;
    let mut parts = host.split('.');
    match (parts.next(), parts.next()) {
        (Some("sqs"), Some(region)) if region.contains('-') => Some(region.to_owned()),
        _ => None,
    }
}

/// One queue, with its own runtime so that callers stay synchronous.
pub struct Queue {
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_sqs::Client,
    url: String,
    dead_letter: Option<String>,
}

impl Queue {
    /// Connects to the queue at `url` with the standard credentials (or the
    /// named profile), through `endpoint_url` when given. The queue's region
    /// is `region`, else the one its URL names
    /// (`https://sqs.eu-west-1.amazonaws.com/...`), else the configured one.
    pub fn connect(
        url: &str,
        region: Option<&str>,
        profile: Option<&str>,
        endpoint_url: Option<&str>,
    ) -> Result<Queue, Failure> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Failure::malformed("sqs:connect", e.to_string()))?;
        let shared = Shared::new(8);
        let mut config = runtime.block_on(shared.base(profile, endpoint_url));
        if let Some(region) = region.map(str::to_owned).or_else(|| region_of(url)) {
            config = config
                .to_builder()
                .region(aws_types::region::Region::new(region))
                .build();
        }
        Ok(Queue {
            runtime,
            client: aws_sdk_sqs::Client::new(&config),
            url: url.to_owned(),
            dead_letter: None,
        })
    }

    /// Keeps the messages that are not events in the queue at `url` before
    /// deleting them.
    pub fn with_dead_letter(mut self, url: Option<String>) -> Queue {
        self.dead_letter = url;
        self
    }

    /// Up to ten messages, waiting at most `wait_seconds` for the first.
    pub fn receive(&self, wait_seconds: i32) -> Result<Vec<Message>, Failure> {
        let answer = self
            .runtime
            .block_on(
                self.client
                    .receive_message()
                    .queue_url(&self.url)
                    .max_number_of_messages(10)
                    .wait_time_seconds(wait_seconds)
                    .message_system_attribute_names(
                        aws_sdk_sqs::types::MessageSystemAttributeName::SentTimestamp,
                    )
                    .send(),
            )
            .named("sqs:ReceiveMessage")?;
        Ok(answer
            .messages()
            .iter()
            .filter_map(|m| {
                Some(Message {
                    id: m.message_id()?.to_owned(),
                    receipt: m.receipt_handle()?.to_owned(),
                    body: m.body().unwrap_or_default().to_owned(),
                    sent_at_ms: m
                        .attributes()
                        .and_then(|a| {
                            a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::SentTimestamp)
                        })
                        .and_then(|t| t.parse().ok()),
                })
            })
            .collect())
    }

    /// Deletes handled messages.
    pub fn delete(&self, messages: &[&Message]) -> Result<(), Failure> {
        for chunk in messages.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(&m.receipt)
                        .build()
                        .map_err(|e| Failure::malformed("sqs:DeleteMessage", e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let answer = self
                .runtime
                .block_on(
                    self.client
                        .delete_message_batch()
                        .queue_url(&self.url)
                        .set_entries(Some(entries))
                        .send(),
                )
                .named("sqs:DeleteMessage")?;
            if let Some(failed) = answer.failed().first() {
                return Err(Failure::malformed(
                    "sqs:DeleteMessage",
                    format!("a message was not deleted: {}", failed.code()),
                ));
            }
        }
        Ok(())
    }

    /// Sends a message to another queue (the dead-letter queue that keeps
    /// what could not be read).
    pub fn send_to(&self, url: &str, body: &str) -> Result<(), Failure> {
        self.runtime
            .block_on(
                self.client
                    .send_message()
                    .queue_url(url)
                    .message_body(body)
                    .send(),
            )
            .named("sqs:SendMessage")?;
        Ok(())
    }
}

impl parapet_provider::Queue for Queue {
    fn name(&self) -> &str {
        &self.url
    }

    fn receive(&self, wait_seconds: i32) -> Result<Vec<Message>, ProviderError> {
        Queue::receive(self, wait_seconds).map_err(|e| self.failed(e))
    }

    fn delete(&self, messages: &[&Message]) -> Result<(), ProviderError> {
        Queue::delete(self, messages).map_err(|e| self.failed(e))
    }

    fn set_aside(&self, message: &Message) -> Result<(), ProviderError> {
        if let Some(url) = &self.dead_letter {
            self.send_to(url, &message.body)
                .map_err(|e| self.failed(e))?;
        }
        Queue::delete(self, &[message]).map_err(|e| self.failed(e))
    }
}

impl Queue {
    fn failed(&self, failure: Failure) -> ProviderError {
        ProviderError::Queue {
            queue: self.url.clone(),
            reason: failure.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_urls_name_their_region() {
        assert_eq!(
            region_of("https://sqs.eu-west-1.amazonaws.com/123456789012/events").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(region_of("http://127.0.0.1:5000/123456789012/events"), None);
        assert_eq!(region_of("not a url"), None);
    }
}
