//! The values conditions compute with. An asset's documents are read in
//! place: a configuration object or list is a borrowed JSON value, its
//! strings borrowed slices, so reading a field allocates nothing; only what
//! a condition builds (a `map()` result, a joined string) is owned.

use chrono::{DateTime, FixedOffset, TimeDelta};
use parapet_core::{Asset, Relationship};
use serde_json::Value as Json;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::rc::Rc;

/// A CEL value, borrowing from the asset, the facts and the compiled rule
/// for `'a`.
#[derive(Debug, Clone, Default)]
pub enum Val<'a> {
    /// `null`.
    #[default]
    Null,
    /// `bool`.
    Bool(bool),
    /// `int`.
    Int(i64),
    /// `uint`.
    UInt(u64),
    /// `double`.
    Double(f64),
    /// A borrowed `string`.
    Str(&'a str),
    /// A `string` built by the condition.
    String(Rc<str>),
    /// A JSON array or object, read in place.
    Json(&'a Json),
    /// A `list` built by the condition.
    List(Rc<Vec<Val<'a>>>),
    /// A `map` built by the condition, in insertion order.
    Map(Rc<Vec<(Val<'a>, Val<'a>)>>),
    /// A map of strings: an asset's tags or its `unknown` entries.
    Strings(&'a BTreeMap<String, String>),
    /// An asset's relationships, as a list of `{kind, target}` maps.
    Relationships(&'a [Relationship]),
    /// One relationship, as a `{kind, target}` map.
    Relationship(&'a Relationship),
    /// The whole asset, as the `resource` map.
    Resource(&'a Asset),
    /// `google.protobuf.Timestamp`.
    Timestamp(DateTime<FixedOffset>),
    /// `google.protobuf.Duration`.
    Duration(TimeDelta),
}

/// Fields of an object found by scanning them rather than by searching.
const SMALL_OBJECT: usize = 11;

/// The fields of the `resource` map.
const RESOURCE_FIELDS: &[&str] = &[
    "id",
    "provider",
    "account",
    "region",
    "type",
    "name",
    "tags",
    "config",
    "relationships",
    "unknown",
];

impl<'a> Val<'a> {
    /// A JSON value read in place: scalars become CEL scalars (integers
    /// that fit `i64` are `int`, other numbers `uint` or `double`), arrays
    /// and objects stay borrowed.
    pub fn json(value: &'a Json) -> Val<'a> {
        match value {
            Json::String(s) => Val::Str(s),
            Json::Array(_) | Json::Object(_) => Val::Json(value),
            scalar => Val::json_scalar(scalar),
        }
    }

    /// An owned JSON value (a policy parsed from its text) as a value built
    /// by the condition.
    pub fn owned_json(value: &Json) -> Val<'a> {
        match value {
            Json::String(s) => Val::String(Rc::from(s.as_str())),
            Json::Array(items) => Val::List(Rc::new(items.iter().map(Val::owned_json).collect())),
            Json::Object(fields) => Val::Map(Rc::new(
                fields
                    .iter()
                    .map(|(k, v)| (Val::String(Rc::from(k.as_str())), Val::owned_json(v)))
                    .collect(),
            )),
            scalar => Val::json_scalar(scalar),
        }
    }

    /// A JSON null, boolean or number.
    fn json_scalar(value: &Json) -> Val<'a> {
        match value {
            Json::Bool(b) => Val::Bool(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Val::Int(i),
                None => match n.as_u64() {
                    Some(u) => Val::UInt(u),
                    None => Val::Double(n.as_f64().unwrap_or(f64::NAN)),
                },
            },
            _ => Val::Null,
        }
    }

    /// A string built by the condition.
    pub fn string(text: impl AsRef<str>) -> Val<'a> {
        Val::String(Rc::from(text.as_ref()))
    }

    /// A list built by the condition.
    pub fn list(items: Vec<Val<'a>>) -> Val<'a> {
        Val::List(Rc::new(items))
    }

    /// The CEL type's name, for errors.
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "null",
            Val::Bool(_) => "bool",
            Val::Int(_) => "int",
            Val::UInt(_) => "uint",
            Val::Double(_) => "double",
            Val::Str(_) | Val::String(_) => "string",
            Val::Timestamp(_) => "timestamp",
            Val::Duration(_) => "duration",
            _ if self.is_list() => "list",
            _ => "map",
        }
    }

    /// The text of a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            Val::String(s) => Some(s),
            _ => None,
        }
    }

    /// Whether it is a list.
    pub fn is_list(&self) -> bool {
        matches!(
            self,
            Val::Json(Json::Array(_)) | Val::List(_) | Val::Relationships(_)
        )
    }

    /// Whether it is a map.
    pub fn is_map(&self) -> bool {
        matches!(
            self,
            Val::Json(Json::Object(_))
                | Val::Map(_)
                | Val::Strings(_)
                | Val::Relationship(_)
                | Val::Resource(_)
        )
    }

    /// A map's field `name`, if it is a map and has it.
    pub fn field(&self, name: &str) -> Option<Val<'a>> {
        match self {
            // A document's object seldom has more fields than one node of
            // its tree holds: comparing lengths first skips most keys.
            Val::Json(Json::Object(fields)) if fields.len() <= SMALL_OBJECT => fields
                .iter()
                .find(|(key, _)| key.as_str() == name)
                .map(|(_, value)| Val::json(value)),
            Val::Json(Json::Object(fields)) => fields.get(name).map(Val::json),
            Val::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(name))
                .map(|(_, v)| v.clone()),
            Val::Strings(map) => map.get(name).map(|s| Val::Str(s)),
            Val::Relationship(r) => match name {
                "kind" => Some(Val::Str(&r.kind)),
                "target" => Some(Val::Str(&r.target)),
                _ => None,
            },
            Val::Resource(asset) => resource_field(asset, name),
            _ => None,
        }
    }

    /// A map's entry for `key` (a string, an integer or a boolean); `None`
    /// when it is not a map or lacks the key.
    pub fn entry(&self, key: &Val<'_>) -> Option<Val<'a>> {
        if let Some(name) = key.as_str() {
            return self.field(name);
        }
        match self {
            Val::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.equals(key))
                .map(|(_, v)| v.clone()),
            _ => None,
        }
    }

    /// A list's item at `index`, if it is a list and has it.
    pub fn item(&self, index: usize) -> Option<Val<'a>> {
        match self {
            Val::Json(Json::Array(items)) => items.get(index).map(Val::json),
            Val::List(items) => items.get(index).cloned(),
            Val::Relationships(r) => r.get(index).map(Val::Relationship),
            _ => None,
        }
    }

    /// One step of a dotted path: a map's field, or a list's item when the
    /// step is an index.
    pub fn step(&self, step: &str) -> Option<Val<'a>> {
        if self.is_list() {
            step.parse().ok().and_then(|index| self.item(index))
        } else {
            self.field(step)
        }
    }

    /// The value as JSON: a document as it is, anything else converted;
    /// `None` for what JSON cannot hold (timestamps, durations, a map with a
    /// key that is not a string).
    pub fn as_json(&self) -> Option<Cow<'a, Json>> {
        match self {
            Val::Json(json) => Some(Cow::Borrowed(*json)),
            other => other.to_json().map(Cow::Owned),
        }
    }

    /// The value converted to JSON, as [`Val::as_json`].
    pub fn to_json(&self) -> Option<Json> {
        Some(match self {
            Val::Null => Json::Null,
            Val::Bool(b) => Json::Bool(*b),
            Val::Int(i) => Json::from(*i),
            Val::UInt(u) => Json::from(*u),
            Val::Double(f) => serde_json::Number::from_f64(*f).map(Json::Number)?,
            Val::Str(_) | Val::String(_) => Json::String(self.as_str()?.to_owned()),
            Val::Json(json) => (*json).clone(),
            Val::Timestamp(_) | Val::Duration(_) => return None,
            _ if self.is_list() => Json::Array(
                self.items()?
                    .map(|item| item.to_json())
                    .collect::<Option<_>>()?,
            ),
            _ => Json::Object(
                self.entries()
                    .into_iter()
                    .map(|(k, v)| Some((k.as_str()?.to_owned(), v.to_json()?)))
                    .collect::<Option<_>>()?,
            ),
        })
    }

    /// How many items a list, entries a map, or bytes a string has.
    pub fn size(&self) -> Option<usize> {
        Some(match self {
            Val::Json(Json::Array(items)) => items.len(),
            Val::Json(Json::Object(fields)) => fields.len(),
            Val::List(items) => items.len(),
            Val::Map(entries) => entries.len(),
            Val::Strings(map) => map.len(),
            Val::Relationships(r) => r.len(),
            Val::Relationship(_) => 2,
            Val::Resource(_) => RESOURCE_FIELDS.len(),
            Val::Str(s) => s.len(),
            Val::String(s) => s.len(),
            _ => return None,
        })
    }

    /// A list's items, or a map's keys (what a comprehension ranges over);
    /// `None` for anything else.
    pub fn items(&self) -> Option<Items<'_, 'a>> {
        Some(match self {
            Val::Json(Json::Array(items)) => Items::Json(items.iter()),
            Val::Json(Json::Object(fields)) => Items::Keys(fields.keys()),
            Val::List(items) => Items::List(items.iter()),
            Val::Map(entries) => Items::MapKeys(entries.iter()),
            Val::Strings(map) => Items::StringKeys(map.keys()),
            Val::Relationships(r) => Items::Relationships(r.iter()),
            Val::Relationship(_) => Items::Static(["kind", "target"].iter()),
            Val::Resource(_) => Items::Static(RESOURCE_FIELDS.iter()),
            _ => return None,
        })
    }

    /// A map's entries.
    fn entries(&self) -> Vec<(Val<'a>, Val<'a>)> {
        match self.items() {
            Some(keys) if self.is_map() => keys
                .map(|k| {
                    let v = self.entry(&k).unwrap_or_default();
                    (k, v)
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// CEL truthiness, as conditions combine values: a non-empty
    /// collection or string, a non-zero number, `true`.
    pub fn truthy(&self) -> bool {
        match self {
            Val::Null => false,
            Val::Bool(b) => *b,
            Val::Int(i) => *i != 0,
            Val::UInt(u) => *u != 0,
            Val::Double(f) => *f != 0.0,
            Val::Duration(d) => !d.is_zero(),
            Val::Timestamp(t) => t.timestamp_nanos_opt().unwrap_or_default() > 0,
            other => other.size().is_some_and(|n| n > 0),
        }
    }

    /// Equality: numbers of different types compare by value, lists item by
    /// item, maps entry by entry.
    pub fn equals(&self, other: &Val<'_>) -> bool {
        match (self, other) {
            (Val::Null, Val::Null) => true,
            (Val::Bool(a), Val::Bool(b)) => a == b,
            (Val::Timestamp(a), Val::Timestamp(b)) => a == b,
            (Val::Duration(a), Val::Duration(b)) => a == b,
            _ if self.is_number() && other.is_number() => {
                self.compare(other) == Some(Ordering::Equal)
            }
            _ => {
                if let (Some(a), Some(b)) = (self.as_str(), other.as_str()) {
                    return a == b;
                }
                if self.is_list() && other.is_list() {
                    return match (self.items(), other.items()) {
                        (Some(a), Some(b)) => {
                            self.size() == other.size() && a.zip(b).all(|(x, y)| x.equals(&y))
                        }
                        _ => false,
                    };
                }
                if self.is_map() && other.is_map() {
                    return self.size() == other.size()
                        && self
                            .entries()
                            .iter()
                            .all(|(k, v)| other.entry(k).is_some_and(|w| v.equals(&w)));
                }
                false
            }
        }
    }

    fn is_number(&self) -> bool {
        matches!(self, Val::Int(_) | Val::UInt(_) | Val::Double(_))
    }

    /// Ordering of numbers (across types), strings, booleans, null,
    /// timestamps and durations; `None` for values that do not compare.
    pub fn compare(&self, other: &Val<'_>) -> Option<Ordering> {
        match (self, other) {
            (Val::Int(a), Val::Int(b)) => Some(a.cmp(b)),
            (Val::UInt(a), Val::UInt(b)) => Some(a.cmp(b)),
            (Val::Double(a), Val::Double(b)) => a.partial_cmp(b),
            (Val::Int(a), Val::UInt(b)) => Some(
                u64::try_from(*a)
                    .map(|a| a.cmp(b))
                    .unwrap_or(Ordering::Less),
            ),
            (Val::UInt(a), Val::Int(b)) => Some(
                i64::try_from(*a)
                    .map(|a| a.cmp(b))
                    .unwrap_or(Ordering::Greater),
            ),
            (Val::Int(a), Val::Double(b)) => (*a as f64).partial_cmp(b),
            (Val::UInt(a), Val::Double(b)) => (*a as f64).partial_cmp(b),
            (Val::Double(a), Val::Int(b)) => a.partial_cmp(&(*b as f64)),
            (Val::Double(a), Val::UInt(b)) => a.partial_cmp(&(*b as f64)),
            (Val::Bool(a), Val::Bool(b)) => Some(a.cmp(b)),
            (Val::Null, Val::Null) => Some(Ordering::Equal),
            (Val::Timestamp(a), Val::Timestamp(b)) => Some(a.cmp(b)),
            (Val::Duration(a), Val::Duration(b)) => Some(a.cmp(b)),
            _ => match (self.as_str(), other.as_str()) {
                (Some(a), Some(b)) => Some(a.cmp(b)),
                _ => None,
            },
        }
    }

    /// The value as a message writes it: a string as it is, a list as its
    /// items joined by `, `, a map as `key: value` pairs sorted by key,
    /// `none` for null.
    pub fn write_text(&self, out: &mut String) {
        match self {
            Val::Null => out.push_str("none"),
            Val::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            Val::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Val::UInt(u) => {
                let _ = write!(out, "{u}");
            }
            Val::Double(f) => {
                let _ = write!(out, "{f}");
            }
            Val::Str(s) => out.push_str(s),
            Val::String(s) => out.push_str(s),
            Val::Duration(d) => {
                let _ = write!(out, "{}s", d.num_seconds());
            }
            Val::Timestamp(t) => out.push_str(&t.to_rfc3339()),
            _ if self.is_list() => {
                for (i, item) in self.items().into_iter().flatten().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write_text(out);
                }
            }
            _ => {
                let mut entries: Vec<(String, Val<'a>)> = self
                    .entries()
                    .into_iter()
                    .map(|(k, v)| {
                        let mut key = String::new();
                        k.write_text(&mut key);
                        (key, v)
                    })
                    .collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                for (i, (key, value)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&key);
                    out.push_str(": ");
                    value.write_text(out);
                }
            }
        }
    }
}

/// Equality as CEL's `==`, for tests.
impl PartialEq for Val<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.equals(other)
    }
}

