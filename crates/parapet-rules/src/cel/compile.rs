//! A parsed CEL expression compiled into a tree of nodes: each variable
//! resolved to the part of the asset or facts it stands for, each loop
//! variable to a slot, each function to its implementation, macros
//! (`all`, `exists`, `exists_one`, `map`, `filter`) to loops of their own,
//! operators over constants folded, and what a loop's body works out the
//! same on every turn (`p.FromPort` in a loop over ports inside a loop over
//! permissions) marked to be worked out once per run of the loop.

use super::eval::{self, Frame};
use super::standard::Standard;
use super::{Env, Val};
use crate::functions::{Custom, FUNCTIONS};
use cel_parser::ast::{ComprehensionExpr, EntryExpr, Expr, IdedExpr, operators};
use cel_parser::reference::Val as Literal;
use serde_json::Value as Json;

/// What a variable of the condition stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    Resource,
    Config,
    Tags,
    Now,
    RequiredTags,
    Exposure,
    Vulnerabilities,
    Permissions,
    Administrators,
    /// The rule's variables, as one map.
    Variables,
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Index,
}

/// A function, resolved at load.
#[derive(Clone)]
pub enum Func {
    Standard(Standard),
    Custom(&'static str, Custom),
}

impl std::fmt::Debug for Func {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Func::Standard(s) => write!(f, "{s:?}"),
            Func::Custom(name, _) => f.write_str(name),
        }
    }
}

/// What a macro's loop computes.
#[derive(Debug)]
pub enum LoopKind {
    /// `all(x, p)`.
    All,
    /// `exists(x, p)`.
    Exists,
    /// `exists_one(x, p)`.
    ExistsOne,
    /// `map(x, f)`, `map(x, p, f)` and `filter(x, p)` (`f` is `x`): the
    /// body is `f`, kept where `filter` (if any) holds.
    Map { filter: Option<Node> },
}

/// A macro's loop over a list's items or a map's keys.
#[derive(Debug)]
pub struct Loop {
    pub kind: LoopKind,
    pub range: Node,
    /// The slot of the loop variable.
    pub slot: usize,
    /// The predicate, or what `map` computes.
    pub body: Node,
    /// The memos of what the body works out the same on every turn,
    /// forgotten as each run of the loop starts.
    pub memos: std::ops::Range<usize>,
}

/// A compiled expression.
#[derive(Debug)]
pub enum Node {
    /// A scalar constant.
    Const(Const),
    /// A constant list or map.
    Json(Json),
    Root(Root),
    /// A loop variable.
    Local(usize),
    /// `variables.NAME`.
    Variable(Box<str>),
    /// `a.b`: reading a missing field is an error.
    Select(Box<Node>, Box<str>),
    /// `has(a.b)`.
    Has(Box<Node>, Box<str>),
    Not(Box<Node>),
    Negate(Box<Node>),
    NotStrictlyFalse(Box<Node>),
    And(Box<[Node; 2]>),
    Or(Box<[Node; 2]>),
    Conditional(Box<[Node; 3]>),
    Binary(Binary, Box<[Node; 2]>),
    List(Vec<Node>),
    Map(Vec<(Node, Node)>),
    /// A call; a method's target is its first argument.
    Call(Func, Vec<Node>),
    Loop(Box<Loop>),
    /// What a loop's body works out the same on every turn: worked out on
    /// first use in a run of the loop, kept in memo `usize` for the rest.
    /// Worked out lazily, where it was written, so that `&&`, `||` and
    /// `?:` still decide whether it is worked out at all.
    Memo(usize, Box<Node>),
}

impl Node {
    /// The nodes it is made of.
    fn children_mut(&mut self) -> Vec<&mut Node> {
        match self {
            Node::Const(_)
            | Node::Json(_)
            | Node::Root(_)
            | Node::Local(_)
            | Node::Variable(_)
            | Node::Memo(..) => Vec::new(),
            Node::Select(a, _)
            | Node::Has(a, _)
            | Node::Not(a)
            | Node::Negate(a)
            | Node::NotStrictlyFalse(a) => vec![a],
            Node::And(ab) | Node::Or(ab) | Node::Binary(_, ab) => ab.iter_mut().collect(),
            Node::Conditional(abc) => abc.iter_mut().collect(),
            Node::List(items) | Node::Call(_, items) => items.iter_mut().collect(),
            Node::Map(entries) => entries.iter_mut().flat_map(|(k, v)| [k, v]).collect(),
            Node::Loop(l) => {
                let Loop {
                    kind, range, body, ..
                } = &mut **l;
                let mut children = vec![range, body];
                if let LoopKind::Map {
                    filter: Some(filter),
                } = kind
                {
                    children.push(filter);
                }
                children
            }
        }
    }

