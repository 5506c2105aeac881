//! Who owes what by when (SPEC §11.4): the obligations of a ledger on a date, a projection
//! like the state of §5 but not part of its digest.
//!
//! Five kinds of obligation come out of the ledger and its genesis policy: a report a KPI's
//! cadence expects and nobody filed by the filing deadline, a submission waiting for an
//! evaluation, a commitment falling due or overdue, a dispute and a challenge waiting for a
//! decision. Each says who owes it (an operator, or the holders of a role), when it is due and
//! how many days late it is on the date asked about. Pure: the date is an input.

use hisaab_log::jcs::INTEGER_MAX;
use hisaab_log::{Date, Hash, Period};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::Policy;
use crate::ledger::Ledger;
use crate::record::{ActionOwner, EscalatedItem};
use crate::value::{schema, vocabulary, Cadence, KpiId, Role, Slug};

/// How many days ahead a commitment counts as falling due.
pub const DUE_SOON_DAYS: i64 = 30;

/// The most periods one assignment is looked at for missing reports (a hundred years).
const PERIODS_MAX: u32 = 1200;

vocabulary!(
    /// What kind of obligation.
    ObligationKind {
        /// A report the KPI's cadence expects, not filed.
        Report = "report",
        /// A submission without an effective evaluation.
        Evaluation = "evaluation",
        /// A commitment not closed.
        Commitment = "commitment",
        /// A dispute not resolved.
        Dispute = "dispute",
        /// A challenge not resolved.
        Challenge = "challenge",
        /// Format 2: an action item of a meeting's minutes not closed.
        Action = "action",
        /// Format 2: a directive not closed.
        Directive = "directive",
    }
);

/// Who owes an obligation: an operator (its cisos) or the active members holding one of some
/// roles (who may sign what settles it), never one affiliated with the operator concerned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "by", rename_all = "snake_case", deny_unknown_fields)]
pub enum OwedBy {
    /// The operator, through its cisos.
    Operator {
        /// The operator.
        operator: Slug,
    },
    /// Any active member holding one of these roles.
    Roles {
        /// The roles, sorted.
        roles: Vec<Role>,
    },
    /// Format 2: one member (the owner of an action item).
    Member {
        /// The member.
        member: Slug,
    },
}

/// One obligation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Obligation {
    /// What is owed.
    pub kind: ObligationKind,
    /// Who owes it.
    pub owed_by: OwedBy,
    /// The operator it concerns, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<Slug>,
    /// The KPI it concerns, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kpi: Option<KpiId>,
    /// The period of a missing report or of a submission waiting for an evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::period")]
    pub period: Option<Period>,
    /// The submission waiting for an evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::hash")]
    pub submission: Option<Hash>,
    /// The commitment, dispute, challenge, action or directive id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Slug>,
    /// Format 2: the escalation naming this commitment, action or directive, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<Slug>,
    /// When it is (or was) due.
    #[schemars(schema_with = "schema::date")]
    pub due: Date,
    /// Days from `due` to `at`; 0 while it is not yet late.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub days_late: u64,
}

/// The obligations of a ledger at a tree size and date, most late first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "Who owes what by when: the obligations of a ledger at a tree size and date \
    (SPEC §11.4). Generated from hisaab-model; run `HISAAB_BLESS=1 cargo test --test it \
    schemas` to regenerate."
)]
pub struct Obligations {
    /// The ledger id.
    #[schemars(schema_with = "schema::hash")]
    pub ledger: Hash,
    /// The tree size they are taken at.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub size: u64,
    /// The date that decides what is due and late.
    #[schemars(schema_with = "schema::date")]
    pub at: Date,
    /// The obligations: most days late first, then by due date, kind, operator, KPI, period,
    /// id.
    pub items: Vec<Obligation>,
}

/// Which obligations to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObligationFilter {
    /// Only those concerning or owed by this operator.
    pub operator: Option<Slug>,
    /// Only those this member owes: their operator's, or their roles' where they are not
    /// affiliated with the operator concerned.
    pub member: Option<Slug>,
}

/// A filter that names what the ledger does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ObligationError {
    /// No such operator.
    #[error("operator `{0}` is not registered")]
    UnknownOperator(Slug),
    /// No such member.
    #[error("there is no member `{0}`")]
    UnknownMember(Slug),
}

