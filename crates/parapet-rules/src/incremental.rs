//! Incremental evaluation: a result is worked out again only when what it
//! was worked out from changed. Each asset's results depend on its content
//! (its content hash), each rule's digest (its text, and the policies it
//! reads), the derived facts the rule reads (exposure, vulnerabilities,
//! permissions, each with its own digest per asset) and, for a rule that
//! reads `now` (or `ageDays`), the time: such a result stands until what
//! it read of the time could read otherwise (`ageDays` until its count of
//! days changes, `now` itself not beyond the run). A [`Stamp`] kept with
//! each asset records the pack and fact digests its results were worked
//! out with and how long its time-reading results stand; a [`RulePack`]
//! records each rule's digest under a pack.

use crate::engine::{Engine, Facts};
use parapet_core::{Asset, Evaluation};
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The derived facts a rule can read, in the order stamps keep their
/// digests.
const FACTS: [&str; 3] = ["exposure", "vulnerabilities", "permissions"];

/// The digest of each rule under one pack, and the pack's id (a digest of
/// them all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulePack {
    /// `sha256:` and 32 hex digits.
    pub id: String,
    /// Rule id to its digest.
    pub rules: BTreeMap<String, String>,
}

impl RulePack {
    /// The pack of `rules`, with its id.
    pub fn of(rules: BTreeMap<String, String>) -> RulePack {
        let mut hash = Sha256::new();
        for (id, digest) in &rules {
            hash.update(id.as_bytes());
            hash.update([0]);
            hash.update(digest.as_bytes());
            hash.update([0]);
        }
        RulePack {
            id: format!("sha256:{}", hex::encode(&hash.finalize()[..16])),
            rules,
        }
    }
}

/// What an asset's results were worked out with, besides its content: the
/// pack, a digest of each derived fact about it (0 where it has none), the
/// span of time over which its results that read the time stand, and the
/// fingerprint of the content they were worked out from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// The pack's id.
    pub pack: Arc<str>,
    /// The digests of `exposure`, `vulnerabilities` and `permissions`.
    pub facts: [u64; 3],
    /// From when (milliseconds since the epoch, included) to when
    /// (excluded) the results that read the time stand; an empty span
    /// works them out again at the next run.
    pub time: (i64, i64),
    /// The [`Asset::content_fingerprint`] of the content whose hash is
    /// stored beside the stamp (0 when not known): an asset with the same
    /// fingerprint has that hash, which is then not taken again.
    pub content: u128,
}

impl Stamp {
    /// The stamp as the store keeps it: the pack id, the three digests,
    /// the span of time and the content's fingerprint, separated by `/`.
    pub fn to_text(&self) -> String {
        let [e, v, p] = self.facts;
        let (since, until) = self.time;
        let content = self.content;
        format!(
            "{}/{e:x}/{v:x}/{p:x}/{since}/{until}/{content:x}",
            self.pack
        )
    }

    /// A stamp from its text; `None` when it is not one (it is then
    /// treated as absent, and every result worked out again). A stamp
    /// written before stamps kept a span of time has an empty one, and one
    /// written before they kept the content's fingerprint has none (0).
    pub fn parse(text: &str) -> Option<Stamp> {
        let pack = Stamp::pack_of(text)?;
        let mut parts = text.split('/').skip(1);
        let mut facts = [0; 3];
        for fact in &mut facts {
            *fact = u64::from_str_radix(parts.next()?, 16).ok()?;
        }
        let time = match (parts.next(), parts.next()) {
            (None, _) => (0, 0),
            (Some(since), Some(until)) => (since.parse().ok()?, until.parse().ok()?),
            (Some(_), None) => return None,
        };
        let content = match parts.next() {
            Some(content) => u128::from_str_radix(content, 16).ok()?,
            None => 0,
        };
        parts.next().is_none().then(|| Stamp {
            pack: pack.into(),
            facts,
            time,
            content,
        })
    }

