//! # hisaab-api
//!
//! The JSON documents of Hisaab's HTTP API (SPEC §7), defined once: the receipt of an
//! accepted statement ([`Receipt`]), the error body every failure answers with
//! ([`ErrorBody`]), the proof answers ([`InclusionProof`], [`ConsistencyProof`]), the health
//! and readiness answers, the cosignature request and answer, and who owes what by when
//! ([`Obligations`]). The server serialises them
//! and describes them in its OpenAPI document (the `ToSchema` derives); `hisaab-client`
//! deserialises them.
//!
//! This crate is pure data: serde and the schema derive, no HTTP stack, no storage, no I/O.
//! Hashes and times are `hisaab-log`'s checked types, so a client that parses an answer holds
//! a well-formed [`struct@Hash`] or [`Timestamp`] or an error. The documents the API serves as stored
//! bytes (entries, the state of SPEC §5) are `hisaab-log`'s and `hisaab-model`'s.
//!
//! ```
//! use hisaab_api::ErrorBody;
//!
//! let body = ErrorBody::new("not_found", "no entry with seq 41");
//! assert_eq!(body.error.code, "not_found");
//! ```

#![deny(missing_docs)]

pub mod access;

pub use access::{SessionChallenge, SessionGranted, SessionRequest, Withheld, WithheldLine};

use hisaab_log::{Date, Hash, Period, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What `POST /v1/statements` answers for an accepted envelope (SPEC §7): where the entry is,
/// and a checkpoint that covers it with the entry's inclusion proof for that checkpoint's size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The entry's position in the log and leaf index in the Merkle tree.
    #[schema(minimum = 0, maximum = 9_007_199_254_740_991_u64)]
    pub seq: u64,
    /// The entry's event hash (its leaf hash, SPEC §2).
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub event_hash: Hash,
    /// When the ledger recorded the entry.
    #[schema(value_type = String, example = "2026-11-29T07:51:41.120Z")]
    pub recorded_at: Timestamp,
    /// A signed checkpoint note (C2SP tlog-checkpoint) whose tree contains the entry.
    pub checkpoint: String,
    /// The RFC 9162 inclusion proof of the entry for the checkpoint's tree size, hex hashes.
    #[schema(value_type = Vec<HexHash>)]
    pub inclusion_proof: Vec<Hash>,
}

/// `GET /v1/proofs/inclusion`: an RFC 9162 inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    /// The leaf index (= the entry's seq).
    pub index: u64,
    /// The tree size the proof is for.
    pub tree_size: u64,
    /// The leaf hash of the entry, SHA-256(0x00 || leaf bytes), in hex.
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub leaf_hash: Hash,
    /// The proof's hashes, leaf side first.
    #[schema(value_type = Vec<HexHash>)]
    pub proof: Vec<Hash>,
}

/// `GET /v1/proofs/consistency`: an RFC 9162 consistency proof between two tree sizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    /// The older tree size (at least 1).
    pub from: u64,
    /// The newer tree size (at least `from`).
    pub to: u64,
    /// The proof's hashes; empty when `from == to`.
    #[schema(value_type = Vec<HexHash>)]
    pub proof: Vec<Hash>,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Health {
    /// Always `ok` when the server answers.
    #[schema(example = "ok")]
    pub status: String,
    /// The number of entries in the ledger.
    pub size: u64,
}

/// `GET /readyz` when the server takes requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Readiness {
    /// Always `ready` in a 200 answer.
    #[schema(example = "ready")]
    pub status: String,
    /// The number of entries in the ledger.
    pub size: u64,
    /// Free slots of the reads' budget (reads and cosignatures in flight).
    pub reads_free: u64,
    /// Free slots of the appends' budget.
    pub appends_free: u64,
}

/// `POST /v1/cosignatures` as JSON: a cosignature line, optionally with the checkpoint it
/// cosigns. A `text/plain` body is the line alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CosignatureRequest {
    /// One C2SP `cosignature/v1` signature line, `— <witness> <base64>`, with or without its
    /// final newline.
    pub cosignature: String,
    /// The checkpoint note (or its body) the witness cosigned. When given and it is not the
    /// latest checkpoint, the answer is 409 `stale_checkpoint`.
    #[serde(default)]
    pub checkpoint: Option<String>,
}

/// What `POST /v1/cosignatures` answers: the checkpoint with every cosignature collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CosignatureAccepted {
    /// The member id of the witness.
    pub witness: String,
    /// The tree size of the cosigned checkpoint.
    pub tree_size: u64,
    /// The checkpoint note with the log's signature and the cosignatures collected for it.
    pub checkpoint: String,
}

/// The body of every error answer: `{"error":{"code":"...","message":"..."}}` (SPEC §7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

