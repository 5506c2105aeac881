//! Reading a [`Store`]: receipts, checkpoints, entries (each checked against its stored leaf
//! hash), proofs from stored hashes, the state of SPEC §5 and the history of a KPI.

use hisaab_log::merkle::{self, leaf_hash};
use hisaab_log::note::Checkpoint;
use hisaab_log::{Date, Hash, SealedEntry, StatementId};
use hisaab_model::view::Scope;
use hisaab_model::{Ledger, State};

use crate::error::{Corruption, StoreError};
use crate::files::decode_u64;
use crate::layout::{decode_scope, kpi_prefix, merkle_corruption, BatchHashes};
use crate::replay::{ledger_at, state_at};
use crate::report::{Receipt, SignedCheckpoint};
use crate::store::Store;

/// The most entries [`Store::entries`] returns at once.
pub const ENTRIES_LIMIT_MAX: u64 = 1000;

impl Store {
    /// The receipt of entry `seq` exactly as its appender got it: the checkpoint signed for the
    /// batch that appended it and the inclusion proof for that size.
    ///
    /// # Errors
    /// [`StoreError::BeyondLog`] unless `seq < size`; storage and corruption errors.
    pub fn receipt(&self, seq: u64) -> Result<Receipt, StoreError> {
        let shared = self.shared()?;
        let committed = shared.committed();
        let sealed = self.entry(seq)?.ok_or(StoreError::BeyondLog {
            what: "seq",
            value: seq,
            size: committed.size,
        })?;
        // The batch that appended the entry ended at `size`; its callers got the checkpoint
        // signed for that size (Ed25519 is deterministic, so signing it again gives the same
        // note) and a proof for that size. Stores written before batches were marked fall back
        // to the latest checkpoint.
        let (checkpoint, size) = match shared.trees.batch_end_covering(seq)? {
            Some(size) if size <= committed.size && size > seq => {
                let checkpoint = Checkpoint {
                    origin: shared.origin.clone(),
                    size,
                    root: self.root(size)?,
                };
                (checkpoint.sign(&shared.log_key)?, size)
            }
            _ => (committed.latest.note, committed.latest.checkpoint.size),
        };
        Ok(Receipt {
            seq,
            event_hash: sealed.event_hash(),
            recorded_at: sealed.entry().recorded_at.clone(),
            checkpoint,
            inclusion_proof: self.inclusion_proof(seq, size)?,
        })
    }

    /// A kept checkpoint for `size` (the latest and a few before it), with its cosignatures.
    ///
    /// # Errors
    /// Storage errors, and [`StoreError::Note`] for a kept note that does not verify.
    pub fn checkpoint_at(&self, size: u64) -> Result<Option<SignedCheckpoint>, StoreError> {
        let Some(note) = self
            .shared()?
            .trees
            .checkpoints
            .get(size.to_be_bytes())
            .map_err(StoreError::sled("reading a checkpoint"))?
        else {
            return Ok(None);
        };
        let note = String::from_utf8(note.to_vec()).map_err(|_| Corruption::Checkpoint {
            reason: format!("the note for size {size} is not UTF-8"),
        })?;
        let checkpoint = hisaab_log::note::verify_checkpoint(&note, &self.shared()?.log_vkey)?;
        Ok(Some(SignedCheckpoint { note, checkpoint }))
    }

    /// The entry at `seq`, checked against its stored leaf hash; `None` beyond the log.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when the stored entry is missing, unreadable, misplaced or does
    /// not hash to its stored leaf hash; storage errors.
    pub fn entry(&self, seq: u64) -> Result<Option<SealedEntry>, StoreError> {
        let size = self.size();
        if seq >= size {
            return Ok(None);
        }
        let sealed = self.shared()?.trees.read_entry(seq, size)?;
        self.shared()?.trees.check_leaf(seq, sealed.event_hash())?;
        Ok(Some(sealed))
    }

    /// The openings kept for entry `seq` (SPEC §12.6), decrypted: `None` beyond the log, for
    /// an entry with no sealed field, or once erased (§12.9). Who may be given them is the
    /// caller's to decide (SPEC §13).
    ///
    /// # Errors
    /// [`StoreError::NoMasterKey`] for a store opened without its master key;
    /// [`StoreError::Openings`] for a record that does not decrypt for this entry; as
    /// [`Store::entry`].
    pub fn openings(&self, seq: u64) -> Result<Option<hisaab_log::seal::Openings>, StoreError> {
        if !self.keeps_openings() {
            return Err(StoreError::NoMasterKey);
        }
        let Some(sealed) = self.entry(seq)? else {
            return Ok(None);
        };
        self.kept_openings(&sealed)
    }

