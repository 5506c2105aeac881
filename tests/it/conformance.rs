//! SPEC conformance, end to end: the real `hisaab serve` on a loopback port, driven with raw
//! JSON text, and every byte it answers with re-derived here from SPEC.md alone. The test
//! carries its own tiny RFC 8785 canonicaliser, base64, RFC 9162 Merkle tree and proofs, and
//! C2SP note and cosignature code, so that a bug shared by the implementation's own helpers
//! cannot hide.
//!
//! Sections follow the SPEC: §1 encodings (each refused form is a 400 in the error shape), §2
//! entries and the chain, §3 checkpoints, proofs and cosignatures, §5 the state on hand-built
//! histories, §6 bundles and `hisaab verify`/`replay` over them, §7 statuses in their order of
//! precedence, receipts, concurrency and durability across a crash, §8 key files. Every
//! command and server log of the suite is checked for private key material.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use crate::common::{self, fixed_key, write_pem, Sandbox, Server};

const ORIGIN: &str = "conformance.test/hisaab";
const SIGNING_PREFIX: &[u8] = b"hisaab/statement/v1\n";
/// 2^53 - 1, the greatest JSON number of the profile (SPEC §1).
const NUMBER_MAX: u64 = 9_007_199_254_740_991;

// ---------------------------------------------------------------------------------------------
// §1 — the profile, refused forms.
// ---------------------------------------------------------------------------------------------

#[test]
fn refuses_every_non_conforming_encoding_with_400() {
    let node = Node::start();
    let pta = fixed_key(2);
    node.append(
        &pta,
        "operator.registered",
        json!({"operator":"indus","name":"Indus"}),
    );
    node.append(
        &pta,
        "kpi.defined",
        json!({"kpi":"CR-01","pillar":"resilience","title":"Patches","unit":"%",
            "direction":"higher_is_better","cadence":"monthly","evidence_required":false}),
    );
    let op = |name: &str| json!({"operator": name, "name": "Op"});
    let now = common::now().as_str().to_owned();
    let minute = &now[..17]; // YYYY-MM-DDTHH:MM:

    // Each case: a name and the envelope text. Where it can be, the signature is valid over the
    // JCS of what was sent, so that a lenient parser would accept (201) rather than fail later.
    let mut cases: Vec<(&str, String)> = Vec::new();
    let signed =
        |body: Value| node.envelope_text(&pta, &node.statement(&pta, "operator.registered", body));
    let mut with_ext = |name: &'static str, ext: Value, slug: &str| {
        let mut body = op(slug);
        body["ext"] = ext;
        cases.push((name, signed(body)));
    };
    with_ext("a float", json!({"x": 1.5}), "f-float");
    with_ext("a negative integer", json!({"x": -1}), "f-negative");
    with_ext(
        "an integer over 2^53-1",
        json!({"x": NUMBER_MAX + 1}),
        "f-big",
    );
    with_ext("an exponent", json!({"x": 1e300}), "f-exponent");
    let mut body = op("f-ext");
    body["ext"] = json!("not an object");
    cases.push(("an ext that is not an object", signed(body)));

    // A duplicate key, in the body and in the statement; signed over the last value.
    let text = signed(op("f-dup-b"));
    cases.push((
        "a duplicate key in the body",
        text.replacen("\"name\":\"Op\"", "\"name\":\"Op\",\"name\":\"Op\"", 1),
    ));
    cases.push((
        "a duplicate key in the statement",
        signed(op("f-dup-s")).replacen("\"v\":1", "\"v\":1,\"v\":1", 1),
    ));
    cases.push(("a duplicate key in the envelope", {
        let t = signed(op("f-dup-e"));
        let sig = t
            .split("\"signature\":")
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .to_owned();
        t.replacen(
            "{\"signature\"",
            &format!("{{\"signature\":{sig},\"signature\""),
            1,
        )
    }));

    // Non-canonical base64: the same bytes with the unused trailing bits set.
    let statement = node.statement(&pta, "operator.registered", op("f-b64-sig"));
    let signature = sign_statement(&pta, &statement);
    let loose = set_trailing_bits(&signature);
    assert_eq!(b64_decode(&loose), b64_decode(&signature));
    cases.push((
        "a signature in non-canonical base64",
        jcs_string(&json!({"statement": statement, "signature": loose})),
    ));
    let mut statement = node.statement(&pta, "operator.registered", op("f-b64-key"));
    statement["signer"] = json!(set_trailing_bits(&b64(pta.verifying_key().as_bytes())));
    cases.push((
        "a signer in non-canonical base64",
        node.envelope_text(&pta, &statement),
    ));
    let member_key = b64(fixed_key(40).verifying_key().as_bytes());
    cases.push((
        "a body key in non-canonical base64",
        node.envelope_text(
            &pta,
            &node.statement(
                &pta,
                "member.enrolled",
                json!({"member":"f-key","name":"K","roles":["evaluator"],
                    "key": set_trailing_bits(&member_key)}),
            ),
        ),
    ));
    cases.push(("a signature without padding", {
        let statement = node.statement(&pta, "operator.registered", op("f-b64-pad"));
        let signature = sign_statement(&pta, &statement);
        jcs_string(&json!({"statement": statement,
                "signature": signature.trim_end_matches('=')}))
    }));

    // Hashes: lowercase hex only.
    let mut statement = node.statement(&pta, "operator.registered", op("f-hex"));
    statement["ledger"] = json!(node.ledger.to_uppercase());
    cases.push((
        "an uppercase ledger id",
        node.envelope_text(&pta, &statement),
    ));

    // Timestamps.
    for (name, issued_at) in [
        ("second 60", format!("{minute}60Z")),
        (
            "a fraction of 10 digits",
            format!("{}.1234567890Z", &now[..19]),
        ),
        ("an empty fraction", format!("{}.Z", &now[..19])),
        ("a lowercase z", format!("{}z", &now[..19])),
        ("an offset", format!("{}+00:00", &now[..19])),
    ] {
        let mut statement = node.statement(&pta, "operator.registered", op("f-time"));
        statement["issued_at"] = json!(issued_at);
        cases.push((name, node.envelope_text(&pta, &statement)));
    }

    // Identifiers, versions, unknown and null fields.
    let mut statement = node.statement(&pta, "operator.registered", op("f-id"));
    let upper = statement["id"].as_str().unwrap().to_uppercase();
    statement["id"] = json!(upper);
    cases.push(("an uppercase id", node.envelope_text(&pta, &statement)));
    let mut statement = node.statement(&pta, "operator.registered", op("f-v"));
    statement["v"] = json!(2);
    cases.push(("v = 2", node.envelope_text(&pta, &statement)));
    let mut statement = node.statement(&pta, "operator.registered", op("f-null-ledger"));
    statement["ledger"] = Value::Null;
    cases.push(("a null ledger", node.envelope_text(&pta, &statement)));
    cases.push((
        "a null optional body field",
        node.envelope_text(
            &pta,
            &node.statement(
                &pta,
                "member.enrolled",
                json!({"member":"f-null","name":"N","roles":["evaluator"],"operator":null,
                    "key": b64(fixed_key(41).verifying_key().as_bytes())}),
            ),
        ),
    ));
    cases.push((
        "a null baseline",
        node.envelope_text(
            &pta,
            &node.statement(
                &pta,
                "kpi.assigned",
                json!({"kpi":"CR-01","operator":"indus","target":"95","baseline":null,
                    "due":"2099-12-31","first_period":"2026-01"}),
            ),
        ),
    ));
    let mut body = op("f-unknown-body");
    body["extra"] = json!("x");
    cases.push(("an unknown body field", signed(body)));
    let mut statement = node.statement(&pta, "operator.registered", op("f-unknown-statement"));
    statement["extra"] = json!(1);
    cases.push((
        "an unknown statement field",
        node.envelope_text(&pta, &statement),
    ));
    let statement = node.statement(&pta, "operator.registered", op("f-unknown-envelope"));
    let signature = sign_statement(&pta, &statement);
    cases.push((
        "an unknown envelope field",
        jcs_string(&json!({"statement": statement, "signature": signature, "extra": 1})),
    ));
    cases.push((
        "an unknown kind",
        node.envelope_text(
            &pta,
            &node.statement(&pta, "operator.renamed", op("f-kind")),
        ),
    ));

    // Field types of SPEC §4, which rule 1 checks before any reference (400 before 422).
    let assign = |field: &str, value: Value| {
        let mut body = json!({"kpi":"CR-01","operator":"indus","target":"95",
            "due":"2099-12-31","first_period":"2026-01"});
        body[field] = value;
        node.envelope_text(&pta, &node.statement(&pta, "kpi.assigned", body))
    };
    cases.push((
        "a date that is not a real day",
        assign("due", json!("2026-02-30")),
    ));
    cases.push((
        "a period with month 13",
        assign("first_period", json!("2026-13")),
    ));
    cases.push((
        "a decimal with a leading zero",
        assign("target", json!("095")),
    ));
    cases.push(("a decimal as a JSON number", assign("target", json!(95))));
    cases.push((
        "a decimal ending in a point",
        assign("target", json!("95.")),
    ));
    cases.push((
        "an uppercase hash in a body",
        node.envelope_text(
            &pta,
            &node.statement(
                &pta,
                "evaluation.recorded",
                json!({"submission": hex::encode([0xab; 32]).to_uppercase(),
                    "verdict":"met","score":50,"rationale":"r"}),
            ),
        ),
    ));
    cases.push((
        "an empty name",
        node.envelope_text(
            &pta,
            &node.statement(
                &pta,
                "operator.registered",
                json!({"operator":"f-empty","name":""}),
            ),
        ),
    ));

    // Keys of §1: a canonical encoding of a point not of small order.
    let enrol = |slug: &str, key: &str| {
        node.envelope_text(
            &pta,
            &node.statement(
                &pta,
                "member.enrolled",
                json!({"member":slug,"name":"K","roles":["evaluator"],"key":key}),
            ),
        )
    };
    let identity = b64(&hex::decode(format!("01{}", "00".repeat(31))).unwrap());
    let identity_signed = b64(&hex::decode(format!("01{}80", "00".repeat(30))).unwrap());
    // y = p + 3: on the curve, of large order, but y >= p.
    let y_over_p = b64(&hex::decode(format!("f0{}7f", "ff".repeat(30))).unwrap());
    cases.push(("a body key of small order", enrol("f-small", &identity)));
    cases.push((
        "a body key x = 0 with the sign bit",
        enrol("f-sign", &identity_signed),
    ));
    cases.push(("a body key with y >= p", enrol("f-y", &y_over_p)));
    let mut statement = node.statement(&pta, "operator.registered", op("f-signer-y"));
    statement["signer"] = json!(y_over_p);
    cases.push(("a signer with y >= p", node.envelope_text(&pta, &statement)));

    // JSON that only looks unique or well-formed.
    cases.push((
        "a duplicate key spelled with an escape",
        signed(op("f-dup-esc")).replacen(
            "\"name\":\"Op\"",
            "\"name\":\"Op\",\"na\\u006de\":\"Op\"",
            1,
        ),
    ));
    cases.push((
        "a lone surrogate",
        signed(op("f-surrogate")).replacen("\"name\":\"Op\"", "\"name\":\"\\ud800\"", 1),
    ));
    // `ext` is allowed only at the top level of a body.
    cases.push((
        "an ext inside an evidence item",
        node.envelope_text(
            &pta,
            &node.statement(
                &pta,
                "submission.filed",
                json!({"operator":"indus","kpi":"CR-01","period":"2026-01","value":"1",
                "evidence":[{"name":"e","sha256":hex::encode([1u8; 32]),"bytes":1,"ext":{}}],
                "note":""}),
            ),
        ),
    ));
    for (name, issued_at) in [
        ("February 29 of a common year", "2026-02-29T00:00:00Z"),
        ("hour 24", "2026-01-01T24:00:00Z"),
    ] {
        let mut statement = node.statement(&pta, "operator.registered", op("f-time"));
        statement["issued_at"] = json!(issued_at);
        cases.push((name, node.envelope_text(&pta, &statement)));
    }
    cases.push(("a 64-character slug", signed(op(&"a".repeat(64)))));
    cases.push(("a slug starting with a hyphen", signed(op("-a"))));
    cases.push((
        "a name of 4097 code points",
        signed(json!({"operator":"f-long","name":"\u{e9}".repeat(4097)})),
    ));
    cases.push(("a KPI id with 5 digits", assign("kpi", json!("CR-12345"))));

    let mut failures = Vec::new();
    for (name, text) in &cases {
        let (status, body) = node.post_text(text);
        if status != StatusCode::BAD_REQUEST {
            failures.push(format!("{name}: {status} {body}"));
            continue;
        }
        check_error_shape(&body);
    }
    assert!(
        failures.is_empty(),
        "not refused with 400:\n{}",
        failures.join("\n")
    );
    // None of them changed the ledger.
    assert_eq!(node.size(), 3);

    // What the profile allows is accepted: ext objects (nested, 2^53-1, keys sorted by UTF-16
    // code units), a 9-digit fraction, text with escapes and non-ASCII. A control character
    // other than tab and line feed is refused in texts (issue 15), so the `\u0001` escape of
    // JCS is exercised in `ext`, which holds data, not text for people.
    let mut body = json!({"operator":"ok-ext","name":"Ravi \u{2028} T\u{e9}l\t\"q\" \\"});
    body["ext"] = json!({"max": NUMBER_MAX, "zero": 0, "nested": {"a": [true, false, null]},
        "\u{ff5e}": 1, "\u{1f600}": 2, "\u{e9}": 3, "A": 4, "control": "\u{1}"});
    node.append(&pta, "operator.registered", body);
    // Text is counted in code points, not bytes; a slug may have 63 characters.
    node.append(
        &pta,
        "operator.registered",
        json!({"operator":"a".repeat(63),"name":"\u{e9}".repeat(4096)}),
    );
    let mut statement = node.statement(&pta, "operator.registered", op("ok-fraction"));
    statement["issued_at"] = json!(format!("{}.123456789Z", &now[..19]));
    let (status, receipt) = node.post_text(&node.envelope_text(&pta, &statement));
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    assert_eq!(node.size(), 6);
    node.check_all_entries();
    node.finish();
}

