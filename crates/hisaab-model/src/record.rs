//! The replay records of the task force's cycle (format 2, SPEC §11.7–§11.9) and the plain
//! values they hold: who owns an action item, what an escalation names, a meeting's agenda
//! item, where a task stands. Plain data under the ledger: the kinds write these records
//! (`Ledger::apply`), and the cycle's projection ([`crate::cycle`]) reads them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use hisaab_log::{Date, Hash};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rule::{Rule, Violation};
use crate::value::{vocabulary, ActionOutcome, KpiId, Slug, StakeholderType, Text, Verdict};

/// Who owns an action item: a member, or an operator (through its cisos).
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionOwner {
    /// A member of the task force.
    Member(Slug),
    /// An operator; its cisos act for it.
    Operator(Slug),
}

impl fmt::Display for ActionOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActionOwner::Member(m) => write!(f, "member `{m}`"),
            ActionOwner::Operator(o) => write!(f, "operator `{o}`"),
        }
    }
}

/// What an escalation names: a commitment, a directive or an action item that was missed.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum EscalatedItem {
    /// A commitment of an operator.
    Commitment(Slug),
    /// A directive of the authority.
    Directive(Slug),
    /// An action item of a meeting's minutes.
    Action(Slug),
}

impl fmt::Display for EscalatedItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EscalatedItem::Commitment(c) => write!(f, "commitment `{c}`"),
            EscalatedItem::Directive(d) => write!(f, "directive `{d}`"),
            EscalatedItem::Action(a) => write!(f, "action `{a}`"),
        }
    }
}

/// One item of a meeting's agenda: a title and what it names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgendaItem {
    /// What the item is.
    pub title: Text,
    /// The operator it names, registered.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::value::present"
    )]
    #[schemars(with = "Slug")]
    pub operator: Option<Slug>,
    /// The KPI it names, defined.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::value::present"
    )]
    #[schemars(with = "KpiId")]
    pub kpi: Option<KpiId>,
    /// The dispute it names, opened.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::value::present"
    )]
    #[schemars(with = "Slug")]
    pub dispute: Option<Slug>,
    /// The challenge it names, raised.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::value::present"
    )]
    #[schemars(with = "Slug")]
    pub challenge: Option<Slug>,
    /// The stakeholder it names, registered (SPEC §11.12).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::value::present"
    )]
    #[schemars(with = "Slug")]
    pub stakeholder: Option<Slug>,
}

/// A rubric's bands: each verdict's least and greatest score.
pub(crate) type Bands = BTreeMap<Verdict, (u8, u8)>;

/// A map whose keys do not serialise as strings, written as a list of `[key, value]` pairs.
mod pairs {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub(crate) fn serialize<S: Serializer, K: Serialize, V: Serialize>(
        map: &BTreeMap<K, V>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(map)
    }

    pub(crate) fn deserialize<'de, D, K, V>(deserializer: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        D: Deserializer<'de>,
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(deserializer)?
            .into_iter()
            .collect())
    }
}

/// The replay state of the cycle's kinds (format 2).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct CycleLedger {
    /// Meetings scheduled, by meeting id.
    pub(crate) scheduled: BTreeMap<Slug, ScheduledRecord>,
    /// Action items of minutes, by action id.
    pub(crate) actions: BTreeMap<Slug, ActionRecord>,
    /// Directives of the authority, by directive id.
    pub(crate) directives: BTreeMap<Slug, DirectiveRecord>,
    /// Each commitment's extensions, oldest first.
    pub(crate) extensions: BTreeMap<Slug, Vec<ExtensionRecord>>,
    /// Escalations, by escalation id.
    pub(crate) escalations: BTreeMap<Slug, EscalationRecord>,
    /// The escalation of each item escalated. Kept in a snapshot as `[item, escalation]` pairs:
    /// an item is not a string, and JSON object keys must be.
    #[serde(with = "pairs")]
    pub(crate) escalated: BTreeMap<EscalatedItem, Slug>,
    /// The date each meeting recorded was held.
    pub(crate) held_on: BTreeMap<Slug, Date>,
    /// The rubric in force: its seq and each verdict's band of scores.
    pub(crate) rubric: Option<(u64, Bands)>,
    /// Who signed each evaluation (format 2), for the conflict of interest of resolutions.
    pub(crate) evaluators: BTreeMap<Hash, Slug>,
    /// The evaluations whose verdict differs from the one value, target and direction
    /// indicate (each carried a `reason`).
    pub(crate) differing: BTreeSet<Hash>,
    /// Retired KPIs: the seq and date of their `kpi.retired`.
    pub(crate) retired: BTreeMap<KpiId, (u64, Date)>,
    /// Delegations in force or expired, by deputy: the last one granted to each.
    pub(crate) delegations: BTreeMap<Slug, DelegationRecord>,
    /// Members suspended, with the seq of their suspension.
    pub(crate) suspended: BTreeMap<Slug, u64>,
    /// Assignments withdrawn and not assigned again, by operator and KPI: the seq and date
    /// of their `assignment.withdrawn` (SPEC §11.12).
    #[serde(default)]
    pub(crate) withdrawn: BTreeMap<Slug, BTreeMap<KpiId, (u64, Date)>>,
    /// Operators that left the task force: the seq and date of their `operator.left`.
    #[serde(default)]
    pub(crate) left: BTreeMap<Slug, (u64, Date)>,
    /// Stakeholders registered, by id.
    #[serde(default)]
    pub(crate) stakeholders: BTreeMap<Slug, StakeholderRecord>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct StakeholderRecord {
    pub(crate) seq: u64,
    pub(crate) name: Text,
    pub(crate) kind: StakeholderType,
    pub(crate) registered: Date,
}

