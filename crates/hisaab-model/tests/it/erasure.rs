//! `field.erased` (SPEC §12.9) in the replay: the rule (an erasable sealed field of an entry
//! in sealed form, not erased already), the state's `erased`, and a full replay whose openings
//! lack the erased fields giving the same operators as the one that had them.

use hisaab_log::seal::{FieldOpenings, Seed};
use hisaab_log::{Hash, SealedEntry};
use hisaab_model::{MemoryLedger, Rule};
use hisaab_testkit::{seed, submission, Builder};
use serde_json::{json, Value};

/// One piece of evidence (CR-01 requires it in the standard fixture).
fn evidence() -> Value {
    json!([{"name": "drill-bilal-qureshi.pdf", "sha256": Hash::sha256(b"drill"), "bytes": 48213}])
}

/// Appends a sealed submission of indus; its entry and openings.
fn sealed(b: &mut Builder, value: &str, seed_byte: u8) -> (SealedEntry, FieldOpenings) {
    let mut body = submission("indus", "CR-01", "2026-10", value);
    body["note"] = json!("Ask Bilal Qureshi, 0300-7654321");
    body["evidence"] = evidence();
    let statement = b.statement(seed::CISO_INDUS, "submission.filed", body);
    let (statement, sealing) =
        hisaab_model::sealed::seal_statement(&statement, &Seed::from_bytes([seed_byte; 32]))
            .unwrap();
    let openings = sealing.unwrap().1;
    let entry = b.seal(statement, seed::CISO_INDUS);
    b.ledger
        .append_opened(entry.clone(), Some(openings.clone()))
        .unwrap();
    b.clock_s += b.step_s;
    (entry, openings)
}

fn erase(b: &mut Builder, entry: Hash, fields: &[&str]) -> Result<Hash, hisaab_model::Violation> {
    b.try_append(
        seed::AUTHORITY,
        "field.erased",
        json!({"entry": entry, "fields": fields, "reason": "A person's name and number"}),
    )
}

#[test]
fn an_erasure_names_an_erasable_field_of_a_sealed_entry_once() {
    let mut b = Builder::standard_v2();
    let (entry, _) = sealed(&mut b, "97.5", 1);
    let hash = entry.event_hash();
    let seq = entry.entry().seq;
    // An entry in the clear (a signer that does not seal).
    let mut plain = submission("indus", "CR-01", "2026-09", "90");
    plain["evidence"] = evidence();
    let plain = b.append(seed::CISO_INDUS, "submission.filed", plain);
    for (entry, fields, rule, says) in [
        (hash, vec!["value"], Rule::Form, "`value` is never erased"),
        (
            hash,
            vec!["blinding"],
            Rule::Form,
            "`blinding` is never erased",
        ),
        (
            hash,
            vec!["period"],
            Rule::Form,
            "no sealed field of any kind",
        ),
        (
            hash,
            vec!["rationale"],
            Rule::Reference,
            "`rationale` is no erasable sealed field of submission.filed",
        ),
        (
            Hash::sha256(b"nothing"),
            vec!["note"],
            Rule::Reference,
            "no entry with event hash",
        ),
    ] {
        let error = erase(&mut b, entry, &fields).unwrap_err();
        assert_eq!(error.rule, rule, "{error}");
        assert!(error.detail.contains(says), "{says}: {error}");
    }
    // Only an authority signs it.
    let error = b
        .try_append(
            seed::CHAIR,
            "field.erased",
            json!({"entry": hash, "fields": ["note"], "reason": "A name"}),
        )
        .unwrap_err();
    assert_eq!(error.rule, Rule::Permission, "{error}");

    let before = b.ledger.ledger().state(None);
    assert!(before.erased.is_empty());
    erase(&mut b, hash, &["note"]).unwrap();
    let erased_at = b.ledger.size() - 1;
    let error = erase(&mut b, hash, &["evidence", "note"]).unwrap_err();
    assert!(
        error.detail.contains(&format!(
            "`note` of seq {seq} was already erased at seq {erased_at}"
        )),
        "{error}"
    );
    erase(&mut b, hash, &["evidence"]).unwrap();
    // An entry in the clear is erased too: the ledger keeps no opening of it to delete, and
    // its bytes still hold the value (SPEC §12.9).
    erase(&mut b, plain, &["note"]).unwrap();
    let state = b.ledger.ledger().state(None);
    let erased = serde_json::to_value(&state.erased).unwrap();
    assert_eq!(
        erased,
        json!([{"seq": seq, "entry": hash, "kind": "submission.filed",
            "fields": {"note": erased_at, "evidence": erased_at + 1}},
            {"seq": seq + 1, "entry": plain, "kind": "submission.filed",
            "fields": {"note": erased_at + 2}}])
    );
    // The values the state is computed from are untouched.
    assert_eq!(state.operators, before.operators);

    // A format-1 ledger does not know the kind.
    let mut v1 = Builder::standard();
    let error = erase(&mut v1, hash, &["note"]).unwrap_err();
    assert_eq!(error.rule, Rule::Form, "{error}");
}

#[test]
fn a_full_replay_without_the_erased_openings_is_the_full_state() {
    let mut b = Builder::standard_v2();
    let (entry, openings) = sealed(&mut b, "97.5", 2);
    erase(&mut b, entry.event_hash(), &["note", "evidence"]).unwrap();
    let full = b.ledger.ledger().state(None);

    // The same entries replayed with the openings the ledger keeps after the erasure.
    let mut kept = openings;
    kept.retain(|field, _| field != "note" && field != "evidence");
    let mut replay = MemoryLedger::new();
    for e in b.ledger.entries() {
        let opened = (e.entry().seq == entry.entry().seq).then(|| kept.clone());
        replay.append_opened(e.clone(), opened).unwrap();
    }
    let replayed = replay.ledger().state(None);
    assert!(!replay.ledger().is_partial());
    assert_eq!(replayed, full);
    let value = |state: &hisaab_model::State| {
        serde_json::to_value(state).unwrap()["operators"]["indus"]["kpis"]["CR-01"]["value"].clone()
    };
    assert_eq!(value(&replayed), json!("97.5"));

    // Without the value's opening the operator is shown as the public view shows it.
    let mut public = MemoryLedger::new();
    for e in b.ledger.entries() {
        public.append_opened(e.clone(), None).unwrap();
    }
    assert!(public.ledger().is_partial());
    assert_eq!(value(&public.ledger().state(None)), Value::Null);
}
