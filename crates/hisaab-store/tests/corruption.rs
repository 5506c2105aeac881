//! Corruption: flipped bytes in entries, stored hashes, checkpoints, index runs, snapshots,
//! the entry files and sled's own files; truncation; overwritten entries. Each is found on open or
//! by `verify_full`, naming the seq where it is knowable.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use hisaab_log::merkle::stored_hash_index;
use hisaab_store::{Corruption, MarkStatus, StoreConfig, StoreError};

/// A short tail check, so that damage below the tail is left to `verify_full`, and index runs
/// of 4 entries, so that the index is on disk.
fn config() -> StoreConfig {
    StoreConfig {
        tail_check_entries: 4,
        index_run_entries: 4,
        ..common::config()
    }
}

/// A closed store of 21 entries (snapshots every 8, the last at 16).
fn build() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::create(dir.path(), config());
    common::fill(&store, 1, 20);
    store.close().unwrap();
    dir
}

/// Runs `change` on the store's sled database, opened directly.
fn tamper(dir: &Path, change: impl FnOnce(&sled::Db)) {
    let db = common::sled_db(dir);
    change(&db);
    db.flush().unwrap();
}

use common::{tamper_file, ENDS_FILE as ENDS, ENTRIES_FILE as ENTRIES, HASHES_FILE as HASHES};

/// Where entry `seq`'s leaf bytes lie in `hisaab-entries`.
fn entry_range(dir: &Path, seq: u64) -> std::ops::Range<usize> {
    common::entry_ranges(dir, seq).0
}

/// The stored bytes of entry `seq`.
fn entry_bytes(dir: &Path, seq: u64) -> Vec<u8> {
    std::fs::read(dir.join(ENTRIES)).unwrap()[entry_range(dir, seq)].to_vec()
}

/// Replaces the first `from` in entry `seq` with `to`, of the same length, in place.
fn edit_entry(dir: &Path, seq: u64, from: &str, to: &str) {
    assert_eq!(from.len(), to.len());
    let range = entry_range(dir, seq);
    tamper_file(dir, ENTRIES, |bytes| {
        let text = String::from_utf8(bytes[range.clone()].to_vec()).unwrap();
        assert!(text.contains(from));
        bytes[range].copy_from_slice(text.replacen(from, to, 1).as_bytes());
    });
}

/// Overwrites entry `seq`'s bytes with zeroes (a block the disk lost, or a hole a crash left).
fn zero_entry(dir: &Path, seq: u64) {
    let range = entry_range(dir, seq);
    tamper_file(dir, ENTRIES, |bytes| bytes[range].fill(0));
}

/// Flips `mask` in byte `byte` of stored hash `index`.
fn flip_hash(dir: &Path, index: u64, byte: usize, mask: u8) {
    tamper_file(dir, HASHES, |bytes| {
        bytes[usize::try_from(index).unwrap() * 32 + byte] ^= mask;
    });
}

fn corruption(result: Result<impl std::fmt::Debug, StoreError>) -> Corruption {
    match result {
        Err(StoreError::Corrupt(c)) => c,
        other => panic!("expected corruption, got {other:?}"),
    }
}

#[test]
fn a_flipped_byte_in_the_last_entry_is_refused_on_open_naming_its_seq() {
    let dir = build();
    edit_entry(dir.path(), 20, "Operator", "Operatos");
    let c = corruption(common::open(dir.path(), config()));
    assert_eq!(c.seq(), Some(20), "{c}");
    assert!(c.to_string().starts_with("seq 20"), "{c}");
}

#[test]
fn an_unparseable_tail_entry_is_refused_on_open_naming_its_seq() {
    let dir = build();
    edit_entry(dir.path(), 19, "{", "[");
    let c = corruption(common::open(dir.path(), config()));
    assert!(
        matches!(c, Corruption::UnreadableEntry { seq: 19, .. }),
        "{c}"
    );
}

#[test]
fn a_flipped_byte_in_an_old_entry_is_found_by_reads_and_verify_full() {
    let dir = build();
    let bytes = entry_bytes(dir.path(), 5);
    let event_hash = hisaab_log::merkle::leaf_hash(&bytes);
    let entry: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let id = hisaab_log::StatementId::try_new(entry["statement"]["id"].as_str().unwrap()).unwrap();
    edit_entry(dir.path(), 5, "Operator", "Operatos");
    let store = common::open(dir.path(), config()).unwrap();
    let c = corruption(store.entry(5));
    assert!(
        matches!(c, Corruption::LeafHashMismatch { seq: 5, .. }),
        "{c}"
    );
    // Looked up by its event hash or statement id, it is named too, not taken as absent.
    for c in [
        corruption(store.entry_by_event_hash(&event_hash)),
        corruption(store.entry_by_statement_id(&id)),
    ] {
        assert!(
            matches!(c, Corruption::LeafHashMismatch { seq: 5, .. }),
            "{c}"
        );
    }
    let c = corruption(store.verify_full());
    assert_eq!(c.seq(), Some(5), "{c}");
    // A state that ends with it (no later entry's link to catch it) is refused, naming it:
    // the replay reads the stored bytes in one pass and checks their leaf hash.
    let c = corruption(store.state(Some(6), None));
    assert!(
        matches!(c, Corruption::LeafHashMismatch { seq: 5, .. }),
        "{c}"
    );
    // The other entries are still served.
    assert!(store.entry(6).unwrap().is_some());
}

#[test]
fn a_flipped_leaf_hash_is_found_by_verify_full() {
    let dir = build();
    flip_hash(dir.path(), stored_hash_index(0, 5), 0, 1);
    let store = common::open(dir.path(), config()).unwrap();
    let c = corruption(store.verify_full());
    assert!(
        matches!(c, Corruption::LeafHashMismatch { seq: 5, .. }),
        "{c}"
    );
}

