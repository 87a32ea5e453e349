//! CloudTrail management events to the resources they created, changed or
//! deleted, by a declarative map (each AWS resource type declares its part
//! beside its collector, `TypeDef::events` in `parapet-aws`): the input of
//! continuous mode's targeted refresh. No SDK: this is the parsing of what
//! queues and the `/events` endpoint receive, kept apart so that it builds
//! (and is fuzzed) on its own. Accepts an EventBridge "AWS API Call
//! via CloudTrail" envelope, a raw CloudTrail record, or a CloudTrail log
//! file's `{"Records": [...]}`.

pub use parapet_provider::{Action, Target};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What one CloudTrail record means for the inventory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Resolved {
    /// Resources to describe again.
    Targets {
        /// The record's `eventID`.
        event_id: String,
        /// `eventSource` and `eventName`.
        event: String,
        /// The resources.
        targets: Vec<Target>,
    },
    /// A read-only call: nothing changed.
    ReadOnly {
        /// `eventSource` and `eventName`.
        event: String,
    },
    /// The call failed (`errorCode`): nothing changed.
    Failed {
        /// `eventSource` and `eventName`.
        event: String,
        /// The error code.
        error: String,
    },
    /// Not in the map: counted and ignored.
    Unmapped {
        /// `eventSource` and `eventName`.
        event: String,
    },
}

/// A message that is not a CloudTrail event, with why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a CloudTrail event: {0}")]
pub struct EventError(pub String);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TypeSpec {
    source: String,
    #[serde(default)]
    global: bool,
    events: Vec<EventSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventSpec {
    name: String,
    /// The event's own `eventSource`, when another service's change
    /// touches the type (a trail's bucket).
    #[serde(default)]
    source: Option<String>,
    action: Action,
    key: Vec<String>,
    #[serde(default)]
    when: BTreeMap<String, String>,
    #[serde(default)]
    indirect: bool,
}

/// Key paths that name where a change happened rather than what changed.
const PLACES: [&str; 2] = ["recipientAccountId", "awsRegion"];

/// The map from events to the resources they touch.
#[derive(Debug)]
pub struct EventMap {
    types: BTreeMap<String, TypeSpec>,
    /// `(eventSource, eventName)` to the types and entries that list it.
    by_event: HashMap<(String, String), Vec<(String, usize)>>,
}

impl EventMap {
    /// Reads a map from each type's events, in the format of
    /// `TypeDef::events`.
    pub fn of<'a>(types: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<EventMap, String> {
        let mut specs = BTreeMap::new();
        for (resource_type, yaml) in types {
            let spec: TypeSpec = serde_norway::from_str(yaml)
                .map_err(|e| format!("{resource_type}'s events: {e}"))?;
            specs.insert(resource_type.to_owned(), spec);
        }
        EventMap::index(specs)
    }

    fn index(types: BTreeMap<String, TypeSpec>) -> Result<EventMap, String> {
        let mut by_event: HashMap<(String, String), Vec<(String, usize)>> = HashMap::new();
        for (resource_type, spec) in &types {
            for (i, event) in spec.events.iter().enumerate() {
                if event.key.is_empty() {
                    return Err(format!("{resource_type} {}: no key path", event.name));
                }
                by_event
                    .entry((
                        event.source.as_ref().unwrap_or(&spec.source).clone(),
                        event.name.clone(),
                    ))
                    .or_default()
                    .push((resource_type.clone(), i));
            }
        }
        Ok(EventMap { types, by_event })
    }

    /// Each type with the actions its mapped events perform.
    pub fn coverage(&self) -> BTreeMap<&str, BTreeSet<Action>> {
        self.types
            .iter()
            .map(|(t, spec)| {
                let actions = spec.events.iter().map(|e| e.action).collect();
                (t.as_str(), actions)
            })
            .collect()
    }

