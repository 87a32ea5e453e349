//! Statements and what they say: their effect, the actions they cover, the
//! principals they name and the conditions that narrow them.

use crate::document::Document;
use crate::error::PolicyError;
use wildmatch::WildMatch;

/// The statements of a policy given as a document (`{"Statement": ...}`),
/// one statement, a list of statements, or null (none). Policy text must be
/// parsed first ([`crate::document::parse_text`]).
pub fn statements<'a, D: Document<'a>>(policy: D) -> Result<Vec<D>, PolicyError> {
    if policy.is_null() {
        return Ok(Vec::new());
    }
    if let Some(items) = policy.items() {
        return Ok(items.collect());
    }
    if !policy.is_map() {
        return Err(PolicyError::NotAPolicy(policy.shape()));
    }
    match policy.field("Statement") {
        Some(list) if list.items().is_some() => Ok(list.items().into_iter().flatten().collect()),
        Some(one) if one.is_map() => Ok(vec![one]),
        Some(other) => Err(PolicyError::StatementShape {
            found: other.shape(),
        }),
        None if policy.field("Effect").is_some() => Ok(vec![policy]),
        None => Err(PolicyError::NotAPolicy("no `Statement` and no `Effect`")),
    }
}

/// Whether a statement's `Effect` is `effect` (`Allow`, `Deny`), in any
/// case.
pub fn effect_is<'a, D: Document<'a>>(statement: D, effect: &str) -> bool {
    statement
        .field("Effect")
        .and_then(Document::text)
        .is_some_and(|e| e.eq_ignore_ascii_case(effect))
}

