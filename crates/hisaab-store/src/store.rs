//! [`Store`]: creating, opening, appending to and reading a durable ledger.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;

use hisaab_log::merkle::{self, leaf_hash};
use hisaab_log::note::{Checkpoint, VerifierKey};
use hisaab_log::statement::ENVELOPE_BYTES_MAX;
use hisaab_log::{Date, Envelope, FormatError, Hash, PublicKey, SealedEntry, SigningKey};
use hisaab_log::{StatementId, Timestamp};
use serde::{Deserialize, Serialize};
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

use crate::config::{Clock, StoreConfig};
use crate::error::{AppendError, Corruption, StoreError};
use crate::layout::{decode_u64, kpi_prefix, merkle_corruption, SledHashes, Trees};
use crate::mark::Marker;
use crate::model::{Ledger, State};
use crate::replay::ledger_at;
use crate::writer::{Accepted, Writer};

/// The most entries [`Store::entries`] returns at once.
pub const ENTRIES_LIMIT_MAX: u64 = 1000;

/// What a caller gets for an appended envelope (SPEC §7): where it is, when it was recorded, and
/// a checkpoint that covers it with the inclusion proof for that checkpoint's size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The entry's seq (its leaf index).
    pub seq: u64,
    /// The entry's event hash (its leaf hash).
    pub event_hash: Hash,
    /// When the ledger recorded it.
    pub recorded_at: Timestamp,
    /// A signed checkpoint note whose tree includes the entry.
    pub checkpoint: String,
    /// The RFC 9162 inclusion proof of the entry in that checkpoint's tree.
    pub inclusion_proof: Vec<Hash>,
}

/// The answer to an append: the receipt, and whether the envelope was new (`false` when it was
/// already in the ledger and this is its original receipt with a current checkpoint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The receipt.
    pub receipt: Receipt,
    /// `true` for a new entry (HTTP 201), `false` for a resubmission (HTTP 200).
    pub created: bool,
}

/// A signed checkpoint: the note text (with the cosignatures collected for it) and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The signed note, C2SP `tlog-checkpoint`, with any witness cosignature lines.
    pub note: String,
    /// Its origin, size and root.
    pub checkpoint: Checkpoint,
}

/// What [`Store::open`] found and did: how much it checked and replayed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenReport {
    /// The log's size (the latest checkpoint's).
    pub size: u64,
    /// The size of the snapshot the model state resumed from (0: none, replayed from genesis).
    pub snapshot_size: u64,
    /// Entries replayed through the model after the snapshot.
    pub replayed_entries: u64,
    /// Entries at the end of the log whose links, leaf and stored hashes and index records
    /// were checked (the replayed ones among them; the last `tail_check_entries` also had
    /// their signatures and every rule checked).
    pub checked_entries: u64,
    /// Entries past the latest checkpoint that a torn batch had left, removed on open (no
    /// receipt was ever given for them).
    pub truncated_entries: u64,
    /// Newer snapshots that did not check out and were passed over.
    pub snapshots_refused: u64,
    /// What the high-water mark beside sled's files said.
    pub mark: MarkStatus,
}

/// The high-water mark as `open` found it (see [`OpenReport::mark`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum MarkStatus {
    /// The mark records the size and root of the latest checkpoint.
    #[default]
    Agrees,
    /// The mark lags the store (its last write was lost, harmlessly).
    Behind,
    /// There is no mark file (a store from before marks, or deleted).
    Missing,
    /// The mark file does not check out.
    Unreadable,
}

impl MarkStatus {
    /// A warning for a person when the mark cannot vouch for the store (missing or
    /// unreadable), `None` otherwise. A mark ahead of the store is not a warning but an error
    /// ([`Corruption::LostEntries`]).
    pub fn warning(&self) -> Option<&'static str> {
        match self {
            MarkStatus::Agrees | MarkStatus::Behind => None,
            MarkStatus::Missing => Some(
                "the high-water mark file (hisaab-mark) is missing: it was deleted, or this \
                 directory is a copy without it, so a rollback to an older copy of the store \
                 cannot be detected here; compare the checkpoint with one a witness cosigned",
            ),
            MarkStatus::Unreadable => Some(
                "the high-water mark file (hisaab-mark) is damaged and was ignored, so a \
                 rollback to an older copy of the store cannot be detected here; compare the \
                 checkpoint with one a witness cosigned",
            ),
        }
    }
}

