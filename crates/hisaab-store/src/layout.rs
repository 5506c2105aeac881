//! The on-disk layout: one sled database with one tree per kind of record.
//!
//! | tree | key | value |
//! |---|---|---|
//! | `entries` | seq, u64 big-endian | the entry's leaf bytes, JCS(entry) |
//! | `hashes` | stored-hash index, u64 BE | 32 bytes (Go `tlog` order, see `hisaab_log::merkle`) |
//! | `by_event` | event hash, 32 bytes | seq, u64 BE |
//! | `by_statement` | statement id, 36 ASCII bytes | seq, u64 BE |
//! | `by_kpi` | operator, 0x00, KPI, 0x00, seq BE (every entry about the pair, references followed) | empty |
//! | `scopes` | seq, u64 BE | the entry's scope for read access (SPEC §13.4): `r` registry, `s` sector, `o` followed by the operator's id |
//! | `checkpoints` | tree size, u64 BE | the signed note, with cosignatures collected for it |
//! | `snapshots` | tree size, u64 BE | SHA-256(record) ‖ record: the ids of the snapshot's chunks (`crate::chunks`), or, written before, the model's snapshot bytes whole |
//! | `chunks` | chunk id, 32 bytes | a chunk of one or more snapshots' model bytes, sealed when the store has a master key |
//! | `meta` | `format` | `hisaab-store/1` |
//! | `openings` | seq, u64 BE | the entry's openings of sealed fields, encrypted (SPEC §12.10; `crate::openings`) |
//!
//! Big-endian keys sort numerically, so the last entry, the latest checkpoint and the nearest
//! snapshot at or below a size are one ordered lookup each (O(log n)).

use std::collections::HashMap;

use hisaab_log::merkle::{perfect_subtree_indexes, stored_hash_index, HashReader, MerkleError};
use hisaab_log::note::{verify_checkpoint, Checkpoint, VerifierKey};
use hisaab_log::{Hash, SealedEntry};
use hisaab_model::view::Scope;
use hisaab_model::Slug;
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};

use crate::error::{Corruption, StoreError};
use crate::openings::{MasterKey, OpeningsVault, OPENINGS_TREE};

/// The value of `meta/format`.
pub(crate) const FORMAT: &[u8] = b"hisaab-store/1";
/// The key of the format marker in `meta`.
pub(crate) const FORMAT_KEY: &[u8] = b"format";

/// The prefix of the `meta` keys that mark where each group commit ended: `batch` followed by
/// the tree size after the batch, big-endian. The receipts a batch's callers got are exactly
/// reproducible from it (the checkpoint for that size, re-signed deterministically, and the
/// inclusion proof for that size), so a resubmission gets its original receipt back.
pub(crate) const BATCH_PREFIX: &[u8] = b"batch";

/// The `meta` key marking a batch that ended at tree size `size`.
pub(crate) fn batch_key(size: u64) -> Vec<u8> {
    let mut key = BATCH_PREFIX.to_vec();
    key.extend_from_slice(&size.to_be_bytes());
    key
}

/// The trees of one store.
#[derive(Clone, Debug)]
pub(crate) struct Trees {
    pub(crate) db: sled::Db,
    pub(crate) entries: sled::Tree,
    pub(crate) hashes: sled::Tree,
    pub(crate) by_event: sled::Tree,
    pub(crate) by_statement: sled::Tree,
    pub(crate) by_kpi: sled::Tree,
    pub(crate) scopes: sled::Tree,
    pub(crate) checkpoints: sled::Tree,
    pub(crate) snapshots: sled::Tree,
    pub(crate) chunks: sled::Tree,
    pub(crate) meta: sled::Tree,
    pub(crate) openings: sled::Tree,
    /// The openings of sealed fields under the ledger's master key; `None` when the store was
    /// opened without it (it then replays sealed entries as the public does, SPEC §12.8, and
    /// refuses sealed appends).
    pub(crate) vault: Option<OpeningsVault>,
}

