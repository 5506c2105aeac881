//! Accept/reject pairs for every rule of SPEC §4 (and the chain of §2): each test shows an
//! entry refused with its rule, and the nearest correct entry accepted.

use hisaab_log::{Entry, Envelope, Hash, SealedEntry};
use hisaab_model::{Ledger, MemoryLedger, Rule, Violation};
use hisaab_testkit::{
    assignment, at, evaluation, key, public_b64, seed, submission, uuid, Builder, T0_UNIX_S,
};
use serde_json::{json, Value};

fn rule_of(result: Result<Hash, Violation>) -> Rule {
    match result {
        Ok(_) => panic!("expected a violation, the entry was accepted"),
        Err(v) => v.rule,
    }
}

fn evaluated(b: &mut Builder) -> (Hash, Hash) {
    let s = b.append(
        seed::CISO_INDUS,
        "submission.filed",
        submission("indus", "CR-01", "2026-10", "97.5"),
    );
    let e = b.append(
        seed::EVALUATOR,
        "evaluation.recorded",
        evaluation(s, "not_met", 20),
    );
    (s, e)
}

// ----- chain (SPEC §2) -----

#[test]
fn entry_zero_must_be_the_genesis_and_genesis_only_entry_zero() {
    let mut b = Builder::new();
    let err = b.try_append(
        seed::AUTHORITY,
        "operator.registered",
        json!({"operator": "indus", "name": "Indus"}),
    );
    assert_eq!(rule_of(err), Rule::Form); // no `ledger` is possible before a genesis
    let mut b = Builder::with_genesis();
    let genesis = hisaab_testkit::genesis_body();
    assert_eq!(
        rule_of(b.try_append(seed::AUTHORITY, "ledger.genesis", genesis)),
        Rule::Permission
    );
    assert_eq!(
        b.ledger.ledger().ledger_id(),
        Some(b.ledger.entries()[0].event_hash())
    );
}

#[test]
fn a_non_genesis_statement_at_seq_0_breaks_the_chain() {
    let mut b = Builder::new();
    let mut statement = b.statement(
        seed::AUTHORITY,
        "operator.registered",
        json!({"operator": "indus", "name": "Indus"}),
    );
    statement.ledger = Some(Hash::sha256(b"some ledger"));
    let entry = b.seal(statement, seed::AUTHORITY);
    assert_eq!(rule_of(b.push(entry)), Rule::Chain);
}

#[test]
fn seq_prev_and_recorded_at_must_continue_the_chain() {
    let mut b = Builder::standard();
    let statement = b.statement(
        seed::AUTHORITY,
        "operator.registered",
        json!({"operator": "margalla", "name": "Margalla"}),
    );
    let good = b.seal(statement.clone(), seed::AUTHORITY);
    let envelope = Envelope::sign(statement, &key(seed::AUTHORITY)).unwrap();
    let e = good.entry().clone();
    let wrong_seq = SealedEntry::seal(Entry::new(
        e.seq + 1,
        e.prev,
        e.recorded_at.clone(),
        envelope.clone(),
    ))
    .unwrap();
    let wrong_prev = SealedEntry::seal(Entry::new(
        e.seq,
        Hash::sha256(b"x"),
        e.recorded_at.clone(),
        envelope.clone(),
    ))
    .unwrap();
    let earlier = at(T0_UNIX_S - 10);
    let backwards = SealedEntry::seal(Entry::new(e.seq, e.prev, earlier, envelope)).unwrap();
    for bad in [wrong_seq, wrong_prev, backwards] {
        let err = b.ledger.clone().append(bad).unwrap_err();
        assert_eq!(err.rule, Rule::Chain, "{err}");
    }
    b.push(good).unwrap();
}

// ----- rule 1: form -----

#[test]
fn rule_1_refuses_unknown_fields_nulls_unknown_kinds_and_oversized_envelopes() {
    let mut b = Builder::standard();
    let ok = json!({"operator": "margalla", "name": "Margalla"});
    let mut extra = ok.clone();
    extra["extra"] = json!(true);
    let mut null_ext = ok.clone();
    null_ext["ext"] = Value::Null;
    let mut huge = ok.clone();
    huge["ext"] = json!({"pad": "x".repeat(70_000)});
    for bad in [extra, null_ext, huge] {
        let err = b
            .clone()
            .try_append(seed::AUTHORITY, "operator.registered", bad)
            .unwrap_err();
        assert_eq!(err.rule, Rule::Form, "{err}");
        assert_eq!(err.rule.code(), "malformed_envelope");
    }
    assert_eq!(
        rule_of(
            b.clone()
                .try_append(seed::AUTHORITY, "operator.renamed", ok.clone())
        ),
        Rule::Form
    );
    let mut with_ext = ok.clone();
    with_ext["ext"] = json!({"source": "board minutes 12"});
    b.append(seed::AUTHORITY, "operator.registered", with_ext);
}

