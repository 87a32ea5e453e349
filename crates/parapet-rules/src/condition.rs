//! A CEL condition, compiled and checked when its rule loads: it parses,
//! names only the variables rules have and the functions that exist, calls
//! Parapet's functions with the right number of arguments, and records the
//! asset fields it reads (for `unknown` and evidence).

use crate::cel::Program;
use crate::functions::{FUNCTIONS, STANDARD_FUNCTIONS};
use cel_parser::ast::{EntryExpr, Expr, IdedExpr};
use cel_parser::reference::Val;
use std::collections::BTreeSet;

/// The variables a condition can read.
pub const VARIABLES: &[&str] = &[
    "resource",
    "config",
    "tags",
    "now",
    "required_tags",
    "exposure",
    "vulnerabilities",
    "permissions",
    "administrators",
    "variables",
];

/// A path into an asset, from its top level: `["config", "Versioning",
/// "Status"]` for `config.Versioning.Status` or
/// `resource.config.Versioning.Status`.
pub type FieldPath = Vec<String>;

/// A compiled, checked CEL condition.
pub struct Condition {
    /// The expression as written.
    pub source: String,
    /// The compiled program.
    pub program: Program,
    /// The asset fields the expression reads, outermost paths only.
    pub reads: Vec<FieldPath>,
    /// The rule's variables it reads (`variables.NAME`).
    pub variables: Vec<String>,
    /// What it reads beside the asset and its facts: `now` (also through
    /// `ageDays`), `required_tags`, `administrators`.
    pub context: Vec<&'static str>,
}

impl std::fmt::Debug for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Condition")
            .field("source", &self.source)
            .field("reads", &self.reads)
            .finish()
    }
}

/// Why a condition was rejected, with its 1-based position inside the
/// expression where the parser gives one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionError {
    /// 1-based line inside the expression.
    pub line: Option<usize>,
    /// 1-based column inside the expression.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl ConditionError {
    fn new(message: impl Into<String>) -> Self {
        ConditionError {
            line: None,
            column: None,
            message: message.into(),
        }
    }
}

impl Condition {
    /// Parses and checks `source`.
    pub fn compile(source: &str) -> Result<Condition, ConditionError> {
        if source.trim().is_empty() {
            return Err(ConditionError::new("the expression is empty"));
        }
        let parsed = parse_quietly(source)
            .ok_or_else(|| ConditionError::new("syntax error: the expression is malformed"))?;
        let ast = parsed.map_err(|errors| {
            let first = errors.errors.first();
            ConditionError {
                line: first.and_then(|e| usize::try_from(e.pos.0).ok()),
                column: first.and_then(|e| usize::try_from(e.pos.1).ok()),
                message: first
                    .map(|e| format!("syntax error: {}", e.msg))
                    .unwrap_or_else(|| "syntax error".to_owned()),
            }
        })?;
        let mut found = Found::default();
        check(&ast, &mut Vec::new(), &mut found)?;
        let program = crate::cel::compile::compile(&ast).map_err(ConditionError::new)?;
        Ok(Condition {
            source: source.to_owned(),
            program,
            reads: found.reads.into_iter().collect(),
            variables: found.variables.into_iter().collect(),
            context: found.context.into_iter().collect(),
        })
    }
}

/// Parses `source`, or `None` where the parser panics, as it does on some
/// malformed input (an unbalanced parenthesis, an unterminated string). The
/// panic message is kept off the terminal: the caller reports the error.
fn parse_quietly(source: &str) -> Option<Result<IdedExpr, cel_parser::ParseErrors>> {
    // The panic hook is global: swap it under a lock, so that two threads
    // compiling at once cannot leave the silent hook in place.
    static HOOK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = HOOK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let parsed = std::panic::catch_unwind(|| cel_parser::Parser::new().parse(source)).ok();
    std::panic::set_hook(previous);
    parsed
}

/// The asset path a chain of field selections reads, if it starts at one of
/// the variables that stand for the asset.
fn field_path(expr: &IdedExpr) -> Option<FieldPath> {
    match &expr.expr {
        Expr::Ident(name) => match name.as_str() {
            "resource" => Some(Vec::new()),
            "config" | "tags" | "exposure" | "vulnerabilities" | "permissions" => {
                Some(vec![name.clone()])
            }
            _ => None,
        },
        Expr::Select(select) => {
            let mut path = field_path(&select.operand)?;
            path.push(select.field.clone());
            Some(path)
        }
        Expr::Call(call) if call.func_name == "_[_]" && call.args.len() == 2 => {
            let mut path = field_path(&call.args[0])?;
            match &call.args[1].expr {
                Expr::Literal(Val::String(key)) => {
                    path.push(key.clone());
                    Some(path)
                }
                _ => Some(path),
            }
        }
        _ => None,
    }
}