    /// The events mapped for `resource_type`: `eventSource`, `eventName`
    /// and what each does.
    pub fn events_of(&self, resource_type: &str) -> Vec<(&str, &str, Action)> {
        self.types
            .get(resource_type)
            .map(|spec| {
                spec.events
                    .iter()
                    .map(|e| {
                        let source = e.source.as_deref().unwrap_or(&spec.source);
                        (source, e.name.as_str(), e.action)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// What a message (an EventBridge envelope, a record, or a log file's
    /// records) means, record by record.
    pub fn resolve(&self, message: &Value) -> Result<Vec<Resolved>, EventError> {
        let records: Vec<&Value> = if let Some(records) = message.get("Records") {
            records
                .as_array()
                .ok_or_else(|| EventError("`Records` is not a list".into()))?
                .iter()
                .collect()
        } else if let Some(detail) = message.get("detail") {
            let kind = message
                .get("detail-type")
                .and_then(Value::as_str)
                .unwrap_or("");
            if kind != "AWS API Call via CloudTrail" {
                return Err(EventError(format!("an EventBridge event of type `{kind}`")));
            }
            vec![detail]
        } else {
            vec![message]
        };
        records
            .into_iter()
            .map(|r| self.resolve_record(r))
            .collect()
    }

    fn resolve_record(&self, record: &Value) -> Result<Resolved, EventError> {
        let field = |name: &str| {
            record
                .get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| EventError(format!("no `{name}`")))
        };
        let source = field("eventSource")?;
        let name = field("eventName")?;
        let event = format!("{source} {name}");
        let read_only = record
            .get("readOnly")
            .and_then(Value::as_bool)
            .unwrap_or_else(|| {
                ["Get", "Describe", "List", "Head"]
                    .iter()
                    .any(|p| name.starts_with(p))
            });
        if read_only {
            return Ok(Resolved::ReadOnly { event });
        }
        if let Some(error) = record.get("errorCode").and_then(Value::as_str) {
            return Ok(Resolved::Failed {
                event,
                error: error.to_owned(),
            });
        }
        let Some(entries) = self
            .by_event
            .get(&(source.to_owned(), unversioned(name).to_owned()))
        else {
            return Ok(Resolved::Unmapped { event });
        };
        let account = record
            .get("recipientAccountId")
            .or_else(|| record.pointer("/userIdentity/accountId"))
            .and_then(Value::as_str)
            .ok_or_else(|| EventError(format!("{event}: no `recipientAccountId`")))?;
        let region = field("awsRegion")?;
        let mut targets = Vec::new();
        for (resource_type, index) in entries {
            let spec = &self.types[resource_type];
            let entry = &spec.events[*index];
            let applies = entry
                .when
                .iter()
                .all(|(path, value)| values_at(record, path).iter().any(|v| v == value));
            if !applies {
                continue;
            }
            let Some((path, keys)) = entry
                .key
                .iter()
                .map(|path| (path.as_str(), values_at(record, path)))
                .find(|(_, found)| !found.is_empty())
            else {
                continue;
            };
            let names_resource = !entry.indirect && !PLACES.contains(&path);
            for key in keys {
                let target = Target {
                    resource_type: resource_type.clone(),
                    account: account.to_owned(),
                    region: if spec.global {
                        "global".to_owned()
                    } else {
                        region.to_owned()
                    },
                    key,
                    names_resource,
                    action: entry.action,
                };
                if !targets.contains(&target) {
                    targets.push(target);
                }
            }
        }
        Ok(Resolved::Targets {
            event_id: record
                .get("eventID")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            event,
            targets,
        })
    }
}

/// Whether an event's key names the resource known by `names` (its id,
/// ARN, name or URL): equal to one of them, or one ends with the other as
/// its last path or ARN segment (`sg-1` and `arn:…:security-group/sg-1`; a
/// queue's URL and its name).
pub fn key_names(key: &str, names: &[&str]) -> bool {
    fn ends_with_segment(whole: &str, tail: &str) -> bool {
        whole.len() > tail.len()
            && whole.ends_with(tail)
            && matches!(whole.as_bytes()[whole.len() - tail.len() - 1], b'/' | b':')
    }
    names.iter().any(|name| {
        !name.is_empty()
            && (key == *name || ends_with_segment(name, key) || ends_with_segment(key, name))
    })
}

/// An event name without the API version some services append
/// (`CreateFunction20150331`, `AddPermission20150331v2`).
fn unversioned(name: &str) -> &str {
    let trimmed = match name.rfind('v') {
        Some(v) if v + 1 < name.len() && name[v + 1..].bytes().all(|b| b.is_ascii_digit()) => {
            &name[..v]
        }
        _ => name,
    };
    let digits = trimmed.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits == 8 && trimmed[trimmed.len() - 8..].starts_with("20") {
        &trimmed[..trimmed.len() - 8]
    } else {
        name
    }
}

/// The strings at a dotted path; `name[*]` walks every element of a list.
fn values_at(record: &Value, path: &str) -> Vec<String> {
    let mut current: Vec<&Value> = vec![record];
    for step in path.split('.') {
        let (name, every) = match step.strip_suffix("[*]") {
            Some(name) => (name, true),
            None => (step, false),
        };
        current = current
            .into_iter()
            .filter_map(|v| v.get(name))
            .flat_map(|v| match (every, v) {
                (true, Value::Array(items)) => items.iter().collect::<Vec<_>>(),
                (true, _) => Vec::new(),
                (false, v) => vec![v],
            })
            .collect();
    }
    current
        .into_iter()
        .filter_map(|v| match v {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A map of one type, as a collector declares it.
    const BUCKETS: &str = r#"
source: s3.amazonaws.com
events:
  - {name: CreateBucket, action: create, key: [requestParameters.bucketName]}
  - {name: PutBucketPolicy, action: change, key: [requestParameters.bucketName]}
  - {name: DeleteBucket, action: delete, key: [requestParameters.bucketName]}
"#;

    #[test]
    fn records_envelopes_and_log_files_resolve_to_their_targets() {
        let map = EventMap::of([("AWS::S3::Bucket", BUCKETS)]).expect("a map");
        let record = serde_json::json!({
            "eventID": "e-1", "eventSource": "s3.amazonaws.com", "eventName": "PutBucketPolicy",
            "awsRegion": "eu-west-1", "recipientAccountId": "123456789012",
            "requestParameters": {"bucketName": "data"},
        });
        let envelope =
            serde_json::json!({"detail-type": "AWS API Call via CloudTrail", "detail": record});
        let log = serde_json::json!({"Records": [record, record]});
        for (message, count) in [(&record, 1), (&envelope, 1), (&log, 2)] {
            let resolved = map.resolve(message).expect("resolved");
            assert_eq!(resolved.len(), count, "{message}");
            assert!(
                matches!(&resolved[0], Resolved::Targets { targets, .. } if targets[0].key == "data"),
                "{resolved:?}"
            );
        }
        let other = serde_json::json!({"detail-type": "EC2 Instance State-change Notification", "detail": {}});
        assert!(map.resolve(&other).is_err());
        assert!(map.resolve(&serde_json::json!({"Records": 3})).is_err());
        assert!(
            EventMap::of([(
                "AWS::S3::Bucket",
                "source: x\nevents: [{name: A, action: change, key: []}]"
            )])
            .is_err()
        );
    }

    #[test]
    fn version_suffixes_come_off_only_when_they_are_versions() {
        assert_eq!(unversioned("CreateFunction20150331"), "CreateFunction");
        assert_eq!(
            unversioned("UpdateFunctionConfiguration20150331v2"),
            "UpdateFunctionConfiguration"
        );
        assert_eq!(unversioned("CreateBucket"), "CreateBucket");
        assert_eq!(unversioned("ModifyVolume"), "ModifyVolume");
        assert_eq!(unversioned("Create2"), "Create2");
    }
}
