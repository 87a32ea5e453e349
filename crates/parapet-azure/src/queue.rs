//! The Azure Storage queue Event Grid delivers change events to, read with
//! Microsoft's `azure_storage_queue` client signed in as the rest of
//! Parapet is (the Storage Queue Data Message Processor role is what it
//! needs). A Storage queue has no long polling: a receive asks again every
//! quarter second until it finds messages or its wait is over. Event Grid
//! writes each event as a message of its own, its text Base64-encoded (it
//! used to write plain JSON; both are read). Messages are hidden for a
//! minute while their batch is handled and deleted once it is committed;
//! one that is not an event is copied to the dead-letter queue, when there
//! is one, then deleted.

use crate::credentials::{Credentials, Endpoints};
use crate::error::AzureError;
use azure_core::http::{ExponentialRetryOptions, RetryOptions, Transport, Url};
use azure_storage_queue::models::{
    QueueClientReceiveMessagesOptions, QueueMessage, ReceivedMessage,
};
use azure_storage_queue::{QueueClient, QueueClientOptions};
use base64::Engine;
use futures_util::{StreamExt, stream};
use parapet_provider::{Message, ProviderError};
use std::time::{Duration, Instant};

/// The most messages one receive takes (the service's limit).
const BATCH: i32 = 32;

/// How long received messages stay hidden from other readers, in seconds.
const HIDDEN_SECONDS: i32 = 60;

/// How many messages are deleted at once.
const DELETING: usize = 16;

/// How often an empty queue is asked again within a receive's wait.
const POLL: Duration = Duration::from_millis(250);

/// A Storage queue of Event Grid's events.
pub struct StorageQueue {
    /// The queue's URL, without any query (a SAS never shows).
    name: String,
    client: QueueClient,
    dead_letter: Option<QueueClient>,
    runtime: tokio::runtime::Runtime,
}

impl StorageQueue {
    /// The queue at `url` (`https://ACCOUNT.queue.core.windows.net/QUEUE`),
    /// with the dead-letter queue at `dead_letter` when given, signed in
    /// with `credentials` through `endpoints`' HTTP client.
    pub fn connect(
        url: &str,
        dead_letter: Option<&str>,
        credentials: &Credentials,
        endpoints: &Endpoints,
    ) -> Result<StorageQueue, AzureError> {
        let http = endpoints.http_client()?;
        let credential = credentials.token_credential(endpoints, &http)?;
        let client = |url: &str| {
            let parsed = Url::parse(url).map_err(|e| AzureError::Setting {
                setting: "queue URL".to_owned(),
                message: format!("{}: {e}", without_query(url)),
            })?;
            let mut options = QueueClientOptions::default();
            options.client_options.transport = Some(Transport::new(http.clone()));
            // A failing queue is said within half a minute; the daemon
            // asks again.
            options.client_options.retry = RetryOptions::exponential(ExponentialRetryOptions {
                initial_delay: azure_core::time::Duration::milliseconds(200),
                max_retries: 4,
                max_total_elapsed: azure_core::time::Duration::seconds(30),
                max_delay: azure_core::time::Duration::seconds(8),
            });
            QueueClient::new(parsed, Some(credential.clone()), Some(options)).map_err(|e| {
                AzureError::Setting {
                    setting: "queue URL".to_owned(),
                    message: format!("{}: {e}", without_query(url)),
                }
            })
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| AzureError::Setting {
                setting: "runtime".to_owned(),
                message: e.to_string(),
            })?;
        Ok(StorageQueue {
            name: without_query(url).to_owned(),
            client: client(url)?,
            dead_letter: dead_letter.map(client).transpose()?,
            runtime,
        })
    }

    fn failed(&self, what: &str, error: &azure_core::Error) -> ProviderError {
        ProviderError::Queue {
            queue: self.name.clone(),
            reason: format!("{what}: {error}"),
        }
    }
}

/// A URL without its query, where a SAS token would be.
fn without_query(url: &str) -> &str {
    url.split_once('?').map_or(url, |(before, _)| before)
}

/// A message's text as the event it holds: Event Grid's Base64 decoded, a
/// plain JSON text as it is, anything else as it is (then refused as not
/// an event, with the text's start).
pub fn event_text(text: &str) -> String {
    let trimmed = text.trim();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return text.to_owned();
    }
    base64::engine::general_purpose::STANDARD
        .decode(trimmed)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_else(|| text.to_owned())
}

fn message(received: ReceivedMessage) -> Option<Message> {
    Some(Message {
        id: received.message_id?,
        receipt: received.pop_receipt?,
        body: event_text(received.message_text.as_deref().unwrap_or_default()),
        sent_at_ms: received
            .insertion_time
            .map(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)),
    })
}

impl parapet_provider::Queue for StorageQueue {
    fn name(&self) -> &str {
        &self.name
    }

    fn receive(&self, wait_seconds: i32) -> Result<Vec<Message>, ProviderError> {
        let until = Instant::now() + Duration::from_secs(u64::try_from(wait_seconds).unwrap_or(0));
        loop {
            let options = QueueClientReceiveMessagesOptions {
                number_of_messages: Some(BATCH),
                visibility_timeout: Some(HIDDEN_SECONDS),
                ..Default::default()
            };
            let received = self
                .runtime
                .block_on(async {
                    self.client
                        .receive_messages(Some(options))
                        .await?
                        .into_model()
                })
                .map_err(|e| self.failed("receive", &e))?;
            let messages: Vec<Message> = received
                .items
                .unwrap_or_default()
                .into_iter()
                .filter_map(message)
                .collect();
            if !messages.is_empty() || Instant::now() + POLL > until {
                return Ok(messages);
            }
            std::thread::sleep(POLL);
        }
    }

    fn delete(&self, messages: &[&Message]) -> Result<(), ProviderError> {
        // A Storage queue deletes one message a request: sixteen at once.
        let deleted: Vec<azure_core::Result<_>> = self.runtime.block_on(
            stream::iter(messages)
                .map(|m| self.client.delete_message(&m.id, &m.receipt, None))
                .buffer_unordered(DELETING)
                .collect(),
        );
        for result in deleted {
            result.map_err(|e| self.failed("delete", &e))?;
        }
        Ok(())
    }

    fn set_aside(&self, message: &Message) -> Result<(), ProviderError> {
        if let Some(dead_letter) = &self.dead_letter {
            let kept = QueueMessage {
                message_text: Some(base64::engine::general_purpose::STANDARD.encode(&message.body)),
            };
            self.runtime
                .block_on(dead_letter.send_message(
                    kept.try_into().map_err(|e| self.failed("set aside", &e))?,
                    None,
                ))
                .map_err(|e| self.failed("set aside", &e))?;
        }
        self.delete(&[message])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_grid_s_base64_and_plain_json_are_both_read() {
        let event = r#"[{"eventType":"Microsoft.Resources.ResourceWriteSuccess"}]"#;
        let encoded = base64::engine::general_purpose::STANDARD.encode(event);
        assert_eq!(event_text(&encoded), event);
        assert_eq!(event_text(event), event);
        assert_eq!(event_text("not base64 ~"), "not base64 ~");
        assert_eq!(
            without_query("https://a.queue.core.windows.net/q?sv=2024&sig=secret"),
            "https://a.queue.core.windows.net/q"
        );
    }
}
