//! The sequencer: one thread that orders appends, applies the model's rules, and commits them
//! in groups (one sled transaction, one flush, one checkpoint per batch).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{mpsc, Arc, PoisonError};
use std::time::Instant;

use hisaab_log::merkle::{self, stored_hash_count, stored_hashes_for_leaf};
use hisaab_log::note::Checkpoint;
use hisaab_log::seal::{Openings, Sealing};
use hisaab_log::{Entry, Envelope, Hash, SealedEntry, StatementId, Timestamp};
use hisaab_model::view::Scope;
use hisaab_model::Ledger;

use crate::config::Clock;
use crate::error::{AppendError, StoreError};
use crate::files::Sync;
use crate::layout::{batch_key, ends_key, BatchHashes, Writes, FORMAT, FORMAT_KEY};
use crate::layout::{encode_scope, kpi_prefix, merkle_corruption, OverlayHashes};
use crate::layout::{record_index_synced, INDEX_SYNCED_KEY, INDEX_SYNC_ENTRIES};
use crate::mark::Mark;
use crate::replay::{PendingView, StoreHistory};
use crate::report::SignedCheckpoint;
use crate::shared::{Accepted, Committed, Request, Shared};
use crate::snapshot::Job;

/// The sequencer's state: the model state of everything it accepted.
pub(crate) struct Writer {
    shared: Arc<Shared>,
    ledger: Ledger,
    clock: Arc<dyn Clock>,
    /// Where the snapshot sizes a batch reached go once it is durable (`crate::snapshot`).
    snapshots: Option<mpsc::Sender<Job>>,
    /// Sizes reached before the snapshot thread was attached (the genesis batch of a store
    /// being created), handed to it when it is.
    deferred: Job,
    /// The size up to which the entry ends and stored hashes are synced (a batch syncs only
    /// the entries; see `INDEX_SYNCED_KEY`).
    index_synced: u64,
    /// The first seqs of the committed batches after `index_synced`, whose ends are kept in
    /// `meta` until the files are synced.
    unsynced: Vec<u64>,
    /// The keys of the checkpoints kept, oldest first (listed at the first commit).
    checkpoints: Option<VecDeque<sled::IVec>>,
}

/// A batch being built: entries `start..`, their stored hashes, the snapshot sizes it reaches.
struct Pending {
    start: u64,
    entries: Vec<SealedEntry>,
    /// Per entry of `entries`: the openings of its sealed fields, kept in the vault in the
    /// batch's own transaction (SPEC §12.5, §12.10).
    openings: Vec<Option<Openings>>,
    /// Per entry of `entries`: the operator and KPI it concerns, references followed (the
    /// `by_kpi` history index; see `Ledger::apply_indexed`).
    subjects: Vec<Option<(String, String)>>,
    /// Per entry of `entries`: its scope for read access (see `Ledger::apply_indexed`).
    scopes: Vec<Scope>,
    /// The fields of committed entries that `field.erased` entries of this batch erase, by
    /// seq, with the entry's event hash: their openings are deleted in the batch's own
    /// transaction (SPEC §12.9). An entry of the batch itself loses them in `openings`.
    erasures: BTreeMap<u64, (Hash, BTreeSet<String>)>,
    by_id: HashMap<StatementId, u64>,
    hash_start: u64,
    hashes: Vec<Hash>,
    /// The snapshot sizes the batch reaches, for the snapshot thread.
    snapshots: Job,
}

impl Pending {
    fn new(start: u64) -> Self {
        Pending {
            start,
            entries: Vec::new(),
            openings: Vec::new(),
            subjects: Vec::new(),
            scopes: Vec::new(),
            erasures: BTreeMap::new(),
            by_id: HashMap::new(),
            hash_start: stored_hash_count(start),
            hashes: Vec::new(),
            snapshots: Vec::new(),
        }
    }

