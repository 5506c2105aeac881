//! Snapshots stored in chunks: a snapshot adds only the chunks that changed, pruning leaves no
//! chunk that no snapshot names, a damaged chunk makes its snapshot pass over (and `verify
//! DIR` name it), a reopen resumes from a chunked snapshot, and a snapshot written whole by an
//! earlier version is still resumed from; with a master key, the chunks are sealed and still
//! shared. Snapshots are written by a thread of their own after their batch is durable: close
//! waits for the last one, and one lost to a crash after its batch leaves an older one to
//! resume from.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use hisaab_log::Hash;
use hisaab_store::{Corruption, StoreConfig, StoreError};

/// The first body byte of a snapshot record in chunks, in the clear, tagged under the log key
/// (the tag follows the digest).
const CHUNKED_TAGGED: u8 = 0x05;

fn config() -> StoreConfig {
    StoreConfig {
        batch_entries_max: 64,
        snapshot_every: 128,
        snapshots_kept: 2,
        snapshot_archive_every: 1 << 20,
        tail_check_entries: 4,
        ..common::config()
    }
}

/// A closed store of `size` entries: the genesis and operator registrations.
fn build(size: u64, config: StoreConfig) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::create(dir.path(), config);
    common::fill(&store, 1, size - 1);
    store.close().unwrap();
    dir
}

/// The snapshot records by size, and the chunk ids each names.
fn records(db: &sled::Db) -> Vec<(u64, Vec<Hash>)> {
    db.open_tree("snapshots")
        .unwrap()
        .iter()
        .map(|item| {
            let (key, value) = item.unwrap();
            let size = u64::from_be_bytes(key.as_ref().try_into().unwrap());
            let body = &value[32..];
            assert_eq!(Hash::sha256(body).as_bytes(), &value[..32]);
            assert_eq!(
                body[0], CHUNKED_TAGGED,
                "the snapshot at {size} is not in chunks"
            );
            let ids = body[65..]
                .chunks_exact(32)
                .map(|id| Hash::try_from_slice(id).unwrap())
                .collect();
            (size, ids)
        })
        .collect()
}

/// The stored chunks: id and bytes.
fn chunks(db: &sled::Db) -> Vec<(Hash, Vec<u8>)> {
    db.open_tree("chunks")
        .unwrap()
        .iter()
        .map(|item| {
            let (key, value) = item.unwrap();
            (Hash::try_from_slice(&key).unwrap(), value.to_vec())
        })
        .collect()
}

/// The model bytes of the snapshot naming `ids`.
fn model_bytes(db: &sled::Db, ids: &[Hash]) -> Vec<u8> {
    let tree = db.open_tree("chunks").unwrap();
    ids.iter()
        .flat_map(|id| tree.get(id.as_bytes()).unwrap().unwrap().to_vec())
        .collect()
}

fn chunk_bytes(db: &sled::Db) -> usize {
    chunks(db).iter().map(|(_, bytes)| bytes.len()).sum()
}

#[test]
fn a_snapshot_of_a_barely_changed_state_adds_few_bytes() {
    // 1024 entries: snapshots at 896 and 1024.
    let dir = build(1024, config());
    let (before, model_size) = {
        let db = common::sled_db(dir.path());
        let records = records(&db);
        let (size, ids) = records.last().unwrap();
        assert_eq!(*size, 1024);
        // Every chunk is its SHA-256's, and the chunks put together are the model's bytes.
        for (id, bytes) in chunks(&db) {
            assert_eq!(Hash::sha256(&bytes), id);
        }
        let model = model_bytes(&db, ids);
        assert!(hisaab_model::Ledger::from_snapshot(&model).is_ok());
        (chunk_bytes(&db), model.len())
    };
    assert!(model_size > 16 * 1024, "a model of {model_size} bytes");

    // One more snapshot, after 128 more registrations (an eighth of the state).
    let store = common::open(dir.path(), config()).unwrap();
    let id = common::ledger_id(&store);
    for n in 1024..1152 {
        store
            .append_blocking(hisaab_testkit::fixture::register_operator(id, 1, n).unwrap())
            .unwrap();
    }
    store.close().unwrap();
    drop(store);
    let db = common::sled_db(dir.path());
    let sizes: Vec<u64> = records(&db).iter().map(|(size, _)| *size).collect();
    assert_eq!(sizes, [1024, 1152]);
    // The new snapshot shares most chunks with the one at 1024: stored whole, it would add
    // more than `model_size` bytes. (The new operators' names sort in among the old ones, so
    // the chunks they touch are spread over the map: about a quarter of the bytes.)
    let records = records(&db);
    let (kept, new) = (&records[0].1, &records[1].1);
    let stored = chunks(&db);
    let added: usize = stored
        .iter()
        .filter(|(id, _)| new.contains(id) && !kept.contains(id))
        .map(|(_, bytes)| bytes.len())
        .sum();
    assert!(
        added < model_size / 3,
        "the snapshot at 1152 added {added} bytes of chunks (a model of {model_size} bytes)"
    );
    // The snapshot at 896 is gone, and the chunks only it named with it.
    let after = chunk_bytes(&db);
    assert!(after < before + added, "{before} + {added} -> {after}");
}

