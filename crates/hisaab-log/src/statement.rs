//! Statements, envelopes and entries (SPEC §2): what a person signs, what they send, and what
//! the ledger appends.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::truncate_for_error;
use crate::error::FormatError;
use crate::hash::Hash;
use crate::jcs;
use crate::key::{PublicKey, Signature, SignatureError, SigningKey};
use crate::merkle;
use crate::time::Timestamp;

/// The domain separator that precedes JCS(statement) in the signing input of a format-1
/// statement (SPEC §2).
pub const SIGNING_CONTEXT: &[u8] = b"hisaab/statement/v1\n";

/// The domain separator of a format-2 statement (SPEC §11).
pub const SIGNING_CONTEXT_V2: &[u8] = b"hisaab/statement/v2\n";

/// The format versions a statement's `v` may carry: 1 (SPEC §1–10) and 2 (SPEC §11).
pub const FORMATS: &[u64] = &[1, 2];

/// The domain separator `hisaab/statement/v<v>\n` of a statement of format `v`; `None` for a
/// format this code does not know.
pub fn signing_context(v: u64) -> Option<&'static [u8]> {
    match v {
        1 => Some(SIGNING_CONTEXT),
        2 => Some(SIGNING_CONTEXT_V2),
        _ => None,
    }
}

/// The kind of the one statement that opens a ledger.
pub const GENESIS_KIND: &str = "ledger.genesis";

/// The greatest canonical size of an envelope, in bytes (SPEC §4 rule 1).
pub const ENVELOPE_BYTES_MAX: usize = 65_536;

/// The greatest size of an entry's leaf bytes: an envelope at its limit plus `seq`, `prev`
/// and `recorded_at`, with room to spare.
pub const ENTRY_BYTES_MAX: usize = ENVELOPE_BYTES_MAX + 1024;

/// A statement id: a UUID in lowercase 8-4-4-4-12 hex (SPEC §1).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatementId(String);

impl StatementId {
    /// Checks the form of a statement id.
    ///
    /// # Errors
    /// [`FormatError::Field`] naming `id` when it is not a lowercase hyphenated UUID.
    pub fn try_new(text: &str) -> Result<Self, FormatError> {
        if Self::is_well_formed(text) {
            Ok(StatementId(text.to_owned()))
        } else {
            Err(FormatError::Field {
                field: "id".into(),
                reason: format!(
                    "{:?} is not a lowercase UUID (8-4-4-4-12 hex)",
                    truncate_for_error(text)
                ),
            })
        }
    }

    /// Whether `text` has the form of a statement id, as [`StatementId::try_new`] checks it.
    pub fn is_well_formed(text: &str) -> bool {
        text.len() == 36
            && text.bytes().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => b == b'-',
                _ => matches!(b, b'0'..=b'9' | b'a'..=b'f'),
            })
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StatementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for StatementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StatementId({})", self.0)
    }
}
impl Serialize for StatementId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}
impl<'de> Deserialize<'de> for StatementId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::text::deserialize_parsed(deserializer, StatementId::try_new)
    }
}

/// What a person signs (SPEC §2). The body is kept as the JSON object that was signed; its
/// meaning is `hisaab-model`'s business.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// Format version: 1 or 2, the ledger's format (the genesis statement's `v`).
    #[schemars(range(min = 1, max = 2))]
    pub v: u64,
    /// The ledger id; absent only in the genesis statement.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Hash")]
    pub ledger: Option<Hash>,
    /// Unique in the ledger.
    pub id: StatementId,
    /// The kind, such as `submission.filed`.
    #[schemars(length(min = 1))]
    pub kind: String,
    /// The signer's public key.
    pub signer: PublicKey,
    /// When the signer says they signed it.
    pub issued_at: Timestamp,
    /// The kind's body, a JSON object.
    #[schemars(schema_with = "crate::schema::body")]
    pub body: Map<String, Value>,
}

/// Deserialises an optional field that, when present, must hold a value (never `null`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

impl Statement {
    /// Whether this is the genesis statement's kind.
    pub fn is_genesis(&self) -> bool {
        self.kind == GENESIS_KIND
    }

