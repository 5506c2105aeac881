//! Store benchmarks: durable append throughput beside its raw floor, proof latency and open
//! time on big stores, and bytes on disk per entry.
//!
//! The big stores (10^5 and 10^6 entries) are built once and cached under the target
//! directory (`$CARGO_TARGET_DIR/hisaab-store-bench/`); building 10^6 takes minutes.
//! `HISAAB_BENCH_BIG_SIZES=100000` limits the sizes built. Two workloads: operator
//! registrations (`store-<size>`: the state grows with the log) and one KPI submission filed
//! again and again, each superseding the last (`resubmissions-<size>`: the state stays small).
//! Open is measured on each as written (its newest snapshot tagged under the log key) and on a
//! copy whose snapshots are rewritten untagged, as stores wrote them before tags (open then
//! checks the newest against the one before by replaying the entries between them).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

/// The allocator the `hisaab` binary runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// Opens the cached store of `size` entries of resubmissions (one KPI submission filed again
/// and again, each superseding the last: the state stays small), building it first if
/// needed. The entries are appended in order from one thread (each names the one before), in
/// groups whose event hashes are computed ahead: the store's clock stands still, so each
/// entry's `recorded_at` is known.
fn resubmissions_store(size: u64) -> (Store, PathBuf) {
    use hisaab_testkit::{key, seed, submission, Builder};

    let builder = Builder::standard();
    let now_ms = builder.clock_s * 1000;
    let clock = Arc::new(ManualClock::new(now_ms));
    let config = bench_config();
    let dir = cache_dir().join(format!("resubmissions-{size}"));
    let store = if dir.join("conf").exists() {
        Store::open(&dir, key(seed::LOG), config, clock.clone()).unwrap()
    } else {
        std::fs::create_dir_all(&dir).unwrap();
        // The standard fixture's statements, for this store's ledger id (re-signed), each
        // recorded at about the time the builder recorded it (within the policy's window).
        let entries = builder.ledger.entries();
        let recorded = |entry: &hisaab_log::SealedEntry| {
            i64::try_from(entry.entry().recorded_at.unix_nanos() / 1_000_000).unwrap()
        };
        clock.set(recorded(&entries[0]));
        let store = Store::create(
            &dir,
            entries[0].entry().envelope(),
            key(seed::LOG),
            config,
            clock.clone(),
        )
        .unwrap();
        let ledger = ledger_id(&store);
        for entry in &entries[1..] {
            clock.set(recorded(entry));
            let mut statement = entry.entry().statement.clone();
            statement.ledger = Some(ledger);
            let signer = (1..=10)
                .find(|&seed| hisaab_testkit::public(seed) == statement.signer)
                .unwrap();
            let envelope = Envelope::sign(statement, &key(signer)).unwrap();
            store.append_blocking(envelope).unwrap();
        }
        store
    };
    clock.set(now_ms);
    let recorded_at = hisaab_log::Timestamp::from_unix_millis(now_ms).unwrap();
    let ledger = ledger_id(&store);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let start = Instant::now();
    let from = store.size();
    let last_entry = store.entry(from - 1).unwrap().unwrap();
    let mut last = last_entry.event_hash();
    // A store built in part before: the next submission supersedes its last one.
    let mut previous: Option<Hash> =
        (last_entry.entry().statement.kind == "submission.filed").then_some(last);
    let mut seq = from;
    let mut n = 0u64;
    while seq < size {
        let end = (seq + 4096).min(size);
        let mut group = Vec::new();
        for s in seq..end {
            let mut body = submission("indus", "CR-01", "2026-10", &format!("{}.5", n % 100));
            if let Some(previous) = previous {
                body["supersedes"] = serde_json::json!(previous);
            }
            n += 1;
            let statement = hisaab_log::Statement {
                v: 1,
                ledger: Some(ledger),
                id: hisaab_testkit::uuid(1 << 40 | s),
                kind: "submission.filed".to_owned(),
                signer: hisaab_testkit::public(seed::CISO_INDUS),
                issued_at: recorded_at.clone(),
                body: body.as_object().unwrap().clone(),
            };
            let envelope = Envelope::sign(statement, &key(seed::CISO_INDUS)).unwrap();
            let entry = hisaab_log::Entry::new(s, last, recorded_at.clone(), envelope.clone());
            last = hisaab_log::SealedEntry::seal(entry).unwrap().event_hash();
            previous = Some(last);
            group.push(envelope);
        }
        // One thread runs the tasks in the order they were spawned, and each hands its
        // envelope to the sequencer before it first waits: the order of the group.
        append_all(&runtime, &store, group);
        seq = end;
    }
    if store.size() > from {
        let built = store.size() - from;
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "built {built} resubmissions in {secs:.1} s ({:.0} entries/s, including signing)",
            built as f64 / secs
        );
    }
    (store, dir)
}

