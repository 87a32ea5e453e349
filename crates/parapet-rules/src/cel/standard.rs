//! CEL's standard functions that rules may call: sizes, string tests,
//! conversions, timestamps and durations, `max` and `min`. A method's
//! target is its first argument; `matches` compiles a constant pattern once.

use super::compile::{Const, Node};
use super::{EvalError, Val};
use chrono::{DateTime, Datelike, FixedOffset, TimeDelta, Timelike};
use regex::Regex;
use std::cmp::Ordering;
use std::sync::Arc;

/// A standard function.
#[derive(Debug, Clone)]
pub enum Standard {
    Size,
    Contains,
    StartsWith,
    EndsWith,
    /// `matches`, with its pattern compiled when it is a constant.
    Matches(Option<Arc<Regex>>),
    String,
    Double,
    Int,
    UInt,
    Duration,
    Timestamp,
    Max,
    Min,
    Time(TimePart),
}

/// A part of a timestamp, read by `getFullYear()` and the like (in UTC).
#[derive(Debug, Clone, Copy)]
pub enum TimePart {
    FullYear,
    Month,
    DayOfYear,
    DayOfMonth,
    Date,
    DayOfWeek,
    Hours,
    Minutes,
    Seconds,
    Milliseconds,
}

impl TimePart {
    /// The part a method name reads.
    pub fn named(name: &str) -> Option<TimePart> {
        Some(match name {
            "getFullYear" => TimePart::FullYear,
            "getMonth" => TimePart::Month,
            "getDayOfYear" => TimePart::DayOfYear,
            "getDayOfMonth" => TimePart::DayOfMonth,
            "getDate" => TimePart::Date,
            "getDayOfWeek" => TimePart::DayOfWeek,
            "getHours" => TimePart::Hours,
            "getMinutes" => TimePart::Minutes,
            "getSeconds" => TimePart::Seconds,
            "getMilliseconds" => TimePart::Milliseconds,
            _ => return None,
        })
    }

    fn of(self, t: &DateTime<FixedOffset>) -> i64 {
        i64::from(match self {
            TimePart::FullYear => t.year(),
            TimePart::Month => t.month0() as i32,
            TimePart::DayOfYear => t.ordinal0() as i32,
            TimePart::DayOfMonth => t.day0() as i32,
            TimePart::Date => t.day() as i32,
            TimePart::DayOfWeek => t.weekday().num_days_from_sunday() as i32,
            TimePart::Hours => t.hour() as i32,
            TimePart::Minutes => t.minute() as i32,
            TimePart::Seconds => t.second() as i32,
            TimePart::Milliseconds => t.timestamp_subsec_millis() as i32,
        })
    }
}

impl Standard {
    /// The standard function `name` (a timestamp's part included), checked
    /// against its arguments where a constant lets it be (a `matches`
    /// pattern); `None` when no standard function has that name.
    pub fn named(name: &str, args: &[Node]) -> Result<Option<Standard>, String> {
        Ok(Some(match name {
            "size" => Standard::Size,
            "contains" => Standard::Contains,
            "startsWith" => Standard::StartsWith,
            "endsWith" => Standard::EndsWith,
            "matches" => match args.get(1) {
                Some(Node::Const(Const::String(pattern))) => Standard::Matches(Some(Arc::new(
                    Regex::new(pattern)
                        .map_err(|e| format!("`{pattern}` is not a valid regex: {e}"))?,
                ))),
                _ => Standard::Matches(None),
            },
            "string" => Standard::String,
            "double" => Standard::Double,
            "int" => Standard::Int,
            "uint" => Standard::UInt,
            "duration" => Standard::Duration,
            "timestamp" => Standard::Timestamp,
            "max" => Standard::Max,
            "min" => Standard::Min,
            _ => return Ok(TimePart::named(name).map(Standard::Time)),
        }))
    }

