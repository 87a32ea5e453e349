//! Parapet's notifications: the channels a finding's change of state is
//! sent to, the routes that choose them, and the delivery of the durable
//! outbox. The store writes a notification in the same transaction as the
//! change that causes it (through [`Routes`], a [`parapet_store::Router`]);
//! [`Notifier::deliver_due`] sends what is due, retries with exponential
//! backoff, and after the last attempt leaves it marked failed. Every
//! delivery carries the notification's idempotency key.
//!
//! # Layout
//!
//! - [`config`]: the `notifications` section of the configuration file.
//! - [`route`]: which channels a change goes to.
//! - [`channel`]: each channel's payload and how it is sent.
//! - [`deliver`]: the outbox worker.
//! - [`template`]: the title and text of messages.

pub mod channel;
pub mod config;
pub mod deliver;
pub mod route;
pub mod template;

pub use channel::Channel;
pub use config::{ChannelConfig, NotifyConfig, RouteConfig};
pub use deliver::{Delivery, Notifier};
pub use route::{Routes, RuleFacts};

/// A notification configuration or delivery that went wrong.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The `notifications` section is inconsistent.
    #[error("notifications: {0}")]
    Config(String),
    /// A channel's secret could not be read.
    #[error("notification channel {channel}: {source}")]
    Secret {
        /// The channel.
        channel: String,
        /// Why.
        source: parapet_core::SecretError,
    },
    /// A channel did not accept a message.
    #[error("notification channel {channel}: {reason}")]
    Delivery {
        /// The channel.
        channel: String,
        /// Why, without the channel's address (which may hold a token).
        reason: String,
    },
    /// The outbox could not be read or written.
    #[error(transparent)]
    Store(#[from] parapet_store::StoreError),
}
