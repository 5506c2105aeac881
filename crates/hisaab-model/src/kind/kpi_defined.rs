//! `kpi.defined`: defines a KPI of a pillar.

use hisaab_log::{Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{KpiRecord, Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{Cadence, Direction, KpiId, Pillar, Role, Slug, Text};

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
    /// Whether submissions must carry evidence (informational in v1; enforced on a ledger of
    /// format 2, SPEC §11).
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

impl KindRules for KpiDefinedBody {
    const KIND: Kind = Kind::KpiDefined;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority, Role::Chair]);

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
        match ledger.kpis.get(&self.kpi) {
            Some(existing) => Err(Violation::new(
                seq,
                Rule::Reference,
                format!(
                    "KPI `{}` was already defined at seq {}",
                    self.kpi, existing.seq
                ),
            )),
            None => Ok(()),
        }
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        ledger.kpis.insert(
            self.kpi,
            KpiRecord {
                pillar: self.pillar,
                seq,
                title: self.title,
                unit: self.unit,
                direction: self.direction,
                cadence: self.cadence,
                evidence_required: self.evidence_required,
            },
        );
    }
}
