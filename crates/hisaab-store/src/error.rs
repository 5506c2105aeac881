//! The errors of the store: [`StoreError`] for opening, reading and exporting, [`Corruption`]
//! for data on disk that does not check out (naming what and where), and [`AppendError`] for
//! an envelope that was not appended.

use std::path::PathBuf;

use hisaab_log::bundle::BundleError;
use hisaab_log::chain::ChainError;
use hisaab_log::merkle::MerkleError;
use hisaab_log::note::NoteError;
use hisaab_log::{FormatError, Hash};
use hisaab_model::Violation;
use thiserror::Error;

/// Something the store holds that does not check out. Each variant names what, and the seq (or
/// stored-hash index) where it is known; [`Corruption::seq`] gives the seq.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Corruption {
    /// An entry the log must hold is not there.
    #[error("seq {seq}: the entry is missing (the log should hold {size} entries)")]
    MissingEntry {
        /// The missing entry's seq.
        seq: u64,
        /// The size the latest checkpoint (or the entries before it) say the log has.
        size: u64,
    },
    /// An entry appended since the entry ends were last synced has no record of its ends in
    /// sled, where its batch's transaction kept them.
    #[error(
        "seq {seq}: its ends in hisaab-entry-ends were not synced, and sled holds no record of \
         them (the log should hold {size} entries)"
    )]
    UnsyncedEnds {
        /// The first entry whose ends no record holds.
        seq: u64,
        /// The size of the log.
        size: u64,
    },
    /// The stored bytes of an entry are not the canonical JSON of an entry.
    #[error("seq {seq}: the stored entry does not parse: {source}")]
    UnreadableEntry {
        /// The entry's seq (its key).
        seq: u64,
        /// Why it does not parse.
        #[source]
        source: FormatError,
    },
    /// An entry stored under one seq says it has another.
    #[error("seq {seq}: the entry stored there says it is seq {found}")]
    MisplacedEntry {
        /// The key it is stored under.
        seq: u64,
        /// The seq it holds.
        found: u64,
    },
    /// A key in one of the store's trees that is not of the store's format.
    #[error("tree `{tree}`: a key or value of the wrong length")]
    BadRecord {
        /// The sled tree.
        tree: &'static str,
    },
    /// An entry's leaf hash is not the level-0 stored hash at its position.
    #[error("seq {seq}: the entry's leaf hash is {computed}, but the stored hash is {stored}")]
    LeafHashMismatch {
        /// The entry's seq.
        seq: u64,
        /// The stored level-0 hash.
        stored: Hash,
        /// SHA-256(0x00 || the stored leaf bytes).
        computed: Hash,
    },
    /// A stored Merkle hash is not what the leaves below it compute.
    #[error("seq {seq}: stored hash {index} is {stored}, but the leaves compute {computed}")]
    StoredHashMismatch {
        /// The leaf whose addition wrote the hash.
        seq: u64,
        /// The stored-hash index.
        index: u64,
        /// The stored value.
        stored: Hash,
        /// The value recomputed from the leaves.
        computed: Hash,
    },
    /// A stored hash that should be there is not (or is not 32 bytes).
    #[error("stored hash {index} is missing or malformed")]
    MissingStoredHash {
        /// The stored-hash index.
        index: u64,
    },
    /// Entries whose links do not hold (seq, prev, time, genesis, ledger, signature).
    #[error("seq {}: the chain is broken: {source}", source.seq())]
    Chain {
        /// What the chain verifier found.
        #[source]
        source: ChainError,
    },
    /// A kept snapshot of the replay state is not what replaying the entries up to its size
    /// gives: damaged (its checksum fails) or wrong (it parses, but holds another state).
    #[error("the snapshot at size {size} {reason}; the entries are intact (it is a cache), so delete it or let the store replace it")]
    Snapshot {
        /// The snapshot's size (its key).
        size: u64,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The store has no checkpoint, or its latest checkpoint does not verify under the log key.
    #[error("the latest checkpoint does not verify: {reason}")]
    Checkpoint {
        /// Why.
        reason: String,
    },
    /// The root recomputed from the stored hashes is not the checkpoint's root.
    #[error(
        "the checkpoint for size {size} has root {checkpoint}, the stored hashes give {computed}"
    )]
    CheckpointRoot {
        /// The checkpoint's size.
        size: u64,
        /// The checkpoint's root.
        checkpoint: Hash,
        /// The root from the stored hashes.
        computed: Hash,
    },
    /// sled's files hold fewer entries than the high-water mark says were committed: sled
    /// recovered an older state (a damaged record cuts its log short).
    #[error(
        "seq {size}: entries from here on were lost: the store holds {size}, but {mark_size} \
         were committed (high-water mark); the data directory is an older copy (a rollback) \
         or sled lost records, so it is refused"
    )]
    LostEntries {
        /// The size sled recovered.
        size: u64,
        /// The size the mark records.
        mark_size: u64,
    },
    /// The high-water mark's root for the current size is not the checkpoint's.
    #[error(
        "the high-water mark's root for size {size} is {mark}, the checkpoint's is {checkpoint}"
    )]
    MarkRoot {
        /// The size.
        size: u64,
        /// The mark's root.
        mark: Hash,
        /// The checkpoint's root.
        checkpoint: Hash,
    },
    /// sled's own files are damaged so that sled cannot recover them: truncated, cut or
    /// overwritten (sled refuses them, or fails inside its recovery).
    #[error(
        "the database files in {path} are damaged (truncated or overwritten) and cannot be \
         recovered: {reason}; restore the directory from a backup, or rebuild it from a bundle"
    )]
    DamagedFiles {
        /// The data directory.
        path: PathBuf,
        /// What sled said.
        reason: String,
    },
    /// A run of the event-hash and statement-id index (`crate::index`) that does not check
    /// out. An open for writing deletes such a run and indexes its entries again from the
    /// entry files; an audit, or a read of a run damaged while the store is open, names it.
    #[error(
        "the index run {path} is damaged: {reason}; the next open for writing deletes it and \
         indexes its entries again from the entry files"
    )]
    IndexRun {
        /// The run's file.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The entry files' end offsets of an entry that do not rise, or point past the end of
    /// the entries' bytes (a file cut short or overwritten).
    #[error("seq {seq}: the entry files are damaged: {reason}")]
    EntryFiles {
        /// The entry whose bytes cannot be found.
        seq: u64,
        /// What is wrong with its offsets.
        reason: String,
    },
    /// The entry files hold more than one batch past sled's latest checkpoint: sled lost
    /// committed batches (the files are synced before sled's transaction, and never run ahead
    /// by more than a batch otherwise).
    #[error(
        "seq {size}: the entry files hold {files} entries, but sled's latest checkpoint covers \
         {size}, more than a batch apart: sled lost committed batches, so the store is refused \
         and the entries are left as they are; restore sled's files from a backup"
    )]
    AheadOfCheckpoint {
        /// The latest checkpoint's size.
        size: u64,
        /// The entries the files hold.
        files: u64,
    },
    /// An index (event hash → seq, statement id → seq) that disagrees with the entries.
    #[error("seq {seq}: the {index} index is missing or points elsewhere")]
    Index {
        /// Which index.
        index: &'static str,
        /// The entry whose key is missing or wrong.
        seq: u64,
    },
    /// A stored entry the model refuses on replay.
    #[error("seq {}: the model rejects the stored entry: {violation}", violation.seq)]
    Rejected {
        /// The model's verdict.
        violation: Violation,
    },
    /// Entry 0 is not a genesis whose `origin` and `log_key` are strings.
    #[error("seq 0: the genesis entry is unusable: {reason}")]
    Genesis {
        /// Why.
        reason: &'static str,
    },
    /// The full verification of the store's own bundle failed.
    #[error("full verification failed{}: {detail}", seq.map(|s| format!(" at seq {s}")).unwrap_or_default())]
    Verify {
        /// Where, when known.
        seq: Option<u64>,
        /// What the verifier said.
        detail: String,
    },
}

