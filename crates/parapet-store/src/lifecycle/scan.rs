//! One scan recorded, phase by phase: the scan checked and mutes expired;
//! assets written (new, changed, recreated, seen again); assets of the scope
//! the scan did not see marked deleted, resolving their open findings;
//! evaluations carried into the findings lifecycle; incidents followed;
//! changes routed to the outbox; the scan closed with its counts.

use super::incidents::{self, Transition};
use super::steps::{AssetStep, asset_step, finding_step, is_deleted};
use super::{
    AssetWrite, FindingRow, KnownAsset, KnownAssets, Ledger, NewEvent, OpenFinding, PlaceSeen,
    Policy, StoredResult,
};
use crate::error::StoreError;
use crate::query::{FindingChange, ScanOutput};
use crate::roles::{Content, Evaluated, RuleFacts};
use chrono::{DateTime, Utc};
use parapet_core::{
    Asset, CollectionError, Evaluation, EventKind, FindingStatus, Mute, MuteTarget, Provider,
    ScanCounts, ScanRun, ScanStatus, Scope,
};
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

/// What a scan found, to record.
pub struct ScanInput<'a> {
    /// The scan begun for it.
    pub scan_id: i64,
    /// Every asset collected.
    pub assets: &'a [Asset],
    /// What evaluation made of them.
    pub evaluated: Evaluated<'a>,
    /// Each rule's severity and title.
    pub rules: &'a dyn RuleFacts,
    /// The parts of the scope that were denied or failed.
    pub errors: &'a [CollectionError],
    /// When it finished: the time of every change it records.
    pub finished_at: DateTime<Utc>,
}

/// Records a scan through `ledger`, as one transaction of the backend.
pub fn record(
    ledger: &mut dyn Ledger,
    policy: &Policy,
    input: &ScanInput<'_>,
) -> Result<ScanOutput, StoreError> {
    // One serialisation serves the hash and the stored version; done on
    // every core before the writes, unless evaluation did it.
    let worked_out: Vec<Content>;
    let contents = if input.evaluated.contents.len() == input.assets.len() {
        input.evaluated.contents
    } else {
        worked_out = contents(input.assets);
        &worked_out
    };
    let scan = running_scan(ledger, input.scan_id)?;
    let now = input.finished_at;
    // Mutes do not change under a scan (it changes them itself only when
    // one has expired), and one account is recorded by one scan at a time.
    let expiring = super::mutes::any_expired(ledger, now)?;
    ledger.lock(super::mutes::LOCK, expiring)?;
    if expiring {
        super::mutes::expire_held(ledger, now)?;
    }
    let mut accounts: Vec<&String> = scan.scope.accounts.iter().collect();
    accounts.sort();
    for account in accounts {
        ledger.lock(
            &format!("account:{}:{account}", scan.scope.provider.as_str()),
            true,
        )?;
    }
    let mutes: Vec<Mute> = ledger
        .mutes(false)?
        .into_iter()
        .filter(|m| m.is_active(now))
        .collect();
    let mut known = KnownAssets::default();
    for account in &scan.scope.accounts {
        let read = ledger.known_assets(scan.scope.provider, account)?;
        if known.is_empty() {
            known = read;
        } else {
            known.extend(read);
        }
    }
    // What the store knows of each asset, looked up once.
    let known_of: Vec<Option<&KnownAsset>> = input
        .assets
        .iter()
        .map(|a| known.get(a.id.as_str()))
        .collect();
    let mut made = Vec::new();
    let contents = with_texts(input.assets, contents, &known_of, &mut made);
    let contents = texts_and_hashes(contents, &known_of);
    let (foreign, errors) = foreign_assets(ledger, input, &known)?;
    let places = places_seen(&scan.scope, input.assets, &foreign, &errors);
    let mut recording = Recording {
        ledger,
        policy,
        input,
        foreign,
        errors: &errors,
        places,
        now,
        counts: ScanCounts::default(),
        events: 0,
        transitions: Vec::new(),
        routed: Vec::new(),
    };
    let by_id = recording.write_assets(&scan.scope, &contents, &known_of)?;
    recording.delete_unseen(&scan.scope, &known, &by_id)?;
    // After the deletions: an asset deleted now was last seen when its
    // place was seen before.
    recording.mark_places_seen(scan.scope.provider)?;
    let stored_before = recording.stored_before(&known)?;
    recording.write_findings(&by_id, &stored_before, &mutes)?;
    recording.remove_inapplicable(&known, &stored_before)?;
    recording.follow_incidents()?;
    recording.route()?;
    let Recording { counts, events, .. } = recording;
    let status = if errors.is_empty() {
        ScanStatus::Complete
    } else {
        ScanStatus::Partial
    };
    let scan = ScanRun {
        finished_at: Some(now),
        status,
        counts,
        errors,
        ..scan
    };
    ledger.close_scan(&scan)?;
    Ok(ScanOutput { scan, events })
}

