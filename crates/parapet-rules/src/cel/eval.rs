//! Evaluation of compiled nodes. Operators follow cel-interpreter's
//! semantics, which rules were written against: `&&`, `||`, `!` and `?:`
//! read any value's truthiness, reading a missing field is an error (the
//! result is unknown) while indexing a missing key gives `null`, and
//! numbers of different types compare by value.

use super::compile::{Binary, Func, Loop, LoopKind, Node};
use super::{Env, EvalError, Val};
use std::cmp::Ordering;
use std::rc::Rc;

/// The slots of loop variables and the memos of loops, reused across
/// evaluations.
#[derive(Default)]
pub struct Frame<'a> {
    pub(super) slots: Vec<Val<'a>>,
    memos: Vec<Option<Result<Val<'a>, EvalError>>>,
    /// A buffer messages are written in, its room kept between them.
    text: String,
}

impl<'a> Frame<'a> {
    /// The message buffer, emptied; handed back with [`Frame::put_text`].
    pub(crate) fn take_text(&mut self) -> String {
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        text
    }

    /// Hands back the buffer [`Frame::take_text`] gave.
    pub(crate) fn put_text(&mut self, text: String) {
        self.text = text;
    }

    /// Makes room for `slots` slots and `memos` memos.
    pub(super) fn reserve(&mut self, slots: usize, memos: usize) {
        if self.slots.len() < slots {
            self.slots.resize(slots, Val::Null);
        }
        if self.memos.len() < memos {
            self.memos.resize(memos, None);
        }
    }
}

/// Most arguments a function is called with without a list.
const INLINE_ARGS: usize = 4;

/// Evaluates `node`.
pub fn eval<'a>(
    node: &'a Node,
    env: &Env<'a>,
    frame: &mut Frame<'a>,
) -> Result<Val<'a>, EvalError> {
    match node {
        Node::Const(c) => Ok(c.val()),
        Node::Json(json) => Ok(Val::json(json)),
        Node::Root(root) => Ok(env.root(*root)),
        Node::Local(slot) => Ok(frame.slots.get(*slot).cloned().unwrap_or_default()),
        Node::Variable(name) => env
            .variable(name)
            .ok_or_else(|| EvalError::Missing(name.to_string())),
        Node::Select(operand, field) => {
            let value = eval(operand, env, frame)?;
            value
                .field(field)
                .ok_or_else(|| EvalError::Missing(field.to_string()))
        }
        Node::Has(operand, field) => {
            let value = eval(operand, env, frame)?;
            Ok(Val::Bool(value.is_map() && value.field(field).is_some()))
        }
        Node::Not(a) => Ok(Val::Bool(!eval(a, env, frame)?.truthy())),
        Node::Negate(a) => match eval(a, env, frame)? {
            Val::Int(i) => i
                .checked_neg()
                .map(Val::Int)
                .ok_or_else(|| EvalError::failed("integer overflow in negation")),
            Val::Double(f) => Ok(Val::Double(-f)),
            other => Err(EvalError::failed(format!(
                "cannot negate a {}",
                other.type_name()
            ))),
        },
        Node::NotStrictlyFalse(a) => Ok(match eval(a, env, frame)? {
            Val::Bool(b) => Val::Bool(b),
            _ => Val::Bool(true),
        }),
        Node::And(ab) => {
            if !eval(&ab[0], env, frame)?.truthy() {
                return Ok(Val::Bool(false));
            }
            Ok(Val::Bool(eval(&ab[1], env, frame)?.truthy()))
        }
        Node::Or(ab) => {
            let left = eval(&ab[0], env, frame)?;
            if left.truthy() {
                return Ok(left);
            }
            eval(&ab[1], env, frame)
        }
        Node::Conditional(abc) => {
            if eval(&abc[0], env, frame)?.truthy() {
                eval(&abc[1], env, frame)
            } else {
                eval(&abc[2], env, frame)
            }
        }
        Node::Binary(op, ab) => {
            let left = eval(&ab[0], env, frame)?;
            let right = eval(&ab[1], env, frame)?;
            binary(*op, left, right)
        }
        Node::List(items) => Ok(Val::list(
            items
                .iter()
                .map(|item| eval(item, env, frame))
                .collect::<Result<_, _>>()?,
        )),
        Node::Map(entries) => {
            let mut map: Vec<(Val<'a>, Val<'a>)> = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let key = eval(k, env, frame)?;
                if !matches!(
                    key,
                    Val::Str(_) | Val::String(_) | Val::Int(_) | Val::UInt(_) | Val::Bool(_)
                ) {
                    return Err(EvalError::failed(format!(
                        "a {} cannot be a map key",
                        key.type_name()
                    )));
                }
                let value = eval(v, env, frame)?;
                match map.iter_mut().find(|(k, _)| k.equals(&key)) {
                    Some(entry) => entry.1 = value,
                    None => map.push((key, value)),
                }
            }
            Ok(Val::Map(Rc::new(map)))
        }
        Node::Call(func, args) => call(func, args, env, frame),
        Node::Loop(l) => run_loop(l, env, frame),
        Node::Memo(memo, inner) => {
            if let Some(Some(known)) = frame.memos.get(*memo) {
                return known.clone();
            }
            let value = eval(inner, env, frame);
            if let Some(slot) = frame.memos.get_mut(*memo) {
                *slot = Some(value.clone());
            }
            value
        }
    }
}

