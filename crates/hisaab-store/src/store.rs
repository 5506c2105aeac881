//! [`Store`], the crate's façade: creating and opening a durable ledger, appending to it, and
//! closing it. Reads are in `read`, bundles in `bundle`, cosignatures in `cosign`; the
//! sequencer is `writer`, the integrity check on open is `open`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hisaab_log::merkle;
use hisaab_log::note::{Checkpoint, VerifierKey};
use hisaab_log::seal::Sealing;
use hisaab_log::statement::ENVELOPE_BYTES_MAX;
use hisaab_log::{Envelope, FormatError, SigningKey, StatementId};
use hisaab_model::Ledger;
use tokio::sync::{oneshot, Semaphore};

use crate::config::{Clock, StoreConfig};
use crate::db::open_db;
use crate::error::{AppendError, StoreError};
use crate::files::Access;
use crate::layout::{Trees, UpperHashes};
use crate::mark::Marker;
use crate::openings::MasterKey;
use crate::report::{Appended, OpenReport, Receipt, SignedCheckpoint};
use crate::shared::{checked_log_vkey, genesis_body, Accepted, Committed, Reply, Request, Shared};
use crate::writer::Writer;

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

/// What every handle shares: the store as open now and what reopening it needs.
#[derive(Debug)]
struct Inner {
    /// The running store. Replaced whole when a store whose appends stopped on a storage
    /// failure is reopened once space is back ([`Store::recover`]); `None` only while that
    /// reopening runs (readers wait for it) or after one that failed (readers get
    /// [`StoreError::Reopening`] until a later attempt succeeds).
    open: RwLock<Option<Arc<Open>>>,
    /// Fixed for the store's life, from the first open.
    origin: String,
    format: u64,
    log_vkey: VerifierKey,
    report: OpenReport,
    /// The durable size and checkpoint when the store was opened, and again when a failed
    /// store is taken down: what [`Store::size`] and [`Store::latest_checkpoint`] answer while
    /// no store is open.
    last: RwLock<Committed>,
    reopen: Reopen,
    /// Set by [`Store::close`]: a closed store is not reopened.
    closed: AtomicBool,
    /// When recovery was last tried and why appends stopped; held while it runs, so that one
    /// runs at a time.
    recovery: Mutex<Recovery>,
}

/// The state of [`Store::recover`] between attempts.
#[derive(Debug, Default)]
struct Recovery {
    tried: Option<Instant>,
    /// Why appends stopped, kept while no store is open.
    failure: Option<String>,
}

/// What [`Store::open`] was given, to open the same store again.
struct Reopen {
    dir: PathBuf,
    log_key: SigningKey,
    master: Option<MasterKey>,
    config: StoreConfig,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Reopen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reopen")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// A running store: the sled trees, the sequencer thread that writes them, and the thread
/// that writes the sequencer's model snapshots (`crate::snapshot`).
#[derive(Debug)]
struct Open {
    shared: Arc<Shared>,
    sender: RwLock<Option<mpsc::Sender<Request>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    snapshots: Mutex<Option<JoinHandle<()>>>,
    permits: Arc<Semaphore>,
}

impl Drop for Open {
    fn drop(&mut self) {
        let _ignored = self.shutdown();
    }
}

impl Open {
    fn shutdown(&self) -> Result<(), StoreError> {
        self.stop_writer();
        self.shared.trees.flush()
    }

