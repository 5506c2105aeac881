//! Reopening: size, checkpoint and state survive; the model resumes from a snapshot.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[test]
fn reopen_keeps_size_checkpoint_and_state_and_replays_only_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(); // snapshot every 8 entries
    let (store, _) = common::create(dir.path(), config.clone());
    common::fill(&store, 1, 36); // size 37
    let checkpoint = store.latest_checkpoint();
    let state = store.state(None, None).unwrap();
    store.close().unwrap();
    drop(store);

    let store = common::open(dir.path(), config.clone()).unwrap();
    assert_eq!(store.size(), 37);
    assert_eq!(store.latest_checkpoint(), checkpoint);
    assert_eq!(store.state(None, None).unwrap(), state);
    let report = store.open_report().clone();
    assert_eq!(report.size, 37);
    assert_eq!(report.snapshot_size, 32);
    assert_eq!(report.replayed_entries, 5);
    assert!(report.checked_entries >= 5);
    assert_eq!(report.truncated_entries, 0);

    // Appending continues where it stopped.
    let receipts = common::fill(&store, 2, 3);
    assert_eq!(receipts[0].seq, 37);
    common::verify_receipt_in(&store, &receipts[2]);
    store.verify_full().unwrap();
}

#[test]
fn open_refuses_a_directory_without_a_store_and_a_wrong_log_key() {
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        common::open(empty.path(), common::config()),
        Err(hisaab_store::StoreError::NotAStore { .. })
    ));
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::create(dir.path(), common::config());
    drop(store);
    let result = hisaab_store::Store::open(
        dir.path(),
        hisaab_log::SigningKey::from_bytes(&[9; 32]),
        common::config(),
        std::sync::Arc::new(common::clock()),
    );
    assert!(matches!(
        result,
        Err(hisaab_store::StoreError::LogKeyMismatch { .. })
    ));
}

#[test]
fn old_states_and_bundles_are_served_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::create(dir.path(), common::config());
    common::fill(&store, 1, 20);
    let at_9 = store.state(Some(9), None).unwrap();
    drop(store);
    let store = common::open(dir.path(), common::config()).unwrap();
    assert_eq!(store.state(Some(9), None).unwrap(), at_9);
    let mut bundle = Vec::new();
    store.export_bundle(9, &mut bundle).unwrap();
    let verified = hisaab_model::verify_bundle(&bundle[..]).unwrap();
    assert_eq!(verified.state.digest(), at_9.digest());
}

/// The `use_compression` line of sled's `conf` in `dir`.
fn compression_line(dir: &std::path::Path) -> String {
    // Lines of text, then a CRC-32 of them.
    String::from_utf8_lossy(&std::fs::read(dir.join("conf")).unwrap())
        .lines()
        .find(|line| line.starts_with("use_compression"))
        .unwrap()
        .to_owned()
}