/// Each asset's content text (as versions keep it) and content hash, in
/// order, worked out on every core.
pub fn contents(assets: &[Asset]) -> Vec<Content> {
    assets
        .par_iter()
        .map(|asset| {
            let (text, hash) = asset.content_text_and_hash();
            Content::Hashed {
                text,
                hash: hash.to_string(),
            }
        })
        .collect()
}

/// `contents` with every text a new version needs: those evaluation left
/// out (the content looked the same as stored) are made for the assets the
/// store does not know with the same hash.
fn with_texts<'c>(
    assets: &[Asset],
    contents: &'c [Content],
    known_of: &[Option<&KnownAsset>],
    made: &'c mut Vec<Content>,
) -> &'c [Content] {
    let needed = |known: &Option<&KnownAsset>, content: &Content| match content {
        Content::AsStored => known.is_none(),
        Content::Hashed { text, hash } => {
            text.is_empty() && known.is_none_or(|k| k.content_hash != *hash)
        }
    };
    if !known_of.iter().zip(contents).any(|(k, c)| needed(k, c)) {
        return contents;
    }
    *made = assets
        .iter()
        .zip(known_of)
        .zip(contents)
        .map(
            |((asset, known), content)| match (needed(known, content), content) {
                (true, Content::Hashed { hash, .. }) => Content::Hashed {
                    text: asset.content_text(),
                    hash: hash.clone(),
                },
                (true, Content::AsStored) => {
                    let (text, hash) = asset.content_text_and_hash();
                    Content::Hashed {
                        text,
                        hash: hash.to_string(),
                    }
                }
                (false, content) => content.clone(),
            },
        )
        .collect();
    made
}

/// Each asset's content text (empty where no version needs it) and hash,
/// as recording writes them: the hash stored with an asset whose content
/// is as stored ([`with_texts`] made the others' texts).
fn texts_and_hashes<'c>(
    contents: &'c [Content],
    known_of: &[Option<&'c KnownAsset>],
) -> Vec<(&'c str, &'c str)> {
    known_of
        .iter()
        .zip(contents)
        .map(|(known, content)| match content {
            Content::Hashed { text, hash } => (text.as_str(), hash.as_str()),
            Content::AsStored => ("", known.map_or("", |k| k.content_hash.as_str())),
        })
        .collect()
}

/// The assets of the scan whose ids the store already keeps for another
/// account (an API that names a resource of another account, an emulator
/// that shares one between accounts): kept where they are and not recorded
/// again, each with an error that says so; and the scan's errors with
/// those added.
fn foreign_assets<'a>(
    ledger: &mut dyn Ledger,
    input: &'a ScanInput<'_>,
    known: &KnownAssets,
) -> Result<(FxHashSet<&'a str>, Vec<CollectionError>), StoreError> {
    let new: Vec<&str> = input
        .assets
        .iter()
        .map(|a| a.id.as_str())
        .filter(|id| !known.contains_key(*id))
        .collect();
    let owners: FxHashMap<String, String> = ledger.owners(&new)?.into_iter().collect();
    let mut foreign = FxHashSet::default();
    let mut errors = input.errors.to_vec();
    for asset in input.assets {
        if let Some(owner) = owners.get(&asset.id) {
            foreign.insert(asset.id.as_str());
            errors.push(CollectionError {
                account: Some(asset.account.clone()),
                region: Some(asset.region.clone()),
                resource_type: Some(asset.resource_type.as_str().to_owned()),
                message: format!(
                    "{} is already recorded as an asset of account {owner}; it is kept there and not recorded for account {}",
                    asset.id, asset.account
                ),
            });
        }
    }
    Ok((foreign, errors))
}

/// A place: an account, a region and a resource type.
type Place<'a> = (&'a str, &'a str, &'a str);

