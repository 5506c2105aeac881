//! Opening a store: the quick integrity check, torn-tail reconciliation and model resumption.
//!
//! What `open` checks, in order, each failure naming what and where:
//! 1. the format marker, and that entry 0 is a genesis naming the given log key;
//! 2. the latest checkpoint verifies under the log key;
//! 3. entries and stored hashes reach exactly the checkpoint's size (more: a torn batch, see
//!    below; fewer: corruption at the first missing seq or stored hash);
//! 4. the root recomputed from `O(log n)` stored hashes is the checkpoint's root;
//! 5. the event-hash and statement-id index: its runs up to the checkpoint's size (each
//!    checked whole as it is opened), the entries after them read again from the files;
//! 6. every entry after the snapshot, and at least the last `tail_check_entries`: chain links,
//!    leaf hash and the stored hashes it wrote; the last `tail_check_entries` also their index
//!    records;
//! 7. the model resumes from the newest snapshot that checks out (record checksum, the digest
//!    of its chunks put together, size, last event hash); one that cannot show this store
//!    wrote it (a tag under the log key, or sealed under the master key) is also checked
//!    against the one before it by replaying the entries between them, and passed over if it
//!    holds another state;
//! 8. the model replays the entries after the snapshot: the last `tail_check_entries` with
//!    their signatures and every rule of SPEC §4, the ones before as trusted (their stored
//!    hashes already tie them to the signed root).
//!
//! # Torn batches
//! A batch's entries and stored hashes are appended to their files and the entries synced
//! first (the ends and stored hashes every `INDEX_SYNC_ENTRIES` entries and on close, the
//! ends of each batch since kept in its own transaction: after a crash [`UnsyncedIndex`]
//! writes them again, and the stored hashes from the entries, before step 3); then its
//! KPI index records and signed checkpoint are one sled transaction (a snapshot is written
//! after it, in one of its own), and sled recovers a transaction whole or not at all (its batch
//! manifest); the batch is added to the index by hash only after that. A crash between the two
//! leaves the files ahead of sled's latest checkpoint: a batch whose flush never returned, so
//! no receipt was given for it. `open` removes it (the KPI records and snapshots past the
//! checkpoint, should any be there, then the files' tail)
//! and reports how many entries it cut off. The high-water mark is checked before: a store
//! whose sled lost committed batches is refused, not cut back to what sled kept. Anything
//! *missing* below the checkpoint's size is corruption, never repaired, except the ends and
//! stored hashes of the entries appended since those were last synced, which are derived:
//! rebuilt from the batches' records and the entries once these give the signed root.

use std::path::Path;

use hisaab_log::chain::ChainVerifier;
use hisaab_log::merkle::{self, stored_hash_count, stored_hashes_for_leaf};
use hisaab_log::note::{Checkpoint, VerifierKey};
use hisaab_log::{SealedEntry, SigningKey};
use hisaab_model::Ledger;

use crate::chunks::TagKey;
use crate::config::StoreConfig;
use crate::error::{Corruption, StoreError};
use crate::files::{decode_u64, END_BYTES};
use crate::index::{event_key, statement_key};
use crate::layout::{
    drop_sled_entries, is_earlier_layout, is_index_in_sled, mark_current_layout, merkle_corruption,
    move_out_of_sled, statement_id, Trees, Writes, FORMAT, FORMAT_KEY,
};
use crate::replay::{
    load_snapshot, replay, replay_trusted, replay_trusted_checked, Loaded, Replay,
};
use crate::report::{OpenReport, SignedCheckpoint};
use crate::shared::{checked_log_vkey, genesis_body, Committed};

/// What `open` hands the store.
pub(crate) struct Recovered {
    pub(crate) ledger: Ledger,
    pub(crate) committed: Committed,
    pub(crate) report: OpenReport,
    pub(crate) log_vkey: VerifierKey,
    pub(crate) genesis_log_key: String,
    pub(crate) genesis_format: u64,
    pub(crate) origin: String,
}

