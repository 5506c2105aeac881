//! Wrong-typed and malformed documents fail their schemas, one test per section of the SPEC
//! (envelopes §1, entries §2, bodies §4, the state §5).

use super::*;

/// SPEC §1: envelopes and statements of the wrong type or form.
#[test]
fn envelopes_that_break_section_1_fail() {
    let envelope = compile("envelope.schema.json");
    let genesis = step_of_kind("ledger.genesis");
    let filed = step_of_kind("submission.filed");
    assert_valid(&envelope, &genesis, "the genesis envelope");
    for (what, bad) in [
        ("v = 3", with(&filed, "/statement/v", json!(3))),
        ("v = 0", with(&filed, "/statement/v", json!(0))),
        ("v as a string", with(&filed, "/statement/v", json!("1"))),
        (
            "no ledger outside genesis",
            without(&filed, "/statement/ledger"),
        ),
        (
            "a ledger in genesis",
            adding(
                &genesis,
                "/statement",
                "ledger",
                filed["statement"]["ledger"].clone(),
            ),
        ),
        (
            "a null ledger",
            with(&filed, "/statement/ledger", Value::Null),
        ),
        (
            "an uppercase ledger",
            with(
                &filed,
                "/statement/ledger",
                json!(filed["statement"]["ledger"]
                    .as_str()
                    .unwrap()
                    .to_uppercase()),
            ),
        ),
        (
            "an unknown kind",
            with(&filed, "/statement/kind", json!("submission.deleted")),
        ),
        (
            "an uppercase id",
            with(
                &filed,
                "/statement/id",
                json!(filed["statement"]["id"].as_str().unwrap().to_uppercase()),
            ),
        ),
        (
            "a timestamp with an offset",
            with(
                &filed,
                "/statement/issued_at",
                json!("2026-03-04T09:00:00+05:00"),
            ),
        ),
        (
            "a timestamp at second 60",
            with(
                &filed,
                "/statement/issued_at",
                json!("2026-03-04T09:00:60Z"),
            ),
        ),
        (
            "a signer of 31 bytes",
            with(
                &filed,
                "/statement/signer",
                json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="),
            ),
        ),
        (
            "a non-canonical signature",
            with(
                &filed,
                "/signature",
                json!(format!(
                    "{}B==",
                    &filed["signature"].as_str().unwrap()[..85]
                )),
            ),
        ),
        (
            "a body that is an array",
            with(&filed, "/statement/body", json!([])),
        ),
        (
            "an extra statement field",
            adding(&filed, "/statement", "extra", json!(true)),
        ),
        (
            "an extra envelope field",
            adding(&filed, "", "extra", json!(true)),
        ),
        ("no signature", without(&filed, "/signature")),
    ] {
        assert_invalid(&envelope, &bad, what);
    }
}

/// SPEC §2: entries of the wrong type or form.
#[test]
fn entries_that_break_section_2_fail() {
    let fixture = fixture();
    let entry = compile("entry.schema.json");
    let leaf: Value = serde_json::from_slice(fixture.entries[3].leaf_bytes()).unwrap();
    assert_valid(&entry, &leaf, "entry 3");
    for (what, bad) in [
        ("seq as a string", with(&leaf, "/seq", json!("3"))),
        ("a negative seq", with(&leaf, "/seq", json!(-1))),
        ("a fractional seq", with(&leaf, "/seq", json!(3.5))),
        (
            "seq over 2^53-1",
            with(&leaf, "/seq", json!(9_007_199_254_740_992u64)),
        ),
        ("a short prev", with(&leaf, "/prev", json!("00"))),
        (
            "recorded_at as a number",
            with(&leaf, "/recorded_at", json!(1_764_579_600)),
        ),
        ("no recorded_at", without(&leaf, "/recorded_at")),
    ] {
        assert_invalid(&entry, &bad, what);
    }
}

