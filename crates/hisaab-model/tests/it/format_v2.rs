//! Format 2 (SPEC §11): a ledger's format is its genesis statement's `v`, every later
//! statement carries the same, and a v2 bundle verifies end to end beside a v1 one.

use hisaab_log::bundle::{BundleHeader, BundleWriter};
use hisaab_log::merkle::Frontier;
use hisaab_log::note::Checkpoint;
use hisaab_log::{Hash, SealedEntry};
use hisaab_model::{verify_bundle, Rule};
use hisaab_testkit::{key, log_vkey, seed, submission, Builder, ORIGIN};
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
