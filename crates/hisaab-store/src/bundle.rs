//! Bundles out of the store (SPEC §6): streamed entry by entry, their root checked against
//! the checkpoint in their header.

use std::io::Write;

use hisaab_log::bundle::{BundleHeader, BundleWriter};
use hisaab_log::merkle::{leaf_hash, Frontier};
use hisaab_log::note::Checkpoint;
use hisaab_log::SealedEntry;
use hisaab_model::Scope;

use crate::error::{Corruption, StoreError};
use crate::layout::{decode_scope, Trees};
use crate::report::SignedCheckpoint;
use crate::store::Store;

/// Gives, for an entry's seq, leaf bytes and stored scope, the line to write in their place in
/// a bundle, or `None` for the leaf bytes themselves.
pub(crate) type ReplaceLine<'a> =
    dyn FnMut(u64, &[u8], &[u8]) -> Result<Option<Vec<u8>>, StoreError> + 'a;

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
        self.export_with(tree_size, out, &mut |_, _, _| Ok(None))
    }

    /// [`Store::export_bundle`] for one reader (SPEC §13.4): the same header, and for each
    /// entry the line `line_for` gives in place of its leaf bytes, given the entry and its
    /// scope, or the leaf bytes themselves when it gives `None`. The root is still checked
    /// over the stored entries' leaf hashes.
    ///
    /// # Errors
    /// As [`Store::export_bundle`]; [`Corruption::UnreadableEntry`] for an entry that does
    /// not parse and [`Corruption::BadRecord`] for a missing scope.
    pub fn export_bundle_for<F>(
        &self,
        tree_size: u64,
        out: impl Write,
        mut line_for: F,
    ) -> Result<u64, StoreError>
    where
        F: FnMut(&SealedEntry, &Scope) -> Option<Vec<u8>>,
    {
        let mut replace = |seq: u64, bytes: &[u8], scope: &[u8]| {
            let sealed = SealedEntry::try_from_leaf_bytes(bytes)
                .map_err(|source| Corruption::UnreadableEntry { seq, source })?;
            let scope = decode_scope(scope).ok_or(Corruption::Index {
                index: "scopes",
                seq,
            })?;
            Ok(line_for(&sealed, &scope))
        };
        self.export_with(tree_size, out, &mut replace)
    }

    /// The bundle of the first `tree_size` entries with the lines `replace` gives (see
    /// [`write_bundle`]), under the header of SPEC §6.3.
    fn export_with(
        &self,
        tree_size: u64,
        out: impl Write,
        replace: &mut ReplaceLine<'_>,
    ) -> Result<u64, StoreError> {
        let shared = self.shared()?;
        StoreError::check_in_log("tree_size", tree_size, self.size())?;
        let signed = self.checkpoint_for(tree_size)?;
        let header = BundleHeader::for_format(
            shared.genesis_format,
            &shared.origin,
            &shared.genesis_log_key,
            &signed.note,
        );
        write_bundle(&shared.trees, &header, &signed.checkpoint, out, replace)
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
        let shared = self.shared()?;
        let checkpoint = Checkpoint {
            origin: shared.origin.clone(),
            size: tree_size,
            root: self.root(tree_size)?,
        };
        let note = checkpoint.sign(&shared.log_key)?;
        Ok(SignedCheckpoint { note, checkpoint })
    }
}

/// Streams the bundle of SPEC §6 with `header` for the entries of `checkpoint`'s tree into
/// `out`, and checks the root of the streamed entries against the checkpoint's at the end; on
/// a mismatch the bundle written so far is invalid and the error says so. `replace` gives, for
/// an entry's seq and leaf bytes, the line to write in their place, or `None` for the leaf
/// bytes. Returns the number of entries written. Shared by the store and the audited directory.
pub(crate) fn write_bundle(
    trees: &Trees,
    header: &BundleHeader,
    checkpoint: &Checkpoint,
    out: impl Write,
    replace: &mut ReplaceLine<'_>,
) -> Result<u64, StoreError> {
    let tree_size = checkpoint.size;
    let mut writer = BundleWriter::new(out, header)?;
    let mut frontier = Frontier::new();
    let mut expected = 0u64;
    for item in trees.entries(0, tree_size) {
        let stored = item?;
        // Each entry against its stored leaf hash, so that damage is named by its seq here
        // rather than found only as another root at the end.
        let leaf = leaf_hash(&stored.leaf);
        trees.check_leaf(stored.seq, leaf)?;
        frontier.push(leaf);
        match replace(expected, &stored.leaf, &stored.scope)? {
            Some(line) => writer.write_leaf(&line)?,
            None => writer.write_leaf(&stored.leaf)?,
        }
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
    if frontier.root() != checkpoint.root {
        return Err(Corruption::CheckpointRoot {
            size: tree_size,
            checkpoint: checkpoint.root,
            computed: frontier.root(),
        }
        .into());
    }
    Ok(expected)
}
