//! The JSON documents of the API, for the handlers and the OpenAPI description.
//!
//! The documents the API answers with (receipt, proofs, health, cosignatures, the error body)
//! are `hisaab-api`'s, the one definition that clients parse too; they are re-exported here.
//! The state (SPEC §5) is `hisaab-model`'s `State`, whose schema is the model's own `JsonSchema`
//! (the one `schemas/state.schema.json` is generated from), put into the description by
//! [`crate::openapi::to_json`]; [`State`] here is only the name the handlers refer to.
//!
//! The mirrors of `hisaab-log`'s documents (`Envelope`, `Statement`, `Entry`) are never used to
//! parse or produce bytes: entries are served as their leaf bytes exactly and envelopes are
//! parsed by `hisaab-log`. They exist so that `GET /openapi.json` describes every body, and the
//! tests check served bodies against them.
#![allow(dead_code)] // Schema-only mirrors are read by utoipa's derive, never constructed.

use std::borrow::Cow;
use std::collections::BTreeMap;

pub use hisaab_api::{
    ConsistencyProof, CosignatureAccepted, CosignatureRequest, Health, HexHash, InclusionProof,
    Readiness, Receipt,
};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Schema};
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

/// The state of SPEC §5 as the handlers name it in the description. Its schema is
/// `hisaab-model`'s, generated from `hisaab_model::State` and put in place by
/// [`crate::openapi::to_json`]; this placeholder is never served.
#[derive(Debug, Clone, Copy)]
pub struct State;

impl utoipa::PartialSchema for State {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some(
                "Replaced by hisaab-model's schema of the state (SPEC §5).",
            ))
            .into()
    }
}

impl ToSchema for State {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("State")
    }
}

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
