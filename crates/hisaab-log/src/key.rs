//! Ed25519 keys and signatures (SPEC §1): canonical base64 in JSON, strict verification.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::truncate_for_error;
use crate::error::FormatError;

pub use ed25519_dalek::SigningKey;

/// Decodes canonical standard base64 with padding: decoding then encoding gives the same string.
///
/// # Errors
/// [`FormatError::Base64`] naming `what` when the text is not canonical base64.
pub fn decode_base64_canonical(what: &'static str, text: &str) -> Result<Vec<u8>, FormatError> {
    let bad = || FormatError::Base64 {
        what,
        found: truncate_for_error(text),
    };
    let bytes = STANDARD.decode(text).map_err(|_| bad())?;
    if STANDARD.encode(&bytes) != text {
        return Err(bad());
    }
    Ok(bytes)
}

/// Standard base64 with padding.
pub fn encode_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// An Ed25519 public key that is a canonical encoding of a point not of small order.
///
/// A key parsed from text or bytes ([`PublicKey::try_from_bytes`]) is checked and keeps its
/// decompressed point for verification. A key read back from bytes this ledger checked when it
/// accepted them ([`PublicKey::from_checked_bytes`], the trusted replay) keeps only its 32
/// bytes: the point is decompressed, and checked again, only if a signature is verified with
/// it. Keys compare, order and hash by their bytes either way.
#[derive(Clone, Copy)]
pub struct PublicKey(Point);

#[derive(Clone, Copy)]
enum Point {
    /// Checked and decompressed.
    Checked(VerifyingKey),
    /// Checked before: bytes only.
    Bytes([u8; 32]),
}

impl PublicKey {
    /// Checks and wraps 32 bytes (SPEC §1: y < p, not x = 0 with the sign bit set, not of small order).
    ///
    /// # Errors
    /// [`FormatError::PublicKey`] with the reason.
    pub fn try_from_bytes(bytes: &[u8; 32]) -> Result<Self, FormatError> {
        checked_point(bytes).map(|key| PublicKey(Point::Checked(key)))
    }

    /// Wraps 32 bytes that were checked by [`PublicKey::try_from_bytes`] when the ledger
    /// accepted them (an entry read back from a store that verified it on append), without
    /// decompressing the point. [`PublicKey::verify_strict`] checks them as
    /// [`PublicKey::try_from_bytes`] does before it verifies anything, so bytes that were not
    /// a valid key verify no signature.
    pub const fn from_checked_bytes(bytes: [u8; 32]) -> Self {
        PublicKey(Point::Bytes(bytes))
    }

    /// Parses canonical base64 of 32 bytes.
    ///
    /// # Errors
    /// [`FormatError`] when the text is not canonical base64 of a valid key.
    pub fn try_from_base64(text: &str) -> Result<Self, FormatError> {
        Self::try_from_bytes(&key_bytes_from_base64(text)?)
    }

    /// The public key of a signing key.
    pub fn from_signing_key(key: &SigningKey) -> Self {
        PublicKey(Point::Checked(key.verifying_key()))
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        match &self.0 {
            Point::Checked(key) => key.as_bytes(),
            Point::Bytes(bytes) => bytes,
        }
    }

    /// The dalek key, decompressed (and checked) now if this key holds only its bytes.
    ///
    /// # Errors
    /// [`FormatError::PublicKey`] when bytes given to [`PublicKey::from_checked_bytes`] are
    /// not a valid key after all.
    pub fn to_verifying_key(&self) -> Result<VerifyingKey, FormatError> {
        match &self.0 {
            Point::Checked(key) => Ok(*key),
            Point::Bytes(bytes) => checked_point(bytes),
        }
    }

    /// Canonical base64.
    pub fn to_base64(&self) -> String {
        encode_base64(self.as_bytes())
    }

