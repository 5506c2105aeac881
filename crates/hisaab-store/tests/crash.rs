//! Crash test: a child process appends two kinds of statements under load and prints each
//! receipt as it gets it; the parent kills it with SIGKILL at random moments. After each kill
//! the store must reopen without a torn batch, hold every entry receipted in this round and
//! every earlier one provably, never shrink, keep a valid chain, return each receipt byte for
//! byte on resubmission, and take appends again.
//!
//! The child is this same test binary, started with [`CHILD_ENV`] set and running only
//! [`crash_child`] (which does nothing when the variable is unset), so the library crate ships no
//! helper binary.
//!
//! `HISAAB_CRASH_ITERATIONS` (default 20) sets the number of kills, `HISAAB_CRASH_SEED` the
//! seed of the moments.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use hisaab_log::chain::ChainVerifier;
use hisaab_log::merkle::{verify_consistency, verify_inclusion, Frontier};
use hisaab_log::note::verify_checkpoint;
use hisaab_log::{Envelope, Hash};
use hisaab_store::{ManualClock, Receipt, Store, StoreConfig};
use hisaab_testkit::fixture;
use serde_json::json;

/// The store configuration of the child, with a short tail check to keep debug runs quick.
fn config() -> StoreConfig {
    StoreConfig {
        batch_entries_max: 64,
        snapshot_every: 8,
        tail_check_entries: 4,
        ..StoreConfig::default()
    }
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: u64) -> u64 {
        // xorshift64*: deterministic for a seed, good enough for picking moments.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn receipted_entries_survive_sigkill_at_random_moments() {
    let iterations = env_u64("HISAAB_CRASH_ITERATIONS", 20);
    let mut rng = Rng(env_u64("HISAAB_CRASH_SEED", 0x5eed_cafe_f00d_0001) | 1);
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::create(dir.path(), config());
    let ledger_id = common::ledger_id(&store);
    store.close().unwrap();
    drop(store);
    let vkey = fixture::log_vkey().unwrap();
    let mut verified_notes = HashSet::new();
    // Every receipt of every round: (namespace, n, receipt).
    let mut all: Vec<(u32, u64, Receipt)> = Vec::new();
    let mut last_size = 1u64;
    // Kills that left a batch in the entry files past sled's checkpoint.
    let mut torn = 0usize;
    // Kills after which open wrote unsynced entry ends and stored hashes again.
    let mut rebuilt = 0usize;

    for iteration in 0..iterations {
        let namespace = u32::try_from(iteration + 1).unwrap();
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["crash_child", "--exact", "--nocapture", "--quiet"])
            .args(["--test-threads", "1"])
            .env(CHILD_ENV, dir.path())
            .env(CHILD_NAMESPACE_ENV, namespace.to_string())
            .env(CHILD_THREADS_ENV, "4")
            .env(CHILD_MAX_ENV, "100000")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (lines_tx, lines_rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Kill after a random number of receipts (0 kills during start-up or the first
        // batch), plus a random delay.
        let wait_for = rng.below(40);
        let mut lines = Vec::new();
        while (lines.len() as u64) < wait_for {
            match lines_rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) if line.starts_with('{') => lines.push(line),
                Ok(_) => {}
                Err(_) => {
                    let _ = child.kill();
                    let output = child.wait_with_output().unwrap();
                    panic!(
                        "iteration {iteration}: the child printed no receipt in time: {}",
                        String::from_utf8_lossy(&output.stderr)
                    );
                }
            }
        }
        std::thread::sleep(Duration::from_millis(rng.below(30)));
        child.kill().unwrap(); // SIGKILL on Unix.
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "iteration {iteration}: the child exited by itself"
        );
        reader.join().unwrap();
        lines.extend(lines_rx.try_iter());

        // Every complete line is a receipt the child was given; a line cut by the kill is not.
        // Lines not starting with `{` are the test harness's own.
        lines.retain(|line| line.starts_with('{'));
        let count = lines.len();
        let receipts: Vec<(u64, Receipt)> = lines
            .iter()
            .enumerate()
            .filter_map(
                |(i, line)| match serde_json::from_str::<serde_json::Value>(line) {
                    Ok(value) => Some((
                        value["n"].as_u64().unwrap(),
                        serde_json::from_value(value["receipt"].clone()).unwrap(),
                    )),
                    Err(_) if i + 1 == count => None,
                    Err(e) => panic!("iteration {iteration}: unreadable line {line:?}: {e}"),
                },
            )
            .collect();
        let store = Store::open(
            dir.path(),
            fixture::log_key(),
            config(),
            std::sync::Arc::new(common::clock()),
        )
        .unwrap_or_else(|e| panic!("iteration {iteration}: reopen failed: {e}"));
        // A batch's entries are synced to their files before the sled transaction with its
        // checkpoint: a kill between the two leaves at most that one batch in the files, never
        // receipted, which open cuts off (every receipt is checked below).
        let truncated = store.open_report().truncated_entries;
        torn += usize::from(truncated > 0);
        // The entry ends and stored hashes are synced every few thousand entries and on
        // close, which a killed child never reached: what it appended is rebuilt on open,
        // no more than it appended since its start.
        let rebuilt_now = store.open_report().index_rebuilt_entries;
        rebuilt += usize::from(rebuilt_now > 0);
        assert!(
            rebuilt_now <= store.size() - last_size + 1,
            "iteration {iteration}: {rebuilt_now} entries rebuilt, more than the child appended"
        );
        assert!(
            truncated <= config().batch_entries_max as u64,
            "iteration {iteration}: {truncated} entries past the checkpoint, more than a batch"
        );
        let latest = store.latest_checkpoint();
        assert!(
            latest.checkpoint.size >= last_size,
            "iteration {iteration}: the tree shrank from {last_size} to {}",
            latest.checkpoint.size
        );
        all.extend(receipts.iter().map(|(n, r)| (namespace, *n, r.clone())));
        for (namespace, n, receipt) in &all {
            if verified_notes.insert(receipt.checkpoint.clone()) {
                verify_checkpoint(&receipt.checkpoint, &vkey).unwrap();
            }
            let old = hisaab_log::note::Checkpoint::try_parse_body(
                receipt
                    .checkpoint
                    .split("\n\n")
                    .next()
                    .map(|b| format!("{b}\n"))
                    .as_deref()
                    .unwrap(),
            )
            .unwrap();
            verify_inclusion(
                &receipt.event_hash,
                receipt.seq,
                old.size,
                &receipt.inclusion_proof,
                &old.root,
            )
            .unwrap();
            let entry = store.entry(receipt.seq).unwrap().unwrap_or_else(|| {
                panic!(
                    "iteration {iteration}: receipted seq {} is gone",
                    receipt.seq
                )
            });
            assert_eq!(entry.event_hash(), receipt.event_hash);
            let expected_id = fixture::statement_id(*namespace, *n).unwrap();
            assert_eq!(entry.entry().statement.id, expected_id);
            // Provable against a fresh checkpoint, which is consistent with the receipt's.
            let proof = store
                .inclusion_proof(receipt.seq, latest.checkpoint.size)
                .unwrap();
            verify_inclusion(
                &receipt.event_hash,
                receipt.seq,
                latest.checkpoint.size,
                &proof,
                &latest.checkpoint.root,
            )
            .unwrap();
            let consistency = store
                .consistency_proof(old.size, latest.checkpoint.size)
                .unwrap();
            verify_consistency(
                old.size,
                latest.checkpoint.size,
                &consistency,
                &old.root,
                &latest.checkpoint.root,
            )
            .unwrap();
        }

        // The chain links and the Merkle root over all entries (signatures: `verify_full`
        // at the end, and `open` checks the tail's).
        let mut chain = ChainVerifier::new();
        let mut frontier = Frontier::new();
        let size = store.size();
        let mut seq = 0;
        while seq < size {
            for entry in store.entries(seq, 1000).unwrap() {
                chain.push_verified(&entry).unwrap();
                frontier.push(entry.event_hash());
                seq += 1;
            }
        }
        assert_eq!(frontier.root(), latest.checkpoint.root);

        // Appending continues: a resubmission gets its receipt back, byte for byte (all of
        // this round's, every 7th of the earlier rounds'), and a new statement lands at the end.
        let earlier = all.len() - receipts.len();
        for (index, (namespace, n, receipt)) in all.iter().enumerate() {
            if index < earlier && index % 7 != 0 {
                continue;
            }
            let again = store
                .append_blocking(statement(ledger_id, *namespace, *n))
                .unwrap();
            assert!(!again.created);
            assert_eq!(
                serde_json::to_string(&again.receipt).unwrap(),
                serde_json::to_string(receipt).unwrap(),
                "iteration {iteration}: resubmission of seq {}",
                receipt.seq
            );
        }
        let fresh = store
            .append_blocking(statement(ledger_id, 1_000_000 + namespace, 0))
            .unwrap();
        assert!(fresh.created);
        assert_eq!(fresh.receipt.seq, size);
        last_size = size + 1;
        store.close().unwrap();
    }

    let store = common::open(dir.path(), config()).unwrap();
    store.verify_full().unwrap();
    // A clean close leaves nothing to rebuild.
    assert_eq!(store.open_report().index_rebuilt_entries, 0);
    assert!(
        rebuilt > 0 || iterations < 5,
        "no kill left unsynced entry ends to rebuild"
    );
    eprintln!(
        "crash test: {iterations} kills ({torn} with a batch cut off on open, {rebuilt} with \
         entry ends and stored hashes rebuilt), {} receipts re-checked after every later kill, \
         {} entries",
        all.len(),
        store.size()
    );
}