#[test]
fn a_flipped_interior_hash_on_the_root_path_is_refused_on_open() {
    let dir = build();
    // The root of the first 16 leaves: one of the subtree roots of a tree of 21.
    flip_hash(dir.path(), stored_hash_index(4, 0), 31, 0x80);
    let c = corruption(common::open(dir.path(), config()));
    assert!(
        matches!(c, Corruption::CheckpointRoot { size: 21, .. }),
        "{c}"
    );
}

#[test]
fn a_flipped_interior_hash_off_the_root_path_is_found_by_verify_full() {
    let dir = build();
    // The root of leaves 8..16, written when leaf 15 was added.
    flip_hash(dir.path(), stored_hash_index(3, 1), 3, 4);
    let store = common::open(dir.path(), config()).unwrap();
    let c = corruption(store.verify_full());
    assert!(
        matches!(c, Corruption::StoredHashMismatch { seq: 15, .. }),
        "{c}"
    );
}

#[test]
fn a_truncated_log_is_refused_naming_the_first_missing_seq() {
    let dir = build();
    let cut = entry_range(dir.path(), 18).start;
    tamper_file(dir.path(), ENTRIES, |bytes| bytes.truncate(cut));
    tamper_file(dir.path(), ENDS, |bytes| bytes.truncate(18 * 16));
    let c = corruption(common::open(dir.path(), config()));
    assert!(
        matches!(c, Corruption::MissingEntry { seq: 18, size: 21 }),
        "{c}"
    );
}

#[test]
fn a_zeroed_old_entry_is_found_by_reads_and_verify_full() {
    let dir = build();
    // Entry 3 is below both kept snapshots (8 and 16), so open, which checks the newest
    // snapshot by replaying from the one before it, does not read it.
    zero_entry(dir.path(), 3);
    let store = common::open(dir.path(), config()).unwrap();
    assert!(matches!(
        corruption(store.entry(3)),
        Corruption::UnreadableEntry { seq: 3, .. }
    ));
    let c = corruption(store.verify_full());
    assert_eq!(c.seq(), Some(3), "{c}");
    let c = corruption(store.export_bundle(21, Vec::new()));
    assert_eq!(c.seq(), Some(3));
}

#[test]
fn a_zeroed_entry_between_the_kept_snapshots_is_found_by_reads_and_verify_full() {
    let dir = build();
    zero_entry(dir.path(), 10);
    // The newest snapshot (16) is tagged under the log key, so open resumes from it without
    // replaying the entries since the one before (8): entry 10 is below what open reads, as
    // entry 3 is above. Reads and the full check name it.
    let store = common::open(dir.path(), config()).unwrap();
    assert!(store.open_report().snapshot_authenticated);
    assert_eq!(store.open_report().snapshot_size, 16);
    assert!(matches!(
        corruption(store.entry(10)),
        Corruption::UnreadableEntry { seq: 10, .. }
    ));
    let c = corruption(store.verify_full());
    assert_eq!(c.seq(), Some(10), "{c}");
}

#[test]
fn a_zeroed_tail_entry_is_refused_on_open() {
    let dir = build();
    zero_entry(dir.path(), 19);
    let c = corruption(common::open(dir.path(), config()));
    assert!(
        matches!(c, Corruption::UnreadableEntry { seq: 19, .. }),
        "{c}"
    );
}

#[test]
fn a_missing_stored_hash_is_refused_on_open() {
    let dir = build();
    tamper_file(dir.path(), HASHES, |bytes| bytes.truncate(bytes.len() - 32));
    let c = corruption(common::open(dir.path(), config()));
    assert!(matches!(c, Corruption::MissingStoredHash { .. }), "{c}");
}

#[test]
fn a_checkpoint_that_does_not_verify_is_refused_on_open() {
    let dir = build();
    tamper(dir.path(), |db| {
        let checkpoints = db.open_tree("checkpoints").unwrap();
        let (key, note) = checkpoints.last().unwrap().unwrap();
        let text = String::from_utf8(note.to_vec())
            .unwrap()
            .replacen("\n21\n", "\n22\n", 1);
        checkpoints.insert(key, text.as_bytes()).unwrap();
    });
    let c = corruption(common::open(dir.path(), config()));
    assert!(matches!(c, Corruption::Checkpoint { .. }), "{c}");
}

/// The index's run files, largest first.
fn index_runs(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut runs: Vec<_> = std::fs::read_dir(dir.join("hisaab-index"))
        .unwrap()
        .map(|item| item.unwrap().path())
        .collect();
    runs.sort_by_key(|path| std::cmp::Reverse(std::fs::metadata(path).unwrap().len()));
    runs
}

