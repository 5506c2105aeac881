//! SPEC §5: the state on hand-built histories.

use super::*;

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