impl Corruption {
    /// The seq of the entry where the corruption was found, when it is known.
    pub fn seq(&self) -> Option<u64> {
        match self {
            Corruption::MissingEntry { seq, .. }
            | Corruption::UnsyncedEnds { seq, .. }
            | Corruption::UnreadableEntry { seq, .. }
            | Corruption::MisplacedEntry { seq, .. }
            | Corruption::EntryFiles { seq, .. }
            | Corruption::LeafHashMismatch { seq, .. }
            | Corruption::StoredHashMismatch { seq, .. }
            | Corruption::Index { seq, .. } => Some(*seq),
            Corruption::Chain { source } => Some(source.seq()),
            Corruption::Rejected { violation } => Some(violation.seq),
            Corruption::Genesis { .. } => Some(0),
            Corruption::LostEntries { size, .. } | Corruption::AheadOfCheckpoint { size, .. } => {
                Some(*size)
            }
            Corruption::Verify { seq, .. } => *seq,
            Corruption::BadRecord { .. }
            | Corruption::MissingStoredHash { .. }
            | Corruption::Checkpoint { .. }
            | Corruption::CheckpointRoot { .. }
            | Corruption::MarkRoot { .. }
            | Corruption::DamagedFiles { .. }
            | Corruption::IndexRun { .. }
            | Corruption::Snapshot { .. } => None,
        }
    }
}

