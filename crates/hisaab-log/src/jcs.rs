//! Canonical JSON: RFC 8785 (JCS) and Hisaab's profile of it (SPEC §1).
//!
//! Hisaab's profile admits only integers in 0..=2^53-1 as numbers and no duplicate keys.
//! [`canonicalize`] is plain RFC 8785 (any finite number) and exists so that the public
//! vectors can be run; everything that Hisaab hashes or signs goes through [`to_canonical`] or
//! [`canonicalize_profile`], which refuse what the profile forbids.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use serde_json::{Map, Number, Value};

use crate::error::FormatError;

/// The greatest JSON number the profile admits: 2^53 - 1.
pub const INTEGER_MAX: u64 = (1 << 53) - 1;

/// Parses JSON text strictly: a duplicate key in any object is an error (SPEC §1).
///
/// Numbers are not yet checked against the profile; see [`check_profile`].
///
/// # Errors
/// [`FormatError::Json`] for text that is not JSON, [`FormatError::DuplicateKey`] for a repeated key.
pub fn parse_strict(text: &[u8]) -> Result<Value, FormatError> {
    let mut deserializer = serde_json::Deserializer::from_slice(text);
    let value = StrictSeed
        .deserialize(&mut deserializer)
        .map_err(|e| duplicate_or_json(&e))?;
    deserializer.end().map_err(|e| FormatError::Json {
        detail: e.to_string(),
    })?;
    Ok(value)
}

/// Checks that every number in `value` is an integer in 0..=2^53-1.
///
/// # Errors
/// [`FormatError::Number`] naming the first number that is not.
pub fn check_profile(value: &Value) -> Result<(), FormatError> {
    match value {
        Value::Number(n) => match n.as_u64() {
            Some(v) if v <= INTEGER_MAX => Ok(()),
            _ => Err(FormatError::Number {
                found: n.to_string(),
            }),
        },
        Value::Array(items) => items.iter().try_for_each(check_profile),
        Value::Object(map) => map.values().try_for_each(check_profile),
        Value::Null | Value::Bool(_) | Value::String(_) => Ok(()),
    }
}

/// RFC 8785 canonical bytes of any JSON value (ES6 number formatting, UTF-16 key order).
///
/// # Errors
/// [`FormatError::Json`] when the value cannot be serialised (a non-finite number).
pub fn canonicalize(value: &Value) -> Result<Vec<u8>, FormatError> {
    serde_json_canonicalizer::to_vec(value).map_err(|e| FormatError::Json {
        detail: e.to_string(),
    })
}

/// RFC 8785 canonical bytes of a value that must also satisfy Hisaab's profile.
///
/// # Errors
/// [`FormatError::Number`] for a number outside the profile.
pub fn canonicalize_profile(value: &Value) -> Result<Vec<u8>, FormatError> {
    check_profile(value)?;
    canonicalize(value)
}

/// Serialises `value` with serde and returns its canonical bytes under Hisaab's profile.
///
/// # Errors
/// [`FormatError`] when the value does not serialise to JSON or breaks the profile.
pub fn to_canonical<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, FormatError> {
    let value = serde_json::to_value(value).map_err(|e| FormatError::Json {
        detail: e.to_string(),
    })?;
    canonicalize_profile(&value)
}

const DUPLICATE_PREFIX: &str = "hisaab-duplicate-key:";

fn duplicate_or_json(error: &serde_json::Error) -> FormatError {
    let text = error.to_string();
    match text.strip_prefix(DUPLICATE_PREFIX) {
        Some(rest) => {
            // serde_json appends " at line L column C"; keep only the key.
            let key = rest.rsplit_once(" at line ").map_or(rest, |(key, _)| key);
            FormatError::DuplicateKey {
                key: key.to_owned(),
            }
        }
        None => FormatError::Json { detail: text },
    }
}

struct StrictSeed;

impl<'de> DeserializeSeed<'de> for StrictSeed {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictSeed)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut seen = BTreeSet::new();
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!("{DUPLICATE_PREFIX}{key}")));
            }
            let value = map.next_value_seed(StrictSeed)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_duplicate_keys_at_any_depth() {
        assert_eq!(
            parse_strict(br#"{"a":1,"b":{"c":1,"c":2}}"#),
            Err(FormatError::DuplicateKey { key: "c".into() })
        );
        assert!(parse_strict(br#"{"a":1,"b":{"c":1}}"#).is_ok());
        assert!(matches!(
            parse_strict(b"{\"a\":1} x"),
            Err(FormatError::Json { .. })
        ));
    }

    #[test]
    fn profile_admits_only_safe_non_negative_integers() {
        for ok in ["0", "9007199254740991", "[1,{\"a\":2}]"] {
            let v = parse_strict(ok.as_bytes()).unwrap();
            assert!(check_profile(&v).is_ok(), "{ok}");
        }
        for bad in [
            "-1",
            "9007199254740992",
            "1.5",
            "1e3",
            "1.0",
            "[{\"a\":-3}]",
        ] {
            let v = parse_strict(bad.as_bytes()).unwrap();
            assert!(
                matches!(check_profile(&v), Err(FormatError::Number { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn canonical_form_sorts_keys_by_utf16_and_escapes_minimally() {
        let v =
            parse_strict("{\"b\":\"\u{20ac}\\u000a\",\"a\":[true,null],\"\u{e9}\":1}".as_bytes())
                .unwrap();
        assert_eq!(
            String::from_utf8(canonicalize_profile(&v).unwrap()).unwrap(),
            "{\"a\":[true,null],\"b\":\"\u{20ac}\\n\",\"\u{e9}\":1}"
        );
    }
}
