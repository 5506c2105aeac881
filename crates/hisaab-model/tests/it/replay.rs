//! Replay: incremental, from a snapshot and from scratch give the same digest; as-of states;
//! diffs; and a property test over random valid histories.

use hisaab_log::{Entry, Hash, SealedEntry};
use hisaab_model::{diff, Change, KpiStatus, Ledger, MemoryLedger, Rule, SnapshotError};
use hisaab_testkit::{evaluation, public_b64, seed, submission, Builder};
use proptest::prelude::*;
use serde_json::json;

/// Replays `entries` into a fresh memory ledger.
fn from_scratch(entries: &[SealedEntry], interval: u64) -> MemoryLedger {
    let mut m = MemoryLedger::with_snapshot_interval(interval);
    for e in entries {
        m.append_unverified(e.clone()).unwrap();
    }
    m
}

/// Resumes from a snapshot taken after `k` entries and applies the rest with `apply`.
fn via_snapshot(entries: &[SealedEntry], k: usize) -> Ledger {
    let prefix = from_scratch(&entries[..k], 256);
    let mut resumed = Ledger::from_snapshot(&prefix.ledger().to_snapshot()).unwrap();
    assert_eq!(&resumed, prefix.ledger());
    let mut history = prefix;
    for e in &entries[k..] {
        resumed.apply(e, &history).unwrap();
        history.append_unverified(e.clone()).unwrap();
    }
    resumed
}

#[derive(Debug, Clone)]
enum Op {
    Submit {
        indus: bool,
        kpi: usize,
        month: u8,
    },
    Evaluate {
        pick: usize,
        verdict: usize,
        score: u8,
    },
    Dispute {
        pick: usize,
    },
    Resolve {
        pick: usize,
        overturn: bool,
    },
    Commit {
        indus: bool,
        days: u8,
    },
    Close {
        pick: usize,
        outcome: usize,
    },
    Rotate {
        indus: bool,
    },
    Wait {
        days: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<bool>(), 0..2usize, 8..=11u8).prop_map(|(indus, kpi, month)| Op::Submit { indus, kpi, month }),
        3 => (any::<usize>(), 0..4usize, 0..=100u8).prop_map(|(pick, verdict, score)| Op::Evaluate { pick, verdict, score }),
        1 => any::<usize>().prop_map(|pick| Op::Dispute { pick }),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(pick, overturn)| Op::Resolve { pick, overturn }),
        1 => (any::<bool>(), 0..60u8).prop_map(|(indus, days)| Op::Commit { indus, days }),
        1 => (any::<usize>(), 0..3usize).prop_map(|(pick, outcome)| Op::Close { pick, outcome }),
        1 => any::<bool>().prop_map(|indus| Op::Rotate { indus }),
        1 => (0..3u8).prop_map(|days| Op::Wait { days }),
    ]
}