#[test]
fn rule_1_refuses_a_missing_ledger_field_and_a_genesis_with_one() {
    let mut b = Builder::standard();
    let mut statement = b.statement(
        seed::AUTHORITY,
        "operator.registered",
        json!({"operator": "margalla", "name": "Margalla"}),
    );
    statement.ledger = None;
    let entry = b.seal(statement, seed::AUTHORITY);
    assert_eq!(rule_of(b.push(entry)), Rule::Form);

    let mut g = Builder::new();
    let mut genesis = g.statement(
        seed::AUTHORITY,
        "ledger.genesis",
        hisaab_testkit::genesis_body(),
    );
    genesis.ledger = Some(Hash::sha256(b"x"));
    let entry = g.seal(genesis, seed::AUTHORITY);
    assert_eq!(rule_of(g.push(entry)), Rule::Form);
}

// ----- rule 2: signer -----

#[test]
fn rule_2_refuses_a_revoked_members_key() {
    let mut b = Builder::standard();
    b.append(
        seed::CISO_INDUS,
        "submission.filed",
        submission("indus", "CR-01", "2026-09", "90"),
    );
    let revoked_at = b.append(
        seed::AUTHORITY,
        "member.revoked",
        json!({"member": "ciso-indus", "reason": "left Indus"}),
    );
    let revoked_seq = b.ledger.size() - 1;
    let _ = revoked_at;
    let err = b
        .try_append(
            seed::CISO_INDUS,
            "submission.filed",
            submission("indus", "CR-01", "2026-10", "97.5"),
        )
        .unwrap_err();
    assert_eq!(err.rule, Rule::Signer);
    assert_eq!(err.rule.code(), "unknown_signer");
    assert_eq!(
        err.detail,
        format!(
            "member `ciso-indus` was revoked at seq {revoked_seq}; their key may no longer sign"
        )
    );
}

#[test]
fn rule_2_refuses_a_rotated_away_key_and_accepts_the_new_one() {
    let mut b = Builder::standard();
    b.append(
        seed::CISO_INDUS,
        "member.key_rotated",
        json!({"member": "ciso-indus", "new_key": public_b64(40)}),
    );
    let err = b
        .try_append(
            seed::CISO_INDUS,
            "submission.filed",
            submission("indus", "CR-01", "2026-10", "97.5"),
        )
        .unwrap_err();
    assert_eq!(err.rule, Rule::Signer);
    assert!(err.detail.contains("rotated away"), "{err}");
    b.append(
        40,
        "submission.filed",
        submission("indus", "CR-01", "2026-10", "97.5"),
    );
    // The authority may rotate a member's key too.
    b.append(
        seed::AUTHORITY,
        "member.key_rotated",
        json!({"member": "ciso-indus", "new_key": public_b64(41)}),
    );
    assert_eq!(
        rule_of(b.try_append(
            40,
            "challenge.raised",
            json!({"challenge": "c", "pillar": "legal", "description": "d"})
        )),
        Rule::Signer
    );
    assert_eq!(
        b.ledger
            .ledger()
            .member_for_key(&hisaab_testkit::public(40)),
        Some("ciso-indus")
    );
}

#[test]
fn rule_2_refuses_a_statement_placed_before_its_signers_enrolment() {
    let mut b = Builder::standard();
    let statement = b.statement(
        60,
        "challenge.raised",
        json!({"challenge": "early", "pillar": "legal", "description": "d"}),
    );
    let before = b.seal(statement.clone(), 60);
    assert_eq!(rule_of(b.push(before)), Rule::Signer);
    b.append(
        seed::AUTHORITY,
        "member.enrolled",
        json!({"member": "late", "name": "Late", "roles": ["witness"], "key": public_b64(60)}),
    );
    // The same signed statement, placed after the enrolment, is accepted.
    let after = b.seal(statement, 60);
    b.push(after).unwrap();
}

#[test]
fn rule_2_refuses_a_signature_that_does_not_verify() {
    let mut b = Builder::standard();
    b.verify_signatures = true;
    let statement = b.statement(
        seed::AUTHORITY,
        "operator.registered",
        json!({"operator": "margalla", "name": "Margalla"}),
    );
    let good = b.seal(statement.clone(), seed::AUTHORITY);
    let envelope = Envelope::sign(statement, &key(seed::CHAIR)).unwrap(); // wrong key
    let entry = b.seal_envelope(envelope);
    assert_eq!(rule_of(b.push(entry)), Rule::Signer);
    b.push(good).unwrap();
}

