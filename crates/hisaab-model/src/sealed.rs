//! Sealed bodies in the replay (SPEC §12): one mechanism for every kind, driven by the table
//! of sealed fields (`hisaab_log::seal::SEALED_FIELDS`).
//!
//! The ledger applies an entry given its statement as the tree holds it and, optionally, the
//! entry's openings (§12.6):
//!
//! - a **plain** body (format 1; no sealed field holds a commitment object) is parsed as it
//!   is; openings for it are refused;
//! - a **sealed** body (format 2) must have every sealed field of its kind as a commitment
//!   object (`check_sealed_form`, rule 1); each opening given must match its commitment
//!   (`open_body`, rule 1: a mismatch is refused like any other bad statement); the opened
//!   fields are put in place and the fields left unopened are parsed as unknown (`None`).
//!
//! With every opening the body is the plain body and every rule of §4.6 runs. Without some,
//! the rules that read an unknown value are not run (§12.4) and the state shows the operator
//! the entry concerns as the public view does ([`crate::view::view_state`]), so that the public
//! replay of sealed entries gives the public state P of §12.8.

use hisaab_log::seal::{
    self, FieldOpenings, SealError, Sealing, Seed, BLINDING_FIELD, COMMITMENT_KEY,
};
use hisaab_log::Statement;
use serde_json::{Map, Value};

use crate::body::Body;

/// Whether `value` is a sealed field's `{"commitment":…}` object (its form is checked by
/// `check_sealed_form`).
pub(crate) fn is_commitment_object(value: &Value) -> bool {
    matches!(value, Value::Object(object) if object.len() == 1 && object.contains_key(COMMITMENT_KEY))
}

/// Whether `field` is a sealed field that `kind` gained in format 2, which a plain body of
/// format 1 lacks: `operator.registered`'s `blinding` (§12.1).
pub(crate) fn new_in_format_2(kind: &str, field: &str) -> bool {
    kind == "operator.registered" && field == BLINDING_FIELD
}

/// Whether the body of a statement of `kind` is in sealed form: some sealed field of the kind
/// holds a commitment object.
pub fn is_sealed_form(kind: &str, body: &Map<String, Value>) -> bool {
    seal::sealed_fields(kind)
        .iter()
        .any(|f| body.get(f.name).is_some_and(is_commitment_object))
}

/// A value for a message: the value, or `sealed` when it is unknown.
pub fn or_sealed<T: std::fmt::Display>(value: Option<&T>) -> String {
    value.map_or_else(|| "sealed".to_owned(), ToString::to_string)
}

/// A body parsed for the replay, with the sealed fields that stayed unopened.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) body: Body,
    pub(crate) unopened: Vec<&'static str>,
}

/// Parses the body of a statement of `kind` on a ledger of format `format`, opening it with
/// `openings` (SPEC §12.4–§12.6). The error is rule 1's detail.
pub(crate) fn parse(
    format: u64,
    kind: &str,
    body: &Map<String, Value>,
    openings: Option<&FieldOpenings>,
    seq: u64,
) -> Result<Parsed, String> {
    let given = openings.filter(|o| !o.is_empty());
    if !is_sealed_form(kind, body) {
        if given.is_some() {
            return Err(format!(
                "openings were given for a {kind} body that holds no commitment; only a \
                 sealed body is opened (SPEC §12.6)"
            ));
        }
        let (body, unopened) = Body::parse_sealable(kind, body).map_err(|e| e.to_string())?;
        return Ok(Parsed { body, unopened });
    }
    if format < 2 {
        let field = seal::sealed_fields(kind)
            .iter()
            .find(|f| body.get(f.name).is_some_and(is_commitment_object))
            .map_or("", |f| f.name);
        return Err(format!(
            "`{field}` of a {kind} body holds a commitment; a format-{format} ledger's bodies \
             are plain, sealed fields are format 2's (SPEC §12)"
        ));
    }
    let fields = seal::sealed_fields(kind);
    let empty = FieldOpenings::new();
    let opened = seal::open_body(kind, fields, body, given.unwrap_or(&empty), Some(seq))
        .map_err(|e| e.to_string())?;
    let (body, unopened) = Body::parse_sealable(kind, &opened.body).map_err(|e| e.to_string())?;
    Ok(Parsed { body, unopened })
}

/// [`parse`] of a body given as its JSON text (an entry's body as its leaf bytes hold it):
/// a plain body given no openings is deserialised once into its kind's type
/// ([`Body::parse_plain_text`]); any other (a sealed field that may hold a commitment, openings
/// given) is read as a JSON object and goes through [`parse`]. `None` when [`parse`] would
/// refuse it or the plain reading cannot tell: the caller then takes [`parse`]'s path, which
/// says why.
pub(crate) fn parse_trusted(
    format: u64,
    kind: &str,
    text: &str,
    openings: Option<&FieldOpenings>,
    seq: u64,
) -> Option<Parsed> {
    let given = openings.filter(|o| !o.is_empty());
    // A commitment object is `{"commitment":…}`; a key written with escapes might spell it
    // too. Either sends the body the long way, as does every body given openings.
    let may_hold_commitment = !seal::sealed_fields(kind).is_empty()
        && (text.contains(COMMITMENT_KEY) || text.contains('\\'));
    if given.is_none() && !may_hold_commitment {
        let body = Body::parse_plain_text(kind, text)?;
        return Some(Parsed {
            body,
            unopened: Vec::new(),
        });
    }
    let body: Map<String, Value> = serde_json::from_str(text).ok()?;
    parse(format, kind, &body, openings, seq).ok()
}

