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
