//! One module per kind of statement (SPEC §4), and the registry that lists them.
//!
//! Each module holds everything about its kind: the body type, the checks that span several
//! fields (rule 1), who may sign it (rule 2: its [`Signers`], any check beyond roles, and
//! whether the conflict-of-interest rule applies), its references and lifecycle (rule 5), and
//! its effect on the replay state ([`crate::Ledger`]). They implement the crate-private trait
//! `KindRules`; the ledger runs the checks common to every kind (chain, signer key, statement
//! id, ledger id, time) and dispatches the rest through the trait.
//!
//! The `registry!` invocation below is the one list of kinds: it defines [`Kind`] (with
//! [`Kind::ALL`] and each kind's name) and [`Body`], and routes each [`Body`] variant to its
//! module. To add a kind, write `kind/<kind>.rs` with its body type and `impl KindRules`,
//! and add one line to the registry (see ARCHITECTURE.md, "How to add a kind").

use std::fmt;

use hisaab_log::{Hash, PublicKey, SealedEntry};
use serde_json::{Map, Value};

use crate::body::{BodyError, Signers};
use crate::ledger::{Ledger, Signer};
use crate::rule::{History, Violation};
use crate::value::{KpiId, Slug};

pub mod action_assigned;
pub mod action_closed;
pub mod assignment_withdrawn;
pub mod challenge_measure_recorded;
pub mod challenge_raised;
pub mod challenge_resolved;
pub mod commitment_closed;
pub mod commitment_extended;
pub mod commitment_made;
pub mod delegation_granted;
pub mod directive_closed;
pub mod directive_issued;
pub mod disclosure_recorded;
pub mod dispute_opened;
pub mod dispute_resolved;
pub mod escalation_recorded;
pub mod evaluation_recorded;
pub mod field_erased;
pub mod kpi_assigned;
pub mod kpi_defined;
pub mod kpi_retired;
pub mod ledger_genesis;
pub mod meeting_attested;
pub mod meeting_recorded;
pub mod meeting_scheduled;
pub mod member_enrolled;
pub mod member_key_rotated;
pub mod member_revoked;
pub mod member_suspended;
pub mod operator_left;
pub mod operator_registered;
pub mod report_published;
pub mod rubric_set;
pub mod stakeholder_registered;
pub mod submission_filed;

/// What a kind of statement is and does: implemented by each kind's body type.
///
/// The ledger calls these in SPEC §7's order of precedence, after the checks common to every
/// kind: [`KindRules::check_form`] while parsing (rule 1), [`KindRules::check_permission`]
/// and [`KindRules::concerns`] once the signer's key is known (rule 2),
/// [`KindRules::check_references`] last (rule 5), and [`KindRules::commit`] once every check
/// has passed.
pub(crate) trait KindRules: Sized {
    /// The kind.
    const KIND: Kind;
    /// Who may sign it (SPEC §4's table).
    const SIGNERS: Signers;
    /// Whether the conflict-of-interest rule applies (SPEC §4): then [`KindRules::concerns`]
    /// names the operator concerned.
    const CONFLICT_OF_INTEREST: bool = false;
    /// The first format whose ledgers know this kind (SPEC §11): 1, or 2 for the kinds of
    /// the task force's cycle. A ledger of an older format refuses it under rule 1.
    const SINCE: u64 = 1;

    /// Rule 1 for the fields only a ledger of a later format may use: `Err` with the reason
    /// when this body uses one on a ledger of format `format`.
    fn check_format(&self, _format: u64) -> Result<(), String> {
        Ok(())
    }

    /// The checks of form that span several fields (each field checked its own form as it
    /// was deserialised).
    fn check_form(&self) -> Result<(), String> {
        Ok(())
    }

    /// The operator and the KPI the body names, where it names them itself.
    fn subject(&self) -> (Option<&Slug>, Option<&KpiId>) {
        (None, None)
    }

