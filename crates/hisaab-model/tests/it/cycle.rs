//! Format 2's cycle (SPEC §11.7–§11.9): meetings scheduled and their quorum, action items,
//! directives, extensions and escalations — their rules, their effect on the state and the
//! obligations they create; and that a format-1 ledger refuses them.

use hisaab_log::Date;
use hisaab_model::{ObligationFilter, ObligationKind, OwedBy, Rule, Slug};
use hisaab_testkit::{genesis_body, seed, Builder};
use proptest::prelude::*;
use serde_json::{json, Value};

pub(crate) fn date(text: &str) -> Date {
    Date::try_parse(text).unwrap()
}

pub(crate) fn slug(text: &str) -> Slug {
    Slug::try_new(text).unwrap()
}

/// The standard v2 ledger (clock at 2026-11-01) with meeting `m1` held on 2026-10-30.
fn with_meeting() -> Builder {
    let mut b = Builder::standard_v2();
    b.append(
        seed::CHAIR,
        "meeting.recorded",
        json!({"meeting": "m1", "held_on": "2026-10-30",
            "attendees": ["chair", "ciso-indus", "eval"],
            "minutes_sha256": hisaab_log::Hash::sha256(b"m"), "decisions": []}),
    );
    b
}

fn action(id: &str, owner: Value, due: &str) -> Value {
    json!({"action": id, "meeting": "m1", "owner": owner, "due": due, "text": "Do it"})
}

/// Appends and expects a refusal under `rule` whose message contains `words`; the ledger
/// is unchanged.
pub(crate) fn refused(
    b: &mut Builder,
    signer: u8,
    kind: &str,
    body: Value,
    rule: Rule,
    words: &str,
) {
    let before = b.ledger.ledger().to_snapshot();
    let err = b.try_append(signer, kind, body).unwrap_err();
    assert_eq!(err.rule, rule, "{err}");
    assert!(err.detail.contains(words), "{err:?} lacks {words:?}");
    assert_eq!(b.ledger.ledger().to_snapshot(), before);
}

#[test]
fn a_format_1_ledger_refuses_every_kind_of_the_cycle() {
    let mut b = Builder::standard();
    for (kind, body) in [
        (
            "meeting.scheduled",
            json!({"meeting": "m", "date": "2026-12-01", "agenda": []}),
        ),
        (
            "directive.issued",
            json!({"directive": "d", "operator": "indus", "due": "2026-12-01", "text": "t"}),
        ),
    ] {
        refused(
            &mut b,
            seed::AUTHORITY,
            kind,
            body,
            Rule::Form,
            "a kind of format 2",
        );
    }
    // A v1 genesis with the quorum of format 2 is refused too.
    let mut genesis = genesis_body();
    genesis["policy"]["quorum_percent"] = json!(60);
    let err = Builder::new()
        .try_append(seed::AUTHORITY, "ledger.genesis", genesis.clone())
        .unwrap_err();
    assert_eq!(err.rule, Rule::Form);
    assert!(
        err.detail
            .contains("policy.quorum_percent is a field of format 2"),
        "{err}"
    );
    genesis["policy"]["quorum_percent"] = json!(0);
    let err = Builder::of_format(2)
        .try_append(seed::AUTHORITY, "ledger.genesis", genesis)
        .unwrap_err();
    assert!(err.detail.contains("from 1 to 100"), "{err}");
}

