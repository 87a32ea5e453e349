//! The result of evaluating one rule against one asset.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// The outcome of one rule on one asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The asset complies with the rule.
    Pass,
    /// The asset violates the rule.
    Fail,
    /// The data the rule needs is missing or could not be collected, so
    /// compliance cannot be decided. Never counted as a pass.
    Unknown,
    /// The rule itself could not be evaluated (a type error in its condition,
    /// for example); the message says why.
    Error,
}

impl Status {
    /// Every status, in report order.
    pub const ALL: [Status; 4] = [Status::Fail, Status::Unknown, Status::Error, Status::Pass];

    /// The lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Unknown => "unknown",
            Status::Error => "error",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule evaluated against one asset. The ids and message are shared
/// (`Arc<str>`): one scan produces millions of evaluations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The rule's id.
    pub rule_id: Arc<str>,
    /// The asset's id.
    pub asset_id: Arc<str>,
    /// The outcome.
    pub status: Status,
    /// Why: for `fail`, what is wrong with the asset (the rule's
    /// `message.fail`, naming the asset and the offending detail, or its
    /// title where it has none); for `pass`, why it passes (`message.pass`,
    /// or the title); for `unknown`, which field was missing and, where the
    /// collector recorded it, which call was denied or failed; for `error`,
    /// the evaluation error.
    pub message: Arc<str>,
    /// The values of the asset's fields that the rule read.
    #[serde(default, skip_serializing_if = "Evidence::is_empty")]
    pub evidence: Evidence,
}

/// The values of the asset's fields that a rule read, by path from the
/// asset (`config.PublicAccessBlock.BlockPublicAcls`), as one JSON object:
/// written once where the result is made, from the fields where they are,
/// then stored and reported as written (and shared by the results that
/// read the same fields of one asset). A field that was absent is left
/// out.
#[derive(Debug, Clone, Default)]
pub struct Evidence(Option<Arc<RawValue>>);

impl Evidence {
    /// The evidence of `fields`, by path.
    pub fn of<'v>(fields: impl IntoIterator<Item = (&'v str, &'v serde_json::Value)>) -> Evidence {
        let mut fields: Vec<(&str, &serde_json::Value)> = fields.into_iter().collect();
        if fields.is_empty() {
            return Evidence(None);
        }
        // By path, the last value of a path standing, as a map keeps it
        // (the engine hands its fields sorted, so this seldom moves any).
        fields.reverse();
        fields.sort_by_key(|(path, _)| *path);
        fields.dedup_by_key(|(path, _)| *path);
        Evidence(
            serde_json::value::to_raw_value(&ByPath(&fields))
                .ok()
                .map(Arc::from),
        )
    }

    /// Whether no field was read, or none was present.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The evidence as JSON text: an object of values by path.
    pub fn json(&self) -> &str {
        self.0.as_deref().map_or("{}", RawValue::get)
    }

    /// The values, by path.
    pub fn fields(&self) -> BTreeMap<String, serde_json::Value> {
        serde_json::from_str(self.json()).unwrap_or_default()
    }

    /// The value at `path`, if the rule read it and it was present.
    pub fn get(&self, path: &str) -> Option<serde_json::Value> {
        self.fields().remove(path)
    }

    /// Whether the value at `path` is part of the evidence.
    pub fn contains_key(&self, path: &str) -> bool {
        self.fields().contains_key(path)
    }
}

impl From<BTreeMap<String, serde_json::Value>> for Evidence {
    fn from(fields: BTreeMap<String, serde_json::Value>) -> Evidence {
        Evidence::of(fields.iter().map(|(k, v)| (k.as_str(), v)))
    }
}

impl FromIterator<(String, serde_json::Value)> for Evidence {
    fn from_iter<I: IntoIterator<Item = (String, serde_json::Value)>>(fields: I) -> Evidence {
        Evidence::from(fields.into_iter().collect::<BTreeMap<_, _>>())
    }
}

/// Fields sorted by path, written as one JSON object.
struct ByPath<'a>(&'a [(&'a str, &'a serde_json::Value)]);

impl Serialize for ByPath<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().copied())
    }
}

impl PartialEq for Evidence {
    fn eq(&self, other: &Evidence) -> bool {
        self.json() == other.json()
    }
}

impl Serialize for Evidence {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(raw) => raw.serialize(serializer),
            None => BTreeMap::<String, serde_json::Value>::new().serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Evidence {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Evidence, D::Error> {
        BTreeMap::<String, serde_json::Value>::deserialize(deserializer).map(Evidence::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn evidence_is_written_once_sorted_by_path_and_reads_back() {
        let config = json!({"Versioning": {"Status": "Suspended"}, "Logging": null});
        let evidence = Evidence::of([
            ("config.Versioning", &config["Versioning"]),
            ("config.Logging", &config["Logging"]),
        ]);
        assert_eq!(
            evidence.json(),
            r#"{"config.Logging":null,"config.Versioning":{"Status":"Suspended"}}"#
        );
        assert_eq!(
            evidence.get("config.Versioning"),
            Some(json!({"Status": "Suspended"}))
        );
        assert!(evidence.contains_key("config.Logging"));
        assert!(!evidence.contains_key("config.Other"));
        let text = serde_json::to_string(&evidence).expect("serialises");
        let back: Evidence = serde_json::from_str(&text).expect("deserialises");
        assert_eq!(back, evidence);
        let twice = Evidence::of([
            ("name", &json!("first")),
            ("config.Logging", &config["Logging"]),
            ("name", &json!("last")),
        ]);
        assert_eq!(
            twice.json(),
            r#"{"config.Logging":null,"name":"last"}"#,
            "a path given twice keeps its last value, as a map would"
        );
    }

    #[test]
    fn empty_evidence_is_left_out_of_an_evaluation() {
        let evaluation = Evaluation {
            rule_id: Arc::from("r"),
            asset_id: Arc::from("a"),
            status: Status::Pass,
            message: Arc::from("ok"),
            evidence: Evidence::default(),
        };
        let text = serde_json::to_string(&evaluation).expect("serialises");
        assert!(!text.contains("evidence"), "{text}");
        let back: Evaluation = serde_json::from_str(&text).expect("deserialises");
        assert!(back.evidence.is_empty());
        assert_eq!(Evidence::default().json(), "{}");
        let with: Evaluation = serde_json::from_str(
            r#"{"rule_id":"r","asset_id":"a","status":"fail","message":"m","evidence":{"config.A":1}}"#,
        )
        .expect("deserialises");
        assert_eq!(with.evidence.get("config.A"), Some(json!(1)));
    }
}