/// The writes of one group commit, one sled batch per tree, applied in one transaction.
#[derive(Default)]
pub(crate) struct Writes {
    pub(crate) entries: sled::Batch,
    pub(crate) hashes: sled::Batch,
    pub(crate) by_event: sled::Batch,
    pub(crate) by_statement: sled::Batch,
    pub(crate) by_kpi: sled::Batch,
    pub(crate) scopes: sled::Batch,
    pub(crate) checkpoints: sled::Batch,
    pub(crate) snapshots: sled::Batch,
    pub(crate) chunks: sled::Batch,
    pub(crate) meta: sled::Batch,
    pub(crate) openings: sled::Batch,
}

impl Trees {
    /// Opens (creating if needed) the trees of the database.
    pub(crate) fn open(db: sled::Db) -> Result<Self, StoreError> {
        let open = |name: &str| {
            db.open_tree(name)
                .map_err(StoreError::sled("opening a tree"))
        };
        Ok(Trees {
            entries: open("entries")?,
            hashes: open("hashes")?,
            by_event: open("by_event")?,
            by_statement: open("by_statement")?,
            by_kpi: open("by_kpi")?,
            scopes: open("scopes")?,
            checkpoints: open("checkpoints")?,
            snapshots: open("snapshots")?,
            chunks: open("chunks")?,
            meta: open("meta")?,
            openings: open(OPENINGS_TREE)?,
            vault: None,
            db,
        })
    }

    /// Opens the openings with the ledger's master key (a tree used for the first time is
    /// marked for it; otherwise it must be the key the tree was marked for).
    pub(crate) fn with_master_key(mut self, master: Option<MasterKey>) -> Result<Self, StoreError> {
        if let Some(master) = master {
            self.vault = Some(OpeningsVault::new(self.openings.clone(), master)?);
        }
        Ok(self)
    }

    /// The openings kept for entry `seq` (with event hash `event_hash`): `None` without a
    /// master key or when none are kept (a plain entry, or erased).
    pub(crate) fn openings_of(
        &self,
        seq: u64,
        event_hash: &Hash,
    ) -> Result<Option<hisaab_log::seal::Openings>, StoreError> {
        match &self.vault {
            None => Ok(None),
            Some(vault) => Ok(vault.get(seq, event_hash)?),
        }
    }

    /// Applies `writes` to all trees in one sled transaction. sled writes a transaction under
    /// one log reservation sealed by a batch manifest, so recovery after a crash sees all of
    /// it or none of it; `open` still reconciles a torn tail in case it does not.
    pub(crate) fn apply(&self, writes: &Writes) -> Result<(), StoreError> {
        let trees = [
            &self.entries,
            &self.hashes,
            &self.by_event,
            &self.by_statement,
            &self.by_kpi,
            &self.scopes,
            &self.checkpoints,
            &self.snapshots,
            &self.chunks,
            &self.meta,
            &self.openings,
        ];
        let batches = [
            &writes.entries,
            &writes.hashes,
            &writes.by_event,
            &writes.by_statement,
            &writes.by_kpi,
            &writes.scopes,
            &writes.checkpoints,
            &writes.snapshots,
            &writes.chunks,
            &writes.meta,
            &writes.openings,
        ];
        let result: Result<(), TransactionError<()>> =
            Transactional::transaction(&trees[..], |views| {
                for (view, batch) in views.iter().zip(batches.iter()) {
                    view.apply_batch(batch)?;
                }
                Ok::<(), ConflictableTransactionError<()>>(())
            });
        match result {
            Ok(()) => Ok(()),
            Err(TransactionError::Storage(source)) => Err(StoreError::Sled {
                what: "committing a batch",
                source,
            }),
            Err(TransactionError::Abort(())) => Err(StoreError::Closed),
        }
    }