#[test]
fn a_scheduled_meeting_names_what_exists_and_is_recorded_under_its_id() {
    let mut b = Builder::standard_v2();
    for (item, words) in [
        (
            json!({"title": "t", "operator": "jazz"}),
            "operator `jazz`, which is not registered",
        ),
        (
            json!({"title": "t", "kpi": "XX-99"}),
            "KPI `XX-99`, which is not defined",
        ),
        (
            json!({"title": "t", "dispute": "d9"}),
            "dispute `d9`, which was not opened",
        ),
        (
            json!({"title": "t", "challenge": "c9"}),
            "challenge `c9`, which was not raised",
        ),
    ] {
        refused(
            &mut b,
            seed::CHAIR,
            "meeting.scheduled",
            json!({"meeting": "m2", "date": "2026-11-20", "agenda": [{"title": "ok"}, item]}),
            Rule::Reference,
            &format!("agenda item 2 names {words}"),
        );
    }
    b.append(
        seed::CHAIR,
        "meeting.scheduled",
        json!({"meeting": "m2", "date": "2026-11-20",
            "agenda": [{"title": "Resilience", "operator": "indus", "kpi": "CR-01"}]}),
    );
    refused(
        &mut b,
        seed::AUTHORITY,
        "meeting.scheduled",
        json!({"meeting": "m2", "date": "2026-11-21", "agenda": []}),
        Rule::Reference,
        "meeting `m2` was already scheduled",
    );
    let state = b.ledger.ledger().state(None);
    let meeting = &state.cycle.as_ref().unwrap().meetings[&slug("m2")];
    assert_eq!(meeting.scheduled_for, Some(date("2026-11-20")));
    assert_eq!(meeting.held_on, None);
    assert_eq!(meeting.quorate, None);
    // Held: recorded under the scheduled id, with its attendance and quorum.
    b.append(
        seed::CHAIR,
        "meeting.recorded",
        json!({"meeting": "m2", "held_on": "2026-11-20", "attendees": ["chair", "eval"],
            "minutes_sha256": hisaab_log::Hash::sha256(b"m"), "decisions": []}),
    );
    let state = b.ledger.ledger().state(None);
    let cycle = state.cycle.as_ref().unwrap();
    let meeting = &cycle.meetings[&slug("m2")];
    assert_eq!(meeting.held_on, Some(date("2026-11-20")));
    assert_eq!((meeting.represented, meeting.operators), (0, 2));
    assert_eq!(meeting.quorate, Some(false), "no operator was represented");
    assert!(meeting.absent.contains(&slug("ciso-indus")));
    assert!(
        !meeting.absent.contains(&slug("witness-karakoram")),
        "witnesses are not expected"
    );
    assert_eq!(cycle.members[&slug("ciso-indus")].absent, 1);
    assert_eq!(cycle.members[&slug("eval")].attended, 1);
    // A meeting recorded is never scheduled afterwards.
    refused(
        &mut b,
        seed::CHAIR,
        "meeting.scheduled",
        json!({"meeting": "m2", "date": "2026-11-21", "agenda": []}),
        Rule::Reference,
        "already scheduled",
    );
}

#[test]
fn the_quorum_comes_from_the_policy() {
    let mut genesis = genesis_body();
    genesis["policy"]["quorum_percent"] = json!(100);
    let mut b = Builder::of_format(2);
    b.append(seed::AUTHORITY, "ledger.genesis", genesis);
    for operator in ["indus", "karakoram"] {
        b.append(
            seed::AUTHORITY,
            "operator.registered",
            json!({"operator": operator, "name": operator}),
        );
    }
    b.append(
        seed::AUTHORITY,
        "member.enrolled",
        json!({"member": "ciso-indus", "name": "C", "roles": ["ciso"], "operator": "indus",
            "key": hisaab_testkit::public_b64(seed::CISO_INDUS)}),
    );
    b.append(
        seed::AUTHORITY,
        "meeting.recorded",
        json!({"meeting": "m", "held_on": "2026-11-01", "attendees": ["ciso-indus"],
            "minutes_sha256": hisaab_log::Hash::sha256(b"m"), "decisions": []}),
    );
    let state = b.ledger.ledger().state(None);
    let cycle = state.cycle.unwrap();
    assert_eq!(cycle.quorum_percent, 100);
    assert_eq!(cycle.meetings[&slug("m")].quorate, Some(false));
}

