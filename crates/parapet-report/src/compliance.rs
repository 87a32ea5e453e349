//! Compliance with a framework, per account: each control passes when every
//! result of the rules mapped to it passes, fails when one fails, and is
//! unknown when a result is undecided or no rule checks it. Manual controls
//! need a person's judgement. The share passing counts decided and
//! undecided controls, never manual ones.

use crate::{Counts, Row};
use parapet_rules::{Control, Framework};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A control's status in one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ControlStatus {
    /// Every result of its rules passes (or no asset is in scope).
    Pass,
    /// A result of its rules fails.
    Fail,
    /// A result is undecided, or no rule checks the control.
    Unknown,
    /// It needs a person's judgement.
    Manual,
}

impl ControlStatus {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            ControlStatus::Pass => "pass",
            ControlStatus::Fail => "fail",
            ControlStatus::Unknown => "unknown",
            ControlStatus::Manual => "manual",
        }
    }
}

/// One control's result in one account.
#[derive(Debug, Clone, Serialize)]
pub struct ControlResult<'a> {
    /// The control.
    pub control: &'a Control,
    /// Its status.
    pub status: ControlStatus,
    /// The rules that check it.
    pub rules: Vec<&'a str>,
    /// Their results in the account.
    pub results: Counts,
}

/// A framework's controls in one account.
#[derive(Debug, Clone, Serialize)]
pub struct AccountCompliance<'a> {
    /// The account.
    pub account: String,
    /// Every control, in the framework's order.
    pub controls: Vec<ControlResult<'a>>,
    /// Controls by status.
    pub counts: BTreeMap<&'static str, usize>,
    /// The share of controls that pass, of those that are not manual, in
    /// percent.
    pub passing_percent: f64,
}

/// The rules mapped to each control of `framework`, by control id.
pub fn rules_by_control<'a>(
    framework: &Framework,
    rules: impl IntoIterator<Item = &'a parapet_rules::Rule>,
) -> BTreeMap<String, Vec<&'a str>> {
    let mut map: BTreeMap<String, Vec<&'a str>> = BTreeMap::new();
    for rule in rules {
        for control in rule.frameworks.get(&framework.id).into_iter().flatten() {
            map.entry(control.clone()).or_default().push(&rule.id);
        }
    }
    map
}

/// How much of a framework the rules check.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage<'a> {
    /// The framework's id.
    pub id: &'a str,
    /// Its name.
    pub name: &'a str,
    /// Its version.
    pub version: &'a str,
    /// How many controls it has.
    pub controls: usize,
    /// The automated controls at least one rule checks.
    pub covered: Vec<&'a str>,
    /// The controls that need a person's judgement, for which a rule's
    /// result stands as evidence beside the manual status.
    pub evidence: Vec<&'a str>,
    /// The controls that need a person's judgement and no rule informs.
    pub manual: Vec<&'a str>,
    /// The automated controls no rule checks yet.
    pub not_covered: Vec<&'a str>,
}

/// Which controls of `framework` the `rules` check.
pub fn coverage<'a>(framework: &'a Framework, rules: &[parapet_rules::Rule]) -> Coverage<'a> {
    let mapped = rules_by_control(framework, rules);
    let mut coverage = Coverage {
        id: &framework.id,
        name: &framework.name,
        version: &framework.version,
        controls: framework.controls.len(),
        covered: Vec::new(),
        evidence: Vec::new(),
        manual: Vec::new(),
        not_covered: Vec::new(),
    };
    for control in &framework.controls {
        let list = if control.manual && mapped.contains_key(&control.id) {
            &mut coverage.evidence
        } else if control.manual {
            &mut coverage.manual
        } else if mapped.contains_key(&control.id) {
            &mut coverage.covered
        } else {
            &mut coverage.not_covered
        };
        list.push(&control.id);
    }
    coverage
}

/// Each account's compliance with `framework`, from the results in `rows`;
/// `rules` are every rule loaded (a rule without results still checks its
/// controls), and `accounts` the accounts to report besides those in rows.
pub fn evaluate<'a>(
    framework: &'a Framework,
    rules: &'a [parapet_rules::Rule],
    rows: &[Row<'_>],
    accounts: &[String],
) -> Vec<AccountCompliance<'a>> {
    let mut results: BTreeMap<(String, String), Counts> = BTreeMap::new();
    for row in rows {
        results
            .entry((row.asset.account.clone(), row.rule.id.to_string()))
            .or_default()
            .add(row.status());
    }
    evaluate_counts(framework, rules, &results, accounts)
}

