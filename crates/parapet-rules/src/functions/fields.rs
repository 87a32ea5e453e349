//! Safe access to fields that may be missing, and the explicit `unknown()`.
//!
//! Reading a missing field directly (`config.Logging.TargetBucket`) makes the
//! rule's result `unknown`; `lookup` reads it with a default instead, for
//! fields whose absence has a meaning of its own.

use super::{arg, text};
use crate::cel::{Env, EvalError, Val};

/// `lookup(value, path, default)`: the value at a dotted path (`a.b.0.c`,
/// list items by index), or `default` where a step is missing or null.
pub fn lookup<'a>(args: &[Val<'a>], _: &Env<'a>) -> Result<Val<'a>, EvalError> {
    let path = text("lookup", args, 1)?;
    let default = arg(args, 2);
    let mut current = arg(args, 0);
    for step in path.split('.').filter(|s| !s.is_empty()) {
        let next = current.step(step);
        match next {
            Some(Val::Null) | None => return Ok(default),
            Some(v) => current = v,
        }
    }
    Ok(current)
}

/// `asList(value)`: a list as it is, `null` as an empty list, anything
/// else as a list of one.
pub fn as_list<'a>(args: &[Val<'a>], _: &Env<'a>) -> Result<Val<'a>, EvalError> {
    Ok(match arg(args, 0) {
        list if list.is_list() => list,
        Val::Null => Val::list(Vec::new()),
        other => Val::list(vec![other]),
    })
}

/// `unknown(reason)`: makes the result unknown, with the reason.
pub fn unknown<'a>(args: &[Val<'a>], _: &Env<'a>) -> Result<Val<'a>, EvalError> {
    Err(EvalError::Unknown(text("unknown", args, 0)?.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{eval, fails_with};
    use crate::cel::{EvalError, Val};

    #[test]
    fn lookup_walks_maps_and_lists() {
        let doc = "{'a': {'b': [{'c': 7}], 'n': null}}";
        assert_eq!(
            eval(&format!("lookup({doc}, 'a.b.0.c', 0)")),
            Ok(Val::Int(7))
        );
        assert_eq!(
            eval(&format!("lookup({doc}, 'a.x.c', 'none')")),
            Ok(Val::string("none"))
        );
        assert_eq!(
            eval(&format!("lookup({doc}, 'a.b.5.c', -1)")),
            Ok(Val::Int(-1))
        );
        assert_eq!(
            eval(&format!("lookup({doc}, 'a.n', false)")),
            Ok(Val::Bool(false))
        );
        assert_eq!(
            eval(&format!("lookup({doc}, 'a.b.0.c.d', 1)")),
            Ok(Val::Int(1))
        );
        assert_eq!(eval("lookup(null, 'a', 2)"), Ok(Val::Int(2)));
    }

    #[test]
    fn as_list_reads_one_or_several_alike() {
        assert_eq!(eval("asList('s3:*') == ['s3:*']"), Ok(Val::Bool(true)));
        assert_eq!(eval("asList(['a', 'b']).size()"), Ok(Val::Int(2)));
        assert_eq!(eval("asList(null) == []"), Ok(Val::Bool(true)));
    }

    #[test]
    fn missing_fields_without_lookup_are_errors_the_engine_reads_as_unknown() {
        let err = eval("{'a': 1}.b == 1").expect_err("missing field");
        assert!(matches!(err, EvalError::Missing(ref k) if k == "b"));
    }

    #[test]
    fn unknown_reports_its_reason() {
        fails_with(
            "unknown('policy could not be parsed')",
            "policy could not be parsed",
        );
    }
}
