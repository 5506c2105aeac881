//! Sealed fields (SPEC §12, format v2): salted commitments in place of confidential body
//! fields, their openings, disclosures, and the full-state digest tree over per-operator
//! sub-states.
//!
//! A kind lists its sealed fields ([`SealedField`]; the format's table is [`sealed_fields`]).
//! The signer draws a [`Seed`] per statement and calls [`seal_body`]: each sealed field is
//! replaced by `{"commitment":"<hex>"}` (a decoy commitment of `null` when an optional one is
//! absent), and the per-field [`FieldOpening`]s (value and salt) come back for the ledger.
//! At append the ledger calls [`check_sealing`] with the [`Sealing`] the client sent (seed
//! and values), which checks every commitment and returns the opened body to check the rules
//! on and the openings to keep. A public replay calls [`check_sealed_form`]; a full replay
//! calls [`open_body`] with an entry's [`Openings`]. [`Disclosure`] carries chosen fields of
//! chosen entries to a third party, and [`StateTree`] is the full-state digest of §12.8 with
//! its [`SubStateProof`]s.
//!
//! Pure: the caller supplies the randomness (the seed, the blindings).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::BufRead as _;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use sha2::Sha256;
use thiserror::Error;

use crate::error::FormatError;
use crate::hash::Hash;
use crate::jcs;
use crate::merkle::{self, MemoryTree, MerkleError};
use crate::statement::SealedEntry;

/// The domain tag that starts every commitment's hashed bytes (SPEC §12.2).
pub const COMMITMENT_DOMAIN: &[u8] = b"hisaab/commitment/v2\n";
/// The domain tag that starts the HMAC message of every salt (SPEC §12.3).
pub const SALT_DOMAIN: &[u8] = b"hisaab/salt/v2\n";
/// The only member of a sealed field's object in a sealed body (SPEC §12.4).
pub const COMMITMENT_KEY: &str = "commitment";
/// The value of an openings file's header `openings` member (SPEC §12.6).
pub const OPENINGS_FORMAT: &str = "hisaab/openings/v2";
/// The value of a disclosure's `disclosure` member (SPEC §12.7).
pub const DISCLOSURE_FORMAT: &str = "hisaab/disclosure/v2";
/// The sealed field of `operator.registered` whose value blinds the operator's leaf in the
/// full-state digest tree (SPEC §12.8). It is never erased.
pub const BLINDING_FIELD: &str = "blinding";

/// One sealed field of a kind: its name and whether the plain body may omit it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SealedField {
    /// The body's top-level field name.
    pub name: &'static str,
    /// Whether the plain body may lack it (then a decoy commitment stands in for it).
    pub optional: bool,
}

impl SealedField {
    /// A field every plain body of the kind has.
    pub const fn required(name: &'static str) -> Self {
        SealedField {
            name,
            optional: false,
        }
    }

    /// A field a plain body of the kind may lack.
    pub const fn optional(name: &'static str) -> Self {
        SealedField {
            name,
            optional: true,
        }
    }
}

const EXT: SealedField = SealedField::optional("ext");

/// SPEC §12.1's table: every kind that seals fields, with its sealed fields in order.
pub const SEALED_FIELDS: &[(&str, &[SealedField])] = &[
    (
        "operator.registered",
        &[SealedField::required(BLINDING_FIELD)],
    ),
    (
        "submission.filed",
        &[
            SealedField::required("value"),
            SealedField::required("evidence"),
            SealedField::required("note"),
            EXT,
        ],
    ),
    (
        "evaluation.recorded",
        &[
            SealedField::required("verdict"),
            SealedField::required("score"),
            SealedField::required("rationale"),
            EXT,
            SealedField::optional("reason"),
        ],
    ),
    ("commitment.made", &[SealedField::required("action"), EXT]),
    (
        "commitment.closed",
        &[
            SealedField::required("outcome"),
            SealedField::required("note"),
            EXT,
        ],
    ),
    (
        "challenge.raised",
        &[SealedField::required("description"), EXT],
    ),
    (
        "challenge.resolved",
        &[SealedField::required("resolution"), EXT],
    ),
    ("dispute.opened", &[SealedField::required("grounds"), EXT]),
    (
        "dispute.resolved",
        &[
            SealedField::required("outcome"),
            SealedField::required("rationale"),
            EXT,
        ],
    ),
    ("action.assigned", &[SealedField::required("text"), EXT]),
    ("action.closed", &[SealedField::required("note"), EXT]),
    ("directive.issued", &[SealedField::required("text"), EXT]),
    ("directive.closed", &[SealedField::required("note"), EXT]),
    (
        "commitment.extended",
        &[SealedField::required("reason"), EXT],
    ),
    (
        "escalation.recorded",
        &[SealedField::required("reason"), EXT],
    ),
    (
        "challenge.measure_recorded",
        &[SealedField::required("measure"), EXT],
    ),
];

/// The sealed fields the state is computed from (SPEC §12.9): a submission's `value`, an
/// evaluation's `verdict` and `score`, a closing's or resolution's `outcome`, and a
/// registration's `blinding`. A replay that lacks one of them cannot know the operator's
/// state; a replay that lacks any other sealed field (the words: notes, evidence, rationales,
/// texts, reasons, `ext`) can. They are never erased.
pub const STATE_FIELDS: &[&str] = &[BLINDING_FIELD, "value", "verdict", "score", "outcome"];

/// Whether the state is computed from sealed field `field` (see [`STATE_FIELDS`]).
pub fn is_state_field(field: &str) -> bool {
    STATE_FIELDS.contains(&field)
}

/// Whether `field` of a statement of `kind` may be erased (SPEC §12.9): a sealed field of the
/// kind that the state is not computed from.
pub fn is_erasable(kind: &str, field: &str) -> bool {
    !is_state_field(field) && sealed_fields(kind).iter().any(|f| f.name == field)
}

/// The sealed fields of `kind` by SPEC §12.1 (empty for a kind that seals nothing).
pub fn sealed_fields(kind: &str) -> &'static [SealedField] {
    SEALED_FIELDS
        .iter()
        .find(|(name, _)| *name == kind)
        .map_or(&[], |(_, fields)| *fields)
}

/// Why sealing, opening or a disclosure failed. Each variant names the field and, where an
/// entry is concerned, its seq.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SealError {
    /// A value or document outside the canonical-JSON profile.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// A plain body lacks a sealed field the kind requires.
    #[error("kind {kind}: sealed field `{field}` is required but absent")]
    MissingValue {
        /// The kind.
        kind: String,
        /// The field.
        field: String,
    },
    /// A plain body holds `null` where a sealed field is optional (absent is written by
    /// leaving it out, SPEC §1.1 rule 4).
    #[error("kind {kind}: sealed field `{field}` is null; an absent optional field is left out")]
    NullValue {
        /// The kind.
        kind: String,
        /// The field.
        field: String,
    },
    /// A sealed body whose sealed field is not a commitment object.
    #[error(
        "kind {kind}: sealed field `{field}` must be {{\"commitment\":\"<64 hex>\"}}: {reason}"
    )]
    NotSealed {
        /// The kind.
        kind: String,
        /// The field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An opening, or a sealing's value, for a field the kind does not seal.
    #[error("kind {kind} has no sealed field `{field}`")]
    UnknownField {
        /// The kind.
        kind: String,
        /// The field.
        field: String,
    },
    /// A sealing that lacks a value for one of the kind's sealed fields.
    #[error("kind {kind}: the sealing has no value for sealed field `{field}`")]
    MissingOpening {
        /// The kind.
        kind: String,
        /// The field.
        field: String,
    },
    /// An opening that does not give the commitment the sealed body holds.
    #[error("{at}kind {kind}: the opening of `{field}` does not match its commitment {expected}")]
    Mismatch {
        /// `entry N: ` when the entry is known, else empty.
        at: EntryAt,
        /// The kind.
        kind: String,
        /// The field.
        field: String,
        /// The commitment the sealed body holds.
        expected: Hash,
    },
    /// Openings naming an entry the caller cannot find, or one with another event hash or kind.
    #[error("entry {seq}: {reason}")]
    WrongEntry {
        /// The seq the openings name.
        seq: u64,
        /// What differs.
        reason: String,
    },
    /// A disclosure or openings file that breaks its own form.
    #[error("{document}: {reason}")]
    Document {
        /// Which document (`disclosure`, `openings`, `state tree`).
        document: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A sub-state proof that does not lead to the digest.
    #[error("the sub-state of {operator} is not in the digest: {source}")]
    Inclusion {
        /// The operator, or `public` for the public part.
        operator: String,
        /// Why the proof fails.
        #[source]
        source: MerkleErrorText,
    },
}

/// Where a [`SealError::Mismatch`] happened: `entry N: ` or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EntryAt(pub Option<u64>);

impl fmt::Display for EntryAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(seq) => write!(f, "entry {seq}: "),
            None => Ok(()),
        }
    }
}

