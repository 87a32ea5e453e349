//! The rule pack as a whole: its digest, recorded with each scan so that
//! stored results say which rules produced them.

use crate::rule::Rule;
use sha2::{Digest, Sha256};

/// A digest of `rules`: of each rule's id, metadata, conditions and
/// examples (not where its file lies), in id order. Two packs with the same
/// digest evaluate alike.
pub fn digest(rules: &[Rule]) -> String {
    let mut views: Vec<(&str, String)> = rules.iter().map(|r| (&*r.id, text(r))).collect();
    views.sort_by(|a, b| a.0.cmp(b.0));
    let mut hash = Sha256::new();
    for (_, view) in views {
        hash.update(view.as_bytes());
        hash.update([0]);
    }
    format!("sha256:{}", hex::encode(&hash.finalize()[..16]))
}

/// What the digests read of one rule: its id, metadata, conditions and
/// examples, not where its file lies.
pub(crate) fn text(rule: &Rule) -> String {
    let mut view = serde_json::to_value(rule.view(true)).unwrap_or_default();
    if let Some(fields) = view.as_object_mut() {
        fields.remove("path");
    }
    view.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RuleSources, load};

    #[test]
    fn the_digest_follows_the_rules_not_their_files() {
        let report = load(&RuleSources {
            builtin: true,
            folders: Vec::new(),
        });
        let mut rules = report.rules;
        let first = digest(&rules);
        assert!(first.starts_with("sha256:"));
        rules.reverse();
        rules[0].path = "elsewhere.yaml".into();
        assert_eq!(digest(&rules), first, "order and place do not count");
        rules[0].severity = match rules[0].severity {
            parapet_core::Severity::Low => parapet_core::Severity::High,
            _ => parapet_core::Severity::Low,
        };
        assert_ne!(digest(&rules), first, "a changed rule changes it");
    }
}
