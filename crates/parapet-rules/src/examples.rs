//! Running each rule's examples (`parapet rules test`): every compliant
//! example must pass, every non-compliant one fail, every unknown one be
//! unknown, each with the message it states.

use crate::engine::Engine;
use crate::rule::{Example, Rule};
use chrono::Utc;
use parapet_core::{Asset, Provider, ResourceType, Status};
use serde::Serialize;

/// The result of one example.
#[derive(Debug, Clone, Serialize)]
pub struct ExampleOutcome {
    /// The rule.
    pub rule_id: String,
    /// The example's description.
    pub example: String,
    /// The status the example must produce.
    pub expected: Status,
    /// The status it produced, or `None` when the rule's `applies` filter
    /// excluded it.
    pub actual: Option<Status>,
    /// The evaluation's message.
    pub message: String,
    /// The message the example states, if it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_message: Option<String>,
    /// The example asset's name, which its messages should name.
    pub asset_name: String,
}

impl ExampleOutcome {
    /// Whether the example produced the status, and the message, it must.
    pub fn passed(&self) -> bool {
        self.actual == Some(self.expected)
            && self
                .expected_message
                .as_ref()
                .is_none_or(|m| *m == self.message)
    }
}

/// The name of an example asset that does not give one.
pub const EXAMPLE_NAME: &str = "example";

/// The asset an example stands for.
pub fn example_asset(rule: &Rule, index: usize, example: &Example) -> Asset {
    let resource_type = example
        .resource_type
        .as_ref()
        .and_then(|t| ResourceType::new(t.clone()).ok())
        .unwrap_or_else(|| rule.resource_types[0].clone());
    // A type of no provider's naming is a user's own: placed as AWS's.
    let provider = resource_type.provider().unwrap_or(Provider::Aws);
    Asset {
        id: format!("example:{}:{index}", rule.id),
        provider,
        account: example
            .account
            .clone()
            .unwrap_or_else(|| provider.example_account().to_owned()),
        region: example
            .region
            .clone()
            .unwrap_or_else(|| provider.example_region().to_owned()),
        name: example
            .name
            .clone()
            .unwrap_or_else(|| EXAMPLE_NAME.to_owned()),
        resource_type,
        tags: example.tags.clone(),
        config: example.config.clone(),
        relationships: Vec::new(),
        unknown: example.unknown.clone(),
        observed_at: Utc::now(),
    }
}

/// Runs every example of every rule of `engine`.
pub fn run_examples(engine: &Engine) -> Vec<ExampleOutcome> {
    let facts = crate::Facts::at(chrono::Utc::now());
    let mut outcomes = Vec::new();
    for rule in engine.rules() {
        let groups = [
            (Status::Pass, &rule.examples.compliant),
            (Status::Fail, &rule.examples.non_compliant),
            (Status::Unknown, &rule.examples.unknown),
        ];
        let mut index = 0;
        for (expected, examples) in groups {
            for example in examples {
                let asset = example_asset(rule, index, example);
                index += 1;
                let evaluation = engine.evaluate_rule(
                    &facts,
                    rule,
                    &asset,
                    crate::ExampleFacts {
                        now: example.now,
                        required_tags: example.required_tags.as_deref(),
                        exposure: example.exposure.as_deref(),
                        vulnerabilities: example.vulnerabilities.as_deref(),
                        permissions: example.permissions.as_ref(),
                    },
                );
                outcomes.push(ExampleOutcome {
                    rule_id: rule.id.to_string(),
                    example: example.description.clone(),
                    expected,
                    actual: evaluation.as_ref().map(|e| e.status),
                    message: evaluation
                        .map(|e| e.message.to_string())
                        .unwrap_or_else(|| "excluded by `applies`".to_owned()),
                    expected_message: example.message.clone(),
                    asset_name: asset.name,
                });
            }
        }
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(resource_type: &str) -> Rule {
        let yaml = format!(
            "id: x-example\ntitle: An example\ndescription: d\nseverity: low\nresource_types: [{resource_type}]\n\
             compliant: 'true'\nremediation: {{text: t}}\nexamples: {{compliant: [{{description: a, config: {{}}}}], non_compliant: [{{description: b, config: {{}}}}]}}\n"
        );
        Rule::parse(std::path::Path::new("x.yaml"), &yaml).expect("a rule")
    }

    #[test]
    fn examples_are_placed_where_their_provider_places_them_unless_they_say() {
        let azure = rule("Microsoft.Storage/storageAccounts");
        let mut example = azure.examples.compliant[0].clone();
        let asset = example_asset(&azure, 0, &example);
        assert_eq!(asset.provider, Provider::Azure);
        assert_eq!(asset.account, "00000000-0000-0000-0000-000000000000");
        assert_eq!(asset.region, "westeurope");
        example.account = Some("111122223333".to_owned());
        example.region = Some("eu-west-1".to_owned());
        let aws = rule("AWS::S3::Bucket");
        let asset = example_asset(&aws, 0, &example);
        assert_eq!(asset.provider, Provider::Aws);
        assert_eq!(
            (asset.account.as_str(), asset.region.as_str()),
            ("111122223333", "eu-west-1")
        );
    }
}
