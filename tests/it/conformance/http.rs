//! SPEC §7: statuses in their order of precedence, receipts, concurrency, reads, and
//! durability across a crash.

use super::*;

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
