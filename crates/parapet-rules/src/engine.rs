//! The evaluation engine: rules indexed by resource type, each asset
//! evaluated against only the rules of its type with its documents read in
//! place, assets in parallel across cores.

use crate::cel::{Env, EvalError, Frame, Val};
use crate::condition::Condition;
use crate::identity_policy::IdentityPolicy;
use crate::incremental::RuleInputs;
use crate::message::Message;
use crate::rule::Rule;
use crate::tag_policy::TagPolicy;
use chrono::{DateTime, FixedOffset, Utc};
use parapet_core::{
    Asset, Evaluation, Evidence, ExposureFacts, PermissionFacts, Permissions, Status,
    VulnerabilityFacts,
};
#[cfg(doc)]
use parapet_core::{ExposureFact, VulnerabilityFact};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde_json::Value as Json;
use std::borrow::Cow;
use std::sync::Arc;

/// Rules indexed by resource type, with the values every evaluation reads
/// beside the asset: compiled once and used for every evaluation after,
/// whatever the facts of each run.
pub struct Engine {
    rules: Vec<Rule>,
    /// What each rule reads beside the asset's content, in rule order.
    inputs: Vec<RuleInputs>,
    /// The fields each rule's evidence holds, in rule order: rules that
    /// read the same fields share one, so that an asset's evidence for them
    /// is written once.
    evidence: Vec<Arc<EvidenceFields>>,
    /// The rules of each resource type; looked up once per asset, so a
    /// fast hash.
    by_type: FxHashMap<String, TypeRules>,
    /// `administrators`.
    administrators: Json,
    /// `permissions` of an asset that is no principal.
    no_permissions: Json,
    /// An empty list: `exposure` of an asset the internet does not reach.
    empty: Json,
}

/// Assets one thread evaluates at a time: enough to keep the cost of
/// handing work between threads small.
const CHUNK: usize = 256;

/// What one evaluation run knows beyond each asset's document: the time it
/// evaluates as of, and the facts derived from the estate (exposure,
/// vulnerabilities, permissions), as the documents rules read.
pub struct Facts {
    /// `now`.
    pub(crate) now: DateTime<FixedOffset>,
    /// Each exposed asset's `exposure` list.
    exposed: FxHashMap<String, Json>,
    /// Assets whose exposure could not be decided, with why.
    undecided: FxHashMap<String, String>,
    /// Each scanned asset's `vulnerabilities` list.
    scanned: FxHashMap<String, Json>,
    /// Each principal's `permissions`.
    permitted: FxHashMap<String, Json>,
    /// Principals whose permissions could not be worked out, with why.
    unsettled: FxHashMap<String, String>,
}

