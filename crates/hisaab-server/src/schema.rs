//! The JSON documents the API answers with, and schema-only mirrors of the ones it serves as
//! stored bytes (entries, envelopes, the state), for the OpenAPI description.
//!
//! The mirrors (`Envelope`, `Statement`, `Entry`, `State` and their parts) are never used to
//! parse or produce bytes: entries are served as their leaf bytes exactly, envelopes are parsed
//! by `hisaab-log`, and the state is `hisaab-model`'s. They exist so that `GET /openapi.json`
//! describes every body, and the tests check served bodies against them.
#![allow(dead_code)] // Schema-only mirrors are read by utoipa's derive, never constructed.

use std::collections::BTreeMap;

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
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub event_hash: String,
    /// When the ledger recorded the entry.
    #[schema(example = "2026-11-29T07:51:41.120Z")]
    pub recorded_at: String,
    /// A signed checkpoint note (C2SP tlog-checkpoint) whose tree contains the entry.
    pub checkpoint: String,
    /// The RFC 9162 inclusion proof of the entry for the checkpoint's tree size, hex hashes.
    pub inclusion_proof: Vec<HexHash>,
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
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub leaf_hash: String,
    /// The proof's hashes, leaf side first.
    pub proof: Vec<HexHash>,
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
    pub proof: Vec<HexHash>,
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

/// A SHA-256 hash as 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
pub struct HexHash(pub String);

/// A signed statement as a client sends it (SPEC §2). Parsed strictly: no duplicate keys,
/// integers only in 0..=2^53-1, canonical size at most 65,536 bytes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// The statement.
    pub statement: Statement,
    /// Ed25519 over `hisaab/statement/v1\n` || JCS(statement), canonical base64.
    pub signature: String,
}

/// What a person signs (SPEC §2).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// Format version, 1.
    #[schema(minimum = 1, maximum = 1)]
    pub v: u64,
    /// The ledger id (event hash of entry 0); absent only in the genesis statement.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<String>,
    /// A lowercase UUID, unique in the ledger.
    #[schema(pattern = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
    pub id: String,
    /// The kind, such as `submission.filed` (SPEC §4).
    pub kind: String,
    /// The signer's Ed25519 public key, canonical base64.
    pub signer: String,
    /// When the signer signed it, UTC.
    pub issued_at: String,
    /// The kind's body (SPEC §4).
    pub body: BTreeMap<String, serde_json::Value>,
}

/// An entry of the ledger (SPEC §2), served as its leaf bytes, JCS(entry), exactly.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Position in the log, from 0.
    pub seq: u64,
    /// Event hash of entry `seq - 1`; 64 zeros for entry 0.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub prev: String,
    /// When the ledger recorded it.
    pub recorded_at: String,
    /// The signed statement.
    pub statement: Statement,
    /// The signer's signature over the statement.
    pub signature: String,
}

/// The state of the ledger at a tree size and date (SPEC §5).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// The ledger id.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub ledger: String,
    /// The tree size the state is of.
    pub size: u64,
    /// The date the state is of (the clock for "overdue").
    #[schema(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub at: String,
    /// Every registered operator.
    pub operators: BTreeMap<String, OperatorState>,
    /// Per pillar, the rounded mean of the operators' non-null pillar scores.
    pub sector: PillarScores,
    /// Every member, the genesis authority included.
    pub members: BTreeMap<String, MemberState>,
    /// SHA-256 of JCS(state without `digest`).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub digest: String,
}

/// One operator in the state (SPEC §5).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OperatorState {
    /// The operator's name.
    pub name: String,
    /// Every KPI assigned to the operator.
    pub kpis: BTreeMap<String, KpiState>,
    /// The operator's score per pillar.
    pub pillar_scores: PillarScores,
    /// The rounded mean of the non-null pillar scores.
    #[schema(required = true, minimum = 0, maximum = 100)]
    pub score: Option<u64>,
    /// Commitments by status.
    pub commitments: CommitmentCounts,
    /// Disputes by status.
    pub disputes: DisputeCounts,
}