fn place_of(asset: &Asset) -> Place<'_> {
    (&asset.account, &asset.region, asset.resource_type.as_str())
}

/// The places of the scan's assets that it collected whole, each with the
/// earliest time its assets there were observed: every live asset there
/// was seen (those it did not see it marks deleted), unless an error
/// covers the place or only the assets an event named were described of
/// its type.
fn places_seen<'a>(
    scope: &Scope,
    assets: &'a [Asset],
    foreign: &FxHashSet<&str>,
    errors: &[CollectionError],
) -> FxHashMap<Place<'a>, DateTime<Utc>> {
    let mut places: FxHashMap<Place<'a>, DateTime<Utc>> = FxHashMap::default();
    for asset in assets {
        if foreign.contains(asset.id.as_str()) || !scope.contains(asset) {
            continue;
        }
        let at = places.entry(place_of(asset)).or_insert(asset.observed_at);
        *at = (*at).min(asset.observed_at);
    }
    places.retain(|(account, region, resource_type), _| {
        !scope.assets.contains_key(*resource_type)
            && !errors
                .iter()
                .any(|e| e.covers(account, region, resource_type))
    });
    places
}

/// The scan `id`, which must still be running.
fn running_scan(ledger: &mut dyn Ledger, id: i64) -> Result<ScanRun, StoreError> {
    let scan = ledger
        .scan(id)?
        .ok_or_else(|| StoreError::NotFound(format!("no scan {id}")))?;
    if scan.status != ScanStatus::Running {
        return Err(StoreError::Invalid(format!(
            "scan {id} has already finished"
        )));
    }
    Ok(scan)
}

/// A scan being recorded, and what its phases hand on.
struct Recording<'r, 'a> {
    ledger: &'r mut dyn Ledger,
    policy: &'r Policy,
    input: &'r ScanInput<'a>,
    /// Assets another account already has: not recorded.
    foreign: FxHashSet<&'r str>,
    /// The scan's errors, and one for each foreign asset.
    errors: &'r [CollectionError],
    now: DateTime<Utc>,
    counts: ScanCounts,
    /// Events appended.
    events: u64,
    /// The places the scan collected whole, each with the earliest time
    /// its assets there were observed.
    places: FxHashMap<Place<'r>, DateTime<Utc>>,
    /// Changes of findings no mute covers, for incidents.
    transitions: Vec<Transition>,
    /// The same changes with the ids of their events, for the outbox (only
    /// when notifications are routed).
    routed: Vec<(i64, FindingChange)>,
}

