//! `assignment.withdrawn` (format 2): the authority or chair withdraws a KPI's assignment from
//! an operator; from the date it is recorded no report of the pair is owed, until a
//! `kpi.assigned` assigns it again (SPEC §11.12).

use hisaab_log::{Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{KpiId, Role, Slug, Text};

/// `assignment.withdrawn`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `assignment.withdrawn` (SPEC §11.12). \
    Generated from hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to \
    regenerate."
)]
pub struct AssignmentWithdrawnBody {
    /// The operator, holding an assignment of the KPI.
    pub operator: Slug,
    /// The KPI.
    pub kpi: KpiId,
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

impl KindRules for AssignmentWithdrawnBody {
    const KIND: Kind = Kind::AssignmentWithdrawn;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority, Role::Chair]);
    const CONFLICT_OF_INTEREST: bool = true;
    const SINCE: u64 = 2;

    fn subject(&self) -> (Option<&Slug>, Option<&KpiId>) {
        (Some(&self.operator), Some(&self.kpi))
    }

    fn concerns<'a>(&'a self, _ledger: &'a Ledger) -> Option<(Option<&'a Slug>, &'static str)> {
        Some((Some(&self.operator), "the withdrawal of an assignment"))
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
        ledger.check_operator(seq, &self.operator)?;
        if !ledger.kpis.contains_key(&self.kpi) {
            return fail(format!("KPI `{}` is not defined", self.kpi));
        }
        let assigned = ledger
            .tracks
            .get(&self.operator)
            .and_then(|tracks| tracks.get(&self.kpi))
            .is_some_and(|track| !track.assignments.is_empty());
        if !assigned {
            return fail(format!(
                "operator `{}` has no assignment of KPI `{}`",
                self.operator, self.kpi
            ));
        }
        match ledger.withdrawal(&self.operator, &self.kpi) {
            Some((withdrawn, _)) => fail(format!(
                "the assignment of KPI `{}` to operator `{}` was withdrawn at seq {withdrawn}; \
                 a kpi.assigned assigns it again",
                self.kpi, self.operator
            )),
            None => Ok(()),
        }
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        let today = ledger.today();
        ledger
            .cycle
            .withdrawn
            .entry(self.operator)
            .or_default()
            .insert(self.kpi, (seq, today));
    }
}