    /// Applies the snapshot thread's writes (`crate::snapshot`) to `snapshots` and `chunks` in
    /// one sled transaction: a snapshot, its new chunks and the pruning of older ones land
    /// whole or not at all.
    pub(crate) fn apply_snapshots(
        &self,
        snapshots: &sled::Batch,
        chunks: &sled::Batch,
    ) -> Result<(), StoreError> {
        let result: Result<(), TransactionError<()>> =
            Transactional::transaction(&[&self.snapshots, &self.chunks][..], |views| {
                for (view, batch) in views.iter().zip([snapshots, chunks]) {
                    view.apply_batch(batch)?;
                }
                Ok::<(), ConflictableTransactionError<()>>(())
            });
        match result {
            Ok(()) => Ok(()),
            Err(TransactionError::Storage(source)) => Err(StoreError::Sled {
                what: "writing a snapshot",
                source,
            }),
            Err(TransactionError::Abort(())) => Err(StoreError::Closed),
        }
    }

    /// Makes everything written so far durable.
    pub(crate) fn flush(&self) -> Result<(), StoreError> {
        self.db
            .flush()
            .map(|_| ())
            .map_err(StoreError::sled("flushing"))
    }

    /// The number of entries: one more than the last key of `entries`.
    pub(crate) fn entry_count(&self) -> Result<u64, StoreError> {
        match self
            .entries
            .last()
            .map_err(StoreError::sled("reading the last entry"))?
        {
            None => Ok(0),
            Some((key, _)) => {
                let seq = decode_u64(&key).ok_or(Corruption::BadRecord { tree: "entries" })?;
                Ok(seq.saturating_add(1))
            }
        }
    }

    /// The number of stored hashes: one more than the last key of `hashes`.
    pub(crate) fn stored_hash_count(&self) -> Result<u64, StoreError> {
        match self
            .hashes
            .last()
            .map_err(StoreError::sled("reading the last hash"))?
        {
            None => Ok(0),
            Some((key, _)) => {
                let index = decode_u64(&key).ok_or(Corruption::BadRecord { tree: "hashes" })?;
                Ok(index.saturating_add(1))
            }
        }
    }

    /// The raw leaf bytes at `seq`, if stored.
    pub(crate) fn entry_bytes(&self, seq: u64) -> Result<Option<sled::IVec>, StoreError> {
        self.entries
            .get(seq.to_be_bytes())
            .map_err(StoreError::sled("reading an entry"))
    }

    /// The entry at `seq`, parsed, with its seq checked against its key. A missing entry is
    /// [`Corruption::MissingEntry`]: callers ask only for entries the log must hold.
    pub(crate) fn read_entry(&self, seq: u64, size: u64) -> Result<SealedEntry, StoreError> {
        let bytes = self
            .entry_bytes(seq)?
            .ok_or(Corruption::MissingEntry { seq, size })?;
        parse_entry(seq, &bytes)
    }

    /// The stored hash at `index`.
    pub(crate) fn stored_hash(&self, index: u64) -> Result<Hash, StoreError> {
        let value = self
            .hashes
            .get(index.to_be_bytes())
            .map_err(StoreError::sled("reading a stored hash"))?
            .ok_or(Corruption::MissingStoredHash { index })?;
        Hash::try_from_slice(&value).map_err(|_| Corruption::MissingStoredHash { index }.into())
    }

    /// The latest checkpoint: its note and what the note says, its signature verified under
    /// `vkey` and its size the key it is stored under.
    pub(crate) fn latest_checkpoint(
        &self,
        vkey: &VerifierKey,
    ) -> Result<(String, Checkpoint), StoreError> {
        let (key, note) = self
            .checkpoints
            .last()
            .map_err(StoreError::sled("reading the latest checkpoint"))?
            .ok_or(Corruption::Checkpoint {
                reason: "the store has no checkpoint".into(),
            })?;
        let note = String::from_utf8(note.to_vec()).map_err(|_| Corruption::Checkpoint {
            reason: "the note is not UTF-8".into(),
        })?;
        let checkpoint = verify_checkpoint(&note, vkey).map_err(|e| Corruption::Checkpoint {
            reason: e.to_string(),
        })?;
        if decode_u64(&key) != Some(checkpoint.size) || checkpoint.size == 0 {
            return Err(Corruption::Checkpoint {
                reason: format!(
                    "the checkpoint for size {} is stored under another key",
                    checkpoint.size
                ),
            }
            .into());
        }
        Ok((note, checkpoint))
    }

