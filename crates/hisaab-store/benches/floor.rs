//! Hisaab beside its floor, in one run, with ratios: the floor is a program doing only the
//! unavoidable work of each task with the same crates (serde_json, serde_json_canonicalizer,
//! ed25519-dalek `verify_strict`, sha2, sled), pipelined over every core. Measuring both in
//! the same run keeps the ratio meaningful on a busy machine.
//!
//! ```text
//! cargo bench -p hisaab-store --bench floor                      # 10^4 entries
//! HISAAB_FLOOR_SIZES=10000,100000 cargo bench -p hisaab-store --bench floor
//! HISAAB_FLOOR_COMPRESSION=1 cargo bench -p hisaab-store --bench floor  # sled compresses
//! HISAAB_FLOOR_ONLY=ingest HISAAB_FLOOR_SIZES=10000,100000 cargo bench -p hisaab-store --bench floor
//! ```
//!
//! `HISAAB_FLOOR_ONLY=ingest` measures only the durable ingest (registrations), with the
//! rate over each tenth of the log (does ingest slow as the state grows?) and the append
//! latencies' percentiles.
//!
//! For each size it builds a store of `operator.registered` statements (durable appends from
//! 64 concurrent tasks, group commit), exports its bundle, and measures:
//! - durable ingest in process, beside a sled floor (the same leaf bytes inserted and flushed
//!   in batches of the same size, from the same number of tasks' worth of entries);
//! - bytes on disk per entry: the data directory against the bundle;
//! - restart: `Store::open` on the closed store;
//! - audit of the bundle: the sequential check Hisaab used before (one core, entries kept in
//!   memory), the streaming check of today (`cited_sizes` + `verify_bundle_cited`), and the
//!   floor (parse, JCS re-check, strict signature, leaf hash on every core);
//! - replay to state without signature checks (`Ledger::apply_trusted` over parsed entries),
//!   and from the bytes in one pass as the store replays its own entries
//!   (`Ledger::apply_trusted_leaf`);
//! - `replay_bundle` to a quarter of the log against the whole log.
//!
//! The bundles are kept as `$CARGO_TARGET_DIR/hisaab-floor/bundle-<size>.jsonl`, so that the
//! memory of `hisaab verify` and `hisaab replay` can be measured on them with
//! `/usr/bin/time -v`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

/// The allocator the `hisaab` binary runs with (the floor and the store alike).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hisaab_log::bundle::verify_bundle_structure;
use hisaab_log::{Envelope, SealedEntry};
use hisaab_model::{Ledger, MemoryLedger};
use hisaab_store::{ManualClock, Store, StoreConfig};
use hisaab_testkit::fixture;

/// Entries per batch handed to a floor worker.
const FLOOR_BATCH: usize = 256;
/// Concurrent appending tasks, as clients of a server.
const TASKS: usize = 64;

fn main() {
    // `cargo bench` passes `--bench`; there is nothing to choose from the command line.
    let sizes: Vec<u64> = std::env::var("HISAAB_FLOOR_SIZES")
        .unwrap_or_else(|_| "10000".into())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .expect("HISAAB_FLOOR_SIZES: comma-separated sizes")
        })
        .collect();
    let out_dir = target_dir().join("hisaab-floor");
    std::fs::create_dir_all(&out_dir).unwrap();
    println!(
        "machine: {} cores; load average at start: {}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        load_average()
    );
    let ingest_only = std::env::var("HISAAB_FLOOR_ONLY").is_ok_and(|v| v == "ingest");
    for size in sizes {
        if ingest_only {
            run_ingest(size);
            continue;
        }
        run(size, &out_dir);
        run_submissions(size, &out_dir);
    }
}