/// Plays `ops` onto the standard fixture; statements the rules refuse are dropped.
fn play(ops: &[Op]) -> Builder {
    let mut b = Builder::standard();
    let mut submissions: Vec<Hash> = Vec::new();
    let mut evaluations: Vec<(Hash, bool)> = Vec::new();
    let mut disputes: Vec<String> = Vec::new();
    let mut commitments: Vec<String> = Vec::new();
    let mut ciso = [seed::CISO_INDUS, seed::CISO_KARAKORAM];
    let mut next_key = 120u8;
    let pick = |n: usize, len: usize| if len == 0 { None } else { Some(n % len) };
    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::Submit { indus, kpi, month } => {
                let (op, signer) = if *indus {
                    ("indus", ciso[0])
                } else {
                    ("karakoram", ciso[1])
                };
                let kpi = ["CR-01", "LG-01"][*kpi];
                let period = format!("2026-{month:02}");
                let mut body = submission(op, kpi, &period, &format!("{i}.5"));
                // Supersede the current submission of that period, if any.
                let state = b.ledger.ledger().state(None);
                let _ = state;
                let current = b.ledger.entries().iter().rev().find(|e| {
                    let s = &e.entry().statement;
                    s.kind == "submission.filed"
                        && s.body["operator"] == op
                        && s.body["kpi"] == kpi
                        && s.body["period"] == period.as_str()
                });
                if let Some(current) = current {
                    body["supersedes"] = json!(current.event_hash());
                }
                if let Ok(h) = b.try_append(signer, "submission.filed", body) {
                    submissions.push(h);
                }
            }
            Op::Evaluate {
                pick: p,
                verdict,
                score,
            } => {
                let Some(p) = pick(*p, submissions.len()) else {
                    continue;
                };
                let verdict =
                    ["met", "partially_met", "not_met", "insufficient_evidence"][*verdict];
                let mut body = evaluation(submissions[p], verdict, *score);
                let previous = evaluations.iter().rev().find(|(e, _)| {
                    b.ledger.entries().iter().any(|x| {
                        x.event_hash() == *e
                            && x.entry().statement.body["submission"] == json!(submissions[p])
                    })
                });
                if let Some((e, _)) = previous {
                    body["supersedes"] = json!(e);
                }
                if let Ok(h) = b.try_append(seed::EVALUATOR, "evaluation.recorded", body.clone()) {
                    evaluations.push((h, true));
                } else if body.get("supersedes").is_some() {
                    body.as_object_mut().unwrap().remove("supersedes");
                    if let Ok(h) = b.try_append(seed::EVALUATOR, "evaluation.recorded", body) {
                        evaluations.push((h, true));
                    }
                }
            }
            Op::Dispute { pick: p } => {
                let Some(p) = pick(*p, evaluations.len()) else {
                    continue;
                };
                let id = format!("d{i}");
                for signer in ciso {
                    let body =
                        json!({"dispute": id, "evaluation": evaluations[p].0, "grounds": "g"});
                    if b.try_append(signer, "dispute.opened", body).is_ok() {
                        disputes.push(id.clone());
                        break;
                    }
                }
            }
            Op::Resolve { pick: p, overturn } => {
                let Some(p) = pick(*p, disputes.len()) else {
                    continue;
                };
                let as_of = b.ledger.size();
                let digest = b.ledger.state_at(as_of, None).unwrap().digest();
                let outcome = if *overturn { "overturned" } else { "upheld" };
                let _ = b.try_append(
                    seed::AUTHORITY,
                    "dispute.resolved",
                    json!({"dispute": disputes[p],
                    "outcome": outcome, "as_of": as_of, "state_digest": digest, "rationale": "r"}),
                );
            }
            Op::Commit { indus, days } => {
                let (op, signer) = if *indus {
                    ("indus", ciso[0])
                } else {
                    ("karakoram", ciso[1])
                };
                let id = format!("c{i}");
                let due =
                    hisaab_log::Date::from_days_since_epoch(20_758 + i64::from(*days)).unwrap();
                if b.try_append(
                    signer,
                    "commitment.made",
                    json!({"commitment": id, "operator": op, "action": "a", "due": due}),
                )
                .is_ok()
                {
                    commitments.push(id);
                }
            }
            Op::Close { pick: p, outcome } => {
                let Some(p) = pick(*p, commitments.len()) else {
                    continue;
                };
                let outcome = ["fulfilled", "missed", "withdrawn"][*outcome];
                let _ = b.try_append(
                    seed::CHAIR,
                    "commitment.closed",
                    json!({"commitment": commitments[p], "outcome": outcome, "note": ""}),
                );
            }
            Op::Rotate { indus } => {
                let (member, index) = if *indus {
                    ("ciso-indus", 0)
                } else {
                    ("ciso-karakoram", 1)
                };
                if b.try_append(
                    ciso[index],
                    "member.key_rotated",
                    json!({"member": member, "new_key": public_b64(next_key)}),
                )
                .is_ok()
                {
                    ciso[index] = next_key;
                }
                next_key += 1;
            }
            Op::Wait { days } => b.advance_days(i64::from(*days)),
        }
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, max_shrink_iters: 64, .. ProptestConfig::default() })]

    #[test]
    fn incremental_snapshot_and_scratch_replays_agree(ops in prop::collection::vec(op(), 1..24), cut in any::<prop::sample::Index>()) {
        let b = play(&ops);
        let entries = b.ledger.entries().to_vec();
        let incremental = b.ledger.ledger().state(None).digest();
        // From scratch, with snapshots every 4 entries.
        let scratch = from_scratch(&entries, 4);
        prop_assert_eq!(scratch.ledger().state(None).digest(), incremental);
        // From a snapshot at any cut.
        let k = cut.index(entries.len() + 1);
        prop_assert_eq!(via_snapshot(&entries, k).state(None).digest(), incremental);
        // As of any size, the memory ledger's snapshots agree with a fresh replay.
        let size = 1 + cut.index(entries.len()) as u64;
        let fresh = from_scratch(&entries[..usize::try_from(size).unwrap()], 1_000);
        prop_assert_eq!(scratch.state_at(size, None).unwrap(), fresh.ledger().state(None));
    }

    #[test]
    fn permuting_two_entries_is_refused_or_changes_the_chain(ops in prop::collection::vec(op(), 1..16), i in any::<prop::sample::Index>(), j in any::<prop::sample::Index>()) {
        let b = play(&ops);
        let entries = b.ledger.entries().to_vec();
        let (i, j) = (i.index(entries.len()), j.index(entries.len()));
        prop_assume!(i != j);
        // Swapped as they are: the chain breaks at the first swapped position.
        let mut swapped = entries.clone();
        swapped.swap(i, j);
        let mut m = MemoryLedger::new();
        let first = i.min(j) as u64;
        let err = swapped.into_iter().try_for_each(|e| m.append_unverified(e)).unwrap_err();
        prop_assert_eq!(err.seq, first);
        prop_assert_eq!(err.rule, Rule::Chain);
        // Re-sequenced (same statements, recorded_at kept in position order): refused, or a
        // different chain.
        let mut statements: Vec<Entry> = entries.iter().map(|e| e.entry().clone()).collect();
        let (ti, tj) = (statements[i].recorded_at.clone(), statements[j].recorded_at.clone());
        statements.swap(i, j);
        statements[i].recorded_at = ti;
        statements[j].recorded_at = tj;
        let mut m = MemoryLedger::new();
        let mut outcome = Ok(());
        for mut e in statements {
            e.seq = m.size();
            e.prev = m.ledger().last_event_hash();
            outcome = m.append_unverified(SealedEntry::seal(e).unwrap());
            if outcome.is_err() { break; }
        }
        if outcome.is_ok() {
            prop_assert_ne!(m.ledger().last_event_hash(), b.ledger.ledger().last_event_hash());
        }
    }
}

