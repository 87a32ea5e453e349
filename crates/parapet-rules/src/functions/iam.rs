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
use std::sync::Arc;
use wildmatch::WildMatch;

/// A string or list of strings, as IAM writes `Action`, `Resource` and
/// principal values.
fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::List(items) => items
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.as_str()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The statements of a policy, in any of the accepted shapes.
pub fn statements(function: &str, policy: &Value) -> Result<Vec<Value>, ExecutionError> {
    match policy {
        Value::String(text) => {
            let doc: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| error(function, format!("policy text is not JSON: {e}")))?;
            statements(function, &from_json(&doc))
        }
        Value::List(items) => Ok(items.iter().cloned().collect()),
        Value::Map(_) => match field(policy, "Statement") {
            Some(Value::List(items)) => Ok(items.iter().cloned().collect()),
            Some(statement @ Value::Map(_)) => Ok(vec![statement.clone()]),
            Some(other) => Err(error(
                function,
                format!(
                    "`Statement` must be a list or a map, found {:?}",
                    other.type_of()
                ),
            )),
            None if field(policy, "Effect").is_some() => Ok(vec![policy.clone()]),
            None => Err(error(
                function,
                "not a policy: no `Statement` and no `Effect`",
            )),
        },
        Value::Null => Ok(Vec::new()),
        other => Err(error(
            function,
            format!("not a policy: {:?}", other.type_of()),
        )),
    }
}

fn effect_is(statement: &Value, effect: &str) -> bool {
    matches!(field(statement, "Effect"), Some(Value::String(e)) if e.eq_ignore_ascii_case(effect))
}

/// Whether an IAM action pattern matches `action`, case-insensitively. The
/// common shapes (`*`, an exact name, `service:*`) are decided without
/// building a matcher.
fn action_matches(pattern: &str, action: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.find(['*', '?']) {
        None => pattern.eq_ignore_ascii_case(action),
        Some(at) if at == pattern.len() - 1 && pattern.ends_with('*') => action
            .get(..at)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(&pattern[..at])),
        Some(_) => WildMatch::new_case_insensitive(pattern).matches(action),
    }
}

/// Whether one statement's `Action` or `NotAction` covers `action`. IAM
/// action names are case-insensitive; `*` and `?` are wildcards.
fn covers_action(statement: &Value, action: &str) -> bool {
    let matches = |patterns: &Value| {
        strings(patterns)
            .into_iter()
            .any(|p| action_matches(p, action))
    };
    if let Some(actions) = field(statement, "Action") {
        matches(actions)
    } else if let Some(not_actions) = field(statement, "NotAction") {
        !matches(not_actions)
    } else {
        false
    }
}

/// `coversAction(statement, action)`: whether the statement's `Action` (or
/// `NotAction`) covers `action`, whatever its effect.
pub fn covers_action_fn(statement: Value, action: Arc<String>) -> bool {
    covers_action(&statement, &action)
}

/// `statements(policy)`: the policy's statements as a list.
pub fn statements_fn(policy: Value) -> Result<Value, ExecutionError> {
    Ok(Value::List(Arc::new(statements("statements", &policy)?)))
}

/// `allowsAction(policy, action)`: whether an `Allow` statement covers the
/// action and no unconditional `Deny` statement covers it too. Resources are
/// not considered.
pub fn allows_action(policy: Value, action: Arc<String>) -> Result<bool, ExecutionError> {
    let statements = statements("allowsAction", &policy)?;
    let allowed = statements
        .iter()
        .any(|s| effect_is(s, "Allow") && covers_action(s, &action));
    let denied = statements.iter().any(|s| {
        effect_is(s, "Deny") && field(s, "Condition").is_none() && covers_action(s, &action)
    });
    Ok(allowed && !denied)
}

fn is_public_principal_value(value: &str) -> bool {
    value == "*" || value.starts_with("arn:aws:iam::*:")
}

/// Whether a principal is anyone: `"*"`, `{"AWS": "*"}`, `{"AWS": ["*"]}`,
/// `{"CanonicalUser": "*"}`, or an ARN with a wildcard account.
pub fn is_public_principal(principal: &Value) -> bool {
    match principal {
        Value::String(s) => s.as_str() == "*",
        Value::Map(_) => ["AWS", "CanonicalUser"].iter().any(|kind| {
            field(principal, kind)
                .map(|v| strings(v).into_iter().any(is_public_principal_value))
                .unwrap_or(false)
        }),
        _ => false,
    }
}

/// `isPublicPrincipal(principal)`: see [`is_public_principal`].
pub fn is_public_principal_fn(principal: Value) -> bool {
    is_public_principal(&principal)
}

/// Condition keys that narrow who may use a statement, or from where, when
/// tested with a positive operator against a value without wildcards.
const RESTRICTING_KEYS: &[&str] = &[
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceowner",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:sourceip",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:userid",
    "aws:username",
    "kms:calleraccount",
];

/// Whether a statement's `Condition` limits who can use it: some key of
/// [`RESTRICTING_KEYS`] under a positive operator (not `Not...`, not
/// `...IfExists`) with no value that admits everyone (`*`, `0.0.0.0/0`, `::/0`).
pub fn has_restrictive_condition(statement: &Value) -> bool {
    let Some(Value::Map(condition)) = field(statement, "Condition") else {
        return false;
    };
    condition.map.iter().any(|(operator, tests)| {
        let Key::String(operator) = operator else {
            return false;
        };
        let operator = operator.to_ascii_lowercase();
        if operator.contains("not") || operator.ends_with("ifexists") {
            return false;
        }
        let Value::Map(tests) = tests else {
            return false;
        };
        tests.map.iter().any(|(key, values)| {
            let Key::String(key) = key else { return false };
            let values = strings(values);
            RESTRICTING_KEYS.contains(&key.to_ascii_lowercase().as_str())
                && !values.is_empty()
                && !values
                    .iter()
                    .any(|v| *v == "*" || *v == "0.0.0.0/0" || *v == "::/0")
        })
    })
}

/// `hasRestrictiveCondition(statement)`: see [`has_restrictive_condition`].
pub fn has_restrictive_condition_fn(statement: Value) -> bool {
    has_restrictive_condition(&statement)
}

/// Whether a statement allows a public principal without a condition that
/// restricts it: a statement that makes its resource public.
pub fn is_public_statement(statement: &Value) -> bool {
    effect_is(statement, "Allow")
        && field(statement, "Principal").is_some_and(is_public_principal)
        && !has_restrictive_condition(statement)
}

/// `publicStatements(policy)`: the `Allow` statements whose principal is
/// public and whose condition does not restrict it.
pub fn public_statements(policy: Value) -> Result<Value, ExecutionError> {
    let public: Vec<Value> = statements("publicStatements", &policy)?
        .into_iter()
        .filter(is_public_statement)
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
    fn action_patterns() {
        use super::action_matches;
        assert!(action_matches("*", "s3:GetObject"));
        assert!(action_matches("S3:GETOBJECT", "s3:GetObject"));
        assert!(action_matches("s3:*", "S3:PutObject"));
        assert!(action_matches("s3:Get*", "s3:getobject"));
        assert!(!action_matches("s3:Get*", "s3:PutObject"));
        assert!(action_matches("s3:*Object", "s3:GetObject"));
        assert!(action_matches("s3:?etObject", "s3:GetObject"));
        assert!(!action_matches("s3:*", "s3"));
        assert!(!action_matches("ec2:*", "s3:GetObject"));
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
