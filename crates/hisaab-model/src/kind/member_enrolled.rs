//! `member.enrolled`: enrols a member with roles and a key never used before.

use std::collections::BTreeSet;

use hisaab_log::{Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{KeyRecord, Ledger, MemberRecord, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{schema, KpiId, Role, Slug, Text};

/// `member.enrolled`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `member.enrolled` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct MemberEnrolledBody {
    /// The new member's id.
    pub member: Slug,
    /// Their name.
    pub name: Text,
    /// Their roles: not empty, distinct; `ciso` needs an operator.
    #[schemars(schema_with = "schema::set_of::<Role>", length(min = 1))]
    pub roles: Vec<Role>,
    /// The operator they belong to, if any.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Slug")]
    pub operator: Option<Slug>,
    /// Their key.
    #[schemars(schema_with = "schema::public_key")]
    pub key: PublicKey,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for MemberEnrolledBody {
    const KIND: Kind = Kind::MemberEnrolled;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority]);

    fn check_form(&self) -> Result<(), String> {
        if self.roles.is_empty() {
            return Err("roles must not be empty".into());
        }
        let distinct: BTreeSet<Role> = self.roles.iter().copied().collect();
        if distinct.len() != self.roles.len() {
            return Err("roles must be distinct".into());
        }
        if distinct.contains(&Role::Ciso) && self.operator.is_none() {
            return Err("a member with the role `ciso` must name an operator".into());
        }
        Ok(())
    }

    fn subject(&self) -> (Option<&Slug>, Option<&KpiId>) {
        (self.operator.as_ref(), None)
    }

    fn check_references(
        &self,
        ledger: &Ledger,
        seq: u64,
        _entry: &SealedEntry,
        _signer: &Signer<'_>,
        _history: &dyn History,
    ) -> Result<(), Violation> {
        if let Some(existing) = ledger.members.get(&self.member) {
            return Err(Violation::new(
                seq,
                Rule::Reference,
                format!(
                    "member `{}` was already enrolled at seq {}",
                    self.member, existing.seq
                ),
            ));
        }
        if let Some(operator) = &self.operator {
            ledger.check_operator(seq, operator)?;
        }
        ledger.check_fresh_key(seq, &self.key)
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        ledger.keys.insert(
            self.key,
            KeyRecord {
                member: self.member.clone(),
                seq,
                rotated_seq: None,
            },
        );
        ledger.members.insert(
            self.member,
            MemberRecord {
                name: self.name,
                roles: self.roles.into_iter().collect(),
                operator: self.operator,
                key: self.key,
                seq,
                revoked_seq: None,
            },
        );
    }
}
