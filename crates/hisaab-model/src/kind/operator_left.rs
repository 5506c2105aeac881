//! `operator.left` (format 2): an operator leaves the task force. Its members sign nothing
//! more, no new work names it, and what it still owed is closed as left; everything it did
//! stays in the history and the state (SPEC §11.12).

use hisaab_log::{Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{Ledger, Signer};
use crate::rule::{History, Violation};
use crate::value::{KpiId, Role, Slug, Text};

/// `operator.left`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `operator.left` (SPEC §11.12). Generated \
    from hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct OperatorLeftBody {
    /// The operator, registered and still in the task force.
    pub operator: Slug,
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

impl KindRules for OperatorLeftBody {
    const KIND: Kind = Kind::OperatorLeft;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority]);
    const CONFLICT_OF_INTEREST: bool = true;
    const SINCE: u64 = 2;

    fn subject(&self) -> (Option<&Slug>, Option<&KpiId>) {
        (Some(&self.operator), None)
    }

    fn concerns<'a>(&'a self, _ledger: &'a Ledger) -> Option<(Option<&'a Slug>, &'static str)> {
        Some((Some(&self.operator), "the departure of an operator"))
    }

    fn check_references(
        &self,
        ledger: &Ledger,
        seq: u64,
        _entry: &SealedEntry,
        _signer: &Signer<'_>,
        _history: &dyn History,
    ) -> Result<(), Violation> {
        ledger.check_operator_present(seq, &self.operator)
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        let today = ledger.today();
        ledger.cycle.left.insert(self.operator, (seq, today));
    }
}