    /// The openings kept for `entry`, an entry of this store (as [`Store::entries`] read it),
    /// decrypted, for a replay of the full state beside the store's own: `None` for a store
    /// opened without its master key (the replay is then the public's, SPEC §12.8), for an
    /// entry with no sealed field, or once erased.
    ///
    /// # Errors
    /// [`StoreError::Openings`] for a record that does not decrypt for this entry; storage
    /// errors.
    pub fn kept_openings(
        &self,
        entry: &SealedEntry,
    ) -> Result<Option<hisaab_log::seal::Openings>, StoreError> {
        self.kept_openings_at(entry.entry().seq, &entry.event_hash())
    }

    /// [`Store::kept_openings`] of the entry at `seq` whose event hash is `event_hash`, for a
    /// caller that read its leaf bytes ([`Store::entry_bytes`]) rather than the parsed entry.
    ///
    /// # Errors
    /// As [`Store::kept_openings`].
    pub fn kept_openings_at(
        &self,
        seq: u64,
        event_hash: &Hash,
    ) -> Result<Option<hisaab_log::seal::Openings>, StoreError> {
        self.shared()?.trees.openings_of(seq, event_hash)
    }

    /// The openings file (SPEC §12.6) of the first `size` entries, holding the openings of
    /// each entry that `may_open` allows given its scope (SPEC §13.4), in ascending seq. Reads only the entries that have openings kept.
    ///
    /// # Errors
    /// [`StoreError::BeyondLog`] for a size of 0 or past the log; [`StoreError::NoMasterKey`]
    /// for a store opened without its master key; [`StoreError::Openings`] for a record that
    /// does not decrypt; storage errors.
    pub fn openings_file(
        &self,
        size: u64,
        may_open: impl Fn(&Scope, &SealedEntry) -> bool,
    ) -> Result<hisaab_log::seal::OpeningsFile, StoreError> {
        StoreError::check_in_log("tree_size", size, self.size())?;
        let trees = &self.shared()?.trees;
        if trees.vault.is_none() {
            return Err(StoreError::NoMasterKey);
        }
        let mut seqs = Vec::new();
        for item in trees.openings.range(0u64.to_be_bytes()..size.to_be_bytes()) {
            let (key, _) = item.map_err(StoreError::sled("listing openings"))?;
            // Records are keyed by seq (8 bytes); the check record's key is longer.
            if let Some(seq) = decode_u64(&key).filter(|_| key.len() == 8) {
                seqs.push(seq);
            }
        }
        let mut entries = Vec::with_capacity(seqs.len());
        for chunk in seqs.chunks(usize::try_from(ENTRIES_LIMIT_MAX).unwrap_or(1000)) {
            for (seq, scope) in chunk.iter().zip(self.scopes(chunk)?) {
                let Some(entry) = self.entry(*seq)? else {
                    continue;
                };
                if !may_open(&scope, &entry) {
                    continue;
                }
                if let Some(openings) = trees.openings_of(*seq, &entry.event_hash())? {
                    entries.push(openings);
                }
            }
        }
        let ledger = self
            .entry(0)?
            .map_or(Hash::ZERO, |genesis| genesis.event_hash());
        hisaab_log::seal::OpeningsFile::new(ledger, size, entries).map_err(|e| {
            StoreError::Openings(crate::openings::OpeningsError::Malformed {
                seq: 0,
                reason: e.to_string(),
            })
        })
    }

    /// The leaf bytes of entry `seq` exactly as stored (checked against the stored leaf hash);
    /// `None` beyond the log.
    ///
    /// # Errors
    /// As [`Store::entry`].
    pub fn entry_bytes(&self, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let size = self.size();
        if seq >= size {
            return Ok(None);
        }
        let trees = &self.shared()?.trees;
        let bytes = trees
            .entry_bytes(seq)?
            .ok_or(Corruption::MissingEntry { seq, size })?;
        trees.check_leaf(seq, leaf_hash(&bytes))?;
        Ok(Some(bytes))
    }