/// Flips the low bit of byte `at` of `path` (from its end when `at` is negative).
fn flip_byte(path: &Path, at: i64) {
    let mut bytes = std::fs::read(path).unwrap();
    let at = if at < 0 { bytes.len() as i64 + at } else { at };
    bytes[usize::try_from(at).unwrap()] ^= 1;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_damaged_block_of_an_index_run_is_named_and_indexed_again_on_open() {
    let dir = build();
    let run = index_runs(dir.path()).remove(0);
    // A record's byte: its block fails its checksum.
    flip_byte(&run, 3);
    let c = corruption(hisaab_store::audit_dir(dir.path(), &config()));
    assert!(
        matches!(&c, Corruption::IndexRun { path, reason } if *path == run && reason.contains("block")),
        "{c}"
    );
    let store = common::open(dir.path(), config()).unwrap();
    assert_eq!(store.open_report().index_runs_discarded, 1);
    assert!(
        store.open_report().index_entries_read >= 8,
        "{:?}",
        store.open_report()
    );
    store.verify_full().unwrap();
    common::assert_found_by_event_hash_and_statement_id(&store, 21);
    // Damage while the store is open is named where a block is read.
    let run = index_runs(dir.path()).remove(0);
    flip_byte(&run, 3);
    let c = corruption(store.verify_full());
    assert!(
        matches!(&c, Corruption::IndexRun { path, .. } if *path == run),
        "{c}"
    );
}

#[test]
fn a_damaged_footer_of_an_index_run_is_named_by_the_audit_and_indexed_again_on_open() {
    let dir = build();
    let run = index_runs(dir.path()).remove(0);
    // A byte of its fences, checksums or filter, which its footer's checksum covers.
    flip_byte(&run, -60);
    let c = corruption(hisaab_store::audit_dir(dir.path(), &config()));
    assert!(
        matches!(&c, Corruption::IndexRun { path, reason } if *path == run && reason.contains("checksum")),
        "{c}"
    );
    let store = common::open(dir.path(), config()).unwrap();
    assert_eq!(store.open_report().index_runs_discarded, 1);
    assert!(store.open_report().index_entries_read >= 8);
    store.verify_full().unwrap();
}

#[test]
fn open_checks_the_entries_it_reads_on_the_trusted_path() {
    // Snapshots every 8 and a tail of 4: open reads entries 16..17 on the trusted path (from
    // the stored bytes in one pass) and 17..21 through every rule. The trusted ones still have
    // their leaf hash and stored hashes checked.
    let dir = build();
    common::open(dir.path(), config()).unwrap().close().unwrap();
    edit_entry(dir.path(), 16, "\"seq\":16", "\"seq\":61");
    let c = corruption(common::open(dir.path(), config()));
    assert!(
        matches!(c, Corruption::LeafHashMismatch { seq: 16, .. }),
        "{c}"
    );
}

#[test]
fn a_corrupt_snapshot_is_passed_over() {
    let dir = build();
    let state = common::open(dir.path(), config())
        .unwrap()
        .state(None, None)
        .unwrap();
    tamper(dir.path(), |db| {
        let snapshots = db.open_tree("snapshots").unwrap();
        let (key, value) = snapshots.last().unwrap().unwrap();
        let mut value = value.to_vec();
        let middle = value.len() / 2;
        value[middle] ^= 1;
        snapshots.insert(key, value).unwrap();
    });
    let store = common::open(dir.path(), config()).unwrap();
    let report = store.open_report();
    assert_eq!(report.snapshots_refused, 1);
    assert_eq!(report.snapshot_size, 8);
    assert_eq!(store.state(None, None).unwrap(), state);
}

#[test]
fn a_snapshot_that_parses_but_holds_another_state_is_named_and_passed_over() {
    let dir = build();
    let before = {
        let store = common::open(dir.path(), config()).unwrap();
        store.verify_full().unwrap();
        store.state(None, None).unwrap()
    };
    let (size, good) = store_snapshots(dir.path()).into_iter().next_back().unwrap();
    let put = |value: Vec<u8>| {
        tamper(dir.path(), |db| {
            let snapshots = db.open_tree("snapshots").unwrap();
            snapshots.insert(size.to_be_bytes(), value).unwrap();
        });
    };
    let named = |reason_part: &str| {
        // The read-only audit (`verify DIR`) names it.
        let error = hisaab_store::audit_dir(dir.path(), &config()).unwrap_err();
        assert!(
            matches!(
                &error,
                StoreError::Corrupt(Corruption::Snapshot { size: s, reason })
                    if *s == size && reason.contains(reason_part)
            ),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .contains(&format!("snapshot at size {size}")),
            "{error}"
        );
    };

    // A snapshot whose checksum fails.
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 1;
    put(flipped);
    named("checksum");

    // The same model bytes without one operator, with a checksum that fits: it still parses,
    // fits its size and ends at the right entry.
    let forged = without_first_operator(&snapshot_model_bytes(dir.path(), &good));
    let mut value = hisaab_log::Hash::sha256(&forged).as_bytes().to_vec();
    value.extend_from_slice(&forged);
    put(value);
    named("not the state");

    // The same forged bytes in chunks, with the good record's tag (no one without the log key
    // can make the right one): the tag does not hold, so open checks it by replay.
    let digest = hisaab_log::Hash::sha256(&forged);
    let mut body = vec![0x05];
    body.extend_from_slice(digest.as_bytes());
    body.extend_from_slice(&good[65..97]);
    body.extend_from_slice(digest.as_bytes());
    let mut value = hisaab_log::Hash::sha256(&body).as_bytes().to_vec();
    value.extend_from_slice(&body);
    tamper(dir.path(), |db| {
        let chunks = db.open_tree("chunks").unwrap();
        chunks.insert(digest.as_bytes(), forged.as_slice()).unwrap();
    });
    put(value);
    named("not the state");

    // Open passes over it, removes it, and resumes from the state the entries give; reads
    // after it never resume from it either.
    let store = common::open(dir.path(), config()).unwrap();
    assert_eq!(store.open_report().snapshots_refused, 1);
    assert!(store.open_report().snapshot_size < size);
    assert!(!store.open_report().snapshot_authenticated);
    assert_eq!(store.state(None, None).unwrap(), before);
    store.verify_full().unwrap();
}

/// Model snapshot bytes (the version line, then the ledger in MessagePack) with the first
/// operator removed from the ledger's `operators`.
fn without_first_operator(model: &[u8]) -> Vec<u8> {
    let line = model.iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut rest = &model[line..];
    let mut ledger = rmpv::decode::read_value(&mut rest).unwrap();
    assert!(rest.is_empty());
    let rmpv::Value::Map(fields) = &mut ledger else {
        panic!("the ledger is a map");
    };
    let (_, operators) = fields
        .iter_mut()
        .find(|(name, _)| name.as_str() == Some("operators"))
        .unwrap();
    let rmpv::Value::Map(operators) = operators else {
        panic!("operators is a map");
    };
    operators.remove(0);
    let mut forged = model[..line].to_vec();
    rmpv::encode::write_value(&mut forged, &ledger).unwrap();
    forged
}

/// The model bytes of a snapshot record in chunks (`0x05`, in the clear and tagged: checksum,
/// kind, digest, tag, ids), from the store's chunks.
fn snapshot_model_bytes(dir: &Path, record: &[u8]) -> Vec<u8> {
    assert_eq!(
        record[32], 0x05,
        "a snapshot in chunks, in the clear, tagged"
    );
    let mut model = Vec::new();
    tamper(dir, |db| {
        let chunks = db.open_tree("chunks").unwrap();
        for id in record[97..].chunks_exact(32) {
            model.extend_from_slice(&chunks.get(id).unwrap().unwrap());
        }
    });
    model
}

/// The store's snapshots, by size: (size, stored value).
fn store_snapshots(dir: &Path) -> Vec<(u64, Vec<u8>)> {
    let mut found = Vec::new();
    tamper(dir, |db| {
        for item in db.open_tree("snapshots").unwrap().iter() {
            let (key, value) = item.unwrap();
            let size = u64::from_be_bytes(key.as_ref().try_into().unwrap());
            found.push((size, value.to_vec()));
        }
    });
    found
}

/// What an undamaged store holds: its latest checkpoint, every entry's leaf bytes and its
/// state, to which a store whose damage went unnoticed must be equal.
struct Whole {
    root: hisaab_store::SignedCheckpoint,
    leaves: Vec<Vec<u8>>,
    state: hisaab_model::State,
}

impl Whole {
    fn of(store: &hisaab_store::Store) -> Whole {
        Whole {
            root: store.latest_checkpoint(),
            leaves: (0..store.size())
                .map(|seq| store.entry(seq).unwrap().unwrap().leaf_bytes().to_vec())
                .collect(),
            state: store.state(None, None).unwrap(),
        }
    }
}

/// Opens a store whose sled files were damaged: the damage must be found (on open or by
/// `verify_full`), or the store must be exactly what it was: the same checkpoint, the same
/// bytes in every entry, the same state. Returns whether it was found.
///
/// A flip can be harmless because sled's file holds more than the live data: free space, page
/// versions that a later write superseded, and segments past the recovered tip. sled checks
/// each message's CRC as it recovers, and Hisaab checks everything it reads against the
/// signed tree, so a flip in live data is found by one of the two.
fn found_or_whole(dir: &Path, whole: &Whole, what: &str) -> bool {
    match common::open(dir, config()) {
        Err(e) => {
            assert!(
                matches!(e, StoreError::Corrupt(_) | StoreError::Sled { .. }),
                "{what}: {e}"
            );
            true
        }
        Ok(store) => match store.verify_full() {
            Err(_) => true,
            Ok(report) => {
                assert_eq!(report.size, 21, "{what}");
                let now = Whole::of(&store);
                assert_eq!(now.root, whole.root, "{what}: the checkpoint");
                assert!(now.leaves == whole.leaves, "{what}: the entries' bytes");
                assert_eq!(now.state, whole.state, "{what}: the state");
                false
            }
        },
    }
}

/// The offsets of the non-zero bytes of a file (the bytes sled wrote, not the zeroes of its
/// segments' unused tails, which compressed records leave large).
fn written_offsets(bytes: &[u8]) -> Vec<usize> {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, byte)| **byte != 0)
        .map(|(offset, _)| offset)
        .collect()
}