impl Facts {
    /// No facts, as of `now` (which `ageDays` and the `now` variable use):
    /// nothing is exposed, nothing scanned.
    pub fn at(now: DateTime<Utc>) -> Facts {
        Facts {
            now: now.fixed_offset(),
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
            .map(|(id, list)| (id, document(&list)))
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
            .map(|(id, list)| (id, document(&list)))
            .collect();
        self
    }

    /// Gives rules each principal's effective permissions as the
    /// `permissions` map; rules that read it are unknown for a principal
    /// whose permissions could not be worked out.
    pub fn with_permissions(mut self, facts: PermissionFacts) -> Facts {
        self.permitted = facts
            .principals
            .into_iter()
            .map(|(id, permissions)| (id, document(&permissions)))
            .collect();
        self.unsettled = facts.undecided.into_iter().collect();
        self
    }

    /// What is known of the asset `id` for each derived fact (exposure,
    /// vulnerabilities, permissions): its document, and why it could not be
    /// worked out.
    pub(crate) fn of(&self, id: &str) -> [(Option<&Json>, Option<&String>); 3] {
        [
            (self.exposed.get(id), self.undecided.get(id)),
            (self.scanned.get(id), None),
            (self.permitted.get(id), self.unsettled.get(id)),
        ]
    }
}

/// A typed fact as the document rules read.
fn document<T: serde::Serialize + ?Sized>(fact: &T) -> Json {
    serde_json::to_value(fact).unwrap_or(Json::Null)
}

/// Why a rule reading `vulnerabilities` is unknown for an unscanned asset.
const UNSCANNED: &str = "no vulnerability scan is attached to this asset or to what it runs from \
    (`parapet vuln scan TARGET --asset ID`)";

/// The rules of one resource type.
#[derive(Default)]
struct TypeRules {
    /// Indices into the engine's rules.
    rules: Vec<usize>,
    /// The tag keys the tag policy requires of the type, as the
    /// `required_tags` list (none without a policy).
    required_tags: Option<Json>,
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

impl From<EvalError> for Failure {
    fn from(error: EvalError) -> Failure {
        match error {
            EvalError::Missing(_) | EvalError::Unknown(_) => Failure::Unknown(error.to_string()),
            EvalError::Failed(_) => Failure::Error(error.to_string()),
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

/// What one asset is evaluated with: its environment, whether a scan
/// covers it, and the facts about it that could not be worked out.
struct Subject<'a> {
    env: Env<'a>,
    scanned: bool,
    undecided: Undecided<'a>,
    /// The asset's id, shared by its evaluations.
    id: Arc<str>,
    /// The evidence written so far, by the fields it holds.
    evidence: Vec<(Arc<EvidenceFields>, Evidence)>,
}

impl Subject<'_> {
    /// The asset's evidence of `fields`: written the first time, shared
    /// after.
    fn evidence(&mut self, fields: &Arc<EvidenceFields>) -> Evidence {
        if let Some((_, made)) = self.evidence.iter().find(|(f, _)| Arc::ptr_eq(f, fields)) {
            return made.clone();
        }
        let made = self
            .env
            .asset
            .map(|asset| fields.of_asset(asset))
            .unwrap_or_default();
        self.evidence.push((Arc::clone(fields), made.clone()));
        made
    }
}

impl Engine {
    /// An engine over `rules`, indexed by resource type.
    pub fn new(rules: Vec<Rule>) -> Engine {
        let mut by_type: FxHashMap<String, TypeRules> = FxHashMap::default();
        for (index, rule) in rules.iter().enumerate() {
            for t in &rule.resource_types {
                by_type
                    .entry(t.as_str().to_owned())
                    .or_default()
                    .rules
                    .push(index);
            }
        }
        let mut shared: FxHashMap<Vec<String>, Arc<EvidenceFields>> = FxHashMap::default();
        let evidence = rules
            .iter()
            .map(|rule| {
                let fields = EvidenceFields::of(rule);
                let key = fields.0.iter().map(|(path, _)| path.clone()).collect();
                Arc::clone(shared.entry(key).or_insert_with(|| Arc::new(fields)))
            })
            .collect();
        Engine {
            inputs: rules.iter().map(RuleInputs::of).collect(),
            evidence,
            rules,
            by_type,
            administrators: Json::Array(Vec::new()),
            no_permissions: document(&Permissions::default()),
            empty: Json::Array(Vec::new()),
        }
    }

    /// Applies an identity policy: rules read the principals it names as
    /// administrators as `administrators` (an empty list without one).
    pub fn with_identity_policy(mut self, policy: &IdentityPolicy) -> Engine {
        self.administrators = document(&policy.administrators);
        self
    }

    /// Applies a tag policy: rules read the keys it requires of each asset's
    /// type as `required_tags` (an empty list without a policy).
    pub fn with_tag_policy(mut self, policy: &TagPolicy) -> Engine {
        for (resource_type, type_rules) in &mut self.by_type {
            type_rules.required_tags = Some(document(&policy.required_for(resource_type)));
        }
        self
    }

    /// The rules, in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// What each rule reads beside the asset's content, in rule order.
    pub(crate) fn rule_inputs(&self) -> &[RuleInputs] {
        &self.inputs
    }

    /// `required_tags` for assets of `resource_type`.
    pub(crate) fn required_tags(&self, resource_type: &str) -> &Json {
        self.by_type
            .get(resource_type)
            .and_then(|t| t.required_tags.as_ref())
            .unwrap_or(&self.empty)
    }

    /// `administrators`.
    pub(crate) fn administrators(&self) -> &Json {
        &self.administrators
    }

    /// How many rules apply to assets of `resource_type`.
    pub fn rule_count_for(&self, resource_type: &str) -> usize {
        self.by_type.get(resource_type).map_or(0, |t| t.rules.len())
    }

    /// Evaluates every rule of the asset's type against it.
    pub fn evaluate(&self, facts: &Facts, asset: &Asset) -> Vec<Evaluation> {
        let mut out = Vec::new();
        self.evaluate_into(facts, asset, &mut out);
        out
    }