fn call<'a>(
    func: &'a Func,
    args: &'a [Node],
    env: &Env<'a>,
    frame: &mut Frame<'a>,
) -> Result<Val<'a>, EvalError> {
    if args.len() <= INLINE_ARGS {
        let mut values: [Val<'a>; INLINE_ARGS] = Default::default();
        for (slot, arg) in values.iter_mut().zip(args) {
            *slot = eval(arg, env, frame)?;
        }
        apply(func, &values[..args.len()], env)
    } else {
        let values = args
            .iter()
            .map(|arg| eval(arg, env, frame))
            .collect::<Result<Vec<_>, _>>()?;
        apply(func, &values, env)
    }
}

fn apply<'a>(func: &Func, args: &[Val<'a>], env: &Env<'a>) -> Result<Val<'a>, EvalError> {
    match func {
        Func::Standard(standard) => standard.call(args),
        Func::Custom(_, f) => f(args, env),
    }
}

fn run_loop<'a>(l: &'a Loop, env: &Env<'a>, frame: &mut Frame<'a>) -> Result<Val<'a>, EvalError> {
    let range = eval(&l.range, env, frame)?;
    let items = range
        .items()
        .ok_or_else(|| EvalError::failed(format!("cannot range over a {}", range.type_name())))?;
    frame.reserve(l.slot + 1, l.memos.end);
    for memo in l.memos.clone() {
        frame.memos[memo] = None;
    }
    match &l.kind {
        LoopKind::All => {
            for item in items {
                frame.slots[l.slot] = item;
                if !eval(&l.body, env, frame)?.truthy() {
                    return Ok(Val::Bool(false));
                }
            }
            Ok(Val::Bool(true))
        }
        LoopKind::Exists => {
            let mut found = Val::Bool(false);
            for item in items {
                frame.slots[l.slot] = item;
                found = eval(&l.body, env, frame)?;
                if found.truthy() {
                    break;
                }
            }
            Ok(found)
        }
        LoopKind::ExistsOne => {
            let mut count = 0;
            for item in items {
                frame.slots[l.slot] = item;
                if eval(&l.body, env, frame)?.truthy() {
                    count += 1;
                }
            }
            Ok(Val::Bool(count == 1))
        }
        LoopKind::Map { filter } => {
            let mut out = Vec::new();
            for item in items {
                frame.slots[l.slot] = item;
                if let Some(filter) = filter
                    && !eval(filter, env, frame)?.truthy()
                {
                    continue;
                }
                out.push(eval(&l.body, env, frame)?);
            }
            Ok(Val::list(out))
        }
    }
}