// ---------------------------------------------------------------------------------------------
// §2 and §3 — entries, the chain, checkpoints, proofs.
// ---------------------------------------------------------------------------------------------

#[test]
fn entries_are_canonical_chained_signed_and_proven() {
    let node = Node::start();
    let pta = fixed_key(2);
    node.append(
        &pta,
        "operator.registered",
        json!({"operator":"indus","name":"Indus Mobile"}),
    );
    node.append(
        &pta,
        "operator.registered",
        json!({"operator":"ravi","name":"راوی کمیونیکیشنز","ext":{"\u{ff5e}":1,"\u{1f600}":2,"b":[1,2]}}),
    );
    for n in 0..6u8 {
        node.append(
            &pta,
            "member.enrolled",
            json!({"member": format!("m-{n}"), "name": format!("Member {n}"),
                "roles":["witness"], "key": b64(fixed_key(50 + n).verifying_key().as_bytes())}),
        );
    }
    let entries = node.check_all_entries();
    let size = entries.len();
    assert_eq!(size, 9);

    // §3: the checkpoint is a C2SP note of exactly three body lines, signed under the origin
    // with key id SHA-256(origin || 0x0A || 0x01 || key)[:4], over the tree of every leaf.
    let response = node.get("/v1/checkpoint");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let note = response.text().unwrap();
    let (checkpoint_size, root) = node.verify_checkpoint(&note);
    let leaves: Vec<[u8; 32]> = entries.iter().map(|e| leaf_hash(e)).collect();
    assert_eq!(checkpoint_size, size as u64);
    assert_eq!(root, mth(&leaves));

    // The verifier key in genesis is `<origin>+<hex key id>+<base64(0x01||key)>`.
    let genesis: Value = serde_json::from_slice(&entries[0]).unwrap();
    let log_public = fixed_key(1).verifying_key();
    assert_eq!(genesis["statement"]["body"]["origin"], json!(ORIGIN));
    assert_eq!(
        genesis["statement"]["body"]["log_key"],
        json!(vkey_string(&log_public))
    );

    // Inclusion proofs for every (index, size) and consistency proofs for every pair of sizes
    // are exactly RFC 9162's.
    for n in 1..=size {
        for m in 0..n {
            let answer = node.get_json(&format!("/v1/proofs/inclusion?index={m}&tree_size={n}"));
            assert_eq!(
                keys(&answer),
                set(&["index", "tree_size", "leaf_hash", "proof"])
            );
            assert_eq!(
                (answer["index"].as_u64(), answer["tree_size"].as_u64()),
                (Some(m as u64), Some(n as u64))
            );
            assert_eq!(answer["leaf_hash"], json!(hex::encode(leaves[m])));
            assert_eq!(
                answer["proof"],
                hex_list(&path(m, &leaves[..n])),
                "inclusion {m} in {n}"
            );
        }
        for from in 1..=n {
            let answer = node.get_json(&format!("/v1/proofs/consistency?from={from}&to={n}"));
            assert_eq!(keys(&answer), set(&["from", "to", "proof"]));
            assert_eq!(
                (answer["from"].as_u64(), answer["to"].as_u64()),
                (Some(from as u64), Some(n as u64))
            );
            let expected = if from == n {
                Vec::new()
            } else {
                subproof(from, &leaves[..n], true)
            };
            assert_eq!(
                answer["proof"],
                hex_list(&expected),
                "consistency {from} to {n}"
            );
        }
    }
    for path in [
        "/v1/proofs/consistency?from=0&to=1".to_owned(),
        "/v1/proofs/consistency?from=0&to=0".to_owned(),
        "/v1/proofs/consistency?from=3&to=2".to_owned(),
        format!("/v1/proofs/consistency?from=1&to={}", size + 1),
        "/v1/proofs/inclusion?index=0&tree_size=0".to_owned(),
        "/v1/proofs/inclusion?index=2&tree_size=2".to_owned(),
    ] {
        let response = node.get(&path);
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        check_error_shape(&serde_json::from_str(&response.text().unwrap()).unwrap());
    }
    node.finish();
}

// ---------------------------------------------------------------------------------------------
// §6 — bundles.
// ---------------------------------------------------------------------------------------------

#[test]
fn bundles_are_a_header_then_every_leaf_exactly() {
    let node = Node::start();
    let pta = fixed_key(2);
    for name in ["indus", "ravi", "sindh"] {
        node.append(
            &pta,
            "operator.registered",
            json!({"operator": name, "name": name}),
        );
    }
    let entries = node.check_all_entries();
    let genesis: Value = serde_json::from_slice(&entries[0]).unwrap();
    for tree_size in [None, Some(1usize), Some(2), Some(entries.len())] {
        let path = match tree_size {
            None => "/v1/bundle".to_owned(),
            Some(n) => format!("/v1/bundle?tree_size={n}"),
        };
        let n = tree_size.unwrap_or(entries.len());
        let response = node.get(&path);
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let bytes = response.bytes().unwrap().to_vec();
        assert!(
            bytes.ends_with(b"\n"),
            "{path}: the last line does not end in \\n"
        );
        let lines: Vec<&[u8]> = bytes[..bytes.len() - 1].split(|b| *b == b'\n').collect();
        assert_eq!(lines.len(), n + 1, "{path}");
        let header: Value = serde_json::from_slice(lines[0]).unwrap();
        assert_eq!(
            keys(&header),
            set(&["bundle", "origin", "log_key", "checkpoint"]),
            "{path}"
        );
        assert_eq!(header["bundle"], json!("hisaab/v1"));
        assert_eq!(header["origin"], genesis["statement"]["body"]["origin"]);
        assert_eq!(header["log_key"], genesis["statement"]["body"]["log_key"]);
        let (size, root) = node.verify_checkpoint(header["checkpoint"].as_str().unwrap());
        let leaves: Vec<[u8; 32]> = entries[..n].iter().map(|e| leaf_hash(e)).collect();
        assert_eq!((size, root), (n as u64, mth(&leaves)), "{path}");
        for (seq, line) in lines[1..].iter().enumerate() {
            assert_eq!(
                *line,
                &entries[seq][..],
                "{path}: line {} is not entry {seq}",
                seq + 2
            );
        }
    }
    node.finish();
}