    /// The loop variables it reads and does not bind, as a set of slots
    /// (bit `s` for slot `s`, slots from 63 on all as bit 63).
    fn free(&self) -> u64 {
        match self {
            Node::Local(slot) => slot_bit(*slot),
            Node::Memo(_, inner) => inner.free(),
            Node::Loop(l) => {
                let mut inside = l.body.free();
                if let LoopKind::Map {
                    filter: Some(filter),
                } = &l.kind
                {
                    inside |= filter.free();
                }
                if l.slot < 63 {
                    inside &= !slot_bit(l.slot);
                }
                l.range.free() | inside
            }
            Node::Const(_) | Node::Json(_) | Node::Root(_) | Node::Variable(_) => 0,
            Node::Select(a, _)
            | Node::Has(a, _)
            | Node::Not(a)
            | Node::Negate(a)
            | Node::NotStrictlyFalse(a) => a.free(),
            Node::And(ab) | Node::Or(ab) | Node::Binary(_, ab) => ab[0].free() | ab[1].free(),
            Node::Conditional(abc) => abc.iter().fold(0, |set, n| set | n.free()),
            Node::List(items) | Node::Call(_, items) => {
                items.iter().fold(0, |set, n| set | n.free())
            }
            Node::Map(entries) => entries
                .iter()
                .fold(0, |set, (k, v)| set | k.free() | v.free()),
        }
    }
}

/// The bit of slot `slot` in a set of slots.
fn slot_bit(slot: usize) -> u64 {
    1 << slot.min(63)
}

/// A scalar constant.
#[derive(Debug, Clone)]
pub enum Const {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Double(f64),
    String(Box<str>),
}

impl Const {
    /// The constant as a value borrowing from it.
    pub fn val(&self) -> Val<'_> {
        match self {
            Const::Null => Val::Null,
            Const::Bool(b) => Val::Bool(*b),
            Const::Int(i) => Val::Int(*i),
            Const::UInt(u) => Val::UInt(*u),
            Const::Double(f) => Val::Double(*f),
            Const::String(s) => Val::Str(s),
        }
    }
}

/// A compiled expression with the number of loop slots it needs.
#[derive(Debug)]
pub struct Program {
    pub(super) node: Node,
    pub(super) slots: usize,
    pub(super) memos: usize,
}

/// Compiles a checked expression.
pub fn compile(ast: &IdedExpr) -> Result<Program, String> {
    let mut compiler = Compiler::default();
    let node = compiler.node(ast)?;
    Ok(Program {
        node,
        slots: compiler.slots,
        memos: compiler.memos,
    })
}

#[derive(Default)]
struct Compiler {
    /// The loop variables in scope, innermost last, with their slots.
    scope: Vec<(String, usize)>,
    /// Slots needed so far.
    slots: usize,
    /// Memos needed so far.
    memos: usize,
}

