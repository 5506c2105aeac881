//! `challenge.raised`: a problem any member brings to the task force.

use hisaab_log::{Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{ChallengeRecord, Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{KpiId, Pillar, Slug, Text};

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
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Text")]
    pub description: Option<Text>,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for ChallengeRaisedBody {
    const KIND: Kind = Kind::ChallengeRaised;
    const SIGNERS: Signers = Signers::AnyMember;

    fn subject(&self) -> (Option<&Slug>, Option<&KpiId>) {
        (self.operator.as_ref(), self.kpi.as_ref())
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
        if let Some(existing) = ledger.challenges.get(&self.challenge) {
            return fail(format!(
                "challenge `{}` was already raised at seq {}",
                self.challenge, existing.seq
            ));
        }
        if let Some(operator) = &self.operator {
            ledger.check_operator(seq, operator)?;
        }
        match &self.kpi {
            Some(kpi) if !ledger.kpis.contains_key(kpi) => {
                fail(format!("KPI `{kpi}` is not defined"))
            }
            _ => Ok(()),
        }
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, hash: Hash, _signer: PublicKey) {
        ledger.challenge_events.insert(hash, self.challenge.clone());
        ledger.challenges.insert(
            self.challenge,
            ChallengeRecord {
                seq,
                raised: ledger.today(),
                operator: self.operator,
                kpi: self.kpi,
                resolved_seq: None,
            },
        );
    }
}
