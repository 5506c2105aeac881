//! Sealing at append (SPEC §12.5, §12.10) on a real sled store: the demo ledger appended as
//! its signers seal it, each entry stored in sealed form and its openings kept encrypted in
//! the same transaction; a sealing that does not open its body refused with nothing changed;
//! the restart's replay opening every entry from the vault to the same full state; without
//! the master key the public replay; no sealed value in the clear in sled's files (entries,
//! snapshots) at rest.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use common::files_under;
use hisaab_log::seal::{sealed_fields, text_leaves, Sealing};
use hisaab_log::{Hash, Timestamp};
use hisaab_model::view::{view_state, Reader};
use hisaab_model::{Body, Rule};
use hisaab_scenario::{build, ScenarioConfig, SealedScenario};
use hisaab_store::{AppendError, ManualClock, MasterKey, Store, StoreConfig, StoreError};
use serde_json::Value;

fn millis(t: &Timestamp) -> i64 {
    i64::try_from(t.unix_nanos().div_euclid(1_000_000)).unwrap()
}

/// Small snapshots, so that several are written (and must be encrypted).
fn config() -> StoreConfig {
    StoreConfig {
        snapshot_every: 64,
        snapshots_kept: 4,
        snapshot_archive_every: 256,
        ..StoreConfig::default()
    }
}

fn sealed_demo() -> SealedScenario {
    let config = ScenarioConfig {
        months: 6,
        ..ScenarioConfig::default()
    };
    build(&config).unwrap().sealed().unwrap()
}

/// Appends the sealed demo, each envelope with its sealing, on the scenario's clock.
fn append_all(dir: &Path, master: &MasterKey, demo: &SealedScenario) -> Store {
    let scenario_log_key = hisaab_scenario::build(&ScenarioConfig {
        months: 6,
        ..ScenarioConfig::default()
    })
    .unwrap()
    .log_key;
    let first = &demo.steps[0].entry.entry();
    let clock = Arc::new(ManualClock::new(millis(&first.recorded_at)));
    let store = Store::create_with_master_key(
        dir,
        first.envelope(),
        scenario_log_key,
        master.clone(),
        config(),
        clock.clone(),
    )
    .unwrap();
    for step in &demo.steps[1..] {
        let entry = step.entry.entry();
        clock.set(millis(&entry.recorded_at));
        let appended = store
            .append_sealed_blocking(entry.envelope(), step.sealing.clone())
            .unwrap();
        assert!(appended.created);
        assert_eq!(appended.receipt.event_hash, step.entry.event_hash());
    }
    store
}

