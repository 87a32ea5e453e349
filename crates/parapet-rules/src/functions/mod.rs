//! The functions Parapet adds to CEL for cloud rules, each documented with
//! examples in `docs/rules.md`.
//!
//! # Layout
//!
//! - [`network`]: CIDR containment, "is this the whole internet", public
//!   ranges, port-range overlap.
//! - [`iam`]: IAM policy helpers: statements, actions with wildcards, public
//!   principals, restrictive conditions.
//! - [`time`]: age in days of a timestamp, against the `now` variable.
//! - [`fields`]: safe access to fields that may be missing, and `unknown()`.

pub mod fields;
pub mod iam;
pub mod network;
pub mod time;

use crate::cel::{Env, EvalError, Val};

/// A function Parapet adds to CEL.
#[derive(Debug, Clone, Copy)]
pub struct FunctionDecl {
    /// Its name, called as `name(args...)`.
    pub name: &'static str,
    /// How many arguments it takes.
    pub arity: usize,
    /// Its signature and what it returns, for `docs/rules.md` and errors.
    pub signature: &'static str,
    /// Its implementation.
    pub call: Custom,
}

/// A function's implementation: its arguments (as many as its arity,
/// checked at load) and the environment of the asset evaluated.
pub type Custom = for<'a> fn(&[Val<'a>], &Env<'a>) -> Result<Val<'a>, EvalError>;

/// Every function Parapet adds, with its arity; [`register`] adds each one.
pub const FUNCTIONS: &[FunctionDecl] = &[
    FunctionDecl {
        name: "cidrContains",
        arity: 2,
        signature: "cidrContains(range string, address_or_range string) bool",
        call: network::cidr_contains,
    },
    FunctionDecl {
        name: "isInternet",
        arity: 1,
        signature: "isInternet(range string) bool",
        call: network::is_internet,
    },
    FunctionDecl {
        name: "isPublicCidr",
        arity: 1,
        signature: "isPublicCidr(range string) bool",
        call: network::is_public_cidr,
    },
    FunctionDecl {
        name: "portRangeIncludes",
        arity: 3,
        signature: "portRangeIncludes(from int, to int, port int) bool",
        call: network::port_range_includes,
    },
    FunctionDecl {
        name: "portRangesOverlap",
        arity: 4,
        signature: "portRangesOverlap(from1 int, to1 int, from2 int, to2 int) bool",
        call: network::port_ranges_overlap,
    },
    FunctionDecl {
        name: "portSpecIncludes",
        arity: 2,
        signature: "portSpecIncludes(spec string, port int) bool",
        call: network::port_spec_includes,
    },
    FunctionDecl {
        name: "permissionText",
        arity: 1,
        signature: "permissionText(permission map) string",
        call: network::permission_text,
    },
    FunctionDecl {
        name: "statements",
        arity: 1,
        signature: "statements(policy) list(map)",
        call: iam::statements_fn,
    },
    FunctionDecl {
        name: "coversAction",
        arity: 2,
        signature: "coversAction(statement map, action string) bool",
        call: iam::covers_action_fn,
    },
    FunctionDecl {
        name: "allowsAction",
        arity: 2,
        signature: "allowsAction(policy_or_statement_or_permissions, action string) bool",
        call: iam::allows_action,
    },
    FunctionDecl {
        name: "isPublicPrincipal",
        arity: 1,
        signature: "isPublicPrincipal(principal) bool",
        call: iam::is_public_principal_fn,
    },
    FunctionDecl {
        name: "hasRestrictiveCondition",
        arity: 1,
        signature: "hasRestrictiveCondition(statement map) bool",
        call: iam::has_restrictive_condition_fn,
    },
    FunctionDecl {
        name: "publicStatements",
        arity: 1,
        signature: "publicStatements(policy) list(map)",
        call: iam::public_statements,
    },
    FunctionDecl {
        name: "arnLike",
        arity: 2,
        signature: "arnLike(arn string, pattern string) bool",
        call: iam::arn_like,
    },
    FunctionDecl {
        name: "ageDays",
        arity: 1,
        signature: "ageDays(timestamp_or_string) int",
        call: time::age_days,
    },
    FunctionDecl {
        name: "lookup",
        arity: 3,
        signature: "lookup(value, path string, default) dyn",
        call: fields::lookup,
    },
    FunctionDecl {
        name: "asList",
        arity: 1,
        signature: "asList(value) list",
        call: fields::as_list,
    },
    FunctionDecl {
        name: "unknown",
        arity: 1,
        signature: "unknown(reason string) (makes the result unknown)",
        call: fields::unknown,
    },
];

