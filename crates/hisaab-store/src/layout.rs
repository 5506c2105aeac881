//! The on-disk layout: the entries (with their scopes) and the stored hashes in append-only
//! files (`crate::files`), the index from event hash and statement id to seq in sorted runs
//! (`crate::index`), and one sled database beside them with one tree per kind of record.
//!
//! | tree | key | value |
//! |---|---|---|
//! | `by_kpi` | operator, 0x00, KPI, 0x00, seq BE (every entry about the pair, references followed) | empty |
//! | `checkpoints` | tree size, u64 BE | the signed note, with cosignatures collected for it |
//! | `snapshots` | tree size, u64 BE | SHA-256(record) ‖ record: the ids of the snapshot's chunks (`crate::chunks`), or, written before, the model's snapshot bytes whole |
//! | `chunks` | chunk id, 32 bytes | a chunk of one or more snapshots' model bytes, sealed when the store has a master key |
//! | `meta` | `format` | `hisaab-store/3` (`hisaab-store/2`: the event-hash and statement-id index was the sled trees `by_event` and `by_statement`, which `open` drops and indexes again from the entries; `hisaab-store/1`: the entries, stored hashes and scopes were the sled trees `entries`, `hashes` and `scopes` too, which `open` moves out, [`move_out_of_sled`]) |
//! | `openings` | seq, u64 BE | the entry's openings of sealed fields, encrypted (SPEC §12.10; `crate::openings`) |
//!
//! Big-endian keys sort numerically, so the latest checkpoint and the nearest snapshot at or
//! below a size are one ordered lookup each (O(log n)); an entry, its scope and a stored hash
//! are found at their offsets in the files (O(1)); an event hash or statement id costs a
//! filter probe in each of the O(log n) index runs and, where one lets it through, a block read.

use std::collections::HashMap;

use hisaab_log::merkle::{
    leaf_hash, perfect_subtree_indexes, stored_hash_index, HashReader, MerkleError,
};
use hisaab_log::note::{verify_checkpoint, Checkpoint, VerifierKey};
use hisaab_log::{Hash, SealedEntry};
use hisaab_model::view::Scope;
use hisaab_model::Slug;
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};

use crate::error::{Corruption, StoreError};
use crate::files::{decode_u64, Access, FileHashes, LogFiles, Stored};
use crate::index::{event_key, statement_key, EntryIndex};
use crate::openings::{MasterKey, OpeningsVault, OPENINGS_TREE};

/// The value of `meta/format`.
pub(crate) const FORMAT: &[u8] = b"hisaab-store/3";
/// The value of `meta/format` of a store whose event-hash and statement-id index is in sled.
const FORMAT_INDEX_IN_SLED: &[u8] = b"hisaab-store/2";
/// The value of `meta/format` of a store whose entries and stored hashes are in sled.
const FORMAT_IN_SLED: &[u8] = b"hisaab-store/1";
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

/// The `meta` key of the size up to which `hisaab-entry-ends` and `hisaab-hashes` are synced
/// (u64 big-endian): a batch syncs only `hisaab-entries`, and those two files every
/// [`INDEX_SYNC_ENTRIES`] entries and on close, which remove the key. Absent, both are
/// synced to the log's size (as an earlier version, which synced all three files with every
/// batch, leaves them).
pub(crate) const INDEX_SYNCED_KEY: &[u8] = b"index-synced";

/// The prefix of the `meta` keys under which a batch whose entry ends were not synced keeps
/// them: `ends` followed by the batch's first seq, big-endian, holding its ends as
/// `hisaab-entry-ends` does. Removed in the transaction that records them synced.
pub(crate) const ENDS_PREFIX: &[u8] = b"ends";

/// How many entries may have their ends and stored hashes unsynced: the most a reopen after a
/// crash rebuilds.
pub(crate) const INDEX_SYNC_ENTRIES: u64 = 4096;

/// The `meta` key of the unsynced ends of the batch starting at `first`.
pub(crate) fn ends_key(first: u64) -> Vec<u8> {
    let mut key = ENDS_PREFIX.to_vec();
    key.extend_from_slice(&first.to_be_bytes());
    key
}

