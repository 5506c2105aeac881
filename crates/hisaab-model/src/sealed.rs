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
    self, FieldOpenings, SealError, Sealing, Seed, StateTree, SubState, BLINDING_FIELD,
    COMMITMENT_KEY,
};
use hisaab_log::{Date, Hash, Statement};
use serde_json::{Map, Value};

use crate::body::Body;
use crate::cycle::{ActionOwner, EscalatedItem};
use crate::ledger::Ledger;
use crate::rule::{Rule, Violation};
use crate::value::Slug;

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

/// Whose state an entry with an unopened sealed field leaves unknown.
pub(crate) enum Concern {
    /// One operator's.
    Operator(Slug),
    /// No operator's: a challenge to the whole sector (challenges are not in the state).
    Nothing,
    /// Not known: every operator is shown as the public view shows it.
    Unknown,
}

/// The operator an entry's body concerns, for marking it as not fully known when a sealed
/// field stays unopened: named in the body (`Body::subject`, an operator's registration) or
/// reached through the reference the body makes (an evaluation through its submission, a
/// dispute through its evaluation, a closing or resolution through what it closes). Call it
/// before the body is committed.
pub(crate) fn concerned_operator(ledger: &Ledger, body: &Body) -> Concern {
    let of_submission = |hash| ledger.submissions.get(hash).map(|s| s.operator.clone());
    let found = match body {
        Body::EvaluationRecorded(b) => of_submission(&b.submission),
        Body::DisputeOpened(b) => ledger
            .evaluations
            .get(&b.evaluation)
            .and_then(|e| of_submission(&e.submission)),
        Body::DisputeResolved(b) => ledger.disputes.get(&b.dispute).map(|d| d.operator.clone()),
        Body::CommitmentClosed(b) => ledger
            .commitments
            .get(&b.commitment)
            .map(|c| c.operator.clone()),
        Body::ChallengeRaised(b) if b.operator.is_none() => return Concern::Nothing,
        Body::ChallengeResolved(b) => match ledger.challenges.get(&b.challenge) {
            Some(challenge) if challenge.operator.is_none() => return Concern::Nothing,
            Some(challenge) => challenge.operator.clone(),
            None => None,
        },
        // The task force's own work (an action owned by a member) concerns no operator.
        Body::ActionAssigned(b) => return concern_of_owner(&b.owner),
        Body::ActionClosed(b) => match ledger.cycle.actions.get(&b.action) {
            Some(action) => return concern_of_owner(&action.owner),
            None => None,
        },
        Body::DirectiveIssued(b) => Some(b.operator.clone()),
        Body::DirectiveClosed(b) => ledger
            .cycle
            .directives
            .get(&b.directive)
            .map(|d| d.operator.clone()),
        Body::CommitmentExtended(b) => ledger
            .commitments
            .get(&b.commitment)
            .map(|c| c.operator.clone()),
        Body::EscalationRecorded(b) => match &b.item {
            EscalatedItem::Commitment(id) => ledger.commitments.get(id).map(|c| c.operator.clone()),
            EscalatedItem::Directive(id) => {
                ledger.cycle.directives.get(id).map(|d| d.operator.clone())
            }
            EscalatedItem::Action(id) => match ledger.cycle.actions.get(id) {
                Some(action) => return concern_of_owner(&action.owner),
                None => None,
            },
        },
        other => other.subject().0.cloned(),
    };
    found.map_or(Concern::Unknown, Concern::Operator)
}

/// What an action item concerns: its operator, or nothing when a member owns it.
fn concern_of_owner(owner: &ActionOwner) -> Concern {
    match owner {
        ActionOwner::Operator(operator) => Concern::Operator(operator.clone()),
        ActionOwner::Member(_) => Concern::Nothing,
    }
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

impl Ledger {
    /// The append-time check of a statement's sealing (SPEC §12.5), before the rules run on
    /// the opened body: the openings the ledger keeps for the entry at `seq`, or `None` for a
    /// plain body sent without a sealing. A sealed body needs its sealing, a sealing needs a
    /// sealed body of a format-2 ledger, and every commitment must match the value and salt
    /// the sealing gives; anything else is refused under rule 1 and changes nothing.
    ///
    /// # Errors
    /// A [`Violation`] of rule 1 ([`Rule::Form`]) naming what is wrong.
    pub fn check_sealing(
        &self,
        seq: u64,
        statement: &Statement,
        sealing: Option<&Sealing>,
    ) -> Result<Option<FieldOpenings>, Violation> {
        let kind = statement.kind.as_str();
        let form = |detail: String| Violation::new(seq, Rule::Form, detail);
        let sealed = is_sealed_form(kind, &statement.body);
        // The ledger's format: the genesis names it (SPEC §10), before it the statement's own.
        let format = if seq == 0 { statement.v } else { self.format() };
        match sealing {
            None if sealed => Err(form(format!(
                "the {kind} body is in sealed form but no sealing was sent with it; a sealed \
                 statement is posted as {{\"envelope\":…,\"sealing\":…}} (SPEC §12.5)"
            ))),
            None => Ok(None),
            Some(_) if format < 2 => Err(form(format!(
                "a sealing was sent to a format-{format} ledger, whose bodies are plain; \
                 sealed fields are format 2's (SPEC §12)"
            ))),
            Some(_) if seal::sealed_fields(kind).is_empty() => Err(form(format!(
                "a sealing was sent with a {kind} statement, a kind that seals no field \
                 (SPEC §12.1); post the envelope alone"
            ))),
            Some(_) if !sealed => Err(form(format!(
                "a sealing was sent with a {kind} body in the clear; the signer signs the \
                 sealed form of the body (SPEC §12.4, §12.5)"
            ))),
            Some(sealing) => {
                let checked =
                    seal::check_sealing(kind, seal::sealed_fields(kind), &statement.body, sealing)
                        .map_err(|e| form(format!("the sealing does not open the body: {e}")))?;
                Ok(Some(checked.openings))
            }
        }
    }
}

impl Ledger {
    /// The full-state digest of a format-2 ledger (SPEC §12.8): the root of the tree over the
    /// public state P (the state as the public view shows it, without `digest`) and each
    /// registered operator's sub-state with its blinding. `None` for a format-1 ledger (whose
    /// digest is §5.7's, [`crate::State::digest`]), for a replay that lacks some openings,
    /// and while an operator has no opened blinding (a registration written before sealing).
    pub fn full_state_digest(&self, at: Option<Date>) -> Option<Hash> {
        if !self.is_v2() || self.is_partial() {
            return None;
        }
        let state = self.state(at);
        let public = crate::view::view_state(&state, &crate::view::Reader::Public);
        let mut parts = Vec::with_capacity(state.operators.len());
        for (id, operator) in &state.operators {
            let blinding = self.operators.get(id)?.blinding.as_ref()?;
            parts.push(SubState {
                operator: id.as_str(),
                blinding,
                state: operator,
            });
        }
        let tree = StateTree::build(&PublicPart(&public), &parts).ok()?;
        Some(tree.digest())
    }
}

/// A state serialised without its `digest` member: P of SPEC §12.8.
struct PublicPart<'a>(&'a crate::State);

impl serde::Serialize for PublicPart<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut value = serde_json::to_value(self.0).map_err(serde::ser::Error::custom)?;
        if let Some(object) = value.as_object_mut() {
            object.remove("digest");
        }
        value.serialize(serializer)
    }
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
