//! Appending: receipts, resubmissions, rejections, time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use hisaab_log::{Envelope, Signature};
use hisaab_store::{AppendError, Rule};
use hisaab_testkit::fixture;

#[test]
fn create_writes_genesis_with_a_signed_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::create(dir.path(), common::config());
    assert_eq!(store.size(), 1);
    let latest = store.latest_checkpoint();
    assert_eq!(latest.checkpoint.size, 1);
    assert_eq!(latest.checkpoint.origin, fixture::ORIGIN);
    let receipt = store.receipt(0).unwrap();
    common::verify_receipt(&receipt);
    store.verify_full().unwrap();
}

#[test]
fn create_refuses_a_log_key_that_genesis_does_not_name() {
    let dir = tempfile::tempdir().unwrap();
    let other = hisaab_log::SigningKey::from_bytes(&[9; 32]);
    let result = hisaab_store::Store::create(
        dir.path(),
        fixture::genesis().unwrap(),
        other,
        common::config(),
        std::sync::Arc::new(common::clock()),
    );
    assert!(matches!(
        result,
        Err(hisaab_store::StoreError::LogKeyMismatch { .. })
    ));
}

#[test]
fn create_refuses_an_existing_store() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::create(dir.path(), common::config());
    store.close().unwrap();
    drop(store);
    let result = hisaab_store::Store::create(
        dir.path(),
        fixture::genesis().unwrap(),
        fixture::log_key(),
        common::config(),
        std::sync::Arc::new(common::clock()),
    );
    assert!(matches!(
        result,
        Err(hisaab_store::StoreError::AlreadyExists { .. })
    ));
}

#[test]
fn receipts_verify_and_seqs_follow_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::create(dir.path(), common::config());
    let receipts = common::fill(&store, 1, 20);
    for (i, receipt) in receipts.iter().enumerate() {
        assert_eq!(receipt.seq, i as u64 + 1);
        common::verify_receipt_in(&store, receipt);
    }
    assert_eq!(store.size(), 21);
}

#[test]
fn resubmitting_the_same_envelope_returns_the_original_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let (store, clock) = common::create(dir.path(), common::config());
    let envelope = common::operator(&store, 1, 0);
    let first = store.append_blocking(envelope.clone()).unwrap();
    assert!(first.created);
    common::fill(&store, 2, 5);
    clock.advance(5000);
    let again = store.append_blocking(envelope).unwrap();
    assert!(!again.created);
    // The original receipt, byte for byte: the checkpoint of the batch that appended it (size
    // 2 here, although the log has grown since) and the proof for that size.
    assert_eq!(
        serde_json::to_vec(&again.receipt).unwrap(),
        serde_json::to_vec(&first.receipt).unwrap()
    );
    assert!(again.receipt.checkpoint.contains("\n2\n"));
    common::verify_receipt_in(&store, &again.receipt);
    assert_eq!(store.size(), 7);
    // The same after a restart.
    drop(store);
    let store = common::open(dir.path(), common::config()).unwrap();
    assert_eq!(store.receipt(first.receipt.seq).unwrap(), first.receipt);
}

#[test]
fn same_id_with_another_envelope_is_a_duplicate_id() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::create(dir.path(), common::config());
    let id = common::ledger_id(&store);
    store
        .append_blocking(fixture::register_operator(id, 1, 0).unwrap())
        .unwrap();
    // Same statement id (namespace 1, n 0), another body.
    let other = fixture::statement_in(
        id,
        1,
        0,
        "operator.registered",
        &fixture::authority_key(),
        serde_json::json!({"operator": "op-other", "name": "Other"}),
    )
    .unwrap();
    let error = store.append_blocking(other).unwrap_err();
    match &error {
        AppendError::Violation(v) => assert_eq!(v.rule, Rule::DuplicateId),
        other => panic!("expected a violation, got {other:?}"),
    }
    assert_eq!(store.size(), 2);
}

