//! `meeting.recorded`: a task-force meeting with its attendees, minutes hash and decisions.

use std::collections::BTreeSet;

use hisaab_log::{Date, Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{Ledger, MeetingRecord, MemberRecord, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{schema, Role, Slug, Text};

/// The greatest number of attendees of a meeting.
pub const ATTENDEES_MAX: usize = 256;
/// The greatest number of decisions of a meeting.
pub const DECISIONS_MAX: usize = 64;

/// `meeting.recorded`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `meeting.recorded` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct MeetingRecordedBody {
    /// The new meeting's id.
    pub meeting: Slug,
    /// When it was held.
    #[schemars(schema_with = "schema::date")]
    pub held_on: Date,
    /// 1–256 distinct members, enrolled and unrevoked.
    #[schemars(
        schema_with = "schema::set_of::<Slug>",
        length(min = 1, max = "ATTENDEES_MAX")
    )]
    pub attendees: Vec<Slug>,
    /// SHA-256 of the minutes.
    #[schemars(schema_with = "schema::hash")]
    pub minutes_sha256: Hash,
    /// 0–64 decisions.
    #[schemars(length(max = "DECISIONS_MAX"))]
    pub decisions: Vec<Text>,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for MeetingRecordedBody {
    const KIND: Kind = Kind::MeetingRecorded;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority, Role::Chair]);

    fn check_form(&self) -> Result<(), String> {
        if self.attendees.is_empty() || self.attendees.len() > ATTENDEES_MAX {
            return Err(format!(
                "attendees must list 1 to {ATTENDEES_MAX} members, found {}",
                self.attendees.len()
            ));
        }
        let distinct: BTreeSet<&Slug> = self.attendees.iter().collect();
        if distinct.len() != self.attendees.len() {
            return Err("attendees must be distinct".into());
        }
        if self.decisions.len() > DECISIONS_MAX {
            return Err(format!(
                "decisions has {} items, at most {DECISIONS_MAX} are allowed",
                self.decisions.len()
            ));
        }
        Ok(())
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
        if let Some(existing) = ledger.meetings.get(&self.meeting) {
            return fail(format!(
                "meeting `{}` was already recorded at seq {}",
                self.meeting, existing.seq
            ));
        }
        for attendee in &self.attendees {
            match ledger.members.get(attendee) {
                None => return fail(format!("attendee `{attendee}` is not an enrolled member")),
                Some(MemberRecord {
                    revoked_seq: Some(revoked),
                    ..
                }) => {
                    return fail(format!(
                        "attendee `{attendee}` was revoked at seq {revoked}; attendees are \
                         enrolled and unrevoked members"
                    ))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        if ledger.is_v2() {
            ledger
                .cycle
                .held_on
                .insert(self.meeting.clone(), self.held_on);
        }
        ledger.meetings.insert(
            self.meeting,
            MeetingRecord {
                seq,
                attendees: self.attendees.into_iter().collect(),
                attested: BTreeSet::new(),
            },
        );
    }
}
