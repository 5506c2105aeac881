//! Format 2's lifecycles completed, the challenge register and stakeholders (SPEC §11.12): an
//! assignment withdrawn, an operator leaving, challenges with owner, severity, due date and
//! measures, stakeholders named by agenda items, actions and directives, and delegations in the
//! state — their rules, their effect on the state and on the obligations; and that a format-1
//! ledger refuses them.

use hisaab_model::cycle::TaskStatus;
use hisaab_model::{
    ChallengeStatus, DelegationStatus, KpiId, ObligationFilter, ObligationKind, OwedBy, Rule,
    Severity, StakeholderType,
};
use hisaab_testkit::{assignment, seed, Builder};
use serde_json::{json, Value};

use crate::cycle::{date, refused, slug};

/// The periods of the reports `operator` owes for `kpi` on `at`.
fn owed_reports(b: &Builder, operator: &str, kpi: &str, at: &str) -> Vec<String> {
    b.ledger
        .ledger()
        .obligations(Some(date(at)), &ObligationFilter::default())
        .unwrap()
        .items
        .into_iter()
        .filter(|o| {
            o.kind == ObligationKind::Report
                && o.operator.as_ref().is_some_and(|x| x.as_str() == operator)
                && o.kpi.as_ref().is_some_and(|k| k.as_str() == kpi)
        })
        .map(|o| o.period.unwrap().to_string())
        .collect()
}

/// Meeting `m1` held on 2026-10-30, for action items.
fn meeting(b: &mut Builder) {
    b.append(
        seed::CHAIR,
        "meeting.recorded",
        json!({"meeting": "m1", "held_on": "2026-10-30",
            "attendees": ["chair", "ciso-indus", "eval"],
            "minutes_sha256": hisaab_log::Hash::sha256(b"m"), "decisions": []}),
    );
}

