//! One run: collect the provider's scope (or only what change events
//! touched, with what depends on it), read the stored estate around a
//! partial collection, derive the facts rules read, evaluate every rule,
//! and record each part of the collection as one scan. One store handle and
//! one clock reading serve the whole run.

use crate::PipelineError;
use crate::facts;
use chrono::{DateTime, Utc};
use parapet_core::{Asset, Evaluation, Provenance, ScanRun, Severity};
use parapet_provider::{Collection, Narrowing, Part, Progress, Provider, Target};
use parapet_rules::{Engine, IdentityPolicy, Reuse, Rule, RulePack, TagPolicy};
use parapet_store::{JobScan, Lease, RuleFacts, ScanOutput, Store};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// The rules, compiled once, with what every run records of them.
pub struct Pipeline {
    pub(crate) engine: Engine,
    /// Each rule's digest, for incremental evaluation.
    pub(crate) pack: RulePack,
    rules_digest: String,
    catalog: Catalog,
    /// Whether every rule is evaluated again, whatever changed.
    pub(crate) full: bool,
    /// The time each run evaluates and records as of.
    clock: Clock,
}

/// What tells a run the time.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Each rule's severity and title, as recording needs them.
struct Catalog(HashMap<String, (Severity, String)>);

impl RuleFacts for Catalog {
    fn severity(&self, rule_id: &str) -> Severity {
        self.0
            .get(rule_id)
            .map_or(Severity::Informational, |(severity, _)| *severity)
    }

    fn title(&self, rule_id: &str) -> Option<&str> {
        self.0.get(rule_id).map(|(_, title)| title.as_str())
    }
}

/// What to collect.
#[derive(Debug, Clone, Copy)]
pub enum Request<'a> {
    /// The provider's whole scope.
    Whole,
    /// The provider's whole scope in these accounts.
    Accounts(&'a BTreeSet<String>),
    /// Only what these targets of change events name, with what depends on
    /// them.
    Refresh(&'a [Target]),
}

/// What one run did.
pub struct Run {
    /// What was collected (with, for a refresh, the scopes it covered).
    pub collection: Collection,
    /// Every result worked out, the parts' assets in order. With a store,
    /// only the rules whose inputs changed are worked out; the others'
    /// results stand as stored ([`Pipeline::all_results`]).
    pub evaluations: Vec<Evaluation>,
    /// What was kept, and why the rest was worked out.
    pub reuse: Reuse,
    /// The scans recorded, one per part (none without a store).
    pub recorded: Vec<ScanRun>,
    /// The time the run evaluated and recorded as of.
    pub now: DateTime<Utc>,
    /// What produced its results.
    pub provenance: Provenance,
}

impl Pipeline {
    /// A pipeline over `rules`, reading the keys `tags` requires and the
    /// administrators `identity` names.
    pub fn new(rules: Vec<Rule>, tags: &TagPolicy, identity: &IdentityPolicy) -> Pipeline {
        let rules_digest = parapet_rules::pack::digest(&rules);
        let catalog = Catalog(
            rules
                .iter()
                .map(|r| (r.id.to_string(), (r.severity, r.title.to_string())))
                .collect(),
        );
        let engine = Engine::new(rules)
            .with_tag_policy(tags)
            .with_identity_policy(identity);
        Pipeline {
            pack: engine.pack(),
            engine,
            rules_digest,
            catalog,
            full: false,
            clock: Arc::new(Utc::now),
        }
    }

    /// Evaluates every rule of every asset again, whatever changed, when
    /// `full` (what each result was worked out with is still kept for the
    /// runs after).
    pub fn full(mut self, full: bool) -> Pipeline {
        self.full = full;
        self
    }

    /// Reads the time of each run from `clock` rather than the system's.
    pub fn with_clock(mut self, clock: Clock) -> Pipeline {
        self.clock = clock;
        self
    }

    /// The engine, for reports of its rules.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The digest of the rule pack, recorded with each scan.
    pub fn rules_digest(&self) -> &str {
        &self.rules_digest
    }

    /// Collects, evaluates and (with a store) records.
    pub fn run(
        &self,
        provider: &dyn Provider,
        mut store: Option<&mut dyn Store>,
        request: Request<'_>,
        progress: &dyn Progress,
    ) -> Result<Run, PipelineError> {
        let mut stored = Stored::default();
        let narrowing = match request {
            Request::Whole => None,
            Request::Accounts(accounts) => Some(Narrowing::accounts(accounts.clone())),
            Request::Refresh(targets) => {
                let mut known = Vec::new();
                for target in targets {
                    known.extend(
                        stored
                            .of(store.as_deref(), &target.account)?
                            .iter()
                            .cloned(),
                    );
                }
                Some(provider.plan(targets, &known))
            }
        };
        let mut collection = provider.collect(narrowing.as_ref(), progress)?;
        let partial = collection.partial || matches!(request, Request::Refresh(_));
        let mut surroundings: Vec<Asset> = Vec::new();
        for part in &mut collection.parts {
            let Some(account) = part.scope.accounts.first().cloned() else {
                continue;
            };
            let known = if partial {
                stored.of(store.as_deref(), &account)?
            } else {
                &[]
            };
            if let Some(narrowing) = &narrowing {
                keyed_scope(provider, narrowing, part, known);
            }
            surroundings.extend(known.iter().filter(|a| !part.scope.contains(a)).cloned());
        }
        let now = (self.clock)();
        let scans = match store.as_deref() {
            Some(store) => store.vulnerability_scans()?,
            None => HashMap::new(),
        };
        let facts = estate_facts(collection.assets(), &surroundings, &scans, now);
        let provenance = Provenance::new(provider.version(), &self.rules_digest);
        let mut evaluations = Vec::new();
        let mut reuse = Reuse::default();
        let mut recorded = Vec::new();
        if let Some(store) = store.as_deref_mut() {
            store.keep_rule_pack(&self.pack.id, &self.pack.rules)?;
        }
        // Each part is worked out on a thread of its own while the part
        // before it is recorded (what it reads of the store is read first:
        // parts are accounts apart, so recording one changes nothing the
        // next reads).
        std::thread::scope(|scope| -> Result<(), PipelineError> {
            let mut pending = None;
            for part in collection.parts.iter().map(Some).chain([None]) {
                let next = match part {
                    Some(part) => {
                        let before = self.part_before(part, store.as_deref())?;
                        let facts = &facts;
                        Some((
                            part,
                            scope.spawn(move || self.work_out(facts, part, before)),
                        ))
                    }
                    None => None,
                };
                let Some((part, working)) = std::mem::replace(&mut pending, next) else {
                    continue;
                };
                let results = working
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                if let Some(store) = store.as_deref_mut() {
                    let id = store.begin_scan(&part.scope, &provider.source(), &provenance, now)?;
                    let output = store.finish_scan(
                        id,
                        &part.assets,
                        results.recorded(),
                        &self.catalog,
                        &part.errors,
                        now,
                    )?;
                    recorded.push(output.scan);
                }
                evaluations.extend(results.evaluations);
                reuse.add(&results.reuse);
            }
            Ok(())
        })?;
        Ok(Run {
            collection,
            evaluations,
            reuse,
            recorded,
            now,
            provenance,
        })
    }
}

/// The facts of the assets collected and of the stored assets around them
/// that were not collected again.
fn estate_facts<'a>(
    collected: impl Iterator<Item = &'a Asset>,
    surroundings: &'a [Asset],
    scans: &HashMap<String, parapet_core::VulnerabilityScan>,
    now: DateTime<Utc>,
) -> parapet_rules::Facts {
    let mut estate: Vec<&Asset> = collected.collect();
    let ids: HashSet<&str> = estate.iter().map(|a| a.id.as_str()).collect();
    let around: Vec<&Asset> = surroundings
        .iter()
        .filter(|a| !ids.contains(a.id.as_str()))
        .collect();
    estate.extend(around);
    facts::derive(&estate, scans, now)
}