#[test]
fn pruned_snapshots_leave_no_chunk_that_no_snapshot_names() {
    let config = StoreConfig {
        snapshot_every: 16,
        snapshot_log_fraction: 0,
        snapshots_kept: 3,
        snapshot_archive_every: 64,
        batch_entries_max: 8,
        ..config()
    };
    let dir = build(300, config.clone());
    let db = common::sled_db(dir.path());
    let records = records(&db);
    let sizes: Vec<u64> = records.iter().map(|(size, _)| *size).collect();
    // The archive snapshots (every 64) and the three most recent.
    assert_eq!(sizes, [64, 128, 192, 240, 256, 272, 288]);
    let named: BTreeSet<Hash> = records.iter().flat_map(|(_, ids)| ids.clone()).collect();
    let stored: BTreeSet<Hash> = chunks(&db).into_iter().map(|(id, _)| id).collect();
    assert_eq!(stored, named);
    drop(db);
    let store = common::open(dir.path(), config).unwrap();
    assert_eq!(store.open_report().snapshot_size, 288);
    assert_eq!(store.open_report().snapshots_refused, 0);
}

#[test]
fn snapshots_grow_apart_as_the_log_grows() {
    // Every 4 entries until the log is twice 8 long, then every 8, 16, 32: the snapshots
    // written at 48, 64 and 96 are the three kept.
    let config = StoreConfig {
        snapshot_every: 4,
        snapshot_log_fraction: 2,
        snapshots_kept: 3,
        snapshot_archive_every: 1 << 20,
        batch_entries_max: 1,
        ..config()
    };
    let dir = build(100, config.clone());
    let db = common::sled_db(dir.path());
    let sizes: Vec<u64> = records(&db).iter().map(|(size, _)| *size).collect();
    assert_eq!(sizes, [48, 64, 96]);
    drop(db);
    let store = common::open(dir.path(), config).unwrap();
    assert_eq!(store.open_report().snapshot_size, 96);
    assert_eq!(store.open_report().replayed_entries, 4);
}

#[test]
fn a_batch_that_writes_more_snapshots_than_are_kept_leaves_no_orphan_chunk() {
    // Snapshots every 4 entries, 2 kept, batches of up to 64 from 16 appending threads: a
    // batch holds several snapshots, of which it keeps at most the last 2.
    let config = StoreConfig {
        snapshot_every: 4,
        snapshot_log_fraction: 0,
        snapshots_kept: 2,
        snapshot_archive_every: 1 << 20,
        batch_entries_max: 64,
        batch_wait: std::time::Duration::from_millis(20),
        ..config()
    };
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::create(dir.path(), config.clone());
    let id = common::ledger_id(&store);
    std::thread::scope(|scope| {
        for namespace in 1..=16u32 {
            let store = &store;
            scope.spawn(move || {
                for n in 0..25 {
                    let envelope =
                        hisaab_testkit::fixture::register_operator(id, namespace, n).unwrap();
                    store.append_blocking(envelope).unwrap();
                }
            });
        }
    });
    assert_eq!(store.size(), 401);
    store.close().unwrap();
    drop(store);
    let db = common::sled_db(dir.path());
    let records = records(&db);
    let sizes: Vec<u64> = records.iter().map(|(size, _)| *size).collect();
    assert_eq!(sizes, [396, 400]);
    let named: BTreeSet<Hash> = records.iter().flat_map(|(_, ids)| ids.clone()).collect();
    let stored: BTreeSet<Hash> = chunks(&db).into_iter().map(|(id, _)| id).collect();
    assert_eq!(stored, named);
    drop(db);
    let store = common::open(dir.path(), config).unwrap();
    assert_eq!(store.open_report().snapshot_size, 400);
}