    /// The tree size at the end of the group commit that appended entry `seq`, if recorded:
    /// one ordered lookup.
    pub(crate) fn batch_end_covering(&self, seq: u64) -> Result<Option<u64>, StoreError> {
        let start = batch_key(seq.saturating_add(1));
        let Some(item) = self.meta.range(start..).next() else {
            return Ok(None);
        };
        let (key, _) = item.map_err(StoreError::sled("reading a batch mark"))?;
        match key.strip_prefix(BATCH_PREFIX) {
            Some(size) => decode_u64(size)
                .map(Some)
                .ok_or(Corruption::BadRecord { tree: "meta" }.into()),
            None => Ok(None),
        }
    }

    /// The seq an index maps `key` to, if any.
    pub(crate) fn index_seq(
        tree: &sled::Tree,
        name: &'static str,
        key: &[u8],
    ) -> Result<Option<u64>, StoreError> {
        match tree
            .get(key)
            .map_err(StoreError::sled("reading an index"))?
        {
            None => Ok(None),
            Some(value) => decode_u64(&value)
                .map(Some)
                .ok_or(Corruption::BadRecord { tree: name }.into()),
        }
    }
}

/// Parses leaf bytes stored under `seq` and checks the entry's own seq.
pub(crate) fn parse_entry(seq: u64, bytes: &[u8]) -> Result<SealedEntry, StoreError> {
    let sealed = SealedEntry::try_from_leaf_bytes(bytes)
        .map_err(|source| Corruption::UnreadableEntry { seq, source })?;
    let found = sealed.entry().seq;
    if found != seq {
        return Err(Corruption::MisplacedEntry { seq, found }.into());
    }
    Ok(sealed)
}

/// Decodes an 8-byte big-endian integer.
pub(crate) fn decode_u64(bytes: &[u8]) -> Option<u64> {
    let array: [u8; 8] = bytes.try_into().ok()?;
    Some(u64::from_be_bytes(array))
}

/// The `scopes` value of a scope.
pub(crate) fn encode_scope(scope: &Scope) -> Vec<u8> {
    match scope {
        Scope::Registry => b"r".to_vec(),
        Scope::Sector => b"s".to_vec(),
        Scope::Operator(operator) => {
            let mut value = b"o".to_vec();
            value.extend_from_slice(operator.as_str().as_bytes());
            value
        }
    }
}

/// The scope a `scopes` value holds; `None` for a value no store writes.
pub(crate) fn decode_scope(value: &[u8]) -> Option<Scope> {
    match value {
        b"r" => Some(Scope::Registry),
        b"s" => Some(Scope::Sector),
        [b'o', operator @ ..] => std::str::from_utf8(operator)
            .ok()
            .and_then(|text| Slug::try_new(text).ok())
            .map(Scope::Operator),
        _ => None,
    }
}

/// The `by_kpi` key prefix of an operator and KPI.
pub(crate) fn kpi_prefix(operator: &str, kpi: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(operator.len() + kpi.len() + 2);
    key.extend_from_slice(operator.as_bytes());
    key.push(0);
    key.extend_from_slice(kpi.as_bytes());
    key.push(0);
    key
}

/// A sled error, or a malformed value, behind a [`MerkleError::Read`].
#[derive(Debug, thiserror::Error)]
#[error("stored hash {index}: {reason}")]
pub(crate) struct HashReadError {
    index: u64,
    reason: String,
}

