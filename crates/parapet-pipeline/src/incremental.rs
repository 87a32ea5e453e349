//! Incremental evaluation over the store: what each asset's results were
//! last worked out with comes from the store, only the rules whose inputs
//! changed are evaluated again, and the results that stood are read back
//! from the store when a report needs every result.

use crate::PipelineError;
use crate::run::Pipeline;
use parapet_core::{Asset, Evaluation};
use parapet_provider::Part;
use parapet_rules::{Before, Facts, Reuse, Stamp, Subject};
use parapet_store::{
    Content, EvaluatedAsset, EvaluatedRef, KeptAccount, ReadAhead, Store, StoreError,
};
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// What evaluating one part gave.
pub(crate) struct PartResults {
    /// The results worked out, the part's assets in order.
    pub evaluations: Vec<Evaluation>,
    /// What each asset's results were worked out with, as the store keeps
    /// it, in order: `None` where the stamp stored stays (none without a
    /// store).
    pub stamps: Vec<Option<String>>,
    /// The rules worked out that no longer apply to their asset, as (rule
    /// id, asset id).
    pub inapplicable: Vec<(Arc<str>, Arc<str>)>,
    /// What was kept, and why the rest was worked out.
    pub reuse: Reuse,
    /// Each asset's content, in order (none without a store).
    pub contents: Vec<Content>,
}

/// An asset's content, with its content's fingerprint. An asset whose
/// fingerprint is the one its stamp recorded is as stored: its hash is the
/// one stored with it, not taken again; any other is serialised once, for
/// its hash and the new version the store keeps of it. The text is left
/// empty where the hash is the stored one (a stamp written before
/// fingerprints): no version of an unchanged asset is kept.
fn content(asset: &Asset, before: Option<&Stored<'_>>) -> (Content, u128) {
    let fingerprint = asset.content_fingerprint();
    if before.is_some_and(|b| b.stamp.content != 0 && b.stamp.content == fingerprint) {
        return (Content::AsStored, fingerprint);
    }
    let (text, hash) = asset.content_text_and_hash();
    let hash = hash.to_string();
    let text = match before {
        Some(before) if before.content_hash == hash => String::new(),
        _ => text,
    };
    (Content::Hashed { text, hash }, fingerprint)
}

/// What an asset was last evaluated with, as stored.
struct Stored<'a> {
    content_hash: &'a str,
    stamp: Stamp,
}

impl PartResults {
    /// The results as the store records them.
    pub fn recorded(&self) -> parapet_store::Evaluated<'_> {
        parapet_store::Evaluated {
            evaluations: &self.evaluations,
            stamps: &self.stamps,
            contents: &self.contents,
            kept: self.reuse.kept,
            inapplicable: &self.inapplicable,
        }
    }
}

/// What a part's assets were last evaluated with, read from the store
/// before the part is worked out (and made sense of as it is).
pub(crate) struct PartBefore {
    /// As stored.
    read: Read,
    /// For each pack the stamps name, which of the engine's rules changed
    /// since.
    changed: HashMap<Arc<str>, Vec<bool>>,
}

/// What the store gave of a part's assets: what incremental evaluation
/// needs of them, or the account's assets as read ahead (which tell it,
/// and which the store takes back to record the part).
enum Read {
    Evaluated(Vec<EvaluatedAsset>),
    Ahead(KeptAccount),
}

impl PartBefore {
    /// The part's assets that were evaluated, as stored.
    fn evaluated(&self) -> Vec<EvaluatedRef<'_>> {
        match &self.read {
            Read::Evaluated(all) => all.iter().map(EvaluatedAsset::borrowed).collect(),
            Read::Ahead(kept) => kept.evaluated().collect(),
        }
    }

    /// The account's assets as read ahead, for the store to keep.
    pub(crate) fn into_kept(self) -> Option<KeptAccount> {
        match self.read {
            Read::Evaluated(_) => None,
            Read::Ahead(kept) => Some(kept),
        }
    }
}

/// Reads the digest of each rule of a pack, if the store kept it.
type RulePackRead<'a> = dyn Fn(&str) -> Result<Option<BTreeMap<String, String>>, StoreError> + 'a;