/// A binary operator's result.
pub(super) fn binary<'a>(op: Binary, left: Val<'a>, right: Val<'a>) -> Result<Val<'a>, EvalError> {
    let compared = |wanted: &[Ordering]| match left.compare(&right) {
        Some(ordering) => Ok(Val::Bool(wanted.contains(&ordering))),
        None => Err(EvalError::failed(format!(
            "a {} cannot be compared to a {}",
            left.type_name(),
            right.type_name()
        ))),
    };
    match op {
        Binary::Eq => Ok(Val::Bool(left.equals(&right))),
        Binary::Ne => Ok(Val::Bool(!left.equals(&right))),
        Binary::Lt => compared(&[Ordering::Less]),
        Binary::Le => compared(&[Ordering::Less, Ordering::Equal]),
        Binary::Gt => compared(&[Ordering::Greater]),
        Binary::Ge => compared(&[Ordering::Greater, Ordering::Equal]),
        Binary::In => membership(&left, &right),
        Binary::Index => index(left, right),
        Binary::Add | Binary::Sub | Binary::Mul | Binary::Div | Binary::Rem => {
            arithmetic(op, left, right)
        }
    }
}

fn membership(item: &Val<'_>, collection: &Val<'_>) -> Result<Val<'static>, EvalError> {
    if let (Some(needle), Some(text)) = (item.as_str(), collection.as_str()) {
        return Ok(Val::Bool(text.contains(needle)));
    }
    if collection.is_list() {
        let found = collection
            .items()
            .is_some_and(|mut items| items.any(|x| x.equals(item)));
        return Ok(Val::Bool(found));
    }
    if collection.is_map() {
        return Ok(Val::Bool(collection.entry(item).is_some()));
    }
    Err(EvalError::failed(format!(
        "`in` needs a list, a map or a string, not a {}",
        collection.type_name()
    )))
}

fn index<'a>(value: Val<'a>, index: Val<'a>) -> Result<Val<'a>, EvalError> {
    if value.is_list() {
        let Val::Int(i) = index else {
            return Err(EvalError::failed(format!(
                "a list cannot be indexed by a {}",
                index.type_name()
            )));
        };
        let item = usize::try_from(i).ok().and_then(|i| value.item(i));
        return Ok(item.unwrap_or_default());
    }
    if value.is_map() {
        return match index {
            Val::Str(_) | Val::String(_) | Val::Int(_) | Val::UInt(_) | Val::Bool(_) => {
                Ok(value.entry(&index).unwrap_or_default())
            }
            other => Err(EvalError::failed(format!(
                "a map cannot be indexed by a {}",
                other.type_name()
            ))),
        };
    }
    if let (Some(text), Val::Int(i)) = (value.as_str(), &index) {
        let i = usize::try_from(*i).ok();
        return Ok(i
            .and_then(|i| text.get(i..i + 1))
            .map_or(Val::Null, Val::string));
    }
    Err(EvalError::failed(format!(
        "a {} cannot be indexed by a {}",
        value.type_name(),
        index.type_name()
    )))
}

/// Integer arithmetic of one type, checked: division by zero and overflow
/// are errors.
macro_rules! integer {
    ($op:expr, $a:expr, $b:expr, $variant:path, $overflow:expr) => {{
        let (a, b) = ($a, $b);
        match $op {
            Binary::Div | Binary::Rem if b == 0 => Err(EvalError::failed("division by zero")),
            Binary::Add => a.checked_add(b).map($variant).ok_or_else($overflow),
            Binary::Sub => a.checked_sub(b).map($variant).ok_or_else($overflow),
            Binary::Mul => a.checked_mul(b).map($variant).ok_or_else($overflow),
            Binary::Div => a.checked_div(b).map($variant).ok_or_else($overflow),
            _ => a.checked_rem(b).map($variant).ok_or_else($overflow),
        }
    }};
}