// ----- rule 3: identity -----

#[test]
fn rule_3_refuses_a_reused_statement_id_with_409() {
    let mut b = Builder::standard();
    let first = b.statement(
        seed::AUTHORITY,
        "operator.registered",
        json!({"operator": "margalla", "name": "Margalla"}),
    );
    let id = first.id.clone();
    b.push(b.seal(first, seed::AUTHORITY)).unwrap();
    let mut second = b.statement(
        seed::AUTHORITY,
        "operator.registered",
        json!({"operator": "ravi", "name": "Ravi"}),
    );
    second.id = id;
    let err = b.push(b.seal(second.clone(), seed::AUTHORITY)).unwrap_err();
    assert_eq!(err.rule, Rule::DuplicateId);
    assert_eq!(err.rule.code(), "duplicate_id");
    second.id = uuid(9_999);
    b.push(b.seal(second, seed::AUTHORITY)).unwrap();
}

#[test]
fn rule_3_refuses_another_ledgers_id() {
    let mut b = Builder::standard();
    let mut statement = b.statement(
        seed::AUTHORITY,
        "operator.registered",
        json!({"operator": "margalla", "name": "Margalla"}),
    );
    statement.ledger = Some(Hash::sha256(b"another ledger"));
    let err = b.push(b.seal(statement, seed::AUTHORITY)).unwrap_err();
    assert_eq!(err.rule, Rule::Identity);
    assert_eq!(err.rule.code(), "wrong_ledger");
}

#[test]
fn rule_5_refuses_ids_a_kind_creates_twice() {
    let mut b = Builder::standard();
    let (_, e) = evaluated(&mut b);
    let creations: Vec<(u8, &str, Value)> = vec![
        (
            seed::AUTHORITY,
            "operator.registered",
            json!({"operator": "indus", "name": "Again"}),
        ),
        (
            seed::AUTHORITY,
            "member.enrolled",
            json!({"member": "chair", "name": "Again", "roles": ["chair"], "key": public_b64(70)}),
        ),
        (
            seed::AUTHORITY,
            "kpi.defined",
            json!({"kpi": "CR-01", "pillar": "legal", "title": "t", "unit": "u", "direction": "lower_is_better", "cadence": "once", "evidence_required": false}),
        ),
        (
            seed::CISO_INDUS,
            "commitment.made",
            json!({"commitment": "c1", "operator": "indus", "action": "a", "due": "2026-12-01"}),
        ),
        (
            seed::CHAIR,
            "challenge.raised",
            json!({"challenge": "ch1", "pillar": "legal", "description": "d"}),
        ),
        (
            seed::CHAIR,
            "meeting.recorded",
            json!({"meeting": "m1", "held_on": "2026-10-01", "attendees": ["chair"], "minutes_sha256": Hash::sha256(b"m"), "decisions": []}),
        ),
        (
            seed::CISO_INDUS,
            "dispute.opened",
            json!({"dispute": "d1", "evaluation": e, "grounds": "g"}),
        ),
    ];
    for (signer, kind, body) in creations {
        if kind == "operator.registered" || kind == "member.enrolled" || kind == "kpi.defined" {
            let err = b.try_append(signer, kind, body).unwrap_err();
            assert_eq!(err.rule, Rule::Reference, "{err}");
            continue;
        }
        b.append(signer, kind, body.clone());
        let err = b.try_append(signer, kind, body).unwrap_err();
        assert_eq!(err.rule, Rule::Reference, "{kind}: {err}");
        assert!(err.detail.contains("already"), "{err}");
    }
}

// ----- rule 4: time -----

#[test]
fn rule_4_keeps_issued_at_within_the_genesis_policy_window() {
    // Policy: max_age_s = 86400, max_future_skew_s = 300.
    let b = Builder::standard();
    let recorded = b.clock_s;
    for (offset, accepted) in [(-86_400, true), (-86_401, false), (300, true), (301, false)] {
        let mut trial = b.clone();
        let mut statement = trial.statement(
            seed::AUTHORITY,
            "operator.registered",
            json!({"operator": "margalla", "name": "Margalla"}),
        );
        statement.issued_at = at(recorded + offset);
        let result = trial.push(trial.seal(statement, seed::AUTHORITY));
        match (accepted, result) {
            (true, Ok(_)) => {}
            (false, Err(v)) => assert_eq!(v.rule, Rule::Time, "{v}"),
            (expected, got) => panic!("offset {offset}: expected accepted={expected}, got {got:?}"),
        }
    }
}