#[test]
fn close_writes_the_snapshot_that_the_last_batch_reached() {
    // The last append reaches 1024: its receipt comes before the snapshot thread writes the
    // snapshot at 1024, and closing waits for it.
    let dir = build(1024, config());
    let db = common::sled_db(dir.path());
    let sizes: Vec<u64> = records(&db).iter().map(|(size, _)| *size).collect();
    assert_eq!(sizes, [896, 1024]);
    drop(db);
    let store = common::open(dir.path(), config()).unwrap();
    let report = store.open_report();
    assert_eq!(report.snapshot_size, 1024, "{report:?}");
    assert_eq!(report.snapshots_refused, 0, "{report:?}");
    assert_eq!(report.replayed_entries, 0, "{report:?}");
    // Tagged under the log key: resumed from without replaying the interval before it.
    assert!(report.snapshot_authenticated, "{report:?}");
}

#[test]
fn a_snapshot_lost_after_its_batch_was_durable_leaves_an_older_one_to_resume_from() {
    let dir = build(1024, config());
    let state = common::open(dir.path(), config())
        .unwrap()
        .state(None, None)
        .unwrap();
    // A crash after the batch that reached 1024 was flushed and before the snapshot thread's
    // transaction: no record at 1024, and none of the chunks only it names.
    {
        let db = common::sled_db(dir.path());
        let records = records(&db);
        let [(older, kept), (1024, lost)] = &records[..] else {
            panic!(
                "snapshots at {:?}",
                records.iter().map(|r| r.0).collect::<Vec<_>>()
            );
        };
        assert_eq!(*older, 896);
        let chunks = db.open_tree("chunks").unwrap();
        for id in lost.iter().filter(|id| !kept.contains(id)) {
            chunks.remove(id.as_bytes()).unwrap();
        }
        db.open_tree("snapshots")
            .unwrap()
            .remove(1024u64.to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    let store = common::open(dir.path(), config()).unwrap();
    let report = store.open_report().clone();
    assert_eq!(report.snapshot_size, 896, "{report:?}");
    assert_eq!(report.snapshots_refused, 0, "{report:?}");
    assert_eq!(report.replayed_entries, 128, "{report:?}");
    assert_eq!(store.state(None, None).unwrap(), state);
    store.verify_full().unwrap();
    // The next snapshot is written as usual, and pruning keeps the two most recent.
    common::fill(&store, 2, 128);
    store.close().unwrap();
    drop(store);
    let db = common::sled_db(dir.path());
    let sizes: Vec<u64> = records(&db).iter().map(|(size, _)| *size).collect();
    assert_eq!(sizes, [896, 1152]);
    let named: BTreeSet<Hash> = records(&db).into_iter().flat_map(|(_, ids)| ids).collect();
    let stored: BTreeSet<Hash> = chunks(&db).into_iter().map(|(id, _)| id).collect();
    assert_eq!(stored, named);
    drop(db);
    let store = common::open(dir.path(), config()).unwrap();
    assert_eq!(store.open_report().snapshot_size, 1152);
    assert_eq!(store.open_report().snapshots_refused, 0);
}

#[test]
fn reopen_resumes_from_a_chunked_snapshot() {
    let dir = build(1000, config());
    let state = {
        let db = common::sled_db(dir.path());
        assert_eq!(records(&db).last().unwrap().0, 896);
        drop(db);
        let store = common::open(dir.path(), config()).unwrap();
        let report = store.open_report();
        assert_eq!(report.snapshot_size, 896, "{report:?}");
        assert_eq!(report.snapshots_refused, 0, "{report:?}");
        assert_eq!(report.replayed_entries, 1000 - 896, "{report:?}");
        store.state(Some(900), None).unwrap()
    };
    // The same state from genesis, with no snapshot to resume from.
    common::sled_db(dir.path())
        .open_tree("snapshots")
        .unwrap()
        .clear()
        .unwrap();
    let store = common::open(dir.path(), config()).unwrap();
    assert_eq!(store.open_report().snapshot_size, 0);
    assert_eq!(store.state(Some(900), None).unwrap(), state);
}

#[test]
fn a_damaged_or_missing_chunk_passes_its_snapshot_over_and_is_named() {
    let dir = build(1024, config());
    let state = common::open(dir.path(), config())
        .unwrap()
        .state(None, None)
        .unwrap();
    // A chunk the newest snapshot names and the one before does not.
    let (newest, only_newest) = {
        let db = common::sled_db(dir.path());
        let records = records(&db);
        let [(earlier, before), (newest, ids)] = &records[..] else {
            panic!("{} snapshots", records.len());
        };
        assert_eq!((*earlier, *newest), (896, 1024));
        let only: Vec<Hash> = ids
            .iter()
            .filter(|id| !before.contains(id))
            .copied()
            .collect();
        assert!(!only.is_empty());
        (*newest, only)
    };
    let tree = |dir: &Path| common::sled_db(dir).open_tree("chunks").unwrap();
    let named = |dir: &Path| {
        let error = hisaab_store::audit_dir(dir, &config()).unwrap_err();
        assert!(
            matches!(
                &error,
                StoreError::Corrupt(Corruption::Snapshot { size, reason })
                    if *size == newest && reason.contains("chunk")
            ),
            "{error}"
        );
    };

    // A flipped byte.
    let good = {
        let tree = tree(dir.path());
        let id = only_newest[0];
        let good = tree.get(id.as_bytes()).unwrap().unwrap();
        let mut bad = good.to_vec();
        let middle = bad.len() / 2;
        bad[middle] ^= 1;
        tree.insert(id.as_bytes(), bad).unwrap();
        tree.flush().unwrap();
        good
    };
    named(dir.path());
    {
        let store = common::open(dir.path(), config()).unwrap();
        let report = store.open_report();
        assert_eq!(report.snapshots_refused, 1, "{report:?}");
        assert_eq!(report.snapshot_size, 896, "{report:?}");
        assert_eq!(store.state(None, None).unwrap(), state);
    }

    // A missing one.
    {
        let tree = tree(dir.path());
        tree.insert(only_newest[0].as_bytes(), good).unwrap();
        tree.remove(only_newest[only_newest.len() - 1].as_bytes())
            .unwrap();
        tree.flush().unwrap();
    }
    named(dir.path());
    let store = common::open(dir.path(), config()).unwrap();
    let report = store.open_report();
    assert_eq!(report.snapshots_refused, 1, "{report:?}");
    assert_eq!(report.snapshot_size, 896, "{report:?}");
    assert_eq!(store.state(None, None).unwrap(), state);
}

#[test]
fn a_snapshot_written_whole_before_is_resumed_from() {
    let dir = build(1000, config());
    {
        // The newest snapshot as an earlier version wrote it: SHA-256(model) ‖ model.
        let db = common::sled_db(dir.path());
        let (size, ids) = records(&db).pop().unwrap();
        let model = model_bytes(&db, &ids);
        let mut value = Hash::sha256(&model).as_bytes().to_vec();
        value.extend_from_slice(&model);
        let snapshots = db.open_tree("snapshots").unwrap();
        snapshots.insert(size.to_be_bytes(), value).unwrap();
        // Its chunks are gone with it (the earlier snapshot at 768 names its own).
        let chunks = db.open_tree("chunks").unwrap();
        let earlier: BTreeSet<Hash> = records_named(&snapshots, size);
        for id in ids.iter().filter(|id| !earlier.contains(id)) {
            chunks.remove(id.as_bytes()).unwrap();
        }
        db.flush().unwrap();
    }
    hisaab_store::audit_dir(dir.path(), &config()).unwrap();
    let store = common::open(dir.path(), config()).unwrap();
    let report = store.open_report();
    assert_eq!(report.snapshot_size, 896, "{report:?}");
    assert_eq!(report.snapshots_refused, 0, "{report:?}");
    drop(store);

    // The next snapshot is written in chunks; pruning the whole one releases nothing it needs.
    let store = common::open(dir.path(), config()).unwrap();
    let id = common::ledger_id(&store);
    for n in 999..1300 {
        store
            .append_blocking(hisaab_testkit::fixture::register_operator(id, 1, n).unwrap())
            .unwrap();
    }
    store.close().unwrap();
    drop(store);
    let db = common::sled_db(dir.path());
    let records = records(&db);
    assert_eq!(
        records.iter().map(|(size, _)| *size).collect::<Vec<_>>(),
        [1152, 1280]
    );
    drop(db);
    let store = common::open(dir.path(), config()).unwrap();
    assert_eq!(store.open_report().snapshot_size, 1280);
    assert_eq!(store.open_report().snapshots_refused, 0);
}

/// The chunk ids named by the chunked snapshots other than the one at `except`.
fn records_named(snapshots: &sled::Tree, except: u64) -> BTreeSet<Hash> {
    snapshots
        .iter()
        .filter_map(|item| {
            let (key, value) = item.unwrap();
            let size = u64::from_be_bytes(key.as_ref().try_into().unwrap());
            (size != except && value.get(32) == Some(&CHUNKED_TAGGED)).then(|| {
                value[97..]
                    .chunks_exact(32)
                    .map(|id| Hash::try_from_slice(id).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .flatten()
        .collect()
}

#[test]
fn a_sealed_stores_snapshots_are_chunks_under_the_master_key_shared_and_checked() {
    // The first body byte of a snapshot record in chunks sealed under the master key.
    const CHUNKED_SEALED: u8 = 0x04;
    let dir = tempfile::tempdir().unwrap();
    let master = hisaab_store::MasterKey::generate();
    let clock = std::sync::Arc::new(common::clock());
    let store = hisaab_store::Store::create_with_master_key(
        dir.path(),
        hisaab_testkit::fixture::genesis().unwrap(),
        hisaab_testkit::fixture::log_key(),
        master.clone(),
        config(),
        clock.clone(),
    )
    .unwrap();
    common::fill(&store, 1, 1023);
    let state = store.state(None, None).unwrap();
    store.close().unwrap();
    drop(store);

    let newest_only = {
        let db = common::sled_db(dir.path());
        let records: Vec<(u64, Vec<Hash>)> = db
            .open_tree("snapshots")
            .unwrap()
            .iter()
            .map(|item| {
                let (key, value) = item.unwrap();
                assert_eq!(value[32], CHUNKED_SEALED);
                let ids = value[65..]
                    .chunks_exact(32)
                    .map(|id| Hash::try_from_slice(id).unwrap())
                    .collect();
                (u64::from_be_bytes(key.as_ref().try_into().unwrap()), ids)
            })
            .collect();
        let [(896, before), (1024, newest)] = &records[..] else {
            panic!("{:?}", records.iter().map(|(s, _)| s).collect::<Vec<_>>());
        };
        let stored = chunks(&db);
        // Nothing in the clear: no operator id in any chunk, and no chunk id is its SHA-256.
        for (id, bytes) in &stored {
            assert_ne!(Hash::sha256(bytes), *id);
            let text = String::from_utf8_lossy(bytes);
            assert!(!text.contains("op-1-"), "a chunk in the clear");
        }
        // The two snapshots share most of their chunks, stored once.
        let shared = newest.iter().filter(|id| before.contains(id)).count();
        assert!(shared * 2 > newest.len(), "{shared} of {}", newest.len());
        let named: BTreeSet<Hash> = before.iter().chain(newest).copied().collect();
        assert_eq!(
            stored.iter().map(|(id, _)| *id).collect::<BTreeSet<_>>(),
            named
        );
        let only: Vec<Hash> = newest
            .iter()
            .filter(|id| !before.contains(id))
            .copied()
            .collect();
        only
    };
    let open = || {
        hisaab_store::Store::open_with_master_key(
            dir.path(),
            hisaab_testkit::fixture::log_key(),
            master.clone(),
            config(),
            clock.clone(),
        )
        .unwrap()
    };

    // It resumes from the newest snapshot, opened with the master key.
    {
        let store = open();
        let report = store.open_report();
        assert_eq!(report.snapshot_size, 1024, "{report:?}");
        assert_eq!(report.snapshots_refused, 0, "{report:?}");
        assert_eq!(store.state(None, None).unwrap(), state);
    }
    // Without it, the sealed snapshots are passed over: the public replay from genesis.
    {
        let store = common::open(dir.path(), config()).unwrap();
        let report = store.open_report();
        assert_eq!(report.snapshot_size, 0, "{report:?}");
        assert_eq!(report.snapshots_refused, 2, "{report:?}");
    }
    // A flipped byte in a chunk of the newest fails its authentication: passed over, and the
    // audit (which has no master key) passes it, since every chunk is there.
    {
        let tree = common::sled_db(dir.path()).open_tree("chunks").unwrap();
        let id = newest_only[0];
        let mut bad = tree.get(id.as_bytes()).unwrap().unwrap().to_vec();
        let middle = bad.len() / 2;
        bad[middle] ^= 1;
        tree.insert(id.as_bytes(), bad).unwrap();
        tree.flush().unwrap();
    }
    {
        let store = open();
        let report = store.open_report();
        assert_eq!(report.snapshot_size, 896, "{report:?}");
        assert_eq!(report.snapshots_refused, 1, "{report:?}");
        assert_eq!(store.state(None, None).unwrap(), state);
    }
    // A missing one is named by the audit.
    common::sled_db(dir.path())
        .open_tree("chunks")
        .unwrap()
        .remove(newest_only[0].as_bytes())
        .unwrap();
    let error = hisaab_store::audit_dir(dir.path(), &config()).unwrap_err();
    assert!(
        matches!(
            &error,
            StoreError::Corrupt(Corruption::Snapshot { size: 1024, reason })
                if reason.contains("chunk")
        ),
        "{error}"
    );
}
