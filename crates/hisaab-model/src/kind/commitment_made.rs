//! `commitment.made`: an operator's promise, signed by a ciso of that operator.

use hisaab_log::{Date, Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{CommitmentRecord, Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{schema, KpiId, Slug, Text};

/// `commitment.made`: an operator's promise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `commitment.made` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct CommitmentMadeBody {
    /// The new commitment's id.
    pub commitment: Slug,
    /// The operator.
    pub operator: Slug,
    /// The KPI it concerns, assigned to the operator.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "KpiId")]
    pub kpi: Option<KpiId>,
    /// What will be done.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Text")]
    pub action: Option<Text>,
    /// By when.
    #[schemars(schema_with = "schema::date")]
    pub due: Date,
    /// The event hash of the evaluation or challenge it answers.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(schema_with = "schema::hash")]
    pub in_response_to: Option<Hash>,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for CommitmentMadeBody {
    const KIND: Kind = Kind::CommitmentMade;
    const SIGNERS: Signers = Signers::CisoOfOperator;

    fn subject(&self) -> (Option<&Slug>, Option<&KpiId>) {
        (Some(&self.operator), self.kpi.as_ref())
    }

    fn check_permission(
        &self,
        ledger: &Ledger,
        seq: u64,
        signer: &Signer<'_>,
    ) -> Result<(), Violation> {
        ledger.check_ciso_of(seq, Self::KIND, signer, Some(&self.operator))
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
        if let Some(existing) = ledger.commitments.get(&self.commitment) {
            return fail(format!(
                "commitment `{}` was already made at seq {}",
                self.commitment, existing.seq
            ));
        }
        ledger.check_operator(seq, &self.operator)?;
        if let Some(kpi) = &self.kpi {
            let assigned = ledger
                .tracks
                .get(&self.operator)
                .and_then(|t| t.get(kpi))
                .is_some_and(|t| !t.assignments.is_empty());
            if !assigned {
                return fail(format!(
                    "KPI `{kpi}` is not assigned to operator `{}`",
                    self.operator
                ));
            }
        }
        if let Some(target) = &self.in_response_to {
            if !ledger.evaluations.contains_key(target)
                && !ledger.challenge_events.contains_key(target)
            {
                return fail(format!(
                    "`in_response_to` {target} is not the event hash of an evaluation.recorded \
                     or a challenge.raised in this ledger"
                ));
            }
        }
        Ok(())
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        ledger.commitments.insert(
            self.commitment,
            CommitmentRecord {
                seq,
                operator: self.operator,
                kpi: self.kpi,
                due: self.due,
                closed: None,
            },
        );
    }
}
