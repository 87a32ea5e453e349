//! Parapet's CEL evaluator. A condition is parsed by cel-parser, checked,
//! and compiled once into a tree of nodes ([`compile`]): variables resolved
//! to what they stand for, loop variables to slots, functions to their
//! implementations, constants folded. Evaluation ([`eval`]) reads the
//! asset's documents in place ([`val`]), so a condition that only reads
//! fields and compares them allocates nothing.
//!
//! # Layout
//!
//! - [`val`]: the values conditions compute with.
//! - [`compile`]: expressions compiled into nodes.
//! - [`eval`]: nodes evaluated against one asset.
//! - [`standard`]: CEL's standard functions.

pub(crate) mod compile;
pub(crate) mod eval;
pub(crate) mod standard;
pub mod val;

pub use compile::Program;
pub use eval::Frame;
pub use val::Val;

use chrono::{DateTime, FixedOffset};
use compile::Root;
use parapet_core::Asset;
use serde_json::Value as Json;
use std::cell::Cell;
use std::rc::Rc;

/// What a condition's variables stand for while one asset is evaluated.
pub struct Env<'a> {
    /// The asset: `resource`, `config` and `tags` (`null` without one, as
    /// when constants are folded).
    pub asset: Option<&'a Asset>,
    /// `now`.
    pub now: DateTime<FixedOffset>,
    /// `required_tags`: a list of tag keys.
    pub required_tags: &'a Json,
    /// `exposure`: the asset's exposure list.
    pub exposure: &'a Json,
    /// `vulnerabilities`: the asset's vulnerability list.
    pub vulnerabilities: &'a Json,
    /// `permissions`: the principal's effective permissions.
    pub permissions: &'a Json,
    /// `administrators`: the principals meant to be administrators.
    pub administrators: &'a Json,
    /// The rule's variables worked out so far, in order.
    pub variables: Vec<(&'a str, Val<'a>)>,
    /// The earliest time (milliseconds since the epoch) at which what was
    /// read of the time so far could read otherwise: `now` itself once
    /// `now` is read, the instant its count next changes once `ageDays` is
    /// called; `i64::MAX` while nothing read the time.
    pub time_bound: Cell<i64>,
}

impl<'a> Env<'a> {
    /// An environment for `asset` as of `now`, every list fact `empty`.
    pub fn new(asset: Option<&'a Asset>, now: DateTime<FixedOffset>, empty: &'a Json) -> Env<'a> {
        Env {
            asset,
            now,
            required_tags: empty,
            exposure: empty,
            vulnerabilities: empty,
            permissions: empty,
            administrators: empty,
            variables: Vec::new(),
            time_bound: Cell::new(i64::MAX),
        }
    }

    /// Notes that what was read of the time could read otherwise from `at`
    /// (milliseconds since the epoch) on.
    pub fn bound_time(&self, at: i64) {
        self.time_bound.set(self.time_bound.get().min(at));
    }

    fn root(&self, root: Root) -> Val<'a> {
        match root {
            Root::Resource => self.asset.map_or(Val::Null, Val::Resource),
            Root::Config => self.asset.map_or(Val::Null, |a| Val::json(&a.config)),
            Root::Tags => self.asset.map_or(Val::Null, |a| Val::Strings(&a.tags)),
            Root::Now => {
                self.bound_time(self.now.timestamp_millis());
                Val::Timestamp(self.now)
            }
            Root::RequiredTags => Val::json(self.required_tags),
            Root::Exposure => Val::json(self.exposure),
            Root::Vulnerabilities => Val::json(self.vulnerabilities),
            Root::Permissions => Val::json(self.permissions),
            Root::Administrators => Val::json(self.administrators),
            Root::Variables => Val::Map(Rc::new(
                self.variables
                    .iter()
                    .map(|(name, value)| (Val::Str(name), value.clone()))
                    .collect(),
            )),
        }
    }

    fn variable(&self, name: &str) -> Option<Val<'a>> {
        self.variables
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    }
}

/// Why an expression gave no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalError {
    /// It read a field the value lacks.
    Missing(String),
    /// It called `unknown(reason)`.
    Unknown(String),
    /// It failed in any other way.
    Failed(String),
}

impl EvalError {
    /// A failure with `message`.
    pub fn failed(message: impl Into<String>) -> EvalError {
        EvalError::Failed(message.into())
    }

    /// A function's failure, under the function's name.
    pub fn function(function: &str, message: impl std::fmt::Display) -> EvalError {
        EvalError::Failed(format!("{function}: {message}"))
    }
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::Missing(field) => write!(f, "field `{field}` is missing"),
            EvalError::Unknown(reason) | EvalError::Failed(reason) => f.write_str(reason),
        }
    }
}

impl Program {
    /// Evaluates the program for the asset of `env`.
    pub fn execute<'a>(
        &'a self,
        env: &Env<'a>,
        frame: &mut Frame<'a>,
    ) -> Result<Val<'a>, EvalError> {
        frame.reserve(self.slots, self.memos);
        eval::eval(&self.node, env, frame)
    }
}
