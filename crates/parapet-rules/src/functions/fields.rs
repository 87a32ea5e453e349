//! Safe access to fields that may be missing, and the explicit `unknown()`.
//!
//! Reading a missing field directly (`config.Logging.TargetBucket`) makes the
//! rule's result `unknown`; `lookup` reads it with a default instead, for
//! fields whose absence has a meaning of its own.

use super::{UNKNOWN_FUNCTION, error};
use crate::value::field;
use cel_interpreter::{ExecutionError, Value};
use std::sync::Arc;

/// `lookup(value, "a.b.c", default)`: the field at the dotted path, or
/// `default` when any step is missing or null. A numeric step indexes a list.
pub fn lookup(value: Value, path: Arc<String>, default: Value) -> Result<Value, ExecutionError> {
    let mut current = &value;
    for step in path.split('.').filter(|s| !s.is_empty()) {
        let next = match current {
            Value::Map(_) => field(current, step),
            Value::List(items) => step.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(Value::Null) | None => return Ok(default),
            Some(v) => current = v,
        }
    }
    Ok(current.clone())
}

/// `asList(value)`: a list as it is, `null` as the empty list, anything else
/// as a list of one. Policies write one action, resource or principal as a
/// string and several as a list; this reads both the same way.
pub fn as_list(value: Value) -> Result<Value, ExecutionError> {
    Ok(match value {
        Value::List(_) => value,
        Value::Null => Value::List(Arc::new(Vec::new())),
        other => Value::List(Arc::new(vec![other])),
    })
}

/// `unknown(reason)`: makes the rule's result `unknown` with the reason, for
/// data that is present but does not allow a decision.
pub fn unknown(reason: Arc<String>) -> Result<Value, ExecutionError> {
    Err(error(UNKNOWN_FUNCTION, reason))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{eval, fails_with};
    use cel_interpreter::Value;
    use std::sync::Arc;

    #[test]
    fn lookup_walks_maps_and_lists() {
        let doc = "{'a': {'b': [{'c': 7}], 'n': null}}";
        assert_eq!(
            eval(&format!("lookup({doc}, 'a.b.0.c', 0)")),
            Ok(Value::Int(7))
        );
        assert_eq!(
            eval(&format!("lookup({doc}, 'a.x.c', 'none')")),
            Ok(Value::String(Arc::new("none".into())))
        );
        assert_eq!(
            eval(&format!("lookup({doc}, 'a.b.5.c', -1)")),
            Ok(Value::Int(-1))
        );
        assert_eq!(
            eval(&format!("lookup({doc}, 'a.n', false)")),
            Ok(Value::Bool(false))
        );
        assert_eq!(
            eval(&format!("lookup({doc}, 'a.b.0.c.d', 1)")),
            Ok(Value::Int(1))
        );
        assert_eq!(eval("lookup(null, 'a', 2)"), Ok(Value::Int(2)));
    }

    #[test]
    fn as_list_reads_one_or_several_alike() {
        assert_eq!(eval("asList('s3:*') == ['s3:*']"), Ok(Value::Bool(true)));
        assert_eq!(eval("asList(['a', 'b']).size()"), Ok(Value::Int(2)));
        assert_eq!(eval("asList(null) == []"), Ok(Value::Bool(true)));
    }

    #[test]
    fn missing_fields_without_lookup_are_errors_the_engine_reads_as_unknown() {
        let err = eval("{'a': 1}.b == 1").expect_err("missing field");
        assert!(
            matches!(err, cel_interpreter::ExecutionError::NoSuchKey(ref k) if k.as_str() == "b")
        );
    }

    #[test]
    fn unknown_reports_its_reason() {
        fails_with(
            "unknown('policy could not be parsed')",
            "policy could not be parsed",
        );
    }
}
