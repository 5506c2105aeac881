//! Format 2: the task force's cycle beyond reports and evaluations (SPEC §11.7–§11.9):
//! meetings scheduled with an agenda and their quorum, the action items of their minutes,
//! directives of the authority, extensions of commitments and escalations of what was missed.
//!
//! The kinds that keep this state (`meeting.scheduled`, `action.assigned`, `action.closed`,
//! `directive.issued`, `directive.closed`, `commitment.extended`, `escalation.recorded`) write
//! into the ledger's cycle records; `Ledger::cycle_state` projects it into the `cycle` member of a
//! format-2 state, and the obligations of §11.4 read it for actions and directives.

use std::collections::{BTreeMap, BTreeSet};

use hisaab_log::jcs::INTEGER_MAX;
use std::cmp::Ordering;

use hisaab_log::{Date, Hash};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ledger::Ledger;
use crate::ledger::Signer;
pub use crate::record::{ActionOwner, AgendaItem, EscalatedItem, TaskStatus};
pub(crate) use crate::record::{
    ActionRecord, DelegationRecord, DirectiveRecord, EscalationRecord, ExtensionRecord,
    MeasureRecord, ScheduledRecord, StakeholderRecord,
};
use crate::rule::{Rule, Violation};
use crate::value::{
    schema, ChallengeStatus, Decimal, DelegationStatus, Direction, KpiId, Role, Severity, Slug,
    StakeholderType, Text, Verdict,
};

/// The most stakeholders an action or directive names (SPEC §11.12).
pub const STAKEHOLDERS_MAX: usize = 16;

/// Rule 1 for the `stakeholders` an action or directive may carry: 1 to
/// [`STAKEHOLDERS_MAX`] distinct ids.
pub(crate) fn check_stakeholders_form(stakeholders: Option<&Vec<Slug>>) -> Result<(), String> {
    let Some(ids) = stakeholders else {
        return Ok(());
    };
    let distinct: BTreeSet<&Slug> = ids.iter().collect();
    if ids.is_empty() || ids.len() > STAKEHOLDERS_MAX || distinct.len() != ids.len() {
        return Err(format!(
            "stakeholders must list 1 to {STAKEHOLDERS_MAX} distinct ids"
        ));
    }
    Ok(())
}

/// A meeting in the cycle's state: scheduled, held, or both.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingState {
    /// The date it was scheduled for; `null` when it was recorded without being scheduled.
    #[schemars(schema_with = "nullable_date")]
    pub scheduled_for: Option<Date>,
    /// Its agenda as scheduled (empty when not scheduled).
    pub agenda: Vec<AgendaItem>,
    /// The date it was held; `null` while it is not recorded.
    #[schemars(schema_with = "nullable_date")]
    pub held_on: Option<Date>,
    /// Its attendees, sorted (empty while not recorded).
    #[schemars(schema_with = "schema::set_of::<Slug>")]
    pub attendees: Vec<Slug>,
    /// The members of the task force expected and not attending, sorted (empty while not
    /// recorded).
    #[schemars(schema_with = "schema::set_of::<Slug>")]
    pub absent: Vec<Slug>,
    /// The attendees who attested the record, sorted.
    #[schemars(schema_with = "schema::set_of::<Slug>")]
    pub attested: Vec<Slug>,
    /// The operators in the task force when it was recorded.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub operators: u64,
    /// How many of them an attendee (a member affiliated with it) represented.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub represented: u64,
    /// Whether the attendees met the policy's quorum; `null` while it is not recorded.
    #[schemars(schema_with = "nullable_bool")]
    pub quorate: Option<bool>,
}

/// An action item in the cycle's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionState {
    /// The meeting whose minutes record it.
    pub meeting: Slug,
    /// Who owns it.
    pub owner: ActionOwner,
    /// By when.
    #[schemars(schema_with = "schema::date")]
    pub due: Date,
    /// Where it stands on `at`.
    pub status: TaskStatus,
    /// The escalation naming it; `null` when none.
    #[schemars(schema_with = "nullable_slug")]
    pub escalation: Option<Slug>,
    /// The stakeholders it names, sorted (SPEC §11.12).
    #[schemars(schema_with = "schema::set_of::<Slug>")]
    pub stakeholders: Vec<Slug>,
}

