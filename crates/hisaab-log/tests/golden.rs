//! Hisaab's own golden vectors: `tests/vectors/golden.json` at the workspace root.
//!
//! From fixed 32-byte seeds (written in the file) for an authority key, a log key and two
//! CISO keys, this builds a genesis and eight further statements with fixed ids and times,
//! and derives every byte: JCS statements, signing inputs, signatures, leaf bytes, event
//! hashes, the root for every tree size, every inclusion and consistency proof, and a signed
//! checkpoint. (The file's `state` key is hisaab-model's: see its `golden_state` test.) The test fails when any byte differs from the committed file.
//!
//! Changing this file's output is a format change. To rewrite the file deliberately:
//! `HISAAB_BLESS=1 cargo test -p hisaab-log --test golden`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use hisaab_log::merkle::{self, MemoryTree};
use hisaab_log::note::{verify_checkpoint, Checkpoint, VerifierKey};
use hisaab_log::{
    Entry, Envelope, Hash, PublicKey, SealedEntry, SigningKey, Statement, StatementId, Timestamp,
};
use serde_json::{json, Map, Value};

const ORIGIN: &str = "golden.hisaab.example/tcstf";

fn seed(byte: u8) -> [u8; 32] {
    [byte; 32]
}

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/golden.json")
}

struct Keys {
    authority: SigningKey,
    log: SigningKey,
    ciso_a: SigningKey,
    ciso_b: SigningKey,
}

fn keys() -> Keys {
    Keys {
        authority: SigningKey::from_bytes(&seed(0x11)),
        log: SigningKey::from_bytes(&seed(0x22)),
        ciso_a: SigningKey::from_bytes(&seed(0x33)),
        ciso_b: SigningKey::from_bytes(&seed(0x44)),
    }
}

fn public(key: &SigningKey) -> String {
    PublicKey::from_signing_key(key).to_base64()
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("bodies are objects"),
    }
}

/// The statements: (signer, kind, body), in order.
fn statements(k: &Keys, log_vkey: &str) -> Vec<(&'static str, &'static str, Map<String, Value>)> {
    let evidence = b"Indus Mobile patch compliance report, October 2026\n";
    vec![
        (
            "authority",
            "ledger.genesis",
            object(json!({
                "origin": ORIGIN,
                "title": "TCSTF accountability ledger (golden vectors)",
                "strategy": {
                    "name": "Cyber Security Strategy for the Telecom Sector 2023-2028",
                    "starts": "2023-07-01",
                    "ends": "2028-06-30"
                },
                "log_key": log_vkey,
                "authority": {"member": "pta-authority", "name": "Pakistan Telecommunication Authority"},
                "policy": {"max_future_skew_s": 300, "max_age_s": 86400}
            })),
        ),
        (
            "authority",
            "operator.registered",
            object(json!({
                "operator": "indus-mobile", "name": "Indus Mobile"
            })),
        ),
        (
            "authority",
            "operator.registered",
            object(json!({
                "operator": "karakoram-telecom", "name": "Karakoram Telecom"
            })),
        ),
        (
            "authority",
            "member.enrolled",
            object(json!({
                "member": "ciso-indus", "name": "Ayesha Siddiqui", "roles": ["ciso"],
                "operator": "indus-mobile", "key": public(&k.ciso_a)
            })),
        ),
        (
            "authority",
            "member.enrolled",
            object(json!({
                "member": "ciso-karakoram", "name": "Bilal Hussain", "roles": ["ciso"],
                "operator": "karakoram-telecom", "key": public(&k.ciso_b)
            })),
        ),
        (
            "authority",
            "kpi.defined",
            object(json!({
                "kpi": "CR-01", "pillar": "resilience",
                "title": "Critical security patches applied within 14 days",
                "unit": "percent", "direction": "higher_is_better", "cadence": "monthly",
                "evidence_required": true
            })),
        ),
        (
            "authority",
            "kpi.assigned",
            object(json!({
                "kpi": "CR-01", "operator": "indus-mobile", "target": "95", "baseline": "80",
                "due": "2026-12-31", "first_period": "2026-01"
            })),
        ),
        (
            "ciso_a",
            "submission.filed",
            object(json!({
                "operator": "indus-mobile", "kpi": "CR-01", "period": "2026-10", "value": "97.5",
                "evidence": [{
                    "name": "patch-compliance-2026-10.pdf",
                    "sha256": Hash::sha256(evidence).to_hex(),
                    "bytes": evidence.len()
                }],
                "note": "All critical advisories of October patched; two within 16 days."
            })),
        ),
        (
            // An assignment without a baseline, so the state (SPEC §5) has a mixed set: its
            // `baseline` is `null` beside indus-mobile's "80".
            "authority",
            "kpi.assigned",
            object(json!({
                "kpi": "CR-01", "operator": "karakoram-telecom", "target": "90",
                "due": "2027-06-30", "first_period": "2026-07"
            })),
        ),
    ]
}

