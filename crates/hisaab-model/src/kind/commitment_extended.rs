//! `commitment.extended` (format 2): a chair or authority moves an open commitment's due date
//! later, with a reason; the state keeps every due date it had.

use hisaab_log::{Date, Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::cycle::ExtensionRecord;
use crate::kind::{Kind, KindRules};
use crate::ledger::{Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{schema, Role, Slug, Text};

/// `commitment.extended`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `commitment.extended` (SPEC §11.8). \
    Generated from hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to \
    regenerate."
)]
pub struct CommitmentExtendedBody {
    /// The commitment, not closed.
    pub commitment: Slug,
    /// The new due date, after the one in force.
    #[schemars(schema_with = "schema::date")]
    pub due: Date,
    /// Why (sealed in format 2, SPEC §12.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Text")]
    pub reason: Option<Text>,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for CommitmentExtendedBody {
    const KIND: Kind = Kind::CommitmentExtended;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority, Role::Chair]);
    const CONFLICT_OF_INTEREST: bool = true;
    const SINCE: u64 = 2;

    fn concerns<'a>(&'a self, ledger: &'a Ledger) -> Option<(Option<&'a Slug>, &'static str)> {
        Some((
            ledger
                .commitments
                .get(&self.commitment)
                .map(|c| &c.operator),
            "the extension of a commitment",
        ))
    }

    fn check_references(
        &self,
        ledger: &Ledger,
        seq: u64,
        _entry: &SealedEntry,
        _signer: &Signer<'_>,
        _history: &dyn History,
    ) -> Result<(), Violation> {
        let commitment = ledger.open_commitment(seq, &self.commitment, |closed, outcome| {
            format!(
                "commitment `{}` was closed ({}) at seq {closed}; only an open commitment is \
                 extended",
                self.commitment,
                outcome.map_or("outcome sealed".to_owned(), |o| o.to_string())
            )
        })?;
        if self.due <= commitment.due {
            return Err(Violation::new(
                seq,
                Rule::Reference,
                format!(
                    "the new due {} is not after commitment `{}`'s due {}; an extension moves \
                     the due date later",
                    self.due, self.commitment, commitment.due
                ),
            ));
        }
        Ok(())
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        if let Some(commitment) = ledger.commitments.get_mut(&self.commitment) {
            ledger
                .cycle
                .extensions
                .entry(self.commitment)
                .or_default()
                .push(ExtensionRecord {
                    seq,
                    from: commitment.due,
                    to: self.due,
                });
            commitment.due = self.due;
        }
    }
}
