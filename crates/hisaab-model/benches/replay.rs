//! Replay to state without signature checks, per entry, on two workloads: operator
//! registrations (the state grows with the log) and one KPI's submission filed again and again
//! (the state of SPEC §5 does not grow; the ledger keeps a record of every submission). Leaf
//! bytes are built once; each iteration replays all of them from genesis: parsed as a bundle's
//! are and applied with `Ledger::apply_trusted` (as before), and read in one pass with
//! `Ledger::apply_trusted_leaf` (a store's own entries).
//!
//! Then the model's snapshot of the same ledgers, at `HISAAB_SNAPSHOT_ENTRIES` entries past the
//! standard cast (default 20,000), written and read back: what a restart pays for the state it
//! resumes from is `from_snapshot`.
//!
//! ```text
//! cargo bench -p hisaab-model --bench replay
//! HISAAB_SNAPSHOT_ENTRIES=100000 cargo bench -p hisaab-model --bench replay -- snapshot
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use hisaab_log::SealedEntry;
use hisaab_model::Ledger;
use hisaab_testkit::{seed, submission, Builder};
use serde_json::json;

/// Entries past the standard cast in each workload of the replay.
const ENTRIES: u64 = 2_000;

fn registrations(count: u64) -> Builder {
    let mut b = Builder::standard();
    for n in 0..count {
        b.append(
            seed::AUTHORITY,
            "operator.registered",
            json!({"operator": format!("op-{n}"), "name": format!("Operator {n}")}),
        );
    }
    b
}

fn resubmissions(count: u64) -> Builder {
    let mut b = Builder::standard();
    let mut latest = None;
    for i in 0..count {
        let mut body = submission("indus", "CR-01", "2026-10", &format!("{}.5", i % 100));
        if let Some(previous) = latest {
            body["supersedes"] = json!(previous);
        }
        latest = Some(b.append(seed::CISO_INDUS, "submission.filed", body));
    }
    b
}

fn leaves(b: &Builder) -> Vec<Vec<u8>> {
    b.ledger
        .entries()
        .iter()
        .map(|e| e.leaf_bytes().to_vec())
        .collect()
}

fn bench(c: &mut Criterion) {
    for (name, lines) in [
        ("registrations", leaves(&registrations(ENTRIES))),
        ("resubmissions", leaves(&resubmissions(ENTRIES))),
    ] {
        let mut group = c.benchmark_group(format!("replay/{name}"));
        group.sample_size(10);
        group.throughput(Throughput::Elements(lines.len() as u64));
        group.bench_function("parse", |bencher| {
            bencher.iter(|| {
                for bytes in &lines {
                    criterion::black_box(SealedEntry::try_from_leaf_bytes(bytes).unwrap());
                }
            });
        });
        group.bench_function("parse+apply_trusted", |bencher| {
            bencher.iter_batched(
                Ledger::new,
                |mut ledger| {
                    for bytes in &lines {
                        let sealed = SealedEntry::try_from_leaf_bytes(bytes).unwrap();
                        ledger.apply_trusted(&sealed).unwrap();
                    }
                    ledger
                },
                BatchSize::LargeInput,
            );
        });
        group.bench_function("apply_trusted_leaf", |bencher| {
            bencher.iter_batched(
                Ledger::new,
                |mut ledger| {
                    for bytes in &lines {
                        assert!(ledger.apply_trusted_leaf(bytes, None));
                    }
                    ledger
                },
                BatchSize::LargeInput,
            );
        });
        group.bench_function("apply_trusted_leaf+state", |bencher| {
            bencher.iter_batched(
                Ledger::new,
                |mut ledger| {
                    for bytes in &lines {
                        assert!(ledger.apply_trusted_leaf(bytes, None));
                    }
                    ledger.state(None)
                },
                BatchSize::LargeInput,
            );
        });
        group.finish();
    }
}

fn snapshot(c: &mut Criterion) {
    let count = std::env::var("HISAAB_SNAPSHOT_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    for (name, b) in [
        ("registrations", registrations(count)),
        ("resubmissions", resubmissions(count)),
    ] {
        let ledger = b.ledger.ledger();
        let bytes = ledger.to_snapshot();
        eprintln!(
            "snapshot/{name}: {} entries, {} bytes ({} per entry)",
            ledger.size(),
            bytes.len(),
            bytes.len() as u64 / ledger.size()
        );
        let mut group = c.benchmark_group(format!("snapshot/{name}"));
        group.sample_size(10);
        group.throughput(Throughput::Elements(ledger.size()));
        group.bench_function("to_snapshot", |bencher| {
            bencher.iter(|| ledger.to_snapshot());
        });
        group.bench_function("from_snapshot", |bencher| {
            bencher.iter(|| Ledger::from_snapshot(&bytes).unwrap());
        });
        group.finish();
    }
}

criterion_group!(benches, bench, snapshot);
criterion_main!(benches);