#[test]
fn damage_to_sleds_own_files_is_found_or_harmless() {
    let dir = build();
    let reference = common::open(dir.path(), config()).unwrap();
    let whole = Whole::of(&reference);
    drop(reference);
    let db_file = dir.path().join("db");
    let original = std::fs::read(&db_file).unwrap();
    // The bytes sled wrote: the entries are in files of their own, so its file is mostly the
    // unused tails of segments.
    let written = written_offsets(&original);
    let mut found = 0;
    for i in 0..12 {
        let offset = written[written.len() * i / 12 + 13];
        let mut bytes = original.clone();
        bytes[offset] ^= 0x5a;
        std::fs::write(&db_file, &bytes).unwrap();
        found += usize::from(found_or_whole(
            dir.path(),
            &whole,
            &format!("flip at {offset}"),
        ));
        std::fs::write(&db_file, &original).unwrap();
    }
    // Each flip was found or left the store whole (asserted above); at least one landed in
    // live data, or the test would not be testing detection at all.
    eprintln!(
        "12 flips in sled's file: {found} found, {} harmless",
        12 - found
    );
    assert!(found > 0, "no flip of 12 landed in live data");
    for length in [
        original.len() / 2,
        original.len() / 4,
        original.len() / 8,
        2048,
    ] {
        std::fs::write(&db_file, &original[..length]).unwrap();
        let found = found_or_whole(dir.path(), &whole, &format!("truncated to {length}"));
        // 2 KiB cannot hold 21 entries of about 700 bytes.
        assert!(found || length > 2048);
        std::fs::write(&db_file, &original).unwrap();
    }
}

