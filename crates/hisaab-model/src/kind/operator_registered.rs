//! `operator.registered`: registers an operator (a telecom company) under a new id.

use hisaab_log::seal::Blinding;
use hisaab_log::{Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{Ledger, OperatorRecord, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{schema, KpiId, Role, Slug, Text};

/// `operator.registered`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `operator.registered` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct OperatorRegisteredBody {
    /// The new operator's id.
    pub operator: Slug,
    /// Its name.
    pub name: Text,
    /// Format 2 only, sealed (SPEC §12.1, §12.8): 32 random bytes chosen by the authority
    /// that blind the operator's leaf in the full-state digest tree.
    // `None` while unopened, and in a format-1 body.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(schema_with = "schema::hash")]
    pub blinding: Option<Blinding>,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for OperatorRegisteredBody {
    const KIND: Kind = Kind::OperatorRegistered;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority]);

    fn check_format(&self, format: u64) -> Result<(), String> {
        if format < 2 && self.blinding.is_some() {
            return Err(format!(
                "`blinding` is a field of format 2 (SPEC §12.8); this ledger is of format \
                 {format}"
            ));
        }
        Ok(())
    }

    fn subject(&self) -> (Option<&Slug>, Option<&KpiId>) {
        (Some(&self.operator), None)
    }

    fn check_references(
        &self,
        ledger: &Ledger,
        seq: u64,
        _entry: &SealedEntry,
        _signer: &Signer<'_>,
        _history: &dyn History,
    ) -> Result<(), Violation> {
        match ledger.operators.get(&self.operator) {
            Some(existing) => Err(Violation::new(
                seq,
                Rule::Reference,
                format!(
                    "operator `{}` was already registered at seq {}",
                    self.operator, existing.seq
                ),
            )),
            None => Ok(()),
        }
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        ledger.operators.insert(
            self.operator,
            OperatorRecord {
                name: self.name,
                seq,
                blinding: self.blinding,
            },
        );
    }
}
