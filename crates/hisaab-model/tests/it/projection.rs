//! The projection of SPEC §5: status precedence, rounding and counts, worked by hand.

use hisaab_log::{jcs, Date, Hash};
use hisaab_model::{KpiId, KpiState, KpiStatus, MemberStatus, OperatorState, Role, Slug, State};
use hisaab_testkit::{evaluation, public_b64, seed, submission, Builder};
use serde_json::{json, Value};

fn date(text: &str) -> Date {
    Date::try_parse(text).unwrap()
}

fn operator<'a>(state: &'a State, id: &str) -> &'a OperatorState {
    &state.operators[&Slug::try_new(id).unwrap()]
}

fn kpi<'a>(state: &'a State, op: &str, id: &str) -> &'a KpiState {
    &operator(state, op).kpis[&KpiId::try_new(id).unwrap()]
}

fn resolve(b: &mut Builder, dispute: &str, outcome: &str) {
    let as_of = b.ledger.size();
    let digest = b.ledger.state_at(as_of, None).unwrap().digest();
    b.append(
        seed::AUTHORITY,
        "dispute.resolved",
        json!({"dispute": dispute, "outcome": outcome, "as_of": as_of, "state_digest": digest,
            "rationale": "r"}),
    );
}

#[test]
fn status_follows_the_precedence_of_spec_section_5() {
    let mut b = Builder::standard();
    let s = b.ledger.ledger().state(None);
    // at = 2026-11-01 (the date of the last recorded_at).
    assert_eq!(s.at, date("2026-11-01"));
    assert_eq!(kpi(&s, "indus", "CR-01").status, KpiStatus::Pending);
    assert_eq!(kpi(&s, "indus", "MN-01").status, KpiStatus::Pending);
    // MN-01 is due 2026-11-15: overdue only when `at` is *after* due.
    let s = b.ledger.ledger().state(Some(date("2026-11-15")));
    assert_eq!(kpi(&s, "indus", "MN-01").status, KpiStatus::Pending);
    let s = b.ledger.ledger().state(Some(date("2026-11-16")));
    assert_eq!(kpi(&s, "indus", "MN-01").status, KpiStatus::Overdue);

    // Submitted: a latest submission without an effective evaluation.
    let cr = b.append(
        seed::CISO_INDUS,
        "submission.filed",
        submission("indus", "CR-01", "2026-10", "97.5"),
    );
    let s = b.ledger.ledger().state(None);
    let k = kpi(&s, "indus", "CR-01");
    assert_eq!(k.status, KpiStatus::Submitted);
    assert_eq!(k.latest_submission, Some(cr));
    assert_eq!(k.value.as_ref().unwrap().as_str(), "97.5");
    assert_eq!((k.evaluation, k.verdict, k.score), (None, None, None));
    // Overdue beats submitted.
    let s = b.ledger.ledger().state(Some(date("2027-01-01")));
    assert_eq!(kpi(&s, "indus", "CR-01").status, KpiStatus::Overdue);

    // Met beats overdue.
    let e = b.append(
        seed::EVALUATOR,
        "evaluation.recorded",
        evaluation(cr, "met", 80),
    );
    let s = b.ledger.ledger().state(Some(date("2027-01-01")));
    assert_eq!(kpi(&s, "indus", "CR-01").status, KpiStatus::Met);
    assert_eq!(kpi(&s, "indus", "CR-01").evaluation, Some(e));

    // A verdict other than met shows as itself before the due date, and overdue after it.
    let lg = b.append(
        seed::CISO_INDUS,
        "submission.filed",
        submission("indus", "LG-01", "2026-10", "40"),
    );
    b.append(
        seed::EVALUATOR,
        "evaluation.recorded",
        evaluation(lg, "partially_met", 61),
    );
    let s = b.ledger.ledger().state(None);
    assert_eq!(kpi(&s, "indus", "LG-01").status, KpiStatus::PartiallyMet);
    let s = b.ledger.ledger().state(Some(date("2027-01-01")));
    assert_eq!(kpi(&s, "indus", "LG-01").status, KpiStatus::Overdue);

    // A newer period without an evaluation: submitted; verdict and score stay those of the
    // greatest period that has an effective evaluation; period and value are the latest's.
    let lg2 = b.append(
        seed::CISO_INDUS,
        "submission.filed",
        submission("indus", "LG-01", "2026-11", "45"),
    );
    let s = b.ledger.ledger().state(None);
    let k = kpi(&s, "indus", "LG-01");
    assert_eq!(k.status, KpiStatus::Submitted);
    assert_eq!(k.latest_submission, Some(lg2));
    assert_eq!(k.period.unwrap().to_string(), "2026-11");
    assert_eq!(k.value.as_ref().unwrap().as_str(), "45");
    assert_eq!(
        (k.verdict, k.score),
        (Some(hisaab_model::Verdict::PartiallyMet), Some(61))
    );

    // Disputed beats met; overturning voids the evaluation.
    b.append(
        seed::CISO_INDUS,
        "dispute.opened",
        json!({"dispute": "d1", "evaluation": e, "grounds": "g"}),
    );
    let s = b.ledger.ledger().state(None);
    assert_eq!(kpi(&s, "indus", "CR-01").status, KpiStatus::Disputed);
    assert_eq!(operator(&s, "indus").disputes.open, 1);
    resolve(&mut b, "d1", "overturned");
    let s = b.ledger.ledger().state(None);
    let k = kpi(&s, "indus", "CR-01");
    assert_eq!(k.status, KpiStatus::Submitted);
    assert_eq!((k.evaluation, k.verdict, k.score), (None, None, None));
    assert_eq!(operator(&s, "indus").disputes.overturned, 1);
    assert_eq!(operator(&s, "indus").disputes.open, 0);
}

