//! Format 2 (SPEC §11): a ledger's format is its genesis statement's `v`, every later
//! statement carries the same, and a v2 bundle verifies end to end beside a v1 one.

use hisaab_log::bundle::{BundleHeader, BundleWriter};
use hisaab_log::merkle::Frontier;
use hisaab_log::note::Checkpoint;
use hisaab_log::{Hash, SealedEntry};
use hisaab_model::{verify_bundle, Rule};
use hisaab_testkit::{evaluation, key, log_vkey, seed, submission, Builder, ORIGIN};
use serde_json::json;

fn bundle(entries: &[SealedEntry], format: u64) -> Vec<u8> {
    let mut frontier = Frontier::new();
    for e in entries {
        frontier.push(e.event_hash());
    }
    let note = Checkpoint {
        origin: ORIGIN.into(),
        size: frontier.size(),
        root: frontier.root(),
    }
    .sign(&key(seed::LOG))
    .unwrap();
    let header = BundleHeader::for_format(format, ORIGIN, &log_vkey(), &note);
    let mut writer = BundleWriter::new(Vec::new(), &header).unwrap();
    for e in entries {
        writer.write_leaf(e.leaf_bytes()).unwrap();
    }
    writer.finish().unwrap()
}

#[test]
fn a_v2_ledger_appends_and_its_bundle_verifies_end_to_end() {
    let b = Builder::standard_v2();
    assert_eq!(b.ledger.ledger().format(), 2);
    let bytes = bundle(b.ledger.entries(), 2);
    let verified = verify_bundle(&bytes[..]).unwrap();
    assert_eq!(verified.size, b.ledger.ledger().size());
    assert_eq!(verified.state, b.ledger.ledger().state(None));
    // The same entries under a v1 header are refused: the header names the format.
    assert!(verify_bundle(&bundle(b.ledger.entries(), 1)[..]).is_err());
}

#[test]
fn a_v1_ledger_stays_v1() {
    let b = Builder::standard();
    assert_eq!(b.ledger.ledger().format(), 1);
    let verified = verify_bundle(&bundle(b.ledger.entries(), 1)[..]).unwrap();
    assert_eq!(verified.state, b.ledger.ledger().state(None));
}

#[test]
fn every_statement_carries_the_ledgers_format() {
    for (mut b, other) in [(Builder::standard_v2(), 1), (Builder::standard(), 2)] {
        let before = b.ledger.ledger().to_snapshot();
        b.format = other;
        let violation = b
            .try_append(
                seed::AUTHORITY,
                "operator.registered",
                json!({"operator": "zong", "name": "Zong"}),
            )
            .unwrap_err();
        assert_eq!(violation.rule, Rule::Form, "{violation}");
        assert!(
            violation.detail.contains("ledger is of format"),
            "{violation}"
        );
        assert_eq!(b.ledger.ledger().to_snapshot(), before, "nothing changed");
    }
}

#[test]
fn a_v2_ledger_requires_the_evidence_a_kpi_requires() {
    // The standard KPIs are defined with evidence_required: v1 accepts a bare submission
    // (informational), v2 refuses it and says why, and accepts it with evidence.
    let mut v1 = Builder::standard();
    v1.try_append(
        seed::CISO_INDUS,
        "submission.filed",
        submission("indus", "CR-01", "2026-10", "97.5"),
    )
    .unwrap();
    let mut v2 = Builder::standard_v2();
    let before = v2.ledger.ledger().to_snapshot();
    let violation = v2
        .try_append(
            seed::CISO_INDUS,
            "submission.filed",
            submission("indus", "CR-01", "2026-10", "97.5"),
        )
        .unwrap_err();
    assert_eq!(violation.rule, Rule::Reference);
    assert!(
        violation.detail.contains("evidence_required"),
        "{violation}"
    );
    assert_eq!(v2.ledger.ledger().to_snapshot(), before);
    let mut with_evidence = submission("indus", "CR-01", "2026-10", "97.5");
    with_evidence["evidence"] = json!([{"name": "report.pdf",
        "sha256": Hash::sha256(b"report"), "bytes": 6}]);
    v2.try_append(seed::CISO_INDUS, "submission.filed", with_evidence)
        .unwrap();
}

