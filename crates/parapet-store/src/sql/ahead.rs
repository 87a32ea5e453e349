//! Reading ahead: what incremental evaluation needs of an account, read on
//! another thread through a second connection of the store's own while the
//! store records the accounts before it, and handed back so that recording
//! the account's scan need not read it again. The store's writer keeps its
//! page cache for what it writes rather than for a walk over every
//! account's assets.

use super::{Database, args, first, json, ledger};
use crate::error::StoreError;
use crate::lifecycle::{EvaluatedRef, KnownAssets};
use parapet_core::Provider;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

/// The reads a second connection makes.
pub(crate) trait AheadReads: Send + Sync {
    fn known_assets(&self, provider: Provider, account: &str) -> Result<KnownAssets, StoreError>;

    fn rule_pack(&self, id: &str) -> Result<Option<BTreeMap<String, String>>, StoreError>;
}

impl<D: Database> AheadReads for Mutex<D> {
    fn known_assets(&self, provider: Provider, account: &str) -> Result<KnownAssets, StoreError> {
        let db = self.lock().unwrap_or_else(PoisonError::into_inner);
        ledger::known_assets(&*db, provider, account)
    }

    fn rule_pack(&self, id: &str) -> Result<Option<BTreeMap<String, String>>, StoreError> {
        let db = self.lock().unwrap_or_else(PoisonError::into_inner);
        rule_pack(&*db, id)
    }
}

/// The digest of each rule of the pack `id`, if it was kept.
pub(crate) fn rule_pack<D: Database + ?Sized>(
    db: &D,
    id: &str,
) -> Result<Option<BTreeMap<String, String>>, StoreError> {
    first(
        db,
        "SELECT rules FROM rule_packs WHERE id = ?1",
        args![id],
        |r| json(r, 0, "rule pack"),
    )
}

/// An account's assets to read on another thread, granted by
/// [`crate::Scans::read_ahead`].
pub struct ReadAhead {
    pub(crate) reads: Arc<dyn AheadReads>,
    pub(crate) provider: Provider,
    pub(crate) account: String,
    /// The writer's data version when the read was granted.
    pub(crate) version: i64,
}

impl ReadAhead {
    /// Reads the account's assets: what the store keeps for recording,
    /// which tells incremental evaluation what it needs of each live one
    /// with a stamp ([`KeptAccount::evaluated`]).
    pub fn read(&self) -> Result<KeptAccount, StoreError> {
        let known = self.reads.known_assets(self.provider, &self.account)?;
        Ok(KeptAccount(KeptRead {
            provider: self.provider,
            account: self.account.clone(),
            version: self.version,
            known,
        }))
    }

    /// The digest of each rule of the pack `id`, if it was kept, read on
    /// the same connection.
    pub fn rule_pack(&self, id: &str) -> Result<Option<BTreeMap<String, String>>, StoreError> {
        self.reads.rule_pack(id)
    }
}

/// An account's assets as read ahead, for the store to keep: hand it back
/// with [`crate::Scans::keep_read`] to record the account's scan.
pub struct KeptAccount(pub(crate) KeptRead);

impl KeptAccount {
    /// The account's live assets with a stamp, as
    /// [`crate::Scans::evaluated_assets_of`] gives them, borrowed.
    pub fn evaluated(&self) -> impl Iterator<Item = EvaluatedRef<'_>> {
        evaluated_of(&self.0.known)
    }
}

/// An account's assets as incremental evaluation read them
/// ([`crate::Scans::evaluated_assets_of`], or ahead), kept so that
/// recording the account's scan, which follows, need not read them again.
/// Trusted only while no other connection has committed since
/// ([`Database::data_version`]) and this store has written none of them:
/// recording a scan takes its accounts' reads, recording a worker's scan
/// and pruning drop every read kept, and so does the end of a batch.
pub(crate) struct KeptRead {
    pub(crate) provider: Provider,
    pub(crate) account: String,
    /// The database's data version before the read.
    pub(crate) version: i64,
    pub(crate) known: KnownAssets,
}

/// The live assets with a stamp among `known`.
pub(crate) fn evaluated_of(known: &KnownAssets) -> impl Iterator<Item = EvaluatedRef<'_>> {
    known
        .iter()
        .filter(|(_, k)| k.deleted_at.is_none())
        .filter_map(|(id, k)| {
            let stamp = k.evaluated.as_deref().filter(|s| !s.is_empty())?;
            Some(EvaluatedRef {
                id,
                content_hash: &k.content_hash,
                stamp,
            })
        })
}
