//! `dispute.opened`: an operator contests an effective evaluation of its submission.

use hisaab_log::{Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{DisputeRecord, Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{schema, Slug, Text};

/// `dispute.opened`: an operator contests an evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `dispute.opened` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct DisputeOpenedBody {
    /// The new dispute's id.
    pub dispute: Slug,
    /// The event hash of the evaluation contested.
    #[schemars(schema_with = "schema::hash")]
    pub evaluation: Hash,
    /// The grounds.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Text")]
    pub grounds: Option<Text>,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for DisputeOpenedBody {
    const KIND: Kind = Kind::DisputeOpened;
    const SIGNERS: Signers = Signers::CisoOfOperator;

    fn check_permission(
        &self,
        ledger: &Ledger,
        seq: u64,
        signer: &Signer<'_>,
    ) -> Result<(), Violation> {
        let operator = ledger
            .evaluations
            .get(&self.evaluation)
            .and_then(|e| ledger.submissions.get(&e.submission))
            .map(|s| &s.operator);
        ledger.check_ciso_of(seq, Self::KIND, signer, operator)
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
        if let Some(existing) = ledger.disputes.get(&self.dispute) {
            return fail(format!(
                "dispute `{}` was already opened at seq {}",
                self.dispute, existing.seq
            ));
        }
        let Some(evaluation) = ledger.evaluations.get(&self.evaluation) else {
            return fail(format!(
                "`evaluation` {} is not the event hash of an evaluation.recorded in this ledger",
                self.evaluation
            ));
        };
        if let Some(superseded) = evaluation.superseded_seq {
            return fail(format!(
                "evaluation {} was superseded at seq {superseded}; only an effective evaluation \
                 is disputed",
                self.evaluation
            ));
        }
        if let Some(overturned) = evaluation.overturned_seq {
            return fail(format!(
                "evaluation {} was overturned at seq {overturned}; only an effective evaluation \
                 is disputed",
                self.evaluation
            ));
        }
        if let Some(superseded) = ledger
            .submissions
            .get(&evaluation.submission)
            .and_then(|s| s.superseded_seq)
        {
            return fail(format!(
                "evaluation {} judges submission {}, superseded at seq {superseded}",
                self.evaluation, evaluation.submission
            ));
        }
        if let Some(open) = &evaluation.open_dispute {
            return fail(format!(
                "evaluation {} already has the open dispute `{open}`; one open dispute per \
                 evaluation",
                self.evaluation
            ));
        }
        Ok(())
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        let mut concerned = None;
        if let Some(evaluation) = ledger.evaluations.get_mut(&self.evaluation) {
            evaluation.open_dispute = Some(self.dispute.clone());
            concerned = ledger
                .submissions
                .get(&evaluation.submission)
                .map(|s| (s.operator.clone(), s.kpi.clone()));
        }
        if let Some((operator, kpi)) = concerned {
            ledger.disputes.insert(
                self.dispute,
                DisputeRecord {
                    seq,
                    opened: ledger.today(),
                    evaluation: self.evaluation,
                    operator,
                    kpi,
                    resolved: None,
                },
            );
        }
    }
}