    /// The entry whose event hash is `event_hash`, if it is in the log.
    ///
    /// # Errors
    /// As [`Store::entry`], and [`Corruption::IndexRun`] when an index block read fails its
    /// checksum.
    pub fn entry_by_event_hash(
        &self,
        event_hash: &Hash,
    ) -> Result<Option<SealedEntry>, StoreError> {
        match self.shared()?.trees.seq_of_event(event_hash)? {
            Some(seq) => self.entry(seq),
            None => Ok(None),
        }
    }

    /// The entry holding the statement `id`, if it is in the log.
    ///
    /// # Errors
    /// As [`Store::entry_by_event_hash`].
    pub fn entry_by_statement_id(
        &self,
        id: &StatementId,
    ) -> Result<Option<SealedEntry>, StoreError> {
        match self.shared()?.trees.seq_of_statement(id.as_str())? {
            Some(seq) => self.entry(seq),
            None => Ok(None),
        }
    }

    /// Up to `limit` (at most [`ENTRIES_LIMIT_MAX`]) entries from `start`, each checked
    /// against its stored leaf hash.
    ///
    /// # Errors
    /// As [`Store::entry`].
    pub fn entries(&self, start: u64, limit: u64) -> Result<Vec<SealedEntry>, StoreError> {
        let end = start
            .saturating_add(limit.min(ENTRIES_LIMIT_MAX))
            .min(self.size());
        let mut entries = Vec::new();
        for seq in start..end {
            if let Some(sealed) = self.entry(seq)? {
                entries.push(sealed);
            }
        }
        Ok(entries)
    }

    /// The inclusion proof of leaf `index` in the tree of size `tree_size`, from `O(log n)`
    /// stored hashes.
    ///
    /// # Errors
    /// [`StoreError::BeyondLog`] when `tree_size` exceeds the log, [`StoreError::Proof`] unless
    /// `index < tree_size`, [`StoreError::Corrupt`] for a missing stored hash.
    pub fn inclusion_proof(&self, index: u64, tree_size: u64) -> Result<Vec<Hash>, StoreError> {
        self.batch_inclusion_proof(index, tree_size, &BatchHashes::default())
    }

    /// [`Store::inclusion_proof`] reading first the stored hashes that a committed batch wrote
    /// (a receipt's proof, in the tree its batch's checkpoint signs: the same hashes as on
    /// disk, without a sled read for each).
    pub(crate) fn batch_inclusion_proof(
        &self,
        index: u64,
        tree_size: u64,
        batch: &BatchHashes,
    ) -> Result<Vec<Hash>, StoreError> {
        self.check_tree_size(tree_size)?;
        if index >= tree_size {
            return Err(StoreError::Proof(
                hisaab_log::merkle::MerkleError::IndexOutOfRange {
                    index,
                    size: tree_size,
                },
            ));
        }
        let shared = self.shared()?;
        shared
            .upper
            .with_batch_reader(&shared.trees.files, batch, |hashes| {
                merkle::inclusion_proof(index, tree_size, hashes)
            })
            .map_err(merkle_corruption)
    }

    /// The consistency proof from tree size `from` to `to` (`1 <= from <= to <= size`).
    ///
    /// # Errors
    /// [`StoreError::BeyondLog`], [`StoreError::Proof`] for sizes with no proof,
    /// [`StoreError::Corrupt`] for a missing stored hash.
    pub fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, StoreError> {
        self.check_tree_size(to)?;
        if from == 0 || from > to {
            return Err(StoreError::Proof(
                hisaab_log::merkle::MerkleError::BadSizes { from, to },
            ));
        }
        let shared = self.shared()?;
        shared
            .upper
            .with_reader(&shared.trees.files, |hashes| {
                merkle::consistency_proof(from, to, hashes)
            })
            .map_err(merkle_corruption)
    }

    /// The Merkle root of the tree of size `tree_size`.
    ///
    /// # Errors
    /// [`StoreError::BeyondLog`], [`StoreError::Corrupt`] for a missing stored hash.
    pub fn root(&self, tree_size: u64) -> Result<Hash, StoreError> {
        self.check_tree_size(tree_size)?;
        let shared = self.shared()?;
        shared
            .upper
            .with_reader(&shared.trees.files, |hashes| {
                merkle::tree_root(tree_size, hashes)
            })
            .map_err(merkle_corruption)
    }

    fn check_tree_size(&self, tree_size: u64) -> Result<(), StoreError> {
        let size = self.size();
        if tree_size > size {
            return Err(StoreError::BeyondLog {
                what: "tree_size",
                value: tree_size,
                size,
            });
        }
        Ok(())
    }