    /// Rule 2 beyond the signer's key: may this member sign this body? By default the
    /// [`KindRules::SIGNERS`] of the kind decide by role; kinds whose signer is decided by the
    /// body (the member themself, a ciso of the operator, an attendee) override it.
    fn check_permission(
        &self,
        ledger: &Ledger,
        seq: u64,
        signer: &Signer<'_>,
    ) -> Result<(), Violation> {
        ledger.check_roles(seq, Self::KIND, Self::SIGNERS, signer)
    }

    /// For the conflict-of-interest rule: the operator the body concerns (if it can be found)
    /// and what the body is, in words. `None` for kinds the rule does not apply to.
    fn concerns<'a>(&'a self, _ledger: &'a Ledger) -> Option<(Option<&'a Slug>, &'static str)> {
        None
    }

    /// Rule 5: the ids the body names exist and their lifecycles allow it.
    fn check_references(
        &self,
        _ledger: &Ledger,
        _seq: u64,
        _entry: &SealedEntry,
        _signer: &Signer<'_>,
        _history: &dyn History,
    ) -> Result<(), Violation> {
        Ok(())
    }

    /// Folds the accepted body into the replay state. Lookups that the checks guarantee are
    /// written as `if let`, so a broken invariant loses an update rather than panicking.
    fn commit(self, ledger: &mut Ledger, seq: u64, hash: Hash, signer: PublicKey);
}