    fn view(&self) -> PendingView<'_> {
        PendingView {
            start: self.start,
            entries: &self.entries,
            openings: &self.openings,
            by_id: &self.by_id,
        }
    }

    fn get(&self, seq: u64) -> Option<&SealedEntry> {
        let offset = usize::try_from(seq.checked_sub(self.start)?).ok()?;
        self.entries.get(offset)
    }

    /// Takes an accepted erasure into the batch: the openings of an entry of the batch lose
    /// the fields at once (and are not kept at all when none is left); a committed entry's
    /// are rewritten or deleted when the batch commits.
    fn erase(&mut self, erasure: hisaab_model::Erasure) {
        let offset = erasure
            .seq
            .checked_sub(self.start)
            .and_then(|offset| usize::try_from(offset).ok());
        if let Some(slot) = offset.and_then(|offset| self.openings.get_mut(offset)) {
            if let Some(openings) = slot {
                for field in &erasure.fields {
                    openings.fields.remove(field.as_str());
                }
                if openings.fields.is_empty() {
                    *slot = None;
                }
            }
            return;
        }
        self.erasures
            .entry(erasure.seq)
            .or_insert_with(|| (erasure.event_hash, BTreeSet::new()))
            .1
            .extend(erasure.fields);
    }
}

/// What the sequencer found under an envelope's statement id.
enum IdLookup {
    /// An entry with this id and these exact canonical bytes.
    Same(u64),
    /// An entry with this id and other bytes: the model answers (409).
    Other,
    /// No entry with this id, in this batch or on disk.
    Absent,
}

/// How a request was admitted to a batch.
enum Admitted {
    /// A new entry at this seq.
    New(u64),
    /// Already in the ledger (committed or earlier in this batch) with the same bytes.
    Existing(u64),
}

impl Writer {
    pub(crate) fn new(shared: Arc<Shared>, ledger: Ledger, clock: Arc<dyn Clock>) -> Self {
        let ledger_size = ledger.size();
        Writer {
            shared,
            ledger,
            clock,
            snapshots: None,
            deferred: Vec::new(),
            // `open` leaves the files synced to the log's size (rebuilding what a crash lost).
            index_synced: ledger_size,
            unsynced: Vec::new(),
            checkpoints: None,
        }
    }

    /// Hands snapshot sizes to the snapshot thread that `sender` feeds, starting with those
    /// reached before.
    pub(crate) fn with_snapshot_thread(mut self, sender: mpsc::Sender<Job>) -> Self {
        self.snapshots = Some(sender);
        let deferred = std::mem::take(&mut self.deferred);
        self.hand_over(deferred);
        self
    }

    /// Hands the snapshot sizes a durable batch reached to the snapshot thread (kept until
    /// one is attached).
    fn hand_over(&mut self, sizes: Job) {
        if sizes.is_empty() {
            return;
        }
        match &self.snapshots {
            // A thread that is gone (it stops only when the sequencer does) writes nothing.
            Some(sender) => {
                let _gone = sender.send(sizes);
            }
            None => self.deferred.extend(sizes),
        }
    }

    /// Appends the genesis and commits it with the format marker: the store exists from this
    /// one transaction on.
    pub(crate) fn create_genesis(
        &mut self,
        genesis: Envelope,
        canonical: Vec<u8>,
    ) -> Result<(), AppendError> {
        let mut pending = Pending::new(0);
        self.admit(&mut pending, genesis, None, &canonical)?;
        let mut writes = Writes::default();
        writes.meta.insert(FORMAT_KEY, FORMAT);
        self.commit(&pending, writes)?;
        self.hand_over(pending.snapshots);
        Ok(())
    }

    /// Takes requests until every sender is gone, in batches of at most `batch_entries_max`
    /// gathered for at most `batch_wait` after the first.
    pub(crate) fn run(mut self, receiver: mpsc::Receiver<Request>) {
        let max = self.shared.config.batch_entries_max.max(1);
        let wait = self.shared.config.batch_wait;
        while let Ok(first) = receiver.recv() {
            let mut batch = vec![first];
            let deadline = Instant::now() + wait;
            while batch.len() < max {
                let now = Instant::now();
                let next = if now >= deadline {
                    receiver.try_recv().ok()
                } else {
                    receiver.recv_timeout(deadline - now).ok()
                };
                match next {
                    Some(request) => batch.push(request),
                    None => break,
                }
            }
            self.process(batch);
        }
        self.sync_index();
    }