/// One KPI of an operator in the state (SPEC §5).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KpiState {
    /// The KPI's pillar.
    pub pillar: Pillar,
    /// The target in force.
    #[schema(pattern = "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?$")]
    pub target: String,
    /// The baseline in force; absent when the assignment has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?$")]
    pub baseline: Option<String>,
    /// The due date in force.
    pub due: String,
    /// The first period in force.
    pub first_period: String,
    /// The latest non-superseded submission's event hash.
    #[schema(required = true)]
    pub latest_submission: Option<String>,
    /// The latest submission's period.
    #[schema(required = true)]
    pub period: Option<String>,
    /// The latest submission's value.
    #[schema(required = true)]
    pub value: Option<String>,
    /// The effective evaluation's event hash.
    #[schema(required = true)]
    pub evaluation: Option<String>,
    /// The effective evaluation's verdict.
    #[schema(required = true)]
    pub verdict: Option<Verdict>,
    /// The effective evaluation's score.
    #[schema(required = true, minimum = 0, maximum = 100)]
    pub score: Option<u64>,
    /// The first that applies: `disputed`, `met`, `overdue`, `submitted`, the verdict,
    /// `pending`.
    pub status: KpiStatus,
}

/// A score (0–100 or null) for each of the six pillars.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PillarScores {
    /// Legal Framework.
    #[schema(required = true)]
    pub legal: Option<u64>,
    /// Cyber Resilience.
    #[schema(required = true)]
    pub resilience: Option<u64>,
    /// Proactive Monitoring and Incident Response.
    #[schema(required = true)]
    pub monitoring: Option<u64>,
    /// Capacity Building.
    #[schema(required = true)]
    pub capacity: Option<u64>,
    /// Cooperation and Collaboration.
    #[schema(required = true)]
    pub cooperation: Option<u64>,
    /// Public Awareness.
    #[schema(required = true)]
    pub awareness: Option<u64>,
}

/// An operator's commitments by status.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitmentCounts {
    /// Not closed, not past due.
    pub open: u64,
    /// Not closed, past due.
    pub overdue: u64,
    /// Closed as fulfilled.
    pub fulfilled: u64,
    /// Closed as missed.
    pub missed: u64,
    /// Closed as withdrawn.
    pub withdrawn: u64,
}

/// An operator's disputes by status.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeCounts {
    /// Not resolved.
    pub open: u64,
    /// Resolved: the evaluation stands.
    pub upheld: u64,
    /// Resolved: the evaluation is void.
    pub overturned: u64,
}

/// A member in the state (SPEC §5).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberState {
    /// The member's roles, sorted.
    pub roles: Vec<Role>,
    /// The member's operator, if any.
    #[schema(required = true)]
    pub operator: Option<String>,
    /// The member's current public key.
    pub key: String,
    /// Whether the member may still sign.
    pub status: MemberStatus,
}

/// The six pillars of the strategy (SPEC §4).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Pillar {
    /// Legal Framework.
    Legal,
    /// Cyber Resilience.
    Resilience,
    /// Proactive Monitoring and Incident Response.
    Monitoring,
    /// Capacity Building.
    Capacity,
    /// Cooperation and Collaboration.
    Cooperation,
    /// Public Awareness.
    Awareness,
}

/// An evaluation's verdict.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The target is met.
    Met,
    /// Partly met.
    PartiallyMet,
    /// Not met.
    NotMet,
    /// The evidence does not allow a judgement.
    InsufficientEvidence,
}

/// A KPI's status in the state (SPEC §5).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KpiStatus {
    /// An open dispute names an evaluation of it.
    Disputed,
    /// The verdict is `met`.
    Met,
    /// Past due and not met.
    Overdue,
    /// Submitted, not yet evaluated.
    Submitted,
    /// Verdict `partially_met`.
    PartiallyMet,
    /// Verdict `not_met`.
    NotMet,
    /// Verdict `insufficient_evidence`.
    InsufficientEvidence,
    /// Nothing submitted yet.
    Pending,
}

/// A member's role (SPEC §4).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The PTA.
    Authority,
    /// The task force chair.
    Chair,
    /// A CISO of one operator.
    Ciso,
    /// An evaluator.
    Evaluator,
    /// A witness cosigning checkpoints.
    Witness,
}

/// A member's status.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    /// May sign.
    Active,
    /// Revoked: may no longer sign.
    Revoked,
}
