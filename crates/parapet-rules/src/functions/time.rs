//! Time functions: the age in days of a timestamp, measured against the
//! `now` variable (the evaluation time, fixed for a whole scan).

use super::{arg, error};
use crate::cel::{Env, EvalError, Val};
use chrono::{DateTime, FixedOffset};

fn timestamp(value: &Val<'_>) -> Result<DateTime<FixedOffset>, EvalError> {
    match value {
        Val::Timestamp(t) => Ok(*t),
        other => match other.as_str() {
            Some(s) => crate::cel::standard::timestamp(s).map_err(|e| error("ageDays", e)),
            None => Err(error(
                "ageDays",
                format!(
                    "expected a timestamp or a string, found {}",
                    other.type_name()
                ),
            )),
        },
    }
}

/// `ageDays(ts)`: whole days from `ts` (a timestamp or RFC 3339 text) to
/// `now`.
pub fn age_days<'a>(args: &[Val<'a>], env: &Env<'a>) -> Result<Val<'a>, EvalError> {
    let then = timestamp(&arg(args, 0))?;
    Ok(Val::Int((env.now - then).num_days()))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{eval, fails_with};
    use crate::cel::Val;

    #[test]
    fn whole_days_before_now() {
        assert_eq!(eval("ageDays('2026-08-31T00:00:00Z')"), Ok(Val::Int(90)));
        assert_eq!(eval("ageDays('2026-08-31T00:00:01Z')"), Ok(Val::Int(89)));
        assert_eq!(
            eval("ageDays('2026-11-29T00:00:00+02:00')"),
            Ok(Val::Int(0))
        );
        assert_eq!(
            eval("ageDays(timestamp('2025-11-29T00:00:00Z'))"),
            Ok(Val::Int(365))
        );
        assert_eq!(eval("ageDays('2026-12-09T00:00:00Z')"), Ok(Val::Int(-10)));
    }

    #[test]
    fn rejects_what_is_not_a_timestamp() {
        fails_with("ageDays('N/A')", "`N/A` is not an RFC 3339 timestamp");
        fails_with("ageDays(3)", "expected a timestamp");
    }
}