    /// Ends the sequencer's loop once it has answered what is queued, and waits for it; then
    /// waits for the snapshot thread to write what the sequencer handed it (it stops once the
    /// sequencer, its one sender, is gone).
    fn stop_writer(&self) {
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
        let snapshots = self
            .snapshots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = snapshots {
            let _joined = handle.join();
        }
        self.shared.trees.index.stop_merging();
    }
}

impl Open {
    /// Opens the ledger in `reopen.dir`: the check on open, then the sequencer.
    fn from_dir(reopen: &Reopen) -> Result<Open, StoreError> {
        let dir = reopen.dir.as_path();
        if !dir.join("conf").exists() {
            return Err(StoreError::NotAStore {
                path: dir.to_owned(),
            });
        }
        let config = reopen.config.clone();
        let trees = Trees::open(open_db(dir, &config)?, dir, Access::ReadWrite, &config)?
            .with_master_key(reopen.master.clone())?;
        let recovered = crate::open::recover(&trees, dir, &reopen.log_key, &config)?;
        let upper = UpperHashes::load(&trees.files, recovered.committed.size)?;
        let shared = Arc::new(Shared {
            trees,
            config,
            log_key: reopen.log_key.clone(),
            log_vkey: recovered.log_vkey,
            genesis_log_key: recovered.genesis_log_key,
            genesis_format: recovered.genesis_format,
            origin: recovered.origin,
            committed: RwLock::new(recovered.committed),
            checkpoint_lock: Mutex::new(()),
            failure: std::sync::OnceLock::new(),
            report: recovered.report,
            marker: Mutex::new(Marker::open(dir)?),
            upper,
        });
        let writer = Writer::new(
            Arc::clone(&shared),
            recovered.ledger,
            Arc::clone(&reopen.clock),
        );
        Ok(Open::start(shared, writer))
    }

