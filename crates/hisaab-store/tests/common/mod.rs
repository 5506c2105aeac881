//! Helpers shared by the store's integration tests.
// Each test binary uses some of these helpers; `pub` is for the binaries that include this module.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

pub mod model;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hisaab_log::merkle::verify_inclusion;
use hisaab_log::note::verify_checkpoint;
use hisaab_log::{Envelope, Hash};
use hisaab_store::{ManualClock, Receipt, Store, StoreConfig};
use hisaab_testkit::fixture;

/// The sled database of a closed store's directory, opened as the store opens it, to look at
/// or alter its trees directly.
pub fn sled_db(dir: &Path) -> sled::Db {
    hisaab_store::open_db(dir, &config())
        .unwrap_or_else(|e| panic!("the database of {} does not open: {e}", dir.display()))
}

/// A clock one second after the fixture statements' `issued_at`.
pub fn clock() -> ManualClock {
    ManualClock::new(fixture::EPOCH_MILLIS + 1000)
}

/// Small batches and frequent snapshots, so that tests exercise both.
pub fn config() -> StoreConfig {
    StoreConfig {
        batch_entries_max: 32,
        snapshot_every: 8,
        snapshots_kept: 4,
        snapshot_archive_every: 64,
        checkpoints_kept: 8,
        ..StoreConfig::default()
    }
}

pub fn create(dir: &Path, config: StoreConfig) -> (Store, ManualClock) {
    let clock = clock();
    let store = Store::create(
        dir,
        fixture::genesis().unwrap(),
        fixture::log_key(),
        config,
        Arc::new(clock.clone()),
    )
    .unwrap();
    (store, clock)
}

pub fn open(dir: &Path, config: StoreConfig) -> Result<Store, hisaab_store::StoreError> {
    Store::open(dir, fixture::log_key(), config, Arc::new(clock()))
}

pub fn ledger_id(store: &Store) -> Hash {
    store.entry(0).unwrap().unwrap().event_hash()
}

pub fn operator(store: &Store, namespace: u32, n: u64) -> Envelope {
    fixture::register_operator(ledger_id(store), namespace, n).unwrap()
}

/// Appends `count` operator registrations in namespace `namespace` from one thread.
pub fn fill(store: &Store, namespace: u32, count: u64) -> Vec<Receipt> {
    let id = ledger_id(store);
    (0..count)
        .map(|n| {
            let envelope = fixture::register_operator(id, namespace, n).unwrap();
            store.append_blocking(envelope).unwrap().receipt
        })
        .collect()
}

/// Checks a receipt on its own, as a client would: the checkpoint verifies under the log key,
/// covers the entry, and the inclusion proof leads to its root.
pub fn verify_receipt(receipt: &Receipt) {
    let vkey = fixture::log_vkey().unwrap();
    let checkpoint = verify_checkpoint(&receipt.checkpoint, &vkey).unwrap();
    assert!(receipt.seq < checkpoint.size);
    verify_inclusion(
        &receipt.event_hash,
        receipt.seq,
        checkpoint.size,
        &receipt.inclusion_proof,
        &checkpoint.root,
    )
    .unwrap();
}

/// Checks a receipt's inclusion proof against its checkpoint's root, without verifying the
/// checkpoint's signature (for receipts whose checkpoint was verified already).
pub fn verify_inclusion_only(receipt: &Receipt) {
    let body = receipt.checkpoint.split("\n\n").next().unwrap();
    let checkpoint = hisaab_log::note::Checkpoint::try_parse_body(&format!("{body}\n")).unwrap();
    verify_inclusion(
        &receipt.event_hash,
        receipt.seq,
        checkpoint.size,
        &receipt.inclusion_proof,
        &checkpoint.root,
    )
    .unwrap();
}

/// Checks that the store holds the receipt's entry and proves it against its latest
/// checkpoint, and that the receipt's checkpoint is consistent with the latest one.
pub fn verify_receipt_in(store: &Store, receipt: &Receipt) {
    verify_receipt(receipt);
    let entry = store
        .entry(receipt.seq)
        .unwrap()
        .expect("receipted entry present");
    assert_eq!(entry.event_hash(), receipt.event_hash);
    assert_eq!(entry.entry().recorded_at, receipt.recorded_at);
    let latest = store.latest_checkpoint();
    let vkey = fixture::log_vkey().unwrap();
    verify_checkpoint(&latest.note, &vkey).unwrap();
    let proof = store
        .inclusion_proof(receipt.seq, latest.checkpoint.size)
        .unwrap();
    verify_inclusion(
        &receipt.event_hash,
        receipt.seq,
        latest.checkpoint.size,
        &proof,
        &latest.checkpoint.root,
    )
    .unwrap();
    let old = verify_checkpoint(&receipt.checkpoint, &vkey).unwrap();
    let consistency = store
        .consistency_proof(old.size, latest.checkpoint.size)
        .unwrap();
    hisaab_log::merkle::verify_consistency(
        old.size,
        latest.checkpoint.size,
        &consistency,
        &old.root,
        &latest.checkpoint.root,
    )
    .unwrap();
}

/// Every file below `dir`, recursively (sled's files, to search them for what must not be there).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The entry files of a store's directory: the entries' bytes (each its leaf bytes, its scope,
/// a checksum), their two end offsets each, the stored hashes.
pub const ENTRIES_FILE: &str = "hisaab-entries";
pub const ENDS_FILE: &str = "hisaab-entry-ends";
pub const HASHES_FILE: &str = "hisaab-hashes";

