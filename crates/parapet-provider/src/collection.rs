//! What a collection covered and found, and what narrows one to the
//! resources change events touched.

use parapet_core::{Asset, CollectionError, Scope};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::time::Duration;

/// A part of a collection, recorded as one scan: its scope (an asset of the
/// scope that the part did not see has been deleted, unless an error
/// covers it), what it found, and what was denied or failed.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Part {
    /// What it covered.
    pub scope: Scope,
    /// The assets found.
    pub assets: Vec<Asset>,
    /// The parts of the scope that were denied or failed.
    pub errors: Vec<CollectionError>,
}

/// A whole collection.
#[derive(Debug, Clone, Default)]
pub struct Collection {
    /// Its parts: one per account of a cloud, one per provider of a file.
    pub parts: Vec<Part>,
    /// The resource types collected.
    pub resource_types: Vec<String>,
    /// Whether it covered less than the whole estate its assets belong to
    /// (some regions or types only): the stored assets around it complete
    /// the topology.
    pub partial: bool,
    /// API calls sent, retries included.
    pub api_calls: u64,
    /// How many of those were retries of a call that was throttled, failed
    /// on the service's side or timed out.
    pub api_retries: u64,
    /// API calls made, by the action the provider names each by
    /// (`s3:GetBucketPolicy` as IAM names it), retries aside.
    pub calls: BTreeMap<String, u64>,
    /// Wall time.
    pub duration: Duration,
    /// Input that could not be read (lines of a file), each with its place.
    pub input_errors: Vec<String>,
}

impl Collection {
    /// Every asset found, part after part.
    pub fn assets(&self) -> impl Iterator<Item = &Asset> {
        self.parts.iter().flat_map(|p| &p.assets)
    }

    /// The whole collection of `provider`, which hands each part on as it
    /// collects it ([`crate::Provider::collect_parts`]): what its
    /// [`crate::Provider::collect`] is.
    pub fn of_parts(
        provider: &dyn crate::Provider,
        narrowing: Option<&Narrowing>,
        progress: &dyn Progress,
    ) -> Result<Collection, crate::ProviderError> {
        Collection::gathered(|each| {
            provider.collect_parts(narrowing, progress, &mut |part, _| each(part))
        })
    }

    /// The whole collection of one that hands each part on as it is
    /// collected (`collect` is given where to hand them): its parts kept,
    /// in the order they came.
    pub fn gathered<E>(
        collect: impl FnOnce(&mut dyn FnMut(Part) -> ControlFlow<()>) -> Result<Collection, E>,
    ) -> Result<Collection, E> {
        let mut parts = Vec::new();
        let collection = collect(&mut |part| {
            parts.push(part);
            ControlFlow::Continue(())
        })?;
        Ok(Collection {
            parts,
            ..collection
        })
    }
}

/// The part of a provider's scope to collect: only these accounts, and
/// only these regions and types when given; for the types of `keyed`, only
/// the resources those keys name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Narrowing {
    /// The accounts.
    pub accounts: BTreeSet<String>,
    /// The regions; `None`: the provider's own.
    pub regions: Option<BTreeSet<String>>,
    /// Types described whole in those accounts and regions; `None`: every
    /// type.
    pub whole: Option<BTreeSet<String>>,
    /// Types of which only the resources these keys name are described.
    pub keyed: BTreeMap<String, BTreeSet<String>>,
}

impl Narrowing {
    /// Every type of the provider's scope in `accounts`.
    pub fn accounts(accounts: BTreeSet<String>) -> Narrowing {
        Narrowing {
            accounts,
            ..Narrowing::default()
        }
    }

    /// Every type it describes, whole or by key; `None`: every type.
    pub fn resource_types(&self) -> Option<Vec<String>> {
        let whole = self.whole.as_ref()?;
        let mut types: Vec<String> = whole.iter().cloned().collect();
        types.extend(self.keyed.keys().cloned());
        Some(types)
    }
}

/// Reports a collection's progress.
pub trait Progress: Send + Sync {
    /// `total` units of work (an account, region and service each) are
    /// planned.
    fn planned(&self, total: u64);
    /// One unit is done.
    fn done(&self, unit: &str, assets: usize);
}

/// Progress no one watches.
pub struct Quiet;

impl Progress for Quiet {
    fn planned(&self, _: u64) {}
    fn done(&self, _: &str, _: usize) {}
}