    /// Syncs the entry ends and stored hashes left unsynced, and records it (on close: the
    /// next open then rebuilds nothing). A failure leaves them to that open.
    fn sync_index(&mut self) {
        if self.unsynced.is_empty() || self.shared.failure.get().is_some() {
            return;
        }
        let size = self.shared.size();
        let mut writes = Writes::default();
        record_index_synced(&mut writes, self.unsynced.iter().copied());
        let trees = &self.shared.trees;
        let synced = trees
            .files
            .sync_index()
            .and_then(|()| trees.apply(&writes))
            .and_then(|()| trees.flush());
        match synced {
            Ok(()) => self.index_synced_to(size),
            Err(error) => tracing::warn!(
                %error,
                "entry ends and stored hashes not synced on close: the next open rebuilds them"
            ),
        }
    }

    /// The entry ends and stored hashes are synced up to `size`, and recorded so.
    fn index_synced_to(&mut self, size: u64) {
        self.index_synced = size;
        self.unsynced.clear();
    }

    fn process(&mut self, batch: Vec<Request>) {
        if let Some(reason) = self.shared.failure.get() {
            for request in batch {
                request.reply.send(Err(AppendError::StorageFailed {
                    reason: reason.clone(),
                }));
            }
            return;
        }
        let mut pending = Pending::new(self.ledger.size());
        let mut waiting = Vec::with_capacity(batch.len());
        for request in batch {
            match self.admit(
                &mut pending,
                request.envelope,
                request.sealing.as_ref(),
                &request.canonical,
            ) {
                Ok(admitted) => waiting.push((request.reply, admitted)),
                // A rejection changes nothing; it is answered at once.
                Err(error) => request.reply.send(Err(error)),
            }
        }
        let checkpoint = if pending.entries.is_empty() {
            self.shared.committed().latest
        } else {
            match self.commit(&pending, Writes::default()) {
                Ok(checkpoint) => checkpoint,
                Err(error) => {
                    // The model state is now ahead of the disk (and sled stays failed after an I/O
                    // error): stop taking appends. Reopening the store resumes from what is
                    // durable; nothing of this batch was acknowledged.
                    let reason = error.to_string();
                    let _ = self.shared.failure.set(reason.clone());
                    for (reply, _) in waiting {
                        reply.send(Err(AppendError::StorageFailed {
                            reason: reason.clone(),
                        }));
                    }
                    return;
                }
            }
        };
        // The stored hashes its receipts' proofs need (built by each caller), read here once
        // for the batch rather than by each caller from the hashes file.
        let hashes = std::mem::take(&mut pending.hashes);
        let batch = if pending.entries.is_empty() {
            BatchHashes::default()
        } else {
            // Unreadable now, these are read again (and the failure answered) per receipt.
            let shared = &self.shared;
            shared
                .upper
                .with_reader(&shared.trees.files, |reader| {
                    BatchHashes::new(pending.start, pending.hash_start, hashes, reader)
                })
                .unwrap_or_default()
        };
        let batch = Arc::new(batch);
        for (reply, admitted) in waiting {
            let result = self.accepted(&pending, admitted, &checkpoint, &batch);
            reply.send(result);
        }
        // The batch is durable: its snapshots may be written now, after its receipts.
        self.hand_over(std::mem::take(&mut pending.snapshots));
    }

    fn accepted(
        &self,
        pending: &Pending,
        admitted: Admitted,
        checkpoint: &SignedCheckpoint,
        batch: &Arc<BatchHashes>,
    ) -> Result<Accepted, AppendError> {
        let seq = match admitted {
            Admitted::New(seq) => seq,
            Admitted::Existing(seq) => return Ok(Accepted::Existing { seq }),
        };
        let accepted = |sealed: &SealedEntry| Accepted::New {
            seq,
            event_hash: sealed.event_hash(),
            recorded_at: sealed.entry().recorded_at.clone(),
            checkpoint: checkpoint.clone(),
            batch: Arc::clone(batch),
        };
        Ok(match pending.get(seq) {
            Some(sealed) => accepted(sealed),
            None => accepted(
                &self
                    .shared
                    .trees
                    .read_entry(seq, checkpoint.checkpoint.size)?,
            ),
        })
    }

