//! One run: collect the provider's scope (or only what change events
//! touched, with what depends on it), read the stored estate around a
//! partial collection, derive the facts rules read, evaluate every rule,
//! and record each part of the collection as one scan. One store handle and
//! one clock reading serve the whole run.

use crate::PipelineError;
use crate::facts;
use crate::incremental::{PartBefore, PartResults};
use chrono::{DateTime, Utc};
use parapet_core::{Asset, Evaluation, Provenance, ScanRun, Severity};
use parapet_provider::{Collection, Narrowing, Part, Progress, Provider, Target};
use parapet_rules::{Engine, IdentityPolicy, Reuse, Rule, RulePack, TagPolicy};
#[cfg(doc)]
use parapet_store::Scans;
use parapet_store::{JobScan, Lease, RuleFacts, ScanOutput, Store};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::ops::ControlFlow;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};

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

/// Parts worked out at once while earlier parts are recorded.
const WORKING: usize = 2;

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

    /// Collects, evaluates and (with a store) records, keeping every part
    /// and every result worked out in the [`Run`].
    pub fn run(
        &self,
        provider: &dyn Provider,
        store: Option<&mut dyn Store>,
        request: Request<'_>,
        progress: &dyn Progress,
    ) -> Result<Run, PipelineError> {
        let mut parts = Vec::new();
        let mut evaluations = Vec::new();
        let mut run = self.run_each(provider, store, request, progress, &mut |done| {
            parts.push(done.part);
            evaluations.extend(done.evaluations);
            Ok(())
        })?;
        run.collection.parts = parts;
        run.evaluations = evaluations;
        Ok(run)
    }

    /// Collects, evaluates and (with a store) records part after part,
    /// handing each to `each` once recorded and keeping none: the
    /// [`Run`]'s collection has no parts and no results, so that memory
    /// holds a few parts whatever the estate's size. Each part's facts
    /// come from its own assets and, when the collection covered less than
    /// its account, from the account's stored assets around them. Parts
    /// are recorded in one batch of the store ([`Scans::begin_batch`]):
    /// committed some at a time, and all by the time the run returns,
    /// whether it succeeds or fails.
    pub fn run_each(
        &self,
        provider: &dyn Provider,
        mut store: Option<&mut dyn Store>,
        request: Request<'_>,
        progress: &dyn Progress,
        each: &mut dyn FnMut(Done<'_>) -> Result<(), PipelineError>,
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
        let refresh = matches!(request, Request::Refresh(_));
        let scans = match store.as_deref() {
            Some(store) => store.vulnerability_scans()?,
            None => HashMap::new(),
        };
        let provenance = Provenance::new(provider.version(), &self.rules_digest);
        if let Some(store) = store.as_deref_mut() {
            store.keep_rule_pack(&self.pack.id, &self.pack.rules)?;
            store.begin_batch();
        }
        let mut now = None;
        let mut reuse = Reuse::default();
        let mut recorded = Vec::new();
        let mut failure = None;
        // Each part is worked out on a work thread while the parts before it
        // are recorded ([`work_threads`]). What it reads of the store is read
        // there through the store's second connection where the store has
        // one (and has committed what it wrote of the part's account), and
        // first, here, where not: parts are accounts apart, so recording one
        // changes nothing the next read. Up to `WORKING` parts are worked
        // out at once, so that a part that takes longer than recording one
        // does not hold up the recording; each part's result comes back on a
        // channel of its own, in order.
        let (queue, queued) = std::sync::mpsc::channel::<Work<'_>>();
        let queued = Mutex::new(queued);
        let collection = std::thread::scope(|scope| -> Result<Collection, PipelineError> {
            let scans = &scans;
            // Moved in, so that it is dropped as this body ends, however it
            // ends: the work threads then stop and the scope can end.
            let queue = queue;
            work_threads(scope, &queued);
            let mut working: VecDeque<Receiver<Worked>> = VecDeque::new();
            let mut step = |next: Option<(Part, bool)>| -> Result<(), PipelineError> {
                let now = *now.get_or_insert_with(|| (self.clock)());
                let ended = next.is_none();
                if let Some((mut part, partial)) = next {
                    let known = match part.scope.accounts.first() {
                        Some(account) if partial || refresh => {
                            stored.take(store.as_deref(), account)?
                        }
                        _ => Vec::new(),
                    };
                    if let Some(narrowing) = &narrowing {
                        keyed_scope(provider, narrowing, &mut part, &known);
                    }
                    let surroundings: Vec<Asset> = known
                        .into_iter()
                        .filter(|a| !part.scope.contains(a))
                        .collect();
                    let reading = self.reading(&part, store.as_deref())?;
                    let (done, worked) = std::sync::mpsc::sync_channel(1);
                    let work: Work<'_> = Box::new(move || {
                        // Unanswered only once the run has stopped.
                        let _ = done.send(self.work(part, &surroundings, reading, scans, now));
                    });
                    // Its receiver outlives the scope: it cannot fail.
                    let _ = queue.send(work);
                    working.push_back(worked);
                }
                while working.len() > WORKING || ended {
                    let Some(oldest) = working.pop_front() else {
                        break;
                    };
                    // A part goes unanswered only when its work panicked,
                    // which the scope raises again as it ends.
                    let (part, results, kept) = oldest
                        .recv()
                        .expect("a part's work answers unless it panicked")?;
                    if let Some(store) = store.as_deref_mut() {
                        if let Some(kept) = kept {
                            store.keep_read(kept);
                        }
                        let id =
                            store.begin_scan(&part.scope, &provider.source(), &provenance, now)?;
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
                    reuse.add(&results.reuse);
                    each(Done {
                        part,
                        evaluations: results.evaluations,
                        kept: results.reuse.kept,
                        store: store.as_deref(),
                    })?;
                }
                Ok(())
            };
            let collection =
                provider.collect_parts(narrowing.as_ref(), progress, &mut |part, partial| {
                    match step(Some((part, partial))) {
                        Ok(()) => ControlFlow::Continue(()),
                        Err(error) => {
                            failure = Some(error);
                            ControlFlow::Break(())
                        }
                    }
                })?;
            if let Some(error) = failure.take() {
                return Err(error);
            }
            step(None)?;
            Ok(collection)
        });
        let ended = store.map_or(Ok(()), |store| store.end_batch());
        let collection = collection?;
        ended?;
        Ok(Run {
            collection,
            evaluations: Vec::new(),
            reuse,
            recorded,
            now: now.unwrap_or_else(|| (self.clock)()),
            provenance,
        })
    }
}

