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

mod write;

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
    if check_profile(value).is_ok() {
        return Ok(write_profile(value));
    }
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
    Ok(write_profile(value))
}

/// RFC 8785 bytes of a value inside the profile, written in one pass. Within the profile a
/// number is an integer in 0..=2^53-1, whose ES6 form is its decimal digits, so the general
/// canonicaliser (which rebuilds every object to sort it and formats numbers as doubles) is
/// not needed: this one sorts each object's keys by UTF-16 code units in place (a
/// `serde_json::Map` is already in byte order, which agrees for every key below U+E000) and
/// escapes strings as RFC 8785 §3.2.2.2 says. The unit tests and the RFC 8785 vectors hold it
/// to `serde_json_canonicalizer` byte for byte.
fn write_profile(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write_value(value, &mut out);
    out
}

fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        // Only reached through `check_profile`: an unsigned integer.
        Value::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::String(text) => write_string(text, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            sort_members(&mut entries, |(key, _)| key);
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write_value(item, out);
            }
            out.push(b'}');
        }
    }
}

/// Sorts an object's members by name in UTF-16 code units (RFC 8785 §3.2.3), leaving members
/// already in that order as they are.
fn sort_members<M>(members: &mut [M], name: impl Fn(&M) -> &str) {
    if !members
        .windows(2)
        .all(|w| utf16_le(name(&w[0]), name(&w[1])))
    {
        members.sort_by(|a, b| name(a).encode_utf16().cmp(name(b).encode_utf16()));
    }
}

/// Whether `a` sorts before or equal to `b` by UTF-16 code units.
fn utf16_le(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a <= b;
    }
    a.encode_utf16().cmp(b.encode_utf16()) != std::cmp::Ordering::Greater
}