/// Seals the body of `statement` (SPEC §12.4) with `seed`, by the table of its kind's sealed
/// fields: the statement to sign, the sealing to send with its envelope (§12.5) and the
/// openings the ledger keeps (§12.6). A statement of a kind that seals nothing, or of
/// format 1, comes back as it is, with no sealing. The one sealing function of every signer
/// (the command line, the client, the demo, the test fixtures).
///
/// # Errors
/// As [`seal::seal_body`]: a required sealed field absent or `null`, a value outside the
/// canonical-JSON profile.
pub fn seal_statement(
    statement: &Statement,
    seed: &Seed,
) -> Result<(Statement, Option<(Sealing, FieldOpenings)>), SealError> {
    let fields = seal::sealed_fields(&statement.kind);
    if statement.v < 2 || fields.is_empty() {
        return Ok((statement.clone(), None));
    }
    let sealed = seal::seal_body(&statement.kind, fields, &statement.body, seed)?;
    let sealing = Sealing::new(fields, &statement.body, seed.clone());
    let mut out = statement.clone();
    out.body = sealed.body;
    Ok((out, Some((sealing, sealed.openings))))
}

#[cfg(test)]
mod tests {
    use hisaab_log::seal::{seal_body, sealed_fields, Seed};
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("an object"),
        }
    }

    fn submission() -> Map<String, Value> {
        object(
            json!({"operator": "indus", "kpi": "CR-01", "period": "2026-10",
            "value": "97.5", "evidence": [], "note": "n"}),
        )
    }

    fn sealed_submission() -> (Map<String, Value>, FieldOpenings) {
        let kind = "submission.filed";
        let sealed = seal_body(
            kind,
            sealed_fields(kind),
            &submission(),
            &Seed::from_bytes([7; 32]),
        )
        .unwrap();
        (sealed.body, sealed.openings)
    }

    #[test]
    fn a_plain_body_parses_as_before_and_takes_no_openings() {
        let parsed = parse(1, "submission.filed", &submission(), None, 3).unwrap();
        assert!(parsed.unopened.is_empty());
        let Body::SubmissionFiled(body) = parsed.body else {
            unreachable!()
        };
        assert_eq!(body.value.map(|v| v.to_string()), Some("97.5".to_owned()));
        // A required sealed field missing from a plain body is missing, as serde says.
        let mut missing = submission();
        missing.remove("value");
        let error = parse(1, "submission.filed", &missing, None, 3).unwrap_err();
        assert!(error.ends_with("missing field `value`"), "{error}");
        // `null` is refused for a sealed field as for any other.
        let mut null = submission();
        null.insert("note".into(), Value::Null);
        assert!(parse(1, "submission.filed", &null, None, 3).is_err());
        // Openings for a body that holds no commitment are refused.
        let (_, openings) = sealed_submission();
        let error = parse(2, "submission.filed", &submission(), Some(&openings), 3).unwrap_err();
        assert!(error.contains("holds no commitment"), "{error}");
    }

    #[test]
    fn a_sealed_body_is_refused_on_a_format_1_ledger() {
        let (sealed, _) = sealed_submission();
        let error = parse(1, "submission.filed", &sealed, None, 3).unwrap_err();
        assert!(error.contains("format-1"), "{error}");
    }

    #[test]
    fn a_sealed_body_opens_in_full_in_part_or_not_at_all() {
        let (sealed, openings) = sealed_submission();
        let full = parse(2, "submission.filed", &sealed, Some(&openings), 3).unwrap();
        assert!(full.unopened.is_empty());
        let plain = parse(2, "submission.filed", &submission(), None, 3).unwrap();
        assert_eq!(full.body, plain.body);

        let public = parse(2, "submission.filed", &sealed, None, 3).unwrap();
        assert_eq!(public.unopened, vec!["value", "evidence", "note", "ext"]);
        let Body::SubmissionFiled(body) = public.body else {
            unreachable!()
        };
        assert_eq!((body.value, body.evidence, body.note), (None, None, None));
        assert_eq!(body.operator.as_str(), "indus");

        let mut some = openings.clone();
        some.retain(|name, _| name == "value");
        let part = parse(2, "submission.filed", &sealed, Some(&some), 3).unwrap();
        assert_eq!(part.unopened, vec!["evidence", "note", "ext"]);

        // A sealed body with one field in the clear is not of sealed form.
        let mut mixed = sealed.clone();
        mixed.insert("value".into(), json!("97.5"));
        let error = parse(2, "submission.filed", &mixed, None, 3).unwrap_err();
        assert!(error.contains("value"), "{error}");
        // A wrong opening is a mismatch.
        let mut wrong = openings;
        if let Some(opening) = wrong.get_mut("value") {
            opening.value = json!("12");
        }
        let error = parse(2, "submission.filed", &sealed, Some(&wrong), 3).unwrap_err();
        assert!(error.contains("value"), "{error}");
    }
}
