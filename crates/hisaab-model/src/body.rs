//! The kinds of SPEC §4 and their typed bodies.
//!
//! Every body refuses unknown fields and `null`s, and checks each field's form as it
//! deserialises ([`crate::value`]); [`Body::try_parse`] then checks what spans several fields
//! (distinct roles, `starts <= ends`, the log key named by the origin, list sizes). Whether the
//! ids a body names exist is not a question of form: [`crate::Ledger::apply`] answers it.
//!
//! Every body may carry a top-level `ext` object, which is signed but not interpreted.

use std::collections::BTreeSet;
use std::fmt;

use hisaab_log::jcs::INTEGER_MAX;
use hisaab_log::{Date, Hash, Period, PublicKey};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::value::Cadence;
use crate::value::{
    schema, CommitmentOutcome, Decimal, Direction, DisputeOutcome, KpiId, Note, Origin, Pillar,
    Role, Score, Slug, Text, Verdict,
};

/// The greatest number of attendees of a meeting.
pub const ATTENDEES_MAX: usize = 256;
/// The greatest number of decisions of a meeting.
pub const DECISIONS_MAX: usize = 64;
/// The greatest number of evidence items of a submission.
pub const EVIDENCE_MAX: usize = 64;

/// The top-level `ext` object a body may carry: signed, never interpreted.
pub type Ext = Map<String, Value>;

/// Deserialises an optional field that, when present, must hold a value (never `null`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// The kinds of statement of SPEC §4, a closed set in v1.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Kind {
    /// `ledger.genesis`
    LedgerGenesis,
    /// `operator.registered`
    OperatorRegistered,
    /// `member.enrolled`
    MemberEnrolled,
    /// `member.key_rotated`
    MemberKeyRotated,
    /// `member.revoked`
    MemberRevoked,
    /// `kpi.defined`
    KpiDefined,
    /// `kpi.assigned`
    KpiAssigned,
    /// `submission.filed`
    SubmissionFiled,
    /// `evaluation.recorded`
    EvaluationRecorded,
    /// `commitment.made`
    CommitmentMade,
    /// `commitment.closed`
    CommitmentClosed,
    /// `challenge.raised`
    ChallengeRaised,
    /// `challenge.resolved`
    ChallengeResolved,
    /// `meeting.recorded`
    MeetingRecorded,
    /// `meeting.attested`
    MeetingAttested,
    /// `dispute.opened`
    DisputeOpened,
    /// `dispute.resolved`
    DisputeResolved,
}

