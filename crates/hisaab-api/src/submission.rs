//! What `POST /v1/statements` takes (SPEC §7.2, §12.5): an envelope alone, or, for a format-2
//! statement whose body is in sealed form, the envelope with the sealing that opens it.

use hisaab_log::seal::Sealing;
use hisaab_log::Envelope;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A sealed statement as posted (SPEC §12.5): `{"envelope":…,"sealing":…}`. The envelope's
/// statement carries the sealed body its signer signed; the sealing gives the seed and one
/// value per sealed field of the kind, so that the ledger checks every commitment and every
/// rule on the opened body. The ledger keeps the per-field openings, encrypted, never the
/// seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SealedSubmission {
    /// The envelope (SPEC §2.3), its body in sealed form (§12.4).
    pub envelope: Envelope,
    /// The sealing of the body (§12.5).
    pub sealing: Sealing,
}

/// The body of `POST /v1/statements`: an envelope (every statement of a format-1 ledger, and
/// a format-2 statement of a kind that seals nothing, or with its body in the clear), or a
/// [`SealedSubmission`]. They are told apart by the top-level member `envelope`, which an
/// envelope never has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Submission {
    /// A sealed statement with its sealing.
    Sealed(SealedSubmission),
    /// An envelope alone.
    Envelope(Envelope),
}

impl Submission {
    /// The envelope and, for a sealed submission, its sealing.
    pub fn into_parts(self) -> (Envelope, Option<Sealing>) {
        match self {
            Submission::Sealed(sealed) => (sealed.envelope, Some(sealed.sealing)),
            Submission::Envelope(envelope) => (envelope, None),
        }
    }
}