impl Compiler {
    fn node(&mut self, expr: &IdedExpr) -> Result<Node, String> {
        let node = match &expr.expr {
            Expr::Literal(literal) => Node::Const(match literal {
                Literal::Null => Const::Null,
                Literal::Boolean(b) => Const::Bool(*b),
                Literal::Int(i) => Const::Int(*i),
                Literal::UInt(u) => Const::UInt(*u),
                Literal::Double(f) => Const::Double(*f),
                Literal::String(s) => Const::String(s.as_str().into()),
                Literal::Bytes(_) => return Err("bytes literals are not supported".to_owned()),
            }),
            Expr::Ident(name) => self.ident(name)?,
            Expr::Select(select) => {
                if !select.test
                    && matches!(&select.operand.expr, Expr::Ident(v) if v == "variables")
                    && self.local("variables").is_none()
                {
                    return Ok(Node::Variable(select.field.as_str().into()));
                }
                let operand = Box::new(self.node(&select.operand)?);
                let field = select.field.as_str().into();
                if select.test {
                    Node::Has(operand, field)
                } else {
                    Node::Select(operand, field)
                }
            }
            Expr::Call(call) => {
                let mut args = Vec::with_capacity(call.args.len() + 1);
                if let Some(target) = &call.target {
                    args.push(self.node(target)?);
                }
                for arg in &call.args {
                    args.push(self.node(arg)?);
                }
                operator(&call.func_name, args)?
            }
            Expr::List(list) => Node::List(
                list.elements
                    .iter()
                    .map(|e| self.node(e))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Map(map) => Node::Map(
                map.entries
                    .iter()
                    .map(|entry| match &entry.expr {
                        EntryExpr::MapEntry(e) => Ok((self.node(&e.key)?, self.node(&e.value)?)),
                        EntryExpr::StructField(_) => {
                            Err("message fields are not supported".to_owned())
                        }
                    })
                    .collect::<Result<_, String>>()?,
            ),
            Expr::Comprehension(c) => self.comprehension(c)?,
            Expr::Struct(_) => return Err("message literals are not supported".to_owned()),
            Expr::Unspecified => return Err("incomplete expression".to_owned()),
        };
        Ok(fold(node))
    }

    fn local(&self, name: &str) -> Option<usize> {
        self.scope
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, slot)| *slot)
    }

    fn ident(&self, name: &str) -> Result<Node, String> {
        if let Some(slot) = self.local(name) {
            return Ok(Node::Local(slot));
        }
        Ok(Node::Root(match name {
            "resource" => Root::Resource,
            "config" => Root::Config,
            "tags" => Root::Tags,
            "now" => Root::Now,
            "required_tags" => Root::RequiredTags,
            "exposure" => Root::Exposure,
            "vulnerabilities" => Root::Vulnerabilities,
            "permissions" => Root::Permissions,
            "administrators" => Root::Administrators,
            "variables" => Root::Variables,
            other => return Err(format!("unknown variable `{other}`")),
        }))
    }

    /// A macro's comprehension, recognised by the shape the parser expands
    /// it into.
    fn comprehension(&mut self, c: &ComprehensionExpr) -> Result<Node, String> {
        if c.iter_var2.is_some() {
            return Err("two-variable comprehensions are not supported".to_owned());
        }
        let range = self.node(&c.iter_range)?;
        let slot = self.slots;
        self.slots += 1;
        self.scope.push((c.iter_var.clone(), slot));
        let accu = c.accu_var.as_str();
        let is_accu = |e: &IdedExpr| matches!(&e.expr, Expr::Ident(n) if n == accu);
        let call = |e: &IdedExpr, name: &str| match &e.expr {
            Expr::Call(call) if call.func_name == name && call.target.is_none() => {
                Some(call.args.clone())
            }
            _ => None,
        };
        // `accu + [f]`: the element appended.
        let appended = |e: &IdedExpr| {
            call(e, operators::ADD).and_then(|args| match (&args[..], args.get(1)) {
                (
                    [a, _],
                    Some(IdedExpr {
                        expr: Expr::List(list),
                        ..
                    }),
                ) if is_accu(a) && list.elements.len() == 1 => Some(list.elements[0].clone()),
                _ => None,
            })
        };
        let result = match (&c.accu_init.expr, &c.loop_step.expr) {
            (Expr::Literal(Literal::Boolean(false)), _)
                if call(&c.loop_step, operators::LOGICAL_OR)
                    .is_some_and(|args| args.len() == 2 && is_accu(&args[0])) =>
            {
                let args = call(&c.loop_step, operators::LOGICAL_OR).unwrap_or_default();
                Ok((LoopKind::Exists, self.node(&args[1])?))
            }
            (Expr::Literal(Literal::Boolean(true)), _)
                if call(&c.loop_step, operators::LOGICAL_AND)
                    .is_some_and(|args| args.len() == 2 && is_accu(&args[0])) =>
            {
                let args = call(&c.loop_step, operators::LOGICAL_AND).unwrap_or_default();
                Ok((LoopKind::All, self.node(&args[1])?))
            }
            (Expr::Literal(Literal::Int(0)), _)
                if call(&c.loop_step, operators::CONDITIONAL).is_some_and(|a| a.len() == 3) =>
            {
                let args = call(&c.loop_step, operators::CONDITIONAL).unwrap_or_default();
                Ok((LoopKind::ExistsOne, self.node(&args[0])?))
            }
            (Expr::List(init), _) if init.elements.is_empty() => {
                if let Some(element) = appended(&c.loop_step) {
                    Ok((LoopKind::Map { filter: None }, self.node(&element)?))
                } else {
                    match call(&c.loop_step, operators::CONDITIONAL).as_deref() {
                        Some([filter, step, otherwise]) if is_accu(otherwise) => {
                            match appended(step) {
                                Some(element) => {
                                    let filter = Some(self.node(filter)?);
                                    Ok((LoopKind::Map { filter }, self.node(&element)?))
                                }
                                None => Err(()),
                            }
                        }
                        _ => Err(()),
                    }
                }
            }
            _ => Err(()),
        };
        self.scope.pop();
        let (mut kind, mut body) = match result {
            Ok(found) => found,
            Err(()) => return Err("unsupported comprehension".to_owned()),
        };
        let first = self.memos;
        self.hoist(&mut body, slot);
        if let LoopKind::Map {
            filter: Some(filter),
        } = &mut kind
        {
            self.hoist(filter, slot);
        }
        Ok(Node::Loop(Box::new(Loop {
            kind,
            range,
            slot,
            body,
            memos: first..self.memos,
        })))
    }

    /// Marks the largest parts of `node`, inside the loop of variable
    /// `slot`, that read neither that variable nor one bound inside the
    /// loop, as memos of the loop; parts as cheap to read as a memo
    /// (constants, variables) are left alone.
    fn hoist(&mut self, node: &mut Node, slot: usize) {
        let inner = !(slot_bit(slot) - 1);
        if node.free() & inner == 0 {
            if !matches!(
                node,
                Node::Const(_) | Node::Json(_) | Node::Root(_) | Node::Local(_) | Node::Memo(..)
            ) {
                let part = std::mem::replace(node, Node::Const(Const::Null));
                *node = Node::Memo(self.memos, Box::new(part));
                self.memos += 1;
            }
            return;
        }
        for child in node.children_mut() {
            self.hoist(child, slot);
        }
    }
}