/// Records in `writes` that the entry ends and stored hashes are synced up to the log's size:
/// [`INDEX_SYNCED_KEY`] goes (absent, it says everything is synced, which is what an earlier
/// version, which does not know it, leaves too), and with it the ends that the batches
/// starting at `firsts` kept in `meta`.
pub(crate) fn record_index_synced(writes: &mut Writes, firsts: impl IntoIterator<Item = u64>) {
    writes.meta.remove(INDEX_SYNCED_KEY);
    for first in firsts {
        writes.meta.remove(ends_key(first));
    }
}

/// The trees of one store.
#[derive(Clone, Debug)]
pub(crate) struct Trees {
    pub(crate) db: sled::Db,
    /// The entries and stored hashes.
    pub(crate) files: std::sync::Arc<LogFiles>,
    /// Event hash and statement id to seq.
    pub(crate) index: std::sync::Arc<EntryIndex>,
    pub(crate) by_kpi: sled::Tree,
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
    pub(crate) by_kpi: sled::Batch,
    pub(crate) checkpoints: sled::Batch,
    pub(crate) snapshots: sled::Batch,
    pub(crate) chunks: sled::Batch,
    pub(crate) meta: sled::Batch,
    pub(crate) openings: sled::Batch,
}

impl Trees {
    /// Opens (creating if needed) the trees of the database in `dir` and the entry files and
    /// index runs beside it. A store of the earliest layout, its entries in sled, is
    /// [`StoreError::EarlierLayout`] opened [`Access::ReadOnly`]; opened [`Access::ReadWrite`],
    /// `open` moves its entries out ([`move_out_of_sled`]). One whose index was in sled is read
    /// as it is (the audit checks the index only where runs hold it).
    pub(crate) fn open(
        db: sled::Db,
        dir: &std::path::Path,
        access: Access,
        config: &crate::config::StoreConfig,
    ) -> Result<Self, StoreError> {
        let open = |name: &str| {
            db.open_tree(name)
                .map_err(StoreError::sled("opening a tree"))
        };
        let meta = open("meta")?;
        let format = meta
            .get(FORMAT_KEY)
            .map_err(StoreError::sled("reading the format marker"))?;
        match (format.as_deref(), access) {
            (Some(FORMAT_IN_SLED), Access::ReadOnly) => {
                return Err(StoreError::EarlierLayout {
                    path: dir.to_owned(),
                    found: String::from_utf8_lossy(FORMAT_IN_SLED).into_owned(),
                })
            }
            (format, Access::ReadOnly)
                if format != Some(FORMAT) && format != Some(FORMAT_INDEX_IN_SLED) =>
            {
                return Err(StoreError::NotAStore {
                    path: dir.to_owned(),
                })
            }
            _ => {}
        }
        let index = EntryIndex::open(dir, access, config.index_run_entries)?;
        Ok(Trees {
            files: std::sync::Arc::new(LogFiles::open(dir, access)?),
            index: std::sync::Arc::new(index),
            by_kpi: open("by_kpi")?,
            checkpoints: open("checkpoints")?,
            snapshots: open("snapshots")?,
            chunks: open("chunks")?,
            meta,
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
            &self.by_kpi,
            &self.checkpoints,
            &self.snapshots,
            &self.chunks,
            &self.meta,
            &self.openings,
        ];
        let batches = [
            &writes.by_kpi,
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

    /// The raw leaf bytes at `seq`, if stored.
    pub(crate) fn entry_bytes(&self, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.files.entry(seq)?.map(|stored| stored.leaf))
    }

    /// Entries `from..to` that the files hold, in order, with their scopes.
    pub(crate) fn entries(
        &self,
        from: u64,
        to: u64,
    ) -> impl Iterator<Item = Result<Stored, StoreError>> + '_ {
        self.files.entries(from, to)
    }

    /// A reader of the stored hashes.
    pub(crate) fn hashes(&self) -> FileHashes<'_> {
        FileHashes(&self.files)
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
        self.files
            .stored_hash(index)?
            .ok_or(Corruption::MissingStoredHash { index }.into())
    }