/// The child's statement `(namespace, n)`: an operator for even `n`, a KPI for odd `n`.
fn statement(ledger: Hash, namespace: u32, n: u64) -> Envelope {
    if n % 2 == 0 {
        return fixture::register_operator(ledger, namespace, n).unwrap();
    }
    let letter = |x: u64| char::from(b'A' + u8::try_from(x % 26).unwrap());
    let ns = u64::from(namespace);
    let kpi = format!(
        "K{}{}{}{}-{}",
        letter(ns / 676),
        letter(ns / 26),
        letter(ns),
        letter(n / 10_000),
        n % 10_000
    );
    fixture::statement_in(
        ledger,
        namespace,
        n,
        "kpi.defined",
        &fixture::authority_key(),
        json!({"kpi": kpi, "pillar": "resilience", "title": "Crash KPI", "unit": "%",
               "direction": "higher_is_better", "cadence": "monthly",
               "evidence_required": false}),
    )
    .unwrap()
}

/// Set (to the store's directory) only in the child process; see [`crash_child`].
const CHILD_ENV: &str = "HISAAB_CRASH_CHILD_DIR";
/// The child's statement-id namespace (one per run).
const CHILD_NAMESPACE_ENV: &str = "HISAAB_CRASH_CHILD_NAMESPACE";
/// The child's number of appending threads.
const CHILD_THREADS_ENV: &str = "HISAAB_CRASH_CHILD_THREADS";
/// The most entries the child appends before closing the store.
const CHILD_MAX_ENV: &str = "HISAAB_CRASH_CHILD_MAX";

