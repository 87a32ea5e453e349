//! Google Cloud as a provider. Credentials come from Google's
//! `google-cloud-auth` (Application Default Credentials: a service account
//! key file, workload identity federation, the metadata server, or gcloud's
//! user credentials; optionally impersonating a service account); the
//! resources come from Cloud Asset Inventory, read with Google's
//! `google-cloud-asset-v1` client: an organisation's, a folder's or each
//! project's every resource with its configuration and IAM policy, in a
//! few paged calls.
//!
//! # Layout
//!
//! - [`credentials`]: which credential signs Parapet in, and where Google
//!   is.
//! - [`inventory`]: Cloud Asset Inventory's reads: every asset of some
//!   types under a parent, and the current state of named assets.
//! - [`types`]: the resource types, in Cloud Asset Inventory's naming
//!   (`storage.googleapis.com/Bucket`), and the asset each inventory
//!   record becomes.
//! - [`derived`]: what is worked out across a project's assets (its
//!   summary, a network's DNS logging, a bucket's log sinks).
//! - [`events`]: Cloud Asset Inventory feed messages and the assets they
//!   carry.
//! - [`pubsub`]: the Pub/Sub subscription feed messages arrive on.
//! - [`refresh`]: what a refresh of the assets feed messages named reads.
//! - [`provider`]: the scope (an organisation, a folder, projects), each
//!   project collected as a part.
//! - [`error`]: what can go wrong.

pub mod credentials;
pub mod derived;
pub mod error;
pub mod events;
pub mod inventory;
pub mod provider;
pub mod pubsub;
pub mod refresh;
pub mod types;

pub use credentials::{Credentials, Endpoints};
pub use error::{GcpError, InventoryError};
pub use inventory::Inventory;
pub use provider::{GcpFileConfig, GcpOptions, GcpProvider, GcpScope};
pub use pubsub::PubSubQueue;