/// Reads stored hashes from the `hashes` tree.
#[derive(Clone, Copy)]
pub(crate) struct SledHashes<'a>(pub(crate) &'a sled::Tree);

impl HashReader for SledHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        indexes
            .iter()
            .map(|&index| {
                let value = self
                    .0
                    .get(index.to_be_bytes())
                    .map_err(|e| MerkleError::Read {
                        source: Box::new(HashReadError {
                            index,
                            reason: e.to_string(),
                        }),
                    })?
                    .ok_or(MerkleError::MissingStoredHash { index })?;
                Hash::try_from_slice(&value).map_err(|_| MerkleError::Read {
                    source: Box::new(HashReadError {
                        index,
                        reason: "not 32 bytes".into(),
                    }),
                })
            })
            .collect()
    }
}

/// Stored hashes on disk below `start`, and not yet written ones from `start` on.
pub(crate) struct OverlayHashes<'a> {
    pub(crate) disk: SledHashes<'a>,
    pub(crate) start: u64,
    pub(crate) pending: &'a [Hash],
}

impl HashReader for OverlayHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        indexes
            .iter()
            .map(|&index| {
                if index < self.start {
                    self.disk
                        .read_hashes(&[index])?
                        .pop()
                        .ok_or(MerkleError::MissingStoredHash { index })
                } else {
                    usize::try_from(index - self.start)
                        .ok()
                        .and_then(|i| self.pending.get(i))
                        .copied()
                        .ok_or(MerkleError::MissingStoredHash { index })
                }
            })
            .collect()
    }
}

/// The lowest level of the stored hashes also kept in memory ([`UpperHashes`]): those of
/// complete subtrees of at least 2^8 leaves, about one for every 128 entries.
pub(crate) const UPPER_LEVEL: u32 = 8;

/// The stored hashes of levels [`UPPER_LEVEL`] and up, by stored-hash index, kept in memory,
/// so that a proof reads from sled only the hashes of the lower levels (at most about
/// `UPPER_LEVEL` per subtree it walks) whatever the log's size. Read once on open
/// (`O(n / 2^UPPER_LEVEL)` reads), then filled by the sequencer as batches commit; a hash not
/// found here is read from sled.
#[derive(Debug, Default)]
pub(crate) struct UpperHashes(std::sync::RwLock<HashMap<u64, Hash>>);

impl UpperHashes {
    /// Those of a log of `size` leaves, read from the `hashes` tree.
    pub(crate) fn load(hashes: &sled::Tree, size: u64) -> Result<Self, StoreError> {
        let mut upper = HashMap::new();
        let disk = SledHashes(hashes);
        for level in UPPER_LEVEL..64 {
            let complete = size >> level;
            if complete == 0 {
                break;
            }
            let level = u8::try_from(level).unwrap_or(u8::MAX);
            let indexes: Vec<u64> = (0..complete).map(|n| stored_hash_index(level, n)).collect();
            let read = disk.read_hashes(&indexes).map_err(merkle_corruption)?;
            upper.extend(indexes.into_iter().zip(read));
        }
        Ok(UpperHashes(std::sync::RwLock::new(upper)))
    }

    /// Keeps those of `hashes`, the stored hashes that leaves `start..` wrote, in order.
    pub(crate) fn extend(&self, start: u64, hashes: &[Hash]) {
        let mut upper = self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut rest = hashes;
        let mut seq = start;
        while !rest.is_empty() {
            // Leaf `seq` writes its own hash and one per subtree it completes.
            let count = usize::try_from(seq.trailing_ones() + 1).unwrap_or(usize::MAX);
            let (written, after) = rest.split_at(count.min(rest.len()));
            for (level, hash) in written.iter().enumerate().skip(UPPER_LEVEL as usize) {
                let level = u8::try_from(level).unwrap_or(u8::MAX);
                upper.insert(stored_hash_index(level, seq >> level), *hash);
            }
            rest = after;
            seq = seq.saturating_add(1);
        }
    }

