//! IAM policy functions: a policy's statements, whether a statement allows an
//! action (with `*` and `?` wildcards, `Action` and `NotAction`), whether a
//! principal is public, and whether a condition restricts who can use a
//! statement.
//!
//! A policy may be given as a document (`{"Statement": ...}`), as the JSON
//! text AWS returns for bucket and queue policies, as one statement, or as a
//! list of statements.

use super::{arg, error, text};
use crate::cel::{Env, EvalError, Val};
use parapet_policy::document::parse_text;
use serde_json::Value as Json;
use std::borrow::Cow;

/// A value as the JSON document the policy analysis reads: a document
/// read in place, anything else (a string, a value the condition built)
/// converted.
fn document<'a>(value: &Val<'a>) -> Cow<'a, Json> {
    value.as_json().unwrap_or(Cow::Owned(Json::Null))
}

/// Runs `f` over the statements of `policy` (a document, policy text, one
/// statement or a list of statements).
fn with_statements<R>(
    function: &str,
    policy: &Json,
    f: impl FnOnce(&[&Json]) -> R,
) -> Result<R, EvalError> {
    if let Json::String(text) = policy {
        let parsed = parse_text(text).map_err(|e| error(function, e))?;
        let statements = parapet_policy::statements(&parsed).map_err(|e| error(function, e))?;
        return Ok(f(&statements));
    }
    let statements = parapet_policy::statements(policy).map_err(|e| error(function, e))?;
    Ok(f(&statements))
}

/// The statements of a policy as values: read in place where the policy
/// is a document, built where it was text or built by the condition.
fn statement_values<'a>(
    function: &str,
    policy: &Val<'a>,
    keep: impl Fn(&Json) -> bool,
) -> Result<Vec<Val<'a>>, EvalError> {
    match document(policy) {
        Cow::Borrowed(json) if !json.is_string() => Ok(parapet_policy::statements(json)
            .map_err(|e| error(function, e))?
            .into_iter()
            .filter(|s| keep(s))
            .map(Val::json)
            .collect()),
        other => with_statements(function, &other, |statements| {
            statements
                .iter()
                .filter(|s| keep(s))
                .map(|s| Val::owned_json(s))
                .collect()
        }),
    }
}

/// `statements(policy)`: the policy's statements as a list.
pub fn statements_fn<'a>(args: &[Val<'a>], _: &Env<'a>) -> Result<Val<'a>, EvalError> {
    Ok(Val::list(statement_values(
        "statements",
        &arg(args, 0),
        |_| true,
    )?))
}

/// `coversAction(statement, action)`: whether the statement's `Action` (or
/// `NotAction`) covers `action`, whatever its effect.
pub fn covers_action_fn<'a>(args: &[Val<'a>], _: &Env<'a>) -> Result<Val<'a>, EvalError> {
    let action = text("coversAction", args, 1)?;
    let statement = document(&arg(args, 0));
    Ok(Val::Bool(parapet_policy::covers_action(
        &*statement,
        action,
    )))
}

/// `allowsAction(policy, action)`: whether an `Allow` statement covers the
/// action and no unconditional `Deny` statement covers it too. Resources are
/// not considered. Given a principal's `permissions` (`{statements,
/// boundary}`), the action must also be allowed by its boundary, if any.
pub fn allows_action<'a>(args: &[Val<'a>], _: &Env<'a>) -> Result<Val<'a>, EvalError> {
    let f = "allowsAction";
    let action = text(f, args, 1)?;
    let policy = document(&arg(args, 0));
    if let Some(granted) = policy.get("statements") {
        let allowed = with_statements(f, granted, |granted| match policy.get("boundary") {
            None | Some(Json::Null) => {
                Ok(parapet_policy::allows_action_within(granted, None, action))
            }
            Some(boundary) => with_statements(f, boundary, |boundary| {
                parapet_policy::allows_action_within(granted, Some(boundary), action)
            }),
        })??;
        return Ok(Val::Bool(allowed));
    }
    let allowed = with_statements(f, &policy, |statements| {
        parapet_policy::allows_action(statements, action)
    })?;
    Ok(Val::Bool(allowed))
}

/// `arnLike(arn, pattern)`: whether the ARN matches the pattern as IAM's
/// `ArnLike` reads it (`*` and `?` wildcards, case-sensitive).
pub fn arn_like<'a>(args: &[Val<'a>], _: &Env<'a>) -> Result<Val<'a>, EvalError> {
    Ok(Val::Bool(parapet_policy::arn_like(
        text("arnLike", args, 0)?,
        text("arnLike", args, 1)?,
    )))
}

/// `isPublicPrincipal(principal)`: whether a principal is anyone.
pub fn is_public_principal_fn<'a>(args: &[Val<'a>], _: &Env<'a>) -> Result<Val<'a>, EvalError> {
    let principal = document(&arg(args, 0));
    Ok(Val::Bool(parapet_policy::is_public_principal(&*principal)))
}

/// `hasRestrictiveCondition(statement)`: whether a statement's condition
/// limits who can use it.
pub fn has_restrictive_condition_fn<'a>(
    args: &[Val<'a>],
    _: &Env<'a>,
) -> Result<Val<'a>, EvalError> {
    let statement = document(&arg(args, 0));
    Ok(Val::Bool(parapet_policy::has_restrictive_condition(
        &*statement,
    )))
}

/// `publicStatements(policy)`: the `Allow` statements whose principal is
/// public and whose condition does not restrict it.
pub fn public_statements<'a>(args: &[Val<'a>], _: &Env<'a>) -> Result<Val<'a>, EvalError> {
    Ok(Val::list(statement_values(
        "publicStatements",
        &arg(args, 0),
        |s| parapet_policy::is_public_statement(s),
    )?))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{eval, fails_with, truth};
    use crate::cel::Val;

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
        assert_eq!(result, Val::Int(1));
        assert!(truth(&format!(
            "publicStatements({policy:?})[0].Action == 's3:GetObject'"
        )));
        assert!(truth("size(statements(null)) == 0"));
        fails_with("statements('{not json')", "not JSON");
        fails_with("statements({'Statement': 3})", "must be a list or a map");
        fails_with("statements({'Version': '2012-10-17'})", "not a policy");
    }
}
