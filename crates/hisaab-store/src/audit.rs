//! A full check of a data directory that needs no private key: what an auditor, or PTA staff
//! without the log key, runs against a copy of the server's files.

use std::io::Write;
use std::path::Path;

use hisaab_log::bundle::BundleHeader;
use hisaab_log::merkle;
use hisaab_log::note::{verify_checkpoint, VerifierKey};
use hisaab_log::{Date, Hash};
use hisaab_model::{Scopes, State};

use crate::bundle::write_bundle;
use crate::chunks::Record;
use crate::config::StoreConfig;
use crate::db::open_db;
use crate::error::{Corruption, StoreError};
use crate::files::decode_u64;
use crate::files::{Access, Stored};
use crate::layout::{
    decode_scope, is_index_in_sled, merkle_corruption, parse_entry, Trees, FORMAT, FORMAT_KEY,
};
use crate::open::{verify_index_records, verify_stored_hashes};
use crate::report::{MarkStatus, VerifyReport};
use crate::shared::genesis_body;
use crate::store::Store;

/// Verifies the ledger in `dir` end to end with nothing but its own files and the log's
/// public key, which the genesis names: the latest checkpoint's signature under genesis
/// `log_key`, the high-water mark, every entry's stored hashes and index records (those the
/// index runs hold: the entries after the last run are indexed again by the next open), the root
/// from the stored hashes and from the entries, and every entry through the model's full
/// verification (chain, strict signatures, SPEC §4). It writes nothing of its own and does not
/// repair anything; a directory that a running server holds cannot be opened.
///
/// # Errors
/// [`StoreError::NotAStore`] for a directory without a ledger; [`StoreError::Corrupt`] naming
/// the first failing seq where it is known, and why; [`StoreError::IndexNotSynced`] for a
/// store that was not closed and whose entry ends or stored hashes an open for writing must
/// rebuild first; storage errors.
pub fn audit_dir(dir: &Path, config: &StoreConfig) -> Result<VerifyReport, StoreError> {
    open_audited(dir, config).map(|audited| audited.report)
}

/// A data directory that passed [`audit_dir`]'s full check, held open read-only: what `replay`
/// and `export` read without the log's private key. Only signing a new checkpoint needs that
/// key, so a bundle is exported at the size of a checkpoint the log already signed.
#[derive(Debug)]
pub struct AuditedDir {
    trees: Trees,
    report: VerifyReport,
    genesis_log_key: String,
    genesis_format: u64,
}

/// Opens `dir` read-only after the full check of [`audit_dir`].
///
/// # Errors
/// As [`audit_dir`]; [`StoreError::Locked`] while a server holds the directory.
pub fn open_audited(dir: &Path, config: &StoreConfig) -> Result<AuditedDir, StoreError> {
    // Opening sled creates a database where there is none: look before touching anything.
    if !dir.join("db").is_file() || !dir.join("conf").is_file() {
        return Err(StoreError::NotAStore {
            path: dir.to_owned(),
        });
    }
    let trees = Trees::open(open_db(dir, config)?, dir, Access::ReadOnly, config)?;
    let format = trees
        .meta
        .get(FORMAT_KEY)
        .map_err(StoreError::sled("reading the format marker"))?;
    if format.as_deref() != Some(FORMAT) && !is_index_in_sled(format.as_deref()) {
        return Err(StoreError::NotAStore {
            path: dir.to_owned(),
        });
    }

    // The log's public key, as the genesis names it.
    let genesis = trees.read_entry(0, 1)?;
    let body = genesis_body(&genesis.entry().statement).map_err(|_| Corruption::Genesis {
        reason: "entry 0's body is not a ledger.genesis body",
    })?;
    let log_key = VerifierKey::try_parse(&body.log_key).map_err(|_| Corruption::Genesis {
        reason: "body.log_key is not a verifier key",
    })?;

    // The latest checkpoint, stored under its size, and the high-water mark that sled must
    // not have fallen behind: the mark first, so that a rollback is named as such before any
    // entry is read.
    let (note, checkpoint) = trees.latest_checkpoint(&log_key)?;
    let mark = crate::mark::status(dir, checkpoint.size, &checkpoint.root)?;
    // A store that was not closed may hold entry ends and stored hashes that never reached
    // the disk; only an open for writing rebuilds them (and the audit writes nothing). Entries
    // that do not give the signed root are damage, named as such.
    if let Some(unsynced) = crate::open::UnsyncedIndex::read(&trees, checkpoint.size)? {
        if !unsynced.is_on_disk(&trees)? {
            unsynced.check_root(&trees, checkpoint.size, &checkpoint.root)?;
            return Err(StoreError::IndexNotSynced {
                path: dir.to_owned(),
                from: unsynced.from(),
            });
        }
    }
    let mut report = verify_trees(&trees, &note, &log_key)?;
    report.mark = mark;
    Ok(AuditedDir {
        trees,
        report,
        genesis_log_key: body.log_key,
        genesis_format: genesis.entry().statement.v,
    })
}

impl AuditedDir {
    /// What the full check found: size, root, ledger id, origin and log key.
    pub fn report(&self) -> &VerifyReport {
        &self.report
    }

