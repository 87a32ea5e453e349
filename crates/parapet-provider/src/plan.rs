//! The refresh plan of a batch of change events, as every cloud makes it:
//! only the resources the events name, with what depends on them; a
//! summary asset (AWS's region, Azure's subscription) described again with
//! every type it is filled from.

use crate::collection::Narrowing;
use crate::events::{Action, Target};
use crate::resource::{ResourceTypeInfo, dependents_of};
use parapet_core::Asset;
use std::collections::BTreeSet;

/// Only the resources `targets` name, with what depends on them, in their
/// accounts (the regions are left to the provider). A type is described
/// whole when a key does not name a resource, when the `summary` type
/// depends on it, or when a change names a resource the inventory
/// (`stored`) does not know by `names` (it may know it by another name: an
/// alias); the summary is described with every type it reads.
pub fn plan(
    types: &[ResourceTypeInfo],
    targets: &[Target],
    stored: &[Asset],
    summary: &str,
    names: impl Fn(&str, &Asset) -> bool,
) -> Narrowing {
    let mut plan = Narrowing::default();
    let mut whole = BTreeSet::new();
    for t in targets {
        plan.accounts.insert(t.account.clone());
        let dependents = dependents_of(types, &t.resource_type);
        whole.extend(dependents.iter().map(|d| (*d).to_owned()));
        let known = || {
            stored.iter().any(|a| {
                a.account == t.account
                    && a.resource_type.as_str() == t.resource_type
                    && names(&t.key, a)
            })
        };
        if !t.names_resource
            || dependents.contains(&summary)
            || (t.action != Action::Create && !known())
        {
            whole.insert(t.resource_type.clone());
        } else {
            plan.keyed
                .entry(t.resource_type.clone())
                .or_default()
                .insert(t.key.clone());
        }
    }
    if whole.contains(summary) {
        // The summary is filled from every type it reads: each is
        // described again with it, or the summary would lose them.
        whole.extend(
            types
                .iter()
                .filter(|t| t.dependents.contains(&summary))
                .map(|t| t.name.to_owned()),
        );
    }
    plan.keyed.retain(|t, _| !whole.contains(t));
    plan.whole = Some(whole);
    plan
}
