//! Conversion of assets and JSON into CEL values, done once per asset.

use cel_interpreter::Value;
use cel_interpreter::objects::{Key, Map};
use parapet_core::Asset;
use rustc_hash::{FxHashMap, FxHashSet};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

/// How many distinct field names each thread keeps shared; past that, names
/// are allocated per use. Field names repeat across assets of a type, so a
/// small table serves a whole estate.
const INTERNED_KEYS: usize = 1 << 16;

thread_local! {
    static KEYS: RefCell<FxHashMap<Box<str>, Key>> = RefCell::new(FxHashMap::default());
}

/// The map key for a field name, shared with every other use of the same
/// name on this thread.
pub fn key(name: &str) -> Key {
    KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        if let Some(key) = keys.get(name) {
            return key.clone();
        }
        let key = Key::String(Arc::new(name.to_owned()));
        if keys.len() < INTERNED_KEYS {
            keys.insert(name.into(), key.clone());
        }
        key
    })
}

/// A field of a map value, if the value is a map and has it.
pub(crate) fn field<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
    match value {
        Value::Map(map) => map.map.get(&key(name)),
        _ => None,
    }
}

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
        serde_json::Value::String(s) => string(s),
        serde_json::Value::Array(items) => {
            Value::List(Arc::new(items.iter().map(from_json).collect()))
        }
        serde_json::Value::Object(fields) => {
            let map: HashMap<Key, Value> =
                fields.iter().map(|(k, v)| (key(k), from_json(v))).collect();
            Value::Map(Map { map: Arc::new(map) })
        }
    }
}

/// Strings up to this length are shared like field names: enumerations
/// (`Enabled`, `tcp`, `Allow`), CIDRs and actions repeat across assets.
const INTERNED_VALUE_LENGTH: usize = 24;

thread_local! {
    static VALUES: RefCell<FxHashMap<Box<str>, Arc<String>>> = RefCell::new(FxHashMap::default());
}

/// A string value, shared with other uses of the same short string on this
/// thread.
fn string(s: &str) -> Value {
    if s.len() > INTERNED_VALUE_LENGTH {
        return Value::String(Arc::new(s.to_owned()));
    }
    VALUES.with(|values| {
        let mut values = values.borrow_mut();
        if let Some(shared) = values.get(s) {
            return Value::String(Arc::clone(shared));
        }
        let shared = Arc::new(s.to_owned());
        if values.len() < INTERNED_KEYS {
            values.insert(s.into(), Arc::clone(&shared));
        }
        Value::String(shared)
    })
}

fn entry(name: &str, value: Value) -> (Key, Value) {
    (key(name), value)
}

/// Which parts of an asset the rules of its type read, so that only those
/// are converted: top-level configuration keys and asset fields. A rule that
/// reads the whole configuration, or the whole asset, widens it to all.
#[derive(Debug, Clone, Default)]
pub struct Projection {
    everything: bool,
    whole_config: bool,
    config_keys: FxHashSet<String>,
    fields: FxHashSet<String>,
}

impl Projection {
    /// The projection that converts every part of an asset.
    pub fn everything() -> Projection {
        Projection {
            everything: true,
            ..Projection::default()
        }
    }

    /// Adds a path a rule reads, from the asset's top (`["config", "Acl"]`,
    /// `["tags", "owner"]`, `["name"]`, or `[]` for the whole asset).
    pub fn add(&mut self, path: &[String]) {
        match path {
            [] => self.everything = true,
            [config] if config == "config" => self.whole_config = true,
            [config, key, ..] if config == "config" => {
                self.config_keys.insert(key.clone());
            }
            [field, ..] => {
                self.fields.insert(field.clone());
            }
        }
    }

    fn includes(&self, field: &str) -> bool {
        self.everything || self.fields.contains(field)
    }
}

/// An empty map, shared, for the parts of an asset no rule reads.
static EMPTY_MAP: LazyLock<Value> = LazyLock::new(|| {
    Value::Map(Map {
        map: Arc::new(HashMap::new()),
    })
});