    /// JCS(statement).
    ///
    /// # Errors
    /// [`FormatError`] when the statement breaks the canonical-JSON profile.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, FormatError> {
        jcs::to_canonical(self)
    }

    /// The signing input: `hisaab/statement/v<v>\n` || JCS(statement) (SPEC §2, §11).
    ///
    /// # Errors
    /// [`FormatError`] when the statement breaks the canonical-JSON profile or its `v` is not
    /// a known format.
    pub fn signing_input(&self) -> Result<Vec<u8>, FormatError> {
        let context = self.signing_context()?;
        let canonical = self.canonical_bytes()?;
        let mut input = Vec::with_capacity(context.len() + canonical.len());
        input.extend_from_slice(context);
        input.extend_from_slice(&canonical);
        Ok(input)
    }

    /// The domain separator of this statement's format.
    ///
    /// # Errors
    /// [`FormatError::Field`] naming `statement.v` when it is not a known format.
    pub fn signing_context(&self) -> Result<&'static [u8], FormatError> {
        signing_context(self.v).ok_or_else(|| FormatError::Field {
            field: "statement.v".into(),
            reason: format!("must be 1 or 2, found {}", self.v),
        })
    }

    /// Checks the parts of SPEC §2 that need no ledger: `v` is 1 or 2, `kind` is not empty.
    /// (That `v` is the ledger's format is a rule of the ledger, SPEC §11.)
    ///
    /// # Errors
    /// [`FormatError::Field`] naming the field.
    pub fn check_form(&self) -> Result<(), FormatError> {
        self.signing_context()?;
        if self.kind.is_empty() {
            return Err(FormatError::Field {
                field: "statement.kind".into(),
                reason: "must not be empty".into(),
            });
        }
        Ok(())
    }
}

/// A signed statement, as a client sends it: `{"statement":{...},"signature":"<base64>"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// The statement.
    pub statement: Statement,
    /// Ed25519 over the statement's signing input, by `statement.signer`.
    pub signature: Signature,
}

impl Envelope {
    /// Signs `statement` with `key`. The key should be the one named by `statement.signer`.
    ///
    /// # Errors
    /// [`FormatError`] when the statement breaks the canonical-JSON profile.
    pub fn sign(statement: Statement, key: &SigningKey) -> Result<Self, FormatError> {
        let input = statement.signing_input()?;
        let signature = Signature::sign(key, &input);
        Ok(Envelope {
            statement,
            signature,
        })
    }

    /// Parses an envelope from JSON text: strict JSON (no duplicate keys), the number profile,
    /// exactly the fields of SPEC §2, `v` = 1 or 2, and a canonical size of at most
    /// [`ENVELOPE_BYTES_MAX`]. The signature is not checked here.
    ///
    /// # Errors
    /// [`FormatError::TooLarge`] when the canonical form is over the limit; otherwise the
    /// [`FormatError`] that names what is wrong.
    pub fn try_from_json(text: &[u8]) -> Result<Self, FormatError> {
        Self::try_from_value(jcs::parse_strict(text)?)
    }

    /// [`Envelope::try_from_json`] of a JSON value already parsed strictly (no duplicate key),
    /// such as the `envelope` member of a sealed submission (SPEC §12.5).
    ///
    /// # Errors
    /// As [`Envelope::try_from_json`].
    pub fn try_from_value(value: serde_json::Value) -> Result<Self, FormatError> {
        let canonical = jcs::canonicalize(&value)?;
        if canonical.len() > ENVELOPE_BYTES_MAX {
            return Err(FormatError::TooLarge {
                bytes: canonical.len(),
                max: ENVELOPE_BYTES_MAX,
            });
        }
        jcs::check_profile(&value)?;
        let envelope: Envelope = serde_json::from_value(value).map_err(|e| FormatError::Json {
            detail: e.to_string(),
        })?;
        envelope.statement.check_form()?;
        Ok(envelope)
    }

    /// JCS(envelope).
    ///
    /// # Errors
    /// [`FormatError`] when the statement breaks the canonical-JSON profile.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, FormatError> {
        jcs::to_canonical(self)
    }

    /// Verifies the signature strictly under `statement.signer`.
    ///
    /// # Errors
    /// [`SignatureError`] when it does not verify (or the statement cannot be canonicalised).
    pub fn verify_signature(&self) -> Result<(), SignatureError> {
        let input = self.statement.signing_input().map_err(|_| SignatureError)?;
        self.statement.signer.verify_strict(&input, &self.signature)
    }

    /// [`Envelope::verify_signature`] for a caller that already holds `canonical`, this
    /// envelope's [`Envelope::canonical_bytes`]: JCS(statement) is the tail of JCS(envelope),
    /// so the signing input is cut from it instead of canonicalising the statement again.
    /// Bytes of another shape fall back to [`Envelope::verify_signature`].
    ///
    /// # Errors
    /// As [`Envelope::verify_signature`].
    pub fn verify_signature_canonical(&self, canonical: &[u8]) -> Result<(), SignatureError> {
        let Some(statement) = self.statement_bytes_in(canonical) else {
            return self.verify_signature();
        };
        let context = self
            .statement
            .signing_context()
            .map_err(|_| SignatureError)?;
        let mut input = Vec::with_capacity(context.len() + statement.len());
        input.extend_from_slice(context);
        input.extend_from_slice(statement);
        self.statement.signer.verify_strict(&input, &self.signature)
    }

    /// JCS(statement) inside JCS(envelope) = `{"signature":"<base64>","statement":` JCS(statement)
    /// `}` (keys in order, base64 needs no escaping), if `canonical` has that shape.
    fn statement_bytes_in<'a>(&self, canonical: &'a [u8]) -> Option<&'a [u8]> {
        let signature = self.signature.to_base64();
        let rest = canonical.strip_prefix(b"{\"signature\":\"".as_slice())?;
        let rest = rest.strip_prefix(signature.as_bytes())?;
        let rest = rest.strip_prefix(b"\",\"statement\":".as_slice())?;
        rest.strip_suffix(b"}")
    }
}