/// The child process of the crash test: opens (or creates) the fixture ledger in a directory
/// and appends from several threads as fast as it can, printing each receipt as one JSON line
/// the moment it has it, until it is killed or has appended the maximum. Does nothing unless
/// [`CHILD_ENV`] is set.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let namespace: u32 = std::env::var(CHILD_NAMESPACE_ENV).unwrap().parse().unwrap();
    let threads: u64 = std::env::var(CHILD_THREADS_ENV).unwrap().parse().unwrap();
    let max: u64 = std::env::var(CHILD_MAX_ENV).unwrap().parse().unwrap();
    // Time moves a minute per run so that recorded_at visibly never goes back across restarts.
    let clock = Arc::new(ManualClock::new(
        fixture::EPOCH_MILLIS + i64::from(namespace) * 60_000,
    ));
    let path = std::path::Path::new(&dir);
    let store = if path.join("conf").exists() {
        Store::open(path, fixture::log_key(), config(), clock).unwrap()
    } else {
        Store::create(
            path,
            fixture::genesis().unwrap(),
            fixture::log_key(),
            config(),
            clock,
        )
        .unwrap()
    };
    let ledger_id = store.entry(0).unwrap().unwrap().event_hash();
    let next = Arc::new(AtomicU64::new(0));
    let stdout = Arc::new(Mutex::new(std::io::stdout()));
    let mut handles = Vec::new();
    for _ in 0..threads {
        let (store, next, stdout) = (store.clone(), Arc::clone(&next), Arc::clone(&stdout));
        handles.push(std::thread::spawn(move || loop {
            let n = next.fetch_add(1, Ordering::SeqCst);
            if n >= max {
                return;
            }
            let envelope = statement(ledger_id, namespace, n);
            let appended = store.append_blocking(envelope).unwrap();
            let line = serde_json::json!({"namespace": namespace, "n": n,
                                          "receipt": appended.receipt});
            // Written to the process's stdout directly (not `println!`), which the test
            // harness would capture.
            let mut out = stdout.lock().unwrap();
            writeln!(out, "{line}").unwrap();
            out.flush().unwrap();
        }));
    }
    for handle in handles {
        handle.join().unwrap();
    }
    store.close().unwrap();
}