fn arithmetic<'a>(op: Binary, left: Val<'a>, right: Val<'a>) -> Result<Val<'a>, EvalError> {
    let overflow = || EvalError::failed(format!("overflow in {op:?}"));
    match (&left, &right) {
        (Val::Int(a), Val::Int(b)) => integer!(op, *a, *b, Val::Int, overflow),
        (Val::UInt(a), Val::UInt(b)) => integer!(op, *a, *b, Val::UInt, overflow),
        (Val::Double(a), Val::Double(b)) if op != Binary::Rem => Ok(Val::Double(match op {
            Binary::Add => a + b,
            Binary::Sub => a - b,
            Binary::Mul => a * b,
            _ => a / b,
        })),
        (Val::Timestamp(t), Val::Duration(d)) if matches!(op, Binary::Add | Binary::Sub) => {
            let t = if op == Binary::Add {
                t.checked_add_signed(*d)
            } else {
                t.checked_sub_signed(*d)
            };
            t.map(Val::Timestamp).ok_or_else(overflow)
        }
        (Val::Duration(d), Val::Timestamp(t)) if op == Binary::Add => t
            .checked_add_signed(*d)
            .map(Val::Timestamp)
            .ok_or_else(overflow),
        (Val::Timestamp(a), Val::Timestamp(b)) if op == Binary::Sub => {
            Ok(Val::Duration(a.signed_duration_since(*b)))
        }
        (Val::Duration(a), Val::Duration(b)) if matches!(op, Binary::Add | Binary::Sub) => {
            let d = if op == Binary::Add {
                a.checked_add(b)
            } else {
                a.checked_sub(b)
            };
            d.map(Val::Duration).ok_or_else(overflow)
        }
        _ if op == Binary::Add => {
            if let (Some(a), Some(b)) = (left.as_str(), right.as_str()) {
                return Ok(Val::string(format!("{a}{b}")));
            }
            if left.is_list() && right.is_list() {
                let mut items: Vec<Val<'a>> = left.items().into_iter().flatten().collect();
                items.extend(right.items().into_iter().flatten());
                return Ok(Val::list(items));
            }
            Err(unsupported(op, &left, &right))
        }
        _ => Err(unsupported(op, &left, &right)),
    }
}

fn unsupported(op: Binary, left: &Val<'_>, right: &Val<'_>) -> EvalError {
    EvalError::failed(format!(
        "{op:?} is not supported between a {} and a {}",
        left.type_name(),
        right.type_name()
    ))
}

#[cfg(test)]
mod tests {
    use crate::cel::{EvalError, Val};
    use crate::functions::test_support::{eval, fails_with, truth};

    #[test]
    fn logic_reads_truthiness_and_or_keeps_its_value() {
        assert!(truth("('x' || false) == 'x'"));
        assert!(truth("!('' && true)"));
        assert!(truth("(0 ? 'a' : 'b') == 'b'"));
        assert!(!truth("false && (1 / 0 == 1)"));
        assert!(truth("true || (1 / 0 == 1)"));
    }

    #[test]
    fn a_missing_field_is_missing_and_a_missing_key_is_null() {
        assert_eq!(eval("{'a': 1}.b"), Err(EvalError::Missing("b".into())));
        assert!(truth("{'a': 1}['b'] == null"));
        assert!(truth("[1, 2][5] == null"));
        assert!(truth("has({'a': 1}.a) && !has({'a': 1}.b)"));
        assert!(truth("!has('text'.a)"));
        fails_with("[1, 2]['a']", "cannot be indexed");
    }

    #[test]
    fn macros_over_lists_and_maps() {
        assert!(truth("[1, 2, 3].all(x, x > 0)"));
        assert!(!truth("[1, 2, 3].all(x, x > 1)"));
        assert!(truth("[1, 2, 3].exists(x, x == 2)"));
        assert!(!truth("[].exists(x, x == 2)"));
        assert!(!truth("[1, 2, 3].exists_one(x, x > 1)"));
        assert!(truth("[1, 2, 3].exists_one(x, x > 2)"));
        assert!(truth("[1, 2, 3].map(x, x * 2) == [2, 4, 6]"));
        assert!(truth("[1, 2, 3].filter(x, x % 2 == 1) == [1, 3]"));
        assert!(truth("[1, 2, 3].map(x, x > 1, x * 10) == [20, 30]"));
        assert!(truth("[[1], [2, 3]].all(l, l.exists(x, x > 0))"));
        assert!(truth(
            "[[1], [2, 3]].map(l, l.map(x, x + 1)) == [[2], [3, 4]]"
        ));
        assert!(truth("{'a': 1, 'b': 2}.all(k, k in ['a', 'b'])"));
        assert!(truth("[1, 2].all(x, [3].all(y, y > x))"));
        fails_with("'text'.all(c, c == 't')", "cannot range over a string");
    }