impl Pipeline {
    /// Evaluates one account's part, collected by workers, and records it
    /// with the job that `lease` holds, in one transaction: its facts come
    /// from its own assets and, when the collection covered less than the
    /// account (`partial`), from the account's stored assets around them.
    /// `None` when the lease no longer holds: nothing was recorded.
    pub fn record_part(
        &self,
        provider: &dyn Provider,
        part: &Part,
        partial: bool,
        started_at: DateTime<Utc>,
        store: &mut dyn Store,
        lease: &Lease,
    ) -> Result<Option<ScanOutput>, PipelineError> {
        let surroundings = match (partial, part.scope.accounts.first()) {
            (true, Some(account)) => store
                .current_assets(Some(account))?
                .into_iter()
                .filter(|a| !part.scope.contains(a))
                .collect(),
            _ => Vec::new(),
        };
        let now = (self.clock)();
        let scans = store.vulnerability_scans()?;
        let facts = estate_facts(part.assets.iter(), &surroundings, &scans, now);
        store.keep_rule_pack(&self.pack.id, &self.pack.rules)?;
        let results = self.evaluate_part(&facts, part, Some(&*store))?;
        let provenance = Provenance::new(provider.version(), &self.rules_digest);
        Ok(store.record_job_scan(
            lease,
            &JobScan {
                scope: &part.scope,
                source: &provider.source(),
                provenance: &provenance,
                started_at,
                assets: &part.assets,
                evaluated: results.recorded(),
                rules: &self.catalog,
                errors: &part.errors,
                finished_at: now,
            },
        )?)
    }
}

/// A keyed type's scope: what its keys name, collected or stored (what is
/// stored and no longer collected has been deleted).
fn keyed_scope(
    provider: &dyn Provider,
    narrowing: &Narrowing,
    part: &mut parapet_provider::Part,
    known: &[Asset],
) {
    for (resource_type, keys) in &narrowing.keyed {
        let named = |a: &&Asset| {
            a.resource_type.as_str() == resource_type && keys.iter().any(|k| provider.names(k, a))
        };
        let ids = part
            .assets
            .iter()
            .filter(|a| a.resource_type.as_str() == resource_type)
            .chain(known.iter().filter(named))
            .map(|a| a.id.clone())
            .collect();
        part.scope.assets.insert(resource_type.clone(), ids);
    }
}

/// The stored assets of the accounts a partial collection touches, each
/// account read once; nothing without a store.
#[derive(Default)]
struct Stored {
    by_account: BTreeMap<String, Vec<Asset>>,
}

impl Stored {
    fn of(&mut self, store: Option<&dyn Store>, account: &str) -> Result<&[Asset], PipelineError> {
        let Some(store) = store else {
            return Ok(&[]);
        };
        if !self.by_account.contains_key(account) {
            let assets = store.current_assets(Some(account))?;
            self.by_account.insert(account.to_owned(), assets);
        }
        Ok(self.by_account.get(account).map_or(&[], Vec::as_slice))
    }
}
