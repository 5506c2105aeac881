//! `meeting.attested`: an attendee confirms the record of a meeting, once.

use hisaab_log::{Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::Slug;

/// `meeting.attested`: an attendee confirms the record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `meeting.attested` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct MeetingAttestedBody {
    /// The meeting.
    pub meeting: Slug,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for MeetingAttestedBody {
    const KIND: Kind = Kind::MeetingAttested;
    const SIGNERS: Signers = Signers::Attendee;

    fn check_permission(
        &self,
        ledger: &Ledger,
        seq: u64,
        signer: &Signer<'_>,
    ) -> Result<(), Violation> {
        match ledger.meetings.get(&self.meeting) {
            Some(meeting) if !meeting.attendees.contains(signer.id) => Err(Violation::new(
                seq,
                Rule::Permission,
                format!(
                    "member `{}` is not listed among the attendees of meeting `{}`; only an \
                     attendee may attest it",
                    signer.id, self.meeting
                ),
            )),
            // An unknown meeting is a reference error, reported under rule 5.
            _ => Ok(()),
        }
    }

    fn check_references(
        &self,
        ledger: &Ledger,
        seq: u64,
        _entry: &SealedEntry,
        signer: &Signer<'_>,
        _history: &dyn History,
    ) -> Result<(), Violation> {
        let fail = |detail: String| Err(Violation::new(seq, Rule::Reference, detail));
        match ledger.meetings.get(&self.meeting) {
            None => fail(format!("there is no meeting `{}`", self.meeting)),
            Some(meeting) if meeting.attested.contains(signer.id) => fail(format!(
                "member `{}` already attested meeting `{}`; a member attests a meeting once",
                signer.id, self.meeting
            )),
            Some(_) => Ok(()),
        }
    }

    fn commit(self, ledger: &mut Ledger, _seq: u64, _hash: Hash, signer: PublicKey) {
        let member = ledger.keys.get(&signer).map(|k| k.member.clone());
        if let (Some(meeting), Some(member)) = (ledger.meetings.get_mut(&self.meeting), member) {
            meeting.attested.insert(member);
        }
    }
}
