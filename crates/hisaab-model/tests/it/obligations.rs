//! Who owes what by when (SPEC §11.4): every kind of obligation, its owner, due date and days
//! late, the cadences, the policy's deadlines and the filters.

use hisaab_log::Date;
use hisaab_model::{
    Ledger, ObligationError, ObligationFilter, ObligationKind, Obligations, OwedBy, Role, Slug,
};
use hisaab_testkit::{assignment, evaluation, genesis_body, seed, submission, Builder};
use serde_json::json;

fn date(text: &str) -> Date {
    Date::try_parse(text).unwrap()
}

fn slug(text: &str) -> Slug {
    Slug::try_new(text).unwrap()
}

fn at(ledger: &Ledger, day: &str) -> Obligations {
    ledger
        .obligations(Some(date(day)), &ObligationFilter::default())
        .unwrap()
}

fn of_kind(obligations: &Obligations, kind: ObligationKind) -> Vec<&hisaab_model::Obligation> {
    obligations
        .items
        .iter()
        .filter(|i| i.kind == kind)
        .collect()
}

#[test]
fn monthly_reports_are_owed_from_the_first_period_and_late_after_the_filing_deadline() {
    let mut b = Builder::standard();
    b.append(
        seed::CISO_INDUS,
        "submission.filed",
        submission("indus", "CR-01", "2026-01", "90"),
    );
    let o = at(b.ledger.ledger(), "2026-03-10");
    let reports: Vec<_> = of_kind(&o, ObligationKind::Report)
        .into_iter()
        .filter(|i| {
            i.operator == Some(slug("indus")) && i.kpi.as_ref().unwrap().as_str() == "CR-01"
        })
        .collect();
    // January was filed; February ended and is due 2026-03-15 (15 days by default), not late.
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].period.unwrap().to_string(), "2026-02");
    assert_eq!(reports[0].due, date("2026-03-15"));
    assert_eq!(reports[0].days_late, 0);
    assert_eq!(
        reports[0].owed_by,
        OwedBy::Operator {
            operator: slug("indus")
        }
    );
    let later = at(b.ledger.ledger(), "2026-03-20");
    let february = later
        .items
        .iter()
        .find(|i| {
            i.kind == ObligationKind::Report
                && i.operator == Some(slug("indus"))
                && i.kpi.as_ref().unwrap().as_str() == "CR-01"
        })
        .unwrap();
    assert_eq!(february.days_late, 5);
    // Most late first.
    assert!(later
        .items
        .windows(2)
        .all(|w| w[0].days_late >= w[1].days_late));
}

#[test]
fn the_policy_of_a_v2_ledger_sets_the_deadlines() {
    let mut genesis = genesis_body();
    genesis["policy"]["filing_days"] = json!(5);
    genesis["policy"]["evaluation_days"] = json!(2);
    genesis["policy"]["decision_days"] = json!(7);
    let mut b = Builder::of_format(2);
    b.append(seed::AUTHORITY, "ledger.genesis", genesis.clone());
    b.append(
        seed::AUTHORITY,
        "operator.registered",
        json!({"operator": "indus", "name": "Indus"}),
    );
    b.append(
        seed::AUTHORITY,
        "kpi.defined",
        json!({"kpi": "CR-01", "pillar": "resilience", "title": "Patch latency",
            "unit": "days", "direction": "lower_is_better", "cadence": "quarterly",
            "evidence_required": false}),
    );
    b.append(
        seed::AUTHORITY,
        "kpi.assigned",
        assignment("CR-01", "indus", "10", "2026-12-31"),
    );
    let o = at(b.ledger.ledger(), "2026-07-10");
    let reports = of_kind(&o, ObligationKind::Report);
    // Quarterly from 2026-01: the quarters end 2026-03 and 2026-06, due 5 days after.
    let periods: Vec<String> = reports
        .iter()
        .map(|i| i.period.unwrap().to_string())
        .collect();
    assert_eq!(periods, ["2026-03", "2026-06"]);
    assert_eq!(reports[0].due, date("2026-04-05"));
    assert_eq!(reports[1].due, date("2026-07-05"));
    assert_eq!(reports[1].days_late, 5);
    // The same policy fields on a v1 genesis are refused.
    let mut v1 = Builder::new();
    let refused = v1
        .try_append(seed::AUTHORITY, "ledger.genesis", genesis)
        .unwrap_err();
    assert_eq!(refused.rule, hisaab_model::Rule::Form);
    assert!(refused.detail.contains("filing_days"), "{refused}");
}

