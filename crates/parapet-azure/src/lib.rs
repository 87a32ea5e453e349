//! Azure as a provider. Credentials come from Microsoft's `azure_identity`
//! (a service principal's secret, workload identity, managed identity, or
//! the Azure CLI's sign-in); Azure Resource Manager is read through
//! `azure_core`'s pipeline, which retries, waits as `Retry-After` says and
//! carries the bearer token, while this crate follows `nextLink` pages and
//! reads ARM's error shape.
//!
//! # Layout
//!
//! - [`arm`]: Azure Resource Manager reads: one resource, every page of a
//!   list, and the errors ARM answers with.
//! - [`certificate`]: a service principal's certificate as its credential.
//! - [`credentials`]: which credential signs Parapet in, and the HTTP
//!   client every request goes through.
//! - [`events`]: Event Grid's change events and the resources they touched.
//! - [`graph`]: Azure Resource Graph's census of the subscriptions' types.
//! - [`provider`]: the subscriptions in scope, each collected as a part.
//! - [`queue`]: the Storage queue Event Grid delivers change events to.
//! - [`types`]: the resource types, one module per resource provider,
//!   and the collection of a subscription.
//! - [`error`]: what can go wrong.

pub mod arm;
pub mod certificate;
pub mod credentials;
pub mod error;
pub mod events;
pub mod graph;
pub mod provider;
pub mod queue;
pub mod types;

pub use arm::Arm;
pub use credentials::{Credentials, Endpoints};
pub use error::{ArmError, AzureError};
pub use provider::{AzureFileConfig, AzureOptions, AzureProvider};
pub use queue::StorageQueue;
