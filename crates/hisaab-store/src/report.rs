//! What the store answers: receipts, signed checkpoints, and the reports of `open` and of the
//! full verification. Plain data; nothing here reads or writes the store.

use hisaab_log::note::{Checkpoint, VerifierKey};
use hisaab_log::Hash;

/// What a caller gets for an appended envelope (SPEC §7): the wire type the server sends and
/// clients parse, defined once in `hisaab-api`.
pub use hisaab_api::Receipt;

/// The answer to an append: the receipt, and whether the envelope was new (`false` when it was
/// already in the ledger and this is its original receipt with a current checkpoint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The receipt.
    pub receipt: Receipt,
    /// `true` for a new entry, `false` for a resubmission (the server answers 201 and 200).
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

/// What [`Store::open`](crate::Store::open) found and did: how much it checked and replayed.
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
    /// Newer snapshots that did not check out (damaged, or holding another state than the
    /// entries give) and were passed over.
    pub snapshots_refused: u64,
    /// Whether the snapshot resumed from showed that this store wrote it (a tag under the log
    /// key, or sealed under the master key), so that it was not checked against the one
    /// before it by replaying the entries between them.
    pub snapshot_authenticated: bool,
    /// What the high-water mark beside sled's files said.
    pub mark: MarkStatus,
    /// Entries whose scope for read access was computed on open: those of a store of the
    /// earlier layout, whose entries this open moved out of sled (once, then 0).
    pub scopes_indexed: u64,
    /// Entries read from the entry files to index their event hash and statement id: those
    /// after the last index run (at most about a run's worth after a crash; the whole log
    /// for a store whose index was in sled, or after a damaged run).
    pub index_entries_read: u64,
    /// Index runs found damaged and deleted (their entries then read again).
    pub index_runs_discarded: u64,
    /// Entries whose ends and stored hashes were written again on open: those appended after
    /// the entry files' index was last synced, when the store was not closed (at most
    /// a few thousand).
    pub index_rebuilt_entries: u64,
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
    /// ([`Corruption::LostEntries`](crate::Corruption::LostEntries)).
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

/// What [`Store::verify_full`](crate::Store::verify_full) checked.
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
    /// What the high-water mark said (as `open` found it, for
    /// [`Store::verify_full`](crate::Store::verify_full)).
    pub mark: MarkStatus,
}