impl Ledger {
    /// The obligations on date `at` (default: the date of the last entry's `recorded_at`),
    /// filtered (SPEC §11.4).
    ///
    /// # Errors
    /// [`ObligationError`] when the filter names an operator or member the ledger does not
    /// know.
    pub fn obligations(
        &self,
        at: Option<Date>,
        filter: &ObligationFilter,
    ) -> Result<Obligations, ObligationError> {
        if let Some(operator) = &filter.operator {
            if !self.operators.contains_key(operator) {
                return Err(ObligationError::UnknownOperator(operator.clone()));
            }
        }
        let member = match &filter.member {
            Some(id) => Some(
                self.members
                    .get(id)
                    .ok_or_else(|| ObligationError::UnknownMember(id.clone()))?,
            ),
            None => None,
        };
        let at = at.unwrap_or_else(|| self.today());
        let policy = self
            .genesis
            .as_ref()
            .map_or_else(|| Policy::window(0, 0), |g| g.policy);
        let mut items = Vec::new();
        self.missing_reports(at, &policy, &mut items);
        self.waiting_evaluations(at, &policy, &mut items);
        self.open_commitments(at, &mut items);
        self.open_decisions(at, &policy, &mut items);
        self.open_tasks(at, &mut items);
        // Format 2: what an operator that left the task force owed is closed as left.
        items.retain(|item| match &item.owed_by {
            OwedBy::Operator { operator } => !self.cycle.left.contains_key(operator),
            OwedBy::Roles { .. } | OwedBy::Member { .. } => true,
        });
        items.retain(|item| {
            let by_operator = filter.operator.as_ref().is_none_or(|operator| {
                item.operator.as_ref() == Some(operator)
                    || matches!(&item.owed_by, OwedBy::Operator { operator: o } if o == operator)
            });
            let by_member = member.is_none_or(|m| {
                if !m.is_active() {
                    return false;
                }
                match &item.owed_by {
                    OwedBy::Operator { operator } => {
                        let ciso =
                            m.roles.contains(&Role::Ciso) && m.operator.as_ref() == Some(operator);
                        // Format 2: a deputy whose delegation is in force on `at` owes it too.
                        let deputy = filter.member.as_ref().is_some_and(|id| {
                            self.cycle
                                .delegations
                                .get(id)
                                .is_some_and(|d| &d.operator == operator && at <= d.expires)
                        });
                        ciso || deputy
                    }
                    OwedBy::Roles { roles } => {
                        roles.iter().any(|r| m.roles.contains(r))
                            && (m.operator.is_none() || m.operator != item.operator)
                    }
                    OwedBy::Member { member } => filter.member.as_ref() == Some(member),
                }
            });
            by_operator && by_member
        });
        items.sort_by(|a, b| {
            b.days_late
                .cmp(&a.days_late)
                .then(a.due.cmp(&b.due))
                .then(a.kind.cmp(&b.kind))
                .then(a.operator.cmp(&b.operator))
                .then(a.kpi.cmp(&b.kpi))
                .then(a.period.cmp(&b.period))
                .then(a.id.cmp(&b.id))
        });
        Ok(Obligations {
            ledger: self.ledger_id.unwrap_or(Hash::ZERO),
            size: self.size,
            at,
            items,
        })
    }