    /// Evaluates every asset, in parallel; results keep the assets' order.
    pub fn evaluate_all(&self, facts: &Facts, assets: &[Asset]) -> Vec<Evaluation> {
        let parts: Vec<Vec<Evaluation>> = assets
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut out = Vec::with_capacity(chunk.len() * 8);
                for asset in chunk {
                    self.evaluate_into(facts, asset, &mut out);
                }
                out
            })
            .collect();
        let mut all = Vec::with_capacity(parts.iter().map(Vec::len).sum());
        for part in parts {
            all.extend(part);
        }
        all
    }

    /// Evaluates every rule of the asset's type against it, appending to
    /// `out`.
    pub fn evaluate_into(&self, facts: &Facts, asset: &Asset, out: &mut Vec<Evaluation>) {
        self.evaluate_selected(facts, asset, |_| true, out, |_, _| ());
    }

    /// Evaluates the rules of the asset's type that `select` chooses (by
    /// index in the engine's rules), appending to `out`; `inapplicable` is
    /// told each rule whose `applies` filter excludes the asset, with the
    /// asset's id. Returns until when (milliseconds since the epoch,
    /// excluded) what they read of the time reads the same (`i64::MAX` when
    /// none read it).
    pub(crate) fn evaluate_selected(
        &self,
        facts: &Facts,
        asset: &Asset,
        mut select: impl FnMut(usize) -> bool,
        out: &mut Vec<Evaluation>,
        mut inapplicable: impl FnMut(&Rule, &Arc<str>),
    ) -> i64 {
        let Some(type_rules) = self.by_type.get(asset.resource_type.as_str()) else {
            return i64::MAX;
        };
        let mut chosen = type_rules
            .rules
            .iter()
            .copied()
            .filter(|&i| select(i))
            .peekable();
        if chosen.peek().is_none() {
            return i64::MAX;
        }
        let mut subject = self.subject(facts, asset, type_rules.required_tags.as_ref());
        let mut frame = Frame::default();
        for index in chosen {
            let rule = &self.rules[index];
            match evaluate_rule(rule, &self.evidence[index], &mut subject, &mut frame) {
                Some(evaluation) => out.push(evaluation),
                None => inapplicable(rule, &subject.id),
            }
        }
        subject.env.time_bound.get()
    }

    /// The environment of `asset` under `facts`.
    fn subject<'a>(
        &'a self,
        facts: &'a Facts,
        asset: &'a Asset,
        required_tags: Option<&'a Json>,
    ) -> Subject<'a> {
        let id = asset.id.as_str();
        let mut env = Env::new(Some(asset), facts.now, &self.empty);
        env.required_tags = required_tags.unwrap_or(&self.empty);
        env.administrators = &self.administrators;
        env.exposure = facts.exposed.get(id).unwrap_or(&self.empty);
        env.permissions = facts.permitted.get(id).unwrap_or(&self.no_permissions);
        let scanned = match facts.scanned.get(id) {
            Some(list) => {
                env.vulnerabilities = list;
                true
            }
            None => false,
        };
        Subject {
            env,
            scanned,
            undecided: Undecided {
                exposure: facts.undecided.get(id),
                permissions: facts.unsettled.get(id),
            },
            id: Arc::from(id),
            evidence: Vec::new(),
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
        let example_tags = example.required_tags.map(document);
        let required_tags = example_tags.as_ref().or_else(|| {
            self.by_type
                .get(asset.resource_type.as_str())
                .and_then(|t| t.required_tags.as_ref())
        });
        let exposure = example.exposure.map(document);
        let vulnerabilities = example.vulnerabilities.map(document);
        let mut subject = self.subject(facts, asset, required_tags);
        if let Some(now) = example.now {
            subject.env.now = now.fixed_offset();
        }
        if let Some(exposure) = &exposure {
            subject.env.exposure = exposure;
        }
        if let Some(list) = &vulnerabilities {
            subject.env.vulnerabilities = list;
            subject.scanned = true;
        }
        if let Some(permissions) = example.permissions {
            subject.env.permissions = permissions;
        }
        let fields = Arc::new(EvidenceFields::of(rule));
        evaluate_rule(rule, &fields, &mut subject, &mut Frame::default())
    }
}

/// Runs one expression: a missing field or `unknown()` makes the outcome
/// unknown, any other failure an error.
fn execute<'a>(
    condition: &'a Condition,
    env: &Env<'a>,
    frame: &mut Frame<'a>,
) -> Result<Val<'a>, Failure> {
    condition.program.execute(env, frame).map_err(Failure::from)
}

/// Runs one condition, which must give a boolean.
fn run<'a>(
    condition: &'a Condition,
    env: &Env<'a>,
    frame: &mut Frame<'a>,
) -> Result<bool, Failure> {
    match execute(condition, env, frame)? {
        Val::Bool(b) => Ok(b),
        other => Err(Failure::Error(format!(
            "the condition returned {}, not a boolean",
            other.type_name()
        ))),
    }
}