/// A directive in the cycle's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectiveState {
    /// The operator directed.
    pub operator: Slug,
    /// The date it was issued.
    #[schemars(schema_with = "schema::date")]
    pub issued: Date,
    /// By when.
    #[schemars(schema_with = "schema::date")]
    pub due: Date,
    /// Where it stands on `at`.
    pub status: TaskStatus,
    /// The escalation naming it; `null` when none.
    #[schemars(schema_with = "nullable_slug")]
    pub escalation: Option<Slug>,
    /// The stakeholders it names, sorted (SPEC §11.12).
    #[schemars(schema_with = "schema::set_of::<Slug>")]
    pub stakeholders: Vec<Slug>,
}

/// One extension of a commitment's due date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    /// The seq of the `commitment.extended` entry.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub seq: u64,
    /// The due date before.
    #[schemars(schema_with = "schema::date")]
    pub from: Date,
    /// The due date after.
    #[schemars(schema_with = "schema::date")]
    pub to: Date,
}

/// A commitment whose due date moved: its history of dues.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendedCommitment {
    /// The operator.
    pub operator: Slug,
    /// The due date as made.
    #[schemars(schema_with = "schema::date")]
    pub original_due: Date,
    /// The due date in force.
    #[schemars(schema_with = "schema::date")]
    pub due: Date,
    /// Every extension, oldest first.
    pub extensions: Vec<Extension>,
}

/// An escalation in the cycle's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationState {
    /// What it escalates.
    pub item: EscalatedItem,
    /// The operator concerned, if the item has one.
    #[schemars(schema_with = "nullable_slug")]
    pub operator: Option<Slug>,
    /// The date it was recorded.
    #[schemars(schema_with = "schema::date")]
    pub on: Date,
    /// Where the escalated item stands on `at`.
    pub status: TaskStatus,
}

/// A member's record in the cycle: attendance and the actions they own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberRecordState {
    /// Meetings recorded that they attended.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub attended: u64,
    /// Meetings recorded at which they were expected and absent.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub absent: u64,
    /// Actions they own, not closed, not yet due.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub actions_open: u64,
    /// Actions they own, not closed, overdue.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub actions_overdue: u64,
    /// Actions they own, closed as done.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub actions_done: u64,
    /// Actions they own, closed as missed.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub actions_missed: u64,
    /// Whether they are suspended (SPEC §11.11): they sign nothing until reinstated.
    pub suspended: bool,
    /// Challenges they own, not resolved, not past their due date (SPEC §11.12).
    #[schemars(range(max = "INTEGER_MAX"))]
    pub challenges_open: u64,
    /// Challenges they own, not resolved, past their due date.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub challenges_overdue: u64,
    /// Measures against challenges recorded as taken by them.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub measures: u64,
}

/// A delegation in the cycle's state (SPEC §11.12): the last one granted to a deputy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DelegationState {
    /// The operator the deputy acts for.
    pub operator: Slug,
    /// The last day the deputy may sign.
    #[schemars(schema_with = "schema::date")]
    pub expires: Date,
    /// Whether it is in force on `at`.
    pub status: DelegationStatus,
}

/// A measure taken against a challenge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasureState {
    /// The seq of the `challenge.measure_recorded` entry.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub seq: u64,
    /// Who took it.
    pub by: ActionOwner,
    /// The date it was recorded.
    #[schemars(schema_with = "schema::date")]
    pub on: Date,
}

/// A challenge of the register (SPEC §11.12).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeState {
    /// The operator it names; `null` when none.
    #[schemars(schema_with = "nullable_slug")]
    pub operator: Option<Slug>,
    /// The KPI it names; `null` when none.
    #[schemars(schema_with = "nullable_kpi")]
    pub kpi: Option<KpiId>,
    /// Who answers for it; `null` when it has no owner.
    #[schemars(schema_with = "nullable_owner")]
    pub owner: Option<ActionOwner>,
    /// How grave it is; `null` when not said.
    #[schemars(schema_with = "nullable_severity")]
    pub severity: Option<Severity>,
    /// The date it was raised.
    #[schemars(schema_with = "schema::date")]
    pub raised: Date,
    /// The date by which it is to be dealt with; `null` when none.
    #[schemars(schema_with = "nullable_date")]
    pub due: Option<Date>,
    /// Where it stands on `at`.
    pub status: ChallengeStatus,
    /// The measures taken against it, oldest first.
    pub measures: Vec<MeasureState>,
}

