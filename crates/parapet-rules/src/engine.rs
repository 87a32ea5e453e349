//! The evaluation engine: each asset is converted to CEL once and evaluated
//! against only the rules of its resource type, assets in parallel across
//! cores.

use crate::condition::Condition;
use crate::functions::{self, UNKNOWN_FUNCTION};
use crate::identity_policy::IdentityPolicy;
use crate::message::Message;
use crate::rule::Rule;
use crate::tag_policy::TagPolicy;
use crate::value::{PreparedAsset, Projection};
use cel_interpreter::objects::{Key, Map};
use cel_interpreter::{Context, ExecutionError, Value};
use chrono::{DateTime, Utc};
use parapet_core::{
    Asset, Evaluation, ExposureFacts, PermissionFacts, Permissions, Status, VulnerabilityFacts,
};
#[cfg(doc)]
use parapet_core::{ExposureFact, VulnerabilityFact};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// Rules indexed by resource type, with the CEL context they run in:
/// compiled once and used for every evaluation after, whatever the facts of
/// each run.
pub struct Engine {
    rules: Vec<Rule>,
    /// The rules of each resource type and the parts of its assets they
    /// read; looked up once per asset, so a fast hash.
    by_type: FxHashMap<String, TypeRules>,
    root: Context<'static>,
}

/// What one evaluation run knows beyond each asset's document: the time it
/// evaluates as of, and the facts derived from the estate (exposure,
/// vulnerabilities), converted to CEL once.
pub struct Facts {
    /// `now`, as a CEL timestamp.
    now: Value,
    /// Each exposed asset's `exposure` list.
    exposed: FxHashMap<String, Value>,
    /// Assets whose exposure could not be decided, with why.
    undecided: FxHashMap<String, String>,
    /// Each scanned asset's `vulnerabilities` list.
    scanned: FxHashMap<String, Value>,
    /// Each principal's `permissions`.
    permitted: FxHashMap<String, Value>,
    /// Principals whose permissions could not be worked out, with why.
    unsettled: FxHashMap<String, String>,
}

impl Facts {
    /// No facts, as of `now` (which `ageDays` and the `now` variable use):
    /// nothing is exposed, nothing scanned.
    pub fn at(now: DateTime<Utc>) -> Facts {
        Facts {
            now: Value::Timestamp(now.fixed_offset()),
            exposed: FxHashMap::default(),
            undecided: FxHashMap::default(),
            scanned: FxHashMap::default(),
            permitted: FxHashMap::default(),
            unsettled: FxHashMap::default(),
        }
    }

    /// Gives rules each asset's internet exposure as the `exposure` list
    /// (empty for an asset the internet does not reach); rules that read it
    /// are unknown for an asset whose exposure could not be decided.
    pub fn with_exposure(mut self, facts: ExposureFacts) -> Facts {
        self.exposed = facts
            .exposed
            .into_iter()
            .map(|(id, list)| (id, cel_value(&list)))
            .collect();
        self.undecided = facts.undecided.into_iter().collect();
        self
    }

    /// Gives rules each scanned asset's known vulnerabilities as the
    /// `vulnerabilities` list; rules that read it are unknown for an asset
    /// no scan covers.
    pub fn with_vulnerabilities(mut self, facts: VulnerabilityFacts) -> Facts {
        self.scanned = facts
            .scanned
            .into_iter()
            .map(|(id, list)| (id, cel_value(&list)))
            .collect();
        self
    }
}

impl Facts {
    /// Gives rules each principal's effective permissions as the
    /// `permissions` map; rules that read it are unknown for a principal
    /// whose permissions could not be worked out.
    pub fn with_permissions(mut self, facts: PermissionFacts) -> Facts {
        self.permitted = facts
            .principals
            .into_iter()
            .map(|(id, permissions)| (id, cel_value(&permissions)))
            .collect();
        self.unsettled = facts.undecided.into_iter().collect();
        self
    }
}

/// A typed fact as the CEL value rules read.
fn cel_value<T: serde::Serialize + ?Sized>(fact: &T) -> Value {
    let json = serde_json::to_value(fact).unwrap_or(serde_json::Value::Null);
    crate::value::from_json(&json)
}

