//! OSV advisories (<https://ossf.github.io/osv-schema/>): the part of a record
//! that matching and reports use, whether a version is affected (ranges of
//! `introduced`, `fixed`, `last_affected` and `limit` events, and explicit
//! versions), and the severity (CVSS v3 and v4 vectors, or an ecosystem's
//! own rating).

use crate::ecosystem::Ecosystem;
use parapet_core::Severity;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::str::FromStr;

/// One advisory, as an OSV record gives it (the fields Parapet keeps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// `GHSA-...`, `GO-2024-...`, `PYSEC-...`, `DSA-...`.
    pub id: String,
    /// When it last changed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    /// When it was withdrawn: it then affects nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    /// Other ids of the same vulnerability (`CVE-...`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// One line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Severity vectors or ratings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityEntry>,
    /// What it affects.
    #[serde(default)]
    pub affected: Vec<Affected>,
    /// Links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    /// The database's own fields (GitHub's `severity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// A severity as OSV gives it: a CVSS vector or an ecosystem's rating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeverityEntry {
    /// `CVSS_V3`, `CVSS_V4`, `CVSS_V2`, `Ubuntu`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The vector, or the rating.
    pub score: String,
}

/// A link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// `ADVISORY`, `FIX`, `WEB`...
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The address.
    pub url: String,
}

/// The versions of one package an advisory affects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    /// The package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<PackageRef>,
    /// Its own severity, if it differs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityEntry>,
    /// Ranges of affected versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    /// Affected versions, listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// The ecosystem's own fields (Debian's `urgency`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<serde_json::Value>,
    /// The database's own fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// A package an advisory names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageRef {
    /// `Debian:12`, `PyPI`, `Go`.
    pub ecosystem: String,
    /// Its name there.
    pub name: String,
    /// Its package URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// A range of versions, as events along the ecosystem's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Range {
    /// `SEMVER`, `ECOSYSTEM` or `GIT` (commits, which packages do not have).
    #[serde(rename = "type")]
    pub kind: String,
    /// The events.
    #[serde(default)]
    pub events: Vec<Event>,
}

/// One event of a range; exactly one field is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Affected from this version on (`0`: from the start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    /// Not affected from this version on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// The last affected version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    /// Nothing at or above this version is in the range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

impl Event {
    /// The version the event is at.
    fn version(&self) -> Option<&str> {
        self.introduced
            .as_deref()
            .or(self.fixed.as_deref())
            .or(self.last_affected.as_deref())
            .or(self.limit.as_deref())
    }
}

/// Whether a version is affected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It is, and this version fixes it (none known when `None`).
    Affected {
        /// The first fixed version above it.
        fixed: Option<String>,
    },
    /// It is not.
    NotAffected,
    /// It cannot be told: the version or a range is not one the
    /// ecosystem reads.
    Unknown(String),
}

impl Affected {
    /// Whether `version` of the package is affected, in `ecosystem`'s order.
    pub fn verdict(&self, ecosystem: Ecosystem, version: &str) -> Verdict {
        let mut unreadable: Option<String> = None;
        let mut fixed_after: Option<String> = None;
        let mut affected = false;
        for range in &self.ranges {
            let order = match range.kind.as_str() {
                "SEMVER" => RangeOrder::Semver(ecosystem),
                "ECOSYSTEM" => RangeOrder::Ecosystem(ecosystem),
                _ => continue,
            };
            match range_verdict(range, order, version) {
                Ok(Some(fix)) => {
                    affected = true;
                    // The lowest fix above the version over every range.
                    fixed_after = match (fixed_after, fix) {
                        (Some(a), Some(b)) => {
                            Some(if order.compare(&a, &b) == Some(Ordering::Greater) {
                                b
                            } else {
                                a
                            })
                        }
                        (a, b) => a.or(b),
                    };
                }
                Ok(None) => {}
                Err(reason) => unreadable = Some(reason),
            }
        }
        if !affected
            && self
                .versions
                .iter()
                .any(|v| v == version || ecosystem.compare(v, version) == Some(Ordering::Equal))
        {
            affected = true;
        }
        if affected {
            Verdict::Affected { fixed: fixed_after }
        } else if let Some(reason) = unreadable {
            Verdict::Unknown(reason)
        } else {
            Verdict::NotAffected
        }
    }

    /// The severity of this package's entry: its own, else the advisory's.
    pub fn rating(&self, advisory: &Advisory) -> Option<Rating> {
        rate(&self.severity)
            .or_else(|| rate(&advisory.severity))
            .or_else(|| {
                // GitHub's advisories: `database_specific.severity`.
                let text = advisory.database_specific.as_ref()?["severity"].as_str()?;
                Some(Rating {
                    severity: word_severity(text)?,
                    score: None,
                    vector: None,
                })
            })
            .or_else(|| {
                // Debian's `urgency`.
                let text = self.ecosystem_specific.as_ref()?["urgency"].as_str()?;
                Some(Rating {
                    severity: word_severity(text)?,
                    score: None,
                    vector: None,
                })
            })
    }
}

