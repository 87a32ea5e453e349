//! OCSF output checked against the OCSF class definitions: the Compliance
//! Finding class with its parents resolved, the objects it refers to, the
//! attribute types of the dictionary, required attributes and enum values.

use crate::sample::{Sample, schemas};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

fn read(path: &Path) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The OCSF definitions a validator needs.
struct Ocsf {
    root: std::path::PathBuf,
    dictionary: Map<String, Value>,
    types: Map<String, Value>,
}

impl Ocsf {
    fn load() -> Ocsf {
        let root = schemas().join("ocsf");
        let dictionary = read(&root.join("dictionary.json"));
        Ocsf {
            dictionary: dictionary["attributes"]
                .as_object()
                .expect("attributes")
                .clone(),
            types: dictionary["types"]["attributes"]
                .as_object()
                .expect("types")
                .clone(),
            root,
        }
    }

    /// A definition's attributes with its `extends` chain and the profiles
    /// named in `profiles` merged, the most derived last.
    fn attributes(
        &self,
        mut path: std::path::PathBuf,
        dir: &str,
        profiles: &[&str],
    ) -> BTreeMap<String, Value> {
        let mut chain = Vec::new();
        loop {
            let definition = read(&path);
            let parent = definition["extends"].as_str().map(str::to_owned);
            chain.push(definition);
            let Some(parent) = parent else { break };
            path = find(&self.root.join(dir), &format!("{parent}.json"))
                .unwrap_or_else(|| panic!("no definition of {parent}"));
        }
        let mut attributes: BTreeMap<String, Value> = BTreeMap::new();
        let mut merge = |from: &Value| {
            for (name, spec) in from.as_object().into_iter().flatten() {
                if name == "$include" {
                    continue;
                }
                let entry = attributes
                    .entry(name.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                for (k, v) in spec.as_object().into_iter().flatten() {
                    entry[k] = v.clone();
                }
            }
        };
        for definition in chain.iter().rev() {
            merge(&definition["attributes"]);
        }
        for profile in profiles {
            merge(&read(&self.root.join("profiles").join(format!("{profile}.json")))["attributes"]);
        }
        attributes
    }

    /// Checks `value` against the attributes of a class or object.
    fn check(
        &self,
        value: &Value,
        attributes: &BTreeMap<String, Value>,
        at: &str,
        errors: &mut Vec<String>,
    ) {
        let Some(object) = value.as_object() else {
            errors.push(format!("{at}: not an object"));
            return;
        };
        for (name, spec) in attributes {
            if spec["requirement"] == "required" && !object.contains_key(name) {
                errors.push(format!("{at}.{name}: required and missing"));
            }
        }
        for (name, item) in object {
            let here = format!("{at}.{name}");
            let Some(spec) = attributes.get(name) else {
                errors.push(format!("{here}: not an attribute of this class or object"));
                continue;
            };
            let entry = &self.dictionary[name];
            let is_array = entry["is_array"].as_bool().unwrap_or(false);
            let items: Vec<&Value> = if is_array {
                match item.as_array() {
                    Some(list) => list.iter().collect(),
                    None => {
                        errors.push(format!("{here}: must be an array"));
                        continue;
                    }
                }
            } else {
                vec![item]
            };
            let enumeration = spec.get("enum").or_else(|| entry.get("enum"));
            for item in items {
                if let Some(values) = enumeration.and_then(Value::as_object)
                    && !name.ends_with("category_uid")
                    && name != "class_uid"
                {
                    let key = item.as_i64().map(|n| n.to_string()).unwrap_or_default();
                    if !values.contains_key(&key) {
                        errors.push(format!("{here}: {item} is not one of the enum's values"));
                    }
                }
                let kind = entry["type"].as_str().unwrap_or_default();
                // The dictionary names an object attribute's type by the
                // object's name; scalar types end in `_t`.
                // `object` is OCSF's free-form object (`unmapped`).
                if kind == "object" {
                    if !item.is_object() {
                        errors.push(format!("{here}: not an object"));
                    }
                } else if !kind.ends_with("_t") || kind == "object_t" {
                    let object_type = entry["object_type"].as_str().unwrap_or(kind);
                    let nested = self.attributes(
                        self.root
                            .join("objects")
                            .join(format!("{object_type}.json")),
                        "objects",
                        &[],
                    );
                    self.check(item, &nested, &here, errors);
                } else if !self.scalar_matches(kind, item) {
                    errors.push(format!("{here}: {item} is not a {kind}"));
                }
            }
        }
    }

    fn scalar_matches(&self, kind: &str, value: &Value) -> bool {
        let base = self
            .types
            .get(kind)
            .and_then(|t| t["type"].as_str())
            .unwrap_or(kind);
        match base {
            "string_t" => value.is_string(),
            "integer_t" | "long_t" => value.is_i64() || value.is_u64(),
            "float_t" => value.is_number(),
            "boolean_t" => value.is_boolean(),
            "json_t" => true,
            other => panic!("no check for the type {other} ({kind})"),
        }
    }
}

fn find(dir: &Path, file: &str) -> Option<std::path::PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find(&path, file) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == file) {
            return Some(path);
        }
    }
    None
}

#[test]
fn ocsf_events_follow_the_compliance_finding_class() {
    let ocsf = Ocsf::load();
    let class = ocsf.attributes(
        ocsf.root.join("events/findings/compliance_finding.json"),
        "events",
        &["cloud"],
    );
    let definition = read(&ocsf.root.join("events/findings/compliance_finding.json"));
    let categories = read(&ocsf.root.join("categories.json"));
    let category_uid = categories["attributes"]["findings"]["uid"]
        .as_i64()
        .expect("findings uid");
    let class_uid = category_uid * 1000 + definition["uid"].as_i64().expect("class uid");

    let sample = Sample::new();
    let mut out = Vec::new();
    parapet_report::ocsf::write(&sample.report(), &mut out).expect("write");
    let events: Vec<Value> = String::from_utf8(out)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(events.len(), sample.rules.len());
    let mut errors = Vec::new();
    for (i, event) in events.iter().enumerate() {
        ocsf.check(event, &class, &format!("event {i}"), &mut errors);
        assert_eq!(event["class_uid"], class_uid);
        assert_eq!(event["category_uid"], category_uid);
        assert_eq!(
            event["type_uid"],
            class_uid * 100 + event["activity_id"].as_i64().expect("activity")
        );
    }
    assert!(errors.is_empty(), "{errors:#?}");

    // The validator catches a missing required attribute and a bad enum value.
    let mut broken = events[0].clone();
    broken
        .as_object_mut()
        .expect("object")
        .remove("finding_info");
    broken["compliance"]["status_id"] = serde_json::json!(7);
    let mut errors = Vec::new();
    ocsf.check(&broken, &class, "broken", &mut errors);
    assert_eq!(errors.len(), 2, "{errors:#?}");
}