impl ErrorBody {
    /// An error body with `code` and `message`.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
            },
        }
    }
}

/// What went wrong: a stable code for programs, a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    /// A stable snake_case code naming the cause, such as `malformed_envelope`,
    /// `bad_signature`, `duplicate_id`, `not_found`, `bad_query` or `overloaded`.
    #[schema(pattern = "^[a-z][a-z0-9_]*$", example = "not_found")]
    pub code: String,
    /// A message a person understands.
    #[schema(example = "no entry with seq 41: the ledger has 12 entries")]
    pub message: String,
}

/// A SHA-256 hash as 64 lowercase hex digits: the schema of the hashes in proofs (the
/// documents themselves carry [`struct@Hash`], which serialises so).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
pub struct HexHash(pub String);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn receipt_round_trips_with_hex_hashes_and_the_exact_time_text() {
        let text = format!(
            r#"{{"seq":3,"event_hash":"{h}","recorded_at":"2026-11-29T07:51:41.120Z","checkpoint":"c\n","inclusion_proof":["{h}"]}}"#,
            h = "ab".repeat(32)
        );
        let receipt: Receipt = serde_json::from_str(&text).unwrap();
        assert_eq!(receipt.seq, 3);
        assert_eq!(receipt.recorded_at.as_str(), "2026-11-29T07:51:41.120Z");
        assert_eq!(serde_json::to_string(&receipt).unwrap(), text);
    }

    #[test]
    fn rejects_receipt_with_unknown_field_or_bad_hash() {
        let bad_hash = r#"{"seq":3,"event_hash":"AB","recorded_at":"2026-11-29T07:51:41Z","checkpoint":"","inclusion_proof":[]}"#;
        assert!(serde_json::from_str::<Receipt>(bad_hash).is_err());
        let extra = r#"{"error":{"code":"x","message":"y","more":1}}"#;
        assert!(serde_json::from_str::<ErrorBody>(extra).is_err());
    }
}

/// `GET /v1/obligations`: who owes what by when (SPEC §11.4), on a date, at a tree size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Obligations {
    /// The ledger id.
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub ledger: Hash,
    /// The tree size they are taken at.
    #[schema(minimum = 0, maximum = 9_007_199_254_740_991_u64)]
    pub size: u64,
    /// The date that decides what is due and late.
    #[schema(value_type = String, example = "2026-12-01")]
    pub at: Date,
    /// The obligations, most days late first, then by due date.
    pub items: Vec<Obligation>,
}

/// What kind of obligation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObligationKind {
    /// A report the KPI's cadence expects, not filed.
    Report,
    /// A submission without an effective evaluation.
    Evaluation,
    /// A commitment not closed, overdue or falling due.
    Commitment,
    /// A dispute waiting for a decision.
    Dispute,
    /// A challenge waiting for a decision.
    Challenge,
    /// An action item of a meeting's minutes not closed, overdue or falling due (format 2).
    Action,
    /// A directive not closed, overdue or falling due (format 2).
    Directive,
}

impl ObligationKind {
    /// The JSON text.
    pub fn as_str(self) -> &'static str {
        match self {
            ObligationKind::Report => "report",
            ObligationKind::Evaluation => "evaluation",
            ObligationKind::Commitment => "commitment",
            ObligationKind::Dispute => "dispute",
            ObligationKind::Challenge => "challenge",
            ObligationKind::Action => "action",
            ObligationKind::Directive => "directive",
        }
    }
}

/// Who owes an obligation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "by", rename_all = "snake_case", deny_unknown_fields)]
pub enum OwedBy {
    /// The operator, through its cisos.
    Operator {
        /// The operator's id.
        operator: String,
    },
    /// Any active member holding one of these roles and not affiliated with the operator
    /// concerned.
    Roles {
        /// The roles, sorted.
        roles: Vec<String>,
    },
    /// One member, the owner of an action item (format 2).
    Member {
        /// The member's id.
        member: String,
    },
}

/// One obligation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Obligation {
    /// What is owed.
    pub kind: ObligationKind,
    /// Who owes it.
    pub owed_by: OwedBy,
    /// The operator it concerns, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// The KPI it concerns, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kpi: Option<String>,
    /// The period of a missing report or of a submission waiting for an evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub period: Option<Period>,
    /// The submission waiting for an evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, pattern = "^[0-9a-f]{64}$")]
    pub submission: Option<Hash>,
    /// The commitment, dispute, challenge, action or directive id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The escalation naming this commitment, action or directive, if any (format 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<String>,
    /// When it is (or was) due.
    #[schema(value_type = String, example = "2026-11-15")]
    pub due: Date,
    /// Days from `due` to `at`; 0 while it is not yet late.
    #[schema(minimum = 0, maximum = 9_007_199_254_740_991_u64)]
    pub days_late: u64,
}
