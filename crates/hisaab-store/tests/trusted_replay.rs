//! The trusted replay of a store's own entries (`Ledger::apply_trusted_leaf`: the stored bytes
//! read in one typed pass, no canonical re-check, no key decompression) gives the state that
//! parsing the entries and `Ledger::apply_trusted_with` give: equal ledgers and equal
//! snapshot bytes at every size, on the demo (format 1, format 2 in the clear, and sealed,
//! with and without its openings), the store benches' operator registrations and the floor
//! bench's resubmissions. Entries it cannot read that way are refused with the ledger
//! unchanged, and the store's `ledger(as_of)`, which replays this way, is the parsed replay's
//! state at every size, with and without a master key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use hisaab_log::seal::FieldOpenings;
use hisaab_log::{SealedEntry, Timestamp};
use hisaab_model::Ledger;
use hisaab_scenario::{build, ScenarioConfig};
use hisaab_store::{ManualClock, MasterKey, Store};
use hisaab_testkit::{fixture, seed, submission, Builder};
use serde_json::json;

type Leaf = (Vec<u8>, Option<FieldOpenings>);

/// Replays `entries` from genesis both ways, comparing after each entry.
fn both_ways(what: &str, entries: &[Leaf]) {
    let mut parsed = Ledger::new();
    let mut trusted = Ledger::new();
    for (seq, (bytes, openings)) in entries.iter().enumerate() {
        let sealed = SealedEntry::try_from_leaf_bytes(bytes).unwrap();
        parsed
            .apply_trusted_with(&sealed, openings.as_ref())
            .unwrap_or_else(|v| panic!("{what}: seq {seq}: {v}"));
        assert!(
            trusted.apply_trusted_leaf(bytes, openings.as_ref()),
            "{what}: seq {seq} was not read in one pass"
        );
        assert_eq!(trusted, parsed, "{what}: seq {seq}");
        assert_eq!(
            trusted.to_snapshot(),
            parsed.to_snapshot(),
            "{what}: seq {seq}"
        );
    }
    assert_eq!(parsed.size(), entries.len() as u64);
}

fn plain(entries: &[SealedEntry]) -> Vec<Leaf> {
    entries
        .iter()
        .map(|e| (e.leaf_bytes().to_vec(), None))
        .collect()
}

fn demo(format: u64) -> hisaab_scenario::Scenario {
    build(&ScenarioConfig {
        months: 6,
        format,
        ..ScenarioConfig::default()
    })
    .unwrap()
}

#[test]
fn the_demo_replays_to_the_same_state_both_ways() {
    for format in [1, 2] {
        let entries = demo(format).sealed_entries().unwrap();
        both_ways(&format!("demo, format {format}"), &plain(&entries));
    }
    let sealed = demo(2).sealed().unwrap();
    let opened: Vec<Leaf> = sealed
        .steps
        .iter()
        .map(|s| (s.entry.leaf_bytes().to_vec(), s.openings.clone()))
        .collect();
    assert!(opened.iter().any(|(_, o)| o.is_some()));
    both_ways("sealed demo with its openings", &opened);
    let public: Vec<Leaf> = opened.into_iter().map(|(b, _)| (b, None)).collect();
    both_ways("sealed demo without openings", &public);
}