    /// Calls `read` with a reader of stored hashes that looks here first, then in `hashes`.
    pub(crate) fn with_reader<T>(
        &self,
        hashes: &sled::Tree,
        read: impl FnOnce(&CachedHashes<'_>) -> T,
    ) -> T {
        self.with_batch_reader(hashes, &BatchHashes::default(), read)
    }

    /// [`UpperHashes::with_reader`] that looks first in `batch`, the stored hashes a committed
    /// batch wrote: the proofs of that batch's receipts find most of their lower levels there
    /// instead of each reading them from sled.
    pub(crate) fn with_batch_reader<T>(
        &self,
        hashes: &sled::Tree,
        batch: &BatchHashes,
        read: impl FnOnce(&CachedHashes<'_>) -> T,
    ) -> T {
        let upper = self
            .0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        read(&CachedHashes {
            batch,
            upper: &upper,
            disk: Some(SledHashes(hashes)),
        })
    }
}

/// The stored hashes that one committed batch wrote, from stored-hash index `start` on, in
/// order, and those of the complete subtrees left of its first leaf below [`UPPER_LEVEL`]
/// (`before`): the same bytes as in the `hashes` tree, kept in memory for the batch's
/// receipts. A receipt's proof (in the tree its batch's checkpoint signs) needs no other
/// stored hash but those of [`UpperHashes`]: its right siblings are subtrees of the batch, its
/// left siblings subtrees of the batch or the subtrees that make up the log before it.
#[derive(Debug, Default)]
pub(crate) struct BatchHashes {
    pub(crate) start: u64,
    pub(crate) hashes: Vec<Hash>,
    pub(crate) before: Vec<(u64, Hash)>,
}

impl BatchHashes {
    /// Those of a batch whose first leaf is `first` and whose stored hashes, from index
    /// `start` on, are `hashes`; the roots of the subtrees before it are read with `reader`
    /// (one per set bit of `first`: those of [`UpperHashes`] from memory, at most
    /// [`UPPER_LEVEL`] others from sled).
    pub(crate) fn new(
        first: u64,
        start: u64,
        hashes: Vec<Hash>,
        reader: &impl HashReader,
    ) -> Result<Self, MerkleError> {
        let indexes = perfect_subtree_indexes(first);
        let read = reader.read_hashes(&indexes)?;
        Ok(BatchHashes {
            start,
            hashes,
            before: indexes.into_iter().zip(read).collect(),
        })
    }

    fn get(&self, index: u64) -> Option<Hash> {
        if let Some(offset) = index
            .checked_sub(self.start)
            .and_then(|offset| usize::try_from(offset).ok())
        {
            return self.hashes.get(offset).copied();
        }
        self.before
            .iter()
            .find(|(stored, _)| *stored == index)
            .map(|(_, hash)| *hash)
    }
}

/// Stored hashes from a committed batch's own, then from [`UpperHashes`] where it holds them,
/// else from sled.
pub(crate) struct CachedHashes<'a> {
    batch: &'a BatchHashes,
    upper: &'a HashMap<u64, Hash>,
    /// `None` reads nothing from sled: a hash not held in memory is missing.
    disk: Option<SledHashes<'a>>,
}

impl HashReader for CachedHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        indexes
            .iter()
            .map(|&index| {
                let held = self
                    .batch
                    .get(index)
                    .or_else(|| self.upper.get(&index).copied());
                match (held, &self.disk) {
                    (Some(hash), _) => Ok(hash),
                    (None, Some(disk)) => disk
                        .read_hashes(&[index])?
                        .pop()
                        .ok_or(MerkleError::MissingStoredHash { index }),
                    (None, None) => Err(MerkleError::MissingStoredHash { index }),
                }
            })
            .collect()
    }
}