/// Borrowed (statement, signature), serialising exactly as [`Envelope`].
#[derive(Serialize)]
struct EnvelopeRef<'a> {
    statement: &'a Statement,
    signature: &'a Signature,
}

/// The leaf bytes of an entry up to its envelope's fields:
/// `{"prev":"<hex>","recorded_at":"<text>","seq":<n>,`. JCS(entry) is this followed by
/// JCS(envelope) without its opening brace, because the entry's own keys sort before
/// `signature` and `statement` and their values need no escaping. `None` when that does not
/// hold (a `seq` outside the profile, a string that would need escaping): use the slow path.
fn leaf_prefix(seq: u64, prev: &Hash, recorded_at: &Timestamp) -> Option<Vec<u8>> {
    if seq > jcs::INTEGER_MAX {
        return None;
    }
    let prev = prev.to_hex();
    let recorded_at = recorded_at.to_string();
    if !plain_json_string(&prev) || !plain_json_string(&recorded_at) {
        return None;
    }
    let seq = seq.to_string();
    let mut prefix = Vec::with_capacity(40 + prev.len() + recorded_at.len() + seq.len());
    prefix.extend_from_slice(b"{\"prev\":\"");
    prefix.extend_from_slice(prev.as_bytes());
    prefix.extend_from_slice(b"\",\"recorded_at\":\"");
    prefix.extend_from_slice(recorded_at.as_bytes());
    prefix.extend_from_slice(b"\",\"seq\":");
    prefix.extend_from_slice(seq.as_bytes());
    prefix.push(b',');
    Some(prefix)
}

/// Whether JCS writes `text` as a string verbatim between quotes: printable ASCII without `"`
/// or a backslash.
fn plain_json_string(text: &str) -> bool {
    text.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
}

/// What the ledger appends for an accepted envelope (SPEC §2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Position in the log and leaf index in the Merkle tree, from 0.
    #[schemars(schema_with = "crate::schema::integer")]
    pub seq: u64,
    /// Event hash of entry `seq - 1`; zeros for entry 0.
    pub prev: Hash,
    /// When the ledger recorded it; never decreases along the log.
    pub recorded_at: Timestamp,
    /// The signed statement.
    pub statement: Statement,
    /// The signer's signature over the statement.
    pub signature: Signature,
}

impl Entry {
    /// Builds an entry for an envelope at `seq`.
    pub fn new(seq: u64, prev: Hash, recorded_at: Timestamp, envelope: Envelope) -> Self {
        Entry {
            seq,
            prev,
            recorded_at,
            statement: envelope.statement,
            signature: envelope.signature,
        }
    }

    /// The leaf bytes, JCS(entry).
    ///
    /// # Errors
    /// [`FormatError`] when the statement breaks the canonical-JSON profile.
    pub fn leaf_bytes(&self) -> Result<Vec<u8>, FormatError> {
        jcs::to_canonical(self)
    }

    /// The envelope this entry records.
    pub fn envelope(&self) -> Envelope {
        Envelope {
            statement: self.statement.clone(),
            signature: self.signature,
        }
    }

    /// Parses leaf bytes, which must be exactly the canonical JSON of an entry.
    ///
    /// # Errors
    /// [`FormatError`] when the bytes are not an entry, break the profile, or are not canonical.
    pub fn try_from_leaf_bytes(bytes: &[u8]) -> Result<Self, FormatError> {
        if bytes.len() > ENTRY_BYTES_MAX {
            return Err(FormatError::TooLarge {
                bytes: bytes.len(),
                max: ENTRY_BYTES_MAX,
            });
        }
        let value = jcs::parse_strict(bytes)?;
        let canonical = jcs::canonicalize_profile(&value)?;
        if canonical != bytes {
            return Err(FormatError::Field {
                field: "entry".into(),
                reason: "the bytes are not the entry's canonical JSON (RFC 8785)".into(),
            });
        }
        let entry: Entry = serde_json::from_value(value).map_err(|e| FormatError::Json {
            detail: e.to_string(),
        })?;
        entry.statement.check_form()?;
        Ok(entry)
    }
}

