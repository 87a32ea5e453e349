//! Azure's change events: what Event Grid delivers for a subscription (a
//! system topic of type `Microsoft.Resources.Subscriptions`), in its own
//! schema or as CloudEvents, one event or a batch, and which resources each
//! touched. An event names the ARM operation (`data.operationName`,
//! `Microsoft.Sql/servers/firewallRules/write`) and the resource it acted
//! on (`data.resourceUri`); the types declare the operations that change
//! them ([`crate::types::TypeDef::operations`]), and the resource's id is
//! the URI cut to the type's depth (a firewall rule's write changes its
//! server). A change to an extension resource (a vault's diagnostic
//! settings, under the vault's id) also changes the resource it extends.

use crate::types::{COLLECTORS, TypeDef, action_of};
use parapet_provider::{Action, Decoded, Target};
use serde_json::Value;
use thiserror::Error;

/// What makes a message not Azure's change events.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum EventError {
    /// Neither an Event Grid event, a CloudEvent, nor a batch of them.
    #[error("not an Event Grid event or a CloudEvent (no eventType or type)")]
    NotAnEvent,
    /// A resource event without a field it must have.
    #[error("event {index} ({kind}): no {field}")]
    Missing {
        /// The event's place in the message, from 0.
        index: usize,
        /// Its type.
        kind: String,
        /// The field.
        field: &'static str,
    },
}

/// The event type Event Grid's validation handshake sends.
pub const VALIDATION: &str = "Microsoft.EventGrid.SubscriptionValidationEvent";

/// The resources the events of `message` touched, each once, with a note
/// per event.
pub fn decode(message: &Value) -> Result<Decoded, EventError> {
    let events: Vec<&Value> = match message {
        Value::Array(events) if !events.is_empty() => events.iter().collect(),
        Value::Object(_) => vec![message],
        _ => return Err(EventError::NotAnEvent),
    };
    let mut decoded = Decoded::default();
    for (index, event) in events.into_iter().enumerate() {
        let kind = event
            .get("eventType")
            .or_else(|| event.get("type"))
            .and_then(Value::as_str)
            .ok_or(EventError::NotAnEvent)?;
        let Some(outcome) = kind.strip_prefix("Microsoft.Resources.Resource") else {
            let note = match kind {
                VALIDATION => format!("{kind}: Event Grid's validation handshake"),
                _ => format!("{kind}: not a change Parapet follows"),
            };
            decoded.notes.push(note);
            continue;
        };
        let data = event.get("data").unwrap_or(&Value::Null);
        let field = |field: &'static str| {
            data.get(field)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| EventError::Missing {
                    index,
                    kind: kind.to_owned(),
                    field,
                })
        };
        let operation = field("operationName")?;
        let uri = field("resourceUri")?;
        if !outcome.ends_with("Success") {
            decoded.notes.push(format!(
                "{operation} on {uri}: the call did not succeed ({kind})"
            ));
            continue;
        }
        let subscription = match field("subscriptionId") {
            Ok(subscription) => subscription.to_owned(),
            Err(missing) => subscription_of(uri).ok_or(missing)?,
        };
        let targets = targets(operation, uri, &subscription);
        if targets.is_empty() {
            decoded
                .notes
                .push(format!("{operation}: not a change Parapet follows"));
        }
        for target in targets {
            decoded.notes.push(format!(
                "{operation}: {} {} ({:?})",
                target.resource_type, target.key, target.action
            ));
            // A burst's repeated changes to one resource are described once.
            if !decoded.targets.contains(&target) {
                decoded.targets.push(target);
            }
        }
    }
    Ok(decoded)
}

/// The subscription an ARM id lies in.
fn subscription_of(uri: &str) -> Option<String> {
    let mut segments = uri.trim_start_matches('/').split('/');
    match (segments.next(), segments.next()) {
        (Some(s), Some(id)) if s.eq_ignore_ascii_case("subscriptions") && !id.is_empty() => {
            Some(id.to_owned())
        }
        _ => None,
    }
}

/// The resources the operation `operation` on `uri` touched: those of the
/// types that declare it, and the resource an extension resource extends.
fn targets(operation: &str, uri: &str, subscription: &str) -> Vec<Target> {
    let target = |def: &TypeDef, key: Option<String>, action: Action| Target {
        resource_type: def.name.to_owned(),
        account: subscription.to_owned(),
        // Azure's collection covers every region at once.
        region: String::new(),
        names_resource: key.is_some(),
        key: key.unwrap_or_else(|| uri.to_owned()),
        action,
    };
    let mut found = Vec::new();
    for def in definitions().filter(|d| declares(d, operation)) {
        let key = id_at_depth(uri, def.name);
        found.push(target(def, key, action_of(def.name, operation)));
        if let Some((parent, parent_type)) = extended(uri, def.name)
            && let Some(parent_def) =
                definitions().find(|d| d.name.eq_ignore_ascii_case(&parent_type))
        {
            found.push(target(parent_def, Some(parent), Action::Change));
        }
    }
    found
}