fn build() -> Value {
    let k = keys();
    let log_vkey = VerifierKey::new(ORIGIN, PublicKey::from_signing_key(&k.log))
        .unwrap()
        .to_vkey();
    let mut tree = MemoryTree::new();
    let mut prev = Hash::ZERO;
    let mut ledger: Option<Hash> = None;
    let mut entries = Vec::new();
    for (seq, (signer, kind, body)) in statements(&k, &log_vkey).into_iter().enumerate() {
        let seq = u64::try_from(seq).unwrap();
        let key = match signer {
            "authority" => &k.authority,
            "ciso_a" => &k.ciso_a,
            _ => &k.ciso_b,
        };
        // Fixed times: entry n is recorded at 09:00:n0.250 on 2026-11-02, issued 3 s earlier.
        let recorded_at = Timestamp::try_parse(&format!(
            "2026-11-02T09:{:02}:{:02}.250Z",
            seq / 6,
            (seq % 6) * 10
        ))
        .unwrap();
        let issued_at = Timestamp::from_unix_seconds(recorded_at.unix_seconds() - 3).unwrap();
        let statement = Statement {
            v: 1,
            ledger,
            id: StatementId::try_new(&format!("019a4a00-0000-7000-8000-{:012x}", seq + 1)).unwrap(),
            kind: kind.into(),
            signer: PublicKey::from_signing_key(key),
            issued_at,
            body,
        };
        let statement_jcs = statement.canonical_bytes().unwrap();
        let signing_input = statement.signing_input().unwrap();
        let envelope = Envelope::sign(statement, key).unwrap();
        let sealed =
            SealedEntry::seal(Entry::new(seq, prev, recorded_at, envelope.clone())).unwrap();
        entries.push(json!({
            "seq": seq,
            "statement_jcs": String::from_utf8(statement_jcs).unwrap(),
            "signing_input_hex": hex::encode(&signing_input),
            "signature": envelope.signature.to_base64(),
            "envelope_jcs": String::from_utf8(envelope.canonical_bytes().unwrap()).unwrap(),
            "leaf_bytes": String::from_utf8(sealed.leaf_bytes().to_vec()).unwrap(),
            "event_hash": sealed.event_hash().to_hex(),
        }));
        tree.push_leaf(sealed.event_hash());
        prev = sealed.event_hash();
        if seq == 0 {
            ledger = Some(sealed.event_hash());
        }
    }
    let size = tree.size();
    let mut roots = Vec::new();
    let mut inclusion = Vec::new();
    let mut consistency = Vec::new();
    for tree_size in 1..=size {
        roots.push(json!({"tree_size": tree_size, "root": root_at(&tree, tree_size).to_hex()}));
        for index in 0..tree_size {
            let proof = tree.inclusion_proof(index, tree_size).unwrap();
            inclusion.push(json!({"index": index, "tree_size": tree_size, "proof": hexes(&proof)}));
        }
        for from in 1..=tree_size {
            let proof = tree.consistency_proof(from, tree_size).unwrap();
            consistency.push(json!({"from": from, "to": tree_size, "proof": hexes(&proof)}));
        }
    }
    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: tree.root(),
    };
    json!({
        "about": "Hisaab golden vectors (format v1). Every value below follows from the seeds and SPEC.md; see docs/FORMAT.md.",
        "seeds_hex": {
            "authority": hex::encode(seed(0x11)),
            "log": hex::encode(seed(0x22)),
            "ciso_indus": hex::encode(seed(0x33)),
            "ciso_karakoram": hex::encode(seed(0x44)),
        },
        "public_keys": {
            "authority": public(&k.authority),
            "log": public(&k.log),
            "ciso_indus": public(&k.ciso_a),
            "ciso_karakoram": public(&k.ciso_b),
        },
        "origin": ORIGIN,
        "log_vkey": log_vkey,
        "ledger_id": ledger.unwrap().to_hex(),
        "entries": entries,
        "roots": roots,
        "inclusion_proofs": inclusion,
        "consistency_proofs": consistency,
        "checkpoint": {"size": size, "root": tree.root().to_hex(), "note": checkpoint.sign(&k.log).unwrap()},
    })
}

