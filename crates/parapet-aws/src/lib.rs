//! Parapet's AWS collector: a live inventory of an AWS estate through the
//! official SDK. Credentials come from the standard chain (or a role assumed
//! with them); every account, region and service is read in parallel with a
//! bound on the calls in flight; each resource becomes an asset with a
//! curated configuration document (see `docs/resources/aws/`). A call that
//! is denied or fails becomes a collection error for its account, region
//! and type, or an unknown field of its asset, never a silent gap. The
//! CloudTrail event map names the resources each change event touched.

mod calls;
pub mod catalog;
pub mod collect;
pub mod error;
pub mod events;
pub mod options;
pub mod permissions;
pub mod provider;
pub mod queue;
pub mod session;
mod types;
pub mod units;

pub use catalog::catalog;
pub use collect::{collect, collect_parts};
pub use error::{AwsError, Failure};
pub use options::{AccountTarget, AssumeRole, AwsFileConfig, AwsOptions};
pub use provider::AwsProvider;
