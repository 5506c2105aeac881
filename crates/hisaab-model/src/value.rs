//! The checked scalar values of SPEC §1 and §4 that bodies are made of: slugs, KPI ids,
//! decimals, texts, scores, pillars, roles and the other closed vocabularies.
//!
//! Each type is constructed only through a checked constructor (`try_new` or serde), so a body
//! that deserialises is well-formed field by field. Hashes, keys, dates and periods come from
//! `hisaab-log`; [`schema`] describes them for JSON Schema.

use std::fmt;

use hisaab_log::error::truncate_for_error;
use schemars::gen::SchemaGenerator;
use schemars::schema::{InstanceType, NumberValidation, Schema, SchemaObject, StringValidation};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The greatest length of a text field, in Unicode code points (SPEC §1).
pub const TEXT_CHARS_MAX: usize = 4096;

/// A value that does not have the form its field requires.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {reason}")]
pub struct ValueError {
    /// What kind of value was expected (e.g. "a slug").
    pub what: &'static str,
    /// Why the text was refused.
    pub reason: String,
}

fn string_schema(pattern: Option<&str>, min: Option<u32>, max: Option<u32>) -> Schema {
    SchemaObject {
        instance_type: Some(InstanceType::String.into()),
        string: Some(Box::new(StringValidation {
            max_length: max,
            min_length: min,
            pattern: pattern.map(str::to_owned),
        })),
        ..Default::default()
    }
    .into()
}

/// Declares a string newtype whose every value passed `$check`.
macro_rules! checked_string {
    ($(#[$doc:meta])* $name:ident, $check:path, $schema:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Checks `text` and wraps it.
            ///
            /// # Errors
            /// [`ValueError`] saying why the text does not have this form.
            pub fn try_new(text: &str) -> Result<Self, ValueError> {
                $check(text)?;
                Ok($name(text.to_owned()))
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                hisaab_log::text::deserialize_parsed(deserializer, $name::try_new)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> String {
                stringify!($name).to_owned()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                $schema
            }
        }
    };
}

checked_string!(
    /// An identifier of an operator, member, commitment, challenge, meeting or dispute:
    /// `^[a-z0-9][a-z0-9-]{0,62}$` (SPEC §1).
    Slug,
    check_slug,
    string_schema(Some(SLUG_PATTERN), None, None)
);

checked_string!(
    /// A KPI id, `^[A-Z]{2,6}-[0-9]{1,4}$` such as `CR-01` (SPEC §1).
    KpiId,
    check_kpi_id,
    string_schema(Some(KPI_PATTERN), None, None)
);

checked_string!(
    /// A decimal quantity as a string, `^-?(0|[1-9][0-9]*)(\.[0-9]+)?$` (SPEC §1).
    Decimal,
    check_decimal,
    string_schema(Some(DECIMAL_PATTERN), None, None)
);

checked_string!(
    /// A text of 1–4096 Unicode code points: a name, title, reason, rationale… (SPEC §1).
    Text,
    check_text,
    string_schema(None, Some(1), Some(4096))
);

checked_string!(
    /// A `note`: a text of 0–4096 Unicode code points (SPEC §1).
    Note,
    check_note,
    string_schema(None, Some(0), Some(4096))
);

checked_string!(
    /// A C2SP key name used as the ledger's origin: 1–255 bytes, no whitespace, no `+`.
    Origin,
    check_origin,
    string_schema(Some(r"^[^\s+]{1,255}$"), Some(1), Some(255))
);

/// The pattern of a [`Slug`].
pub const SLUG_PATTERN: &str = "^[a-z0-9][a-z0-9-]{0,62}$";
/// The pattern of a [`KpiId`].
pub const KPI_PATTERN: &str = "^[A-Z]{2,6}-[0-9]{1,4}$";
/// The pattern of a [`Decimal`].
pub const DECIMAL_PATTERN: &str = r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$";

fn check_slug(text: &str) -> Result<(), ValueError> {
    let bytes = text.as_bytes();
    let ok = matches!(bytes.first(), Some(b'a'..=b'z' | b'0'..=b'9'))
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ValueError {
            what: "a slug",
            reason: format!(
                "{:?} does not match {SLUG_PATTERN} (lowercase letters, digits and hyphens, \
                 at most 63, not starting with a hyphen)",
                truncate_for_error(text)
            ),
        })
    }
}

fn check_kpi_id(text: &str) -> Result<(), ValueError> {
    let ok = text.split_once('-').is_some_and(|(letters, digits)| {
        (2..=6).contains(&letters.len())
            && letters.bytes().all(|b| b.is_ascii_uppercase())
            && (1..=4).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
    });
    if ok {
        Ok(())
    } else {
        Err(ValueError {
            what: "a KPI id",
            reason: format!(
                "{:?} does not match {KPI_PATTERN}",
                truncate_for_error(text)
            ),
        })
    }
}