#[test]
#[allow(clippy::too_many_lines)] // One good bundle and each way of breaking §6.
fn verify_refuses_every_bundle_that_breaks_section_6() {
    let node = Node::start();
    let pta = fixed_key(2);
    for name in ["indus", "ravi", "sindh"] {
        node.append(
            &pta,
            "operator.registered",
            json!({"operator": name, "name": name}),
        );
    }
    let entries = node.check_all_entries();
    let bundle = node.get("/v1/bundle").text().unwrap();
    let lines: Vec<String> = bundle.lines().map(str::to_owned).collect();
    let header: Value = serde_json::from_str(&lines[0]).unwrap();
    let log_key = fixed_key(1);
    let leaves: Vec<[u8; 32]> = entries.iter().map(|e| leaf_hash(e)).collect();
    // A checkpoint note for `size` leaves (or `root`), signed with `key` under `name`.
    let note = |name: &str, size: usize, root: Option<[u8; 32]>, extra: &str, key: &SigningKey| {
        let root = root.unwrap_or_else(|| mth(&leaves[..size]));
        let body = format!("{ORIGIN}\n{size}\n{}\n{extra}", b64(&root));
        let mut payload = key_id_for(name, &key.verifying_key()).to_vec();
        payload.extend_from_slice(&key.sign(body.as_bytes()).to_bytes());
        format!("{body}\n\u{2014} {name} {}\n", b64(&payload))
    };
    let with_header = |header: &Value, entry_lines: &[String]| {
        let mut out = format!("{}\n", jcs_string(header));
        for line in entry_lines {
            out.push_str(line);
            out.push('\n');
        }
        out
    };
    let all = &lines[1..];
    let n = all.len();
    let mut bad: Vec<(&str, String)> = Vec::new();
    let mut h = header.clone();
    h["extra"] = json!(1);
    bad.push(("a header with an extra field", with_header(&h, all)));
    let mut h = header.clone();
    h.as_object_mut().unwrap().remove("log_key");
    bad.push(("a header without log_key", with_header(&h, all)));
    let mut h = header.clone();
    h["bundle"] = json!("hisaab/v2");
    bad.push(("another bundle version", with_header(&h, all)));
    let other = fixed_key(33);
    let mut h = header.clone();
    h["log_key"] = json!(vkey_string(&other.verifying_key()));
    h["checkpoint"] = json!(note(ORIGIN, n, None, "", &other));
    bad.push(("another log key, self-consistent", with_header(&h, all)));
    let mut h = header.clone();
    h["checkpoint"] = json!(note(
        ORIGIN,
        0,
        Some(Sha256::digest(b"").into()),
        "",
        &log_key
    ));
    bad.push(("no entries", with_header(&h, &[])));
    let mut h = header.clone();
    h["checkpoint"] = json!(note(ORIGIN, n - 1, None, "", &log_key));
    bad.push(("a checkpoint for fewer entries", with_header(&h, all)));
    let mut h = header.clone();
    h["checkpoint"] = json!(note(ORIGIN, n, Some([0xa5; 32]), "", &log_key));
    bad.push(("a checkpoint with another root", with_header(&h, all)));
    let mut h = header.clone();
    h["checkpoint"] = json!(note(ORIGIN, n, None, "extension line\n", &log_key));
    bad.push(("a checkpoint with an extension line", with_header(&h, all)));
    let mut h = header.clone();
    h["checkpoint"] = json!(note("someone.else/log", n, None, "", &log_key));
    bad.push((
        "a checkpoint signed under another name",
        with_header(&h, all),
    ));
    let mut spaced = all.to_vec();
    spaced[2] = spaced[2].replacen(':', ": ", 1);
    bad.push((
        "an entry that is not its leaf bytes",
        with_header(&header, &spaced),
    ));
    bad.push(("CRLF line endings", bundle.replace('\n', "\r\n")));
    bad.push(("no final newline", bundle.trim_end_matches('\n').to_owned()));
    bad.push(("a blank line after the entries", format!("{bundle}\n")));
    let mut swapped = all.to_vec();
    swapped.swap(1, 2);
    bad.push(("two entries swapped", with_header(&header, &swapped)));
    bad.push((
        "the header last",
        format!("{}\n{}\n", all.join("\n"), lines[0]),
    ));

    let sb = &node.sb;
    let good = sb.join("good.jsonl");
    std::fs::write(&good, &bundle).unwrap();
    let out = sb.run(&["verify", good.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut accepted = Vec::new();
    for (i, (name, text)) in bad.iter().enumerate() {
        let path = sb.join(&format!("bad-{i}.jsonl"));
        std::fs::write(&path, text).unwrap();
        let out = sb.run(&["verify", path.to_str().unwrap()]);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_no_private_key(&all, &all_fixed_seeds());
        if out.status.success() {
            accepted.push(format!("{name}: {all}"));
        }
    }
    assert!(
        accepted.is_empty(),
        "hisaab verify accepted:\n{}",
        accepted.join("\n")
    );

    // `replay` gives the state of §5 exactly as the server does, at any size and date.
    for (as_of, at) in [
        (None, None),
        (Some(2u64), None),
        (Some(3), Some("2100-01-01")),
    ] {
        let mut args = vec![
            "replay".to_owned(),
            good.to_str().unwrap().to_owned(),
            "--json".to_owned(),
        ];
        let mut query = Vec::new();
        if let Some(n) = as_of {
            args.extend(["--as-of".to_owned(), n.to_string()]);
            query.push(format!("as_of={n}"));
        }
        if let Some(at) = at {
            args.extend(["--at".to_owned(), at.to_owned()]);
            query.push(format!("at={at}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = sb.run(&args);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let replayed: Value = serde_json::from_str(&text).unwrap();
        let served = node.get_json(&format!("/v1/state?{}", query.join("&")));
        assert_eq!(replayed, served, "replay {args:?}");
    }
    node.finish();
}

// ---------------------------------------------------------------------------------------------
// §5 — the state.
// ---------------------------------------------------------------------------------------------

#[test]
#[allow(clippy::too_many_lines)] // One hand-built history and what it projects to.
fn state_has_the_exact_shape_digest_and_status_precedence() {
    let node = Node::start();
    let pta = fixed_key(2);
    let ciso = fixed_key(3);
    let evaluator = fixed_key(4);
    let witness = fixed_key(5);
    let ciso_ravi = fixed_key(6);
    let month = common::this_month();
    let previous = previous_month(&month);
    let key = |k: &SigningKey| b64(k.verifying_key().as_bytes());

    node.append(
        &pta,
        "operator.registered",
        json!({"operator":"indus","name":"Indus Mobile"}),
    );
    node.append(
        &pta,
        "operator.registered",
        json!({"operator":"ravi","name":"Ravi"}),
    );
    node.append(
        &pta,
        "member.enrolled",
        json!({"member":"ciso-indus","name":"Ayesha",
        "roles":["ciso"],"operator":"indus","key":key(&ciso)}),
    );
    node.append(
        &pta,
        "member.enrolled",
        json!({"member":"ciso-ravi","name":"Sana",
        "roles":["ciso"],"operator":"ravi","key":key(&ciso_ravi)}),
    );
    node.append(
        &pta,
        "member.enrolled",
        json!({"member":"eval-one","name":"Bilal",
        "roles":["evaluator","chair"],"key":key(&evaluator)}),
    );
    node.append(
        &pta,
        "member.enrolled",
        json!({"member":"wit","name":"W",
        "roles":["witness"],"key":key(&witness)}),
    );
    node.append(
        &pta,
        "member.revoked",
        json!({"member":"wit","reason":"left"}),
    );
    for (kpi, pillar) in [
        ("CR-01", "resilience"),
        ("CR-02", "resilience"),
        ("LG-01", "legal"),
        ("AW-01", "awareness"),
    ] {
        node.append(
            &pta,
            "kpi.defined",
            json!({"kpi":kpi,"pillar":pillar,"title":kpi,"unit":"%",
            "direction":"higher_is_better","cadence":"monthly","evidence_required":false}),
        );
    }
    node.append(
        &pta,
        "kpi.assigned",
        json!({"kpi":"CR-01","operator":"indus","target":"95",
        "baseline":"80","due":"2099-12-31","first_period":month}),
    );
    for kpi in ["CR-02", "LG-01", "AW-01"] {
        node.append(
            &pta,
            "kpi.assigned",
            json!({"kpi":kpi,"operator":"indus","target":"95",
            "due":"2099-12-31","first_period":previous}),
        );
    }
    let submit = |kpi: &str, period: &str, value: &str| {
        node.append(
            &ciso,
            "submission.filed",
            json!({"operator":"indus","kpi":kpi,
            "period":period,"value":value,"evidence":[],"note":""}),
        )["event_hash"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let evaluate = |submission: &str, verdict: &str, score: u64| {
        node.append(
            &evaluator,
            "evaluation.recorded",
            json!({"submission":submission,
            "verdict":verdict,"score":score,"rationale":"r"}),
        )["event_hash"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let cr01 = submit("CR-01", &month, "97.5");
    let cr01_eval = evaluate(&cr01, "met", 90);
    let cr02_old = submit("CR-02", &previous, "80");
    let cr02_eval = evaluate(&cr02_old, "not_met", 41);
    let cr02_new = submit("CR-02", &month, "85");
    let lg01 = submit("LG-01", &month, "1");
    let lg01_eval = evaluate(&lg01, "partially_met", 51);
    node.append(
        &pta,
        "kpi.assigned",
        json!({"kpi":"CR-01","operator":"ravi","target":"95",
        "due":"2099-12-31","first_period":month}),
    );
    let ravi_cr01 = node.append(
        &ciso_ravi,
        "submission.filed",
        json!({"operator":"ravi",
        "kpi":"CR-01","period":month,"value":"90","evidence":[],"note":""}),
    )["event_hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let ravi_eval = evaluate(&ravi_cr01, "partially_met", 71);
    node.append(
        &ciso,
        "commitment.made",
        json!({"commitment":"c-one","operator":"indus",
        "kpi":"CR-02","action":"patch","due":"2099-12-31","in_response_to":cr02_eval}),
    );
    node.append(
        &ciso,
        "commitment.made",
        json!({"commitment":"c-two","operator":"indus",
        "action":"train","due":"2099-12-31"}),
    );
    node.append(
        &evaluator,
        "commitment.closed",
        json!({"commitment":"c-two",
        "outcome":"fulfilled","note":""}),
    );
    let before_dispute = node.size();
    node.append(
        &ciso,
        "dispute.opened",
        json!({"dispute":"d-one","evaluation":cr01_eval,
        "grounds":"g"}),
    );
    let size = node.size();
    let entries = node.check_all_entries();
    let last: Value = serde_json::from_slice(entries.last().unwrap()).unwrap();
    let last_date = last["recorded_at"].as_str().unwrap()[..10].to_owned();

    let pillars = |legal: Value, resilience: Value| {
        json!({"legal":legal,"resilience":resilience,"monitoring":null,"capacity":null,
            "cooperation":null,"awareness":null})
    };
    let kpi = |pillar: &str,
               baseline: Option<&str>,
               first: &str,
               latest: Value,
               period: Value,
               value: Value,
               evaluation: Value,
               verdict: Value,
               score: Value,
               status: &str| {
        // SPEC §5: `baseline` is always present, `null` when the assignment has none.
        json!({"pillar":pillar,"target":"95","baseline":baseline,"due":"2099-12-31",
            "first_period":first,"latest_submission":latest,"period":period,"value":value,
            "evaluation":evaluation,"verdict":verdict,"score":score,"status":status})
    };
    // The state at `as_of` and `at`, built from SPEC §5 by hand.
    let expected = |as_of: u64, at: &str, disputed: bool| {
        let far = at > "2099-12-31";
        let cr01_status = if disputed { "disputed" } else { "met" };
        let cr02_status = if far { "overdue" } else { "submitted" };
        let lg01_status = if far { "overdue" } else { "partially_met" };
        let aw01_status = if far { "overdue" } else { "pending" };
        let mut state = json!({
            "ledger": node.ledger, "size": as_of, "at": at,
            "operators": {
                "indus": {"name":"Indus Mobile",
                    "kpis": {
                        "CR-01": kpi("resilience", Some("80"), &month, json!(cr01), json!(month),
                            json!("97.5"), json!(cr01_eval), json!("met"), json!(90), cr01_status),
                        "CR-02": kpi("resilience", None, &previous, json!(cr02_new), json!(month),
                            json!("85"), json!(cr02_eval), json!("not_met"), json!(41), cr02_status),
                        "LG-01": kpi("legal", None, &previous, json!(lg01), json!(month),
                            json!("1"), json!(lg01_eval), json!("partially_met"), json!(51),
                            lg01_status),
                        "AW-01": kpi("awareness", None, &previous, Value::Null, Value::Null,
                            Value::Null, Value::Null, Value::Null, Value::Null, aw01_status),
                    },
                    // (2·131 + 2) div 4 = 66 and (2·117 + 2) div 4 = 59: rounded half up.
                    "pillar_scores": pillars(json!(51), json!(66)),
                    "score": 59,
                    "commitments": {"open": if far {0} else {1}, "overdue": if far {1} else {0},
                        "fulfilled":1,"missed":0,"withdrawn":0},
                    "disputes": {"open": if disputed {1} else {0}, "upheld":0, "overturned":0}},
                "ravi": {"name":"Ravi",
                    "kpis":{"CR-01": kpi("resilience", None, &month, json!(ravi_cr01),
                        json!(month), json!("90"), json!(ravi_eval), json!("partially_met"),
                        json!(71), if far { "overdue" } else { "partially_met" })},
                    "pillar_scores":pillars(Value::Null, json!(71)),
                    "score":71,
                    "commitments":{"open":0,"overdue":0,"fulfilled":0,"missed":0,"withdrawn":0},
                    "disputes":{"open":0,"upheld":0,"overturned":0}}},
            // (2·(66 + 71) + 2) div 4 = 69.
            "sector": pillars(json!(51), json!(69)),
            "members": {
                "pta": {"roles":["authority"],"operator":null,"key":key(&pta),"status":"active"},
                "ciso-indus": {"roles":["ciso"],"operator":"indus","key":key(&ciso),"status":"active"},
                "ciso-ravi": {"roles":["ciso"],"operator":"ravi","key":key(&ciso_ravi),"status":"active"},
                "eval-one": {"roles":["chair","evaluator"],"operator":null,"key":key(&evaluator),"status":"active"},
                "wit": {"roles":["witness"],"operator":null,"key":key(&witness),"status":"revoked"}},
        });
        let digest = hex::encode(Sha256::digest(jcs(&state)));
        state["digest"] = json!(digest);
        state
    };
    let mut mismatches = Vec::new();
    for (query, as_of, at, disputed) in [
        (String::new(), size, last_date.clone(), true),
        (format!("?as_of={size}"), size, last_date.clone(), true),
        (
            "?at=2100-01-01".to_owned(),
            size,
            "2100-01-01".to_owned(),
            true,
        ),
        // `at` equal to `due` is not after it.
        (
            "?at=2099-12-31".to_owned(),
            size,
            "2099-12-31".to_owned(),
            true,
        ),
        (
            format!("?as_of={before_dispute}"),
            before_dispute,
            date_of(&entries[usize::try_from(before_dispute).unwrap() - 1]),
            false,
        ),
        (
            format!("?as_of={before_dispute}&at=2100-01-01"),
            before_dispute,
            "2100-01-01".to_owned(),
            false,
        ),
    ] {
        let served = node.get_json(&format!("/v1/state{query}"));
        // The served digest is SHA-256(JCS(state without digest)), recomputed here.
        let mut without = served.clone();
        without.as_object_mut().unwrap().remove("digest");
        assert_eq!(
            served["digest"],
            json!(hex::encode(Sha256::digest(jcs(&without)))),
            "{query}"
        );
        let want = expected(as_of, &at, disputed);
        if served != want {
            mismatches.push(format!(
                "/v1/state{query}:\n  served   {served}\n  expected {want}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    node.finish();
}

#[test]
#[allow(clippy::too_many_lines)] // One dispute story, step by step.
fn overturned_and_superseded_evaluations_drop_out_of_the_state() {
    let node = Node::start();
    let pta = fixed_key(2);
    let ciso = fixed_key(3);
    let evaluator = fixed_key(4);
    let month = common::this_month();
    let key = |k: &SigningKey| b64(k.verifying_key().as_bytes());
    node.append(
        &pta,
        "operator.registered",
        json!({"operator":"indus","name":"Indus"}),
    );
    node.append(
        &pta,
        "member.enrolled",
        json!({"member":"ciso-indus","name":"C",
        "roles":["ciso"],"operator":"indus","key":key(&ciso)}),
    );
    node.append(
        &pta,
        "member.enrolled",
        json!({"member":"eval-one","name":"E",
        "roles":["evaluator"],"key":key(&evaluator)}),
    );
    node.append(
        &pta,
        "kpi.defined",
        json!({"kpi":"CR-01","pillar":"resilience","title":"t",
        "unit":"%","direction":"higher_is_better","cadence":"monthly","evidence_required":false}),
    );
    node.append(
        &pta,
        "kpi.assigned",
        json!({"kpi":"CR-01","operator":"indus","target":"95",
        "due":"2099-12-31","first_period":month}),
    );
    let hash = |receipt: Value| receipt["event_hash"].as_str().unwrap().to_owned();
    let submission = hash(node.append(
        &ciso,
        "submission.filed",
        json!({"operator":"indus",
        "kpi":"CR-01","period":month,"value":"90","evidence":[],"note":""}),
    ));
    let e1 = hash(node.append(
        &evaluator,
        "evaluation.recorded",
        json!({"submission":submission,
        "verdict":"met","score":90,"rationale":"r"}),
    ));
    let e2 = hash(node.append(
        &evaluator,
        "evaluation.recorded",
        json!({"submission":submission,
        "verdict":"not_met","score":40,"rationale":"r","supersedes":e1}),
    ));
    node.append(
        &ciso,
        "dispute.opened",
        json!({"dispute":"d-one","evaluation":e2,"grounds":"g"}),
    );
    let kpi_state = || node.get_json("/v1/state")["operators"]["indus"]["kpis"]["CR-01"].clone();
    let summary = |k: &Value| {
        (
            k["evaluation"].clone(),
            k["verdict"].clone(),
            k["score"].clone(),
            k["status"].clone(),
        )
    };
    assert_eq!(
        summary(&kpi_state()),
        (json!(e2), json!("not_met"), json!(40), json!("disputed"))
    );

    // A resolution carries the digest of the state at `as_of` with the default `at`; `as_of`
    // is at least 1 and at most the resolution's own seq.
    let resolve = |dispute: &str, outcome: &str, as_of: u64, digest: String| {
        node.statement(
            &pta,
            "dispute.resolved",
            json!({"dispute":dispute,"outcome":outcome,
            "as_of":as_of,"state_digest":digest,"rationale":"heard"}),
        )
    };
    let size = node.size();
    let digest = |as_of: u64| {
        node.get_json(&format!("/v1/state?as_of={as_of}"))["digest"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for (name, statement) in [
        (
            "a wrong digest",
            resolve("d-one", "overturned", size, digest(size - 1)),
        ),
        ("as_of 0", resolve("d-one", "overturned", 0, digest(size))),
        (
            "as_of after its own seq",
            resolve("d-one", "overturned", size + 1, digest(size)),
        ),
    ] {
        let (status, body) = node.post_text(&node.envelope_text(&pta, &statement));
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {body}");
        check_error_shape(&body);
    }
    let resolution = resolve("d-one", "overturned", size, digest(size));
    let (status, body) = node.post_text(&node.envelope_text(&pta, &resolution));
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Overturning E2 voids it and does not revive E1, which it superseded.
    assert_eq!(
        summary(&kpi_state()),
        (Value::Null, Value::Null, Value::Null, json!("submitted"))
    );
    let state = node.get_json("/v1/state");
    assert_eq!(
        state["operators"]["indus"]["disputes"],
        json!({"open":0,"upheld":0,"overturned":1})
    );
    assert_eq!(
        state["operators"]["indus"]["pillar_scores"]["resilience"],
        Value::Null
    );
    assert_eq!(state["operators"]["indus"]["score"], Value::Null);
    // So a new evaluation of the submission names nothing in `supersedes`.
    for supersedes in [&e1, &e2] {
        let (status, body) = node.post_text(&node.envelope_text(
            &evaluator,
            &node.statement(
                &evaluator,
                "evaluation.recorded",
                json!({"submission":submission,"verdict":"met",
            "score":80,"rationale":"r","supersedes":supersedes}),
            ),
        ));
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    let e3 = hash(node.append(
        &evaluator,
        "evaluation.recorded",
        json!({"submission":submission,
        "verdict":"met","score":80,"rationale":"r"}),
    ));
    assert_eq!(
        summary(&kpi_state()),
        (json!(e3), json!("met"), json!(80), json!("met"))
    );

    // A dispute on an evaluation of a submission that is then superseded no longer marks the
    // KPI disputed; it still counts as open.
    node.append(
        &ciso,
        "dispute.opened",
        json!({"dispute":"d-two","evaluation":e3,"grounds":"g"}),
    );
    assert_eq!(kpi_state()["status"], json!("disputed"));
    let newer = hash(node.append(
        &ciso,
        "submission.filed",
        json!({"operator":"indus",
        "kpi":"CR-01","period":month,"value":"91","evidence":[],"note":"",
        "supersedes":submission}),
    ));
    let k = kpi_state();
    assert_eq!(
        summary(&k),
        (Value::Null, Value::Null, Value::Null, json!("submitted"))
    );
    assert_eq!(
        (k["latest_submission"].clone(), k["value"].clone()),
        (json!(newer), json!("91"))
    );
    let state = node.get_json("/v1/state");
    assert_eq!(
        state["operators"]["indus"]["disputes"],
        json!({"open":1,"upheld":0,"overturned":1})
    );
    node.check_all_entries();
    node.finish();
}

#[test]
fn concurrent_appends_keep_order_and_idempotence() {
    let node = Node::start();
    let pta = fixed_key(2);
    // The same envelope from many clients at once: one record, every answer its receipt.
    let same = node.envelope_text(
        &pta,
        &node.statement(
            &pta,
            "operator.registered",
            json!({"operator":"same","name":"S"}),
        ),
    );
    // Two envelopes with one id: one is recorded, the other is 409.
    let id = uuid::Uuid::now_v7().hyphenated().to_string();
    let twins: Vec<String> = ["twin-a", "twin-b"]
        .iter()
        .map(|slug| {
            let mut statement = node.statement(
                &pta,
                "operator.registered",
                json!({"operator":slug,"name":"T"}),
            );
            statement["id"] = json!(id);
            node.envelope_text(&pta, &statement)
        })
        .collect();
    let distinct: Vec<String> = (0..16)
        .map(|n| {
            node.envelope_text(
                &pta,
                &node.statement(
                    &pta,
                    "operator.registered",
                    json!({"operator":format!("c-{n}"),"name":"C"}),
                ),
            )
        })
        .collect();
    let mut texts: Vec<String> = Vec::new();
    for (n, text) in distinct.iter().enumerate() {
        texts.push(text.clone());
        if n % 2 == 0 {
            texts.push(same.clone());
        }
    }
    texts.extend(twins.iter().cloned());
    let answers: Vec<(String, StatusCode, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = texts
            .iter()
            .map(|text| {
                scope.spawn(|| {
                    let (status, body) = node.post_text(text);
                    (text.clone(), status, body)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let same_answers: Vec<&(String, StatusCode, Value)> =
        answers.iter().filter(|a| a.0 == same).collect();
    assert_eq!(
        same_answers
            .iter()
            .filter(|a| a.1 == StatusCode::CREATED)
            .count(),
        1,
        "{same_answers:?}"
    );
    assert!(
        same_answers
            .iter()
            .all(|a| (a.1 == StatusCode::CREATED || a.1 == StatusCode::OK)
                && a.2["seq"] == same_answers[0].2["seq"]),
        "{same_answers:?}"
    );
    let twin_statuses: BTreeSet<u16> = answers
        .iter()
        .filter(|a| twins.contains(&a.0))
        .map(|a| a.1.as_u16())
        .collect();
    assert_eq!(
        twin_statuses,
        [201, 409].into_iter().collect(),
        "{answers:?}"
    );
    for (_, status, body) in &answers {
        if *status == StatusCode::CREATED || *status == StatusCode::OK {
            node.check_receipt(body);
        }
    }
    // 16 distinct + 1 same + 1 twin, and recorded_at never decreases (checked per entry).
    assert_eq!(node.check_all_entries().len(), 1 + 16 + 1 + 1);
    node.finish();
}

#[test]
fn a_cosignature_built_from_the_c2sp_spec_is_collected() {
    let node = Node::start();
    let pta = fixed_key(2);
    let witness = fixed_key(8);
    let rotated = fixed_key(18);
    let evaluator = fixed_key(19);
    let key = |k: &SigningKey| b64(k.verifying_key().as_bytes());
    node.append(
        &pta,
        "member.enrolled",
        json!({"member":"wit-one","name":"W",
        "roles":["witness"],"key":key(&witness)}),
    );
    node.append(
        &pta,
        "member.enrolled",
        json!({"member":"eval-one","name":"E",
        "roles":["evaluator"],"key":key(&evaluator)}),
    );
    let body = || {
        let note = node.get("/v1/checkpoint").text().unwrap();
        format!("{}\n", note.split_once("\n\n").unwrap().0)
    };
    let post = |line: &str| {
        let response = node
            .http
            .post(format!("{}/v1/cosignatures", node.url()))
            .header("content-type", "text/plain")
            .body(line.to_owned())
            .send()
            .unwrap();
        let status = response.status();
        (status, response.text().unwrap())
    };
    let current = body();
    let line = cosignature_line("wit-one", &witness, &current);
    let (status, text) = post(&line);
    assert!(
        status == StatusCode::CREATED || status == StatusCode::OK,
        "{status} {text}"
    );
    let cosigned = node.get("/v1/checkpoint").text().unwrap();
    assert!(cosigned.starts_with(&current), "{cosigned}");
    assert!(cosigned.contains(&line), "{cosigned}");
    node.verify_checkpoint(&cosigned);

    // Only a member with the role `witness`, with its current key, under its member id.
    let mut refused = Vec::new();
    for (name, line) in [
        (
            "not a witness",
            cosignature_line("eval-one", &evaluator, &current),
        ),
        (
            "another member's name",
            cosignature_line("eval-one", &witness, &current),
        ),
        (
            "an unknown name",
            cosignature_line("nobody", &witness, &current),
        ),
    ] {
        let (status, text) = post(&line);
        if !status.is_client_error() {
            refused.push(format!("{name}: {status} {text}"));
        }
    }
    // After the checkpoint moves on, the old cosignature is not shown with the new one, and
    // the old key of a rotated witness, or a revoked witness, cosigns nothing.
    node.append(
        &pta,
        "member.key_rotated",
        json!({"member":"wit-one","new_key":key(&rotated)}),
    );
    let moved = node.get("/v1/checkpoint").text().unwrap();
    assert!(
        !moved.contains(&line),
        "a cosignature of an older checkpoint is shown: {moved}"
    );
    let (status, text) = post(&cosignature_line("wit-one", &witness, &body()));
    if !status.is_client_error() {
        refused.push(format!("the rotated-out key: {status} {text}"));
    }
    let (status, text) = post(&cosignature_line("wit-one", &rotated, &body()));
    assert!(
        status == StatusCode::CREATED || status == StatusCode::OK,
        "{status} {text}"
    );
    node.append(
        &pta,
        "member.revoked",
        json!({"member":"wit-one","reason":"r"}),
    );
    let (status, text) = post(&cosignature_line("wit-one", &rotated, &body()));
    if !status.is_client_error() {
        refused.push(format!("a revoked witness: {status} {text}"));
    }
    assert!(refused.is_empty(), "accepted:\n{}", refused.join("\n"));
    node.finish();
}

/// A C2SP tlog-cosignature line: key id SHA-256(name || 0x0A || 0x04 || key)[:4]; the message
/// is `cosignature/v1\ntime <t>\n` || body; the line carries key id || t (u64 BE) || signature.
fn cosignature_line(name: &str, key: &SigningKey, body: &str) -> String {
    let time: u64 = 1_800_000_000;
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0a, 0x04]);
    h.update(key.verifying_key().as_bytes());
    let id: [u8; 4] = h.finalize()[..4].try_into().unwrap();
    let message = format!("cosignature/v1\ntime {time}\n{body}");
    let mut payload = id.to_vec();
    payload.extend_from_slice(&time.to_be_bytes());
    payload.extend_from_slice(&key.sign(message.as_bytes()).to_bytes());
    format!("\u{2014} {name} {}\n", b64(&payload))
}

#[test]
fn receipts_are_durable_and_survive_a_crash() {
    let mut node = Node::start();
    let pta = fixed_key(2);
    let receipts: Vec<Value> = (0..5)
        .map(|n| {
            node.append(
                &pta,
                "operator.registered",
                json!({"operator":format!("op-{n}"),"name":"N"}),
            )
        })
        .collect();
    let before = node.check_all_entries();
    // SIGKILL, no graceful shutdown: every acknowledged entry must be there after a restart.
    node.restart_after_kill();
    let after = node.check_all_entries();
    assert_eq!(before, after);
    for receipt in &receipts {
        node.check_receipt(receipt);
    }
    node.finish();
}

#[test]
fn reads_refuse_bad_queries_in_the_error_shape_never_500() {
    let node = Node::start();
    let big = "18446744073709551615";
    let mut failures = Vec::new();
    for path in [
        "/v1/entries?start=-1".to_owned(),
        "/v1/entries?start=0&limit=-5".to_owned(),
        "/v1/entries?start=18446744073709551616".to_owned(),
        format!("/v1/entries?start={big}&limit={big}"),
        format!("/v1/entries/{big}"),
        "/v1/entries/99999999999999999999999".to_owned(),
        "/v1/events/00".to_owned(),
        format!("/v1/proofs/inclusion?index=0&tree_size={big}"),
        format!("/v1/proofs/inclusion?index={big}&tree_size={big}"),
        "/v1/proofs/inclusion".to_owned(),
        format!("/v1/proofs/consistency?from=1&to={big}"),
        format!("/v1/proofs/consistency?from={big}&to={big}"),
        format!("/v1/state?as_of={big}"),
        "/v1/state?at=2026-02-30".to_owned(),
        "/v1/state?at=2026-1-01".to_owned(),
        "/v1/state?as_of=1&as_of=1".to_owned(),
        "/v1/bundle?tree_size=0".to_owned(),
        "/v1/bundle?tree_size=x".to_owned(),
        format!("/v1/bundle?tree_size={big}"),
    ] {
        let response = node.get(&path);
        let status = response.status();
        let text = response.text().unwrap();
        match serde_json::from_str::<Value>(&text) {
            Ok(body) if status.is_client_error() => check_error_shape(&body),
            _ => failures.push(format!("{path}: {status} {text}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The server is still up.
    assert_eq!(node.size(), 1);
    node.finish();
}

// ---------------------------------------------------------------------------------------------
// §7 — statuses in their order of precedence, and receipts.
// ---------------------------------------------------------------------------------------------

#[test]
#[allow(clippy::too_many_lines)] // Each precedence pair is two lines; keeping them together.
fn statement_statuses_follow_the_order_of_precedence() {
    let node = Node::start();
    let pta = fixed_key(2);
    let ciso = fixed_key(3);
    let chair = fixed_key(4);
    let stranger = fixed_key(9);
    let key = |k: &SigningKey| b64(k.verifying_key().as_bytes());
    node.append(
        &pta,
        "operator.registered",
        json!({"operator":"indus","name":"Indus"}),
    );
    node.append(
        &pta,
        "member.enrolled",
        json!({"member":"ciso-indus","name":"C",
        "roles":["ciso"],"operator":"indus","key":key(&ciso)}),
    );
    node.append(
        &pta,
        "member.enrolled",
        json!({"member":"chair-one","name":"Ch",
        "roles":["chair"],"key":key(&chair)}),
    );
    let defined_statement = node.statement(
        &chair,
        "kpi.defined",
        json!({"kpi":"CR-01",
        "pillar":"resilience","title":"t","unit":"%","direction":"higher_is_better",
        "cadence":"monthly","evidence_required":false}),
    );
    let defined_text = node.envelope_text(&chair, &defined_statement);
    let (status, defined) = node.post_text(&defined_text);
    assert_eq!(status, StatusCode::CREATED, "{defined}");
    let used_id = defined_statement["id"].as_str().unwrap().to_owned();

    let with_id = |signer: &SigningKey, kind: &str, body: Value, id: &str| {
        let mut statement = node.statement(signer, kind, body);
        statement["id"] = json!(id);
        statement
    };
    let forge = |statement: &Value| {
        // Signed by another key than `signer`: the signature does not verify.
        jcs_string(&json!({"statement": statement,
            "signature": sign_statement(&stranger, statement)}))
    };
    let huge = |signer: &SigningKey| {
        node.statement(
            signer,
            "operator.registered",
            json!({"operator":"big","name":"B","ext":{"pad":"a".repeat(70_000)}}),
        )
    };
    let op = |name: &str| json!({"operator": name, "name": "N"});
    let mut cases: Vec<(&str, String, StatusCode)> = Vec::new();
    cases.push((
        "over-size and a bad signature → 413",
        forge(&huge(&pta)),
        StatusCode::PAYLOAD_TOO_LARGE,
    ));
    let mut statement = huge(&pta);
    statement["extra"] = json!(1);
    cases.push((
        "over-size and malformed → 413",
        node.envelope_text(&pta, &statement),
        StatusCode::PAYLOAD_TOO_LARGE,
    ));
    cases.push((
        "over-size and a reused id → 413",
        node.envelope_text(&pta, &{
            let mut s = huge(&pta);
            s["id"] = json!(used_id);
            s
        }),
        StatusCode::PAYLOAD_TOO_LARGE,
    ));
    let mut statement = node.statement(&pta, "operator.registered", op("p1"));
    statement["extra"] = json!(1);
    cases.push((
        "malformed and a bad signature → 400",
        forge(&statement),
        StatusCode::BAD_REQUEST,
    ));
    cases.push((
        "malformed and an unknown signer → 400",
        {
            let mut s = node.statement(&stranger, "operator.registered", op("p2"));
            s["body"]["extra"] = json!(1);
            node.envelope_text(&stranger, &s)
        },
        StatusCode::BAD_REQUEST,
    ));
    cases.push((
        "a bad signature and a reused id → 401",
        forge(&with_id(&pta, "operator.registered", op("p3"), &used_id)),
        StatusCode::UNAUTHORIZED,
    ));
    cases.push((
        "an unknown signer and a reused id → 401",
        node.envelope_text(
            &stranger,
            &with_id(&stranger, "operator.registered", op("p4"), &used_id),
        ),
        StatusCode::UNAUTHORIZED,
    ));
    cases.push((
        "an unknown signer and the wrong ledger → 401",
        {
            let mut s = node.statement(&stranger, "operator.registered", op("p5"));
            s["ledger"] = json!(hex::encode([7u8; 32]));
            node.envelope_text(&stranger, &s)
        },
        StatusCode::UNAUTHORIZED,
    ));
    cases.push((
        "a forbidden kind and a reused id → 403",
        node.envelope_text(
            &ciso,
            &with_id(&ciso, "operator.registered", op("p6"), &used_id),
        ),
        StatusCode::FORBIDDEN,
    ));
    cases.push((
        "a reused id and the wrong ledger → 409",
        {
            let mut s = with_id(&pta, "operator.registered", op("p7"), &used_id);
            s["ledger"] = json!(hex::encode([7u8; 32]));
            node.envelope_text(&pta, &s)
        },
        StatusCode::CONFLICT,
    ));
    cases.push((
        "a reused id and a stale issued_at → 409",
        {
            let mut s = with_id(&pta, "operator.registered", op("p8"), &used_id);
            s["issued_at"] = json!("2001-01-01T00:00:00Z");
            node.envelope_text(&pta, &s)
        },
        StatusCode::CONFLICT,
    ));
    cases.push((
        "a reused id and an existing operator → 409",
        node.envelope_text(
            &pta,
            &with_id(&pta, "operator.registered", op("indus"), &used_id),
        ),
        StatusCode::CONFLICT,
    ));
    cases.push((
        "the wrong ledger and an existing operator → 422",
        {
            let mut s = node.statement(&pta, "operator.registered", op("indus"));
            s["ledger"] = json!(hex::encode([7u8; 32]));
            node.envelope_text(&pta, &s)
        },
        StatusCode::UNPROCESSABLE_ENTITY,
    ));
    // Rule 4 with the genesis policy (the CLI's defaults: 300 s ahead, 7 days old).
    let genesis: Value = serde_json::from_slice(&node.entry_bytes(0)).unwrap();
    let policy = &genesis["statement"]["body"]["policy"];
    let (skew, age) = (
        policy["max_future_skew_s"].as_i64().unwrap(),
        policy["max_age_s"].as_i64().unwrap(),
    );
    let now_s = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    for (name, at, want) in [
        (
            "issued too far ahead → 422",
            now_s + skew + 120,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "issued too long ago → 422",
            now_s - age - 120,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "issued a little ahead → 201",
            now_s + skew - 120,
            StatusCode::CREATED,
        ),
        (
            "issued a while ago → 201",
            now_s - age + 120,
            StatusCode::CREATED,
        ),
    ] {
        let mut s = node.statement(
            &pta,
            "operator.registered",
            op(&format!("t{}", at.rem_euclid(1_000_000))),
        );
        s["issued_at"] = json!(utc(at));
        cases.push((name, node.envelope_text(&pta, &s), want));
    }
    cases.push((
        "trailing garbage → 400",
        format!("{defined_text} x"),
        StatusCode::BAD_REQUEST,
    ));
    cases.push((
        "two envelopes → 400",
        format!("{defined_text}{defined_text}"),
        StatusCode::BAD_REQUEST,
    ));
    cases.push(("not JSON → 400", "{".to_owned(), StatusCode::BAD_REQUEST));
    cases.push((
        "a JSON array → 400",
        "[]".to_owned(),
        StatusCode::BAD_REQUEST,
    ));
    // Deep nesting is bad input: 400, never a crash or a 500.
    cases.push((
        "deeply nested → 400",
        {
            let mut s = node.statement(&pta, "operator.registered", op("deep"));
            s["body"]["ext"] = json!({});
            let text = node.envelope_text(&pta, &s);
            text.replacen(
                "\"ext\":{}",
                &format!(
                    "\"ext\":{{\"x\":{}1{}}}",
                    "[".repeat(20_000),
                    "]".repeat(20_000)
                ),
                1,
            )
        },
        StatusCode::BAD_REQUEST,
    ));
    let mut failures = Vec::new();
    for (name, text, want) in &cases {
        if *want == StatusCode::CREATED {
            let (status, body) = node.post_text(text);
            if status == *want {
                node.check_receipt(&body);
            } else {
                failures.push(format!("{name}: got {status} {body}"));
            }
        }
    }
    cases.retain(|case| case.2 != StatusCode::CREATED);
    let (status, body) = node.post_bytes(b"{\"statement\":\"\xff\"}");
    if status == StatusCode::BAD_REQUEST {
        check_error_shape(&body);
    } else {
        failures.push(format!("not UTF-8: got {status} {body}"));
    }
    for (name, text, want) in &cases {
        let (status, body) = node.post_text(text);
        if status != *want {
            failures.push(format!("{name}: got {status} {body}"));
        } else {
            check_error_shape(&body);
        }
    }
    // The size limit of rule 1 is on the canonical bytes: exactly 65,536 is accepted, one more
    // is 413, and whitespace the client adds does not count.
    let padded = |total: usize, slug: &str| {
        let mut s = node.statement(
            &pta,
            "operator.registered",
            json!({"operator":slug,"name":"P","ext":{"pad":""}}),
        );
        let base = node.envelope_text(&pta, &s).len();
        s["body"]["ext"]["pad"] = json!("a".repeat(total - base));
        let text = node.envelope_text(&pta, &s);
        assert_eq!(text.len(), total);
        text
    };
    let (status, body) = node.post_text(&padded(65_537, "pad-over"));
    if status != StatusCode::PAYLOAD_TOO_LARGE {
        failures.push(format!("65,537 canonical bytes: got {status} {body}"));
    }
    let (status, body) = node.post_text(&padded(65_536, "pad-exact"));
    if status != StatusCode::CREATED {
        failures.push(format!("65,536 canonical bytes: got {status} {body}"));
    }
    let spaced = padded(65_000, "pad-spaced").replace(',', &format!("{},", " ".repeat(100)));
    assert!(spaced.len() > 65_536);
    let (status, body) = node.post_text(&spaced);
    if status != StatusCode::CREATED {
        failures.push(format!(
            "65,000 canonical bytes sent with whitespace: got {status} {body}"
        ));
    }
    assert!(
        failures.is_empty(),
        "wrong status:\n{}",
        failures.join("\n")
    );

    // An envelope already in the ledger: 200 with its original receipt, whatever changed
    // since — here its signer rotated and was then revoked — and whatever its JSON spelling.
    node.append(
        &pta,
        "member.key_rotated",
        json!({"member":"chair-one",
        "new_key": b64(fixed_key(14).verifying_key().as_bytes())}),
    );
    node.append(
        &pta,
        "member.revoked",
        json!({"member":"chair-one","reason":"left"}),
    );
    let (status, body) = node.post_text(&node.envelope_text(
        &chair,
        &node.statement(
            &chair,
            "kpi.defined",
            json!({"kpi":"CR-02","pillar":"resilience","title":"t","unit":"%",
        "direction":"higher_is_better","cadence":"monthly","evidence_required":false}),
        ),
    ));
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a revoked member signs: {body}"
    );
    let pretty =
        serde_json::to_string_pretty(&serde_json::from_str::<Value>(&defined_text).unwrap())
            .unwrap();
    for text in [
        defined_text.clone(),
        pretty,
        defined_text.replacen("\"kind\":\"kpi", "\"kind\":\"\\u006bpi", 1),
    ] {
        let (status, again) = node.post_text(&text);
        assert_eq!(
            status,
            StatusCode::OK,
            "resubmitted after revocation: {again}"
        );
        // The whole receipt, checkpoint and proof included, is the one first given.
        assert_eq!(again, defined, "the original receipt");
        node.check_receipt(&again);
    }
    // The genesis envelope itself is in the ledger, too.
    let genesis: Value = serde_json::from_slice(&node.entry_bytes(0)).unwrap();
    let genesis_envelope = jcs_string(&json!({"statement": genesis["statement"],
        "signature": genesis["signature"]}));
    let (status, again) = node.post_text(&genesis_envelope);
    assert_eq!(
        (status, again["seq"].clone()),
        (StatusCode::OK, json!(0)),
        "the genesis resubmitted: {again}"
    );
    node.check_receipt(&again);
    node.check_all_entries();
    node.finish();
}

// ---------------------------------------------------------------------------------------------
// §8 — keys.
// ---------------------------------------------------------------------------------------------

#[test]
fn keygen_writes_pkcs8_with_mode_0600_and_prints_no_private_key() {
    let sb = Sandbox::new();
    let path = sb.join("k.pem");
    // Under a permissive umask, too.
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 000; exec \"$0\" keygen \"$1\" --log-name conformance.test/hisaab")
        .arg(common::bin())
        .arg(&path)
        .env("HISAAB_STATE", sb.state_file())
        .env("HOME", sb.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let pem = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = pem.lines().collect();
    assert_eq!(lines.len(), 3, "{pem}");
    assert_eq!(
        (lines[0], lines[2]),
        ("-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----")
    );
    let der = b64_decode(lines[1]);
    assert_eq!(der.len(), 48);
    assert_eq!(
        hex::encode(&der[..16]),
        "302e020100300506032b657004220420",
        "PKCS#8 v1 Ed25519"
    );
    let seed: [u8; 32] = der[16..].try_into().unwrap();
    let public = SigningKey::from_bytes(&seed).verifying_key();
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    assert!(stdout.contains(&b64(public.as_bytes())), "{stdout}");
    assert!(stdout.contains(&vkey_string(&public)), "{stdout}");
    assert_no_private_key(
        &format!("{stdout}{}", String::from_utf8_lossy(&output.stderr)),
        &[seed],
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // OpenSSL reads it as an Ed25519 private key, when it is installed.
    if let Ok(out) = std::process::Command::new("openssl")
        .args(["pkey", "-in"])
        .arg(&path)
        .args(["-noout", "-text_pub"])
        .stdin(std::process::Stdio::null())
        .output()
    {
        assert!(
            out.status.success(),
            "openssl pkey: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).to_lowercase();
        assert!(text.contains("ed25519"), "{text}");
    }
    // A log key's name is a C2SP key name: 1–255 bytes, no whitespace, no `+`.
    for name in ["has+plus", "has space", "", &"a".repeat(256)] {
        let out = sb.run(&[
            "keygen",
            sb.join("bad-name.pem").to_str().unwrap(),
            "--log-name",
            name,
        ]);
        assert!(
            !out.status.success(),
            "keygen --log-name {name:?} was accepted"
        );
        assert!(!sb.join("bad-name.pem").exists() || !out.status.success());
        let _ = std::fs::remove_file(sb.join("bad-name.pem"));
        let out = sb.run(&["pubkey", path.to_str().unwrap(), "--log-name", name]);
        assert!(
            !out.status.success(),
            "pubkey --log-name {name:?} was accepted"
        );
    }
    // pubkey prints the public key only.
    let out = sb.run(&["pubkey", path.to_str().unwrap()]);
    assert!(out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains(&b64(public.as_bytes())), "{all}");
    assert_no_private_key(&all, &[seed]);
    // sign: an envelope on stdout, no key.
    std::fs::write(sb.join("body.json"), r#"{"operator":"x","name":"X"}"#).unwrap();
    let out = sb.run(&[
        "sign",
        "--key",
        path.to_str().unwrap(),
        "--kind",
        "operator.registered",
        "--body",
        sb.join("body.json").to_str().unwrap(),
        "--ledger",
        &hex::encode([1u8; 32]),
    ]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{all}");
    assert_no_private_key(&all, &[seed]);
}

// ---------------------------------------------------------------------------------------------
// The node under test.
// ---------------------------------------------------------------------------------------------

/// A running server over a new ledger (log key `fixed_key(1)`, authority `fixed_key(2)` as
/// member `pta`). Fields drop in order: the server before its sandbox.
struct Node {
    server: Option<Server>,
    sb: Sandbox,
    http: Client,
    /// The ledger id, hex.
    ledger: String,
}

impl Node {
    fn start() -> Node {
        let sb = Sandbox::new();
        write_pem(&sb.join("log.pem"), &fixed_key(1));
        write_pem(&sb.join("pta.pem"), &fixed_key(2));
        let data = sb.join("ledger");
        let out = sb.run(&[
            "init",
            "--data",
            data.to_str().unwrap(),
            "--log-key",
            sb.join("log.pem").to_str().unwrap(),
            "--authority-key",
            sb.join("pta.pem").to_str().unwrap(),
            "--authority-member",
            "pta",
            "--origin",
            ORIGIN,
            "--title",
            "Conformance ledger",
        ]);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "init: {all}");
        assert_no_private_key(&all, &all_fixed_seeds());
        let server = Server::start(&sb, &data, &sb.join("log.pem"));
        let http = server.http();
        let mut node = Node {
            server: Some(server),
            sb,
            http,
            ledger: String::new(),
        };
        node.ledger = hex::encode(leaf_hash(&node.entry_bytes(0)));
        assert!(
            all.contains(&node.ledger),
            "init prints the ledger id: {all}"
        );
        node
    }

    fn get(&self, path: &str) -> reqwest::blocking::Response {
        self.http
            .get(format!("{}{path}", self.url()))
            .send()
            .unwrap()
    }

    fn get_json(&self, path: &str) -> Value {
        let response = self.get(path);
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        serde_json::from_str(&response.text().unwrap()).unwrap()
    }

    fn entry_bytes(&self, seq: usize) -> Vec<u8> {
        let response = self.get(&format!("/v1/entries/{seq}"));
        assert_eq!(response.status(), StatusCode::OK);
        response.bytes().unwrap().to_vec()
    }

    fn size(&self) -> u64 {
        self.get_json("/healthz")["size"].as_u64().unwrap()
    }

    /// A statement of `kind` by `signer`, issued now, with a fresh lowercase UUIDv7.
    fn statement(&self, signer: &SigningKey, kind: &str, body: Value) -> Value {
        json!({"v":1,"ledger":self.ledger,"id":uuid::Uuid::now_v7().hyphenated().to_string(),
            "kind":kind,"signer":b64(signer.verifying_key().as_bytes()),
            "issued_at":common::now().as_str(),"body":body})
    }

    /// The canonical envelope text of `statement` signed by `key`.
    fn envelope_text(&self, key: &SigningKey, statement: &Value) -> String {
        jcs_string(&json!({"statement": statement, "signature": sign_statement(key, statement)}))
    }

    fn post_text(&self, text: &str) -> (StatusCode, Value) {
        self.post_bytes(text.as_bytes())
    }

    fn post_bytes(&self, bytes: &[u8]) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}/v1/statements", self.url()))
            .header("content-type", "application/json")
            .body(bytes.to_vec())
            .send()
            .unwrap();
        let status = response.status();
        let text = response.text().unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Signs and posts; expects 201 and a receipt that checks; returns the receipt.
    fn append(&self, key: &SigningKey, kind: &str, body: Value) -> Value {
        let (status, receipt) =
            self.post_text(&self.envelope_text(key, &self.statement(key, kind, body)));
        assert_eq!(status, StatusCode::CREATED, "{kind}: {receipt}");
        self.check_receipt(&receipt);
        receipt
    }

    /// SPEC §7: the receipt's fields; its checkpoint is signed, covers the entry, has the root
    /// of the leaves up to its size; its inclusion proof is RFC 9162's for that size.
    fn check_receipt(&self, receipt: &Value) {
        assert_eq!(
            keys(receipt),
            set(&[
                "seq",
                "event_hash",
                "recorded_at",
                "checkpoint",
                "inclusion_proof"
            ]),
            "{receipt}"
        );
        let seq = usize::try_from(receipt["seq"].as_u64().unwrap()).unwrap();
        let (size, root) = self.verify_checkpoint(receipt["checkpoint"].as_str().unwrap());
        let size = usize::try_from(size).unwrap();
        assert!(
            seq < size,
            "the receipt's checkpoint (size {size}) does not cover seq {seq}"
        );
        let leaves: Vec<[u8; 32]> = (0..size).map(|i| leaf_hash(&self.entry_bytes(i))).collect();
        assert_eq!(root, mth(&leaves), "the receipt's checkpoint root");
        assert_eq!(receipt["event_hash"], json!(hex::encode(leaves[seq])));
        assert_eq!(
            receipt["inclusion_proof"],
            hex_list(&path(seq, &leaves)),
            "{receipt}"
        );
        let entry: Value = serde_json::from_slice(&self.entry_bytes(seq)).unwrap();
        assert_eq!(receipt["recorded_at"], entry["recorded_at"]);
    }

    /// Checks a checkpoint note per C2SP tlog-checkpoint and signed-note: three body lines
    /// (origin, decimal size, base64 root), no extension lines, then a blank line and a
    /// signature line naming the origin with the key id of SPEC §3, which verifies. Returns
    /// the size and the root.
    fn verify_checkpoint(&self, note: &str) -> (u64, [u8; 32]) {
        let (body, signatures) = note
            .split_once("\n\n")
            .unwrap_or_else(|| panic!("{note:?}"));
        let body = format!("{body}\n");
        let lines: Vec<&str> = body.lines().collect();
        assert_eq!(lines.len(), 3, "exactly 3 body lines: {note:?}");
        assert_eq!(lines[0], ORIGIN);
        let size: u64 = lines[1].parse().unwrap();
        assert_eq!(lines[1], size.to_string(), "the size in decimal");
        let root: [u8; 32] = b64_decode(lines[2]).try_into().unwrap();
        assert_eq!(b64(&root), lines[2]);
        assert!(signatures.ends_with('\n'), "{note:?}");
        let log_public = fixed_key(1).verifying_key();
        let key_id = key_id(&log_public);
        let mut found = false;
        for line in signatures.lines() {
            let rest = line
                .strip_prefix("\u{2014} ")
                .unwrap_or_else(|| panic!("{line:?}"));
            let (name, signature) = rest.split_once(' ').unwrap();
            if name != ORIGIN {
                continue;
            }
            let bytes = b64_decode(signature);
            assert_eq!(bytes.len(), 68);
            assert_eq!(bytes[..4], key_id, "key id");
            let signature = ed25519_dalek::Signature::from_slice(&bytes[4..]).unwrap();
            log_public
                .verify_strict(body.as_bytes(), &signature)
                .unwrap();
            found = true;
        }
        assert!(found, "no signature line names the origin: {note:?}");
        (size, root)
    }

    /// SPEC §2 over every entry: leaf bytes are JCS(entry) (re-canonicalised here); exactly
    /// the fields; `seq`, `prev`; `recorded_at` in the grammar and non-decreasing; entry 0 and
    /// only it is the genesis, whose event hash is the ledger id every other statement names;
    /// every signature verifies strictly over `hisaab/statement/v1\n` || JCS(statement). The
    /// list, one entry and the entry by event hash answer the same bytes. Returns the leaves.
    fn check_all_entries(&self) -> Vec<Vec<u8>> {
        let size = usize::try_from(self.size()).unwrap();
        let response = self.get(&format!("/v1/entries?start=0&limit={size}"));
        assert_eq!(response.status(), StatusCode::OK);
        let list = response.bytes().unwrap().to_vec();
        assert!(list.ends_with(b"\n"));
        let lines: Vec<Vec<u8>> = list[..list.len() - 1]
            .split(|b| *b == b'\n')
            .map(<[u8]>::to_vec)
            .collect();
        assert_eq!(lines.len(), size);
        let mut prev = hex::encode([0u8; 32]);
        let mut last_time: Option<(String, String)> = None;
        for (seq, leaf) in lines.iter().enumerate() {
            let value: Value = serde_json::from_slice(leaf).unwrap();
            assert_eq!(&jcs(&value), leaf, "entry {seq} is not JCS(entry)");
            assert_eq!(
                &self.entry_bytes(seq),
                leaf,
                "GET /v1/entries/{seq} is not the leaf bytes"
            );
            let event = hex::encode(leaf_hash(leaf));
            let response = self.get(&format!("/v1/events/{event}"));
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(
                &response.bytes().unwrap().to_vec(),
                leaf,
                "GET /v1/events/{event}"
            );
            assert_eq!(
                keys(&value),
                set(&["seq", "prev", "recorded_at", "statement", "signature"])
            );
            assert_eq!(value["seq"], json!(seq));
            assert_eq!(value["prev"], json!(prev), "entry {seq}: prev");
            let recorded_at = value["recorded_at"].as_str().unwrap();
            let instant = timestamp_key(recorded_at).unwrap_or_else(|| panic!("{recorded_at:?}"));
            if let Some(last) = &last_time {
                assert!(*last <= instant, "entry {seq}: recorded_at decreases");
            }
            last_time = Some(instant);
            let statement = &value["statement"];
            let genesis = seq == 0;
            let mut fields = set(&["v", "id", "kind", "signer", "issued_at", "body"]);
            if !genesis {
                fields.insert("ledger".to_owned());
                assert_eq!(
                    statement["ledger"],
                    json!(self.ledger),
                    "entry {seq}: ledger"
                );
            }
            assert_eq!(keys(statement), fields, "entry {seq}");
            assert_eq!(
                statement["kind"] == json!("ledger.genesis"),
                genesis,
                "entry {seq}: kind"
            );
            let signer: [u8; 32] = b64_decode(statement["signer"].as_str().unwrap())
                .try_into()
                .unwrap();
            let signer = VerifyingKey::from_bytes(&signer).unwrap();
            let signature = ed25519_dalek::Signature::from_slice(&b64_decode(
                value["signature"].as_str().unwrap(),
            ))
            .unwrap();
            let mut input = SIGNING_PREFIX.to_vec();
            input.extend_from_slice(&jcs(statement));
            signer
                .verify_strict(&input, &signature)
                .unwrap_or_else(|_| panic!("entry {seq}: signature"));
            assert!(signer.verify_strict(&jcs(statement), &signature).is_err());
            prev = event;
        }
        lines
    }

    /// Kills the server with SIGKILL and starts a new one over the same data directory.
    fn restart_after_kill(&mut self) {
        // Dropping the guard kills the process (SIGKILL) and waits for it.
        drop(self.server.take());
        let server = Server::start(&self.sb, &self.sb.join("ledger"), &self.sb.join("log.pem"));
        self.http = server.http();
        self.server = Some(server);
    }

    fn url(&self) -> &str {
        &self.server.as_ref().unwrap().url
    }

    /// Stops the server gracefully and checks its log for private key material.
    fn finish(self) {
        let Node { server, sb, .. } = self;
        server.unwrap().stop();
        for file in std::fs::read_dir(sb.path()).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|e| e == "log") {
                assert_no_private_key(&std::fs::read_to_string(&path).unwrap(), &all_fixed_seeds());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Independent helpers: JCS, base64, timestamps, RFC 9162, C2SP key ids, secrets.
// ---------------------------------------------------------------------------------------------

/// RFC 8785 for the JSON the test handles (integers, and the few floats of the refused cases).
fn jcs(value: &Value) -> Vec<u8> {
    let mut out = String::new();
    write_jcs(value, &mut out);
    out.into_bytes()
}

fn jcs_string(value: &Value) -> String {
    String::from_utf8(jcs(value)).unwrap()
}

fn write_jcs(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_jcs_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_jcs(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            // RFC 8785 §3.2.3: by UTF-16 code units.
            keys.sort_by_key(|k| k.encode_utf16().collect::<Vec<u16>>());
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_jcs_string(key, out);
                out.push(':');
                write_jcs(&map[key], out);
            }
            out.push('}');
        }
    }
}

fn write_jcs_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn sign_statement(key: &SigningKey, statement: &Value) -> String {
    let mut input = SIGNING_PREFIX.to_vec();
    input.extend_from_slice(&jcs(statement));
    b64(&key.sign(&input).to_bytes())
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Lenient decoding (ignores the trailing bits), for the test's own use.
fn b64_decode(text: &str) -> Vec<u8> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes().filter(|c| *c != b'=') {
        let v = B64
            .iter()
            .position(|x| *x == c)
            .unwrap_or_else(|| panic!("{text:?}"));
        bits = bits << 6 | u32::try_from(v).unwrap();
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push(u8::try_from((bits >> count) & 0xff).unwrap());
        }
    }
    out
}

/// The same bytes in non-canonical base64: the last character before the padding gets its
/// lowest (unused) bit set.
fn set_trailing_bits(canonical: &str) -> String {
    let data = canonical.trim_end_matches('=');
    assert!(
        data.len() < canonical.len(),
        "needs padding to have unused bits"
    );
    let last = data.as_bytes()[data.len() - 1];
    let index = B64.iter().position(|x| *x == last).unwrap() | 1;
    format!(
        "{}{}{}",
        &data[..data.len() - 1],
        char::from(B64[index]),
        &canonical[data.len()..]
    )
}

/// `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` with real calendar values and seconds 00–59, as a key that
/// orders instants; `None` outside the grammar.
fn timestamp_key(text: &str) -> Option<(String, String)> {
    let b = text.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || *b.last()? != b'Z'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        text.get(r)
            .filter(|s| s.bytes().all(|c| c.is_ascii_digit()))?
            .parse()
            .ok()
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month)
        || day == 0
        || day > days[month as usize - 1]
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let fraction = &text[19..text.len() - 1];
    let fraction = match fraction.strip_prefix('.') {
        None if fraction.is_empty() => String::new(),
        Some(f) if (1..=9).contains(&f.len()) && f.bytes().all(|c| c.is_ascii_digit()) => {
            f.to_owned()
        }
        _ => return None,
    };
    Some((text[..19].to_owned(), format!("{fraction:0<9}")))
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (days to civil date after H. Hinnant).
fn utc(seconds: i64) -> String {
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn date_of(leaf: &[u8]) -> String {
    let value: Value = serde_json::from_slice(leaf).unwrap();
    value["recorded_at"].as_str().unwrap()[..10].to_owned()
}

fn previous_month(month: &str) -> String {
    let (year, m) = month.split_once('-').unwrap();
    let (year, m): (u32, u32) = (year.parse().unwrap(), m.parse().unwrap());
    if m == 1 {
        format!("{:04}-12", year - 1)
    } else {
        format!("{year:04}-{:02}", m - 1)
    }
}

/// RFC 9162 §2.1.1.
fn leaf_hash(leaf: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(leaf);
    h.finalize().into()
}

fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH (RFC 9162 §2.1.1).
fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves.len() {
        0 => Sha256::digest(b"").into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

/// PATH (RFC 9162 §2.1.3.1).
fn path(m: usize, leaves: &[[u8; 32]]) -> Vec<[u8; 32]> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut p = path(m, &leaves[..k]);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = path(m - k, &leaves[k..]);
        p.push(mth(&leaves[..k]));
        p
    }
}

/// SUBPROOF (RFC 9162 §2.1.4.1).
fn subproof(m: usize, leaves: &[[u8; 32]], complete: bool) -> Vec<[u8; 32]> {
    let n = leaves.len();
    if m == n {
        return if complete {
            Vec::new()
        } else {
            vec![mth(leaves)]
        };
    }
    let k = split(n);
    if m <= k {
        let mut p = subproof(m, &leaves[..k], complete);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = subproof(m - k, &leaves[k..], false);
        p.push(mth(&leaves[..k]));
        p
    }
}

fn hex_list(hashes: &[[u8; 32]]) -> Value {
    json!(hashes.iter().map(hex::encode).collect::<Vec<_>>())
}

/// C2SP signed-note key id for an Ed25519 key: SHA-256(name || 0x0A || 0x01 || key)[:4].
fn key_id(key: &VerifyingKey) -> [u8; 4] {
    key_id_for(ORIGIN, key)
}

fn key_id_for(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0a, 0x01]);
    h.update(key.as_bytes());
    h.finalize()[..4].try_into().unwrap()
}

fn vkey_string(key: &VerifyingKey) -> String {
    let mut typed = vec![0x01];
    typed.extend_from_slice(key.as_bytes());
    format!("{ORIGIN}+{}+{}", hex::encode(key_id(key)), b64(&typed))
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// SPEC §7: `{"error":{"code":"<snake_case>","message":"..."}}`, exactly.
fn check_error_shape(body: &Value) {
    assert_eq!(keys(body), set(&["error"]), "{body}");
    assert_eq!(keys(&body["error"]), set(&["code", "message"]), "{body}");
    let code = body["error"]["code"].as_str().unwrap();
    assert!(
        code.starts_with(|c: char| c.is_ascii_lowercase())
            && code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "{body}"
    );
    assert!(
        !body["error"]["message"].as_str().unwrap().is_empty(),
        "{body}"
    );
}

fn all_fixed_seeds() -> Vec<[u8; 32]> {
    (1..=60u8).map(|n| [n; 32]).collect()
}

/// No form of a private key in `text`: the seed in hex or base64, the seed with its public
/// key (the 64-byte keypair), or the PEM body.
fn assert_no_private_key(text: &str, seeds: &[[u8; 32]]) {
    for seed in seeds {
        let key = SigningKey::from_bytes(seed);
        let mut der = hex::decode("302e020100300506032b657004220420").unwrap();
        der.extend_from_slice(seed);
        for secret in [
            hex::encode(seed),
            hex::encode(seed).to_uppercase(),
            b64(seed),
            b64(&key.to_keypair_bytes()),
            b64(&der),
        ] {
            assert!(
                !text.contains(&secret),
                "private key material printed: {secret}\n{text}"
            );
        }
    }
}

#[test]
fn demo_prints_no_private_key_and_writes_keys_0600() {
    let sb = Sandbox::new();
    let data = sb.join("demo");
    let out = sb.run(&["demo", "--no-serve", "--data", data.to_str().unwrap()]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{all}");
    let mut seeds = Vec::new();
    for file in std::fs::read_dir(data.join("keys")).unwrap() {
        let path = file.unwrap().path();
        let pem = std::fs::read_to_string(&path).unwrap();
        let Some(body) = pem.lines().nth(1).filter(|_| pem.contains("PRIVATE KEY")) else {
            continue;
        };
        assert!(!all.contains(body), "{} printed", path.display());
        seeds.push(<[u8; 32]>::try_from(&b64_decode(body)[16..]).unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", path.display());
        }
    }
    assert!(seeds.len() > 3);
    assert_no_private_key(&all, &seeds);
}
