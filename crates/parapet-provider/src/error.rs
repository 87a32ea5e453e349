//! What can go wrong asking a provider.

use thiserror::Error;

/// A provider that could not do what was asked.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The collection could not start: no credentials, no identity, no
    /// runtime. Parts that fail once it runs are collection errors instead.
    #[error("the collection could not start")]
    Start(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A message that is not one of the provider's change events, with
    /// why.
    #[error("{0}")]
    NotAnEvent(String),
    /// The provider cannot split a collection into units for workers.
    #[error("{0} cannot be collected by workers")]
    NoUnits(String),
    /// A unit of work that is not the provider's.
    #[error("not a unit of this provider: {0}")]
    NotAUnit(String),
    /// The provider has no change events.
    #[error("{0} has no change events")]
    NoEvents(String),
    /// An inventory file could not be opened.
    #[error("cannot open the assets file {path}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A queue that could not be reached or answered.
    #[error("queue {queue}: {reason}")]
    Queue {
        /// The queue (its URL, never a credential).
        queue: String,
        /// Why.
        reason: String,
    },
}

impl ProviderError {
    /// The collection could not start because of `error` (a credential,
    /// a client, the scope).
    pub fn start(error: impl std::error::Error + Send + Sync + 'static) -> ProviderError {
        ProviderError::Start(Box::new(error))
    }
}
