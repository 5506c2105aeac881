//! `report.published` (format 2): the authority publishes the sector's aggregates per pillar
//! (SPEC §12.12): for each pillar the number of operators with a score in it and, where at
//! least three do, their rounded mean; computed from the full state just before the report,
//! whose full-state digest it names. The body is public; the ledger, which holds every
//! opening, recomputes the aggregates and the digest at append and refuses a mismatch.

use hisaab_log::{Hash, Period, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{schema, Pillar, Role, SECTOR_CONTRIBUTORS_MIN};

/// `report.published`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `report.published` (SPEC §12.12). \
    Generated from hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to \
    regenerate."
)]
pub struct ReportPublishedBody {
    /// The first month the report covers.
    #[schemars(schema_with = "schema::period")]
    pub from: Period,
    /// The last month it covers (not before `from`).
    #[schemars(schema_with = "schema::period")]
    pub to: Period,
    /// The tree size of the state the aggregates are computed from: the report's own seq
    /// (the state just before it).
    #[schemars(range(max = "hisaab_log::jcs::INTEGER_MAX"))]
    pub as_of: u64,
    /// The full-state digest of that state (SPEC §12.8).
    #[schemars(schema_with = "schema::hash")]
    pub state_digest: Hash,
    /// One aggregate per pillar, in the order of SPEC §4.1.
    pub pillars: Vec<PillarAggregate>,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

/// The sector's aggregate of one pillar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PillarAggregate {
    /// The pillar.
    pub pillar: Pillar,
    /// How many registered operators have a score in this pillar.
    #[schemars(range(max = 1000000))]
    pub operators: u32,
    /// The rounded mean of their pillar scores, present only when at least 3 operators
    /// contribute; absent, the pillar is withheld.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(range(max = 100))]
    pub mean: Option<u8>,
}

impl KindRules for ReportPublishedBody {
    const KIND: Kind = Kind::ReportPublished;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority]);
    const SINCE: u64 = 2;

    fn check_form(&self) -> Result<(), String> {
        if self.to < self.from {
            return Err(format!(
                "to {} is before from {}: a report covers from one month to a later one",
                self.to, self.from
            ));
        }
        let named: Vec<Pillar> = self.pillars.iter().map(|p| p.pillar).collect();
        if named != Pillar::ALL {
            return Err(format!(
                "pillars must name each of the six pillars once, in the order of SPEC §4.1 \
                 ({}), not {}",
                Pillar::ALL
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                named
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        for aggregate in &self.pillars {
            let enough =
                usize::try_from(aggregate.operators).is_ok_and(|n| n >= SECTOR_CONTRIBUTORS_MIN);
            match (enough, aggregate.mean) {
                (true, None) => {
                    return Err(format!(
                        "pillar {}: {} operators contribute, so its mean is published",
                        aggregate.pillar, aggregate.operators
                    ))
                }
                (false, Some(_)) => {
                    return Err(format!(
                        "pillar {}: only {} operators contribute (fewer than \
                         {SECTOR_CONTRIBUTORS_MIN}), so its mean is withheld",
                        aggregate.pillar, aggregate.operators
                    ))
                }
                (_, Some(mean)) if mean > 100 => {
                    return Err(format!(
                        "pillar {}: mean {mean} is not a score of 0 to 100",
                        aggregate.pillar
                    ))
                }
                _ => {}
            }
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
        if self.as_of != seq {
            return fail(format!(
                "as_of {} is not this report's seq {seq}: a report is computed from the state \
                 just before it (SPEC §12.12)",
                self.as_of
            ));
        }
        if ledger.is_partial() {
            // A replay without every opening cannot recompute the aggregates (SPEC §12.12).
            return Ok(());
        }
        let digest = match ledger.resolution_digest() {
            Ok(digest) => digest,
            Err(reason) => {
                return fail(format!(
                    "the full-state digest at size {seq} is not defined: {reason}"
                ))
            }
        };
        if digest != self.state_digest {
            return fail(format!(
                "state_digest {} is not the full-state digest of the state at size {seq} \
                 ({digest}, SPEC §12.8)",
                self.state_digest
            ));
        }
        let expected = ledger.sector_aggregates();
        for (given, recomputed) in self.pillars.iter().zip(&expected) {
            if given != recomputed {
                return fail(format!(
                    "pillar {}: the report says {} operators and mean {}, the state at size \
                     {seq} gives {} operators and mean {}",
                    given.pillar,
                    given.operators,
                    given
                        .mean
                        .map_or_else(|| "withheld".to_owned(), |m| m.to_string()),
                    recomputed.operators,
                    recomputed
                        .mean
                        .map_or_else(|| "withheld".to_owned(), |m| m.to_string()),
                ));
            }
        }
        Ok(())
    }

    fn commit(self, _ledger: &mut Ledger, _seq: u64, _hash: Hash, _signer: PublicKey) {}
}