impl<'a> Recording<'_, 'a> {
    fn append(&mut self, events: &[NewEvent<'_>]) -> Result<Vec<i64>, StoreError> {
        self.events += events.len() as u64;
        self.ledger.append_events(events)
    }

    /// Whether changes of findings are followed: by incidents, or by
    /// notifications.
    fn follows_changes(&self) -> bool {
        self.policy.incidents.is_some() || self.policy.router.is_some()
    }

    /// A change of a finding no mute covers: followed by incidents, and
    /// routed once its event is written.
    fn changed(&mut self, event_id: i64, change: FindingChange) {
        if self.policy.incidents.is_some() {
            self.transitions.push(Transition::of(&change));
        }
        if self.policy.router.is_some() {
            self.routed.push((event_id, change));
        }
    }

    /// Writes the assets: new, changed, recreated, or only seen again.
    /// Returns them by id.
    fn write_assets(
        &mut self,
        scope: &Scope,
        contents: &[(&str, &str)],
        known_of: &[Option<&KnownAsset>],
    ) -> Result<FxHashMap<&'a str, &'a Asset>, StoreError> {
        let assets = self.input.assets;
        let mut by_id: FxHashMap<&str, &Asset> = FxHashMap::default();
        by_id.reserve(assets.len());
        let mut writes = Vec::with_capacity(assets.len());
        let mut events = Vec::new();
        let stamps = self.input.evaluated.stamps;
        for (index, (asset, &(text, hash))) in assets.iter().zip(contents).enumerate() {
            if self.foreign.contains(asset.id.as_str()) {
                continue;
            }
            if !scope.contains(asset) {
                return Err(StoreError::Invalid(format!(
                    "asset {} ({} {} {}) is outside the scan's scope",
                    asset.id, asset.account, asset.region, asset.resource_type
                )));
            }
            by_id.insert(&asset.id, asset);
            self.counts.assets += 1;
            let before = known_of.get(index).copied().flatten();
            let step = asset_step(before, hash);
            let stored = before.and_then(|k| k.evaluated.as_deref());
            let (evaluated, as_stored) = match stamps.get(index) {
                Some(Some(stamp)) => (Some(stamp.as_str()), stored == Some(stamp.as_str())),
                Some(None) => (stored, true),
                None => (None, stored.is_none()),
            };
            // Seen again as it was, and evaluated as it was: its place
            // being seen says when it was.
            if matches!(step, AssetStep::Seen)
                && as_stored
                && self.places.get(&place_of(asset)) == Some(&asset.observed_at)
            {
                continue;
            }
            writes.push(match step {
                AssetStep::New => AssetWrite::Insert {
                    asset,
                    hash,
                    document: text,
                    evaluated,
                },
                AssetStep::Seen => AssetWrite::Touch { asset, evaluated },
                AssetStep::Updated {
                    version,
                    previous,
                    recreated,
                } => AssetWrite::Update {
                    asset,
                    hash,
                    version,
                    document: previous.map(|_| text),
                    evaluated,
                    recreated,
                },
            });
            if let Some((kind, detail)) = step.event() {
                match kind {
                    EventKind::AssetCreated => self.counts.created += 1,
                    _ => self.counts.changed += 1,
                }
                events.push(NewEvent {
                    at: asset.observed_at,
                    kind,
                    asset_id: &asset.id,
                    account: &asset.account,
                    rule_id: None,
                    scan_id: Some(self.input.scan_id),
                    detail,
                });
            }
        }
        self.ledger.write_assets(&writes)?;
        self.append(&events)?;
        Ok(by_id)
    }

    /// Notes that the places the scan collected whole were seen.
    fn mark_places_seen(&mut self, provider: Provider) -> Result<(), StoreError> {
        let places: Vec<PlaceSeen<'_>> = self
            .places
            .iter()
            .map(|(&(account, region, resource_type), &at)| PlaceSeen {
                provider,
                account,
                region,
                resource_type,
                at,
            })
            .collect();
        self.ledger.mark_places_seen(&places)
    }

    /// Marks deleted the assets of the scope this collection did not see
    /// (except where a collection error covers them), resolving their open
    /// findings.
    fn delete_unseen(
        &mut self,
        scope: &Scope,
        known: &KnownAssets,
        seen: &FxHashMap<&str, &Asset>,
    ) -> Result<(), StoreError> {
        let mut unseen: Vec<(&String, &KnownAsset)> = known
            .iter()
            .filter(|(id, k)| {
                !seen.contains_key(id.as_str()) && is_deleted(id, k, scope, self.errors)
            })
            .collect();
        unseen.sort_by(|a, b| a.0.cmp(b.0));
        let (now, scan_id) = (self.now, Some(self.input.scan_id));
        for (id, k) in unseen {
            self.ledger.mark_deleted(id, now)?;
            self.append(&[NewEvent {
                at: now,
                kind: EventKind::AssetDeleted,
                asset_id: id,
                account: &k.account,
                rule_id: None,
                scan_id,
                detail: serde_json::json!({}),
            }])?;
            self.counts.deleted += 1;
            for open in self.ledger.open_findings(id)? {
                self.resolve(id, k, open, "asset deleted")?;
            }
        }
        Ok(())
    }

    /// Resolves an open finding of the known asset `id`, saying `why`.
    fn resolve(
        &mut self,
        id: &str,
        k: &KnownAsset,
        open: OpenFinding,
        why: &str,
    ) -> Result<(), StoreError> {
        let now = self.now;
        self.ledger.resolve_finding(&open.rule_id, id, now)?;
        let event = self.append(&[NewEvent {
            at: now,
            kind: EventKind::FindingResolved,
            asset_id: id,
            account: &k.account,
            rule_id: Some(&open.rule_id),
            scan_id: Some(self.input.scan_id),
            detail: serde_json::json!({"why": why}),
        }])?;
        self.counts.resolved += 1;
        if open.muted_by.is_some() || !self.follows_changes() {
            return Ok(());
        }
        let (asset_name, tags) = self.ledger.asset_label(id)?;
        let rules = self.input.rules;
        self.changed(
            event.first().copied().unwrap_or_default(),
            FindingChange {
                kind: EventKind::FindingResolved,
                at: now,
                severity: rules.severity(&open.rule_id),
                rule_title: rule_title(rules, &open.rule_id),
                rule_id: open.rule_id,
                message: open.message,
                asset_id: id.to_owned(),
                asset_name,
                account: k.account.to_string(),
                region: k.region.to_string(),
                resource_type: k.resource_type.to_string(),
                tags,
                incident: None,
            },
        );
        Ok(())
    }

    /// Removes the stored results of rules that no longer apply to their
    /// (known) asset, resolving the open findings among them first.
    fn remove_inapplicable(
        &mut self,
        known: &KnownAssets,
        stored_before: &FxHashMap<String, FxHashMap<String, StoredResult>>,
    ) -> Result<(), StoreError> {
        let pairs: Vec<(&str, &str)> = self
            .input
            .evaluated
            .inapplicable
            .iter()
            .map(|(rule, asset)| (&**rule, &**asset))
            .filter(|(_, asset)| known.contains_key(*asset) && !self.foreign.contains(asset))
            .collect();
        let mut open: Vec<&str> = pairs
            .iter()
            .filter(|(rule, asset)| {
                stored_before
                    .get(*asset)
                    .and_then(|rules| rules.get(*rule))
                    .and_then(|stored| stored.previous.as_ref())
                    .is_some_and(|f| f.status != FindingStatus::Resolved)
            })
            .map(|(_, asset)| *asset)
            .collect();
        open.sort_unstable();
        open.dedup();
        let removed: FxHashSet<(&str, &str)> = if open.is_empty() {
            FxHashSet::default()
        } else {
            pairs.iter().copied().collect()
        };
        for asset in open {
            let Some(k) = known.get(asset) else {
                continue;
            };
            for finding in self.ledger.open_findings(asset)? {
                if removed.contains(&(finding.rule_id.as_str(), asset)) {
                    self.resolve(asset, k, finding, "the rule no longer applies")?;
                }
            }
        }
        self.ledger.remove_results(&pairs)
    }

    /// Every stored result of the known assets this scan worked results
    /// out for, by asset and rule: the lifecycle of those that have failed,
    /// and what each row says, so that a row that would not change is left
    /// alone.
    fn stored_before(
        &mut self,
        known: &KnownAssets,
    ) -> Result<FxHashMap<String, FxHashMap<String, StoredResult>>, StoreError> {
        let evaluated = self.input.evaluated;
        let mut ids: Vec<&str> = evaluated
            .evaluations
            .iter()
            .map(|e| &*e.asset_id)
            .chain(evaluated.inapplicable.iter().map(|(_, asset)| &**asset))
            .filter(|id| known.contains_key(*id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut stored: FxHashMap<String, FxHashMap<String, StoredResult>> = FxHashMap::default();
        for (rule_id, asset_id, result) in self.ledger.stored_results(&ids)? {
            stored.entry(asset_id).or_default().insert(rule_id, result);
        }
        Ok(stored)
    }

    /// Carries each evaluation into its finding's lifecycle.
    fn write_findings(
        &mut self,
        by_id: &FxHashMap<&str, &Asset>,
        stored_before: &FxHashMap<String, FxHashMap<String, StoredResult>>,
        mutes: &[Mute],
    ) -> Result<(), StoreError> {
        let input = self.input;
        let now = self.now;
        let evaluations = input.evaluated.evaluations;
        self.counts.kept += input.evaluated.kept;
        let mut rows = Vec::with_capacity(evaluations.len());
        let mut events = Vec::new();
        // The changes no mute covers, by the index of their event, when
        // changes are followed.
        let follows = self.follows_changes();
        let mut unmuted: Vec<(usize, FindingChange)> = Vec::new();
        for evaluation in evaluations {
            if self.foreign.contains(&*evaluation.asset_id) {
                continue;
            }
            let asset = *by_id.get(&*evaluation.asset_id).ok_or_else(|| {
                StoreError::Invalid(format!(
                    "evaluation of rule {} names asset {}, which is not in the scan",
                    evaluation.rule_id, evaluation.asset_id
                ))
            })?;
            self.counts.evaluations += 1;
            let stored = stored_before
                .get(&*evaluation.asset_id)
                .and_then(|rules| rules.get(&*evaluation.rule_id));
            let previous = stored.and_then(|s| s.previous.as_ref());
            let severity = input.rules.severity(&evaluation.rule_id);
            let target = MuteTarget {
                rule_id: &evaluation.rule_id,
                asset_id: &asset.id,
                account: &asset.account,
                region: &asset.region,
                tags: &asset.tags,
            };
            let step = finding_step(previous, evaluation.status, now, || {
                mutes
                    .iter()
                    .find(|m| m.selector.matches(&target))
                    .map(|m| m.id)
            });
            if let (Some(kind), Some(status)) = (step.change, step.status) {
                match status {
                    FindingStatus::Open => self.counts.opened += 1,
                    FindingStatus::Reopened => self.counts.reopened += 1,
                    FindingStatus::Resolved => self.counts.resolved += 1,
                }
                let mut detail =
                    serde_json::json!({"severity": severity, "message": &*evaluation.message});
                if let Some(mute) = step.muted_by {
                    detail["muted_by"] = mute.into();
                }
                events.push(NewEvent {
                    at: now,
                    kind,
                    asset_id: &asset.id,
                    account: &asset.account,
                    rule_id: Some(&evaluation.rule_id),
                    scan_id: Some(input.scan_id),
                    detail,
                });
                if step.muted_by.is_none() && follows {
                    unmuted.push((
                        events.len() - 1,
                        change_of(asset, evaluation, kind, input.rules, now),
                    ));
                }
            }
            let row = FindingRow {
                rule_id: &evaluation.rule_id,
                asset,
                severity,
                status: step.status,
                first_seen: step.first_seen,
                last_seen: now,
                resolved_at: step.resolved_at,
                result: evaluation.status,
                message: &evaluation.message,
                evidence: &evaluation.evidence,
                muted_by: step.muted_by,
            };
            // A row that would say what it says is left alone: its result
            // was last seen when its asset was.
            if !stored.is_some_and(|stored| row.restates(stored)) {
                rows.push(row);
            }
        }
        // In the order SQLite keeps them (by asset, then rule), each asset's
        // rows land side by side in the table.
        rows.sort_unstable_by(|a, b| (&a.asset.id, a.rule_id).cmp(&(&b.asset.id, b.rule_id)));
        self.ledger.write_findings(&rows)?;
        let ids = self.append(&events)?;
        for (index, change) in unmuted {
            self.changed(ids.get(index).copied().unwrap_or_default(), change);
        }
        Ok(())
    }

    /// Follows each change in the incidents, when findings are grouped.
    fn follow_incidents(&mut self) -> Result<(), StoreError> {
        let Some(policy) = self.policy.incidents else {
            return Ok(());
        };
        for transition in &self.transitions {
            incidents::follow(self.ledger, policy, transition, self.now)?;
        }
        Ok(())
    }

    /// Writes each change's notifications, with its incident as it now
    /// stands.
    fn route(&mut self) -> Result<(), StoreError> {
        let Some(router) = self.policy.router.as_deref() else {
            return Ok(());
        };
        for (event_id, mut change) in std::mem::take(&mut self.routed) {
            if self.policy.incidents.is_some() {
                change.incident = self.ledger.incident_of(&change.rule_id, &change.asset_id)?;
            }
            super::outbox::route(self.ledger, router, event_id, &change)?;
        }
        Ok(())
    }
}

/// A finding's change, as notifications carry it.
fn change_of(
    asset: &Asset,
    evaluation: &Evaluation,
    kind: EventKind,
    rules: &dyn RuleFacts,
    now: DateTime<Utc>,
) -> FindingChange {
    FindingChange {
        kind,
        at: now,
        rule_id: evaluation.rule_id.to_string(),
        rule_title: rule_title(rules, &evaluation.rule_id),
        severity: rules.severity(&evaluation.rule_id),
        message: evaluation.message.to_string(),
        asset_id: asset.id.clone(),
        asset_name: asset.name.clone(),
        account: asset.account.clone(),
        region: asset.region.clone(),
        resource_type: asset.resource_type.as_str().to_owned(),
        tags: asset.tags.clone(),
        incident: None,
    }
}

/// The rule's title, or its id where the rules give none.
fn rule_title(rules: &dyn RuleFacts, rule_id: &str) -> String {
    rules.title(rule_id).unwrap_or(rule_id).to_owned()
}