fn check_decimal(text: &str) -> Result<(), ValueError> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (integer, fraction) = match unsigned.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (unsigned, None),
    };
    let integer_ok = integer == "0"
        || (!integer.is_empty()
            && !integer.starts_with('0')
            && integer.bytes().all(|b| b.is_ascii_digit()));
    let fraction_ok =
        fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    if integer_ok && fraction_ok {
        Ok(())
    } else {
        Err(ValueError {
            what: "a decimal",
            reason: format!(
                "{:?} does not match {DECIMAL_PATTERN}",
                truncate_for_error(text)
            ),
        })
    }
}

/// Whether a text or note may not hold `c`: a C0 control other than tab and line feed (texts
/// are multi-line, such as minutes), DEL, a C1 control, or a bidi override or isolate
/// (U+202A–U+202E, U+2066–U+2069). Such characters can rewrite what a terminal shows (ESC
/// sequences) or reorder what a reader sees (Trojan Source), and no accountability text needs
/// them.
pub fn is_refused_in_text(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{8}'
            | '\u{b}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// The one check of texts' characters, for texts and notes alike.
fn check_characters(what: &'static str, text: &str) -> Result<(), ValueError> {
    match text
        .chars()
        .enumerate()
        .find(|(_, c)| is_refused_in_text(*c))
    {
        None => Ok(()),
        Some((position, c)) => Err(ValueError {
            what,
            reason: format!(
                "holds the control character U+{:04X} at character {position}; a text may \
                 hold tab and line feed but no other control character (C0, DEL, C1) nor a \
                 bidi override or isolate",
                u32::from(c)
            ),
        }),
    }
}

fn check_text(text: &str) -> Result<(), ValueError> {
    let chars = text.chars().count();
    if (1..=TEXT_CHARS_MAX).contains(&chars) {
        check_characters("a text", text)
    } else {
        Err(ValueError {
            what: "a text",
            reason: format!("must have 1 to {TEXT_CHARS_MAX} characters, found {chars}"),
        })
    }
}

fn check_note(text: &str) -> Result<(), ValueError> {
    let chars = text.chars().count();
    if chars <= TEXT_CHARS_MAX {
        check_characters("a note", text)
    } else {
        Err(ValueError {
            what: "a note",
            reason: format!("must have at most {TEXT_CHARS_MAX} characters, found {chars}"),
        })
    }
}

fn check_origin(text: &str) -> Result<(), ValueError> {
    if (1..=255).contains(&text.len()) && hisaab_log::note::is_valid_key_name(text) {
        Ok(())
    } else {
        Err(ValueError {
            what: "an origin",
            reason: format!(
                "{:?} is not a key name of 1 to 255 bytes without whitespace or `+`",
                truncate_for_error(text)
            ),
        })
    }
}

/// A KPI score, an integer 0–100.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize)]
#[serde(transparent)]
pub struct Score(u8);

/// The greatest score.
pub const SCORE_MAX: u8 = 100;

/// Written by hand: a derive on a transparent newtype describes the inner `u8` and drops the
/// field's `range` attribute, so the schema would admit 101–255.
impl JsonSchema for Score {
    fn schema_name() -> String {
        "Score".to_owned()
    }

    /// Inlined where used, as the derive did.
    fn is_referenceable() -> bool {
        false
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        SchemaObject {
            instance_type: Some(InstanceType::Integer.into()),
            format: Some("uint8".to_owned()),
            number: Some(Box::new(NumberValidation {
                minimum: Some(0.0),
                maximum: Some(f64::from(SCORE_MAX)),
                ..Default::default()
            })),
            ..Default::default()
        }
        .into()
    }
}

impl Score {
    /// Checks and wraps a score.
    ///
    /// # Errors
    /// [`ValueError`] when `value` is over 100.
    pub fn try_new(value: u64) -> Result<Self, ValueError> {
        match u8::try_from(value) {
            Ok(v) if v <= SCORE_MAX => Ok(Score(v)),
            _ => Err(ValueError {
                what: "a score",
                reason: format!("must be an integer from 0 to 100, found {value}"),
            }),
        }
    }

    /// The score.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Score {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = u64::deserialize(deserializer)?;
        Score::try_new(value).map_err(serde::de::Error::custom)
    }
}

