//! `ledger.genesis`: opens a ledger; its signer becomes the first authority. It stands only at
//! entry 0, where its signer needs no enrolment; anywhere else rule 2 refuses it.

use std::collections::BTreeSet;

use hisaab_log::jcs::INTEGER_MAX;
use hisaab_log::{Date, Hash, PublicKey};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{KeyRecord, Ledger, MemberRecord};
use crate::value::{schema, Origin, Role, Slug, Text};

/// `strategy` of the genesis body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Strategy {
    /// The strategy's name.
    pub name: Text,
    /// Its first day.
    #[schemars(schema_with = "schema::date")]
    pub starts: Date,
    /// Its last day (`starts <= ends`).
    #[schemars(schema_with = "schema::date")]
    pub ends: Date,
}

/// `authority` of the genesis body: the first member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenesisAuthority {
    /// The member id the genesis signer becomes.
    pub member: Slug,
    /// Their name.
    pub name: Text,
}

/// `policy` of the genesis body: the `issued_at` window of rule 4 and, on a ledger of format
/// 2, the deadlines of the task force's cycle (SPEC §11; the defaults apply when absent).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// How far `issued_at` may be after `recorded_at`, in seconds.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub max_future_skew_s: u64,
    /// How far `issued_at` may be before `recorded_at`, in seconds.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub max_age_s: u64,
    /// Format 2: days after the end of a period by which its report is due (default 15).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(range(max = 3660))]
    pub filing_days: Option<u64>,
    /// Format 2: days after a submission is recorded by which it is due an evaluation
    /// (default 30).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(range(max = 3660))]
    pub evaluation_days: Option<u64>,
    /// Format 2: days after a dispute is opened or a challenge raised by which it is due a
    /// decision (default 30).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(range(max = 3660))]
    pub decision_days: Option<u64>,
    /// Format 2: the share of the operators in the task force, in percent (1–100), that a
    /// meeting's attendees must represent for it to be quorate (default 50).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(range(min = 1, max = 100))]
    pub quorum_percent: Option<u64>,
}

/// The longest deadline a policy may set, in days (ten years).
pub const POLICY_DAYS_MAX: u64 = 3660;

impl Policy {
    /// The default of `filing_days`.
    pub const FILING_DAYS: u64 = 15;
    /// The default of `evaluation_days`.
    pub const EVALUATION_DAYS: u64 = 30;
    /// The default of `decision_days`.
    pub const DECISION_DAYS: u64 = 30;
    /// The default of `quorum_percent`.
    pub const QUORUM_PERCENT: u64 = 50;

    /// A format-1 policy: the time window only.
    pub fn window(max_future_skew_s: u64, max_age_s: u64) -> Policy {
        Policy {
            max_future_skew_s,
            max_age_s,
            filing_days: None,
            evaluation_days: None,
            decision_days: None,
            quorum_percent: None,
        }
    }

    /// Days after a period's end by which its report is due.
    pub fn filing_days(&self) -> u64 {
        self.filing_days.unwrap_or(Policy::FILING_DAYS)
    }

    /// Days after a submission by which it is due an evaluation.
    pub fn evaluation_days(&self) -> u64 {
        self.evaluation_days.unwrap_or(Policy::EVALUATION_DAYS)
    }

    /// Days after a dispute or challenge by which it is due a decision.
    pub fn decision_days(&self) -> u64 {
        self.decision_days.unwrap_or(Policy::DECISION_DAYS)
    }

    /// The share of operators, in percent, a quorate meeting's attendees represent.
    pub fn quorum_percent(&self) -> u64 {
        self.quorum_percent.unwrap_or(Policy::QUORUM_PERCENT)
    }

    fn cycle_fields(&self) -> [(&'static str, Option<u64>); 3] {
        [
            ("filing_days", self.filing_days),
            ("evaluation_days", self.evaluation_days),
            ("decision_days", self.decision_days),
        ]
    }
}

/// `ledger.genesis`: opens a ledger; its signer becomes the first authority.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `ledger.genesis` (SPEC §4). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct GenesisBody {
    /// The log's origin, a C2SP key name.
    pub origin: Origin,
    /// The ledger's title.
    pub title: Text,
    /// The strategy whose KPIs the ledger tracks.
    pub strategy: Strategy,
    /// The verifier key of the log key, named by `origin`.
    #[schemars(schema_with = "schema::vkey")]
    pub log_key: String,
    /// The first authority.
    pub authority: GenesisAuthority,
    /// The time window of rule 4.
    pub policy: Policy,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for GenesisBody {
    const KIND: Kind = Kind::LedgerGenesis;
    const SIGNERS: Signers = Signers::Genesis;

    fn check_form(&self) -> Result<(), String> {
        if self.strategy.starts > self.strategy.ends {
            return Err(format!(
                "strategy.starts ({}) is after strategy.ends ({})",
                self.strategy.starts, self.strategy.ends
            ));
        }
        for (field, days) in self.policy.cycle_fields() {
            if days.is_some_and(|d| d > POLICY_DAYS_MAX) {
                return Err(format!("policy.{field} is at most {POLICY_DAYS_MAX} days"));
            }
        }
        if self
            .policy
            .quorum_percent
            .is_some_and(|q| !(1..=100).contains(&q))
        {
            return Err("policy.quorum_percent is a percentage from 1 to 100".into());
        }
        let vkey = hisaab_log::note::VerifierKey::try_parse(&self.log_key)
            .map_err(|e| format!("log_key is not a verifier key: {e}"))?;
        if vkey.name() != self.origin.as_str() {
            return Err(format!(
                "log_key is named {:?}, not by the origin {:?}",
                vkey.name(),
                self.origin.as_str()
            ));
        }
        Ok(())
    }

    fn check_format(&self, format: u64) -> Result<(), String> {
        let quorum = ("quorum_percent", self.policy.quorum_percent);
        let mut fields = self.policy.cycle_fields().into_iter().chain([quorum]);
        match fields.find(|(_, d)| d.is_some()) {
            Some((field, _)) if format < 2 => Err(format!(
                "policy.{field} is a field of format 2; a ledger of format {format} has none"
            )),
            _ => Ok(()),
        }
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, hash: Hash, signer: PublicKey) {
        ledger.ledger_id = Some(hash);
        ledger.members.insert(
            self.authority.member.clone(),
            MemberRecord {
                name: self.authority.name.clone(),
                roles: BTreeSet::from([Role::Authority]),
                operator: None,
                key: signer,
                seq,
                revoked_seq: None,
            },
        );
        ledger.keys.insert(
            signer,
            KeyRecord {
                member: self.authority.member.clone(),
                seq,
                rotated_seq: None,
            },
        );
        ledger.genesis = Some(self);
    }
}