    /// Judges one envelope at the next position: a resubmission is recognised, anything else
    /// goes through the model with a history that sees the disk and this batch. A sealed body
    /// comes with its sealing: the model checks it (rule 1) and runs every rule on the opened
    /// body; the openings go into the batch beside the entry.
    fn admit(
        &mut self,
        pending: &mut Pending,
        envelope: Envelope,
        sealing: Option<&Sealing>,
        canonical: &[u8],
    ) -> Result<Admitted, AppendError> {
        let lookup = self.same_envelope(pending, &envelope.statement.id, canonical)?;
        if let IdLookup::Same(seq) = lookup {
            return Ok(Admitted::Existing(seq));
        }
        let seq = self.ledger.size();
        let fields = self
            .ledger
            .check_sealing(seq, &envelope.statement, sealing)
            .map_err(AppendError::Violation)?;
        // A sealing is kept, and an erasure of a sealed entry's fields deletes openings, in
        // the vault: neither without the master key.
        if self.shared.trees.vault.is_none()
            && (fields.is_some() || self.erases_sealed(pending, &envelope)?)
        {
            return Err(AppendError::Store(StoreError::NoMasterKey));
        }
        let recorded_at = self.recorded_at()?;
        let entry = Entry::new(seq, self.ledger.last_event_hash(), recorded_at, envelope);
        // The caller's canonical bytes of this envelope are spliced into the leaf bytes rather
        // than serialising the statement again (byte for byte the same JCS).
        let sealed = SealedEntry::seal_with_envelope_bytes(entry, canonical)?;
        let hashes = {
            let reader = OverlayHashes {
                disk: self.shared.trees.hashes(),
                start: pending.hash_start,
                pending: &pending.hashes,
            };
            stored_hashes_for_leaf(seq, sealed.event_hash(), &reader).map_err(merkle_corruption)?
        };
        let history = StoreHistory {
            trees: &self.shared.trees,
            pending: Some(pending.view()),
            limit: seq,
            // The model asks whether the id is used; an id just found absent is not read again.
            known_absent: matches!(lookup, IdLookup::Absent)
                .then_some(&sealed.entry().statement.id),
        };
        // The rules parse the body once; its subject and scope come from that parse.
        let applied = self
            .ledger
            .apply_indexed(&sealed, fields.as_ref(), &history)
            .map_err(AppendError::Violation)?;
        let openings = fields.map(|fields| Openings {
            seq,
            event_hash: sealed.event_hash(),
            kind: sealed.entry().statement.kind.clone(),
            fields,
        });
        pending
            .by_id
            .insert(sealed.entry().statement.id.clone(), seq);
        pending.hashes.extend(hashes);
        if let Some(erasure) = applied.erasure {
            pending.erase(erasure);
        }
        pending.subjects.push(applied.subject);
        pending.scopes.push(applied.scope);
        pending.entries.push(sealed);
        pending.openings.push(openings);
        let size = self.ledger.size();
        if self.shared.config.is_snapshot_size(size) {
            // The snapshot thread replays to it and leaves out what its pruning would remove
            // at once: nothing here grows with the state.
            pending.snapshots.push(size);
        }
        Ok(Admitted::New(seq))
    }

    /// Whether `envelope` is a `field.erased` naming an entry in sealed form (in this batch or
    /// on disk), whose openings the vault may keep (SPEC §12.9). An erasure of an entry in the
    /// clear, or one the model will refuse, deletes nothing.
    fn erases_sealed(&self, pending: &Pending, envelope: &Envelope) -> Result<bool, AppendError> {
        let statement = &envelope.statement;
        if statement.kind != hisaab_model::Kind::FieldErased.as_str() {
            return Ok(false);
        }
        let Some(hash) = statement
            .body
            .get("entry")
            .and_then(serde_json::Value::as_str)
            .and_then(|text| Hash::try_from_hex(text).ok())
        else {
            return Ok(false);
        };
        let trees = &self.shared.trees;
        let target = match pending.entries.iter().find(|e| e.event_hash() == hash) {
            Some(entry) => entry.clone(),
            None => match trees.seq_of_event(&hash)? {
                Some(seq) => trees.read_entry(seq, pending.start)?,
                None => return Ok(false),
            },
        };
        let named = &target.entry().statement;
        Ok(hisaab_model::sealed::is_sealed_form(
            &named.kind,
            &named.body,
        ))
    }