#[test]
fn rule_4_applies_to_the_genesis_under_its_own_policy() {
    let mut b = Builder::new();
    let mut statement = b.statement(
        seed::AUTHORITY,
        "ledger.genesis",
        hisaab_testkit::genesis_body(),
    );
    statement.issued_at = at(T0_UNIX_S + 301);
    assert_eq!(
        rule_of(b.push(b.seal(statement, seed::AUTHORITY))),
        Rule::Time
    );
}

// ----- rule 5: references and lifecycles -----

#[test]
fn rule_5_refuses_a_reference_to_the_wrong_kind() {
    let mut b = Builder::standard();
    let commitment = b.append(
        seed::CISO_INDUS,
        "commitment.made",
        json!({"commitment": "c1", "operator": "indus", "action": "a", "due": "2026-12-01"}),
    );
    // An evaluation must name a submission.filed, not a commitment.made.
    let err = b
        .try_append(
            seed::EVALUATOR,
            "evaluation.recorded",
            evaluation(commitment, "met", 90),
        )
        .unwrap_err();
    assert_eq!(err.rule, Rule::Reference);
    assert!(
        err.detail
            .contains("not the event hash of a submission.filed"),
        "{err}"
    );
    // in_response_to must name an evaluation or a challenge, not a submission.
    let s = b.append(
        seed::CISO_INDUS,
        "submission.filed",
        submission("indus", "CR-01", "2026-10", "97.5"),
    );
    let respond = |to: Hash| json!({"commitment": "c2", "operator": "indus", "action": "a", "due": "2026-12-01", "in_response_to": to});
    assert_eq!(
        rule_of(b.try_append(seed::CISO_INDUS, "commitment.made", respond(s))),
        Rule::Reference
    );
    let e = b.append(
        seed::EVALUATOR,
        "evaluation.recorded",
        evaluation(s, "not_met", 10),
    );
    b.append(seed::CISO_INDUS, "commitment.made", respond(e));
    let ch = b.append(
        seed::CHAIR,
        "challenge.raised",
        json!({"challenge": "ch1", "pillar": "legal", "description": "d"}),
    );
    b.append(seed::CISO_INDUS, "commitment.made", json!({"commitment": "c3", "operator": "indus", "action": "a", "due": "2026-12-01", "in_response_to": ch}));
    // A commitment's kpi must be assigned to its operator: MN-01 is indus's only.
    let on = |kpi: &str| json!({"commitment": "c4", "operator": "karakoram", "kpi": kpi, "action": "a", "due": "2026-12-01"});
    assert_eq!(
        rule_of(b.try_append(seed::CISO_KARAKORAM, "commitment.made", on("MN-01"))),
        Rule::Reference
    );
    b.append(seed::CISO_KARAKORAM, "commitment.made", on("CR-01"));
}

#[test]
fn rule_5_refuses_a_submission_for_an_unassigned_kpi_or_outside_its_periods() {
    let mut b = Builder::standard();
    // MN-01 is not assigned to karakoram.
    assert_eq!(
        rule_of(b.try_append(
            seed::CISO_KARAKORAM,
            "submission.filed",
            submission("karakoram", "MN-01", "2026-10", "1")
        )),
        Rule::Reference
    );
    // Before first_period 2026-01.
    let err = b
        .try_append(
            seed::CISO_INDUS,
            "submission.filed",
            submission("indus", "CR-01", "2025-12", "1"),
        )
        .unwrap_err();
    assert_eq!(err.rule, Rule::Reference);
    assert!(
        err.detail.contains("before the first period 2026-01"),
        "{err}"
    );
    // After the month of recorded_at (November 2026).
    assert_eq!(
        rule_of(b.try_append(
            seed::CISO_INDUS,
            "submission.filed",
            submission("indus", "CR-01", "2026-12", "1")
        )),
        Rule::Reference
    );
    b.append(
        seed::CISO_INDUS,
        "submission.filed",
        submission("indus", "CR-01", "2026-01", "1"),
    );
    b.append(
        seed::CISO_INDUS,
        "submission.filed",
        submission("indus", "CR-01", "2026-11", "1"),
    );
    // An undefined KPI.
    assert_eq!(
        rule_of(b.try_append(
            seed::CISO_INDUS,
            "submission.filed",
            submission("indus", "ZZ-99", "2026-10", "1")
        )),
        Rule::Reference
    );
}