/// Maps a Merkle error while reading the store's own hashes to the corruption it shows.
pub(crate) fn merkle_corruption(error: MerkleError) -> StoreError {
    match error {
        MerkleError::MissingStoredHash { index } => Corruption::MissingStoredHash { index }.into(),
        other => StoreError::Proof(other),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use hisaab_log::merkle::{self, stored_hash_count};
    use hisaab_testkit::fixture;

    use super::*;
    use crate::config::StoreConfig;
    use crate::store::testing::{fixture_store, register_operators};
    use crate::store::Store;

    #[test]
    fn a_batch_proves_its_own_leaves_from_its_hashes_and_the_upper_ones_alone() {
        let dir = tempfile::tempdir().unwrap();
        let config = StoreConfig {
            snapshot_every: 1 << 20,
            ..StoreConfig::default()
        };
        let (store, _clock) = fixture_store(dir.path(), config);
        register_operators(&store, 299);
        assert_eq!(store.size(), 300);
        let shared = store.shared().unwrap();
        let sled = SledHashes(&shared.trees.hashes);
        let upper = upper_of(&store);
        // Batches of leaves first..end, across the first subtree of 2^8 and inside others.
        for (first, end) in [
            (0, 1),
            (1, 2),
            (1, 64),
            (3, 9),
            (64, 128),
            (100, 164),
            (200, 256),
            (255, 257),
            (256, 300),
            (257, 290),
            (299, 300),
        ] {
            let start = stored_hash_count(first);
            let indexes: Vec<u64> = (start..stored_hash_count(end)).collect();
            let hashes = sled.read_hashes(&indexes).unwrap();
            let batch = BatchHashes::new(first, start, hashes, &sled).unwrap();
            // A reader that reads nothing from sled.
            let reader = CachedHashes {
                batch: &batch,
                upper: &upper,
                disk: None,
            };
            for leaf in first..end {
                assert_eq!(
                    merkle::inclusion_proof(leaf, end, &reader).unwrap(),
                    merkle::inclusion_proof(leaf, end, &sled).unwrap(),
                    "leaf {leaf} of the batch {first}..{end}"
                );
            }
        }
    }

    fn upper_of(store: &Store) -> HashMap<u64, Hash> {
        let shared = store.shared().unwrap();
        let upper = shared.upper.0.read().unwrap().clone();
        upper
    }

    #[test]
    fn proofs_from_the_upper_hashes_in_memory_are_the_proofs_from_sled() {
        let dir = tempfile::tempdir().unwrap();
        let config = StoreConfig {
            batch_entries_max: 64,
            snapshot_every: 1 << 20,
            ..StoreConfig::default()
        };
        let (store, clock) = fixture_store(dir.path(), config.clone());
        register_operators(&store, 780);
        let size = store.size();
        assert_eq!(size, 781);
        // Complete subtrees of 2^8 leaves and up: three at level 8, one at level 9.
        let filled = upper_of(&store);
        assert_eq!(filled.len(), 4);
        let check = |store: &Store| {
            let shared = store.shared().unwrap();
            let sled = SledHashes(&shared.trees.hashes);
            for (index, tree_size) in [(0, 781), (255, 256), (300, 781), (512, 700), (780, 781)] {
                assert_eq!(
                    store.inclusion_proof(index, tree_size).unwrap(),
                    merkle::inclusion_proof(index, tree_size, &sled).unwrap()
                );
            }
            for (from, to) in [(1, 781), (256, 512), (300, 781), (700, 781)] {
                assert_eq!(
                    store.consistency_proof(from, to).unwrap(),
                    merkle::consistency_proof(from, to, &sled).unwrap()
                );
            }
            assert_eq!(
                store.root(size).unwrap(),
                merkle::tree_root(size, &sled).unwrap()
            );
        };
        check(&store);
        store.close().unwrap();
        drop(store);
        // Read back on open: the same hashes as the sequencer kept.
        let store = Store::open(dir.path(), fixture::log_key(), config, clock).unwrap();
        assert_eq!(upper_of(&store), filled);
        check(&store);
    }
}
