//! A collection split into units that workers collect apart: the plan
//! (each account with its scope and its units), each unit's output, and
//! one account's part assembled from its units' outputs as a whole
//! collection would have made it.

use crate::collection::Part;
use parapet_core::{Asset, CollectionError, Scope};
use serde::{Deserialize, Serialize};

/// One unit of a collection: a label for people and what the provider
/// needs to collect it (one account, region and service for a cloud).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// `ACCOUNT REGION SERVICE`, for progress and listings.
    pub label: String,
    /// The provider's own description of the unit.
    pub spec: serde_json::Value,
}

/// What one unit collected.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitOutput {
    /// The assets found.
    pub assets: Vec<Asset>,
    /// What was denied or failed.
    pub errors: Vec<CollectionError>,
    /// API calls sent, retries included.
    pub api_calls: u64,
    /// How many of those were retries.
    pub api_retries: u64,
}

/// One account of a plan: the scope its part covers, and its units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountUnits {
    /// The account.
    pub account: String,
    /// What its part covers (its regions and the types collected).
    pub scope: Scope,
    /// Its units.
    pub units: Vec<Unit>,
}

/// A collection planned as units.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitPlan {
    /// The accounts reached, each with its units.
    pub accounts: Vec<AccountUnits>,
    /// The parts of accounts that could not be reached: no units, an error
    /// covering each.
    pub unreachable: Vec<Part>,
    /// Whether the plan covers less than the whole estate (some regions or
    /// types only).
    pub partial: bool,
}

/// One account's part from its units' outputs (a unit that failed as a
/// whole gives `Err` with why): the assets of every output, each once in id
/// order, and an error
/// covering each failed unit's place as `covers` names it, so that nothing
/// there is taken as deleted.
pub fn assemble(
    account: &AccountUnits,
    outputs: &[(Unit, Result<UnitOutput, String>)],
    covers: impl Fn(&Unit, &str) -> Vec<CollectionError>,
) -> Part {
    let mut assets = Vec::new();
    let mut errors = Vec::new();
    for (unit, output) in outputs {
        match output {
            Ok(output) => {
                assets.extend(output.assets.iter().cloned());
                errors.extend(output.errors.iter().cloned());
            }
            Err(why) => errors.extend(covers(unit, why)),
        }
    }
    assets.sort_by(|a, b| a.id.cmp(&b.id));
    assets.dedup_by(|a, b| a.id == b.id);
    Part {
        scope: account.scope.clone(),
        assets,
        errors,
    }
}
