//! A full check of a data directory that needs no private key: what an auditor, or PTA staff
//! without the log key, runs against a copy of the server's files.

use std::path::Path;

use hisaab_log::merkle;
use hisaab_log::note::{verify_checkpoint, VerifierKey};

use crate::config::StoreConfig;
use crate::error::{Corruption, StoreError};
use crate::layout::{
    decode_u64, merkle_corruption, parse_entry, SledHashes, Trees, FORMAT, FORMAT_KEY,
};
use crate::open::{verify_index_records, verify_stored_hashes};
use crate::store::{open_db, VerifyReport};

/// Verifies the ledger in `dir` end to end with nothing but its own files and the log's
/// public key, which the genesis names: the latest checkpoint's signature under genesis
/// `log_key`, the high-water mark, every entry's stored hashes and index records, the root
/// from the stored hashes and from the entries, and every entry through the model's full
/// verification (chain, strict signatures, SPEC §4). It writes nothing of its own and does not
/// repair anything; a directory that a running server holds cannot be opened.
///
/// # Errors
/// [`StoreError::NotAStore`] for a directory without a ledger; [`StoreError::Corrupt`] naming
/// the first failing seq where it is known, and why; storage errors.
pub fn audit_dir(dir: &Path, config: &StoreConfig) -> Result<VerifyReport, StoreError> {
    // Opening sled creates a database where there is none: look before touching anything.
    if !dir.join("db").is_file() || !dir.join("conf").is_file() {
        return Err(StoreError::NotAStore {
            path: dir.to_owned(),
        });
    }
    let trees = Trees::open(open_db(dir, config)?)?;
    let format = trees
        .meta
        .get(FORMAT_KEY)
        .map_err(StoreError::sled("reading the format marker"))?;
    if format.as_deref() != Some(FORMAT) {
        return Err(StoreError::NotAStore {
            path: dir.to_owned(),
        });
    }

    // The log's public key, as the genesis names it.
    let genesis = trees.read_entry(0, 1)?;
    let body = &genesis.entry().statement.body;
    let log_key = body
        .get("log_key")
        .and_then(|v| v.as_str())
        .and_then(|vkey| VerifierKey::try_parse(vkey).ok())
        .ok_or(Corruption::Genesis {
            reason: "body.log_key is not a verifier key",
        })?;

    // The latest checkpoint, and the high-water mark that sled must not have fallen behind.
    let (key, note) = trees
        .checkpoints
        .last()
        .map_err(StoreError::sled("reading the latest checkpoint"))?
        .ok_or(Corruption::Checkpoint {
            reason: "the store has no checkpoint".into(),
        })?;
    let note = String::from_utf8(note.to_vec()).map_err(|_| Corruption::Checkpoint {
        reason: "the note is not UTF-8".into(),
    })?;
    let checkpoint = verify_checkpoint(&note, &log_key).map_err(|e| Corruption::Checkpoint {
        reason: e.to_string(),
    })?;
    let size = checkpoint.size;
    if decode_u64(&key) != Some(size) {
        return Err(Corruption::Checkpoint {
            reason: format!("the checkpoint for size {size} is stored under another key"),
        }
        .into());
    }
    if let Some(Some(mark)) = crate::mark::read(dir) {
        if mark.size > size {
            return Err(Corruption::LostEntries {
                size,
                mark_size: mark.size,
            }
            .into());
        }
    }
    let stored_root =
        merkle::tree_root(size, &SledHashes(&trees.hashes)).map_err(merkle_corruption)?;
    if stored_root != checkpoint.root {
        return Err(Corruption::CheckpointRoot {
            size,
            checkpoint: checkpoint.root,
            computed: stored_root,
        }
        .into());
    }

    // Every entry under the checkpoint: its records, then the model's full verification.
    let mut expected = 0u64;
    let entries = trees.entries.range(..size.to_be_bytes()).map(|item| {
        let (key, bytes) = item.map_err(StoreError::sled("reading entries"))?;
        if decode_u64(&key) != Some(expected) {
            return Err(Corruption::MissingEntry {
                seq: expected,
                size,
            }
            .into());
        }
        let sealed = parse_entry(expected, &bytes)?;
        verify_stored_hashes(&trees, &sealed)?;
        verify_index_records(&trees, &sealed)?;
        expected = expected.saturating_add(1);
        Ok::<_, StoreError>(sealed)
    });
    let verified = hisaab_model::verify_entries(entries).map_err(|e| Corruption::Verify {
        seq: crate::model::verify_error_seq(&e),
        detail: e.to_string(),
    })?;
    if verified.size != size {
        return Err(Corruption::MissingEntry {
            seq: verified.size,
            size,
        }
        .into());
    }
    if verified.root != checkpoint.root {
        return Err(Corruption::CheckpointRoot {
            size,
            checkpoint: checkpoint.root,
            computed: verified.root,
        }
        .into());
    }
    Ok(VerifyReport {
        size,
        root: checkpoint.root,
        ledger_id: genesis.event_hash(),
        origin: checkpoint.origin,
    })
}