/// Whether an IAM action pattern matches `action`, case-insensitively. The
/// common shapes (`*`, an exact name, `service:*`) are decided without
/// building a matcher.
pub fn action_matches(pattern: &str, action: &str) -> bool {
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

/// Whether an ARN matches a pattern as IAM's `ArnLike` reads it: `*` any
/// run of characters, `?` one, case-sensitively.
pub fn arn_like(arn: &str, pattern: &str) -> bool {
    WildMatch::new(pattern).matches(arn)
}

/// Whether one statement's `Action` (or `NotAction`) covers `action`,
/// whatever its effect. IAM action names are case-insensitive; `*` and `?`
/// are wildcards.
pub fn covers_action<'a, D: Document<'a>>(statement: D, action: &str) -> bool {
    let matches = |patterns: D| patterns.strings().any(|p| action_matches(p, action));
    if let Some(actions) = statement.field("Action") {
        matches(actions)
    } else if let Some(not_actions) = statement.field("NotAction") {
        !matches(not_actions)
    } else {
        false
    }
}

/// Whether an `Allow` statement covers the action and no unconditional
/// `Deny` statement covers it too. Resources are not considered.
///
/// With a permissions boundary, see [`allows_action_within`].
pub fn allows_action<'a, D: Document<'a>>(statements: &[D], action: &str) -> bool {
    let allowed = statements
        .iter()
        .any(|s| effect_is(*s, "Allow") && covers_action(*s, action));
    let denied = statements.iter().any(|s| {
        effect_is(*s, "Deny") && s.field("Condition").is_none() && covers_action(*s, action)
    });
    allowed && !denied
}

/// Whether a principal's policies allow an action and its permissions
/// boundary (when it has one) allows it too: IAM grants an action only
/// where both do.
pub fn allows_action_within<'a, D: Document<'a>>(
    statements: &[D],
    boundary: Option<&[D]>,
    action: &str,
) -> bool {
    allows_action(statements, action) && boundary.is_none_or(|b| allows_action(b, action))
}

fn is_public_principal_value(value: &str) -> bool {
    value == "*" || value.starts_with("arn:aws:iam::*:")
}

/// Whether a principal is anyone: `"*"`, `{"AWS": "*"}`, `{"AWS": ["*"]}`,
/// `{"CanonicalUser": "*"}`, or an ARN with a wildcard account.
pub fn is_public_principal<'a, D: Document<'a>>(principal: D) -> bool {
    if let Some(text) = principal.text() {
        return text == "*";
    }
    principal.is_map()
        && ["AWS", "CanonicalUser"].iter().any(|kind| {
            principal
                .field(kind)
                .is_some_and(|v| v.strings().any(is_public_principal_value))
        })
}

/// Condition keys that narrow who may use a statement, or from where, when
/// tested with a positive operator against a value without wildcards.
pub const RESTRICTING_KEYS: &[&str] = &[
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
/// `...IfExists`) with no value that admits everyone (`*`, `0.0.0.0/0`,
/// `::/0`).
pub fn has_restrictive_condition<'a, D: Document<'a>>(statement: D) -> bool {
    let Some(mut condition) = statement.field("Condition").and_then(Document::entries) else {
        return false;
    };
    condition.any(|(operator, tests)| {
        let operator = operator.to_ascii_lowercase();
        if operator.contains("not") || operator.ends_with("ifexists") {
            return false;
        }
        let Some(mut tests) = tests.entries() else {
            return false;
        };
        tests.any(|(key, values)| {
            let mut values = values.strings().peekable();
            RESTRICTING_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
                && values.peek().is_some()
                && !values.any(|v| v == "*" || v == "0.0.0.0/0" || v == "::/0")
        })
    })
}

/// Whether a statement allows a public principal without a condition that
/// restricts it: a statement that makes its resource public.
pub fn is_public_statement<'a, D: Document<'a>>(statement: D) -> bool {
    effect_is(statement, "Allow")
        && statement
            .field("Principal")
            .is_some_and(is_public_principal)
        && !has_restrictive_condition(statement)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn a_boundary_caps_what_policies_allow_and_arns_match_like_iam() {
        let admin = json!({"Effect": "Allow", "Action": "*", "Resource": "*"});
        let s3 = json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"});
        let granted = [&admin];
        assert!(allows_action_within(&granted, None, "iam:PassRole"));
        let boundary = [&s3];
        assert!(!allows_action_within(
            &granted,
            Some(&boundary),
            "iam:PassRole"
        ));
        assert!(allows_action_within(
            &granted,
            Some(&boundary),
            "s3:GetObject"
        ));
        let nothing: [&Value; 0] = [];
        assert!(!allows_action_within(
            &nothing,
            Some(&boundary),
            "s3:GetObject"
        ));
        assert!(arn_like(
            "arn:aws:iam::123456789012:role/OrganizationAccountAccessRole",
            "arn:aws:iam::*:role/OrganizationAccountAccessRole"
        ));
        assert!(!arn_like(
            "arn:aws:iam::123456789012:role/organizationaccountaccessrole",
            "arn:aws:iam::*:role/OrganizationAccountAccessRole"
        ));
        assert!(arn_like(
            "arn:aws:iam::1:user/ops-1",
            "arn:aws:iam::1:user/ops-?"
        ));
    }

    #[test]
    fn statements_of_every_shape() {
        let one = json!({"Effect": "Allow", "Action": "*"});
        let doc = json!({"Statement": [one.clone(), one.clone()]});
        assert_eq!(statements(&doc).expect("a policy").len(), 2);
        assert_eq!(
            statements(&json!({"Statement": one.clone()}))
                .expect("a policy")
                .len(),
            1
        );
        assert_eq!(statements(&one).expect("a statement").len(), 1);
        assert_eq!(statements(&json!([one])).expect("a list").len(), 1);
        assert!(statements(&Value::Null).expect("none").is_empty());
        assert_eq!(
            statements(&json!({"Statement": 3})),
            Err(PolicyError::StatementShape { found: "number" })
        );
        assert!(matches!(
            statements(&json!({"Version": "2012-10-17"})),
            Err(PolicyError::NotAPolicy(_))
        ));
        assert!(matches!(
            crate::document::parse_text("{not json"),
            Err(PolicyError::NotJson(_))
        ));
    }

    #[test]
    fn actions_with_wildcards_not_actions_and_denies() {
        assert!(action_matches("S3:GETOBJECT", "s3:GetObject"));
        assert!(action_matches("s3:Get*", "s3:getobject"));
        assert!(action_matches("s3:?etObject", "s3:GetObject"));
        assert!(!action_matches("s3:*", "s3"));
        let policy = json!([
            {"Effect": "Allow", "NotAction": ["iam:*"]},
            {"Effect": "Deny", "Action": "s3:Delete*"},
            {"Effect": "Deny", "Action": "ec2:*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}
        ]);
        let statements = statements(&policy).expect("a policy");
        assert!(allows_action(&statements, "ec2:RunInstances"));
        assert!(!allows_action(&statements, "iam:CreateUser"));
        assert!(!allows_action(&statements, "s3:DeleteBucket"));
        assert!(covers_action(&policy[1], "s3:DeleteObject"));
    }

    #[test]
    fn public_statements_are_unrestricted_grants_to_everyone() {
        let public = json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"});
        assert!(is_public_statement(&public));
        assert!(is_public_principal(
            &json!({"AWS": ["arn:aws:iam::*:root"]})
        ));
        assert!(!is_public_principal(
            &json!({"Service": "cloudtrail.amazonaws.com"})
        ));
        let restricted = json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*",
            "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}});
        assert!(!is_public_statement(&restricted));
        let open_anyway = json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*",
            "Condition": {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}});
        assert!(is_public_statement(&open_anyway));
        let negated = json!({"Effect": "Allow", "Principal": "*",
            "Condition": {"StringNotEquals": {"aws:SourceAccount": "1"}}});
        assert!(is_public_statement(&negated));
        let denied = json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*"});
        assert!(!is_public_statement(&denied));
    }
}