    /// The state of SPEC §5 after `as_of` entries (default: all) at date `at`.
    ///
    /// # Errors
    /// [`StoreError::BeyondLog`] for a size of 0 or beyond the log; storage errors.
    pub fn state(&self, as_of: Option<u64>, at: Option<Date>) -> Result<State, StoreError> {
        crate::replay::state_at(&self.trees, self.report.size, as_of, at)
    }

    /// The number of entries recorded by the end of `date` (`recorded_at` never decreases):
    /// the size of the ledger as recorded up to that day.
    ///
    /// # Errors
    /// Storage errors; [`StoreError::Corrupt`] for a missing entry.
    pub fn size_at_date(&self, date: Date) -> Result<u64, StoreError> {
        let size = self.report.size;
        let (mut low, mut high) = (0, size);
        while low < high {
            let middle = low + (high - low) / 2;
            let entry = self.trees.read_entry(middle, size)?;
            if entry.entry().recorded_at.date() <= date {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        Ok(low)
    }

    /// Writes a bundle (SPEC §6) of the first `tree_size` entries, with the checkpoint the log
    /// signed for that size, and returns the number of entries written.
    ///
    /// # Errors
    /// [`StoreError::BeyondLog`]; [`StoreError::NoCheckpoint`] when the log signed no
    /// checkpoint for that size; [`StoreError::Corrupt`] when an entry is missing or the root
    /// differs from the checkpoint's; I/O errors of `out`.
    pub fn export_bundle(&self, tree_size: u64, out: impl Write) -> Result<u64, StoreError> {
        StoreError::check_in_log("tree_size", tree_size, self.report.size)?;
        let note = self
            .trees
            .checkpoints
            .get(tree_size.to_be_bytes())
            .map_err(StoreError::sled("reading a checkpoint"))?
            .ok_or(StoreError::NoCheckpoint { size: tree_size })?;
        let note = String::from_utf8(note.to_vec()).map_err(|_| Corruption::Checkpoint {
            reason: format!("the note for size {tree_size} is not UTF-8"),
        })?;
        let checkpoint = verify_checkpoint(&note, &self.report.log_vkey)?;
        let header = BundleHeader::for_format(
            self.genesis_format,
            &self.report.origin,
            &self.genesis_log_key,
            &note,
        );
        write_bundle(&self.trees, &header, &checkpoint, out, &mut |_, _, _| {
            Ok(None)
        })
    }
}

impl Store {
    /// Verifies the whole store in one pass over its entries: the latest checkpoint's
    /// signature and its root against the stored hashes, every entry's stored hashes (each
    /// leaf's new stored hashes recomputed from its leaf hash and the earlier ones) and index
    /// records, and every entry through the model's full verification (SPEC §2, §4, §6).
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] naming the first seq (or stored hash) that fails.
    pub fn verify_full(&self) -> Result<VerifyReport, StoreError> {
        let shared = self.shared()?;
        let mut report = verify_trees(
            &shared.trees,
            &shared.committed().latest.note,
            &shared.log_vkey,
        )?;
        report.mark = shared.report.mark;
        Ok(report)
    }
}

/// The full check behind [`audit_dir`] and `Store::verify_full`, in one pass over the
/// entries: `note` must verify under `log_key`; its root must be the stored hashes' root; and
/// every entry below its size must have its stored hashes and (where the index holds it) its
/// index records, and pass the
/// model's full verification, whose root must be the checkpoint's.
pub(crate) fn verify_trees(
    trees: &Trees,
    note: &str,
    log_key: &VerifierKey,
) -> Result<VerifyReport, StoreError> {
    let checkpoint = verify_checkpoint(note, log_key).map_err(|e| Corruption::Checkpoint {
        reason: e.to_string(),
    })?;
    let size = checkpoint.size;
    let stored_root = merkle::tree_root(size, &trees.hashes()).map_err(merkle_corruption)?;
    if stored_root != checkpoint.root {
        return Err(Corruption::CheckpointRoot {
            size,
            checkpoint: checkpoint.root,
            computed: stored_root,
        }
        .into());
    }

    // A first, cheap pass: the sizes whose state digests `dispute.resolved` statements cite,
    // so that the verifying pass keeps those digests and not the entries. A record that
    // cannot be read here is reported by the verifying pass.
    let mut cited = std::collections::BTreeSet::new();
    for stored in trees.entries(0, size).flatten() {
        if let Some(as_of) = hisaab_model::cited_size(&stored.leaf) {
            cited.insert(as_of);
        }
    }

    // The store's own record checks run as the entries stream past; their error, which names
    // what is wrong in the store's terms, is reported rather than the model's wrapper of it.
    let mut expected = 0u64;
    let mut failure: Option<StoreError> = None;
    let mut scopes = Scopes::new();
    let entries = trees.entries(0, size).map(|item| {
        let checked = item.and_then(|stored| {
            let sealed = check_record(trees, &stored, expected, size)?;
            check_scope(&mut scopes, sealed, &stored.scope)
        });
        expected = expected.saturating_add(1);
        checked.map_err(|error| {
            let message = error.to_string();
            failure.get_or_insert(error);
            std::io::Error::other(message)
        })
    });
    let snapshots = snapshot_digests(trees, size)?;
    let snapshot_sizes = snapshots.keys().copied().collect();
    let verified = hisaab_model::verify_entries_cited(entries, &cited, &snapshot_sizes);
    if let Some(error) = failure {
        return Err(error);
    }
    let verified = verified.map_err(|e| Corruption::Verify {
        seq: e.seq(),
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
    for (snapshot_size, stored) in snapshots {
        let reason = match stored {
            Kept::Damaged(reason) => reason,
            Kept::Digest(stored) if verified.snapshots.get(&snapshot_size) != Some(&stored) => {
                "parses, but is not the state the entries give"
            }
            Kept::Digest(_) => continue,
        };
        return Err(Corruption::Snapshot {
            size: snapshot_size,
            reason,
        }
        .into());
    }
    Ok(VerifyReport {
        size,
        root: checkpoint.root,
        ledger_id: verified.ledger.ledger_id().unwrap_or_default(),
        origin: checkpoint.origin,
        log_vkey: log_key.clone(),
        mark: MarkStatus::Agrees,
    })
}

/// What the audit finds of a kept snapshot.
enum Kept {
    /// The SHA-256 of its model bytes, to compare with the state the entries give.
    Digest(Hash),
    /// Why it cannot be read.
    Damaged(&'static str),
}

/// The snapshots kept at sizes `1..=size` in the current snapshot format: for each, the
/// SHA-256 of its model bytes, or why it is damaged (its checksum fails; a chunk is missing or
/// fails its own). Snapshots of an older format, which open passes over (reading their first
/// chunk only) and replays past, are not judged; nor are the model bytes of a sealed one,
/// which only the master key opens, but its chunks must be there.
fn snapshot_digests(
    trees: &Trees,
    size: u64,
) -> Result<std::collections::BTreeMap<u64, Kept>, StoreError> {
    let mut digests = std::collections::BTreeMap::new();
    let current = hisaab_model::snapshot_is_current;
    for item in trees
        .snapshots
        .range(1u64.to_be_bytes()..=size.to_be_bytes())
    {
        let (key, value) = item.map_err(StoreError::sled("reading snapshots"))?;
        let snapshot_size = decode_u64(&key).ok_or(Corruption::BadRecord { tree: "snapshots" })?;
        let kept = match crate::chunks::parse(&value) {
            None => Some(Kept::Damaged(CHECKSUM_FAILS)),
            Some(Record::Whole(model_bytes)) => {
                current(model_bytes).then(|| Kept::Digest(Hash::sha256(model_bytes)))
            }
            Some(Record::Chunked(chunked)) if chunked.sealed() => {
                (!chunked.chunks_present(trees)?).then_some(Kept::Damaged(CHUNK_DAMAGED))
            }
            Some(Record::Chunked(chunked)) => match chunked.assemble(trees, snapshot_size)? {
                None => Some(Kept::Damaged(CHUNK_DAMAGED)),
                Some(model_bytes) => current(&model_bytes).then(|| Kept::Digest(chunked.digest())),
            },
        };
        // On a running store the snapshot thread may prune this snapshot, record and chunks
        // in one transaction, between the reading of the two: then it is gone, not damaged.
        if matches!(kept, Some(Kept::Damaged(CHUNK_DAMAGED)))
            && trees
                .snapshots
                .get(&key)
                .map_err(StoreError::sled("reading snapshots"))?
                .as_deref()
                != Some(&value[..])
        {
            continue;
        }
        digests.extend(kept.map(|kept| (snapshot_size, kept)));
    }
    Ok(digests)
}

/// Why a snapshot whose record fails its checksum is damaged.
const CHECKSUM_FAILS: &str = "is damaged: its checksum fails";
/// Why a snapshot with a missing or damaged chunk is damaged.
const CHUNK_DAMAGED: &str = "is damaged: a chunk of it is missing or fails its checksum";

/// Reads entry `seq` from its tree item and checks its key, its stored hashes and its index
/// records.
/// The scope stored with the entry is the one the fold of the log gives it: a wrong scope
/// would serve an operator's entry to readers it is withheld from.
fn check_scope(
    scopes: &mut Scopes,
    sealed: hisaab_log::SealedEntry,
    stored: &[u8],
) -> Result<hisaab_log::SealedEntry, StoreError> {
    let seq = sealed.entry().seq;
    let want = scopes.push(&sealed);
    if decode_scope(stored) != Some(want) {
        return Err(Corruption::Index {
            index: "scopes",
            seq,
        }
        .into());
    }
    Ok(sealed)
}

fn check_record(
    trees: &Trees,
    stored: &Stored,
    seq: u64,
    size: u64,
) -> Result<hisaab_log::SealedEntry, StoreError> {
    if stored.seq != seq {
        return Err(Corruption::MissingEntry { seq, size }.into());
    }
    let sealed = parse_entry(seq, &stored.leaf)?;
    verify_stored_hashes(trees, &sealed)?;
    verify_index_records(trees, &sealed)?;
    Ok(sealed)
}