/// A [`MerkleError`] kept as its message, so that [`SealError`] stays `Clone + Eq`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct MerkleErrorText(pub String);

impl From<MerkleError> for MerkleErrorText {
    fn from(error: MerkleError) -> Self {
        MerkleErrorText(error.to_string())
    }
}

macro_rules! secret_bytes {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name([u8; 32]);

        impl $name {
            /// Wraps 32 bytes.
            pub const fn from_bytes(bytes: [u8; 32]) -> Self {
                $name(bytes)
            }

            /// The 32 bytes.
            pub const fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// Parses 64 lowercase hex digits.
            ///
            /// # Errors
            /// [`FormatError::Field`] for anything else (the text is not repeated).
            pub fn try_from_hex(text: &str) -> Result<Self, FormatError> {
                Hash::try_from_hex(text)
                    .map(|h| $name(*h.as_bytes()))
                    .map_err(|_| FormatError::Field {
                        field: $what.into(),
                        reason: "must be 64 lowercase hex digits".into(),
                    })
            }

            /// 64 lowercase hex digits.
            pub fn to_hex(&self) -> String {
                crate::hash::lower_hex(&self.0).as_str().to_owned()
            }
        }

        // Never printed: the bytes are secret.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(…)"))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.to_hex())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                crate::text::deserialize_parsed(deserializer, $name::try_from_hex)
            }
        }
    };
}

secret_bytes!(
    /// A statement's sealing seed: 32 bytes from a secure generator, fresh for every
    /// statement (SPEC §12.3). The salts of its sealed fields derive from it.
    Seed,
    "seed"
);
secret_bytes!(
    /// The salt of one sealed field (SPEC §12.3): 256 bits.
    Salt,
    "salt"
);
secret_bytes!(
    /// An operator's blinding value: the opened `blinding` field of its `operator.registered`,
    /// which blinds its leaf in the full-state digest tree (SPEC §12.8).
    Blinding,
    "blinding"
);

impl Seed {
    /// The salt of `field` in a statement of `kind`: HMAC-SHA256(seed, `hisaab/salt/v2\n` ||
    /// kind || `\n` || field) (SPEC §12.3).
    pub fn salt(&self, kind: &str, field: &str) -> Salt {
        // HMAC takes a key of any length; 32 bytes is never refused.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(SALT_DOMAIN);
        mac.update(kind.as_bytes());
        mac.update(b"\n");
        mac.update(field.as_bytes());
        Salt(mac.finalize().into_bytes().into())
    }
}

/// SPEC §12.2: SHA-256(`hisaab/commitment/v2\n` || kind || `\n` || field || `\n` || salt ||
/// JCS(value)); `value` is `null` for an absent optional field.
///
/// # Errors
/// [`SealError::Format`] when `value` breaks the canonical-JSON profile.
pub fn commitment(kind: &str, field: &str, salt: &Salt, value: &Value) -> Result<Hash, SealError> {
    let canonical = jcs::canonicalize_profile(value)?;
    Ok(Hash::sha256_parts(&[
        COMMITMENT_DOMAIN,
        kind.as_bytes(),
        b"\n",
        field.as_bytes(),
        b"\n",
        salt.as_bytes(),
        &canonical,
    ]))
}

/// The value and salt of one sealed field (SPEC §12.6): `{"salt":"<hex>","value":…}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldOpening {
    /// The field's salt, 64 hex digits (SPEC §12.3).
    pub salt: Salt,
    /// The field's value; `null` for an absent optional field (a decoy).
    #[schemars(with = "crate::schema::JsonValue")]
    pub value: Value,
}

impl FieldOpening {
    /// The commitment this opening gives for `field` of `kind`.
    ///
    /// # Errors
    /// [`SealError::Format`] when the value breaks the canonical-JSON profile.
    pub fn commitment(&self, kind: &str, field: &str) -> Result<Hash, SealError> {
        commitment(kind, field, &self.salt, &self.value)
    }
}

/// The field openings of one statement, by field name.
pub type FieldOpenings = BTreeMap<String, FieldOpening>;

/// A body sealed by [`seal_body`], with the openings of every sealed field.
#[derive(Clone, Debug, PartialEq)]
pub struct Sealed {
    /// The sealed body: what the statement carries and the signer signs.
    pub body: Map<String, Value>,
    /// The value and salt of every sealed field (decoys included), for the ledger.
    pub openings: FieldOpenings,
}

/// The `{"commitment":"<hex>"}` object that stands for a sealed field.
pub fn commitment_object(commitment: &Hash) -> Value {
    let mut object = Map::new();
    object.insert(
        COMMITMENT_KEY.to_owned(),
        Value::String(commitment.to_hex()),
    );
    Value::Object(object)
}

/// Seals `plain`, a plain body of `kind` whose sealed fields are `fields`, with `seed`
/// (SPEC §12.4): each sealed field is replaced by its commitment object, an absent optional
/// one by a decoy; every other field is kept as it is.
///
/// # Errors
/// [`SealError::MissingValue`] when a required sealed field is absent,
/// [`SealError::NullValue`] when one is `null`, [`SealError::Format`] when a value breaks the
/// canonical-JSON profile.
pub fn seal_body(
    kind: &str,
    fields: &[SealedField],
    plain: &Map<String, Value>,
    seed: &Seed,
) -> Result<Sealed, SealError> {
    let mut body = plain.clone();
    let mut openings = FieldOpenings::new();
    for field in fields {
        let value = match plain.get(field.name) {
            Some(Value::Null) => {
                return Err(SealError::NullValue {
                    kind: kind.to_owned(),
                    field: field.name.to_owned(),
                })
            }
            Some(value) => value.clone(),
            None if field.optional => Value::Null,
            None => {
                return Err(SealError::MissingValue {
                    kind: kind.to_owned(),
                    field: field.name.to_owned(),
                })
            }
        };
        let opening = FieldOpening {
            salt: seed.salt(kind, field.name),
            value,
        };
        let c = opening.commitment(kind, field.name)?;
        body.insert(field.name.to_owned(), commitment_object(&c));
        openings.insert(field.name.to_owned(), opening);
    }
    Ok(Sealed { body, openings })
}

/// The public check of a sealed body's sealed fields (SPEC §12.4): each is present and is
/// exactly `{"commitment":"<64 hex>"}`. Returns the commitments by field name. The public
/// fields are the kind's business (hisaab-model).
///
/// # Errors
/// [`SealError::NotSealed`] naming the first field that is not a commitment object.
pub fn check_sealed_form(
    kind: &str,
    fields: &[SealedField],
    body: &Map<String, Value>,
) -> Result<BTreeMap<&'static str, Hash>, SealError> {
    let mut commitments = BTreeMap::new();
    for field in fields {
        let not_sealed = |reason: &str| SealError::NotSealed {
            kind: kind.to_owned(),
            field: field.name.to_owned(),
            reason: reason.to_owned(),
        };
        let object = match body.get(field.name) {
            None => return Err(not_sealed("absent")),
            Some(Value::Object(object)) => object,
            Some(_) => return Err(not_sealed("not an object")),
        };
        if object.len() != 1 {
            return Err(not_sealed("an object with exactly one member is required"));
        }
        let text = match object.get(COMMITMENT_KEY) {
            Some(Value::String(text)) => text,
            Some(_) => return Err(not_sealed("`commitment` is not a string")),
            None => return Err(not_sealed("the member must be `commitment`")),
        };
        let hash = Hash::try_from_hex(text).map_err(|_| not_sealed("not 64 lowercase hex"))?;
        commitments.insert(field.name, hash);
    }
    Ok(commitments)
}