#[test]
fn rule_5_versions_assignments_instead_of_overwriting_them() {
    let mut b = Builder::standard();
    // Re-assign CR-01 to indus from 2026-06: earlier periods are refused from then on.
    b.append(seed::CHAIR, "kpi.assigned", json!({"kpi": "CR-01", "operator": "indus", "target": "99", "baseline": "90", "due": "2027-06-30", "first_period": "2026-06"}));
    assert_eq!(
        rule_of(b.try_append(
            seed::CISO_INDUS,
            "submission.filed",
            submission("indus", "CR-01", "2026-05", "1")
        )),
        Rule::Reference
    );
    b.append(
        seed::CISO_INDUS,
        "submission.filed",
        submission("indus", "CR-01", "2026-06", "1"),
    );
    let state = b.ledger.ledger().state(None);
    let kpi = &state.operators[&hisaab_model::Slug::try_new("indus").unwrap()].kpis
        [&hisaab_model::KpiId::try_new("CR-01").unwrap()];
    assert_eq!(kpi.target.as_str(), "99");
    assert_eq!(kpi.baseline.as_ref().map(|d| d.as_str()), Some("90"));
    // The first assignment is still in the log, as of its size.
    let early = b.ledger.state_at(20, None).unwrap();
    let kpi = &early.operators[&hisaab_model::Slug::try_new("indus").unwrap()].kpis
        [&hisaab_model::KpiId::try_new("CR-01").unwrap()];
    assert_eq!(kpi.target.as_str(), "95");
}

#[test]
fn rule_5_requires_supersedes_exactly_when_a_submission_exists() {
    let mut b = Builder::standard();
    let first = b.append(
        seed::CISO_INDUS,
        "submission.filed",
        submission("indus", "CR-01", "2026-10", "97.5"),
    );
    assert_eq!(
        rule_of(b.try_append(
            seed::CISO_INDUS,
            "submission.filed",
            submission("indus", "CR-01", "2026-10", "98")
        )),
        Rule::Reference
    );
    let mut wrong = submission("indus", "CR-01", "2026-10", "98");
    wrong["supersedes"] = json!(Hash::sha256(b"nothing"));
    assert_eq!(
        rule_of(b.try_append(seed::CISO_INDUS, "submission.filed", wrong)),
        Rule::Reference
    );
    let mut nothing_to_supersede = submission("indus", "CR-01", "2026-09", "98");
    nothing_to_supersede["supersedes"] = json!(first);
    assert_eq!(
        rule_of(b.try_append(seed::CISO_INDUS, "submission.filed", nothing_to_supersede)),
        Rule::Reference
    );
    let mut right = submission("indus", "CR-01", "2026-10", "98");
    right["supersedes"] = json!(first);
    let second = b.append(seed::CISO_INDUS, "submission.filed", right);
    // A superseded submission is no longer evaluated.
    assert_eq!(
        rule_of(b.try_append(
            seed::EVALUATOR,
            "evaluation.recorded",
            evaluation(first, "met", 90)
        )),
        Rule::Reference
    );
    b.append(
        seed::EVALUATOR,
        "evaluation.recorded",
        evaluation(second, "met", 90),
    );
}

#[test]
fn rule_5_requires_supersedes_exactly_when_an_effective_evaluation_exists() {
    let mut b = Builder::standard();
    let (s, e) = evaluated(&mut b);
    assert_eq!(
        rule_of(b.try_append(
            seed::EVALUATOR,
            "evaluation.recorded",
            evaluation(s, "met", 90)
        )),
        Rule::Reference
    );
    let mut revised = evaluation(s, "met", 90);
    revised["supersedes"] = json!(e);
    let e2 = b.append(seed::CHAIR, "evaluation.recorded", revised.clone());
    // e is superseded now: naming it again is refused.
    assert_eq!(
        rule_of(b.try_append(seed::CHAIR, "evaluation.recorded", revised)),
        Rule::Reference
    );
    let mut third = evaluation(s, "partially_met", 60);
    third["supersedes"] = json!(e2);
    b.append(seed::CHAIR, "evaluation.recorded", third);
}

