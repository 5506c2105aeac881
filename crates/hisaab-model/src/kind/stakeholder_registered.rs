//! `stakeholder.registered` (format 2): the authority registers an outside body the task force
//! works with (a national CERT, another regulator, a vendor), which agenda items, actions and
//! directives may then name (SPEC §11.12).

use hisaab_log::{Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::cycle::StakeholderRecord;
use crate::kind::{Kind, KindRules};
use crate::ledger::{Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{Role, Slug, StakeholderType, Text};

/// `stakeholder.registered`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `stakeholder.registered` (SPEC §11.12). \
    Generated from hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to \
    regenerate."
)]
pub struct StakeholderRegisteredBody {
    /// The new stakeholder's id.
    pub stakeholder: Slug,
    /// Its name.
    pub name: Text,
    /// What kind of body it is.
    #[serde(rename = "type")]
    pub kind: StakeholderType,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for StakeholderRegisteredBody {
    const KIND: Kind = Kind::StakeholderRegistered;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority]);
    const SINCE: u64 = 2;

    fn check_references(
        &self,
        ledger: &Ledger,
        seq: u64,
        _entry: &SealedEntry,
        _signer: &Signer<'_>,
        _history: &dyn History,
    ) -> Result<(), Violation> {
        match ledger.cycle.stakeholders.get(&self.stakeholder) {
            Some(existing) => Err(Violation::new(
                seq,
                Rule::Reference,
                format!(
                    "stakeholder `{}` was already registered at seq {}",
                    self.stakeholder, existing.seq
                ),
            )),
            None => Ok(()),
        }
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        let registered = ledger.today();
        ledger.cycle.stakeholders.insert(
            self.stakeholder,
            StakeholderRecord {
                seq,
                name: self.name,
                kind: self.kind,
                registered,
            },
        );
    }
}
