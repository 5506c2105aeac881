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
    Readiness, Receipt, SessionChallenge, SessionGranted, SessionRequest, Withheld, WithheldLine,
};

use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{
    AnyOfBuilder, ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::ToSchema;

/// The largest integer the API reads or writes: 2^53 - 1 (SPEC §1), in query strings and paths
/// as in JSON. A larger one is 400 `bad_query` or `bad_path`, as the description says.
pub const INTEGER_MAX: u64 = hisaab_log::jcs::INTEGER_MAX;

/// A real calendar date `YYYY-MM-DD` (years 0000-9999, leap years by the Gregorian rule): what
/// `hisaab_log::Date::try_parse` takes, exactly, so that the description forbids what the
/// server refuses (`0000-00-00`, `2026-02-30`) and allows what it takes.
pub const DATE_PATTERN: &str = concat!(
    "^(?:[0-9]{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)",
    "|(?:0[13578]|1[02])-31)|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])",
    "|(?:[02468][048]|[13579][26])00)-02-29)$"
);

/// A SPEC §1 timestamp `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` with a real date (as
/// `hisaab_log::Timestamp::try_parse` takes it).
pub const TIMESTAMP_PATTERN: &str = concat!(
    "^(?:[0-9]{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)",
    "|(?:0[13578]|1[02])-31)|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])",
    "|(?:[02468][048]|[13579][26])00)-02-29)",
    "T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,9})?Z$"
);

/// Canonical base64 of 64 bytes (an Ed25519 signature): 86 characters, the last of which
/// carries 2 bits, then `==`.
pub const SIGNATURE_PATTERN: &str = "^[A-Za-z0-9+/]{85}[AQgw]==$";

/// Canonical base64 of 32 bytes (an Ed25519 public key or a root hash): 43 characters, the
/// last of which carries 4 bits, then `=`.
pub const KEY_PATTERN: &str = "^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$";

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

/// A string schema with `pattern`, for `schema_with` where the pattern is one of the constants
/// above (utoipa's `pattern` attribute takes only a literal).
fn pattern_string(pattern: &str, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .description(Some(description))
}

/// An integer query or path parameter from `minimum` to [`INTEGER_MAX`].
fn bounded_integer(minimum: u64) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(minimum as f64))
        .maximum(Some(INTEGER_MAX as f64))
}

/// An integer from 0 to 2^53 - 1.
fn integer_from_0() -> ObjectBuilder {
    bounded_integer(0)
}

/// `schema_with` of a date parameter.
pub(crate) fn date() -> ObjectBuilder {
    pattern_string(DATE_PATTERN, "A real calendar date, YYYY-MM-DD.")
}

fn signature() -> ObjectBuilder {
    pattern_string(
        SIGNATURE_PATTERN,
        "Ed25519 over `hisaab/statement/v1\\n` || JCS(statement), canonical base64 of 64 bytes.",
    )
}

fn ledger_id() -> ObjectBuilder {
    pattern_string(
        "^[0-9a-f]{64}$",
        "The ledger id (event hash of entry 0): 64 lowercase hex digits; absent only in the \
         genesis statement (never `null`).",
    )
}

fn signer() -> ObjectBuilder {
    pattern_string(
        KEY_PATTERN,
        "The signer's Ed25519 public key, canonical base64 of 32 bytes.",
    )
}

fn issued_at() -> ObjectBuilder {
    pattern_string(
        TIMESTAMP_PATTERN,
        "When the signer signed it, UTC: YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z with a real date.",
    )
    .examples([serde_json::json!("2026-11-29T07:51:41.120Z")])
}

fn cosignature_line() -> ObjectBuilder {
    pattern_string(
        COSIGNATURE_LINE_PATTERN,
        "One C2SP cosignature/v1 line, `\u{2014} <witness> <base64>`, with or without its final \
         newline.",
    )
    .max_length(Some(COSIGNATURE_LINE_BYTES_MAX))
}