#[test]
fn memory_ledger_replays_from_doubling_snapshots() {
    let mut b = Builder::standard();
    b.ledger = from_scratch(b.ledger.entries(), 2);
    for i in 0..60 {
        b.append(
            seed::CHAIR,
            "challenge.raised",
            json!({"challenge": format!("ch{i}"), "pillar": "legal", "description": "d"}),
        );
    }
    let entries = b.ledger.entries().to_vec();
    for size in [1u64, 2, 3, 17, 40, 63, 79, 80] {
        let fresh = from_scratch(&entries[..usize::try_from(size).unwrap()], 1_000);
        assert_eq!(
            b.ledger.state_at(size, None).unwrap(),
            fresh.ledger().state(None),
            "size {size}"
        );
    }
    assert!(b.ledger.state_at(0, None).is_err());
    assert!(b.ledger.state_at(81, None).is_err());
}

#[test]
fn snapshots_round_trip_and_refuse_other_versions() {
    let b = Builder::standard();
    let bytes = b.ledger.ledger().to_snapshot();
    let back = Ledger::from_snapshot(&bytes).unwrap();
    assert_eq!(&back, b.ledger.ledger());
    assert_eq!(back.to_snapshot(), bytes);
    let line = format!("{}\n", hisaab_model::SNAPSHOT_FORMAT);
    assert!(bytes.starts_with(line.as_bytes()));
    let with_line = |line: &str| {
        let mut other = line.as_bytes().to_vec();
        other.extend_from_slice(&bytes[line.len()..]);
        other
    };
    // A snapshot of another format version, before or after, is refused and named, so the
    // store replays instead of resuming from it.
    for version in [
        "hisaab-model/ledger-snapshot/v11\n",
        "hisaab-model/ledger-snapshot/v9\n",
    ] {
        match Ledger::from_snapshot(&with_line(version)) {
            Err(SnapshotError::Version { found }) => assert_eq!(format!("{found}\n"), version),
            other => panic!("{version}: {other:?}"),
        }
    }
    // Damaged or trailing bytes, and a JSON snapshot of before, are refused.
    let mut trailing = bytes.clone();
    trailing.push(0xc0);
    assert!(matches!(
        Ledger::from_snapshot(&trailing),
        Err(SnapshotError::NotOneValue)
    ));
    assert!(matches!(
        Ledger::from_snapshot(&bytes[..bytes.len() - 1]),
        Err(SnapshotError::NotOneValue)
    ));
    // A field the ledger does not have (`sizz` for `size`), in a value of the right shape: an
    // unknown field is refused, as a missing one is.
    let at = line.len()
        + bytes[line.len()..]
            .windows(5)
            .position(|w| w == b"\xa4size")
            .unwrap();
    let mut unknown = bytes.clone();
    unknown[at + 4] = b'z';
    assert!(matches!(
        Ledger::from_snapshot(&unknown),
        Err(SnapshotError::Decode(_))
    ));
    let json = br#"{"format":"hisaab-model/ledger-snapshot/v6","ledger":{}}"#;
    assert!(matches!(
        Ledger::from_snapshot(json),
        Err(SnapshotError::Version { .. })
    ));
    assert!(Ledger::from_snapshot(b"{}").is_err());
}