/// What [`Store::verify_full`] checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyReport {
    /// The number of entries verified.
    pub size: u64,
    /// The root of the verified tree, equal to the latest checkpoint's.
    pub root: Hash,
    /// The ledger id (event hash of entry 0).
    pub ledger_id: Hash,
    /// The ledger's origin.
    pub origin: String,
    /// The log's verifier key, genesis `body.log_key`, under which the checkpoint verified.
    pub log_vkey: VerifierKey,
    /// What the high-water mark said (as `open` found it, for [`Store::verify_full`]).
    pub mark: MarkStatus,
}

/// The committed part of the log, published after each durable batch.
#[derive(Debug, Clone)]
pub(crate) struct Committed {
    pub(crate) size: u64,
    pub(crate) latest: SignedCheckpoint,
}

/// What the store's handles and its sequencer share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) trees: Trees,
    pub(crate) config: StoreConfig,
    pub(crate) log_key: SigningKey,
    pub(crate) log_vkey: VerifierKey,
    /// Genesis `body.log_key`, as written.
    pub(crate) genesis_log_key: String,
    pub(crate) origin: String,
    pub(crate) committed: RwLock<Committed>,
    /// Serialises writes to the `checkpoints` tree (the sequencer and cosignatures).
    pub(crate) checkpoint_lock: Mutex<()>,
    /// Set when a batch failed to commit: the sequencer's state may be ahead of the disk.
    pub(crate) failed: AtomicBool,
    pub(crate) report: OpenReport,
    /// The high-water mark, written after each durable batch.
    pub(crate) marker: Mutex<Marker>,
}

impl Shared {
    pub(crate) fn committed(&self) -> Committed {
        self.committed
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn size(&self) -> u64 {
        self.committed
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .size
    }

    pub(crate) fn publish(&self, committed: Committed) {
        *self
            .committed
            .write()
            .unwrap_or_else(PoisonError::into_inner) = committed;
    }
}

/// One envelope on its way to the sequencer, with where to send the answer.
pub(crate) struct Request {
    pub(crate) envelope: Envelope,
    pub(crate) canonical: Vec<u8>,
    pub(crate) reply: Reply,
}

/// Where the sequencer answers.
pub(crate) enum Reply {
    Async(
        oneshot::Sender<Result<Accepted, AppendError>>,
        OwnedSemaphorePermit,
    ),
    Blocking(mpsc::SyncSender<Result<Accepted, AppendError>>),
}

impl Reply {
    pub(crate) fn send(self, result: Result<Accepted, AppendError>) {
        // A caller that went away no longer wants its answer; the entry stays appended.
        match self {
            Reply::Async(sender, _permit) => {
                let _gone = sender.send(result);
            }
            Reply::Blocking(sender) => {
                let _gone = sender.send(result);
            }
        }
    }
}

/// A durable Hisaab ledger in a sled directory. Cloning gives another handle to the same store.
///
/// Appends from any number of threads or tasks go through one sequencer thread that applies the
/// model's rules in order, writes each batch in one sled transaction, makes it durable with one
/// flush, signs one checkpoint for it, and only then answers with receipts.
///
/// ```
/// use std::sync::Arc;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = tempfile::tempdir()?;
/// # let (genesis, log_key) = (hisaab_testkit::fixture::genesis()?, hisaab_testkit::fixture::log_key());
/// use hisaab_store::{ManualClock, Store, StoreConfig};
///
/// let clock = Arc::new(ManualClock::new(1_767_225_600_000));
/// let store = Store::create(dir.path(), genesis, log_key, StoreConfig::default(), clock)?;
/// assert_eq!(store.size(), 1);
/// let checkpoint = store.latest_checkpoint();
/// assert_eq!(checkpoint.checkpoint.size, 1);
/// store.close()?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    shared: Arc<Shared>,
    sender: RwLock<Option<mpsc::Sender<Request>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    permits: Arc<Semaphore>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ignored = self.shutdown();
    }
}

