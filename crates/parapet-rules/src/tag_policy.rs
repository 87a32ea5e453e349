//! The tag policy: which tag keys every asset, or the assets of one resource
//! type, must carry. It comes from Parapet's configuration and reaches rules
//! as the `required_tags` variable, the keys required of the asset at hand.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Required tag keys, for every resource type and per type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagPolicy {
    /// Keys every taggable asset must carry.
    #[serde(default)]
    pub required: Vec<String>,
    /// Further keys the assets of one resource type must carry, by type
    /// (`AWS::S3::Bucket: [data-classification]`).
    #[serde(default)]
    pub by_type: BTreeMap<String, Vec<String>>,
}

impl TagPolicy {
    /// The keys required of an asset of `resource_type`: those for every
    /// type, then the type's own, each once.
    pub fn required_for(&self, resource_type: &str) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        let own = self.by_type.get(resource_type).into_iter().flatten();
        for key in self.required.iter().chain(own) {
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_for_all_types_come_first_and_once() {
        let policy: TagPolicy = serde_norway::from_str(
            "required: [owner, env]\nby_type:\n  AWS::S3::Bucket: [data-classification, owner]\n",
        )
        .expect("parses");
        assert_eq!(
            policy.required_for("AWS::S3::Bucket"),
            ["owner", "env", "data-classification"]
        );
        assert_eq!(policy.required_for("AWS::EC2::Volume"), ["owner", "env"]);
        assert!(
            TagPolicy::default()
                .required_for("AWS::EC2::Volume")
                .is_empty()
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let error = serde_norway::from_str::<TagPolicy>("requierd: [owner]\n")
            .expect_err("a misspelt key is an error");
        assert!(error.to_string().contains("requierd"), "{error}");
    }
}
