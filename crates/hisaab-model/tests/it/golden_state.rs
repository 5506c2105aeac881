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

fn golden_v2_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/golden-v2.json")
}

/// The worked ledger of format 2 (SPEC §11) in `tests/vectors/golden-v2.json`: the testkit's
/// standard ledger of format 2, with one KPI submitted and evaluated in October and submitted
/// again in November (so its row shows the latest submission beside an older evaluated one),
/// the cycle and the register, and an erasure of the November report's evidence.
fn golden_v2_entries() -> Vec<SealedEntry> {
    use hisaab_testkit::{evaluation, seed, submission, Builder};
    let mut b = Builder::standard_v2();
    let evidenced = |period: &str, value: &str| {
        let mut body = submission("indus", "CR-01", period, value);
        body["evidence"] = serde_json::json!([{"name": format!("CR-01-{period}.pdf"),
            "sha256": hisaab_log::Hash::sha256(period.as_bytes()), "bytes": 1024}]);
        body
    };
    let october = b.append(
        seed::CISO_INDUS,
        "submission.filed",
        evidenced("2026-10", "91"),
    );
    b.append(
        seed::EVALUATOR,
        "evaluation.recorded",
        evaluation(october, "partially_met", 60),
    );
    b.advance_days(31);
    let november = b.append(
        seed::CISO_INDUS,
        "submission.filed",
        evidenced("2026-11", "97"),
    );
    // The cycle (SPEC §11.7–§11.9): a meeting scheduled and held, its action items, a
    // commitment extended, a directive missed and escalated.
    use serde_json::json;
    b.append(
        seed::CHAIR,
        "meeting.scheduled",
        json!({"meeting": "tcstf-2026-12", "date": "2026-12-02",
            "agenda": [{"title": "Cyber resilience", "operator": "indus", "kpi": "CR-01"}]}),
    );
    b.append(
        seed::CHAIR,
        "meeting.recorded",
        json!({"meeting": "tcstf-2026-12", "held_on": "2026-12-02",
            "attendees": ["chair", "ciso-indus", "eval"],
            "minutes_sha256": hisaab_log::Hash::sha256(b"minutes"), "decisions": ["Adopt"]}),
    );
    b.append(
        seed::CHAIR,
        "action.assigned",
        json!({"action": "a-1", "meeting": "tcstf-2026-12", "owner": {"member": "eval"},
            "due": "2026-12-20", "text": "Review the evidence of CR-01"}),
    );
    b.append(
        seed::CHAIR,
        "action.assigned",
        json!({"action": "a-2", "meeting": "tcstf-2026-12", "owner": {"operator": "karakoram"},
            "due": "2026-12-05", "text": "Send the incident report"}),
    );
    b.append(
        seed::CISO_INDUS,
        "commitment.made",
        json!({"commitment": "c-1", "operator": "indus", "action": "Patch the routers",
            "due": "2026-12-10"}),
    );
    b.append(
        seed::CHAIR,
        "commitment.extended",
        json!({"commitment": "c-1", "due": "2027-01-10", "reason": "The vendor is late"}),
    );
    b.append(
        seed::AUTHORITY,
        "directive.issued",
        json!({"directive": "dir-1", "operator": "karakoram", "due": "2026-12-04",
            "text": "Rotate the signing keys"}),
    );
    b.advance_days(5);
    b.append(
        seed::AUTHORITY,
        "escalation.recorded",
        json!({"escalation": "esc-1", "item": {"directive": "dir-1"},
            "reason": "Not done by its date"}),
    );
    b.append(
        seed::CHAIR,
        "action.closed",
        json!({"action": "a-2", "outcome": "missed", "note": ""}),
    );
    // The register and the lifecycles (SPEC §11.12): a stakeholder named by an action, a
    // challenge with an owner, a severity, a due date and a measure, a delegation, an
    // assignment withdrawn and an operator leaving.
    b.append(
        seed::AUTHORITY,
        "stakeholder.registered",
        json!({"stakeholder": "pkcert", "name": "National CERT", "type": "cert"}),
    );
    b.append(
        seed::CHAIR,
        "action.assigned",
        json!({"action": "a-3", "meeting": "tcstf-2026-12", "owner": {"member": "eval"},
            "due": "2026-12-31", "text": "Share the indicators", "stakeholders": ["pkcert"]}),
    );
    b.append(
        seed::CISO_INDUS,
        "challenge.raised",
        json!({"challenge": "ch-1", "pillar": "capacity", "kpi": "CR-01",
            "owner": {"member": "chair"}, "due": "2026-12-10", "severity": "high",
            "description": "Too few trained analysts"}),
    );
    b.append(
        seed::CHAIR,
        "challenge.measure_recorded",
        json!({"challenge": "ch-1", "by": {"member": "chair"}, "measure": "Training booked"}),
    );
    b.append(
        seed::CISO_INDUS,
        "delegation.granted",
        json!({"operator": "indus", "deputy": "eval-indus", "expires": "2026-12-31"}),
    );
    b.advance_days(5);
    b.append(
        seed::AUTHORITY,
        "assignment.withdrawn",
        json!({"operator": "karakoram", "kpi": "LG-01", "reason": "Out of its licence"}),
    );
    b.append(
        seed::AUTHORITY,
        "operator.left",
        json!({"operator": "karakoram", "reason": "Licence surrendered"}),
    );
    // An erasure (SPEC §12.9): the November report's evidence, listed in the state's
    // `erased` by the report's seq and event hash.
    b.append(
        seed::AUTHORITY,
        "field.erased",
        json!({"entry": november, "fields": ["evidence"],
            "reason": "The file name named a member of staff"}),
    );
    b.ledger.entries().to_vec()
}

