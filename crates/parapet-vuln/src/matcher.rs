//! Matching an inventory against the advisory database: each package is
//! looked up by its ecosystem and the name advisories use (the source
//! package for operating systems), advisories of another release of the
//! operating system are left out, and each remaining entry decides whether
//! the version is affected and which version fixes it.

use crate::db::AdvisoryDb;
use crate::ecosystem::Ecosystem;
use crate::error::VulnError;
use crate::osv::{Advisory, Rating, Verdict};
use crate::package::{Inventory, Package};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A package affected by an advisory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Match {
    /// The package.
    pub package: Package,
    /// The advisory's id.
    pub advisory: String,
    /// Its other ids (`CVE-...`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Its summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Its severity; none when the advisory gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
    /// The first version that fixes it; none when no fix is known.
    pub fixed: Option<String>,
    /// A link to the advisory.
    pub url: String,
}

impl Match {
    /// The CVE id among the advisory's ids, if any.
    pub fn cve(&self) -> Option<&str> {
        std::iter::once(self.advisory.as_str())
            .chain(self.aliases.iter().map(String::as_str))
            .find(|id| id.starts_with("CVE-"))
    }
}

/// An advisory that could not be decided for a package (a version the
/// ecosystem's order cannot read): reported, never taken as "not affected".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Undecided {
    /// The package.
    pub package: Package,
    /// The advisory's id.
    pub advisory: String,
    /// Why.
    pub reason: String,
}

/// The vulnerabilities of one inventory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// What was scanned.
    pub inventory: Inventory,
    /// Each affected package and advisory, most severe first.
    pub matches: Vec<Match>,
    /// What could not be decided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub undecided: Vec<Undecided>,
}

/// Matches every package of `inventory` against `db`.
pub fn scan(db: &AdvisoryDb, inventory: Inventory) -> Result<Report, VulnError> {
    let os_release = inventory.os.as_ref().and_then(|o| o.ecosystem());
    let mut cache: HashMap<(Ecosystem, String), Vec<Advisory>> = HashMap::new();
    let mut matches = Vec::new();
    let mut undecided = Vec::new();
    for package in &inventory.packages {
        let ecosystem = package.ecosystem;
        let name = ecosystem.normalise_name(package.advisory_name());
        let release = os_release
            .as_ref()
            .filter(|(e, _)| *e == ecosystem)
            .map(|(_, r)| r.as_str());
        let key = (ecosystem, name);
        if !cache.contains_key(&key) {
            let found = db.advisories_for(ecosystem, &key.1)?;
            cache.insert(key.clone(), found);
        }
        for advisory in &cache[&key] {
            match decide(advisory, package, &key.1, release) {
                Some(Decision::Affected(fixed, rating)) => matches.push(Match {
                    package: package.clone(),
                    advisory: advisory.id.clone(),
                    aliases: advisory.aliases.clone(),
                    summary: advisory.summary.clone(),
                    rating,
                    fixed,
                    url: format!("https://osv.dev/vulnerability/{}", advisory.id),
                }),
                Some(Decision::Unknown(reason)) => undecided.push(Undecided {
                    package: package.clone(),
                    advisory: advisory.id.clone(),
                    reason,
                }),
                None => {}
            }
        }
    }
    // Most severe first (Severity orders critical highest), unrated last.
    matches.sort_by(|a, b| {
        let severity = |m: &Match| std::cmp::Reverse(m.rating.as_ref().map(|r| r.severity));
        (severity(a), &a.package, &a.advisory).cmp(&(severity(b), &b.package, &b.advisory))
    });
    Ok(Report {
        inventory,
        matches,
        undecided,
    })
}

enum Decision {
    Affected(Option<String>, Option<Rating>),
    Unknown(String),
}

/// Whether `advisory` affects `package`: the entries for its name, in its
/// ecosystem and operating system release.
fn decide(
    advisory: &Advisory,
    package: &Package,
    name: &str,
    release: Option<&str>,
) -> Option<Decision> {
    let mut unknown = None;
    for entry in &advisory.affected {
        let Some(named) = &entry.package else {
            continue;
        };
        let Some((ecosystem, entry_release)) = Ecosystem::from_osv(&named.ecosystem) else {
            continue;
        };
        if ecosystem != package.ecosystem || ecosystem.normalise_name(&named.name) != name {
            continue;
        }
        let same_release = match (entry_release, release) {
            (None, _) => true,
            (Some(theirs), Some(ours)) => {
                theirs == ours
                    || theirs
                        .strip_prefix(ours)
                        .is_some_and(|rest| rest.starts_with(':'))
            }
            (Some(_), None) => false,
        };
        if !same_release {
            continue;
        }
        match entry.verdict(ecosystem, package.advisory_version()) {
            Verdict::Affected { fixed } => {
                return Some(Decision::Affected(fixed, entry.rating(advisory)));
            }
            Verdict::Unknown(reason) => unknown = Some(reason),
            Verdict::NotAffected => {}
        }
    }
    unknown.map(Decision::Unknown)
}