#[test]
fn a_format_1_ledger_refuses_the_new_kinds_and_the_register_fields() {
    let mut b = Builder::standard();
    for (kind, body) in [
        (
            "assignment.withdrawn",
            json!({"operator": "indus", "kpi": "CR-01", "reason": "r"}),
        ),
        ("operator.left", json!({"operator": "indus", "reason": "r"})),
        (
            "stakeholder.registered",
            json!({"stakeholder": "pkcert", "name": "PKCERT", "type": "cert"}),
        ),
        (
            "challenge.measure_recorded",
            json!({"challenge": "c", "by": {"member": "chair"}, "measure": "m"}),
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
    for (extra, field) in [
        (json!({"severity": "high"}), "severity"),
        (
            json!({"owner": {"member": "chair"}, "due": "2026-12-01"}),
            "owner",
        ),
    ] {
        let mut body = json!({"challenge": "c1", "pillar": "legal", "description": "d"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        refused(
            &mut b,
            seed::CHAIR,
            "challenge.raised",
            body,
            Rule::Form,
            &format!("{field} is a field of format 2; a ledger of format 1 has none"),
        );
    }
    // The v1 challenge is as before.
    b.append(
        seed::CHAIR,
        "challenge.raised",
        json!({"challenge": "c1", "pillar": "legal", "description": "d"}),
    );
}

#[test]
fn a_withdrawn_assignment_is_owed_no_more_reports_until_assigned_again() {
    let mut b = Builder::standard_v2();
    let before = owed_reports(&b, "indus", "LG-01", "2027-03-01");
    assert!(before.contains(&"2026-12".to_owned()), "{before:?}");
    for (body, words) in [
        (
            json!({"operator": "jazz", "kpi": "LG-01", "reason": "r"}),
            "operator `jazz` is not registered",
        ),
        (
            json!({"operator": "indus", "kpi": "XX-01", "reason": "r"}),
            "KPI `XX-01` is not defined",
        ),
        (
            json!({"operator": "karakoram", "kpi": "MN-01", "reason": "r"}),
            "operator `karakoram` has no assignment of KPI `MN-01`",
        ),
    ] {
        refused(
            &mut b,
            seed::CHAIR,
            "assignment.withdrawn",
            body,
            Rule::Reference,
            words,
        );
    }
    let withdrawal = json!({"operator": "indus", "kpi": "LG-01", "reason": "Out of scope"});
    b.append(seed::CHAIR, "assignment.withdrawn", withdrawal.clone());
    refused(
        &mut b,
        seed::AUTHORITY,
        "assignment.withdrawn",
        withdrawal,
        Rule::Reference,
        "was withdrawn at seq",
    );
    // Withdrawn on 2026-11-01: October's report is still owed, none after; Karakoram's
    // assignment of the same KPI is untouched.
    let after = owed_reports(&b, "indus", "LG-01", "2027-03-01");
    assert!(after.contains(&"2026-10".to_owned()), "{after:?}");
    assert!(!after.iter().any(|p| p.as_str() >= "2026-11"), "{after:?}");
    assert!(owed_reports(&b, "karakoram", "LG-01", "2027-03-01").contains(&"2026-12".to_owned()));
    let cycle = b.ledger.ledger().state(None).cycle.unwrap();
    assert_eq!(cycle.withdrawn.len(), 1);
    assert_eq!(cycle.withdrawn[0].operator, slug("indus"));
    assert_eq!(cycle.withdrawn[0].kpi, KpiId::try_new("LG-01").unwrap());
    assert_eq!(cycle.withdrawn[0].on, date("2026-11-01"));
    // Assigned again from January: reports are owed again from its first period.
    let mut again = assignment("LG-01", "indus", "90", "2027-12-31");
    again["first_period"] = json!("2027-01");
    b.append(seed::AUTHORITY, "kpi.assigned", again);
    let owed = owed_reports(&b, "indus", "LG-01", "2027-03-01");
    assert_eq!(owed, vec!["2027-01".to_owned(), "2027-02".to_owned()]);
    assert!(b
        .ledger
        .ledger()
        .state(None)
        .cycle
        .unwrap()
        .withdrawn
        .is_empty());
}

#[test]
fn an_operator_that_left_signs_nothing_is_given_nothing_and_owes_nothing() {
    let mut b = Builder::standard_v2();
    b.append(
        seed::AUTHORITY,
        "directive.issued",
        json!({"directive": "d1", "operator": "karakoram", "due": "2026-11-20", "text": "t"}),
    );
    b.append(
        seed::AUTHORITY,
        "directive.issued",
        json!({"directive": "d2", "operator": "indus", "due": "2026-11-20", "text": "t"}),
    );
    let owes = |b: &Builder, operator: &str| {
        b.ledger
            .ledger()
            .obligations(Some(date("2027-01-01")), &ObligationFilter::default())
            .unwrap()
            .items
            .iter()
            .filter(|o| matches!(&o.owed_by, OwedBy::Operator { operator: x } if x.as_str() == operator))
            .count()
    };
    assert!(owes(&b, "karakoram") > 0);
    refused(
        &mut b,
        seed::AUTHORITY,
        "operator.left",
        json!({"operator": "jazz", "reason": "r"}),
        Rule::Reference,
        "operator `jazz` is not registered",
    );
    refused(
        &mut b,
        seed::AUTHORITY_INDUS,
        "operator.left",
        json!({"operator": "indus", "reason": "r"}),
        Rule::ConflictOfInterest,
        "nobody judges their own operator",
    );
    b.append(
        seed::AUTHORITY,
        "operator.left",
        json!({"operator": "karakoram", "reason": "Licence surrendered"}),
    );
    refused(
        &mut b,
        seed::AUTHORITY,
        "operator.left",
        json!({"operator": "karakoram", "reason": "r"}),
        Rule::Reference,
        "operator `karakoram` left the task force at seq",
    );
    // Its members sign nothing.
    refused(
        &mut b,
        seed::CISO_KARAKORAM,
        "challenge.raised",
        json!({"challenge": "c1", "pillar": "legal", "description": "d"}),
        Rule::Signer,
        "member `ciso-karakoram` belongs to operator `karakoram`, which left the task force",
    );
    // No new work names it.
    for (kind, body) in [
        (
            "kpi.assigned",
            assignment("MN-01", "karakoram", "10", "2027-01-31"),
        ),
        (
            "directive.issued",
            json!({"directive": "d3", "operator": "karakoram", "due": "2026-12-20",
                "text": "t"}),
        ),
    ] {
        refused(
            &mut b,
            seed::AUTHORITY,
            kind,
            body,
            Rule::Reference,
            "operator `karakoram` left the task force at seq",
        );
    }
    // What it owed is closed as left; the rest is unchanged.
    assert_eq!(owes(&b, "karakoram"), 0);
    assert!(owes(&b, "indus") > 0);
    b.advance_days(30);
    let cycle = b
        .ledger
        .ledger()
        .state(Some(date("2026-12-01")))
        .cycle
        .unwrap();
    assert_eq!(cycle.directives[&slug("d1")].status, TaskStatus::Left);
    assert_eq!(cycle.directives[&slug("d2")].status, TaskStatus::Overdue);
    assert_eq!(cycle.left[&slug("karakoram")].on, date("2026-11-01"));
    // A meeting after it left counts neither it nor its members.
    b.append(
        seed::CHAIR,
        "meeting.recorded",
        json!({"meeting": "m2", "held_on": "2026-11-30", "attendees": ["chair", "ciso-indus"],
            "minutes_sha256": hisaab_log::Hash::sha256(b"m"), "decisions": []}),
    );
    let cycle = b.ledger.ledger().state(None).cycle.unwrap();
    let m2 = &cycle.meetings[&slug("m2")];
    assert_eq!((m2.operators, m2.represented), (1, 1));
    assert_eq!(m2.quorate, Some(true));
    assert!(
        !m2.absent.contains(&slug("ciso-karakoram")),
        "{:?}",
        m2.absent
    );
    // Its history stays: the operator and its rows are still in the state.
    let state = b.ledger.ledger().state(None);
    assert!(state.operators.contains_key(&slug("karakoram")));
}

#[test]
fn the_challenge_register_has_owner_severity_due_status_and_measures() {
    let mut b = Builder::standard_v2();
    let raised = |owner: Value, due: &str| {
        json!({"challenge": "ch1", "pillar": "capacity", "operator": "indus", "kpi": "CR-01",
            "owner": owner, "due": due, "severity": "critical",
            "description": "Too few trained analysts"})
    };
    refused(
        &mut b,
        seed::CHAIR,
        "challenge.raised",
        json!({"challenge": "ch1", "pillar": "legal", "owner": {"member": "eval"},
            "description": "d"}),
        Rule::Form,
        "a challenge's owner and due come together",
    );
    refused(
        &mut b,
        seed::CHAIR,
        "challenge.raised",
        json!({"challenge": "ch1", "pillar": "legal", "severity": "grave", "description": "d"}),
        Rule::Form,
        "unknown variant `grave`",
    );
    refused(
        &mut b,
        seed::CHAIR,
        "challenge.raised",
        raised(json!({"member": "nobody"}), "2026-11-20"),
        Rule::Reference,
        "there is no member `nobody`",
    );
    refused(
        &mut b,
        seed::CHAIR,
        "challenge.raised",
        raised(json!({"member": "eval"}), "2026-10-20"),
        Rule::Reference,
        "due 2026-10-20 is before the challenge is raised (2026-11-01)",
    );
    b.append(
        seed::CISO_KARAKORAM,
        "challenge.raised",
        raised(json!({"member": "eval"}), "2026-11-20"),
    );
    // Measures: by its owner or a chair or authority, naming who took them.
    refused(
        &mut b,
        seed::CISO_INDUS,
        "challenge.measure_recorded",
        json!({"challenge": "ch1", "by": {"member": "ciso-indus"}, "measure": "m"}),
        Rule::Permission,
        "only its owner (member `eval`) or a chair or authority may",
    );
    refused(
        &mut b,
        seed::CHAIR,
        "challenge.measure_recorded",
        json!({"challenge": "ch9", "by": {"member": "eval"}, "measure": "m"}),
        Rule::Reference,
        "there is no challenge `ch9`",
    );
    refused(
        &mut b,
        seed::CHAIR,
        "challenge.measure_recorded",
        json!({"challenge": "ch1", "by": {"operator": "jazz"}, "measure": "m"}),
        Rule::Reference,
        "operator `jazz` is not registered",
    );
    b.append(
        seed::EVALUATOR,
        "challenge.measure_recorded",
        json!({"challenge": "ch1", "by": {"member": "eval"}, "measure": "Training booked"}),
    );
    b.append(
        seed::CHAIR,
        "challenge.measure_recorded",
        json!({"challenge": "ch1", "by": {"operator": "indus"}, "measure": "Two analysts hired"}),
    );
    let ledger = b.ledger.ledger();
    // A measure is in the history of the pair its challenge names.
    let last = &b.ledger.entries().last().unwrap().entry().statement;
    assert_eq!(
        ledger.subject_of(last),
        Some(("indus".to_owned(), "CR-01".to_owned()))
    );
    let cycle = ledger.state(None).cycle.unwrap();
    let ch1 = &cycle.challenges[&slug("ch1")];
    assert_eq!(ch1.severity, Some(Severity::Critical));
    assert_eq!(ch1.due, Some(date("2026-11-20")));
    assert_eq!(ch1.status, ChallengeStatus::Open);
    assert_eq!(ch1.measures.len(), 2);
    assert_eq!(cycle.members[&slug("eval")].challenges_open, 1);
    assert_eq!(cycle.members[&slug("eval")].measures, 1);
    // Past its due date: overdue in the state, and owed by its owner in the obligations.
    let late = ledger.state(Some(date("2026-11-25"))).cycle.unwrap();
    assert_eq!(
        late.challenges[&slug("ch1")].status,
        ChallengeStatus::Overdue
    );
    assert_eq!(late.members[&slug("eval")].challenges_overdue, 1);
    let filter = ObligationFilter {
        member: Some(slug("eval")),
        ..ObligationFilter::default()
    };
    let owed = ledger
        .obligations(Some(date("2026-11-25")), &filter)
        .unwrap();
    let item = owed
        .items
        .iter()
        .find(|o| o.kind == ObligationKind::Challenge)
        .expect("the owner owes the challenge");
    assert_eq!(
        item.owed_by,
        OwedBy::Member {
            member: slug("eval")
        }
    );
    assert_eq!((item.due, item.days_late), (date("2026-11-20"), 5));
    // Resolved: no more measures, and nothing owed.
    b.append(
        seed::CHAIR,
        "challenge.resolved",
        json!({"challenge": "ch1", "resolution": "Staffed"}),
    );
    refused(
        &mut b,
        seed::CHAIR,
        "challenge.measure_recorded",
        json!({"challenge": "ch1", "by": {"member": "eval"}, "measure": "m"}),
        Rule::Reference,
        "challenge `ch1` was resolved at seq",
    );
    let ledger = b.ledger.ledger();
    assert_eq!(
        ledger.state(None).cycle.unwrap().challenges[&slug("ch1")].status,
        ChallengeStatus::Resolved
    );
    assert!(!ledger
        .obligations(Some(date("2026-11-25")), &filter)
        .unwrap()
        .items
        .iter()
        .any(|o| o.kind == ObligationKind::Challenge));
}

#[test]
fn stakeholders_are_registered_once_and_named_only_when_registered() {
    let mut b = Builder::standard_v2();
    meeting(&mut b);
    let register = json!({"stakeholder": "pkcert", "name": "PKCERT", "type": "cert"});
    refused(
        &mut b,
        seed::CHAIR,
        "stakeholder.registered",
        register.clone(),
        Rule::Permission,
        "only authority may",
    );
    refused(
        &mut b,
        seed::AUTHORITY,
        "stakeholder.registered",
        json!({"stakeholder": "x", "name": "X", "type": "club"}),
        Rule::Form,
        "unknown variant `club`",
    );
    b.append(seed::AUTHORITY, "stakeholder.registered", register.clone());
    refused(
        &mut b,
        seed::AUTHORITY_2,
        "stakeholder.registered",
        register,
        Rule::Reference,
        "stakeholder `pkcert` was already registered at seq",
    );
    refused(
        &mut b,
        seed::CHAIR,
        "meeting.scheduled",
        json!({"meeting": "m2", "date": "2026-11-20",
            "agenda": [{"title": "CERT", "stakeholder": "fia"}]}),
        Rule::Reference,
        "agenda item 1 names stakeholder `fia`, which is not registered",
    );
    let action = |stakeholders: Value| {
        json!({"action": "a1", "meeting": "m1", "owner": {"member": "eval"},
            "due": "2026-12-01", "text": "Share the indicators", "stakeholders": stakeholders})
    };
    refused(
        &mut b,
        seed::CHAIR,
        "action.assigned",
        action(json!(["pkcert", "fia"])),
        Rule::Reference,
        "stakeholder `fia` is not registered",
    );
    for bad in [json!([]), json!(["pkcert", "pkcert"])] {
        refused(
            &mut b,
            seed::CHAIR,
            "action.assigned",
            action(bad),
            Rule::Form,
            "stakeholders must list 1 to 16 distinct ids",
        );
    }
    refused(
        &mut b,
        seed::AUTHORITY,
        "directive.issued",
        json!({"directive": "d1", "operator": "indus", "due": "2026-12-01", "text": "t",
            "stakeholders": ["fia"]}),
        Rule::Reference,
        "stakeholder `fia` is not registered",
    );
    b.append(seed::CHAIR, "action.assigned", action(json!(["pkcert"])));
    b.append(
        seed::AUTHORITY,
        "directive.issued",
        json!({"directive": "d1", "operator": "indus", "due": "2026-12-01", "text": "t",
            "stakeholders": ["pkcert"]}),
    );
    b.append(
        seed::CHAIR,
        "meeting.scheduled",
        json!({"meeting": "m2", "date": "2026-11-20",
            "agenda": [{"title": "CERT", "stakeholder": "pkcert"}]}),
    );
    let cycle = b.ledger.ledger().state(None).cycle.unwrap();
    let pkcert = &cycle.stakeholders[&slug("pkcert")];
    assert_eq!(pkcert.kind, StakeholderType::Cert);
    assert_eq!(pkcert.registered, date("2026-11-01"));
    assert_eq!(
        cycle.actions[&slug("a1")].stakeholders,
        vec![slug("pkcert")]
    );
    assert_eq!(
        cycle.directives[&slug("d1")].stakeholders,
        vec![slug("pkcert")]
    );
    assert_eq!(
        cycle.meetings[&slug("m2")].agenda[0].stakeholder,
        Some(slug("pkcert"))
    );
}

#[test]
fn delegations_are_in_the_state_and_a_deputy_in_force_owes_its_operator_s_obligations() {
    let mut b = Builder::standard_v2();
    b.append(
        seed::CISO_INDUS,
        "delegation.granted",
        json!({"operator": "indus", "deputy": "eval-indus", "expires": "2026-11-30"}),
    );
    let ledger = b.ledger.ledger();
    let in_force = ledger.state(None).cycle.unwrap();
    let delegation = &in_force.delegations[&slug("eval-indus")];
    assert_eq!(delegation.operator, slug("indus"));
    assert_eq!(delegation.expires, date("2026-11-30"));
    assert_eq!(delegation.status, DelegationStatus::InForce);
    let later = ledger.state(Some(date("2026-12-01"))).cycle.unwrap();
    assert_eq!(
        later.delegations[&slug("eval-indus")].status,
        DelegationStatus::Expired
    );
    let owed_by_deputy = |at: &str| {
        let filter = ObligationFilter {
            member: Some(slug("eval-indus")),
            ..ObligationFilter::default()
        };
        ledger
            .obligations(Some(date(at)), &filter)
            .unwrap()
            .items
            .iter()
            .filter(|o| matches!(&o.owed_by, OwedBy::Operator { operator } if operator.as_str() == "indus"))
            .count()
    };
    assert!(owed_by_deputy("2026-11-30") > 0);
    assert_eq!(owed_by_deputy("2026-12-01"), 0);
}