/// SPEC §4: bodies of every kind with a field of the wrong type or form, or an unknown one.
#[test]
fn bodies_that_break_section_4_fail() {
    let body_of = |kind: &str| step_of_kind(kind)["statement"]["body"].clone();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "submission.filed",
            with(&body_of("submission.filed"), "/value", json!(97.5)),
            "a numeric value",
        ),
        (
            "submission.filed",
            with(&body_of("submission.filed"), "/value", json!("97,5")),
            "a decimal comma",
        ),
        (
            "submission.filed",
            with(&body_of("submission.filed"), "/period", json!("2026-3")),
            "a short period",
        ),
        (
            "submission.filed",
            with(
                &body_of("submission.filed"),
                "/operator",
                json!("Indus Mobile"),
            ),
            "an operator that is not a slug",
        ),
        (
            "submission.filed",
            with(&body_of("submission.filed"), "/kpi", json!("cr-01")),
            "a lowercase KPI id",
        ),
        (
            "submission.filed",
            with(
                &body_of("submission.filed"),
                "/evidence",
                json!([{"name": "x.pdf", "sha256": "00", "bytes": 1}]),
            ),
            "evidence with a short hash",
        ),
        (
            "submission.filed",
            with(
                &body_of("submission.filed"),
                "/evidence",
                json!([{"name": "x.pdf", "sha256": "0".repeat(64), "bytes": "1"}]),
            ),
            "evidence bytes as a string",
        ),
        (
            "submission.filed",
            adding(&body_of("submission.filed"), "", "supersedes", Value::Null),
            "a null supersedes",
        ),
        (
            "submission.filed",
            without(&body_of("submission.filed"), "/note"),
            "no note",
        ),
        (
            "evaluation.recorded",
            with(&body_of("evaluation.recorded"), "/score", json!(101)),
            "a score over 100",
        ),
        (
            "evaluation.recorded",
            with(&body_of("evaluation.recorded"), "/score", json!("80")),
            "a score as a string",
        ),
        (
            "evaluation.recorded",
            with(
                &body_of("evaluation.recorded"),
                "/verdict",
                json!("exceeded"),
            ),
            "an unknown verdict",
        ),
        (
            "member.enrolled",
            with(&body_of("member.enrolled"), "/roles", json!(["admin"])),
            "an unknown role",
        ),
        (
            "member.enrolled",
            adding(&body_of("member.enrolled"), "", "operator", Value::Null),
            "a null operator",
        ),
        (
            "member.enrolled",
            with(&body_of("member.enrolled"), "/roles", json!([])),
            "no roles",
        ),
        (
            "member.enrolled",
            with(
                &body_of("member.enrolled"),
                "/roles",
                json!(["chair", "chair"]),
            ),
            "a repeated role",
        ),
        (
            "meeting.recorded",
            with(
                &body_of("meeting.recorded"),
                "/attendees",
                json!(["pta", "pta"]),
            ),
            "a repeated attendee",
        ),
        (
            "submission.filed",
            with(
                &body_of("submission.filed"),
                "/evidence",
                Value::Array(vec![body_of("submission.filed")["evidence"][0].clone(); 65]),
            ),
            "65 evidence objects",
        ),
        (
            "dispute.resolved",
            with(
                &body_of("dispute.resolved"),
                "/as_of",
                json!(9_007_199_254_740_992u64),
            ),
            "as_of over 2^53-1",
        ),
        (
            "kpi.defined",
            with(&body_of("kpi.defined"), "/evidence_required", json!("yes")),
            "a string boolean",
        ),
        (
            "kpi.defined",
            with(&body_of("kpi.defined"), "/pillar", json!("finance")),
            "an unknown pillar",
        ),
        (
            "kpi.assigned",
            with(&body_of("kpi.assigned"), "/due", json!("31/12/2026")),
            "a date in another format",
        ),
        (
            "meeting.recorded",
            with(&body_of("meeting.recorded"), "/minutes_sha256", json!(42)),
            "a numeric hash",
        ),
        (
            "dispute.resolved",
            with(&body_of("dispute.resolved"), "/as_of", json!("12")),
            "as_of as a string",
        ),
        (
            "dispute.resolved",
            with(&body_of("dispute.resolved"), "/outcome", json!("dismissed")),
            "an unknown outcome",
        ),
        (
            "ledger.genesis",
            with(&body_of("ledger.genesis"), "/policy/max_age_s", json!(-1)),
            "a negative policy",
        ),
        (
            "operator.registered",
            with(&body_of("operator.registered"), "/name", json!("")),
            "an empty name",
        ),
        (
            "commitment.closed",
            with(&body_of("commitment.closed"), "/outcome", json!("done")),
            "an unknown outcome",
        ),
        (
            "kpi.assigned",
            with(&body_of("kpi.assigned"), "/due", json!("2026-13-01")),
            "a date in month 13",
        ),
        (
            "kpi.assigned",
            with(&body_of("kpi.assigned"), "/due", json!("2026-12-32")),
            "a date on day 32",
        ),
        (
            "submission.filed",
            with(&body_of("submission.filed"), "/period", json!("2026-00")),
            "a period in month 0",
        ),
        (
            "member.enrolled",
            with(
                &body_of("member.enrolled"),
                "/key",
                json!(non_canonical_key(&body_of("member.enrolled")["key"])),
            ),
            "a key whose unused bits are set",
        ),
        (
            "ledger.genesis",
            with(
                &body_of("ledger.genesis"),
                "/log_key",
                json!(other_type_vkey(&body_of("ledger.genesis")["log_key"])),
            ),
            "a verifier key of another type than Ed25519",
        ),
    ];
    for (kind, bad, what) in cases {
        let schema = compile(&format!("body/{kind}.schema.json"));
        assert_valid(&schema, &body_of(kind), kind);
        assert_invalid(&schema, &bad, &format!("{kind}: {what}"));
        let extra = adding(&body_of(kind), "", "unknown", json!(1));
        assert_invalid(&schema, &extra, &format!("{kind}: an unknown field"));
    }
}