#[test]
fn scores_are_rounded_means_half_up() {
    let mut b = Builder::standard();
    let evaluate = |b: &mut Builder, op: &str, ciso: u8, kpi: &str, verdict: &str, score: u8| {
        let s = b.append(
            ciso,
            "submission.filed",
            submission(op, kpi, "2026-10", "1"),
        );
        b.append(
            seed::EVALUATOR,
            "evaluation.recorded",
            evaluation(s, verdict, score),
        );
    };
    evaluate(&mut b, "indus", seed::CISO_INDUS, "CR-01", "met", 80);
    evaluate(
        &mut b,
        "indus",
        seed::CISO_INDUS,
        "LG-01",
        "partially_met",
        61,
    );
    evaluate(
        &mut b,
        "karakoram",
        seed::CISO_KARAKORAM,
        "CR-01",
        "partially_met",
        71,
    );
    let s = b.ledger.ledger().state(None);
    let indus = operator(&s, "indus");
    assert_eq!(indus.pillar_scores.resilience, Some(80));
    assert_eq!(indus.pillar_scores.legal, Some(61));
    assert_eq!(indus.pillar_scores.monitoring, None); // MN-01 has no score yet
                                                      // indus: (2·(80 + 61) + 2) div 4 = 284 div 4 = 71 (70.5 rounds up).
    assert_eq!(indus.score, Some(71));
    // karakoram: resilience 71 only.
    assert_eq!(operator(&s, "karakoram").score, Some(71));
    // sector resilience: (2·(80 + 71) + 2) div 4 = 304 div 4 = 76 (75.5 rounds up).
    assert_eq!(s.sector.resilience, Some(76));
    assert_eq!(s.sector.legal, Some(61));
    assert_eq!(s.sector.awareness, None);

    // Two KPIs in one pillar: monitoring gets a second KPI for indus.
    b.append(
        seed::AUTHORITY,
        "kpi.defined",
        json!({"kpi": "MN-02", "pillar": "monitoring",
        "title": "t", "unit": "u", "direction": "lower_is_better", "cadence": "once",
        "evidence_required": false}),
    );
    b.append(
        seed::CHAIR,
        "kpi.assigned",
        hisaab_testkit::assignment("MN-02", "indus", "1", "2026-12-31"),
    );
    evaluate(&mut b, "indus", seed::CISO_INDUS, "MN-01", "not_met", 33);
    evaluate(&mut b, "indus", seed::CISO_INDUS, "MN-02", "met", 34);
    let s = b.ledger.ledger().state(None);
    let indus = operator(&s, "indus");
    // monitoring: (2·67 + 2) div 4 = 136 div 4 = 34 (33.5 rounds up).
    assert_eq!(indus.pillar_scores.monitoring, Some(34));
    // indus: pillars 80, 61, 34: (2·175 + 3) div 6 = 353 div 6 = 58 (58.33).
    assert_eq!(indus.score, Some(58));
}

