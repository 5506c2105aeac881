//! The demo ledger in sealed form (SPEC §12): every statement of the scenario sealed with
//! `hisaab_model::sealed::seal_statement` and signed again, the chain rebuilt, and then
//! replayed three ways: with every opening (the full state), with none (the public state P)
//! and with one operator's (its view). Each partial replay must equal what the read policy
//! serves that reader from the full state (SPEC §12.8, §13.3).

use std::collections::BTreeMap;

use hisaab_log::seal::{FieldOpenings, Seed};
use hisaab_log::{Entry, Envelope, Hash, PublicKey, SealedEntry, SigningKey};
use hisaab_model::sealed::seal_statement;
use hisaab_model::view::{view_state, Reader, Scope, Scopes};
use hisaab_model::{MemoryLedger, Slug};
use hisaab_scenario::{build, ScenarioConfig};
use serde_json::Value;

/// A seed derived from a fixed text and the seq, as the demo derives its own.
fn seed(seq: u64) -> Seed {
    Seed::from_bytes(*Hash::sha256(format!("sealed demo test seed {seq}").as_bytes()).as_bytes())
}

/// Replaces every string of `value` that is an old event hash by the new one.
fn remap(value: &mut Value, hashes: &BTreeMap<String, String>) {
    match value {
        Value::String(text) => {
            if let Some(new) = hashes.get(text.as_str()) {
                *text = new.clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| remap(v, hashes)),
        Value::Object(map) => map.values_mut().for_each(|v| remap(v, hashes)),
        _ => {}
    }
}

struct Sealed {
    entries: Vec<(SealedEntry, Option<FieldOpenings>)>,
    full: MemoryLedger,
}

/// The scenario re-sealed: each statement's body sealed with a fresh seed, references and
/// cited digests rewritten for the new chain, signed again by its signer.
fn sealed_demo() -> Sealed {
    let scenario = build(&ScenarioConfig::default()).expect("the demo builds");
    let mut keys: BTreeMap<PublicKey, SigningKey> = BTreeMap::new();
    for actor in &scenario.actors {
        for key in std::iter::once(&actor.key).chain(&actor.former_keys) {
            keys.insert(PublicKey::from_signing_key(key), key.clone());
        }
    }
    let mut hashes: BTreeMap<String, String> = BTreeMap::new();
    let mut full = MemoryLedger::new();
    let mut entries = Vec::new();
    let mut prev = Hash::ZERO;
    let mut old_prev = Hash::ZERO;
    for (seq, step) in (0u64..).zip(&scenario.steps) {
        let old = SealedEntry::seal(Entry::new(
            seq,
            old_prev,
            step.recorded_at.clone(),
            step.envelope.clone(),
        ))
        .expect("the old entry seals");
        old_prev = old.event_hash();
        let mut statement = step.envelope.statement.clone();
        let mut body = Value::Object(statement.body.clone());
        remap(&mut body, &hashes);
        let Value::Object(mut body) = body else {
            unreachable!()
        };
        if statement.kind == "operator.registered" {
            let blinding = Hash::sha256(format!("demo blinding {seq}").as_bytes());
            body.insert("blinding".into(), Value::String(blinding.to_hex()));
        }
        if statement.kind == "dispute.resolved" {
            let as_of = body["as_of"].as_u64().expect("as_of");
            let digest = full.state_at(as_of, None).expect("cited size").digest();
            body.insert("state_digest".into(), Value::String(digest.to_hex()));
        }
        statement.body = body;
        let (sealed, sealing) = seal_statement(&statement, &seed(seq)).expect("seals");
        let key = keys.get(&statement.signer).expect("the signer's key");
        let envelope = Envelope::sign(sealed, key).expect("signs");
        let entry = SealedEntry::seal(Entry::new(seq, prev, step.recorded_at.clone(), envelope))
            .expect("the entry seals");
        prev = entry.event_hash();
        hashes.insert(old.event_hash().to_hex(), entry.event_hash().to_hex());
        let openings = sealing.map(|(_, openings)| openings);
        full.append_opened(entry.clone(), openings.clone())
            .unwrap_or_else(|v| panic!("the full replay accepts seq {seq}: {v}"));
        entries.push((entry, openings));
    }
    Sealed { entries, full }
}

#[test]
fn the_sealed_demo_replays_in_full_in_public_and_per_operator() {
    let Sealed { entries, full } = sealed_demo();
    let state = full.ledger().state(None);
    assert!(!full.ledger().is_partial());
    assert_eq!(state.format, Some(2));
    // The full replay has the values: some KPI has a value and a verdict.
    assert!(state
        .operators
        .values()
        .flat_map(|o| o.kpis.values())
        .any(|k| k.value.is_some() && k.verdict.is_some()));
    // Every registration has its blinding, so the full-state digest tree is defined.
    let full_digest = full
        .ledger()
        .full_state_digest(None)
        .expect("v2, fully opened");
    assert_ne!(full_digest, state.digest());

    // Nothing of a sealed field is in the sealed entries' bodies.
    for (entry, _) in &entries {
        let kind = &entry.entry().statement.kind;
        for field in hisaab_log::seal::sealed_fields(kind) {
            let value = &entry.entry().statement.body[field.name];
            assert_eq!(
                value.as_object().map(|o| o.keys().collect::<Vec<_>>()),
                Some(vec![&"commitment".to_owned()]),
                "{kind}.{} is sealed",
                field.name
            );
        }
    }

    // The public replay: no openings at all. Every rule it can check passes, and its state
    // is the public view of the full state.
    let mut public = MemoryLedger::new();
    for (entry, _) in &entries {
        public
            .append(entry.clone())
            .unwrap_or_else(|v| panic!("the public replay accepts seq {}: {v}", v.seq));
    }
    assert!(public.ledger().is_partial());
    assert_eq!(public.ledger().full_state_digest(None), None);
    let public_state = public.ledger().state(None);
    let expected = view_state(&state, &Reader::Public);
    assert_eq!(public_state, expected);
    assert_eq!(public_state.digest(), expected.digest());
    // The public state lost the values and verdicts, and the closed outcomes are withheld.
    assert!(public_state
        .operators
        .values()
        .flat_map(|o| o.kpis.values())
        .all(|k| k.value.is_none() && k.verdict.is_none() && k.score.is_none()));
    assert!(public_state
        .operators
        .values()
        .any(|o| o.commitments.withheld.is_some()));

    // One operator's replay: the openings of its own entries (and its registration's
    // blinding) only, as its members may read them. It equals that operator's view.
    let operator = Slug::try_new("indus-mobile").expect("slug");
    let mut scopes = Scopes::new();
    let mut own = MemoryLedger::new();
    for (entry, openings) in &entries {
        let scope = scopes.push(entry);
        let statement = &entry.entry().statement;
        let registers_it = statement.kind == "operator.registered"
            && statement.body.get("operator").and_then(Value::as_str) == Some(operator.as_str());
        let mine = scope == Scope::Operator(operator.clone()) || registers_it;
        own.append_opened(entry.clone(), openings.clone().filter(|_| mine))
            .unwrap_or_else(|v| panic!("the operator's replay accepts seq {}: {v}", v.seq));
    }
    let own_state = own.ledger().state(None);
    let expected = view_state(&state, &Reader::Operator(operator.clone()));
    assert_eq!(own_state, expected);
    assert!(own_state.operators[&operator]
        .kpis
        .values()
        .any(|k| k.value.is_some()));
}

#[test]
fn an_opening_that_does_not_match_is_refused_and_changes_nothing() {
    let Sealed { entries, .. } = sealed_demo();
    let at = entries
        .iter()
        .position(|(e, _)| e.entry().statement.kind == "submission.filed")
        .expect("a submission");
    let mut replay = MemoryLedger::new();
    for (entry, openings) in &entries[..at] {
        replay
            .append_opened(entry.clone(), openings.clone())
            .expect("accepted");
    }
    let (entry, openings) = &entries[at];
    let mut wrong = openings.clone().expect("a submission has openings");
    let value = wrong.get_mut("value").expect("value");
    value.value = Value::String("1".into());
    let before = replay.ledger().clone();
    let violation = replay
        .append_opened(entry.clone(), Some(wrong))
        .expect_err("a wrong opening is refused");
    assert_eq!(violation.rule.code(), "malformed_envelope");
    assert!(violation.detail.contains("value"), "{}", violation.detail);
    assert_eq!(replay.ledger(), &before);
    // An opening for a field the kind does not seal is refused too.
    let mut extra = openings.clone().expect("openings");
    let note = extra["note"].clone();
    extra.insert("period".into(), note);
    assert!(replay.append_opened(entry.clone(), Some(extra)).is_err());
    // The right openings are accepted.
    replay
        .append_opened(entry.clone(), openings.clone())
        .expect("the right openings");
}
