//! The queues change events arrive on (an SQS queue, an Azure Storage
//! queue): received in batches, deleted once their result is committed, and
//! set aside when they are not events.

use crate::ProviderError;

/// One message of a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The queue's id of the message.
    pub id: String,
    /// What deleting it takes (a receipt handle).
    pub receipt: String,
    /// Its body.
    pub body: String,
    /// When it was sent, in milliseconds since the epoch, when known.
    pub sent_at_ms: Option<i64>,
}

/// A queue of change events.
pub trait Queue: Send + Sync {
    /// What the queue is called in logs (its URL, never a credential).
    fn name(&self) -> &str;
    /// Waits up to `wait_seconds` for messages; none is not an error.
    fn receive(&self, wait_seconds: i32) -> Result<Vec<Message>, ProviderError>;
    /// Deletes handled messages.
    fn delete(&self, messages: &[&Message]) -> Result<(), ProviderError>;
    /// Keeps a message that is not an event in the dead-letter queue.
    fn set_aside(&self, message: &Message) -> Result<(), ProviderError>;
}
