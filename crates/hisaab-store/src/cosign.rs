//! Witness cosignatures (SPEC §3, C2SP `cosignature/v1`): the one place a cosignature line is
//! verified before the store keeps it beside the checkpoint it signs.

use std::sync::PoisonError;

use hisaab_log::note::{add_signature_lines, verify_checkpoint, verify_cosignature, NoteError};
use hisaab_log::PublicKey;
use hisaab_model::{Ledger, Role};

use crate::error::{CosignatureError, StoreError};
use crate::report::SignedCheckpoint;
use crate::store::Store;

impl Store {
    /// Adds a witness's cosignature line (C2SP `cosignature/v1`) to the kept checkpoint it
    /// signs, latest first. The witness is the member named by the line's key name; it must
    /// hold the role `witness` and the key must be its current one (SPEC §3). Returns the
    /// checkpoint with its cosignatures; a line the latest checkpoint already holds (it was
    /// verified when it was kept) returns the latest checkpoint, unchanged.
    ///
    /// # Errors
    /// [`StoreError::Cosignature`] with [`CosignatureError::Malformed`] when the line is not
    /// a cosignature line, [`CosignatureError::NotAWitness`] when it names no active witness,
    /// [`CosignatureError::NoCheckpoint`] when it verifies for no kept checkpoint; storage
    /// errors.
    pub fn add_cosignature(&self, line: &str) -> Result<SignedCheckpoint, StoreError> {
        let name = line
            .strip_prefix("\u{2014} ")
            .and_then(|rest| rest.split(' ').next())
            .filter(|name| !name.is_empty())
            .ok_or(CosignatureError::Malformed {
                source: NoteError::Malformed {
                    reason: "not a signature line (\"— <name> <base64>\")",
                },
            })?;
        let latest = self.latest_checkpoint();
        let raw = line.strip_suffix('\n').unwrap_or(line);
        // Every line the latest note holds under a name other than the log's was verified
        // when it was kept: nothing to check or write again.
        if name != self.origin() && latest.note.lines().any(|kept| kept == raw) {
            return Ok(latest);
        }
        let size = latest.checkpoint.size;
        let ledger = crate::replay::ledger_at(&self.shared()?.trees, size, None)?;
        let key = witness_key(&ledger, name).ok_or_else(|| CosignatureError::NotAWitness {
            name: name.to_owned(),
            size,
        })?;
        let line = format!("{raw}\n");
        let shared = self.shared()?;
        let _lock = shared
            .checkpoint_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut candidates = Vec::new();
        for item in shared.trees.checkpoints.iter().rev() {
            let (_, note) = item.map_err(StoreError::sled("reading checkpoints"))?;
            candidates.push(note);
        }
        for note in candidates {
            let Ok(note) = String::from_utf8(note.to_vec()) else {
                continue;
            };
            let Ok(checkpoint) = verify_checkpoint(&note, &shared.log_vkey) else {
                continue;
            };
            match verify_cosignature(&checkpoint, &line, name, &key) {
                Ok(_timestamp) => {}
                // What is wrong with the line itself is wrong for every checkpoint.
                Err(
                    source @ (NoteError::Malformed { .. }
                    | NoteError::BadKeyName { .. }
                    | NoteError::BadTimestamp { .. }),
                ) => return Err(CosignatureError::Malformed { source }.into()),
                Err(_) => continue,
            }
            let note = add_signature_lines(&note, std::slice::from_ref(&line))?;
            shared
                .trees
                .checkpoints
                .insert(checkpoint.size.to_be_bytes(), note.as_bytes())
                .map_err(StoreError::sled("storing a cosignature"))?;
            shared.trees.flush()?;
            let signed = SignedCheckpoint { note, checkpoint };
            let mut committed = shared
                .committed
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            if committed.latest.checkpoint.size == signed.checkpoint.size {
                committed.latest = signed.clone();
            }
            return Ok(signed);
        }
        Err(CosignatureError::NoCheckpoint {
            name: name.to_owned(),
            latest_size: latest.checkpoint.size,
        }
        .into())
    }
}

/// The current key of the active member `member` if it holds the role `witness` (SPEC §3: a
/// witness cosigns under the key name of its member id).
fn witness_key(ledger: &Ledger, member: &str) -> Option<PublicKey> {
    ledger
        .active_keys_with_role(Role::Witness)
        .into_iter()
        .find(|(id, _)| *id == member)
        .map(|(_, key)| key)
}
