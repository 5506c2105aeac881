//! `delegation.granted` (format 2): a ciso names a deputy, a member of the same operator, who
//! may sign for the operator what its cisos sign, until an expiry date.

use hisaab_log::{Date, Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::cycle::DelegationRecord;
use crate::kind::{Kind, KindRules};
use crate::ledger::{Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{schema, KpiId, Role, Slug};

/// `delegation.granted`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `delegation.granted` (SPEC §11.11). \
    Generated from hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to \
    regenerate."
)]
pub struct DelegationGrantedBody {
    /// The operator whose ciso delegates.
    pub operator: Slug,
    /// The deputy: an active member of the same operator who is not its ciso.
    pub deputy: Slug,
    /// The last day the deputy may sign, not before the day it is recorded.
    #[schemars(schema_with = "schema::date")]
    pub expires: Date,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for DelegationGrantedBody {
    const KIND: Kind = Kind::DelegationGranted;
    const SIGNERS: Signers = Signers::CisoOfOperator;
    const SINCE: u64 = 2;

    fn subject(&self) -> (Option<&Slug>, Option<&KpiId>) {
        (Some(&self.operator), None)
    }

    fn check_permission(
        &self,
        _ledger: &Ledger,
        seq: u64,
        signer: &Signer<'_>,
    ) -> Result<(), Violation> {
        // Only a ciso delegates: a deputy does not delegate further.
        let is_ciso = signer.record.roles.contains(&Role::Ciso)
            && signer.record.operator.as_ref() == Some(&self.operator);
        if is_ciso {
            Ok(())
        } else {
            Err(Violation::new(
                seq,
                Rule::Permission,
                format!(
                    "only a ciso of operator `{}` may sign {}; member `{}` is not one",
                    self.operator,
                    Self::KIND,
                    signer.id
                ),
            ))
        }
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
        ledger.check_operator_present(seq, &self.operator)?;
        let deputy = ledger.check_active_member(seq, &self.deputy, "deputies")?;
        if deputy.operator.as_ref() != Some(&self.operator) {
            return fail(format!(
                "member `{}` is not a member of operator `{}`; a deputy belongs to the \
                 operator it acts for",
                self.deputy, self.operator
            ));
        }
        if deputy.roles.contains(&Role::Ciso) {
            return fail(format!(
                "member `{}` is already a ciso of operator `{}`",
                self.deputy, self.operator
            ));
        }
        let today = entry.entry().recorded_at.date();
        if self.expires < today {
            return fail(format!(
                "expires {} is before the delegation is recorded ({today})",
                self.expires
            ));
        }
        Ok(())
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        ledger.cycle.delegations.insert(
            self.deputy,
            DelegationRecord {
                seq,
                operator: self.operator,
                expires: self.expires,
            },
        );
    }
}