#[test]
fn rule_5_allows_one_open_dispute_per_evaluation() {
    let mut b = Builder::standard();
    let (_, e) = evaluated(&mut b);
    b.append(
        seed::CISO_INDUS,
        "dispute.opened",
        json!({"dispute": "d1", "evaluation": e, "grounds": "g"}),
    );
    let err = b
        .try_append(
            seed::CISO_INDUS,
            "dispute.opened",
            json!({"dispute": "d2", "evaluation": e, "grounds": "g"}),
        )
        .unwrap_err();
    assert_eq!(err.rule, Rule::Reference);
    assert!(
        err.detail.contains("already has the open dispute `d1`"),
        "{err}"
    );
    // Once resolved (upheld), the evaluation may be disputed again.
    let as_of = b.ledger.size();
    let digest = b.ledger.state_at(as_of, None).unwrap().digest();
    b.append(seed::AUTHORITY, "dispute.resolved", json!({"dispute": "d1", "outcome": "upheld", "as_of": as_of, "state_digest": digest, "rationale": "r"}));
    b.append(
        seed::CISO_INDUS,
        "dispute.opened",
        json!({"dispute": "d2", "evaluation": e, "grounds": "new evidence"}),
    );
}

#[test]
fn rule_5_refuses_a_dispute_on_an_evaluation_that_is_not_effective() {
    let mut b = Builder::standard();
    let (s, e) = evaluated(&mut b);
    let mut revised = evaluation(s, "met", 90);
    revised["supersedes"] = json!(e);
    b.append(seed::CHAIR, "evaluation.recorded", revised);
    assert_eq!(
        rule_of(b.try_append(
            seed::CISO_INDUS,
            "dispute.opened",
            json!({"dispute": "d1", "evaluation": e, "grounds": "g"})
        )),
        Rule::Reference
    );
    assert_eq!(
        rule_of(b.try_append(
            seed::CISO_INDUS,
            "dispute.opened",
            json!({"dispute": "d1", "evaluation": Hash::sha256(b"none"), "grounds": "g"})
        )),
        Rule::Reference
    );
}

#[test]
fn rule_5_binds_a_resolution_to_the_digest_of_the_state_as_of() {
    let mut b = Builder::standard();
    let (_, e) = evaluated(&mut b);
    b.append(
        seed::CISO_INDUS,
        "dispute.opened",
        json!({"dispute": "d1", "evaluation": e, "grounds": "g"}),
    );
    let seq = b.ledger.size();
    let resolve = |as_of: u64, digest: Hash| json!({"dispute": "d1", "outcome": "overturned", "as_of": as_of, "state_digest": digest, "rationale": "r"});
    let digest_at = |b: &Builder, size: u64| b.ledger.state_at(size, None).unwrap().digest();
    // A wrong digest, and the right digest of another size.
    let err = b
        .try_append(
            seed::AUTHORITY,
            "dispute.resolved",
            resolve(seq, Hash::sha256(b"wrong")),
        )
        .unwrap_err();
    assert_eq!(err.rule, Rule::Reference);
    assert!(
        err.detail
            .contains("is not the digest of the state at size"),
        "{err}"
    );
    assert_eq!(
        rule_of(b.try_append(
            seed::AUTHORITY,
            "dispute.resolved",
            resolve(seq, digest_at(&b, seq - 1))
        )),
        Rule::Reference
    );
    // as_of outside 1..=seq.
    assert_eq!(
        rule_of(b.try_append(
            seed::AUTHORITY,
            "dispute.resolved",
            resolve(0, digest_at(&b, 1))
        )),
        Rule::Reference
    );
    assert_eq!(
        rule_of(b.try_append(
            seed::AUTHORITY,
            "dispute.resolved",
            resolve(seq + 1, digest_at(&b, seq))
        )),
        Rule::Reference
    );
    // An earlier as_of with its own digest is accepted; a second resolution is not.
    let d = digest_at(&b, seq - 1);
    b.append(seed::AUTHORITY, "dispute.resolved", resolve(seq - 1, d));
    let again = b.ledger.size();
    let d = digest_at(&b, again);
    assert_eq!(
        rule_of(b.try_append(seed::AUTHORITY, "dispute.resolved", resolve(again, d))),
        Rule::Reference
    );
}