/// What a client sends beside a v2 envelope whose kind seals fields (SPEC §12.5):
/// `{"seed":"<hex>","values":{"<field>":<value or null>,…}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sealing {
    /// The statement's seed, 64 hex digits: the salt of each sealed field derives from it
    /// (SPEC §12.3).
    pub seed: Seed,
    /// One value per sealed field of the kind, as the plain body holds it; `null` for an
    /// absent optional one.
    #[schemars(with = "BTreeMap<String, crate::schema::JsonValue>")]
    pub values: BTreeMap<String, Value>,
}

impl Sealing {
    /// The sealing of a [`seal_body`] call's seed and plain body, as a client sends it.
    pub fn new(fields: &[SealedField], plain: &Map<String, Value>, seed: Seed) -> Self {
        let values = fields
            .iter()
            .map(|f| {
                (
                    f.name.to_owned(),
                    plain.get(f.name).cloned().unwrap_or(Value::Null),
                )
            })
            .collect();
        Sealing { seed, values }
    }
}

/// A body opened for the rules: the plain body and the openings the ledger keeps.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    /// The opened body, absent optional fields left out: what the rules of §4.6 read.
    pub body: Map<String, Value>,
    /// The per-field openings to keep (the seed is not kept, SPEC §12.5).
    pub openings: FieldOpenings,
}

/// The append-time check (SPEC §12.5): `sealing` holds exactly one value per sealed field,
/// and each, with the salt the seed derives, gives the commitment `sealed_body` holds.
///
/// # Errors
/// [`SealError::NotSealed`] for a sealed body of the wrong form, [`SealError::UnknownField`]
/// or [`SealError::MissingOpening`] for a sealing with the wrong fields,
/// [`SealError::NullValue`] for `null` where the field is required, [`SealError::Mismatch`]
/// when a commitment does not match.
pub fn check_sealing(
    kind: &str,
    fields: &[SealedField],
    sealed_body: &Map<String, Value>,
    sealing: &Sealing,
) -> Result<Checked, SealError> {
    if let Some(extra) = sealing
        .values
        .keys()
        .find(|name| !fields.iter().any(|f| f.name == name.as_str()))
    {
        return Err(SealError::UnknownField {
            kind: kind.to_owned(),
            field: extra.clone(),
        });
    }
    let mut openings = FieldOpenings::new();
    for field in fields {
        let value = sealing
            .values
            .get(field.name)
            .ok_or_else(|| SealError::MissingOpening {
                kind: kind.to_owned(),
                field: field.name.to_owned(),
            })?;
        openings.insert(
            field.name.to_owned(),
            FieldOpening {
                salt: sealing.seed.salt(kind, field.name),
                value: value.clone(),
            },
        );
    }
    let opened = open_body(kind, fields, sealed_body, &openings, None)?;
    Ok(Checked {
        body: opened.body,
        openings,
    })
}

/// A body opened by [`open_body`].
#[derive(Clone, Debug, PartialEq)]
pub struct Opened {
    /// The body with every opened field's value in place (opened absent fields removed) and
    /// every unopened field still a commitment object.
    pub body: Map<String, Value>,
    /// The sealed fields that had no opening, in the kind's order.
    pub unopened: Vec<&'static str>,
}

impl Opened {
    /// Whether every sealed field was opened.
    pub fn is_complete(&self) -> bool {
        self.unopened.is_empty()
    }
}

/// Opens `sealed_body` with `openings` (SPEC §12.6): every opening must be for a sealed field
/// of the kind and match its commitment; a field without an opening stays sealed. `seq`, when
/// known, is named in a mismatch.
///
/// # Errors
/// [`SealError::NotSealed`], [`SealError::UnknownField`], [`SealError::NullValue`] (a `null`
/// value for a required field), [`SealError::Mismatch`], [`SealError::Format`].
pub fn open_body(
    kind: &str,
    fields: &[SealedField],
    sealed_body: &Map<String, Value>,
    openings: &FieldOpenings,
    seq: Option<u64>,
) -> Result<Opened, SealError> {
    let commitments = check_sealed_form(kind, fields, sealed_body)?;
    if let Some(extra) = openings
        .keys()
        .find(|name| !commitments.contains_key(name.as_str()))
    {
        return Err(SealError::UnknownField {
            kind: kind.to_owned(),
            field: extra.clone(),
        });
    }
    let mut body = sealed_body.clone();
    let mut unopened = Vec::new();
    for field in fields {
        let Some(opening) = openings.get(field.name) else {
            unopened.push(field.name);
            continue;
        };
        if opening.value.is_null() && !field.optional {
            return Err(SealError::NullValue {
                kind: kind.to_owned(),
                field: field.name.to_owned(),
            });
        }
        let expected = commitments[field.name];
        if opening.commitment(kind, field.name)? != expected {
            return Err(SealError::Mismatch {
                at: EntryAt(seq),
                kind: kind.to_owned(),
                field: field.name.to_owned(),
                expected,
            });
        }
        if opening.value.is_null() {
            body.remove(field.name);
        } else {
            body.insert(field.name.to_owned(), opening.value.clone());
        }
    }
    Ok(Opened { body, unopened })
}

/// The openings of one entry (SPEC §12.6), as the ledger keeps them, an openings file holds
/// them and a disclosure carries them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Openings {
    /// The entry's seq.
    pub seq: u64,
    /// The entry's event hash.
    pub event_hash: Hash,
    /// The entry's kind.
    pub kind: String,
    /// Some or all of its sealed fields' openings.
    pub fields: FieldOpenings,
}

impl Openings {
    /// Checks these openings against `entry` (SPEC §12.6) and opens its body.
    ///
    /// # Errors
    /// [`SealError::WrongEntry`] when the entry's seq, event hash or kind differ, else as
    /// [`open_body`].
    pub fn open(
        &self,
        entry: &SealedEntry,
        fields_of: impl Fn(&str) -> &'static [SealedField],
    ) -> Result<Opened, SealError> {
        let statement = &entry.entry().statement;
        let wrong = |reason: String| SealError::WrongEntry {
            seq: self.seq,
            reason,
        };
        if entry.entry().seq != self.seq {
            return Err(wrong(format!(
                "the entry given is seq {}",
                entry.entry().seq
            )));
        }
        if entry.event_hash() != self.event_hash {
            return Err(wrong(format!(
                "its event hash is {}, the openings name {}",
                entry.event_hash(),
                self.event_hash
            )));
        }
        if statement.kind != self.kind {
            return Err(wrong(format!(
                "its kind is {}, the openings name {}",
                statement.kind, self.kind
            )));
        }
        open_body(
            &self.kind,
            fields_of(&self.kind),
            &statement.body,
            &self.fields,
            Some(self.seq),
        )
    }

    /// These openings with only the fields in `chosen`.
    ///
    /// # Errors
    /// [`SealError::WrongEntry`] naming a chosen field these openings do not hold.
    pub fn select(&self, chosen: &[&str]) -> Result<Openings, SealError> {
        let mut fields = FieldOpenings::new();
        for name in chosen {
            let opening = self
                .fields
                .get(*name)
                .ok_or_else(|| SealError::WrongEntry {
                    seq: self.seq,
                    reason: format!("no opening of `{name}` to disclose"),
                })?;
            fields.insert((*name).to_owned(), opening.clone());
        }
        Ok(Openings {
            seq: self.seq,
            event_hash: self.event_hash,
            kind: self.kind.clone(),
            fields,
        })
    }
}

/// Line 1 of an openings file (SPEC §12.6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningsHeader {
    /// Always [`OPENINGS_FORMAT`].
    pub openings: String,
    /// The ledger id.
    pub ledger: Hash,
    /// The tree size of the bundle the file goes with.
    pub size: u64,
}

/// What a full replay knows of one sealed field (SPEC §12.6, §12.9).
#[derive(Clone, Debug, PartialEq)]
pub enum FieldState {
    /// Opened: its value.
    Opened(Value),
    /// Opened: an optional field the statement does not have (its commitment was a decoy).
    Absent,
    /// Erased by a `field.erased` entry: no opening is used, even if one is offered.
    Erased,
    /// No opening: the reader is not entitled to it.
    Withheld,
}