/// How a range's versions are ordered.
#[derive(Debug, Clone, Copy)]
enum RangeOrder {
    /// `SEMVER`: semantic versions (Go's with its `v` forms).
    Semver(Ecosystem),
    /// `ECOSYSTEM`: the ecosystem's own.
    Ecosystem(Ecosystem),
}

impl RangeOrder {
    fn compare(self, a: &str, b: &str) -> Option<Ordering> {
        match self {
            RangeOrder::Semver(Ecosystem::Go) => Ecosystem::Go.compare(a, b),
            RangeOrder::Semver(_) => Ecosystem::CratesIo.compare(a, b),
            RangeOrder::Ecosystem(e) => e.compare(a, b),
        }
    }
}

/// Whether `version` is in `range`: `Ok(Some(fix))` when it is (with the
/// first fixed version above it, if any), `Ok(None)` when not.
fn range_verdict(
    range: &Range,
    order: RangeOrder,
    version: &str,
) -> Result<Option<Option<String>>, String> {
    let cmp = |a: &str, b: &str| {
        order
            .compare(a, b)
            .ok_or_else(|| format!("cannot compare versions `{a}` and `{b}`"))
    };
    // `introduced: 0` is before everything.
    let at_or_after = |event: &str| -> Result<bool, String> {
        if event == "0" {
            return Ok(true);
        }
        Ok(cmp(version, event)? != Ordering::Less)
    };
    let mut events: Vec<&Event> = range.events.iter().collect();
    let mut unsortable = None;
    events.sort_by(|a, b| match (a.version(), b.version()) {
        (Some("0"), Some("0")) => Ordering::Equal,
        (Some("0"), _) => Ordering::Less,
        (_, Some("0")) => Ordering::Greater,
        (Some(x), Some(y)) => order.compare(x, y).unwrap_or_else(|| {
            unsortable = Some(format!("cannot compare versions `{x}` and `{y}`"));
            Ordering::Equal
        }),
        _ => Ordering::Equal,
    });
    if let Some(reason) = unsortable {
        return Err(reason);
    }
    for event in &events {
        if let Some(limit) = &event.limit
            && limit != "*"
            && at_or_after(limit)?
        {
            return Ok(None);
        }
    }
    let mut affected = false;
    for event in &events {
        if let Some(introduced) = &event.introduced {
            if at_or_after(introduced)? {
                affected = true;
            }
        } else if let Some(fixed) = &event.fixed {
            if at_or_after(fixed)? {
                affected = false;
            }
        } else if let Some(last) = &event.last_affected
            && cmp(version, last)? == Ordering::Greater
        {
            affected = false;
        }
    }
    if !affected {
        return Ok(None);
    }
    let mut fix = None;
    for event in &events {
        if let Some(fixed) = &event.fixed
            && cmp(fixed, version)? == Ordering::Greater
        {
            fix = Some(fixed.clone());
            break;
        }
    }
    Ok(Some(fix))
}

/// A severity with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    /// Critical, high, medium, low (informational for CVSS's none).
    pub severity: Severity,
    /// The CVSS base score, when a vector gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The CVSS vector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<String>,
}

/// The best rating among `entries`: a CVSS v4 vector, else v3, else an
/// ecosystem's word.
fn rate(entries: &[SeverityEntry]) -> Option<Rating> {
    let vectors = ["CVSS_V4", "CVSS_V3"]
        .into_iter()
        .flat_map(|kind| entries.iter().filter(move |e| e.kind == kind));
    for entry in vectors {
        if let Ok(cvss) = cvss::Cvss::from_str(entry.score.trim()) {
            let score = cvss.score();
            return Some(Rating {
                severity: score_severity(score),
                score: Some(score),
                vector: Some(entry.score.trim().to_owned()),
            });
        }
    }
    entries.iter().find_map(|e| {
        Some(Rating {
            severity: word_severity(&e.score)?,
            score: None,
            vector: None,
        })
    })
}

/// CVSS's rating of a score (v3 and v4 share it): 9.0 and up critical, 7.0
/// high, 4.0 medium, above 0 low, 0 none.
pub fn score_severity(score: f64) -> Severity {
    if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Informational
    }
}