#[test]
fn a_bad_signature_is_refused_before_the_sequencer() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::create(dir.path(), common::config());
    let mut envelope: Envelope = common::operator(&store, 1, 0);
    envelope.signature = Signature::from_bytes([7; 64]);
    let error = store.append_blocking(envelope).unwrap_err();
    assert!(matches!(error, AppendError::Signature));
    assert_eq!(store.size(), 1);
}

#[test]
fn a_rejected_statement_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::create(dir.path(), common::config());
    let id = common::ledger_id(&store);
    store
        .append_blocking(fixture::register_operator(id, 1, 0).unwrap())
        .unwrap();
    let before = store.latest_checkpoint();
    // The same operator id again under a new statement id: the id it creates is not new.
    let again = fixture::statement_in(
        id,
        1,
        99,
        "operator.registered",
        &fixture::authority_key(),
        serde_json::json!({"operator": "op-1-0", "name": "Again"}),
    )
    .unwrap();
    let error = store.append_blocking(again).unwrap_err();
    assert!(matches!(error, AppendError::Violation(_)), "{error:?}");
    assert!(matches!(&error, AppendError::Violation(v) if v.rule.code() == "rule_violation"));
    assert_eq!(store.latest_checkpoint(), before);
    assert_eq!(store.size(), 2);
    // And the next one still lands at the next seq.
    let next = store
        .append_blocking(fixture::register_operator(id, 1, 1).unwrap())
        .unwrap();
    assert_eq!(next.receipt.seq, 2);
}

#[test]
fn recorded_at_never_goes_back_when_the_clock_does() {
    let dir = tempfile::tempdir().unwrap();
    let (store, clock) = common::create(dir.path(), common::config());
    clock.advance(10_000);
    let first = store
        .append_blocking(common::operator(&store, 1, 0))
        .unwrap();
    clock.advance(-5_000);
    let second = store
        .append_blocking(common::operator(&store, 1, 1))
        .unwrap();
    assert_eq!(second.receipt.recorded_at, first.receipt.recorded_at);
    clock.advance(10_000);
    let third = store
        .append_blocking(common::operator(&store, 1, 2))
        .unwrap();
    assert!(third.receipt.recorded_at > second.receipt.recorded_at);
    store.verify_full().unwrap();
}

#[test]
fn appends_after_close_answer_closed() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::create(dir.path(), common::config());
    store.close().unwrap();
    let error = store
        .append_blocking(common::operator(&store, 1, 0))
        .unwrap_err();
    assert!(matches!(error, AppendError::Closed));
    // Reads keep working.
    assert_eq!(store.size(), 1);
}

#[test]
fn reads_by_seq_event_hash_statement_id_and_kpi_history() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::create(dir.path(), common::config());
    let receipts = common::fill(&store, 1, 10);
    let entry = store.entry(3).unwrap().unwrap();
    assert_eq!(entry.event_hash(), receipts[2].event_hash);
    assert_eq!(store.entry_bytes(3).unwrap().unwrap(), entry.leaf_bytes());
    let by_hash = store
        .entry_by_event_hash(&entry.event_hash())
        .unwrap()
        .unwrap();
    assert_eq!(by_hash, entry);
    let by_id = store
        .entry_by_statement_id(&entry.entry().statement.id)
        .unwrap()
        .unwrap();
    assert_eq!(by_id, entry);
    assert!(store.entry(11).unwrap().is_none());
    let page = store.entries(2, 4).unwrap();
    assert_eq!(
        page.iter().map(|e| e.entry().seq).collect::<Vec<_>>(),
        vec![2, 3, 4, 5]
    );
    assert!(store.history("op-1-0", "CR-01").unwrap().is_empty());
    let state = store.state(None, None).unwrap();
    assert_eq!(state.size, 11);
    let earlier = store.state(Some(5), None).unwrap();
    assert_eq!(earlier.size, 5);
    assert_ne!(earlier.digest(), state.digest());
}

#[test]
fn export_streams_a_bundle_the_model_verifies_at_any_size() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::create(dir.path(), common::config());
    common::fill(&store, 1, 12);
    for size in [1, 2, 7, 13] {
        let mut bundle = Vec::new();
        assert_eq!(store.export_bundle(size, &mut bundle).unwrap(), size);
        let verified = hisaab_model::verify_bundle(&bundle[..]).unwrap();
        assert_eq!(verified.size, size);
    }
    assert!(store.export_bundle(14, Vec::new()).is_err());
}

