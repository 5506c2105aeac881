//! Golden vectors of format v2's sealed fields (SPEC §12): `tests/vectors/sealed.json` at the
//! workspace root, re-derived independently by `tests/vectors/rederive_sealed.py`.
//!
//! From fixed seeds (written in the file) this seals five bodies (two `operator.registered`
//! with their blindings, two `submission.filed` holding the same value, one with a decoy
//! `ext` and one with an `ext`, and an `evaluation.recorded`), and writes every salt,
//! commitment input and commitment, each sealed body and its canonical bytes, the sealing a
//! client sends, the openings the ledger keeps, a disclosure of one field, and a full-state
//! digest tree over a public part and the two operators' sub-states (blinded with the
//! blindings sealed above) with every leaf and proof. Entries' bytes are §11's: here each
//! sealed statement is given a seq and an event hash as inputs (the event hash of seq N is
//! SHA-256 of the ASCII text `golden sealed entry N`).
//!
//! The test fails when any byte differs from the committed file; it also reads the file
//! back through the verification functions. To rewrite the file deliberately (a format
//! change): `HISAAB_BLESS=1 cargo test -p hisaab-log --test sealed`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use hisaab_log::seal::{
    self, check_sealed_form, check_sealing, open_body, seal_body, sealed_fields, Blinding, Choice,
    Disclosure, Openings, Sealing, Seed, StateTree, SubState, COMMITMENT_DOMAIN, SALT_DOMAIN,
};
use hisaab_log::{jcs, Entry, Envelope, Hash, PublicKey, SealedEntry, SigningKey, Statement};
use hisaab_log::{StatementId, Timestamp};
use serde_json::{json, Map, Value};

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/sealed.json")
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("bodies are objects"),
    }
}

fn event_hash(seq: u64) -> Hash {
    Hash::sha256(format!("golden sealed entry {seq}").as_bytes())
}

const LEDGER: &str = "97a5a0a610f88723975b9ac828b77409655f8d968205cf328eb72f3e64f33cb3";
const BLINDING_INDUS: &str = "5b1c0e2a9d4f8e7b3a6c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a";
const BLINDING_KARAKORAM: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

/// (seq, kind, seed byte, plain body), in seq order.
fn statements() -> Vec<(u64, &'static str, u8, Map<String, Value>)> {
    vec![
        (
            1,
            "operator.registered",
            0x51,
            object(json!({"operator": "indus-mobile", "name": "Indus Mobile",
                "blinding": BLINDING_INDUS})),
        ),
        (
            2,
            "operator.registered",
            0x52,
            object(
                json!({"operator": "karakoram-telecom", "name": "Karakoram Telecom",
                "blinding": BLINDING_KARAKORAM}),
            ),
        ),
        (
            7,
            "submission.filed",
            0x57,
            object(json!({
                "operator": "indus-mobile", "kpi": "CR-01", "period": "2026-10", "value": "97.5",
                "evidence": [{"name": "patch-report-2026-10.pdf",
                    "sha256": Hash::sha256(b"Indus Mobile patch compliance report, October 2026\n"),
                    "bytes": 51}],
                "note": "Two emergency patches deferred to the November window \u{2014} see annex"
            })),
        ),
        (
            8,
            "submission.filed",
            0x58,
            object(json!({
                "operator": "karakoram-telecom", "kpi": "CR-01", "period": "2026-10",
                "value": "97.5", "evidence": [], "note": "",
                "ext": {"system": "grc-export", "ticket": "KT-4471"}
            })),
        ),
        (
            9,
            "evaluation.recorded",
            0x59,
            object(json!({
                "submission": event_hash(7), "verdict": "met", "score": 80,
                "rationale": "Target met; the deferral is within policy."
            })),
        ),
    ]
}

fn fields_json(kind: &str) -> Value {
    Value::Array(
        sealed_fields(kind)
            .iter()
            .map(|f| json!({"name": f.name, "optional": f.optional}))
            .collect(),
    )
}