#[test]
fn actions_come_from_recorded_minutes_and_are_closed_once_by_owner_or_chair() {
    let mut b = with_meeting();
    refused(
        &mut b,
        seed::CHAIR,
        "action.assigned",
        json!({"action": "a1", "meeting": "m9", "owner": {"member": "eval"}, "due": "2026-12-01",
            "text": "t"}),
        Rule::Reference,
        "there is no recorded meeting `m9`",
    );
    refused(
        &mut b,
        seed::CHAIR,
        "action.assigned",
        action("a1", json!({"member": "eval"}), "2026-10-01"),
        Rule::Reference,
        "due 2026-10-01 is before meeting `m1` was held (2026-10-30)",
    );
    refused(
        &mut b,
        seed::CHAIR,
        "action.assigned",
        action("a1", json!({"member": "nobody"}), "2026-12-01"),
        Rule::Reference,
        "there is no member `nobody`",
    );
    refused(
        &mut b,
        seed::CHAIR,
        "action.assigned",
        action("a1", json!({"operator": "jazz"}), "2026-12-01"),
        Rule::Reference,
        "operator `jazz` is not registered",
    );
    refused(
        &mut b,
        seed::CHAIR,
        "action.assigned",
        action(
            "a1",
            json!({"member": "eval", "operator": "indus"}),
            "2026-12-01",
        ),
        Rule::Form,
        "",
    );
    b.append(
        seed::CHAIR,
        "action.assigned",
        action("a1", json!({"member": "eval"}), "2026-11-10"),
    );
    b.append(
        seed::CHAIR,
        "action.assigned",
        action("a2", json!({"operator": "indus"}), "2026-11-20"),
    );
    refused(
        &mut b,
        seed::CHAIR,
        "action.assigned",
        action("a1", json!({"member": "eval"}), "2026-12-01"),
        Rule::Reference,
        "`a1` already names an action or directive",
    );
    // Owed by their owners, with due dates.
    let owed = b
        .ledger
        .ledger()
        .obligations(Some(date("2026-11-15")), &ObligationFilter::default())
        .unwrap();
    let actions: Vec<_> = owed
        .items
        .iter()
        .filter(|o| o.kind == ObligationKind::Action)
        .collect();
    assert_eq!(actions.len(), 2);
    assert_eq!(actions[0].id, Some(slug("a1")));
    assert_eq!(
        actions[0].owed_by,
        OwedBy::Member {
            member: slug("eval")
        }
    );
    assert_eq!(actions[0].days_late, 5);
    assert_eq!(
        actions[1].owed_by,
        OwedBy::Operator {
            operator: slug("indus")
        }
    );
    assert_eq!(actions[1].days_late, 0);
    let eval_owes = b
        .ledger
        .ledger()
        .obligations(
            Some(date("2026-11-15")),
            &ObligationFilter {
                member: Some(slug("eval")),
                ..ObligationFilter::default()
            },
        )
        .unwrap();
    assert!(eval_owes
        .items
        .iter()
        .any(|o| o.kind == ObligationKind::Action && o.id == Some(slug("a1"))));
    assert!(!eval_owes.items.iter().any(|o| o.id == Some(slug("a2"))));
    // Closed by someone else than the owner or a chair: refused under rule 2.
    refused(
        &mut b,
        seed::CISO_KARAKORAM,
        "action.closed",
        json!({"action": "a2", "outcome": "done", "note": ""}),
        Rule::Permission,
        "only its owner (operator `indus`) or a chair or authority may",
    );
    refused(
        &mut b,
        seed::CISO_INDUS,
        "action.closed",
        json!({"action": "a1", "outcome": "done", "note": ""}),
        Rule::Permission,
        "only its owner (member `eval`)",
    );
    b.append(
        seed::EVALUATOR,
        "action.closed",
        json!({"action": "a1", "outcome": "done", "note": "Reviewed"}),
    );
    b.append(
        seed::CISO_INDUS,
        "action.closed",
        json!({"action": "a2", "outcome": "missed", "note": ""}),
    );
    refused(
        &mut b,
        seed::CHAIR,
        "action.closed",
        json!({"action": "a2", "outcome": "done", "note": ""}),
        Rule::Reference,
        "action `a2` was already closed (missed)",
    );
    refused(
        &mut b,
        seed::CHAIR,
        "action.closed",
        json!({"action": "a9", "outcome": "done", "note": ""}),
        Rule::Reference,
        "there is no action `a9`",
    );
    let state = b.ledger.ledger().state(None);
    let cycle = state.cycle.unwrap();
    assert_eq!(cycle.actions[&slug("a1")].status.as_str(), "done");
    assert_eq!(cycle.actions[&slug("a2")].status.as_str(), "missed");
    assert_eq!(cycle.members[&slug("eval")].actions_done, 1);
    let owed = b
        .ledger
        .ledger()
        .obligations(Some(date("2026-11-15")), &ObligationFilter::default())
        .unwrap();
    assert!(!owed.items.iter().any(|o| o.kind == ObligationKind::Action));
}

#[test]
fn directives_are_the_authoritys_and_give_a_date_to_come() {
    let mut b = Builder::standard_v2();
    refused(
        &mut b,
        seed::AUTHORITY,
        "directive.issued",
        json!({"directive": "d1", "operator": "indus", "due": "2026-10-01", "text": "t"}),
        Rule::Reference,
        "due 2026-10-01 is before the directive is recorded (2026-11-01)",
    );
    refused(
        &mut b,
        seed::AUTHORITY,
        "directive.issued",
        json!({"directive": "d1", "operator": "jazz", "due": "2026-12-01", "text": "t"}),
        Rule::Reference,
        "operator `jazz` is not registered",
    );
    b.append(
        seed::AUTHORITY,
        "directive.issued",
        json!({"directive": "d1", "operator": "indus", "due": "2026-11-10", "text": "Rotate"}),
    );
    let owed = b
        .ledger
        .ledger()
        .obligations(
            Some(date("2026-11-12")),
            &ObligationFilter {
                operator: Some(slug("indus")),
                ..ObligationFilter::default()
            },
        )
        .unwrap();
    let directive = owed
        .items
        .iter()
        .find(|o| o.kind == ObligationKind::Directive)
        .unwrap();
    assert_eq!(
        (directive.due, directive.days_late),
        (date("2026-11-10"), 2)
    );
    refused(
        &mut b,
        seed::CISO_KARAKORAM,
        "directive.closed",
        json!({"directive": "d1", "outcome": "done", "note": ""}),
        Rule::Permission,
        "only its owner (operator `indus`)",
    );
    b.append(
        seed::CISO_INDUS,
        "directive.closed",
        json!({"directive": "d1", "outcome": "done", "note": ""}),
    );
    refused(
        &mut b,
        seed::AUTHORITY,
        "directive.closed",
        json!({"directive": "d1", "outcome": "missed", "note": ""}),
        Rule::Reference,
        "directive `d1` was already closed (done)",
    );
}