/// How a part's assets' last evaluation is read: at once, or by the thread
/// that works the part out, through the store's second connection.
pub(crate) enum Reading {
    /// Read (`None` without a store).
    Read(Option<PartBefore>),
    /// To be read on the part's thread.
    Ahead(ReadAhead),
}

impl Pipeline {
    /// How the part's assets' last evaluation is read: ahead, on the
    /// part's thread, where the store can read the part's account there
    /// (a part that covers one account, without `--full`); otherwise now.
    pub(crate) fn reading(
        &self,
        part: &Part,
        store: Option<&dyn Store>,
    ) -> Result<Reading, PipelineError> {
        if let (Some(store), [account], false) = (store, part.scope.accounts.as_slice(), self.full)
            && part.scope.assets.is_empty()
            && let Some(ahead) = store.read_ahead(part.scope.provider, account)?
        {
            return Ok(Reading::Ahead(ahead));
        }
        Ok(Reading::Read(self.part_before(part, store)?))
    }

    /// What `reading` says the part's assets were last evaluated with,
    /// read on this thread when it was left to it (with what the store
    /// keeps of that read for recording the part).
    pub(crate) fn read_before(
        &self,
        reading: Reading,
    ) -> Result<Option<PartBefore>, PipelineError> {
        match reading {
            Reading::Read(before) => Ok(before),
            Reading::Ahead(ahead) => {
                let kept = ahead.read()?;
                let evaluated: Vec<EvaluatedRef<'_>> = kept.evaluated().collect();
                let changed = self.changed_rules(&|id| ahead.rule_pack(id), &evaluated)?;
                Ok(Some(PartBefore {
                    read: Read::Ahead(kept),
                    changed,
                }))
            }
        }
    }

    /// Evaluates one part's assets under `facts`: with a store, only the
    /// rules whose inputs changed since each asset's last evaluation;
    /// without one, every rule.
    pub(crate) fn evaluate_part(
        &self,
        facts: &Facts,
        part: &Part,
        store: Option<&dyn Store>,
    ) -> Result<PartResults, PipelineError> {
        let before = self.part_before(part, store)?;
        Ok(self.work_out(facts, part, before.as_ref()))
    }

    /// What the part's assets were last evaluated with: `None` without a
    /// store, nothing known with `--full`.
    pub(crate) fn part_before(
        &self,
        part: &Part,
        store: Option<&dyn Store>,
    ) -> Result<Option<PartBefore>, PipelineError> {
        let Some(store) = store else {
            return Ok(None);
        };
        let evaluated = match part.scope.accounts.as_slice() {
            _ if self.full => Vec::new(),
            // A refresh names a few of an account's assets; any other part
            // covers its account (or most of it), read in one pass.
            [account] if part.scope.assets.is_empty() => {
                store.evaluated_assets_of(part.scope.provider, account)?
            }
            _ => {
                let ids: Vec<&str> = part.assets.iter().map(|a| a.id.as_str()).collect();
                store.evaluated_assets(&ids)?
            }
        };
        let changed = self.changed_rules(
            &|id| store.rule_pack(id),
            &evaluated
                .iter()
                .map(EvaluatedAsset::borrowed)
                .collect::<Vec<_>>(),
        )?;
        Ok(Some(PartBefore {
            read: Read::Evaluated(evaluated),
            changed,
        }))
    }

