//! Effective permissions: for each principal of an estate, every policy
//! statement that reaches it, joined through its relationships, and its
//! permissions boundary. A principal is an asset with inline policies
//! (`InlinePolicies: [{PolicyName, PolicyDocument}]`) or attached managed
//! policies (`has_policy` edges to assets whose configuration holds their
//! `PolicyDocument`); a member (`member_of`) holds its groups' policies; a
//! `permissions_boundary` edge names the policy that caps them.

use crate::facts::related;
use parapet_core::{Asset, PermissionFacts, Permissions, Relationship};
use serde_json::Value;
use std::collections::HashMap;

/// The configuration field of a principal's inline policies.
const INLINE: &str = "InlinePolicies";
/// The configuration field of a managed policy's document.
const DOCUMENT: &str = "PolicyDocument";

/// The permissions of every principal of `estate`; those that depend on a
/// policy or group that was not collected (or could not be read) are
/// undecided, with why.
pub fn permissions(estate: &[&Asset]) -> PermissionFacts {
    let by_id: HashMap<&str, &Asset> = estate.iter().map(|a| (a.id.as_str(), *a)).collect();
    let mut facts = PermissionFacts::default();
    for asset in estate.iter().copied().filter(|a| is_principal(a)) {
        match principal(asset, &by_id) {
            Ok(permissions) => {
                facts.principals.insert(asset.id.clone(), permissions);
            }
            Err(why) => {
                facts.undecided.insert(asset.id.clone(), why);
            }
        }
    }
    facts
}

/// Whether an asset holds policies of its own.
fn is_principal(asset: &Asset) -> bool {
    asset.config.get(INLINE).is_some()
        || asset.unknown.contains_key(INLINE)
        || related(asset, Relationship::HAS_POLICY).next().is_some()
}

fn principal(asset: &Asset, by_id: &HashMap<&str, &Asset>) -> Result<Permissions, String> {
    let mut statements = Vec::new();
    own(asset, by_id, None, &mut statements)?;
    for group_id in related(asset, Relationship::MEMBER_OF) {
        let group = by_id
            .get(group_id)
            .ok_or_else(|| format!("its group {group_id} was not collected"))?;
        if is_principal(group) {
            own(group, by_id, Some(group), &mut statements)?;
        }
    }
    let boundary = related(asset, Relationship::PERMISSIONS_BOUNDARY)
        .next()
        .map(|arn| {
            let policy = managed(arn, by_id)?;
            let mut boundary = Vec::new();
            push_statements(
                &policy.config[DOCUMENT],
                &format!("permissions boundary `{}`", policy.name),
                &mut boundary,
            );
            Ok::<_, String>(boundary)
        })
        .transpose()?;
    Ok(Permissions {
        statements,
        boundary,
    })
}

/// The statements of `asset`'s inline and managed policies, appended to
/// `out`; `via` is the group they reach a member through.
fn own(
    asset: &Asset,
    by_id: &HashMap<&str, &Asset>,
    via: Option<&Asset>,
    out: &mut Vec<Value>,
) -> Result<(), String> {
    let through = via.map_or(String::new(), |g| format!(" through group `{}`", g.name));
    for field in [INLINE, "AttachedPolicies"] {
        if let Some(reason) = asset.unknown.get(field) {
            return Err(format!(
                "`{field}` of {} could not be collected: {reason}",
                asset.name
            ));
        }
    }
    for inline in asset
        .config
        .get(INLINE)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(name), Some(document)) = (
            inline.get("PolicyName").and_then(Value::as_str),
            inline.get(DOCUMENT),
        ) else {
            return Err(format!(
                "the inline policy documents of {} were not collected",
                asset.name
            ));
        };
        push_statements(document, &format!("inline policy `{name}`{through}"), out);
    }
    for arn in related(asset, Relationship::HAS_POLICY) {
        let policy = managed(arn, by_id)?;
        push_statements(
            &policy.config[DOCUMENT],
            &format!("managed policy `{}`{through}", policy.name),
            out,
        );
    }
    Ok(())
}

/// The managed policy `arn`, collected with its document.
fn managed<'a>(arn: &str, by_id: &HashMap<&str, &'a Asset>) -> Result<&'a Asset, String> {
    let policy = by_id
        .get(arn)
        .ok_or_else(|| format!("the managed policy {arn} was not collected"))?;
    if let Some(reason) = policy.unknown.get(DOCUMENT) {
        return Err(format!(
            "the document of {arn} could not be collected: {reason}"
        ));
    }
    Ok(policy)
}

