//! `action.assigned` (format 2): an action item of a recorded meeting's minutes, with its
//! owner (a member or an operator) and due date; one statement per item, so that each text is
//! its own (sealed) field and each item can be closed, chased and escalated.

use hisaab_log::{Date, Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::cycle::{ActionOwner, ActionRecord};
use crate::kind::{Kind, KindRules};
use crate::ledger::{Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{schema, KpiId, Role, Slug, Text};

/// `action.assigned`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `action.assigned` (SPEC §11.7). Generated \
    from hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct ActionAssignedBody {
    /// The new action's id (actions and directives share one namespace).
    pub action: Slug,
    /// The recorded meeting whose minutes decided it.
    pub meeting: Slug,
    /// Who owns it: `{"member": …}` or `{"operator": …}`.
    pub owner: ActionOwner,
    /// By when.
    #[schemars(schema_with = "schema::date")]
    pub due: Date,
    /// What is to be done (sealed in format 2, SPEC §12.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Text")]
    pub text: Option<Text>,
    /// The stakeholders it names, 1 to 16 registered ids (SPEC §11.12).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Vec<Slug>", length(min = 1, max = 16))]
    pub stakeholders: Option<Vec<Slug>>,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for ActionAssignedBody {
    const KIND: Kind = Kind::ActionAssigned;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority, Role::Chair]);
    const SINCE: u64 = 2;

    fn check_form(&self) -> Result<(), String> {
        crate::cycle::check_stakeholders_form(self.stakeholders.as_ref())
    }

    fn subject(&self) -> (Option<&Slug>, Option<&KpiId>) {
        match &self.owner {
            ActionOwner::Operator(operator) => (Some(operator), None),
            ActionOwner::Member(_) => (None, None),
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
        let fail = |detail: String| Err(Violation::new(seq, Rule::Reference, detail));
        ledger.cycle.check_new_task(seq, &self.action)?;
        if !ledger.meetings.contains_key(&self.meeting) {
            return fail(format!(
                "there is no recorded meeting `{}`; an action comes from the minutes of a \
                 recorded meeting",
                self.meeting
            ));
        }
        if let Some(held_on) = ledger.cycle.held_on.get(&self.meeting) {
            if self.due < *held_on {
                return fail(format!(
                    "due {} is before meeting `{}` was held ({held_on})",
                    self.due, self.meeting
                ));
            }
        }
        ledger.check_owner(seq, &self.owner, "given actions")?;
        ledger.check_stakeholders(seq, self.stakeholders.iter().flatten())
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        ledger.cycle.actions.insert(
            self.action,
            ActionRecord {
                seq,
                meeting: self.meeting,
                owner: self.owner,
                due: self.due,
                closed: None,
                stakeholders: self.stakeholders.into_iter().flatten().collect(),
            },
        );
    }
}