fn build() -> Value {
    let mut out_statements = Vec::new();
    let mut kept = Vec::new();
    for (seq, kind, seed_byte, plain) in statements() {
        let seed = Seed::from_bytes([seed_byte; 32]);
        let fields = sealed_fields(kind);
        let sealed = seal_body(kind, fields, &plain, &seed).unwrap();
        let mut per_field = Vec::new();
        for field in fields {
            let opening = &sealed.openings[field.name];
            let value_jcs = jcs::canonicalize_profile(&opening.value).unwrap();
            let mut input = COMMITMENT_DOMAIN.to_vec();
            input.extend_from_slice(kind.as_bytes());
            input.push(b'\n');
            input.extend_from_slice(field.name.as_bytes());
            input.push(b'\n');
            input.extend_from_slice(opening.salt.as_bytes());
            input.extend_from_slice(&value_jcs);
            let commitment = opening.commitment(kind, field.name).unwrap();
            assert_eq!(commitment, Hash::sha256(&input));
            per_field.push(json!({
                "name": field.name,
                "salt": opening.salt,
                "value_jcs": String::from_utf8(value_jcs).unwrap(),
                "commitment_input_hex": hex::encode(&input),
                "commitment": commitment,
            }));
        }
        let openings = Openings {
            seq,
            event_hash: event_hash(seq),
            kind: kind.to_owned(),
            fields: sealed.openings.clone(),
        };
        let sealing = Sealing::new(fields, &plain, seed.clone());
        out_statements.push(json!({
            "seq": seq,
            "event_hash": event_hash(seq),
            "kind": kind,
            "seed": seed,
            "plain_body": plain,
            "fields": per_field,
            "sealed_body": sealed.body,
            "sealed_body_jcs": String::from_utf8(jcs::to_canonical(&sealed.body).unwrap()).unwrap(),
            "sealing": sealing,
            "openings": openings,
            "openings_jcs": String::from_utf8(jcs::to_canonical(&openings).unwrap()).unwrap(),
        }));
        kept.push(openings);
    }

    let ledger = Hash::try_from_hex(LEDGER).unwrap();
    let choice = [Choice {
        seq: 7,
        fields: vec!["value"],
    }];
    let disclosure = Disclosure::build(
        ledger,
        "Islamabad High Court, W.P. 1234/2026",
        &choice,
        |seq| kept.iter().find(|o| o.seq == seq).cloned(),
    )
    .unwrap();
    let disclosure_jcs = jcs::to_canonical(&disclosure).unwrap();

    let public = json!({
        "ledger": LEDGER, "size": 10, "at": "2026-11-02",
        "operators": {"indus-mobile": {"name": "Indus Mobile"},
                      "karakoram-telecom": {"name": "Karakoram Telecom"}}
    });
    let indus = json!({
        "name": "Indus Mobile",
        "kpis": {"CR-01": {"period": "2026-10", "value": "97.5", "verdict": "met",
                           "score": 80, "status": "met"}},
        "score": 80
    });
    let karakoram = json!({
        "name": "Karakoram Telecom",
        "kpis": {"CR-01": {"period": "2026-10", "value": "97.5", "verdict": null,
                           "score": null, "status": "submitted"}},
        "score": null
    });
    let b_indus = Blinding::try_from_hex(BLINDING_INDUS).unwrap();
    let b_karakoram = Blinding::try_from_hex(BLINDING_KARAKORAM).unwrap();
    // Given in reverse order: the tree sorts.
    let parts = [
        SubState {
            operator: "karakoram-telecom",
            blinding: &b_karakoram,
            state: &karakoram,
        },
        SubState {
            operator: "indus-mobile",
            blinding: &b_indus,
            state: &indus,
        },
    ];
    let tree = StateTree::build(&public, &parts).unwrap();
    let leaves: Vec<Value> = tree
        .leaves()
        .iter()
        .map(|leaf| {
            json!({
                "bytes": String::from_utf8(leaf.clone()).unwrap(),
                "leaf_hash": hisaab_log::merkle::leaf_hash(leaf),
            })
        })
        .collect();
    let mut proofs = vec![serde_json::to_value(tree.public_proof()).unwrap()];
    for operator in tree.operators() {
        proofs.push(serde_json::to_value(tree.proof(operator).unwrap()).unwrap());
    }

    let sealed_fields_table: Map<String, Value> = seal::SEALED_FIELDS
        .iter()
        .map(|(kind, _)| ((*kind).to_owned(), fields_json(kind)))
        .collect();

    json!({
        "description": "Golden vectors of SPEC §12 (format v2: sealed fields). Seeds are 32 \
            copies of the byte given; the event hash of seq N is SHA-256 of the ASCII text \
            'golden sealed entry N' (entries' bytes are §11's). Re-derive with \
            python3 tests/vectors/rederive_sealed.py.",
        "domains": {
            "commitment": String::from_utf8(COMMITMENT_DOMAIN.to_vec()).unwrap(),
            "salt": String::from_utf8(SALT_DOMAIN.to_vec()).unwrap(),
        },
        "sealed_fields": sealed_fields_table,
        "ledger": LEDGER,
        "statements": out_statements,
        "disclosure": {
            "to": disclosure.to,
            "chosen": [{"seq": 7, "fields": ["value"]}],
            "document": disclosure,
            "document_jcs": String::from_utf8(disclosure_jcs.clone()).unwrap(),
            "sha256": Hash::sha256(&disclosure_jcs),
        },
        "state_tree": {
            "public": public,
            "operators": [
                {"operator": "indus-mobile", "blinding": BLINDING_INDUS, "state": indus},
                {"operator": "karakoram-telecom", "blinding": BLINDING_KARAKORAM, "state": karakoram},
            ],
            "public_digest": seal::public_digest(&public).unwrap(),
            "leaves": leaves,
            "digest": tree.digest(),
            "proofs": proofs,
        },
    })
}