/// A stakeholder registered (SPEC §11.12).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StakeholderState {
    /// Its name.
    pub name: Text,
    /// What kind of body it is.
    #[serde(rename = "type")]
    pub kind: StakeholderType,
    /// The date it was registered.
    #[schemars(schema_with = "schema::date")]
    pub registered: Date,
}

/// An operator that left the task force (SPEC §11.12).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LeftState {
    /// The date it left.
    #[schemars(schema_with = "schema::date")]
    pub on: Date,
}

/// An assignment withdrawn and not assigned again (SPEC §11.12).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawnAssignment {
    /// The operator.
    pub operator: Slug,
    /// The KPI.
    pub kpi: KpiId,
    /// The date it was withdrawn.
    #[schemars(schema_with = "schema::date")]
    pub on: Date,
}

/// Format 2: the cycle's state (SPEC §11.9), the `cycle` member of a format-2 state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CycleState {
    /// The quorum in force, in percent of the operators in the task force.
    #[schemars(range(min = 1, max = 100))]
    pub quorum_percent: u64,
    /// Every meeting scheduled or recorded, by id.
    #[schemars(schema_with = "schema::keyed_by::<Slug, MeetingState>")]
    pub meetings: BTreeMap<Slug, MeetingState>,
    /// Every action item, by id.
    #[schemars(schema_with = "schema::keyed_by::<Slug, ActionState>")]
    pub actions: BTreeMap<Slug, ActionState>,
    /// Every directive, by id.
    #[schemars(schema_with = "schema::keyed_by::<Slug, DirectiveState>")]
    pub directives: BTreeMap<Slug, DirectiveState>,
    /// Every commitment whose due date was extended, by id, with its history of dues.
    #[schemars(schema_with = "schema::keyed_by::<Slug, ExtendedCommitment>")]
    pub extended: BTreeMap<Slug, ExtendedCommitment>,
    /// Every escalation, by id.
    #[schemars(schema_with = "schema::keyed_by::<Slug, EscalationState>")]
    pub escalations: BTreeMap<Slug, EscalationState>,
    /// Every member's attendance and actions, by id.
    #[schemars(schema_with = "schema::keyed_by::<Slug, MemberRecordState>")]
    pub members: BTreeMap<Slug, MemberRecordState>,
    /// Every deputy's delegation, by deputy (SPEC §11.12).
    #[schemars(schema_with = "schema::keyed_by::<Slug, DelegationState>")]
    pub delegations: BTreeMap<Slug, DelegationState>,
    /// The challenge register, by id.
    #[schemars(schema_with = "schema::keyed_by::<Slug, ChallengeState>")]
    pub challenges: BTreeMap<Slug, ChallengeState>,
    /// Every stakeholder registered, by id.
    #[schemars(schema_with = "schema::keyed_by::<Slug, StakeholderState>")]
    pub stakeholders: BTreeMap<Slug, StakeholderState>,
    /// The operators that left the task force, by id.
    #[schemars(schema_with = "schema::keyed_by::<Slug, LeftState>")]
    pub left: BTreeMap<Slug, LeftState>,
    /// The assignments withdrawn and not assigned again, by operator and KPI.
    pub withdrawn: Vec<WithdrawnAssignment>,
}

fn nullable_date(generator: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    schema::nullable(schema::date(generator))
}

fn nullable_slug(generator: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    schema::nullable(generator.subschema_for::<Slug>())
}

fn nullable_kpi(generator: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    schema::nullable(generator.subschema_for::<KpiId>())
}

fn nullable_owner(generator: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    schema::nullable(generator.subschema_for::<ActionOwner>())
}

fn nullable_severity(generator: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    schema::nullable(generator.subschema_for::<Severity>())
}

fn nullable_bool(generator: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    schema::nullable(generator.subschema_for::<bool>())
}

/// The roles whose members are expected at a meeting of the task force.
const EXPECTED_ROLES: [Role; 4] = [Role::Authority, Role::Chair, Role::Ciso, Role::Evaluator];

/// Whether `represented` of `operators` meets a quorum of `percent`: at least that share,
/// rounded up (with no operators, any meeting is quorate).
pub fn is_quorate(represented: u64, operators: u64, percent: u64) -> bool {
    represented.saturating_mul(100) >= operators.saturating_mul(percent)
}