pub(crate) fn recover(
    trees: &Trees,
    dir: &Path,
    log_key: &SigningKey,
    config: &StoreConfig,
) -> Result<Recovered, StoreError> {
    let format = trees
        .meta
        .get(FORMAT_KEY)
        .map_err(StoreError::sled("reading the format marker"))?;
    let mark = crate::mark::read(dir);
    // A store of the earliest layout has its entries moved out of sled first; one whose index
    // was in sled has it dropped (the entries are indexed again below); one moved by an open
    // that stopped before it dropped sled's copy has it dropped now.
    let mut scopes_indexed = 0;
    let format = if is_earlier_layout(format.as_deref()) {
        scopes_indexed = move_out_of_sled(trees)?;
        Some(FORMAT.into())
    } else if is_index_in_sled(format.as_deref()) {
        // Runs left beside it (by a later version, before it was opened by an earlier one)
        // are not trusted: everything is indexed again.
        trees.index.settle(0)?;
        mark_current_layout(trees)?;
        Some(FORMAT.into())
    } else {
        if format.as_deref() == Some(FORMAT) {
            drop_sled_entries(&trees.db)?;
        }
        format
    };
    if format.as_deref() != Some(FORMAT) {
        // With a mark beside it, this was a store whose files lost even their first batch.
        if let Some(Some(mark)) = mark {
            return Err(Corruption::LostEntries {
                size: 0,
                mark_size: mark.size,
            }
            .into());
        }
        return Err(StoreError::NotAStore {
            path: dir.to_owned(),
        });
    }

    // 1. Genesis and the log key.
    let genesis = trees.read_entry(0, 1)?;
    let statement = &genesis.entry().statement;
    if !statement.is_genesis() {
        return Err(Corruption::Genesis {
            reason: "entry 0 is not a ledger.genesis",
        }
        .into());
    }
    let body = genesis_body(statement).map_err(|_| Corruption::Genesis {
        reason: "entry 0's body is not a ledger.genesis body",
    })?;
    let log_vkey = checked_log_vkey(body.origin.as_str(), &body.log_key, log_key)?;

    // 2. The latest checkpoint.
    let (note, checkpoint) = trees.latest_checkpoint(&log_vkey)?;
    let size = checkpoint.size;

    // The high-water mark: sled must not have recovered less than was committed.
    let mark_status = crate::mark::status(dir, size, &checkpoint.root)?;

    // 3. Entries and stored hashes against the checkpoint's size, once what a crash may have
    // lost of the entry ends and stored hashes (synced every `INDEX_SYNC_ENTRIES` entries)
    // is written again from the batches' records and the entries.
    let mut report = OpenReport {
        size,
        mark: mark_status,
        ..OpenReport::default()
    };
    if let Some(unsynced) = UnsyncedIndex::read(trees, size)? {
        // Nothing is written unless the entries give the signed root.
        unsynced.check_root(trees, size, &checkpoint.root)?;
        report.index_rebuilt_entries = unsynced.restore(trees)?;
    }
    // What is missing is refused first: nothing is cut while the files are short below it.
    let entries = trees.files.entry_count();
    let hashes = trees.files.stored_hash_count();
    let wanted_hashes = stored_hash_count(size);
    if entries < size {
        return Err(Corruption::MissingEntry { seq: entries, size }.into());
    }
    if hashes < wanted_hashes {
        return Err(Corruption::MissingStoredHash { index: hashes }.into());
    }
    // The files run at most one batch ahead of sled's checkpoint (they are synced first);
    // more is sled having lost committed batches, which the mark (not synced) may not show:
    // the entries are kept and the store refused.
    if entries - size > config.batch_entries_max.max(1) as u64 {
        return Err(Corruption::AheadOfCheckpoint {
            size,
            files: entries,
        }
        .into());
    }
    if entries > size || hashes > wanted_hashes {
        report.truncated_entries = entries - size;
        truncate_tail(trees, size)?;
    }

    // 4. The root from the stored hashes.
    let computed = merkle::tree_root(size, &trees.hashes()).map_err(merkle_corruption)?;
    if computed != checkpoint.root {
        return Err(Corruption::CheckpointRoot {
            size,
            checkpoint: checkpoint.root,
            computed,
        }
        .into());
    }

    // The index: the runs up to the log's size, the entries after them read again.
    let indexed = trees.index.settle(size)?;
    report.index_entries_read = index_from_entries(trees, indexed, size)?;
    report.index_runs_discarded = trees.index.discarded();

    // 5 and 6. The tail, and the model from the nearest snapshot.
    // A snapshot that shows this store wrote it (tagged under the log key, or sealed under the
    // master key) is resumed from as it is; any other is checked against the one before it.
    let Loaded {
        ledger,
        refused,
        authentic,
    } = load_snapshot(trees, size, Some(&TagKey::of_log_key(log_key)))?;
    let (mut ledger, resumed_from, refused) = if authentic {
        let resumed_from = ledger.size();
        (ledger, resumed_from, refused)
    } else {
        check_newest_snapshot(trees, ledger, refused)?
    };
    report.snapshot_authenticated = authentic;
    report.snapshots_refused = refused;
    report.snapshot_size = resumed_from;
    let signatures_from = size.saturating_sub(config.tail_check_entries);
    let check_from = ledger.size().min(signatures_from);
    // Entries between the snapshot and the tail are tied to the signed root by their stored
    // hashes, so they are read on the trusted path, in one pass from their stored bytes: each
    // one's leaf hash against its stored one, the chain and form as the model applies them,
    // and the stored hashes it wrote. (Their index records are in checksummed runs, or were
    // just read again from them; the tail's are checked below.)
    replay_trusted_checked(trees, &mut ledger, signatures_from, |seq, event_hash, _| {
        verify_stored_hashes_of(trees, seq, event_hash)
    })?;
    // The tail goes through every rule again, its links checked from the entry before it.
    let tail_from = ledger.size().min(signatures_from).max(check_from);
    let mut tail = TailCheck::new(trees, tail_from, signatures_from, genesis.event_hash())?;
    for seq in tail_from..ledger.size() {
        let sealed = trees.read_entry(seq, size)?;
        tail.check(&sealed)?;
    }
    replay(trees, &mut ledger, size, None, Replay::Checked, |sealed| {
        tail.check(sealed)
    })?;
    report.replayed_entries = size - report.snapshot_size;
    report.checked_entries = size - check_from;
    report.scopes_indexed = scopes_indexed;

    Ok(Recovered {
        ledger,
        committed: Committed {
            size,
            latest: SignedCheckpoint {
                note,
                checkpoint: Checkpoint { ..checkpoint },
            },
        },
        report,
        log_vkey,
        genesis_log_key: body.log_key.clone(),
        genesis_format: genesis.entry().statement.v,
        origin: body.origin.as_str().to_owned(),
    })
}