/// A submission body with one piece of evidence.
pub(crate) fn evidenced(operator: &str, kpi: &str, period: &str, value: &str) -> serde_json::Value {
    let mut body = submission(operator, kpi, period, value);
    body["evidence"] = json!([{"name": format!("{kpi}-{period}.pdf"),
        "sha256": Hash::sha256(format!("{operator}/{kpi}/{period}").as_bytes()), "bytes": 1024}]);
    body
}

#[test]
fn a_v2_kpi_row_never_pairs_one_periods_value_with_anothers_verdict() {
    let mut b = Builder::standard_v2();
    let october = b.append(
        seed::CISO_INDUS,
        "submission.filed",
        evidenced("indus", "CR-01", "2026-10", "91"),
    );
    b.append(
        seed::EVALUATOR,
        "evaluation.recorded",
        evaluation(october, "partially_met", 60),
    );
    b.advance_days(31);
    let november = b.append(
        seed::CISO_INDUS,
        "submission.filed",
        evidenced("indus", "CR-01", "2026-11", "97"),
    );
    let state = b.ledger.ledger().state(None);
    let row = &state.operators[&slug("indus")].kpis[&kpi_id("CR-01")];
    assert_eq!(row.latest_submission, Some(november));
    assert_eq!(
        row.period.map(|p| p.to_string()).as_deref(),
        Some("2026-11")
    );
    assert_eq!(
        row.value.as_ref().map(ToString::to_string).as_deref(),
        Some("97")
    );
    let evaluated = row.evaluated.as_ref().unwrap();
    assert_eq!(evaluated.submission, Some(october));
    assert_eq!(
        evaluated.period.map(|p| p.to_string()).as_deref(),
        Some("2026-10")
    );
    assert_eq!(
        evaluated.value.as_ref().map(ToString::to_string).as_deref(),
        Some("91")
    );
    assert_eq!(row.score, Some(60));
    assert_eq!(row.title.as_ref().map(|t| t.as_str()), Some("KPI CR-01"));
    // A KPI nothing evaluated yet shows every key, null.
    let lg = &state.operators[&slug("indus")].kpis[&kpi_id("LG-01")];
    let none = lg.evaluated.as_ref().unwrap();
    assert_eq!(
        (none.submission, none.period, none.value.clone()),
        (None, None, None)
    );
    let json: serde_json::Value = serde_json::from_slice(&state.to_canonical_json()).unwrap();
    assert_eq!(
        json["operators"]["indus"]["kpis"]["LG-01"]["evaluated"],
        json!({"submission": null, "period": null, "value": null})
    );
    // The definitions are in the state, with titles.
    assert_eq!(state.format, Some(2));
    let definitions = state.kpis.as_ref().unwrap();
    assert_eq!(definitions.len(), 3);
    assert_eq!(json["kpis"]["MN-01"]["title"], "KPI MN-01");
    assert_eq!(json["kpis"]["MN-01"]["evidence_required"], true);
    assert!(state.has_valid_digest());
}

#[test]
fn a_v1_state_has_none_of_the_v2_keys() {
    let b = Builder::standard();
    let state = b.ledger.ledger().state(None);
    let json: serde_json::Value = serde_json::from_slice(&state.to_canonical_json()).unwrap();
    for key in ["format", "kpis"] {
        assert!(json.get(key).is_none(), "{key}");
    }
    let row = &json["operators"]["indus"]["kpis"]["CR-01"];
    for key in ["title", "evaluated"] {
        assert!(row.get(key).is_none(), "{key}");
    }
}

fn slug(text: &str) -> hisaab_model::Slug {
    hisaab_model::Slug::try_new(text).unwrap()
}

fn kpi_id(text: &str) -> hisaab_model::KpiId {
    hisaab_model::KpiId::try_new(text).unwrap()
}
