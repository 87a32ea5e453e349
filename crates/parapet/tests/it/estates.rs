//! What the posture tests of the clouds with a fake share: the results of
//! a scan by rule, a provider's built-in rules, and the two checks of a
//! rule pack against a compliant and a non-compliant estate.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// The statuses of a scan's JSON Lines results, by rule id: `pass`, or
/// the status with the message.
pub fn by_rule(jsonl: &[u8]) -> BTreeMap<String, BTreeSet<String>> {
    let mut by_rule: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(jsonl).lines() {
        let result: Value = serde_json::from_str(line).expect("a JSON line");
        let rule = result["rule_id"].as_str().expect("a rule").to_owned();
        let status = result["status"].as_str().expect("a status");
        let entry = by_rule.entry(rule).or_default();
        match status {
            "pass" => entry.insert(status.to_owned()),
            _ => entry.insert(format!("{status}: {}", result["message"])),
        };
    }
    by_rule
}

/// The ids of the built-in rules starting with `prefix` (`azure-`, `gcp-`).
pub fn rules(prefix: &str) -> BTreeSet<String> {
    let output = Command::new(env!("CARGO_BIN_EXE_parapet"))
        .args(["rules", "list", "--format", "json"])
        .output()
        .expect("parapet runs");
    let rules: Vec<Value> = serde_json::from_slice(&output.stdout).expect("rules as JSON");
    rules
        .iter()
        .filter_map(|r| r["id"].as_str())
        .filter(|id| id.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

/// Every rule of `rules` passes in `results`, but those of `absent`,
/// which have no result.
pub fn all_pass(
    results: &BTreeMap<String, BTreeSet<String>>,
    rules: &BTreeSet<String>,
    absent: &[(&str, &str)],
) {
    let absent: BTreeSet<&str> = absent.iter().map(|(id, _)| *id).collect();
    let mut wrong = Vec::new();
    for rule in rules {
        match results.get(rule) {
            None if absent.contains(rule.as_str()) => {}
            None => wrong.push(format!("{rule}: no result")),
            Some(_) if absent.contains(rule.as_str()) => {
                wrong.push(format!("{rule}: a result, though listed as having none"));
            }
            Some(statuses) if statuses.iter().all(|s| s == "pass") => {}
            Some(statuses) => wrong.push(format!("{rule}: {statuses:?}")),
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Every rule of `rules` fails at least once in `results`.
pub fn all_fail(results: &BTreeMap<String, BTreeSet<String>>, rules: BTreeSet<String>) {
    let wrong: Vec<String> = rules
        .into_iter()
        .filter(|rule| {
            !results
                .get(rule)
                .is_some_and(|statuses| statuses.iter().any(|s| s.starts_with("fail")))
        })
        .map(|rule| format!("{rule}: {:?}", results.get(&rule)))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}