/// The entry ends and stored hashes of the entries a store appended after it last synced
/// `hisaab-entry-ends` and `hisaab-hashes`, as the batches' records in `meta` and the entries
/// give them.
pub(crate) struct UnsyncedIndex {
    /// The first entry not synced.
    from: u64,
    /// Entries `from..size`'s ends.
    ends: Vec<u8>,
    /// Their stored hashes, from index `stored_hash_count(from)` on.
    hashes: Vec<hisaab_log::Hash>,
}

impl UnsyncedIndex {
    /// What a store of `size` entries holds unsynced; `None` when everything is synced. The
    /// batches' records must follow each other from the synced size to `size`; the stored
    /// hashes are computed from the entries' bytes where those ends put them.
    ///
    /// # Errors
    /// [`Corruption::UnsyncedEnds`] at the first entry no record covers;
    /// [`Corruption::MissingEntry`] or [`Corruption::MissingStoredHash`] for files short of
    /// what was synced; entries' bytes that the ends do not fit.
    pub(crate) fn read(trees: &Trees, size: u64) -> Result<Option<Self>, StoreError> {
        let from = match trees.index_synced()? {
            Some(synced) if synced < size => synced,
            _ => return Ok(None),
        };
        let files = &trees.files;
        if files.entry_count() < from {
            let seq = files.entry_count();
            return Err(Corruption::MissingEntry { seq, size }.into());
        }
        let first_hash = stored_hash_count(from);
        if files.stored_hash_count() < first_hash {
            let index = files.stored_hash_count();
            return Err(Corruption::MissingStoredHash { index }.into());
        }
        let mut ends = Vec::new();
        let mut next = from;
        for (first, record) in trees.unsynced_ends(from)? {
            if next >= size {
                break;
            }
            if first != next || record.is_empty() || record.len() % END_BYTES != 0 {
                return Err(Corruption::UnsyncedEnds { seq: next, size }.into());
            }
            ends.extend_from_slice(&record);
            next += (record.len() / END_BYTES) as u64;
        }
        if next != size {
            return Err(Corruption::UnsyncedEnds { seq: next, size }.into());
        }
        let start = files.start_of(from)?;
        let leaves = files.leaf_hashes_at(from, start, &ends)?;
        let mut hashes = Vec::new();
        for (seq, leaf) in (from..).zip(leaves) {
            let reader = crate::layout::OverlayHashes {
                disk: trees.hashes(),
                start: first_hash,
                pending: &hashes,
            };
            let written = stored_hashes_for_leaf(seq, leaf, &reader).map_err(merkle_corruption)?;
            hashes.extend(written);
        }
        Ok(Some(UnsyncedIndex { from, ends, hashes }))
    }