#[test]
fn a_kpi_reported_once_is_owed_by_its_due_date_and_any_report_settles_it() {
    let mut b = Builder::standard();
    b.append(
        seed::AUTHORITY,
        "kpi.defined",
        json!({"kpi": "AW-01", "pillar": "awareness", "title": "Campaign",
            "unit": "count", "direction": "higher_is_better", "cadence": "once",
            "evidence_required": false}),
    );
    b.append(
        seed::AUTHORITY,
        "kpi.assigned",
        assignment("AW-01", "karakoram", "1", "2026-06-30"),
    );
    let once = |o: &Obligations| {
        o.items
            .iter()
            .filter(|i| {
                i.kind == ObligationKind::Report
                    && i.kpi.as_ref().is_some_and(|k| k.as_str() == "AW-01")
            })
            .cloned()
            .collect::<Vec<_>>()
    };
    assert!(once(&at(b.ledger.ledger(), "2026-06-30")).is_empty());
    let late = once(&at(b.ledger.ledger(), "2026-07-03"));
    assert_eq!(late.len(), 1);
    assert_eq!(
        (late[0].due, late[0].days_late, late[0].period),
        (date("2026-06-30"), 3, None)
    );
    b.append(
        seed::CISO_KARAKORAM,
        "submission.filed",
        submission("karakoram", "AW-01", "2026-10", "1"),
    );
    assert!(once(&at(b.ledger.ledger(), "2026-12-01")).is_empty());
}

