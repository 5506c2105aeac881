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