/// The sealed fields of one entry as a full replay sees them.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldStates {
    /// Each sealed field of the kind, in the kind's order.
    pub fields: Vec<(&'static str, FieldState)>,
    /// Erased fields for which an opening was offered anyway (from a file made before the
    /// erasure): ignored, and worth reporting.
    pub ignored: Vec<&'static str>,
}

/// Classifies each sealed field of an entry for a full replay: opened (checked against its
/// commitment), absent (an opened decoy), erased (named in `erased`, whatever `openings`
/// holds) or withheld.
///
/// # Errors
/// As [`open_body`] for the openings of fields that are not erased.
pub fn field_states(
    kind: &str,
    fields: &[SealedField],
    sealed_body: &Map<String, Value>,
    openings: &FieldOpenings,
    erased: &BTreeSet<String>,
    seq: Option<u64>,
) -> Result<FieldStates, SealError> {
    let mut usable = openings.clone();
    let mut ignored = Vec::new();
    for field in fields {
        if erased.contains(field.name) && usable.remove(field.name).is_some() {
            ignored.push(field.name);
        }
    }
    open_body(kind, fields, sealed_body, &usable, seq)?;
    let states = fields
        .iter()
        .map(|field| {
            let state = if erased.contains(field.name) {
                FieldState::Erased
            } else {
                match usable.get(field.name) {
                    Some(opening) if opening.value.is_null() => FieldState::Absent,
                    Some(opening) => FieldState::Opened(opening.value.clone()),
                    None => FieldState::Withheld,
                }
            };
            (field.name, state)
        })
        .collect();
    Ok(FieldStates {
        fields: states,
        ignored,
    })
}

/// The longest line of an openings file, in bytes.
pub const OPENINGS_LINE_BYTES_MAX: usize = 1 << 20;

/// An openings file (SPEC §12.6): a header and the openings of some entries, ascending seq.
#[derive(Clone, Debug, PartialEq)]
pub struct OpeningsFile {
    /// Line 1.
    pub header: OpeningsHeader,
    /// The openings, ascending seq, each below `header.size`, at most one per entry.
    pub entries: Vec<Openings>,
}

impl OpeningsFile {
    /// A file for ledger `ledger` at tree size `size` holding `entries` (sorted here).
    ///
    /// # Errors
    /// [`SealError::Document`] for a seq given twice or not below `size`.
    pub fn new(ledger: Hash, size: u64, mut entries: Vec<Openings>) -> Result<Self, SealError> {
        entries.sort_by_key(|o| o.seq);
        let file = OpeningsFile {
            header: OpeningsHeader {
                openings: OPENINGS_FORMAT.to_owned(),
                ledger,
                size,
            },
            entries,
        };
        file.check_form()?;
        Ok(file)
    }

    /// The openings of entry `seq`, if the file holds them.
    pub fn get(&self, seq: u64) -> Option<&Openings> {
        self.entries
            .binary_search_by_key(&seq, |o| o.seq)
            .ok()
            .and_then(|i| self.entries.get(i))
    }

    fn check_form(&self) -> Result<(), SealError> {
        if self.header.openings != OPENINGS_FORMAT {
            return Err(openings_error(format!(
                "line 1: `openings` must be {OPENINGS_FORMAT:?}"
            )));
        }
        for pair in self.entries.windows(2) {
            if pair[0].seq >= pair[1].seq {
                return Err(openings_error(format!(
                    "entries must be in ascending seq without repeats: {} then {}",
                    pair[0].seq, pair[1].seq
                )));
            }
        }
        if let Some(last) = self.entries.last() {
            if last.seq >= self.header.size {
                return Err(openings_error(format!(
                    "entry {} is not below the file's size {}",
                    last.seq, self.header.size
                )));
            }
        }
        Ok(())
    }

    /// Writes the file: each line JCS and a newline.
    ///
    /// # Errors
    /// [`SealError::Document`] when writing fails, [`SealError::Format`] for openings outside
    /// the canonical-JSON profile.
    pub fn write<W: std::io::Write>(&self, mut out: W) -> Result<(), SealError> {
        let io = |e: std::io::Error| openings_error(format!("cannot write: {e}"));
        out.write_all(&jcs::to_canonical(&self.header)?)
            .map_err(io)?;
        out.write_all(b"\n").map_err(io)?;
        for openings in &self.entries {
            out.write_all(&jcs::to_canonical(openings)?).map_err(io)?;
            out.write_all(b"\n").map_err(io)?;
        }
        out.flush().map_err(io)
    }

    /// Reads a file: every line strict JSON (no duplicate key), in canonical form, ending in
    /// a newline; then the form of SPEC §12.6. The openings are not yet checked against any
    /// entry: that is [`Openings::open`]'s. [`OpeningsReader`] reads the same lines one at a
    /// time.
    ///
    /// # Errors
    /// [`SealError::Document`] naming the line that is wrong.
    pub fn read<R: std::io::BufRead>(input: R) -> Result<Self, SealError> {
        let mut reader = OpeningsReader::new(input)?;
        let mut entries = Vec::new();
        while let Some(openings) = reader.next_openings()? {
            entries.push(openings);
        }
        Ok(OpeningsFile {
            header: reader.header,
            entries,
        })
    }
}

/// An openings file (SPEC §12.6) read one line at a time, in memory that does not grow with
/// the file: its header, then each entry's openings in ascending seq, every line held to the
/// form [`OpeningsFile::read`] holds it to.
#[derive(Debug)]
pub struct OpeningsReader<R> {
    input: R,
    header: OpeningsHeader,
    line: Vec<u8>,
    /// The number of the last line read.
    number: usize,
    /// The seq of the last openings read.
    last: Option<u64>,
}

impl<R: std::io::BufRead> OpeningsReader<R> {
    /// Reads and checks the header (line 1).
    ///
    /// # Errors
    /// [`SealError::Document`]: an empty file, or a header that is not one.
    pub fn new(mut input: R) -> Result<Self, SealError> {
        let mut line = Vec::new();
        let value = read_canonical_line(&mut input, &mut line, 1)?
            .ok_or_else(|| openings_error("the file is empty".into()))?;
        let header: OpeningsHeader =
            serde_json::from_value(value).map_err(|e| openings_error(format!("line 1: {e}")))?;
        if header.openings != OPENINGS_FORMAT {
            return Err(openings_error(format!(
                "line 1: `openings` must be {OPENINGS_FORMAT:?}"
            )));
        }
        Ok(OpeningsReader {
            input,
            header,
            line,
            number: 1,
            last: None,
        })
    }

    /// The header.
    pub fn header(&self) -> &OpeningsHeader {
        &self.header
    }

    /// The next entry's openings; `Ok(None)` at the end.
    ///
    /// # Errors
    /// [`SealError::Document`] naming the line: not canonical JSON, not an entry's openings,
    /// a seq not above the one before or not below the file's size.
    pub fn next_openings(&mut self) -> Result<Option<Openings>, SealError> {
        self.number += 1;
        let number = self.number;
        let Some(value) = read_canonical_line(&mut self.input, &mut self.line, number)? else {
            return Ok(None);
        };
        let openings: Openings = serde_json::from_value(value)
            .map_err(|e| openings_error(format!("line {number}: {e}")))?;
        if let Some(last) = self.last.filter(|last| *last >= openings.seq) {
            return Err(openings_error(format!(
                "line {number}: entries must be in ascending seq without repeats: {last} then {}",
                openings.seq
            )));
        }
        if openings.seq >= self.header.size {
            return Err(openings_error(format!(
                "line {number}: entry {} is not below the file's size {}",
                openings.seq, self.header.size
            )));
        }
        self.last = Some(openings.seq);
        Ok(Some(openings))
    }
}