#[test]
fn witness_cosignatures_are_collected_and_survive_reopen() {
    use hisaab_log::note::cosign_checkpoint;
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::create(dir.path(), common::config());
    let id = common::ledger_id(&store);
    store
        .append_blocking(fixture::enroll_witness(id, 1).unwrap())
        .unwrap();
    let latest = store.latest_checkpoint();
    let line = cosign_checkpoint(
        &latest.checkpoint,
        "w-1",
        &fixture::witness_key(1),
        1_767_225_700,
    )
    .unwrap();
    let signed = store.add_cosignature(&line).unwrap();
    assert!(signed.note.ends_with(&line));
    assert_eq!(store.latest_checkpoint().note, signed.note);
    // Adding it twice keeps one copy.
    assert_eq!(store.add_cosignature(&line).unwrap().note, signed.note);
    // A key name that is no witness, and a line over another checkpoint, are refused.
    let stranger =
        cosign_checkpoint(&latest.checkpoint, "w-2", &fixture::witness_key(2), 1).unwrap();
    assert!(matches!(
        store.add_cosignature(&stranger),
        Err(hisaab_store::StoreError::Cosignature { .. })
    ));
    let mut other = latest.checkpoint.clone();
    other.size += 5;
    let wrong = cosign_checkpoint(&other, "w-1", &fixture::witness_key(1), 1).unwrap();
    assert!(store.add_cosignature(&wrong).is_err());

    // A cosignature for a kept older checkpoint still lands there.
    let old = latest.checkpoint.clone();
    common::fill(&store, 1, 2);
    let late = cosign_checkpoint(&old, "w-1", &fixture::witness_key(1), 1_767_225_800).unwrap();
    store.add_cosignature(&late).unwrap();
    assert!(store
        .checkpoint_at(old.size)
        .unwrap()
        .unwrap()
        .note
        .contains(&late));
    drop(store);
    let store = common::open(dir.path(), common::config()).unwrap();
    let kept = store.checkpoint_at(old.size).unwrap().unwrap();
    assert!(kept.note.contains(&line) && kept.note.contains(&late));
}

/// The operator and KPI an entry concerns, worked out by hand from the bodies: directly, or
/// through the submission an evaluation names, the evaluation a dispute names, the dispute a
/// resolution names.
fn pair_by_hand(
    entries: &[hisaab_log::SealedEntry],
    seq: usize,
) -> Option<(String, String, &'static str)> {
    let body_of = |hash: &str| {
        entries
            .iter()
            .find(|e| e.event_hash().to_hex() == hash)
            .map(|e| e.entry().statement.body.clone())
    };
    let statement = &entries[seq].entry().statement;
    let body = &statement.body;
    let text = |b: &serde_json::Map<String, serde_json::Value>, k: &str| {
        b.get(k).and_then(|v| v.as_str()).map(str::to_owned)
    };
    let pair = |b: &serde_json::Map<String, serde_json::Value>| {
        Some((text(b, "operator")?, text(b, "kpi")?))
    };
    let (kind, found) = match statement.kind.as_str() {
        "kpi.assigned" => ("kpi.assigned", pair(body)),
        "submission.filed" => ("submission.filed", pair(body)),
        "commitment.made" => ("commitment.made", pair(body)),
        "challenge.raised" => ("challenge.raised", pair(body)),
        "assignment.withdrawn" => ("assignment.withdrawn", pair(body)),
        "evaluation.recorded" => (
            "evaluation.recorded",
            body_of(&text(body, "submission")?).and_then(|s| pair(&s)),
        ),
        "dispute.opened" => {
            let evaluation = body_of(&text(body, "evaluation")?)?;
            (
                "dispute.opened",
                body_of(&text(&evaluation, "submission")?).and_then(|s| pair(&s)),
            )
        }
        "dispute.resolved" => {
            let id = text(body, "dispute")?;
            let opened = entries.iter().find(|e| {
                e.entry().statement.kind == "dispute.opened"
                    && text(&e.entry().statement.body, "dispute").as_deref() == Some(&id)
            })?;
            let evaluation = body_of(&text(&opened.entry().statement.body, "evaluation")?)?;
            (
                "dispute.resolved",
                body_of(&text(&evaluation, "submission")?).and_then(|s| pair(&s)),
            )
        }
        // Closing statements and measures concern the pair their commitment or challenge
        // named.
        "commitment.closed" | "challenge.resolved" | "challenge.measure_recorded" => {
            let (opening, field) = if statement.kind == "commitment.closed" {
                ("commitment.made", "commitment")
            } else {
                ("challenge.raised", "challenge")
            };
            let id = text(body, field)?;
            let opened = entries.iter().find(|e| {
                e.entry().statement.kind == opening
                    && text(&e.entry().statement.body, field).as_deref() == Some(&id)
            })?;
            let kind = match statement.kind.as_str() {
                "commitment.closed" => "commitment.closed",
                "challenge.resolved" => "challenge.resolved",
                _ => "challenge.measure_recorded",
            };
            (kind, pair(&opened.entry().statement.body))
        }
        _ => return None,
    };
    found.map(|(o, k)| (o, k, kind))
}