#[test]
fn commitments_count_as_open_overdue_or_their_outcome() {
    let mut b = Builder::standard();
    for (id, due) in [
        ("c1", "2026-11-10"),
        ("c2", "2026-11-10"),
        ("c3", "2026-12-31"),
        ("c4", "2026-12-31"),
    ] {
        b.append(
            seed::CISO_INDUS,
            "commitment.made",
            json!({"commitment": id, "operator": "indus", "action": "a", "due": due}),
        );
    }
    b.append(
        seed::EVALUATOR,
        "commitment.closed",
        json!({"commitment": "c2", "outcome": "fulfilled", "note": ""}),
    );
    b.append(
        seed::EVALUATOR,
        "commitment.closed",
        json!({"commitment": "c4", "outcome": "withdrawn", "note": "n"}),
    );
    let counts = |at: &str| operator(&b.ledger.ledger().state(Some(date(at))), "indus").commitments;
    let c = counts("2026-11-10");
    assert_eq!(
        (c.open, c.overdue, c.fulfilled, c.missed, c.withdrawn),
        (2, 0, 1, 0, 1)
    );
    let c = counts("2026-11-11");
    assert_eq!(
        (c.open, c.overdue, c.fulfilled, c.missed, c.withdrawn),
        (1, 1, 1, 0, 1)
    );
    assert_eq!(
        operator(&b.ledger.ledger().state(None), "karakoram")
            .commitments
            .open,
        0
    );
}

#[test]
fn members_show_sorted_roles_operator_current_key_and_status() {
    let mut b = Builder::standard();
    b.append(
        seed::AUTHORITY,
        "member.enrolled",
        json!({"member": "multi", "name": "M",
        "roles": ["witness", "ciso", "chair"], "operator": "karakoram", "key": public_b64(80)}),
    );
    b.append(
        80,
        "member.key_rotated",
        json!({"member": "multi", "new_key": public_b64(81)}),
    );
    b.append(
        seed::AUTHORITY,
        "member.revoked",
        json!({"member": "eval", "reason": "r"}),
    );
    let s = b.ledger.ledger().state(None);
    let multi = &s.members[&Slug::try_new("multi").unwrap()];
    assert_eq!(multi.roles, vec![Role::Chair, Role::Ciso, Role::Witness]);
    assert_eq!(multi.key.to_base64(), public_b64(81));
    assert_eq!(multi.operator.as_ref().unwrap().as_str(), "karakoram");
    assert_eq!(multi.status, MemberStatus::Active);
    assert_eq!(
        s.members[&Slug::try_new("eval").unwrap()].status,
        MemberStatus::Revoked
    );
    let pta = &s.members[&Slug::try_new("pta").unwrap()];
    assert_eq!(
        (pta.roles.clone(), pta.operator.clone()),
        (vec![Role::Authority], None)
    );
}

