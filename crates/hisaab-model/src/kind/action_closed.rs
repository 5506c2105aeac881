//! `action.closed` (format 2): an action item done or missed, said once by its owner or by a
//! chair or authority.

use hisaab_log::{Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::cycle::ActionOwner;
use crate::kind::{Kind, KindRules};
use crate::ledger::{Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{ActionOutcome, Note, Role, Slug};

/// `action.closed`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `action.closed` (SPEC §11.7). Generated \
    from hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct ActionClosedBody {
    /// The action.
    pub action: Slug,
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

/// Rule 2 for an item owned by `owner`: its owner (the member, or a ciso of the operator) or
/// a chair or authority.
pub(crate) fn check_owner_or_chair(
    seq: u64,
    kind: Kind,
    what: &str,
    owner: &ActionOwner,
    signer: &Signer<'_>,
) -> Result<(), Violation> {
    let roles = &signer.record.roles;
    let chair = roles.contains(&Role::Chair) || roles.contains(&Role::Authority);
    let owns = match owner {
        ActionOwner::Member(member) => member == signer.id,
        ActionOwner::Operator(operator) => {
            roles.contains(&Role::Ciso) && signer.record.operator.as_ref() == Some(operator)
        }
    };
    if chair || owns {
        Ok(())
    } else {
        Err(Violation::new(
            seq,
            Rule::Permission,
            format!(
                "member `{}` may not sign {kind} for {what}: only its owner ({owner}) or a \
                 chair or authority may",
                signer.id
            ),
        ))
    }
}

/// Rule 5 for closing the action or directive `id` (`what`, with its article `a_what`), whose
/// closing `closed` is, when it exists: it exists and was not closed yet.
pub(crate) fn check_closed_once(
    seq: u64,
    (what, a_what): (&str, &str),
    id: &Slug,
    closed: Option<Option<(u64, ActionOutcome)>>,
) -> Result<(), Violation> {
    let fail = |detail: String| Err(Violation::new(seq, Rule::Reference, detail));
    match closed {
        None => fail(format!("there is no {what} `{id}`")),
        Some(Some((closed, outcome))) => fail(format!(
            "{what} `{id}` was already closed ({outcome}) at seq {closed}; {a_what} is closed \
             once"
        )),
        Some(None) => Ok(()),
    }
}

impl KindRules for ActionClosedBody {
    const KIND: Kind = Kind::ActionClosed;
    const SIGNERS: Signers = Signers::OwnerOrChair;
    const SINCE: u64 = 2;

    fn check_permission(
        &self,
        ledger: &Ledger,
        seq: u64,
        signer: &Signer<'_>,
    ) -> Result<(), Violation> {
        match ledger.cycle.actions.get(&self.action) {
            Some(action) => check_owner_or_chair(
                seq,
                Self::KIND,
                &format!("action `{}`", self.action),
                &action.owner,
                signer,
            ),
            // An unknown action is a reference error, reported under rule 5.
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
        let closed = ledger.cycle.actions.get(&self.action).map(|a| a.closed);
        check_closed_once(seq, ("action", "an action"), &self.action, closed)
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        if let Some(action) = ledger.cycle.actions.get_mut(&self.action) {
            action.closed = Some((seq, self.outcome));
        }
    }
}
