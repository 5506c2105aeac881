//! Bundles out of the store (SPEC §6), the full verification, and witness cosignatures.

use std::io::Write;
use std::sync::PoisonError;

use hisaab_log::bundle::{BundleHeader, BundleWriter};
use hisaab_log::merkle::{leaf_hash, Frontier};
use hisaab_log::note::{add_signature_lines, verify_checkpoint, verify_cosignature, Checkpoint};

use crate::error::{Corruption, StoreError};
use crate::layout::decode_u64;
use crate::model;
use crate::store::{SignedCheckpoint, Store, VerifyReport};

impl Store {
    /// Streams the bundle of SPEC §6 for the first `tree_size` entries into `out`, entry by
    /// entry, and returns the number of entries written. The header's checkpoint is the kept
    /// one for that size, or one signed now with the log key.
    ///
    /// The Merkle root of the streamed entries is checked against the checkpoint at the end;
    /// on a mismatch the bundle written so far is invalid and the error says so.
    ///
    /// # Errors
    /// [`StoreError::BeyondLog`] unless `1 <= tree_size <= size`; [`StoreError::Bundle`] when
    /// writing fails; [`StoreError::Corrupt`] for a missing or altered entry.
    pub fn export_bundle(&self, tree_size: u64, out: impl Write) -> Result<u64, StoreError> {
        let shared = self.shared_ref();
        let size = self.size();
        if tree_size == 0 || tree_size > size {
            return Err(StoreError::BeyondLog {
                what: "tree_size",
                value: tree_size,
                size,
            });
        }
        let signed = self.checkpoint_for(tree_size)?;
        let header = BundleHeader::new(&shared.origin, &shared.genesis_log_key, &signed.note);
        let mut writer = BundleWriter::new(out, &header)?;
        let mut frontier = Frontier::new();
        let mut expected = 0u64;
        for item in shared.trees.entries.range(..tree_size.to_be_bytes()) {
            let (key, bytes) = item.map_err(StoreError::sled("reading entries"))?;
            if decode_u64(&key) != Some(expected) {
                return Err(Corruption::MissingEntry {
                    seq: expected,
                    size: tree_size,
                }
                .into());
            }
            frontier.push(leaf_hash(&bytes));
            writer.write_leaf(&bytes)?;
            expected = expected.saturating_add(1);
        }
        if expected != tree_size {
            return Err(Corruption::MissingEntry {
                seq: expected,
                size: tree_size,
            }
            .into());
        }
        writer.finish()?;
        if frontier.root() != signed.checkpoint.root {
            return Err(Corruption::CheckpointRoot {
                size: tree_size,
                checkpoint: signed.checkpoint.root,
                computed: frontier.root(),
            }
            .into());
        }
        Ok(expected)
    }

    /// The kept checkpoint for `tree_size`, or a fresh one signed with the log key.
    fn checkpoint_for(&self, tree_size: u64) -> Result<SignedCheckpoint, StoreError> {
        let latest = self.latest_checkpoint();
        if latest.checkpoint.size == tree_size {
            return Ok(latest);
        }
        if let Some(kept) = self.checkpoint_at(tree_size)? {
            return Ok(kept);
        }
        let shared = self.shared_ref();
        let checkpoint = Checkpoint {
            origin: shared.origin.clone(),
            size: tree_size,
            root: self.root(tree_size)?,
        };
        let note = checkpoint.sign(&shared.log_key)?;
        Ok(SignedCheckpoint { note, checkpoint })
    }

    /// Verifies the whole store in one pass over its entries: the latest checkpoint's
    /// signature and its root against the stored hashes, every entry's stored hashes (each
    /// leaf's new stored hashes recomputed from its leaf hash and the earlier ones) and index
    /// records, and every entry through the model's full verification (SPEC §2, §4, §6).
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] naming the first seq (or stored hash) that fails.
    pub fn verify_full(&self) -> Result<VerifyReport, StoreError> {
        let shared = self.shared_ref();
        let mut report = crate::audit::verify_trees(
            &shared.trees,
            &shared.committed().latest.note,
            &shared.log_vkey,
        )?;
        report.mark = shared.report.mark;
        Ok(report)
    }

    /// Adds a witness's cosignature line (C2SP `cosignature/v1`) to the kept checkpoint it
    /// signs, latest first. The witness is the member named by the line's key name; it must
    /// hold the role `witness` and the key must be its current one (SPEC §3). Returns the
    /// checkpoint with its cosignatures.
    ///
    /// # Errors
    /// [`StoreError::Cosignature`] when the line is malformed, names no active witness, or
    /// verifies for no kept checkpoint; storage errors.
    pub fn add_cosignature(&self, line: &str) -> Result<SignedCheckpoint, StoreError> {
        let refuse = |reason: String| StoreError::Cosignature { reason };
        let name = line
            .strip_prefix("\u{2014} ")
            .and_then(|rest| rest.split(' ').next())
            .filter(|name| !name.is_empty())
            .ok_or_else(|| refuse("not a signature line (\"— <name> <base64>\")".into()))?;
        let ledger = crate::replay::ledger_at(&self.shared_ref().trees, self.size(), None)?;
        let key = model::witness_key(&ledger, name)
            .ok_or_else(|| refuse(format!("{name:?} is not an active witness")))?;
        let mut line = line.to_owned();
        if !line.ends_with('\n') {
            line.push('\n');
        }
        let shared = self.shared_ref();
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
            if verify_cosignature(&checkpoint, &line, name, &key).is_err() {
                continue;
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
        Err(refuse(format!(
            "the cosignature by {name:?} verifies for no kept checkpoint"
        )))
    }
}
