//! The kinds of SPEC §4 and their typed bodies, as one public place to name them.
//!
//! Each body type lives in its kind's module under [`crate::kind`], with the rest of what the
//! kind is; this module re-exports them and holds what all bodies share.
//!
//! Every body refuses unknown fields and `null`s, and checks each field's form as it
//! deserialises ([`crate::value`]); [`Body::try_parse`] then checks what spans several fields
//! (distinct roles, `starts <= ends`, the log key named by the origin, list sizes). Whether the
//! ids a body names exist is not a question of form: [`crate::Ledger::apply`] answers it.
//!
//! Every body may carry a top-level `ext` object, which is signed but not interpreted.

use serde_json::{Map, Value};

pub use crate::kind::action_assigned::ActionAssignedBody;
pub use crate::kind::action_closed::ActionClosedBody;
pub use crate::kind::assignment_withdrawn::AssignmentWithdrawnBody;
pub use crate::kind::challenge_measure_recorded::ChallengeMeasureRecordedBody;
pub use crate::kind::challenge_raised::ChallengeRaisedBody;
pub use crate::kind::challenge_resolved::ChallengeResolvedBody;
pub use crate::kind::commitment_closed::CommitmentClosedBody;
pub use crate::kind::commitment_extended::CommitmentExtendedBody;
pub use crate::kind::commitment_made::CommitmentMadeBody;
pub use crate::kind::delegation_granted::DelegationGrantedBody;
pub use crate::kind::directive_closed::DirectiveClosedBody;
pub use crate::kind::directive_issued::DirectiveIssuedBody;
pub use crate::kind::disclosure_recorded::{
    DisclosedEntry, DisclosureRecordedBody, DISCLOSED_ENTRIES_MAX,
};
pub use crate::kind::dispute_opened::DisputeOpenedBody;
pub use crate::kind::dispute_resolved::DisputeResolvedBody;
pub use crate::kind::escalation_recorded::EscalationRecordedBody;
pub use crate::kind::evaluation_recorded::EvaluationRecordedBody;
pub use crate::kind::field_erased::FieldErasedBody;
pub use crate::kind::kpi_assigned::KpiAssignedBody;
pub use crate::kind::kpi_defined::KpiDefinedBody;
pub use crate::kind::kpi_retired::KpiRetiredBody;
pub use crate::kind::ledger_genesis::{
    GenesisAuthority, GenesisBody, Policy, Strategy, POLICY_DAYS_MAX,
};
pub use crate::kind::meeting_attested::MeetingAttestedBody;
pub use crate::kind::meeting_recorded::{MeetingRecordedBody, ATTENDEES_MAX, DECISIONS_MAX};
pub use crate::kind::meeting_scheduled::{MeetingScheduledBody, AGENDA_MAX};
pub use crate::kind::member_enrolled::MemberEnrolledBody;
pub use crate::kind::member_key_rotated::MemberKeyRotatedBody;
pub use crate::kind::member_revoked::MemberRevokedBody;
pub use crate::kind::member_suspended::{MemberReinstatedBody, MemberSuspendedBody};
pub use crate::kind::operator_left::OperatorLeftBody;
pub use crate::kind::operator_registered::OperatorRegisteredBody;
pub use crate::kind::report_published::{PillarAggregate, ReportPublishedBody};
pub use crate::kind::rubric_set::{Band, RubricSetBody};
pub use crate::kind::stakeholder_registered::StakeholderRegisteredBody;
pub use crate::kind::submission_filed::{Evidence, SubmissionFiledBody, EVIDENCE_MAX};
pub use crate::kind::{Body, Kind};
pub(crate) use crate::value::present;
use crate::value::Role;

/// The top-level `ext` object a body may carry: signed, never interpreted.
pub type Ext = Map<String, Value>;

/// Who may sign a kind (SPEC §4's third column).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Signers {
    /// Only the first authority key, in entry 0.
    Genesis,
    /// A member holding one of these roles.
    Roles(&'static [Role]),
    /// The member named by the body (with their current key), or an authority.
    SelfOrAuthority,
    /// A `ciso` whose operator is the one the statement concerns.
    CisoOfOperator,
    /// Any active member.
    AnyMember,
    /// A member listed among the meeting's attendees.
    Attendee,
    /// The owner of the item the body names (the member, or a ciso of the operator), or a
    /// chair or authority.
    OwnerOrChair,
}