#[test]
fn the_json_has_exactly_the_shape_of_spec_section_5_and_its_digest() {
    let mut b = Builder::standard();
    let s = b.append(
        seed::CISO_INDUS,
        "submission.filed",
        submission("indus", "CR-01", "2026-10", "97.5"),
    );
    b.append(
        seed::EVALUATOR,
        "evaluation.recorded",
        evaluation(s, "met", 80),
    );
    b.append(
        seed::CHAIR,
        "kpi.assigned",
        json!({"kpi": "LG-01", "operator": "karakoram", "target": "90",
        "baseline": "50", "due": "2026-12-31", "first_period": "2026-01"}),
    );
    let state = b.ledger.ledger().state(None);
    let json: Value = serde_json::from_slice(&state.to_canonical_json()).unwrap();
    let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(
        keys(&json),
        [
            "at",
            "digest",
            "ledger",
            "members",
            "operators",
            "sector",
            "size"
        ]
    );
    assert_eq!(json["size"], json!(b.ledger.size()));
    assert_eq!(
        json["ledger"],
        json!(b.ledger.ledger().ledger_id().unwrap())
    );
    assert_eq!(
        keys(&json["operators"]["indus"]),
        [
            "commitments",
            "disputes",
            "kpis",
            "name",
            "pillar_scores",
            "score"
        ]
    );
    assert_eq!(
        keys(&json["operators"]["indus"]["kpis"]["CR-01"]),
        [
            "baseline",
            "due",
            "evaluation",
            "first_period",
            "latest_submission",
            "period",
            "pillar",
            "score",
            "status",
            "target",
            "value",
            "verdict"
        ]
    );
    assert_eq!(json["operators"]["indus"]["kpis"]["CR-01"]["status"], "met");
    assert_eq!(
        json["operators"]["indus"]["kpis"]["LG-01"]["latest_submission"],
        Value::Null
    );
    // `baseline` is always present: `null` when the assignment in force has none (SPEC §5).
    assert_eq!(
        json["operators"]["indus"]["kpis"]["LG-01"]["baseline"],
        Value::Null
    );
    assert_eq!(
        json["operators"]["karakoram"]["kpis"]["LG-01"]["baseline"],
        "50"
    );
    assert_eq!(
        keys(&json["sector"]),
        [
            "awareness",
            "capacity",
            "cooperation",
            "legal",
            "monitoring",
            "resilience"
        ]
    );
    assert_eq!(json["sector"]["legal"], Value::Null);
    assert_eq!(
        json["operators"]["indus"]["commitments"],
        json!({"open": 0, "overdue": 0, "fulfilled": 0, "missed": 0, "withdrawn": 0})
    );
    assert_eq!(
        json["operators"]["indus"]["disputes"],
        json!({"open": 0, "upheld": 0, "overturned": 0})
    );
    assert_eq!(
        keys(&json["members"]["ciso-indus"]),
        ["key", "operator", "roles", "status"]
    );
    assert_eq!(json["members"]["chair"]["operator"], Value::Null);
    // digest = SHA-256(JCS(state without digest)), computed independently.
    let mut without = json.clone();
    without.as_object_mut().unwrap().remove("digest");
    let expected = Hash::sha256(&jcs::canonicalize_profile(&without).unwrap());
    assert_eq!(state.digest(), expected);
    assert_eq!(json["digest"], json!(expected));
    // A state read back is equal and its digest checks.
    let back: State = serde_json::from_value(json).unwrap();
    assert_eq!(back, state);
    assert!(back.has_valid_digest());
}

#[test]
fn the_same_entries_and_at_always_give_the_same_digest() {
    let a = Builder::standard();
    let b = Builder::standard();
    assert_eq!(a.ledger.ledger().state(None), b.ledger.ledger().state(None));
    let at = Some(date("2027-01-01"));
    assert_eq!(
        a.ledger.ledger().state(at).digest(),
        b.ledger.ledger().state(at).digest()
    );
    assert_ne!(
        a.ledger.ledger().state(None).digest(),
        a.ledger.ledger().state(at).digest()
    );
}
