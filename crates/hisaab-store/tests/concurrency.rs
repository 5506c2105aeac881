//! Many concurrent appenders: dense seqs, a total order, each caller its own receipt.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use hisaab_testkit::fixture;

#[test]
fn concurrent_async_appenders_each_get_their_own_verifiable_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::create(dir.path(), common::config());
    let ledger_id = common::ledger_id(&store);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    const TASKS: u64 = 400;
    let results = runtime.block_on(async {
        let mut handles = Vec::new();
        for n in 0..TASKS {
            let store = store.clone();
            handles.push(tokio::spawn(async move {
                let envelope = fixture::register_operator(ledger_id, 7, n).unwrap();
                let id = envelope.statement.id.clone();
                (id, store.append(envelope).await.unwrap())
            }));
        }
        let mut results = Vec::new();
        for handle in handles {
            results.push(handle.await.unwrap());
        }
        results
    });
    let mut by_seq = BTreeMap::new();
    let mut checked_notes = std::collections::HashSet::new();
    for (id, appended) in &results {
        assert!(appended.created);
        if checked_notes.insert(appended.receipt.checkpoint.clone()) {
            common::verify_receipt(&appended.receipt);
        } else {
            common::verify_inclusion_only(&appended.receipt);
        }
        // The proof was built from the stored hashes its batch kept in memory: the same as
        // the one read back from disk in the tree of the receipt's checkpoint.
        let body = appended.receipt.checkpoint.split("\n\n").next().unwrap();
        let signed = hisaab_log::note::Checkpoint::try_parse_body(&format!("{body}\n")).unwrap();
        assert_eq!(
            appended.receipt.inclusion_proof,
            store
                .inclusion_proof(appended.receipt.seq, signed.size)
                .unwrap(),
            "seq {}",
            appended.receipt.seq
        );
        // The receipt is the caller's own: its entry holds the caller's statement.
        let entry = store.entry(appended.receipt.seq).unwrap().unwrap();
        assert_eq!(&entry.entry().statement.id, id);
        assert_eq!(entry.event_hash(), appended.receipt.event_hash);
        assert!(
            by_seq.insert(appended.receipt.seq, id.clone()).is_none(),
            "seq given twice"
        );
    }
    // Dense: 1..=TASKS after genesis.
    assert_eq!(
        by_seq.keys().copied().collect::<Vec<_>>(),
        (1..=TASKS).collect::<Vec<_>>()
    );
    assert_eq!(store.size(), TASKS + 1);
    // Group commit happened: fewer checkpoints than entries were signed (batches of up to 32).
    let distinct_checkpoints: std::collections::BTreeSet<_> = results
        .iter()
        .map(|(_, a)| a.receipt.checkpoint.clone())
        .collect();
    assert!(distinct_checkpoints.len() < results.len());
    store.verify_full().unwrap();
}

#[test]
fn concurrent_resubmissions_of_one_envelope_append_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::create(dir.path(), common::config());
    let envelope = common::operator(&store, 3, 0);
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (store, envelope) = (store.clone(), envelope.clone());
            std::thread::spawn(move || store.append_blocking(envelope).unwrap())
        })
        .collect();
    let answers: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(answers.iter().filter(|a| a.created).count(), 1);
    assert!(answers.iter().all(|a| a.receipt.seq == 1));
    assert_eq!(store.size(), 2);
}
