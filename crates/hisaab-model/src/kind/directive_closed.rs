//! `directive.closed` (format 2): a directive done or missed, said once by a ciso of the
//! operator directed or by a chair or authority.

use hisaab_log::{Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::cycle::ActionOwner;
use crate::kind::action_closed::{check_closed_once, check_owner_or_chair};
use crate::kind::{Kind, KindRules};
use crate::ledger::{Ledger, Signer};
use crate::rule::{History, Violation};
use crate::value::{ActionOutcome, Note, Slug};

/// `directive.closed`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `directive.closed` (SPEC §11.8). Generated \
    from hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct DirectiveClosedBody {
    /// The directive.
    pub directive: Slug,
    /// How it ended.
    pub outcome: ActionOutcome,
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

impl KindRules for DirectiveClosedBody {
    const KIND: Kind = Kind::DirectiveClosed;
    const SIGNERS: Signers = Signers::OwnerOrChair;
    const SINCE: u64 = 2;

    fn check_permission(
        &self,
        ledger: &Ledger,
        seq: u64,
        signer: &Signer<'_>,
    ) -> Result<(), Violation> {
        match ledger.cycle.directives.get(&self.directive) {
            Some(directive) => check_owner_or_chair(
                seq,
                Self::KIND,
                &format!("directive `{}`", self.directive),
                &ActionOwner::Operator(directive.operator.clone()),
                signer,
            ),
            // An unknown directive is a reference error, reported under rule 5.
            None => Ok(()),
        }
    }

    fn check_references(
        &self,
        ledger: &Ledger,
        seq: u64,
        _entry: &SealedEntry,
        _signer: &Signer<'_>,
        _history: &dyn History,
    ) -> Result<(), Violation> {
        let closed = ledger
            .cycle
            .directives
            .get(&self.directive)
            .map(|d| d.closed);
        check_closed_once(seq, ("directive", "a directive"), &self.directive, closed)
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        if let Some(directive) = ledger.cycle.directives.get_mut(&self.directive) {
            directive.closed = Some((seq, self.outcome));
        }
    }
}