/// A copy of the store in `dir` whose chunked snapshots are rewritten untagged (`0x05` records
/// as `0x03`: the same digest and chunks), as stores wrote them before tags.
fn untagged_copy(dir: &Path) -> PathBuf {
    let copy = dir.with_extension("untagged");
    if copy.exists() {
        std::fs::remove_dir_all(&copy).unwrap();
    }
    copy_dir(dir, &copy);
    let db = hisaab_store::open_db(&copy, &bench_config()).unwrap();
    let snapshots = db.open_tree("snapshots").unwrap();
    for item in snapshots.iter() {
        let (key, value) = item.unwrap();
        if value.get(32) == Some(&0x05) {
            let mut body = vec![0x03];
            body.extend_from_slice(&value[33..65]);
            body.extend_from_slice(&value[97..]);
            let mut record = Hash::sha256(&body).as_bytes().to_vec();
            record.extend_from_slice(&body);
            snapshots.insert(key, record).unwrap();
        }
    }
    db.flush().unwrap();
    copy
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Whether open is also measured on untagged copies (`HISAAB_BENCH_UNTAGGED=0`: not, which
/// spares copying the stores).
fn with_untagged() -> bool {
    std::env::var("HISAAB_BENCH_UNTAGGED").map_or(true, |v| v != "0")
}

/// Stored hashes read from a sled tree alone, one `get` each.
/// The stored hashes read from the store's `hisaab-hashes` file alone, one positioned read
/// each, without the upper levels the store keeps in memory.
struct FileOnly(std::fs::File);

impl hisaab_log::merkle::HashReader for FileOnly {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, hisaab_log::merkle::MerkleError> {
        use std::os::unix::fs::FileExt;
        Ok(indexes
            .iter()
            .map(|index| {
                let mut bytes = [0u8; 32];
                self.0.read_exact_at(&mut bytes, index * 32).unwrap();
                Hash::from_bytes(bytes)
            })
            .collect())
    }
}

/// Criterion's measurement of `Store::open` on `dir` (and the open report, once).
fn bench_open(
    c: &mut Criterion,
    name: &str,
    size: u64,
    dir: &Path,
    log_key: &hisaab_log::SigningKey,
) {
    let mut group = c.benchmark_group("open");
    group.sample_size(10);
    // Open to serving, timed alone: the close that follows (its threads joined, the model
    // state freed) is not part of a restart's path.
    group.bench_function(BenchmarkId::new(name, size), |b| {
        b.iter_custom(|iterations| {
            let mut took = std::time::Duration::ZERO;
            for _ in 0..iterations {
                let started = std::time::Instant::now();
                let store = Store::open(dir, log_key.clone(), bench_config(), clock()).unwrap();
                took += started.elapsed();
                std::hint::black_box(store.open_report().replayed_entries);
                store.close().unwrap();
            }
            took
        });
    });
    group.finish();
    let store = Store::open(dir, log_key.clone(), bench_config(), clock()).unwrap();
    eprintln!("open {name} of {size}: {:?}", store.open_report());
}

fn proofs_and_open(c: &mut Criterion) {
    for size in big_sizes() {
        let (store, dir) = resubmissions_store(size);
        store.close().unwrap();
        drop(store);
        let log_key = hisaab_testkit::key(hisaab_testkit::seed::LOG);
        bench_open(c, "resubmissions", size, &dir, &log_key);
        if with_untagged() {
            let untagged = untagged_copy(&dir);
            bench_open(c, "resubmissions_untagged", size, &untagged, &log_key);
            std::fs::remove_dir_all(&untagged).unwrap();
        }

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

        // The same proofs read from the hashes file alone, without the upper levels in memory.
        {
            let hashes = FileOnly(std::fs::File::open(dir.join("hisaab-hashes")).unwrap());
            let mut group = c.benchmark_group("proof_file_only");
            group.bench_function(BenchmarkId::new("inclusion", size), |b| {
                b.iter(|| {
                    index = index
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1);
                    hisaab_log::merkle::inclusion_proof(index % size, size, &hashes).unwrap()
                });
            });
            group.bench_function(BenchmarkId::new("consistency", size), |b| {
                b.iter(|| {
                    index = index
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1);
                    hisaab_log::merkle::consistency_proof(1 + index % (size - 1), size, &hashes)
                        .unwrap()
                });
            });
            group.finish();
        }

        bench_open(c, "open", size, &dir, &fixture::log_key());
        if !with_untagged() {
            continue;
        }
        let untagged = untagged_copy(&dir);
        bench_open(c, "open_untagged", size, &untagged, &fixture::log_key());
        std::fs::remove_dir_all(&untagged).unwrap();
    }
}

criterion_group!(benches, append, proofs_and_open);
criterion_main!(benches);