    /// Works out the part's results under `facts` from what its assets were
    /// last evaluated with (every rule without a store). Reads nothing from
    /// the store, so it runs while an earlier part is recorded.
    pub(crate) fn work_out(
        &self,
        facts: &Facts,
        part: &Part,
        before: Option<&PartBefore>,
    ) -> PartResults {
        let Some(before) = before else {
            return PartResults {
                evaluations: self.engine.evaluate_all(facts, &part.assets),
                stamps: Vec::new(),
                inapplicable: Vec::new(),
                reuse: Reuse::default(),
                contents: Vec::new(),
            };
        };
        let changed = &before.changed;
        let evaluated = before.evaluated();
        let mut stored: FxHashMap<&str, Stored<'_>> = FxHashMap::default();
        stored.reserve(evaluated.len());
        stored.extend(evaluated.into_iter().filter_map(|asset| {
            let stamp = Stamp::parse(asset.stamp)?;
            Some((
                asset.id,
                Stored {
                    content_hash: asset.content_hash,
                    stamp,
                },
            ))
        }));
        let (contents, fingerprints): (Vec<Content>, Vec<u128>) = part
            .assets
            .iter()
            .map(|asset| content(asset, stored.get(asset.id.as_str())))
            .unzip();
        let subjects: Vec<Subject<'_>> = part
            .assets
            .iter()
            .zip(contents.iter().zip(&fingerprints))
            .map(|(asset, (content, fingerprint))| {
                let before = stored.get(asset.id.as_str());
                Subject {
                    asset,
                    content_hash: match content {
                        Content::Hashed { hash, .. } => hash,
                        Content::AsStored => before.map_or("", |s| s.content_hash),
                    },
                    content_fingerprint: *fingerprint,
                    before: before.map(|s| Before {
                        content_hash: s.content_hash,
                        stamp: &s.stamp,
                        changed_rules: changed.get(&*s.stamp.pack).map_or(&[], Vec::as_slice),
                    }),
                }
            })
            .collect();
        let incremental = self.engine.evaluate_changed(facts, &self.pack, &subjects);
        drop(subjects);
        // Most stamps stay as they were, as stored.
        let stamps = incremental
            .stamps
            .iter()
            .zip(&part.assets)
            .map(|(stamp, asset)| match stored.get(asset.id.as_str()) {
                Some(before) if before.stamp == *stamp => None,
                _ => Some(stamp.to_text()),
            })
            .collect();
        PartResults {
            evaluations: incremental.evaluations,
            stamps,
            inapplicable: incremental.inapplicable,
            reuse: incremental.reuse,
            contents,
        }
    }

    /// For each pack the stamps of `evaluated` name, which of the engine's
    /// rules changed since (every rule, for a pack `rule_pack` does not
    /// know).
    fn changed_rules(
        &self,
        rule_pack: &RulePackRead<'_>,
        evaluated: &[EvaluatedRef<'_>],
    ) -> Result<HashMap<Arc<str>, Vec<bool>>, PipelineError> {
        let packs: HashSet<&str> = evaluated
            .iter()
            .filter_map(|a| Stamp::pack_of(a.stamp))
            .collect();
        let mut changed = HashMap::new();
        for pack in packs {
            let rules = if pack == &*self.pack.id {
                vec![false; self.engine.rules().len()]
            } else {
                match rule_pack(pack)? {
                    Some(rules) => self
                        .engine
                        .changed_rules(&self.pack, &parapet_rules::RulePack::of(rules)),
                    None => vec![true; self.engine.rules().len()],
                }
            };
            changed.insert(Arc::from(pack), rules);
        }
        Ok(changed)
    }

    /// Every current result of `assets`: those worked out (`evaluations`)
    /// and, for the rules of the pack not worked out again, the results
    /// that stood as stored.
    pub fn all_results(
        &self,
        store: &dyn Store,
        assets: &[&Asset],
        evaluations: &[Evaluation],
    ) -> Result<Vec<Evaluation>, PipelineError> {
        let worked_out: HashSet<(&str, &str)> = evaluations
            .iter()
            .map(|e| (&*e.rule_id, &*e.asset_id))
            .collect();
        let ids: Vec<&str> = assets.iter().map(|a| a.id.as_str()).collect();
        let rules: HashSet<&str> = self.engine.rules().iter().map(|r| &*r.id).collect();
        let mut all = evaluations.to_vec();
        // A thousand assets' findings at a time, each made an evaluation
        // before the next are read.
        for ids in ids.chunks(1000) {
            for stored in store.results_of(ids)? {
                let (rule, asset) = (stored.rule_id.as_str(), stored.asset_id.as_str());
                if rules.contains(rule) && !worked_out.contains(&(rule, asset)) {
                    all.push(Evaluation::from(stored));
                }
            }
        }
        Ok(all)
    }
}
