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

use cel_interpreter::{Context, ExecutionError};

/// A function Parapet adds to CEL.
#[derive(Debug, Clone, Copy)]
pub struct FunctionDecl {
    /// Its name, called as `name(args...)`.
    pub name: &'static str,
    /// How many arguments it takes.
    pub arity: usize,
    /// Its signature and what it returns, for `docs/rules.md` and errors.
    pub signature: &'static str,
}

/// Every function Parapet adds, with its arity; [`register`] adds each one.
pub const FUNCTIONS: &[FunctionDecl] = &[
    FunctionDecl {
        name: "cidrContains",
        arity: 2,
        signature: "cidrContains(range string, address_or_range string) bool",
    },
    FunctionDecl {
        name: "isInternet",
        arity: 1,
        signature: "isInternet(range string) bool",
    },
    FunctionDecl {
        name: "isPublicCidr",
        arity: 1,
        signature: "isPublicCidr(range string) bool",
    },
    FunctionDecl {
        name: "portRangeIncludes",
        arity: 3,
        signature: "portRangeIncludes(from int, to int, port int) bool",
    },
    FunctionDecl {
        name: "portRangesOverlap",
        arity: 4,
        signature: "portRangesOverlap(from1 int, to1 int, from2 int, to2 int) bool",
    },
    FunctionDecl {
        name: "permissionText",
        arity: 1,
        signature: "permissionText(permission map) string",
    },
    FunctionDecl {
        name: "statements",
        arity: 1,
        signature: "statements(policy) list(map)",
    },
    FunctionDecl {
        name: "coversAction",
        arity: 2,
        signature: "coversAction(statement map, action string) bool",
    },
    FunctionDecl {
        name: "allowsAction",
        arity: 2,
        signature: "allowsAction(policy_or_statement_or_permissions, action string) bool",
    },
    FunctionDecl {
        name: "isPublicPrincipal",
        arity: 1,
        signature: "isPublicPrincipal(principal) bool",
    },
    FunctionDecl {
        name: "hasRestrictiveCondition",
        arity: 1,
        signature: "hasRestrictiveCondition(statement map) bool",
    },
    FunctionDecl {
        name: "publicStatements",
        arity: 1,
        signature: "publicStatements(policy) list(map)",
    },
    FunctionDecl {
        name: "arnLike",
        arity: 2,
        signature: "arnLike(arn string, pattern string) bool",
    },
    FunctionDecl {
        name: "ageDays",
        arity: 1,
        signature: "ageDays(timestamp_or_string) int",
    },
    FunctionDecl {
        name: "lookup",
        arity: 3,
        signature: "lookup(value, path string, default) dyn",
    },
    FunctionDecl {
        name: "asList",
        arity: 1,
        signature: "asList(value) list",
    },
    FunctionDecl {
        name: "unknown",
        arity: 1,
        signature: "unknown(reason string) (makes the result unknown)",
    },
];

/// The functions of cel-interpreter's standard context, which rules may call.
pub const STANDARD_FUNCTIONS: &[&str] = &[
    "contains",
    "size",
    "max",
    "min",
    "startsWith",
    "endsWith",
    "string",
    "bytes",
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

/// The name `unknown()` reports under, so the engine can tell it from errors.
pub(crate) const UNKNOWN_FUNCTION: &str = "unknown";

/// Adds every function of [`FUNCTIONS`] to `ctx`.
pub fn register(ctx: &mut Context<'_>) {
    ctx.add_function("cidrContains", network::cidr_contains);
    ctx.add_function("isInternet", network::is_internet);
    ctx.add_function("isPublicCidr", network::is_public_cidr);
    ctx.add_function("portRangeIncludes", network::port_range_includes);
    ctx.add_function("portRangesOverlap", network::port_ranges_overlap);
    ctx.add_function("permissionText", network::permission_text);
    ctx.add_function("statements", iam::statements_fn);
    ctx.add_function("coversAction", iam::covers_action_fn);
    ctx.add_function("allowsAction", iam::allows_action);
    ctx.add_function("isPublicPrincipal", iam::is_public_principal_fn);
    ctx.add_function("hasRestrictiveCondition", iam::has_restrictive_condition_fn);
    ctx.add_function("publicStatements", iam::public_statements);
    ctx.add_function("arnLike", iam::arn_like);
    ctx.add_function("ageDays", time::age_days);
    ctx.add_function("lookup", fields::lookup);
    ctx.add_function("asList", fields::as_list);
    ctx.add_function(UNKNOWN_FUNCTION, fields::unknown);
}

/// A function's error, under the function's own name.
pub(crate) fn error(function: &str, message: impl ToString) -> ExecutionError {
    ExecutionError::function_error(function, message)
}

#[cfg(test)]
pub(crate) mod test_support {
    use cel_interpreter::{Context, ExecutionError, Program, Value};

    /// Evaluates `expr` in a context with Parapet's functions and `now` set
    /// to 2026-11-29T00:00:00Z.
    pub fn eval(expr: &str) -> Result<Value, ExecutionError> {
        let mut ctx = Context::default();
        super::register(&mut ctx);
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-29T00:00:00Z").expect("fixed time");
        ctx.add_variable_from_value("now", Value::Timestamp(now));
        Program::compile(expr)
            .expect("test expression compiles")
            .execute(&ctx)
    }

    /// Evaluates `expr` and expects a boolean.
    pub fn truth(expr: &str) -> bool {
        match eval(expr) {
            Ok(Value::Bool(b)) => b,
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
    use cel_interpreter::Program;

    #[test]
    fn every_declared_function_is_registered_once() {
        let mut ctx = Context::default();
        register(&mut ctx);
        let mut seen = std::collections::HashSet::new();
        for f in FUNCTIONS {
            assert!(seen.insert(f.name), "{} declared twice", f.name);
            assert!(
                !STANDARD_FUNCTIONS.contains(&f.name),
                "{} shadows a standard function",
                f.name
            );
            let result = Program::compile(&format!("{}()", f.name))
                .expect("compiles")
                .execute(&ctx);
            assert!(
                !matches!(result, Err(ExecutionError::UndeclaredReference(_))),
                "{} is declared but not registered",
                f.name
            );
        }
    }
}