/// CEL's standard functions and macros, which rules may call.
pub const STANDARD_FUNCTIONS: &[&str] = &[
    "contains",
    "size",
    "max",
    "min",
    "startsWith",
    "endsWith",
    "string",
    "double",
    "int",
    "uint",
    "matches",
    "duration",
    "timestamp",
    "getFullYear",
    "getMonth",
    "getDayOfYear",
    "getDayOfMonth",
    "getDate",
    "getDayOfWeek",
    "getHours",
    "getMinutes",
    "getSeconds",
    "getMilliseconds",
    "has",
    "all",
    "exists",
    "exists_one",
    "map",
    "filter",
];

/// A function's error, under the function's own name.
pub(crate) fn error(function: &str, message: impl std::fmt::Display) -> EvalError {
    EvalError::function(function, message)
}

/// Argument `i`, as a string.
pub(crate) fn text<'v>(
    function: &str,
    args: &'v [Val<'_>],
    i: usize,
) -> Result<&'v str, EvalError> {
    match args.get(i) {
        Some(value) => value.as_str().ok_or_else(|| {
            error(
                function,
                format!("expected a string, found {}", value.type_name()),
            )
        }),
        None => Err(error(function, "missing argument")),
    }
}

/// Argument `i`, as an integer.
pub(crate) fn int(function: &str, args: &[Val<'_>], i: usize) -> Result<i64, EvalError> {
    match args.get(i) {
        Some(Val::Int(n)) => Ok(*n),
        Some(Val::UInt(n)) => i64::try_from(*n).map_err(|_| error(function, "integer overflow")),
        Some(value) => Err(error(
            function,
            format!("expected an int, found {}", value.type_name()),
        )),
        None => Err(error(function, "missing argument")),
    }
}

/// Argument `i`, whatever it is (`null` when missing).
pub(crate) fn arg<'a>(args: &[Val<'a>], i: usize) -> Val<'a> {
    args.get(i).cloned().unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::cel::{Env, EvalError, Frame, Val};
    use crate::condition::Condition;

    /// Evaluates `expr` with Parapet's functions and `now` set to
    /// 2026-11-29T00:00:00Z, against an empty asset.
    pub fn eval(expr: &str) -> Result<Val<'static>, EvalError> {
        let condition: &'static Condition = Box::leak(Box::new(
            Condition::compile(expr).expect("test expression compiles"),
        ));
        let empty = Box::leak(Box::new(serde_json::json!([])));
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-29T00:00:00Z").expect("fixed time");
        let env = Env::new(None, now, empty);
        let mut frame = Frame::default();
        condition.program.execute(&env, &mut frame)
    }

    /// Evaluates `expr` and expects a boolean.
    pub fn truth(expr: &str) -> bool {
        match eval(expr) {
            Ok(Val::Bool(b)) => b,
            other => panic!("{expr}: expected a boolean, got {other:?}"),
        }
    }

    /// Evaluates `expr` and expects an error mentioning `needle`.
    pub fn fails_with(expr: &str, needle: &str) {
        match eval(expr) {
            Err(e) => assert!(e.to_string().contains(needle), "{expr}: {e}"),
            Ok(v) => panic!("{expr}: expected an error, got {v:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_function_is_declared_once_and_shadows_no_standard_one() {
        let mut seen = std::collections::HashSet::new();
        for f in FUNCTIONS {
            assert!(seen.insert(f.name), "{} declared twice", f.name);
            assert!(
                !STANDARD_FUNCTIONS.contains(&f.name),
                "{} shadows a standard function",
                f.name
            );
        }
    }
}