#[test]
fn a_store_keeps_the_compression_it_was_created_with() {
    let compressed = hisaab_store::StoreConfig {
        compression: true,
        ..common::config()
    };
    let plain = common::config();
    // Created with and without compression; each reopened, appended to and audited with the
    // other setting asked for (sled refuses a database with another setting than its own).
    for (create, reopen, line) in [
        (&compressed, &plain, "use_compression: true"),
        (&plain, &compressed, "use_compression: false"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = common::create(dir.path(), create.clone());
        common::fill(&store, 1, 20);
        let state = store.state(None, None).unwrap();
        store.close().unwrap();
        drop(store);
        assert_eq!(compression_line(dir.path()), line);
        let store = common::open(dir.path(), reopen.clone()).unwrap();
        assert_eq!(store.size(), 21);
        assert_eq!(store.state(None, None).unwrap(), state);
        common::fill(&store, 2, 5);
        store.verify_full().unwrap();
        store.close().unwrap();
        drop(store);
        hisaab_store::audit_dir(dir.path(), reopen).unwrap();
        assert_eq!(compression_line(dir.path()), line);
    }
}

#[test]
fn a_store_of_the_earlier_layout_has_its_entries_moved_out_of_sled_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::config();
    let (store, _) = common::create(dir.path(), config.clone());
    common::fill(&store, 1, 36);
    let checkpoint = store.latest_checkpoint();
    let state = store.state(None, None).unwrap();
    let mut bundle = Vec::new();
    store.export_bundle(37, &mut bundle).unwrap();
    store.close().unwrap();
    drop(store);
    common::into_the_earlier_layout(dir.path(), true);

    // The audit writes nothing, so it names the layout and what to do.
    let error = hisaab_store::audit_dir(dir.path(), &config).unwrap_err();
    assert!(
        matches!(error, hisaab_store::StoreError::EarlierLayout { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("hisaab serve --data"), "{error}");

    // A gap in its entries is named, and nothing is moved: what follows the gap would be lost.
    let db = common::sled_db(dir.path());
    let entries = db.open_tree("entries").unwrap();
    let fifth = entries.remove(5u64.to_be_bytes()).unwrap().unwrap();
    db.flush().unwrap();
    drop((entries, db));
    let error = common::open(dir.path(), config.clone()).unwrap_err();
    assert!(
        matches!(
            error,
            hisaab_store::StoreError::Corrupt(hisaab_store::Corruption::MissingEntry {
                seq: 5,
                ..
            })
        ),
        "{error}"
    );
    assert!(matches!(
        hisaab_store::audit_dir(dir.path(), &config),
        Err(hisaab_store::StoreError::EarlierLayout { .. })
    ));
    let db = common::sled_db(dir.path());
    let entries = db.open_tree("entries").unwrap();
    entries.insert(5u64.to_be_bytes(), fifth).unwrap();
    db.flush().unwrap();
    drop((entries, db));

    // Opened for writing, it is moved out, and is the same ledger.
    let store = common::open(dir.path(), config.clone()).unwrap();
    assert_eq!(store.size(), 37);
    assert_eq!(store.latest_checkpoint(), checkpoint);
    assert_eq!(store.state(None, None).unwrap(), state);
    let mut again = Vec::new();
    store.export_bundle(37, &mut again).unwrap();
    assert!(again == bundle, "the same bundle, byte for byte");
    let receipts = common::fill(&store, 2, 3);
    common::verify_receipt_in(&store, &receipts[2]);
    store.verify_full().unwrap();
    store.close().unwrap();
    drop(store);
    let db = common::sled_db(dir.path());
    let names: Vec<_> = db.tree_names();
    assert!(
        !names
            .iter()
            .any(|n| [&b"entries"[..], b"hashes", b"scopes"].contains(&&n[..])),
        "the sled trees of the earlier layout are gone"
    );
    drop(db);
    hisaab_store::audit_dir(dir.path(), &config).unwrap();
}

#[test]
fn a_store_whose_index_was_in_sled_is_indexed_again_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let config = hisaab_store::StoreConfig {
        index_run_entries: 8,
        ..common::config()
    };
    let (store, _) = common::create(dir.path(), config.clone());
    common::fill(&store, 1, 36);
    let checkpoint = store.latest_checkpoint();
    store.close().unwrap();
    drop(store);
    common::into_the_layout_with_its_index_in_sled(dir.path());

    // The audit reads it as it is: the index is not there to check.
    hisaab_store::audit_dir(dir.path(), &config).unwrap();

    let store = common::open(dir.path(), config.clone()).unwrap();
    assert_eq!(store.latest_checkpoint(), checkpoint);
    assert_eq!(store.open_report().index_entries_read, 37);
    common::assert_found_by_event_hash_and_statement_id(&store, 37);
    common::fill(&store, 2, 3);
    store.verify_full().unwrap();
    store.close().unwrap();
    drop(store);
    let db = common::sled_db(dir.path());
    assert!(
        !db.tree_names()
            .iter()
            .any(|n| [&b"by_event"[..], b"by_statement"].contains(&&n[..])),
        "the sled index trees are gone"
    );
    assert_eq!(
        db.open_tree("meta")
            .unwrap()
            .get("format")
            .unwrap()
            .as_deref(),
        Some(&b"hisaab-store/3"[..])
    );
    drop(db);
    // Reopened, it reads only the entries after its last run.
    let store = common::open(dir.path(), config.clone()).unwrap();
    assert!(
        store.open_report().index_entries_read < 8,
        "{:?}",
        store.open_report()
    );
    store.close().unwrap();
    drop(store);
    hisaab_store::audit_dir(dir.path(), &config).unwrap();
}