    /// Entry `seq`'s stored leaf hash (its event hash).
    pub(crate) fn stored_leaf_hash(&self, seq: u64) -> Result<Hash, StoreError> {
        self.stored_hash(stored_hash_index(0, seq))
    }

    /// Entry `seq`'s leaf hash, computed from its bytes, is the stored one; otherwise
    /// [`Corruption::LeafHashMismatch`].
    pub(crate) fn check_leaf(&self, seq: u64, computed: Hash) -> Result<(), StoreError> {
        let stored = self.stored_leaf_hash(seq)?;
        if stored != computed {
            return Err(Corruption::LeafHashMismatch {
                seq,
                stored,
                computed,
            }
            .into());
        }
        Ok(())
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

    /// The size up to which the entry ends and stored hashes are synced ([`INDEX_SYNCED_KEY`]),
    /// `None` when not recorded.
    pub(crate) fn index_synced(&self) -> Result<Option<u64>, StoreError> {
        let Some(value) = self
            .meta
            .get(INDEX_SYNCED_KEY)
            .map_err(StoreError::sled("reading the synced size"))?
        else {
            return Ok(None);
        };
        decode_u64(&value)
            .map(Some)
            .ok_or(Corruption::BadRecord { tree: "meta" }.into())
    }

    /// The unsynced batches' ends ([`ENDS_PREFIX`]) from seq `from` on: first seq and ends.
    pub(crate) fn unsynced_ends(&self, from: u64) -> Result<Vec<(u64, sled::IVec)>, StoreError> {
        let mut out = Vec::new();
        for item in self.meta.range(ends_key(from)..) {
            let (key, value) = item.map_err(StoreError::sled("reading unsynced ends"))?;
            let Some(first) = key.strip_prefix(ENDS_PREFIX) else {
                break;
            };
            let first = decode_u64(first).ok_or(Corruption::BadRecord { tree: "meta" })?;
            out.push((first, value));
        }
        Ok(out)
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

    /// The seq of the entry whose event hash is `hash`, among those indexed: each candidate
    /// of its key compared by its stored leaf hash (so that an entry whose bytes are damaged
    /// is still found, and reading it names the damage).
    pub(crate) fn seq_of_event(&self, hash: &Hash) -> Result<Option<u64>, StoreError> {
        for seq in self.index.candidates(event_key(hash))? {
            if self.stored_leaf_hash(seq)? == *hash {
                return Ok(Some(seq));
            }
        }
        Ok(None)
    }

    /// The seq of the entry holding statement `id`, among those indexed: each candidate of
    /// its key read, checked against its stored leaf hash (damage is named, not taken for
    /// another id), and its id compared.
    pub(crate) fn seq_of_statement(&self, id: &str) -> Result<Option<u64>, StoreError> {
        for seq in self.index.candidates(statement_key(id))? {
            if let Some(stored) = self.files.entry(seq)? {
                self.check_leaf(seq, leaf_hash(&stored.leaf))?;
                if statement_id(seq, &stored.leaf)? == id {
                    return Ok(Some(seq));
                }
            }
        }
        Ok(None)
    }
}

/// The statement id in the leaf bytes of entry `seq`, read alone (the rest skipped).
pub(crate) fn statement_id(seq: u64, bytes: &[u8]) -> Result<&str, StoreError> {
    #[derive(serde::Deserialize)]
    struct Leaf<'a> {
        #[serde(borrow)]
        statement: Statement<'a>,
    }
    #[derive(serde::Deserialize)]
    struct Statement<'a> {
        #[serde(borrow)]
        id: &'a str,
    }
    match serde_json::from_slice::<Leaf<'_>>(bytes) {
        Ok(leaf) => Ok(leaf.statement.id),
        // Bytes whose leaf hash is the stored one read this way; anything else says what is
        // wrong through the full parse.
        Err(_) => Err(match parse_entry(seq, bytes) {
            Err(error) => error,
            Ok(_) => Corruption::BadRecord { tree: "entries" }.into(),
        }),
    }
}

/// The sled trees of the earlier layouts: the entries, the stored hashes and the scopes, and
/// the event-hash and statement-id index.
const TREES_IN_SLED: [&str; 5] = ["entries", "hashes", "scopes", "by_event", "by_statement"];