fn root_at(tree: &MemoryTree, size: u64) -> Hash {
    merkle::tree_root(size, tree).unwrap()
}

fn hexes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(Hash::to_hex).collect()
}

#[test]
fn golden_vectors_match_the_committed_file() {
    let built = build();
    let path = golden_path();
    // The file's `state` (SPEC §5 at the full size) is derived by hisaab-model, which this pure
    // crate does not depend on; its test (`golden_state`) writes and checks that key, and this
    // one keeps it as it is.
    let state = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|mut old| old.get_mut("state").map(Value::take));
    if std::env::var_os("HISAAB_BLESS").is_some() {
        let mut file = built.clone();
        if let (Some(state), Some(map)) = (state, file.as_object_mut()) {
            map.insert("state".into(), state);
        }
        let text = serde_json::to_string_pretty(&file).unwrap() + "\n";
        std::fs::write(&path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with HISAAB_BLESS=1 to create it)",
            path.display()
        )
    });
    let mut committed: Value = serde_json::from_str(&committed).unwrap();
    if let Some(map) = committed.as_object_mut() {
        map.remove("state");
    }
    assert_eq!(
        committed, built,
        "tests/vectors/golden.json differs from what the code derives: this is a format change"
    );
}

#[test]
fn golden_file_verifies_on_its_own() {
    // Reads only the committed file and checks it with the verification functions, so that a
    // bug that changed both the builder and the verifier in the same way would still show.
    let text = std::fs::read_to_string(golden_path()).unwrap();
    let golden: Value = serde_json::from_str(&text).unwrap();
    let log_vkey = VerifierKey::try_parse(golden["log_vkey"].as_str().unwrap()).unwrap();
    let mut prev = Hash::ZERO;
    let mut leaves = Vec::new();
    for item in golden["entries"].as_array().unwrap() {
        let leaf_bytes = item["leaf_bytes"].as_str().unwrap().as_bytes();
        let sealed = SealedEntry::try_from_leaf_bytes(leaf_bytes).unwrap();
        let entry = sealed.entry();
        assert_eq!(entry.prev, prev);
        assert_eq!(
            sealed.event_hash().to_hex(),
            item["event_hash"].as_str().unwrap()
        );
        assert_eq!(
            hex::encode(entry.statement.signing_input().unwrap()),
            item["signing_input_hex"].as_str().unwrap()
        );
        entry.envelope().verify_signature().unwrap();
        assert_eq!(
            merkle::leaf_hash(leaf_bytes),
            Hash::sha256_parts(&[&[0u8], leaf_bytes])
        );
        prev = sealed.event_hash();
        leaves.push(sealed.event_hash());
    }
    let roots: Vec<Hash> = golden["roots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| Hash::try_from_hex(r["root"].as_str().unwrap()).unwrap())
        .collect();
    let parse = |v: &Value| -> Vec<Hash> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|h| Hash::try_from_hex(h.as_str().unwrap()).unwrap())
            .collect()
    };
    for p in golden["inclusion_proofs"].as_array().unwrap() {
        let index = p["index"].as_u64().unwrap();
        let size = p["tree_size"].as_u64().unwrap();
        let root = roots[usize::try_from(size - 1).unwrap()];
        merkle::verify_inclusion(
            &leaves[usize::try_from(index).unwrap()],
            index,
            size,
            &parse(&p["proof"]),
            &root,
        )
        .unwrap();
    }
    for p in golden["consistency_proofs"].as_array().unwrap() {
        let from = p["from"].as_u64().unwrap();
        let to = p["to"].as_u64().unwrap();
        merkle::verify_consistency(
            from,
            to,
            &parse(&p["proof"]),
            &roots[usize::try_from(from - 1).unwrap()],
            &roots[usize::try_from(to - 1).unwrap()],
        )
        .unwrap();
    }
    let checkpoint =
        verify_checkpoint(golden["checkpoint"]["note"].as_str().unwrap(), &log_vkey).unwrap();
    assert_eq!(checkpoint.size, u64::try_from(leaves.len()).unwrap());
    assert_eq!(checkpoint.root, *roots.last().unwrap());
}