/// Why a store could not be created, opened, read or exported.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// sled failed.
    #[error("sled failed while {what}: {source}")]
    Sled {
        /// What the store was doing.
        what: &'static str,
        /// sled's error.
        #[source]
        source: sled::Error,
    },
    /// Writing an export failed.
    #[error("I/O failed while {what}: {source}")]
    Io {
        /// What the store was doing.
        what: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The data on disk does not check out.
    #[error("the store is corrupt: {0}")]
    Corrupt(#[from] Corruption),
    /// The directory holds a store of an earlier layout, which only a store opened for
    /// writing upgrades.
    #[error(
        "{path} holds a store of the earlier layout {found} (its entries inside sled): open it \
         once with `hisaab serve --data {path}` to move them out, then check it"
    )]
    EarlierLayout {
        /// The data directory.
        path: PathBuf,
        /// Its layout marker.
        found: String,
    },
    /// The store was not closed and its entry ends and stored hashes (synced every few
    /// thousand entries) did not all reach the disk: only a store opened for writing rebuilds
    /// them.
    #[error(
        "{path} was not closed, and the ends or stored hashes of its entries from seq {from} on \
         did not reach the disk (the entries did, and give the signed root): open it once with \
         `hisaab serve --data {path}` to rebuild them from the entries, then check it"
    )]
    IndexNotSynced {
        /// The data directory.
        path: PathBuf,
        /// The first entry whose ends or stored hashes are to be rebuilt.
        from: u64,
    },
    /// The directory holds no Hisaab store.
    #[error("{path} holds no Hisaab store")]
    NotAStore {
        /// The directory.
        path: PathBuf,
    },
    /// Another process holds the directory's lock: a running server owns the store.
    #[error(
        "the ledger in {path} is in use by another process (a running `hisaab serve`?): stop \
         it first, or ask that server instead"
    )]
    Locked {
        /// The directory.
        path: PathBuf,
    },
    /// The log signed no checkpoint for this size, and signing one needs the log's private key.
    #[error(
        "the log signed no checkpoint for size {size}; export the latest size, or open the \
         store with its log key to sign one"
    )]
    NoCheckpoint {
        /// The tree size asked for.
        size: u64,
    },
    /// `create` found a store already there.
    #[error("{path} already holds a Hisaab store")]
    AlreadyExists {
        /// The directory.
        path: PathBuf,
    },
    /// The genesis envelope given to `create` is unusable.
    #[error("the genesis envelope is refused: {reason}")]
    Genesis {
        /// Why.
        reason: String,
    },
    /// The log key given is not the one genesis names.
    #[error("the log key is {given}, but genesis names {genesis}")]
    LogKeyMismatch {
        /// The verifier key of the key given.
        given: String,
        /// Genesis `body.log_key`.
        genesis: String,
    },
    /// A tree size or index beyond the log.
    #[error("{what} {value} is beyond the log of size {size}")]
    BeyondLog {
        /// Which parameter.
        what: &'static str,
        /// Its value.
        value: u64,
        /// The log's size.
        size: u64,
    },
    /// Tree sizes or indexes for which no proof exists.
    #[error("no proof: {0}")]
    Proof(#[source] MerkleError),
    /// Signing or parsing a note failed.
    #[error("checkpoint note: {0}")]
    Note(#[from] NoteError),
    /// Encoding an entry failed.
    #[error("encoding failed: {0}")]
    Format(#[from] FormatError),
    /// Writing a bundle failed.
    #[error("bundle: {0}")]
    Bundle(#[from] BundleError),
    /// A cosignature line by no active witness, or for no checkpoint the store kept.
    #[error("cosignature refused: {0}")]
    Cosignature(#[from] CosignatureError),
    /// The store was closed, or its sequencer stopped after a failed write.
    #[error("the store is closed")]
    Closed,
    /// Appends stopped on a storage failure and the store is being reopened (or its reopen
    /// failed and is tried again): a storage failure, retried shortly.
    #[error("the ledger's storage failed and is being reopened: {reason}")]
    Reopening {
        /// Why appends stopped, or why the reopen has not succeeded yet.
        reason: String,
    },
    /// The openings of sealed fields (SPEC §12.10) could not be kept or read: a wrong master
    /// key, a record altered or moved, storage.
    #[error("openings: {0}")]
    Openings(#[from] crate::openings::OpeningsError),
    /// A sealed statement came to a store opened without the ledger's master key, which
    /// therefore keeps no openings (SPEC §12.5, §12.10).
    #[error(
        "this store was opened without the ledger's master key, so it cannot keep the openings \
         of a sealed statement; serve it with its master key file"
    )]
    NoMasterKey,
}

/// Why [`Store::add_cosignature`](crate::Store::add_cosignature) kept no line: the store
/// keeps only cosignatures it verified itself (SPEC §3, C2SP `cosignature/v1`).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CosignatureError {
    /// Not a cosignature line: no `— <name> <base64>` form, or a signature that is not a key
    /// id, a timestamp and a signature, or a timestamp out of range.
    #[error("not a cosignature line: {source}")]
    Malformed {
        /// What the note parser found.
        #[source]
        source: NoteError,
    },
    /// The line's key name is no active member holding the role `witness` in the ledger of
    /// `size` entries.
    #[error("{name:?} is not an active witness at size {size}")]
    NotAWitness {
        /// The key name of the line.
        name: String,
        /// The size of the ledger whose state was consulted (the latest checkpoint's).
        size: u64,
    },
    /// The line verifies under the witness's current key for no checkpoint the store keeps.
    #[error(
        "the cosignature by {name:?} verifies for no kept checkpoint (latest size {latest_size})"
    )]
    NoCheckpoint {
        /// The witness.
        name: String,
        /// The size of the latest checkpoint when the line was checked.
        latest_size: u64,
    },
}