/// What an expression reads: asset paths and the rule's variables.
#[derive(Default)]
struct Found {
    reads: BTreeSet<FieldPath>,
    variables: BTreeSet<String>,
    context: BTreeSet<&'static str>,
}

/// The variables that stand for what an evaluation knows beside the asset.
const CONTEXT: &[&str] = &["now", "required_tags", "administrators"];

fn is_operator(name: &str) -> bool {
    name.starts_with(['_', '!', '@', '-'])
}

fn check(
    expr: &IdedExpr,
    scope: &mut Vec<String>,
    found: &mut Found,
) -> Result<(), ConditionError> {
    if let Some(path) = field_path(expr)
        && !path.is_empty()
        && !matches!(expr.expr, Expr::Ident(_))
    {
        found.reads.insert(path);
        if let Expr::Call(call) = &expr.expr {
            // An index such as config["a"][x]: check the index expressions.
            for arg in call.args.iter().skip(1) {
                check(arg, scope, found)?;
            }
        }
        return Ok(());
    }
    match &expr.expr {
        Expr::Unspecified => Err(ConditionError::new("incomplete expression")),
        Expr::Ident(name) => {
            if VARIABLES.contains(&name.as_str()) || scope.iter().any(|s| s == name) {
                match name.as_str() {
                    "config" | "tags" | "exposure" | "vulnerabilities" | "permissions" => {
                        found.reads.insert(vec![name.clone()]);
                    }
                    // The whole asset, such as `resource` passed to a function.
                    "resource" => {
                        found.reads.insert(Vec::new());
                    }
                    other => {
                        if let Some(context) = CONTEXT.iter().find(|c| **c == other)
                            && !scope.iter().any(|s| s == name)
                        {
                            found.context.insert(context);
                        }
                    }
                }
                Ok(())
            } else {
                Err(ConditionError::new(format!(
                    "unknown variable `{name}` (rules can read {})",
                    VARIABLES.join(", ")
                )))
            }
        }
        Expr::Literal(_) => Ok(()),
        Expr::Select(select) => {
            if matches!(&select.operand.expr, Expr::Ident(name) if name == "variables")
                && !scope.iter().any(|s| s == "variables")
            {
                found.variables.insert(select.field.clone());
            }
            check(&select.operand, scope, found)
        }
        Expr::Call(call) => {
            let name = call.func_name.as_str();
            if name == "ageDays" {
                found.context.insert("now");
            }
            if !is_operator(name) {
                if let Some(decl) = FUNCTIONS.iter().find(|f| f.name == name) {
                    if call.target.is_some() {
                        return Err(ConditionError::new(format!(
                            "call `{name}` as a function: {}",
                            decl.signature
                        )));
                    }
                    if call.args.len() != decl.arity {
                        return Err(ConditionError::new(format!(
                            "`{name}` takes {} argument(s), given {}: {}",
                            decl.arity,
                            call.args.len(),
                            decl.signature
                        )));
                    }
                } else if !STANDARD_FUNCTIONS.contains(&name) {
                    return Err(ConditionError::new(format!("unknown function `{name}`")));
                }
            }
            if let Some(target) = &call.target {
                check(target, scope, found)?;
            }
            call.args.iter().try_for_each(|a| check(a, scope, found))
        }
        Expr::Comprehension(c) => {
            check(&c.iter_range, scope, found)?;
            check(&c.accu_init, scope, found)?;
            for var in std::iter::once(&c.iter_var).chain(&c.iter_var2) {
                if VARIABLES.contains(&var.as_str()) {
                    return Err(ConditionError::new(format!(
                        "`{var}` is a rule variable and cannot name a loop variable"
                    )));
                }
            }
            let depth = scope.len();
            scope.push(c.iter_var.clone());
            if let Some(v) = &c.iter_var2 {
                scope.push(v.clone());
            }
            scope.push(c.accu_var.clone());
            let result = check(&c.loop_cond, scope, found)
                .and_then(|_| check(&c.loop_step, scope, found))
                .and_then(|_| check(&c.result, scope, found));
            scope.truncate(depth);
            result
        }
        Expr::List(list) => list
            .elements
            .iter()
            .try_for_each(|e| check(e, scope, found)),
        Expr::Map(map) => map.entries.iter().try_for_each(|entry| match &entry.expr {
            EntryExpr::MapEntry(e) => {
                check(&e.key, scope, found)?;
                check(&e.value, scope, found)
            }
            EntryExpr::StructField(_) => {
                Err(ConditionError::new("message fields are not supported"))
            }
        }),
        Expr::Struct(s) => Err(ConditionError::new(format!(
            "message literals such as `{}{{...}}` are not supported",
            s.type_name
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(source: &str) -> Vec<String> {
        Condition::compile(source)
            .expect("compiles")
            .reads
            .iter()
            .map(|p| p.join("."))
            .collect()
    }

    #[test]
    fn records_the_context_read_beside_the_asset() {
        let context = |source: &str| Condition::compile(source).expect("compiles").context;
        assert_eq!(context("config.A == 1"), Vec::<&str>::new());
        assert_eq!(context("ageDays(config.Created) < 90"), ["now"]);
        assert_eq!(context("timestamp(config.Created) > now"), ["now"]);
        assert_eq!(
            context("required_tags.all(k, k in tags) && !(config.Arn in administrators)"),
            ["administrators", "required_tags"]
        );
    }

    #[test]
    fn records_the_outermost_paths_read() {
        assert_eq!(
            reads("resource.config.Versioning.Status == 'Enabled' && config.Logging.Enabled"),
            vec!["config.Logging.Enabled", "config.Versioning.Status"]
        );
        assert_eq!(
            reads("has(config.Policy) && tags['owner'] != ''"),
            vec!["config.Policy", "tags.owner"]
        );
        assert_eq!(
            reads("config.IpPermissions.exists(p, p.FromPort == 22)"),
            vec!["config.IpPermissions"]
        );
        assert_eq!(
            reads("size(tags) > 0 && resource.region == 'eu-west-1'"),
            vec!["region", "tags"]
        );
    }

    #[test]
    fn rejects_syntax_errors_with_a_position() {
        let err = Condition::compile("config.a ==\n  1 +* 2").expect_err("syntax");
        assert!(err.message.starts_with("syntax error"), "{err:?}");
        assert_eq!(err.line, Some(2));
        assert_eq!(err.column, Some(6));
        for malformed in ["config.a ==\n  (1 +", "config.a == )", "config.a == 'x"] {
            let err = Condition::compile(malformed).expect_err("malformed");
            assert!(err.message.starts_with("syntax error"), "{err:?}");
        }
    }

    #[test]
    fn rejects_unknown_variables_and_functions() {
        let err = Condition::compile("bucket.Name == 'x'").expect_err("variable");
        assert!(
            err.message.contains("unknown variable `bucket`"),
            "{}",
            err.message
        );
        let err = Condition::compile("isPublic(config.Cidr)").expect_err("function");
        assert!(
            err.message.contains("unknown function `isPublic`"),
            "{}",
            err.message
        );
        assert!(Condition::compile("config.Rules.all(r, r.Enabled)").is_ok());
        let err = Condition::compile("config.Rules.all(r, x.Enabled)").expect_err("unbound");
        assert!(
            err.message.contains("unknown variable `x`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn the_whole_asset_is_an_empty_path_and_loop_variables_cannot_shadow() {
        assert_eq!(reads("size(resource) > 0"), vec![""]);
        let err =
            Condition::compile("config.Rules.all(config, config.Enabled)").expect_err("shadow");
        assert!(
            err.message.contains("cannot name a loop variable"),
            "{}",
            err.message
        );
    }

    #[test]
    fn checks_the_arity_of_parapet_functions() {
        let err = Condition::compile("cidrContains('10.0.0.0/8')").expect_err("arity");
        assert!(
            err.message.contains("takes 2 argument(s), given 1"),
            "{}",
            err.message
        );
        let err = Condition::compile("'0.0.0.0/0'.isInternet()").expect_err("method");
        assert!(
            err.message.contains("call `isInternet` as a function"),
            "{}",
            err.message
        );
    }

    #[test]
    fn records_the_rule_variables_read_apart_from_asset_fields() {
        let condition =
            Condition::compile("size(variables.open) == 0 || variables.open.all(p, p.x)")
                .expect("compiles");
        assert_eq!(condition.variables, vec!["open"]);
        assert!(condition.reads.is_empty(), "{:?}", condition.reads);
    }

    #[test]
    fn rejects_message_literals() {
        let err = Condition::compile("Foo{a: 1} == config").expect_err("struct");
        assert!(err.message.contains("not supported"), "{}", err.message);
    }
}