#[test]
fn evaluations_commitments_disputes_and_challenges_are_owed_by_who_settles_them() {
    let mut b = Builder::standard();
    // Recorded 2026-11-01: due an evaluation by 2026-12-01.
    let filed = b.append(
        seed::CISO_INDUS,
        "submission.filed",
        submission("indus", "CR-01", "2026-10", "90"),
    );
    let other = b.append(
        seed::CISO_KARAKORAM,
        "submission.filed",
        submission("karakoram", "CR-01", "2026-10", "80"),
    );
    let judged = b.append(
        seed::EVALUATOR,
        "evaluation.recorded",
        evaluation(other, "not_met", 20),
    );
    b.append(
        seed::CISO_KARAKORAM,
        "dispute.opened",
        json!({"dispute": "d1", "evaluation": judged, "grounds": "the export was partial"}),
    );
    b.append(
        seed::CHAIR,
        "challenge.raised",
        json!({"challenge": "c1", "pillar": "legal", "operator": "indus",
            "description": "the lawful interception rules are unclear"}),
    );
    b.append(
        seed::CISO_INDUS,
        "commitment.made",
        json!({"commitment": "soon", "operator": "indus", "action": "patch", "due": "2026-12-10"}),
    );
    b.append(
        seed::CISO_INDUS,
        "commitment.made",
        json!({"commitment": "far", "operator": "indus", "action": "audit", "due": "2027-06-30"}),
    );
    let o = at(b.ledger.ledger(), "2026-12-05");
    let evaluations = of_kind(&o, ObligationKind::Evaluation);
    assert_eq!(evaluations.len(), 1);
    assert_eq!(evaluations[0].submission, Some(filed));
    assert_eq!(
        (evaluations[0].due, evaluations[0].days_late),
        (date("2026-12-01"), 4)
    );
    assert_eq!(
        evaluations[0].owed_by,
        OwedBy::Roles {
            roles: vec![Role::Authority, Role::Chair, Role::Evaluator]
        }
    );
    // Only the commitment falling due within 30 days; the far one is not yet an obligation.
    let commitments = of_kind(&o, ObligationKind::Commitment);
    assert_eq!(commitments.len(), 1);
    assert_eq!(commitments[0].id, Some(slug("soon")));
    assert_eq!(commitments[0].days_late, 0);
    let disputes = of_kind(&o, ObligationKind::Dispute);
    assert_eq!(disputes.len(), 1);
    assert_eq!(
        (disputes[0].due, disputes[0].days_late),
        (date("2026-12-01"), 4)
    );
    assert_eq!(
        disputes[0].owed_by,
        OwedBy::Roles {
            roles: vec![Role::Authority]
        }
    );
    let challenges = of_kind(&o, ObligationKind::Challenge);
    assert_eq!(challenges.len(), 1);
    assert_eq!(challenges[0].id, Some(slug("c1")));

    // Filters: an operator's obligations; a member's (an evaluator of indus owes no
    // evaluation of indus); unknown names are errors.
    let indus = b
        .ledger
        .ledger()
        .obligations(
            Some(date("2026-12-05")),
            &ObligationFilter {
                operator: Some(slug("indus")),
                member: None,
            },
        )
        .unwrap();
    assert!(indus
        .items
        .iter()
        .all(|i| i.operator == Some(slug("indus"))));
    let member = |id: &str| {
        b.ledger
            .ledger()
            .obligations(
                Some(date("2026-12-05")),
                &ObligationFilter {
                    operator: None,
                    member: Some(slug(id)),
                },
            )
            .unwrap()
    };
    assert_eq!(
        of_kind(&member("eval"), ObligationKind::Evaluation).len(),
        1
    );
    assert!(of_kind(&member("eval-indus"), ObligationKind::Evaluation).is_empty());
    assert_eq!(of_kind(&member("pta"), ObligationKind::Dispute).len(), 1);
    assert!(member("ciso-indus").items.iter().all(|i| i.owed_by
        == OwedBy::Operator {
            operator: slug("indus")
        }));
    assert_eq!(
        b.ledger.ledger().obligations(
            None,
            &ObligationFilter {
                operator: Some(slug("zong")),
                member: None
            }
        ),
        Err(ObligationError::UnknownOperator(slug("zong")))
    );
    assert!(matches!(
        b.ledger.ledger().obligations(
            None,
            &ObligationFilter {
                operator: None,
                member: Some(slug("nobody"))
            }
        ),
        Err(ObligationError::UnknownMember(_))
    ));
    // Settling them removes them: the evaluation is recorded, the dispute resolved.
    b.append(
        seed::EVALUATOR,
        "evaluation.recorded",
        evaluation(filed, "met", 95),
    );
    let o = at(b.ledger.ledger(), "2026-12-05");
    assert!(of_kind(&o, ObligationKind::Evaluation).is_empty());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// On any date: every item's `days_late` is the days from `due` to `at` (0 when not
    /// after), items are sorted most late first, and a report is never owed for a month that
    /// has not ended.
    #[test]
    fn obligations_are_consistent_on_any_date(offset in 0i64..1200) {
        static LEDGER: std::sync::OnceLock<Ledger> = std::sync::OnceLock::new();
        let ledger = LEDGER.get_or_init(|| {
            let mut b = Builder::standard();
            let filed = b.append(
                seed::CISO_INDUS,
                "submission.filed",
                submission("indus", "CR-01", "2026-03", "90"),
            );
            b.append(
                seed::CISO_INDUS,
                "commitment.made",
                json!({"commitment": "c", "operator": "indus", "action": "a", "due": "2027-01-31"}),
            );
            b.append(
                seed::EVALUATOR,
                "evaluation.recorded",
                evaluation(filed, "met", 90),
            );
            b.ledger.ledger().clone()
        });
        let at = date("2025-12-01").plus_days(offset).unwrap();
        let owed = ledger.obligations(Some(at), &ObligationFilter::default()).unwrap();
        proptest::prop_assert_eq!(owed.at, at);
        for item in &owed.items {
            let late = (at.days_since_epoch() - item.due.days_since_epoch()).max(0);
            proptest::prop_assert_eq!(item.days_late, u64::try_from(late).unwrap());
            if let (ObligationKind::Report, Some(period)) = (item.kind, item.period) {
                proptest::prop_assert!(period.last_day() < at);
            }
        }
        proptest::prop_assert!(owed.items.windows(2).all(|w| w[0].days_late >= w[1].days_late));
        // The evaluated March report is never owed; a later date never owes fewer reports.
        proptest::prop_assert!(!owed.items.iter().any(|i| i.kind == ObligationKind::Report
            && i.operator == Some(slug("indus"))
            && i.kpi.as_ref().is_some_and(|k| k.as_str() == "CR-01")
            && i.period.is_some_and(|p| p.to_string() == "2026-03")));
        let later = ledger
            .obligations(at.plus_days(31), &ObligationFilter::default())
            .unwrap();
        let reports = |o: &Obligations| o.items.iter().filter(|i| i.kind == ObligationKind::Report).count();
        proptest::prop_assert!(reports(&later) >= reports(&owed));
    }
}
