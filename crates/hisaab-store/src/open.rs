//! Opening a store: the quick integrity check, torn-tail reconciliation and model resumption.
//!
//! What `open` checks, in order, each failure naming what and where:
//! 1. the format marker, and that entry 0 is a genesis naming the given log key;
//! 2. the latest checkpoint verifies under the log key;
//! 3. entries and stored hashes reach exactly the checkpoint's size (more: a torn batch, see
//!    below; fewer: corruption at the first missing seq or stored hash);
//! 4. the root recomputed from `O(log n)` stored hashes is the checkpoint's root;
//! 5. every entry after the snapshot, and at least the last `tail_check_entries`: chain links,
//!    leaf hash and the stored hashes it wrote, index records;
//! 6. the model resumes from the newest snapshot that checks out (checksum, chunks, digest,
//!    size, last event hash); one that cannot show this store wrote it (a tag under the log
//!    key, or sealed under the master key) is also checked against the one before it by
//!    replaying the entries between them, and passed over if it holds another state;
//! 7. the model replays the entries after the snapshot: the last `tail_check_entries` with
//!    their signatures and every rule of SPEC §4, the ones before as trusted (their stored
//!    hashes already tie them to the signed root).
//!
//! # Torn batches
//! A batch's entries and stored hashes are appended to their files and synced first; then its
//! index records and signed checkpoint are one sled transaction (a snapshot is written after
//! it, in one of its own), and sled recovers a transaction whole or not at all (its batch
//! manifest). A crash between the two leaves the files ahead of sled's latest checkpoint: a
//! batch whose flush never returned, so no receipt was given for it. `open` removes it (the
//! index records and snapshots past the checkpoint, should any be there, then the files' tail)
//! and reports how many entries it cut off. The high-water mark is checked before: a store
//! whose sled lost committed batches is refused, not cut back to what sled kept. Anything
//! *missing* below the checkpoint's size is corruption, never repaired.

use std::path::Path;

use hisaab_log::chain::ChainVerifier;
use hisaab_log::merkle::{self, stored_hash_count, stored_hashes_for_leaf};
use hisaab_log::note::{Checkpoint, VerifierKey};
use hisaab_log::{SealedEntry, SigningKey};
use hisaab_model::Ledger;

use crate::chunks::TagKey;
use crate::config::StoreConfig;
use crate::error::{Corruption, StoreError};
use crate::layout::{
    decode_u64, drop_sled_entries, is_earlier_layout, merkle_corruption, move_out_of_sled,
    parse_entry, Trees, Writes, FORMAT, FORMAT_KEY,
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
    // A store of the earlier layout has its entries moved out of sled first; one moved by an
    // open that stopped before it dropped sled's copy has it dropped now.
    let mut scopes_indexed = 0;
    let format = if is_earlier_layout(format.as_deref()) {
        scopes_indexed = move_out_of_sled(trees)?;
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

    // 3. Entries and stored hashes against the checkpoint's size.
    let mut report = OpenReport {
        size,
        mark: mark_status,
        ..OpenReport::default()
    };
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
        truncate_tail(trees, size, entries)?;
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
    // the stored hashes it wrote and its index records (its statement id read alone).
    replay_trusted_checked(
        trees,
        &mut ledger,
        signatures_from,
        |seq, event_hash, bytes| {
            verify_stored_hashes_of(trees, seq, event_hash)?;
            let id = statement_id(seq, bytes)?;
            verify_index_records_of(trees, seq, event_hash, id)
        },
    )?;
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

/// The statement id in the leaf bytes of entry `seq`, read alone (the rest skipped).
fn statement_id(seq: u64, bytes: &[u8]) -> Result<&str, StoreError> {
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
fn verify_index_records_of(
    trees: &Trees,
    seq: u64,
    event_hash: hisaab_log::Hash,
    id: &str,
) -> Result<(), StoreError> {
    let by_event = Trees::index_seq(&trees.by_event, "by_event", event_hash.as_bytes())?;
    if by_event != Some(seq) {
        return Err(Corruption::Index {
            index: "by_event",
            seq,
        }
        .into());
    }
    if Trees::index_seq(&trees.by_statement, "by_statement", id.as_bytes())? != Some(seq) {
        return Err(Corruption::Index {
            index: "by_statement",
            seq,
        }
        .into());
    }
    Ok(())
}

/// Removes the index records and snapshots of entries `size..entries` in one transaction,
/// then cuts the entry files back to `size` entries and their stored hashes.
fn truncate_tail(trees: &Trees, size: u64, entries: u64) -> Result<(), StoreError> {
    let mut writes = Writes::default();
    let mut unreadable = false;
    for seq in size..entries {
        // A torn batch's bytes may be anything (a crash can leave one file's pages and not
        // another's): what cannot be read is found by its index records' values below.
        let Ok(Some(bytes)) = trees.entry_bytes(seq) else {
            unreadable = true;
            continue;
        };
        match parse_entry(seq, &bytes) {
            Ok(sealed) => {
                remove_if_points_at(
                    trees,
                    &trees.by_event,
                    sealed.event_hash().as_bytes(),
                    seq,
                    &mut writes.by_event,
                )?;
                let id = sealed.entry().statement.id.as_str().as_bytes();
                remove_if_points_at(
                    trees,
                    &trees.by_statement,
                    id,
                    seq,
                    &mut writes.by_statement,
                )?;
            }
            Err(_) => unreadable = true,
        }
    }
    if unreadable {
        // Index records of an unreadable torn entry can only be found by their value.
        for (tree, batch) in [
            (&trees.by_event, &mut writes.by_event),
            (&trees.by_statement, &mut writes.by_statement),
        ] {
            for item in tree.iter() {
                let (key, value) = item.map_err(StoreError::sled("scanning an index"))?;
                if decode_u64(&value).is_some_and(|seq| seq >= size) {
                    batch.remove(key);
                }
            }
        }
    }
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
    // The files last: until the index records are gone, a retry finds the entries they name.
    trees.files.truncate(size, stored_hash_count(size))
}

fn remove_if_points_at(
    _trees: &Trees,
    tree: &sled::Tree,
    key: &[u8],
    seq: u64,
    batch: &mut sled::Batch,
) -> Result<(), StoreError> {
    let value = tree
        .get(key)
        .map_err(StoreError::sled("reading an index"))?;
    if value.as_deref().and_then(decode_u64) == Some(seq) {
        batch.remove(key);
    }
    Ok(())
}
