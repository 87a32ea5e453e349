//! Time functions: the age in days of a timestamp, measured against the
//! `now` variable (the evaluation time, fixed for a whole scan).

use super::error;
use cel_interpreter::{ExecutionError, FunctionContext, Value};
use chrono::{DateTime, FixedOffset};

fn timestamp(value: &Value) -> Result<DateTime<FixedOffset>, ExecutionError> {
    match value {
        Value::Timestamp(t) => Ok(*t),
        Value::String(s) => DateTime::parse_from_rfc3339(s).map_err(|e| {
            error(
                "ageDays",
                format!("`{s}` is not an RFC 3339 timestamp: {e}"),
            )
        }),
        other => Err(error(
            "ageDays",
            format!(
                "expected a timestamp or a string, found {:?}",
                other.type_of()
            ),
        )),
    }
}

/// `ageDays(ts)`: whole days from `ts` to `now`, negative when `ts` is in the
/// future.
pub fn age_days(ftx: &FunctionContext, ts: Value) -> Result<i64, ExecutionError> {
    let then = timestamp(&ts)?;
    let now = match ftx.ptx.get_variable("now") {
        Ok(Value::Timestamp(now)) => now,
        _ => return Err(error("ageDays", "the `now` variable is not set")),
    };
    Ok((now - then).num_days())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{eval, fails_with};
    use cel_interpreter::Value;

    #[test]
    fn whole_days_before_now() {
        assert_eq!(eval("ageDays('2026-08-31T00:00:00Z')"), Ok(Value::Int(90)));
        assert_eq!(eval("ageDays('2026-08-31T00:00:01Z')"), Ok(Value::Int(89)));
        assert_eq!(
            eval("ageDays('2026-11-29T00:00:00+02:00')"),
            Ok(Value::Int(0))
        );
        assert_eq!(
            eval("ageDays(timestamp('2025-11-29T00:00:00Z'))"),
            Ok(Value::Int(365))
        );
        assert_eq!(eval("ageDays('2026-12-09T00:00:00Z')"), Ok(Value::Int(-10)));
    }

    #[test]
    fn rejects_what_is_not_a_timestamp() {
        fails_with("ageDays('N/A')", "`N/A` is not an RFC 3339 timestamp");
        fails_with("ageDays(3)", "expected a timestamp");
    }
}