/// Why a rule reading `vulnerabilities` is unknown for an unscanned asset.
const UNSCANNED: &str = "no vulnerability scan is attached to this asset or to what it runs from \
    (`parapet vuln scan TARGET --asset ID`)";

/// The rules of one resource type.
#[derive(Default)]
struct TypeRules {
    /// Indices into the engine's rules.
    rules: Vec<usize>,
    /// What those rules read of an asset: all that is converted.
    projection: Projection,
    /// The tag keys the tag policy requires of the type, as the
    /// `required_tags` list.
    required_tags: Option<Value>,
}

/// Why an expression gave no value for one asset.
enum Failure {
    /// It read something the asset lacks, or called `unknown()`.
    Unknown(String),
    /// It failed in any other way.
    Error(String),
}

impl Failure {
    /// The failure with `context` before its reason.
    fn within(self, context: &str) -> Failure {
        match self {
            Failure::Unknown(m) => Failure::Unknown(format!("{context}: {m}")),
            Failure::Error(m) => Failure::Error(format!("{context}: {m}")),
        }
    }

    /// The result it makes.
    fn result(self) -> (Status, Arc<str>) {
        match self {
            Failure::Unknown(m) => (Status::Unknown, m.into()),
            Failure::Error(m) => (Status::Error, m.into()),
        }
    }
}

/// What a rule's example sets besides its asset: the time, the required
/// tags, the exposure and the vulnerabilities (each `None`: as the facts of
/// the run have it). Examples write only the fields their rule reads, so
/// their exposure and vulnerabilities are plain JSON objects.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExampleFacts<'a> {
    /// `now`.
    pub now: Option<DateTime<Utc>>,
    /// `required_tags`.
    pub required_tags: Option<&'a [String]>,
    /// `exposure`: objects of the shape of [`ExposureFact`].
    pub exposure: Option<&'a [serde_json::Value]>,
    /// `vulnerabilities`: objects of the shape of [`VulnerabilityFact`].
    pub vulnerabilities: Option<&'a [serde_json::Value]>,
    /// `permissions`: an object of the shape of [`Permissions`].
    pub permissions: Option<&'a serde_json::Value>,
}

impl Engine {
    /// An engine over `rules`, indexed by resource type.
    pub fn new(rules: Vec<Rule>) -> Engine {
        let mut by_type: FxHashMap<String, TypeRules> = FxHashMap::default();
        for (index, rule) in rules.iter().enumerate() {
            for t in &rule.resource_types {
                let entry = by_type.entry(t.as_str().to_owned()).or_default();
                entry.rules.push(index);
                for path in rule.reads().chain(rule.message_reads()) {
                    entry.projection.add(path);
                }
            }
        }
        let mut root = Context::default();
        functions::register(&mut root);
        root.add_variable_from_value("required_tags", tag_list(&[]));
        root.add_variable_from_value("exposure", Value::List(Arc::new(Vec::new())));
        root.add_variable_from_value("vulnerabilities", Value::List(Arc::new(Vec::new())));
        root.add_variable_from_value("permissions", cel_value(&Permissions::default()));
        root.add_variable_from_value("administrators", tag_list(&[]));
        Engine {
            rules,
            by_type,
            root,
        }
    }

    /// Applies an identity policy: rules read the principals it names as
    /// administrators as `administrators` (an empty list without one).
    pub fn with_identity_policy(mut self, policy: &IdentityPolicy) -> Engine {
        self.root
            .add_variable_from_value("administrators", tag_list(&policy.administrators));
        self
    }

    /// Applies a tag policy: rules read the keys it requires of each asset's
    /// type as `required_tags` (an empty list without a policy).
    pub fn with_tag_policy(mut self, policy: &TagPolicy) -> Engine {
        for (resource_type, type_rules) in &mut self.by_type {
            type_rules.required_tags = Some(tag_list(&policy.required_for(resource_type)));
        }
        self
    }

    /// The rules, in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// How many rules apply to assets of `resource_type`.
    pub fn rule_count_for(&self, resource_type: &str) -> usize {
        self.by_type.get(resource_type).map_or(0, |t| t.rules.len())
    }

