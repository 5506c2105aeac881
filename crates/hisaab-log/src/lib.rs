//! # hisaab-log
//!
//! The format of Hisaab's ledger, SPEC §1–3 and §6: canonical JSON (RFC 8785), signed
//! statements and envelopes, chained entries, the RFC 9162 Merkle tree and its proofs over
//! stored hashes, C2SP signed notes, checkpoints and cosignatures, and bundles; and format
//! v2's sealed fields (SPEC §12): commitments, openings, disclosures and the full-state digest tree.
//!
//! This crate is pure: no I/O beyond `std::io::{Read, Write}` handed in by the caller, no
//! clock, no randomness, no async. Time, keys and storage are parameters. It does not know
//! what a statement *means*: the accountability rules of SPEC §4 live in `hisaab-model`.

pub mod bundle;
pub mod chain;
pub mod error;
pub mod hash;
pub mod jcs;
pub mod key;
pub mod merkle;
pub mod note;
pub mod schema;
pub mod seal;
pub mod statement;
pub mod text;
pub mod time;

pub use error::FormatError;
pub use hash::Hash;
pub use key::{PublicKey, Signature, SignatureError, SigningKey};
pub use statement::{Entry, Envelope, SealedEntry, Statement, StatementId, TrustedEntry};
pub use time::{Date, Period, Timestamp};
