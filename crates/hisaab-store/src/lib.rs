//! # hisaab-store
//!
//! The durable Hisaab ledger on sled 0.34: one sequencer with group commit, stored Merkle
//! hashes for `O(log n)` proofs at any size, indexes by seq, event hash, statement id and
//! (operator, KPI), signed checkpoints with witness cosignatures, model-state snapshots, an
//! integrity check on open, full verification, and streaming bundle export (SPEC §2–§7).
//!
//! It does not judge statements itself: the rules of SPEC §4 are `hisaab-model`'s, applied
//! here in order by the sequencer; the formats are `hisaab-log`'s. It knows no HTTP.
//!
//! # Appending: group commit
//! Callers check the envelope's form and signature in their own thread or task, then hand it
//! to the sequencer thread through a channel. The sequencer takes up to
//! [`StoreConfig::batch_entries_max`] envelopes (waiting at most [`StoreConfig::batch_wait`]
//! after the first), and for each in order: recognises a resubmission (same id, same canonical
//! bytes), assigns the next seq and a `recorded_at` that never decreases, and applies the
//! model's rules with a history that sees the disk plus the batch so far. A rejection changes
//! nothing and is answered at once. The accepted entries, their stored hashes, index records
//! and the checkpoint signed over the new size are then written in **one** sled transaction,
//! made durable by **one** `flush`, and only then are the callers answered. A model snapshot
//! the batch reached (a copy of the model state) then goes to a thread of its own, which
//! writes it in a transaction of its own.
//!
//! # Crash recovery
//! Each batch, checkpoint included, is one sled transaction, which sled recovers whole or not
//! at all; a crash before the flush returns loses the batch, whose callers got no receipt.
//! After the flush, and before any receipt, the size and root are written to a small
//! high-water mark file beside sled's (`hisaab-mark`): sled treats a damaged log record as
//! the torn end of its log and would otherwise silently reopen at an older state.
//! `open` checks the store quickly (format, genesis and log key, latest checkpoint signature,
//! the mark, entry and stored-hash counts, the root from `O(log n)` stored hashes, the chain,
//! hashes and index records of every entry after the snapshot and of the last
//! [`StoreConfig::tail_check_entries`], signatures and all rules on that tail), removes a
//! torn tail past the latest checkpoint should one ever appear (no receipt was given for
//! it), rebuilds the entry ends and stored hashes a crash kept from the disk (derived data,
//! checked against the signed root), refuses anything missing or altered below it naming
//! the seq, and resumes the model
//! from the newest good snapshot. [`Store::verify_full`] checks everything.
//!
//! # Layout
//! The entries (each with its scope for read access) and the stored hashes in append-only
//! files, `hisaab-entries`, `hisaab-entry-ends` and `hisaab-hashes`, each byte written once;
//! the index from event hash and statement id to seq in sorted runs under `hisaab-index`;
//! beside them one sled tree per kind of record, keyed big-endian:
//! `by_kpi`, `checkpoints` (size → note with cosignatures), `snapshots`
//! (size → checksum ‖ the ids of the model snapshot's chunks), `chunks` (id → chunk, each
//! stored once), `meta`, `openings`; and the file `hisaab-mark` (size, root, checksum).
//!
//! # Openings
//! [`OpeningsVault`] keeps format v2's openings of sealed fields (SPEC §12) in the tree
//! `openings`, each entry's under its own data key wrapped by a [`MasterKey`] kept outside
//! the data directory; erasing an entry's openings deletes its one record.

// The crate's own layers, bottom up; a module imports only from those above it in this list.
// Plain data and the disk: `config`, `openings`, `error`, `report`, `layout`, `db`, `mark`.
mod config;
mod db;
mod error;
mod files;
pub mod floor;
mod index;
mod layout;
mod mark;
mod openings;
mod report;
// Snapshots in chunks, then what the handles and the sequencer share, then the model's view
// of the disk.
mod chunks;
mod replay;
mod shared;
// Snapshots written off the sequencer's critical path.
mod snapshot;
// The sequencer and the integrity check on open.
mod open;
mod writer;
// The façade, `Store`, and its other faces: reads, bundles, cosignatures, audits.
mod audit;
mod bundle;
mod cosign;
mod read;
mod store;

pub use audit::{audit_dir, open_audited, AuditedDir};
pub use config::{Clock, ManualClock, StoreConfig, SystemClock};
pub use db::open_db;
pub use error::{AppendError, Corruption, CosignatureError, StoreError};
pub use hisaab_model::{Rule, State, Violation};
pub use openings::{Erased, MasterKey, OpeningsError, OpeningsVault, OPENINGS_TREE};
pub use read::ENTRIES_LIMIT_MAX;
pub use report::{Appended, MarkStatus, OpenReport, Receipt, SignedCheckpoint, VerifyReport};
pub use store::Store;