/// The store's configuration: the default, compressed with `HISAAB_FLOOR_COMPRESSION=1`.
fn store_config() -> StoreConfig {
    StoreConfig {
        compression: std::env::var("HISAAB_FLOOR_COMPRESSION").is_ok_and(|v| v == "1"),
        snapshot_every: std::env::var("HISAAB_FLOOR_SNAPSHOT_EVERY")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(StoreConfig::default().snapshot_every),
        ..StoreConfig::default()
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn per_second(count: u64, took: Duration) -> f64 {
    count as f64 / took.as_secs_f64().max(1e-9)
}

fn line(label: &str, count: u64, hisaab: Duration, floor: Option<Duration>) {
    let rate = per_second(count, hisaab);
    match floor {
        Some(floor) => println!(
            "  {label:<44} {:>9.0}/s ({:>7.3} s)   floor {:>9.0}/s   ratio {:.2}×",
            rate,
            hisaab.as_secs_f64(),
            per_second(count, floor),
            floor.as_secs_f64() / hisaab.as_secs_f64().max(1e-9),
        ),
        None => println!(
            "  {label:<44} {:>9.0}/s ({:>7.3} s)",
            rate,
            hisaab.as_secs_f64()
        ),
    }
}

fn dir_bytes(path: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(path).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        total += if meta.is_dir() {
            dir_bytes(&entry.path())
        } else {
            meta.len()
        };
    }
    total
}

/// A runtime, a new store of the fixture genesis in a temporary directory with its clock, and
/// the registrations of operators `1..size` to append to it.
struct Fresh {
    runtime: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    store: Store,
    envelopes: Vec<Envelope>,
}

fn fresh(size: u64) -> Fresh {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(fixture::EPOCH_MILLIS + 1000));
    let store = Store::create(
        dir.path(),
        fixture::genesis().unwrap(),
        fixture::log_key(),
        store_config(),
        clock.clone(),
    )
    .unwrap();
    let ledger = store.entry(0).unwrap().unwrap().event_hash();
    let envelopes = (1..size)
        .map(|n| fixture::register_operator(ledger, 1, n).unwrap())
        .collect();
    Fresh {
        runtime,
        dir,
        clock,
        store,
        envelopes,
    }
}

fn run(size: u64, out_dir: &Path) {
    println!("\n== {size} entries (load average {}) ==", load_average());
    let Fresh {
        runtime,
        dir,
        clock,
        store,
        envelopes,
    } = fresh(size);

    // Durable ingest in process, from TASKS concurrent tasks.
    let started = Instant::now();
    append_concurrently(&runtime, &store, envelopes);
    let ingest = started.elapsed();
    let bundle_path = out_dir.join(format!("bundle-{size}.jsonl"));
    {
        let out = BufWriter::new(File::create(&bundle_path).unwrap());
        store.export_bundle(size, out).unwrap();
    }
    store.close().unwrap();
    drop(store);
    let data_bytes = dir_bytes(dir.path());
    let bundle_bytes = std::fs::metadata(&bundle_path).unwrap().len();
    let lines = read_lines(&bundle_path);
    let floor_ingest = sled_floor(&lines);
    line(
        "durable ingest, in process (64 tasks)",
        size - 1,
        ingest,
        Some(floor_ingest),
    );
    println!(
        "  bytes: data directory {:.1} MB = {:.0} B/entry; bundle {:.1} MB = {:.0} B/entry; \
         ratio {:.1}×",
        data_bytes as f64 / 1e6,
        data_bytes as f64 / size as f64,
        bundle_bytes as f64 / 1e6,
        bundle_bytes as f64 / size as f64,
        data_bytes as f64 / bundle_bytes as f64
    );

    print_tree_bytes(dir.path());

    // Restart.
    let started = Instant::now();
    let store = Store::open(
        dir.path(),
        fixture::log_key(),
        StoreConfig::default(),
        clock.clone(),
    )
    .unwrap();
    let restart = started.elapsed();
    println!(
        "  restart (Store::open)                        {:>9.3} s",
        restart.as_secs_f64()
    );
    store.close().unwrap();
    drop(store);

    // Audit of the bundle; CPU seconds too, since wall time on shared cores is noisy.
    let (floor, cpu) = (Instant::now(), cpu_seconds());
    let floor_count = audit_floor(&lines);
    let (floor_audit, floor_cpu) = (floor.elapsed(), cpu_seconds() - cpu);
    assert_eq!(floor_count, size);
    let (started, cpu) = (Instant::now(), cpu_seconds());
    sequential_verify(&bundle_path);
    let (before, before_cpu) = (started.elapsed(), cpu_seconds() - cpu);
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let cited =
        hisaab_model::cited_sizes(BufReader::new(File::open(&bundle_path).unwrap())).unwrap();
    let verified = hisaab_model::verify_bundle_cited(
        BufReader::new(File::open(&bundle_path).unwrap()),
        &cited,
    )
    .unwrap();
    let (audit, audit_cpu) = (started.elapsed(), cpu_seconds() - cpu);
    assert_eq!(verified.size, size);
    println!(
        "  audit CPU seconds: floor {floor_cpu:.2}, sequential {before_cpu:.2}, streaming \
         {audit_cpu:.2}"
    );
    line(
        "audit, sequential as before",
        size,
        before,
        Some(floor_audit),
    );
    line(
        "audit, streaming on every core",
        size,
        audit,
        Some(floor_audit),
    );

    // Replay to state, no signature checks.
    let started = Instant::now();
    let mut replayed = Ledger::new();
    for bytes in &lines {
        let sealed = SealedEntry::try_from_leaf_bytes(bytes).unwrap();
        replayed.apply_trusted(&sealed).unwrap();
    }
    let state = replayed.state(None);
    let replay = started.elapsed();
    assert_eq!(state, verified.state);
    let started = Instant::now();
    for bytes in &lines {
        let _: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    }
    let parse_floor = started.elapsed();
    line(
        "replay to state, no signature checks",
        size,
        replay,
        Some(parse_floor),
    );
    let trusted = replay_trusted(&lines, &verified.state);
    line(
        "replay to state, trusted bytes (one pass)",
        size,
        trusted,
        Some(parse_floor),
    );

    // Replay of a bundle to a quarter of the log, against the whole log.
    let quarter = (size / 4).max(1);
    let started = Instant::now();
    let quarter_state = hisaab_model::replay_bundle(
        BufReader::new(File::open(&bundle_path).unwrap()),
        &cited,
        &[Some(quarter)],
        None,
    )
    .unwrap();
    let partial = started.elapsed();
    assert_eq!(quarter_state.states.len(), 1);
    println!(
        "  replay_bundle --as-of {quarter:<19} {:>9.3} s (whole log {:.3} s)",
        partial.as_secs_f64(),
        audit.as_secs_f64()
    );
    println!("  bundle kept at {}", bundle_path.display());
}