    /// The state of SPEC §5 after the first `as_of` entries (default: all) at date `at`
    /// (default: the date of the last entry's `recorded_at`), from the nearest snapshot at or
    /// below `as_of` plus replay.
    ///
    /// # Errors
    /// [`StoreError::BeyondLog`] unless `1 <= as_of <= size`; [`StoreError::Corrupt`] when a
    /// stored entry does not replay.
    pub fn state(&self, as_of: Option<u64>, at: Option<Date>) -> Result<State, StoreError> {
        state_at(&self.shared()?.trees, self.size(), as_of, at)
    }

    /// The model's ledger after the first `as_of` entries (default: all), for the projections
    /// beside the state (the obligations of SPEC §11.4, the registers, trends and month-end
    /// series of `hisaab_model::report` that the web pages read): the nearest snapshot plus
    /// replay.
    ///
    /// # Errors
    /// As [`Store::state`].
    pub fn ledger(&self, as_of: Option<u64>) -> Result<Ledger, StoreError> {
        let size = self.size();
        let as_of = as_of.unwrap_or(size);
        StoreError::check_in_log("as_of", as_of, size)?;
        ledger_at(&self.shared()?.trees, as_of, None)
    }

    /// The ledger as recorded up to the end of `date`: the number of entries whose
    /// `recorded_at` falls on or before it (0 when none). `recorded_at` never decreases, so a
    /// binary search reads O(log n) entries.
    ///
    /// # Errors
    /// Storage errors; [`Corruption`] for a missing entry.
    pub fn size_at_date(&self, date: Date) -> Result<u64, StoreError> {
        let (mut low, mut high) = (0, self.size());
        while low < high {
            let middle = low + (high - low) / 2;
            let entry = self
                .entry(middle)?
                .ok_or(Corruption::BadRecord { tree: "entries" })?;
            if entry.entry().recorded_at.date() <= date {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        Ok(low)
    }

    /// The seqs of every entry about this operator and KPI, in log order: assignments,
    /// submissions, their evaluations, commitments and challenges naming the KPI, and disputes
    /// opened and resolved on those evaluations (see `Ledger::subject_of`).
    ///
    /// # Errors
    /// Storage errors; [`Corruption::BadRecord`] for a malformed index key.
    pub fn history(&self, operator: &str, kpi: &str) -> Result<Vec<u64>, StoreError> {
        let size = self.size();
        let prefix = kpi_prefix(operator, kpi);
        let mut seqs = Vec::new();
        for item in self.shared()?.trees.by_kpi.scan_prefix(&prefix) {
            let (key, _) = item.map_err(StoreError::sled("reading the KPI index"))?;
            let seq = key
                .get(prefix.len()..)
                .and_then(decode_u64)
                .ok_or(Corruption::BadRecord { tree: "by_kpi" })?;
            if seq < size {
                seqs.push(seq);
            }
        }
        Ok(seqs)
    }

    /// The scope for read access (SPEC §13.4) of each of `seqs`, each below the store's size,
    /// as the sequencer wrote it with the entry (checked against its checksum): O(1) each,
    /// whatever happened before the last restart.
    ///
    /// # Errors
    /// Storage errors; [`Corruption::BadRecord`] for a seq at or beyond the size;
    /// [`Corruption::EntryFiles`] for a scope that fails its checksum, [`Corruption::Index`]
    /// for one no store writes.
    pub fn scopes(&self, seqs: &[u64]) -> Result<Vec<Scope>, StoreError> {
        let size = self.size();
        let trees = &self.shared()?.trees;
        seqs.iter()
            .map(|seq| {
                if *seq >= size {
                    return Err(Corruption::BadRecord { tree: "scopes" }.into());
                }
                let scope = trees
                    .files
                    .scope(*seq)?
                    .ok_or(Corruption::MissingEntry { seq: *seq, size })?;
                decode_scope(&scope).ok_or_else(|| {
                    Corruption::Index {
                        index: "scopes",
                        seq: *seq,
                    }
                    .into()
                })
            })
            .collect()
    }

    /// The bytes the store uses on disk: sled's files, the entry files and the index runs.
    ///
    /// # Errors
    /// Storage errors.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        let trees = &self.shared()?.trees;
        let sled = trees
            .db
            .size_on_disk()
            .map_err(StoreError::sled("measuring the disk use"))?;
        Ok(sled + trees.files.bytes()? + trees.index.bytes())
    }
}
