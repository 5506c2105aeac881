//! `member.revoked`: revokes a member; their key may no longer sign. The last active authority
//! is never revoked.

use hisaab_log::{Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{Role, Slug, Text};

/// `member.revoked`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `member.revoked` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct MemberRevokedBody {
    /// The member revoked.
    pub member: Slug,
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

impl KindRules for MemberRevokedBody {
    const KIND: Kind = Kind::MemberRevoked;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority]);

    fn check_references(
        &self,
        ledger: &Ledger,
        seq: u64,
        _entry: &SealedEntry,
        _signer: &Signer<'_>,
        _history: &dyn History,
    ) -> Result<(), Violation> {
        let member = ledger.check_active_member(seq, &self.member, "revoked")?;
        if member.roles.contains(&Role::Authority) {
            let active_authorities = ledger
                .members
                .values()
                .filter(|m| m.is_active() && m.roles.contains(&Role::Authority))
                .count();
            if active_authorities <= 1 {
                return Err(Violation::new(
                    seq,
                    Rule::Reference,
                    format!(
                        "member `{}` is the last active authority; revoking them would leave the \
                         ledger without one",
                        self.member
                    ),
                ));
            }
        }
        Ok(())
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        if let Some(member) = ledger.members.get_mut(&self.member) {
            member.revoked_seq = Some(seq);
        }
    }
}