#[test]
fn sealed_statements_are_stored_sealed_with_their_openings_and_replayed_on_restart() {
    let demo = sealed_demo();
    let dir = tempfile::tempdir().unwrap();
    let master = MasterKey::generate();
    let store = append_all(dir.path(), &master, &demo);
    let size = store.size();
    assert_eq!(size, u64::try_from(demo.steps.len()).unwrap());

    // Every entry is stored exactly as its signer sealed it, and its openings are kept but
    // for the fields a `field.erased` erased (SPEC §12.9): the demo erases one note.
    let mut erased: BTreeMap<Hash, Vec<String>> = BTreeMap::new();
    for step in &demo.steps {
        let statement = &step.entry.entry().statement;
        if let Ok(Body::FieldErased(body)) = Body::try_parse(&statement.kind, &statement.body) {
            erased.entry(body.entry).or_default().extend(body.fields);
        }
    }
    assert_eq!(erased.values().flatten().count(), 1, "{erased:?}");
    for (seq, step) in (0u64..).zip(&demo.steps) {
        let stored = store.entry(seq).unwrap().unwrap();
        assert_eq!(stored.leaf_bytes(), step.entry.leaf_bytes(), "seq {seq}");
        let kept = store.openings(seq).unwrap();
        let mut expected = step.openings.clone();
        if let (Some(fields), Some(openings)) =
            (erased.get(&step.entry.event_hash()), expected.as_mut())
        {
            assert!(kept.as_ref().is_some_and(|k| fields
                .iter()
                .all(|f| openings.contains_key(f) && !k.fields.contains_key(f))));
            openings.retain(|field, _| !fields.contains(field));
        }
        assert_eq!(kept.map(|o| o.fields), expected, "seq {seq}");
    }
    // The store's model is the full state, the same as the scenario's full replay.
    let full = demo.ledger.state_at(size, None).unwrap();
    assert_eq!(store.state(None, None).unwrap(), full);

    // A sealing whose value is not the one committed to is refused, nothing changes.
    let victim = demo
        .steps
        .iter()
        .find(|s| s.entry.entry().statement.kind == "submission.filed")
        .unwrap();
    let mut statement = victim.entry.entry().statement.clone();
    statement.id =
        hisaab_log::StatementId::try_new("0d7a5c3e-1f2b-4c6d-8e9f-a0b1c2d3e4f5").unwrap();
    let sealing = victim.sealing.clone().unwrap();
    let signer = hisaab_scenario::build(&ScenarioConfig {
        months: 6,
        ..ScenarioConfig::default()
    })
    .unwrap()
    .actors
    .into_iter()
    .find(|a| hisaab_log::PublicKey::from_signing_key(&a.key) == statement.signer)
    .unwrap()
    .key;
    let envelope = hisaab_log::Envelope::sign(statement, &signer).unwrap();
    let checkpoint = store.latest_checkpoint();
    let mut wrong = sealing.clone();
    wrong
        .values
        .insert("value".into(), Value::String("12.5".into()));
    let refusals: [(Option<Sealing>, &str); 3] = [
        (Some(wrong), "value"),
        (None, "no sealing was sent"),
        (
            Some(Sealing {
                seed: hisaab_log::seal::Seed::from_bytes([9; 32]),
                values: sealing.values.clone(),
            }),
            "value",
        ),
    ];
    for (sealing, says) in refusals {
        match store.append_sealed_blocking(envelope.clone(), sealing) {
            Err(AppendError::Violation(v)) => {
                assert_eq!(v.rule, Rule::Form, "{v}");
                assert!(v.detail.contains(says), "{v}");
            }
            other => panic!("expected a rule 1 refusal, got {other:?}"),
        }
        assert_eq!(store.size(), size);
        assert_eq!(store.latest_checkpoint(), checkpoint);
        assert!(store.openings(size).unwrap().is_none());
    }
    // A sealing sent with the body in the clear is refused: the signer signs the sealed form.
    let mut plain = victim.entry.entry().statement.clone();
    plain.id = hisaab_log::StatementId::try_new("1d7a5c3e-1f2b-4c6d-8e9f-a0b1c2d3e4f5").unwrap();
    for (name, value) in &sealing.values {
        if value.is_null() {
            plain.body.remove(name);
        } else {
            plain.body.insert(name.clone(), value.clone());
        }
    }
    let plain = hisaab_log::Envelope::sign(plain, &signer).unwrap();
    match store.append_sealed_blocking(plain, Some(sealing)) {
        Err(AppendError::Violation(v)) => {
            assert_eq!(v.rule, Rule::Form, "{v}");
            assert!(v.detail.contains("in the clear"), "{v}");
        }
        other => panic!("expected a rule 1 refusal, got {other:?}"),
    }
    assert_eq!(store.size(), size);
    store.close().unwrap();
    drop(store);

    // Nothing of a sealed value lies in the clear in the data directory: not in the entries,
    // not in the snapshots of the full state. (A lossy conversion keeps every valid UTF-8
    // sequence, so a value present in a file's bytes is present in its text.)
    let mut needles = Vec::new();
    for step in &demo.steps {
        for opening in step.openings.iter().flat_map(|o| o.values()) {
            needles.extend(
                text_leaves(&opening.value, 12)
                    .into_iter()
                    .map(str::to_owned),
            );
        }
    }
    // A word of a vocabulary (a verdict) that public entries also show (a rubric) is no leak.
    let public: Vec<u8> = demo
        .steps
        .iter()
        .flat_map(|s| s.entry.leaf_bytes().to_vec())
        .collect();
    let public = String::from_utf8_lossy(&public);
    needles.retain(|needle| !public.contains(needle.as_str()));
    needles.sort();
    needles.dedup();
    assert!(needles.len() > 50, "{}", needles.len());
    for file in files_under(dir.path()) {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for needle in &needles {
            assert!(
                !text.contains(needle.as_str()),
                "{} holds {needle:?}",
                file.display()
            );
        }
    }

    // Restart with the master key: the replay opens every entry from the vault.
    let clock = Arc::new(ManualClock::new(0));
    let log_key = hisaab_scenario::build(&ScenarioConfig {
        months: 6,
        ..ScenarioConfig::default()
    })
    .unwrap()
    .log_key;
    let store = Store::open_with_master_key(
        dir.path(),
        log_key.clone(),
        master.clone(),
        config(),
        clock.clone(),
    )
    .unwrap();
    // It resumed from the newest snapshot (encrypted, and holding the cycle's escalations),
    // not from genesis: every snapshot written checks out.
    let report = store.open_report();
    assert_eq!(report.snapshots_refused, 0, "{report:?}");
    assert_eq!(report.snapshot_size, size / 64 * 64, "{report:?}");
    assert_eq!(store.state(None, None).unwrap().digest(), full.digest());
    assert_eq!(
        store.state(Some(size / 2), None).unwrap(),
        demo.ledger.state_at(size / 2, None).unwrap()
    );
    store.close().unwrap();
    drop(store);

    // Without it, the store replays the sealed entries as the public does (SPEC §12.8).
    let store = Store::open(dir.path(), log_key.clone(), config(), clock.clone()).unwrap();
    assert_eq!(
        store.state(None, None).unwrap(),
        view_state(&full, &Reader::Public)
    );
    assert!(store
        .openings(1)
        .is_err_and(|e| matches!(e, StoreError::NoMasterKey)));
    store.close().unwrap();
    drop(store);

    // Another master key is refused at once.
    match Store::open_with_master_key(dir.path(), log_key, MasterKey::generate(), config(), clock) {
        Err(StoreError::Openings(e)) => assert!(e.to_string().contains("master key"), "{e}"),
        other => panic!("expected a wrong master key, got {other:?}"),
    }
    // Every sealed kind of the demo was exercised.
    let kinds: std::collections::BTreeSet<&str> = demo
        .steps
        .iter()
        .filter(|s| s.sealing.is_some())
        .map(|s| s.entry.entry().statement.kind.as_str())
        .collect();
    assert!(kinds.iter().all(|k| !sealed_fields(k).is_empty()));
    assert!(kinds.len() >= 8, "{kinds:?}");
}