fn checkpoint() -> ObjectBuilder {
    pattern_string(
        CHECKPOINT_PATTERN,
        "The checkpoint the witness cosigned: its body (origin, tree size, root hash), or the \
         whole note. When it is not the latest checkpoint, the answer is 409 \
         `stale_checkpoint`.",
    )
}

fn body() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(Ref::from_schema_name("JsonValue")))
        .description(Some(
            "The kind's body (SPEC §4): an object whose numbers are integers from 0 to 2^53 - 1.",
        ))
}

/// Any JSON value within the number profile of SPEC §1: numbers are integers from 0 to
/// 2^53 - 1 (the server refuses others as `malformed_envelope`).
#[derive(Debug, Clone, Copy)]
pub struct JsonValue;

impl utoipa::PartialSchema for JsonValue {
    fn schema() -> RefOr<Schema> {
        let itself = || Ref::from_schema_name("JsonValue");
        AnyOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(ObjectBuilder::new().schema_type(Type::Boolean))
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .item(integer_from_0())
            .item(ArrayBuilder::new().items(itself()))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .additional_properties(Some(itself())),
            )
            .into()
    }
}

impl ToSchema for JsonValue {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("JsonValue")
    }
}

/// The body of `POST /v1/cosignatures` as `text/plain`: one cosignature line.
#[derive(Debug, Clone, Copy)]
pub struct CosignatureLine;

impl utoipa::PartialSchema for CosignatureLine {
    fn schema() -> RefOr<Schema> {
        cosignature_line().into()
    }
}

impl ToSchema for CosignatureLine {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("CosignatureLine")
    }
}

/// `POST /v1/cosignatures` as JSON, described with the patterns the server holds it to (the
/// wire type is `hisaab_api::CosignatureRequest`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CosignatureRequest)]
pub struct CosignatureRequestSchema {
    /// The cosignature line.
    #[schema(schema_with = cosignature_line)]
    pub cosignature: String,
    /// The checkpoint it cosigns, if the witness says.
    #[schema(schema_with = checkpoint, required = false)]
    #[serde(default)]
    pub checkpoint: Option<String>,
}

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
/// numbers only integers in 0..=2^53-1 written as plain digits (`1.0` and `1e3` are refused,
/// which a schema cannot say), canonical size at most 65,536 bytes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// The statement.
    pub statement: Statement,
    /// Ed25519 over `hisaab/statement/v1\n` || JCS(statement), canonical base64.
    #[schema(schema_with = signature)]
    pub signature: String,
}

/// What a person signs (SPEC §2).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// Format version: the ledger's format, 1 or 2 (its genesis statement's `v`).
    #[schema(minimum = 1, maximum = 2)]
    pub v: u64,
    /// The ledger id (event hash of entry 0); absent only in the genesis statement (never
    /// `null`).
    #[schema(schema_with = ledger_id, required = false)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<String>,
    /// A lowercase UUID, unique in the ledger.
    #[schema(pattern = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
    pub id: String,
    /// The kind, such as `submission.filed` (SPEC §4).
    #[schema(min_length = 1)]
    pub kind: String,
    /// The signer's Ed25519 public key, canonical base64.
    #[schema(schema_with = signer)]
    pub signer: String,
    /// When the signer signed it, UTC.
    #[schema(schema_with = issued_at)]
    pub issued_at: String,
    /// The kind's body (SPEC §4): an object whose numbers are integers from 0 to 2^53 - 1.
    #[schema(schema_with = body)]
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

/// A line of `GET /v1/entries` or `GET /v1/history`: an entry's leaf bytes, or the line of an
/// entry withheld from the reader (SPEC §13.4).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum EntryLine {
    /// An entry the reader may read, as its leaf bytes.
    Entry(Entry),
    /// An entry withheld from the reader.
    Withheld(WithheldLine),
}