/// An entry together with its leaf bytes and event hash, computed once.
#[derive(Clone, Debug, PartialEq)]
pub struct SealedEntry {
    entry: Entry,
    leaf_bytes: Vec<u8>,
    event_hash: Hash,
}

impl SealedEntry {
    /// Canonicalises and hashes `entry`.
    ///
    /// # Errors
    /// [`FormatError`] when the entry breaks the canonical-JSON profile.
    pub fn seal(entry: Entry) -> Result<Self, FormatError> {
        let leaf_bytes = entry.leaf_bytes()?;
        let event_hash = merkle::leaf_hash(&leaf_bytes);
        Ok(SealedEntry {
            entry,
            leaf_bytes,
            event_hash,
        })
    }

    /// [`SealedEntry::seal`] for a caller that already holds `envelope_canonical`, the
    /// [`Envelope::canonical_bytes`] of the envelope `entry` records: the leaf bytes are the
    /// entry's own fields spliced before them, byte for byte what [`Entry::leaf_bytes`] gives,
    /// without serialising the statement again. Bytes of another shape fall back to
    /// [`SealedEntry::seal`].
    ///
    /// # Errors
    /// As [`SealedEntry::seal`].
    ///
    /// # Panics
    /// In debug builds only, when `envelope_canonical` has the expected shape but is not the
    /// canonical bytes of the entry's envelope: a caller's bug.
    pub fn seal_with_envelope_bytes(
        entry: Entry,
        envelope_canonical: &[u8],
    ) -> Result<Self, FormatError> {
        let prefix = leaf_prefix(entry.seq, &entry.prev, &entry.recorded_at);
        let fields = envelope_canonical.strip_prefix(b"{".as_slice());
        let (Some(mut leaf_bytes), Some(fields)) = (prefix, fields) else {
            return Self::seal(entry);
        };
        if !fields.starts_with(b"\"signature\":") {
            return Self::seal(entry);
        }
        leaf_bytes.extend_from_slice(fields);
        debug_assert_eq!(
            entry.leaf_bytes().ok().as_deref(),
            Some(leaf_bytes.as_slice()),
            "envelope_canonical must be JCS of the entry's envelope"
        );
        let event_hash = merkle::leaf_hash(&leaf_bytes);
        Ok(SealedEntry {
            entry,
            leaf_bytes,
            event_hash,
        })
    }

    /// The length of JCS(envelope) for the envelope this entry records (SPEC §4 rule 1), read
    /// off the leaf bytes, which hold it after the entry's own fields; canonicalised afresh
    /// only when the leaf bytes do not have that shape.
    ///
    /// # Errors
    /// [`FormatError`] when the envelope breaks the canonical-JSON profile.
    pub fn envelope_canonical_len(&self) -> Result<usize, FormatError> {
        let e = &self.entry;
        if let Some(prefix) = leaf_prefix(e.seq, &e.prev, &e.recorded_at) {
            if let Some(fields) = self.leaf_bytes.strip_prefix(prefix.as_slice()) {
                if fields.starts_with(b"\"signature\":") {
                    return Ok(fields.len() + 1);
                }
            }
        }
        self.envelope_canonical_slow().map(|bytes| bytes.len())
    }

    /// JCS(envelope) of the envelope this entry records, cut from the leaf bytes when they have
    /// the usual shape (see [`SealedEntry::envelope_canonical_len`]).
    ///
    /// # Errors
    /// [`FormatError`] when the envelope breaks the canonical-JSON profile.
    pub fn envelope_canonical_bytes(&self) -> Result<Vec<u8>, FormatError> {
        let e = &self.entry;
        if let Some(prefix) = leaf_prefix(e.seq, &e.prev, &e.recorded_at) {
            if let Some(fields) = self.leaf_bytes.strip_prefix(prefix.as_slice()) {
                if fields.starts_with(b"\"signature\":") {
                    let mut bytes = Vec::with_capacity(fields.len() + 1);
                    bytes.push(b'{');
                    bytes.extend_from_slice(fields);
                    return Ok(bytes);
                }
            }
        }
        self.envelope_canonical_slow()
    }

