//! The state (SPEC §5) of Hisaab's golden ledger, `tests/vectors/golden.json`: its entries are
//! replayed with full verification and the state at the full size (default `at`) must equal the
//! file's `state` key byte for byte, digest included. `tests/vectors/rederive.py` projects the
//! same state independently in Python.
//!
//! Changing the result is a format change of the state digest. To rewrite the key deliberately
//! (after the hisaab-log golden test): `HISAAB_BLESS=1 cargo test -p hisaab-model --test it golden`.

use std::path::PathBuf;

use hisaab_log::SealedEntry;
use hisaab_model::MemoryLedger;
use serde_json::Value;

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/golden.json")
}

#[test]
fn golden_ledger_state_matches_the_committed_file() {
    let path = golden_path();
    let mut golden: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut memory = MemoryLedger::new();
    for item in golden["entries"].as_array().unwrap() {
        let leaf = item["leaf_bytes"].as_str().unwrap().as_bytes();
        memory
            .append(SealedEntry::try_from_leaf_bytes(leaf).unwrap())
            .unwrap();
    }
    let state = memory.state_at(memory.size(), None).unwrap();
    let built: Value = serde_json::from_slice(&state.to_canonical_json()).unwrap();
    if std::env::var_os("HISAAB_BLESS").is_some() {
        golden["state"] = built.clone();
        let text = serde_json::to_string_pretty(&golden).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
    }
    assert_eq!(
        golden["state"], built,
        "the golden ledger's state differs from the committed one: a format change of the \
         state digest"
    );
    // The mixed set the file exists to pin down: one assignment with a baseline, one without.
    let kpis = |operator: &str| built["operators"][operator]["kpis"]["CR-01"].clone();
    assert_eq!(kpis("indus-mobile")["baseline"], "80");
    assert_eq!(
        kpis("karakoram-telecom").get("baseline"),
        Some(&Value::Null)
    );
}
