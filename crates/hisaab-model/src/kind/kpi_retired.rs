//! `kpi.retired` (format 2): the authority or chair retires a KPI; from the date it is
//! recorded no report of it is owed and it is assigned no more.

use hisaab_log::{Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{KpiId, Role, Slug, Text};

/// `kpi.retired`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `kpi.retired` (SPEC §11.11). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct KpiRetiredBody {
    /// The KPI, defined and not retired.
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

impl KindRules for KpiRetiredBody {
    const KIND: Kind = Kind::KpiRetired;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority, Role::Chair]);
    const SINCE: u64 = 2;

    fn subject(&self) -> (Option<&Slug>, Option<&KpiId>) {
        (None, Some(&self.kpi))
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
        if !ledger.kpis.contains_key(&self.kpi) {
            return fail(format!("KPI `{}` is not defined", self.kpi));
        }
        match ledger.cycle.retired.get(&self.kpi) {
            Some((retired, _)) => fail(format!(
                "KPI `{}` was retired at seq {retired}; a KPI is retired once",
                self.kpi
            )),
            None => Ok(()),
        }
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        let today = ledger.today();
        ledger.cycle.retired.insert(self.kpi, (seq, today));
    }
}