#[test]
fn golden_sealed_vectors_match_the_committed_file() {
    let built = build();
    let text = serde_json::to_string_pretty(&built).unwrap() + "\n";
    let path = vectors_path();
    if std::env::var_os("HISAAB_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&path)
        .expect("tests/vectors/sealed.json exists (HISAAB_BLESS=1 writes it)");
    assert!(
        committed == text,
        "tests/vectors/sealed.json differs from what the code derives: a format change? \
         (HISAAB_BLESS=1 rewrites it deliberately)"
    );
}

#[test]
fn the_committed_vectors_read_back_through_the_verifiers() {
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(vectors_path()).unwrap()).unwrap();
    for item in file["statements"].as_array().unwrap() {
        let kind = item["kind"].as_str().unwrap();
        let fields = sealed_fields(kind);
        let sealed = object(item["sealed_body"].clone());
        let plain = object(item["plain_body"].clone());
        check_sealed_form(kind, fields, &sealed).unwrap();
        let sealing: Sealing = serde_json::from_value(item["sealing"].clone()).unwrap();
        let checked = check_sealing(kind, fields, &sealed, &sealing).unwrap();
        assert_eq!(checked.body, plain, "{kind}");
        let openings: Openings = serde_json::from_value(item["openings"].clone()).unwrap();
        assert_eq!(checked.openings, openings.fields);
        let opened =
            open_body(kind, fields, &sealed, &openings.fields, Some(openings.seq)).unwrap();
        assert!(opened.is_complete());
        assert_eq!(opened.body, plain);
    }
    // The same value, sealed twice, never gives the same commitment.
    let statements = file["statements"].as_array().unwrap();
    let (a, b) = (&statements[2], &statements[3]);
    assert_eq!(a["plain_body"]["value"], b["plain_body"]["value"]);
    assert_ne!(a["sealed_body"]["value"], b["sealed_body"]["value"]);

    let tree = &file["state_tree"];
    let digest: Hash = serde_json::from_value(tree["digest"].clone()).unwrap();
    let registered = ["indus-mobile", "karakoram-telecom"];
    for (i, part) in tree["operators"].as_array().unwrap().iter().enumerate() {
        let proof: seal::SubStateProof =
            serde_json::from_value(tree["proofs"][i + 1].clone()).unwrap();
        let blinding: Blinding = serde_json::from_value(part["blinding"].clone()).unwrap();
        proof
            .verify_operator(
                part["operator"].as_str().unwrap(),
                &blinding,
                &part["state"],
                &registered,
                &digest,
            )
            .unwrap();
    }
    let public: seal::SubStateProof = serde_json::from_value(tree["proofs"][0].clone()).unwrap();
    public.verify_public(&tree["public"], &digest).unwrap();
}