impl Ledger {
    /// The operators in the task force just before entry `seq`: registered before it.
    pub(crate) fn operators_at(&self, seq: u64) -> BTreeSet<&Slug> {
        self.operators
            .iter()
            .filter(|(id, o)| o.seq < seq && !self.left_before(id, seq))
            .map(|(id, _)| id)
            .collect()
    }

    /// The withdrawal of `operator`'s assignment of `kpi` in force, if any: its seq and date
    /// (SPEC §11.12).
    pub(crate) fn withdrawal(&self, operator: &Slug, kpi: &KpiId) -> Option<(u64, Date)> {
        self.cycle.withdrawn.get(operator)?.get(kpi).copied()
    }

    /// Whether `operator` left the task force before entry `seq` (SPEC §11.12).
    fn left_before(&self, operator: &Slug, seq: u64) -> bool {
        self.cycle
            .left
            .get(operator)
            .is_some_and(|(left, _)| *left < seq)
    }

    /// A status of an item owed by `operator`, closed as left when it was not closed and
    /// the operator left the task force (SPEC §11.12).
    pub(crate) fn unless_left(&self, status: TaskStatus, operator: Option<&Slug>) -> TaskStatus {
        let left = operator.is_some_and(|o| self.cycle.left.contains_key(o));
        match status {
            TaskStatus::Open | TaskStatus::Overdue if left => TaskStatus::Left,
            other => other,
        }
    }

    /// The members expected at a meeting recorded at `seq`: enrolled before it, not revoked
    /// by then, holding a role of the task force (authority, chair, ciso, evaluator).
    fn expected_at(&self, seq: u64) -> BTreeSet<&Slug> {
        self.members
            .iter()
            .filter(|(_, m)| {
                m.seq < seq
                    && m.revoked_seq.is_none_or(|r| r > seq)
                    && EXPECTED_ROLES.iter().any(|r| m.roles.contains(r))
                    && m.operator
                        .as_ref()
                        .is_none_or(|o| !self.left_before(o, seq))
            })
            .map(|(id, _)| id)
            .collect()
    }

    /// The status of the item an escalation names, and its operator.
    pub(crate) fn escalated_status(
        &self,
        item: &EscalatedItem,
        at: Date,
    ) -> Option<(TaskStatus, Option<&Slug>)> {
        match item {
            EscalatedItem::Commitment(id) => self.commitments.get(id).map(|c| {
                let status = match c.closed.map(|(_, o)| o) {
                    Some(Some(crate::value::CommitmentOutcome::Fulfilled)) => TaskStatus::Done,
                    Some(Some(crate::value::CommitmentOutcome::Missed)) => TaskStatus::Missed,
                    Some(Some(crate::value::CommitmentOutcome::Withdrawn)) => TaskStatus::Withdrawn,
                    Some(None) => TaskStatus::Closed,
                    None if at > c.due => TaskStatus::Overdue,
                    None => TaskStatus::Open,
                };
                (
                    self.unless_left(status, Some(&c.operator)),
                    Some(&c.operator),
                )
            }),
            EscalatedItem::Directive(id) => self.cycle.directives.get(id).map(|d| {
                let status = TaskStatus::of(d.closed.map(|(_, o)| o), d.due, at);
                (
                    self.unless_left(status, Some(&d.operator)),
                    Some(&d.operator),
                )
            }),
            EscalatedItem::Action(id) => self.cycle.actions.get(id).map(|a| {
                let (owner, operator) = match &a.owner {
                    ActionOwner::Operator(o) => (Some(o), Some(o)),
                    ActionOwner::Member(m) => {
                        (None, self.members.get(m).and_then(|m| m.operator.as_ref()))
                    }
                };
                let status = TaskStatus::of(a.closed.map(|(_, o)| o), a.due, at);
                (self.unless_left(status, owner), operator)
            }),
        }
    }

    /// The seq of the entry that made `item`: its `commitment.made`, `directive.issued` or
    /// `action.assigned` (what a page links an item to), if this ledger has it.
    pub fn item_seq(&self, item: &EscalatedItem) -> Option<u64> {
        match item {
            EscalatedItem::Commitment(id) => self.commitments.get(id).map(|c| c.seq),
            EscalatedItem::Directive(id) => self.cycle.directives.get(id).map(|d| d.seq),
            EscalatedItem::Action(id) => self.cycle.actions.get(id).map(|a| a.seq),
        }
    }

