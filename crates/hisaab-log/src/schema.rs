//! JSON Schema of the format's documents, described by the types themselves: the `JsonSchema`
//! derives of [`Statement`](crate::Statement), [`Envelope`](crate::Envelope),
//! [`Entry`](crate::Entry) and [`BundleHeader`](crate::bundle::BundleHeader), and the impls
//! below for the checked values in them (hashes, keys, signatures, timestamps, statement ids),
//! each with the pattern that takes exactly what its parser takes. `schemas/` and the HTTP
//! API's OpenAPI description are generated from these, so each is written once, here.
//!
//! schemars is pure data (no I/O, no clock), so the crate stays pure with it.

use schemars::gen::SchemaGenerator;
use schemars::schema::{
    ArrayValidation, InstanceType, Metadata, NumberValidation, ObjectValidation, Schema,
    SchemaObject, StringValidation, SubschemaValidation,
};
use schemars::JsonSchema;

use crate::jcs::INTEGER_MAX;
use crate::{Hash, PublicKey, Signature, StatementId, Timestamp};

/// A SHA-256 hash: 64 lowercase hex digits (SPEC §1).
pub const HASH_PATTERN: &str = "^[0-9a-f]{64}$";

/// A real calendar date `YYYY-MM-DD` (years 0000-9999, leap years by the Gregorian rule): what
/// [`Date::try_parse`](crate::Date::try_parse) takes, exactly, so that a description forbids
/// what the parser refuses (`0000-00-00`, `2026-02-30`) and allows what it takes.
pub const DATE_PATTERN: &str = concat!(
    "^(?:[0-9]{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)",
    "|(?:0[13578]|1[02])-31)|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])",
    "|(?:[02468][048]|[13579][26])00)-02-29)$"
);

/// A SPEC §1 timestamp `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` with a real date (as
/// [`Timestamp::try_parse`] takes it).
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

/// A statement id: a UUID in lowercase 8-4-4-4-12 hex (SPEC §1).
pub const UUID_PATTERN: &str = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

/// A C2SP key name, such as a log's origin: 1-255 bytes, no whitespace, no `+` (SPEC §3).
pub const ORIGIN_PATTERN: &str = r"^[^\s+]{1,255}$";

/// A C2SP signed-note verifier key `<name>+<8 lowercase hex key id>+<base64(0x01 || key)>`
/// (SPEC §3): the type byte `0x01` makes the base64 start with `A` and one of `Q`-`f`.
pub const VKEY_PATTERN: &str = r"^[^\s+]{1,255}\+[0-9a-f]{8}\+A[Q-Za-f][A-Za-z0-9+/]{42}$";

/// A signed checkpoint note (SPEC §3): origin, tree size in decimal, base64 root hash, no
/// extension lines, a blank line, then one or more signature lines.
pub const SIGNED_CHECKPOINT_PATTERN: &str = concat!(
    r"^[^\s+]{1,255}\n(0|[1-9][0-9]{0,15})\n[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=\n\n",
    "(\u{2014} [^\\n]+\\n)+$"
);

/// A string schema with `pattern`, and a description and an example when given.
pub fn pattern_string(pattern: &str, description: Option<&str>, example: Option<&str>) -> Schema {
    let metadata = (description.is_some() || example.is_some()).then(|| {
        Box::new(Metadata {
            description: description.map(str::to_owned),
            examples: example.map(serde_json::Value::from).into_iter().collect(),
            ..Default::default()
        })
    });
    SchemaObject {
        metadata,
        instance_type: Some(InstanceType::String.into()),
        string: Some(Box::new(StringValidation {
            pattern: Some(pattern.to_owned()),
            ..Default::default()
        })),
        ..Default::default()
    }
    .into()
}

/// An integer from `minimum` to 2^53 - 1 (SPEC §1's number profile).
pub fn bounded_integer(minimum: u64) -> Schema {
    SchemaObject {
        instance_type: Some(InstanceType::Integer.into()),
        format: Some("int64".to_owned()),
        number: Some(Box::new(NumberValidation {
            minimum: Some(minimum as f64),
            maximum: Some(INTEGER_MAX as f64),
            ..Default::default()
        })),
        ..Default::default()
    }
    .into()
}

/// Declares the schema of a checked string value: inline (never a definition of its own), a
/// string with the pattern its parser holds it to.
macro_rules! checked_string_schema {
    ($type:ty, $name:literal, $pattern:expr, $description:literal, $example:expr) => {
        impl JsonSchema for $type {
            fn is_referenceable() -> bool {
                false
            }

            fn schema_name() -> String {
                $name.to_owned()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                pattern_string($pattern, Some($description), $example)
            }
        }
    };
}

