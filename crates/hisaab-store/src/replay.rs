//! Model state from the store: the `History` the model consults, snapshots, and replay from
//! the nearest snapshot.

use std::collections::HashMap;

use hisaab_log::seal::Openings;
use hisaab_log::{Date, Hash, SealedEntry, StatementId};
use hisaab_model::{History, HistoryError, Ledger, State};

use crate::chunks::{Record, TagKey};
use crate::error::{Corruption, StoreError};
use crate::files::decode_u64;
use crate::layout::{parse_entry, Trees};

/// Entries accepted by the sequencer but not yet committed: seq `start` onwards.
#[derive(Clone, Copy)]
pub(crate) struct PendingView<'a> {
    pub(crate) start: u64,
    pub(crate) entries: &'a [SealedEntry],
    /// Per entry of `entries`: the openings it was accepted with (SPEC §12.5), if sealed.
    pub(crate) openings: &'a [Option<Openings>],
    pub(crate) by_id: &'a HashMap<StatementId, u64>,
}

impl<'a> PendingView<'a> {
    fn get(&self, seq: u64) -> Option<&SealedEntry> {
        let offset = seq.checked_sub(self.start)?;
        self.entries.get(usize::try_from(offset).ok()?)
    }

    /// The openings of pending entry `seq`: `None` when it is not pending, `Some(None)` when
    /// it is and holds no sealed field.
    fn openings(&self, seq: u64) -> Option<Option<&'a Openings>> {
        let offset = usize::try_from(seq.checked_sub(self.start)?).ok()?;
        Some(self.openings.get(offset).and_then(Option::as_ref))
    }
}

/// What the model sees of the log before the entry it is judging: entries `0..limit`, on disk
/// or pending.
pub(crate) struct StoreHistory<'a> {
    pub(crate) trees: &'a Trees,
    pub(crate) pending: Option<PendingView<'a>>,
    pub(crate) limit: u64,
    /// An id the caller has just found in neither `pending` nor the statement-id index, so
    /// that asking for it again costs no second index read.
    pub(crate) known_absent: Option<&'a StatementId>,
}

impl History for StoreHistory<'_> {
    fn statement_seq(&self, id: &StatementId) -> Result<Option<u64>, HistoryError> {
        if self.known_absent == Some(id) {
            return Ok(None);
        }
        if let Some(seq) = self.pending.and_then(|p| p.by_id.get(id).copied()) {
            if seq < self.limit {
                return Ok(Some(seq));
            }
        }
        let seq = self
            .trees
            .seq_of_statement(id.as_str())
            .map_err(history_error)?;
        // The index also holds later entries when an older state is being replayed.
        Ok(seq.filter(|&seq| seq < self.limit))
    }

    fn state_digest_at(&self, size: u64) -> Result<Hash, HistoryError> {
        if size == 0 || size > self.limit {
            return Err(history_error(StoreError::BeyondLog {
                what: "as_of",
                value: size,
                size: self.limit,
            }));
        }
        let ledger = ledger_at(self.trees, size, self.pending).map_err(history_error)?;
        ledger
            .resolution_digest()
            .map_err(|reason| HistoryError::NoDigest { size, reason })
    }
}

/// The model state after the first `size` entries: the nearest usable snapshot at or below
/// `size`, then replay. Entries at or after `pending.start` come from `pending`.
pub(crate) fn ledger_at(
    trees: &Trees,
    size: u64,
    pending: Option<PendingView<'_>>,
) -> Result<Ledger, StoreError> {
    let mut ledger = load_snapshot(trees, size, None)?.ledger;
    replay_trusted(trees, &mut ledger, size, pending)?;
    Ok(ledger)
}

/// How replay applies entries.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// Every rule of SPEC §4, as when they were appended (the open path, which trusts nothing).
    Checked,
    /// Chain and form only: for entries this store accepted and `open` has checked.
    Trusted,
}