/// Reads line `number` of an openings file into `line`: strict JSON in canonical form, at
/// most [`OPENINGS_LINE_BYTES_MAX`] bytes, ending in a newline; `Ok(None)` at the end.
fn read_canonical_line<R: std::io::BufRead>(
    input: &mut R,
    line: &mut Vec<u8>,
    number: usize,
) -> Result<Option<Value>, SealError> {
    line.clear();
    let limit = u64::try_from(OPENINGS_LINE_BYTES_MAX).unwrap_or(u64::MAX) + 1;
    let read = std::io::Read::take(&mut *input, limit)
        .read_until(b'\n', line)
        .map_err(|e| openings_error(format!("line {number}: cannot read: {e}")))?;
    if read == 0 {
        return Ok(None);
    }
    if line.pop() != Some(b'\n') {
        return Err(openings_error(format!(
            "line {number}: longer than {OPENINGS_LINE_BYTES_MAX} bytes or without its newline"
        )));
    }
    let at = |e: FormatError| openings_error(format!("line {number}: {e}"));
    let value = jcs::parse_strict(line).map_err(at)?;
    if jcs::canonicalize_profile(&value).map_err(at)? != *line {
        return Err(openings_error(format!(
            "line {number}: not in canonical form (RFC 8785)"
        )));
    }
    Ok(Some(value))
}

fn openings_error(reason: String) -> SealError {
    SealError::Document {
        document: "openings",
        reason,
    }
}

/// Every string of `value` with at least `min_chars` characters, depth first: what a leak
/// test searches public output for (a sealed value must never appear in it).
pub fn text_leaves(value: &Value, min_chars: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(text) if text.chars().count() >= min_chars => out.push(text.as_str()),
            Value::Array(items) => stack.extend(items.iter().rev()),
            Value::Object(map) => stack.extend(map.values().rev()),
            _ => {}
        }
    }
    out
}

/// A disclosure (SPEC §12.7): chosen fields of chosen entries, for one recipient.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disclosure {
    /// Always [`DISCLOSURE_FORMAT`].
    pub disclosure: String,
    /// The ledger id.
    pub ledger: Hash,
    /// Who it is for (a court, an auditor), as text.
    pub to: String,
    /// The chosen openings, ascending seq, each with at least one field.
    pub entries: Vec<Openings>,
}

/// One entry a disclosure is asked for: its seq and the fields to disclose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice<'a> {
    /// The entry's seq.
    pub seq: u64,
    /// The fields to disclose.
    pub fields: Vec<&'a str>,
}

impl Disclosure {
    /// Builds a disclosure to `to` of the `chosen` fields, taking them from `available`
    /// (the discloser's openings, found by seq).
    ///
    /// # Errors
    /// [`SealError::Document`] for an empty choice, a seq chosen twice or no field chosen;
    /// [`SealError::WrongEntry`] for a seq with no openings or a field without an opening.
    pub fn build(
        ledger: Hash,
        to: &str,
        chosen: &[Choice<'_>],
        available: impl Fn(u64) -> Option<Openings>,
    ) -> Result<Disclosure, SealError> {
        let mut chosen: Vec<&Choice<'_>> = chosen.iter().collect();
        chosen.sort_by_key(|c| c.seq);
        let mut entries = Vec::with_capacity(chosen.len());
        for choice in chosen {
            if choice.fields.is_empty() {
                return Err(disclosure_error(format!(
                    "entry {}: no field chosen",
                    choice.seq
                )));
            }
            let openings = available(choice.seq).ok_or_else(|| SealError::WrongEntry {
                seq: choice.seq,
                reason: "no openings of this entry are available".into(),
            })?;
            entries.push(openings.select(&choice.fields)?);
        }
        let disclosure = Disclosure {
            disclosure: DISCLOSURE_FORMAT.to_owned(),
            ledger,
            to: to.to_owned(),
            entries,
        };
        disclosure.check_form()?;
        Ok(disclosure)
    }

    /// The form of SPEC §12.7 that needs no entries: the format name, at least one entry,
    /// ascending seq without repeats, at least one field each.
    ///
    /// # Errors
    /// [`SealError::Document`] naming what is wrong.
    pub fn check_form(&self) -> Result<(), SealError> {
        if self.disclosure != DISCLOSURE_FORMAT {
            return Err(disclosure_error(format!(
                "`disclosure` must be {DISCLOSURE_FORMAT:?}"
            )));
        }
        if self.entries.is_empty() {
            return Err(disclosure_error("it discloses no entry".into()));
        }
        for pair in self.entries.windows(2) {
            if pair[0].seq >= pair[1].seq {
                return Err(disclosure_error(format!(
                    "entries must be in ascending seq without repeats: {} then {}",
                    pair[0].seq, pair[1].seq
                )));
            }
        }
        if let Some(empty) = self.entries.iter().find(|e| e.fields.is_empty()) {
            return Err(disclosure_error(format!(
                "entry {}: no field disclosed",
                empty.seq
            )));
        }
        Ok(())
    }

    /// Verifies the disclosure against the entries of a verified bundle (SPEC §12.7):
    /// `entry_at(seq)` gives the bundle's entry at a seq. Returns, per entry, the fields
    /// whose values it proves.
    ///
    /// # Errors
    /// [`SealError::Document`] for a bad form or an entry of another ledger,
    /// [`SealError::WrongEntry`] when the bundle has no such entry or another one there,
    /// and the errors of [`open_body`] for an opening that does not check.
    pub fn verify<'e>(
        &self,
        entry_at: impl Fn(u64) -> Option<&'e SealedEntry>,
        fields_of: impl Fn(&str) -> &'static [SealedField],
    ) -> Result<Vec<Disclosed>, SealError> {
        self.check_form()?;
        let mut out = Vec::with_capacity(self.entries.len());
        for openings in &self.entries {
            let entry = entry_at(openings.seq).ok_or_else(|| SealError::WrongEntry {
                seq: openings.seq,
                reason: "the bundle has no entry at this seq".into(),
            })?;
            let ledger = entry.entry().statement.ledger;
            if ledger.is_some_and(|id| id != self.ledger) {
                return Err(disclosure_error(format!(
                    "entry {} belongs to another ledger",
                    openings.seq
                )));
            }
            openings.open(entry, &fields_of)?;
            let values = openings
                .fields
                .iter()
                .map(|(name, opening)| (name.clone(), opening.value.clone()))
                .collect();
            out.push(Disclosed {
                seq: openings.seq,
                event_hash: openings.event_hash,
                kind: openings.kind.clone(),
                values,
            });
        }
        Ok(out)
    }
}

fn disclosure_error(reason: String) -> SealError {
    SealError::Document {
        document: "disclosure",
        reason,
    }
}

/// What a verified disclosure proves about one entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Disclosed {
    /// The entry's seq.
    pub seq: u64,
    /// Its event hash.
    pub event_hash: Hash,
    /// Its kind.
    pub kind: String,
    /// The disclosed fields' values (`null`: the optional field is absent).
    pub values: BTreeMap<String, Value>,
}

/// The public state's digest (SPEC §12.8): SHA-256(JCS(P)), P being the public state
/// without its `digest`, as §5.7 computes a v1 state's.
///
/// # Errors
/// [`SealError::Format`] when `public` breaks the canonical-JSON profile.
pub fn public_digest<P: Serialize + ?Sized>(public: &P) -> Result<Hash, SealError> {
    Ok(Hash::sha256(&jcs::to_canonical(public)?))
}

/// Leaf 0 of the full-state digest tree: JCS({"public": P}) (SPEC §12.8).
///
/// # Errors
/// [`SealError::Format`] when `public` breaks the canonical-JSON profile.
pub fn public_leaf<P: Serialize + ?Sized>(public: &P) -> Result<Vec<u8>, SealError> {
    #[derive(Serialize)]
    struct Leaf<'a, P: ?Sized> {
        public: &'a P,
    }
    Ok(jcs::to_canonical(&Leaf { public })?)
}

/// An operator's leaf of the full-state digest tree: JCS({"blinding": …, "operator": …,
/// "state": O}) (SPEC §12.8).
///
/// # Errors
/// [`SealError::Format`] when `state` breaks the canonical-JSON profile.
pub fn operator_leaf<O: Serialize + ?Sized>(
    operator: &str,
    blinding: &Blinding,
    state: &O,
) -> Result<Vec<u8>, SealError> {
    #[derive(Serialize)]
    struct Leaf<'a, O: ?Sized> {
        blinding: &'a Blinding,
        operator: &'a str,
        state: &'a O,
    }
    Ok(jcs::to_canonical(&Leaf {
        blinding,
        operator,
        state,
    })?)
}

