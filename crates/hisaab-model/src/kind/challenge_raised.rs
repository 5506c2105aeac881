//! `challenge.raised`: a problem any member brings to the task force.

use hisaab_log::{Date, Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::cycle::ActionOwner;
use crate::kind::{Kind, KindRules};
use crate::ledger::{ChallengeRecord, Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{schema, KpiId, Pillar, Severity, Slug, Text};

/// `challenge.raised`: a problem any member brings to the task force.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `challenge.raised` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct ChallengeRaisedBody {
    /// The new challenge's id.
    pub challenge: Slug,
    /// Its pillar.
    pub pillar: Pillar,
    /// The operator concerned, if any.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Slug")]
    pub operator: Option<Slug>,
    /// The KPI concerned, if any.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "KpiId")]
    pub kpi: Option<KpiId>,
    /// What the challenge is.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Text")]
    pub description: Option<Text>,
    /// Format 2: who answers for it, `{"member": …}` or `{"operator": …}` (with `due`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "ActionOwner")]
    pub owner: Option<ActionOwner>,
    /// Format 2: the date by which it is to be dealt with (with `owner`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(schema_with = "schema::date")]
    pub due: Option<Date>,
    /// Format 2: how grave it is.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Severity")]
    pub severity: Option<Severity>,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for ChallengeRaisedBody {
    const KIND: Kind = Kind::ChallengeRaised;
    const SIGNERS: Signers = Signers::AnyMember;

    fn check_format(&self, format: u64) -> Result<(), String> {
        let v2 = [
            ("owner", self.owner.is_some()),
            ("due", self.due.is_some()),
            ("severity", self.severity.is_some()),
        ];
        match v2.iter().find(|(_, present)| *present) {
            Some((field, _)) if format < 2 => Err(format!(
                "{field} is a field of format 2; a ledger of format {format} has none"
            )),
            _ => Ok(()),
        }
    }

    fn check_form(&self) -> Result<(), String> {
        if self.owner.is_some() != self.due.is_some() {
            return Err("a challenge's owner and due come together".to_owned());
        }
        Ok(())
    }

    fn subject(&self) -> (Option<&Slug>, Option<&KpiId>) {
        (self.operator.as_ref(), self.kpi.as_ref())
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
        if let Some(existing) = ledger.challenges.get(&self.challenge) {
            return fail(format!(
                "challenge `{}` was already raised at seq {}",
                self.challenge, existing.seq
            ));
        }
        if let Some(operator) = &self.operator {
            ledger.check_operator(seq, operator)?;
        }
        if let Some(kpi) = &self.kpi {
            if !ledger.kpis.contains_key(kpi) {
                return fail(format!("KPI `{kpi}` is not defined"));
            }
        }
        if let Some(owner) = &self.owner {
            ledger.check_owner(seq, owner, "given challenges")?;
        }
        let today = entry.entry().recorded_at.date();
        match self.due {
            Some(due) if due < today => fail(format!(
                "due {due} is before the challenge is raised ({today})"
            )),
            _ => Ok(()),
        }
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, hash: Hash, _signer: PublicKey) {
        ledger.challenge_events.insert(hash, self.challenge.clone());
        ledger.challenges.insert(
            self.challenge,
            ChallengeRecord {
                seq,
                raised: ledger.today(),
                operator: self.operator,
                kpi: self.kpi,
                resolved_seq: None,
                owner: self.owner,
                due: self.due,
                severity: self.severity,
                measures: Vec::new(),
            },
        );
    }
}