/// An operator or function call.
fn operator(name: &str, mut args: Vec<Node>) -> Result<Node, String> {
    let binary = |op: Binary, mut args: Vec<Node>| -> Result<Node, String> {
        let b = args.pop().ok_or("missing operand")?;
        let a = args.pop().ok_or("missing operand")?;
        Ok(Node::Binary(op, Box::new([a, b])))
    };
    Ok(match (name, args.len()) {
        (operators::CONDITIONAL, 3) => {
            let c = args.pop().ok_or("missing operand")?;
            let b = args.pop().ok_or("missing operand")?;
            let a = args.pop().ok_or("missing operand")?;
            Node::Conditional(Box::new([a, b, c]))
        }
        (operators::LOGICAL_AND, 2) | (operators::LOGICAL_OR, 2) => {
            let b = args.pop().ok_or("missing operand")?;
            let a = args.pop().ok_or("missing operand")?;
            if name == operators::LOGICAL_AND {
                Node::And(Box::new([a, b]))
            } else {
                Node::Or(Box::new([a, b]))
            }
        }
        (operators::LOGICAL_NOT, 1) => Node::Not(Box::new(args.remove(0))),
        (operators::NEGATE, 1) => Node::Negate(Box::new(args.remove(0))),
        (operators::NOT_STRICTLY_FALSE, 1) => Node::NotStrictlyFalse(Box::new(args.remove(0))),
        (operators::ADD, 2) => binary(Binary::Add, args)?,
        (operators::SUBSTRACT, 2) => binary(Binary::Sub, args)?,
        (operators::MULTIPLY, 2) => binary(Binary::Mul, args)?,
        (operators::DIVIDE, 2) => binary(Binary::Div, args)?,
        (operators::MODULO, 2) => binary(Binary::Rem, args)?,
        (operators::EQUALS, 2) => binary(Binary::Eq, args)?,
        (operators::NOT_EQUALS, 2) => binary(Binary::Ne, args)?,
        (operators::LESS, 2) => binary(Binary::Lt, args)?,
        (operators::LESS_EQUALS, 2) => binary(Binary::Le, args)?,
        (operators::GREATER, 2) => binary(Binary::Gt, args)?,
        (operators::GREATER_EQUALS, 2) => binary(Binary::Ge, args)?,
        (operators::IN, 2) => binary(Binary::In, args)?,
        (operators::INDEX, 2) => binary(Binary::Index, args)?,
        _ => {
            if let Some(decl) = FUNCTIONS.iter().find(|f| f.name == name) {
                Node::Call(Func::Custom(decl.name, decl.call), args)
            } else if let Some(standard) = Standard::named(name, &args)? {
                Node::Call(Func::Standard(standard), args)
            } else {
                return Err(format!("unknown function `{name}`"));
            }
        }
    })
}