#[test]
fn the_golden_format_2_ledger_replays_to_the_same_state_both_ways() {
    // Every kind of format 2, in the clear.
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/golden-v2.json");
    let golden: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let entries: Vec<Leaf> = golden["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|leaf| (leaf.as_str().unwrap().as_bytes().to_vec(), None))
        .collect();
    assert!(entries.len() > 30);
    both_ways("golden format 2", &entries);
}

#[test]
fn the_bench_workloads_replay_to_the_same_state_both_ways() {
    // The store benches': operator registrations signed by the authority.
    let mut b = Builder::new();
    let genesis = b.seal_envelope(fixture::genesis().unwrap());
    b.push(genesis).unwrap();
    let ledger = b.ledger.ledger().ledger_id().unwrap();
    for n in 1..400 {
        let entry = b.seal_envelope(fixture::register_operator(ledger, 1, n).unwrap());
        b.push(entry).unwrap();
    }
    both_ways("operator registrations", &plain(b.ledger.entries()));

    // The floor bench's: one KPI's submission filed again and again, with a dispute.
    let mut b = Builder::standard();
    let mut latest = b.append(
        seed::CISO_INDUS,
        "submission.filed",
        submission("indus", "CR-01", "2026-10", "1.5"),
    );
    let evaluated = b.append(
        seed::EVALUATOR,
        "evaluation.recorded",
        hisaab_testkit::evaluation(latest, "met", 90),
    );
    b.append(
        seed::CISO_INDUS,
        "dispute.opened",
        json!({"dispute": "d1", "evaluation": evaluated, "grounds": "g \"quoted\"\n"}),
    );
    for i in 0..300 {
        let mut body = submission("indus", "CR-01", "2026-10", &format!("{}.5", i % 100));
        body["supersedes"] = json!(latest);
        body["ext"] = json!({"batch": i});
        latest = b.append(seed::CISO_INDUS, "submission.filed", body);
    }
    both_ways("resubmissions", &plain(b.ledger.entries()));
}

#[test]
fn bytes_that_do_not_read_in_one_pass_are_refused_with_nothing_changed() {
    let entries = demo(1).sealed_entries().unwrap();
    let mut ledger = Ledger::new();
    // Not at its position: the chain.
    assert!(!ledger.apply_trusted_leaf(entries[1].leaf_bytes(), None));
    assert_eq!(ledger, Ledger::new());
    assert!(ledger.apply_trusted_leaf(entries[0].leaf_bytes(), None));
    let before = ledger.clone();
    let next = entries[1].leaf_bytes();
    let text = std::str::from_utf8(next).unwrap();
    // A body field renamed, an unknown statement field, a sealed field `null`, openings for
    // a plain body, truncated bytes: each refused both ways, the ledger as it was.
    let renamed = text.replacen("\"name\":", "\"nick\":", 1);
    let unknown = text.replacen("\"statement\":{", "\"statement\":{\"extra\":1,", 1);
    let mut openings = FieldOpenings::new();
    let seed = hisaab_log::seal::Seed::try_from_hex(&"07".repeat(32)).unwrap();
    openings.insert(
        "name".into(),
        hisaab_log::seal::FieldOpening {
            salt: seed.salt("operator.registered", "name"),
            value: json!("x"),
        },
    );
    for (what, bytes, given) in [
        ("renamed", renamed.as_bytes(), None),
        ("unknown", unknown.as_bytes(), None),
        ("truncated", &next[..next.len() - 1], None),
        ("openings for a plain body", next, Some(&openings)),
    ] {
        assert!(!ledger.apply_trusted_leaf(bytes, given), "{what}");
        assert_eq!(ledger, before, "{what}");
        let refused = SealedEntry::try_from_leaf_bytes(bytes)
            .map_err(|e| e.to_string())
            .and_then(|e| {
                ledger
                    .clone()
                    .apply_trusted_with(&e, given)
                    .map_err(|v| v.to_string())
            });
        assert!(refused.is_err(), "{what}");
    }
    // A submission whose required sealed field `value` is `null` or absent.
    let entries = demo(2).sealed_entries().unwrap();
    let at = entries
        .iter()
        .position(|e| e.entry().statement.kind == "submission.filed")
        .unwrap();
    let mut ledger = Ledger::new();
    for e in &entries[..at] {
        assert!(ledger.apply_trusted_leaf(e.leaf_bytes(), None));
    }
    let before = ledger.clone();
    let text = std::str::from_utf8(entries[at].leaf_bytes()).unwrap();
    let value = &entries[at].entry().statement.body["value"];
    let field = format!("\"value\":{value}");
    assert!(text.contains(&field));
    for altered in [
        text.replacen(&field, "\"value\":null", 1),
        text.replacen(&format!(",{field}"), "", 1),
    ] {
        assert!(
            !ledger.apply_trusted_leaf(altered.as_bytes(), None),
            "{altered}"
        );
        assert_eq!(ledger, before);
    }
}

fn millis(t: &Timestamp) -> i64 {
    i64::try_from(t.unix_nanos().div_euclid(1_000_000)).unwrap()
}

/// The store's `ledger(as_of)` at every size is the parsed replay's state.
fn store_matches(store: &Store, openings: &[Option<FieldOpenings>]) {
    let size = store.size();
    let mut parsed = Ledger::new();
    for seq in 0..size {
        let entry = store.entry(seq).unwrap().unwrap();
        let given = openings
            .get(usize::try_from(seq).unwrap())
            .cloned()
            .flatten();
        parsed.apply_trusted_with(&entry, given.as_ref()).unwrap();
        let replayed = store.ledger(Some(seq + 1)).unwrap();
        assert_eq!(replayed, parsed, "as of {}", seq + 1);
        assert_eq!(
            replayed.to_snapshot(),
            parsed.to_snapshot(),
            "as of {}",
            seq + 1
        );
    }
}

#[test]
fn a_store_replays_its_entries_to_the_parsed_state() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _clock) = common::create(dir.path(), common::config());
    common::fill(&store, 1, 150);
    store_matches(&store, &[]);

    // The sealed demo in a store with the master key: replayed with the kept openings.
    let demo = demo(2);
    let sealed = demo.sealed().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let first = sealed.steps[0].entry.entry();
    let clock = Arc::new(ManualClock::new(millis(&first.recorded_at)));
    let store = Store::create_with_master_key(
        dir.path(),
        first.envelope(),
        demo.log_key.clone(),
        MasterKey::generate(),
        common::config(),
        clock.clone(),
    )
    .unwrap();
    for step in &sealed.steps[1..] {
        let entry = step.entry.entry();
        clock.set(millis(&entry.recorded_at));
        store
            .append_sealed_blocking(entry.envelope(), step.sealing.clone())
            .unwrap();
    }
    let kept: Vec<Option<FieldOpenings>> = (0..store.size())
        .map(|seq| store.openings(seq).unwrap().map(|o| o.fields))
        .collect();
    assert!(kept.iter().any(Option::is_some));
    store_matches(&store, &kept);
}
