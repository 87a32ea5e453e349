//! The provider interface: what a cloud implements in its own crate, and
//! what the pipeline asks of it. A [`Provider`] names the resource types it
//! collects (each with its documentation page, the change events that touch
//! it, what depends on it and its part in the network), collects a scope or
//! a part of one, decodes its change events into the resources they touched,
//! and plans the refresh of a batch of them. An inventory file is a provider
//! too ([`file::FileSource`]).
//!
//! # Layout
//!
//! - [`resource`]: what a provider says of each resource type.
//! - [`collection`]: what a collection covered and found, and what narrows
//!   one.
//! - [`events`]: the resources change events touched.
//! - [`plan`]: the refresh plan of a batch of change events.
//! - [`queue`]: the queues change events arrive on.
//! - [`file`]: the JSON Lines inventory file as a provider.
//! - [`units`]: a collection split into units that workers collect apart.
//! - [`error`]: what can go wrong asking a provider.

pub mod collection;
pub mod error;
pub mod events;
pub mod file;
pub mod plan;
pub mod queue;
pub mod resource;
pub mod units;

pub use collection::{Collection, Narrowing, Part, Progress, Quiet};
pub use error::ProviderError;
pub use events::{Action, Decoded, Target};
pub use queue::{Message, Queue};
pub use resource::{EventInfo, NetworkRole, ResourceTypeInfo};
pub use units::{AccountUnits, Unit, UnitOutput, UnitPlan};

use parapet_core::Asset;
use std::collections::BTreeSet;
use std::ops::ControlFlow;

/// A source of assets: a cloud's APIs, or an inventory file.
pub trait Provider: Send + Sync {
    /// What scans record as their source: `aws`, or the file read.
    fn source(&self) -> String;

    /// The version of its collectors, recorded with each scan so that a
    /// change in Parapet is never mistaken for a change in the cloud.
    fn version(&self) -> String;

    /// Every resource type it collects.
    fn resource_types(&self) -> Vec<ResourceTypeInfo>;

    /// Collects its whole scope, or the part `narrowing` names.
    fn collect(
        &self,
        narrowing: Option<&Narrowing>,
        progress: &dyn Progress,
    ) -> Result<Collection, ProviderError>;

    /// Collects like [`Provider::collect`], handing each part to `each` as
    /// soon as it is complete rather than holding them all, with whether
    /// the collection covers less than the part's accounts whole
    /// ([`Collection::partial`]), and returns the rest of the collection
    /// (its parts empty). Stops early when `each` breaks. A provider that
    /// collects its parts one after another overrides it, so that no more
    /// than a few parts are in memory.
    fn collect_parts(
        &self,
        narrowing: Option<&Narrowing>,
        progress: &dyn Progress,
        each: &mut dyn FnMut(Part, bool) -> ControlFlow<()>,
    ) -> Result<Collection, ProviderError> {
        let mut collection = self.collect(narrowing, progress)?;
        for part in std::mem::take(&mut collection.parts) {
            if each(part, collection.partial).is_break() {
                break;
            }
        }
        Ok(collection)
    }

    /// The resources the change events of one message touched, with a note
    /// per event saying what it touched or why it changed nothing. A
    /// message that is not one of its events is an error.
    fn decode(&self, message: &serde_json::Value) -> Result<Decoded, ProviderError> {
        let _ = message;
        Err(ProviderError::NoEvents(self.source()))
    }

    /// What describing `targets` again takes: only the resources they
    /// name, with what depends on them; `stored` holds the assets the store
    /// has of the targets' accounts.
    fn plan(&self, targets: &[Target], stored: &[Asset]) -> Narrowing {
        let _ = stored;
        Narrowing::accounts(targets.iter().map(|t| t.account.clone()).collect())
    }

    /// Whether an event's `key` names `asset` (by its id, name or URL).
    fn names(&self, key: &str, asset: &Asset) -> bool {
        key == asset.id || key == asset.name
    }

    /// Plans a collection of its scope (or of the part `narrowing` names)
    /// as units that workers collect apart.
    fn plan_units(&self, narrowing: Option<&Narrowing>) -> Result<UnitPlan, ProviderError> {
        let _ = narrowing;
        Err(ProviderError::NoUnits(self.source()))
    }

    /// Collects one unit of a plan.
    fn collect_unit(&self, unit: &Unit) -> Result<UnitOutput, ProviderError> {
        let _ = unit;
        Err(ProviderError::NoUnits(self.source()))
    }

    /// One account's part from its units' outputs (`Err`: the unit failed
    /// as a whole, with why), as a whole collection would make it.
    fn assemble(
        &self,
        account: &AccountUnits,
        outputs: &[(Unit, Result<UnitOutput, String>)],
    ) -> Part {
        units::assemble(account, outputs, |_, why| {
            vec![parapet_core::CollectionError {
                account: Some(account.account.clone()),
                region: None,
                resource_type: None,
                message: why.to_owned(),
            }]
        })
    }

    /// The accounts its configuration names, collected on a schedule even
    /// before a scan has seen them.
    fn configured_accounts(&self) -> BTreeSet<String> {
        BTreeSet::new()
    }
}