/// Real signed entries carrying sealed bodies, for the disclosure's checks against a bundle.
fn signed_entries() -> (Vec<SealedEntry>, Vec<Openings>) {
    let key = SigningKey::from_bytes(&[0x33; 32]);
    let ledger = Hash::try_from_hex(LEDGER).unwrap();
    let mut entries = Vec::new();
    let mut openings = Vec::new();
    let mut prev = Hash::ZERO;
    for (i, (_, kind, seed_byte, plain)) in statements().into_iter().enumerate() {
        let seq = u64::try_from(i).unwrap() + 1;
        let sealed = seal_body(
            kind,
            sealed_fields(kind),
            &plain,
            &Seed::from_bytes([seed_byte; 32]),
        )
        .unwrap();
        let statement = Statement {
            v: 2,
            ledger: Some(ledger),
            id: StatementId::try_new(&format!("019a4a00-0000-7000-8000-0000000001{seq:02}"))
                .unwrap(),
            kind: kind.to_owned(),
            signer: PublicKey::from_signing_key(&key),
            issued_at: Timestamp::try_parse("2026-11-02T10:00:00Z").unwrap(),
            body: sealed.body,
        };
        let envelope = Envelope::sign(statement, &key).unwrap();
        let entry = Entry::new(
            seq,
            prev,
            Timestamp::try_parse("2026-11-02T10:00:01Z").unwrap(),
            envelope,
        );
        let entry = SealedEntry::seal(entry).unwrap();
        prev = entry.event_hash();
        openings.push(Openings {
            seq,
            event_hash: entry.event_hash(),
            kind: kind.to_owned(),
            fields: sealed.openings,
        });
        entries.push(entry);
    }
    (entries, openings)
}

#[test]
fn a_disclosure_verifies_against_the_entries_and_nothing_else() {
    let (entries, openings) = signed_entries();
    let ledger = Hash::try_from_hex(LEDGER).unwrap();
    let entry_at = |seq: u64| entries.iter().find(|e| e.entry().seq == seq);
    let available = |seq: u64| openings.iter().find(|o| o.seq == seq).cloned();
    let chosen = [
        Choice {
            seq: 5,
            fields: vec!["verdict", "score"],
        },
        Choice {
            seq: 3,
            fields: vec!["value"],
        },
    ];
    let disclosure =
        Disclosure::build(ledger, "Auditor General of Pakistan", &chosen, available).unwrap();
    assert_eq!(
        disclosure.entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [3, 5]
    );
    let text = serde_json::to_string(&disclosure).unwrap();
    assert!(text.contains("97.5") && !text.contains("deferred") && !text.contains("rationale"));
    // Round trip through its JSON, as a recipient gets it.
    let received: Disclosure = serde_json::from_str(&text).unwrap();
    let proved = received.verify(entry_at, sealed_fields).unwrap();
    assert_eq!(proved[0].values["value"], json!("97.5"));
    assert_eq!(proved[1].values["score"], json!(80));

    // A value changed in transit fails, naming the entry and field.
    let mut forged = received.clone();
    forged.entries[1].fields.get_mut("score").unwrap().value = json!(95);
    let err = forged.verify(entry_at, sealed_fields).unwrap_err();
    assert!(
        err.to_string().contains("entry 5") && err.to_string().contains("score"),
        "{err}"
    );
    // An opening presented for another entry (same kind, other event hash) fails.
    let mut moved = received.clone();
    moved.entries[0].seq = 4;
    moved.entries[0].event_hash = entries[3].event_hash();
    assert!(moved.verify(entry_at, sealed_fields).is_err());
    // An entry the bundle does not hold, or a disclosure of another ledger, fails.
    assert!(received.verify(|_| None, sealed_fields).is_err());
    let mut other_ledger = received.clone();
    other_ledger.ledger = Hash::ZERO;
    assert!(other_ledger.verify(entry_at, sealed_fields).is_err());
    // Form: unsorted, empty or fieldless disclosures are refused.
    let mut unsorted = received.clone();
    unsorted.entries.reverse();
    assert!(unsorted.verify(entry_at, sealed_fields).is_err());
    let mut empty = received;
    empty.entries[0].fields.clear();
    assert!(empty.verify(entry_at, sealed_fields).is_err());
    // Building refuses a field the discloser has no opening of.
    let bad = [Choice {
        seq: 3,
        fields: vec!["kpi"],
    }];
    assert!(Disclosure::build(ledger, "x", &bad, available).is_err());
}

#[test]
fn openings_check_the_entry_they_name() {
    let (entries, openings) = signed_entries();
    for (entry, opening) in entries.iter().zip(&openings) {
        let opened = opening.open(entry, sealed_fields).unwrap();
        assert!(opened.is_complete());
    }
    // Openings of entry 3 against entry 4 (same kind): wrong seq and event hash.
    assert!(openings[2].open(&entries[3], sealed_fields).is_err());
    let mut renamed = openings[2].clone();
    renamed.seq = 4;
    renamed.event_hash = entries[3].event_hash();
    let err = renamed.open(&entries[3], sealed_fields).unwrap_err();
    assert!(err.to_string().starts_with("entry 4: "), "{err}");
}
