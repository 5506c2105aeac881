//! Values written as strings, read back through serde without a copy of their text.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, Error, Visitor};

/// Reads a string and parses it with `parse`, its error the deserializer's. The text is read in
/// place where the deserializer lends it or holds it in a buffer: reading it as a
/// `Cow<str>` first, as serde does, copies it into a `String` of its own every time (a copy a
/// field, for every field of every record of a snapshot or an entry).
///
/// # Errors
/// The deserializer's, when the value is not a string or `parse` refuses it.
pub fn deserialize_parsed<'de, D, T, E, F>(deserializer: D, parse: F) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    E: fmt::Display,
    F: FnOnce(&str) -> Result<T, E>,
{
    struct Parsed<T, E, F>(F, PhantomData<fn() -> (T, E)>);

    impl<T, E: fmt::Display, F: FnOnce(&str) -> Result<T, E>> Visitor<'_> for Parsed<T, E, F> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }

        fn visit_str<Er: Error>(self, text: &str) -> Result<T, Er> {
            (self.0)(text).map_err(Er::custom)
        }
    }

    deserializer.deserialize_str(Parsed(parse, PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_len<'de, D: Deserializer<'de>>(deserializer: D) -> Result<usize, D::Error> {
        deserialize_parsed(deserializer, |text: &str| {
            if text.is_empty() {
                Err("empty")
            } else {
                Ok(text.len())
            }
        })
    }

    #[test]
    fn a_string_is_parsed_in_place_and_its_refusal_named() {
        let mut borrowed = serde_json::Deserializer::from_str(r#""abc""#);
        assert_eq!(parse_len(&mut borrowed).unwrap(), 3);
        // An escape makes serde_json unescape into a buffer: parsed from there.
        let mut escaped = serde_json::Deserializer::from_str(r#""a\u00e9""#);
        assert_eq!(parse_len(&mut escaped).unwrap(), 3);
        let mut empty = serde_json::Deserializer::from_str(r#""""#);
        assert!(parse_len(&mut empty)
            .unwrap_err()
            .to_string()
            .contains("empty"));
        let mut number = serde_json::Deserializer::from_str("12");
        assert!(parse_len(&mut number)
            .unwrap_err()
            .to_string()
            .contains("a string"));
    }
}