    /// Whether an entry with this id, in this batch or on disk, has these exact canonical
    /// bytes. An id with other bytes is left to the model (409).
    fn same_envelope(
        &self,
        pending: &Pending,
        id: &StatementId,
        canonical: &[u8],
    ) -> Result<IdLookup, AppendError> {
        let trees = &self.shared.trees;
        let seq = match pending.by_id.get(id) {
            Some(&seq) => Some(seq),
            None => trees.seq_of_statement(id.as_str())?,
        };
        let Some(seq) = seq else {
            return Ok(IdLookup::Absent);
        };
        let stored = match pending.get(seq) {
            Some(sealed) => sealed.envelope_canonical_bytes()?,
            None => trees
                .read_entry(seq, pending.start)?
                .envelope_canonical_bytes()?,
        };
        Ok(if stored == canonical {
            IdLookup::Same(seq)
        } else {
            IdLookup::Other
        })
    }

    /// Now by the clock, but never before the last entry's `recorded_at` (SPEC §2).
    fn recorded_at(&self) -> Result<Timestamp, AppendError> {
        let now = Timestamp::from_unix_millis(self.clock.now_unix_millis())
            .map_err(|e| AppendError::Store(StoreError::Format(e)))?;
        Ok(match self.ledger.last_recorded_at() {
            Some(last) if *last > now => last.clone(),
            _ => now,
        })
    }