    /// The function's name, for errors.
    fn name(&self) -> &'static str {
        match self {
            Standard::Size => "size",
            Standard::Contains => "contains",
            Standard::StartsWith => "startsWith",
            Standard::EndsWith => "endsWith",
            Standard::Matches(_) => "matches",
            Standard::String => "string",
            Standard::Double => "double",
            Standard::Int => "int",
            Standard::UInt => "uint",
            Standard::Duration => "duration",
            Standard::Timestamp => "timestamp",
            Standard::Max => "max",
            Standard::Min => "min",
            Standard::Time(_) => "a timestamp's part",
        }
    }

    /// Calls the function.
    pub fn call<'a>(&self, args: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
        let fail = |message: String| EvalError::function(self.name(), message);
        let arity = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(fail(format!("takes {n} argument(s), given {}", args.len())))
            }
        };
        let text = |i: usize| {
            args.get(i).and_then(Val::as_str).ok_or_else(|| {
                fail(format!(
                    "expected a string, found {}",
                    args.get(i).map_or("nothing", Val::type_name)
                ))
            })
        };
        match self {
            Standard::Size => {
                arity(1)?;
                let size = args[0].size().ok_or_else(|| {
                    fail(format!(
                        "cannot determine the size of a {}",
                        args[0].type_name()
                    ))
                })?;
                Ok(Val::Int(i64::try_from(size).unwrap_or(i64::MAX)))
            }
            Standard::Contains => {
                arity(2)?;
                let (this, arg) = (&args[0], &args[1]);
                Ok(Val::Bool(if this.is_list() {
                    this.items()
                        .is_some_and(|mut items| items.any(|x| x.equals(arg)))
                } else if this.is_map() {
                    this.entry(arg).is_some()
                } else if let (Some(s), Some(sub)) = (this.as_str(), arg.as_str()) {
                    s.contains(sub)
                } else {
                    false
                }))
            }
            Standard::StartsWith => {
                arity(2)?;
                Ok(Val::Bool(text(0)?.starts_with(text(1)?)))
            }
            Standard::EndsWith => {
                arity(2)?;
                Ok(Val::Bool(text(0)?.ends_with(text(1)?)))
            }
            Standard::Matches(compiled) => {
                arity(2)?;
                let subject = text(0)?;
                let matched = match compiled {
                    Some(regex) => regex.is_match(subject),
                    None => {
                        let pattern = text(1)?;
                        Regex::new(pattern)
                            .map_err(|e| fail(format!("`{pattern}` is not a valid regex: {e}")))?
                            .is_match(subject)
                    }
                };
                Ok(Val::Bool(matched))
            }
            Standard::String | Standard::Double | Standard::Int | Standard::UInt => {
                arity(1)?;
                self.convert(&args[0]).map_err(fail)
            }
            Standard::Duration => {
                arity(1)?;
                let text = text(0)?;
                parse_duration(text).map(Val::Duration).ok_or_else(|| {
                    fail(format!(
                        "`{text}` is not a duration such as `90s` or `1h30m`"
                    ))
                })
            }
            Standard::Timestamp => {
                arity(1)?;
                timestamp(text(0)?).map(Val::Timestamp).map_err(fail)
            }
            Standard::Max | Standard::Min => self.extreme(args).map_err(fail),
            Standard::Time(part) => {
                arity(1)?;
                match &args[0] {
                    Val::Timestamp(t) => Ok(Val::Int(part.of(t))),
                    other => Err(fail(format!(
                        "expected a timestamp, found {}",
                        other.type_name()
                    ))),
                }
            }
        }
    }

    /// `string`, `double`, `int` or `uint` of `value`.
    fn convert<'a>(&self, value: &Val<'a>) -> Result<Val<'a>, String> {
        match self {
            Standard::String => Ok(match value {
                Val::Str(s) => Val::Str(s),
                Val::String(s) => Val::String(s.clone()),
                Val::Timestamp(t) => Val::string(t.to_rfc3339()),
                Val::Duration(d) => Val::string(format!("{}s", d.num_seconds())),
                Val::Int(i) => Val::string(i.to_string()),
                Val::UInt(u) => Val::string(u.to_string()),
                Val::Double(f) => Val::string(f.to_string()),
                other => {
                    return Err(format!(
                        "cannot convert a {} to a string",
                        other.type_name()
                    ));
                }
            }),
            Standard::Double => Ok(Val::Double(match value {
                Val::Int(i) => *i as f64,
                Val::UInt(u) => *u as f64,
                Val::Double(f) => *f,
                other => match other.as_str() {
                    Some(s) => s.parse().map_err(|e| format!("`{s}`: {e}"))?,
                    None => {
                        return Err(format!(
                            "cannot convert a {} to a double",
                            other.type_name()
                        ));
                    }
                },
            })),
            Standard::Int => Ok(Val::Int(match value {
                Val::Int(i) => *i,
                Val::UInt(u) => i64::try_from(*u).map_err(|_| "integer overflow".to_owned())?,
                Val::Double(f) if *f > i64::MAX as f64 || *f < i64::MIN as f64 => {
                    return Err("integer overflow".to_owned());
                }
                Val::Double(f) => *f as i64,
                Val::Timestamp(t) => t.timestamp(),
                other => match other.as_str() {
                    Some(s) => s.parse().map_err(|e| format!("`{s}`: {e}"))?,
                    None => {
                        return Err(format!("cannot convert a {} to an int", other.type_name()));
                    }
                },
            })),
            Standard::UInt => Ok(Val::UInt(match value {
                Val::Int(i) => {
                    u64::try_from(*i).map_err(|_| "unsigned integer overflow".to_owned())?
                }
                Val::UInt(u) => *u,
                Val::Double(f) if *f > u64::MAX as f64 || *f < 0.0 => {
                    return Err("unsigned integer overflow".to_owned());
                }
                Val::Double(f) => *f as u64,
                other => match other.as_str() {
                    Some(s) => s.parse().map_err(|e| format!("`{s}`: {e}"))?,
                    None => {
                        return Err(format!("cannot convert a {} to a uint", other.type_name()));
                    }
                },
            })),
            _ => Err(format!("{} converts nothing", self.name())),
        }
    }

    /// `max` or `min` of the arguments, or of the one list given.
    fn extreme<'a>(&self, args: &[Val<'a>]) -> Result<Val<'a>, String> {
        let wanted = if matches!(self, Standard::Max) {
            Ordering::Greater
        } else {
            Ordering::Less
        };
        let items: Vec<Val<'a>> = match args {
            [one] if one.is_list() => one.items().into_iter().flatten().collect(),
            [one] => return Ok(one.clone()),
            many => many.to_vec(),
        };
        let mut best: Option<Val<'a>> = None;
        for item in items {
            best = Some(match best {
                None => item,
                Some(current) => match item.compare(&current) {
                    Some(ordering) if ordering == wanted => item,
                    Some(_) => current,
                    None => {
                        return Err(format!(
                            "a {} cannot be compared to a {}",
                            item.type_name(),
                            current.type_name()
                        ));
                    }
                },
            });
        }
        Ok(best.unwrap_or_default())
    }
}

