//! What a user pins on the command line: the log's verifier key (`--log-vkey`), the ledger id
//! (`--ledger`) and a witness policy (`--witness VKEY… --min-cosignatures K`), parsed strictly
//! (a malformed value is a usage error) and checked against what was verified.

use anyhow::{bail, Result};
use hisaab_log::key::decode_base64_canonical;
use hisaab_log::note::{cosignature_key_id, open_note, Checkpoint, VerifierKey};
use hisaab_log::{Hash, PublicKey};

use crate::exit::usage;

/// The C2SP signature type of a cosignature/v1 key.
const COSIGNATURE_TYPE: u8 = 0x04;

/// A witness's cosignature verifier key: `<name>+<hex key id>+<base64(0x04 || key)>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WitnessKey {
    /// The witness's key name (its member id).
    pub(crate) name: String,
    /// Its public key.
    pub(crate) key: PublicKey,
}

impl WitnessKey {
    /// Parses a cosignature vkey, checking its key id.
    pub(crate) fn try_parse(text: &str) -> Result<Self> {
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            bail!("not `<name>+<key id>+<key>`");
        };
        let bytes = decode_base64_canonical("witness key", key)?;
        let Some((&COSIGNATURE_TYPE, raw)) = bytes.split_first() else {
            bail!("not a cosignature/v1 key (type 0x04)");
        };
        let raw: &[u8; 32] = raw
            .try_into()
            .map_err(|_| anyhow::anyhow!("an Ed25519 key has 32 bytes"))?;
        let key = PublicKey::try_from_bytes(raw)?;
        let id = u32::from_str_radix(id, 16).map_err(|_| anyhow::anyhow!("bad key id"))?;
        if id != cosignature_key_id(name, &key) {
            bail!("the key id does not match the name and key");
        }
        Ok(WitnessKey {
            name: name.to_owned(),
            key,
        })
    }

    /// The vkey text.
    pub(crate) fn to_vkey(&self) -> String {
        let mut bytes = vec![COSIGNATURE_TYPE];
        bytes.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{:08x}+{}",
            self.name,
            cosignature_key_id(&self.name, &self.key),
            hisaab_log::key::encode_base64(&bytes)
        )
    }
}

/// The pins of one command.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pins {
    /// `--log-vkey`.
    pub(crate) log_vkey: Option<VerifierKey>,
    /// `--ledger`.
    pub(crate) ledger: Option<Hash>,
    /// `--witness`.
    pub(crate) witnesses: Vec<WitnessKey>,
    /// `--min-cosignatures`.
    pub(crate) min_cosignatures: usize,
}

impl Pins {
    /// Parses the pins; anything malformed is a usage error.
    pub(crate) fn try_parse(
        log_vkey: Option<&str>,
        ledger: Option<&str>,
        witnesses: &[String],
        min_cosignatures: Option<usize>,
    ) -> Result<Self> {
        let log_vkey = log_vkey
            .map(|v| {
                VerifierKey::try_parse(v).map_err(|e| {
                    usage(format!(
                        "--log-vkey {v:?} is not a log verifier key \
                         `<origin>+<hex key id>+<base64 key>` (SPEC §3): {e}"
                    ))
                })
            })
            .transpose()?;
        let ledger = ledger
            .map(|l| {
                Hash::try_from_hex(l).map_err(|_| {
                    usage(format!(
                        "--ledger {l:?} is not a ledger id (64 lowercase hex digits, SPEC §2)"
                    ))
                })
            })
            .transpose()?;
        let witnesses = witnesses
            .iter()
            .map(|w| {
                WitnessKey::try_parse(w).map_err(|e| {
                    usage(format!(
                        "--witness {w:?} is not a cosignature/v1 verifier key \
                         `<name>+<hex key id>+<base64(0x04||key)>` (SPEC §3): {e}"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let min_cosignatures = match (min_cosignatures, witnesses.is_empty()) {
            (Some(k), true) if k > 0 => {
                return Err(usage(
                    "--min-cosignatures needs the witnesses' keys (--witness)",
                ))
            }
            (Some(k), false) if k > witnesses.len() => {
                return Err(usage(format!(
                    "--min-cosignatures {k} is more than the {} --witness keys given",
                    witnesses.len()
                )))
            }
            (Some(k), _) => k,
            (None, true) => 0,
            // Naming witnesses without a number asks for all of them.
            (None, false) => witnesses.len(),
        };
        Ok(Pins {
            log_vkey,
            ledger,
            witnesses,
            min_cosignatures,
        })
    }

    /// Checks the log key and ledger id found against the pins.
    pub(crate) fn check(
        &self,
        found_vkey: &VerifierKey,
        found_ledger: Option<&Hash>,
    ) -> Result<()> {
        if let Some(expected) = &self.log_vkey {
            if expected != found_vkey {
                bail!(
                    "the log key is not the pinned one (SPEC §3): expected {expected} \
                     (--log-vkey), found {found_vkey} (genesis log_key)"
                );
            }
        }
        if let (Some(expected), Some(found)) = (&self.ledger, found_ledger) {
            if expected != found {
                bail!(
                    "the ledger is not the pinned one (SPEC §2): expected {expected} \
                     (--ledger), found {found}"
                );
            }
        }
        Ok(())
    }

    /// Checks the witness policy on a checkpoint note already verified under `log_vkey`:
    /// at least `min_cosignatures` of the named witnesses carry a valid cosignature/v1 line.
    /// Returns the names of the witnesses whose cosignature verified.
    pub(crate) fn check_witnesses(
        &self,
        note: &str,
        checkpoint: &Checkpoint,
        log_vkey: &VerifierKey,
    ) -> Result<Vec<String>> {
        if self.witnesses.is_empty() {
            return Ok(Vec::new());
        }
        let opened = open_note(note, std::slice::from_ref(log_vkey))?;
        let mut cosigned = Vec::new();
        for witness in &self.witnesses {
            let valid = opened.other_signatures.iter().any(|line| {
                hisaab_log::note::verify_cosignature(checkpoint, line, &witness.name, &witness.key)
                    .is_ok()
            });
            if valid && !cosigned.contains(&witness.name) {
                cosigned.push(witness.name.clone());
            }
        }
        if cosigned.len() < self.min_cosignatures {
            bail!(
                "the checkpoint of size {} carries {} valid cosignature(s) from the named \
                 witnesses ({}), fewer than --min-cosignatures {} (SPEC §3, C2SP \
                 cosignature/v1)",
                checkpoint.size,
                cosigned.len(),
                if cosigned.is_empty() {
                    "none".to_owned()
                } else {
                    cosigned.join(", ")
                },
                self.min_cosignatures
            );
        }
        Ok(cosigned)
    }
}
