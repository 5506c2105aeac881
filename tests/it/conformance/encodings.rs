//! SPEC §1: the profile of canonical JSON; each refused form is a 400 in the error shape.

use super::*;

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
    statement["v"] = json!(3);
    cases.push(("v = 3", node.envelope_text(&pta, &statement)));
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
    // A signer with y >= p is canonical base64 of 32 bytes, which the OpenAPI description
    // allows (no schema can say which 32 bytes are a key): SPEC §7.2 step 5 answers it as a
    // signature that cannot verify, 401 `bad_signature`, not as a malformed envelope.
    let mut statement = node.statement(&pta, "operator.registered", op("f-signer-y"));
    statement["signer"] = json!(y_over_p);
    let (status, body) = node.post_text(&node.envelope_text(&pta, &statement));
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "bad_signature", "{body}");

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