impl Inner {
    fn shutdown(&self) -> Result<(), StoreError> {
        // Dropping the sender ends the sequencer's loop once it has answered what is queued.
        drop(
            self.sender
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        self.permits.close();
        let handle = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = handle {
            let _joined = handle.join();
        }
        self.shared.trees.flush()
    }
}

impl Store {
    /// Creates a ledger in `dir` (made if missing) from its genesis envelope, which becomes
    /// entry 0 with the first checkpoint.
    ///
    /// # Errors
    /// [`StoreError::AlreadyExists`] if `dir` holds a store; [`StoreError::Genesis`] if the
    /// envelope is not a genesis whose signature verifies and which the model accepts;
    /// [`StoreError::LogKeyMismatch`] unless `log_key`'s verifier key under the genesis origin
    /// is genesis `body.log_key`; [`StoreError::Sled`] when storage fails.
    pub fn create(
        dir: impl AsRef<Path>,
        genesis: Envelope,
        log_key: SigningKey,
        config: StoreConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Store, StoreError> {
        let dir = dir.as_ref();
        let refuse = |reason: &str| StoreError::Genesis {
            reason: reason.to_owned(),
        };
        if !genesis.statement.is_genesis() {
            return Err(refuse("the statement is not a ledger.genesis"));
        }
        genesis
            .verify_signature()
            .map_err(|_| refuse("the signature does not verify"))?;
        let body = &genesis.statement.body;
        let (Some(origin), Some(genesis_log_key)) = (
            body.get("origin").and_then(|v| v.as_str()),
            body.get("log_key").and_then(|v| v.as_str()),
        ) else {
            return Err(refuse("body.origin and body.log_key must be strings"));
        };
        let log_vkey = checked_log_vkey(origin, genesis_log_key, &log_key)?;
        let canonical = genesis.canonical_bytes().map_err(StoreError::Format)?;

        let trees = Trees::open(open_db(dir, &config)?)?;
        let existing = trees
            .meta
            .get(crate::layout::FORMAT_KEY)
            .map_err(StoreError::sled("reading the format marker"))?;
        if existing.is_some() || trees.entry_count()? > 0 {
            return Err(StoreError::AlreadyExists {
                path: dir.to_owned(),
            });
        }
        let empty = Checkpoint {
            origin: origin.to_owned(),
            size: 0,
            root: merkle::empty_root(),
        };
        let shared = Arc::new(Shared {
            trees,
            config,
            log_key,
            log_vkey,
            genesis_log_key: genesis_log_key.to_owned(),
            origin: origin.to_owned(),
            committed: RwLock::new(Committed {
                size: 0,
                latest: SignedCheckpoint {
                    note: String::new(),
                    checkpoint: empty,
                },
            }),
            checkpoint_lock: Mutex::new(()),
            failed: AtomicBool::new(false),
            report: OpenReport::default(),
            marker: Mutex::new(Marker::open(dir)?),
        });
        let mut writer = Writer::new(Arc::clone(&shared), Ledger::new(), clock);
        writer
            .create_genesis(genesis, canonical)
            .map_err(|e| match e {
                AppendError::Store(e) => e,
                other => StoreError::Genesis {
                    reason: other.to_string(),
                },
            })?;
        Ok(Self::start(shared, writer))
    }

    /// Opens the ledger in `dir`, checking quickly that it is whole (see the crate docs), and
    /// resumes the model state from the latest snapshot plus the entries after it.
    ///
    /// # Errors
    /// [`StoreError::NotAStore`] if `dir` holds no store; [`StoreError::LogKeyMismatch`] if
    /// `log_key` is not the one genesis names; [`StoreError::Corrupt`] naming what and where
    /// when a check fails; [`StoreError::Sled`] when storage fails.
    pub fn open(
        dir: impl AsRef<Path>,
        log_key: SigningKey,
        config: StoreConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Store, StoreError> {
        let dir = dir.as_ref();
        if !dir.join("conf").exists() {
            return Err(StoreError::NotAStore {
                path: dir.to_owned(),
            });
        }
        let trees = Trees::open(open_db(dir, &config)?)?;
        let recovered = crate::open::recover(&trees, dir, &log_key, &config)?;
        let shared = Arc::new(Shared {
            trees,
            config,
            log_key,
            log_vkey: recovered.log_vkey,
            genesis_log_key: recovered.genesis_log_key,
            origin: recovered.origin,
            committed: RwLock::new(recovered.committed),
            checkpoint_lock: Mutex::new(()),
            failed: AtomicBool::new(false),
            report: recovered.report,
            marker: Mutex::new(Marker::open(dir)?),
        });
        let writer = Writer::new(Arc::clone(&shared), recovered.ledger, clock);
        Ok(Self::start(shared, writer))
    }

    fn start(shared: Arc<Shared>, writer: Writer) -> Store {
        let (sender, receiver) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("hisaab-sequencer".into())
            .spawn(move || writer.run(receiver));
        let permits = Arc::new(Semaphore::new(shared.config.queue_entries_max.max(1)));
        let (sender, writer) = match handle {
            Ok(handle) => (Some(sender), Some(handle)),
            // Without a sequencer the store is read-only; appends answer `Closed`.
            Err(_) => (None, None),
        };
        Store {
            inner: Arc::new(Inner {
                shared,
                sender: RwLock::new(sender),
                writer: Mutex::new(writer),
                permits,
            }),
        }
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// Appends an envelope and answers once it is durable, with its receipt (SPEC §7). An
    /// envelope already in the ledger (same statement id, same canonical bytes) gets its
    /// original receipt, byte for byte (the checkpoint and proof of the batch that appended
    /// it), and `created: false`.
    ///
    /// The signature is checked here, in the caller's task; the rules of SPEC §4 in order by
    /// the sequencer.
    ///
    /// # Errors
    /// [`AppendError::Format`] for an envelope that is not canonicalisable or is over the size
    /// limit, [`AppendError::Signature`], [`AppendError::Violation`] with the model's rule,
    /// [`AppendError::Closed`] after `close` or a failed write, [`AppendError::Store`] when
    /// storage fails.
    pub async fn append(&self, envelope: Envelope) -> Result<Appended, AppendError> {
        let canonical = match self.precheck(&envelope)? {
            Precheck::Existing(appended) => return Ok(appended),
            Precheck::New(canonical) => canonical,
        };
        let permit = Arc::clone(&self.inner.permits)
            .acquire_owned()
            .await
            .map_err(|_| AppendError::Closed)?;
        let (sender, receiver) = oneshot::channel();
        self.submit(Request {
            envelope,
            canonical,
            reply: Reply::Async(sender, permit),
        })?;
        let accepted = receiver.await.map_err(|_| AppendError::Closed)??;
        self.finish(accepted)
    }

    /// [`Store::append`] for threads outside an async runtime: blocks until the entry is
    /// durable.
    ///
    /// # Errors
    /// As [`Store::append`].
    pub fn append_blocking(&self, envelope: Envelope) -> Result<Appended, AppendError> {
        let canonical = match self.precheck(&envelope)? {
            Precheck::Existing(appended) => return Ok(appended),
            Precheck::New(canonical) => canonical,
        };
        let (sender, receiver) = mpsc::sync_channel(1);
        self.submit(Request {
            envelope,
            canonical,
            reply: Reply::Blocking(sender),
        })?;
        let accepted = receiver.recv().map_err(|_| AppendError::Closed)??;
        self.finish(accepted)
    }

    /// The stateless checks, in SPEC §7's order: already in the ledger (answered here), then
    /// size and form, then the signature.
    fn precheck(&self, envelope: &Envelope) -> Result<Precheck, AppendError> {
        let canonical = envelope.canonical_bytes()?;
        if let Some(appended) = self.existing(envelope, &canonical)? {
            return Ok(Precheck::Existing(appended));
        }
        if canonical.len() > ENVELOPE_BYTES_MAX {
            return Err(AppendError::Format(FormatError::TooLarge {
                bytes: canonical.len(),
                max: ENVELOPE_BYTES_MAX,
            }));
        }
        envelope.statement.check_form()?;
        // JCS(statement), the signed bytes, is the tail of `canonical`: cut from it.
        envelope
            .verify_signature_canonical(&canonical)
            .map_err(|_| AppendError::Signature)?;
        Ok(Precheck::New(canonical))
    }

    /// The original receipt of `envelope` if it is already committed with the same bytes.
    fn existing(
        &self,
        envelope: &Envelope,
        canonical: &[u8],
    ) -> Result<Option<Appended>, StoreError> {
        let Some(sealed) = self.entry_by_statement_id(&envelope.statement.id)? else {
            return Ok(None);
        };
        if sealed.envelope_canonical_bytes()? != canonical {
            // Same id, other envelope: the sequencer answers with the model's verdict.
            return Ok(None);
        }
        let receipt = self.receipt(sealed.entry().seq)?;
        Ok(Some(Appended {
            receipt,
            created: false,
        }))
    }

    fn submit(&self, request: Request) -> Result<(), AppendError> {
        if self.shared().failed.load(Ordering::SeqCst) {
            return Err(AppendError::Closed);
        }
        let sender = self
            .inner
            .sender
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let sender = sender.as_ref().ok_or(AppendError::Closed)?;
        sender.send(request).map_err(|_| AppendError::Closed)
    }

    /// Builds the receipt for an accepted envelope in the caller's thread, so that proofs for
    /// a batch are computed in parallel. A resubmission gets its original receipt.
    fn finish(&self, accepted: Accepted) -> Result<Appended, AppendError> {
        if !accepted.created {
            return Ok(Appended {
                receipt: self.receipt(accepted.seq)?,
                created: false,
            });
        }
        let inclusion_proof =
            self.inclusion_proof(accepted.seq, accepted.checkpoint.checkpoint.size)?;
        Ok(Appended {
            receipt: Receipt {
                seq: accepted.seq,
                event_hash: accepted.event_hash,
                recorded_at: accepted.recorded_at,
                checkpoint: accepted.checkpoint.note,
                inclusion_proof,
            },
            created: accepted.created,
        })
    }

    /// The receipt of entry `seq` exactly as its appender got it: the checkpoint signed for the
    /// batch that appended it and the inclusion proof for that size.
    ///
    /// # Errors
    /// [`StoreError::BeyondLog`] unless `seq < size`; storage and corruption errors.
    pub fn receipt(&self, seq: u64) -> Result<Receipt, StoreError> {
        let shared = self.shared();
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

    /// The number of durable entries.
    pub fn size(&self) -> u64 {
        self.shared().size()
    }

    /// The ledger's origin (genesis `body.origin`).
    pub fn origin(&self) -> &str {
        &self.shared().origin
    }

    /// The log's verifier key (genesis `body.log_key`).
    pub fn log_vkey(&self) -> &VerifierKey {
        &self.shared().log_vkey
    }

    /// What opening the store found and did.
    pub fn open_report(&self) -> &OpenReport {
        &self.shared().report
    }

    /// The latest signed checkpoint, with the cosignatures collected for it.
    pub fn latest_checkpoint(&self) -> SignedCheckpoint {
        self.shared().committed().latest
    }

    /// A kept checkpoint for `size` (the latest and a few before it), with its cosignatures.
    ///
    /// # Errors
    /// Storage errors, and [`StoreError::Note`] for a kept note that does not verify.
    pub fn checkpoint_at(&self, size: u64) -> Result<Option<SignedCheckpoint>, StoreError> {
        let Some(note) = self
            .shared()
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
        let checkpoint = hisaab_log::note::verify_checkpoint(&note, &self.shared().log_vkey)?;
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
        let sealed = self.shared().trees.read_entry(seq, size)?;
        self.check_leaf(seq, sealed.event_hash())?;
        Ok(Some(sealed))
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
        let bytes = self
            .shared()
            .trees
            .entry_bytes(seq)?
            .ok_or(Corruption::MissingEntry { seq, size })?;
        self.check_leaf(seq, leaf_hash(&bytes))?;
        Ok(Some(bytes.to_vec()))
    }

    fn check_leaf(&self, seq: u64, computed: Hash) -> Result<(), StoreError> {
        let stored = self
            .shared()
            .trees
            .stored_hash(merkle::stored_hash_index(0, seq))?;
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

    /// The entry whose event hash is `event_hash`, if it is in the log.
    ///
    /// # Errors
    /// As [`Store::entry`], and [`Corruption::Index`] when the index points at another entry.
    pub fn entry_by_event_hash(
        &self,
        event_hash: &Hash,
    ) -> Result<Option<SealedEntry>, StoreError> {
        let trees = &self.shared().trees;
        let Some(seq) = Trees::index_seq(&trees.by_event, "by_event", event_hash.as_bytes())?
        else {
            return Ok(None);
        };
        let Some(sealed) = self.entry(seq)? else {
            return Ok(None);
        };
        if sealed.event_hash() != *event_hash {
            return Err(Corruption::Index {
                index: "by_event",
                seq,
            }
            .into());
        }
        Ok(Some(sealed))
    }

    /// The entry holding the statement `id`, if it is in the log.
    ///
    /// # Errors
    /// As [`Store::entry_by_event_hash`].
    pub fn entry_by_statement_id(
        &self,
        id: &StatementId,
    ) -> Result<Option<SealedEntry>, StoreError> {
        let trees = &self.shared().trees;
        let Some(seq) =
            Trees::index_seq(&trees.by_statement, "by_statement", id.as_str().as_bytes())?
        else {
            return Ok(None);
        };
        let Some(sealed) = self.entry(seq)? else {
            return Ok(None);
        };
        if sealed.entry().statement.id != *id {
            return Err(Corruption::Index {
                index: "by_statement",
                seq,
            }
            .into());
        }
        Ok(Some(sealed))
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
        self.check_tree_size(tree_size)?;
        if index >= tree_size {
            return Err(StoreError::Proof(
                hisaab_log::merkle::MerkleError::IndexOutOfRange {
                    index,
                    size: tree_size,
                },
            ));
        }
        merkle::inclusion_proof(index, tree_size, &SledHashes(&self.shared().trees.hashes))
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
        merkle::consistency_proof(from, to, &SledHashes(&self.shared().trees.hashes))
            .map_err(merkle_corruption)
    }

    /// The Merkle root of the tree of size `tree_size`.
    ///
    /// # Errors
    /// [`StoreError::BeyondLog`], [`StoreError::Corrupt`] for a missing stored hash.
    pub fn root(&self, tree_size: u64) -> Result<Hash, StoreError> {
        self.check_tree_size(tree_size)?;
        merkle::tree_root(tree_size, &SledHashes(&self.shared().trees.hashes))
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
        let size = self.size();
        let as_of = as_of.unwrap_or(size);
        if as_of == 0 || as_of > size {
            return Err(StoreError::BeyondLog {
                what: "as_of",
                value: as_of,
                size,
            });
        }
        let ledger = ledger_at(&self.shared().trees, as_of, None)?;
        Ok(ledger.state(at))
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
        for item in self.shared().trees.by_kpi.scan_prefix(&prefix) {
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

    /// The bytes sled uses on disk.
    ///
    /// # Errors
    /// Storage errors.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.shared()
            .trees
            .db
            .size_on_disk()
            .map_err(StoreError::sled("measuring the disk use"))
    }

    /// Stops the sequencer after it has answered what is queued, and flushes. Later appends
    /// answer [`AppendError::Closed`]; reads keep working. Dropping the last handle does the
    /// same.
    ///
    /// # Errors
    /// [`StoreError::Sled`] when the final flush fails.
    pub fn close(&self) -> Result<(), StoreError> {
        self.inner.shutdown()
    }

    pub(crate) fn shared_ref(&self) -> &Shared {
        self.shared()
    }
}

enum Precheck {
    Existing(Appended),
    New(Vec<u8>),
}

/// The verifier key of `log_key` under `origin`, which must be genesis `body.log_key`.
pub(crate) fn checked_log_vkey(
    origin: &str,
    genesis_log_key: &str,
    log_key: &SigningKey,
) -> Result<VerifierKey, StoreError> {
    let vkey = VerifierKey::new(origin, PublicKey::from_signing_key(log_key))?;
    let given = vkey.to_vkey();
    if given != genesis_log_key {
        return Err(StoreError::LogKeyMismatch {
            given,
            genesis: genesis_log_key.to_owned(),
        });
    }
    Ok(vkey)
}

pub(crate) fn open_db(dir: &Path, config: &StoreConfig) -> Result<sled::Db, StoreError> {
    // sled releases its directory lock only when its background threads let go of their last
    // handle, a moment after the last `Db` is dropped; a reopen in the same process (or right
    // after another process) waits for that, briefly, instead of failing.
    let mut attempts = 0u32;
    loop {
        let damaged = |reason: String| {
            StoreError::from(Corruption::DamagedFiles {
                path: dir.to_owned(),
                reason,
            })
        };
        let opened = open_sled(dir, config)
            .map_err(|panic| damaged(format!("sled failed inside its recovery ({panic})")))?;
        match opened {
            Err(sled::Error::Io(error)) if is_lock_held(&error) => {
                if attempts >= OPEN_LOCK_RETRIES {
                    return Err(StoreError::Locked {
                        path: dir.to_owned(),
                    });
                }
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(sled::Error::Corruption { at, .. }) => {
                return Err(damaged(match at {
                    Some(at) => format!("sled found corrupted data at {at:?}"),
                    None => "sled found corrupted data".to_owned(),
                }))
            }
            other => return other.map_err(StoreError::sled("opening the database")),
        }
    }
}

thread_local! {
    /// Set while this thread opens sled, so that a panic inside sled's recovery is turned into
    /// an error instead of being printed as a crash.
    static OPENING_SLED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Opens sled; a panic inside its recovery (it panics on some truncated files instead of
/// returning an error) is the outer `Err`, with the panic's message.
fn open_sled(dir: &Path, config: &StoreConfig) -> Result<Result<sled::Db, sled::Error>, String> {
    static QUIET_HOOK: std::sync::Once = std::sync::Once::new();
    QUIET_HOOK.call_once(|| {
        // Panics elsewhere go to the hook that was there before, unchanged.
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !OPENING_SLED.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    let sled_config = sled::Config::new()
        .path(dir)
        .cache_capacity(config.cache_capacity_bytes);
    OPENING_SLED.with(|opening| opening.set(true));
    let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sled_config.open()));
    OPENING_SLED.with(|opening| opening.set(false));
    opened.map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("no message")
            .chars()
            .take(200)
            .collect()
    })
}

/// Whether sled could not take its directory lock. sled reports it either as `WouldBlock` or
/// wrapped in an `Other` error ("could not acquire lock on …: … WouldBlock …").
fn is_lock_held(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::WouldBlock
        || error.to_string().contains("could not acquire lock")
}

/// How many times `open` retries, 50 ms apart, while sled's directory lock is still held.
const OPEN_LOCK_RETRIES: u32 = 100;
