//! Streaming, parallel verification gives the answers of the sequential one: the same
//! verified bundle, the same first failing seq and reason, and states at past sizes.

use hisaab_log::bundle::{verify_bundle_structure, BundleError};
use hisaab_log::merkle::Frontier;
use hisaab_log::note::Checkpoint;
use hisaab_log::SealedEntry;
use hisaab_model::{
    cited_sizes, replay_bundle, verify_bundle, verify_bundle_cited, MemoryLedger, Rule,
    VerifyError, Violation,
};
use hisaab_testkit::{evaluation, key, log_vkey, seed, submission, Builder, ORIGIN};
use serde_json::json;

fn bundle_of(entries: &[SealedEntry]) -> Vec<u8> {
    let mut frontier = Frontier::new();
    for e in entries {
        frontier.push(e.event_hash());
    }
    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size: entries.len() as u64,
        root: frontier.root(),
    }
    .sign(&key(seed::LOG))
    .unwrap();
    let header = json!({"bundle": "hisaab/v1", "origin": ORIGIN, "log_key": log_vkey(),
        "checkpoint": checkpoint});
    let mut out = serde_json::to_vec(&header).unwrap();
    out.push(b'\n');
    for e in entries {
        out.extend_from_slice(e.leaf_bytes());
        out.push(b'\n');
    }
    out
}

/// A ledger of several batches' length, with disputes resolved on past states (one cited
/// size far back, one at the size just before the resolution).
fn long_ledger() -> Builder {
    let mut b = Builder::standard();
    let file = |b: &mut Builder, previous: Option<hisaab_log::Hash>, i: u32| {
        let mut body = submission("indus", "CR-01", "2026-10", &format!("{}.5", i % 100));
        if let Some(previous) = previous {
            body["supersedes"] = json!(previous);
        }
        b.append(seed::CISO_INDUS, "submission.filed", body)
    };
    let mut latest = file(&mut b, None, 0);
    let e0 = b.append(
        seed::EVALUATOR,
        "evaluation.recorded",
        evaluation(latest, "met", 90),
    );
    b.append(
        seed::CISO_INDUS,
        "dispute.opened",
        json!({"dispute": "d1", "evaluation": e0, "grounds": "g"}),
    );
    for i in 1..700u32 {
        latest = file(&mut b, Some(latest), i);
    }
    let far = 300u64;
    let digest = b.ledger.state_at(far, None).unwrap().digest();
    b.append(
        seed::AUTHORITY,
        "dispute.resolved",
        json!({"dispute": "d1", "outcome": "upheld", "as_of": far, "state_digest": digest,
            "rationale": "r"}),
    );
    let e1 = b.append(
        seed::EVALUATOR,
        "evaluation.recorded",
        evaluation(latest, "met", 90),
    );
    b.append(
        seed::CISO_INDUS,
        "dispute.opened",
        json!({"dispute": "d2", "evaluation": e1, "grounds": "g"}),
    );
    let as_of = b.ledger.size();
    let digest = b.ledger.state_at(as_of, None).unwrap().digest();
    b.append(
        seed::AUTHORITY,
        "dispute.resolved",
        json!({"dispute": "d2", "outcome": "overturned", "as_of": as_of, "state_digest": digest,
            "rationale": "r"}),
    );
    for i in 0..50u32 {
        latest = file(&mut b, Some(latest), i);
    }
    b
}

/// A verification's outcome: (size, root), or (seq, reason).
type Outcome = Result<(u64, hisaab_log::Hash), (Option<u64>, String)>;

/// The sequential verification this crate had before it streamed: the structure through
/// `hisaab-log`, the rules through a [`MemoryLedger`]. Errors as (seq, text).
fn sequential(bytes: &[u8]) -> Outcome {
    let mut memory = MemoryLedger::new();
    let summary = verify_bundle_structure(bytes, |e| memory.append_unverified(e.clone()));
    match summary {
        Ok(summary) => Ok((summary.checkpoint.size, summary.checkpoint.root)),
        Err(BundleError::Rejected { seq, source }) => {
            let violation = source.downcast::<Violation>().unwrap();
            assert_eq!(violation.seq, seq);
            Err((Some(seq), violation.to_string()))
        }
        Err(other) => Err((other.seq(), other.to_string())),
    }
}

fn streamed(bytes: &[u8]) -> [Outcome; 2] {
    let cited = cited_sizes(bytes).unwrap();
    let plain = verify_bundle(bytes);
    let cited = verify_bundle_cited(bytes, &cited);
    [plain, cited].map(|r| {
        r.map(|v| (v.size, v.root))
            .map_err(|e| (e.seq(), e.to_string()))
    })
}

fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut lines: Vec<Vec<u8>> = bytes.split(|c| *c == b'\n').map(<[u8]>::to_vec).collect();
    assert_eq!(lines.pop(), Some(Vec::new()));
    lines
}

fn join(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out
}

#[test]
fn a_long_bundle_verifies_as_it_did_sequentially_with_its_final_state() {
    let b = long_ledger();
    let bytes = bundle_of(b.ledger.entries());
    let cited = cited_sizes(&bytes[..]).unwrap();
    assert_eq!(cited.len(), 2, "{cited:?}");
    assert!(cited.contains(&300));
    let expected = sequential(&bytes).unwrap();
    for got in streamed(&bytes) {
        assert_eq!(got.unwrap(), expected);
    }
    let verified = verify_bundle_cited(&bytes[..], &cited).unwrap();
    assert_eq!(verified.state, b.ledger.ledger().state(None));
    assert_eq!(verified, verify_bundle(&bytes[..]).unwrap());
}

