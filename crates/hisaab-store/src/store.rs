//! [`Store`], the crate's façade: creating and opening a durable ledger, appending to it, and
//! closing it. Reads are in `read`, bundles in `bundle`, cosignatures in `cosign`; the
//! sequencer is `writer`, the integrity check on open is `open`.

use std::path::Path;
use std::sync::{mpsc, Arc, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;

use hisaab_log::merkle;
use hisaab_log::note::{Checkpoint, VerifierKey};
use hisaab_log::seal::Sealing;
use hisaab_log::statement::ENVELOPE_BYTES_MAX;
use hisaab_log::{Envelope, FormatError, SigningKey};
use hisaab_model::Ledger;
use tokio::sync::{oneshot, Semaphore};

use crate::config::{Clock, StoreConfig};
use crate::db::open_db;
use crate::error::{AppendError, StoreError};
use crate::layout::Trees;
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
        if !dir.join("conf").exists() {
            return Err(StoreError::NotAStore {
                path: dir.to_owned(),
            });
        }
        let trees = Trees::open(open_db(dir, &config)?)?.with_master_key(master)?;
        let recovered = crate::open::recover(&trees, dir, &log_key, &config)?;
        let shared = Arc::new(Shared {
            trees,
            config,
            log_key,
            log_vkey: recovered.log_vkey,
            genesis_log_key: recovered.genesis_log_key,
            genesis_format: recovered.genesis_format,
            origin: recovered.origin,
            committed: RwLock::new(recovered.committed),
            checkpoint_lock: Mutex::new(()),
            failure: std::sync::OnceLock::new(),
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

    /// What this handle shares with the sequencer and the other handles.
    pub(crate) fn shared(&self) -> &Shared {
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
            sealing,
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
        let canonical = match self.precheck(&envelope)? {
            Precheck::Existing(appended) => return Ok(appended),
            Precheck::New(canonical) => canonical,
        };
        let (sender, receiver) = mpsc::sync_channel(1);
        self.submit(Request {
            envelope,
            sealing,
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
        if let Some(reason) = self.shared().failure.get() {
            return Err(AppendError::StorageFailed {
                reason: reason.clone(),
            });
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

    /// The number of durable entries.
    pub fn size(&self) -> u64 {
        self.shared().size()
    }

    /// Why appends are stopped, if a batch failed to commit ([`AppendError::StorageFailed`]);
    /// `None` while the store takes appends.
    pub fn storage_failure(&self) -> Option<&str> {
        self.shared().failure.get().map(String::as_str)
    }

    /// The ledger's format, the genesis statement's `v` (SPEC §10).
    pub fn format(&self) -> u64 {
        self.shared().genesis_format
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

    /// Stops the sequencer after it has answered what is queued, and flushes. Later appends
    /// answer [`AppendError::Closed`]; reads keep working. Dropping the last handle does the
    /// same.
    ///
    /// # Errors
    /// [`StoreError::Sled`] when the final flush fails.
    pub fn close(&self) -> Result<(), StoreError> {
        self.inner.shutdown()
    }
}

enum Precheck {
    Existing(Appended),
    New(Vec<u8>),
}