impl Kind {
    /// Every kind, in the order of SPEC §4's table.
    pub const ALL: &'static [Kind] = &[
        Kind::LedgerGenesis,
        Kind::OperatorRegistered,
        Kind::MemberEnrolled,
        Kind::MemberKeyRotated,
        Kind::MemberRevoked,
        Kind::KpiDefined,
        Kind::KpiAssigned,
        Kind::SubmissionFiled,
        Kind::EvaluationRecorded,
        Kind::CommitmentMade,
        Kind::CommitmentClosed,
        Kind::ChallengeRaised,
        Kind::ChallengeResolved,
        Kind::MeetingRecorded,
        Kind::MeetingAttested,
        Kind::DisputeOpened,
        Kind::DisputeResolved,
    ];

    /// The kind's name as statements carry it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::LedgerGenesis => "ledger.genesis",
            Kind::OperatorRegistered => "operator.registered",
            Kind::MemberEnrolled => "member.enrolled",
            Kind::MemberKeyRotated => "member.key_rotated",
            Kind::MemberRevoked => "member.revoked",
            Kind::KpiDefined => "kpi.defined",
            Kind::KpiAssigned => "kpi.assigned",
            Kind::SubmissionFiled => "submission.filed",
            Kind::EvaluationRecorded => "evaluation.recorded",
            Kind::CommitmentMade => "commitment.made",
            Kind::CommitmentClosed => "commitment.closed",
            Kind::ChallengeRaised => "challenge.raised",
            Kind::ChallengeResolved => "challenge.resolved",
            Kind::MeetingRecorded => "meeting.recorded",
            Kind::MeetingAttested => "meeting.attested",
            Kind::DisputeOpened => "dispute.opened",
            Kind::DisputeResolved => "dispute.resolved",
        }
    }

    /// The kind with this name, if v1 knows it.
    pub fn try_from_str(text: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.as_str() == text)
    }

    /// Who may sign this kind, by role (SPEC §4's table). Kinds whose signer is decided by the
    /// body (the ciso of an operator, the member itself, an attendee, anyone) say so.
    pub fn signers(self) -> Signers {
        match self {
            Kind::LedgerGenesis => Signers::Genesis,
            Kind::OperatorRegistered | Kind::MemberEnrolled | Kind::MemberRevoked => {
                Signers::Roles(&[Role::Authority])
            }
            Kind::DisputeResolved => Signers::Roles(&[Role::Authority]),
            Kind::MemberKeyRotated => Signers::SelfOrAuthority,
            Kind::KpiDefined
            | Kind::KpiAssigned
            | Kind::ChallengeResolved
            | Kind::MeetingRecorded => Signers::Roles(&[Role::Authority, Role::Chair]),
            Kind::EvaluationRecorded | Kind::CommitmentClosed => {
                Signers::Roles(&[Role::Authority, Role::Chair, Role::Evaluator])
            }
            Kind::SubmissionFiled | Kind::CommitmentMade | Kind::DisputeOpened => {
                Signers::CisoOfOperator
            }
            Kind::ChallengeRaised => Signers::AnyMember,
            Kind::MeetingAttested => Signers::Attendee,
        }
    }

    /// Whether the conflict-of-interest rule applies to this kind (SPEC §4).
    pub fn has_conflict_of_interest(self) -> bool {
        matches!(
            self,
            Kind::KpiAssigned
                | Kind::EvaluationRecorded
                | Kind::CommitmentClosed
                | Kind::DisputeResolved
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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

/// `strategy` of the genesis body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Strategy {
    /// The strategy's name.
    pub name: Text,
    /// Its first day.
    #[schemars(schema_with = "schema::date")]
    pub starts: Date,
    /// Its last day (`starts <= ends`).
    #[schemars(schema_with = "schema::date")]
    pub ends: Date,
}

/// `authority` of the genesis body: the first member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenesisAuthority {
    /// The member id the genesis signer becomes.
    pub member: Slug,
    /// Their name.
    pub name: Text,
}

/// `policy` of the genesis body: the `issued_at` window of rule 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// How far `issued_at` may be after `recorded_at`, in seconds.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub max_future_skew_s: u64,
    /// How far `issued_at` may be before `recorded_at`, in seconds.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub max_age_s: u64,
}

/// `ledger.genesis`: opens a ledger; its signer becomes the first authority.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `ledger.genesis` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct GenesisBody {
    /// The log's origin, a C2SP key name.
    pub origin: Origin,
    /// The ledger's title.
    pub title: Text,
    /// The strategy whose KPIs the ledger tracks.
    pub strategy: Strategy,
    /// The verifier key of the log key, named by `origin`.
    #[schemars(schema_with = "schema::vkey")]
    pub log_key: String,
    /// The first authority.
    pub authority: GenesisAuthority,
    /// The time window of rule 4.
    pub policy: Policy,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

/// `operator.registered`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `operator.registered` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct OperatorRegisteredBody {
    /// The new operator's id.
    pub operator: Slug,
    /// Its name.
    pub name: Text,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

/// `member.enrolled`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `member.enrolled` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct MemberEnrolledBody {
    /// The new member's id.
    pub member: Slug,
    /// Their name.
    pub name: Text,
    /// Their roles: not empty, distinct; `ciso` needs an operator.
    #[schemars(schema_with = "schema::set_of::<Role>", length(min = 1))]
    pub roles: Vec<Role>,
    /// The operator they belong to, if any.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Slug")]
    pub operator: Option<Slug>,
    /// Their key.
    #[schemars(schema_with = "schema::public_key")]
    pub key: PublicKey,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

/// `member.key_rotated`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `member.key_rotated` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct MemberKeyRotatedBody {
    /// The member whose key changes.
    pub member: Slug,
    /// Their new key; never any member's key before.
    #[schemars(schema_with = "schema::public_key")]
    pub new_key: PublicKey,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

/// `member.revoked`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `member.revoked` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct MemberRevokedBody {
    /// The member revoked.
    pub member: Slug,
    /// Why.
    pub reason: Text,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

/// `kpi.defined`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `kpi.defined` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct KpiDefinedBody {
    /// The new KPI's id.
    pub kpi: KpiId,
    /// Its pillar.
    pub pillar: Pillar,
    /// Its title.
    pub title: Text,
    /// The unit of its values.
    pub unit: Text,
    /// Whether higher or lower values are better.
    pub direction: Direction,
    /// How often it is reported (informational).
    pub cadence: Cadence,
    /// Whether submissions should carry evidence (informational in v1).
    pub evidence_required: bool,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