#[test]
fn rule_5_closes_resolves_and_attests_at_most_once() {
    let mut b = Builder::standard();
    b.append(
        seed::CISO_INDUS,
        "commitment.made",
        json!({"commitment": "c1", "operator": "indus", "action": "a", "due": "2026-12-01"}),
    );
    let close = json!({"commitment": "c1", "outcome": "fulfilled", "note": ""});
    b.append(seed::EVALUATOR, "commitment.closed", close.clone());
    assert_eq!(
        rule_of(b.try_append(seed::CHAIR, "commitment.closed", close)),
        Rule::Reference
    );
    assert_eq!(
        rule_of(b.try_append(
            seed::CHAIR,
            "commitment.closed",
            json!({"commitment": "nope", "outcome": "missed", "note": ""})
        )),
        Rule::Reference
    );

    b.append(
        seed::CHAIR,
        "challenge.raised",
        json!({"challenge": "ch1", "pillar": "legal", "description": "d"}),
    );
    b.append(
        seed::CHAIR,
        "challenge.resolved",
        json!({"challenge": "ch1", "resolution": "r"}),
    );
    assert_eq!(
        rule_of(b.try_append(
            seed::CHAIR,
            "challenge.resolved",
            json!({"challenge": "ch1", "resolution": "r"})
        )),
        Rule::Reference
    );

    b.append(seed::CHAIR, "meeting.recorded", json!({"meeting": "m1", "held_on": "2026-10-01", "attendees": ["chair", "eval"], "minutes_sha256": Hash::sha256(b"m"), "decisions": ["d"]}));
    b.append(
        seed::EVALUATOR,
        "meeting.attested",
        json!({"meeting": "m1"}),
    );
    assert_eq!(
        rule_of(b.try_append(
            seed::EVALUATOR,
            "meeting.attested",
            json!({"meeting": "m1"})
        )),
        Rule::Reference
    );
    b.append(seed::CHAIR, "meeting.attested", json!({"meeting": "m1"}));
    assert_eq!(
        rule_of(b.try_append(seed::CHAIR, "meeting.attested", json!({"meeting": "m2"}))),
        Rule::Reference
    );
}

#[test]
fn rule_5_requires_meeting_attendees_to_be_active_members() {
    let mut b = Builder::standard();
    b.append(
        seed::AUTHORITY,
        "member.revoked",
        json!({"member": "eval", "reason": "r"}),
    );
    let meeting = |attendees: Value| json!({"meeting": "m1", "held_on": "2026-10-01", "attendees": attendees, "minutes_sha256": Hash::sha256(b"m"), "decisions": []});
    assert_eq!(
        rule_of(b.try_append(
            seed::CHAIR,
            "meeting.recorded",
            meeting(json!(["chair", "eval"]))
        )),
        Rule::Reference
    );
    assert_eq!(
        rule_of(b.try_append(
            seed::CHAIR,
            "meeting.recorded",
            meeting(json!(["chair", "ghost"]))
        )),
        Rule::Reference
    );
    b.append(
        seed::CHAIR,
        "meeting.recorded",
        meeting(json!(["chair", "pta"])),
    );
}

#[test]
fn rule_5_never_reuses_a_key_and_rotates_or_revokes_only_active_members() {
    let mut b = Builder::standard();
    // The chair's current key, and later a rotated-away key, can never be enrolled again.
    let enrol = |member: &str, s: u8| json!({"member": member, "name": "N", "roles": ["witness"], "key": public_b64(s)});
    assert_eq!(
        rule_of(b.try_append(seed::AUTHORITY, "member.enrolled", enrol("w1", seed::CHAIR))),
        Rule::Reference
    );
    b.append(
        seed::CHAIR,
        "member.key_rotated",
        json!({"member": "chair", "new_key": public_b64(42)}),
    );
    assert_eq!(
        rule_of(b.try_append(seed::AUTHORITY, "member.enrolled", enrol("w1", seed::CHAIR))),
        Rule::Reference
    );
    assert_eq!(
        rule_of(b.try_append(
            42,
            "member.key_rotated",
            json!({"member": "chair", "new_key": public_b64(seed::CHAIR)})
        )),
        Rule::Reference
    );
    assert_eq!(
        rule_of(b.try_append(
            42,
            "member.key_rotated",
            json!({"member": "chair", "new_key": public_b64(42)})
        )),
        Rule::Reference
    );
    b.append(seed::AUTHORITY, "member.enrolled", enrol("w1", 43));
    // A revoked member is neither rotated nor revoked again.
    b.append(
        seed::AUTHORITY,
        "member.revoked",
        json!({"member": "w1", "reason": "r"}),
    );
    assert_eq!(
        rule_of(b.try_append(
            seed::AUTHORITY,
            "member.key_rotated",
            json!({"member": "w1", "new_key": public_b64(44)})
        )),
        Rule::Reference
    );
    assert_eq!(
        rule_of(b.try_append(
            seed::AUTHORITY,
            "member.revoked",
            json!({"member": "w1", "reason": "r"})
        )),
        Rule::Reference
    );
    assert_eq!(
        rule_of(b.try_append(
            seed::AUTHORITY,
            "member.revoked",
            json!({"member": "ghost", "reason": "r"})
        )),
        Rule::Reference
    );
    // A member must name a registered operator.
    let mut with_operator = enrol("w2", 45);
    with_operator["operator"] = json!("margalla");
    assert_eq!(
        rule_of(b.try_append(seed::AUTHORITY, "member.enrolled", with_operator)),
        Rule::Reference
    );
}