/// A body that does not have the form of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// v1 has no such kind.
    #[error("unknown kind {kind:?}: v1 knows only the kinds of SPEC §4")]
    UnknownKind {
        /// The kind found.
        kind: String,
    },
    /// A field is missing, unknown, null or of the wrong type.
    #[error("the body of a {kind} statement: {reason}")]
    Shape {
        /// The statement's kind.
        kind: Kind,
        /// What serde or the check said.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use hisaab_log::{Hash, PublicKey, SigningKey};
    use serde_json::json;

    use super::*;

    fn parse(kind: &str, body: Value) -> Result<Body, BodyError> {
        Body::try_parse(kind, body.as_object().unwrap())
    }

    fn key_b64(seed: u8) -> String {
        PublicKey::from_signing_key(&SigningKey::from_bytes(&[seed; 32])).to_base64()
    }

    #[test]
    fn every_kind_round_trips_its_name() {
        for kind in Kind::ALL {
            assert_eq!(Kind::try_from_str(kind.as_str()), Some(*kind));
        }
        assert_eq!(Kind::ALL.len(), 36);
        assert!(matches!(
            parse("operator.renamed", json!({})),
            Err(BodyError::UnknownKind { .. })
        ));
    }

    #[test]
    fn bodies_refuse_unknown_fields_nulls_and_bad_values() {
        let ok = json!({"operator": "indus", "name": "Indus"});
        assert!(parse("operator.registered", ok).is_ok());
        let with_ext = json!({"operator": "indus", "name": "Indus", "ext": {"anything": [1, "x"]}});
        assert!(parse("operator.registered", with_ext).is_ok());
        for bad in [
            json!({"operator": "indus"}),
            json!({"operator": "indus", "name": "Indus", "extra": 1}),
            json!({"operator": "Indus", "name": "Indus"}),
            json!({"operator": "indus", "name": ""}),
            json!({"operator": "indus", "name": "Indus", "ext": null}),
            json!({"operator": "indus", "name": "Indus", "ext": "text"}),
        ] {
            assert!(parse("operator.registered", bad.clone()).is_err(), "{bad}");
        }
        let assigned = json!({"kpi": "CR-01", "operator": "indus", "target": "95",
            "due": "2026-12-31", "first_period": "2026-01"});
        assert!(parse("kpi.assigned", assigned.clone()).is_ok());
        let mut with_null = assigned.clone();
        with_null["baseline"] = Value::Null;
        assert!(parse("kpi.assigned", with_null).is_err());
        let mut bad_target = assigned.clone();
        bad_target["target"] = json!("95.");
        assert!(parse("kpi.assigned", bad_target).is_err());
        let mut bad_due = assigned;
        bad_due["due"] = json!("2026-02-30");
        assert!(parse("kpi.assigned", bad_due).is_err());
    }

    #[test]
    fn members_need_distinct_roles_and_cisos_an_operator() {
        let key = key_b64(1);
        let enrol = |roles: Value, operator: Option<&str>| {
            let mut body = json!({"member": "m", "name": "M", "roles": roles, "key": key});
            if let Some(op) = operator {
                body["operator"] = json!(op);
            }
            parse("member.enrolled", body)
        };
        assert!(enrol(json!(["ciso"]), Some("indus")).is_ok());
        assert!(enrol(json!(["evaluator", "witness"]), None).is_ok());
        assert!(enrol(json!([]), None).is_err());
        assert!(enrol(json!(["chair", "chair"]), None).is_err());
        assert!(enrol(json!(["ciso"]), None).is_err());
        assert!(enrol(json!(["king"]), None).is_err());
    }

    #[test]
    fn meetings_and_evidence_respect_list_limits() {
        let digest = Hash::sha256(b"minutes").to_hex();
        let meeting = |attendees: Vec<String>, decisions: usize| {
            parse(
                "meeting.recorded",
                json!({"meeting": "m1", "held_on": "2026-03-01", "attendees": attendees,
                    "minutes_sha256": digest, "decisions": vec!["d"; decisions]}),
            )
        };
        let names = |n: usize| (0..n).map(|i| format!("m{i}")).collect::<Vec<_>>();
        assert!(meeting(names(1), 0).is_ok());
        assert!(meeting(names(256), 64).is_ok());
        assert!(meeting(names(0), 0).is_err());
        assert!(meeting(names(257), 0).is_err());
        assert!(meeting(names(2), 65).is_err());
        assert!(meeting(vec!["a".into(), "a".into()], 0).is_err());

        let evidence = json!({"name": "report.pdf", "sha256": digest, "bytes": 1024});
        let submission = |n: usize| {
            parse(
                "submission.filed",
                json!({"operator": "indus", "kpi": "CR-01", "period": "2026-10", "value": "97.5",
                    "evidence": vec![evidence.clone(); n], "note": ""}),
            )
        };
        assert!(submission(64).is_ok());
        assert!(submission(65).is_err());
        let bad_evidence = json!({"operator": "indus", "kpi": "CR-01", "period": "2026-10",
            "value": "1", "evidence": [{"name": "x", "sha256": digest, "bytes": 1, "url": "u"}],
            "note": ""});
        assert!(parse("submission.filed", bad_evidence).is_err());
    }

    #[test]
    fn genesis_checks_dates_and_that_the_log_key_is_named_by_the_origin() {
        let log_key = PublicKey::from_signing_key(&SigningKey::from_bytes(&[2; 32]));
        let vkey = hisaab_log::note::VerifierKey::new("pta.gov.pk/hisaab", log_key)
            .unwrap()
            .to_vkey();
        let genesis = |origin: &str, starts: &str| {
            parse(
                "ledger.genesis",
                json!({"origin": origin, "title": "T",
                    "strategy": {"name": "S", "starts": starts, "ends": "2028-12-31"},
                    "log_key": vkey, "authority": {"member": "pta", "name": "PTA"},
                    "policy": {"max_future_skew_s": 300, "max_age_s": 86400}}),
            )
        };
        assert!(genesis("pta.gov.pk/hisaab", "2023-01-01").is_ok());
        assert!(genesis("pta.gov.pk/other", "2023-01-01").is_err());
        assert!(genesis("pta.gov.pk/hisaab", "2029-01-01").is_err());
    }

    #[test]
    fn scores_and_integers_are_checked() {
        let h = Hash::sha256(b"s").to_hex();
        let eval = |score: Value| {
            parse(
                "evaluation.recorded",
                json!({"submission": h, "verdict": "met", "score": score, "rationale": "ok"}),
            )
        };
        assert!(eval(json!(100)).is_ok());
        assert!(eval(json!(101)).is_err());
        assert!(eval(json!("50")).is_err());
        assert!(eval(json!(-1)).is_err());
    }
}