/// An asset converted to CEL values once, ready to be evaluated against every
/// rule of its resource type.
#[derive(Debug, Clone)]
pub struct PreparedAsset<'a> {
    /// The asset itself.
    pub asset: &'a Asset,
    /// The asset's id, shared by its evaluations.
    pub id: Arc<str>,
    /// The `resource` variable: the asset.
    pub resource: Value,
    /// The `config` variable: the asset's configuration document.
    pub config: Value,
    /// The `tags` variable: the asset's tags.
    pub tags: Value,
}

impl<'a> PreparedAsset<'a> {
    /// Converts all of `asset` into the variables rules see.
    pub fn new(asset: &'a Asset) -> Self {
        Self::project(asset, &Projection::everything())
    }

    /// Converts the parts of `asset` that `projection` names.
    pub fn project(asset: &'a Asset, projection: &Projection) -> Self {
        let config = if projection.everything || projection.whole_config {
            from_json(&asset.config)
        } else {
            match &asset.config {
                serde_json::Value::Object(fields) => Value::Map(Map {
                    map: Arc::new(
                        projection
                            .config_keys
                            .iter()
                            .filter_map(|k| fields.get(k).map(|v| (key(k), from_json(v))))
                            .collect(),
                    ),
                }),
                other => from_json(other),
            }
        };
        let tags = if projection.includes("tags") {
            Value::Map(Map {
                map: Arc::new(
                    asset
                        .tags
                        .iter()
                        .map(|(k, v)| (key(k), string(v)))
                        .collect(),
                ),
            })
        } else {
            EMPTY_MAP.clone()
        };
        let mut resource =
            HashMap::from([entry("config", config.clone()), entry("tags", tags.clone())]);
        let scalars = [
            ("id", asset.id.as_str()),
            ("provider", asset.provider.as_str()),
            ("account", asset.account.as_str()),
            ("region", asset.region.as_str()),
            ("type", asset.resource_type.as_str()),
            ("name", asset.name.as_str()),
        ];
        for (name, value) in scalars {
            if projection.includes(name) {
                resource.insert(key(name), string(value));
            }
        }
        if projection.includes("relationships") {
            let relationships = asset
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
                .collect();
            resource.insert(key("relationships"), Value::List(Arc::new(relationships)));
        }
        if projection.includes("unknown") {
            let unknown = asset
                .unknown
                .iter()
                .map(|(k, v)| (key(k), string(v)))
                .collect();
            resource.insert(
                key("unknown"),
                Value::Map(Map {
                    map: Arc::new(unknown),
                }),
            );
        }
        PreparedAsset {
            asset,
            id: Arc::from(asset.id.as_str()),
            resource: Value::Map(Map {
                map: Arc::new(resource),
            }),
            config,
            tags,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn asset() -> Asset {
        serde_json::from_value(json!({
            "id": "arn:aws:s3:::b", "provider": "aws", "account": "1", "region": "us-east-1",
            "resource_type": "AWS::S3::Bucket", "name": "b", "tags": {"owner": "x"},
            "config": {"Acl": {"Grants": []}, "Policy": null, "Name": "b"},
            "observed_at": "2026-11-29T00:00:00Z"
        }))
        .expect("valid asset")
    }

    fn keys(value: &Value) -> Vec<String> {
        let Value::Map(map) = value else {
            panic!("expected a map")
        };
        let mut keys: Vec<String> = map.map.keys().map(|k| k.to_string()).collect();
        keys.sort();
        keys
    }

    #[test]
    fn projection_converts_only_what_rules_read() {
        let asset = asset();
        let mut projection = Projection::default();
        projection.add(&["config".into(), "Acl".into(), "Grants".into()]);
        projection.add(&["name".into()]);
        let prepared = PreparedAsset::project(&asset, &projection);
        assert_eq!(keys(&prepared.config), vec!["Acl"]);
        assert_eq!(keys(&prepared.resource), vec!["config", "name", "tags"]);
        assert!(keys(&prepared.tags).is_empty());
        projection.add(&["config".into()]);
        projection.add(&["tags".into(), "owner".into()]);
        let prepared = PreparedAsset::project(&asset, &projection);
        assert_eq!(keys(&prepared.config), vec!["Acl", "Name", "Policy"]);
        assert_eq!(keys(&prepared.tags), vec!["owner"]);
        let everything = PreparedAsset::new(&asset);
        assert_eq!(keys(&everything.resource).len(), 10);
    }

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