/// Applies entries `ledger.size()..size` to `ledger`, calling `check` on each first (the open
/// path checks links and hashes there).
pub(crate) fn replay(
    trees: &Trees,
    ledger: &mut Ledger,
    size: u64,
    pending: Option<PendingView<'_>>,
    mode: Replay,
    mut check: impl FnMut(&SealedEntry) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let disk_end = pending.map_or(size, |p| p.start.min(size));
    each_stored(trees, ledger.size(), disk_end, size, |seq, bytes| {
        let sealed = parse_entry(seq, bytes)?;
        check(&sealed)?;
        apply(trees, ledger, &sealed, pending, mode)
    })?;
    if let Some(view) = pending {
        for seq in ledger.size()..size {
            let sealed = view.get(seq).ok_or(StoreError::BeyondLog {
                what: "tree_size",
                value: size,
                size: seq,
            })?;
            check(sealed)?;
            apply(trees, ledger, sealed, pending, mode)?;
        }
    }
    Ok(())
}

/// [`replay`] in [`Replay::Trusted`] mode with nothing to check on each entry, reading the
/// entries on disk straight from their stored bytes ([`Ledger::apply_trusted_leaf`]): the same
/// state. Bytes that do not read that way are parsed and applied as [`replay`] does, which
/// reports what is wrong with them.
pub(crate) fn replay_trusted(
    trees: &Trees,
    ledger: &mut Ledger,
    size: u64,
    pending: Option<PendingView<'_>>,
) -> Result<(), StoreError> {
    let disk_end = pending.map_or(size, |p| p.start.min(size));
    replay_trusted_checked(trees, ledger, disk_end, |_, _, _| Ok(()))?;
    replay(trees, ledger, size, pending, Replay::Trusted, |_| Ok(()))
}

/// [`replay_trusted`] of the entries on disk up to `size`, calling `check` on each (its seq,
/// its leaf hash, which is the stored one, and its bytes) before it is applied.
pub(crate) fn replay_trusted_checked(
    trees: &Trees,
    ledger: &mut Ledger,
    size: u64,
    mut check: impl FnMut(u64, Hash, &[u8]) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    each_stored(trees, ledger.size(), size, size, |seq, bytes| {
        // The bytes as appended: their leaf hash is the stored one (SPEC §2). The reading in
        // one pass does not re-check their canonical form, so a damaged byte must be caught
        // here, as `Store::entry_bytes` catches it.
        let computed = hisaab_log::merkle::leaf_hash(bytes);
        trees.check_leaf(seq, computed)?;
        check(seq, computed, bytes)?;
        // The openings kept for the entry (SPEC §12.10), as `apply` finds them; a store
        // without a master key keeps none.
        let kept = match &trees.vault {
            None => None,
            Some(_) => trees.openings_of(seq, &computed)?,
        };
        let fields = kept.as_ref().map(|o| &o.fields);
        if !ledger.apply_trusted_leaf(bytes, fields) {
            // The reading in one pass is narrower than the rules: the full parse says what
            // is wrong, or applies it after all.
            let sealed = parse_entry(seq, bytes)?;
            ledger
                .apply_trusted_with(&sealed, fields)
                .map_err(|violation| Corruption::Rejected { violation })?;
        }
        Ok(())
    })
}

/// Calls `each` with the seq and stored bytes of every entry `from..to` on disk, in order;
/// a gap is the first missing seq ([`Corruption::MissingEntry`] of a log of `size`).
fn each_stored(
    trees: &Trees,
    from: u64,
    to: u64,
    size: u64,
    mut each: impl FnMut(u64, &[u8]) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    if from >= to {
        return Ok(());
    }
    let mut expected = from;
    for item in trees.entries(from, to) {
        let stored = item?;
        each(stored.seq, &stored.leaf)?;
        expected = stored.seq.saturating_add(1);
    }
    if expected != to {
        return Err(Corruption::MissingEntry {
            seq: expected,
            size,
        }
        .into());
    }
    Ok(())
}

fn apply(
    trees: &Trees,
    ledger: &mut Ledger,
    sealed: &SealedEntry,
    pending: Option<PendingView<'_>>,
    mode: Replay,
) -> Result<(), StoreError> {
    // The openings this store keeps for the entry (SPEC §12.10), so that its model is the full
    // state; without the master key, the public replay of the sealed form (§12.8).
    let seq = sealed.entry().seq;
    let kept;
    let openings = match pending.and_then(|p| p.openings(seq)) {
        Some(openings) => openings,
        None => {
            kept = trees.openings_of(seq, &sealed.event_hash())?;
            kept.as_ref()
        }
    };
    let fields = openings.map(|o| &o.fields);
    let result = match mode {
        Replay::Trusted => ledger.apply_trusted_with(sealed, fields),
        Replay::Checked => {
            let history = StoreHistory {
                trees,
                pending,
                limit: seq,
                known_absent: None,
            };
            ledger.apply_with(sealed, fields, &history)
        }
    };
    result.map_err(|violation| Corruption::Rejected { violation }.into())
}