    /// The seq of escalation `id`'s `escalation.recorded` entry, if this ledger has it.
    pub fn escalation_seq(&self, id: &Slug) -> Option<u64> {
        self.cycle.escalations.get(id).map(|e| e.seq)
    }

    /// The `cycle` member of a format-2 state on date `at`.
    pub fn cycle_state(&self, at: Date) -> CycleState {
        let percent = self
            .genesis
            .as_ref()
            .map_or(crate::body::Policy::QUORUM_PERCENT, |g| {
                g.policy.quorum_percent()
            });
        let mut members: BTreeMap<Slug, MemberRecordState> = self
            .members
            .keys()
            .map(|id| {
                let record = MemberRecordState {
                    suspended: self.cycle.suspended.contains_key(id),
                    ..MemberRecordState::default()
                };
                (id.clone(), record)
            })
            .collect();
        let mut meetings = BTreeMap::new();
        let ids: BTreeSet<&Slug> = self
            .cycle
            .scheduled
            .keys()
            .chain(self.meetings.keys())
            .collect();
        for id in ids {
            let scheduled = self.cycle.scheduled.get(id);
            let held = self.meetings.get(id);
            let mut state = MeetingState {
                scheduled_for: scheduled.map(|s| s.date),
                agenda: scheduled.map(|s| s.agenda.clone()).unwrap_or_default(),
                held_on: None,
                attendees: Vec::new(),
                absent: Vec::new(),
                attested: Vec::new(),
                operators: 0,
                represented: 0,
                quorate: None,
            };
            if let Some(held) = held {
                let operators = self.operators_at(held.seq);
                let represented: BTreeSet<&Slug> = held
                    .attendees
                    .iter()
                    .filter_map(|a| self.members.get(a)?.operator.as_ref())
                    .filter(|o| operators.contains(o))
                    .collect();
                let expected = self.expected_at(held.seq);
                let absent: Vec<Slug> = expected
                    .iter()
                    .filter(|m| !held.attendees.contains(**m))
                    .map(|m| (*m).clone())
                    .collect();
                for attendee in &held.attendees {
                    if let Some(record) = members.get_mut(attendee) {
                        record.attended += 1;
                    }
                }
                for member in &absent {
                    if let Some(record) = members.get_mut(member) {
                        record.absent += 1;
                    }
                }
                let operators = u64::try_from(operators.len()).unwrap_or(u64::MAX);
                let represented = u64::try_from(represented.len()).unwrap_or(u64::MAX);
                state.held_on = self.cycle.held_on.get(id).copied();
                state.attendees = held.attendees.iter().cloned().collect();
                state.absent = absent;
                state.attested = held.attested.iter().cloned().collect();
                state.operators = operators;
                state.represented = represented;
                state.quorate = Some(is_quorate(represented, operators, percent));
            }
            meetings.insert(id.clone(), state);
        }
        let escalation_of = |item: EscalatedItem| self.cycle.escalated.get(&item).cloned();
        let mut actions = BTreeMap::new();
        for (id, action) in &self.cycle.actions {
            let status = TaskStatus::of(action.closed.map(|(_, o)| o), action.due, at);
            let status = match &action.owner {
                ActionOwner::Operator(operator) => self.unless_left(status, Some(operator)),
                ActionOwner::Member(_) => status,
            };
            if let ActionOwner::Member(member) = &action.owner {
                if let Some(record) = members.get_mut(member) {
                    match status {
                        TaskStatus::Open => record.actions_open += 1,
                        TaskStatus::Overdue => record.actions_overdue += 1,
                        TaskStatus::Done => record.actions_done += 1,
                        TaskStatus::Missed | TaskStatus::Withdrawn => record.actions_missed += 1,
                        // An action's outcome is public: never sealed; a member does not
                        // leave as an operator does.
                        TaskStatus::Closed | TaskStatus::Left => {}
                    }
                }
            }
            actions.insert(
                id.clone(),
                ActionState {
                    meeting: action.meeting.clone(),
                    owner: action.owner.clone(),
                    due: action.due,
                    status,
                    escalation: escalation_of(EscalatedItem::Action(id.clone())),
                    stakeholders: action.stakeholders.iter().cloned().collect(),
                },
            );
        }
        let directives = self
            .cycle
            .directives
            .iter()
            .map(|(id, d)| {
                (
                    id.clone(),
                    DirectiveState {
                        operator: d.operator.clone(),
                        issued: d.issued,
                        due: d.due,
                        status: self.unless_left(
                            TaskStatus::of(d.closed.map(|(_, o)| o), d.due, at),
                            Some(&d.operator),
                        ),
                        escalation: escalation_of(EscalatedItem::Directive(id.clone())),
                        stakeholders: d.stakeholders.iter().cloned().collect(),
                    },
                )
            })
            .collect();
        let extended = self
            .cycle
            .extensions
            .iter()
            .filter_map(|(id, extensions)| {
                let commitment = self.commitments.get(id)?;
                let first = extensions.first()?;
                Some((
                    id.clone(),
                    ExtendedCommitment {
                        operator: commitment.operator.clone(),
                        original_due: first.from,
                        due: commitment.due,
                        extensions: extensions
                            .iter()
                            .map(|e| Extension {
                                seq: e.seq,
                                from: e.from,
                                to: e.to,
                            })
                            .collect(),
                    },
                ))
            })
            .collect();
        let escalations = self
            .cycle
            .escalations
            .iter()
            .filter_map(|(id, e)| {
                let (status, operator) = self.escalated_status(&e.item, at)?;
                Some((
                    id.clone(),
                    EscalationState {
                        item: e.item.clone(),
                        operator: operator.cloned(),
                        on: e.on,
                        status,
                    },
                ))
            })
            .collect();
        let challenges = self.challenge_register(at, &mut members);
        CycleState {
            quorum_percent: percent,
            meetings,
            actions,
            directives,
            extended,
            escalations,
            members,
            delegations: self
                .cycle
                .delegations
                .iter()
                .map(|(deputy, d)| {
                    let status = if at > d.expires {
                        DelegationStatus::Expired
                    } else {
                        DelegationStatus::InForce
                    };
                    let state = DelegationState {
                        operator: d.operator.clone(),
                        expires: d.expires,
                        status,
                    };
                    (deputy.clone(), state)
                })
                .collect(),
            challenges,
            stakeholders: self
                .cycle
                .stakeholders
                .iter()
                .map(|(id, s)| {
                    let state = StakeholderState {
                        name: s.name.clone(),
                        kind: s.kind,
                        registered: s.registered,
                    };
                    (id.clone(), state)
                })
                .collect(),
            left: self
                .cycle
                .left
                .iter()
                .map(|(id, (_, on))| (id.clone(), LeftState { on: *on }))
                .collect(),
            withdrawn: self
                .cycle
                .withdrawn
                .iter()
                .flat_map(|(operator, kpis)| {
                    kpis.iter().map(|(kpi, (_, on))| WithdrawnAssignment {
                        operator: operator.clone(),
                        kpi: kpi.clone(),
                        on: *on,
                    })
                })
                .collect(),
        }
    }