#[test]
fn damage_to_the_entry_files_is_always_found() {
    // Unlike sled's file, every byte of the entry files is live: a flip anywhere in them is
    // found on open or by `verify_full`, and so is a cut.
    let dir = build();
    for name in [ENTRIES, ENDS, HASHES] {
        let path = dir.path().join(name);
        let original = std::fs::read(&path).unwrap();
        for i in 0..12 {
            let offset = original.len() * i / 12 + 5;
            let mut bytes = original.clone();
            bytes[offset] ^= 0x21;
            std::fs::write(&path, &bytes).unwrap();
            let found = match common::open(dir.path(), config()) {
                Err(error) => matches!(error, StoreError::Corrupt(_)),
                Ok(store) => store.verify_full().is_err(),
            };
            assert!(found, "{name}: a flip at {offset} went unseen");
            std::fs::write(&path, &original).unwrap();
        }
        std::fs::write(&path, &original[..original.len() / 2]).unwrap();
        let error = common::open(dir.path(), config()).unwrap_err();
        assert!(
            matches!(error, StoreError::Corrupt(_)),
            "{name} cut: {error}"
        );
        std::fs::write(&path, &original).unwrap();
    }
    common::open(dir.path(), config())
        .unwrap()
        .verify_full()
        .unwrap();
}

#[test]
fn a_missing_mark_is_reported_not_refused() {
    let dir = build();
    std::fs::remove_file(dir.path().join("hisaab-mark")).unwrap();
    let store = common::open(dir.path(), config()).unwrap();
    assert_eq!(store.open_report().mark, MarkStatus::Missing);
    common::fill(&store, 2, 1);
    drop(store);
    let store = common::open(dir.path(), config()).unwrap();
    assert_eq!(store.open_report().mark, MarkStatus::Agrees);
}

#[test]
fn a_torn_batch_past_the_latest_checkpoint_is_removed_on_open() {
    let dir = build();
    // A batch whose checkpoint (and mark) never made it: entry 20 and its hashes and index
    // records are there, the latest checkpoint is for 20 entries.
    tamper(dir.path(), |db| {
        let checkpoints = db.open_tree("checkpoints").unwrap();
        checkpoints.remove(21u64.to_be_bytes()).unwrap();
    });
    std::fs::remove_file(dir.path().join("hisaab-mark")).unwrap();
    let store = common::open(dir.path(), config()).unwrap();
    assert_eq!(store.open_report().truncated_entries, 1);
    assert_eq!(store.size(), 20);
    assert_eq!(store.latest_checkpoint().checkpoint.size, 20);
    store.verify_full().unwrap();
    // Its statement was never receipted; submitted again, it lands anew at seq 20.
    let again = store
        .append_blocking(common::operator(&store, 1, 19))
        .unwrap();
    assert!(again.created);
    assert_eq!(again.receipt.seq, 20);
    store.verify_full().unwrap();
}

/// The ends of one more entry, pointing past the entries file: a batch torn by a crash that
/// left one file's pages on disk and not the other's.
fn torn_ends_of_garbage(dir: &Path) {
    let length = std::fs::metadata(dir.join(ENTRIES)).unwrap().len();
    tamper_file(dir, ENDS, |bytes| {
        for end in [length + 100, length + 120] {
            bytes.extend_from_slice(&end.to_be_bytes());
        }
    });
}

#[test]
fn a_torn_batch_of_garbage_past_the_checkpoint_is_cut_off_on_open() {
    // A crash can leave the ends of a batch on disk and not its bytes: ends pointing past the
    // entries file, never receipted. Open cuts them off rather than refusing the store.
    let dir = build();
    torn_ends_of_garbage(dir.path());
    let store = common::open(dir.path(), config()).unwrap();
    assert_eq!(store.open_report().truncated_entries, 1);
    assert_eq!(store.size(), 21);
    store.verify_full().unwrap();
}

#[test]
fn files_short_below_the_checkpoint_are_refused_before_anything_is_cut() {
    // The ends run a batch ahead while the stored hashes are short of the checkpoint: the
    // missing hash is named, every time, and no file is cut or lengthened.
    let dir = build();
    torn_ends_of_garbage(dir.path());
    tamper_file(dir.path(), HASHES, |bytes| bytes.truncate(bytes.len() - 64));
    let sizes = || {
        [ENTRIES, ENDS, HASHES].map(|name| std::fs::metadata(dir.path().join(name)).unwrap().len())
    };
    let before = sizes();
    for _ in 0..2 {
        let c = corruption(common::open(dir.path(), config()));
        assert!(matches!(c, Corruption::MissingStoredHash { .. }), "{c}");
        assert_eq!(sizes(), before);
    }
}

#[test]
fn files_more_than_a_batch_past_sleds_checkpoint_are_refused_and_kept() {
    // sled rolled back several batches and the mark, which is not synced, did not see it:
    // the entries in the files are kept, not cut back to what sled holds.
    let dir = build();
    tamper(dir.path(), |db| {
        let checkpoints = db.open_tree("checkpoints").unwrap();
        // The kept checkpoints are those of 14..=21; sled "loses" the last four batches.
        for size in 18..=21u64 {
            checkpoints.remove(size.to_be_bytes()).unwrap();
        }
        let meta = db.open_tree("meta").unwrap();
        for size in 18..=21u64 {
            let mut key = b"batch".to_vec();
            key.extend_from_slice(&size.to_be_bytes());
            meta.remove(key).unwrap();
        }
    });
    std::fs::remove_file(dir.path().join("hisaab-mark")).unwrap();
    let small = StoreConfig {
        batch_entries_max: 2,
        ..config()
    };
    let before = std::fs::read(dir.path().join(ENTRIES)).unwrap();
    let c = corruption(common::open(dir.path(), small));
    assert!(
        matches!(
            c,
            Corruption::AheadOfCheckpoint {
                size: 17,
                files: 21
            }
        ),
        "{c}"
    );
    assert!(c.to_string().contains("sled lost committed batches"), "{c}");
    assert_eq!(std::fs::read(dir.path().join(ENTRIES)).unwrap(), before);
}

