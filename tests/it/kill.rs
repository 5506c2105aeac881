//! A crash campaign against the real server: clients post signed statements over many
//! connections while `hisaab serve` is SIGKILLed at random moments and restarted on the same
//! data directory. After every restart, every receipt any client was ever given (in this round
//! and every earlier one) is checked against the new checkpoint: its entry is at its seq with
//! its event hash, the receipt's own checkpoint is a prefix of the new tree, and resubmitting
//! its envelope returns the same receipt, byte for byte. The tree only grows, no statement is
//! recorded twice, and statements whose answer was lost in the crash are recorded at most once
//! and can be resubmitted.
//!
//! After a restart the new entries are read and hashed, and the consistency proof from the
//! last checkpoint shows that the tree's older part is unchanged; every [`FULL_EVERY`] rounds,
//! and at the end, the whole log is read again and every leaf hashed from its bytes, so that an
//! entry damaged on disk beneath an unchanged hash tree is found too (and `hisaab verify` checks
//! the data directory offline at the end). That keeps the cost of a round in proportion to what
//! it added, so that a long campaign does not slow down as the log grows.
//!
//! `HISAAB_KILL_ROUNDS` sets the number of kills (CI runs a short campaign; the long run in
//! `docs/PERFORMANCE.md` used 1,000) and `HISAAB_KILL_SEED` the seed of the kill moments.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use hisaab_log::merkle::{leaf_hash, tree_root, verify_consistency, MemoryTree};
use hisaab_log::note::{verify_checkpoint, Checkpoint, VerifierKey};
use hisaab_log::{Envelope, Hash, SigningKey};
use serde_json::{json, Value};

use crate::common::{self, fixed_key, sign, Sandbox, Server};

const ORIGIN: &str = "kill.test/hisaab";

/// Connections posting at once.
const CLIENTS: usize = 16;

/// Kills in a plain `cargo test` run.
const ROUNDS_DEFAULT: u64 = 12;

/// Every this many rounds the whole log is read again, not only what the round added.
const FULL_EVERY: u64 = 25;

/// What the campaign has read of the log and checked: the leaf hashes from seq 0 (hashed from
/// the entries' bytes), their tree, the statement ids, and the roots of the prefixes that
/// receipts' checkpoints name.
#[derive(Default)]
struct Known {
    leaves: Vec<Hash>,
    tree: MemoryTree,
    ids: HashSet<String>,
    prefixes: BTreeMap<u64, Hash>,
}

impl Known {
    /// Reads entries `from` (at most the leaves known) up to `to`, hashing each and checking
    /// that no statement is recorded twice.
    fn read(&mut self, server: &Server, to: u64, round: u64) {
        let mut next = u64::try_from(self.leaves.len()).unwrap();
        while next < to {
            let page = common::get_full_ok(server, &format!("/v1/entries?start={next}"));
            for line in page.lines() {
                if next == to {
                    break;
                }
                let entry = common::entry(line.as_bytes());
                assert_eq!(
                    entry.entry().seq,
                    next,
                    "round {round}: entries out of order"
                );
                assert!(
                    self.ids
                        .insert(entry.entry().envelope().statement.id.as_str().to_owned()),
                    "round {round}: statement {} recorded twice",
                    entry.entry().envelope().statement.id.as_str()
                );
                let leaf = leaf_hash(entry.leaf_bytes());
                self.leaves.push(leaf);
                self.tree.push_leaf(leaf);
                next += 1;
            }
        }
    }
}

/// One acknowledged statement: what it was and the receipt it got, as sent.
struct Acknowledged {
    envelope: Envelope,
    receipt: Value,
    receipt_text: String,
    /// The receipt's checkpoint, its signature verified the first time it is checked: the
    /// text never changes, so one verification is enough; whether the tree still holds it is
    /// checked after every restart.
    checkpoint: OnceLock<Checkpoint>,
}

impl Acknowledged {
    fn new(envelope: Envelope, receipt_text: String) -> Acknowledged {
        Acknowledged {
            envelope,
            receipt: serde_json::from_str(&receipt_text).unwrap(),
            receipt_text,
            checkpoint: OnceLock::new(),
        }
    }
}

/// What one client saw in one round.
#[derive(Default)]
struct Seen {
    acknowledged: Vec<Acknowledged>,
    /// Sent, but no answer arrived before the kill: recorded at most once, or not at all.
    lost: Vec<Envelope>,
    /// Answers that were neither 201 nor a refused connection: there must be none.
    unexpected: Vec<String>,
}