    /// Converts the parts of `asset` that the rules of its type read; `None`
    /// when no rule applies to its type.
    pub fn prepare<'a>(&self, asset: &'a Asset) -> Option<PreparedAsset<'a>> {
        self.by_type
            .get(asset.resource_type.as_str())
            .map(|t| PreparedAsset::project(asset, &t.projection))
    }

    /// Evaluates every rule of the asset's type against it.
    pub fn evaluate(&self, facts: &Facts, asset: &Asset) -> Vec<Evaluation> {
        let mut out = Vec::new();
        if let Some(prepared) = self.prepare(asset) {
            self.evaluate_prepared(facts, &prepared, &mut out);
        }
        out
    }

    /// Evaluates every asset, in parallel; results keep the assets' order.
    pub fn evaluate_all(&self, facts: &Facts, assets: &[Asset]) -> Vec<Evaluation> {
        assets
            .par_iter()
            .flat_map_iter(|asset| self.evaluate(facts, asset))
            .collect()
    }

    /// Evaluates an already converted asset, appending to `out`.
    pub fn evaluate_prepared(
        &self,
        facts: &Facts,
        prepared: &PreparedAsset<'_>,
        out: &mut Vec<Evaluation>,
    ) {
        let Some(type_rules) = self.by_type.get(prepared.asset.resource_type.as_str()) else {
            return;
        };
        let mut scope = self.scope(prepared, type_rules.required_tags.as_ref());
        scope.add_variable_from_value("now", facts.now.clone());
        let id = prepared.asset.id.as_str();
        if let Some(exposure) = facts.exposed.get(id) {
            scope.add_variable_from_value("exposure", exposure.clone());
        }
        let scanned = match facts.scanned.get(id) {
            Some(list) => {
                scope.add_variable_from_value("vulnerabilities", list.clone());
                true
            }
            None => false,
        };
        if let Some(permissions) = facts.permitted.get(id) {
            scope.add_variable_from_value("permissions", permissions.clone());
        }
        let undecided = Undecided {
            exposure: facts.undecided.get(id),
            permissions: facts.unsettled.get(id),
        };
        for &index in &type_rules.rules {
            if let Some(evaluation) =
                evaluate_rule(&self.rules[index], prepared, &scope, undecided, scanned)
            {
                out.push(evaluation);
            }
        }
    }

    /// Evaluates one rule against an asset as a rule's example does: with
    /// the time, required tags, exposure and vulnerabilities it sets, and
    /// otherwise those of `facts`. `None` when the rule's `applies` filter
    /// excludes the asset.
    pub fn evaluate_rule(
        &self,
        facts: &Facts,
        rule: &Rule,
        asset: &Asset,
        example: ExampleFacts<'_>,
    ) -> Option<Evaluation> {
        let prepared = PreparedAsset::new(asset);
        let required_tags = match example.required_tags {
            Some(keys) => Some(tag_list(keys)),
            None => self
                .by_type
                .get(asset.resource_type.as_str())
                .and_then(|t| t.required_tags.clone()),
        };
        let mut scope = self.scope(&prepared, required_tags.as_ref());
        let now = example.now.map_or_else(
            || facts.now.clone(),
            |now| Value::Timestamp(now.fixed_offset()),
        );
        scope.add_variable_from_value("now", now);
        let exposure = match example.exposure {
            Some(list) => Some(cel_value(list)),
            None => facts.exposed.get(asset.id.as_str()).cloned(),
        };
        if let Some(exposure) = exposure {
            scope.add_variable_from_value("exposure", exposure);
        }
        let vulnerabilities = match example.vulnerabilities {
            Some(list) => Some(cel_value(list)),
            None => facts.scanned.get(asset.id.as_str()).cloned(),
        };
        let scanned = vulnerabilities.is_some();
        if let Some(list) = vulnerabilities {
            scope.add_variable_from_value("vulnerabilities", list);
        }
        let permissions = match example.permissions {
            Some(permissions) => Some(crate::value::from_json(permissions)),
            None => facts.permitted.get(asset.id.as_str()).cloned(),
        };
        if let Some(permissions) = permissions {
            scope.add_variable_from_value("permissions", permissions);
        }
        let undecided = Undecided {
            exposure: facts.undecided.get(asset.id.as_str()),
            permissions: facts.unsettled.get(asset.id.as_str()),
        };
        evaluate_rule(rule, &prepared, &scope, undecided, scanned)
    }

    /// A scope of the root context with the asset's variables bound.
    fn scope(&self, prepared: &PreparedAsset<'_>, required_tags: Option<&Value>) -> Context<'_> {
        let mut scope = self.root.new_inner_scope();
        scope.add_variable_from_value("resource", prepared.resource.clone());
        scope.add_variable_from_value("config", prepared.config.clone());
        scope.add_variable_from_value("tags", prepared.tags.clone());
        if let Some(keys) = required_tags {
            scope.add_variable_from_value("required_tags", keys.clone());
        }
        scope
    }
}