/// Whether `format` is the earliest layout's marker (the entries in sled).
pub(crate) fn is_earlier_layout(format: Option<&[u8]>) -> bool {
    format == Some(FORMAT_IN_SLED)
}

/// Whether `format` is the marker of the layout whose index was in sled.
pub(crate) fn is_index_in_sled(format: Option<&[u8]>) -> bool {
    format == Some(FORMAT_INDEX_IN_SLED)
}

/// Marks the store as of the current layout, then drops the sled trees of the earlier ones:
/// a crash between the two leaves the trees, dropped on the next open.
pub(crate) fn mark_current_layout(trees: &Trees) -> Result<(), StoreError> {
    trees
        .meta
        .insert(FORMAT_KEY, FORMAT)
        .map_err(StoreError::sled("marking the store's layout"))?;
    trees.flush()?;
    drop_sled_entries(&trees.db)
}

/// Moves the entries and stored hashes of a store of the earlier layout out of sled into the
/// files, each entry with its scope computed again by folding the log (stores written before
/// the scope index existed had none), and answers how many entries it moved. The files are
/// written whole from empty and synced, then the format marker is set and flushed, then the
/// trees are dropped: a crash before the marker is flushed leaves the earlier layout, moved
/// again on the next open; one after it leaves the trees, dropped on the next open. A gap in
/// either tree, or an entry that does not parse, is named (its seq or stored-hash index) and
/// nothing is moved: what follows a gap would be lost with the trees.
pub(crate) fn move_out_of_sled(trees: &Trees) -> Result<u64, StoreError> {
    let files = &trees.files;
    files.truncate(0, 0)?;
    let open = |name| {
        trees
            .db
            .open_tree(name)
            .map_err(StoreError::sled("opening a tree"))
    };
    let mut scopes = hisaab_model::Scopes::new();
    let records = open("entries")?.iter().zip(0u64..).map(|(item, seq)| {
        let (key, leaf) = item.map_err(StoreError::sled("reading the entries to move"))?;
        if decode_u64(&key) != Some(seq) {
            let size = decode_u64(&key).map_or(seq, |found| found.saturating_add(1));
            return Err(Corruption::MissingEntry { seq, size }.into());
        }
        let scope = encode_scope(&scopes.push(&parse_entry(seq, &leaf)?));
        Ok((leaf, scope))
    });
    let moved = in_blocks(records, |first, block: &[(sled::IVec, Vec<u8>)]| {
        let records: Vec<(&[u8], &[u8])> = block
            .iter()
            .map(|(leaf, scope)| (&leaf[..], scope.as_slice()))
            .collect();
        files.append(first, &records, 0, &[])
    })?;
    let hashes = open("hashes")?.iter().zip(0u64..).map(|(item, index)| {
        let (key, value) = item.map_err(StoreError::sled("reading the stored hashes to move"))?;
        Hash::try_from_slice(&value)
            .ok()
            .filter(|_| decode_u64(&key) == Some(index))
            .ok_or(Corruption::MissingStoredHash { index }.into())
    });
    in_blocks(hashes, |first, block| {
        files.append(moved, &[], first, block)
    })?;
    mark_current_layout(trees)?;
    Ok(moved)
}

/// Hands `items` to `write` in blocks of 4,096, each with the index of its first item, and
/// answers how many there were; the first error of either ends it.
fn in_blocks<T>(
    items: impl Iterator<Item = Result<T, StoreError>>,
    mut write: impl FnMut(u64, &[T]) -> Result<(), StoreError>,
) -> Result<u64, StoreError> {
    const BLOCK: usize = 4096;
    let mut block = Vec::with_capacity(BLOCK);
    let mut first = 0u64;
    for item in items {
        block.push(item?);
        if block.len() == BLOCK {
            write(first, &block)?;
            first += BLOCK as u64;
            block.clear();
        }
    }
    write(first, &block)?;
    Ok(first + block.len() as u64)
}

