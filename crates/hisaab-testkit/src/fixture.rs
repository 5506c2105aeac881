//! A minimal valid statement stream at the envelope level, for the store's doc examples,
//! tests, crash test and benches. Its keys are the crate's one cast ([`crate::seed`]): the
//! authority is [`seed::AUTHORITY`], the log key [`seed::LOG`].

use hisaab_log::note::VerifierKey;
use hisaab_log::Timestamp;
use hisaab_log::{Envelope, FormatError, Hash, PublicKey, SigningKey, Statement, StatementId};
use serde_json::{json, Map, Value};

pub use crate::ORIGIN;
use crate::{key, seed};

/// 2026-01-01T00:00:00Z in Unix milliseconds: the fixture statements' `issued_at`.
pub const EPOCH_MILLIS: i64 = 1_767_225_600_000;

/// The genesis authority's key (member `pta`).
pub fn authority_key() -> SigningKey {
    key(seed::AUTHORITY)
}

/// The log key.
pub fn log_key() -> SigningKey {
    key(seed::LOG)
}

/// The key of witness `n`.
pub fn witness_key(n: u8) -> SigningKey {
    key(seed::WITNESSES + (n & 0x1f))
}

/// The log key's verifier key string under [`ORIGIN`].
///
/// # Errors
/// Never for the fixed origin.
pub fn log_vkey() -> Result<VerifierKey, hisaab_log::note::NoteError> {
    VerifierKey::new(ORIGIN, PublicKey::from_signing_key(&log_key()))
}

/// A genesis envelope for [`ORIGIN`], signed by [`authority_key`], naming [`log_key`].
///
/// # Errors
/// Never for the fixed values.
pub fn genesis() -> Result<Envelope, FormatError> {
    genesis_of_format(1)
}

/// The genesis of [`genesis`] for a ledger of format `format` (1 or 2).
///
/// # Errors
/// Never.
pub fn genesis_of_format(format: u64) -> Result<Envelope, FormatError> {
    let vkey = log_vkey().map_err(|e| FormatError::Field {
        field: "log_key".into(),
        reason: e.to_string(),
    })?;
    let body = json!({
        "origin": ORIGIN,
        "title": "Hisaab test ledger",
        "strategy": {"name": "Cyber Security Strategy for the Telecom Sector",
                     "starts": "2023-01-01", "ends": "2028-12-31"},
        "log_key": vkey.to_vkey(),
        "authority": {"member": "pta", "name": "Pakistan Telecommunication Authority"},
        "policy": {"max_future_skew_s": 300, "max_age_s": 315_360_000u64},
    });
    build(
        format,
        None,
        statement_id(0, 0)?,
        "ledger.genesis",
        &authority_key(),
        body,
    )
}

/// A statement id unique for `(namespace, n)`: a version-7-shaped UUID.
///
/// # Errors
/// Never.
pub fn statement_id(namespace: u32, n: u64) -> Result<StatementId, FormatError> {
    let low = n & 0xffff_ffff_ffff;
    StatementId::try_new(&format!("{namespace:08x}-0000-7000-8000-{low:012x}"))
}

/// `operator.registered` of `op-<namespace>-<n>` by the authority.
///
/// # Errors
/// Never for a valid ledger id.
pub fn register_operator(ledger: Hash, namespace: u32, n: u64) -> Result<Envelope, FormatError> {
    let body = json!({"operator": format!("op-{namespace}-{n}"), "name": format!("Operator {namespace}-{n}")});
    statement_in(
        ledger,
        namespace,
        n,
        "operator.registered",
        &authority_key(),
        body,
    )
}

/// `member.enrolled` of witness `w-<n>` with [`witness_key`]`(n)`.
///
/// # Errors
/// Never for a valid ledger id.
pub fn enroll_witness(ledger: Hash, n: u8) -> Result<Envelope, FormatError> {
    let key = PublicKey::from_signing_key(&witness_key(n));
    let body = json!({"member": format!("w-{n}"), "name": format!("Witness {n}"),
                      "roles": ["witness"], "key": key.to_base64()});
    statement_in(
        ledger,
        0xffff_fff0,
        u64::from(n),
        "member.enrolled",
        &authority_key(),
        body,
    )
}

/// A statement in ledger `ledger` with id `(namespace, n)`, signed by `key`.
///
/// # Errors
/// When `body` is not a JSON object or breaks the canonical-JSON profile.
pub fn statement_in(
    ledger: Hash,
    namespace: u32,
    n: u64,
    kind: &str,
    key: &SigningKey,
    body: Value,
) -> Result<Envelope, FormatError> {
    let id = statement_id(namespace, n)?;
    build(1, Some(ledger), id, kind, key, body)
}

/// [`statement_in`] for a ledger of format `format`: the statement carries `v` = `format`.
///
/// # Errors
/// When `body` is not a JSON object or breaks the canonical-JSON profile.
pub fn statement_in_format(
    format: u64,
    ledger: Hash,
    namespace: u32,
    n: u64,
    kind: &str,
    key: &SigningKey,
    body: Value,
) -> Result<Envelope, FormatError> {
    build(
        format,
        Some(ledger),
        statement_id(namespace, n)?,
        kind,
        key,
        body,
    )
}

fn build(
    v: u64,
    ledger: Option<Hash>,
    id: StatementId,
    kind: &str,
    key: &SigningKey,
    body: Value,
) -> Result<Envelope, FormatError> {
    let body: Map<String, Value> = match body {
        Value::Object(map) => map,
        _ => {
            return Err(FormatError::Field {
                field: "body".into(),
                reason: "must be an object".into(),
            })
        }
    };
    let statement = Statement {
        v,
        ledger,
        id,
        kind: kind.to_owned(),
        signer: PublicKey::from_signing_key(key),
        issued_at: Timestamp::from_unix_millis(EPOCH_MILLIS)?,
        body,
    };
    Envelope::sign(statement, key)
}