/// One operator's part of a full state, for [`StateTree::build`].
#[derive(Clone, Debug)]
pub struct SubState<'a, O: ?Sized> {
    /// The operator id.
    pub operator: &'a str,
    /// Its blinding value.
    pub blinding: &'a Blinding,
    /// Its sub-state (`operators.<id>` of the full state).
    pub state: &'a O,
}

/// The full-state digest tree of SPEC §12.8: leaf 0 the public part, then one leaf per
/// operator in ascending id order, under RFC 9162.
#[derive(Clone, Debug)]
pub struct StateTree {
    leaves: Vec<Vec<u8>>,
    operators: Vec<String>,
    tree: MemoryTree,
}

impl StateTree {
    /// Builds the tree from the public part and every operator's sub-state (in any order).
    ///
    /// # Errors
    /// [`SealError::Format`] for a part outside the canonical-JSON profile,
    /// [`SealError::Document`] for an operator given twice.
    pub fn build<P: Serialize + ?Sized, O: Serialize + ?Sized>(
        public: &P,
        operators: &[SubState<'_, O>],
    ) -> Result<StateTree, SealError> {
        let mut sorted: Vec<&SubState<'_, O>> = operators.iter().collect();
        sorted.sort_by(|a, b| a.operator.as_bytes().cmp(b.operator.as_bytes()));
        if let Some(pair) = sorted
            .windows(2)
            .find(|pair| pair[0].operator == pair[1].operator)
        {
            return Err(SealError::Document {
                document: "state tree",
                reason: format!("operator {} given twice", pair[0].operator),
            });
        }
        let mut leaves = vec![public_leaf(public)?];
        for part in &sorted {
            leaves.push(operator_leaf(part.operator, part.blinding, part.state)?);
        }
        let mut tree = MemoryTree::new();
        for leaf in &leaves {
            tree.push_leaf(merkle::leaf_hash(leaf));
        }
        Ok(StateTree {
            leaves,
            operators: sorted.iter().map(|p| p.operator.to_owned()).collect(),
            tree,
        })
    }

    /// The full-state digest: the tree's root.
    pub fn digest(&self) -> Hash {
        self.tree.root()
    }

    /// The leaves' bytes, leaf 0 first.
    pub fn leaves(&self) -> &[Vec<u8>] {
        &self.leaves
    }

    /// The operators, in leaf order (leaf `i + 1` is `operators()[i]`).
    pub fn operators(&self) -> &[String] {
        &self.operators
    }

    /// The proof of `operator`'s sub-state, or `None` when it has no leaf.
    pub fn proof(&self, operator: &str) -> Option<SubStateProof> {
        let position = self.operators.iter().position(|o| o == operator)?;
        let index = u64::try_from(position).ok()? + 1;
        self.proof_at(index, Some(operator.to_owned()))
    }

    /// The proof of the public part (leaf 0).
    pub fn public_proof(&self) -> SubStateProof {
        // Leaf 0 always exists, so the proof does too.
        self.proof_at(0, None).unwrap_or_else(|| SubStateProof {
            operator: None,
            index: 0,
            size: self.tree.size(),
            path: Vec::new(),
        })
    }

    fn proof_at(&self, index: u64, operator: Option<String>) -> Option<SubStateProof> {
        let size = self.tree.size();
        let path = self.tree.inclusion_proof(index, size).ok()?;
        Some(SubStateProof {
            operator,
            index,
            size,
            path,
        })
    }
}

/// The inclusion of one part of a full state in its digest (SPEC §12.8).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubStateProof {
    /// The operator; absent for the public part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// The leaf index: 0 for the public part, 1 + the operator's rank otherwise.
    pub index: u64,
    /// The number of leaves: 1 + the number of registered operators.
    pub size: u64,
    /// The RFC 9162 inclusion proof, leaf side first.
    pub path: Vec<Hash>,
}

impl SubStateProof {
    /// Checks that `operator`'s own sub-state, blinded with its `blinding`, is in `digest`.
    /// `registered` is the list of registered operators at that size (public), from which
    /// the expected index and size follow.
    ///
    /// # Errors
    /// [`SealError::Inclusion`] when the proof names another operator, the index or size
    /// disagree with `registered`, or the path does not lead to `digest`.
    pub fn verify_operator<O: Serialize + ?Sized>(
        &self,
        operator: &str,
        blinding: &Blinding,
        state: &O,
        registered: &[&str],
        digest: &Hash,
    ) -> Result<(), SealError> {
        let fail = |reason: String| SealError::Inclusion {
            operator: operator.to_owned(),
            source: MerkleErrorText(reason),
        };
        if self.operator.as_deref() != Some(operator) {
            return Err(fail(format!(
                "the proof is for {}",
                self.operator.as_deref().unwrap_or("the public part")
            )));
        }
        if !registered.contains(&operator) {
            return Err(fail("the operator is not registered".into()));
        }
        let before = registered
            .iter()
            .filter(|o| o.as_bytes() < operator.as_bytes())
            .count();
        let expected_index = u64::try_from(before).unwrap_or(u64::MAX).saturating_add(1);
        let expected_size = u64::try_from(registered.len())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        if self.index != expected_index || self.size != expected_size {
            return Err(fail(format!(
                "the proof says leaf {} of {}; the registry says leaf {expected_index} of \
                 {expected_size}",
                self.index, self.size
            )));
        }
        let leaf = operator_leaf(operator, blinding, state)?;
        self.verify_leaf(&leaf, digest)
            .map_err(|e| SealError::Inclusion {
                operator: operator.to_owned(),
                source: e,
            })
    }

    /// Checks that the public part `public` is leaf 0 of `digest`.
    ///
    /// # Errors
    /// [`SealError::Inclusion`] when the proof is not for leaf 0 or does not lead to `digest`.
    pub fn verify_public<P: Serialize + ?Sized>(
        &self,
        public: &P,
        digest: &Hash,
    ) -> Result<(), SealError> {
        let fail = |source: MerkleErrorText| SealError::Inclusion {
            operator: "public".into(),
            source,
        };
        if self.operator.is_some() || self.index != 0 {
            return Err(fail(MerkleErrorText(
                "the proof is not for the public part (leaf 0)".into(),
            )));
        }
        let leaf = public_leaf(public)?;
        self.verify_leaf(&leaf, digest).map_err(fail)
    }

    fn verify_leaf(&self, leaf: &[u8], digest: &Hash) -> Result<(), MerkleErrorText> {
        merkle::verify_inclusion(
            &merkle::leaf_hash(leaf),
            self.index,
            self.size,
            &self.path,
            digest,
        )
        .map_err(MerkleErrorText::from)
    }
}

