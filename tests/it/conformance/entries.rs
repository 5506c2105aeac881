//! SPEC §2 and §3: entries, the chain, checkpoints, proofs, and a cosignature built from the
//! C2SP spec alone.

use super::*;

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
    // 400: the request breaks the description (a size of 0); 404: it names a tree, a leaf or a
    // proof the ledger does not have.
    for (path, status) in [
        (
            "/v1/proofs/consistency?from=0&to=1".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/v1/proofs/consistency?from=0&to=0".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/v1/proofs/consistency?from=3&to=2".to_owned(),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/v1/proofs/consistency?from=1&to={}", size + 1),
            StatusCode::NOT_FOUND,
        ),
        (
            "/v1/proofs/inclusion?index=0&tree_size=0".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/v1/proofs/inclusion?index=2&tree_size=2".to_owned(),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let response = node.get(&path);
        assert_eq!(response.status(), status, "{path}");
        check_error_shape(&serde_json::from_str(&response.text().unwrap()).unwrap());
    }
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