/// Drops the sled trees of the earlier layouts, where left.
pub(crate) fn drop_sled_entries(db: &sled::Db) -> Result<(), StoreError> {
    let names = db.tree_names();
    let mut dropped = false;
    for name in TREES_IN_SLED {
        if names.iter().any(|tree| &tree[..] == name.as_bytes()) {
            db.drop_tree(name)
                .map_err(StoreError::sled("dropping a tree of the earlier layout"))?;
            dropped = true;
        }
    }
    if dropped {
        db.flush().map_err(StoreError::sled("flushing"))?;
    }
    Ok(())
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

/// Stored hashes on disk below `start`, and not yet written ones from `start` on.
pub(crate) struct OverlayHashes<'a> {
    pub(crate) disk: FileHashes<'a>,
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
/// so that a proof reads from the hashes file only the hashes of the lower levels (at most about
/// `UPPER_LEVEL` per subtree it walks) whatever the log's size. Read once on open
/// (`O(n / 2^UPPER_LEVEL)` reads), then filled by the sequencer as batches commit; a hash not
/// found here is read from the hashes file.
#[derive(Debug, Default)]
pub(crate) struct UpperHashes(std::sync::RwLock<HashMap<u64, Hash>>);

impl UpperHashes {
    /// Those of a log of `size` leaves, read from the `hashes` tree.
    pub(crate) fn load(hashes: &LogFiles, size: u64) -> Result<Self, StoreError> {
        let mut upper = HashMap::new();
        let disk = FileHashes(hashes);
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
        hashes: &LogFiles,
        read: impl FnOnce(&CachedHashes<'_>) -> T,
    ) -> T {
        self.with_batch_reader(hashes, &BatchHashes::default(), read)
    }

    /// [`UpperHashes::with_reader`] that looks first in `batch`, the stored hashes a committed
    /// batch wrote: the proofs of that batch's receipts find most of their lower levels there
    /// instead of each reading them from the hashes file.
    pub(crate) fn with_batch_reader<T>(
        &self,
        hashes: &LogFiles,
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
            disk: Some(FileHashes(hashes)),
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
    /// [`UPPER_LEVEL`] others from the hashes file).
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
/// else from the hashes file.
pub(crate) struct CachedHashes<'a> {
    batch: &'a BatchHashes,
    upper: &'a HashMap<u64, Hash>,
    /// `None` reads nothing from the file: a hash not held in memory is missing.
    disk: Option<FileHashes<'a>>,
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
    use crate::store::testing::{fixture_store, register_operators, unsnapshotted};
    use crate::store::Store;

    #[test]
    fn a_batch_proves_its_own_leaves_from_its_hashes_and_the_upper_ones_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _clock) = fixture_store(dir.path(), unsnapshotted());
        register_operators(&store, 299);
        assert_eq!(store.size(), 300);
        let shared = store.shared().unwrap();
        let file = FileHashes(&shared.trees.files);
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
            let hashes = file.read_hashes(&indexes).unwrap();
            let batch = BatchHashes::new(first, start, hashes, &file).unwrap();
            // A reader that reads nothing from the file.
            let reader = CachedHashes {
                batch: &batch,
                upper: &upper,
                disk: None,
            };
            for leaf in first..end {
                assert_eq!(
                    merkle::inclusion_proof(leaf, end, &reader).unwrap(),
                    merkle::inclusion_proof(leaf, end, &file).unwrap(),
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
    fn proofs_from_the_upper_hashes_in_memory_are_the_proofs_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = StoreConfig {
            batch_entries_max: 64,
            ..unsnapshotted()
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
            let file = FileHashes(&shared.trees.files);
            for (index, tree_size) in [(0, 781), (255, 256), (300, 781), (512, 700), (780, 781)] {
                assert_eq!(
                    store.inclusion_proof(index, tree_size).unwrap(),
                    merkle::inclusion_proof(index, tree_size, &file).unwrap()
                );
            }
            for (from, to) in [(1, 781), (256, 512), (300, 781), (700, 781)] {
                assert_eq!(
                    store.consistency_proof(from, to).unwrap(),
                    merkle::consistency_proof(from, to, &file).unwrap()
                );
            }
            assert_eq!(
                store.root(size).unwrap(),
                merkle::tree_root(size, &file).unwrap()
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