    /// The first entry not synced.
    pub(crate) fn from(&self) -> u64 {
        self.from
    }

    /// The entry after the last one rebuilt: the log's size.
    fn to(&self) -> u64 {
        self.from + (self.ends.len() / END_BYTES) as u64
    }

    /// Whether the entries' bytes give the signed root `root` of a log of `size`, with the
    /// stored hashes below the synced ones as the files hold them: otherwise an entry
    /// appended since is damaged, and nothing is rebuilt. The damaged entry is named by its
    /// stored leaf hash when the files show that the kernel wrote the unsynced part (their
    /// ends are the records'); after a power cut those hashes may be lost, and blame none.
    ///
    /// # Errors
    /// [`Corruption::LeafHashMismatch`] or [`Corruption::CheckpointRoot`].
    pub(crate) fn check_root(
        &self,
        trees: &Trees,
        size: u64,
        root: &hisaab_log::Hash,
    ) -> Result<(), StoreError> {
        let first = stored_hash_count(self.from);
        let reader = crate::layout::OverlayHashes {
            disk: trees.hashes(),
            start: first,
            pending: &self.hashes,
        };
        let computed = merkle::tree_root(size, &reader).map_err(merkle_corruption)?;
        if computed == *root {
            return Ok(());
        }
        if trees.files.raw_ends(self.from, size)? == self.ends {
            for seq in self.from..size {
                let index = merkle::stored_hash_index(0, seq);
                let rebuilt = usize::try_from(index - first)
                    .ok()
                    .and_then(|i| self.hashes.get(i));
                if let (Some(_), Some(&computed)) = (trees.files.stored_hash(index)?, rebuilt) {
                    trees.check_leaf(seq, computed)?;
                }
            }
        }
        Err(Corruption::CheckpointRoot {
            size,
            checkpoint: *root,
            computed,
        }
        .into())
    }