/// Defines [`Kind`] and [`Body`] from the list of kinds, and routes each [`Body`] variant to
/// its module's [`KindRules`].
macro_rules! registry {
    ($($kind:ident, $variant:ident, $name:literal, $body:ty;)*) => {
        /// The kinds of statement of SPEC §4, a closed set in v1.
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
        pub enum Kind {
            $(
                #[doc = concat!("`", $name, "`")]
                $kind,
            )*
        }

        impl Kind {
            /// Every kind, in the order of SPEC §4's table.
            pub const ALL: &'static [Kind] = &[$(Kind::$kind),*];

            /// The kind's name as statements carry it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Kind::$kind => $name,)*
                }
            }

            /// Who may sign this kind, by role (SPEC §4's table). Kinds whose signer is
            /// decided by the body (the ciso of an operator, the member itself, an attendee,
            /// anyone) say so.
            pub fn signers(self) -> Signers {
                match self {
                    $(Kind::$kind => <$body as KindRules>::SIGNERS,)*
                }
            }

            /// The first format whose ledgers know this kind (1 or 2, SPEC §11).
            pub fn since(self) -> u64 {
                match self {
                    $(Kind::$kind => <$body as KindRules>::SINCE,)*
                }
            }

            /// Whether the conflict-of-interest rule applies to this kind (SPEC §4).
            pub fn has_conflict_of_interest(self) -> bool {
                match self {
                    $(Kind::$kind => <$body as KindRules>::CONFLICT_OF_INTEREST,)*
                }
            }
        }

        /// A statement's body, typed by its kind.
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub enum Body {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant($body),
            )*
        }

        impl Body {
            /// The body's kind.
            pub fn kind(&self) -> Kind {
                match self {
                    $(Body::$variant(_) => Kind::$kind,)*
                }
            }

            /// Deserialises `value` as the body of `kind`, without the checks that span
            /// several fields.
            fn deserialize(kind: Kind, value: Value) -> Result<Body, String> {
                fn de<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, String> {
                    serde_json::from_value(value).map_err(|e| e.to_string())
                }
                match kind {
                    $(Kind::$kind => de(value).map(Body::$variant),)*
                }
            }

            /// [`Body::deserialize`] from the body's JSON text, in one pass; `None` on any
            /// error (the caller then takes the path that says what it is).
            fn deserialize_text(kind: Kind, text: &str) -> Option<Body> {
                fn de<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
                    serde_json::from_str(text).ok()
                }
                match kind {
                    $(Kind::$kind => de(text).map(Body::$variant),)*
                }
            }

            /// The operator and the KPI the body names, where its kind names them itself:
            /// `(operator, KPI)`. Kinds that reach them only through a reference (an
            /// evaluation names a submission) answer `(None, None)`; the ledger resolves
            /// those.
            pub fn subject(&self) -> (Option<&Slug>, Option<&KpiId>) {
                match self {
                    $(Body::$variant(b) => b.subject(),)*
                }
            }

            /// The body as the JSON object a statement carries: what a client signs after
            /// building a typed body (absent optional fields are left out, as the parser
            /// requires).
            ///
            /// # Errors
            /// A [`serde_json::Error`] if a field does not serialise (every field of the
            /// body types does).
            pub fn to_object(&self) -> Result<Map<String, Value>, serde_json::Error> {
                let value = match self {
                    $(Body::$variant(b) => serde_json::to_value(b)?,)*
                };
                match value {
                    Value::Object(map) => Ok(map),
                    _ => Err(serde::ser::Error::custom("a body serialises as a JSON object")),
                }
            }

            pub(crate) fn check_form(&self) -> Result<(), String> {
                match self {
                    $(Body::$variant(b) => b.check_form(),)*
                }
            }

            pub(crate) fn check_format(&self, format: u64) -> Result<(), String> {
                match self {
                    $(Body::$variant(b) => b.check_format(format),)*
                }
            }

            pub(crate) fn check_permission(
                &self,
                ledger: &Ledger,
                seq: u64,
                signer: &Signer<'_>,
            ) -> Result<(), Violation> {
                match self {
                    $(Body::$variant(b) => b.check_permission(ledger, seq, signer),)*
                }
            }

            pub(crate) fn concerns<'a>(
                &'a self,
                ledger: &'a Ledger,
            ) -> Option<(Option<&'a Slug>, &'static str)> {
                match self {
                    $(Body::$variant(b) => b.concerns(ledger),)*
                }
            }

            pub(crate) fn check_references(
                &self,
                ledger: &Ledger,
                seq: u64,
                entry: &SealedEntry,
                signer: &Signer<'_>,
                history: &dyn History,
            ) -> Result<(), Violation> {
                match self {
                    $(
                        Body::$variant(b) => {
                            b.check_references(ledger, seq, entry, signer, history)
                        }
                    )*
                }
            }

            pub(crate) fn commit(
                self,
                ledger: &mut Ledger,
                seq: u64,
                hash: Hash,
                signer: PublicKey,
            ) {
                match self {
                    $(Body::$variant(b) => b.commit(ledger, seq, hash, signer),)*
                }
            }
        }
    };
}