/// The demo scenario appended to a new store in `dir`, each step at its recorded time.
fn demo_store(
    dir: &std::path::Path,
) -> (
    hisaab_scenario::Scenario,
    hisaab_store::Store,
    std::sync::Arc<hisaab_store::ManualClock>,
) {
    let scenario = hisaab_scenario::build(&hisaab_scenario::ScenarioConfig::default()).unwrap();
    let millis = |t: &hisaab_log::Timestamp| i64::try_from(t.unix_nanos() / 1_000_000).unwrap();
    let mut steps = scenario.steps.iter();
    let genesis = steps.next().unwrap();
    let clock = std::sync::Arc::new(hisaab_store::ManualClock::new(millis(&genesis.recorded_at)));
    let store = hisaab_store::Store::create(
        dir,
        genesis.envelope.clone(),
        scenario.log_key.clone(),
        common::config(),
        clock.clone(),
    )
    .unwrap();
    for step in steps {
        clock.set(millis(&step.recorded_at));
        store.append_blocking(step.envelope.clone()).unwrap();
    }
    (scenario, store, clock)
}

#[test]
fn kpi_history_holds_every_entry_about_the_pair_in_log_order_and_survives_reopen() {
    use std::collections::{BTreeMap, BTreeSet};

    let dir = tempfile::tempdir().unwrap();
    let (scenario, store, clock) = demo_store(dir.path());
    let entries = scenario.sealed_entries().unwrap();

    // What each pair's history must be, from the bodies alone.
    let mut expected: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
    let mut kinds: BTreeMap<(String, String), BTreeSet<&str>> = BTreeMap::new();
    for seq in 0..entries.len() {
        if let Some((operator, kpi, kind)) = pair_by_hand(&entries, seq) {
            expected
                .entry((operator.clone(), kpi.clone()))
                .or_default()
                .push(u64::try_from(seq).unwrap());
            kinds.entry((operator, kpi)).or_default().insert(kind);
        }
    }
    // The ledger has a pair with each kind the history must hold.
    let all = [
        "kpi.assigned",
        "submission.filed",
        "evaluation.recorded",
        "commitment.made",
        "dispute.opened",
        "dispute.resolved",
        "challenge.raised",
        "commitment.closed",
        "challenge.resolved",
        "assignment.withdrawn",
        "challenge.measure_recorded",
    ];
    let seen: BTreeSet<&str> = kinds.values().flatten().copied().collect();
    assert_eq!(seen, all.into_iter().collect::<BTreeSet<_>>());
    assert!(
        kinds.values().any(
            |k| ["evaluation.recorded", "dispute.opened", "commitment.made"]
                .iter()
                .all(|kind| k.contains(kind))
        ),
        "no pair has an evaluation, a dispute and a commitment"
    );

    let check = |store: &hisaab_store::Store| {
        for ((operator, kpi), seqs) in &expected {
            assert_eq!(
                &store.history(operator, kpi).unwrap(),
                seqs,
                "{operator} {kpi}"
            );
        }
        assert!(store
            .history("no-such-operator", "CR-01")
            .unwrap()
            .is_empty());
    };
    check(&store);
    store.close().unwrap();
    drop(store);
    let store = hisaab_store::Store::open(
        dir.path(),
        scenario.log_key.clone(),
        common::config(),
        clock,
    )
    .unwrap();
    check(&store);
}