    /// Writes the batch in one transaction with its signed checkpoint, flushes once, and
    /// publishes the new size and checkpoint.
    fn commit(
        &mut self,
        pending: &Pending,
        mut writes: Writes,
    ) -> Result<SignedCheckpoint, StoreError> {
        let shared = Arc::clone(&self.shared);
        let count = u64::try_from(pending.entries.len()).unwrap_or(u64::MAX);
        let size = pending.start.saturating_add(count);
        let root = merkle::tree_root(
            size,
            &OverlayHashes {
                disk: shared.trees.hashes(),
                start: pending.hash_start,
                pending: &pending.hashes,
            },
        )
        .map_err(merkle_corruption)?;
        let checkpoint = Checkpoint {
            origin: shared.origin.clone(),
            size,
            root,
        };
        let note = checkpoint.sign(&shared.log_key)?;

        for (sealed, subject) in pending.entries.iter().zip(&pending.subjects) {
            let seq = sealed.entry().seq;
            let seq_key = seq.to_be_bytes();
            if let Some((operator, kpi)) = subject
                .as_ref()
                .filter(|(o, k)| !o.contains('\0') && !k.contains('\0'))
            {
                let mut key = kpi_prefix(operator, kpi);
                key.extend_from_slice(&seq_key);
                writes.by_kpi.insert(key, &[]);
            }
        }
        // The openings, encrypted, in the same transaction as their entries: a crash keeps both
        // or neither (SPEC §12.10).
        for openings in pending.openings.iter().flatten() {
            let vault = shared.trees.vault.as_ref().ok_or(StoreError::NoMasterKey)?;
            writes.openings.insert(
                &crate::openings::OpeningsVault::key(openings.seq),
                vault.seal_record(openings)?,
            );
        }
        // Erasures, in the same transaction as the `field.erased` entries that make them: the
        // remaining openings under a fresh data key, or no record when none is left (SPEC §12.9).
        // Without the master key only erasures of entries in the clear were admitted, and they
        // have no openings to delete.
        let erasures = shared
            .trees
            .vault
            .as_ref()
            .map(|vault| (vault, &pending.erasures));
        for (vault, (seq, (event_hash, fields))) in erasures
            .into_iter()
            .flat_map(|(vault, all)| all.iter().map(move |item| (vault, item)))
        {
            let Some(mut openings) = vault.get(*seq, event_hash)? else {
                continue;
            };
            openings
                .fields
                .retain(|field, _| !fields.contains(field.as_str()));
            let key = crate::openings::OpeningsVault::key(*seq);
            if openings.fields.is_empty() {
                writes.openings.remove(&key);
            } else {
                writes.openings.insert(&key, vault.seal_record(&openings)?);
            }
        }
        // The entries are durable in their file before the transaction that holds the batch's
        // checkpoint: a checkpoint in sled always finds its entries.
        let scopes: Vec<Vec<u8>> = pending.scopes.iter().map(encode_scope).collect();
        let records: Vec<(&[u8], &[u8])> = pending
            .entries
            .iter()
            .map(SealedEntry::leaf_bytes)
            .zip(scopes.iter().map(Vec::as_slice))
            .collect();
        // Only the entries are synced with each batch; their ends and stored hashes every
        // `INDEX_SYNC_ENTRIES` entries, the ends kept in this transaction until then (the
        // stored hashes are computed again from the entries), so that `open` can rebuild both.
        let sync = if pending.start == 0 || size - self.index_synced >= INDEX_SYNC_ENTRIES {
            Sync::All
        } else {
            Sync::Entries
        };
        let ends = shared.trees.files.append_syncing(
            pending.start,
            &records,
            pending.hash_start,
            &pending.hashes,
            sync,
        )?;
        match sync {
            Sync::All => record_index_synced(&mut writes, self.unsynced.iter().copied()),
            Sync::Entries => {
                writes.meta.insert(ends_key(pending.start), ends);
                // The first batch after a sync records where the unsynced entries begin; the
                // key stays until the next sync removes it.
                if self.unsynced.is_empty() {
                    writes
                        .meta
                        .insert(INDEX_SYNCED_KEY, &self.index_synced.to_be_bytes());
                }
            }
        }
        writes
            .checkpoints
            .insert(&size.to_be_bytes(), note.as_bytes());
        writes.meta.insert(batch_key(size), &[]);

        let _lock = shared
            .checkpoint_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.prune_checkpoints(&mut writes, size)?;
        shared.trees.apply(&writes)?;
        shared.trees.flush()?;
        match sync {
            Sync::All => self.index_synced_to(size),
            Sync::Entries => self.unsynced.push(pending.start),
        }
        shared.upper.extend(pending.start, &pending.hashes);
        // Indexed once committed, so that no index run ever holds an entry open cuts off.
        shared.trees.index.add(
            pending.start,
            pending.entries.iter().map(|sealed| {
                (
                    sealed.event_hash(),
                    Some(sealed.entry().statement.id.as_str()),
                )
            }),
        )?;
        shared
            .marker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .write(&Mark { size, root })?;
        let latest = SignedCheckpoint { note, checkpoint };
        shared.publish(Committed {
            size,
            latest: latest.clone(),
        });
        Ok(latest)
    }

    /// Keeps the `checkpoints_kept` most recent checkpoints, counting the new one at `size`.
    /// The keys kept are listed from the tree once, then followed here: only the sequencer
    /// adds or removes checkpoints (a cosignature rewrites one in place).
    fn prune_checkpoints(&mut self, writes: &mut Writes, size: u64) -> Result<(), StoreError> {
        let kept = self.shared.config.checkpoints_kept.max(1);
        let keys = match &mut self.checkpoints {
            Some(keys) => keys,
            None => {
                let listed = self.shared.trees.checkpoints.iter().keys();
                let keys = listed
                    .collect::<Result<VecDeque<_>, _>>()
                    .map_err(StoreError::sled("listing checkpoints"))?;
                self.checkpoints.insert(keys)
            }
        };
        keys.push_back(sled::IVec::from(&size.to_be_bytes()));
        while keys.len() > kept {
            if let Some(key) = keys.pop_front() {
                writes.checkpoints.remove(key);
            }
        }
        Ok(())
    }
}