/// A rating word: GitHub's (`MODERATE`), Debian's urgency (`low`,
/// `medium`, `high`; `unimportant`), Ubuntu's priority (`negligible`).
fn word_severity(text: &str) -> Option<Severity> {
    match text.trim().to_ascii_lowercase().as_str() {
        "critical" => Some(Severity::Critical),
        "high" | "important" => Some(Severity::High),
        "medium" | "moderate" => Some(Severity::Medium),
        "low" => Some(Severity::Low),
        "negligible" | "unimportant" | "none" => Some(Severity::Informational),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn affected(json: serde_json::Value) -> Affected {
        serde_json::from_value(json).expect("an affected entry")
    }

    fn fixed(v: &str) -> Verdict {
        Verdict::Affected {
            fixed: Some(v.to_owned()),
        }
    }

    #[test]
    fn introduced_fixed_and_last_affected_bound_a_range() {
        let entry = affected(
            serde_json::json!({"ranges": [{"type": "ECOSYSTEM", "events": [
                {"introduced": "0"}, {"fixed": "1.2.0"}, {"introduced": "2.0.0"}, {"last_affected": "2.1.0"}
            ]}]}),
        );
        let e = Ecosystem::PyPI;
        assert_eq!(entry.verdict(e, "1.0"), fixed("1.2.0"));
        assert_eq!(entry.verdict(e, "1.2.0"), Verdict::NotAffected);
        assert_eq!(entry.verdict(e, "1.5"), Verdict::NotAffected);
        assert_eq!(
            entry.verdict(e, "2.1.0"),
            Verdict::Affected { fixed: None },
            "the last affected version"
        );
        assert_eq!(entry.verdict(e, "2.1.1"), Verdict::NotAffected);
        assert_eq!(
            entry.verdict(e, "1.2.0rc1"),
            fixed("1.2.0"),
            "a pre-release of the fix"
        );
    }

    #[test]
    fn events_out_of_order_are_sorted_and_a_limit_caps_the_range() {
        let entry = affected(serde_json::json!({"ranges": [{"type": "SEMVER", "events": [
            {"fixed": "1.4.2"}, {"introduced": "1.0.0"}, {"limit": "1.3.0"}
        ]}]}));
        let e = Ecosystem::CratesIo;
        assert_eq!(entry.verdict(e, "0.9.0"), Verdict::NotAffected);
        assert_eq!(entry.verdict(e, "1.1.0"), fixed("1.4.2"));
        assert_eq!(
            entry.verdict(e, "1.3.5"),
            Verdict::NotAffected,
            "at or above the limit"
        );
    }

    #[test]
    fn explicit_versions_count_and_unreadable_versions_are_unknown() {
        let entry = affected(serde_json::json!({"versions": ["1.0", "1.1"],
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1"}]}]}));
        assert_eq!(
            entry.verdict(Ecosystem::PyPI, "1.1.0"),
            Verdict::Affected { fixed: None },
            "listed, equal in PEP 440's order"
        );
        assert!(matches!(
            entry.verdict(Ecosystem::PyPI, "not!a!version"),
            Verdict::Unknown(_)
        ));
    }

    #[test]
    fn dpkg_ranges_use_epochs_and_tildes() {
        let entry = affected(
            serde_json::json!({"ranges": [{"type": "ECOSYSTEM", "events": [
                {"introduced": "0"}, {"fixed": "1:2.36-9+deb12u4"}
            ]}]}),
        );
        let e = Ecosystem::Debian;
        assert_eq!(
            entry.verdict(e, "2.36-9+deb12u10"),
            fixed("1:2.36-9+deb12u4"),
            "no epoch sorts below one"
        );
        assert_eq!(
            entry.verdict(e, "1:2.36-9+deb12u4~bpo1"),
            fixed("1:2.36-9+deb12u4")
        );
        assert_eq!(entry.verdict(e, "1:2.36-9+deb12u4"), Verdict::NotAffected);
    }

    #[test]
    fn go_semver_ranges_take_pseudo_versions() {
        let entry = affected(serde_json::json!({"ranges": [{"type": "SEMVER", "events": [
            {"introduced": "0"}, {"fixed": "0.17.0"}
        ]}]}));
        assert_eq!(
            entry.verdict(Ecosystem::Go, "v0.0.0-20220722155237-a158d28d115b"),
            fixed("0.17.0")
        );
        assert_eq!(
            entry.verdict(Ecosystem::Go, "v0.17.0"),
            Verdict::NotAffected
        );
    }

    #[test]
    fn severity_comes_from_cvss_vectors_or_words() {
        let advisory: Advisory = serde_json::from_value(serde_json::json!({
            "id": "X-1",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected": [{"package": {"ecosystem": "PyPI", "name": "x"}},
                         {"package": {"ecosystem": "PyPI", "name": "y"},
                          "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N"}]}]
        }))
        .expect("a record");
        let x = advisory.affected[0].rating(&advisory).expect("rated");
        assert_eq!((x.severity, x.score), (Severity::Critical, Some(9.8)));
        let y = advisory.affected[1].rating(&advisory).expect("rated");
        assert_eq!((y.severity, y.score), (Severity::Medium, Some(6.9)));

        let github: Advisory = serde_json::from_value(serde_json::json!({
            "id": "GHSA-1", "database_specific": {"severity": "MODERATE"},
            "affected": [{"package": {"ecosystem": "npm", "name": "x"}}]
        }))
        .expect("a record");
        let rating = github.affected[0].rating(&github).expect("rated");
        assert_eq!((rating.severity, rating.score), (Severity::Medium, None));
        let debian = affected(serde_json::json!({"ecosystem_specific": {"urgency": "high"}}));
        let bare: Advisory =
            serde_json::from_value(serde_json::json!({"id": "DSA-1"})).expect("a record");
        assert_eq!(
            debian.rating(&bare).map(|r| r.severity),
            Some(Severity::High)
        );
        assert_eq!(affected(serde_json::json!({})).rating(&bare), None);
    }
}