    fn envelope_canonical_slow(&self) -> Result<Vec<u8>, FormatError> {
        jcs::to_canonical(&EnvelopeRef {
            statement: &self.entry.statement,
            signature: &self.entry.signature,
        })
    }

    /// Parses canonical leaf bytes.
    ///
    /// # Errors
    /// Verifies the statement's signature strictly under its `signer`, cutting the signing
    /// input from the leaf bytes where they have the usual shape instead of canonicalising
    /// the statement again; the same answer as the envelope's
    /// [`Envelope::verify_signature`].
    ///
    /// # Errors
    /// [`SignatureError`] when it does not verify.
    pub fn verify_signature(&self) -> Result<(), SignatureError> {
        let envelope = self.entry.envelope();
        match self.envelope_canonical_bytes() {
            Ok(canonical) => envelope.verify_signature_canonical(&canonical),
            Err(_) => envelope.verify_signature(),
        }
    }

    /// As [`Entry::try_from_leaf_bytes`].
    pub fn try_from_leaf_bytes(bytes: &[u8]) -> Result<Self, FormatError> {
        let entry = Entry::try_from_leaf_bytes(bytes)?;
        Ok(SealedEntry {
            entry,
            leaf_bytes: bytes.to_vec(),
            event_hash: merkle::leaf_hash(bytes),
        })
    }

    /// The entry.
    pub fn entry(&self) -> &Entry {
        &self.entry
    }
    /// JCS(entry).
    pub fn leaf_bytes(&self) -> &[u8] {
        &self.leaf_bytes
    }
    /// SHA-256(0x00 || leaf bytes): the leaf hash and event hash.
    pub fn event_hash(&self) -> Hash {
        self.event_hash
    }
    /// Gives the entry back.
    pub fn into_entry(self) -> Entry {
        self.entry
    }
}

/// An entry read from leaf bytes that this ledger verified when it appended them (a store's
/// own entries, whose leaf hashes the signed tree covers): what replay needs, borrowed from
/// the bytes, in one typed pass.
///
/// Unlike [`SealedEntry::try_from_leaf_bytes`] it does not check that the bytes are
/// canonical, does not decompress the signer's key (kept as its 32 bytes,
/// [`PublicKey::from_checked_bytes`]), does not decode the signature, and leaves the body as
/// its JSON text for the rules to deserialise once, into the kind's type. Every field it reads
/// is checked as [`SealedEntry::try_from_leaf_bytes`] checks it; on bytes that function
/// accepts, the fields are the same.
#[derive(Debug)]
pub struct TrustedEntry<'a> {
    /// As [`Entry::seq`].
    pub seq: u64,
    /// As [`Entry::prev`].
    pub prev: Hash,
    /// As [`Entry::recorded_at`].
    pub recorded_at: Timestamp,
    /// As [`Statement::v`].
    pub v: u64,
    /// As [`Statement::ledger`].
    pub ledger: Option<Hash>,
    /// As [`Statement::kind`].
    pub kind: &'a str,
    /// As [`Statement::signer`], not decompressed.
    pub signer: PublicKey,
    /// The statement's body: the JSON text of the object, as it stands in the leaf bytes.
    pub body: &'a str,
    /// SHA-256(0x00 || leaf bytes), as [`SealedEntry::event_hash`].
    pub event_hash: Hash,
}