/// Each account's compliance with `framework`, from the results of each
/// rule in each account counted by status (keyed by account and rule id).
pub fn evaluate_counts<'a>(
    framework: &'a Framework,
    rules: &'a [parapet_rules::Rule],
    results: &BTreeMap<(String, String), Counts>,
    accounts: &[String],
) -> Vec<AccountCompliance<'a>> {
    let mapped = rules_by_control(framework, rules);
    let mut accounts: BTreeSet<String> = accounts.iter().cloned().collect();
    accounts.extend(results.keys().map(|(account, _)| account.clone()));
    accounts
        .into_iter()
        .map(|account| {
            let controls: Vec<ControlResult<'a>> = framework
                .controls
                .iter()
                .map(|control| {
                    let rules = mapped.get(&control.id).cloned().unwrap_or_default();
                    let mut counts = Counts::default();
                    for rule in &rules {
                        if let Some(c) = results.get(&(account.clone(), (*rule).to_owned())) {
                            counts.fail += c.fail;
                            counts.unknown += c.unknown;
                            counts.error += c.error;
                            counts.pass += c.pass;
                        }
                    }
                    let status = if control.manual {
                        ControlStatus::Manual
                    } else if rules.is_empty() {
                        ControlStatus::Unknown
                    } else if counts.fail > 0 {
                        ControlStatus::Fail
                    } else if counts.unknown + counts.error > 0 {
                        ControlStatus::Unknown
                    } else {
                        ControlStatus::Pass
                    };
                    ControlResult {
                        control,
                        status,
                        rules,
                        results: counts,
                    }
                })
                .collect();
            let mut counts: BTreeMap<&'static str, usize> = [
                ControlStatus::Pass,
                ControlStatus::Fail,
                ControlStatus::Unknown,
                ControlStatus::Manual,
            ]
            .iter()
            .map(|s| (s.as_str(), 0))
            .collect();
            for c in &controls {
                *counts.entry(c.status.as_str()).or_default() += 1;
            }
            let decided = counts["pass"] + counts["fail"] + counts["unknown"];
            let passing_percent = if decided == 0 {
                0.0
            } else {
                (counts["pass"] as f64) * 100.0 / decided as f64
            };
            AccountCompliance {
                account,
                controls,
                counts,
                passing_percent,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn controls_take_the_worst_result_of_their_rules_per_account() {
        let report = fixture::report();
        let cis = report
            .frameworks
            .iter()
            .find(|f| f.id == "cis-aws-foundations-7.0")
            .expect("CIS");
        let accounts = evaluate(cis, &fixture::RULE_LIST, &report.rows, &[]);
        assert_eq!(accounts.len(), 2);
        let status = |a: &AccountCompliance, id: &str| {
            a.controls
                .iter()
                .find(|c| c.control.id == id)
                .map(|c| c.status)
        };
        // 3.1.1 is checked by the demo rule: it passes on 111…'s bucket and
        // fails on 222…'s.
        assert_eq!(status(&accounts[0], "3.1.1"), Some(ControlStatus::Pass));
        assert_eq!(status(&accounts[1], "3.1.1"), Some(ControlStatus::Fail));
        assert_eq!(status(&accounts[0], "2.2"), Some(ControlStatus::Manual));
        assert_eq!(
            status(&accounts[0], "2.4"),
            Some(ControlStatus::Unknown),
            "no rule"
        );
        let a = &accounts[0];
        let decided = a.counts["pass"] + a.counts["fail"] + a.counts["unknown"];
        assert!((a.passing_percent - 100.0 / decided as f64).abs() < 1e-9);

        let coverage = coverage(cis, &fixture::RULE_LIST);
        assert_eq!(coverage.covered, ["3.1.1"]);
        assert!(coverage.manual.contains(&"2.2"));
        assert_eq!(
            coverage.covered.len()
                + coverage.evidence.len()
                + coverage.manual.len()
                + coverage.not_covered.len(),
            cis.controls.len()
        );
    }
}