/// `kpi.assigned`: assigns (or re-assigns, from then on) a KPI to an operator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `kpi.assigned` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct KpiAssignedBody {
    /// The KPI.
    pub kpi: KpiId,
    /// The operator.
    pub operator: Slug,
    /// The target value.
    pub target: Decimal,
    /// The starting value, if known.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Decimal")]
    pub baseline: Option<Decimal>,
    /// When the target is due.
    #[schemars(schema_with = "schema::date")]
    pub due: Date,
    /// The first period a submission may report.
    #[schemars(schema_with = "schema::period")]
    pub first_period: Period,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

/// One piece of evidence of a submission.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// The file's name.
    pub name: Text,
    /// SHA-256 of its bytes.
    #[schemars(schema_with = "schema::hash")]
    pub sha256: Hash,
    /// Its size in bytes.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub bytes: u64,
}

/// `submission.filed`: an operator's value for a KPI and period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `submission.filed` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct SubmissionFiledBody {
    /// The operator.
    pub operator: Slug,
    /// The KPI.
    pub kpi: KpiId,
    /// The month reported.
    #[schemars(schema_with = "schema::period")]
    pub period: Period,
    /// The value.
    pub value: Decimal,
    /// 0–64 pieces of evidence.
    #[schemars(length(max = "EVIDENCE_MAX"))]
    pub evidence: Vec<Evidence>,
    /// A note (may be empty).
    pub note: Note,
    /// The event hash of the submission this one replaces.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(schema_with = "schema::hash")]
    pub supersedes: Option<Hash>,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

/// `evaluation.recorded`: a judgement of a submission.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `evaluation.recorded` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct EvaluationRecordedBody {
    /// The event hash of the submission judged.
    #[schemars(schema_with = "schema::hash")]
    pub submission: Hash,
    /// The verdict.
    pub verdict: Verdict,
    /// The score, 0–100.
    pub score: Score,
    /// Why.
    pub rationale: Text,
    /// The event hash of the evaluation this one replaces.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(schema_with = "schema::hash")]
    pub supersedes: Option<Hash>,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

/// `commitment.made`: an operator's promise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `commitment.made` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct CommitmentMadeBody {
    /// The new commitment's id.
    pub commitment: Slug,
    /// The operator.
    pub operator: Slug,
    /// The KPI it concerns, assigned to the operator.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "KpiId")]
    pub kpi: Option<KpiId>,
    /// What will be done.
    pub action: Text,
    /// By when.
    #[schemars(schema_with = "schema::date")]
    pub due: Date,
    /// The event hash of the evaluation or challenge it answers.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(schema_with = "schema::hash")]
    pub in_response_to: Option<Hash>,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

/// `commitment.closed`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `commitment.closed` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct CommitmentClosedBody {
    /// The commitment.
    pub commitment: Slug,
    /// How it ended.
    pub outcome: CommitmentOutcome,
    /// A note (may be empty).
    pub note: Note,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

/// `challenge.raised`: a problem any member brings to the task force.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `challenge.raised` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct ChallengeRaisedBody {
    /// The new challenge's id.
    pub challenge: Slug,
    /// Its pillar.
    pub pillar: Pillar,
    /// The operator concerned, if any.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Slug")]
    pub operator: Option<Slug>,
    /// The KPI concerned, if any.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "KpiId")]
    pub kpi: Option<KpiId>,
    /// What the challenge is.
    pub description: Text,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

/// `challenge.resolved`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `challenge.resolved` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct ChallengeResolvedBody {
    /// The challenge.
    pub challenge: Slug,
    /// How it was resolved.
    pub resolution: Text,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

/// `meeting.recorded`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `meeting.recorded` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct MeetingRecordedBody {
    /// The new meeting's id.
    pub meeting: Slug,
    /// When it was held.
    #[schemars(schema_with = "schema::date")]
    pub held_on: Date,
    /// 1–256 distinct members, enrolled and unrevoked.
    #[schemars(
        schema_with = "schema::set_of::<Slug>",
        length(min = 1, max = "ATTENDEES_MAX")
    )]
    pub attendees: Vec<Slug>,
    /// SHA-256 of the minutes.
    #[schemars(schema_with = "schema::hash")]
    pub minutes_sha256: Hash,
    /// 0–64 decisions.
    #[schemars(length(max = "DECISIONS_MAX"))]
    pub decisions: Vec<Text>,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

