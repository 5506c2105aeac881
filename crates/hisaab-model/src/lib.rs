//! # hisaab-model
//!
//! The accountability model of Hisaab, SPEC §4–5: the kinds of statement and their typed
//! bodies ([`body`]), the rules of acceptance checked entry by entry at each entry's position
//! ([`Ledger::apply`]), the projection of the state with its canonical JSON and digest
//! ([`State`]), replay as of an earlier size and the difference between two states
//! ([`MemoryLedger::state_at`], [`diff`]), and full verification of a bundle
//! ([`verify_bundle`]).
//!
//! This crate is pure: no I/O (beyond a `BufRead` handed to [`verify_bundle`]), no clock, no
//! randomness, no async, no environment. It does not verify signatures inside
//! [`Ledger::apply`] (callers do, in parallel), does not store anything durably (that is
//! `hisaab-store`), and does not know HTTP: it returns typed errors ([`Violation`] with its
//! [`Rule`] and the rule's stable [`Rule::code`]), and only the server maps them to statuses.
//!
//! Each kind of statement lives in one module of [`kind`] (its body, checks and effect on the
//! state); [`body`] re-exports the body types.
//!
//! ```
//! use hisaab_model::{Ledger, Rule};
//!
//! let ledger = Ledger::new();
//! assert_eq!(ledger.size(), 0);
//! assert_eq!(Rule::Signer.code(), "unknown_signer");
//! ```

#![deny(missing_docs)]

pub mod body;
pub mod cycle;
pub mod kind;
pub mod ledger;
pub mod memory;
pub mod obligation;
mod parallel;
pub mod report;
pub mod rule;
pub mod schema;
pub mod sealed;
pub mod state;
pub mod value;
pub mod verify;
pub mod view;

pub use body::{Body, BodyError, GenesisBody, Kind, Policy, Signers};
pub use ledger::{Ledger, SnapshotError, SNAPSHOT_FORMAT};
pub use memory::MemoryLedger;
pub use obligation::{
    Obligation, ObligationError, ObligationFilter, ObligationKind, Obligations, OwedBy,
};
pub use rule::{History, HistoryError, Rule, Violation};
pub use state::{
    diff, Assignment, Change, CommitmentCounts, DisputeCounts, EvaluatedSubmission, KpiDefinition,
    KpiState, KpiStatus, MemberState, MemberStatus, OperatorState, PillarScores, Report, State,
    StateDiff,
};
pub use value::{
    ActionOutcome, Cadence, CommitmentOutcome, Decimal, Direction, DisputeOutcome, KpiId, Note,
    Origin, Pillar, Role, Score, Slug, Text, ValueError, Verdict, Vocabulary,
};
pub use verify::{
    cited_size, cited_sizes, replay_bundle, replay_bundle_opened, verify_bundle,
    verify_bundle_cited, verify_bundle_opened, verify_entries, verify_entries_cited, OpenedBundle,
    ReplayedBundle, VerifiedBundle, VerifiedEntries, VerifyError,
};
pub use view::{Reader, ReaderError, Scope, Scopes};
