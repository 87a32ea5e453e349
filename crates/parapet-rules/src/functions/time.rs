//! Time functions: the age in days of a timestamp, measured against the
//! `now` variable (the evaluation time, fixed for a whole scan).

use super::{arg, error};
use crate::cel::{Env, EvalError, Val};
use chrono::{DateTime, FixedOffset, TimeDelta};

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
/// `now`. Notes when the count changes next: when the age reaches the
/// following whole day, or, for a negative count (truncated toward zero),
/// as soon as the age passes its own.
pub fn age_days<'a>(args: &[Val<'a>], env: &Env<'a>) -> Result<Val<'a>, EvalError> {
    let then = timestamp(&arg(args, 0))?;
    let days = (env.now - then).num_days();
    let next = if days >= 0 { days + 1 } else { days };
    env.bound_time(
        TimeDelta::try_days(next)
            .and_then(|age| then.checked_add_signed(age))
            .map_or(i64::MIN, |at| at.timestamp_millis()),
    );
    Ok(Val::Int(days))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{eval, fails_with};
    use super::*;
    use crate::cel::Frame;

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

    /// `ageDays(then)` as of `now`, and the time bound it noted.
    fn age_at(then: &str, now: DateTime<FixedOffset>) -> (i64, i64) {
        let empty = serde_json::json!([]);
        let env = Env::new(None, now, &empty);
        let days = age_days(&[Val::Str(then)], &env).expect("a timestamp");
        let Val::Int(days) = days else {
            panic!("ageDays gave {days:?}")
        };
        (days, env.time_bound.get())
    }

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).expect("a timestamp")
    }

    #[test]
    fn notes_when_the_count_of_days_changes_next() {
        let now = at("2026-11-29T00:00:00Z");
        let ms = |text: &str| at(text).timestamp_millis();
        assert_eq!(
            age_at("2026-08-31T00:00:00Z", now),
            (90, ms("2026-11-30T00:00:00Z"))
        );
        assert_eq!(
            age_at("2026-08-31T00:00:01Z", now),
            (89, ms("2026-11-29T00:00:01Z"))
        );
        assert_eq!(
            age_at("2026-12-09T12:00:00Z", now),
            (-10, ms("2026-11-29T12:00:00Z"))
        );
        assert_eq!(
            age_at("2026-11-28T18:00:00Z", now),
            (0, ms("2026-11-29T18:00:00Z"))
        );
        // Every count stays the same until the bound and changes just after.
        let mut rng = fastrand::Rng::with_seed(24);
        for _ in 0..2_000 {
            let then = now + TimeDelta::seconds(rng.i64(-400 * 86_400..400 * 86_400));
            let text = then.to_rfc3339();
            let (days, bound) = age_at(&text, now);
            let bound = DateTime::from_timestamp_millis(bound)
                .expect("a time")
                .fixed_offset();
            assert!(bound >= now, "{text}");
            let before = bound - TimeDelta::milliseconds(1);
            if before >= now {
                assert_eq!(age_at(&text, before).0, days, "{text} at {before}");
            }
            let after = bound + TimeDelta::milliseconds(1);
            assert_ne!(age_at(&text, after).0, days, "{text} at {after}");
        }
    }

    #[test]
    fn reading_now_bounds_the_time_at_once() {
        let now = at("2026-11-29T00:00:00Z");
        let condition =
            crate::condition::Condition::compile("now > timestamp('2026-01-01T00:00:00Z')")
                .expect("compiles");
        let empty = serde_json::json!([]);
        let env = Env::new(None, now, &empty);
        assert_eq!(env.time_bound.get(), i64::MAX);
        let _ = condition.program.execute(&env, &mut Frame::default());
        assert_eq!(env.time_bound.get(), now.timestamp_millis());
    }

    #[test]
    fn rejects_what_is_not_a_timestamp() {
        fails_with("ageDays('N/A')", "`N/A` is not an RFC 3339 timestamp");
        fails_with("ageDays(3)", "expected a timestamp");
    }
}