    #[test]
    fn a_memo_holds_for_one_run_of_its_loop_and_only_where_it_is_read() {
        assert!(truth(
            "[{'a': 1}, {'a': 2}].map(p, [10, 20].map(x, x + p.a)) == [[11, 21], [12, 22]]"
        ));
        // Worked out only where `||` reaches it: the first turn decides.
        assert!(truth("[1, 2].exists(x, x == 1 || {'a': 1}.b == 1)"));
        assert_eq!(
            eval("[1, 2].exists(x, x == 2 || {'a': 1}.b == 1)"),
            Err(EvalError::Missing("b".into()))
        );
        assert!(truth("[1, 2, 3].filter(x, x > size([1, 2])) == [3]"));
    }

    #[test]
    fn membership_equality_and_ordering() {
        assert!(truth("'ab' in 'xaby'"));
        assert!(truth("2 in [1, 2] && !(3 in [1, 2])"));
        assert!(truth("'a' in {'a': 1} && !('b' in {'a': 1})"));
        assert!(truth("1 == 1.0 && 1 == uint(1) && 1 < uint(2)"));
        assert!(truth("-1 < uint(0)"));
        assert!(truth("{'a': [1, 'x']} == {'a': [1, 'x']}"));
        assert!(!truth("{'a': [1, 'x']} == {'a': [1, 'y']}"));
        assert!(!truth("[1] == [1, 2]"));
        assert!(truth("'a' < 'b' && 2.5 > 2"));
        fails_with("'a' < 1", "cannot be compared");
    }

    #[test]
    fn arithmetic_strings_lists_and_time() {
        assert_eq!(eval("7 / 2"), Ok(Val::Int(3)));
        assert_eq!(eval("7 % 4"), Ok(Val::Int(3)));
        assert_eq!(eval("1.5 * 2.0"), Ok(Val::Double(3.0)));
        fails_with("1 / 0", "division by zero");
        fails_with("9223372036854775807 + 1", "overflow");
        assert!(truth("'a' + 'b' == 'ab'"));
        assert!(truth("[1] + [2] == [1, 2]"));
        assert!(truth(
            "timestamp('2026-01-01T00:00:00Z') + duration('1h') > timestamp('2026-01-01T00:30:00Z')"
        ));
        assert!(truth(
            "timestamp('2026-01-02T00:00:00Z') - timestamp('2026-01-01T00:00:00Z') == duration('24h')"
        ));
        assert_eq!(
            eval("timestamp('2026-03-04T05:06:07Z').getFullYear()"),
            Ok(Val::Int(2026))
        );
        assert_eq!(
            eval("timestamp('2026-03-04T05:06:07Z').getMonth()"),
            Ok(Val::Int(2))
        );
        assert!(truth("now > timestamp('2026-01-01T00:00:00Z')"));
    }

    #[test]
    fn standard_functions() {
        assert!(truth(
            "size('abc') == 3 && 'abc'.size() == 3 && size([1]) == 1 && size({}) == 0"
        ));
        assert!(truth(
            "'abc'.contains('b') && [1, 2].contains(2) && {'a': 1}.contains('a')"
        ));
        assert!(truth("'abc'.startsWith('ab') && 'abc'.endsWith('bc')"));
        assert!(truth(
            "'arn:aws:iam::1:role/x'.matches('^arn:aws:iam::[0-9]+:role/')"
        ));
        assert!(truth(
            "string(3) == '3' && int('42') == 42 && double(1) == 1.0 && uint(3) == 3"
        ));
        assert!(truth("max([3, 9, 2]) == 9 && min(4, 1) == 1"));
        fails_with("int('x')", "int");
        fails_with("size(3)", "cannot determine the size");
    }
}
