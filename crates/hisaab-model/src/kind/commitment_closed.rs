//! `commitment.closed`: the end of a commitment, judged once by someone outside its operator.

use hisaab_log::{Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{Ledger, Signer};
use crate::rule::{History, Violation};
use crate::value::{CommitmentOutcome, Note, Role, Slug};

/// `commitment.closed`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `commitment.closed` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct CommitmentClosedBody {
    /// The commitment.
    pub commitment: Slug,
    /// How it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "CommitmentOutcome")]
    pub outcome: Option<CommitmentOutcome>,
    /// A note (may be empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Note")]
    pub note: Option<Note>,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for CommitmentClosedBody {
    const KIND: Kind = Kind::CommitmentClosed;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority, Role::Chair, Role::Evaluator]);
    const CONFLICT_OF_INTEREST: bool = true;

    fn concerns<'a>(&'a self, ledger: &'a Ledger) -> Option<(Option<&'a Slug>, &'static str)> {
        Some((
            ledger
                .commitments
                .get(&self.commitment)
                .map(|c| &c.operator),
            "the closing of a commitment",
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
        ledger.open_commitment(seq, &self.commitment, |closed, outcome| {
            format!(
                "commitment `{}` was already closed ({}) at seq {closed}; a commitment is closed \
                 once",
                self.commitment,
                crate::sealed::or_sealed(outcome.as_ref())
            )
        })?;
        Ok(())
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        if let Some(commitment) = ledger.commitments.get_mut(&self.commitment) {
            commitment.closed = Some((seq, self.outcome));
        }
    }
}
