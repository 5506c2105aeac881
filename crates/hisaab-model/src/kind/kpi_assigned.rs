//! `kpi.assigned`: assigns (or re-assigns, from then on) a KPI to an operator.

use hisaab_log::{Date, Hash, Period, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{AssignmentRecord, Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{schema, Decimal, KpiId, Role, Slug};

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

impl KindRules for KpiAssignedBody {
    const KIND: Kind = Kind::KpiAssigned;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority, Role::Chair]);
    const CONFLICT_OF_INTEREST: bool = true;

    fn subject(&self) -> (Option<&Slug>, Option<&KpiId>) {
        (Some(&self.operator), Some(&self.kpi))
    }

    fn concerns<'a>(&'a self, _ledger: &'a Ledger) -> Option<(Option<&'a Slug>, &'static str)> {
        Some((Some(&self.operator), "a KPI assignment"))
    }

    fn check_references(
        &self,
        ledger: &Ledger,
        seq: u64,
        _entry: &SealedEntry,
        _signer: &Signer<'_>,
        _history: &dyn History,
    ) -> Result<(), Violation> {
        if !ledger.kpis.contains_key(&self.kpi) {
            return Err(Violation::new(
                seq,
                Rule::Reference,
                format!("KPI `{}` is not defined", self.kpi),
            ));
        }
        if let Some((retired, _)) = ledger.cycle.retired.get(&self.kpi) {
            return Err(Violation::new(
                seq,
                Rule::Reference,
                format!(
                    "KPI `{}` was retired at seq {retired}; a retired KPI is assigned no more",
                    self.kpi
                ),
            ));
        }
        ledger.check_operator_present(seq, &self.operator)
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        // Format 2: assigned again after a withdrawal, the pair owes reports again.
        if let Some(withdrawn) = ledger.cycle.withdrawn.get_mut(&self.operator) {
            withdrawn.remove(&self.kpi);
            if withdrawn.is_empty() {
                ledger.cycle.withdrawn.remove(&self.operator);
            }
        }
        ledger
            .tracks
            .entry(self.operator)
            .or_default()
            .entry(self.kpi)
            .or_default()
            .assignments
            .push(AssignmentRecord {
                seq,
                target: self.target,
                baseline: self.baseline,
                due: self.due,
                first_period: self.first_period,
            });
    }
}