/// A measure taken against a challenge (SPEC §11.12).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct MeasureRecord {
    pub(crate) seq: u64,
    pub(crate) by: ActionOwner,
    pub(crate) on: Date,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct DelegationRecord {
    pub(crate) seq: u64,
    pub(crate) operator: Slug,
    pub(crate) expires: Date,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ScheduledRecord {
    pub(crate) seq: u64,
    pub(crate) date: Date,
    pub(crate) agenda: Vec<AgendaItem>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ActionRecord {
    pub(crate) seq: u64,
    pub(crate) meeting: Slug,
    pub(crate) owner: ActionOwner,
    pub(crate) due: Date,
    pub(crate) closed: Option<(u64, ActionOutcome)>,
    /// The stakeholders it names (SPEC §11.12).
    #[serde(default)]
    pub(crate) stakeholders: BTreeSet<Slug>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct DirectiveRecord {
    pub(crate) seq: u64,
    pub(crate) operator: Slug,
    pub(crate) issued: Date,
    pub(crate) due: Date,
    pub(crate) closed: Option<(u64, ActionOutcome)>,
    /// The stakeholders it names (SPEC §11.12).
    #[serde(default)]
    pub(crate) stakeholders: BTreeSet<Slug>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ExtensionRecord {
    pub(crate) seq: u64,
    pub(crate) from: Date,
    pub(crate) to: Date,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct EscalationRecord {
    pub(crate) seq: u64,
    pub(crate) item: EscalatedItem,
    pub(crate) on: Date,
}

impl CycleLedger {
    /// Whether `id` names an action or a directive (one namespace: both are closed alike).
    pub(crate) fn task_seq(&self, id: &Slug) -> Option<u64> {
        self.actions
            .get(id)
            .map(|a| a.seq)
            .or_else(|| self.directives.get(id).map(|d| d.seq))
    }

    /// Rule 5 for a new action or directive `id`: the id names neither yet.
    pub(crate) fn check_new_task(&self, seq: u64, id: &Slug) -> Result<(), Violation> {
        match self.task_seq(id) {
            Some(existing) => Err(Violation::new(
                seq,
                Rule::Reference,
                format!("`{id}` already names an action or directive, from seq {existing}"),
            )),
            None => Ok(()),
        }
    }
}

vocabulary!(
    /// Where an action, directive or commitment stands on a date.
    TaskStatus {
        /// Not closed, `at` not after `due`.
        Open = "open",
        /// Not closed, `at` after `due`.
        Overdue = "overdue",
        /// Closed as done (a commitment: fulfilled).
        Done = "done",
        /// Closed as missed.
        Missed = "missed",
        /// A commitment closed as withdrawn.
        Withdrawn = "withdrawn",
        /// A commitment closed with its outcome sealed and not opened (SPEC §12): closed, but
        /// whether fulfilled, missed or withdrawn is not known to this replay.
        Closed = "closed",
        /// Not closed when the operator that owed it left the task force (SPEC §11.12): closed
        /// as left.
        Left = "left",
    }
);

impl TaskStatus {
    /// Where a task closed with `closed` (or not yet) and due on `due` stands on `at`.
    pub(crate) fn of(closed: Option<ActionOutcome>, due: Date, at: Date) -> TaskStatus {
        match closed {
            Some(ActionOutcome::Done) => TaskStatus::Done,
            Some(ActionOutcome::Missed) => TaskStatus::Missed,
            None if at > due => TaskStatus::Overdue,
            None => TaskStatus::Open,
        }
    }
}