/// Works out the rule's variables, in order, into the environment; the
/// first that cannot be fails the rule.
fn bind_variables<'a>(
    rule: &'a Rule,
    env: &mut Env<'a>,
    frame: &mut Frame<'a>,
) -> Result<(), Failure> {
    env.variables.clear();
    for variable in &rule.variables {
        let value = execute(&variable.expression, env, frame)
            .map_err(|f| f.within(&format!("variables.{}", variable.name)))?;
        env.variables.push((variable.name.as_str(), value));
    }
    Ok(())
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

fn evaluate_rule<'a>(
    rule: &'a Rule,
    fields: &Arc<EvidenceFields>,
    subject: &mut Subject<'a>,
    frame: &mut Frame<'a>,
) -> Option<Evaluation> {
    let asset = subject.env.asset?;
    let gaps = gaps(rule, asset, subject.undecided);
    let (status, message): (Status, Arc<str>) = if !gaps.is_empty() {
        (Status::Unknown, gaps.join("; ").into())
    } else {
        let applies = rule
            .applies
            .as_ref()
            .map_or(Ok(true), |c| run(c, &subject.env, frame));
        match applies {
            Ok(false) => return None,
            Err(failure) => failure.within("applies").result(),
            // Applicable, but nothing says what the asset's software is.
            Ok(true) if !subject.scanned && rule.reads_vulnerabilities() => {
                (Status::Unknown, UNSCANNED.into())
            }
            Ok(true) => decide(rule, &mut subject.env, frame).unwrap_or_else(Failure::result),
        }
    };
    let evidence = if status == Status::Pass {
        Evidence::default()
    } else {
        subject.evidence(fields)
    };
    Some(Evaluation {
        rule_id: Arc::clone(&rule.id),
        asset_id: Arc::clone(&subject.id),
        status,
        message,
        evidence,
    })
}

/// The status and message of an applicable rule: its variables worked out,
/// then its condition.
fn decide<'a>(
    rule: &'a Rule,
    env: &mut Env<'a>,
    frame: &mut Frame<'a>,
) -> Result<(Status, Arc<str>), Failure> {
    if !rule.variables.is_empty() {
        bind_variables(rule, env, frame)?;
    }
    Ok(if run(&rule.compliant, env, frame)? {
        (
            Status::Pass,
            message(rule.pass_message.as_ref(), rule, env, frame),
        )
    } else {
        (
            Status::Fail,
            message(rule.fail_message.as_ref(), rule, env, frame),
        )
    })
}

/// A result's message from its template, or the rule's title (shared) when
/// it has none.
fn message<'a>(
    template: Option<&'a Message>,
    rule: &Rule,
    env: &Env<'a>,
    frame: &mut Frame<'a>,
) -> Arc<str> {
    match template {
        Some(template) => template.render(env, frame),
        None => Arc::clone(&rule.title),
    }
}

/// The fields a rule read, as its evidence holds them: each path from the
/// asset's top (`config.Acl`, `name`) and its steps, in path order.
#[derive(Debug)]
struct EvidenceFields(Vec<(String, Vec<String>)>);

impl EvidenceFields {
    fn of(rule: &Rule) -> EvidenceFields {
        let mut fields: Vec<(String, Vec<String>)> = rule
            .reads()
            .filter(|path| !path.is_empty())
            .map(|path| (path.join("."), path.clone()))
            .collect();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        fields.dedup_by(|a, b| a.0 == b.0);
        EvidenceFields(fields)
    }

    /// The values of the fields in `asset`, by path, written where they
    /// are; absent fields are left out.
    fn of_asset(&self, asset: &Asset) -> Evidence {
        let values: Vec<(&str, Cow<'_, Json>)> = self
            .0
            .iter()
            .filter_map(|(path, steps)| value_at(asset, steps).map(|v| (path.as_str(), v)))
            .collect();
        Evidence::of(values.iter().map(|(path, v)| (*path, v.as_ref())))
    }
}

/// The value at `path` of the asset (from its top: `config.Acl`, `name`),
/// if present: a document where it is, anything else converted.
fn value_at<'a>(asset: &'a Asset, path: &[String]) -> Option<Cow<'a, Json>> {
    let mut value = Val::Resource(asset);
    for step in path {
        value = value.step(step)?;
    }
    value.as_json()
}