/// A closed vocabulary of SPEC §4–5 (pillars, roles, verdicts, …): every value and its JSON
/// text. A client builds its choices from [`Vocabulary::ALL`] (the CLI's value lists), so each
/// vocabulary is defined once, here.
pub trait Vocabulary: Copy + Send + Sync + 'static {
    /// Every value, in declaration order.
    const ALL: &'static [Self];
    /// The JSON text of this value.
    fn as_str(self) -> &'static str;
    /// The value with this JSON text.
    fn try_from_str(text: &str) -> Option<Self>;
}

/// Declares a closed vocabulary serialised as snake_case strings: the enum, `ALL`, its JSON
/// texts, [`Vocabulary`], `Display` and the schema. Used here and for the state's statuses.
macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(
            Clone,
            Copy,
            PartialEq,
            Eq,
            PartialOrd,
            Ord,
            Hash,
            Debug,
            ::serde::Serialize,
            ::serde::Deserialize,
            ::schemars::JsonSchema,
        )]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The JSON text of this value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value with this JSON text.
            pub fn try_from_str(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl $crate::value::Vocabulary for $name {
            const ALL: &'static [Self] = $name::ALL;

            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }

            fn try_from_str(text: &str) -> Option<Self> {
                $name::try_from_str(text)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use vocabulary;

vocabulary!(
    /// The six pillars of the Cyber Security Strategy for the Telecom Sector (SPEC §4).
    Pillar {
        /// Legal Framework.
        Legal = "legal",
        /// Cyber Resilience.
        Resilience = "resilience",
        /// Proactive Monitoring and Incident Response.
        Monitoring = "monitoring",
        /// Capacity Building.
        Capacity = "capacity",
        /// Cooperation and Collaboration.
        Cooperation = "cooperation",
        /// Public Awareness.
        Awareness = "awareness",
    }
);

vocabulary!(
    /// A member's role (SPEC §4). Declared in alphabetical order, so sorting by `Ord` sorts the
    /// JSON texts.
    Role {
        /// PTA, the regulator.
        Authority = "authority",
        /// The task force chair.
        Chair = "chair",
        /// A CISO of one operator.
        Ciso = "ciso",
        /// An evaluator of submissions.
        Evaluator = "evaluator",
        /// An operator's monitor that cosigns checkpoints.
        Witness = "witness",
    }
);

vocabulary!(
    /// Whether a higher or a lower KPI value is better.
    Direction {
        /// Higher is better.
        HigherIsBetter = "higher_is_better",
        /// Lower is better.
        LowerIsBetter = "lower_is_better",
    }
);

vocabulary!(
    /// How often a KPI is reported (informational in v1).
    Cadence {
        /// Every month.
        Monthly = "monthly",
        /// Every quarter.
        Quarterly = "quarterly",
        /// Once.
        Once = "once",
    }
);

vocabulary!(
    /// An evaluation's verdict.
    Verdict {
        /// The target is met.
        Met = "met",
        /// The target is partly met.
        PartiallyMet = "partially_met",
        /// The target is not met.
        NotMet = "not_met",
        /// The evidence does not allow a judgement.
        InsufficientEvidence = "insufficient_evidence",
    }
);

vocabulary!(
    /// How a commitment was closed.
    CommitmentOutcome {
        /// Done as promised.
        Fulfilled = "fulfilled",
        /// Not done by its due date.
        Missed = "missed",
        /// Taken back.
        Withdrawn = "withdrawn",
    }
);

vocabulary!(
    /// Format 2: how an action of a meeting's minutes or a directive was closed (SPEC §11.7).
    ActionOutcome {
        /// Done by its owner.
        Done = "done",
        /// Not done by its due date.
        Missed = "missed",
    }
);

vocabulary!(
    /// Format 2: how grave a challenge is (SPEC §11.12).
    Severity {
        /// Low.
        Low = "low",
        /// Medium.
        Medium = "medium",
        /// High.
        High = "high",
        /// Critical.
        Critical = "critical",
    }
);

vocabulary!(
    /// Format 2: what kind of outside body a stakeholder is (SPEC §11.12).
    StakeholderType {
        /// A computer emergency response team (a national or sectoral CERT).
        Cert = "cert",
        /// Another regulator.
        Regulator = "regulator",
        /// A vendor of equipment or services.
        Vendor = "vendor",
        /// A law-enforcement agency.
        LawEnforcement = "law_enforcement",
        /// Any other body.
        Other = "other",
    }
);

vocabulary!(
    /// Format 2: where a challenge of the register stands on a date (SPEC §11.12).
    ChallengeStatus {
        /// Not resolved, not past its due date (or without one).
        Open = "open",
        /// Not resolved, its due date passed.
        Overdue = "overdue",
        /// Resolved.
        Resolved = "resolved",
    }
);

vocabulary!(
    /// Format 2: whether a delegation is in force on a date (SPEC §11.12).
    DelegationStatus {
        /// The date is on or before its expiry.
        InForce = "in_force",
        /// The date is after its expiry.
        Expired = "expired",
    }
);

vocabulary!(
    /// How a dispute was resolved.
    DisputeOutcome {
        /// The evaluation stands.
        Upheld = "upheld",
        /// The evaluation is void.
        Overturned = "overturned",
    }
);

/// The pattern of an Ed25519 public key: standard base64 with padding of 32 bytes, whose last
/// character leaves the 2 unused bits zero (SPEC §1), as `PublicKey` decodes it.
pub const PUBLIC_KEY_PATTERN: &str = hisaab_log::schema::KEY_PATTERN;
/// The pattern of a date `YYYY-MM-DD`; whether the day exists in the month is not a pattern's
/// question.
pub const DATE_PATTERN: &str = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";
/// The pattern of a period `YYYY-MM`.
pub const PERIOD_PATTERN: &str = "^[0-9]{4}-(0[1-9]|1[0-2])$";
/// The pattern of a C2SP verifier key `<name>+<8 hex key id>+<base64(0x01 || key)>`: a name of
/// 1–255 characters without whitespace or `+`, then 33 bytes whose first is the Ed25519 type
/// `0x01` (so the base64 starts `A` and a character of `Q`–`f`), the only type
/// `VerifierKey::try_parse` admits.
pub const VKEY_PATTERN: &str = hisaab_log::schema::VKEY_PATTERN;
/// The pattern of a SHA-256 hash: 64 lowercase hex digits.
pub const HASH_PATTERN: &str = hisaab_log::schema::HASH_PATTERN;

/// 1970-01-01: the date before every entry's.
pub(crate) fn epoch() -> hisaab_log::Date {
    #[allow(clippy::expect_used)] // A constant calendar date: construction cannot fail.
    hisaab_log::Date::new(1970, 1, 1).expect("1970-01-01 is a calendar date")
}

/// The fewest operators that must contribute a pillar score for the sector's score of that
/// pillar to be shown to a reader who is not `full` (SPEC §13.3), and for a report to publish
/// its mean (§12.12).
pub const SECTOR_CONTRIBUTORS_MIN: usize = 3;

/// Deserialises an optional field that, when present, must hold a value (never `null`).
pub(crate) fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// JSON Schema descriptions, for `#[schemars(schema_with = ...)]`, of the `hisaab-log` types used
/// in bodies and in the state and of what a derive cannot say about a field: that a list is a set,
/// what the keys of a map are.
pub mod schema {
    use std::collections::BTreeMap;

    use schemars::gen::SchemaGenerator;
    use schemars::schema::{ArrayValidation, InstanceType, Schema, SchemaObject};
    use schemars::JsonSchema;

    use super::{
        string_schema, DATE_PATTERN, HASH_PATTERN, PERIOD_PATTERN, PUBLIC_KEY_PATTERN, VKEY_PATTERN,
    };

    /// A SHA-256 hash: 64 lowercase hex digits.
    pub fn hash(_: &mut SchemaGenerator) -> Schema {
        string_schema(Some(HASH_PATTERN), None, None)
    }

    /// An Ed25519 public key: canonical base64 of 32 bytes ([`PUBLIC_KEY_PATTERN`]).
    pub fn public_key(_: &mut SchemaGenerator) -> Schema {
        string_schema(Some(PUBLIC_KEY_PATTERN), None, None)
    }

    /// A date `YYYY-MM-DD` ([`DATE_PATTERN`]).
    pub fn date(_: &mut SchemaGenerator) -> Schema {
        string_schema(Some(DATE_PATTERN), None, None)
    }

    /// A period `YYYY-MM` ([`PERIOD_PATTERN`]).
    pub fn period(_: &mut SchemaGenerator) -> Schema {
        string_schema(Some(PERIOD_PATTERN), None, None)
    }

    /// A verifier key string `<name>+<hex key id>+<base64>` ([`VKEY_PATTERN`]).
    pub fn vkey(_: &mut SchemaGenerator) -> Schema {
        string_schema(Some(VKEY_PATTERN), None, None)
    }

    /// A list of distinct `T` (JSON Schema `uniqueItems`), which a derive cannot say of a `Vec`.
    /// Sizes go beside it, in `#[schemars(length(...))]`.
    pub fn set_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
        SchemaObject {
            instance_type: Some(InstanceType::Array.into()),
            array: Some(Box::new(ArrayValidation {
                items: Some(generator.subschema_for::<T>().into()),
                unique_items: Some(true),
                ..Default::default()
            })),
            ..Default::default()
        }
        .into()
    }

    /// A map whose keys have the form of `K` (JSON Schema `propertyNames`) and whose values are
    /// `V`: the schema of a `BTreeMap<K, V>` says nothing of its keys.
    pub fn keyed_by<K: JsonSchema, V: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = BTreeMap::<String, V>::json_schema(generator).into_object();
        schema.object().property_names = Some(Box::new(K::json_schema(generator)));
        schema.into()
    }

    /// `schema` or `null`: the schema of a state's `Option` field, present and `null` when
    /// absent (SPEC §5).
    pub(crate) fn nullable(schema: Schema) -> Schema {
        use schemars::schema::SubschemaValidation;
        let null: Schema = SchemaObject {
            instance_type: Some(InstanceType::Null.into()),
            ..Default::default()
        }
        .into();
        SchemaObject {
            subschemas: Some(Box::new(SubschemaValidation {
                any_of: Some(vec![schema, null]),
                ..Default::default()
            })),
            ..Default::default()
        }
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_pattern() {
        for ok in ["a", "0", "ciso-alpha", "a-", &"a".repeat(63)] {
            assert!(Slug::try_new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "A", "a_b", "a b", &"a".repeat(64), "é"] {
            assert!(Slug::try_new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn kpi_ids_follow_the_pattern() {
        for ok in ["CR-01", "AB-1", "ABCDEF-1234"] {
            assert!(KpiId::try_new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "C-01",
            "ABCDEFG-1",
            "CR-12345",
            "cr-01",
            "CR01",
            "CR-",
            "CR-0a",
            "CR-01-2",
        ] {
            assert!(KpiId::try_new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn decimals_follow_the_pattern() {
        for ok in ["0", "-0", "95", "97.5", "-3.25", "0.0001", "10.0"] {
            assert!(Decimal::try_new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "-", "01", "1.", ".5", "+1", "1e3", "1.2.3", " 1", "--1", "1,5",
        ] {
            assert!(Decimal::try_new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn texts_and_notes_refuse_control_characters_and_bidi_controls() {
        for refused in [
            "a\u{0}b",
            "\u{1b}[31mred",
            "a\rb",
            "\u{7f}",
            "\u{85}",
            "\u{9b}2J",
            "\u{202e}txt",
            "\u{2066}x\u{2069}",
            "\u{202a}",
        ] {
            let error = Text::try_new(refused).unwrap_err();
            assert!(
                error.reason.contains("control character U+"),
                "{refused:?}: {error}"
            );
            assert!(Note::try_new(refused).is_err(), "{refused:?}");
        }
        for taken in ["minutes:\n1. patch\tnow", "Zoë — ☎ עברית", "\u{200f}mark"] {
            assert!(Text::try_new(taken).is_ok(), "{taken:?}");
            assert!(Note::try_new(taken).is_ok(), "{taken:?}");
        }
    }

    #[test]
    fn texts_count_code_points_not_bytes() {
        assert!(Text::try_new("").is_err());
        assert!(Note::try_new("").is_ok());
        let urdu = "ح".repeat(4096); // 2 bytes each: 8192 bytes but 4096 code points.
        assert!(Text::try_new(&urdu).is_ok());
        assert!(Text::try_new(&format!("{urdu}ح")).is_err());
        assert!(Note::try_new(&format!("{urdu}ح")).is_err());
    }

    #[test]
    fn scores_and_vocabularies() {
        assert!(Score::try_new(0).is_ok());
        assert!(Score::try_new(100).is_ok());
        assert!(Score::try_new(101).is_err());
        assert!(serde_json::from_str::<Score>("50").is_ok());
        assert!(serde_json::from_str::<Score>("50.0").is_err());
        assert!(serde_json::from_str::<Score>("-1").is_err());
        assert_eq!(Pillar::ALL.len(), 6);
        assert_eq!(Role::try_from_str("ciso"), Some(Role::Ciso));
        assert_eq!(
            serde_json::to_string(&Verdict::PartiallyMet).unwrap(),
            "\"partially_met\""
        );
        let mut sorted: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        sorted.sort_unstable();
        let by_ord: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(sorted, by_ord);
    }

    #[test]
    fn origins_are_key_names() {
        assert!(Origin::try_new("pta.gov.pk/hisaab").is_ok());
        assert!(Origin::try_new("a+b").is_err());
        assert!(Origin::try_new("a b").is_err());
        assert!(Origin::try_new("").is_err());
        assert!(Origin::try_new(&"a".repeat(256)).is_err());
    }
}