#[test]
fn an_extension_moves_an_open_commitment_later_and_the_state_keeps_every_due() {
    let mut b = Builder::standard_v2();
    b.append(
        seed::CISO_INDUS,
        "commitment.made",
        json!({"commitment": "c1", "operator": "indus", "action": "Patch", "due": "2026-11-10"}),
    );
    refused(
        &mut b,
        seed::CHAIR,
        "commitment.extended",
        json!({"commitment": "c1", "due": "2026-11-10", "reason": "r"}),
        Rule::Reference,
        "the new due 2026-11-10 is not after commitment `c1`'s due 2026-11-10",
    );
    refused(
        &mut b,
        seed::CHAIR,
        "commitment.extended",
        json!({"commitment": "c9", "due": "2026-12-10", "reason": "r"}),
        Rule::Reference,
        "there is no commitment `c9`",
    );
    b.append(
        seed::CHAIR,
        "commitment.extended",
        json!({"commitment": "c1", "due": "2026-12-10", "reason": "Vendor late"}),
    );
    b.append(
        seed::AUTHORITY,
        "commitment.extended",
        json!({"commitment": "c1", "due": "2027-01-10", "reason": "Vendor later"}),
    );
    let state = b.ledger.ledger().state(Some(date("2026-12-15")));
    let extended = &state.cycle.as_ref().unwrap().extended[&slug("c1")];
    assert_eq!(extended.original_due, date("2026-11-10"));
    assert_eq!(extended.due, date("2027-01-10"));
    let dues: Vec<_> = extended.extensions.iter().map(|e| (e.from, e.to)).collect();
    assert_eq!(
        dues,
        [
            (date("2026-11-10"), date("2026-12-10")),
            (date("2026-12-10"), date("2027-01-10"))
        ]
    );
    // The commitment is judged by its new due date: not overdue on 2026-12-15.
    assert_eq!(state.operators[&slug("indus")].commitments.overdue, 0);
    assert_eq!(state.operators[&slug("indus")].commitments.open, 1);
    b.append(
        seed::CHAIR,
        "commitment.closed",
        json!({"commitment": "c1", "outcome": "fulfilled", "note": ""}),
    );
    refused(
        &mut b,
        seed::CHAIR,
        "commitment.extended",
        json!({"commitment": "c1", "due": "2027-02-10", "reason": "r"}),
        Rule::Reference,
        "commitment `c1` was closed (fulfilled)",
    );
}

#[test]
fn only_what_was_missed_is_escalated_and_once() {
    let mut b = with_meeting();
    b.append(
        seed::CISO_INDUS,
        "commitment.made",
        json!({"commitment": "c1", "operator": "indus", "action": "Patch", "due": "2026-11-01"}),
    );
    b.append(
        seed::CHAIR,
        "action.assigned",
        action("a1", json!({"member": "eval"}), "2026-11-30"),
    );
    // Due today is not overdue.
    refused(
        &mut b,
        seed::CHAIR,
        "escalation.recorded",
        json!({"escalation": "e1", "item": {"commitment": "c1"}, "reason": "r"}),
        Rule::Reference,
        "commitment `c1` is open on 2026-11-01, not overdue",
    );
    refused(
        &mut b,
        seed::CHAIR,
        "escalation.recorded",
        json!({"escalation": "e1", "item": {"directive": "d9"}, "reason": "r"}),
        Rule::Reference,
        "there is no directive `d9`",
    );
    b.advance_days(2);
    b.append(
        seed::CHAIR,
        "escalation.recorded",
        json!({"escalation": "e1", "item": {"commitment": "c1"}, "reason": "Late"}),
    );
    refused(
        &mut b,
        seed::AUTHORITY,
        "escalation.recorded",
        json!({"escalation": "e2", "item": {"commitment": "c1"}, "reason": "r"}),
        Rule::Reference,
        "commitment `c1` was already escalated (escalation `e1`)",
    );
    refused(
        &mut b,
        seed::AUTHORITY,
        "escalation.recorded",
        json!({"escalation": "e1", "item": {"action": "a1"}, "reason": "r"}),
        Rule::Reference,
        "escalation `e1` was already recorded",
    );
    // An action closed as missed may be escalated before its due date.
    b.append(
        seed::EVALUATOR,
        "action.closed",
        json!({"action": "a1", "outcome": "missed", "note": ""}),
    );
    b.append(
        seed::AUTHORITY,
        "escalation.recorded",
        json!({"escalation": "e2", "item": {"action": "a1"}, "reason": "Missed"}),
    );
    let ledger = b.ledger.ledger();
    let owed = ledger
        .obligations(None, &ObligationFilter::default())
        .unwrap();
    let commitment = owed
        .items
        .iter()
        .find(|o| o.kind == ObligationKind::Commitment)
        .unwrap();
    assert_eq!(commitment.escalation, Some(slug("e1")));
    let state = ledger.state(None);
    let cycle = state.cycle.unwrap();
    assert_eq!(cycle.escalations[&slug("e1")].operator, Some(slug("indus")));
    assert_eq!(cycle.escalations[&slug("e1")].status.as_str(), "overdue");
    assert_eq!(cycle.escalations[&slug("e2")].status.as_str(), "missed");
    assert_eq!(cycle.actions[&slug("a1")].escalation, Some(slug("e2")));
}