    /// Whether the files hold these ends and stored hashes already (as they do after a crash
    /// of the process alone: the kernel wrote them).
    pub(crate) fn is_on_disk(&self, trees: &Trees) -> Result<bool, StoreError> {
        if trees.files.raw_ends(self.from, self.to())? != self.ends {
            return Ok(false);
        }
        let first = stored_hash_count(self.from);
        for (index, hash) in (first..).zip(&self.hashes) {
            if trees.files.stored_hash(index)?.as_ref() != Some(hash) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Writes them at their place, syncs, and records the files synced: answers how many
    /// entries' ends were rebuilt.
    fn restore(self, trees: &Trees) -> Result<u64, StoreError> {
        let first = stored_hash_count(self.from);
        trees
            .files
            .restore(self.from, &self.ends, first, &self.hashes)?;
        let mut writes = Writes::default();
        let kept = trees.unsynced_ends(0)?;
        crate::layout::record_index_synced(&mut writes, kept.into_iter().map(|(first, _)| first));
        trees.apply(&writes)?;
        trees.flush()?;
        Ok(self.to() - self.from)
    }
}

/// The newest snapshot, when it cannot show that this store wrote it, is checked against the
/// one before it (or genesis) plus a replay of the entries between them, at the cost of one
/// snapshot interval: a snapshot that parses and
/// passes its checksum but holds another state (a bug, or a rewrite of the cache) is passed
/// over and removed, so that no later read resumes from it either, and the replayed state is
/// resumed from instead. `verify DIR`, which writes nothing, checks every kept snapshot this
/// way and names any such one. Returns the state, the size of the snapshot it came from, and
/// the snapshots passed over.
fn check_newest_snapshot(
    trees: &Trees,
    newest: Ledger,
    refused: u64,
) -> Result<(Ledger, u64, u64), StoreError> {
    let size = newest.size();
    if size == 0 {
        return Ok((newest, 0, refused));
    }
    let mut replayed = load_snapshot(trees, size - 1, None)?.ledger;
    let earlier = replayed.size();
    // The entries between the two, read in one pass, each tied to its stored leaf hash.
    replay_trusted(trees, &mut replayed, size, None)?;
    if replayed == newest {
        return Ok((newest, size, refused));
    }
    let mut writes = Writes::default();
    writes.snapshots.remove(&size.to_be_bytes());
    crate::chunks::release(
        trees,
        &std::collections::BTreeSet::from([size]),
        &[],
        &mut writes.chunks,
    )?;
    trees.apply(&writes)?;
    Ok((replayed, earlier, refused.saturating_add(1)))
}

/// Checks entries in order from a starting seq: links (and, from `signatures_from` on, the
/// signature), the stored hashes each one wrote, and its index records.
struct TailCheck<'a> {
    trees: &'a Trees,
    chain: ChainVerifier,
    signatures_from: u64,
}

impl<'a> TailCheck<'a> {
    fn new(
        trees: &'a Trees,
        from: u64,
        signatures_from: u64,
        ledger_id: hisaab_log::Hash,
    ) -> Result<Self, StoreError> {
        let chain = match from.checked_sub(1) {
            None => ChainVerifier::new(),
            Some(before) => {
                let previous = trees.read_entry(before, from)?;
                ChainVerifier::resume(
                    from,
                    previous.event_hash(),
                    Some(previous.entry().recorded_at.clone()),
                    Some(ledger_id),
                )
            }
        };
        Ok(TailCheck {
            trees,
            chain,
            signatures_from,
        })
    }