impl<'a> TrustedEntry<'a> {
    /// Reads leaf bytes. `None` when they are not an entry of this shape (over
    /// [`ENTRY_BYTES_MAX`], a field missing, unknown or ill-formed, a string this borrowed
    /// reading cannot take without unescaping): [`SealedEntry::try_from_leaf_bytes`] then
    /// says what is wrong.
    pub fn parse(bytes: &'a [u8]) -> Option<Self> {
        if bytes.len() > ENTRY_BYTES_MAX {
            return None;
        }
        // Checked as UTF-8 once, the strings are then read without checking each again.
        let text = std::str::from_utf8(bytes).ok()?;
        let repr: TrustedEntryRepr<'a> = serde_json::from_str(text).ok()?;
        let statement = repr.statement;
        // A body is an object; the typed reading of a kind's body would also take an array.
        if !StatementId::is_well_formed(statement.id) || !statement.body.get().starts_with('{') {
            return None;
        }
        let _ = (repr.signature, statement.issued_at);
        Some(TrustedEntry {
            seq: repr.seq,
            prev: repr.prev,
            recorded_at: repr.recorded_at,
            v: statement.v,
            ledger: statement.ledger,
            kind: statement.kind,
            signer: PublicKey::from_checked_bytes(statement.signer.0),
            body: statement.body.get(),
            event_hash: merkle::leaf_hash(bytes),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustedEntryRepr<'a> {
    seq: u64,
    prev: Hash,
    recorded_at: Timestamp,
    #[serde(borrow)]
    statement: TrustedStatementRepr<'a>,
    signature: &'a str,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustedStatementRepr<'a> {
    v: u64,
    #[serde(default, deserialize_with = "present")]
    ledger: Option<Hash>,
    id: &'a str,
    kind: &'a str,
    signer: crate::key::CheckedKey,
    issued_at: Timestamp,
    #[serde(borrow)]
    body: &'a serde_json::value::RawValue,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(key: &SigningKey) -> Statement {
        let body = serde_json::json!({"operator": "op-one", "name": "Operator One"});
        Statement {
            v: 1,
            ledger: Some(Hash::sha256(b"ledger")),
            id: StatementId::try_new("01890a5d-ac96-774b-bcce-b302099a8057").unwrap(),
            kind: "operator.registered".into(),
            signer: PublicKey::from_signing_key(key),
            issued_at: Timestamp::try_parse("2026-11-29T07:51:40Z").unwrap(),
            body: body.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn envelope_round_trips_and_verifies() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let env = Envelope::sign(statement(&key), &key).unwrap();
        assert!(env.verify_signature().is_ok());
        let bytes = env.canonical_bytes().unwrap();
        let back = Envelope::try_from_json(&bytes).unwrap();
        assert_eq!(back, env);
        let mut altered = env.clone();
        altered.statement.kind = "operator.renamed".into();
        assert!(altered.verify_signature().is_err());
    }

    #[test]
    fn the_signing_input_is_separated_by_the_statements_format() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let v1 = statement(&key);
        let mut v2 = v1.clone();
        v2.v = 2;
        let input = v2.signing_input().unwrap();
        assert!(input.starts_with(b"hisaab/statement/v2\n"));
        assert!(v1
            .signing_input()
            .unwrap()
            .starts_with(b"hisaab/statement/v1\n"));
        let env = Envelope::sign(v2.clone(), &key).unwrap();
        env.verify_signature().unwrap();
        let canonical = env.canonical_bytes().unwrap();
        env.verify_signature_canonical(&canonical).unwrap();
        assert_eq!(Envelope::try_from_json(&canonical).unwrap(), env);
        // A v1 signature does not verify as v2 nor the other way round: the version is bound.
        let mut relabelled = Envelope::sign(v1, &key).unwrap();
        relabelled.statement.v = 2;
        assert!(relabelled.verify_signature().is_err());
        let canonical = relabelled.canonical_bytes().unwrap();
        assert!(relabelled.verify_signature_canonical(&canonical).is_err());
        let mut unknown = v2;
        unknown.v = 3;
        assert!(unknown.signing_input().is_err());
        assert!(unknown.check_form().is_err());
    }

    #[test]
    fn envelope_parse_refuses_nulls_extra_fields_and_bad_numbers() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let env = Envelope::sign(statement(&key), &key).unwrap();
        let mut value = serde_json::to_value(&env).unwrap();
        value["statement"]["ledger"] = Value::Null;
        assert!(Envelope::try_from_json(value.to_string().as_bytes()).is_err());
        let mut value = serde_json::to_value(&env).unwrap();
        value["statement"]["extra"] = Value::Bool(true);
        assert!(Envelope::try_from_json(value.to_string().as_bytes()).is_err());
        let mut value = serde_json::to_value(&env).unwrap();
        value["statement"]["body"]["n"] = serde_json::json!(1.5);
        assert!(matches!(
            Envelope::try_from_json(value.to_string().as_bytes()),
            Err(FormatError::Number { .. })
        ));
        let mut value = serde_json::to_value(&env).unwrap();
        value["statement"]["v"] = serde_json::json!(3);
        assert!(Envelope::try_from_json(value.to_string().as_bytes()).is_err());
        let mut value = serde_json::to_value(&env).unwrap();
        value["statement"]["v"] = serde_json::json!(0);
        assert!(Envelope::try_from_json(value.to_string().as_bytes()).is_err());
        let mut value = serde_json::to_value(&env).unwrap();
        value["statement"]["body"]["pad"] = Value::String("x".repeat(ENVELOPE_BYTES_MAX));
        assert!(matches!(
            Envelope::try_from_json(value.to_string().as_bytes()),
            Err(FormatError::TooLarge { .. })
        ));
    }

    /// Checks every fast path against the serde round trip for one entry.
    fn assert_fast_paths_agree(entry: &Entry) {
        let envelope = entry.envelope();
        let envelope_jcs = jcs::to_canonical(&envelope).unwrap();
        let slow = SealedEntry::seal(entry.clone()).unwrap();
        let fast = SealedEntry::seal_with_envelope_bytes(entry.clone(), &envelope_jcs).unwrap();
        assert_eq!(fast, slow, "seq {}", entry.seq);
        assert_eq!(
            fast.leaf_bytes(),
            jcs::to_canonical(entry).unwrap().as_slice()
        );
        assert_eq!(fast.envelope_canonical_len().unwrap(), envelope_jcs.len());
        assert_eq!(fast.envelope_canonical_bytes().unwrap(), envelope_jcs);
        assert_eq!(
            envelope.statement_bytes_in(&envelope_jcs),
            Some(envelope.statement.canonical_bytes().unwrap().as_slice())
        );
    }

    #[test]
    fn fast_paths_match_the_golden_vectors() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/vectors/golden.json");
        let golden: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let entries = golden["entries"].as_array().unwrap();
        assert!(entries.len() >= 8);
        for item in entries {
            let leaf = item["leaf_bytes"].as_str().unwrap().as_bytes();
            let envelope_jcs = item["envelope_jcs"].as_str().unwrap().as_bytes();
            let parsed = SealedEntry::try_from_leaf_bytes(leaf).unwrap();
            let entry = parsed.entry().clone();
            let fast = SealedEntry::seal_with_envelope_bytes(entry.clone(), envelope_jcs).unwrap();
            assert_eq!(fast.leaf_bytes(), leaf);
            assert_eq!(
                fast.event_hash().to_hex(),
                item["event_hash"].as_str().unwrap()
            );
            assert_eq!(parsed.envelope_canonical_len().unwrap(), envelope_jcs.len());
            assert_eq!(parsed.envelope_canonical_bytes().unwrap(), envelope_jcs);
            let envelope = entry.envelope();
            assert!(envelope.verify_signature_canonical(envelope_jcs).is_ok());
            assert_fast_paths_agree(&entry);
        }
    }

    /// The trusted reading gives the fields the full parse gives, on the golden entries (both
    /// formats) and on entries with escapes, non-ASCII text and nested bodies; it refuses what
    /// it cannot read without changing its answer to a wrong one.
    #[test]
    fn the_trusted_reading_agrees_with_the_full_parse() {
        let agree = |leaf: &[u8]| {
            let full = SealedEntry::try_from_leaf_bytes(leaf).unwrap();
            let e = full.entry();
            let trusted = TrustedEntry::parse(leaf).unwrap();
            assert_eq!(trusted.seq, e.seq);
            assert_eq!(trusted.prev, e.prev);
            assert_eq!(trusted.recorded_at, e.recorded_at);
            assert_eq!(trusted.v, e.statement.v);
            assert_eq!(trusted.ledger, e.statement.ledger);
            assert_eq!(trusted.kind, e.statement.kind);
            assert_eq!(trusted.signer, e.statement.signer);
            assert_eq!(trusted.event_hash, full.event_hash());
            let body: Map<String, Value> = serde_json::from_str(trusted.body).unwrap();
            assert_eq!(body, e.statement.body);
        };
        for name in ["golden.json", "golden-v2.json"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/vectors")
                .join(name);
            let golden: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
            let entries = golden["entries"].as_array().unwrap();
            assert!(!entries.is_empty(), "{name}");
            for item in entries {
                // Format 1's vectors give each entry with its parts, format 2's its leaf only.
                let leaf = item
                    .as_str()
                    .or_else(|| item["leaf_bytes"].as_str())
                    .unwrap();
                agree(leaf.as_bytes());
            }
        }
        let key = SigningKey::from_bytes(&[7u8; 32]);
        for body in [
            serde_json::json!({}),
            serde_json::json!({"\u{e9}": "\u{20ac}\n\t\"\\\u{1}\u{7f}", "a": [true, null, {"z": 0}]}),
        ] {
            let mut st = statement(&key);
            st.body = body.as_object().unwrap().clone();
            let entry = Entry::new(
                3,
                Hash::sha256(b"prev"),
                Timestamp::try_parse("2026-11-29T07:51:41.5Z").unwrap(),
                Envelope::sign(st, &key).unwrap(),
            );
            agree(SealedEntry::seal(entry).unwrap().leaf_bytes());
        }
        let leaf = {
            let entry = Entry::new(
                0,
                Hash::ZERO,
                Timestamp::try_parse("2026-11-29T07:51:41Z").unwrap(),
                Envelope::sign(statement(&key), &key).unwrap(),
            );
            SealedEntry::seal(entry).unwrap().leaf_bytes().to_vec()
        };
        let text = String::from_utf8(leaf).unwrap();
        for bad in [
            text.replacen("\"seq\":0", "\"seq\":0,\"extra\":1", 1),
            text.replacen(
                "\"body\":{\"name\":\"Operator One\",\"operator\":\"op-one\"}",
                "\"body\":[\"Operator One\",\"op-one\"]",
                1,
            ),
            text.replacen("\"kind\":\"operator", "\"kind\":\"\\u006fperator", 1),
            text[..text.len() - 1].to_owned(),
        ] {
            assert_ne!(bad, text);
            assert!(TrustedEntry::parse(bad.as_bytes()).is_none(), "{bad}");
        }
    }

    #[test]
    fn fast_paths_match_the_round_trip_over_many_entries() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let bodies = [
            serde_json::json!({}),
            serde_json::json!({"operator": "op-one", "kpi": "k\u{0}1", "n": 9_007_199_254_740_991_u64}),
            serde_json::json!({"\u{e9}": "\u{20ac}\n\t\"\\\u{1}\u{7f}", "a": [true, null, {"z": 0, "b": []}]}),
            serde_json::json!({"\u{1d11e}": "clef", "\u{ff61}": 1, "emoji": "\u{1f600}</script>"}),
        ];
        let times = [
            "2026-11-29T07:51:41Z",
            "2026-11-29T07:51:41.1Z",
            "2026-11-29T07:51:41.120Z",
            "2026-11-29T07:51:41.123456789Z",
        ];
        let seqs = [0, 1, 9, 10, 99, 1_000_000, jcs::INTEGER_MAX];
        let mut count = 0;
        for (i, body) in bodies.iter().enumerate() {
            for (j, time) in times.iter().enumerate() {
                for (k, &seq) in seqs.iter().enumerate() {
                    let mut statement = statement(&key);
                    statement.body = body.as_object().unwrap().clone();
                    if (i + j + k) % 3 == 0 {
                        statement.ledger = None;
                        statement.kind = GENESIS_KIND.into();
                    }
                    let envelope = Envelope::sign(statement, &key).unwrap();
                    let prev = Hash::sha256(&[u8::try_from(k).unwrap(); 3]);
                    let entry =
                        Entry::new(seq, prev, Timestamp::try_parse(time).unwrap(), envelope);
                    assert_fast_paths_agree(&entry);
                    count += 1;
                }
            }
        }
        assert_eq!(count, 112);
    }

