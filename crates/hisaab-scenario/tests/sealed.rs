//! The demo ledger in sealed form (SPEC §12, `Scenario::sealed`): every statement of the
//! scenario sealed with `hisaab_model::sealed::seal_statement` and signed again, the chain
//! rebuilt, and then replayed three ways: with every opening (the full state), with none (the
//! public state P) and with one operator's (its view). Each partial replay must equal what the
//! read policy serves that reader from the full state (SPEC §12.8, §13.3).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use hisaab_log::bundle::{BundleHeader, BundleWriter};
use hisaab_log::merkle::Frontier;
use hisaab_log::note::{Checkpoint, VerifierKey};
use hisaab_log::seal::{FieldOpenings, Openings, OpeningsFile};
use hisaab_log::{PublicKey, SealedEntry, SigningKey};
use hisaab_model::view::{view_state, Reader, Scope, Scopes};
use hisaab_model::{MemoryLedger, Slug};
use hisaab_scenario::{build, ScenarioConfig};
use serde_json::Value;

struct Sealed {
    entries: Vec<(SealedEntry, Option<FieldOpenings>)>,
    full: MemoryLedger,
    log_key: SigningKey,
    origin: String,
}

/// The demo, sealed ([`hisaab_scenario::Scenario::sealed`]).
fn sealed_demo() -> Sealed {
    let scenario = build(&ScenarioConfig::default()).expect("the demo builds");
    let sealed = scenario
        .sealed()
        .expect("the demo seals and replays in full");
    Sealed {
        entries: sealed
            .steps
            .into_iter()
            .map(|s| (s.entry, s.openings))
            .collect(),
        full: sealed.ledger,
        log_key: scenario.log_key,
        origin: scenario.origin,
    }
}