/// `meeting.attested`: an attendee confirms the record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `meeting.attested` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct MeetingAttestedBody {
    /// The meeting.
    pub meeting: Slug,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

/// `dispute.opened`: an operator contests an evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `dispute.opened` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct DisputeOpenedBody {
    /// The new dispute's id.
    pub dispute: Slug,
    /// The event hash of the evaluation contested.
    #[schemars(schema_with = "schema::hash")]
    pub evaluation: Hash,
    /// The grounds.
    pub grounds: Text,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

/// `dispute.resolved`: the authority's decision, bound to the state it was taken on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `dispute.resolved` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct DisputeResolvedBody {
    /// The dispute.
    pub dispute: Slug,
    /// The decision.
    pub outcome: DisputeOutcome,
    /// The tree size of the state decided on (1 ..= this entry's seq).
    #[schemars(range(max = "INTEGER_MAX"))]
    pub as_of: u64,
    /// The digest (SPEC §5) of the state at `as_of` with the default `at`.
    #[schemars(schema_with = "schema::hash")]
    pub state_digest: Hash,
    /// Why.
    pub rationale: Text,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

/// A statement's body, typed by its kind.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Body {
    /// `ledger.genesis`
    Genesis(GenesisBody),
    /// `operator.registered`
    OperatorRegistered(OperatorRegisteredBody),
    /// `member.enrolled`
    MemberEnrolled(MemberEnrolledBody),
    /// `member.key_rotated`
    MemberKeyRotated(MemberKeyRotatedBody),
    /// `member.revoked`
    MemberRevoked(MemberRevokedBody),
    /// `kpi.defined`
    KpiDefined(KpiDefinedBody),
    /// `kpi.assigned`
    KpiAssigned(KpiAssignedBody),
    /// `submission.filed`
    SubmissionFiled(SubmissionFiledBody),
    /// `evaluation.recorded`
    EvaluationRecorded(EvaluationRecordedBody),
    /// `commitment.made`
    CommitmentMade(CommitmentMadeBody),
    /// `commitment.closed`
    CommitmentClosed(CommitmentClosedBody),
    /// `challenge.raised`
    ChallengeRaised(ChallengeRaisedBody),
    /// `challenge.resolved`
    ChallengeResolved(ChallengeResolvedBody),
    /// `meeting.recorded`
    MeetingRecorded(MeetingRecordedBody),
    /// `meeting.attested`
    MeetingAttested(MeetingAttestedBody),
    /// `dispute.opened`
    DisputeOpened(DisputeOpenedBody),
    /// `dispute.resolved`
    DisputeResolved(DisputeResolvedBody),
}

impl Body {
    /// Parses and checks the body of a statement of kind `kind` (SPEC §4 rule 1, for the body).
    ///
    /// # Errors
    /// [`BodyError::UnknownKind`] for a kind v1 does not know; [`BodyError::Shape`] for a body
    /// with a missing, unknown, `null` or ill-formed field.
    pub fn try_parse(kind: &str, body: &Map<String, Value>) -> Result<Body, BodyError> {
        let kind = Kind::try_from_str(kind).ok_or_else(|| BodyError::UnknownKind {
            kind: kind.chars().take(80).collect(),
        })?;
        let value = Value::Object(body.clone());
        let shape = |reason: String| BodyError::Shape { kind, reason };
        fn de<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, String> {
            serde_json::from_value(value).map_err(|e| e.to_string())
        }
        let parsed = match kind {
            Kind::LedgerGenesis => Body::Genesis(de(value).map_err(shape)?),
            Kind::OperatorRegistered => Body::OperatorRegistered(de(value).map_err(shape)?),
            Kind::MemberEnrolled => Body::MemberEnrolled(de(value).map_err(shape)?),
            Kind::MemberKeyRotated => Body::MemberKeyRotated(de(value).map_err(shape)?),
            Kind::MemberRevoked => Body::MemberRevoked(de(value).map_err(shape)?),
            Kind::KpiDefined => Body::KpiDefined(de(value).map_err(shape)?),
            Kind::KpiAssigned => Body::KpiAssigned(de(value).map_err(shape)?),
            Kind::SubmissionFiled => Body::SubmissionFiled(de(value).map_err(shape)?),
            Kind::EvaluationRecorded => Body::EvaluationRecorded(de(value).map_err(shape)?),
            Kind::CommitmentMade => Body::CommitmentMade(de(value).map_err(shape)?),
            Kind::CommitmentClosed => Body::CommitmentClosed(de(value).map_err(shape)?),
            Kind::ChallengeRaised => Body::ChallengeRaised(de(value).map_err(shape)?),
            Kind::ChallengeResolved => Body::ChallengeResolved(de(value).map_err(shape)?),
            Kind::MeetingRecorded => Body::MeetingRecorded(de(value).map_err(shape)?),
            Kind::MeetingAttested => Body::MeetingAttested(de(value).map_err(shape)?),
            Kind::DisputeOpened => Body::DisputeOpened(de(value).map_err(shape)?),
            Kind::DisputeResolved => Body::DisputeResolved(de(value).map_err(shape)?),
        };
        parsed.check().map_err(shape)?;
        Ok(parsed)
    }