/// The newest snapshot at or below `size_max` that checks out (checksum, decodes, its size
/// matches its key, its last event hash is the stored entry's), how many newer ones were
/// refused, and whether it shows that this store wrote it ([`crate::chunks::Chunked::authentic`]
/// under `tag_key`; never without one). With none, an empty ledger.
pub(crate) fn load_snapshot(
    trees: &Trees,
    size_max: u64,
    tag_key: Option<&TagKey>,
) -> Result<Loaded, StoreError> {
    let mut refused = 0u64;
    for item in trees.snapshots.range(..=size_max.to_be_bytes()).rev() {
        let (key, value) = item.map_err(StoreError::sled("reading snapshots"))?;
        if let Some((ledger, authentic)) = decode_snapshot(trees, &key, &value, tag_key)? {
            return Ok(Loaded {
                ledger,
                refused,
                authentic,
            });
        }
        refused = refused.saturating_add(1);
    }
    Ok(Loaded {
        ledger: Ledger::new(),
        refused,
        authentic: false,
    })
}

/// What [`load_snapshot`] found.
pub(crate) struct Loaded {
    pub(crate) ledger: Ledger,
    pub(crate) refused: u64,
    pub(crate) authentic: bool,
}

fn decode_snapshot(
    trees: &Trees,
    key: &[u8],
    value: &[u8],
    tag_key: Option<&TagKey>,
) -> Result<Option<(Ledger, bool)>, StoreError> {
    let Some(size) = decode_u64(key) else {
        return Ok(None);
    };
    let mut authentic = false;
    let assembled;
    let opened;
    let model_bytes = match crate::chunks::parse(value) {
        None => return Ok(None),
        // One of another format (written before an upgrade) is passed over at its first chunk.
        Some(Record::Chunked(chunked)) if !chunked.declares_current_format(trees)? => {
            return Ok(None);
        }
        // Every chunk checked against its id, the whole against the record's digest.
        Some(Record::Chunked(chunked)) => match chunked.assemble(trees, size)? {
            Some(bytes) => {
                authentic = tag_key.is_some_and(|tag_key| chunked.authentic(size, tag_key));
                assembled = bytes;
                assembled.as_slice()
            }
            None => return Ok(None),
        },
        // Written whole, before snapshots were stored in chunks. An encrypted one opens only
        // with the master key; one written in the clear (before the store had a master key)
        // is read as it is.
        Some(Record::Whole(stored)) => {
            opened = trees
                .vault
                .as_ref()
                .and_then(|vault| vault.open_snapshot(size, stored));
            opened.as_ref().map_or(stored, |bytes| bytes.as_slice())
        }
    };
    let Ok(ledger) = Ledger::from_snapshot(model_bytes) else {
        return Ok(None);
    };
    if ledger.size() != size || size == 0 {
        return Ok(None);
    }
    // A snapshot is only a cache: it must end where the stored chain does.
    let Some(bytes) = trees.entry_bytes(size - 1)? else {
        return Ok(None);
    };
    if hisaab_log::merkle::leaf_hash(&bytes) != ledger.last_event_hash() {
        return Ok(None);
    }
    Ok(Some((ledger, authentic)))
}

/// The state of SPEC §5 after the first `as_of` entries (default: all `size`) at date `at`,
/// from the nearest snapshot at or below `as_of` plus replay.
pub(crate) fn state_at(
    trees: &Trees,
    size: u64,
    as_of: Option<u64>,
    at: Option<Date>,
) -> Result<State, StoreError> {
    let as_of = as_of.unwrap_or(size);
    StoreError::check_in_log("as_of", as_of, size)?;
    Ok(ledger_at(trees, as_of, None)?.state(at))
}

/// A store failure as the model's history error.
fn history_error(error: StoreError) -> HistoryError {
    HistoryError::Storage {
        message: error.to_string(),
        source: Some(Box::new(error)),
    }
}