    /// The pack id of a stamp's text, read without the rest.
    pub fn pack_of(text: &str) -> Option<&str> {
        text.split('/').next().filter(|p| !p.is_empty())
    }

    /// Whether its results that read the time stand at `now` (milliseconds
    /// since the epoch).
    fn stands_at(&self, now: i64) -> bool {
        let (since, until) = self.time;
        since <= now && now < until
    }
}

/// Why a result was worked out again rather than kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Why {
    /// The asset has no earlier evaluation (new, or stored without a stamp).
    New,
    /// The asset's content changed.
    Asset,
    /// The rule changed, or the policies it reads.
    Rule,
    /// Its `exposure` changed.
    Exposure,
    /// Its `vulnerabilities` changed.
    Vulnerabilities,
    /// Its `permissions` changed.
    Permissions,
    /// The rule reads the time.
    Time,
}

impl Why {
    /// The reason a change of the fact at `index` of [`FACTS`] gives.
    fn fact(index: usize) -> Why {
        [Why::Exposure, Why::Vulnerabilities, Why::Permissions][index]
    }
}

/// How many results were kept, and how many worked out again and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reuse {
    /// Rules whose result was kept, over all assets.
    pub kept: u64,
    /// Rules worked out again, by the first reason that applied.
    pub worked_out: BTreeMap<Why, u64>,
}

impl Reuse {
    /// Adds `other`'s counts.
    pub fn add(&mut self, other: &Reuse) {
        self.kept += other.kept;
        for (why, n) in &other.worked_out {
            *self.worked_out.entry(*why).or_default() += n;
        }
    }

    /// Results worked out again, for whatever reason.
    pub fn worked_out(&self) -> u64 {
        self.worked_out.values().sum()
    }
}

/// What an asset was last evaluated with, as stored.
#[derive(Debug, Clone, Copy)]
pub struct Before<'a> {
    /// Its content hash then.
    pub content_hash: &'a str,
    /// Its stamp then.
    pub stamp: &'a Stamp,
    /// For each of the engine's rules, whether its digest differs from the
    /// one it had in the stamp's pack ([`Engine::changed_rules`]).
    pub changed_rules: &'a [bool],
}

/// One asset to evaluate incrementally: its content hash now, and what it
/// was last evaluated with, if known.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The asset.
    pub asset: &'a Asset,
    /// Its content hash now.
    pub content_hash: &'a str,
    /// Its [`Asset::content_fingerprint`] now (0 when not taken).
    pub content_fingerprint: u128,
    /// Its last evaluation, if any.
    pub before: Option<Before<'a>>,
}

/// What an incremental evaluation gives.
#[derive(Debug, Default)]
pub struct Incremental {
    /// The results worked out, the subjects' order kept.
    pub evaluations: Vec<Evaluation>,
    /// Each subject's new stamp, in order.
    pub stamps: Vec<Stamp>,
    /// The rules worked out whose `applies` filter now excludes their
    /// asset, as (rule id, asset id): a result stored for them no longer
    /// stands.
    pub inapplicable: Vec<(Arc<str>, Arc<str>)>,
    /// What was kept and what worked out again.
    pub reuse: Reuse,
}

/// What each rule's result depends on beside the asset's content.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RuleInputs {
    /// Whether it reads each of [`FACTS`].
    facts: [bool; 3],
    /// Whether it reads the time.
    time: bool,
}

impl RuleInputs {
    pub(crate) fn of(rule: &crate::Rule) -> RuleInputs {
        RuleInputs {
            facts: FACTS.map(|f| rule.reads_fact(f)),
            time: rule.context().contains("now"),
        }
    }
}

/// Assets one thread evaluates at a time.
const CHUNK: usize = 256;

/// Subjects from which their chunks are shared among the cores: fewer (an
/// account's part, which the pipeline works out beside another part while
/// it records a third) are evaluated on the calling thread, which holds
/// them already, rather than handed to the pool's threads and back.
const SHARED_FROM: usize = 8 * CHUNK;

