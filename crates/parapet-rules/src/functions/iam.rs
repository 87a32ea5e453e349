//! IAM policy functions: a policy's statements, whether a statement allows an
//! action (with `*` and `?` wildcards, `Action` and `NotAction`), whether a
//! principal is public, and whether a condition restricts who can use a
//! statement.
//!
//! A policy may be given as a document (`{"Statement": ...}`), as the JSON
//! text AWS returns for bucket and queue policies, as one statement, or as a
//! list of statements.

use super::error;
use crate::value::{field, from_json};
use cel_interpreter::objects::Key;
use cel_interpreter::{ExecutionError, Value};
use parapet_policy::Document;
use std::sync::Arc;

/// A CEL value read as a policy document.
#[derive(Clone, Copy)]
struct Cel<'a>(&'a Value);

impl<'a> Document<'a> for Cel<'a> {
    fn field(self, name: &str) -> Option<Self> {
        field(self.0, name).map(Cel)
    }

    fn text(self) -> Option<&'a str> {
        match self.0 {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    fn items(self) -> Option<impl Iterator<Item = Self>> {
        match self.0 {
            Value::List(items) => Some(items.iter().map(Cel)),
            _ => None,
        }
    }

    fn entries(self) -> Option<impl Iterator<Item = (&'a str, Self)>> {
        match self.0 {
            Value::Map(map) => Some(map.map.iter().filter_map(|(k, v)| match k {
                Key::String(k) => Some((k.as_str(), Cel(v))),
                _ => None,
            })),
            _ => None,
        }
    }

    fn is_null(self) -> bool {
        matches!(self.0, Value::Null)
    }

    fn is_map(self) -> bool {
        matches!(self.0, Value::Map(_))
    }

    fn shape(self) -> &'static str {
        match self.0 {
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::String(_) => "string",
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::UInt(_) | Value::Float(_) => "number",
            _ => "another type",
        }
    }
}

/// The statements of a policy, in any of the accepted shapes: a document,
/// the JSON text AWS returns for bucket and queue policies, one statement,
/// or a list of statements.
pub fn statements(function: &str, policy: &Value) -> Result<Vec<Value>, ExecutionError> {
    if let Value::String(text) = policy {
        let doc = parapet_policy::document::parse_text(text).map_err(|e| error(function, e))?;
        return statements(function, &from_json(&doc));
    }
    Ok(parapet_policy::statements(Cel(policy))
        .map_err(|e| error(function, e))?
        .into_iter()
        .map(|s| s.0.clone())
        .collect())
}

/// `coversAction(statement, action)`: whether the statement's `Action` (or
/// `NotAction`) covers `action`, whatever its effect.
pub fn covers_action_fn(statement: Value, action: Arc<String>) -> bool {
    parapet_policy::covers_action(Cel(&statement), &action)
}

/// `statements(policy)`: the policy's statements as a list.
pub fn statements_fn(policy: Value) -> Result<Value, ExecutionError> {
    Ok(Value::List(Arc::new(statements("statements", &policy)?)))
}

/// `allowsAction(policy, action)`: whether an `Allow` statement covers the
/// action and no unconditional `Deny` statement covers it too. Resources are
/// not considered. Given a principal's `permissions` (`{statements,
/// boundary}`), the action must also be allowed by its boundary, if any.
pub fn allows_action(policy: Value, action: Arc<String>) -> Result<bool, ExecutionError> {
    if let Some(granted) = field(&policy, "statements") {
        let granted = statements("allowsAction", granted)?;
        let granted: Vec<Cel<'_>> = granted.iter().map(Cel).collect();
        let boundary = match field(&policy, "boundary") {
            None | Some(Value::Null) => None,
            Some(boundary) => Some(statements("allowsAction", boundary)?),
        };
        let boundary: Option<Vec<Cel<'_>>> = boundary.as_ref().map(|b| b.iter().map(Cel).collect());
        return Ok(parapet_policy::allows_action_within(
            &granted,
            boundary.as_deref(),
            &action,
        ));
    }
    let statements = statements("allowsAction", &policy)?;
    let statements: Vec<Cel<'_>> = statements.iter().map(Cel).collect();
    Ok(parapet_policy::allows_action(&statements, &action))
}

/// `arnLike(arn, pattern)`: whether the ARN matches the pattern as IAM's
/// `ArnLike` reads it (`*` and `?` wildcards, case-sensitive).
pub fn arn_like(arn: Arc<String>, pattern: Arc<String>) -> bool {
    parapet_policy::arn_like(&arn, &pattern)
}

/// `isPublicPrincipal(principal)`: whether a principal is anyone.
pub fn is_public_principal_fn(principal: Value) -> bool {
    parapet_policy::is_public_principal(Cel(&principal))
}

/// `hasRestrictiveCondition(statement)`: whether a statement's condition
/// limits who can use it.
pub fn has_restrictive_condition_fn(statement: Value) -> bool {
    parapet_policy::has_restrictive_condition(Cel(&statement))
}