/// Strings (tag keys, principal patterns) as a CEL list.
fn tag_list(keys: &[String]) -> Value {
    Value::List(Arc::new(
        keys.iter()
            .map(|k| Value::String(Arc::new(k.clone())))
            .collect(),
    ))
}

/// Runs one expression: a missing field or `unknown()` makes the outcome
/// unknown, any other failure an error.
fn execute(condition: &Condition, scope: &Context<'_>) -> Result<Value, Failure> {
    // cel-interpreter panics on a few malformed programs; one bad rule must
    // not stop a scan.
    let result = catch_unwind(AssertUnwindSafe(|| condition.program.execute(scope)));
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(ExecutionError::NoSuchKey(key))) => {
            Err(Failure::Unknown(format!("field `{key}` is missing")))
        }
        Ok(Err(ExecutionError::FunctionError { function, message }))
            if function == UNKNOWN_FUNCTION =>
        {
            Err(Failure::Unknown(message))
        }
        Ok(Err(e)) => Err(Failure::Error(e.to_string())),
        Err(_) => Err(Failure::Error(
            "the evaluator failed on this condition".to_owned(),
        )),
    }
}

/// Runs one condition, which must give a boolean.
fn run(condition: &Condition, scope: &Context<'_>) -> Result<bool, Failure> {
    match execute(condition, scope)? {
        Value::Bool(b) => Ok(b),
        other => Err(Failure::Error(format!(
            "the condition returned {:?}, not a boolean",
            other.type_of()
        ))),
    }
}

/// A scope with the rule's variables worked out, in order, as the
/// `variables` map; the first that cannot be fails the rule.
fn bind_variables<'s>(rule: &Rule, scope: &'s Context<'_>) -> Result<Context<'s>, Failure> {
    let mut values: HashMap<Key, Value> = HashMap::with_capacity(rule.variables.len());
    let mut inner = scope.new_inner_scope();
    for variable in &rule.variables {
        // Only a variable that reads earlier ones needs them bound.
        if !variable.expression.variables.is_empty() {
            inner.add_variable_from_value(
                "variables",
                Value::Map(Map {
                    map: Arc::new(values.clone()),
                }),
            );
        }
        let value = execute(&variable.expression, &inner)
            .map_err(|f| f.within(&format!("variables.{}", variable.name)))?;
        values.insert(crate::value::key(&variable.name), value);
    }
    inner.add_variable_from_value(
        "variables",
        Value::Map(Map {
            map: Arc::new(values),
        }),
    );
    Ok(inner)
}

/// Whether two paths overlap: one is a prefix of the other.
fn overlaps(a: &[String], b: &[&str]) -> bool {
    a.iter().zip(b).all(|(x, y)| x == y)
}

/// The derived facts of an asset that could not be worked out, with why.
#[derive(Clone, Copy)]
struct Undecided<'a> {
    exposure: Option<&'a String>,
    permissions: Option<&'a String>,
}

/// The collection gaps a rule depends on: the asset's `unknown` entries
/// (config paths, `tags` or `exposure`) that overlap a field the rule
/// reads, and a derived fact it reads that could not be worked out.
fn gaps(rule: &Rule, asset: &Asset, undecided: Undecided<'_>) -> Vec<String> {
    let mut gaps: Vec<String> = asset
        .unknown
        .iter()
        .filter(|(path, _)| {
            // `tags`, `exposure` and `permissions` stand for those
            // variables; every other key is a path inside the configuration.
            let mut full = if ["tags", "exposure", "permissions"].contains(&path.as_str()) {
                vec![]
            } else {
                vec!["config"]
            };
            full.extend(path.split('.'));
            rule.reads().any(|read| overlaps(read, &full))
        })
        .map(|(path, reason)| format!("`{path}` could not be collected: {reason}"))
        .collect();
    if let Some(reason) = undecided.exposure
        && rule.reads().any(|read| overlaps(read, &["exposure"]))
    {
        gaps.push(format!("`exposure` could not be decided: {reason}"));
    }
    if let Some(reason) = undecided.permissions
        && rule.reads().any(|read| overlaps(read, &["permissions"]))
    {
        gaps.push(format!("`permissions` could not be worked out: {reason}"));
    }
    gaps
}