/// Durable ingest alone: the rate over each tenth of the log and the latency of each append
/// (from the call to its receipt), from `TASKS` concurrent tasks.
fn run_ingest(size: u64) {
    println!(
        "\n== {size} entries, ingest only (load average {}) ==",
        load_average()
    );
    let Fresh {
        runtime,
        dir,
        store,
        envelopes,
        ..
    } = fresh(size);
    let count = envelopes.len();
    let queue = Arc::new(Mutex::new(envelopes.into_iter().enumerate()));
    // (index, when its receipt came, how long it took)
    let done: Arc<Mutex<Vec<(usize, Duration, Duration)>>> =
        Arc::new(Mutex::new(Vec::with_capacity(count)));
    let started = Instant::now();
    runtime.block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let store = store.clone();
                let queue = Arc::clone(&queue);
                let done = Arc::clone(&done);
                tokio::spawn(async move {
                    loop {
                        let next = queue.lock().unwrap().next();
                        let Some((index, envelope)) = next else { break };
                        let asked = Instant::now();
                        store.append(envelope).await.unwrap();
                        let now = Instant::now();
                        done.lock()
                            .unwrap()
                            .push((index, now - started, now - asked));
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    let total = started.elapsed();
    store.close().unwrap();
    drop(store);
    let mut done = std::mem::take(&mut *done.lock().unwrap());
    line(
        "durable ingest, in process (64 tasks)",
        size - 1,
        total,
        None,
    );
    // Receipts in the order they came: the rate over each tenth of them.
    done.sort_by_key(|&(_, at, _)| at);
    let tenth = count.div_ceil(10).max(1);
    let mut rates = Vec::new();
    let mut from = Duration::ZERO;
    for chunk in done.chunks(tenth) {
        let Some(&(_, to, _)) = chunk.last() else {
            continue;
        };
        rates.push(format!("{:.0}", per_second(chunk.len() as u64, to - from)));
        from = to;
    }
    println!(
        "  rate per tenth of the log (entries/s): {}",
        rates.join(" ")
    );
    let mut latencies: Vec<Duration> = done.iter().map(|&(_, _, took)| took).collect();
    // The nearest rank: `per_mille` thousandths of the way from the first to the last.
    let percentile = |latencies: &[Duration], per_mille: usize| {
        let index = (latencies.len().saturating_sub(1) * per_mille + 500) / 1000;
        latencies[index].as_secs_f64() * 1e3
    };
    let last_tenth: Vec<Duration> = {
        let mut last: Vec<Duration> = done
            .iter()
            .filter(|&&(index, _, _)| index >= count - tenth)
            .map(|&(_, _, took)| took)
            .collect();
        last.sort();
        last
    };
    latencies.sort();
    println!(
        "  append latency p50 / p99 / max (ms): {:.1} / {:.1} / {:.1}; last tenth p50 / p99 / \
         max: {:.1} / {:.1} / {:.1}",
        percentile(&latencies, 500),
        percentile(&latencies, 990),
        percentile(&latencies, 1000),
        percentile(&last_tenth, 500),
        percentile(&last_tenth, 990),
        percentile(&last_tenth, 1000),
    );
    // What the sequencer does at each snapshot size (a copy of the model state for the
    // snapshot thread) against what it did before (the serialisation), on the state at the end.
    let mut ledger = Ledger::new();
    let reopened = Store::open(
        dir.path(),
        fixture::log_key(),
        store_config(),
        Arc::new(ManualClock::new(fixture::EPOCH_MILLIS + 1000)),
    )
    .unwrap();
    for seq in 0..size {
        let sealed = reopened.entry(seq).unwrap().unwrap();
        ledger.apply_trusted(&sealed).unwrap();
    }
    reopened.close().unwrap();
    let started = Instant::now();
    let copy = ledger.clone();
    let cloned = started.elapsed();
    let started = Instant::now();
    let bytes = ledger.to_snapshot();
    let serialised = started.elapsed();
    assert_eq!(copy, ledger);
    println!(
        "  model state at {size}: copy {:.1} ms, serialisation {:.1} ms ({:.1} MB)",
        cloned.as_secs_f64() * 1e3,
        serialised.as_secs_f64() * 1e3,
        bytes.len() as f64 / 1e6
    );
    println!("  load average at the end: {}", load_average());
}

fn append_concurrently(runtime: &tokio::runtime::Runtime, store: &Store, envelopes: Vec<Envelope>) {
    let queue = Arc::new(Mutex::new(envelopes.into_iter()));
    runtime.block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let store = store.clone();
                let queue = Arc::clone(&queue);
                tokio::spawn(async move {
                    loop {
                        let next = queue.lock().unwrap().next();
                        let Some(envelope) = next else { break };
                        store.append(envelope).await.unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
}

fn read_lines(path: &Path) -> Vec<Vec<u8>> {
    let mut reader = BufReader::new(File::open(path).unwrap());
    let mut header = Vec::new();
    reader.read_until(b'\n', &mut header).unwrap();
    reader.split(b'\n').map(Result::unwrap).collect()
}

/// What `hisaab verify BUNDLE` did before it streamed: one core, every entry kept.
fn sequential_verify(path: &Path) {
    let mut memory = MemoryLedger::new();
    verify_bundle_structure(BufReader::new(File::open(path).unwrap()), |e| {
        memory.append_unverified(e.clone())
    })
    .unwrap();
}

/// The floor of an audit: each line parsed, re-canonicalised and compared (JCS), its
/// statement's signing input canonicalised and verified strictly, and its leaf hashed; on
/// every core, lines handed out in batches by a reading thread. Returns the lines checked.
fn audit_floor(lines: &[Vec<u8>]) -> u64 {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (tx, rx) = sync_channel::<&[Vec<u8>]>(workers * 2);
    let rx = Mutex::new(rx);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let rx = &rx;
                scope.spawn(move || {
                    let mut count = 0u64;
                    loop {
                        let batch = rx.lock().unwrap().recv();
                        let Ok(batch) = batch else { break };
                        for line in batch {
                            floor_check(line);
                            count += 1;
                        }
                    }
                    count
                })
            })
            .collect();
        for batch in lines.chunks(FLOOR_BATCH) {
            tx.send(batch).unwrap();
        }
        drop(tx);
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    })
}

fn floor_check(line: &[u8]) {
    hisaab_store::floor::check_line(line).unwrap();
}

/// The floor of durable ingest ([`hisaab_store::floor::durable_ingest`]), a flush per batch
/// of [`TASKS`] (what group commit can gather from as many clients).
fn sled_floor(lines: &[Vec<u8>]) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    hisaab_store::floor::durable_ingest(dir.path(), lines, TASKS).unwrap()
}

/// What each of sled's trees holds (keys plus values), and the entry files beside it, to see
/// where a data directory's bytes go besides sled's own overhead.
fn print_tree_bytes(dir: &Path) {
    // sled lets go of its directory lock a moment after the store's last handle is dropped.
    let db = loop {
        match hisaab_store::open_db(dir, &StoreConfig::default()) {
            Ok(db) => break db,
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let mut trees: Vec<(String, u64, u64)> = db
        .tree_names()
        .into_iter()
        .map(|name| {
            let tree = db.open_tree(&name).unwrap();
            let (mut count, mut bytes) = (0u64, 0u64);
            for item in tree.iter() {
                let (key, value) = item.unwrap();
                count += 1;
                bytes += (key.len() + value.len()) as u64;
            }
            (String::from_utf8_lossy(&name).into_owned(), count, bytes)
        })
        .collect();
    trees.sort_by_key(|(_, _, bytes)| std::cmp::Reverse(*bytes));
    let listed: Vec<String> = trees
        .iter()
        .filter(|(_, count, _)| *count > 0)
        .map(|(name, count, bytes)| format!("{name} {:.1} MB/{count}", *bytes as f64 / 1e6))
        .collect();
    println!("  live bytes by tree (MB/records): {}", listed.join(", "));
    let files: Vec<String> = ["hisaab-entries", "hisaab-entry-ends", "hisaab-hashes"]
        .iter()
        .map(|name| {
            let bytes = std::fs::metadata(dir.join(name)).map_or(0, |m| m.len());
            format!("{name} {:.1} MB", bytes as f64 / 1e6)
        })
        .collect();
    let sled_bytes = dir_bytes(dir)
        - ["hisaab-entries", "hisaab-entry-ends", "hisaab-hashes"]
            .iter()
            .map(|name| std::fs::metadata(dir.join(name)).map_or(0, |m| m.len()))
            .sum::<u64>();
    println!(
        "  entry files: {}; sled's files {:.1} MB",
        files.join(", "),
        sled_bytes as f64 / 1e6
    );
}

/// The CPU time this process has used (user + system), from `/proc/self/stat` (Linux; 0
/// elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// A bundle whose state does not grow with the log: after the standard cast, one KPI's
/// submission filed again and again, each superseding the last, with a dispute resolved on a
/// state far back. Built in memory by the test kit, written as a bundle, and audited as in
/// [`run`]; it is kept for memory measurements of `hisaab verify` and `hisaab replay`.
fn run_submissions(size: u64, out_dir: &Path) {
    use hisaab_testkit::{evaluation, key, log_vkey, seed, submission, Builder, ORIGIN};
    use serde_json::json;

    println!(
        "\n== {size} entries, resubmissions (load average {}) ==",
        load_average()
    );
    let mut b = Builder::standard();
    let file = |b: &mut Builder, previous: Option<hisaab_log::Hash>, i: u64| {
        let mut body = submission("indus", "CR-01", "2026-10", &format!("{}.5", i % 100));
        if let Some(previous) = previous {
            body["supersedes"] = json!(previous);
        }
        b.append(seed::CISO_INDUS, "submission.filed", body)
    };
    let mut latest = file(&mut b, None, 0);
    let evaluated = b.append(
        seed::EVALUATOR,
        "evaluation.recorded",
        evaluation(latest, "met", 90),
    );
    b.append(
        seed::CISO_INDUS,
        "dispute.opened",
        json!({"dispute": "d1", "evaluation": evaluated, "grounds": "g"}),
    );
    let mut i = 1;
    while b.ledger.size() + 1 < size {
        latest = file(&mut b, Some(latest), i);
        i += 1;
    }
    let as_of = size / 2;
    let digest = b.ledger.state_at(as_of, None).unwrap().digest();
    b.append(
        seed::AUTHORITY,
        "dispute.resolved",
        json!({"dispute": "d1", "outcome": "upheld", "as_of": as_of, "state_digest": digest,
            "rationale": "r"}),
    );
    let entries = b.ledger.entries();
    let mut frontier = hisaab_log::merkle::Frontier::new();
    for e in entries {
        frontier.push(e.event_hash());
    }
    let checkpoint = hisaab_log::note::Checkpoint {
        origin: ORIGIN.into(),
        size: entries.len() as u64,
        root: frontier.root(),
    }
    .sign(&key(seed::LOG))
    .unwrap();
    let header = json!({"bundle": "hisaab/v1", "origin": ORIGIN, "log_key": log_vkey(),
        "checkpoint": checkpoint});
    let path = out_dir.join(format!("submissions-{size}.jsonl"));
    {
        use std::io::Write as _;
        let mut out = BufWriter::new(File::create(&path).unwrap());
        serde_json::to_writer(&mut out, &header).unwrap();
        out.write_all(b"\n").unwrap();
        for e in entries {
            out.write_all(e.leaf_bytes()).unwrap();
            out.write_all(b"\n").unwrap();
        }
    }
    drop(b);
    let size = entries_in(&path);
    let lines = read_lines(&path);
    let (floor, cpu) = (Instant::now(), cpu_seconds());
    audit_floor(&lines);
    let (floor_audit, floor_cpu) = (floor.elapsed(), cpu_seconds() - cpu);
    let (started, cpu) = (Instant::now(), cpu_seconds());
    sequential_verify(&path);
    let (before, before_cpu) = (started.elapsed(), cpu_seconds() - cpu);
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let cited = hisaab_model::cited_sizes(BufReader::new(File::open(&path).unwrap())).unwrap();
    let verified =
        hisaab_model::verify_bundle_cited(BufReader::new(File::open(&path).unwrap()), &cited)
            .unwrap();
    let (audit, audit_cpu) = (started.elapsed(), cpu_seconds() - cpu);
    assert_eq!(verified.size, size);
    println!(
        "  bundle {:.1} MB = {:.0} B/entry; audit CPU seconds: floor {floor_cpu:.2}, \
         sequential {before_cpu:.2}, streaming {audit_cpu:.2}",
        std::fs::metadata(&path).unwrap().len() as f64 / 1e6,
        std::fs::metadata(&path).unwrap().len() as f64 / size as f64,
    );
    line(
        "audit, sequential as before",
        size,
        before,
        Some(floor_audit),
    );
    line(
        "audit, streaming on every core",
        size,
        audit,
        Some(floor_audit),
    );
    let started = Instant::now();
    let mut replayed = Ledger::new();
    for bytes in &lines {
        let sealed = SealedEntry::try_from_leaf_bytes(bytes).unwrap();
        replayed.apply_trusted(&sealed).unwrap();
    }
    let replay = started.elapsed();
    assert_eq!(replayed.state(None), verified.state);
    line("replay to state, no signature checks", size, replay, None);
    let trusted = replay_trusted(&lines, &verified.state);
    line(
        "replay to state, trusted bytes (one pass)",
        size,
        trusted,
        None,
    );
    println!("  bundle kept at {}", path.display());
}

/// Replay to state of leaf bytes a store verified on append (`Ledger::apply_trusted_leaf`, as
/// the store's own replay reads its entries), checked against `expected`; the time taken.
fn replay_trusted(lines: &[Vec<u8>], expected: &hisaab_model::State) -> Duration {
    let started = Instant::now();
    let mut replayed = Ledger::new();
    for bytes in lines {
        assert!(replayed.apply_trusted_leaf(bytes, None));
    }
    let applied = started.elapsed();
    let state = replayed.state(None);
    let took = started.elapsed();
    assert_eq!(&state, expected);
    println!(
        "  (trusted: {:.0}/s to the ledger, then {:.3} s for its state)",
        per_second(lines.len() as u64, applied),
        (took - applied).as_secs_f64()
    );
    took
}

fn entries_in(path: &Path) -> u64 {
    read_lines(path).len() as u64
}
