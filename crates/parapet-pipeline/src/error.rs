//! What can stop a run.

use thiserror::Error;

/// A run that could not finish; the parts recorded before it stand.
#[derive(Debug, Error)]
pub enum PipelineError {
    /// The provider could not collect.
    #[error(transparent)]
    Provider(#[from] parapet_provider::ProviderError),
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] parapet_store::StoreError),
}