/// Names of the fields `openings` leaves unopened among `fields`, for a caller that reports
/// withheld or erased fields.
pub fn missing_fields<'f>(
    fields: &'f [SealedField],
    openings: &FieldOpenings,
) -> BTreeSet<&'f str> {
    fields
        .iter()
        .map(|f| f.name)
        .filter(|name| !openings.contains_key(*name))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use serde_json::json;

    const KIND: &str = "submission.filed";

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("not an object"),
        }
    }

    fn plain() -> Map<String, Value> {
        object(json!({
            "operator": "indus-mobile", "kpi": "CR-01", "period": "2026-10", "value": "97.5",
            "evidence": [{"name": "dr.pdf", "sha256": "00".repeat(32), "bytes": 10}],
            "note": "Quarterly DR failover test"
        }))
    }

    fn seed(byte: u8) -> Seed {
        Seed::from_bytes([byte; 32])
    }

    #[test]
    fn sealing_replaces_every_sealed_field_and_keeps_the_rest() {
        let fields = sealed_fields(KIND);
        let sealed = seal_body(KIND, fields, &plain(), &seed(1)).unwrap();
        for name in ["operator", "kpi", "period"] {
            assert_eq!(sealed.body[name], plain()[name]);
        }
        let commitments = check_sealed_form(KIND, fields, &sealed.body).unwrap();
        assert_eq!(
            commitments.len(),
            4,
            "value, evidence, note and the ext decoy"
        );
        assert_eq!(sealed.openings["ext"].value, Value::Null);
        let text = serde_json::to_string(&sealed.body).unwrap();
        assert!(!text.contains("97.5") && !text.contains("failover") && !text.contains("dr.pdf"));
    }

    #[test]
    fn equal_values_never_give_equal_commitments() {
        let fields = sealed_fields(KIND);
        let a = seal_body(KIND, fields, &plain(), &seed(1)).unwrap();
        let b = seal_body(KIND, fields, &plain(), &seed(2)).unwrap();
        for f in fields {
            assert_ne!(a.body[f.name], b.body[f.name], "{}", f.name);
        }
        // Within one statement, the same value in two fields differs too (distinct salts and
        // the field name in the hash).
        let body = object(json!({"outcome": "upheld", "rationale": "upheld", "dispute": "d"}));
        let s = seal_body(
            "dispute.resolved",
            sealed_fields("dispute.resolved"),
            &body,
            &seed(3),
        )
        .unwrap();
        assert_ne!(s.body["outcome"], s.body["rationale"]);
        // The same salt and value under another kind or field differs as well.
        let salt = seed(4).salt(KIND, "note");
        let v = json!("x");
        assert_ne!(
            commitment(KIND, "note", &salt, &v).unwrap(),
            commitment("commitment.closed", "note", &salt, &v).unwrap()
        );
        assert_ne!(
            commitment(KIND, "note", &salt, &v).unwrap(),
            commitment(KIND, "value", &salt, &v).unwrap()
        );
    }

    #[test]
    fn a_decoy_looks_like_a_commitment_and_opens_to_absent() {
        let fields = sealed_fields(KIND);
        let mut with_ext = plain();
        with_ext.insert("ext".into(), json!({"x": "y"}));
        let a = seal_body(KIND, fields, &plain(), &seed(1)).unwrap();
        let b = seal_body(KIND, fields, &with_ext, &seed(1)).unwrap();
        // Same shape, same key set; the ext commitment differs only by its value.
        assert_eq!(
            a.body.keys().collect::<Vec<_>>(),
            b.body.keys().collect::<Vec<_>>()
        );
        assert_ne!(a.body["ext"], b.body["ext"]);
        let opened = open_body(KIND, fields, &a.body, &a.openings, None).unwrap();
        assert!(opened.is_complete());
        assert_eq!(opened.body, plain());
        let opened = open_body(KIND, fields, &b.body, &b.openings, None).unwrap();
        assert_eq!(opened.body, with_ext);
    }

    #[test]
    fn the_append_check_accepts_the_signers_sealing_and_refuses_any_other() {
        let fields = sealed_fields(KIND);
        let sealed = seal_body(KIND, fields, &plain(), &seed(9)).unwrap();
        let sealing = Sealing::new(fields, &plain(), seed(9));
        let checked = check_sealing(KIND, fields, &sealed.body, &sealing).unwrap();
        assert_eq!(checked.body, plain());
        assert_eq!(checked.openings, sealed.openings);

        let mut other = sealing.clone();
        other.values.insert("value".into(), json!("98"));
        assert!(matches!(
            check_sealing(KIND, fields, &sealed.body, &other),
            Err(SealError::Mismatch { ref field, .. }) if field == "value"
        ));
        let wrong_seed = Sealing::new(fields, &plain(), seed(8));
        assert!(matches!(
            check_sealing(KIND, fields, &sealed.body, &wrong_seed),
            Err(SealError::Mismatch { .. })
        ));
        let mut missing = sealing.clone();
        missing.values.remove("ext");
        assert!(matches!(
            check_sealing(KIND, fields, &sealed.body, &missing),
            Err(SealError::MissingOpening { ref field, .. }) if field == "ext"
        ));
        let mut extra = sealing.clone();
        extra.values.insert("kpi".into(), json!("CR-01"));
        assert!(matches!(
            check_sealing(KIND, fields, &sealed.body, &extra),
            Err(SealError::UnknownField { ref field, .. }) if field == "kpi"
        ));
        // A required field opened as null is refused even with the right salt.
        let mut nulled = sealing;
        nulled.values.insert("note".into(), Value::Null);
        assert!(matches!(
            check_sealing(KIND, fields, &sealed.body, &nulled),
            Err(SealError::NullValue { ref field, .. }) if field == "note"
        ));
    }

    #[test]
    fn sealing_refuses_missing_and_null_values() {
        let fields = sealed_fields(KIND);
        let mut body = plain();
        body.remove("note");
        assert!(matches!(
            seal_body(KIND, fields, &body, &seed(1)),
            Err(SealError::MissingValue { ref field, .. }) if field == "note"
        ));
        let mut body = plain();
        body.insert("ext".into(), Value::Null);
        assert!(matches!(
            seal_body(KIND, fields, &body, &seed(1)),
            Err(SealError::NullValue { ref field, .. }) if field == "ext"
        ));
    }

    #[test]
    fn the_sealed_form_check_names_the_bad_field() {
        let fields = sealed_fields(KIND);
        let sealed = seal_body(KIND, fields, &plain(), &seed(1)).unwrap();
        let cases = [
            ("value", json!("97.5"), "not an object"),
            ("value", json!({"commitment": "AB".repeat(32)}), "hex"),
            (
                "note",
                json!({"commitment": "ab".repeat(32), "x": 1}),
                "one member",
            ),
            ("note", json!({"c": "ab".repeat(32)}), "`commitment`"),
        ];
        for (field, value, reason) in cases {
            let mut body = sealed.body.clone();
            body.insert(field.into(), value);
            match check_sealed_form(KIND, fields, &body) {
                Err(SealError::NotSealed {
                    field: f,
                    reason: r,
                    ..
                }) => {
                    assert_eq!(f, field);
                    assert!(r.contains(reason), "{r}");
                }
                other => panic!("{other:?}"),
            }
        }
        let mut body = sealed.body;
        body.remove("ext");
        assert!(matches!(
            check_sealed_form(KIND, fields, &body),
            Err(SealError::NotSealed { ref field, .. }) if field == "ext"
        ));
    }

    #[test]
    fn a_partial_opening_leaves_the_rest_sealed() {
        let fields = sealed_fields(KIND);
        let sealed = seal_body(KIND, fields, &plain(), &seed(1)).unwrap();
        let mut some = FieldOpenings::new();
        some.insert("value".into(), sealed.openings["value"].clone());
        let opened = open_body(KIND, fields, &sealed.body, &some, Some(7)).unwrap();
        assert_eq!(opened.body["value"], json!("97.5"));
        assert_eq!(opened.body["note"], sealed.body["note"]);
        assert_eq!(opened.unopened, vec!["evidence", "note", "ext"]);
        assert_eq!(
            missing_fields(fields, &some)
                .into_iter()
                .collect::<Vec<_>>(),
            vec!["evidence", "ext", "note"]
        );
        // An opening moved to another field fails, naming the entry.
        let mut moved = FieldOpenings::new();
        moved.insert("note".into(), sealed.openings["value"].clone());
        let err = open_body(KIND, fields, &sealed.body, &moved, Some(7)).unwrap_err();
        assert!(err.to_string().starts_with("entry 7: "), "{err}");
    }

    #[test]
    fn the_table_matches_the_spec() {
        assert!(sealed_fields("member.enrolled").is_empty());
        assert_eq!(sealed_fields("operator.registered")[0].name, BLINDING_FIELD);
        for (kind, fields) in SEALED_FIELDS {
            let names: BTreeSet<_> = fields.iter().map(|f| f.name).collect();
            assert_eq!(names.len(), fields.len(), "{kind}");
            assert!(sealed_fields(kind).len() == fields.len());
        }
    }

    #[test]
    fn secrets_parse_hex_and_never_print() {
        let s = Seed::try_from_hex(&"ab".repeat(32)).unwrap();
        assert_eq!(format!("{s:?}"), "Seed(…)");
        assert!(Seed::try_from_hex("AB").is_err());
        let salt = s.salt(KIND, "value");
        assert_eq!(
            serde_json::from_str::<Salt>(&serde_json::to_string(&salt).unwrap()).unwrap(),
            salt
        );
    }

    #[test]
    fn an_openings_file_round_trips_and_refuses_bad_form() {
        let fields = sealed_fields(KIND);
        let make = |seq: u64| Openings {
            seq,
            event_hash: Hash::sha256(&seq.to_be_bytes()),
            kind: KIND.into(),
            fields: seal_body(KIND, fields, &plain(), &seed(u8::try_from(seq).unwrap()))
                .unwrap()
                .openings,
        };
        let file = OpeningsFile::new(Hash::ZERO, 10, vec![make(7), make(3)]).unwrap();
        assert_eq!(file.entries[0].seq, 3);
        assert_eq!(file.get(7).unwrap().seq, 7);
        assert!(file.get(5).is_none());
        let mut bytes = Vec::new();
        file.write(&mut bytes).unwrap();
        assert_eq!(bytes.iter().filter(|b| **b == b'\n').count(), 3);
        assert_eq!(OpeningsFile::read(bytes.as_slice()).unwrap(), file);

        assert!(OpeningsFile::new(Hash::ZERO, 7, vec![make(7)]).is_err());
        assert!(OpeningsFile::new(Hash::ZERO, 9, vec![make(3), make(3)]).is_err());
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let bad = [
            String::new(),
            format!("{}\n{}\n{}\n", lines[0], lines[2], lines[1]),
            format!("{}\n{}", lines[0], lines[1]),
            format!("{} \n", lines[0]),
            lines[0].replace("hisaab/openings/v2", "hisaab/openings/v1") + "\n",
            format!(
                "{}\n{}\n",
                lines[0],
                lines[1].replacen('{', "{\"seq\":1,", 1)
            ),
        ];
        for (i, case) in bad.iter().enumerate() {
            assert!(
                matches!(
                    OpeningsFile::read(case.as_bytes()),
                    Err(SealError::Document { .. })
                ),
                "case {i}"
            );
        }
    }

    #[test]
    fn a_full_replay_tells_opened_absent_erased_and_withheld_apart() {
        let fields = sealed_fields(KIND);
        let sealed = seal_body(KIND, fields, &plain(), &seed(1)).unwrap();
        let mut offered = sealed.openings.clone();
        offered.remove("evidence");
        let erased: BTreeSet<String> = ["note".to_owned()].into();
        let states = field_states(KIND, fields, &sealed.body, &offered, &erased, Some(3)).unwrap();
        assert_eq!(
            states.fields,
            vec![
                ("value", FieldState::Opened(json!("97.5"))),
                ("evidence", FieldState::Withheld),
                ("note", FieldState::Erased),
                ("ext", FieldState::Absent),
            ]
        );
        assert_eq!(states.ignored, ["note"]);
        // A bad opening of a field that is not erased is still an error; of an erased one, not.
        let mut bad = offered.clone();
        bad.get_mut("value").unwrap().value = json!("1");
        assert!(field_states(KIND, fields, &sealed.body, &bad, &erased, None).is_err());
        let mut bad = offered;
        bad.get_mut("note").unwrap().value = json!("forged");
        assert!(field_states(KIND, fields, &sealed.body, &bad, &erased, None).is_ok());
    }

    #[test]
    fn text_leaves_finds_every_long_enough_string() {
        let v = json!({"a": ["xy", "hello"], "b": {"c": "world"}, "d": 5});
        assert_eq!(text_leaves(&v, 3), vec!["hello", "world"]);
    }

    proptest::proptest! {
        #[test]
        fn any_body_seals_and_opens_back(
            value in "[0-9]{1,6}(\\.[0-9]{1,3})?",
            note in "\\PC{0,40}",
            ext in proptest::option::of("[a-z]{0,8}"),
            a in proptest::prelude::any::<[u8; 32]>(),
            b in proptest::prelude::any::<[u8; 32]>(),
        ) {
            let fields = sealed_fields(KIND);
            let mut body = plain();
            body.insert("value".into(), json!(value));
            body.insert("note".into(), json!(note));
            if let Some(ext) = ext {
                body.insert("ext".into(), json!({"x": ext}));
            }
            let sealed = seal_body(KIND, fields, &body, &Seed::from_bytes(a)).unwrap();
            let opened = open_body(KIND, fields, &sealed.body, &sealed.openings, None).unwrap();
            proptest::prop_assert_eq!(&opened.body, &body);
            let sealing = Sealing::new(fields, &body, Seed::from_bytes(a));
            proptest::prop_assert!(check_sealing(KIND, fields, &sealed.body, &sealing).is_ok());
            if a != b {
                let other = seal_body(KIND, fields, &body, &Seed::from_bytes(b)).unwrap();
                for f in fields {
                    proptest::prop_assert_ne!(&sealed.body[f.name], &other.body[f.name]);
                }
            }
        }
    }

    fn tree() -> (StateTree, Vec<(String, Blinding, Value)>) {
        let parts = vec![
            (
                "karakoram".to_owned(),
                Blinding::from_bytes([2; 32]),
                json!({"score": 70}),
            ),
            (
                "indus".to_owned(),
                Blinding::from_bytes([1; 32]),
                json!({"score": 80}),
            ),
            (
                "zong".to_owned(),
                Blinding::from_bytes([3; 32]),
                json!({"score": null}),
            ),
        ];
        let subs: Vec<SubState<'_, Value>> = parts
            .iter()
            .map(|(o, b, s)| SubState {
                operator: o,
                blinding: b,
                state: s,
            })
            .collect();
        (StateTree::build(&json!({"size": 9}), &subs).unwrap(), parts)
    }

    #[test]
    fn each_operator_checks_its_own_part_of_the_digest() {
        let (tree, parts) = tree();
        assert_eq!(tree.operators(), ["indus", "karakoram", "zong"]);
        let registered = ["zong", "indus", "karakoram"];
        let digest = tree.digest();
        for (operator, blinding, state) in &parts {
            let proof = tree.proof(operator).unwrap();
            proof
                .verify_operator(operator, blinding, state, &registered, &digest)
                .unwrap();
            // Another state, blinding, operator list or digest fails.
            assert!(proof
                .verify_operator(
                    operator,
                    blinding,
                    &json!({"score": 1}),
                    &registered,
                    &digest
                )
                .is_err());
            assert!(proof
                .verify_operator(
                    operator,
                    &Blinding::from_bytes([9; 32]),
                    state,
                    &registered,
                    &digest
                )
                .is_err());
            assert!(proof
                .verify_operator(operator, blinding, state, &registered[..2], &digest)
                .is_err());
            assert!(proof
                .verify_operator(operator, blinding, state, &registered, &Hash::ZERO)
                .is_err());
        }
        let public = tree.public_proof();
        public.verify_public(&json!({"size": 9}), &digest).unwrap();
        assert!(public.verify_public(&json!({"size": 8}), &digest).is_err());
        // A proof of indus does not pass for karakoram.
        let proof = tree.proof("indus").unwrap();
        let (_, b, s) = &parts[0];
        assert!(proof
            .verify_operator("karakoram", b, s, &registered, &digest)
            .is_err());
        assert!(tree.proof("nobody").is_none());
    }

    #[test]
    fn the_tree_refuses_an_operator_twice_and_its_digest_depends_on_every_part() {
        let b = Blinding::from_bytes([1; 32]);
        let s = json!({});
        let twice = [
            SubState {
                operator: "a",
                blinding: &b,
                state: &s,
            },
            SubState {
                operator: "a",
                blinding: &b,
                state: &s,
            },
        ];
        assert!(matches!(
            StateTree::build(&json!({}), &twice),
            Err(SealError::Document { .. })
        ));
        let one = StateTree::build(&json!({}), &twice[..1]).unwrap();
        let other = StateTree::build(&json!({"x": 1}), &twice[..1]).unwrap();
        assert_ne!(one.digest(), other.digest());
        let none: [SubState<'_, Value>; 0] = [];
        let empty = StateTree::build(&json!({}), &none).unwrap();
        assert_eq!(
            empty.digest(),
            merkle::leaf_hash(br#"{"public":{}}"#),
            "one leaf: the root is its leaf hash"
        );
    }
}
