//! The types the store's layers share: what the handles and the sequencer hold in common
//! ([`Shared`], [`Committed`]), and the messages between them ([`Request`], [`Reply`],
//! [`Accepted`]). This module is the bottom of the crate's own layers: it imports the layout,
//! the mark and the plain types, never the sequencer, `open` or the façade.

use std::sync::{mpsc, Arc, Mutex, PoisonError, RwLock};

use hisaab_log::note::VerifierKey;
use hisaab_log::{Envelope, Hash, PublicKey, SigningKey, Statement, Timestamp};
use hisaab_model::{Body, BodyError, GenesisBody};
use tokio::sync::{oneshot, OwnedSemaphorePermit};

use crate::config::StoreConfig;
use crate::error::{AppendError, StoreError};
use crate::layout::{BatchHashes, Trees, UpperHashes};
use crate::mark::Marker;
use crate::report::{OpenReport, SignedCheckpoint};

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
    /// The ledger's format, the genesis statement's `v` (a bundle's header names it).
    pub(crate) genesis_format: u64,
    pub(crate) origin: String,
    pub(crate) committed: RwLock<Committed>,
    /// Serialises writes to the `checkpoints` tree (the sequencer and cosignatures).
    pub(crate) checkpoint_lock: Mutex<()>,
    /// Why a batch failed to commit, once one has: the sequencer's state may then be ahead of
    /// the disk, so appends stop until the store is reopened.
    pub(crate) failure: std::sync::OnceLock<String>,
    pub(crate) report: OpenReport,
    /// The high-water mark, written after each durable batch.
    pub(crate) marker: Mutex<Marker>,
    /// The stored hashes of the upper tree levels, in memory for proofs.
    pub(crate) upper: UpperHashes,
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
    /// The sealing sent with a sealed body (SPEC §12.5).
    pub(crate) sealing: Option<hisaab_log::seal::Sealing>,
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
/// The sequencer's answer to one request: for an entry it appended, where the entry is and the
/// checkpoint that covers it (the caller builds the inclusion proof itself, from the stored
/// hashes its batch wrote, shared by the batch's receipts, and the store's); for a
/// resubmission, the seq of the entry already in the ledger.
#[derive(Debug)]
pub(crate) enum Accepted {
    /// Appended by this batch: what its receipt needs beside its proof.
    New {
        seq: u64,
        event_hash: Hash,
        recorded_at: Timestamp,
        checkpoint: SignedCheckpoint,
        batch: Arc<BatchHashes>,
    },
    /// Already in the ledger with the same bytes, at `seq`: answered with its original
    /// receipt, which the caller reads.
    Existing { seq: u64 },
}

/// The typed body of a genesis statement (SPEC §4: origin, log key, authority, policy).
pub(crate) fn genesis_body(statement: &Statement) -> Result<GenesisBody, BodyError> {
    match Body::try_parse(&statement.kind, &statement.body)? {
        Body::Genesis(body) => Ok(body),
        other => Err(BodyError::UnknownKind {
            kind: other.kind().as_str().to_owned(),
        }),
    }
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
