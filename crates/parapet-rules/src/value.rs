//! Conversion of assets and JSON into CEL values, done once per asset.

use cel_interpreter::Value;
use cel_interpreter::objects::{Key, Map};
use parapet_core::Asset;
use std::collections::HashMap;
use std::sync::Arc;

/// Converts a JSON value into a CEL value. Integers that fit `i64` become
/// `int`, other numbers `double`.
pub fn from_json(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => match n.as_u64() {
                Some(u) => Value::UInt(u),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
        },
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(items) => {
            Value::List(Arc::new(items.iter().map(from_json).collect()))
        }
        serde_json::Value::Object(fields) => {
            let map: HashMap<Key, Value> = fields
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), from_json(v)))
                .collect();
            Value::Map(Map { map: Arc::new(map) })
        }
    }
}

fn string(s: &str) -> Value {
    Value::String(Arc::new(s.to_owned()))
}

fn entry(name: &str, value: Value) -> (Key, Value) {
    (Key::String(Arc::new(name.to_owned())), value)
}

/// An asset converted to CEL values once, ready to be evaluated against every
/// rule of its resource type.
#[derive(Debug, Clone)]
pub struct PreparedAsset<'a> {
    /// The asset itself.
    pub asset: &'a Asset,
    /// The asset's id, shared by its evaluations.
    pub id: Arc<str>,
    /// The `resource` variable: the whole asset.
    pub resource: Value,
    /// The `config` variable: the asset's configuration document.
    pub config: Value,
    /// The `tags` variable: the asset's tags.
    pub tags: Value,
}

impl<'a> PreparedAsset<'a> {
    /// Converts `asset` into the variables rules see.
    pub fn new(asset: &'a Asset) -> Self {
        let config = from_json(&asset.config);
        let tags = Value::Map(Map {
            map: Arc::new(
                asset
                    .tags
                    .iter()
                    .map(|(k, v)| (Key::String(Arc::new(k.clone())), string(v)))
                    .collect(),
            ),
        });
        let relationships = Value::List(Arc::new(
            asset
                .relationships
                .iter()
                .map(|r| {
                    Value::Map(Map {
                        map: Arc::new(HashMap::from([
                            entry("kind", string(&r.kind)),
                            entry("target", string(&r.target)),
                        ])),
                    })
                })
                .collect(),
        ));
        let unknown = Value::Map(Map {
            map: Arc::new(
                asset
                    .unknown
                    .iter()
                    .map(|(k, v)| (Key::String(Arc::new(k.clone())), string(v)))
                    .collect(),
            ),
        });
        let resource = Value::Map(Map {
            map: Arc::new(HashMap::from([
                entry("id", string(&asset.id)),
                entry("provider", string(asset.provider.as_str())),
                entry("account", string(&asset.account)),
                entry("region", string(&asset.region)),
                entry("type", string(asset.resource_type.as_str())),
                entry("name", string(&asset.name)),
                entry("tags", tags.clone()),
                entry("config", config.clone()),
                entry("relationships", relationships),
                entry("unknown", unknown),
            ])),
        });
        PreparedAsset {
            asset,
            id: Arc::from(asset.id.as_str()),
            resource,
            config,
            tags,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_numbers_by_range() {
        assert_eq!(from_json(&json!(3)), Value::Int(3));
        assert_eq!(from_json(&json!(u64::MAX)), Value::UInt(u64::MAX));
        assert_eq!(from_json(&json!(1.5)), Value::Float(1.5));
    }

    #[test]
    fn converts_nested_documents() {
        let value = from_json(&json!({"a": [true, null, "x"]}));
        let Value::Map(map) = value else {
            panic!("expected a map")
        };
        let inner = map.map.get(&Key::String(Arc::new("a".into())));
        assert_eq!(
            inner,
            Some(&Value::List(Arc::new(vec![
                Value::Bool(true),
                Value::Null,
                Value::String(Arc::new("x".into()))
            ])))
        );
    }
}
