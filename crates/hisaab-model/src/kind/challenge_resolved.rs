//! `challenge.resolved`: how a challenge was resolved, once.

use hisaab_log::{Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{ChallengeRecord, Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{Role, Slug, Text};

/// `challenge.resolved`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `challenge.resolved` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct ChallengeResolvedBody {
    /// The challenge.
    pub challenge: Slug,
    /// How it was resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Text")]
    pub resolution: Option<Text>,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for ChallengeResolvedBody {
    const KIND: Kind = Kind::ChallengeResolved;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority, Role::Chair]);

    fn check_permission(
        &self,
        ledger: &Ledger,
        seq: u64,
        signer: &Signer<'_>,
    ) -> Result<(), Violation> {
        ledger.check_roles(seq, Self::KIND, Self::SIGNERS, signer)?;
        // Format 2: nobody resolves a challenge naming their own operator.
        let concerned = ledger
            .challenges
            .get(&self.challenge)
            .and_then(|c| c.operator.as_ref());
        match (concerned, &signer.record.operator) {
            (Some(operator), Some(own)) if ledger.is_v2() && operator == own => {
                Err(Violation::new(
                    seq,
                    Rule::ConflictOfInterest,
                    format!(
                        "member `{}` belongs to operator `{own}` and may not sign the \
                         resolution of a challenge concerning it: nobody judges their own \
                         operator",
                        signer.id
                    ),
                ))
            }
            _ => Ok(()),
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
        match ledger.challenges.get(&self.challenge) {
            None => fail(format!("there is no challenge `{}`", self.challenge)),
            Some(ChallengeRecord {
                resolved_seq: Some(resolved),
                ..
            }) => fail(format!(
                "challenge `{}` was already resolved at seq {resolved}; a challenge is resolved \
                 once",
                self.challenge
            )),
            Some(_) => Ok(()),
        }
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        if let Some(challenge) = ledger.challenges.get_mut(&self.challenge) {
            challenge.resolved_seq = Some(seq);
        }
    }
}
