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

// The crate's own layers, bottom up, one group a layer; a module imports only from its own
// layer and those above it in this list.
// Plain values, errors and helpers: `value`, `rule`, `parallel`.
mod parallel;
pub mod rule;
pub mod value;
// Plain data under the ledger: the cycle's replay records (`record`), the bodies (`body`),
// sealed bodies parsed and opened (`sealed`), and where an entry belongs (`place`).
pub mod body;
pub mod place;
mod record;
pub mod sealed;
// The replay: the ledger's records and rules of acceptance (`ledger`), each kind's checks and
// effect on them (`kind`), the cycle's checks and its projection (`cycle`). A kind's module is
// the one tie both ways: `body` names its body type, and `Ledger::apply` reaches its checks
// only through `Body`.
pub mod cycle;
pub mod kind;
pub mod ledger;
// Projections of the replay: the state (`state`), obligations, reports, replay as of a size
// (`memory`), read access by role (`view`), verification of a bundle (`verify`), schemas.
pub mod memory;
pub mod obligation;
pub mod report;
pub mod schema;
pub mod state;
pub mod verify;
pub mod view;

pub use body::{Body, BodyError, GenesisBody, Kind, Policy, Signers};
pub use ledger::{snapshot_is_current, Applied, Erasure, Ledger, SnapshotError, SNAPSHOT_FORMAT};
pub use memory::MemoryLedger;
pub use obligation::{
    Obligation, ObligationError, ObligationFilter, ObligationKind, Obligations, OwedBy,
};
pub use rule::{History, HistoryError, Rule, Violation};
pub use state::{
    diff, Assignment, Change, CommitmentCounts, DisputeCounts, ErasedFields, EvaluatedSubmission,
    KpiDefinition, KpiState, KpiStatus, MemberState, MemberStatus, OperatorState, PillarScores,
    Report, State, StateDiff,
};
pub use value::{
    ActionOutcome, Cadence, ChallengeStatus, CommitmentOutcome, Decimal, DelegationStatus,
    Direction, DisputeOutcome, KpiId, Note, Origin, Pillar, Role, Score, Severity, Slug,
    StakeholderType, Text, ValueError, Verdict, Vocabulary,
};
pub use verify::{
    check_disclosure, cited_size, cited_sizes, disclosure_record, drop_erased, erased_fields,
    replay_bundle, replay_bundle_opened, replay_bundle_opened_streaming, report_seqs,
    resolution_at, sub_state_proof, verify_bundle, verify_bundle_cited, verify_bundle_opened,
    verify_bundle_opened_streaming, verify_entries, verify_entries_cited, verify_sub_state,
    CheckedDisclosure, Erasures, IgnoredOpening, OpenedBundle, ReplayedBundle, VerifiedBundle,
    VerifiedEntries, VerifiedSubState, VerifyError,
};
pub use view::{Reader, ReaderError, Scope, Scopes};