/// Appends a document's statements, each with its `Source`. A document
/// that is not a policy adds nothing: rules read what there is.
fn push_statements(document: &Value, source: &str, out: &mut Vec<Value>) {
    let Ok(statements) = parapet_policy::statements(document) else {
        return;
    };
    for statement in statements {
        let mut statement = statement.clone();
        if let Value::Object(fields) = &mut statement {
            fields.insert("Source".to_owned(), Value::String(source.to_owned()));
        }
        out.push(statement);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn asset(id: &str, config: Value, relationships: Value) -> Asset {
        serde_json::from_value(json!({
            "id": id, "provider": "aws", "account": "1", "region": "global",
            "resource_type": "AWS::IAM::User", "name": id.rsplit('/').next(), "config": config,
            "relationships": relationships, "observed_at": "2026-11-29T10:00:00Z",
        }))
        .expect("an asset")
    }

    fn document(action: &str) -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})
    }

    fn sources(permissions: &Permissions) -> Vec<(&str, &str)> {
        permissions
            .statements
            .iter()
            .map(|s| {
                (
                    s["Action"].as_str().unwrap_or_default(),
                    s["Source"].as_str().unwrap_or_default(),
                )
            })
            .collect()
    }

    #[test]
    fn a_member_holds_its_own_its_groups_and_their_managed_policies_within_its_boundary() {
        let admin = asset(
            "arn:aws:iam::1:policy/Admin",
            json!({"PolicyDocument": document("*")}),
            json!([]),
        );
        let s3 = asset(
            "arn:aws:iam::aws:policy/S3Only",
            json!({"PolicyDocument": document("s3:*")}),
            json!([]),
        );
        let group = asset(
            "arn:aws:iam::1:group/ops",
            json!({"InlinePolicies": [{"PolicyName": "read", "PolicyDocument": document("ec2:Describe*")}]}),
            json!([{"kind": "has_policy", "target": "arn:aws:iam::1:policy/Admin"}]),
        );
        let user = asset(
            "arn:aws:iam::1:user/bob",
            json!({"InlinePolicies": [{"PolicyName": "own", "PolicyDocument": document("iam:PassRole")}]}),
            json!([
                {"kind": "member_of", "target": "arn:aws:iam::1:group/ops"},
                {"kind": "permissions_boundary", "target": "arn:aws:iam::aws:policy/S3Only"}
            ]),
        );
        let facts = permissions(&[&admin, &s3, &group, &user]);
        let bob = &facts.principals["arn:aws:iam::1:user/bob"];
        assert_eq!(
            sources(bob),
            [
                ("iam:PassRole", "inline policy `own`"),
                ("ec2:Describe*", "inline policy `read` through group `ops`"),
                ("*", "managed policy `Admin` through group `ops`"),
            ]
        );
        let boundary = bob.boundary.as_ref().expect("a boundary");
        assert_eq!(boundary[0]["Action"], "s3:*");
        assert_eq!(
            sources(&facts.principals["arn:aws:iam::1:group/ops"]).len(),
            2
        );
        assert!(!facts.principals.contains_key("arn:aws:iam::1:policy/Admin"));
    }

    #[test]
    fn a_policy_or_group_not_collected_leaves_the_permissions_undecided() {
        let user = asset(
            "arn:aws:iam::1:user/bob",
            json!({"InlinePolicies": []}),
            json!([{"kind": "has_policy", "target": "arn:aws:iam::1:policy/Gone"}]),
        );
        let member = asset(
            "arn:aws:iam::1:user/eve",
            json!({"InlinePolicies": []}),
            json!([{"kind": "member_of", "target": "arn:aws:iam::1:group/gone"}]),
        );
        let mut denied = asset("arn:aws:iam::1:role/r", json!({}), json!([]));
        denied.unknown.insert(
            "InlinePolicies".to_owned(),
            "AccessDenied: iam:ListRolePolicies".to_owned(),
        );
        let facts = permissions(&[&user, &member, &denied]);
        assert!(facts.principals.is_empty());
        assert!(facts.undecided["arn:aws:iam::1:user/bob"].contains("policy/Gone"));
        assert!(facts.undecided["arn:aws:iam::1:user/eve"].contains("group/gone"));
        assert!(facts.undecided["arn:aws:iam::1:role/r"].contains("AccessDenied"));
    }
}