    /// The challenge register on `at` (SPEC §11.12), counting each member's challenges and
    /// measures into `members`.
    fn challenge_register(
        &self,
        at: Date,
        members: &mut BTreeMap<Slug, MemberRecordState>,
    ) -> BTreeMap<Slug, ChallengeState> {
        let mut register = BTreeMap::new();
        for (id, c) in &self.challenges {
            let status = match (c.resolved_seq, c.due) {
                (Some(_), _) => ChallengeStatus::Resolved,
                (None, Some(due)) if at > due => ChallengeStatus::Overdue,
                (None, _) => ChallengeStatus::Open,
            };
            if let Some(ActionOwner::Member(member)) = &c.owner {
                if let Some(record) = members.get_mut(member) {
                    match status {
                        ChallengeStatus::Open => record.challenges_open += 1,
                        ChallengeStatus::Overdue => record.challenges_overdue += 1,
                        ChallengeStatus::Resolved => {}
                    }
                }
            }
            for measure in &c.measures {
                if let ActionOwner::Member(member) = &measure.by {
                    if let Some(record) = members.get_mut(member) {
                        record.measures += 1;
                    }
                }
            }
            let measures = c
                .measures
                .iter()
                .map(|m| MeasureState {
                    seq: m.seq,
                    by: m.by.clone(),
                    on: m.on,
                })
                .collect();
            let state = ChallengeState {
                operator: c.operator.clone(),
                kpi: c.kpi.clone(),
                owner: c.owner.clone(),
                severity: c.severity,
                raised: c.raised,
                due: c.due,
                status,
                measures,
            };
            register.insert(id.clone(), state);
        }
        register
    }
}

