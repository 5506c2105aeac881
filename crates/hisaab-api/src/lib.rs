//! # hisaab-api
//!
//! The JSON documents of Hisaab's HTTP API (SPEC §7), defined once: the receipt of an
//! accepted statement ([`Receipt`]), the error body every failure answers with
//! ([`ErrorBody`]), the proof answers ([`InclusionProof`], [`ConsistencyProof`]), the health
//! and readiness answers, the cosignature request and answer, and who owes what by when
//! ([`Obligations`], `hisaab-model`'s projection, served as it is). The server serialises
//! them and describes them in its OpenAPI document from their `JsonSchema` derives (schemars,
//! the one schema generator of the project); `hisaab-client` deserialises them.
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
pub mod submission;

pub use access::{SessionChallenge, SessionGranted, SessionRequest, Withheld, WithheldLine};
pub use submission::{SealedSubmission, Submission};

pub use hisaab_model::{Obligation, ObligationKind, Obligations, OwedBy};

use hisaab_log::jcs::INTEGER_MAX;
use hisaab_log::schema::pattern_string;
use hisaab_log::{Hash, Timestamp};
use schemars::gen::SchemaGenerator;
use schemars::schema::Schema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The most hashes an RFC 9162 proof has: one per level of a tree of at most 2^64 leaves.
pub const PROOF_HASHES_MAX: u32 = 64;

/// One C2SP cosignature/v1 line as `POST /v1/cosignatures` takes it: an em dash, a space, a key
/// name (no whitespace, no `+`), a space, and canonical base64 of the 76-byte payload (key id,
/// timestamp, signature), with or without the final newline.
pub const COSIGNATURE_LINE_PATTERN: &str =
    "^\u{2014} [^\\s+\\x00-\\x1f]{1,63} [A-Za-z0-9+/]{101}[AQgw]==\n?$";

/// The longest cosignature line taken, in bytes (a member id is at most 63 bytes; the
/// signature's base64 is 104).
pub const COSIGNATURE_LINE_BYTES_MAX: usize = 512;

/// A checkpoint as `POST /v1/cosignatures` takes it in JSON: its body (origin, tree size, root
/// hash, each ending in a newline), then optionally the blank line and the note's signature
/// lines.
pub const CHECKPOINT_PATTERN: &str = concat!(
    "^[^\\s+\\x00-\\x1f]+\n(?:0|[1-9][0-9]{0,18})\n[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=\n",
    "(?:\n[^\\x00-\\x09\\x0b-\\x1f]*)?$"
);

/// What `POST /v1/statements` answers for an accepted envelope (SPEC §7): where the entry is,
/// and a checkpoint that covers it with the entry's inclusion proof for that checkpoint's size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The entry's position in the log and leaf index in the Merkle tree.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub seq: u64,
    /// The entry's event hash (its leaf hash, SPEC §2).
    pub event_hash: Hash,
    /// When the ledger recorded the entry.
    pub recorded_at: Timestamp,
    /// A signed checkpoint note (C2SP tlog-checkpoint) whose tree contains the entry.
    #[schemars(regex = "hisaab_log::schema::SIGNED_CHECKPOINT_PATTERN")]
    pub checkpoint: String,
    /// The RFC 9162 inclusion proof of the entry for the checkpoint's tree size, hex hashes.
    #[schemars(length(max = "PROOF_HASHES_MAX"))]
    pub inclusion_proof: Vec<Hash>,
}

/// `GET /v1/proofs/inclusion`: an RFC 9162 inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    /// The leaf index (= the entry's seq).
    #[schemars(range(max = "INTEGER_MAX"))]
    pub index: u64,
    /// The tree size the proof is for.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub tree_size: u64,
    /// The leaf hash of the entry, SHA-256(0x00 || leaf bytes), in hex.
    pub leaf_hash: Hash,
    /// The proof's hashes, leaf side first.
    #[schemars(length(max = "PROOF_HASHES_MAX"))]
    pub proof: Vec<Hash>,
}

/// `GET /v1/proofs/consistency`: an RFC 9162 consistency proof between two tree sizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    /// The older tree size (at least 1).
    #[schemars(range(max = "INTEGER_MAX"))]
    pub from: u64,
    /// The newer tree size (at least `from`).
    #[schemars(range(max = "INTEGER_MAX"))]
    pub to: u64,
    /// The proof's hashes; empty when `from == to`.
    #[schemars(length(max = "PROOF_HASHES_MAX"))]
    pub proof: Vec<Hash>,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Health {
    /// Always `ok` when the server answers.
    pub status: String,
    /// The number of entries in the ledger.
    pub size: u64,
}

/// `GET /readyz` when the server takes requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Readiness {
    /// Always `ready` in a 200 answer.
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CosignatureRequest {
    /// One C2SP `cosignature/v1` signature line, `— <witness> <base64>`, with or without its
    /// final newline.
    #[schemars(schema_with = "cosignature_line")]
    pub cosignature: String,
    /// The checkpoint note (or its body) the witness cosigned. When given and it is not the
    /// latest checkpoint, the answer is 409 `stale_checkpoint`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "checkpoint")]
    pub checkpoint: Option<String>,
}

/// What `POST /v1/cosignatures` answers: the checkpoint with every cosignature collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    /// A stable snake_case code naming the cause, such as `malformed_envelope`,
    /// `bad_signature`, `duplicate_id`, `not_found`, `bad_query` or `overloaded`.
    #[schemars(regex(pattern = "^[a-z][a-z0-9]*(_[a-z0-9]+)*$"))]
    pub code: String,
    /// A message a person understands.
    #[schemars(length(min = 1))]
    pub message: String,
}

/// A line of `GET /v1/entries` or `GET /v1/history`: an entry's leaf bytes, or the line of an
/// entry withheld from the reader (SPEC §13.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum EntryLine {
    /// An entry the reader may read, as its leaf bytes.
    Entry(Box<hisaab_log::Entry>),
    /// An entry withheld from the reader.
    Withheld(WithheldLine),
}

/// The body of `POST /v1/cosignatures` as `text/plain`: one cosignature line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CosignatureLine(pub String);

impl JsonSchema for CosignatureLine {
    fn schema_name() -> String {
        "CosignatureLine".to_owned()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        cosignature_line(generator)
    }
}

/// One cosignature line ([`COSIGNATURE_LINE_PATTERN`], at most
/// [`COSIGNATURE_LINE_BYTES_MAX`] bytes).
fn cosignature_line(_: &mut SchemaGenerator) -> Schema {
    let mut schema = pattern_string(
        COSIGNATURE_LINE_PATTERN,
        Some(
            "One C2SP cosignature/v1 line, `\u{2014} <witness> <base64>`, with or without its \
             final newline.",
        ),
        None,
    )
    .into_object();
    schema.string().max_length = u32::try_from(COSIGNATURE_LINE_BYTES_MAX).ok();
    schema.into()
}

/// The checkpoint a witness cosigned ([`CHECKPOINT_PATTERN`]); never `null` when present.
fn checkpoint(_: &mut SchemaGenerator) -> Schema {
    pattern_string(
        CHECKPOINT_PATTERN,
        Some(
            "The checkpoint the witness cosigned: its body (origin, tree size, root hash), or \
             the whole note. When it is not the latest checkpoint, the answer is 409 \
             `stale_checkpoint`.",
        ),
        None,
    )
}

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
