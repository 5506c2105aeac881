//! Criterion benches of sealed fields (`hisaab_log::seal`, SPEC §12): what sealing costs the
//! signer, the ledger at append, a public replay and a full replay, per statement, and the
//! full-state digest tree. Pure code only: no storage I/O (the encrypted store's cost is
//! measured by `hisaab-store`'s tests and given in `docs/PERFORMANCE.md`).
//!
//! ```text
//! cargo bench -p hisaab-log --bench seal -- --warm-up-time 1 --measurement-time 2
//! ```
#![allow(missing_docs)] // criterion_main! generates an undocumented `main`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A bench may fail loudly.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hisaab_log::seal::{
    check_sealed_form, check_sealing, open_body, seal_body, sealed_fields, Blinding, Sealing, Seed,
    StateTree, SubState,
};
use hisaab_log::Hash;
use serde_json::{json, Map, Value};

const SUBMISSION: &str = "submission.filed";
const EVALUATION: &str = "evaluation.recorded";

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("bodies are objects"),
    }
}

/// A submission shaped like the demo ledger's: two evidence files and a sentence of note.
fn submission() -> Map<String, Value> {
    object(json!({
        "operator": "indus-mobile", "kpi": "CR-01", "period": "2026-10", "value": "97.5",
        "evidence": [
            {"name": "patch-report-2026-10.pdf", "sha256": Hash::sha256(b"a"), "bytes": 481_213},
            {"name": "scanner-export-2026-10.csv", "sha256": Hash::sha256(b"b"), "bytes": 90_112}
        ],
        "note": "Two emergency patches deferred to the November window; see the annex."
    }))
}

fn evaluation() -> Map<String, Value> {
    object(json!({
        "submission": Hash::sha256(b"s"), "verdict": "partially_met", "score": 70,
        "rationale": "Target missed by 2.5 points; the deferral is documented and approved."
    }))
}

fn per_statement(c: &mut Criterion) {
    let mut group = c.benchmark_group("seal");
    group.throughput(Throughput::Elements(1));
    for (kind, plain) in [(SUBMISSION, submission()), (EVALUATION, evaluation())] {
        let fields = sealed_fields(kind);
        let seed = Seed::from_bytes([7; 32]);
        let sealed = seal_body(kind, fields, &plain, &seed).unwrap();
        let sealing = Sealing::new(fields, &plain, seed.clone());
        group.bench_with_input(BenchmarkId::new("seal_body", kind), &plain, |b, plain| {
            b.iter(|| seal_body(kind, fields, black_box(plain), &seed).unwrap());
        });
        group.bench_with_input(BenchmarkId::new("check_sealing", kind), &sealed, |b, s| {
            b.iter(|| check_sealing(kind, fields, black_box(&s.body), &sealing).unwrap());
        });
        group.bench_with_input(
            BenchmarkId::new("check_sealed_form", kind),
            &sealed,
            |b, s| {
                b.iter(|| check_sealed_form(kind, fields, black_box(&s.body)).unwrap());
            },
        );
        group.bench_with_input(BenchmarkId::new("open_body", kind), &sealed, |b, s| {
            b.iter(|| open_body(kind, fields, black_box(&s.body), &s.openings, None).unwrap());
        });
    }
    group.finish();
}

fn state_tree(c: &mut Criterion) {
    let mut group = c.benchmark_group("state_tree");
    for operators in [4usize, 32] {
        let ids: Vec<String> = (0..operators).map(|i| format!("operator-{i:03}")).collect();
        let blindings: Vec<Blinding> = (0..operators)
            .map(|i| Blinding::from_bytes([u8::try_from(i % 256).unwrap(); 32]))
            .collect();
        // A sub-state with 10 KPIs, like the demo's operators.
        let kpis: Map<String, Value> = (0..10)
            .map(|k| {
                (
                    format!("CR-{k:02}"),
                    json!({"pillar": "resilience", "target": "95", "baseline": "80",
                           "due": "2026-12-31", "first_period": "2026-01",
                           "latest_submission": Hash::sha256(b"x"), "period": "2026-10",
                           "value": "97.5", "evaluation": Hash::sha256(b"y"), "verdict": "met",
                           "score": 80, "status": "met"}),
                )
            })
            .collect();
        let sub = json!({"name": "Operator", "kpis": kpis, "score": 80});
        let public = json!({"size": 1000, "operators": ids});
        let parts: Vec<SubState<'_, Value>> = ids
            .iter()
            .zip(&blindings)
            .map(|(operator, blinding)| SubState {
                operator,
                blinding,
                state: &sub,
            })
            .collect();
        group.bench_function(BenchmarkId::new("build_and_digest", operators), |b| {
            b.iter(|| {
                StateTree::build(black_box(&public), &parts)
                    .unwrap()
                    .digest()
            });
        });
        let tree = StateTree::build(&public, &parts).unwrap();
        let proof = tree.proof(&ids[0]).unwrap();
        let registered: Vec<&str> = ids.iter().map(String::as_str).collect();
        let digest = tree.digest();
        group.bench_function(BenchmarkId::new("verify_own_part", operators), |b| {
            b.iter(|| {
                proof
                    .verify_operator(
                        &ids[0],
                        &blindings[0],
                        black_box(&sub),
                        &registered,
                        &digest,
                    )
                    .unwrap();
            });
        });
    }
    group.finish();
}

fn sizes() {
    // Bytes, printed once: the body in the clear, sealed, and its openings (JCS).
    for (kind, plain) in [(SUBMISSION, submission()), (EVALUATION, evaluation())] {
        let fields = sealed_fields(kind);
        let sealed = seal_body(kind, fields, &plain, &Seed::from_bytes([7; 32])).unwrap();
        let plain_len = hisaab_log::jcs::to_canonical(&plain).unwrap().len();
        let sealed_len = hisaab_log::jcs::to_canonical(&sealed.body).unwrap().len();
        let openings_len = hisaab_log::jcs::to_canonical(&sealed.openings)
            .unwrap()
            .len();
        println!(
            "{kind}: body {plain_len} B in the clear, {sealed_len} B sealed \
             ({:+} B); field openings {openings_len} B",
            i64::try_from(sealed_len).unwrap() - i64::try_from(plain_len).unwrap()
        );
    }
}

fn all(c: &mut Criterion) {
    sizes();
    per_statement(c);
    state_tree(c);
}

criterion_group!(benches, all);
criterion_main!(benches);