#[test]
fn rule_5_never_revokes_the_last_active_authority() {
    let mut b = Builder::standard();
    b.append(
        seed::AUTHORITY,
        "member.revoked",
        json!({"member": "pta-2", "reason": "r"}),
    );
    b.append(
        seed::AUTHORITY,
        "member.revoked",
        json!({"member": "pta-indus", "reason": "r"}),
    );
    let err = b
        .try_append(
            seed::AUTHORITY,
            "member.revoked",
            json!({"member": "pta", "reason": "r"}),
        )
        .unwrap_err();
    assert_eq!(err.rule, Rule::Reference);
    assert!(err.detail.contains("last active authority"), "{err}");
    // With another authority enrolled, the first may go.
    b.append(
        seed::AUTHORITY,
        "member.enrolled",
        json!({"member": "pta-3", "name": "N", "roles": ["authority"], "key": public_b64(46)}),
    );
    b.append(
        46,
        "member.revoked",
        json!({"member": "pta", "reason": "retired"}),
    );
}

#[test]
fn rule_5_requires_the_operator_and_kpi_of_an_assignment_or_challenge_to_exist() {
    let mut b = Builder::standard();
    assert_eq!(
        rule_of(b.try_append(
            seed::CHAIR,
            "kpi.assigned",
            assignment("ZZ-01", "indus", "1", "2026-12-31")
        )),
        Rule::Reference
    );
    assert_eq!(
        rule_of(b.try_append(
            seed::CHAIR,
            "kpi.assigned",
            assignment("CR-01", "margalla", "1", "2026-12-31")
        )),
        Rule::Reference
    );
    let challenge = |operator: &str, kpi: &str| json!({"challenge": "ch", "pillar": "legal", "operator": operator, "kpi": kpi, "description": "d"});
    assert_eq!(
        rule_of(b.try_append(
            seed::CHAIR,
            "challenge.raised",
            challenge("margalla", "CR-01")
        )),
        Rule::Reference
    );
    assert_eq!(
        rule_of(b.try_append(seed::CHAIR, "challenge.raised", challenge("indus", "ZZ-01"))),
        Rule::Reference
    );
    b.append(seed::CHAIR, "challenge.raised", challenge("indus", "CR-01"));
}

#[test]
fn precedence_follows_spec_section_7() {
    // A stranger's statement that also reuses an id and names another ledger: 401 wins.
    let mut b = Builder::standard();
    let mut statement = b.statement(
        seed::STRANGER,
        "operator.registered",
        json!({"operator": "margalla", "name": "U"}),
    );
    statement.id = b.ledger.entries()[1].entry().statement.id.clone();
    statement.ledger = Some(Hash::sha256(b"other"));
    assert_eq!(
        rule_of(b.push(b.seal(statement.clone(), seed::STRANGER))),
        Rule::Signer
    );
    // The chair: 403 before 409 and 422.
    statement.signer = hisaab_testkit::public(seed::CHAIR);
    assert_eq!(
        rule_of(b.push(b.seal(statement.clone(), seed::CHAIR))),
        Rule::Permission
    );
    // The authority: 409 before 422.
    statement.signer = hisaab_testkit::public(seed::AUTHORITY);
    assert_eq!(
        rule_of(b.push(b.seal(statement.clone(), seed::AUTHORITY))),
        Rule::DuplicateId
    );
    statement.id = uuid(77_777);
    assert_eq!(
        rule_of(b.push(b.seal(statement, seed::AUTHORITY))),
        Rule::Identity
    );
}

#[test]
fn a_rejected_entry_leaves_the_ledger_unchanged() {
    let b = Builder::standard();
    let mut ledger: Ledger = b.ledger.ledger().clone();
    let before = ledger.to_snapshot();
    let mut trial = b.clone();
    let bad = trial.entry(
        seed::CISO_KARAKORAM,
        "submission.filed",
        submission("karakoram", "MN-01", "2026-10", "1"),
    );
    let err = ledger.apply(&bad, &b.ledger).unwrap_err();
    assert_eq!(err.rule, Rule::Reference);
    assert_eq!(ledger.to_snapshot(), before);
    let _ = MemoryLedger::new();
}