/// A `field.erased` in the same group commit as the entry it names (SPEC §12.9): the writer
/// finds the entry among the batch's own (not yet on disk) and keeps its openings without the
/// erased field, in the same transaction; the state, the vault and a restart agree.
#[test]
fn an_erasure_in_the_same_batch_as_its_entry_deletes_the_opening_before_it_reaches_disk() {
    let scenario = build(&ScenarioConfig {
        months: 6,
        ..ScenarioConfig::default()
    })
    .unwrap();
    let demo = scenario.sealed().unwrap();
    let authority = scenario.actor("pta").unwrap().key.clone();
    // The demo's erasure names an entry T, a report: append up to T, then T and a new erasure
    // of T's evidence in one batch (T's event hash is known in advance: same seq, same
    // predecessor, same recorded_at as in the demo).
    let target = demo
        .steps
        .iter()
        .find_map(|s| {
            let statement = &s.entry.entry().statement;
            match Body::try_parse(&statement.kind, &statement.body) {
                Ok(Body::FieldErased(body)) => Some(body.entry),
                _ => None,
            }
        })
        .unwrap();
    let field = "evidence".to_owned();
    let t = demo
        .steps
        .iter()
        .position(|s| s.entry.event_hash() == target)
        .unwrap();
    let step = &demo.steps[t];
    let entry = step.entry.entry();
    let leaves: Vec<String> = text_leaves(&step.openings.as_ref().unwrap()[&field].value, 12)
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert!(!leaves.is_empty(), "{:?}", step.openings);

    let dir = tempfile::tempdir().unwrap();
    let master = MasterKey::generate();
    let first = demo.steps[0].entry.entry();
    let clock = Arc::new(ManualClock::new(millis(&first.recorded_at)));
    let batching = StoreConfig {
        batch_wait: std::time::Duration::from_millis(400),
        ..config()
    };
    let store = Store::create_with_master_key(
        dir.path(),
        first.envelope(),
        scenario.log_key.clone(),
        master.clone(),
        batching.clone(),
        clock.clone(),
    )
    .unwrap();
    for s in &demo.steps[1..t] {
        clock.set(millis(&s.entry.entry().recorded_at));
        store
            .append_sealed_blocking(s.entry.entry().envelope(), s.sealing.clone())
            .unwrap();
    }
    clock.set(millis(&entry.recorded_at));
    let erasure = hisaab_log::Envelope::sign(
        hisaab_log::Statement {
            v: entry.statement.v,
            ledger: entry.statement.ledger,
            id: hisaab_testkit::fixture::statement_id(9, 1).unwrap(),
            kind: "field.erased".to_owned(),
            signer: hisaab_log::PublicKey::from_signing_key(&authority),
            issued_at: entry.recorded_at.clone(),
            body: serde_json::json!({
                "entry": target, "fields": [field],
                "reason": "The note named a member of the operator's staff",
            })
            .as_object()
            .unwrap()
            .clone(),
        },
        &authority,
    )
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (filed, erased) = runtime.block_on(async {
        let filed = {
            let store = store.clone();
            let (envelope, sealing) = (entry.envelope(), step.sealing.clone());
            tokio::spawn(async move { store.append_sealed(envelope, sealing).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let erased = store.append(erasure).await;
        (filed.await.unwrap().unwrap(), erased.unwrap())
    });
    let t = u64::try_from(t).unwrap();
    assert_eq!(filed.receipt.seq, t);
    assert_eq!(filed.receipt.event_hash, target);
    assert_eq!(erased.receipt.seq, t + 1);
    // One group commit: both receipts carry the same checkpoint.
    assert_eq!(filed.receipt.checkpoint, erased.receipt.checkpoint);

    let kept = store.openings(t).unwrap().unwrap();
    assert!(!kept.fields.contains_key(&field), "{kept:?}");
    assert_eq!(
        kept.fields.len() + 1,
        step.openings.as_ref().unwrap().len(),
        "only the erased field is gone"
    );
    let state = store.state(None, None).unwrap();
    assert_eq!(state.erased.len(), 1);
    assert_eq!(state.erased[0].seq, t);
    assert_eq!(state.erased[0].fields[&field], t + 1);
    store.close().unwrap();
    drop(store);
    // The evidence's text never reached a file.
    for file in files_under(dir.path()) {
        let bytes = std::fs::read(&file).unwrap();
        for leaf in &leaves {
            assert!(
                !bytes.windows(leaf.len()).any(|w| w == leaf.as_bytes()),
                "{} holds the erased evidence",
                file.display()
            );
        }
    }
    // A restart replays to the same state, the field still erased.
    let store = Store::open_with_master_key(
        dir.path(),
        scenario.log_key.clone(),
        master,
        batching,
        Arc::new(ManualClock::new(0)),
    )
    .unwrap();
    assert_eq!(store.state(None, None).unwrap(), state);
    assert!(!store
        .openings(t)
        .unwrap()
        .unwrap()
        .fields
        .contains_key(&field));
}