#[test]
fn audit_without_the_log_key_passes_a_good_store_and_names_a_flipped_old_entry() {
    let dir = build();
    let report = hisaab_store::audit_dir(dir.path(), &config()).unwrap();
    assert_eq!(report.size, 21);
    assert_eq!(
        report.origin,
        hisaab_testkit::fixture::log_vkey().unwrap().name()
    );
    // Wait for sled to let go of the directory, then damage an entry far below the tail.
    edit_entry(dir.path(), 3, "Operator", "Operatos");
    let c = corruption(hisaab_store::audit_dir(dir.path(), &config()));
    assert_eq!(c.seq(), Some(3), "{c}");
}

#[test]
fn audit_names_a_zeroed_entry_and_refuses_a_directory_without_a_ledger() {
    let dir = build();
    zero_entry(dir.path(), 7);
    let c = corruption(hisaab_store::audit_dir(dir.path(), &config()));
    assert_eq!(c.seq(), Some(7), "{c}");
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        hisaab_store::audit_dir(empty.path(), &config()),
        Err(StoreError::NotAStore { .. })
    ));
    assert_eq!(
        std::fs::read_dir(empty.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

/// Copies the files of the store in `from` into `to` (a backup, or a stale copy).
fn copy_dir(from: &Path, to: &Path) {
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        if item.path().is_file() {
            std::fs::copy(item.path(), to.join(item.file_name())).unwrap();
        }
    }
}

#[test]
fn a_stale_copy_swapped_in_under_the_current_mark_is_refused_as_a_rollback() {
    let dir = build();
    // A copy taken at 21 entries; the live store then grows to 23.
    let stale = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), stale.path());
    let store = common::open(dir.path(), config()).unwrap();
    common::fill(&store, 2, 2);
    store.close().unwrap();
    drop(store);
    // The stale sled files come back under the live mark, which is ahead of them.
    std::fs::copy(
        dir.path().join("hisaab-mark"),
        stale.path().join("hisaab-mark"),
    )
    .unwrap();
    let c = corruption(common::open(stale.path(), config()));
    assert!(
        matches!(
            c,
            Corruption::LostEntries {
                size: 21,
                mark_size: 23
            }
        ),
        "{c}"
    );
    assert_eq!(c.seq(), Some(21));
    assert!(c.to_string().contains("rollback"), "{c}");
    // The audit without the log key agrees, naming the same cause.
    let c = corruption(hisaab_store::audit_dir(stale.path(), &config()));
    assert!(
        matches!(
            c,
            Corruption::LostEntries {
                size: 21,
                mark_size: 23
            }
        ),
        "{c}"
    );
}

#[test]
fn a_deleted_mark_is_reported_with_a_warning_by_open_and_audit() {
    let dir = build();
    std::fs::remove_file(dir.path().join("hisaab-mark")).unwrap();
    let report = hisaab_store::audit_dir(dir.path(), &config()).unwrap();
    assert_eq!(report.mark, MarkStatus::Missing);
    let warning = report.mark.warning().unwrap();
    assert!(
        warning.contains("missing") && warning.contains("rollback"),
        "{warning}"
    );
    let store = common::open(dir.path(), config()).unwrap();
    assert_eq!(store.open_report().mark, MarkStatus::Missing);
    assert_eq!(store.verify_full().unwrap().mark, MarkStatus::Missing);
    assert!(store.open_report().mark.warning().is_some());
}

#[test]
fn a_garbled_mark_is_reported_with_a_warning_by_open_and_audit() {
    let dir = build();
    let path = dir.path().join("hisaab-mark");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[20] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let report = hisaab_store::audit_dir(dir.path(), &config()).unwrap();
    assert_eq!(report.mark, MarkStatus::Unreadable);
    let warning = report.mark.warning().unwrap();
    assert!(warning.contains("damaged"), "{warning}");
    let store = common::open(dir.path(), config()).unwrap();
    assert_eq!(store.open_report().mark, MarkStatus::Unreadable);
    // A truncated mark is as unreadable as a flipped one.
    drop(store);
    std::fs::write(&path, &bytes[..40]).unwrap();
    let store = common::open(dir.path(), config()).unwrap();
    assert_eq!(store.open_report().mark, MarkStatus::Unreadable);
    // The next batch writes a good mark again.
    common::fill(&store, 2, 1);
    drop(store);
    let store = common::open(dir.path(), config()).unwrap();
    assert_eq!(store.open_report().mark, MarkStatus::Agrees);
}

#[test]
fn a_truncated_sled_file_is_an_error_naming_damaged_files_never_a_panic() {
    // A store that compresses and one that does not; sled panicked on some cuts of the latter
    // when it held the entries. Each cut is checked inside.
    for compressed in [true, false] {
        let refused = truncated_sled_files(compressed);
        assert!(!refused.is_empty(), "none of 9 cuts refused");
    }
}

