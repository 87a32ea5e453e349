//! Style checks beyond what loading enforces (`parapet rules lint`): things a
//! rule should have to be useful in a report, which do not stop it running.

use crate::framework::Framework;
use crate::rule::Rule;
use serde::Serialize;

/// One style problem in a loaded rule.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LintWarning {
    /// The rule.
    pub rule_id: String,
    /// Its file.
    pub path: String,
    /// What to improve.
    pub message: String,
}

/// Checks one rule; mappings to one of `frameworks` must name its controls.
pub fn lint(rule: &Rule, frameworks: &[Framework]) -> Vec<LintWarning> {
    let mut messages = Vec::new();
    if rule.title.len() > 100 {
        messages.push("the title is longer than 100 characters".to_owned());
    }
    if rule.title.ends_with('.') {
        messages.push("the title ends with a period".to_owned());
    }
    match &rule.fail_message {
        None => messages.push(
            "no `message.fail`: say what is wrong with the asset, naming it (`{{ resource.name }}`)"
                .to_owned(),
        ),
        Some(m) if m.source.trim() == rule.title.trim() => {
            messages.push("`message.fail` repeats the title: say what is wrong".to_owned());
        }
        Some(_) => {}
    }
    if !rule
        .examples
        .non_compliant
        .iter()
        .any(|e| e.message.is_some())
    {
        messages.push("no non-compliant example states its `message`".to_owned());
    }
    if rule.references.is_empty() {
        messages.push("no references: link the provider's documentation".to_owned());
    }
    for reference in &rule.references {
        if !reference.starts_with("https://") {
            messages.push(format!("reference `{reference}` is not an https:// link"));
        }
    }
    if rule.frameworks.is_empty() {
        messages.push("no framework mappings".to_owned());
    }
    for (framework_id, controls) in &rule.frameworks {
        let Some(framework) = frameworks.iter().find(|f| &f.id == framework_id) else {
            continue;
        };
        for control in controls {
            if framework.control(control).is_none() {
                messages.push(format!("framework {framework_id} has no control {control}"));
            }
        }
    }
    let remediation = &rule.remediation;
    for (part, given) in [
        ("console", remediation.console.is_some()),
        ("cli", remediation.cli.is_some()),
        ("terraform", remediation.terraform.is_some()),
    ] {
        if !given {
            messages.push(format!("remediation gives no `{part}`"));
        }
    }
    let id_prefix = rule.resource_types[0]
        .provider()
        .map(|p| format!("{}-", p.as_str()));
    if let Some(prefix) = id_prefix
        && !rule.id.starts_with(&prefix)
    {
        messages.push(format!("the id should start with `{prefix}`"));
    }
    messages
        .into_iter()
        .map(|message| LintWarning {
            rule_id: rule.id.to_string(),
            path: rule.path.display().to_string(),
            message,
        })
        .collect()
}
