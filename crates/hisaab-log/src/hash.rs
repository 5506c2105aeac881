//! SHA-256 hashes as they appear in Hisaab: 32 bytes in memory, 64 lowercase hex digits in JSON.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::error::{truncate_for_error, FormatError};

/// A SHA-256 hash. Constructed only from 32 bytes or from exactly 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash([u8; 32]);

impl Hash {
    /// The all-zero hash, used as `prev` of entry 0 (SPEC §2).
    pub const ZERO: Hash = Hash([0u8; 32]);

    /// Wraps 32 raw bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Hash(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// SHA-256 of `data`.
    pub fn sha256(data: &[u8]) -> Self {
        Hash(Sha256::digest(data).into())
    }

    /// SHA-256 of the concatenation of `parts`, without copying them together.
    pub fn sha256_parts(parts: &[&[u8]]) -> Self {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update(part);
        }
        Hash(hasher.finalize().into())
    }

    /// Parses 64 lowercase hex digits (SPEC §1); anything else is refused.
    ///
    /// # Errors
    /// [`FormatError::Hash`] when `text` is not exactly 64 lowercase hex digits.
    pub fn try_from_hex(text: &str) -> Result<Self, FormatError> {
        let bad = || FormatError::Hash {
            found: truncate_for_error(text),
        };
        let digits = text.as_bytes();
        if digits.len() != 64 {
            return Err(bad());
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            let (Some(high), Some(low)) = (lower_hex_digit(pair[0]), lower_hex_digit(pair[1]))
            else {
                return Err(bad());
            };
            *byte = (high << 4) | low;
        }
        Ok(Hash(bytes))
    }

    /// Parses a hash from a byte slice that must be exactly 32 bytes long.
    ///
    /// # Errors
    /// [`FormatError::HashLength`] when the slice is not 32 bytes.
    pub fn try_from_slice(bytes: &[u8]) -> Result<Self, FormatError> {
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|_| FormatError::HashLength { found: bytes.len() })?;
        Ok(Hash(array))
    }

    /// 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        lower_hex(&self.0).as_str().to_owned()
    }
}

/// 32 bytes as 64 lowercase hex digits, on the stack: a receipt writes a few dozen hashes,
/// and each would otherwise be a `String` built a character at a time.
pub(crate) fn lower_hex(bytes: &[u8; 32]) -> HexDigits {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0u8; 64];
    for (pair, byte) in digits.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
    HexDigits(digits)
}

/// What [`lower_hex`] gives: 64 ASCII hex digits.
pub(crate) struct HexDigits([u8; 64]);

impl HexDigits {
    /// The digits as text.
    pub(crate) fn as_str(&self) -> &str {
        // Every byte is one of `DIGITS`, all ASCII: always UTF-8.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(lower_hex(&self.0).as_str())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", lower_hex(&self.0).as_str())
    }
}

impl std::str::FromStr for Hash {
    type Err = FormatError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Hash::try_from_hex(s)
    }
}

/// Lowercase hex in a human-readable format (JSON, everything on the wire); the 32 bytes in
/// any other (the model's binary snapshots).
impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(lower_hex(&self.0).as_str())
        } else {
            serializer.serialize_bytes(&self.0)
        }
    }
}

/// The value of a lowercase hex digit; `None` for anything else (an uppercase digit too).
fn lower_hex_digit(digit: u8) -> Option<u8> {
    match HEX_VALUES[usize::from(digit)] {
        0xff => None,
        value => Some(value),
    }
}

/// The value of each lowercase hex digit by its byte, 0xff for every other byte.
const HEX_VALUES: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut i = 0u8;
    while i < 10 {
        table[(b'0' + i) as usize] = i;
        i += 1;
    }
    let mut i = 0u8;
    while i < 6 {
        table[(b'a' + i) as usize] = 10 + i;
        i += 1;
    }
    table
};

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Read in place: a hash needs no copy of its text.
        struct HexVisitor;
        impl serde::de::Visitor<'_> for HexVisitor {
            type Value = Hash;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Hash, E> {
                Hash::try_from_hex(text).map_err(E::custom)
            }
        }
        struct BytesVisitor;
        impl serde::de::Visitor<'_> for BytesVisitor {
            type Value = Hash;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("32 bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Hash, E> {
                Hash::try_from_slice(bytes).map_err(E::custom)
            }
        }
        if deserializer.is_human_readable() {
            deserializer.deserialize_string(HexVisitor)
        } else {
            deserializer.deserialize_bytes(BytesVisitor)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_uppercase_and_wrong_length() {
        let h = Hash::sha256(b"");
        assert_eq!(
            h.to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(Hash::try_from_hex(&h.to_hex()).unwrap(), h);
        assert!(Hash::try_from_hex(&h.to_hex().to_uppercase()).is_err());
        assert!(Hash::try_from_hex(&h.to_hex()[..62]).is_err());
        assert!(Hash::try_from_hex("zz").is_err());
    }

    #[test]
    fn hex_digits_agree_with_the_hex_crate_for_every_byte() {
        for start in (0u8..=224).step_by(32) {
            let bytes: [u8; 32] = std::array::from_fn(|i| start + u8::try_from(i).unwrap());
            let hash = Hash(bytes);
            assert_eq!(hash.to_hex(), hex::encode(bytes));
            assert_eq!(format!("{hash}"), hex::encode(bytes));
            assert_eq!(format!("{hash:?}"), format!("Hash({})", hex::encode(bytes)));
        }
    }

    #[test]
    fn serde_uses_hex_strings() {
        let h = Hash::sha256(b"abc");
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(json, format!("\"{}\"", h.to_hex()));
        let back: Hash = serde_json::from_str(&json).unwrap();
        assert_eq!(back, h);
    }
}