/// Where entry `seq`'s leaf bytes and its scope lie in `hisaab-entries`.
pub fn entry_ranges(dir: &Path, seq: u64) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
    let ends = std::fs::read(dir.join(ENDS_FILE)).unwrap();
    let at = |index: u64| {
        let at = usize::try_from(index * 8).unwrap();
        usize::try_from(u64::from_be_bytes(ends[at..at + 8].try_into().unwrap())).unwrap()
    };
    let start = if seq == 0 { 0 } else { at(2 * seq - 1) };
    let (leaf, record) = (at(2 * seq), at(2 * seq + 1));
    // The record ends with the CRC-32 of the seq and the scope.
    (start..leaf, leaf..record - 4)
}

/// Rewrites entry `seq`'s scope in place with `scope` (of the same length) and its checksum,
/// as someone with write access to the files could.
pub fn rewrite_scope(dir: &Path, seq: u64, scope: &[u8]) {
    let (_, range) = entry_ranges(dir, seq);
    assert_eq!(range.len(), scope.len());
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&seq.to_be_bytes());
    hasher.update(scope);
    let checksum = hasher.finalize().to_be_bytes();
    tamper_file(dir, ENTRIES_FILE, |bytes| {
        bytes[range.clone()].copy_from_slice(scope);
        bytes[range.end..range.end + 4].copy_from_slice(&checksum);
    });
}

/// Every entry's leaf bytes and scope, from the files.
pub fn stored_entries(dir: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let bytes = std::fs::read(dir.join(ENTRIES_FILE)).unwrap();
    let count = std::fs::metadata(dir.join(ENDS_FILE)).unwrap().len() / 16;
    (0..count)
        .map(|seq| {
            let (leaf, scope) = entry_ranges(dir, seq);
            (bytes[leaf].to_vec(), bytes[scope].to_vec())
        })
        .collect()
}

/// Runs `change` on the bytes of one of the entry files.
pub fn tamper_file(dir: &Path, name: &str, change: impl FnOnce(&mut Vec<u8>)) {
    let path = dir.join(name);
    let mut bytes = std::fs::read(&path).unwrap();
    change(&mut bytes);
    std::fs::write(&path, bytes).unwrap();
}

/// Rewrites a closed store into the layout whose event-hash and statement-id index was the
/// sled trees `by_event` (event hash → seq) and `by_statement` (statement id → seq), format
/// `hisaab-store/2`, without the index runs.
pub fn into_the_layout_with_its_index_in_sled(dir: &Path) {
    let db = sled_db(dir);
    let by_event = db.open_tree("by_event").unwrap();
    let by_statement = db.open_tree("by_statement").unwrap();
    for (seq, (leaf, _)) in stored_entries(dir).iter().enumerate() {
        let key = (seq as u64).to_be_bytes();
        let entry: serde_json::Value = serde_json::from_slice(leaf).unwrap();
        let id = entry["statement"]["id"].as_str().unwrap();
        by_event
            .insert(hisaab_log::merkle::leaf_hash(leaf).as_bytes(), &key)
            .unwrap();
        by_statement.insert(id.as_bytes(), &key).unwrap();
    }
    db.open_tree("meta")
        .unwrap()
        .insert("format", "hisaab-store/2")
        .unwrap();
    db.flush().unwrap();
    drop((by_event, by_statement, db));
    std::fs::remove_dir_all(dir.join("hisaab-index")).unwrap();
}

/// Puts a closed store back into the earlier layout, `hisaab-store/1`: its entries, stored
/// hashes and (with `scopes`) scopes as the sled trees `entries` (seq, u64 BE → leaf bytes),
/// `hashes` (stored-hash index, u64 BE → 32 bytes) and `scopes` (seq → scope), and no entry
/// files. Without `scopes`, a store written before the scope index existed.
pub fn into_the_earlier_layout(dir: &Path, scopes: bool) {
    into_the_layout_with_its_index_in_sled(dir);
    let entries = stored_entries(dir);
    let hashes = std::fs::read(dir.join(HASHES_FILE)).unwrap();
    let db = sled_db(dir);
    let tree = db.open_tree("entries").unwrap();
    let scope_tree = db.open_tree("scopes").unwrap();
    for (seq, (leaf, scope)) in entries.iter().enumerate() {
        let key = (seq as u64).to_be_bytes();
        tree.insert(key, leaf.as_slice()).unwrap();
        if scopes {
            scope_tree.insert(key, scope.as_slice()).unwrap();
        }
    }
    let tree = db.open_tree("hashes").unwrap();
    for (index, hash) in hashes.chunks_exact(32).enumerate() {
        tree.insert((index as u64).to_be_bytes(), hash).unwrap();
    }
    db.open_tree("meta")
        .unwrap()
        .insert("format", "hisaab-store/1")
        .unwrap();
    db.flush().unwrap();
    drop(db);
    for name in [ENTRIES_FILE, ENDS_FILE, HASHES_FILE] {
        std::fs::remove_file(dir.join(name)).unwrap();
    }
}

/// Every entry `0..size` is found by its event hash and by its statement id.
pub fn assert_found_by_event_hash_and_statement_id(store: &Store, size: u64) {
    for seq in 0..size {
        let entry = store.entry(seq).unwrap().unwrap();
        let found = store.entry_by_event_hash(&entry.event_hash()).unwrap();
        assert_eq!(found.map(|e| e.entry().seq), Some(seq));
        let found = store
            .entry_by_statement_id(&entry.entry().statement.id)
            .unwrap();
        assert_eq!(found.map(|e| e.entry().seq), Some(seq));
    }
}