/// Cuts the sled file of a store of 701 entries (compressed or not) at nine places in turn:
/// each cut is an error, never a panic, or leaves the store whole. Returns the lengths of the
/// cuts refused.
fn truncated_sled_files(compressed: bool) -> Vec<usize> {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::create(
        dir.path(),
        StoreConfig {
            compression: compressed,
            ..config()
        },
    );
    // Large enough that sled's log spans several segments (sled panics on some cuts).
    common::fill(&store, 1, 700);
    store.close().unwrap();
    drop(store);
    let db_file = dir.path().join("db");
    let original = std::fs::read(&db_file).unwrap();
    let mut refused = Vec::new();
    let written = written_offsets(&original);
    for tenth in 1..10 {
        let length = written[written.len() * tenth / 10];
        std::fs::write(&db_file, &original[..length]).unwrap();
        let path = dir.path().to_owned();
        let opened = std::panic::catch_unwind(|| {
            common::open(&path, config()).map(|store| {
                let whole = (store.size(), store.verify_full().map(|_| ()));
                store.close().unwrap();
                whole
            })
        });
        let error = match opened {
            Ok(Err(error)) => error,
            // The cut took only segments past every live entry (sled's file keeps freed
            // segments): the store opens whole and checks out, or the cut took a chunk of a
            // snapshot (where the snapshot thread's writes land varies from run to run),
            // which open passed over, as the cache it is, and the audit names.
            Ok(Ok((size, verified))) => {
                assert_eq!(size, 701, "cut to {length} bytes: opened at {size}");
                match &verified {
                    Ok(()) => {}
                    Err(StoreError::Corrupt(Corruption::Snapshot { reason, .. }))
                        if reason.contains("damaged") => {}
                    Err(other) => panic!("cut to {length} bytes: {other}"),
                }
                std::fs::write(&db_file, &original).unwrap();
                continue;
            }
            Err(_) => panic!("cut to {length} bytes: a panic escaped"),
        };
        let message = error.to_string();
        assert!(!message.contains("server running"), "{message}");
        match &error {
            StoreError::Corrupt(Corruption::DamagedFiles { .. }) => {
                assert!(
                    message.contains("damaged (truncated or overwritten)"),
                    "{message}"
                );
            }
            // sled recovered a prefix: the mark names the first lost seq.
            StoreError::Corrupt(Corruption::LostEntries { mark_size: 701, .. }) => {}
            // sled noticed later, on a read: still named as corrupted data.
            _ => assert!(message.contains("corrupted"), "cut to {length}: {message}"),
        }
        // The audit without the log key agrees: an error, never a panic.
        let path = dir.path().to_owned();
        let audited =
            std::panic::catch_unwind(|| hisaab_store::audit_dir(&path, &config()).map(|_| ()));
        assert!(
            matches!(audited, Ok(Err(_))),
            "cut to {length}: the audit must refuse"
        );
        refused.push(length);
        std::fs::write(&db_file, &original).unwrap();
    }
    refused
}

#[test]
fn a_directory_in_use_is_reported_as_locked_and_only_then() {
    let dir = build();
    let store = common::open(dir.path(), config()).unwrap();
    let error = common::open(dir.path(), config()).unwrap_err();
    assert!(matches!(error, StoreError::Locked { .. }), "{error}");
    assert!(
        error.to_string().contains("in use by another process"),
        "{error}"
    );
    drop(store);
}

#[test]
fn a_consistent_rewrite_of_an_entry_is_caught_only_by_the_signed_checkpoint() {
    let dir = build();
    // Rewrite entry 20 and recompute what hashes cover it: the leaf hash, the only stored
    // hash it writes (20 completes no subtree). Only the checkpoint, signed with the log key
    // the attacker does not hold, still commits to the old root.
    edit_entry(dir.path(), 20, "Operator", "Operatos");
    let leaf = hisaab_log::merkle::leaf_hash(&entry_bytes(dir.path(), 20));
    let at = usize::try_from(stored_hash_index(0, 20)).unwrap() * 32;
    tamper_file(dir.path(), HASHES, |bytes| {
        bytes[at..at + 32].copy_from_slice(leaf.as_bytes());
    });
    let c = corruption(common::open(dir.path(), config()));
    assert!(
        matches!(c, Corruption::CheckpointRoot { size: 21, .. }),
        "{c}"
    );
    let c = corruption(hisaab_store::audit_dir(dir.path(), &config()));
    assert!(
        matches!(c, Corruption::CheckpointRoot { size: 21, .. }),
        "{c}"
    );
}

/// Makes the closed store in `dir` look as one killed after it last synced its entry ends and
/// stored hashes at size 9: `meta` says so and holds the ends of the two batches after it
/// (entries 9..15 and 15..21), as the sequencer leaves them.
fn unsynced_from_9(dir: &Path) {
    let ends = std::fs::read(dir.join(ENDS)).unwrap();
    tamper(dir, |db| {
        let meta = db.open_tree("meta").unwrap();
        meta.insert(b"index-synced", &9u64.to_be_bytes()).unwrap();
        for (first, to) in [(9usize, 15usize), (15, 21)] {
            let mut key = b"ends".to_vec();
            key.extend_from_slice(&(first as u64).to_be_bytes());
            meta.insert(key, &ends[first * 16..to * 16]).unwrap();
        }
    });
}