#[test]
fn golden_v2_ledger_state_matches_the_committed_file() {
    let path = golden_v2_path();
    let built_entries = golden_v2_entries();
    let mut memory = MemoryLedger::new();
    for entry in &built_entries {
        memory.append(entry.clone()).unwrap();
    }
    let state = memory.state_at(memory.size(), None).unwrap();
    let built: Value = serde_json::from_slice(&state.to_canonical_json()).unwrap();
    let full_digest = memory
        .ledger()
        .full_state_digest(None)
        .expect("every registration is blinded");
    let leaves: Vec<Value> = built_entries
        .iter()
        .map(|e| Value::String(String::from_utf8(e.leaf_bytes().to_vec()).unwrap()))
        .collect();
    if std::env::var_os("HISAAB_BLESS").is_some() {
        let file = serde_json::json!({
            "description": "A worked ledger of format 2 (SPEC §11): its entries' leaf bytes and \
                its state at the full size with the default `at`, digest included, and the \
                full-state digest (SPEC §12.8) a dispute resolution at that size names. \
                Generated by crates/hisaab-model/tests/it/golden_state.rs (HISAAB_BLESS=1).",
            "entries": leaves,
            "state": built,
            "full_state_digest": full_digest,
        });
        std::fs::write(&path, serde_json::to_string_pretty(&file).unwrap() + "\n").unwrap();
    }
    let golden: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        golden["entries"],
        Value::Array(leaves),
        "the worked v2 ledger's entries changed"
    );
    // The committed entries, replayed with full verification, give the committed state.
    let mut replayed = MemoryLedger::new();
    for leaf in golden["entries"].as_array().unwrap() {
        let leaf = leaf.as_str().unwrap().as_bytes();
        replayed
            .append(SealedEntry::try_from_leaf_bytes(leaf).unwrap())
            .unwrap();
    }
    let state = replayed.state_at(replayed.size(), None).unwrap();
    assert_eq!(
        golden["full_state_digest"],
        serde_json::json!(replayed.ledger().full_state_digest(None)),
        "the v2 golden ledger's full-state digest (SPEC §12.8) differs from the committed one"
    );
    let replayed: Value = serde_json::from_slice(&state.to_canonical_json()).unwrap();
    assert_eq!(
        golden["state"], replayed,
        "the v2 golden ledger's state differs from the committed one: a format change of the \
         v2 state digest"
    );
    assert_eq!(golden["state"]["format"], 2);
    assert_eq!(
        golden["state"]["operators"]["indus"]["kpis"]["CR-01"]["evaluated"]["period"],
        "2026-10"
    );
    let cycle = &golden["state"]["cycle"];
    // One of the two operators is represented: the default quorum of 50 % is met.
    assert_eq!(cycle["meetings"]["tcstf-2026-12"]["quorate"], true);
    assert_eq!(cycle["meetings"]["tcstf-2026-12"]["represented"], 1);
    assert_eq!(cycle["actions"]["a-2"]["status"], "missed");
    assert_eq!(cycle["directives"]["dir-1"]["escalation"], "esc-1");
    assert_eq!(cycle["extended"]["c-1"]["original_due"], "2026-12-10");
    assert_eq!(cycle["extended"]["c-1"]["due"], "2027-01-10");
    // SPEC §11.12: the directive Karakoram still owed when it left is closed as left.
    assert_eq!(cycle["directives"]["dir-1"]["status"], "left");
    assert_eq!(cycle["left"]["karakoram"]["on"], "2026-12-12");
    assert_eq!(cycle["withdrawn"][0]["kpi"], "LG-01");
    assert_eq!(cycle["challenges"]["ch-1"]["status"], "overdue");
    assert_eq!(
        cycle["challenges"]["ch-1"]["measures"][0]["by"]["member"],
        "chair"
    );
    assert_eq!(cycle["delegations"]["eval-indus"]["status"], "in_force");
    assert_eq!(cycle["actions"]["a-3"]["stakeholders"][0], "pkcert");
    assert_eq!(cycle["stakeholders"]["pkcert"]["type"], "cert");
}