#[test]
fn the_sealed_demo_replays_in_full_in_public_and_per_operator() {
    let Sealed { entries, full, .. } = sealed_demo();
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

/// The public bundle of the sealed entries, its checkpoint signed with the log key.
fn bundle(sealed: &Sealed) -> Vec<u8> {
    let mut frontier = Frontier::new();
    for (entry, _) in &sealed.entries {
        frontier.push(entry.event_hash());
    }
    let note = Checkpoint {
        origin: sealed.origin.clone(),
        size: frontier.size(),
        root: frontier.root(),
    }
    .sign(&sealed.log_key)
    .expect("signs");
    let vkey = VerifierKey::new(&sealed.origin, PublicKey::from_signing_key(&sealed.log_key))
        .expect("vkey")
        .to_vkey();
    let header = BundleHeader::for_format(2, &sealed.origin, &vkey, &note);
    let mut writer = BundleWriter::new(Vec::new(), &header).expect("header");
    for (entry, _) in &sealed.entries {
        writer.write_leaf(entry.leaf_bytes()).expect("leaf");
    }
    writer.finish().expect("bundle")
}

fn openings_file(sealed: &Sealed, keep: impl Fn(&SealedEntry) -> bool) -> OpeningsFile {
    let ledger = sealed.entries[0].0.event_hash();
    let size = u64::try_from(sealed.entries.len()).expect("size");
    let entries = sealed
        .entries
        .iter()
        .filter(|(entry, _)| keep(entry))
        .filter_map(|(entry, fields)| {
            Some(Openings {
                seq: entry.entry().seq,
                event_hash: entry.event_hash(),
                kind: entry.entry().statement.kind.clone(),
                fields: fields.clone()?,
            })
        })
        .collect();
    OpeningsFile::new(ledger, size, entries).expect("an openings file")
}

#[test]
fn the_public_bundle_plus_openings_replays_the_full_state_and_its_digest() {
    let sealed = sealed_demo();
    let bytes = bundle(&sealed);
    let cited = hisaab_model::cited_sizes(&bytes[..]).expect("reads");
    let state = sealed.full.ledger().state(None);

    // The public bundle verifies for anyone, to the public state.
    let public = hisaab_model::verify_bundle_cited(&bytes[..], &cited).expect("verifies");
    assert_eq!(public.state, view_state(&state, &Reader::Public));

    // With every opening, written to a file and read back: the full state and its digest.
    let file = openings_file(&sealed, |_| true);
    let mut written = Vec::new();
    file.write(&mut written).expect("writes");
    let read = OpeningsFile::read(&written[..]).expect("reads back");
    let opened = hisaab_model::verify_bundle_opened(&bytes[..], &cited, &read).expect("opens");
    assert!(!opened.partial);
    assert_eq!(opened.bundle.state, state);
    assert_eq!(
        opened.full_digest,
        sealed.full.ledger().full_state_digest(None)
    );
    assert!(opened.full_digest.is_some());

    // One operator's openings: its view, no full digest.
    let operator = Slug::try_new("sindh-link").expect("slug");
    let mut scopes = Scopes::new();
    let mine: std::collections::BTreeSet<u64> = sealed
        .entries
        .iter()
        .filter(|(entry, _)| {
            let statement = &entry.entry().statement;
            scopes.push(entry) == Scope::Operator(operator.clone())
                || (statement.kind == "operator.registered"
                    && statement.body.get("operator").and_then(Value::as_str)
                        == Some(operator.as_str()))
        })
        .map(|(entry, _)| entry.entry().seq)
        .collect();
    let own = openings_file(&sealed, |e| mine.contains(&e.entry().seq));
    let opened = hisaab_model::verify_bundle_opened(&bytes[..], &cited, &own).expect("opens");
    assert!(opened.partial);
    assert_eq!(opened.full_digest, None);
    assert_eq!(
        opened.bundle.state,
        view_state(&state, &Reader::Operator(operator))
    );

    // An opening that does not match its commitment fails at its seq.
    let mut bad = openings_file(&sealed, |_| true);
    let target = bad
        .entries
        .iter_mut()
        .find(|o| o.kind == "evaluation.recorded")
        .expect("an evaluation");
    let seq = target.seq;
    target.fields.get_mut("score").expect("score").value = serde_json::json!(1);
    let error = hisaab_model::verify_bundle_opened(&bytes[..], &cited, &bad).unwrap_err();
    assert_eq!(error.seq(), Some(seq), "{error}");
    // A file for another size does not go with the bundle.
    let mut other = openings_file(&sealed, |_| true);
    other.header.size += 1;
    assert!(matches!(
        hisaab_model::verify_bundle_opened(&bytes[..], &cited, &other),
        Err(hisaab_model::VerifyError::Openings(_))
    ));

    // The same files read a line at a time as the entries are applied: the same outcomes.
    let streamed = |file: &OpeningsFile| {
        let mut written = Vec::new();
        file.write(&mut written).expect("writes");
        let erased = hisaab_model::Erasures::new();
        hisaab_model::verify_bundle_opened_streaming(&bytes[..], &cited, &written[..], &erased)
    };
    for file in [&read, &own] {
        let (opened, _) = streamed(file).expect("opens");
        assert_eq!(
            opened,
            hisaab_model::verify_bundle_opened(&bytes[..], &cited, file).expect("opens")
        );
    }
    let mut written = Vec::new();
    read.write(&mut written).expect("writes");
    let sizes = [Some(5), None];
    assert_eq!(
        hisaab_model::replay_bundle_opened_streaming(
            &bytes[..],
            &cited,
            &sizes,
            None,
            &written[..]
        )
        .expect("replays"),
        hisaab_model::replay_bundle_opened(&bytes[..], &cited, &sizes, None, &read)
            .expect("replays")
    );
    assert_eq!(streamed(&bad).unwrap_err().seq(), Some(seq));
    assert!(matches!(
        streamed(&other),
        Err(hisaab_model::VerifyError::Openings(_))
    ));
    // A line that is not an entry's openings is named, whichever entry it would open.
    let mut damaged = Vec::new();
    read.write(&mut damaged).expect("writes");
    let text = String::from_utf8(damaged).expect("utf-8");
    let mut lines: Vec<&str> = text.lines().collect();
    lines[3] = "{\"seq\":3}";
    let damaged = lines.join("\n") + "\n";
    let error = hisaab_model::verify_bundle_opened_streaming(
        &bytes[..],
        &cited,
        damaged.as_bytes(),
        &hisaab_model::Erasures::new(),
    )
    .unwrap_err();
    assert!(
        matches!(&error, hisaab_model::VerifyError::OpeningsFile(e) if e.to_string().contains("line 4")),
        "{error}"
    );
    // A damaged line past the sizes replayed is read and named too.
    let last = lines.len() - 1;
    let mut lines: Vec<&str> = text.lines().collect();
    lines[last] = "not json";
    let damaged = lines.join("\n") + "\n";
    let error = hisaab_model::replay_bundle_opened_streaming(
        &bytes[..],
        &cited,
        &[Some(5)],
        None,
        damaged.as_bytes(),
    )
    .unwrap_err();
    assert!(
        matches!(&error, hisaab_model::VerifyError::OpeningsFile(e) if e.to_string().contains(&format!("line {}", last + 1))),
        "{error}"
    );
}

#[test]
fn obligations_are_the_same_from_the_public_replay() {
    // Obligations are workflow facts served to every reader alike (SPEC §13.5a): the public
    // replay of the sealed entries owes the same, on the last entry's date.
    let sealed = sealed_demo();
    let mut public = MemoryLedger::new();
    for (entry, _) in &sealed.entries {
        public.append(entry.clone()).expect("the public replay");
    }
    let filter = hisaab_model::ObligationFilter::default();
    let full = sealed.full.ledger();
    assert_eq!(
        public
            .ledger()
            .obligations(None, &filter)
            .expect("obligations"),
        full.obligations(None, &filter).expect("obligations")
    );
}

/// The demo's `report.published` (SPEC §12.12): accepted as written; a wrong aggregate or
/// digest is refused under rule 5, naming what differs, against the full state before it.
#[test]
fn a_report_with_a_wrong_aggregate_or_digest_is_refused() {
    use hisaab_log::{Entry, Envelope, Hash, StatementId};
    use hisaab_model::{Body, Rule};

    let scenario = build(&ScenarioConfig::default()).unwrap();
    let sealed = scenario.sealed().unwrap();
    let full = &sealed.ledger;
    let (seq, step) = (0u64..)
        .zip(&sealed.steps)
        .find(|(_, s)| s.entry.entry().statement.kind == "report.published")
        .expect("the demo publishes a report");
    let original = step.entry.entry();
    let Ok(Body::ReportPublished(report)) =
        Body::try_parse(&original.statement.kind, &original.statement.body)
    else {
        panic!("a report body");
    };
    assert_eq!(report.as_of, seq);
    assert!(
        report.pillars.iter().any(|p| p.mean.is_some()),
        "{report:?}"
    );
    let before = full.ledger_at(seq).unwrap();
    let key = &scenario.actor("pta").unwrap().key;
    let forged = |edit: &dyn Fn(&mut Value)| {
        let mut statement = original.statement.clone();
        let mut body = Value::Object(statement.body.clone());
        edit(&mut body);
        let Value::Object(body) = body else {
            unreachable!()
        };
        statement.body = body;
        statement.id = StatementId::try_new("7c3f9a2e-1b4d-4e6f-8a0b-2c4d6e8f0a1b").unwrap();
        let envelope = Envelope::sign(statement, key).unwrap();
        let entry = Entry::new(
            seq,
            before.last_event_hash(),
            original.recorded_at.clone(),
            envelope,
        );
        let entry = SealedEntry::seal(entry).unwrap();
        before.clone().apply_with(&entry, None, full)
    };
    // As written (under a fresh id), it is accepted.
    forged(&|_| {}).unwrap();
    let published = report
        .pillars
        .iter()
        .position(|p| p.mean.is_some())
        .unwrap();
    let pillar = report.pillars[published].pillar;
    let mean = report.pillars[published].mean.unwrap();
    let wrong_mean = if mean == 100 { 99 } else { mean + 1 };
    let error = forged(&|body| body["pillars"][published]["mean"] = wrong_mean.into()).unwrap_err();
    assert_eq!(error.rule, Rule::Reference, "{error}");
    assert!(
        error.detail.contains(&format!(
            "pillar {pillar}: the report says {} operators and mean {wrong_mean}",
            report.pillars[published].operators
        )),
        "{error}"
    );
    let error = forged(&|body| {
        body["state_digest"] = Value::String(Hash::sha256(b"another state").to_hex());
    })
    .unwrap_err();
    assert_eq!(error.rule, Rule::Reference, "{error}");
    assert!(
        error.detail.contains("is not the full-state digest"),
        "{error}"
    );
    // A mean published for a pillar below three operators is refused by its form.
    if let Some(withheld) = report.pillars.iter().position(|p| p.mean.is_none()) {
        let error = forged(&|body| body["pillars"][withheld]["mean"] = 50.into()).unwrap_err();
        assert_eq!(error.rule, Rule::Form, "{error}");
        assert!(error.detail.contains("so its mean is withheld"), "{error}");
    }
    // A report of an older state is refused: as_of is its own seq.
    let error = forged(&|body| body["as_of"] = (seq - 1).into()).unwrap_err();
    assert!(error.detail.contains("is not this report's seq"), "{error}");
}