#[test]
fn entry_ends_and_hashes_a_power_cut_lost_are_rebuilt_on_open_and_named_by_the_audit() {
    let dir = build();
    let ends = std::fs::read(dir.path().join(ENDS)).unwrap();
    let hashes = std::fs::read(dir.path().join(HASHES)).unwrap();
    unsynced_from_9(dir.path());
    // The power cut: the ends file kept its length and lost its last pages; the hashes file
    // lost its length too.
    let first_hash = usize::try_from(hisaab_log::merkle::stored_hash_count(9)).unwrap();
    tamper_file(dir.path(), ENDS, |bytes| bytes[9 * 16..].fill(0));
    tamper_file(dir.path(), HASHES, |bytes| bytes.truncate(first_hash * 32));

    // The audit writes nothing: it says what to do rather than calling the store damaged.
    match hisaab_store::audit_dir(dir.path(), &config()) {
        Err(error @ StoreError::IndexNotSynced { from: 9, .. }) => {
            assert!(error.to_string().contains("hisaab serve --data"), "{error}");
        }
        other => panic!("expected IndexNotSynced from 9, got {other:?}"),
    }

    let store = common::open(dir.path(), config()).unwrap();
    assert_eq!(store.open_report().index_rebuilt_entries, 12);
    assert_eq!(store.open_report().truncated_entries, 0);
    assert_eq!(store.size(), 21);
    store.verify_full().unwrap();
    store.close().unwrap();
    drop(store);
    assert_eq!(std::fs::read(dir.path().join(ENDS)).unwrap(), ends);
    assert_eq!(std::fs::read(dir.path().join(HASHES)).unwrap(), hashes);
    let report = hisaab_store::audit_dir(dir.path(), &config()).unwrap();
    assert_eq!(report.size, 21);
    let store = common::open(dir.path(), config()).unwrap();
    assert_eq!(store.open_report().index_rebuilt_entries, 0);
}

#[test]
fn unsynced_entry_ends_that_reached_the_disk_pass_the_audit_and_are_rewritten_on_open() {
    // A kill of the process alone: the kernel wrote everything, only the sync was not done.
    let dir = build();
    unsynced_from_9(dir.path());
    let report = hisaab_store::audit_dir(dir.path(), &config()).unwrap();
    assert_eq!(report.size, 21);
    let store = common::open(dir.path(), config()).unwrap();
    assert_eq!(store.open_report().index_rebuilt_entries, 12);
    store.verify_full().unwrap();
}

#[test]
fn a_missing_record_of_unsynced_entry_ends_is_refused_naming_the_seq_and_nothing_is_written() {
    let dir = build();
    unsynced_from_9(dir.path());
    tamper(dir.path(), |db| {
        let mut key = b"ends".to_vec();
        key.extend_from_slice(&15u64.to_be_bytes());
        db.open_tree("meta").unwrap().remove(key).unwrap();
    });
    let files =
        || [ENTRIES, ENDS, HASHES].map(|name| std::fs::read(dir.path().join(name)).unwrap());
    let before = files();
    for _ in 0..2 {
        let c = corruption(common::open(dir.path(), config()));
        assert!(
            matches!(c, Corruption::UnsyncedEnds { seq: 15, size: 21 }),
            "{c}"
        );
        assert_eq!(files(), before);
    }
}

#[test]
fn a_damaged_entry_among_the_unsynced_is_named_and_nothing_is_rebuilt_from_it() {
    // The process was killed (the files hold what was written) and entry 12's bytes were
    // damaged since: its stored leaf hash names it, on open and in the audit, and the good
    // stored hashes are not replaced by those of the damaged bytes.
    let dir = build();
    unsynced_from_9(dir.path());
    edit_entry(dir.path(), 12, "Operator", "Operatos");
    let files = || [ENDS, HASHES].map(|name| std::fs::read(dir.path().join(name)).unwrap());
    let before = files();
    for _ in 0..2 {
        let c = corruption(common::open(dir.path(), config()));
        assert!(
            matches!(c, Corruption::LeafHashMismatch { seq: 12, .. }),
            "{c}"
        );
        assert_eq!(files(), before);
    }
    let c = corruption(hisaab_store::audit_dir(dir.path(), &config()));
    assert_eq!(c.seq(), Some(12), "{c}");
}

#[test]
fn a_damaged_entry_among_unsynced_ends_a_power_cut_lost_blames_no_seq_and_nothing_is_rebuilt() {
    // After a power cut the stored hashes of the unsynced entries may be gone too, so they
    // cannot name the damaged entry: the root that the entries do not give is named instead.
    let dir = build();
    unsynced_from_9(dir.path());
    tamper_file(dir.path(), ENDS, |bytes| bytes[9 * 16..].fill(0));
    edit_entry_at_known_range(dir.path());
    let files = || [ENDS, HASHES].map(|name| std::fs::read(dir.path().join(name)).unwrap());
    let before = files();
    let c = corruption(common::open(dir.path(), config()));
    assert!(
        matches!(c, Corruption::CheckpointRoot { size: 21, .. }),
        "{c}"
    );
    assert_eq!(files(), before);
}

/// Damages entry 12 where its bytes lie (its ends read before they were zeroed).
fn edit_entry_at_known_range(dir: &Path) {
    let db = common::sled_db(dir);
    let mut key = b"ends".to_vec();
    key.extend_from_slice(&9u64.to_be_bytes());
    let ends = db.open_tree("meta").unwrap().get(key).unwrap().unwrap();
    drop(db);
    // Entry 12 is the fourth of the record from 9: it starts where entry 11's record ends.
    let start = u64::from_be_bytes(ends[2 * 16 + 8..3 * 16].try_into().unwrap());
    let leaf_end = u64::from_be_bytes(ends[3 * 16..3 * 16 + 8].try_into().unwrap());
    let range = usize::try_from(start).unwrap()..usize::try_from(leaf_end).unwrap();
    tamper_file(dir, ENTRIES, |bytes| {
        let text = String::from_utf8(bytes[range.clone()].to_vec()).unwrap();
        assert!(text.contains("Operator"));
        bytes[range].copy_from_slice(text.replacen("Operator", "Operatos", 1).as_bytes());
    });
}