#[test]
fn every_entry_has_its_scope_indexed_as_the_fold_gives_it_and_a_store_without_the_index_gets_it_on_open(
) {
    use hisaab_model::view::Scope;
    use hisaab_model::Scopes;
    let dir = tempfile::tempdir().unwrap();
    let (scenario, store, clock) = demo_store(dir.path());
    // The scopes the fold over the whole log gives, the rule of SPEC §13.4.
    let mut fold = Scopes::new();
    let expected: Vec<Scope> = scenario
        .sealed_entries()
        .unwrap()
        .iter()
        .map(|entry| fold.push(entry))
        .collect();
    assert!(expected.contains(&Scope::Registry));
    assert!(
        expected.contains(&Scope::Sector),
        "a challenge to the whole sector"
    );
    assert!(expected.iter().any(|s| matches!(s, Scope::Operator(_))));
    let seqs: Vec<u64> = (0..store.size()).collect();
    assert_eq!(
        store.scopes(&seqs).unwrap(),
        expected,
        "written as appended"
    );
    assert!(
        store.scopes(&[store.size()]).is_err(),
        "none beyond the size"
    );

    let open = || {
        hisaab_store::Store::open(
            dir.path(),
            scenario.log_key.clone(),
            common::config(),
            clock.clone(),
        )
        .unwrap()
    };
    // Reopened: read from the index, nothing folded again.
    let size = store.size();
    store.close().unwrap();
    drop(store);
    let store = open();
    assert_eq!(store.open_report().scopes_indexed, 0);
    assert_eq!(store.scopes(&seqs).unwrap(), expected);
    store.close().unwrap();
    drop(store);

    // A store of the earlier layout without the index (written before it existed) gets it
    // once, on the open that moves its entries out of sled.
    common::into_the_earlier_layout(dir.path(), false);
    let store = open();
    assert_eq!(store.open_report().scopes_indexed, size);
    assert_eq!(store.scopes(&seqs).unwrap(), expected);
    store.close().unwrap();
    drop(store);
    let store = open();
    assert_eq!(store.open_report().scopes_indexed, 0, "only once");
}

#[test]
fn verify_names_an_entry_whose_indexed_scope_is_not_the_one_the_log_gives() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _clock) = common::create(dir.path(), common::config());
    common::fill(&store, 1, 5);
    store.close().unwrap();
    drop(store);
    hisaab_store::audit_dir(dir.path(), &common::config()).unwrap();
    {
        // Entry 3 (an operator's registration, public) made to look like sector data: the
        // index then lies about who may read it.
        // The scope is one byte here, `r`. Changed alone, its checksum names it.
        let (_, scope) = common::entry_ranges(dir.path(), 3);
        common::tamper_file(dir.path(), common::ENTRIES_FILE, |bytes| {
            assert_eq!(&bytes[scope.clone()], b"r");
            bytes[scope].copy_from_slice(b"s");
        });
        let error = hisaab_store::audit_dir(dir.path(), &common::config()).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("the store is corrupt: seq 3: the entry files are damaged")
                && error.to_string().contains("checksum"),
            "{error}"
        );
        // Rewritten with its checksum, the fold of the log names it.
        common::rewrite_scope(dir.path(), 3, b"s");
    }
    let error = hisaab_store::audit_dir(dir.path(), &common::config()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the store is corrupt: seq 3: the scopes index is missing or points elsewhere",
        "{error:?}"
    );
}