    /// Reports expected from each assignment in force and not filed: monthly, every month from
    /// the assignment's first period; quarterly, every third month from its first period + 2
    /// (a report in any month of the quarter counts); each once its month has ended and due
    /// `filing_days` after. A KPI reported once: one report by the assignment's due date.
    fn missing_reports(&self, at: Date, policy: &Policy, items: &mut Vec<Obligation>) {
        let filing = days(policy.filing_days());
        for (operator, tracks) in &self.tracks {
            for (kpi, track) in tracks {
                let (Some(assignment), Some(definition)) =
                    (track.assignments.last(), self.kpis.get(kpi))
                else {
                    continue;
                };
                // Format 2: no report is owed for a period not ended when its KPI was retired
                // or its assignment withdrawn (SPEC §11.11–§11.12), whichever came first.
                let retired = self.cycle.retired.get(kpi).map(|(_, date)| *date);
                let withdrawn = self.withdrawal(operator, kpi).map(|(_, date)| date);
                let retired = match (retired, withdrawn) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                match definition.cadence {
                    Cadence::Monthly | Cadence::Quarterly => {
                        // A quarter's report names its last month: first_period + 2, + 5, …
                        let (span, step) = match definition.cadence {
                            Cadence::Monthly => (0, 1),
                            _ => (2, 3),
                        };
                        let mut offset = 0;
                        while offset < PERIODS_MAX {
                            let (Some(first), Some(period)) = (
                                assignment.first_period.plus_months(offset),
                                assignment.first_period.plus_months(offset + span),
                            ) else {
                                break;
                            };
                            if period.last_day() >= at
                                || retired.is_some_and(|date| period.last_day() >= date)
                            {
                                break;
                            }
                            offset += step;
                            // Any report in the quarter's months counts as its report.
                            if track.periods.range(first..=period).next().is_some() {
                                continue;
                            }
                            let Some(due) = period.last_day().plus_days(filing) else {
                                continue;
                            };
                            items.push(report(operator, kpi, Some(period), due, at));
                        }
                    }
                    Cadence::Once => {
                        // One report, by the assignment's due date.
                        let filed = track
                            .periods
                            .range(assignment.first_period..)
                            .next()
                            .is_some();
                        let retired_first = retired.is_some_and(|date| date <= assignment.due);
                        if !filed && assignment.due < at && !retired_first {
                            items.push(report(operator, kpi, None, assignment.due, at));
                        }
                    }
                }
            }
        }
    }

    /// Non-superseded submissions without an effective evaluation.
    fn waiting_evaluations(&self, at: Date, policy: &Policy, items: &mut Vec<Obligation>) {
        let waiting = days(policy.evaluation_days());
        for tracks in self.tracks.values() {
            for track in tracks.values() {
                for hash in track.periods.values() {
                    let Some(submission) = self.submissions.get(hash) else {
                        continue;
                    };
                    if submission.effective_evaluation.is_some() || submission.recorded > at {
                        continue;
                    }
                    let Some(due) = submission.recorded.plus_days(waiting) else {
                        continue;
                    };
                    items.push(Obligation {
                        kind: ObligationKind::Evaluation,
                        owed_by: OwedBy::Roles {
                            roles: vec![Role::Authority, Role::Chair, Role::Evaluator],
                        },
                        operator: Some(submission.operator.clone()),
                        kpi: Some(submission.kpi.clone()),
                        period: Some(submission.period),
                        submission: Some(*hash),
                        id: None,
                        escalation: None,
                        due,
                        days_late: days_late(due, at),
                    });
                }
            }
        }
    }

    /// Format 2: action items and directives not closed that are overdue or fall due within
    /// [`DUE_SOON_DAYS`]: an action owed by its owner, a directive by its operator.
    fn open_tasks(&self, at: Date, items: &mut Vec<Obligation>) {
        let horizon = at.plus_days(DUE_SOON_DAYS).unwrap_or(at);
        for (id, action) in &self.cycle.actions {
            if action.closed.is_some() || action.due > horizon {
                continue;
            }
            let owed_by = owed_by_owner(&action.owner);
            let item = EscalatedItem::Action(id.clone());
            items.push(self.open_item(ObligationKind::Action, owed_by, None, item, action.due, at));
        }
        for (id, directive) in &self.cycle.directives {
            if directive.closed.is_some() || directive.due > horizon || directive.issued > at {
                continue;
            }
            let owed_by = OwedBy::Operator {
                operator: directive.operator.clone(),
            };
            let item = EscalatedItem::Directive(id.clone());
            let due = directive.due;
            items.push(self.open_item(ObligationKind::Directive, owed_by, None, item, due, at));
        }
    }

    /// Commitments not closed that are overdue or fall due within [`DUE_SOON_DAYS`].
    fn open_commitments(&self, at: Date, items: &mut Vec<Obligation>) {
        let horizon = at.plus_days(DUE_SOON_DAYS).unwrap_or(at);
        for (id, commitment) in &self.commitments {
            if commitment.closed.is_some() || commitment.due > horizon {
                continue;
            }
            let owed_by = OwedBy::Operator {
                operator: commitment.operator.clone(),
            };
            let kpi = commitment.kpi.clone();
            let item = EscalatedItem::Commitment(id.clone());
            let due = commitment.due;
            items.push(self.open_item(ObligationKind::Commitment, owed_by, kpi, item, due, at));
        }
    }

