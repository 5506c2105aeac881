//! `challenge.measure_recorded` (format 2): a measure taken against a challenge of the
//! register, who took it and what it was (SPEC §11.12).

use hisaab_log::{Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::cycle::{ActionOwner, MeasureRecord};
use crate::kind::action_closed::check_owner_or_chair;
use crate::kind::{Kind, KindRules};
use crate::ledger::{ChallengeRecord, Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{Role, Text};

/// `challenge.measure_recorded`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `challenge.measure_recorded` (SPEC §11.12). \
    Generated from hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to \
    regenerate."
)]
pub struct ChallengeMeasureRecordedBody {
    /// The challenge, raised and not resolved.
    pub challenge: crate::value::Slug,
    /// Who took the measure: `{"member": …}` or `{"operator": …}`.
    pub by: ActionOwner,
    /// What the measure was (sealed in format 2, SPEC §12.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Text")]
    pub measure: Option<Text>,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for ChallengeMeasureRecordedBody {
    const KIND: Kind = Kind::ChallengeMeasureRecorded;
    const SIGNERS: Signers = Signers::OwnerOrChair;
    const SINCE: u64 = 2;

    fn check_permission(
        &self,
        ledger: &Ledger,
        seq: u64,
        signer: &Signer<'_>,
    ) -> Result<(), Violation> {
        let what = format!("challenge `{}`", self.challenge);
        match ledger.challenges.get(&self.challenge) {
            Some(ChallengeRecord {
                owner: Some(owner), ..
            }) => check_owner_or_chair(seq, Self::KIND, &what, owner, signer),
            Some(_) => ledger.check_roles(
                seq,
                Self::KIND,
                Signers::Roles(&[Role::Authority, Role::Chair]),
                signer,
            ),
            // An unknown challenge is a reference error, reported under rule 5.
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
        let fail = |detail: String| Err(Violation::new(seq, Rule::Reference, detail));
        match ledger.challenges.get(&self.challenge) {
            None => return fail(format!("there is no challenge `{}`", self.challenge)),
            Some(ChallengeRecord {
                resolved_seq: Some(resolved),
                ..
            }) => {
                return fail(format!(
                    "challenge `{}` was resolved at seq {resolved}; measures are recorded \
                     while it is open",
                    self.challenge
                ))
            }
            Some(_) => {}
        }
        ledger.check_owner(seq, &self.by, "named as taking measures")
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        let on = ledger.today();
        if let Some(challenge) = ledger.challenges.get_mut(&self.challenge) {
            challenge.measures.push(MeasureRecord {
                seq,
                by: self.by,
                on,
            });
        }
    }
}
