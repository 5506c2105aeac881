//! `evaluation.recorded`: a judgement of a submission; a later one names the effective one in
//! `supersedes`.

use hisaab_log::{Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{EvaluationRecord, Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{schema, Role, Score, Slug, Text, Verdict};

/// `evaluation.recorded`: a judgement of a submission.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `evaluation.recorded` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct EvaluationRecordedBody {
    /// The event hash of the submission judged.
    #[schemars(schema_with = "schema::hash")]
    pub submission: Hash,
    /// The verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Verdict")]
    pub verdict: Option<Verdict>,
    /// The score, 0–100.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Score")]
    pub score: Option<Score>,
    /// Why.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Text")]
    pub rationale: Option<Text>,
    /// The event hash of the evaluation this one replaces.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(schema_with = "schema::hash")]
    pub supersedes: Option<Hash>,
    /// Format 2: why the verdict differs from the one value, target and direction indicate
    /// (required then, SPEC §11.10).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
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

impl KindRules for EvaluationRecordedBody {
    const KIND: Kind = Kind::EvaluationRecorded;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority, Role::Chair, Role::Evaluator]);
    const CONFLICT_OF_INTEREST: bool = true;

    fn check_format(&self, format: u64) -> Result<(), String> {
        if format < 2 && self.reason.is_some() {
            return Err(format!(
                "reason is a field of format 2; a ledger of format {format} has none"
            ));
        }
        Ok(())
    }

    fn concerns<'a>(&'a self, ledger: &'a Ledger) -> Option<(Option<&'a Slug>, &'static str)> {
        Some((
            ledger
                .submissions
                .get(&self.submission)
                .map(|s| &s.operator),
            "an evaluation",
        ))
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
        let Some(submission) = ledger.submissions.get(&self.submission) else {
            return fail(format!(
                "`submission` {} is not the event hash of a submission.filed in this ledger",
                self.submission
            ));
        };
        if let Some(superseded) = submission.superseded_seq {
            return fail(format!(
                "submission {} was superseded at seq {superseded}; only a non-superseded \
                 submission is evaluated",
                self.submission
            ));
        }
        if ledger.is_v2() {
            // The rubric and the verdict the value indicates read sealed values: they are
            // checked where those are opened (at append, in a full replay), not in the public
            // replay (SPEC §12.4).
            if let (Some(verdict), Some(score)) = (self.verdict, self.score) {
                ledger.check_scoring(
                    seq,
                    &self.submission,
                    verdict,
                    score.get(),
                    self.reason.is_some(),
                )?;
            }
        }
        if submission.effective_unknown
            && (self.supersedes.is_none() || self.supersedes == submission.effective_evaluation)
        {
            // A dispute over the effective evaluation was resolved with a sealed outcome: it
            // may have been overturned or may stand, so either form is possible (SPEC §12.4).
            return Ok(());
        }
        match (&submission.effective_evaluation, &self.supersedes) {
            (None, None) => Ok(()),
            (Some(effective), Some(named)) if effective == named => Ok(()),
            (Some(effective), None) => fail(format!(
                "submission {} already has the effective evaluation {effective}; a new one must \
                 name it in `supersedes`",
                self.submission
            )),
            (Some(effective), Some(named)) => fail(format!(
                "`supersedes` names {named}, but the effective evaluation of submission {} is \
                 {effective}",
                self.submission
            )),
            (None, Some(named)) => fail(format!(
                "`supersedes` names {named}, but submission {} has no effective evaluation to \
                 supersede",
                self.submission
            )),
        }
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, hash: Hash, signer: PublicKey) {
        if ledger.is_v2() {
            if let Some(key) = ledger.keys.get(&signer) {
                let evaluator = key.member.clone();
                ledger.cycle.evaluators.insert(hash, evaluator);
            }
            let differs = match (self.verdict, self.score) {
                (Some(verdict), Some(score)) => ledger
                    .check_scoring(seq, &self.submission, verdict, score.get(), true)
                    .unwrap_or(false),
                // Sealed and not opened: whether it differs is not known to this replay.
                _ => false,
            };
            if differs {
                ledger.cycle.differing.insert(hash);
            }
        }
        if let Some(old) = self.supersedes.and_then(|h| ledger.evaluations.get_mut(&h)) {
            old.superseded_seq = Some(seq);
        }
        if let Some(submission) = ledger.submissions.get_mut(&self.submission) {
            submission.effective_evaluation = Some(hash);
            submission.effective_unknown = false;
        }
        ledger.evaluations.insert(
            hash,
            EvaluationRecord {
                seq,
                submission: self.submission,
                verdict: self.verdict,
                score: self.score,
                superseded_seq: None,
                overturned_seq: None,
                open_dispute: None,
            },
        );
    }
}