#[test]
fn the_first_failing_seq_and_reason_are_those_of_the_sequential_check() {
    let b = long_ledger();
    let good = lines(&bundle_of(b.ledger.entries()));
    let n = good.len() - 1;
    let resolution = b
        .ledger
        .entries()
        .iter()
        .position(|e| e.entry().statement.kind == "dispute.resolved")
        .unwrap();
    for seq in [0, 1, 255, 256, 511, resolution, n - 1] {
        let line = seq + 1;
        let mut variants: Vec<Vec<Vec<u8>>> = Vec::new();
        // A changed signature.
        let mut signature = good.clone();
        let text = String::from_utf8(signature[line].clone()).unwrap();
        let at = text.find("\"signature\":\"").unwrap() + 13;
        let flipped = if &text[at..=at] == "A" { "B" } else { "A" };
        signature[line] = format!("{}{}{}", &text[..at], flipped, &text[at + 1..]).into_bytes();
        variants.push(signature);
        // A line that is not an entry.
        let mut garbage = good.clone();
        garbage[line] = b"{\"x\":1}".to_vec();
        variants.push(garbage);
        // A missing line.
        let mut missing = good.clone();
        missing.remove(line);
        variants.push(missing);
        // Another line twice, with a second copy of an earlier entry.
        if seq > 0 {
            let mut twice = good.clone();
            twice.insert(line, good[line - 1].clone());
            variants.push(twice);
        }
        // Two failures: the first must be named.
        let mut two = good.clone();
        two[n] = b"[]".to_vec();
        two[line] = b"[]".to_vec();
        variants.push(two);
        for variant in variants {
            let bytes = join(&variant);
            let expected = sequential(&bytes).unwrap_err();
            for got in streamed(&bytes) {
                assert_eq!(got.unwrap_err(), expected, "seq {seq}");
            }
        }
    }
    // A line without its newline at the end, and a line too long.
    let mut bytes = join(&good);
    bytes.pop();
    let expected = sequential(&bytes).unwrap_err();
    for got in streamed(&bytes) {
        assert_eq!(got.unwrap_err(), expected);
    }
    let mut long = good.clone();
    long[600] = vec![b' '; hisaab_log::statement::ENTRY_BYTES_MAX + 10];
    let bytes = join(&long);
    let expected = sequential(&bytes).unwrap_err();
    assert_eq!(expected.0, Some(599));
    for got in streamed(&bytes) {
        assert_eq!(got.unwrap_err(), expected);
    }
}

#[test]
fn a_cited_size_left_out_is_history_unavailable_at_the_citing_seq() {
    let b = long_ledger();
    let bytes = bundle_of(b.ledger.entries());
    let mut cited = cited_sizes(&bytes[..]).unwrap();
    cited.remove(&300);
    let err = verify_bundle_cited(&bytes[..], &cited).unwrap_err();
    let VerifyError::Rule(violation) = err else {
        panic!("{err}");
    };
    assert_eq!(violation.rule, Rule::HistoryUnavailable);
    let citing = b
        .ledger
        .entries()
        .iter()
        .position(|e| e.entry().statement.kind == "dispute.resolved")
        .unwrap();
    assert_eq!(violation.seq, citing as u64);
}

#[test]
fn replay_takes_past_states_and_still_needs_the_checkpoints_leaves() {
    let b = long_ledger();
    let bytes = bundle_of(b.ledger.entries());
    let cited = cited_sizes(&bytes[..]).unwrap();
    let n = b.ledger.size();
    let sizes = [Some(1), Some(257), Some(300), None, Some(n)];
    let replayed = replay_bundle(&bytes[..], &cited, &sizes, None).unwrap();
    assert_eq!((replayed.size, replayed.root), sequential(&bytes).unwrap());
    for (size, state) in sizes.iter().zip(&replayed.states) {
        let size = size.unwrap_or(n);
        assert_eq!(
            state,
            &b.ledger.state_at(size, None).unwrap(),
            "size {size}"
        );
    }
    let at = hisaab_log::Date::try_parse("2027-01-01").unwrap();
    let early = replay_bundle(&bytes[..], &cited, &[Some(400), Some(20)], Some(at)).unwrap();
    assert_eq!(early.states[0], b.ledger.state_at(400, Some(at)).unwrap());
    assert_eq!(early.states[1], b.ledger.state_at(20, Some(at)).unwrap());
    // Past the size asked for only the leaves count, but they must be the checkpoint's.
    let mut tampered = lines(&bytes);
    tampered[500].push(b' ');
    let err = replay_bundle(&join(&tampered)[..], &cited, &[Some(20)], None).unwrap_err();
    assert!(
        matches!(err, VerifyError::Bundle(BundleError::RootMismatch { .. })),
        "{err}"
    );
    // Sizes the bundle does not have.
    let err = replay_bundle(&bytes[..], &cited, &[Some(n + 1)], None).unwrap_err();
    assert!(matches!(err, VerifyError::SizeOutOfRange { .. }), "{err}");
}
