//! Store benchmarks: durable append throughput beside its raw floor, proof latency and open
//! time on big stores, and bytes on disk per entry.
//!
//! The big stores (10^5 and 10^6 entries) are built once and cached under the target
//! directory (`$CARGO_TARGET_DIR/hisaab-store-bench/`); building 10^6 takes minutes.
//! `HISAAB_BENCH_BIG_SIZES=100000` limits the sizes built.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hisaab_log::{Envelope, Hash};
use hisaab_store::{ManualClock, Store, StoreConfig};
use hisaab_testkit::fixture;

const BATCH: u64 = 1024;

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(fixture::EPOCH_MILLIS + 1000))
}

fn bench_config() -> StoreConfig {
    StoreConfig {
        batch_entries_max: 4096,
        snapshot_every: 65_536,
        snapshots_kept: 2,
        snapshot_archive_every: 1 << 40,
        ..StoreConfig::default()
    }
}

fn ledger_id(store: &Store) -> Hash {
    store.entry(0).unwrap().unwrap().event_hash()
}

fn envelopes(ledger: Hash, namespace: u32, count: u64) -> Vec<Envelope> {
    envelopes_from(ledger, namespace, 0, count)
}

fn envelopes_from(ledger: Hash, namespace: u32, from: u64, to: u64) -> Vec<Envelope> {
    (from..to)
        .map(|n| fixture::register_operator(ledger, namespace, n).unwrap())
        .collect()
}

/// Appends `envelopes` as concurrent tasks (as many clients of a server would), so that group
/// commit can fill its batches.
fn append_all(runtime: &tokio::runtime::Runtime, store: &Store, envelopes: Vec<Envelope>) {
    runtime.block_on(async {
        let handles: Vec<_> = envelopes
            .into_iter()
            .map(|envelope| {
                let store = store.clone();
                tokio::spawn(async move { store.append(envelope).await.unwrap() })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    });
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

fn append(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(
        dir.path(),
        fixture::genesis().unwrap(),
        fixture::log_key(),
        std::env::var("HISAAB_BENCH_SPARSE_SNAPSHOTS")
            .map(|_| bench_config())
            .unwrap_or_default(),
        clock(),
    )
    .unwrap();
    let ledger = ledger_id(&store);
    let namespace = AtomicU64::new(1);
    let runtime = runtime();
    let mut group = c.benchmark_group("append");
    group.throughput(Throughput::Elements(BATCH));
    group.sample_size(10);
    group.bench_function(BenchmarkId::new("durable", BATCH), |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                let ns = u32::try_from(namespace.fetch_add(1, Ordering::SeqCst)).unwrap();
                let batch = envelopes(ledger, ns, BATCH);
                let start = Instant::now();
                append_all(&runtime, &store, batch);
                elapsed += start.elapsed();
            }
            elapsed
        });
    });

    // The floor: the same leaf bytes, one strict Ed25519 verification each (on as many
    // threads), inserted into one sled tree and made durable with one flush per batch.
    let raw_dir = tempfile::tempdir().unwrap();
    let db = sled::open(raw_dir.path()).unwrap();
    let tree = db.open_tree("entries").unwrap();
    let next_key = AtomicU64::new(0);
    group.bench_function(BenchmarkId::new("raw_floor", BATCH), |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                let ns = u32::try_from(namespace.fetch_add(1, Ordering::SeqCst)).unwrap();
                let batch = envelopes(ledger, ns, BATCH);
                let leaves: Vec<Vec<u8>> = batch
                    .iter()
                    .map(|e| {
                        let entry = hisaab_log::Entry::new(
                            0,
                            Hash::ZERO,
                            hisaab_log::Timestamp::from_unix_millis(fixture::EPOCH_MILLIS).unwrap(),
                            e.clone(),
                        );
                        entry.leaf_bytes().unwrap()
                    })
                    .collect();
                let start = Instant::now();
                std::thread::scope(|scope| {
                    for chunk in batch.chunks(batch.len().div_ceil(2)) {
                        scope.spawn(move || {
                            for envelope in chunk {
                                envelope.verify_signature().unwrap();
                            }
                        });
                    }
                });
                let mut sled_batch = sled::Batch::default();
                for leaf in &leaves {
                    let key = next_key.fetch_add(1, Ordering::SeqCst);
                    sled_batch.insert(&key.to_be_bytes(), leaf.as_slice());
                }
                tree.apply_batch(sled_batch).unwrap();
                db.flush().unwrap();
                elapsed += start.elapsed();
            }
            elapsed
        });
    });
    group.finish();
    let size = store.size();
    let bytes = store.size_on_disk().unwrap();
    eprintln!(
        "append: store of {size} entries uses {bytes} bytes on disk ({} per entry)",
        bytes / size.max(1)
    );
}

fn cache_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("hisaab-store-bench")
}

fn big_sizes() -> Vec<u64> {
    std::env::var("HISAAB_BENCH_BIG_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100_000, 1_000_000])
}

/// Opens the cached store of `size` entries, building (or finishing) it first if needed.
fn big_store(size: u64) -> (Store, PathBuf) {
    let dir = cache_dir().join(format!("store-{size}"));
    let store = if dir.join("conf").exists() {
        Store::open(&dir, fixture::log_key(), bench_config(), clock()).unwrap()
    } else {
        std::fs::create_dir_all(&dir).unwrap();
        Store::create(
            &dir,
            fixture::genesis().unwrap(),
            fixture::log_key(),
            bench_config(),
            clock(),
        )
        .unwrap()
    };
    if store.size() < size {
        let ledger = ledger_id(&store);
        let start = Instant::now();
        let from = store.size();
        let runtime = runtime();
        let mut n = from;
        while n < size {
            let end = (n + 4096).min(size);
            append_all(&runtime, &store, envelopes_from(ledger, 0xb16, n, end));
            n = end;
        }
        let built = store.size() - from;
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "built {built} entries in {secs:.1} s ({:.0} entries/s, including signing)",
            built as f64 / secs
        );
    }
    (store, dir)
}

fn proofs_and_open(c: &mut Criterion) {
    for size in big_sizes() {
        let (store, dir) = big_store(size);
        let size = store.size();
        let bytes = store.size_on_disk().unwrap();
        eprintln!(
            "store of {size} entries: {bytes} bytes on disk ({} per entry)",
            bytes / size
        );
        let mut group = c.benchmark_group("proof");
        let mut index = 0x9e37_79b9_7f4a_7c15u64;
        group.bench_function(BenchmarkId::new("inclusion", size), |b| {
            b.iter(|| {
                index = index
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                store.inclusion_proof(index % size, size).unwrap()
            });
        });
        group.bench_function(BenchmarkId::new("consistency", size), |b| {
            b.iter(|| {
                index = index
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                store
                    .consistency_proof(1 + index % (size - 1), size)
                    .unwrap()
            });
        });
        group.finish();
        store.close().unwrap();
        drop(store);

        let mut group = c.benchmark_group("open");
        group.sample_size(10);
        group.bench_function(BenchmarkId::new("open", size), |b| {
            b.iter(|| {
                let store = Store::open(&dir, fixture::log_key(), bench_config(), clock()).unwrap();
                let replayed = store.open_report().replayed_entries;
                store.close().unwrap();
                replayed
            });
        });
        group.finish();
        let store = Store::open(&dir, fixture::log_key(), bench_config(), clock()).unwrap();
        eprintln!("open of {size}: {:?}", store.open_report());
    }
}

criterion_group!(benches, append, proofs_and_open);
criterion_main!(benches);