impl Engine {
    /// The digest of each rule, with the policies it reads (the required
    /// tags of its types, the administrators), and the pack they make.
    pub fn pack(&self) -> RulePack {
        let rules = self
            .rules()
            .iter()
            .map(|rule| {
                let context = rule.context();
                let mut hash = Sha256::new();
                hash.update(crate::pack::text(rule).as_bytes());
                if context.contains("required_tags") {
                    for t in &rule.resource_types {
                        hash.update([0]);
                        hash.update(self.required_tags(t.as_str()).to_string().as_bytes());
                    }
                }
                if context.contains("administrators") {
                    hash.update([1]);
                    hash.update(self.administrators().to_string().as_bytes());
                }
                (
                    rule.id.to_string(),
                    format!("sha256:{}", hex::encode(&hash.finalize()[..16])),
                )
            })
            .collect();
        RulePack::of(rules)
    }

    /// For each of the engine's rules, whether its digest in `now` differs
    /// from the one in `before` (or `before` lacks it).
    pub fn changed_rules(&self, now: &RulePack, before: &RulePack) -> Vec<bool> {
        self.rules()
            .iter()
            .map(|rule| now.rules.get(&*rule.id) != before.rules.get(&*rule.id))
            .collect()
    }

    /// Evaluates each subject's rules whose inputs changed since its last
    /// evaluation (all of them when it has none), in parallel from
    /// [`SHARED_FROM`] subjects, under `pack` (this engine's
    /// [`Engine::pack`]).
    pub fn evaluate_changed(
        &self,
        facts: &Facts,
        pack: &RulePack,
        subjects: &[Subject<'_>],
    ) -> Incremental {
        let pack_id: Arc<str> = pack.id.as_str().into();
        let evaluate = |chunk: &[Subject<'_>]| {
            let mut part = Incremental {
                evaluations: Vec::with_capacity(chunk.len()),
                stamps: Vec::with_capacity(chunk.len()),
                inapplicable: Vec::new(),
                reuse: Reuse::default(),
            };
            for subject in chunk {
                let digests = fact_digests(facts, &subject.asset.id);
                let time = self.evaluate_subject(facts, subject, &digests, &mut part);
                part.stamps.push(Stamp {
                    pack: Arc::clone(&pack_id),
                    facts: digests,
                    time,
                    content: subject.content_fingerprint,
                });
            }
            part
        };
        if subjects.len() < SHARED_FROM {
            return evaluate(subjects);
        }
        let parts: Vec<Incremental> = subjects.par_chunks(CHUNK).map(evaluate).collect();
        let mut all = Incremental::default();
        for part in parts {
            all.evaluations.extend(part.evaluations);
            all.stamps.extend(part.stamps);
            all.inapplicable.extend(part.inapplicable);
            all.reuse.add(&part.reuse);
        }
        all
    }

    /// Evaluates the rules of one subject whose inputs changed, its facts
    /// having the digests `digests` now; returns the span of time its
    /// results that read the time stand for (the earlier span, shortened
    /// to what was worked out, while none was worked out again, so that
    /// an unchanged asset keeps its stamp).
    fn evaluate_subject(
        &self,
        facts: &Facts,
        subject: &Subject<'_>,
        digests: &[u64; 3],
        out: &mut Incremental,
    ) -> (i64, i64) {
        let inputs = self.rule_inputs();
        let reuse = &mut out.reuse;
        let inapplicable = &mut out.inapplicable;
        let now = facts.now.timestamp_millis();
        // Until when the results that read the time and are kept stand;
        // whether any that reads it is worked out again.
        let mut kept_until = i64::MAX;
        let mut time_worked_out = false;
        let mut why = |index: usize| -> Option<Why> {
            let Some(before) = subject.before else {
                return Some(Why::New);
            };
            if before.content_hash != subject.content_hash {
                return Some(Why::Asset);
            }
            if before.changed_rules.get(index).copied().unwrap_or(true) {
                return Some(Why::Rule);
            }
            let rule = inputs[index];
            if let Some(fact) =
                (0..FACTS.len()).find(|&f| rule.facts[f] && before.stamp.facts[f] != digests[f])
            {
                return Some(Why::fact(fact));
            }
            if !rule.time {
                return None;
            }
            if !before.stamp.stands_at(now) {
                return Some(Why::Time);
            }
            kept_until = before.stamp.time.1;
            None
        };
        let until = self.evaluate_selected(
            facts,
            subject.asset,
            |index| match why(index) {
                Some(why) => {
                    *reuse.worked_out.entry(why).or_default() += 1;
                    time_worked_out |= inputs[index].time;
                    true
                }
                None => {
                    reuse.kept += 1;
                    false
                }
            },
            &mut out.evaluations,
            |rule, asset_id| inapplicable.push((Arc::clone(&rule.id), Arc::clone(asset_id))),
        );
        let since = match subject.before {
            Some(before) if !time_worked_out => before.stamp.time.0,
            _ => now,
        };
        (since, until.min(kept_until))
    }
}

/// The digest of each derived fact about the asset `id` (0 where there is
/// none): what rules read of it, and why it could not be worked out.
fn fact_digests(facts: &Facts, id: &str) -> [u64; 3] {
    let [exposure, vulnerabilities, permissions] = facts.of(id);
    [
        digest(exposure.0, exposure.1),
        digest(vulnerabilities.0, vulnerabilities.1),
        digest(permissions.0, permissions.1),
    ]
}

/// A digest of one fact: its document and why it is undecided.
fn digest(document: Option<&serde_json::Value>, undecided: Option<&String>) -> u64 {
    if document.is_none() && undecided.is_none() {
        return 0;
    }
    let mut hash = Sha256::new();
    if let Some(document) = document {
        hash.update([1]);
        hash.update(document.to_string().as_bytes());
    }
    if let Some(why) = undecided {
        hash.update([2]);
        hash.update(why.as_bytes());
    }
    let bytes: [u8; 8] = hash.finalize()[..8].try_into().unwrap_or_default();
    // Never 0, which stands for no fact.
    u64::from_le_bytes(bytes).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_reads_back_from_its_text() {
        let stamp = Stamp {
            pack: "sha256:00ff".into(),
            facts: [0, 17, u64::MAX],
            time: (1_764_374_400_000, i64::MAX),
            content: u128::MAX - 1,
        };
        assert_eq!(Stamp::parse(&stamp.to_text()), Some(stamp));
        let before_spans = Stamp::parse("sha256:00ff/0/11/ffffffffffffffff").expect("a stamp");
        assert_eq!(before_spans.facts, [0, 17, u64::MAX]);
        assert_eq!(before_spans.content, 0);
        let before_content = Stamp::parse("sha256:00ff/0/11/0/5/9").expect("a stamp");
        assert_eq!((before_content.time, before_content.content), ((5, 9), 0));
        assert!(!before_spans.stands_at(0) && !before_spans.stands_at(1_764_374_400_000));
        for bad in [
            "",
            "sha256:1/0/0",
            "sha256:1/0/0/0/0",
            "sha256:1/0/0/0/0/x",
            "sha256:1/0/0/0/0/0/x",
            "sha256:1/0/0/0/0/0/0/0",
            "p/x/0/0",
            "/0/0/0",
        ] {
            assert_eq!(Stamp::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_pack_id_follows_its_digests() {
        let one = RulePack::of(BTreeMap::from([("a".to_owned(), "1".to_owned())]));
        let two = RulePack::of(BTreeMap::from([("a".to_owned(), "2".to_owned())]));
        assert_ne!(one.id, two.id);
        assert_eq!(
            one.id,
            RulePack::of(BTreeMap::from([("a".to_owned(), "1".to_owned())])).id
        );
    }
}