/// `publicStatements(policy)`: the `Allow` statements whose principal is
/// public and whose condition does not restrict it.
pub fn public_statements(policy: Value) -> Result<Value, ExecutionError> {
    let public: Vec<Value> = statements("publicStatements", &policy)?
        .into_iter()
        .filter(|s| parapet_policy::is_public_statement(Cel(s)))
        .collect();
    Ok(Value::List(Arc::new(public)))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{eval, fails_with, truth};
    use cel_interpreter::Value;

    #[test]
    fn action_wildcards_and_case() {
        let policy = r#"{"Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "iam:PassRole"], "Resource": "*"}]}"#;
        let expr = |action: &str| format!("allowsAction({policy:?}, '{action}')");
        assert!(truth(&expr("s3:GetObject")));
        assert!(truth(&expr("S3:getobject")));
        assert!(truth(&expr("iam:PassRole")));
        assert!(!truth(&expr("s3:PutObject")));
        assert!(truth(
            "allowsAction({'Effect': 'Allow', 'Action': '*'}, 'kms:Decrypt')"
        ));
        assert!(truth(
            "allowsAction({'Effect': 'Allow', 'Action': 's3:?etObject'}, 's3:GetObject')"
        ));
    }

    #[test]
    fn not_action_allows_everything_else() {
        let stmt = "{'Effect': 'Allow', 'NotAction': ['iam:*', 'organizations:*']}";
        assert!(truth(&format!("allowsAction({stmt}, 's3:DeleteBucket')")));
        assert!(!truth(&format!("allowsAction({stmt}, 'iam:CreateUser')")));
        assert!(!truth(&format!("allowsAction({stmt}, 'IAM:createuser')")));
    }

    #[test]
    fn unconditional_deny_wins_and_conditional_deny_does_not() {
        let policy = "[{'Effect': 'Allow', 'Action': '*'}, {'Effect': 'Deny', 'Action': 's3:*'}]";
        assert!(!truth(&format!("allowsAction({policy}, 's3:GetObject')")));
        assert!(truth(&format!(
            "allowsAction({policy}, 'ec2:RunInstances')"
        )));
        let conditional = "[{'Effect': 'Allow', 'Action': '*'}, {'Effect': 'Deny', 'Action': 's3:*', 'Condition': {'Bool': {'aws:SecureTransport': 'false'}}}]";
        assert!(truth(&format!(
            "allowsAction({conditional}, 's3:GetObject')"
        )));
        assert!(!truth(
            "allowsAction({'Effect': 'Deny', 'Action': '*'}, 's3:GetObject')"
        ));
        assert!(!truth("allowsAction({'Effect': 'Allow'}, 's3:GetObject')"));
    }

    #[test]
    fn covers_action_ignores_the_effect() {
        assert!(truth(
            "coversAction({'Effect': 'Deny', 'Action': 's3:*'}, 's3:GetObject')"
        ));
        assert!(truth(
            "coversAction({'Effect': 'Deny', 'NotAction': 'iam:*'}, 's3:GetObject')"
        ));
        assert!(!truth(
            "coversAction({'Effect': 'Deny', 'Action': ['ec2:*']}, 's3:GetObject')"
        ));
    }

    #[test]
    fn public_principals() {
        assert!(truth("isPublicPrincipal('*')"));
        assert!(truth("isPublicPrincipal({'AWS': '*'})"));
        assert!(truth(
            "isPublicPrincipal({'AWS': ['arn:aws:iam::111122223333:root', '*']})"
        ));
        assert!(truth("isPublicPrincipal({'CanonicalUser': '*'})"));
        assert!(truth("isPublicPrincipal({'AWS': 'arn:aws:iam::*:root'})"));
        assert!(!truth(
            "isPublicPrincipal({'AWS': 'arn:aws:iam::111122223333:root'})"
        ));
        assert!(!truth(
            "isPublicPrincipal({'Service': 'cloudtrail.amazonaws.com'})"
        ));
        assert!(!truth(
            "isPublicPrincipal('arn:aws:iam::111122223333:root')"
        ));
        assert!(!truth("isPublicPrincipal(null)"));
    }

    #[test]
    fn restrictive_conditions() {
        assert!(truth(
            "hasRestrictiveCondition({'Condition': {'StringEquals': {'aws:SourceAccount': '111122223333'}}})"
        ));
        assert!(truth(
            "hasRestrictiveCondition({'Condition': {'IpAddress': {'aws:SourceIp': ['203.0.113.0/24']}}})"
        ));
        assert!(truth(
            "hasRestrictiveCondition({'Condition': {'StringEquals': {'aws:PrincipalOrgID': 'o-abc'}}})"
        ));
        assert!(!truth(
            "hasRestrictiveCondition({'Condition': {'StringLike': {'aws:PrincipalArn': '*'}}})"
        ));
        assert!(!truth(
            "hasRestrictiveCondition({'Condition': {'IpAddress': {'aws:SourceIp': '0.0.0.0/0'}}})"
        ));
        assert!(!truth(
            "hasRestrictiveCondition({'Condition': {'NotIpAddress': {'aws:SourceIp': '203.0.113.0/24'}}})"
        ));
        assert!(!truth(
            "hasRestrictiveCondition({'Condition': {'StringEqualsIfExists': {'aws:SourceVpc': 'vpc-1'}}})"
        ));
        assert!(!truth(
            "hasRestrictiveCondition({'Condition': {'Bool': {'aws:SecureTransport': 'true'}}})"
        ));
        assert!(!truth("hasRestrictiveCondition({'Effect': 'Allow'})"));
    }

    #[test]
    fn public_statements_from_policy_text() {
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"},{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:PutObject","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}},{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:*"}]}"#;
        let result = eval(&format!("size(publicStatements({policy:?}))")).expect("evaluates");
        assert_eq!(result, Value::Int(1));
        assert!(truth(&format!(
            "publicStatements({policy:?})[0].Action == 's3:GetObject'"
        )));
        assert!(truth("size(statements(null)) == 0"));
        fails_with("statements('{not json')", "not JSON");
        fails_with("statements({'Statement': 3})", "must be a list or a map");
        fails_with("statements({'Version': '2012-10-17'})", "not a policy");
    }
}
