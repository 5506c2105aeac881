//! `meeting.scheduled` (format 2): a meeting of the task force announced with its date and
//! agenda, before it is held and recorded under the same id.

use hisaab_log::{Date, Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::cycle::{AgendaItem, ScheduledRecord};
use crate::kind::{Kind, KindRules};
use crate::ledger::{Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{schema, Role, Slug};

/// The greatest number of items of an agenda.
pub const AGENDA_MAX: usize = 64;

/// `meeting.scheduled`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `meeting.scheduled` (SPEC §11.7). Generated \
    from hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct MeetingScheduledBody {
    /// The meeting's id, which its `meeting.recorded` will carry.
    pub meeting: Slug,
    /// The date it is to be held.
    #[schemars(schema_with = "schema::date")]
    pub date: Date,
    /// 0–64 agenda items, each naming what it is about.
    #[schemars(length(max = "AGENDA_MAX"))]
    pub agenda: Vec<AgendaItem>,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for MeetingScheduledBody {
    const KIND: Kind = Kind::MeetingScheduled;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority, Role::Chair]);
    const SINCE: u64 = 2;

    fn check_form(&self) -> Result<(), String> {
        if self.agenda.len() > AGENDA_MAX {
            return Err(format!(
                "agenda has {} items, at most {AGENDA_MAX} are allowed",
                self.agenda.len()
            ));
        }
        Ok(())
    }

    fn check_references(
        &self,
        ledger: &Ledger,
        seq: u64,
        _entry: &SealedEntry,
        _signer: &Signer<'_>,
        _history: &dyn History,
    ) -> Result<(), Violation> {
        let fail = |detail: String| Err(Violation::new(seq, Rule::Reference, detail));
        if let Some(existing) = ledger.cycle.scheduled.get(&self.meeting) {
            return fail(format!(
                "meeting `{}` was already scheduled at seq {}",
                self.meeting, existing.seq
            ));
        }
        if let Some(existing) = ledger.meetings.get(&self.meeting) {
            return fail(format!(
                "meeting `{}` was already recorded at seq {}; a meeting is scheduled before it \
                 is held",
                self.meeting, existing.seq
            ));
        }
        for (n, item) in (1..).zip(&self.agenda) {
            if let Some(operator) = &item.operator {
                if !ledger.operators.contains_key(operator) {
                    return fail(format!(
                        "agenda item {n} names operator `{operator}`, which is not registered"
                    ));
                }
            }
            if let Some(kpi) = &item.kpi {
                if !ledger.kpis.contains_key(kpi) {
                    return fail(format!(
                        "agenda item {n} names KPI `{kpi}`, which is not defined"
                    ));
                }
            }
            if let Some(dispute) = &item.dispute {
                if !ledger.disputes.contains_key(dispute) {
                    return fail(format!(
                        "agenda item {n} names dispute `{dispute}`, which was not opened"
                    ));
                }
            }
            if let Some(challenge) = &item.challenge {
                if !ledger.challenges.contains_key(challenge) {
                    return fail(format!(
                        "agenda item {n} names challenge `{challenge}`, which was not raised"
                    ));
                }
            }
            if let Some(stakeholder) = &item.stakeholder {
                if !ledger.cycle.stakeholders.contains_key(stakeholder) {
                    return fail(format!(
                        "agenda item {n} names stakeholder `{stakeholder}`, which is not \
                         registered"
                    ));
                }
            }
        }
        Ok(())
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        ledger.cycle.scheduled.insert(
            self.meeting,
            ScheduledRecord {
                seq,
                date: self.date,
                agenda: self.agenda,
            },
        );
    }
}