/// A timestamp as RFC 3339 writes it (what `timestamp()` and `ageDays()`
/// read).
pub fn timestamp(text: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(text)
        .map_err(|e| format!("`{text}` is not an RFC 3339 timestamp: {e}"))
}

/// A duration as CEL writes it: a sequence of numbers with units `h`, `m`,
/// `s`, `ms`, `us` or `ns` (`1h30m`, `1.5s`, `-90s`).
fn parse_duration(text: &str) -> Option<TimeDelta> {
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_end].parse().ok()?;
        rest = &rest[number_end..];
        let (unit, nanos) = [
            ("ms", 1e6),
            ("us", 1e3),
            ("ns", 1.0),
            ("h", 3.6e12),
            ("m", 6e10),
            ("s", 1e9),
        ]
        .into_iter()
        .find(|(unit, _)| rest.starts_with(unit))?;
        rest = &rest[unit.len()..];
        total += number * nanos;
    }
    if !total.is_finite() || total.abs() > i64::MAX as f64 {
        return None;
    }
    let nanos = total as i64;
    Some(TimeDelta::nanoseconds(if negative {
        -nanos
    } else {
        nanos
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_cel_writes_them() {
        assert_eq!(parse_duration("90s"), Some(TimeDelta::seconds(90)));
        assert_eq!(parse_duration("1h30m"), Some(TimeDelta::minutes(90)));
        assert_eq!(
            parse_duration("-1.5s"),
            Some(TimeDelta::milliseconds(-1500))
        );
        assert_eq!(parse_duration("10ms"), Some(TimeDelta::milliseconds(10)));
        assert_eq!(parse_duration("1d"), None);
        assert_eq!(parse_duration(""), None);
    }
}