    /// Starts the snapshot thread and the sequencer thread over `shared`.
    fn start(shared: Arc<Shared>, writer: Writer) -> Open {
        crate::index::EntryIndex::start_merging(&shared.trees.index);
        let (writer, snapshots) = match crate::snapshot::spawn(Arc::clone(&shared)) {
            Some((to_snapshots, handle)) => {
                (writer.with_snapshot_thread(to_snapshots), Some(handle))
            }
            None => (writer, None),
        };
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
        Open {
            shared,
            sender: RwLock::new(sender),
            writer: Mutex::new(writer),
            snapshots: Mutex::new(snapshots),
            permits,
        }
    }
}

/// How long a failed store waits between attempts to reopen it.
const RECOVERY_INTERVAL: Duration = Duration::from_secs(1);

/// Free space a reopen needs first: written, flushed and removed before the store is touched.
const RECOVERY_PROBE_BYTES: usize = 8 << 20;

/// How long a reopen waits for the readers of the failed store to finish with it.
const RECOVERY_DRAIN: Duration = Duration::from_secs(10);

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
        Self::create_keyed(dir.as_ref(), genesis, log_key, None, config, clock)
    }

    /// [`Store::create`] with the ledger's master key (SPEC §12.10): the store keeps the
    /// openings of sealed statements, encrypted, and its snapshots encrypted too, and replays
    /// with the openings. A format-2 ledger is served this way.
    ///
    /// # Errors
    /// As [`Store::create`].
    pub fn create_with_master_key(
        dir: impl AsRef<Path>,
        genesis: Envelope,
        log_key: SigningKey,
        master: MasterKey,
        config: StoreConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Store, StoreError> {
        Self::create_keyed(dir.as_ref(), genesis, log_key, Some(master), config, clock)
    }

    fn create_keyed(
        dir: &Path,
        genesis: Envelope,
        log_key: SigningKey,
        master: Option<MasterKey>,
        config: StoreConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Store, StoreError> {
        let refuse = |reason: &str| StoreError::Genesis {
            reason: reason.to_owned(),
        };
        if !genesis.statement.is_genesis() {
            return Err(refuse("the statement is not a ledger.genesis"));
        }
        genesis
            .verify_signature()
            .map_err(|_| refuse("the signature does not verify"))?;
        let body = genesis_body(&genesis.statement)
            .map_err(|e| refuse(&format!("not a ledger.genesis body: {e}")))?;
        let origin = body.origin.as_str();
        let log_vkey = checked_log_vkey(origin, &body.log_key, &log_key)?;
        let canonical = genesis.canonical_bytes().map_err(StoreError::Format)?;

        let trees = Trees::open(open_db(dir, &config)?, dir, Access::ReadWrite, &config)?;
        let existing = trees
            .meta
            .get(crate::layout::FORMAT_KEY)
            .map_err(StoreError::sled("reading the format marker"))?;
        // A creation that stopped before its first batch committed leaves at most the
        // genesis in the files; more is a store whose sled lost its records.
        if existing.is_some() || crate::mark::read(dir).is_some() || trees.files.entry_count() > 1 {
            return Err(StoreError::AlreadyExists {
                path: dir.to_owned(),
            });
        }
        // Entries in the files of a directory without a store are those of a creation whose
        // first batch never committed (they are synced before it): no receipt was given.
        trees.files.truncate(0, 0)?;
        trees.index.settle(0)?;
        let reopen = Reopen {
            dir: dir.to_owned(),
            log_key: log_key.clone(),
            master: master.clone(),
            config: config.clone(),
            clock: Arc::clone(&clock),
        };
        let trees = trees.with_master_key(master)?;
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
            genesis_log_key: body.log_key.clone(),
            genesis_format: genesis.statement.v,
            origin: origin.to_owned(),
            committed: RwLock::new(Committed {
                size: 0,
                latest: SignedCheckpoint {
                    note: String::new(),
                    checkpoint: empty,
                },
            }),
            checkpoint_lock: Mutex::new(()),
            failure: std::sync::OnceLock::new(),
            report: OpenReport::default(),
            marker: Mutex::new(Marker::open(dir)?),
            upper: UpperHashes::default(),
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
        Ok(Self::start(Open::start(shared, writer), reopen))
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
        Self::open_keyed(dir.as_ref(), log_key, None, config, clock)
    }

    /// [`Store::open`] with the ledger's master key: the model resumes with the openings kept
    /// (the full state), and sealed statements can be appended (see
    /// [`Store::create_with_master_key`]).
    ///
    /// # Errors
    /// As [`Store::open`], and [`StoreError::Openings`] for another master key than the one
    /// the store's openings are kept under.
    pub fn open_with_master_key(
        dir: impl AsRef<Path>,
        log_key: SigningKey,
        master: MasterKey,
        config: StoreConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Store, StoreError> {
        Self::open_keyed(dir.as_ref(), log_key, Some(master), config, clock)
    }

    fn open_keyed(
        dir: &Path,
        log_key: SigningKey,
        master: Option<MasterKey>,
        config: StoreConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Store, StoreError> {
        let reopen = Reopen {
            dir: dir.to_owned(),
            log_key,
            master,
            config,
            clock,
        };
        Ok(Self::start(Open::from_dir(&reopen)?, reopen))
    }

    fn start(open: Open, reopen: Reopen) -> Store {
        let shared = &open.shared;
        Store {
            inner: Arc::new(Inner {
                origin: shared.origin.clone(),
                format: shared.genesis_format,
                log_vkey: shared.log_vkey.clone(),
                report: shared.report.clone(),
                last: RwLock::new(shared.committed()),
                open: RwLock::new(Some(Arc::new(open))),
                reopen,
                closed: AtomicBool::new(false),
                recovery: Mutex::new(Recovery::default()),
            }),
        }
    }

    /// The store as open now.
    fn current(&self) -> Result<Arc<Open>, StoreError> {
        let open = self
            .inner
            .open
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        open.as_ref()
            .map(Arc::clone)
            .ok_or_else(|| StoreError::Reopening {
                reason: self
                    .last_failure()
                    .unwrap_or_else(|| "the store is being reopened".to_owned()),
            })
    }

    /// What this handle shares with the sequencer and the other handles.
    ///
    /// # Errors
    /// [`StoreError::Reopening`] while no store is open (a failed reopen after a storage
    /// failure).
    pub(crate) fn shared(&self) -> Result<Arc<Shared>, StoreError> {
        Ok(Arc::clone(&self.current()?.shared))
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
        self.append_sealed(envelope, None).await
    }

    /// [`Store::append`] of an envelope with the sealing of its sealed body (SPEC §12.5): the
    /// model checks that the sealing opens the body (rule 1), runs every rule on the opened
    /// body, and the entry (in sealed form) and its openings (encrypted) are written in the
    /// same transaction. `None` is [`Store::append`].
    ///
    /// # Errors
    /// As [`Store::append`]; a sealing that does not open the body, a sealed body without
    /// one, or one with a plain body is [`AppendError::Violation`] of rule 1;
    /// [`StoreError::NoMasterKey`] for a store opened without its master key.
    pub async fn append_sealed(
        &self,
        envelope: Envelope,
        sealing: Option<Sealing>,
    ) -> Result<Appended, AppendError> {
        let canonical = envelope.canonical_bytes()?;
        let id = envelope.statement.id.clone();
        if let Err(error) = self.precheck(&envelope, &canonical) {
            return self.or_existing(&id, &canonical, error);
        }
        let sequenced = async {
            let permits = Arc::clone(&self.current()?.permits);
            let permit = permits
                .acquire_owned()
                .await
                .map_err(|_| AppendError::Closed)?;
            let (sender, receiver) = oneshot::channel();
            self.submit(Request {
                envelope,
                sealing,
                canonical: canonical.clone(),
                reply: Reply::Async(sender, permit),
            })?;
            receiver.await.map_err(|_| AppendError::Closed)?
        };
        self.answer(&id, &canonical, sequenced.await)
    }

    /// [`Store::append`] for threads outside an async runtime: blocks until the entry is
    /// durable.
    ///
    /// # Errors
    /// As [`Store::append`].
    pub fn append_blocking(&self, envelope: Envelope) -> Result<Appended, AppendError> {
        self.append_sealed_blocking(envelope, None)
    }

    /// [`Store::append_sealed`] for threads outside an async runtime.
    ///
    /// # Errors
    /// As [`Store::append_sealed`].
    pub fn append_sealed_blocking(
        &self,
        envelope: Envelope,
        sealing: Option<Sealing>,
    ) -> Result<Appended, AppendError> {
        let canonical = envelope.canonical_bytes()?;
        let id = envelope.statement.id.clone();
        if let Err(error) = self.precheck(&envelope, &canonical) {
            return self.or_existing(&id, &canonical, error);
        }
        let sequenced = (|| {
            let (sender, receiver) = mpsc::sync_channel(1);
            self.submit(Request {
                envelope,
                sealing,
                canonical: canonical.clone(),
                reply: Reply::Blocking(sender),
            })?;
            receiver.recv().map_err(|_| AppendError::Closed)?
        })();
        self.answer(&id, &canonical, sequenced)
    }

    /// The stateless checks of SPEC §7 after the first: size and form, then the signature.
    ///
    /// The first, whether the envelope is already in the ledger with these bytes (answered
    /// with its original receipt), is not looked up here for an envelope that passes them: the
    /// sequencer reads the same index for every envelope it admits and answers a resubmission
    /// itself, and a read here, on the caller's thread, would wait while a batch's transaction
    /// holds sled's lock. An envelope in the ledger passed these checks when it was appended,
    /// so the answer is the same; one that fails them, or that the sequencer cannot take
    /// (storage failed, store closed), is looked up in [`Store::or_existing`] before its error
    /// is returned, so a resubmission gets its receipt in every case, as before.
    fn precheck(&self, envelope: &Envelope, canonical: &[u8]) -> Result<(), AppendError> {
        if canonical.len() > ENVELOPE_BYTES_MAX {
            return Err(AppendError::Format(FormatError::TooLarge {
                bytes: canonical.len(),
                max: ENVELOPE_BYTES_MAX,
            }));
        }
        envelope.statement.check_form()?;
        // JCS(statement), the signed bytes, is the tail of `canonical`: cut from it.
        envelope
            .verify_signature_canonical(canonical)
            .map_err(|_| AppendError::Signature)?;
        Ok(())
    }

    /// The sequencer's answer as a receipt. When it could not take the envelope (storage
    /// failed, store closed), the original receipt of one already in the ledger with these
    /// bytes, if any, else the error; a refusal under the rules is final, since the sequencer
    /// answers a resubmission before it applies them.
    fn answer(
        &self,
        id: &StatementId,
        canonical: &[u8],
        sequenced: Result<Accepted, AppendError>,
    ) -> Result<Appended, AppendError> {
        match sequenced {
            Ok(accepted) => self.finish(accepted),
            Err(refused @ AppendError::Violation(_)) => Err(refused),
            Err(error) => self.or_existing(id, canonical, error),
        }
    }

    /// The original receipt of an envelope with these bytes already in the ledger, else
    /// `error` (also when the ledger cannot be read: the error the caller would have had).
    fn or_existing(
        &self,
        id: &StatementId,
        canonical: &[u8],
        error: AppendError,
    ) -> Result<Appended, AppendError> {
        match self.existing(id, canonical) {
            Ok(Some(appended)) => Ok(appended),
            Ok(None) | Err(_) => Err(error),
        }
    }

    /// The original receipt of the envelope with statement id `id` and these canonical bytes,
    /// if it is committed.
    fn existing(&self, id: &StatementId, canonical: &[u8]) -> Result<Option<Appended>, StoreError> {
        let Some(sealed) = self.entry_by_statement_id(id)? else {
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
        let open = self.current()?;
        if let Some(reason) = open.shared.failure.get() {
            self.recover_in_background();
            return Err(AppendError::StorageFailed {
                reason: reason.clone(),
            });
        }
        let sender = open.sender.read().unwrap_or_else(PoisonError::into_inner);
        let sender = sender.as_ref().ok_or(AppendError::Closed)?;
        sender.send(request).map_err(|_| AppendError::Closed)
    }

    /// Builds the receipt for an accepted envelope in the caller's thread, so that proofs for
    /// a batch are computed in parallel. A resubmission gets its original receipt.
    fn finish(&self, accepted: Accepted) -> Result<Appended, AppendError> {
        match accepted {
            Accepted::Existing { seq } => Ok(Appended {
                receipt: self.receipt(seq)?,
                created: false,
            }),
            Accepted::New {
                seq,
                event_hash,
                recorded_at,
                checkpoint,
                batch,
            } => Ok(Appended {
                receipt: Receipt {
                    seq,
                    event_hash,
                    recorded_at,
                    inclusion_proof: self.batch_inclusion_proof(
                        seq,
                        checkpoint.checkpoint.size,
                        &batch,
                    )?,
                    checkpoint: checkpoint.note,
                },
                created: true,
            }),
        }
    }

    /// The number of durable entries.
    pub fn size(&self) -> u64 {
        self.committed().size
    }

    /// The last durable size and checkpoint, from the open store or, while none is open, from
    /// the one that failed.
    fn committed(&self) -> Committed {
        match self.current() {
            Ok(open) => open.shared.committed(),
            Err(_) => self
                .inner
                .last
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }

    /// Why appends are stopped, if a batch failed to commit ([`AppendError::StorageFailed`]);
    /// `None` while the store takes appends. While appends are stopped, asking starts an
    /// attempt to reopen the store in the background (at most one a second, see
    /// [`Store::recover`]), so that a server polled for readiness recovers once space is
    /// back.
    pub fn storage_failure(&self) -> Option<String> {
        let failure = self.last_failure();
        if failure.is_some() {
            self.recover_in_background();
        }
        failure
    }

    /// Why appends are stopped, without starting a recovery.
    fn last_failure(&self) -> Option<String> {
        let open = self
            .inner
            .open
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        match open.as_ref() {
            Some(open) => open.shared.failure.get().cloned(),
            None => Some(
                self.inner
                    .recovery
                    .try_lock()
                    .ok()
                    .and_then(|r| r.failure.clone())
                    .unwrap_or_else(|| "the store is being reopened".to_owned()),
            ),
        }
    }

    /// The ledger's format, the genesis statement's `v` (SPEC §10).
    pub fn format(&self) -> u64 {
        self.inner.format
    }

    /// Whether the store was opened with its master key, and so keeps and reads openings
    /// (fixed for its life: a reopen after a storage failure uses the same key).
    pub fn keeps_openings(&self) -> bool {
        self.inner.reopen.master.is_some()
    }

    /// The ledger's origin (genesis `body.origin`).
    pub fn origin(&self) -> &str {
        &self.inner.origin
    }

    /// The log's verifier key (genesis `body.log_key`).
    pub fn log_vkey(&self) -> &VerifierKey {
        &self.inner.log_vkey
    }

    /// What opening the store found and did (the first open of this handle's store).
    pub fn open_report(&self) -> &OpenReport {
        &self.inner.report
    }

    /// The latest signed checkpoint, with the cosignatures collected for it.
    pub fn latest_checkpoint(&self) -> SignedCheckpoint {
        self.committed().latest
    }

    /// Stops the sequencer after it has answered what is queued, and flushes. Later appends
    /// answer [`AppendError::Closed`]; reads keep working. Dropping the last handle does the
    /// same.
    ///
    /// # Errors
    /// [`StoreError::Sled`] when the final flush fails.
    pub fn close(&self) -> Result<(), StoreError> {
        self.inner.closed.store(true, Ordering::Release);
        match self.current() {
            Ok(open) => open.shutdown(),
            Err(_) => Ok(()),
        }
    }

    /// Reopens a store whose appends stopped on a storage failure (a full disk, an I/O error:
    /// sled refuses every write after one), once there is space again, without restarting the
    /// process. Answers `Ok(true)` when the store takes appends (again), `Ok(false)` when it
    /// is not time to try (another attempt runs, or the last was under a second ago).
    ///
    /// First some free space is proven by writing, flushing and removing a file of 8 MiB in
    /// the store's directory; only then is the failed store taken down: the sequencer stopped,
    /// the readers still using it let finish (meanwhile reads answer
    /// [`StoreError::Reopening`], a storage failure), its sled database closed, and the
    /// directory opened again with every check of [`Store::open`]. What the failed batch left
    /// is resolved as after a crash: nothing acknowledged is lost. A reopen that fails leaves
    /// no store open until a later attempt succeeds.
    ///
    /// # Errors
    /// The probe's I/O error while space is still short ([`StoreError::Reopening`]); the
    /// errors of [`Store::open`].
    pub fn recover(&self) -> Result<bool, StoreError> {
        let Ok(mut recovery) = self.inner.recovery.try_lock() else {
            return Ok(false);
        };
        if self.inner.closed.load(Ordering::Acquire) {
            return Ok(false);
        }
        let current = self.current().ok();
        let Some(reason) = (match &current {
            Some(open) => open.shared.failure.get().cloned(),
            None => Some(recovery.failure.clone().unwrap_or_default()),
        }) else {
            return Ok(true);
        };
        if recovery
            .tried
            .is_some_and(|tried| tried.elapsed() < RECOVERY_INTERVAL)
        {
            return Ok(false);
        }
        recovery.tried = Some(Instant::now());
        recovery.failure = Some(reason);
        drop(current);
        probe_space(&self.inner.reopen.dir).map_err(|error| StoreError::Reopening {
            reason: format!("no space yet: {error}"),
        })?;

        // Take the failed store out: from here on readers get `Reopening` instead of waiting.
        let taken = self
            .inner
            .open
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(open) = taken {
            *self
                .inner
                .last
                .write()
                .unwrap_or_else(PoisonError::into_inner) = open.shared.committed();
            open.stop_writer();
            let deadline = Instant::now() + RECOVERY_DRAIN;
            while Arc::strong_count(&open) > 1 || Arc::strong_count(&open.shared) > 1 {
                if Instant::now() >= deadline {
                    // Put it back (still failed, its sequencer stopped) and try again later.
                    *self
                        .inner
                        .open
                        .write()
                        .unwrap_or_else(PoisonError::into_inner) = Some(open);
                    return Err(StoreError::Reopening {
                        reason: "readers still hold the failed store".to_owned(),
                    });
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            drop(open);
        }
        let open = Open::from_dir(&self.inner.reopen)?;
        tracing::info!(
            size = open.shared.size(),
            "the store takes appends again after a storage failure"
        );
        *self
            .inner
            .open
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(open));
        recovery.failure = None;
        Ok(true)
    }

    /// Starts [`Store::recover`] on a thread of its own unless one runs or ran under a
    /// second ago.
    fn recover_in_background(&self) {
        let due = match self.inner.recovery.try_lock() {
            Ok(recovery) => recovery
                .tried
                .is_none_or(|tried| tried.elapsed() >= RECOVERY_INTERVAL),
            Err(_) => false,
        };
        if !due || self.inner.closed.load(Ordering::Acquire) {
            return;
        }
        let store = self.clone();
        let spawned = std::thread::Builder::new()
            .name("hisaab-recovery".into())
            .spawn(move || match store.recover() {
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "the store could not be reopened yet"),
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "could not start the store's recovery");
        }
    }
}

/// Writes, flushes and removes a file of [`RECOVERY_PROBE_BYTES`] in `dir`: proof that a
/// reopened store has room for a batch or two.
fn probe_space(dir: &Path) -> std::io::Result<()> {
    use std::io::Write;
    let path = dir.join("space-probe.tmp");
    let result = (|| {
        let mut file = std::fs::File::create(&path)?;
        file.write_all(&vec![0u8; RECOVERY_PROBE_BYTES])?;
        file.sync_all()
    })();
    let removed = std::fs::remove_file(&path);
    result?;
    removed
}

/// A store of the test kit's fixture ledger, for the crate's unit tests.
#[cfg(test)]
pub(crate) mod testing {
    #![allow(clippy::unwrap_used)]

    use std::path::Path;
    use std::sync::Arc;

    use hisaab_testkit::fixture;

    use super::Store;
    use crate::config::{ManualClock, StoreConfig};

    /// A new store of the fixture genesis in `dir` with `config`, and its clock (a second
    /// after the fixture's epoch).
    /// The default configuration with no snapshot before 2^20 entries.
    pub(crate) fn unsnapshotted() -> StoreConfig {
        StoreConfig {
            snapshot_every: 1 << 20,
            ..StoreConfig::default()
        }
    }

    pub(crate) fn fixture_store(dir: &Path, config: StoreConfig) -> (Store, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(fixture::EPOCH_MILLIS + 1000));
        let store = Store::create(
            dir,
            fixture::genesis().unwrap(),
            fixture::log_key(),
            config,
            clock.clone(),
        )
        .unwrap();
        (store, clock)
    }

    /// Appends the fixture's registrations of operators `0..count`, one at a time.
    pub(crate) fn register_operators(store: &Store, count: u64) {
        let ledger_id = store.entry(0).unwrap().unwrap().event_hash();
        for n in 0..count {
            let envelope = fixture::register_operator(ledger_id, 1, n).unwrap();
            store.append_blocking(envelope).unwrap();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use hisaab_testkit::fixture;

    use super::testing::fixture_store;
    use crate::config::StoreConfig;
    use crate::error::AppendError;

    #[test]
    fn a_resubmission_gets_its_original_receipt_while_the_sequencer_takes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _clock) = fixture_store(dir.path(), StoreConfig::default());
        let ledger_id = store.entry(0).unwrap().unwrap().event_hash();
        let envelope = fixture::register_operator(ledger_id, 1, 0).unwrap();
        let original = store.append_blocking(envelope.clone()).unwrap();
        assert!(original.created);
        // Appends stop as after a failed batch; no recovery starts while the test holds it.
        let _no_recovery = store.inner.recovery.lock().unwrap();
        store
            .shared()
            .unwrap()
            .failure
            .set("a failed flush, for the test".to_owned())
            .unwrap();
        // A new envelope is refused, and changes nothing.
        let other = fixture::register_operator(ledger_id, 1, 1).unwrap();
        assert!(matches!(
            store.append_blocking(other),
            Err(AppendError::StorageFailed { .. })
        ));
        assert_eq!(store.size(), 2);
        // The one in the ledger is answered from it, as it was before the sequencer: blocking
        // and async alike, with the receipt of the batch that appended it, byte for byte.
        let again = store.append_blocking(envelope.clone()).unwrap();
        assert!(!again.created);
        assert_eq!(again.receipt, original.receipt);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let again = runtime.block_on(store.append(envelope)).unwrap();
        assert!(!again.created);
        assert_eq!(again.receipt, original.receipt);
    }

    #[test]
    fn the_most_recent_checkpoints_are_kept_across_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let config = StoreConfig {
            checkpoints_kept: 3,
            ..super::testing::unsnapshotted()
        };
        let kept = |store: &super::Store| -> Vec<u64> {
            let shared = store.shared().unwrap();
            let keys = shared.trees.checkpoints.iter().keys();
            keys.map(|key| crate::files::decode_u64(&key.unwrap()).unwrap())
                .collect()
        };
        let (store, clock) = fixture_store(dir.path(), config.clone());
        assert_eq!(kept(&store), vec![1]);
        super::testing::register_operators(&store, 4);
        assert_eq!(kept(&store), vec![3, 4, 5]);
        store.close().unwrap();
        drop(store);
        let store = super::Store::open(dir.path(), fixture::log_key(), config, clock).unwrap();
        let ledger_id = store.entry(0).unwrap().unwrap().event_hash();
        for n in 10..12 {
            let envelope = fixture::register_operator(ledger_id, 1, n).unwrap();
            store.append_blocking(envelope).unwrap();
        }
        assert_eq!(kept(&store), vec![5, 6, 7]);
    }
}
