//! `rubric.set` (format 2): the authority sets the band of scores each verdict may carry; an
//! evaluation whose score lies outside its verdict's band is refused from then on.

use std::collections::BTreeSet;

use hisaab_log::{Hash, PublicKey};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::Ledger;
use crate::value::{Role, Score, Verdict};

/// One verdict's band of scores, `min` to `max` inclusive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Band {
    /// The verdict.
    pub verdict: Verdict,
    /// The least score it may carry.
    pub min: Score,
    /// The greatest score it may carry (`min <= max`).
    pub max: Score,
}

/// `rubric.set`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `rubric.set` (SPEC §11.10). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct RubricSetBody {
    /// 1–4 bands, one per verdict at most; a verdict without a band may carry any score.
    #[schemars(length(min = 1, max = 4))]
    pub bands: Vec<Band>,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for RubricSetBody {
    const KIND: Kind = Kind::RubricSet;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority]);
    const SINCE: u64 = 2;

    fn check_form(&self) -> Result<(), String> {
        if self.bands.is_empty() || self.bands.len() > Verdict::ALL.len() {
            return Err(format!(
                "bands must list 1 to {} verdicts, found {}",
                Verdict::ALL.len(),
                self.bands.len()
            ));
        }
        let verdicts: BTreeSet<Verdict> = self.bands.iter().map(|b| b.verdict).collect();
        if verdicts.len() != self.bands.len() {
            return Err("bands must name each verdict at most once".into());
        }
        for band in &self.bands {
            if band.min > band.max {
                return Err(format!(
                    "the band of {} has min {} above max {}",
                    band.verdict,
                    band.min.get(),
                    band.max.get()
                ));
            }
        }
        Ok(())
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        ledger.cycle.rubric = Some((
            seq,
            self.bands
                .into_iter()
                .map(|b| (b.verdict, (b.min.get(), b.max.get())))
                .collect(),
        ));
    }
}