/// Every declared type.
fn definitions() -> impl Iterator<Item = &'static TypeDef> {
    COLLECTORS.iter().flat_map(|c| c.types.iter())
}

/// Whether `def` declares `operation` as one that changes it.
fn declares(def: &TypeDef, operation: &str) -> bool {
    def.operations
        .iter()
        .any(|o| o.eq_ignore_ascii_case(operation))
}

/// Where in `uri` the provider segment of `kind` (`providers/Microsoft.Sql`
/// followed by `servers`) begins, the last one: an extension resource's
/// own is after the one of what it extends.
fn provider_at(segments: &[&str], kind: &str) -> Option<usize> {
    let mut parts = kind.split('/');
    let (namespace, first) = (parts.next()?, parts.next()?);
    (0..segments.len().saturating_sub(2)).rev().find(|&i| {
        segments[i].eq_ignore_ascii_case("providers")
            && segments[i + 1].eq_ignore_ascii_case(namespace)
            && segments[i + 2].eq_ignore_ascii_case(first)
    })
}

/// The id of the resource of type `kind` that `uri` names or lies under:
/// the URI cut after that type's last name; `None` when it is shorter (an
/// operation on a collection).
fn id_at_depth(uri: &str, kind: &str) -> Option<String> {
    let segments: Vec<&str> = uri.trim_matches('/').split('/').collect();
    let at = provider_at(&segments, kind)?;
    let depth = kind.split('/').count() - 1;
    let end = at + 2 + 2 * depth;
    (segments.len() >= end && segments[at + 2..end].iter().all(|s| !s.is_empty()))
        .then(|| format!("/{}", segments[..end].join("/")))
}

