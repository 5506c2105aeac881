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
    self, Blinding, FieldOpenings, SealError, Sealing, Seed, StateTree, SubState, SubStateProof,
    BLINDING_FIELD, COMMITMENT_KEY,
};
use hisaab_log::{Date, Hash, Statement};
use serde_json::{Map, Value};

use crate::body::Body;
use crate::cycle::{ActionOwner, EscalatedItem};
use crate::ledger::Ledger;
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
    /// The full-state digest of a format-2 ledger (SPEC §12.8): the root of the tree over the
    /// public state P (the state as the public view shows it, without `digest`) and each
    /// registered operator's sub-state with its blinding. `None` for a format-1 ledger (whose
    /// digest is §5.7's, [`crate::State::digest`]), for a replay that lacks some openings,
    /// and while an operator has no opened blinding (a registration written before sealing).
    pub fn full_state_digest(&self, at: Option<Date>) -> Option<Hash> {
        self.full_state_tree(at).ok().map(|tree| tree.digest())
    }

    /// The full-state digest tree of a format-2 ledger with every opening (SPEC §12.8), or
    /// why it is not defined.
    ///
    /// # Errors
    /// A sentence: a format-1 ledger, a replay that lacks some openings, a registered
    /// operator without a blinding.
    pub fn full_state_tree(&self, at: Option<Date>) -> Result<StateTree, String> {
        if !self.is_v2() {
            return Err(format!(
                "a format-{} ledger has no full-state digest tree; its digest is SPEC §5.7's",
                self.format()
            ));
        }
        if self.is_partial() {
            return Err(
                "some sealed fields were not opened: only the full state (every \
                        opening) has a full-state digest (SPEC §12.8)"
                    .to_owned(),
            );
        }
        let state = self.state(at);
        state_tree(&state, |id| {
            self.operators.get(id).and_then(|o| o.blinding.as_ref())
        })
    }

    /// The digest a `dispute.resolved` names for the state this ledger has reached, with the
    /// default `at` (SPEC §4 rule 5): §5.7's digest on a format-1 ledger, the full-state
    /// digest (§12.8) on a format-2 one.
    ///
    /// # Errors
    /// As [`Ledger::full_state_tree`] on a format-2 ledger whose full-state digest is not
    /// defined.
    pub fn resolution_digest(&self) -> Result<Hash, String> {
        if self.is_v2() {
            self.full_state_tree(None).map(|tree| tree.digest())
        } else {
            Ok(self.state(None).digest())
        }
    }

    /// The opened blinding of `operator`'s registration (SPEC §12.8), if it was opened.
    pub fn blinding(&self, operator: &Slug) -> Option<&Blinding> {
        self.operators.get(operator)?.blinding.as_ref()
    }
}

/// The full-state digest tree (SPEC §12.8) of a full state `state` of format 2, each
/// registered operator blinded with `blinding(id)`.
///
/// # Errors
/// A sentence naming the first operator without a blinding.
pub fn state_tree<'a>(
    state: &crate::State,
    blinding: impl Fn(&Slug) -> Option<&'a Blinding>,
) -> Result<StateTree, String> {
    let public = crate::view::view_state(state, &crate::view::Reader::Public);
    let mut parts = Vec::with_capacity(state.operators.len());
    for (id, operator) in &state.operators {
        let blinding = blinding(id).ok_or_else(|| {
            format!(
                "operator `{id}` has no opened `blinding` (SPEC §12.1): the full-state digest \
                 is not defined without every operator's"
            )
        })?;
        parts.push(SubState {
            operator: id.as_str(),
            blinding,
            state: operator,
        });
    }
    StateTree::build(&PublicPart(&public), &parts).map_err(|e| e.to_string())
}

/// Checks `proof` (SPEC §12.8): that `operator`'s sub-state in `state` (replayed with that
/// operator's openings, or more), blinded with `blinding`, is a leaf of `digest` at the
/// index and size the registry of `state` gives. `state` need not be the full state: only
/// `operators.<operator>` is read, and the list of registered operators (public).
///
/// # Errors
/// A sentence: the operator is not in `state`, or the proof does not hold
/// ([`hisaab_log::seal::SubStateProof::verify_operator`]).
pub fn check_sub_state(
    state: &crate::State,
    operator: &Slug,
    blinding: &Blinding,
    proof: &SubStateProof,
    digest: &Hash,
) -> Result<(), String> {
    let own = state.operators.get(operator).ok_or_else(|| {
        format!("operator `{operator}` is not registered in the state the digest is of")
    })?;
    let registered: Vec<&str> = state.operators.keys().map(Slug::as_str).collect();
    proof
        .verify_operator(operator.as_str(), blinding, own, &registered, digest)
        .map_err(|e| e.to_string())
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