/// A part worked out on its thread: its results, and what the store keeps
/// of the part's account as that thread read it.
type Worked = Result<(Part, PartResults, Option<parapet_store::KeptAccount>), PipelineError>;

/// A part's work, as queued for the work threads.
type Work<'a> = Box<dyn FnOnce() + Send + 'a>;

/// Starts the threads that work parts out for as long as `scope` lasts,
/// each taking the next work queued (so that each keeps its memory, rather
/// than a thread per part handing what it made to the next), until the
/// queue is dropped.
fn work_threads<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    queued: &'scope Mutex<Receiver<Work<'_>>>,
) {
    for _ in 0..=WORKING {
        scope.spawn(move || {
            while let Some(work) = queued.lock().ok().and_then(|q| q.recv().ok()) {
                work();
            }
        });
    }
}

impl Pipeline {
    /// Works one part out, on a work thread: what the store holds of it
    /// (read here when `reading` leaves it to this thread), its facts,
    /// and its results.
    fn work(
        &self,
        part: Part,
        surroundings: &[Asset],
        reading: crate::incremental::Reading,
        scans: &HashMap<String, parapet_core::VulnerabilityScan>,
        now: DateTime<Utc>,
    ) -> Worked {
        let before = self.read_before(reading)?;
        let facts = estate_facts(part.assets.iter(), surroundings, scans, now);
        let results = self.work_out(&facts, &part, before.as_ref());
        Ok((part, results, before.and_then(PartBefore::into_kept)))
    }
}

/// A part once recorded, as [`Pipeline::run_each`] hands it on.
pub struct Done<'a> {
    /// The part collected.
    pub part: Part,
    /// Its results worked out; with a store, the others stand as stored
    /// ([`Pipeline::all_results`]).
    pub evaluations: Vec<Evaluation>,
    /// How many results were kept as stored.
    pub kept: u64,
    /// The store it was recorded in.
    pub store: Option<&'a dyn Store>,
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

    /// The stored assets of `account`, read now unless read before (then
    /// no longer kept).
    fn take(
        &mut self,
        store: Option<&dyn Store>,
        account: &str,
    ) -> Result<Vec<Asset>, PipelineError> {
        match (self.by_account.remove(account), store) {
            (Some(assets), _) => Ok(assets),
            (None, Some(store)) => Ok(store.current_assets(Some(account))?),
            (None, None) => Ok(Vec::new()),
        }
    }
}