fn evaluate_rule(
    rule: &Rule,
    prepared: &PreparedAsset<'_>,
    scope: &Context<'_>,
    undecided: Undecided<'_>,
    scanned: bool,
) -> Option<Evaluation> {
    let asset = prepared.asset;
    let gaps = gaps(rule, asset, undecided);
    let (status, message): (Status, Arc<str>) = if !gaps.is_empty() {
        (Status::Unknown, gaps.join("; ").into())
    } else {
        let applies = rule.applies.as_ref().map_or(Ok(true), |c| run(c, scope));
        match applies {
            Ok(false) => return None,
            Err(failure) => failure.within("applies").result(),
            // Applicable, but nothing says what the asset's software is.
            Ok(true) if !scanned && rule.reads_vulnerabilities() => {
                (Status::Unknown, UNSCANNED.into())
            }
            Ok(true) => decide(rule, scope).unwrap_or_else(Failure::result),
        }
    };
    let evidence = if status == Status::Pass {
        BTreeMap::new()
    } else {
        evidence(rule, asset)
    };
    Some(Evaluation {
        rule_id: Arc::clone(&rule.id),
        asset_id: Arc::clone(&prepared.id),
        status,
        message,
        evidence,
    })
}

/// The status and message of an applicable rule: its variables worked out,
/// then its condition.
fn decide(rule: &Rule, scope: &Context<'_>) -> Result<(Status, Arc<str>), Failure> {
    let bound;
    let scope = if rule.variables.is_empty() {
        scope
    } else {
        bound = bind_variables(rule, scope)?;
        &bound
    };
    Ok(if run(&rule.compliant, scope)? {
        (
            Status::Pass,
            message(rule.pass_message.as_ref(), rule, scope),
        )
    } else {
        (
            Status::Fail,
            message(rule.fail_message.as_ref(), rule, scope),
        )
    })
}

/// A result's message from its template, or the rule's title (shared) when
/// it has none.
fn message(template: Option<&Message>, rule: &Rule, scope: &Context<'_>) -> Arc<str> {
    match template {
        Some(template) => template.render(scope).into(),
        None => Arc::clone(&rule.title),
    }
}

/// The value at `path` of the asset, if present; only that value is copied.
fn value_at(asset: &Asset, path: &[String]) -> Option<serde_json::Value> {
    let (first, rest) = path.split_first()?;
    let top = match first.as_str() {
        "config" => &asset.config,
        "tags" => {
            return match rest {
                [] => serde_json::to_value(&asset.tags).ok(),
                [key] => asset.tags.get(key).map(|v| v.as_str().into()),
                _ => None,
            };
        }
        "relationships" => return serde_json::to_value(&asset.relationships).ok(),
        "unknown" => return serde_json::to_value(&asset.unknown).ok(),
        "id" => return Some(asset.id.as_str().into()),
        "name" => return Some(asset.name.as_str().into()),
        "account" => return Some(asset.account.as_str().into()),
        "region" => return Some(asset.region.as_str().into()),
        "provider" => return Some(asset.provider.as_str().into()),
        "type" => return Some(asset.resource_type.as_str().into()),
        _ => return None,
    };
    let mut current = top;
    for step in rest {
        current = match current {
            serde_json::Value::Object(map) => map.get(step)?,
            serde_json::Value::Array(items) => items.get(step.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current.clone())
}

/// The values of the fields the rule read, by path; absent fields are left out.
fn evidence(rule: &Rule, asset: &Asset) -> BTreeMap<String, serde_json::Value> {
    rule.reads()
        .filter_map(|path| value_at(asset, path).map(|v| (path.join("."), v)))
        .collect()
}