#[test]
fn receipts_survive_sigkill_under_concurrent_http_load() {
    let rounds = env_u64("HISAAB_KILL_ROUNDS", ROUNDS_DEFAULT);
    let mut random = Lcg(env_u64("HISAAB_KILL_SEED", 1));
    let sb = Sandbox::new();
    let (log_key, pta) = (fixed_key(1), fixed_key(2));
    let data = sb.join("ledger");
    common::init_ledger(&sb, &data, ORIGIN, "Crash campaign ledger");
    let vkey = common::vkey(ORIGIN, &log_key);
    // The server of each round is the one restarted and checked after the previous kill.
    let mut server = Server::start(&sb, &data, &sb.join("log.pem"));
    let genesis = common::get_ok(&server, "/v1/entries/0");
    let ledger = common::entry(genesis.trim_end().as_bytes()).event_hash();
    let mut everything: Vec<Acknowledged> = Vec::new();
    let mut last = checkpoint_of(&server, &vkey);
    let mut kills_under_load = 0u64;
    let mut lost_total = 0usize;
    let mut lost_recorded = 0u64;
    let mut known = Known::default();
    let started = std::time::Instant::now();
    for round in 0..rounds {
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let url = server.url.clone();
                let stop = Arc::clone(&stop);
                let pta = pta.clone();
                std::thread::spawn(move || {
                    post_until_killed(&url, &pta, ledger, round, client, &stop)
                })
            })
            .collect();
        // Kill at a moment between 20 and 400 ms into the load: before, during or between
        // group commits.
        std::thread::sleep(Duration::from_millis(20 + random.next() % 380));
        drop(server);
        stop.store(true, Ordering::SeqCst);
        let mut lost = Vec::new();
        let mut acknowledged_this_round = 0usize;
        for client in clients {
            let seen = client.join().unwrap();
            assert!(
                seen.unexpected.is_empty(),
                "round {round}: {:?}",
                seen.unexpected
            );
            acknowledged_this_round += seen.acknowledged.len();
            everything.extend(seen.acknowledged);
            lost.extend(seen.lost);
        }
        if acknowledged_this_round > 0 {
            kills_under_load += 1;
        }

        server = Server::start(&sb, &data, &sb.join("log.pem"));
        let full = (round + 1) % FULL_EVERY == 0;
        let now = check_everything(&server, &vkey, &last, &everything, round, &mut known, full);
        // Answers lost in the crash: each statement is in the log at most once (checked above).
        // Resubmitting it returns its receipt if it was recorded (200), and records it now if
        // not (201): never a second record.
        let http = server.http();
        let mut added = 0u64;
        let lost_now = u64::try_from(lost.len()).unwrap();
        lost_total += lost.len();
        for envelope in lost {
            let was_recorded = known.ids.contains(envelope.statement.id.as_str());
            let (status, text) = common::post_envelope(&http, &server.url, &envelope).unwrap();
            let want = if was_recorded { 200 } else { 201 };
            assert_eq!(
                status, want,
                "round {round}: resubmitting a lost statement: {text}"
            );
            added += u64::from(!was_recorded);
            everything.push(Acknowledged::new(envelope, text));
        }
        let after = checkpoint_of(&server, &vkey);
        assert_eq!(after.size, now.size + added, "round {round}");
        lost_recorded += lost_now - added;
        last = after;
        if full {
            eprintln!(
                "after {} kills: {} entries, {} receipts held, {:.0} s",
                round + 1,
                last.size,
                everything.len(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    assert!(
        kills_under_load * 2 >= rounds,
        "only {kills_under_load} of {rounds} kills hit a server under load"
    );
    assert!(!everything.is_empty());
    eprintln!(
        "{rounds} kills ({kills_under_load} under load): {} receipts re-checked after every \
         restart; {lost_total} answers lost in a crash, of which {lost_recorded} had been \
         recorded; final size {}",
        everything.len(),
        last.size
    );

    // A last full check, a graceful stop, and the data directory verifies offline with no key.
    let _ = check_everything(&server, &vkey, &last, &everything, rounds, &mut known, true);
    server.stop();
    let out = sb.ok(&["verify", data.to_str().unwrap()]);
    assert!(out.contains("OK"), "{out}");
}

/// Posts fresh statements one after another until the server stops answering.
fn post_until_killed(
    url: &str,
    pta: &SigningKey,
    ledger: Hash,
    round: u64,
    client: usize,
    stop: &AtomicBool,
) -> Seen {
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut seen = Seen::default();
    for n in 0u64.. {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let envelope = statement(pta, ledger, round, client, n);
        match common::post_envelope(&http, url, &envelope) {
            Ok((201, text)) => seen.acknowledged.push(Acknowledged::new(envelope, text)),
            Ok((status, text)) => seen.unexpected.push(format!("{status} {text}")),
            // The request may or may not have reached the sequencer before the kill.
            Err(_) => {
                seen.lost.push(envelope);
                break;
            }
        }
    }
    seen
}

/// Two kinds, each with an id of its own: operators and KPI definitions.
fn statement(pta: &SigningKey, ledger: Hash, round: u64, client: usize, n: u64) -> Envelope {
    if n % 2 == 0 {
        sign(
            pta,
            ledger,
            "operator.registered",
            json!({"operator": format!("op-{round}-{client}-{n}"), "name": "Crash Test Operator"}),
        )
    } else {
        let letter = |x: u64| char::from(b'A' + u8::try_from(x % 26).unwrap());
        let kpi = format!(
            "K{}{}{}{}-{}",
            letter(round / 676),
            letter(round / 26),
            letter(round),
            letter(u64::try_from(client).unwrap()),
            n % 10_000
        );
        sign(
            pta,
            ledger,
            "kpi.defined",
            json!({
                "kpi": kpi, "pillar": "resilience", "title": "Crash test KPI", "unit": "percent",
                "direction": "higher_is_better", "cadence": "monthly", "evidence_required": false
            }),
        )
    }
}

/// Checks the restarted server against everything acknowledged so far and answers its
/// checkpoint; `known` is brought up to it, read again from seq 0 when `full`.
fn check_everything(
    server: &Server,
    vkey: &VerifierKey,
    last: &Checkpoint,
    everything: &[Acknowledged],
    round: u64,
    known: &mut Known,
    full: bool,
) -> Checkpoint {
    let now = checkpoint_of(server, vkey);
    assert!(
        now.size >= last.size,
        "round {round}: the tree shrank from {} to {}",
        last.size,
        now.size
    );
    let proof = common::get_ok(
        server,
        &format!("/v1/proofs/consistency?from={}&to={}", last.size, now.size),
    );
    let proof: Value = serde_json::from_str(&proof).unwrap();
    verify_consistency(
        last.size,
        now.size,
        &hashes(&proof["proof"]),
        &last.root,
        &now.root,
    )
    .unwrap_or_else(|e| panic!("round {round}: not consistent with the last checkpoint: {e}"));

    // The log up to the new checkpoint: the new entries (or, when `full`, every entry again),
    // no statement twice, the root the checkpoint's.
    if full {
        *known = Known::default();
    }
    known.read(server, now.size, round);
    assert_eq!(known.tree.size(), now.size);
    assert_eq!(
        known.tree.root(),
        now.root,
        "round {round}: the entries are not the tree"
    );
    let (leaves, tree, prefixes) = (&known.leaves, &known.tree, &mut known.prefixes);

    // Every receipt: its leaf at its seq, its checkpoint a prefix of the tree.
    for acknowledged in everything {
        let receipt = &acknowledged.receipt;
        let seq = receipt["seq"].as_u64().unwrap();
        let event = Hash::try_from_hex(receipt["event_hash"].as_str().unwrap()).unwrap();
        assert!(
            seq < now.size,
            "round {round}: acknowledged seq {seq} is gone"
        );
        assert_eq!(
            leaves[usize::try_from(seq).unwrap()],
            event,
            "round {round}: seq {seq} is not the acknowledged entry"
        );
        let theirs = acknowledged.checkpoint.get_or_init(|| {
            verify_checkpoint(receipt["checkpoint"].as_str().unwrap(), vkey).unwrap()
        });
        let root = *prefixes
            .entry(theirs.size)
            .or_insert_with(|| tree_root(theirs.size, tree).unwrap());
        assert_eq!(
            root, theirs.root,
            "round {round}: a receipt's checkpoint was rewritten"
        );
    }

    // Resubmissions of acknowledged statements return their receipt, byte for byte: all of the
    // newest 64 and about 64 spread over the earlier rounds (a bounded cost per restart).
    let http = server.http();
    let newest = everything.len().saturating_sub(64);
    let stride = (newest / 64).max(1);
    for (index, acknowledged) in everything.iter().enumerate() {
        if index < newest && index % stride != 0 {
            continue;
        }
        let (status, text) =
            common::post_envelope(&http, &server.url, &acknowledged.envelope).unwrap();
        assert_eq!(
            status, 200,
            "round {round}: resubmission answered {status}: {text}"
        );
        assert_eq!(
            text, acknowledged.receipt_text,
            "round {round}: a resubmission got another receipt"
        );
    }
    now
}

fn checkpoint_of(server: &Server, vkey: &VerifierKey) -> Checkpoint {
    verify_checkpoint(&common::get_ok(server, "/v1/checkpoint"), vkey).unwrap()
}

fn hashes(value: &Value) -> Vec<Hash> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|h| Hash::try_from_hex(h.as_str().unwrap()).unwrap())
        .collect()
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().map_or(default, |v| {
        v.parse().unwrap_or_else(|_| panic!("{name}={v:?}"))
    })
}

/// A small deterministic generator for the kill moments (Knuth's MMIX constants).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}
