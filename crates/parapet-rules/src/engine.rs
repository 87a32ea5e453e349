//! The evaluation engine: each asset is converted to CEL once and evaluated
//! against only the rules of its resource type, assets in parallel across
//! cores.

use crate::condition::Condition;
use crate::functions::{self, UNKNOWN_FUNCTION};
use crate::rule::Rule;
use crate::tag_policy::TagPolicy;
use crate::value::{PreparedAsset, Projection};
use cel_interpreter::{Context, ExecutionError, Value};
use chrono::{DateTime, Utc};
use parapet_core::{Asset, Evaluation, ExposureFacts, Status, VulnerabilityFacts};
#[cfg(doc)]
use parapet_core::{ExposureFact, VulnerabilityFact};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, LazyLock};

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
        }
    }

    /// Gives rules each asset's internet exposure as the `exposure` list
    /// (empty for an asset the internet does not reach); rules that read it
    /// are unknown for an asset whose exposure could not be decided.
    pub fn with_exposure(mut self, facts: ExposureFacts) -> Facts {
        self.exposed = facts
            .exposed
            .into_iter()
            .map(|(id, list)| (id, cel_list(&list)))
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
            .map(|(id, list)| (id, cel_list(&list)))
            .collect();
        self
    }
}

/// Typed facts as the CEL list rules read.
fn cel_list<T: serde::Serialize>(items: &[T]) -> Value {
    let json = serde_json::to_value(items).unwrap_or(serde_json::Value::Array(Vec::new()));
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

/// What one condition said about one asset.
enum Outcome {
    True,
    False,
    Unknown(String),
    Error(String),
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
}

impl Engine {
    /// An engine over `rules`, indexed by resource type.
    pub fn new(rules: Vec<Rule>) -> Engine {
        let mut by_type: FxHashMap<String, TypeRules> = FxHashMap::default();
        for (index, rule) in rules.iter().enumerate() {
            for t in &rule.resource_types {
                let entry = by_type.entry(t.as_str().to_owned()).or_default();
                entry.rules.push(index);
                for path in rule.reads() {
                    entry.projection.add(path);
                }
            }
        }
        let mut root = Context::default();
        functions::register(&mut root);
        root.add_variable_from_value("required_tags", tag_list(&[]));
        root.add_variable_from_value("exposure", Value::List(Arc::new(Vec::new())));
        root.add_variable_from_value("vulnerabilities", Value::List(Arc::new(Vec::new())));
        Engine {
            rules,
            by_type,
            root,
        }
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
        let undecided = facts.undecided.get(id);
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
            Some(list) => Some(cel_list(list)),
            None => facts.exposed.get(asset.id.as_str()).cloned(),
        };
        if let Some(exposure) = exposure {
            scope.add_variable_from_value("exposure", exposure);
        }
        let vulnerabilities = match example.vulnerabilities {
            Some(list) => Some(cel_list(list)),
            None => facts.scanned.get(asset.id.as_str()).cloned(),
        };
        let scanned = vulnerabilities.is_some();
        if let Some(list) = vulnerabilities {
            scope.add_variable_from_value("vulnerabilities", list);
        }
        evaluate_rule(
            rule,
            &prepared,
            &scope,
            facts.undecided.get(asset.id.as_str()),
            scanned,
        )
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

/// Tag keys as a CEL list of strings.
fn tag_list(keys: &[String]) -> Value {
    Value::List(Arc::new(
        keys.iter()
            .map(|k| Value::String(Arc::new(k.clone())))
            .collect(),
    ))
}

/// Runs one condition. A missing field or `unknown()` makes the outcome
/// unknown; any other failure is an error, as is a non-boolean result.
fn run(condition: &Condition, scope: &Context<'_>) -> Outcome {
    // cel-interpreter panics on a few malformed programs; one bad rule must
    // not stop a scan.
    let result = catch_unwind(AssertUnwindSafe(|| condition.program.execute(scope)));
    match result {
        Ok(Ok(Value::Bool(true))) => Outcome::True,
        Ok(Ok(Value::Bool(false))) => Outcome::False,
        Ok(Ok(other)) => Outcome::Error(format!(
            "the condition returned {:?}, not a boolean",
            other.type_of()
        )),
        Ok(Err(ExecutionError::NoSuchKey(key))) => {
            Outcome::Unknown(format!("field `{key}` is missing"))
        }
        Ok(Err(ExecutionError::FunctionError { function, message }))
            if function == UNKNOWN_FUNCTION =>
        {
            Outcome::Unknown(message)
        }
        Ok(Err(e)) => Outcome::Error(e.to_string()),
        Err(_) => Outcome::Error("the evaluator failed on this condition".to_owned()),
    }
}

/// Whether two paths overlap: one is a prefix of the other.
fn overlaps(a: &[String], b: &[&str]) -> bool {
    a.iter().zip(b).all(|(x, y)| x == y)
}

/// The collection gaps a rule depends on: the asset's `unknown` entries
/// (config paths, `tags` or `exposure`) that overlap a field the rule
/// reads, and an exposure that could not be decided when it reads that.
fn gaps(rule: &Rule, asset: &Asset, undecided: Option<&String>) -> Vec<String> {
    let mut gaps: Vec<String> = asset
        .unknown
        .iter()
        .filter(|(path, _)| {
            // `tags` and `exposure` stand for those variables; every other
            // key is a path inside the configuration.
            let mut full = if path.as_str() == "tags" || path.as_str() == "exposure" {
                vec![]
            } else {
                vec!["config"]
            };
            full.extend(path.split('.'));
            rule.reads().any(|read| overlaps(read, &full))
        })
        .map(|(path, reason)| format!("`{path}` could not be collected: {reason}"))
        .collect();
    if let Some(reason) = undecided
        && rule.reads().any(|read| overlaps(read, &["exposure"]))
    {
        gaps.push(format!("`exposure` could not be decided: {reason}"));
    }
    gaps
}

fn evaluate_rule(
    rule: &Rule,
    prepared: &PreparedAsset<'_>,
    scope: &Context<'_>,
    undecided: Option<&String>,
    scanned: bool,
) -> Option<Evaluation> {
    let asset = prepared.asset;
    let gaps = gaps(rule, asset, undecided);
    let (status, message): (Status, Arc<str>) = if !gaps.is_empty() {
        (Status::Unknown, gaps.join("; ").into())
    } else {
        let applies = rule
            .applies
            .as_ref()
            .map_or(Outcome::True, |c| run(c, scope));
        match applies {
            Outcome::False => return None,
            Outcome::Unknown(m) => (Status::Unknown, format!("applies: {m}").into()),
            Outcome::Error(m) => (Status::Error, format!("applies: {m}").into()),
            // Applicable, but nothing says what the asset's software is.
            Outcome::True
                if !scanned
                    && rule
                        .compliant
                        .reads
                        .iter()
                        .any(|read| overlaps(read, &["vulnerabilities"])) =>
            {
                (Status::Unknown, UNSCANNED.into())
            }
            Outcome::True => match run(&rule.compliant, scope) {
                Outcome::True => (Status::Pass, Arc::clone(&EMPTY)),
                Outcome::False => (Status::Fail, Arc::clone(&rule.title)),
                Outcome::Unknown(m) => (Status::Unknown, m.into()),
                Outcome::Error(m) => (Status::Error, m.into()),
            },
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

/// The message of a passing evaluation, shared.
static EMPTY: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from(""));

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