    /// Verifies `signature` over `message` strictly (SPEC §1: `verify_strict`).
    ///
    /// # Errors
    /// [`SignatureError`] when the signature does not verify.
    pub fn verify_strict(
        &self,
        message: &[u8],
        signature: &Signature,
    ) -> Result<(), SignatureError> {
        let key = self.to_verifying_key().map_err(|_| SignatureError)?;
        let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
        key.verify_strict(message, &sig).map_err(|_| SignatureError)
    }
}

/// The 32 bytes of canonical base64 text, not yet checked as a point.
fn key_bytes_from_base64(text: &str) -> Result<[u8; 32], FormatError> {
    let bytes = decode_base64_canonical("a public key", text)?;
    bytes
        .as_slice()
        .try_into()
        .map_err(|_| FormatError::PublicKey {
            reason: "a public key is 32 bytes",
        })
}

/// How many checked keys a thread keeps ([`checked_point`]); past that it starts over.
const KEYS_KEPT: usize = 4096;

/// SPEC §1's checks of a public key, giving its decompressed point. A ledger's entries are
/// signed by a few keys, and decompressing one and compressing it again (two field inversions)
/// cost about as much as a third of the signature check, so each thread keeps the points it
/// checked, by their bytes: the same bytes always give the same point and verdict.
fn checked_point(bytes: &[u8; 32]) -> Result<VerifyingKey, FormatError> {
    thread_local! {
        static CHECKED: std::cell::RefCell<std::collections::HashMap<[u8; 32], VerifyingKey>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    if let Some(key) = CHECKED.with(|kept| kept.borrow().get(bytes).copied()) {
        return Ok(key);
    }
    let key = check_point(bytes)?;
    CHECKED.with(|kept| {
        let mut kept = kept.borrow_mut();
        if kept.len() >= KEYS_KEPT {
            kept.clear();
        }
        kept.insert(*bytes, key);
    });
    Ok(key)
}

/// [`checked_point`], computed.
fn check_point(bytes: &[u8; 32]) -> Result<VerifyingKey, FormatError> {
    let key = VerifyingKey::from_bytes(bytes).map_err(|_| FormatError::PublicKey {
        reason: "not a point on the curve",
    })?;
    // Decompression accepts y >= p and a set sign bit with x = 0; re-compressing exposes both.
    if key.to_edwards().compress().as_bytes() != bytes {
        return Err(FormatError::PublicKey {
            reason: "non-canonical point encoding",
        });
    }
    if key.is_weak() {
        return Err(FormatError::PublicKey {
            reason: "point of small order",
        });
    }
    Ok(key)
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for PublicKey {}

/// A public key's 32 bytes read without decompressing its point: canonical base64 of 32
/// bytes, as [`PublicKey::from_checked_bytes`] takes them. For entries a ledger verified when
/// it appended them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct CheckedKey(pub(crate) [u8; 32]);

impl<'de> Deserialize<'de> for CheckedKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl serde::de::Visitor<'_> for KeyVisitor {
            type Value = CheckedKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("canonical base64 of 32 bytes")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<CheckedKey, E> {
                // 32 bytes are 44 characters of padded base64; decoded and encoded again in
                // place, canonical when the text comes back.
                let bad = || E::custom("not canonical base64 of 32 bytes");
                let mut bytes = [0u8; 33];
                let mut again = [0u8; 44];
                let decoded = STANDARD.decode_slice(text, &mut bytes).map_err(|_| bad())?;
                let key: [u8; 32] = bytes
                    .get(..decoded)
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(bad)?;
                let encoded = STANDARD.encode_slice(key, &mut again).map_err(|_| bad())?;
                if again.get(..encoded) != Some(text.as_bytes()) {
                    return Err(bad());
                }
                Ok(CheckedKey(key))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_base64())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl std::hash::Hash for PublicKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PublicKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base64())
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::text::deserialize_parsed(deserializer, PublicKey::try_from_base64)
    }
}

/// The strict verification of a signature failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the Ed25519 signature does not verify strictly")]
pub struct SignatureError;

/// A 64-byte Ed25519 signature, canonical base64 in JSON.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature([u8; 64]);