/// A JSON string as RFC 8785 writes it: `"` and `\\` escaped, the control characters as `\b`,
/// `\t`, `\n`, `\f`, `\r` or `\u00xx` (lower-case hex), everything else as it is.
fn write_string(text: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            0x0c => b"\\f",
            b'\r' => b"\\r",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Serialises `value` with serde and returns its canonical bytes under Hisaab's profile:
/// written in one pass where the value is plainly inside the profile, else through a
/// `serde_json::Value` and [`canonicalize_profile`] (which names what breaks the profile).
///
/// # Errors
/// [`FormatError`] when the value does not serialise to JSON or breaks the profile.
pub fn to_canonical<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, FormatError> {
    canonical_leaving_out(value, None)
}

/// [`to_canonical`] of `value` with the member `key` of its outermost object left out (a
/// state's digest is that of the state without its `digest`).
///
/// # Errors
/// As [`to_canonical`].
pub fn to_canonical_without<T: Serialize + ?Sized>(
    value: &T,
    key: &str,
) -> Result<Vec<u8>, FormatError> {
    canonical_leaving_out(value, Some(key))
}

/// [`to_canonical`], the member `skip` of the outermost object left out.
fn canonical_leaving_out<T: Serialize + ?Sized>(
    value: &T,
    skip: Option<&str>,
) -> Result<Vec<u8>, FormatError> {
    if let Some(bytes) = write::canonical(value, skip) {
        return Ok(bytes);
    }
    let mut value = serde_json::to_value(value).map_err(|e| FormatError::Json {
        detail: e.to_string(),
    })?;
    if let (Some(key), Some(object)) = (skip, value.as_object_mut()) {
        object.remove(key);
    }
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

    /// Any JSON value inside the profile: keys and strings drawn from ASCII, control
    /// characters, the BMP on both sides of the surrogate range and beyond it (where UTF-16
    /// and UTF-8 orders disagree).
    fn profile_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let text = || {
            proptest::string::string_regex(
            "[a-zA-Z0-9 \"\\\\\\x00-\\x1f\\x7f\u{e9}\u{2028}\u{20ac}\u{d7ff}\u{e000}\u{ff61}\u{fffd}\u{10000}\u{1f600}]{0,6}",
        )
        .unwrap()
        };
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (0..=INTEGER_MAX).prop_map(|n| Value::Number(n.into())),
            text().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::btree_map(text(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn the_one_pass_writer_agrees_with_the_general_canonicaliser(value in profile_value()) {
            let general = serde_json_canonicalizer::to_vec(&value).unwrap();
            proptest::prop_assert_eq!(canonicalize_profile(&value).unwrap(), general.clone());
            proptest::prop_assert_eq!(canonicalize(&value).unwrap(), general);
        }
    }

    proptest::proptest! {
        #[test]
        fn the_serde_writer_agrees_with_the_general_canonicaliser(value in profile_value()) {
            let general = serde_json_canonicalizer::to_vec(&value).unwrap();
            proptest::prop_assert_eq!(write::canonical(&value, None), Some(general));
            let first = value.as_object().and_then(|object| object.keys().next().cloned());
            if let Some(first) = first {
                let mut without = value.clone();
                without.as_object_mut().unwrap().remove(&first);
                proptest::prop_assert_eq!(
                    to_canonical_without(&value, &first).unwrap(),
                    canonicalize_profile(&without).unwrap()
                );
            }
        }
    }

    /// Every shape serde has, written by the serde writer and by the general path alike.
    #[test]
    fn the_serde_writer_writes_every_serde_shape_as_serde_json_does() {
        use std::collections::BTreeMap;
        #[derive(serde::Serialize)]
        enum Shape {
            Unit,
            Newtype(u8),
            Tuple(u8, String),
            Struct { z: bool, a: Option<u8> },
        }
        #[derive(serde::Serialize)]
        struct Wrapper(String);
        #[derive(serde::Serialize)]
        struct Unit;
        #[derive(serde::Serialize)]
        struct All {
            shapes: Vec<Shape>,
            tuple: (u8, i64, char),
            wrapper: Wrapper,
            unit: Unit,
            nothing: (),
            #[serde(with = "serde_bytes_as_seq")]
            bytes: Vec<u8>,
            map: BTreeMap<String, Vec<u32>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            skipped: Option<u8>,
            #[serde(rename = "\u{e000}")]
            private_use: u16,
            #[serde(rename = "\u{1f600}")]
            astral: i8,
            #[serde(flatten)]
            flat: BTreeMap<String, bool>,
        }
        mod serde_bytes_as_seq {
            pub(super) fn serialize<S: serde::Serializer>(
                v: &[u8],
                s: S,
            ) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(v)
            }
        }
        let all = All {
            shapes: vec![
                Shape::Unit,
                Shape::Newtype(7),
                Shape::Tuple(1, "x\n".into()),
                Shape::Struct { z: true, a: None },
            ],
            tuple: (0, INTEGER_MAX as i64, '\u{7}'),
            wrapper: Wrapper("\u{2028}\"\\".into()),
            unit: Unit,
            nothing: (),
            bytes: vec![0, 255],
            map: BTreeMap::from([("b".into(), vec![2]), ("a".into(), vec![])]),
            skipped: None,
            private_use: 1,
            astral: 2,
            flat: BTreeMap::from([("flat".into(), true)]),
        };
        let general = canonicalize_profile(&serde_json::to_value(&all).unwrap()).unwrap();
        assert_eq!(write::canonical(&all, None), Some(general.clone()));
        assert_eq!(to_canonical(&all).unwrap(), general);
        // UTF-16 order: U+1F600 (a surrogate pair, 0xD83D…) sorts before U+E000.
        let text = String::from_utf8(general).unwrap();
        assert!(
            text.find("\u{1f600}").unwrap() < text.find("\u{e000}").unwrap(),
            "{text}"
        );
    }

    /// What the serde writer leaves to the general path, which answers as it always did.
    #[test]
    fn the_serde_writer_declines_what_the_general_path_must_judge() {
        use std::collections::BTreeMap;
        // Outside the profile: the general path names the number.
        for (value, found) in [
            (serde_json::json!({"a": -1}), "-1"),
            (serde_json::json!([INTEGER_MAX + 1]), "9007199254740992"),
            (serde_json::json!({"a": 1.5}), "1.5"),
        ] {
            assert_eq!(write::canonical(&value, None), None);
            assert_eq!(
                to_canonical(&value),
                Err(FormatError::Number {
                    found: found.into()
                })
            );
        }
        assert_eq!(write::canonical(&2.0f64, None), None);
        // A number as a map key: serde_json writes it as a string.
        let numbered = BTreeMap::from([(2u8, true), (10u8, false)]);
        assert_eq!(write::canonical(&numbered, None), None);
        assert_eq!(
            to_canonical(&numbered).unwrap(),
            br#"{"10":false,"2":true}"#
        );
        // A raw value: only serde_json knows its text.
        let raw = serde_json::value::RawValue::from_string("{\"b\":1,\"a\":2}".into()).unwrap();
        assert_eq!(write::canonical(&raw, None), None);
        assert_eq!(to_canonical(&raw).unwrap(), br#"{"a":2,"b":1}"#);
        // A name twice (a flattened map repeating a field): serde_json keeps the last.
        #[derive(serde::Serialize)]
        struct Twice {
            a: u8,
            #[serde(flatten)]
            more: BTreeMap<String, u8>,
        }
        let twice = Twice {
            a: 1,
            more: BTreeMap::from([("a".into(), 2)]),
        };
        assert_eq!(write::canonical(&twice, None), None);
        assert_eq!(to_canonical(&twice).unwrap(), br#"{"a":2}"#);
    }

    /// A `Serialize` that carries on past an element's error, an enum variant named like the
    /// member left out, and a member left out that is not JSON: the general path's answers.
    #[test]
    fn the_serde_writer_declines_what_it_would_write_otherwise_than_the_general_path() {
        use serde::ser::SerializeSeq as _;
        struct Lenient;
        impl serde::Serialize for Lenient {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(None)?;
                let _ignored = seq.serialize_element(&-1i64);
                let _ignored = seq.serialize_element(&Some(-1i64));
                seq.serialize_element(&1u8)?;
                seq.end()
            }
        }
        // serde_json keeps what it could write: the element that failed is not there.
        assert_eq!(write::canonical(&Lenient, None), None);
        assert_eq!(
            to_canonical(&Lenient),
            canonicalize_profile(&serde_json::to_value(&Lenient).unwrap())
        );

        #[derive(serde::Serialize)]
        enum Tagged {
            #[serde(rename = "digest")]
            Newtype(u8),
            #[serde(rename = "digest2")]
            Tuple(u8, u8),
            #[serde(rename = "digest3")]
            Struct { a: u8 },
        }
        for (value, key) in [
            (Tagged::Newtype(1), "digest"),
            (Tagged::Tuple(1, 2), "digest2"),
            (Tagged::Struct { a: 1 }, "digest3"),
        ] {
            assert_eq!(write::canonical(&value, Some(key)), None);
            assert_eq!(to_canonical_without(&value, key).unwrap(), b"{}");
            // Not the member left out: written in one pass.
            assert!(write::canonical(&value, Some("other")).is_some());
        }

        #[derive(serde::Serialize)]
        struct Unwritable {
            a: u8,
            digest: u128,
        }
        let unwritable = Unwritable {
            a: 1,
            digest: u128::MAX,
        };
        assert_eq!(write::canonical(&unwritable, Some("digest")), None);
        assert!(matches!(
            to_canonical_without(&unwritable, "digest"),
            Err(FormatError::Json { .. })
        ));
        // A u128 is always the general path's; in range it is JSON, and left out.
        let writable = Unwritable { a: 1, digest: 7 };
        assert_eq!(write::canonical(&writable, Some("digest")), None);
        assert_eq!(
            to_canonical_without(&writable, "digest").unwrap(),
            br#"{"a":1}"#
        );
        // A member left out that this writer can write: written and thrown away.
        let plain = serde_json::json!({"a": 1, "digest": [true, "x"]});
        assert_eq!(
            write::canonical(&plain, Some("digest")),
            Some(br#"{"a":1}"#.to_vec())
        );
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