checked_string_schema!(
    Hash,
    "Hash",
    HASH_PATTERN,
    "A SHA-256 hash: 64 lowercase hex digits.",
    None
);
checked_string_schema!(
    crate::seal::Seed,
    "Seed",
    HASH_PATTERN,
    "A statement's sealing seed (SPEC §12.3): 32 secret bytes as 64 lowercase hex digits.",
    None
);
checked_string_schema!(
    crate::seal::Salt,
    "Salt",
    HASH_PATTERN,
    "The salt of one sealed field (SPEC §12.3): 32 bytes as 64 lowercase hex digits.",
    None
);
checked_string_schema!(
    PublicKey,
    "PublicKey",
    KEY_PATTERN,
    "An Ed25519 public key, canonical base64 of 32 bytes.",
    None
);
checked_string_schema!(
    Signature,
    "Signature",
    SIGNATURE_PATTERN,
    "An Ed25519 signature, canonical base64 of 64 bytes.",
    None
);
checked_string_schema!(
    Timestamp,
    "Timestamp",
    TIMESTAMP_PATTERN,
    "A UTC time: YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z with a real date.",
    Some("2026-11-29T07:51:41.120Z")
);
checked_string_schema!(
    StatementId,
    "StatementId",
    UUID_PATTERN,
    "A lowercase UUID, unique in the ledger.",
    None
);

/// Any JSON value within the number profile of SPEC §1: numbers are integers from 0 to
/// 2^53 - 1 (the parser refuses others). The schema of the values in a statement's body.
#[derive(Debug, Clone, Copy)]
pub struct JsonValue;

impl JsonSchema for JsonValue {
    fn schema_name() -> String {
        "JsonValue".to_owned()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let itself = generator.subschema_for::<JsonValue>();
        let of_type = |instance_type: InstanceType| -> Schema {
            SchemaObject {
                instance_type: Some(instance_type.into()),
                ..Default::default()
            }
            .into()
        };
        let array = SchemaObject {
            instance_type: Some(InstanceType::Array.into()),
            array: Some(Box::new(ArrayValidation {
                items: Some(itself.clone().into()),
                ..Default::default()
            })),
            ..Default::default()
        };
        let object = SchemaObject {
            instance_type: Some(InstanceType::Object.into()),
            object: Some(Box::new(ObjectValidation {
                additional_properties: Some(Box::new(itself)),
                ..Default::default()
            })),
            ..Default::default()
        };
        SchemaObject {
            subschemas: Some(Box::new(SubschemaValidation {
                any_of: Some(vec![
                    of_type(InstanceType::String),
                    of_type(InstanceType::Boolean),
                    of_type(InstanceType::Null),
                    bounded_integer(0),
                    array.into(),
                    object.into(),
                ]),
                ..Default::default()
            })),
            ..Default::default()
        }
        .into()
    }
}

/// A statement's body (SPEC §4): an object whose values are [`JsonValue`]s. What each kind's
/// body holds is `hisaab-model`'s schema of that kind.
pub fn body(generator: &mut SchemaGenerator) -> Schema {
    SchemaObject {
        metadata: Some(Box::new(Metadata {
            description: Some(
                "The kind's body (SPEC §4): an object whose numbers are integers from 0 to \
                 2^53 - 1."
                    .to_owned(),
            ),
            ..Default::default()
        })),
        instance_type: Some(InstanceType::Object.into()),
        object: Some(Box::new(ObjectValidation {
            additional_properties: Some(Box::new(generator.subschema_for::<JsonValue>())),
            ..Default::default()
        })),
        ..Default::default()
    }
    .into()
}

/// The bundle formats (SPEC §6): `hisaab/v<v>` for the formats there are.
pub fn bundle_format(_: &mut SchemaGenerator) -> Schema {
    SchemaObject {
        instance_type: Some(InstanceType::String.into()),
        enum_values: Some(
            [
                crate::bundle::BUNDLE_FORMAT,
                crate::bundle::BUNDLE_FORMAT_V2,
            ]
            .into_iter()
            .map(serde_json::Value::from)
            .collect(),
        ),
        ..Default::default()
    }
    .into()
}

/// The integers of the format: 0 to 2^53 - 1.
pub fn integer(_: &mut SchemaGenerator) -> Schema {
    bounded_integer(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::Envelope;

    #[test]
    fn the_envelope_schema_names_every_checked_value_with_its_pattern() {
        let schema = serde_json::to_value(schemars::schema_for!(Envelope)).unwrap();
        let statement = &schema["definitions"]["Statement"];
        assert_eq!(statement["additionalProperties"], false);
        assert_eq!(
            statement["properties"]["issued_at"]["pattern"],
            TIMESTAMP_PATTERN
        );
        assert_eq!(statement["properties"]["signer"]["pattern"], KEY_PATTERN);
        assert_eq!(statement["properties"]["ledger"]["pattern"], HASH_PATTERN);
        assert_eq!(statement["properties"]["id"]["pattern"], UUID_PATTERN);
        assert_eq!(
            schema["properties"]["signature"]["pattern"],
            SIGNATURE_PATTERN
        );
        let required: Vec<&str> = statement["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        // `ledger` may be left out (the genesis statement) but is never `null`.
        assert!(!required.contains(&"ledger"));
        assert!(statement["properties"]["ledger"]["type"] == "string");
        assert_eq!(
            schema["definitions"]["JsonValue"]["anyOf"][3]["maximum"],
            INTEGER_MAX as f64
        );
    }
}
