//! `member.key_rotated`: replaces a member's key with one never used before; signed by the
//! member or an authority.

use hisaab_log::{Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{roles_text, KeyRecord, Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{schema, Role, Slug};

/// `member.key_rotated`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `member.key_rotated` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct MemberKeyRotatedBody {
    /// The member whose key changes.
    pub member: Slug,
    /// Their new key; never any member's key before.
    #[schemars(schema_with = "schema::public_key")]
    pub new_key: PublicKey,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for MemberKeyRotatedBody {
    const KIND: Kind = Kind::MemberKeyRotated;
    const SIGNERS: Signers = Signers::SelfOrAuthority;

    fn check_permission(
        &self,
        _ledger: &Ledger,
        seq: u64,
        signer: &Signer<'_>,
    ) -> Result<(), Violation> {
        if self.member == *signer.id || signer.record.roles.contains(&Role::Authority) {
            Ok(())
        } else {
            Err(Violation::new(
                seq,
                Rule::Permission,
                format!(
                    "member `{}` ({}) may not rotate the key of member `{}`: only that member or \
                     an authority may",
                    signer.id,
                    roles_text(&signer.record.roles),
                    self.member
                ),
            ))
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
        ledger.check_active_member(seq, &self.member, "rotated")?;
        ledger.check_fresh_key(seq, &self.new_key)
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        if let Some(member) = ledger.members.get_mut(&self.member) {
            if let Some(old) = ledger.keys.get_mut(&member.key) {
                old.rotated_seq = Some(seq);
            }
            member.key = self.new_key;
        }
        ledger.keys.insert(
            self.new_key,
            KeyRecord {
                member: self.member,
                seq,
                rotated_seq: None,
            },
        );
    }
}
