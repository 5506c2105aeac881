//! `escalation.recorded` (format 2): a chair or authority escalates a commitment, directive or
//! action that was missed: closed as missed, or still open after its due date.

use hisaab_log::{Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::cycle::{EscalatedItem, EscalationRecord, TaskStatus};
use crate::kind::{Kind, KindRules};
use crate::ledger::{Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{Role, Slug, Text};

/// `escalation.recorded`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `escalation.recorded` (SPEC §11.8). \
    Generated from hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to \
    regenerate."
)]
pub struct EscalationRecordedBody {
    /// The new escalation's id.
    pub escalation: Slug,
    /// What it escalates: `{"commitment": …}`, `{"directive": …}` or `{"action": …}`.
    pub item: EscalatedItem,
    /// Why, and to whom (sealed in format 2, SPEC §12.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Text")]
    pub reason: Option<Text>,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for EscalationRecordedBody {
    const KIND: Kind = Kind::EscalationRecorded;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority, Role::Chair]);
    const CONFLICT_OF_INTEREST: bool = true;
    const SINCE: u64 = 2;

    fn concerns<'a>(&'a self, ledger: &'a Ledger) -> Option<(Option<&'a Slug>, &'static str)> {
        let operator = ledger
            .escalated_status(&self.item, ledger.today())
            .and_then(|(_, operator)| operator);
        Some((operator, "an escalation"))
    }

    fn check_references(
        &self,
        ledger: &Ledger,
        seq: u64,
        entry: &SealedEntry,
        _signer: &Signer<'_>,
        _history: &dyn History,
    ) -> Result<(), Violation> {
        let fail = |detail: String| Err(Violation::new(seq, Rule::Reference, detail));
        if let Some(existing) = ledger.cycle.escalations.get(&self.escalation) {
            return fail(format!(
                "escalation `{}` was already recorded at seq {}",
                self.escalation, existing.seq
            ));
        }
        let today = entry.entry().recorded_at.date();
        let Some((status, _)) = ledger.escalated_status(&self.item, today) else {
            return fail(format!("there is no {}", self.item));
        };
        if let Some(earlier) = ledger.cycle.escalated.get(&self.item) {
            return fail(format!(
                "{} was already escalated (escalation `{earlier}`); an item is escalated once",
                self.item
            ));
        }
        match status {
            TaskStatus::Overdue | TaskStatus::Missed => Ok(()),
            // A commitment closed with a sealed outcome: whether it was missed is checked
            // where the outcome is opened (at append, in a full replay), not here.
            TaskStatus::Closed => Ok(()),
            other => fail(format!(
                "{} is {other} on {today}, not overdue: only a missed commitment, directive or \
                 action is escalated",
                self.item
            )),
        }
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        let on = ledger.today();
        ledger
            .cycle
            .escalated
            .insert(self.item.clone(), self.escalation.clone());
        ledger.cycle.escalations.insert(
            self.escalation,
            EscalationRecord {
                seq,
                item: self.item,
                on,
            },
        );
    }
}
