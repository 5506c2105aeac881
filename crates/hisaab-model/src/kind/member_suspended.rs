//! `member.suspended` and `member.reinstated` (format 2): the authority suspends a member,
//! who signs nothing until reinstated.

use hisaab_log::{Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{Role, Slug, Text};

/// `member.suspended`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `member.suspended` (SPEC §11.11). \
    Generated from hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to \
    regenerate."
)]
pub struct MemberSuspendedBody {
    /// The member, active and not suspended.
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

impl KindRules for MemberSuspendedBody {
    const KIND: Kind = Kind::MemberSuspended;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority]);
    const SINCE: u64 = 2;

    fn check_references(
        &self,
        ledger: &Ledger,
        seq: u64,
        _entry: &SealedEntry,
        signer: &Signer<'_>,
        _history: &dyn History,
    ) -> Result<(), Violation> {
        let fail = |detail: String| Err(Violation::new(seq, Rule::Reference, detail));
        ledger.check_active_member(seq, &self.member, "suspended")?;
        if &self.member == signer.id {
            return fail(format!("member `{}` may not suspend themself", self.member));
        }
        match ledger.cycle.suspended.get(&self.member) {
            Some(since) => fail(format!(
                "member `{}` was already suspended at seq {since}",
                self.member
            )),
            None => Ok(()),
        }
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        ledger.cycle.suspended.insert(self.member, seq);
    }
}

/// `member.reinstated`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `member.reinstated` (SPEC §11.11). \
    Generated from hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to \
    regenerate."
)]
pub struct MemberReinstatedBody {
    /// The member, suspended.
    pub member: Slug,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for MemberReinstatedBody {
    const KIND: Kind = Kind::MemberReinstated;
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
        if ledger.cycle.suspended.contains_key(&self.member) {
            Ok(())
        } else {
            Err(Violation::new(
                seq,
                Rule::Reference,
                format!("member `{}` is not suspended", self.member),
            ))
        }
    }

    fn commit(self, ledger: &mut Ledger, _seq: u64, _hash: Hash, _signer: PublicKey) {
        ledger.cycle.suspended.remove(&self.member);
    }
}