    #[test]
    fn fast_paths_fall_back_outside_their_shape() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let envelope = Envelope::sign(statement(&key), &key).unwrap();
        let envelope_jcs = envelope.canonical_bytes().unwrap();
        let at = Timestamp::try_parse("2026-11-29T07:51:41Z").unwrap();
        // A seq outside the profile fails exactly as the round trip does.
        let big = Entry::new(
            jcs::INTEGER_MAX + 1,
            Hash::ZERO,
            at.clone(),
            envelope.clone(),
        );
        assert_eq!(
            SealedEntry::seal_with_envelope_bytes(big.clone(), &envelope_jcs),
            SealedEntry::seal(big)
        );
        // Bytes of another shape are ignored.
        let entry = Entry::new(4, Hash::ZERO, at, envelope.clone());
        assert_eq!(
            SealedEntry::seal_with_envelope_bytes(entry.clone(), b"[]").unwrap(),
            SealedEntry::seal(entry).unwrap()
        );
        assert!(envelope.verify_signature_canonical(b"{}").is_ok());
        let mut other = envelope.clone();
        other.statement.kind = "operator.renamed".into();
        let other_jcs = other.canonical_bytes().unwrap();
        assert!(other.verify_signature_canonical(&other_jcs).is_err());
        assert!(other.verify_signature_canonical(b"{}").is_err());
    }

    #[test]
    fn leaf_bytes_must_be_canonical() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let env = Envelope::sign(statement(&key), &key).unwrap();
        let entry = Entry::new(
            3,
            Hash::ZERO,
            Timestamp::try_parse("2026-11-29T07:51:41.120Z").unwrap(),
            env,
        );
        let sealed = SealedEntry::seal(entry.clone()).unwrap();
        let parsed = SealedEntry::try_from_leaf_bytes(sealed.leaf_bytes()).unwrap();
        assert_eq!(parsed, sealed);
        let pretty = serde_json::to_vec_pretty(&entry).unwrap();
        assert!(Entry::try_from_leaf_bytes(&pretty).is_err());
        assert!(StatementId::try_new("01890A5D-AC96-774B-BCCE-B302099A8057").is_err());
    }
}