/// The node with operators over constants worked out, where they give a
/// value; lists and maps of constants become one constant.
fn fold(node: Node) -> Node {
    let constant = |n: &Node| matches!(n, Node::Const(_) | Node::Json(_));
    let foldable = match &node {
        Node::List(items) => items.iter().all(constant),
        Node::Map(entries) => entries
            .iter()
            .all(|(k, v)| matches!(k, Node::Const(Const::String(_))) && constant(v)),
        Node::Not(a) | Node::Negate(a) => constant(a),
        Node::Binary(_, ab) => ab.iter().all(constant),
        _ => false,
    };
    if !foldable {
        return node;
    }
    let now = chrono::DateTime::UNIX_EPOCH.fixed_offset();
    let empty = Json::Array(Vec::new());
    let env = Env::new(None, now, &empty);
    let mut frame = Frame::default();
    let folded = eval::eval(&node, &env, &mut frame)
        .ok()
        .and_then(|value| constant_of(&value));
    folded.unwrap_or(node)
}

/// A constant node for a value made only of JSON-like parts.
fn constant_of(value: &Val<'_>) -> Option<Node> {
    Some(match value {
        Val::Null => Node::Const(Const::Null),
        Val::Bool(b) => Node::Const(Const::Bool(*b)),
        Val::Int(i) => Node::Const(Const::Int(*i)),
        Val::UInt(u) => Node::Const(Const::UInt(*u)),
        Val::Double(f) => Node::Const(Const::Double(*f)),
        Val::Str(_) | Val::String(_) => Node::Const(Const::String(value.as_str()?.into())),
        _ => Node::Json(value.to_json()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(source: &str) -> Node {
        let ast = cel_parser::Parser::new().parse(source).expect("parses");
        compile(&ast).expect("compiles").node
    }

    #[test]
    fn constants_are_folded() {
        assert!(matches!(compiled("1 + 2"), Node::Const(Const::Int(3))));
        assert!(matches!(compiled("-(4)"), Node::Const(Const::Int(-4))));
        assert!(matches!(compiled("'a' + 'b'"), Node::Const(Const::String(ref s)) if &**s == "ab"));
        assert!(matches!(compiled("['22', '3389']"), Node::Json(_)));
        assert!(matches!(compiled("{'a': [1, true]}"), Node::Json(_)));
        // Only constant parts fold; a failing constant is left to fail when run.
        assert!(matches!(
            compiled("config.A + 1"),
            Node::Binary(Binary::Add, _)
        ));
        assert!(matches!(compiled("1 / 0"), Node::Binary(Binary::Div, _)));
    }

    #[test]
    fn variables_resolve_to_what_they_stand_for() {
        assert!(matches!(compiled("config"), Node::Root(Root::Config)));
        assert!(matches!(compiled("variables.open"), Node::Variable(ref n) if &**n == "open"));
        let Node::Loop(l) = compiled("config.Rules.exists(config2, config2.On)") else {
            panic!("a loop")
        };
        assert!(matches!(l.kind, LoopKind::Exists));
        assert!(matches!(&l.body, Node::Select(operand, _) if matches!(**operand, Node::Local(0))));
        assert!(compile(&cel_parser::Parser::new().parse("bucket.x").expect("parses")).is_err());
    }

    #[test]
    fn what_a_loop_works_out_the_same_each_turn_is_a_memo_of_the_loop() {
        let Node::Loop(outer) = compiled("config.Ps.exists(p, [1, 2].exists(x, x < p.Max))") else {
            panic!("a loop")
        };
        let Node::Loop(inner) = &outer.body else {
            panic!("a loop inside")
        };
        assert!(outer.memos.is_empty());
        assert_eq!(inner.memos, 0..1);
        let Node::Binary(Binary::Lt, ab) = &inner.body else {
            panic!("a comparison")
        };
        assert!(matches!(ab[0], Node::Local(1)));
        assert!(matches!(&ab[1], Node::Memo(0, part)
            if matches!(&**part, Node::Select(operand, _) if matches!(**operand, Node::Local(0)))));
        // A loop that reads nothing of the outer loop's turn is one memo.
        let Node::Loop(outer) = compiled("config.Ps.all(p, config.Qs.exists(q, q > 1))") else {
            panic!("a loop")
        };
        assert!(matches!(&outer.body, Node::Memo(_, part) if matches!(**part, Node::Loop(_))));
    }
}