impl<'a> From<&'a str> for Val<'a> {
    fn from(s: &'a str) -> Self {
        Val::Str(s)
    }
}

/// A field of the `resource` map.
fn resource_field<'a>(asset: &'a Asset, name: &str) -> Option<Val<'a>> {
    Some(match name {
        "id" => Val::Str(&asset.id),
        "provider" => Val::Str(asset.provider.as_str()),
        "account" => Val::Str(&asset.account),
        "region" => Val::Str(&asset.region),
        "type" => Val::Str(asset.resource_type.as_str()),
        "name" => Val::Str(&asset.name),
        "tags" => Val::Strings(&asset.tags),
        "config" => Val::json(&asset.config),
        "relationships" => Val::Relationships(&asset.relationships),
        "unknown" => Val::Strings(&asset.unknown),
        _ => return None,
    })
}

/// What a comprehension ranges over: a list's items or a map's keys.
pub enum Items<'v, 'a> {
    /// A JSON array's items.
    Json(std::slice::Iter<'a, Json>),
    /// A JSON object's keys.
    Keys(serde_json::map::Keys<'a>),
    /// A built list's items.
    List(std::slice::Iter<'v, Val<'a>>),
    /// A built map's keys.
    MapKeys(std::slice::Iter<'v, (Val<'a>, Val<'a>)>),
    /// Tag keys.
    StringKeys(std::collections::btree_map::Keys<'a, String, String>),
    /// An asset's relationships.
    Relationships(std::slice::Iter<'a, Relationship>),
    /// The fields of a map of fixed shape.
    Static(std::slice::Iter<'static, &'static str>),
}

impl<'a> Iterator for Items<'_, 'a> {
    type Item = Val<'a>;

    fn next(&mut self) -> Option<Val<'a>> {
        match self {
            Items::Json(items) => items.next().map(Val::json),
            Items::Keys(keys) => keys.next().map(|k| Val::Str(k)),
            Items::List(items) => items.next().cloned(),
            Items::MapKeys(entries) => entries.next().map(|(k, _)| k.clone()),
            Items::StringKeys(keys) => keys.next().map(|k| Val::Str(k)),
            Items::Relationships(r) => r.next().map(Val::Relationship),
            Items::Static(names) => names.next().map(|n| Val::Str(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_compare_across_types() {
        assert!(Val::Int(1).equals(&Val::UInt(1)));
        assert!(Val::Int(1).equals(&Val::Double(1.0)));
        assert!(!Val::Int(-1).equals(&Val::UInt(u64::MAX)));
        assert_eq!(Val::Int(-1).compare(&Val::UInt(0)), Some(Ordering::Less));
        assert_eq!(Val::Str("a").compare(&Val::Int(1)), None);
    }

    #[test]
    fn documents_equal_built_values_of_the_same_shape() {
        let doc = json!({"a": [1, "x"], "b": null});
        let built = Val::owned_json(&doc);
        assert!(Val::json(&doc).equals(&built));
        let other = json!({"a": [1, "y"], "b": null});
        assert!(!Val::json(&other).equals(&built));
        assert!(Val::json(&json!([])).equals(&Val::list(Vec::new())));
    }

    #[test]
    fn steps_walk_maps_and_lists_and_documents_stay_borrowed() {
        let doc = json!({"a": [{"b": 1}]});
        let value = Val::json(&doc);
        let b = value
            .step("a")
            .and_then(|list| list.step("0"))
            .and_then(|map| map.step("b"));
        assert_eq!(b, Some(Val::Int(1)));
        assert!(value.step("a").and_then(|list| list.step("x")).is_none());
        assert!(matches!(value.as_json(), Some(Cow::Borrowed(_))));
        assert_eq!(Val::list(vec![Val::Str("x")]).to_json(), Some(json!(["x"])));
        let now = chrono::DateTime::UNIX_EPOCH.fixed_offset();
        assert_eq!(Val::Timestamp(now).to_json(), None);
        let asset: Asset = serde_json::from_value(json!({
            "id": "arn:aws:s3:::b", "provider": "aws", "account": "1", "region": "us-east-1",
            "resource_type": "AWS::S3::Bucket", "name": "b", "tags": {"owner": "x"},
            "config": {}, "observed_at": "2026-11-29T00:00:00Z"
        }))
        .expect("valid asset");
        let resource = Val::Resource(&asset);
        assert_eq!(
            resource.step("tags").and_then(|t| t.to_json()),
            Some(json!({"owner": "x"}))
        );
        assert_eq!(resource.step("name"), Some(Val::Str("b")));
    }

    #[test]
    fn text_of_collections() {
        let mut out = String::new();
        Val::json(&json!({"b": [1, 2], "a": "x"})).write_text(&mut out);
        assert_eq!(out, "a: x, b: 1, 2");
    }
}