#[test]
fn diff_names_what_changed_between_two_sizes() {
    let mut b = Builder::standard();
    let before = b.ledger.size();
    let s = b.append(
        seed::CISO_INDUS,
        "submission.filed",
        submission("indus", "CR-01", "2026-10", "97.5"),
    );
    b.append(
        seed::EVALUATOR,
        "evaluation.recorded",
        evaluation(s, "met", 80),
    );
    b.append(
        seed::CISO_INDUS,
        "commitment.made",
        json!({"commitment": "c1", "operator": "indus", "action": "a", "due": "2026-12-01"}),
    );
    b.append(
        seed::AUTHORITY,
        "member.revoked",
        json!({"member": "eval", "reason": "r"}),
    );
    // The target is revised: targets are versioned, and the diff shows the revision.
    b.append(
        seed::AUTHORITY,
        "kpi.assigned",
        json!({"kpi": "CR-01", "operator": "indus", "target": "97", "due": "2027-03-31",
            "first_period": "2026-01"}),
    );
    let a = b.ledger.state_at(before, None).unwrap();
    let z = b.ledger.state_at(b.ledger.size(), None).unwrap();
    let d = diff(&a, &z);
    assert!(d.changes.contains(&Change::KpiStatus {
        operator: hisaab_model::Slug::try_new("indus").unwrap(),
        kpi: hisaab_model::KpiId::try_new("CR-01").unwrap(),
        from: Some(KpiStatus::Pending),
        to: Some(KpiStatus::Met),
    }));
    let text = d.to_string();
    for line in [
        "`indus` CR-01: status pending → met",
        "`indus` CR-01: score — → 80",
        "`indus` pillar resilience: score — → 80",
        "`indus`: score — → 80",
        "sector resilience: score — → 80",
        "`indus` commitments: open 0, overdue 0, fulfilled 0, missed 0, withdrawn 0 → open 1,",
        "member `eval`: active",
        "`indus` CR-01: latest report — → 2026-10 = 97.5",
        "`indus` CR-01: assignment target 95, due 2026-12-31 → target 97, due 2027-03-31",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert!(diff(&z, &z).changes.is_empty());
    let json = serde_json::to_value(&d).unwrap();
    // For a KPI, its assignment comes first, then its status.
    assert_eq!(json["changes"][0]["change"], "kpi_assignment");
    assert_eq!(json["changes"][1]["change"], "kpi_status");
    // A KPI assigned between the two sizes reads as an assignment.
    let fresh = diff(&b.ledger.state_at(1, None).unwrap(), &z).to_string();
    assert!(
        fresh.contains("`indus` CR-01: assigned, target 97, due 2027-03-31"),
        "{fresh}"
    );
}