impl StoreError {
    /// Refuses `value` unless `1 <= value <= size`, naming `what` ([`StoreError::BeyondLog`]).
    pub(crate) fn check_in_log(what: &'static str, value: u64, size: u64) -> Result<(), Self> {
        if value == 0 || value > size {
            return Err(StoreError::BeyondLog { what, value, size });
        }
        Ok(())
    }

    /// Whether the storage itself failed (an I/O error under sled, such as a full disk), rather
    /// than the request or the data: the server answers 503 `storage_failed`, not 500.
    pub fn is_storage_failure(&self) -> bool {
        matches!(
            self,
            StoreError::Sled {
                source: sled::Error::Io(_),
                ..
            } | StoreError::Reopening { .. }
        )
    }

    pub(crate) fn sled(what: &'static str) -> impl FnOnce(sled::Error) -> StoreError {
        move |source| StoreError::Sled { what, source }
    }
}

/// Why an envelope was not appended. A typed error only: the server maps it to an HTTP status
/// and code (SPEC §7).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AppendError {
    /// The envelope breaks SPEC §4 rule 1 before any ledger is consulted.
    #[error("malformed envelope: {0}")]
    Format(#[from] FormatError),
    /// The signature does not verify strictly under `signer`.
    #[error("the signature does not verify")]
    Signature,
    /// The model refuses the statement at its position, under a [`Rule`](hisaab_model::Rule).
    #[error("rejected: {0}")]
    Violation(Violation),
    /// The store is closed; a client may retry later.
    #[error("the store is closed")]
    Closed,
    /// A batch failed to commit (a full disk, an I/O error): nothing of it was appended, and
    /// appends stay stopped until the store is reopened, which resumes from what is durable.
    /// Reads go on.
    #[error("the ledger's storage failed, appends are stopped until it is reopened: {reason}")]
    StorageFailed {
        /// The error of the failed commit.
        reason: String,
    },
    /// Storage failed; nothing was appended.
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
}