/// Compares two decimals of SPEC §1 (`-?(0|[1-9][0-9]*)(\.[0-9]+)?`) by value.
pub fn compare_decimals(a: &Decimal, b: &Decimal) -> Ordering {
    fn parts(text: &str) -> (bool, &str, &str) {
        let (negative, magnitude) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int, frac) = magnitude.split_once('.').unwrap_or((magnitude, ""));
        let frac = frac.trim_end_matches('0');
        // `-0` and `-0.0` are zero, not negative.
        let zero = int == "0" && frac.is_empty();
        (negative && !zero, int, frac)
    }
    fn magnitude(a: (&str, &str), b: (&str, &str)) -> Ordering {
        a.0.len()
            .cmp(&b.0.len())
            .then_with(|| a.0.cmp(b.0))
            .then_with(|| a.1.cmp(b.1))
    }
    let (na, ia, fa) = parts(a.as_str());
    let (nb, ib, fb) = parts(b.as_str());
    match (na, nb) {
        (false, true) => Ordering::Greater,
        (true, false) => Ordering::Less,
        (false, false) => magnitude((ia, fa), (ib, fb)),
        (true, true) => magnitude((ib, fb), (ia, fa)),
    }
}

/// Whether `value` reaches `target` in `direction`: the verdict value, target and direction
/// indicate is `met` when it does, and `partially_met` or `not_met` when it does not.
pub fn reaches_target(value: &Decimal, target: &Decimal, direction: Direction) -> bool {
    match direction {
        Direction::HigherIsBetter => compare_decimals(value, target) != Ordering::Less,
        Direction::LowerIsBetter => compare_decimals(value, target) != Ordering::Greater,
    }
}

/// Whether `verdict` differs from the one a value that does (`reached`) or does not reach
/// its target indicates.
fn differs(verdict: Verdict, reached: bool) -> bool {
    match verdict {
        Verdict::Met => !reached,
        Verdict::PartiallyMet | Verdict::NotMet => reached,
        Verdict::InsufficientEvidence => false,
    }
}

impl Ledger {
    /// Format 2, rule 5 for an evaluation: its score lies in its verdict's band of the rubric
    /// in force, and a verdict other than the one value, target and direction indicate
    /// carries a reason. `Ok(true)` when the verdict differs (with its reason).
    pub(crate) fn check_scoring(
        &self,
        seq: u64,
        submission: &Hash,
        verdict: Verdict,
        score: u8,
        has_reason: bool,
    ) -> Result<bool, Violation> {
        let fail = |detail: String| Err(Violation::new(seq, Rule::Reference, detail));
        if let Some((set, bands)) = &self.cycle.rubric {
            if let Some((min, max)) = bands.get(&verdict) {
                if score < *min || score > *max {
                    return fail(format!(
                        "score {score} is outside the band {min}–{max} of verdict {verdict} in \
                         the rubric set at seq {set}"
                    ));
                }
            }
        }
        let Some((filed, assignment, kpi, reached)) = self.indication(submission) else {
            return Ok(false);
        };
        let differs = differs(verdict, reached);
        if differs && !has_reason {
            let indicated = if reached {
                "met"
            } else {
                "partially_met or not_met"
            };
            return fail(format!(
                "the value {} against the target {} ({}) indicates {indicated}, not {verdict}: \
                 an evaluation whose verdict differs carries a `reason`",
                filed
                    .value
                    .as_ref()
                    .map_or("sealed".to_owned(), ToString::to_string),
                assignment.target,
                kpi.direction
            ));
        }
        Ok(differs)
    }

    /// The submission, its assignment in force, its KPI and whether its value reaches the
    /// target.
    fn indication(
        &self,
        submission: &Hash,
    ) -> Option<(
        &crate::ledger::SubmissionRecord,
        &crate::ledger::AssignmentRecord,
        &crate::ledger::KpiRecord,
        bool,
    )> {
        let filed = self.submissions.get(submission)?;
        let assignment = self
            .tracks
            .get(&filed.operator)?
            .get(&filed.kpi)?
            .assignments
            .last()?;
        let kpi = self.kpis.get(&filed.kpi)?;
        // A sealed value not opened indicates nothing (SPEC §12.4).
        let reached = reaches_target(filed.value.as_ref()?, &assignment.target, kpi.direction);
        Some((filed, assignment, kpi, reached))
    }

