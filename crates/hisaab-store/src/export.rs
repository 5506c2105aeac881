//! Bundles out of the store (SPEC §6), the full verification, and witness cosignatures.

use std::io::{self, BufReader, Read, Write};
use std::sync::PoisonError;

use hisaab_log::bundle::{BundleHeader, BundleWriter};
use hisaab_log::jcs;
use hisaab_log::merkle::{self, leaf_hash, Frontier};
use hisaab_log::note::{add_signature_lines, verify_checkpoint, verify_cosignature, Checkpoint};

use crate::error::{Corruption, StoreError};
use crate::layout::{decode_u64, merkle_corruption, parse_entry, SledHashes};
use crate::model;
use crate::open::{verify_index_records, verify_stored_hashes};
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

    /// Verifies the whole store: every entry's stored hashes (each leaf's new stored hashes
    /// recomputed from its leaf hash and the earlier ones), its index records, the latest
    /// checkpoint against the stored root, and then the store's own bundle streamed through
    /// the model's full verification (SPEC §2, §4, §6), in `O(log n)` memory.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] naming the first seq (or stored hash) that fails.
    pub fn verify_full(&self) -> Result<VerifyReport, StoreError> {
        let shared = self.shared_ref();
        let committed = shared.committed();
        let size = committed.size;
        let trees = &shared.trees;
        let mut expected = 0u64;
        for item in trees.entries.range(..size.to_be_bytes()) {
            let (key, bytes) = item.map_err(StoreError::sled("reading entries"))?;
            if decode_u64(&key) != Some(expected) {
                return Err(Corruption::MissingEntry {
                    seq: expected,
                    size,
                }
                .into());
            }
            let sealed = parse_entry(expected, &bytes)?;
            verify_stored_hashes(trees, &sealed)?;
            verify_index_records(trees, &sealed)?;
            expected = expected.saturating_add(1);
        }
        if expected != size {
            return Err(Corruption::MissingEntry {
                seq: expected,
                size,
            }
            .into());
        }
        let checkpoint =
            verify_checkpoint(&committed.latest.note, &shared.log_vkey).map_err(|e| {
                Corruption::Checkpoint {
                    reason: e.to_string(),
                }
            })?;
        let root =
            merkle::tree_root(size, &SledHashes(&trees.hashes)).map_err(merkle_corruption)?;
        if checkpoint.size != size || checkpoint.root != root {
            return Err(Corruption::CheckpointRoot {
                size,
                checkpoint: checkpoint.root,
                computed: root,
            }
            .into());
        }
        let stream = BundleStream::new(self, &committed.latest.note, size)?;
        model::verify_bundle(BufReader::new(stream)).map_err(|e| Corruption::Verify {
            seq: model::verify_error_seq(&e),
            detail: e.to_string(),
        })?;
        Ok(VerifyReport {
            size,
            root,
            ledger_id: trees.read_entry(0, size)?.event_hash(),
            origin: checkpoint.origin,
        })
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

/// The store's bundle as a byte stream: the header line, then entries `0..size` read from sled
/// one at a time.
struct BundleStream {
    pending: Vec<u8>,
    position: usize,
    entries: sled::Iter,
}

impl BundleStream {
    fn new(store: &Store, note: &str, size: u64) -> Result<Self, StoreError> {
        let shared = store.shared_ref();
        let header = BundleHeader::new(&shared.origin, &shared.genesis_log_key, note);
        let mut pending = jcs::to_canonical(&header)?;
        pending.push(b'\n');
        Ok(BundleStream {
            pending,
            position: 0,
            entries: shared.trees.entries.range(..size.to_be_bytes()),
        })
    }
}

impl Read for BundleStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.position >= self.pending.len() {
            match self.entries.next() {
                None => return Ok(0),
                Some(item) => {
                    let (_, bytes) = item.map_err(io::Error::other)?;
                    self.pending.clear();
                    self.pending.extend_from_slice(&bytes);
                    self.pending.push(b'\n');
                    self.position = 0;
                }
            }
        }
        let available = self.pending.get(self.position..).unwrap_or_default();
        let count = available.len().min(buf.len());
        if let (Some(target), Some(source)) = (buf.get_mut(..count), available.get(..count)) {
            target.copy_from_slice(source);
        }
        self.position += count;
        Ok(count)
    }
}
