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

/// `policy` of the genesis body: the `issued_at` window of rule 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// How far `issued_at` may be after `recorded_at`, in seconds.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub max_future_skew_s: u64,
    /// How far `issued_at` may be before `recorded_at`, in seconds.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub max_age_s: u64,
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