    fn check(&mut self, sealed: &SealedEntry) -> Result<(), StoreError> {
        let linked = if sealed.entry().seq >= self.signatures_from {
            self.chain.push(sealed)
        } else {
            self.chain.push_verified(sealed)
        };
        linked.map_err(|source| Corruption::Chain { source })?;
        verify_stored_hashes(self.trees, sealed)?;
        verify_index_records(self.trees, sealed)
    }
}

/// The stored hashes leaf `seq` wrote are what its leaf hash and the earlier stored hashes
/// compute. Checked for every leaf in order, this proves every stored hash (by induction).
pub(crate) fn verify_stored_hashes(trees: &Trees, sealed: &SealedEntry) -> Result<(), StoreError> {
    verify_stored_hashes_of(trees, sealed.entry().seq, sealed.event_hash())
}

/// [`verify_stored_hashes`] of leaf `seq` with leaf hash `event_hash`.
fn verify_stored_hashes_of(
    trees: &Trees,
    seq: u64,
    event_hash: hisaab_log::Hash,
) -> Result<(), StoreError> {
    let expected =
        stored_hashes_for_leaf(seq, event_hash, &trees.hashes()).map_err(merkle_corruption)?;
    let mut index = stored_hash_count(seq);
    for (level, computed) in expected.into_iter().enumerate() {
        let stored = trees.stored_hash(index)?;
        if stored != computed {
            return Err(if level == 0 {
                Corruption::LeafHashMismatch {
                    seq,
                    stored,
                    computed,
                }
            } else {
                Corruption::StoredHashMismatch {
                    seq,
                    index,
                    stored,
                    computed,
                }
            }
            .into());
        }
        index = index.saturating_add(1);
    }
    Ok(())
}

/// The event-hash and statement-id indexes point at this entry.
pub(crate) fn verify_index_records(trees: &Trees, sealed: &SealedEntry) -> Result<(), StoreError> {
    verify_index_records_of(
        trees,
        sealed.entry().seq,
        sealed.event_hash(),
        sealed.entry().statement.id.as_str(),
    )
}

/// [`verify_index_records`] of entry `seq` with event hash `event_hash` and statement id `id`.
/// Entries the index does not hold yet (after a crash, until open reads them again) pass.
fn verify_index_records_of(
    trees: &Trees,
    seq: u64,
    event_hash: hisaab_log::Hash,
    id: &str,
) -> Result<(), StoreError> {
    if seq >= trees.index.indexed_to() {
        return Ok(());
    }
    if !trees.index.holds(event_key(&event_hash), seq)? {
        return Err(Corruption::Index {
            index: "event hash",
            seq,
        }
        .into());
    }
    if !trees.index.holds(statement_key(id), seq)? {
        return Err(Corruption::Index {
            index: "statement id",
            seq,
        }
        .into());
    }
    Ok(())
}

/// Indexes entries `from..to` from the entry files, a run's worth at a time, and answers how
/// many it read. An entry whose bytes are damaged (they fail their stored leaf hash, or cannot
/// be read) is indexed by its event hash alone, the stored one: the store still opens and
/// serves the others, and reading it or `verify_full` names it.
fn index_from_entries(trees: &Trees, from: u64, to: u64) -> Result<u64, StoreError> {
    let mut block: Vec<(hisaab_log::Hash, Option<String>)> = Vec::new();
    let mut first = from;
    let mut next = from;
    while next < to {
        for item in trees.entries(next, to) {
            let Ok(stored) = item.as_ref() else { break };
            if stored.seq != next {
                break;
            }
            let hash = trees.stored_leaf_hash(next)?;
            let id = if merkle::leaf_hash(&stored.leaf) == hash {
                Some(statement_id(next, &stored.leaf)?.to_owned())
            } else {
                None
            };
            block.push((hash, id));
            next += 1;
            if block.len() as u64 == trees.index.run_entries() {
                add_to_index(trees, first, &block)?;
                first = next;
                block.clear();
            }
        }
        if next < to {
            // Entry `next` cannot be read: its stored hash is its event hash.
            block.push((trees.stored_leaf_hash(next)?, None));
            next += 1;
        }
    }
    add_to_index(trees, first, &block)?;
    Ok(to - from)
}

fn add_to_index(
    trees: &Trees,
    first: u64,
    block: &[(hisaab_log::Hash, Option<String>)],
) -> Result<(), StoreError> {
    trees
        .index
        .add(first, block.iter().map(|(hash, id)| (*hash, id.as_deref())))
}

/// Removes the KPI index records and snapshots of entries past `size` in one transaction,
/// then cuts the entry files back to `size` entries and their stored hashes. (The event-hash
/// and statement-id index never holds them: its entries are added after their commit.)
fn truncate_tail(trees: &Trees, size: u64) -> Result<(), StoreError> {
    let mut writes = Writes::default();
    // A `by_kpi` key ends in its entry's seq; the pair it names may have been found through a
    // reference (an evaluation's submission), so the keys are found by their seq.
    for item in trees.by_kpi.iter() {
        let (key, _) = item.map_err(StoreError::sled("scanning the KPI index"))?;
        let seq = key
            .len()
            .checked_sub(8)
            .and_then(|start| key.get(start..))
            .and_then(decode_u64);
        if seq.is_some_and(|seq| seq >= size) {
            writes.by_kpi.remove(key);
        }
    }
    let mut removed = std::collections::BTreeSet::new();
    for item in trees
        .snapshots
        .range(size.saturating_add(1).to_be_bytes()..)
    {
        let (key, _) = item.map_err(StoreError::sled("scanning snapshots"))?;
        removed.extend(decode_u64(&key));
        writes.snapshots.remove(key);
    }
    crate::chunks::release(trees, &removed, &[], &mut writes.chunks)?;
    trees.apply(&writes)?;
    trees.flush()?;
    // The files last: until the KPI records are gone, a retry finds the entries they name.
    trees.files.truncate(size, stored_hash_count(size))
}