/// SPEC §5: states of the wrong type or form.
#[test]
fn states_that_break_section_5_fail() {
    let fixture = fixture();
    let schema = compile("state.schema.json");
    let size = fixture.ledger.entries().len() as u64;
    let state = serde_json::to_value(fixture.ledger.state_at(size, None).unwrap()).unwrap();
    let (operator, operator_state) = state["operators"]
        .as_object()
        .unwrap()
        .iter()
        .next()
        .unwrap();
    let kpi = operator_state["kpis"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap();
    let kpi_pointer = format!("/operators/{operator}/kpis/{kpi}");
    for (what, bad) in [
        ("size as a string", with(&state, "/size", json!("3"))),
        ("no digest", without(&state, "/digest")),
        (
            "an unknown status",
            with(&state, &format!("{kpi_pointer}/status"), json!("great")),
        ),
        (
            "a missing verdict key",
            without(&state, &format!("{kpi_pointer}/verdict")),
        ),
        (
            "a pillar score as a string",
            with(&state, "/sector/legal", json!("80")),
        ),
        ("a missing pillar", without(&state, "/sector/awareness")),
        (
            "an unknown member status",
            with(&state, "/members/pta/status", json!("gone")),
        ),
        (
            "a member key that is not base64",
            with(&state, "/members/pta/key", json!("not a key")),
        ),
        (
            "unsorted or unknown roles",
            with(&state, "/members/pta/roles", json!(["root"])),
        ),
        (
            "a commitment count as a string",
            with(
                &state,
                &format!("/operators/{operator}/commitments/open"),
                json!("1"),
            ),
        ),
        ("a numeric date", with(&state, "/at", json!(20_261_231))),
        (
            "a date in month 13",
            with(&state, "/at", json!("2026-13-01")),
        ),
        (
            "an operator id that is not a slug",
            adding(&state, "/operators", "Indus Mobile", operator_state.clone()),
        ),
        (
            "a KPI id that is not one",
            adding(
                &state,
                &format!("/operators/{operator}/kpis"),
                "kpi one",
                operator_state["kpis"][kpi].clone(),
            ),
        ),
        (
            "a score over 100",
            with(&state, &format!("/operators/{operator}/score"), json!(101)),
        ),
        (
            "an extra top-level key",
            adding(&state, "", "extra", json!(null)),
        ),
    ] {
        assert_invalid(&schema, &bad, what);
    }
}

/// Replaces the value at a JSON pointer.
fn with(value: &Value, pointer: &str, replacement: Value) -> Value {
    let mut value = value.clone();
    *value
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer}")) = replacement;
    value
}

/// Removes the member at a JSON pointer.
fn without(value: &Value, pointer: &str) -> Value {
    let mut value = value.clone();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    value
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .and_then(|o| o.remove(key))
        .unwrap_or_else(|| panic!("no {pointer}"));
    value
}

fn step_of_kind(kind: &str) -> Value {
    let step = fixture()
        .scenario
        .steps
        .iter()
        .find(|s| s.envelope.statement.kind == kind)
        .unwrap_or_else(|| panic!("the scenario has no {kind}"));
    serde_json::to_value(&step.envelope).unwrap()
}

/// The standard base64 alphabet, by value.
const BASE64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The verifier key with its type byte 0x01 (Ed25519) made 0x02, the key bytes kept: the base64
/// `A` + 01xxxx becomes `A` + 10xxxx.
fn other_type_vkey(vkey: &Value) -> String {
    let vkey = vkey.as_str().unwrap();
    let (head, key) = vkey.rsplit_once('+').unwrap();
    let second = key.chars().nth(1).unwrap();
    let index = BASE64.find(second).unwrap();
    assert!(
        key.starts_with('A') && (16..32).contains(&index),
        "{vkey} is Ed25519"
    );
    format!("{head}+A{}{}", &BASE64[index + 16..index + 17], &key[2..])
}

/// A base64 public key with its last character before the `=` moved to one that sets an unused
/// bit: the same 32 bytes, not canonically encoded.
fn non_canonical_key(key: &Value) -> String {
    let key = key.as_str().unwrap();
    let (head, last) = key.split_at(42);
    let last = last.chars().next().unwrap();
    let index = BASE64.find(last).unwrap();
    assert_eq!(index % 4, 0, "{key} is canonical");
    format!("{head}{}=", &BASE64[index + 1..index + 2])
}

/// Adds the member `key` to the object at a JSON pointer.
fn adding(value: &Value, pointer: &str, key: &str, added: Value) -> Value {
    let mut value = value.clone();
    value
        .pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {pointer:?}"))
        .insert(key.to_owned(), added);
    value
}