// The registry: one line per kind, in the order of SPEC §4's table and then §11.7–§11.12's
// (which is `Kind::ALL`'s).
// Kind variant, Body variant, name, body type.
registry! {
    LedgerGenesis, Genesis, "ledger.genesis", ledger_genesis::GenesisBody;
    OperatorRegistered, OperatorRegistered, "operator.registered",
        operator_registered::OperatorRegisteredBody;
    MemberEnrolled, MemberEnrolled, "member.enrolled", member_enrolled::MemberEnrolledBody;
    MemberKeyRotated, MemberKeyRotated, "member.key_rotated",
        member_key_rotated::MemberKeyRotatedBody;
    MemberRevoked, MemberRevoked, "member.revoked", member_revoked::MemberRevokedBody;
    KpiDefined, KpiDefined, "kpi.defined", kpi_defined::KpiDefinedBody;
    KpiAssigned, KpiAssigned, "kpi.assigned", kpi_assigned::KpiAssignedBody;
    SubmissionFiled, SubmissionFiled, "submission.filed", submission_filed::SubmissionFiledBody;
    EvaluationRecorded, EvaluationRecorded, "evaluation.recorded",
        evaluation_recorded::EvaluationRecordedBody;
    CommitmentMade, CommitmentMade, "commitment.made", commitment_made::CommitmentMadeBody;
    CommitmentClosed, CommitmentClosed, "commitment.closed",
        commitment_closed::CommitmentClosedBody;
    ChallengeRaised, ChallengeRaised, "challenge.raised", challenge_raised::ChallengeRaisedBody;
    ChallengeResolved, ChallengeResolved, "challenge.resolved",
        challenge_resolved::ChallengeResolvedBody;
    MeetingRecorded, MeetingRecorded, "meeting.recorded", meeting_recorded::MeetingRecordedBody;
    MeetingAttested, MeetingAttested, "meeting.attested", meeting_attested::MeetingAttestedBody;
    DisputeOpened, DisputeOpened, "dispute.opened", dispute_opened::DisputeOpenedBody;
    DisputeResolved, DisputeResolved, "dispute.resolved", dispute_resolved::DisputeResolvedBody;
    MeetingScheduled, MeetingScheduled, "meeting.scheduled",
        meeting_scheduled::MeetingScheduledBody;
    ActionAssigned, ActionAssigned, "action.assigned", action_assigned::ActionAssignedBody;
    ActionClosed, ActionClosed, "action.closed", action_closed::ActionClosedBody;
    DirectiveIssued, DirectiveIssued, "directive.issued", directive_issued::DirectiveIssuedBody;
    DirectiveClosed, DirectiveClosed, "directive.closed", directive_closed::DirectiveClosedBody;
    CommitmentExtended, CommitmentExtended, "commitment.extended",
        commitment_extended::CommitmentExtendedBody;
    EscalationRecorded, EscalationRecorded, "escalation.recorded",
        escalation_recorded::EscalationRecordedBody;
    RubricSet, RubricSet, "rubric.set", rubric_set::RubricSetBody;
    KpiRetired, KpiRetired, "kpi.retired", kpi_retired::KpiRetiredBody;
    DelegationGranted, DelegationGranted, "delegation.granted",
        delegation_granted::DelegationGrantedBody;
    MemberSuspended, MemberSuspended, "member.suspended", member_suspended::MemberSuspendedBody;
    MemberReinstated, MemberReinstated, "member.reinstated",
        member_suspended::MemberReinstatedBody;
    AssignmentWithdrawn, AssignmentWithdrawn, "assignment.withdrawn",
        assignment_withdrawn::AssignmentWithdrawnBody;
    OperatorLeft, OperatorLeft, "operator.left", operator_left::OperatorLeftBody;
    StakeholderRegistered, StakeholderRegistered, "stakeholder.registered",
        stakeholder_registered::StakeholderRegisteredBody;
    ChallengeMeasureRecorded, ChallengeMeasureRecorded, "challenge.measure_recorded",
        challenge_measure_recorded::ChallengeMeasureRecordedBody;
    DisclosureRecorded, DisclosureRecorded, "disclosure.recorded",
        disclosure_recorded::DisclosureRecordedBody;
    FieldErased, FieldErased, "field.erased", field_erased::FieldErasedBody;
    ReportPublished, ReportPublished, "report.published",
        report_published::ReportPublishedBody;
}