impl Signature {
    /// Wraps 64 bytes.
    pub const fn from_bytes(bytes: [u8; 64]) -> Self {
        Signature(bytes)
    }

    /// The 64 bytes.
    pub const fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }

    /// Signs `message` with `key` (deterministic, RFC 8032).
    pub fn sign(key: &SigningKey, message: &[u8]) -> Self {
        Signature(key.sign(message).to_bytes())
    }

    /// Parses canonical base64 of 64 bytes.
    ///
    /// # Errors
    /// [`FormatError`] when the text is not canonical base64 of 64 bytes.
    pub fn try_from_base64(text: &str) -> Result<Self, FormatError> {
        let bytes = decode_base64_canonical("a signature", text)?;
        let array: [u8; 64] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| FormatError::SignatureLength { found: bytes.len() })?;
        Ok(Signature(array))
    }

    /// Canonical base64.
    pub fn to_base64(&self) -> String {
        encode_base64(&self.0)
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", self.to_base64())
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base64())
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::text::deserialize_parsed(deserializer, Signature::try_from_base64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_strictly() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let public = PublicKey::from_signing_key(&key);
        let sig = Signature::sign(&key, b"hello");
        assert!(public.verify_strict(b"hello", &sig).is_ok());
        assert!(public.verify_strict(b"hellp", &sig).is_err());
        let round = PublicKey::try_from_base64(&public.to_base64()).unwrap();
        assert_eq!(round, public);
        assert_eq!(Signature::try_from_base64(&sig.to_base64()).unwrap(), sig);
    }

    #[test]
    fn a_key_kept_as_bytes_equals_the_checked_key_and_is_checked_when_it_verifies() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let checked = PublicKey::from_signing_key(&key);
        let bytes = PublicKey::from_checked_bytes(*checked.as_bytes());
        assert_eq!(bytes, checked);
        assert_eq!(bytes.cmp(&checked), std::cmp::Ordering::Equal);
        assert_eq!(bytes.to_base64(), checked.to_base64());
        let sig = Signature::sign(&key, b"hello");
        assert!(bytes.verify_strict(b"hello", &sig).is_ok());
        assert!(bytes.verify_strict(b"hellp", &sig).is_err());
        // Bytes that are no valid key verify nothing: the identity point has small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = PublicKey::from_checked_bytes(identity);
        assert!(weak.to_verifying_key().is_err());
        assert!(weak.verify_strict(b"hello", &sig).is_err());
        let text = serde_json::to_string(&checked).unwrap();
        let CheckedKey(read) = serde_json::from_str(&text).unwrap();
        assert_eq!(PublicKey::from_checked_bytes(read), checked);
        for bad in ["\"AAAA\"", "\"not base64!\"", "1"] {
            assert!(serde_json::from_str::<CheckedKey>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_non_canonical_base64_and_small_order_keys() {
        // The identity point (y = 1) has small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(matches!(
            PublicKey::try_from_bytes(&identity),
            Err(FormatError::PublicKey { .. })
        ));
        // y = p (non-canonical encoding of y = 0).
        let mut non_canonical = [0xffu8; 32];
        non_canonical[0] = 0xed;
        non_canonical[31] = 0x7f;
        assert!(PublicKey::try_from_bytes(&non_canonical).is_err());
        // Trailing bits set in the last base64 character are not canonical.
        let key = PublicKey::from_signing_key(&SigningKey::from_bytes(&[1u8; 32]));
        let text = key.to_base64();
        let mut chars: Vec<char> = text.chars().collect();
        let last = chars.len() - 2;
        chars[last] = if chars[last] == 'B' { 'C' } else { 'B' };
        let altered: String = chars.into_iter().collect();
        if STANDARD.decode(&altered).map(|b| STANDARD.encode(b)) != Ok(altered.clone()) {
            assert!(PublicKey::try_from_base64(&altered).is_err());
        }
        assert!(PublicKey::try_from_base64("not base64!").is_err());
    }
}