    /// The body's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Body::Genesis(_) => Kind::LedgerGenesis,
            Body::OperatorRegistered(_) => Kind::OperatorRegistered,
            Body::MemberEnrolled(_) => Kind::MemberEnrolled,
            Body::MemberKeyRotated(_) => Kind::MemberKeyRotated,
            Body::MemberRevoked(_) => Kind::MemberRevoked,
            Body::KpiDefined(_) => Kind::KpiDefined,
            Body::KpiAssigned(_) => Kind::KpiAssigned,
            Body::SubmissionFiled(_) => Kind::SubmissionFiled,
            Body::EvaluationRecorded(_) => Kind::EvaluationRecorded,
            Body::CommitmentMade(_) => Kind::CommitmentMade,
            Body::CommitmentClosed(_) => Kind::CommitmentClosed,
            Body::ChallengeRaised(_) => Kind::ChallengeRaised,
            Body::ChallengeResolved(_) => Kind::ChallengeResolved,
            Body::MeetingRecorded(_) => Kind::MeetingRecorded,
            Body::MeetingAttested(_) => Kind::MeetingAttested,
            Body::DisputeOpened(_) => Kind::DisputeOpened,
            Body::DisputeResolved(_) => Kind::DisputeResolved,
        }
    }

    /// The checks that span several fields.
    fn check(&self) -> Result<(), String> {
        match self {
            Body::Genesis(g) => {
                if g.strategy.starts > g.strategy.ends {
                    return Err(format!(
                        "strategy.starts ({}) is after strategy.ends ({})",
                        g.strategy.starts, g.strategy.ends
                    ));
                }
                let vkey = hisaab_log::note::VerifierKey::try_parse(&g.log_key)
                    .map_err(|e| format!("log_key is not a verifier key: {e}"))?;
                if vkey.name() != g.origin.as_str() {
                    return Err(format!(
                        "log_key is named {:?}, not by the origin {:?}",
                        vkey.name(),
                        g.origin.as_str()
                    ));
                }
                Ok(())
            }
            Body::MemberEnrolled(m) => {
                if m.roles.is_empty() {
                    return Err("roles must not be empty".into());
                }
                let distinct: BTreeSet<Role> = m.roles.iter().copied().collect();
                if distinct.len() != m.roles.len() {
                    return Err("roles must be distinct".into());
                }
                if distinct.contains(&Role::Ciso) && m.operator.is_none() {
                    return Err("a member with the role `ciso` must name an operator".into());
                }
                Ok(())
            }
            Body::SubmissionFiled(s) if s.evidence.len() > EVIDENCE_MAX => Err(format!(
                "evidence has {} items, at most {EVIDENCE_MAX} are allowed",
                s.evidence.len()
            )),
            Body::MeetingRecorded(m) => {
                if m.attendees.is_empty() || m.attendees.len() > ATTENDEES_MAX {
                    return Err(format!(
                        "attendees must list 1 to {ATTENDEES_MAX} members, found {}",
                        m.attendees.len()
                    ));
                }
                let distinct: BTreeSet<&Slug> = m.attendees.iter().collect();
                if distinct.len() != m.attendees.len() {
                    return Err("attendees must be distinct".into());
                }
                if m.decisions.len() > DECISIONS_MAX {
                    return Err(format!(
                        "decisions has {} items, at most {DECISIONS_MAX} are allowed",
                        m.decisions.len()
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use hisaab_log::SigningKey;
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
        assert_eq!(Kind::ALL.len(), 17);
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
