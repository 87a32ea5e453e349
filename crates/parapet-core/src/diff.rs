//! Field-level differences between two JSON documents, by JSON path: what
//! `parapet assets diff` shows and what `asset_changed` events record.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a field changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// The field is new.
    Added,
    /// The field is gone.
    Removed,
    /// The field's value is different.
    Changed,
}

impl ChangeKind {
    /// The lowercase name shown.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        }
    }
}

/// One changed field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The field's path: `config.Versioning.Status`, `config.IpPermissions[0].FromPort`,
    /// `tags["cost-centre"]`.
    pub path: String,
    /// How it changed.
    pub kind: ChangeKind,
    /// The value before, for removed and changed fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    /// The value after, for added and changed fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn child(path: &str, key: &str) -> String {
    if is_identifier(key) {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    } else {
        format!("{path}[{}]", Value::String(key.to_owned()))
    }
}

/// The fields that differ between `old` and `new`, objects compared key by
/// key and arrays index by index, in path order. Equal documents give none.
pub fn diff(old: &Value, new: &Value) -> Vec<Change> {
    let mut changes = Vec::new();
    walk("", old, new, &mut changes);
    changes
}

fn walk(path: &str, old: &Value, new: &Value, out: &mut Vec<Change>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, av) in a {
                match b.get(key) {
                    Some(bv) => walk(&child(path, key), av, bv, out),
                    None => out.push(Change {
                        path: child(path, key),
                        kind: ChangeKind::Removed,
                        old: Some(av.clone()),
                        new: None,
                    }),
                }
            }
            for (key, bv) in b {
                if !a.contains_key(key) {
                    out.push(Change {
                        path: child(path, key),
                        kind: ChangeKind::Added,
                        old: None,
                        new: Some(bv.clone()),
                    });
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                let p = format!("{path}[{i}]");
                match (a.get(i), b.get(i)) {
                    (Some(av), Some(bv)) => walk(&p, av, bv, out),
                    (Some(av), None) => out.push(Change {
                        path: p,
                        kind: ChangeKind::Removed,
                        old: Some(av.clone()),
                        new: None,
                    }),
                    (None, Some(bv)) => out.push(Change {
                        path: p,
                        kind: ChangeKind::Added,
                        old: None,
                        new: Some(bv.clone()),
                    }),
                    (None, None) => {}
                }
            }
        }
        (a, b) if a != b => out.push(Change {
            path: path.to_owned(),
            kind: ChangeKind::Changed,
            old: Some(a.clone()),
            new: Some(b.clone()),
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(changes: &[Change]) -> Vec<(String, ChangeKind)> {
        changes.iter().map(|c| (c.path.clone(), c.kind)).collect()
    }

    #[test]
    fn equal_documents_have_no_changes() {
        let doc = json!({"a": [1, {"b": null}], "c": "x"});
        assert!(diff(&doc, &doc).is_empty());
    }

    #[test]
    fn reports_added_removed_and_changed_fields_by_path() {
        let old = json!({"config": {"Versioning": {"Status": "Enabled"}, "Logging": {"TargetBucket": "l"}, "Rules": [1, 2]}, "tags": {"cost-centre": "a"}});
        let new = json!({"config": {"Versioning": {"Status": "Suspended"}, "Policy": null, "Rules": [1]}, "tags": {"cost-centre": "b"}});
        assert_eq!(
            paths(&diff(&old, &new)),
            vec![
                ("config.Logging".to_owned(), ChangeKind::Removed),
                ("config.Rules[1]".to_owned(), ChangeKind::Removed),
                ("config.Versioning.Status".to_owned(), ChangeKind::Changed),
                ("config.Policy".to_owned(), ChangeKind::Added),
                ("tags[\"cost-centre\"]".to_owned(), ChangeKind::Changed),
            ]
        );
        let change = &diff(&old, &new)[2];
        assert_eq!(change.old, Some(json!("Enabled")));
        assert_eq!(change.new, Some(json!("Suspended")));
    }

    #[test]
    fn a_change_of_type_is_a_change_of_the_whole_field() {
        let changes = diff(&json!({"a": {"b": 1}}), &json!({"a": [1]}));
        assert_eq!(paths(&changes), vec![("a".to_owned(), ChangeKind::Changed)]);
    }
}