#[test]
fn a_retired_kpi_is_owed_no_more_reports_and_assigned_no_more() {
    let mut b = Builder::standard_v2();
    let owed_reports = |b: &Builder, at: &str| {
        b.ledger
            .ledger()
            .obligations(Some(date(at)), &ObligationFilter::default())
            .unwrap()
            .items
            .into_iter()
            .filter(|o| {
                o.kind == ObligationKind::Report
                    && o.kpi.as_ref().is_some_and(|k| k.as_str() == "LG-01")
            })
            .map(|o| o.period.unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let before = owed_reports(&b, "2027-03-01");
    assert!(before.contains(&"2026-12".to_owned()) && before.contains(&"2027-01".to_owned()));
    refused(
        &mut b,
        seed::CHAIR,
        "kpi.retired",
        json!({"kpi": "XX-01", "reason": "r"}),
        Rule::Reference,
        "KPI `XX-01` is not defined",
    );
    b.append(
        seed::CHAIR,
        "kpi.retired",
        json!({"kpi": "LG-01", "reason": "Merged into CR-01"}),
    );
    refused(
        &mut b,
        seed::AUTHORITY,
        "kpi.retired",
        json!({"kpi": "LG-01", "reason": "r"}),
        Rule::Reference,
        "KPI `LG-01` was retired at seq",
    );
    refused(
        &mut b,
        seed::AUTHORITY,
        "kpi.assigned",
        hisaab_testkit::assignment("LG-01", "indus", "90", "2027-06-30"),
        Rule::Reference,
        "a retired KPI is assigned no more",
    );
    // Retired on 2026-11-01: October's report (a month ended before) is still owed, none
    // after.
    let after = owed_reports(&b, "2027-03-01");
    assert!(after.contains(&"2026-10".to_owned()), "{after:?}");
    assert!(!after.iter().any(|p| p.as_str() >= "2026-11"), "{after:?}");
    let state = b.ledger.ledger().state(None);
    let kpis = state.kpis.unwrap();
    assert_eq!(
        kpis[&hisaab_model::KpiId::try_new("LG-01").unwrap()].retired,
        Some(date("2026-11-01"))
    );
    assert_eq!(
        kpis[&hisaab_model::KpiId::try_new("CR-01").unwrap()].retired,
        None
    );
}

#[test]
fn a_deputy_signs_for_the_ciso_until_the_delegation_expires() {
    let mut b = Builder::standard_v2();
    let commitment = |id: &str| json!({"commitment": id, "operator": "indus", "action": "Patch", "due": "2027-01-31"});
    refused(
        &mut b,
        seed::EVALUATOR_INDUS,
        "commitment.made",
        commitment("c1"),
        Rule::Permission,
        "only a ciso of operator `indus` may sign commitment.made",
    );
    refused(
        &mut b,
        seed::CISO_KARAKORAM,
        "delegation.granted",
        json!({"operator": "indus", "deputy": "eval-indus", "expires": "2026-11-30"}),
        Rule::Permission,
        "only a ciso of operator `indus` may sign delegation.granted",
    );
    for (deputy, expires, words) in [
        (
            "eval",
            "2026-11-30",
            "member `eval` is not a member of operator `indus`",
        ),
        ("ciso-indus", "2026-11-30", "already a ciso"),
        (
            "eval-indus",
            "2026-10-31",
            "expires 2026-10-31 is before the delegation is recorded",
        ),
    ] {
        refused(
            &mut b,
            seed::CISO_INDUS,
            "delegation.granted",
            json!({"operator": "indus", "deputy": deputy, "expires": expires}),
            Rule::Reference,
            words,
        );
    }
    b.append(
        seed::CISO_INDUS,
        "delegation.granted",
        json!({"operator": "indus", "deputy": "eval-indus", "expires": "2026-11-10"}),
    );
    b.append(seed::EVALUATOR_INDUS, "commitment.made", commitment("c1"));
    // Not for another operator, and a deputy does not delegate further.
    refused(
        &mut b,
        seed::EVALUATOR_INDUS,
        "commitment.made",
        json!({"commitment": "c2", "operator": "karakoram", "action": "Patch",
            "due": "2027-01-31"}),
        Rule::Permission,
        "only a ciso of operator `karakoram`",
    );
    refused(
        &mut b,
        seed::EVALUATOR_INDUS,
        "delegation.granted",
        json!({"operator": "indus", "deputy": "eval-indus", "expires": "2026-12-31"}),
        Rule::Permission,
        "only a ciso of operator `indus` may sign delegation.granted",
    );
    // The last day counts; the day after, the deputy signs nothing for the operator.
    b.advance_days(9);
    b.append(seed::EVALUATOR_INDUS, "commitment.made", commitment("c3"));
    b.advance_days(1);
    refused(
        &mut b,
        seed::EVALUATOR_INDUS,
        "commitment.made",
        commitment("c4"),
        Rule::Permission,
        "only a ciso of operator `indus`",
    );
}

#[test]
fn a_suspended_member_signs_nothing_until_reinstated() {
    let mut b = Builder::standard_v2();
    refused(
        &mut b,
        seed::AUTHORITY,
        "member.suspended",
        json!({"member": "pta", "reason": "r"}),
        Rule::Reference,
        "member `pta` may not suspend themself",
    );
    refused(
        &mut b,
        seed::AUTHORITY,
        "member.reinstated",
        json!({"member": "eval"}),
        Rule::Reference,
        "member `eval` is not suspended",
    );
    b.append(
        seed::AUTHORITY,
        "member.suspended",
        json!({"member": "eval", "reason": "Under review"}),
    );
    refused(
        &mut b,
        seed::AUTHORITY_2,
        "member.suspended",
        json!({"member": "eval", "reason": "r"}),
        Rule::Reference,
        "member `eval` was already suspended at seq",
    );
    let challenge = |id: &str| json!({"challenge": id, "pillar": "legal", "description": "d"});
    refused(
        &mut b,
        seed::EVALUATOR,
        "challenge.raised",
        challenge("ch1"),
        Rule::Signer,
        "member `eval` was suspended at seq",
    );
    let state = b.ledger.ledger().state(None);
    assert!(state.cycle.unwrap().members[&slug("eval")].suspended);
    b.append(
        seed::AUTHORITY,
        "member.reinstated",
        json!({"member": "eval"}),
    );
    b.append(seed::EVALUATOR, "challenge.raised", challenge("ch1"));
    let state = b.ledger.ledger().state(None);
    assert!(!state.cycle.unwrap().members[&slug("eval")].suspended);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// An action is owed exactly while it is open and due within 30 days, late by the days
    /// past its due date; closing it removes it on every date.
    #[test]
    fn an_action_is_owed_while_open_and_late_by_its_days(due_offset in 0i64..120, at_offset in 0i64..240, close in any::<bool>()) {
        let mut b = with_meeting();
        let base = date("2026-11-01");
        let due = base.plus_days(due_offset).unwrap();
        b.append(
            seed::CHAIR,
            "action.assigned",
            action("a1", json!({"member": "eval"}), &due.to_string()),
        );
        if close {
            b.append(seed::CHAIR, "action.closed", json!({"action": "a1", "outcome": "done", "note": ""}));
        }
        let at = base.plus_days(at_offset).unwrap();
        let owed = b.ledger.ledger().obligations(Some(at), &ObligationFilter::default()).unwrap();
        let found: Vec<_> = owed.items.iter().filter(|o| o.kind == ObligationKind::Action).collect();
        let expected = !close && due_offset <= at_offset + 30;
        prop_assert_eq!(found.len(), usize::from(expected));
        if let Some(item) = found.first() {
            prop_assert_eq!(item.days_late, u64::try_from((at_offset - due_offset).max(0)).unwrap());
        }
        let state = b.ledger.ledger().state(Some(at));
        let status = state.cycle.unwrap().actions[&slug("a1")].status;
        let want = if close { "done" } else if at > due { "overdue" } else { "open" };
        prop_assert_eq!(status.as_str(), want);
    }
}

/// A submission of indus for CR-01 (target 95, higher is better) with evidence.
fn filed(b: &mut Builder, period: &str, value: &str) -> hisaab_log::Hash {
    let mut body = hisaab_testkit::submission("indus", "CR-01", period, value);
    body["evidence"] = json!([{"name": "export.csv", "sha256": hisaab_log::Hash::sha256(b"e"),
        "bytes": 10}]);
    b.append(seed::CISO_INDUS, "submission.filed", body)
}

#[test]
fn the_rubric_bounds_each_verdicts_score_and_a_differing_verdict_says_why() {
    let mut b = Builder::standard_v2();
    for (bands, words) in [
        (json!([]), "bands must list 1 to 4 verdicts"),
        (
            json!([{"verdict": "met", "min": 80, "max": 100},
                {"verdict": "met", "min": 0, "max": 10}]),
            "each verdict at most once",
        ),
        (
            json!([{"verdict": "met", "min": 90, "max": 80}]),
            "the band of met has min 90 above max 80",
        ),
    ] {
        refused(
            &mut b,
            seed::AUTHORITY,
            "rubric.set",
            json!({"bands": bands}),
            Rule::Form,
            words,
        );
    }
    refused(
        &mut b,
        seed::CHAIR,
        "rubric.set",
        json!({"bands": [{"verdict": "met", "min": 80, "max": 100}]}),
        Rule::Permission,
        "only authority may",
    );
    b.append(
        seed::AUTHORITY,
        "rubric.set",
        json!({"bands": [{"verdict": "met", "min": 80, "max": 100},
            {"verdict": "not_met", "min": 0, "max": 49}]}),
    );
    let high = filed(&mut b, "2026-10", "97");
    refused(
        &mut b,
        seed::EVALUATOR,
        "evaluation.recorded",
        hisaab_testkit::evaluation(high, "met", 60),
        Rule::Reference,
        "score 60 is outside the band 80–100 of verdict met in the rubric set at seq",
    );
    // 97 reaches the target 95: not_met differs and must say why.
    refused(
        &mut b,
        seed::EVALUATOR,
        "evaluation.recorded",
        hisaab_testkit::evaluation(high, "not_met", 20),
        Rule::Reference,
        "the value 97 against the target 95 (higher_is_better) indicates met, not not_met",
    );
    // A verdict without a band may carry any score.
    let low = filed(&mut b, "2026-09", "90");
    b.append(
        seed::EVALUATOR,
        "evaluation.recorded",
        hisaab_testkit::evaluation(low, "partially_met", 99),
    );
    let state = b.ledger.ledger().state(None);
    let row =
        &state.operators[&slug("indus")].kpis[&hisaab_model::KpiId::try_new("CR-01").unwrap()];
    assert_eq!(row.verdict_differs, Some(false));
    let mut differing = hisaab_testkit::evaluation(high, "not_met", 20);
    differing["reason"] = json!("The export behind the figure does not reconcile");
    b.append(seed::EVALUATOR, "evaluation.recorded", differing);
    let state = b.ledger.ledger().state(None);
    let row =
        &state.operators[&slug("indus")].kpis[&hisaab_model::KpiId::try_new("CR-01").unwrap()];
    assert_eq!(row.verdict_differs, Some(true), "the state flags the row");
    // The public view withholds the flag with the verdict.
    let view = hisaab_model::view::view_state(&state, &hisaab_model::Reader::Public);
    let row = &view.operators[&slug("indus")].kpis[&hisaab_model::KpiId::try_new("CR-01").unwrap()];
    assert_eq!(row.verdict_differs, None);
    // A format-1 ledger knows no reason.
    let mut v1 = Builder::standard();
    let mut body = hisaab_testkit::submission("indus", "CR-01", "2026-10", "97");
    body["evidence"] = json!([]);
    let s = v1.append(seed::CISO_INDUS, "submission.filed", body);
    let mut with_reason = hisaab_testkit::evaluation(s, "not_met", 20);
    with_reason["reason"] = json!("r");
    refused(
        &mut v1,
        seed::EVALUATOR,
        "evaluation.recorded",
        with_reason,
        Rule::Form,
        "reason is a field of format 2",
    );
    v1.append(
        seed::EVALUATOR,
        "evaluation.recorded",
        hisaab_testkit::evaluation(s, "not_met", 20),
    );
}

#[test]
fn whoever_resolves_a_dispute_or_challenge_judged_nothing_of_it_and_belongs_to_no_operator_concerned(
) {
    let mut b = Builder::standard_v2();
    // pta-2 evaluates; pta-2 may not resolve the dispute over its own evaluation.
    disputed_v2(&mut b, seed::AUTHORITY_2);
    let as_of = b.ledger.size();
    // Format 2: the full-state digest (SPEC §12.8).
    let digest = b
        .ledger
        .ledger_at(as_of)
        .unwrap()
        .resolution_digest()
        .unwrap();
    let resolution = json!({"dispute": "d1", "outcome": "upheld", "as_of": as_of,
        "state_digest": digest, "rationale": "Sound"});
    refused(
        &mut b,
        seed::AUTHORITY_2,
        "dispute.resolved",
        resolution.clone(),
        Rule::ConflictOfInterest,
        "member `pta-2` signed the evaluation disputed and may not sign the resolution of a \
         dispute over it",
    );
    refused(
        &mut b,
        seed::AUTHORITY_INDUS,
        "dispute.resolved",
        resolution.clone(),
        Rule::ConflictOfInterest,
        "belongs to operator `indus`",
    );
    b.append(seed::AUTHORITY, "dispute.resolved", resolution);
    // A challenge naming indus is not resolved by a member of indus (format 2).
    b.append(
        seed::CISO_KARAKORAM,
        "challenge.raised",
        json!({"challenge": "ch1", "pillar": "resilience", "operator": "indus",
            "description": "Patching lags"}),
    );
    refused(
        &mut b,
        seed::CHAIR_INDUS,
        "challenge.resolved",
        json!({"challenge": "ch1", "resolution": "Fine"}),
        Rule::ConflictOfInterest,
        "member `chair-indus` belongs to operator `indus` and may not sign the resolution of a \
         challenge concerning it",
    );
    b.append(
        seed::CHAIR,
        "challenge.resolved",
        json!({"challenge": "ch1", "resolution": "Patch plan agreed"}),
    );
    // In format 1 both stay as they were.
    let mut v1 = Builder::standard();
    v1.append(
        seed::CISO_KARAKORAM,
        "challenge.raised",
        json!({"challenge": "ch1", "pillar": "resilience", "operator": "indus",
            "description": "Patching lags"}),
    );
    v1.append(
        seed::CHAIR_INDUS,
        "challenge.resolved",
        json!({"challenge": "ch1", "resolution": "Fine"}),
    );
}

/// A disputed evaluation of indus's CR-01 by `evaluator` on a format-2 ledger: the dispute
/// `d1` is open.
fn disputed_v2(b: &mut Builder, evaluator: u8) {
    let s = filed(b, "2026-10", "90");
    let e = b.append(
        evaluator,
        "evaluation.recorded",
        hisaab_testkit::evaluation(s, "not_met", 20),
    );
    b.append(
        seed::CISO_INDUS,
        "dispute.opened",
        json!({"dispute": "d1", "evaluation": e, "grounds": "The evidence was ignored"}),
    );
}

#[test]
fn a_format_2_resolution_names_the_full_state_digest_not_the_public_one() {
    let mut b = Builder::standard_v2();
    disputed_v2(&mut b, seed::EVALUATOR);
    let as_of = b.ledger.size();
    let ledger = b.ledger.ledger_at(as_of).unwrap();
    let full = ledger.resolution_digest().unwrap();
    assert_eq!(Some(full), ledger.full_state_digest(None));
    // The tree: the public part and one leaf per operator (SPEC §12.8).
    let tree = ledger.full_state_tree(None).unwrap();
    assert_eq!(tree.operators(), ["indus", "karakoram"]);
    assert_eq!(tree.digest(), full);
    let public = ledger.state(None).digest();
    assert_ne!(full, public);
    let resolution = |digest: hisaab_log::Hash| {
        json!({"dispute": "d1", "outcome": "upheld", "as_of": as_of,
            "state_digest": digest, "rationale": "Sound"})
    };
    // §5.7's digest of the full state is not what a format-2 resolution names.
    refused(
        &mut b,
        seed::AUTHORITY,
        "dispute.resolved",
        resolution(public),
        Rule::Reference,
        "the full-state digest, SPEC §12.8",
    );
    b.append(seed::AUTHORITY, "dispute.resolved", resolution(full));
}

#[test]
fn a_format_2_ledger_with_an_unblinded_operator_has_no_digest_to_resolve_on() {
    let mut b = Builder::standard_v2();
    b.append(
        seed::AUTHORITY,
        "operator.registered",
        json!({"operator": "unblinded", "name": "Unblinded"}),
    );
    disputed_v2(&mut b, seed::EVALUATOR);
    let as_of = b.ledger.size();
    let ledger = b.ledger.ledger_at(as_of).unwrap();
    let why = ledger.resolution_digest().unwrap_err();
    assert!(why.contains("`unblinded`"), "{why}");
    assert_eq!(ledger.full_state_digest(None), None);
    refused(
        &mut b,
        seed::AUTHORITY,
        "dispute.resolved",
        json!({"dispute": "d1", "outcome": "upheld", "as_of": as_of,
            "state_digest": ledger.state(None).digest(), "rationale": "Sound"}),
        Rule::Reference,
        "operator `unblinded` has no opened `blinding`",
    );
}
