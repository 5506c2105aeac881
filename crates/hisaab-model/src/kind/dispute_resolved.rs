//! `dispute.resolved`: the authority's decision on a dispute, bound to the digest of the state
//! it was taken on.

use hisaab_log::jcs::INTEGER_MAX;
use hisaab_log::{Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{unavailable, DisputeRecord, Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{schema, DisputeOutcome, Role, Slug, Text};

/// `dispute.resolved`: the authority's decision, bound to the state it was taken on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `dispute.resolved` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct DisputeResolvedBody {
    /// The dispute.
    pub dispute: Slug,
    /// The decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "DisputeOutcome")]
    pub outcome: Option<DisputeOutcome>,
    /// The tree size of the state decided on (1 ..= this entry's seq).
    #[schemars(range(max = "INTEGER_MAX"))]
    pub as_of: u64,
    /// The digest of the state at `as_of` with the default `at`: SPEC §5.7's on a format-1
    /// ledger, the full-state digest of §12.8 on a format-2 one.
    #[schemars(schema_with = "schema::hash")]
    pub state_digest: Hash,
    /// Why.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Text")]
    pub rationale: Option<Text>,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for DisputeResolvedBody {
    const KIND: Kind = Kind::DisputeResolved;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority]);
    const CONFLICT_OF_INTEREST: bool = true;

    fn check_permission(
        &self,
        ledger: &Ledger,
        seq: u64,
        signer: &Signer<'_>,
    ) -> Result<(), Violation> {
        ledger.check_roles(seq, Self::KIND, Self::SIGNERS, signer)?;
        match ledger.disputes.get(&self.dispute) {
            Some(dispute) if ledger.is_v2() => ledger.check_not_evaluator(
                seq,
                &dispute.evaluation,
                signer,
                "the resolution of a dispute over it",
            ),
            _ => Ok(()),
        }
    }

    fn concerns<'a>(&'a self, ledger: &'a Ledger) -> Option<(Option<&'a Slug>, &'static str)> {
        Some((
            ledger.disputes.get(&self.dispute).map(|d| &d.operator),
            "the resolution of a dispute",
        ))
    }

    fn check_references(
        &self,
        ledger: &Ledger,
        seq: u64,
        _entry: &SealedEntry,
        _signer: &Signer<'_>,
        history: &dyn History,
    ) -> Result<(), Violation> {
        let fail = |detail: String| Err(Violation::new(seq, Rule::Reference, detail));
        match ledger.disputes.get(&self.dispute) {
            None => return fail(format!("there is no dispute `{}`", self.dispute)),
            Some(DisputeRecord {
                resolved: Some((resolved, outcome)),
                ..
            }) => {
                return fail(format!(
                    "dispute `{}` was already resolved ({}) at seq {resolved}; a dispute is \
                     resolved once",
                    self.dispute,
                    crate::sealed::or_sealed(outcome.as_ref())
                ))
            }
            Some(_) => {}
        }
        if self.as_of < 1 || self.as_of > seq {
            return fail(format!(
                "as_of {} is outside 1..={seq}: a resolution decides on a state the ledger \
                 already had",
                self.as_of
            ));
        }
        if ledger.is_partial() {
            // The digest a resolution names is the full state's; a replay without every
            // opening has only the public state (SPEC §12.4, §12.8), so it cannot check it.
            return Ok(());
        }
        let digest = match history.state_digest_at(self.as_of) {
            Ok(digest) => digest,
            Err(error @ crate::rule::HistoryError::NoDigest { .. }) => {
                return fail(error.to_string())
            }
            Err(error) => return Err(unavailable(seq, &error)),
        };
        if digest != self.state_digest {
            let which = if ledger.is_v2() {
                "the full-state digest, SPEC §12.8"
            } else {
                "SPEC §5.7"
            };
            return fail(format!(
                "state_digest {} is not the digest of the state at size {} ({digest}; {which})",
                self.state_digest, self.as_of
            ));
        }
        Ok(())
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        let Some(dispute) = ledger.disputes.get_mut(&self.dispute) else {
            return;
        };
        dispute.resolved = Some((seq, self.outcome));
        let evaluation_hash = dispute.evaluation;
        if let Some(evaluation) = ledger.evaluations.get_mut(&evaluation_hash) {
            evaluation.open_dispute = None;
            if self.outcome.is_none() {
                if let Some(submission) = ledger.submissions.get_mut(&evaluation.submission) {
                    if submission.effective_evaluation == Some(evaluation_hash) {
                        submission.effective_unknown = true;
                    }
                }
            }
            if self.outcome == Some(DisputeOutcome::Overturned) {
                // The evaluation is void; overturning never revives what it superseded.
                evaluation.overturned_seq = Some(seq);
                if let Some(submission) = ledger.submissions.get_mut(&evaluation.submission) {
                    if submission.effective_evaluation == Some(evaluation_hash) {
                        submission.effective_evaluation = None;
                    }
                }
            }
        }
    }
}
