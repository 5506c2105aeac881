//! Errors of the log format. Every variant names what failed and, where known, where.

use thiserror::Error;

/// Shortens untrusted text to at most 80 characters (then `…`) before it is put into an error
/// message, so that a hostile input cannot make a log line or an answer arbitrarily long.
pub fn truncate_for_error(text: &str) -> String {
    const MAX_CHARS: usize = 80;
    if text.chars().count() <= MAX_CHARS {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(MAX_CHARS).collect();
        short.push('…');
        short
    }
}

/// A value that does not have the form SPEC §1–2 require.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FormatError {
    /// Not 64 lowercase hex digits.
    #[error("a hash must be 64 lowercase hex digits, found {found:?}")]
    Hash {
        /// The text that was found (shortened).
        found: String,
    },
    /// Raw hash bytes of the wrong length.
    #[error("a hash must be 32 bytes, found {found}")]
    HashLength {
        /// The length that was found.
        found: usize,
    },
    /// Not canonical standard base64 with padding.
    #[error("{what} must be canonical standard base64 with padding, found {found:?}")]
    Base64 {
        /// What was being decoded.
        what: &'static str,
        /// The text that was found (shortened).
        found: String,
    },
    /// A public key that is not a canonical encoding of a point outside the small-order subgroup.
    #[error("invalid Ed25519 public key: {reason}")]
    PublicKey {
        /// Why it was refused.
        reason: &'static str,
    },
    /// A signature of the wrong length.
    #[error("an Ed25519 signature must be 64 bytes, found {found}")]
    SignatureLength {
        /// The length that was found.
        found: usize,
    },
    /// Text that is not JSON, or JSON this format does not allow.
    #[error("invalid JSON: {detail}")]
    Json {
        /// What the parser said.
        detail: String,
    },
    /// An object with the same key twice (SPEC §1).
    #[error("duplicate key {key:?} in a JSON object")]
    DuplicateKey {
        /// The repeated key.
        key: String,
    },
    /// A number that is not an integer in 0..=2^53-1 (SPEC §1).
    #[error("JSON number {found} is not an integer in 0..=9007199254740991")]
    Number {
        /// The number as written.
        found: String,
    },
    /// A timestamp that is not `YYYY-MM-DDTHH:MM:SS[.fraction]Z` with real calendar values.
    #[error("invalid timestamp {found:?}: expected UTC YYYY-MM-DDTHH:MM:SS[.f]Z")]
    Timestamp {
        /// The text that was found (shortened).
        found: String,
    },
    /// An envelope whose canonical JSON is over the limit of SPEC §4 rule 1.
    #[error("the envelope is {bytes} bytes of canonical JSON, over the limit of {max}")]
    TooLarge {
        /// Its canonical size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// A field with the wrong shape.
    #[error("field `{field}`: {reason}")]
    Field {
        /// The field's name (a JSON path such as `statement.id`).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
}
