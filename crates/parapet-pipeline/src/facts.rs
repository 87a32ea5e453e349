//! The facts rules read beside each asset's document, derived from the
//! estate around it: what the internet reaches of it (from the topology of
//! the estate) and the known vulnerabilities of its software (the scans
//! attached to it and to what it runs from, followed through its
//! relationships) and, for a principal, its effective permissions
//! ([`crate::permissions`]).

use chrono::{DateTime, Utc};
use parapet_core::{Asset, Relationship, VulnerabilityFact, VulnerabilityFacts, VulnerabilityScan};
use parapet_rules::Facts;
use std::collections::HashMap;

/// Every fact of `estate` as of `now`, with the vulnerability scans
/// attached to its assets.
pub fn derive(
    estate: &[&Asset],
    scans: &HashMap<String, VulnerabilityScan>,
    now: DateTime<Utc>,
) -> Facts {
    let topology = parapet_graph::Topology::build(estate.iter().copied());
    Facts::at(now)
        .with_exposure(parapet_graph::exposure_facts(&topology))
        .with_vulnerabilities(vulnerabilities(scans, estate))
        .with_permissions(crate::permissions::permissions(estate))
}

/// What rules read as `vulnerabilities`: for each asset, the scan attached
/// to it and those attached to what it runs from: the image it was launched
/// from (`runs_image`), its volumes (`attached_volume`) and the latest
/// scanned snapshot of each volume (`snapshot_of`). An asset no scan covers
/// has no entry.
pub fn vulnerabilities(
    scans: &HashMap<String, VulnerabilityScan>,
    estate: &[&Asset],
) -> VulnerabilityFacts {
    // The latest scanned snapshot of each volume.
    let mut latest: HashMap<&str, (DateTime<Utc>, &str)> = HashMap::new();
    for asset in estate {
        let Some(scan) = scans.get(&asset.id) else {
            continue;
        };
        for volume in related(asset, Relationship::SNAPSHOT_OF) {
            let entry = latest.entry(volume).or_insert((scan.scanned_at, &asset.id));
            if (scan.scanned_at, asset.id.as_str()) > *entry {
                *entry = (scan.scanned_at, &asset.id);
            }
        }
    }
    let mut facts = VulnerabilityFacts::default();
    for asset in estate {
        let mut sources: Vec<&str> = vec![asset.id.as_str()];
        sources.extend(related(asset, Relationship::RUNS_IMAGE));
        for volume in related(asset, Relationship::ATTACHED_VOLUME) {
            sources.push(volume);
            sources.extend(latest.get(volume).map(|(_, snapshot)| *snapshot));
        }
        let mut list: Vec<VulnerabilityFact> = Vec::new();
        let mut covered = false;
        for source in sources {
            let Some(scan) = scans.get(source) else {
                continue;
            };
            covered = true;
            for v in &scan.vulnerabilities {
                let seen = list.iter().any(|e| {
                    e.vulnerability.advisory == v.advisory
                        && e.vulnerability.package == v.package
                        && e.vulnerability.version == v.version
                });
                if !seen {
                    list.push(VulnerabilityFact {
                        vulnerability: v.clone(),
                        source: source.to_owned(),
                    });
                }
            }
        }
        if covered {
            facts.scanned.insert(asset.id.clone(), list);
        }
    }
    facts
}

/// The targets of an asset's relationships of `kind`.
pub(crate) fn related<'a>(asset: &'a Asset, kind: &'a str) -> impl Iterator<Item = &'a str> {
    asset
        .relationships
        .iter()
        .filter(move |r| r.kind == kind)
        .map(|r| r.target.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use parapet_core::Vulnerability;
    use serde_json::json;

    fn asset(id: &str, relationships: serde_json::Value) -> Asset {
        serde_json::from_value(json!({
            "id": id, "provider": "aws", "account": "1", "region": "eu-west-1",
            "resource_type": "AWS::EC2::Instance", "name": id, "config": {},
            "relationships": relationships, "observed_at": "2026-11-29T10:00:00Z",
        }))
        .expect("an asset")
    }

    fn scan(advisory: &str, hours: i64) -> VulnerabilityScan {
        VulnerabilityScan {
            target: "t".to_owned(),
            scanned_at: DateTime::parse_from_rfc3339("2026-11-29T00:00:00Z")
                .expect("time")
                .with_timezone(&Utc)
                + chrono::Duration::hours(hours),
            packages: 1,
            vulnerabilities: vec![Vulnerability {
                advisory: advisory.to_owned(),
                aliases: Vec::new(),
                package: "openssl".to_owned(),
                version: "1".to_owned(),
                ecosystem: "Debian".to_owned(),
                severity: None,
                score: None,
                fixed: None,
            }],
        }
    }

    #[test]
    fn an_asset_inherits_its_image_volumes_and_latest_snapshots() {
        let instance = asset(
            "i-1",
            json!([{"kind": "runs_image", "target": "ami-1"}, {"kind": "attached_volume", "target": "vol-1"}]),
        );
        let old = asset(
            "snap-old",
            json!([{"kind": "snapshot_of", "target": "vol-1"}]),
        );
        let new = asset(
            "snap-new",
            json!([{"kind": "snapshot_of", "target": "vol-1"}]),
        );
        let bare = asset("i-2", json!([]));
        let scans = HashMap::from([
            ("ami-1".to_owned(), scan("DSA-1", 0)),
            ("snap-old".to_owned(), scan("DSA-2", 1)),
            ("snap-new".to_owned(), scan("DSA-3", 2)),
        ]);
        let estate = [&instance, &old, &new, &bare];
        let facts = vulnerabilities(&scans, &estate);
        let found: Vec<(&str, &str)> = facts.scanned["i-1"]
            .iter()
            .map(|f| (f.vulnerability.advisory.as_str(), f.source.as_str()))
            .collect();
        assert_eq!(found, [("DSA-1", "ami-1"), ("DSA-3", "snap-new")]);
        assert!(!facts.scanned.contains_key("i-2"), "no scan covers it");
        assert_eq!(facts.scanned["snap-old"].len(), 1);
    }
}