    /// The obligation to close `item` (a commitment, action or directive) by `due`: owed by
    /// `owed_by`, concerning the operator that owes it (none for a member), with the
    /// escalation that names the item, if any.
    fn open_item(
        &self,
        kind: ObligationKind,
        owed_by: OwedBy,
        kpi: Option<KpiId>,
        item: EscalatedItem,
        due: Date,
        at: Date,
    ) -> Obligation {
        let operator = match &owed_by {
            OwedBy::Operator { operator } => Some(operator.clone()),
            OwedBy::Roles { .. } | OwedBy::Member { .. } => None,
        };
        let escalation = self.cycle.escalated.get(&item).cloned();
        let (EscalatedItem::Commitment(id)
        | EscalatedItem::Directive(id)
        | EscalatedItem::Action(id)) = item;
        Obligation {
            kind,
            owed_by,
            operator,
            kpi,
            period: None,
            submission: None,
            id: Some(id),
            escalation,
            due,
            days_late: days_late(due, at),
        }
    }

    /// Disputes and challenges waiting for a decision.
    fn open_decisions(&self, at: Date, policy: &Policy, items: &mut Vec<Obligation>) {
        let decision = days(policy.decision_days());
        for (id, dispute) in &self.disputes {
            if dispute.resolved.is_some() || dispute.opened > at {
                continue;
            }
            let Some(due) = dispute.opened.plus_days(decision) else {
                continue;
            };
            items.push(Obligation {
                kind: ObligationKind::Dispute,
                owed_by: OwedBy::Roles {
                    roles: vec![Role::Authority],
                },
                operator: Some(dispute.operator.clone()),
                kpi: Some(dispute.kpi.clone()),
                period: None,
                submission: None,
                id: Some(id.clone()),
                escalation: None,
                due,
                days_late: days_late(due, at),
            });
        }
        for (id, challenge) in &self.challenges {
            if challenge.resolved_seq.is_some() || challenge.raised > at {
                continue;
            }
            // Format 2: a challenge with an owner is owed by its owner by its due date.
            let (owed_by, due) = match (&challenge.owner, challenge.due) {
                (Some(owner), Some(due)) => (owed_by_owner(owner), Some(due)),
                _ => (
                    OwedBy::Roles {
                        roles: vec![Role::Authority, Role::Chair],
                    },
                    challenge.raised.plus_days(decision),
                ),
            };
            let Some(due) = due else {
                continue;
            };
            items.push(Obligation {
                kind: ObligationKind::Challenge,
                owed_by,
                operator: challenge.operator.clone(),
                kpi: challenge.kpi.clone(),
                period: None,
                submission: None,
                id: Some(id.clone()),
                escalation: None,
                due,
                days_late: days_late(due, at),
            });
        }
    }
}

/// Who owes what an owner (of an action or a challenge) owes: the member, or the operator.
fn owed_by_owner(owner: &ActionOwner) -> OwedBy {
    match owner {
        ActionOwner::Member(member) => OwedBy::Member {
            member: member.clone(),
        },
        ActionOwner::Operator(operator) => OwedBy::Operator {
            operator: operator.clone(),
        },
    }
}

/// A missing report of `operator` for `kpi`.
fn report(operator: &Slug, kpi: &KpiId, period: Option<Period>, due: Date, at: Date) -> Obligation {
    Obligation {
        kind: ObligationKind::Report,
        owed_by: OwedBy::Operator {
            operator: operator.clone(),
        },
        operator: Some(operator.clone()),
        kpi: Some(kpi.clone()),
        period,
        submission: None,
        id: None,
        escalation: None,
        due,
        days_late: days_late(due, at),
    }
}

/// A policy's days as a signed count (a policy's days are at most ten years).
fn days(days: u64) -> i64 {
    i64::try_from(days).unwrap_or(i64::MAX / 2)
}

/// Days from `due` to `at`, 0 when `at` is not after `due`.
fn days_late(due: Date, at: Date) -> u64 {
    u64::try_from(at.days_since_epoch() - due.days_since_epoch()).unwrap_or(0)
}