/// The resource an extension resource of type `kind` at `uri` extends, with
/// that resource's type: what comes before its provider segment, when that
/// is a resource of a provider.
fn extended(uri: &str, kind: &str) -> Option<(String, String)> {
    let segments: Vec<&str> = uri.trim_matches('/').split('/').collect();
    let at = provider_at(&segments, kind)?;
    let parent = &segments[..at];
    let provider = parent
        .iter()
        .rposition(|s| s.eq_ignore_ascii_case("providers"))?;
    let rest = &parent[provider + 1..];
    if rest.len() < 3 || rest.len().is_multiple_of(2) {
        return None;
    }
    let types: Vec<&str> = std::iter::once(rest[0])
        .chain(rest[1..].iter().step_by(2).copied())
        .collect();
    Some((format!("/{}", parent.join("/")), types.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SUB: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";

    fn event(kind: &str, operation: &str, uri: &str) -> Value {
        json!({
            "subject": uri, "eventType": kind, "id": "4db48cba-50a2-455a-93b4-de41a3b5b7f6",
            "eventTime": "2026-12-06T10:00:00.0000000Z", "dataVersion": "2", "metadataVersion": "1",
            "topic": format!("/subscriptions/{SUB}"),
            "data": {"operationName": operation, "resourceUri": uri, "subscriptionId": SUB,
                "status": "Succeeded", "resourceProvider": operation.split('/').next()},
        })
    }

    fn write(operation: &str, uri: &str) -> Value {
        event("Microsoft.Resources.ResourceWriteSuccess", operation, uri)
    }

    #[test]
    fn a_write_to_a_child_changes_its_parent_named_by_its_id_cut_to_depth() {
        let rule = format!(
            "/subscriptions/{SUB}/resourcegroups/data/providers/Microsoft.Sql/servers/ledger/firewallRules/office"
        );
        let decoded =
            decode(&write("Microsoft.Sql/servers/firewallRules/write", &rule)).expect("an event");
        assert_eq!(decoded.targets.len(), 1);
        let target = &decoded.targets[0];
        assert_eq!(target.resource_type, "Microsoft.Sql/servers");
        assert_eq!(
            target.key,
            format!(
                "/subscriptions/{SUB}/resourcegroups/data/providers/Microsoft.Sql/servers/ledger"
            )
        );
        assert_eq!(target.account, SUB);
        assert_eq!(target.action, Action::Change);
        assert!(target.names_resource);
    }

    #[test]
    fn a_type_s_own_write_may_create_it_and_its_delete_deletes_it() {
        let account = format!(
            "/subscriptions/{SUB}/resourceGroups/data/providers/Microsoft.Storage/storageAccounts/ledger"
        );
        let created =
            decode(&write("Microsoft.Storage/storageAccounts/write", &account)).expect("an event");
        assert_eq!(created.targets[0].action, Action::Create);
        assert_eq!(created.targets[0].key, account);
        let deleted = decode(&event(
            "Microsoft.Resources.ResourceDeleteSuccess",
            "Microsoft.Storage/storageAccounts/delete",
            &account,
        ))
        .expect("an event");
        assert_eq!(deleted.targets[0].action, Action::Delete);
        let container = decode(&event(
            "Microsoft.Resources.ResourceDeleteSuccess",
            "Microsoft.Storage/storageAccounts/blobServices/containers/delete",
            &format!("{account}/blobServices/default/containers/logs"),
        ))
        .expect("an event");
        assert_eq!(container.targets[0].action, Action::Change);
        assert_eq!(container.targets[0].key, account);
    }

    #[test]
    fn an_extension_resource_s_change_also_changes_what_it_extends() {
        let vault = format!(
            "/subscriptions/{SUB}/resourceGroups/keys/providers/Microsoft.KeyVault/vaults/payments"
        );
        let setting = format!("{vault}/providers/Microsoft.Insights/diagnosticSettings/audit");
        let decoded = decode(&write(
            "Microsoft.Insights/diagnosticSettings/write",
            &setting,
        ))
        .expect("an event");
        let named: Vec<(&str, &str)> = decoded
            .targets
            .iter()
            .map(|t| (t.resource_type.as_str(), t.key.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                ("Microsoft.Insights/diagnosticSettings", setting.as_str()),
                ("Microsoft.KeyVault/vaults", vault.as_str())
            ]
        );
    }

    #[test]
    fn batches_cloud_events_failures_and_other_events_are_read_and_noted() {
        let group = format!(
            "/subscriptions/{SUB}/resourceGroups/web/providers/Microsoft.Network/networkSecurityGroups/web"
        );
        let cloud_event = json!({
            "specversion": "1.0", "type": "Microsoft.Resources.ResourceWriteSuccess",
            "source": format!("/subscriptions/{SUB}"), "subject": group, "id": "1",
            "time": "2026-12-06T10:00:00Z",
            "data": {"operationName": "Microsoft.Network/networkSecurityGroups/securityRules/write",
                "resourceUri": format!("{group}/securityRules/ssh")},
        });
        let batch = json!([
            cloud_event,
            write("Microsoft.Network/networkSecurityGroups/write", &group),
            event(
                "Microsoft.Resources.ResourceWriteFailure",
                "Microsoft.Network/networkSecurityGroups/write",
                &group
            ),
            write("Microsoft.Resources/deployments/write", &format!("/subscriptions/{SUB}/resourceGroups/web/providers/Microsoft.Resources/deployments/d1")),
            {"eventType": "Microsoft.Storage.BlobCreated", "data": {}},
        ]);
        let decoded = decode(&batch).expect("events");
        assert_eq!(decoded.targets.len(), 2, "{decoded:?}");
        assert_eq!(
            decoded.targets[0].account, SUB,
            "a CloudEvent without subscriptionId is read off the URI"
        );
        assert_eq!(decoded.targets[0].key, group);
        assert_eq!(decoded.notes.len(), 5);
        assert!(decoded.notes[2].contains("did not succeed"));
        assert!(decoded.notes[3].ends_with("not a change Parapet follows"));
        assert!(decoded.notes[4].ends_with("not a change Parapet follows"));
    }

    #[test]
    fn what_is_not_an_event_or_lacks_a_field_is_refused_by_name() {
        assert_eq!(decode(&json!({"hello": 1})), Err(EventError::NotAnEvent));
        assert_eq!(decode(&json!([])), Err(EventError::NotAnEvent));
        assert_eq!(decode(&json!("text")), Err(EventError::NotAnEvent));
        let mut broken = write("Microsoft.Sql/servers/write", "/subscriptions/x");
        broken["data"]
            .as_object_mut()
            .expect("data")
            .remove("operationName");
        let refused = decode(&json!([
            write(
                "Microsoft.Sql/servers/write",
                "/subscriptions/x/resourceGroups/a/providers/Microsoft.Sql/servers/s"
            ),
            broken
        ]))
        .expect_err("a missing field");
        assert_eq!(
            refused.to_string(),
            "event 1 (Microsoft.Resources.ResourceWriteSuccess): no operationName"
        );
    }

    #[test]
    fn a_uri_shorter_than_its_type_names_no_resource() {
        let decoded = decode(&write(
            "Microsoft.Sql/servers/write",
            &format!("/subscriptions/{SUB}/resourceGroups/a/providers/Microsoft.Sql/servers"),
        ))
        .expect("an event");
        assert!(!decoded.targets[0].names_resource);
    }
}
