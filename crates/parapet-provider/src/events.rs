//! The resources change events touched: what a provider decodes from its
//! change events, and what the pipeline describes again.

use serde::{Deserialize, Serialize};

/// What an event did to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// It made it.
    Create,
    /// It changed it.
    Change,
    /// It removed it.
    Delete,
}

/// One resource an event touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// Its resource type.
    pub resource_type: String,
    /// The account it is in.
    pub account: String,
    /// The region it is in (`global` for global services).
    pub region: String,
    /// What the collector describes it by: an id, a name or an ARN.
    pub key: String,
    /// Whether the key names the resource. When it does not (an
    /// association id, the account or the region), the whole type is
    /// described again in that account and region.
    pub names_resource: bool,
    /// What the event did.
    pub action: Action,
}

/// The resources one message's events touched, and one line per event
/// saying what it touched or why it changed nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decoded {
    /// The resources, each once.
    pub targets: Vec<Target>,
    /// One line per event.
    pub notes: Vec<String>,
}