impl Kind {
    /// The kind with this name, if v1 knows it.
    pub fn try_from_str(text: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Body {
    /// Parses and checks the body of a statement of kind `kind` (SPEC §4 rule 1, for the body).
    ///
    /// # Errors
    /// [`BodyError::UnknownKind`] for a kind v1 does not know; [`BodyError::Shape`] for a body
    /// with a missing, unknown, `null` or ill-formed field.
    ///
    /// The body may be plain, opened or sealed (SPEC §12.4): a sealed field of the kind
    /// (`hisaab_log::seal::SEALED_FIELDS`) that still holds its `{"commitment":…}` object is
    /// parsed as unknown (`None`); one that holds a value is parsed as any field, `null`
    /// refused. A required sealed field that is neither is missing, as serde says of any
    /// required field. Whether a ledger of a given format accepts a sealed field in either
    /// form, and whether its commitments match, is the ledger's business (`sealed.rs`).
    pub fn try_parse(kind: &str, body: &Map<String, Value>) -> Result<Body, BodyError> {
        Ok(Body::parse_sealable(kind, body)?.0)
    }

    /// [`Body::try_parse`], with the sealed fields that were parsed as unknown (still
    /// sealed), in the kind's order.
    pub(crate) fn parse_sealable(
        kind: &str,
        body: &Map<String, Value>,
    ) -> Result<(Body, Vec<&'static str>), BodyError> {
        let kind = Kind::try_from_str(kind).ok_or_else(|| BodyError::UnknownKind {
            kind: kind.chars().take(80).collect(),
        })?;
        let shape = |reason: String| BodyError::Shape { kind, reason };
        let fields = hisaab_log::seal::sealed_fields(kind.as_str());
        let mut unopened = Vec::new();
        let mut stripped: Option<Map<String, Value>> = None;
        for field in fields {
            match body.get(field.name) {
                Some(Value::Null) => {
                    return Err(shape(format!(
                        "`{}` is null; an absent field is left out, never null",
                        field.name
                    )))
                }
                Some(value) if crate::sealed::is_commitment_object(value) => {
                    stripped
                        .get_or_insert_with(|| body.clone())
                        .remove(field.name);
                    unopened.push(field.name);
                }
                _ => {}
            }
        }
        let object = stripped.unwrap_or_else(|| body.clone());
        let parsed = Body::deserialize(kind, Value::Object(object)).map_err(shape)?;
        if let Some(missing) = fields.iter().find(|f| {
            !f.optional
                && !body.contains_key(f.name)
                && !crate::sealed::new_in_format_2(kind.as_str(), f.name)
        }) {
            return Err(shape(format!("missing field `{}`", missing.name)));
        }
        parsed.check_form().map_err(shape)?;
        Ok((parsed, unopened))
    }
}

impl Body {
    /// [`Body::parse_sealable`] of a plain body given as its JSON text (an entry's body as the
    /// leaf bytes hold it), deserialised once into the kind's type: the same body when
    /// [`Body::parse_sealable`] would find every sealed field of the kind in the clear (none
    /// `null`, the required ones present), which this checks. `None` when it cannot say so
    /// (a body not of this kind's form, a sealed field held as anything but a plain value):
    /// the caller then parses the body as a JSON object and takes
    /// [`Body::parse_sealable`]'s path, which says what is wrong.
    ///
    /// The caller makes sure no sealed field holds a `{"commitment":…}` object (the one value
    /// [`Body::parse_sealable`] reads as unknown rather than as the field's value).
    pub(crate) fn parse_plain_text(kind: &str, text: &str) -> Option<Body> {
        let kind = Kind::try_from_str(kind)?;
        let fields = hisaab_log::seal::sealed_fields(kind.as_str());
        if !fields.is_empty() {
            let mut present = 0u64;
            let mut null = false;
            top_level_fields(text, |key, first| {
                if let Some(i) = fields.iter().position(|f| f.name == key) {
                    null |= first == b'n' || i >= 64;
                    present |= 1 << (i % 64);
                }
            })?;
            let missing = fields.iter().enumerate().any(|(i, f)| {
                !f.optional
                    && present & (1 << i) == 0
                    && !crate::sealed::new_in_format_2(kind.as_str(), f.name)
            });
            if null || missing {
                return None;
            }
        }
        let parsed = Body::deserialize_text(kind, text)?;
        parsed.check_form().ok()?;
        Some(parsed)
    }
}

/// Calls `each` with every top-level key of the JSON object `text` and the first byte of its
/// value (`n` for `null`), in order. `None` when `text` does not open with an object or a key
/// holds an escape (which this does not decode). Only the structure is followed: whether the
/// text is JSON is the deserialiser's to say.
fn top_level_fields(text: &str, mut each: impl FnMut(&str, u8)) -> Option<()> {
    let b = text.as_bytes();
    let skip_space = |mut i: usize| {
        while b
            .get(i)
            .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        {
            i += 1;
        }
        i
    };
    let mut i = skip_space(0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut depth = 1u32;
    let mut want_key = true;
    while depth > 0 {
        match *b.get(i)? {
            b'"' => {
                let start = i + 1;
                let mut end = start;
                let mut escaped = false;
                loop {
                    match *b.get(end)? {
                        b'"' => break,
                        b'\\' => {
                            escaped = true;
                            end += 2;
                        }
                        _ => end += 1,
                    }
                }
                i = end + 1;
                if depth == 1 && want_key {
                    if escaped {
                        return None;
                    }
                    i = skip_space(i);
                    if b.get(i) != Some(&b':') {
                        return None;
                    }
                    i = skip_space(i + 1);
                    each(text.get(start..end)?, *b.get(i)?);
                    want_key = false;
                }
            }
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                depth -= 1;
                i += 1;
            }
            b',' => {
                want_key |= depth == 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(kind: &str, body: Value) -> Body {
        Body::try_parse(kind, body.as_object().unwrap()).unwrap()
    }

    #[test]
    fn top_level_fields_are_the_objects_own_keys() {
        let fields = |text: &str| {
            let mut found = Vec::new();
            top_level_fields(text, |key, first| {
                found.push((key.to_owned(), first as char))
            })
            .map(|()| found)
        };
        let text = r#"{"a":{"b":1,"c":[2,{"d":null}]},"e":"x,\"f\":1","g" : null,"h":[]}"#;
        assert_eq!(
            fields(text),
            Some(vec![
                ("a".into(), '{'),
                ("e".into(), '"'),
                ("g".into(), 'n'),
                ("h".into(), '['),
            ])
        );
        assert_eq!(fields("{}"), Some(vec![]));
        assert_eq!(fields(r#"{"\u0061":1}"#), None);
        assert_eq!(fields("[1]"), None);
        assert_eq!(fields(r#"{"a":"#), None);
    }

    #[test]
    fn the_registry_lists_each_kind_once_with_its_body() {
        let mut names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Kind::ALL.len());
        let body = parse("meeting.attested", json!({"meeting": "m-1"}));
        assert_eq!(body.kind(), Kind::MeetingAttested);
        assert_eq!(Kind::MeetingAttested.signers(), Signers::Attendee);
        assert!(Kind::DisputeResolved.has_conflict_of_interest());
        assert!(!Kind::DisputeOpened.has_conflict_of_interest());
    }

    #[test]
    fn subject_is_the_operator_and_kpi_a_body_names() {
        let submission = parse(
            "submission.filed",
            json!({"operator": "indus", "kpi": "CR-01", "period": "2026-10", "value": "97.5",
                "evidence": [], "note": ""}),
        );
        let (operator, kpi) = submission.subject();
        assert_eq!(operator.map(Slug::as_str), Some("indus"));
        assert_eq!(kpi.map(KpiId::as_str), Some("CR-01"));

        let challenge = parse(
            "challenge.raised",
            json!({"challenge": "c-1", "pillar": "legal", "kpi": "LG-01", "description": "d"}),
        );
        let (operator, kpi) = challenge.subject();
        assert_eq!(operator, None);
        assert_eq!(kpi.map(KpiId::as_str), Some("LG-01"));

        // An evaluation names its operator and KPI only through the submission it judges.
        let evaluation = parse(
            "evaluation.recorded",
            json!({"submission": Hash::sha256(b"s"), "verdict": "met", "score": 90,
                "rationale": "r"}),
        );
        assert_eq!(evaluation.subject(), (None, None));
    }
}
