//! `submission.filed`: an operator's value for a KPI and period, signed by a ciso of that
//! operator; a later one for the same period names it in `supersedes`.

use hisaab_log::jcs::INTEGER_MAX;
use hisaab_log::{Hash, Period, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{Ledger, Signer, SubmissionRecord};
use crate::rule::{History, Rule, Violation};
use crate::value::{schema, Decimal, KpiId, Note, Slug, Text};

/// The greatest number of evidence items of a submission.
pub const EVIDENCE_MAX: usize = 64;

/// One piece of evidence of a submission.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// The file's name.
    pub name: Text,
    /// SHA-256 of its bytes.
    #[schemars(schema_with = "schema::hash")]
    pub sha256: Hash,
    /// Its size in bytes.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub bytes: u64,
}

/// `submission.filed`: an operator's value for a KPI and period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `submission.filed` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct SubmissionFiledBody {
    /// The operator.
    pub operator: Slug,
    /// The KPI.
    pub kpi: KpiId,
    /// The month reported.
    #[schemars(schema_with = "schema::period")]
    pub period: Period,
    /// The value.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Decimal")]
    pub value: Option<Decimal>,
    /// 0–64 pieces of evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<Evidence>", length(max = "EVIDENCE_MAX"))]
    pub evidence: Option<Vec<Evidence>>,
    /// A note (may be empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Note")]
    pub note: Option<Note>,
    /// The event hash of the submission this one replaces.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(schema_with = "schema::hash")]
    pub supersedes: Option<Hash>,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for SubmissionFiledBody {
    const KIND: Kind = Kind::SubmissionFiled;
    const SIGNERS: Signers = Signers::CisoOfOperator;

    fn check_form(&self) -> Result<(), String> {
        if let Some(evidence) = self.evidence.as_ref().filter(|e| e.len() > EVIDENCE_MAX) {
            return Err(format!(
                "evidence has {} items, at most {EVIDENCE_MAX} are allowed",
                evidence.len()
            ));
        }
        Ok(())
    }

    fn subject(&self) -> (Option<&Slug>, Option<&KpiId>) {
        (Some(&self.operator), Some(&self.kpi))
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
        entry: &SealedEntry,
        _signer: &Signer<'_>,
        _history: &dyn History,
    ) -> Result<(), Violation> {
        let fail = |detail: String| Err(Violation::new(seq, Rule::Reference, detail));
        ledger.check_operator(seq, &self.operator)?;
        let track = ledger
            .tracks
            .get(&self.operator)
            .and_then(|t| t.get(&self.kpi));
        let Some(assignment) = track.and_then(|t| t.assignments.last()) else {
            return fail(format!(
                "KPI `{}` is not assigned to operator `{}`; a submission needs an assignment in \
                 force",
                self.kpi, self.operator
            ));
        };
        let evidence_required = ledger
            .kpis
            .get(&self.kpi)
            .is_some_and(|k| k.evidence_required);
        if ledger.is_v2() && evidence_required && self.evidence.as_ref().is_some_and(Vec::is_empty)
        {
            return fail(format!(
                "KPI `{}` is defined with evidence_required, and this submission carries no \
                 evidence: attach at least one piece of evidence",
                self.kpi
            ));
        }
        if self.period < assignment.first_period {
            return fail(format!(
                "period {} is before the first period {} of the assignment in force (seq {})",
                self.period, assignment.first_period, assignment.seq
            ));
        }
        let month = entry.entry().recorded_at.date().period();
        if self.period > month {
            return fail(format!(
                "period {} has not begun: it is after the month of recorded_at ({month})",
                self.period
            ));
        }
        let current = track.and_then(|t| t.periods.get(&self.period));
        match (current, &self.supersedes) {
            (None, None) => Ok(()),
            (Some(current), Some(named)) if current == named => Ok(()),
            (Some(current), None) => fail(format!(
                "operator `{}` already has submission {current} for KPI `{}` and period {}; a \
                 new one must name it in `supersedes`",
                self.operator, self.kpi, self.period
            )),
            (Some(current), Some(named)) => fail(format!(
                "`supersedes` names {named}, but the non-superseded submission of operator `{}`, \
                 KPI `{}`, period {} is {current}",
                self.operator, self.kpi, self.period
            )),
            (None, Some(named)) => fail(format!(
                "`supersedes` names {named}, but operator `{}` has no submission for KPI `{}` and \
                 period {} to supersede",
                self.operator, self.kpi, self.period
            )),
        }
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, hash: Hash, _signer: PublicKey) {
        if let Some(old) = self.supersedes.and_then(|h| ledger.submissions.get_mut(&h)) {
            old.superseded_seq = Some(seq);
        }
        ledger
            .tracks
            .entry(self.operator.clone())
            .or_default()
            .entry(self.kpi.clone())
            .or_default()
            .periods
            .insert(self.period, hash);
        ledger.submissions.insert(
            hash,
            SubmissionRecord {
                seq,
                operator: self.operator,
                kpi: self.kpi,
                period: self.period,
                value: self.value,
                recorded: ledger.today(),
                superseded_seq: None,
                effective_evaluation: None,
                effective_unknown: false,
            },
        );
    }
}
