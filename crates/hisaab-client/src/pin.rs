//! What a user pins: the log's verifier key, the ledger id and a witness policy (witnesses'
//! cosignature keys and how many must have cosigned), checked against what was verified.

use std::fmt;

use hisaab_log::key::{decode_base64_canonical, encode_base64};
use hisaab_log::note::{
    cosignature_key_id, open_note, verify_cosignature, Checkpoint, NoteError, VerifierKey,
};
use hisaab_log::{Hash, PublicKey};

/// The C2SP signature type of a cosignature/v1 key.
const COSIGNATURE_TYPE: u8 = 0x04;

/// A pin that does not hold, or a witness key that does not parse.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PinError {
    /// The log key found is not the pinned one.
    #[error(
        "the log key is not the pinned one (SPEC §3): expected {expected} (--log-vkey), found \
         {found} ({found_in})"
    )]
    LogKey {
        /// The pinned key.
        expected: Box<VerifierKey>,
        /// The key found.
        found: Box<VerifierKey>,
        /// Where it was found.
        found_in: String,
    },
    /// The ledger id found is not the pinned one.
    #[error(
        "the ledger is not the pinned one (SPEC §2): expected {expected} (--ledger), found {found}"
    )]
    Ledger {
        /// The pinned ledger id.
        expected: Hash,
        /// The ledger id found.
        found: Hash,
    },
    /// Fewer of the named witnesses cosigned than the policy asks.
    #[error(
        "the checkpoint of size {size} carries {count} valid cosignature(s) from the named \
         witnesses ({names}), fewer than --min-cosignatures {min} (SPEC §3, C2SP cosignature/v1)",
        count = cosigned.len(),
        names = if cosigned.is_empty() { "none".to_owned() } else { cosigned.join(", ") },
    )]
    TooFewCosignatures {
        /// The checkpoint's size.
        size: u64,
        /// The witnesses whose cosignature verified.
        cosigned: Vec<String>,
        /// How many the policy asks for.
        min: usize,
    },
    /// The checkpoint note does not open under the log key.
    #[error("the checkpoint note does not open under the log key")]
    Note(#[source] NoteError),
    /// A witness key is not `<name>+<key id>+<base64(0x04 || key)>`.
    #[error("{0}")]
    WitnessKey(WitnessKeyProblem),
}

/// What is wrong with a witness key's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WitnessKeyProblem {
    /// Not three `+`-separated parts.
    Parts,
    /// The key is not canonical base64.
    Base64,
    /// Not a cosignature/v1 key (type 0x04) of 32 bytes.
    Type,
    /// Not a valid Ed25519 public key.
    Key,
    /// The key id is not hex.
    KeyId,
    /// The key id does not match the name and key.
    KeyIdMismatch,
}

impl fmt::Display for WitnessKeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WitnessKeyProblem::Parts => "not `<name>+<key id>+<key>`",
            WitnessKeyProblem::Base64 => "the key is not canonical base64",
            WitnessKeyProblem::Type => "not a cosignature/v1 key (type 0x04, 32 bytes)",
            WitnessKeyProblem::Key => "not a valid Ed25519 public key",
            WitnessKeyProblem::KeyId => "bad key id",
            WitnessKeyProblem::KeyIdMismatch => "the key id does not match the name and key",
        })
    }
}

/// A witness's cosignature verifier key: `<name>+<hex key id>+<base64(0x04 || key)>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessKey {
    /// The witness's key name (its member id).
    pub name: String,
    /// Its public key.
    pub key: PublicKey,
}

impl WitnessKey {
    /// Parses a cosignature vkey, checking its key id.
    ///
    /// # Errors
    /// [`PinError::WitnessKey`] saying what is wrong.
    pub fn try_parse(text: &str) -> Result<Self, PinError> {
        let problem = PinError::WitnessKey;
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(problem(WitnessKeyProblem::Parts));
        };
        let bytes = decode_base64_canonical("witness key", key)
            .map_err(|_| problem(WitnessKeyProblem::Base64))?;
        let Some((&COSIGNATURE_TYPE, raw)) = bytes.split_first() else {
            return Err(problem(WitnessKeyProblem::Type));
        };
        let raw: &[u8; 32] = raw
            .try_into()
            .map_err(|_| problem(WitnessKeyProblem::Type))?;
        let key = PublicKey::try_from_bytes(raw).map_err(|_| problem(WitnessKeyProblem::Key))?;
        let id = u32::from_str_radix(id, 16).map_err(|_| problem(WitnessKeyProblem::KeyId))?;
        if id != cosignature_key_id(name, &key) {
            return Err(problem(WitnessKeyProblem::KeyIdMismatch));
        }
        Ok(WitnessKey {
            name: name.to_owned(),
            key,
        })
    }

    /// The vkey text.
    pub fn to_vkey(&self) -> String {
        let mut bytes = vec![COSIGNATURE_TYPE];
        bytes.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{:08x}+{}",
            self.name,
            cosignature_key_id(&self.name, &self.key),
            encode_base64(&bytes)
        )
    }
}

/// The pins of one verification.
#[derive(Debug, Clone, Default)]
pub struct Pins {
    /// The log's verifier key.
    pub log_vkey: Option<VerifierKey>,
    /// The ledger id.
    pub ledger: Option<Hash>,
    /// The witnesses' keys.
    pub witnesses: Vec<WitnessKey>,
    /// How many of them must have cosigned.
    pub min_cosignatures: usize,
}

impl Pins {
    /// Checks the log key and ledger id found against the pins.
    ///
    /// # Errors
    /// [`PinError::LogKey`] or [`PinError::Ledger`].
    pub fn check(
        &self,
        found_vkey: &VerifierKey,
        found_ledger: Option<&Hash>,
    ) -> Result<(), PinError> {
        if let Some(expected) = &self.log_vkey {
            if expected != found_vkey {
                return Err(PinError::LogKey {
                    expected: Box::new(expected.clone()),
                    found: Box::new(found_vkey.clone()),
                    found_in: "genesis log_key".to_owned(),
                });
            }
        }
        if let (Some(expected), Some(found)) = (&self.ledger, found_ledger) {
            if expected != found {
                return Err(PinError::Ledger {
                    expected: *expected,
                    found: *found,
                });
            }
        }
        Ok(())
    }

    /// Checks the witness policy on a checkpoint note already verified under `log_vkey`: at
    /// least `min_cosignatures` of the named witnesses carry a valid cosignature/v1 line.
    /// Returns the names of the witnesses whose cosignature verified.
    ///
    /// # Errors
    /// [`PinError::Note`] if the note does not open, [`PinError::TooFewCosignatures`].
    pub fn check_witnesses(
        &self,
        note: &str,
        checkpoint: &Checkpoint,
        log_vkey: &VerifierKey,
    ) -> Result<Vec<String>, PinError> {
        if self.witnesses.is_empty() {
            return Ok(Vec::new());
        }
        let opened = open_note(note, std::slice::from_ref(log_vkey)).map_err(PinError::Note)?;
        let mut cosigned = Vec::new();
        for witness in &self.witnesses {
            let valid = opened.other_signatures.iter().any(|line| {
                verify_cosignature(checkpoint, line, &witness.name, &witness.key).is_ok()
            });
            if valid && !cosigned.contains(&witness.name) {
                cosigned.push(witness.name.clone());
            }
        }
        if cosigned.len() < self.min_cosignatures {
            return Err(PinError::TooFewCosignatures {
                size: checkpoint.size,
                cosigned,
                min: self.min_cosignatures,
            });
        }
        Ok(cosigned)
    }
}