    /// Whether `verdict` for the submission with event hash `submission` differs from the one
    /// its value, its assignment's target and its KPI's direction indicate (SPEC §11.10), so
    /// that an evaluation giving it must carry a `reason`; `None` for an unknown submission.
    pub fn verdict_differs(&self, submission: &Hash, verdict: Verdict) -> Option<bool> {
        self.indication(submission)
            .map(|(.., reached)| differs(verdict, reached))
    }

    /// Format 2, rule 2c for a resolution: not by the evaluator of the evaluation disputed.
    pub(crate) fn check_not_evaluator(
        &self,
        seq: u64,
        evaluation: &Hash,
        signer: &Signer<'_>,
        what: &str,
    ) -> Result<(), Violation> {
        match self.cycle.evaluators.get(evaluation) {
            Some(evaluator) if evaluator == signer.id => Err(Violation::new(
                seq,
                Rule::ConflictOfInterest,
                format!(
                    "member `{}` signed the evaluation disputed and may not sign {what}: nobody \
                     judges their own evaluation",
                    signer.id
                ),
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        Decimal::try_new(text).unwrap()
    }

    #[test]
    fn decimals_compare_by_value() {
        for (a, b, want) in [
            ("1", "1.0", Ordering::Equal),
            ("10", "9.99", Ordering::Greater),
            ("-1", "0", Ordering::Less),
            ("-0", "0.0", Ordering::Equal),
            ("-2.5", "-2.25", Ordering::Less),
            ("0.5", "0.05", Ordering::Greater),
            ("97.5", "95", Ordering::Greater),
        ] {
            assert_eq!(compare_decimals(&d(a), &d(b)), want, "{a} vs {b}");
            assert_eq!(compare_decimals(&d(b), &d(a)), want.reverse(), "{b} vs {a}");
        }
        assert!(reaches_target(
            &d("95"),
            &d("95.0"),
            Direction::HigherIsBetter
        ));
        assert!(!reaches_target(
            &d("94.9"),
            &d("95"),
            Direction::HigherIsBetter
        ));
        assert!(reaches_target(&d("4"), &d("5"), Direction::LowerIsBetter));
    }

    proptest::proptest! {
        #[test]
        fn decimal_order_is_the_order_of_their_values(a in -100_000i64..100_000, b in -100_000i64..100_000) {
            let text = |n: i64| {
                let sign = if n < 0 { "-" } else { "" };
                format!("{sign}{}.{:02}", n.abs() / 100, n.abs() % 100)
            };
            proptest::prop_assert_eq!(compare_decimals(&d(&text(a)), &d(&text(b))), a.cmp(&b));
        }
    }

    #[test]
    fn quorum_is_a_share_rounded_up() {
        assert!(is_quorate(3, 5, 50));
        assert!(!is_quorate(2, 5, 50));
        assert!(is_quorate(5, 5, 100));
        assert!(!is_quorate(4, 5, 100));
        assert!(is_quorate(1, 5, 20));
        assert!(is_quorate(0, 0, 50));
        assert!(!is_quorate(0, 1, 1));
    }

    #[test]
    fn owners_and_items_read_as_json_objects_of_one_member() {
        let owner: ActionOwner = serde_json::from_str(r#"{"operator":"indus"}"#).unwrap();
        assert_eq!(
            owner,
            ActionOwner::Operator(Slug::try_new("indus").unwrap())
        );
        assert_eq!(owner.to_string(), "operator `indus`");
        assert!(serde_json::from_str::<ActionOwner>(r#"{"operator":"a","member":"b"}"#).is_err());
        assert!(serde_json::from_str::<ActionOwner>(r#"{"team":"a"}"#).is_err());
        let item: EscalatedItem = serde_json::from_str(r#"{"directive":"d-1"}"#).unwrap();
        assert_eq!(item.to_string(), "directive `d-1`");
        assert_eq!(
            serde_json::to_string(&EscalatedItem::Action(Slug::try_new("a-1").unwrap())).unwrap(),
            r#"{"action":"a-1"}"#
        );
    }
}
