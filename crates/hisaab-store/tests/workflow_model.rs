//! Model-based test of the accountability workflow through the store: random sequences of
//! KPI submissions (some superseding, some by the wrong CISO, some for a period not yet open),
//! evaluations (by an evaluator, the chair, an evaluator affiliated with the operator, a
//! CISO), disputes opened and resolved (with the right or a wrong state digest), commitments
//! made and closed, the clock moving by days across months, and reopens of the store (which
//! resume from snapshots of this rich state, taken every few entries).
//!
//! The oracle is a reference model written here from the text of SPEC §4.4–§5.6, sharing no
//! code with the production rules: it predicts whether each statement is accepted, and if not
//! under which rule, and what the state shows for every operator and KPI (latest submission,
//! current evaluation, status precedence, rounded scores, commitment and dispute counts).
//! Only the digest a `dispute.resolved` must carry is taken from the store (its state at the
//! size named), because computing it means building the whole §5 state; the golden vectors
//! check that digest independently.
//!
//! The seed is fixed, so runs are repeatable; `PROPTEST_CASES` and `PROPTEST_RNG_SEED` explore
//! further.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::model::{append_judged, Verdict};
use std::collections::BTreeMap;
use std::sync::Arc;

use hisaab_log::{Date, Envelope, Hash, SigningKey, Timestamp};
use hisaab_store::{Clock as _, ManualClock, Rule, Store, StoreConfig};
use hisaab_testkit::{fixture, key, seed};
use proptest::prelude::*;
use serde_json::{json, Value};
use tempfile::TempDir;

/// The operators of every run, each with its CISO's key seed.
const OPERATORS: [(&str, u8); 3] = [
    ("op-a", seed::CISO_INDUS),
    ("op-b", seed::CISO_KARAKORAM),
    ("op-c", 12),
];
/// The KPIs, each with its pillar; every KPI is assigned to every operator.
const KPIS: [(&str, &str); 3] = [
    ("CR-1", "resilience"),
    ("CR-2", "resilience"),
    ("PM-3", "monitoring"),
];
/// The due date of every assignment; the clock, starting on 2026-01-01, crosses it in most
/// runs.
const ASSIGNMENT_DUE: &str = "2026-02-28";
/// The namespace of the test's statement ids.
const NS: u32 = 7;
const DAY_MILLIS: i64 = 86_400_000;
const VERDICTS: [&str; 4] = ["met", "partially_met", "not_met", "insufficient_evidence"];
const OUTCOMES: [&str; 3] = ["fulfilled", "missed", "withdrawn"];

/// Who signs an evaluation.
#[derive(Clone, Copy, Debug)]
enum EvaluatedBy {
    /// The unaffiliated evaluator.
    Unaffiliated,
    /// The chair.
    Chair,
    /// The evaluator affiliated with `op-a`: a conflict of interest on `op-a`'s submissions.
    AffiliatedWithA,
    /// The CISO of the operator: not a role that may evaluate.
    Ciso,
}

#[derive(Clone, Debug)]
enum Op {
    /// A submission for the period `months_back` before the clock's month (`-1`: the next,
    /// not yet open, month); `supersede` names the current submission of the period, or a
    /// made-up one when there is none; `wrong_ciso` signs with the next operator's CISO.
    File {
        operator: u8,
        kpi: u8,
        months_back: i8,
        value: u16,
        supersede: bool,
        wrong_ciso: bool,
    },
    /// An evaluation of submission `pick` (of all filed, superseded ones included).
    Evaluate {
        pick: u16,
        verdict: u8,
        score: u8,
        supersede: bool,
        by: EvaluatedBy,
    },
    /// A dispute on evaluation `pick`, by the operator's CISO or the next operator's.
    OpenDispute { pick: u16, own_ciso: bool },
    /// The authority resolves dispute `pick`, with the digest of the state at the current
    /// size, or a wrong one.
    ResolveDispute {
        pick: u16,
        overturn: bool,
        right_digest: bool,
    },
    /// A commitment of an operator, due `due_days` after the clock's date.
    Commit { operator: u8, due_days: u8 },
    /// The evaluator closes commitment `pick`.
    Close { pick: u16, outcome: u8 },
    /// The clock moves forward.
    Advance { days: u8 },
    /// Closes the store and opens it again.
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    let by = prop_oneof![
        4 => Just(EvaluatedBy::Unaffiliated),
        2 => Just(EvaluatedBy::Chair),
        1 => Just(EvaluatedBy::AffiliatedWithA),
        1 => Just(EvaluatedBy::Ciso),
    ];
    prop_oneof![
        8 => (0u8..3, 0u8..3, -1i8..3, 0u16..200, prop::bool::weighted(0.4), prop::bool::weighted(0.1))
            .prop_map(|(operator, kpi, months_back, value, supersede, wrong_ciso)| Op::File {
                operator, kpi, months_back, value, supersede, wrong_ciso,
            }),
        6 => (any::<u16>(), 0u8..4, 0u8..=100, prop::bool::weighted(0.3), by).prop_map(
            |(pick, verdict, score, supersede, by)| Op::Evaluate { pick, verdict, score, supersede, by }
        ),
        2 => (any::<u16>(), prop::bool::weighted(0.85))
            .prop_map(|(pick, own_ciso)| Op::OpenDispute { pick, own_ciso }),
        2 => (any::<u16>(), any::<bool>(), prop::bool::weighted(0.85)).prop_map(
            |(pick, overturn, right_digest)| Op::ResolveDispute { pick, overturn, right_digest }
        ),
        2 => (0u8..3, 0u8..60).prop_map(|(operator, due_days)| Op::Commit { operator, due_days }),
        1 => (any::<u16>(), 0u8..3).prop_map(|(pick, outcome)| Op::Close { pick, outcome }),
        2 => (1u8..40).prop_map(|days| Op::Advance { days }),
        1 => Just(Op::Reopen),
    ]
}

/// A submission in the reference model.
struct Submission {
    hash: Hash,
    operator: usize,
    kpi: usize,
    period: (u16, u8),
    value: String,
    superseded: bool,
    /// Index into `Reference::evaluations` of its effective evaluation.
    effective: Option<usize>,
}

struct Evaluation {
    hash: Hash,
    submission: usize,
    verdict: &'static str,
    score: u8,
    superseded: bool,
    overturned: bool,
    open_dispute: bool,
}

struct Dispute {
    id: String,
    evaluation: usize,
    /// `None` while open.
    outcome: Option<&'static str>,
}

struct Commitment {
    id: String,
    operator: usize,
    due: Date,
    outcome: Option<&'static str>,
}

/// The reference model: what SPEC §4.4–§5.6 say the ledger holds, kept by hand.
#[derive(Default)]
struct Reference {
    submissions: Vec<Submission>,
    evaluations: Vec<Evaluation>,
    disputes: Vec<Dispute>,
    commitments: Vec<Commitment>,
    /// The non-superseded submission of each (operator, KPI, period).
    current: BTreeMap<(usize, usize, (u16, u8)), usize>,
}

/// What the reference model predicts for a statement: accepted (and what to record once its
/// event hash is known), or refused under a rule.
enum Effect {
    Filed {
        operator: usize,
        kpi: usize,
        period: (u16, u8),
        value: String,
        supersedes: Option<usize>,
    },
    Evaluated {
        submission: usize,
        verdict: &'static str,
        score: u8,
        supersedes: Option<usize>,
    },
    DisputeOpened {
        id: String,
        evaluation: usize,
    },
    DisputeResolved {
        dispute: usize,
        outcome: &'static str,
    },
    Committed {
        id: String,
        operator: usize,
        due: Date,
    },
    Closed {
        commitment: usize,
        outcome: &'static str,
    },
}

impl Reference {
    fn apply(&mut self, effect: Effect, hash: Hash) {
        match effect {
            Effect::Filed {
                operator,
                kpi,
                period,
                value,
                supersedes,
            } => {
                if let Some(old) = supersedes {
                    self.submissions[old].superseded = true;
                }
                self.current
                    .insert((operator, kpi, period), self.submissions.len());
                self.submissions.push(Submission {
                    hash,
                    operator,
                    kpi,
                    period,
                    value,
                    superseded: false,
                    effective: None,
                });
            }
            Effect::Evaluated {
                submission,
                verdict,
                score,
                supersedes,
            } => {
                if let Some(old) = supersedes {
                    self.evaluations[old].superseded = true;
                }
                self.submissions[submission].effective = Some(self.evaluations.len());
                self.evaluations.push(Evaluation {
                    hash,
                    submission,
                    verdict,
                    score,
                    superseded: false,
                    overturned: false,
                    open_dispute: false,
                });
            }
            Effect::DisputeOpened { id, evaluation } => {
                self.evaluations[evaluation].open_dispute = true;
                self.disputes.push(Dispute {
                    id,
                    evaluation,
                    outcome: None,
                });
            }
            Effect::DisputeResolved { dispute, outcome } => {
                let evaluation = self.disputes[dispute].evaluation;
                self.disputes[dispute].outcome = Some(outcome);
                self.evaluations[evaluation].open_dispute = false;
                if outcome == "overturned" {
                    self.evaluations[evaluation].overturned = true;
                    let submission = self.evaluations[evaluation].submission;
                    if self.submissions[submission].effective == Some(evaluation) {
                        self.submissions[submission].effective = None;
                    }
                }
            }
            Effect::Committed { id, operator, due } => self.commitments.push(Commitment {
                id,
                operator,
                due,
                outcome: None,
            }),
            Effect::Closed {
                commitment,
                outcome,
            } => self.commitments[commitment].outcome = Some(outcome),
        }
    }

    /// The `operators` and `sector` members of the §5 state at date `at`, built from this
    /// model alone.
    fn operators_and_sector(&self, at: Date) -> (Value, Value) {
        let mut sector: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
        let mut operators = serde_json::Map::new();
        for (o, (operator, _)) in OPERATORS.iter().enumerate() {
            let mut kpis = serde_json::Map::new();
            let mut pillar_scores: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
            for (k, (kpi, pillar)) in KPIS.iter().enumerate() {
                let live = || {
                    self.submissions
                        .iter()
                        .filter(move |s| s.operator == o && s.kpi == k && !s.superseded)
                };
                let latest = live().max_by_key(|s| s.period);
                let evaluated = live()
                    .filter(|s| s.effective.is_some())
                    .max_by_key(|s| s.period);
                let current = evaluated.map(|s| &self.evaluations[s.effective.unwrap()]);
                let disputed = self.disputes.iter().any(|d| {
                    let e = &self.evaluations[d.evaluation];
                    let s = &self.submissions[e.submission];
                    d.outcome.is_none() && s.operator == o && s.kpi == k && !s.superseded
                });
                let due = Date::try_parse(ASSIGNMENT_DUE).unwrap();
                let status = if disputed {
                    "disputed"
                } else if current.is_some_and(|e| e.verdict == "met") {
                    "met"
                } else if at > due {
                    "overdue"
                } else if latest.is_some_and(|s| s.effective.is_none()) {
                    "submitted"
                } else if let Some(e) = current {
                    e.verdict
                } else {
                    "pending"
                };
                if let Some(e) = current {
                    pillar_scores.entry(pillar).or_default().push(e.score);
                }
                kpis.insert(
                    (*kpi).to_owned(),
                    json!({
                        "pillar": pillar,
                        "target": "90",
                        "baseline": if k == 0 { json!("70") } else { Value::Null },
                        "due": ASSIGNMENT_DUE,
                        "first_period": "2026-01",
                        "latest_submission": latest.map(|s| s.hash.to_hex()),
                        "period": latest.map(|s| period_text(s.period)),
                        "value": latest.map(|s| s.value.clone()),
                        "evaluation": current.map(|e| e.hash.to_hex()),
                        "verdict": current.map(|e| e.verdict),
                        "score": current.map(|e| e.score),
                        "status": status,
                    }),
                );
            }
            let pillars: BTreeMap<&str, Option<u8>> = PILLARS
                .iter()
                .map(|p| (*p, pillar_scores.get(p).map(|s| rounded_mean(s))))
                .collect();
            for (pillar, score) in &pillars {
                sector.entry(pillar).or_default().extend(score);
            }
            let present: Vec<u8> = pillars.values().flatten().copied().collect();
            let score = (!present.is_empty()).then(|| rounded_mean(&present));
            let mut commitments = BTreeMap::from([
                ("open", 0),
                ("overdue", 0),
                ("fulfilled", 0),
                ("missed", 0),
                ("withdrawn", 0),
            ]);
            for c in self.commitments.iter().filter(|c| c.operator == o) {
                let counted = c
                    .outcome
                    .unwrap_or(if at > c.due { "overdue" } else { "open" });
                *commitments.get_mut(counted).unwrap() += 1;
            }
            let mut disputes = BTreeMap::from([("open", 0), ("upheld", 0), ("overturned", 0)]);
            for d in &self.disputes {
                let s = &self.submissions[self.evaluations[d.evaluation].submission];
                if s.operator == o {
                    *disputes.get_mut(d.outcome.unwrap_or("open")).unwrap() += 1;
                }
            }
            operators.insert(
                (*operator).to_owned(),
                json!({
                    "name": format!("Operator {operator}"),
                    "kpis": kpis,
                    "pillar_scores": pillars,
                    "score": score,
                    "commitments": commitments,
                    "disputes": disputes,
                }),
            );
        }
        let sector: BTreeMap<&str, Option<u8>> = sector
            .into_iter()
            .map(|(pillar, scores)| (pillar, (!scores.is_empty()).then(|| rounded_mean(&scores))))
            .collect();
        (Value::Object(operators), json!(sector))
    }
}

const PILLARS: [&str; 6] = [
    "legal",
    "resilience",
    "monitoring",
    "capacity",
    "cooperation",
    "awareness",
];

/// SPEC §5.5: `(2·S + n) div (2·n)`.
fn rounded_mean(scores: &[u8]) -> u8 {
    let n = u32::try_from(scores.len()).unwrap();
    let sum: u32 = scores.iter().map(|s| u32::from(*s)).sum();
    u8::try_from((2 * sum + n) / (2 * n)).unwrap()
}

fn period_text((year, month): (u16, u8)) -> String {
    format!("{year:04}-{month:02}")
}

/// The month `back` months before `(year, month)` (`back` may be negative).
fn months_before((year, month): (u16, u8), back: i8) -> (u16, u8) {
    let index = i32::from(year) * 12 + i32::from(month) - 1 - i32::from(back);
    (
        u16::try_from(index / 12).unwrap(),
        u8::try_from(index % 12 + 1).unwrap(),
    )
}

fn config() -> StoreConfig {
    StoreConfig {
        batch_entries_max: 4,
        snapshot_every: 5,
        snapshots_kept: 2,
        snapshot_archive_every: 20,
        checkpoints_kept: 4,
        tail_check_entries: 7,
        ..common::config()
    }
}

struct Run {
    _dir: TempDir,
    dir_path: std::path::PathBuf,
    clock: ManualClock,
    store: Option<Store>,
    ledger: Hash,
    next_id: u64,
    reference: Reference,
    at: String,
}

impl Run {
    /// A store with three operators, their CISOs, an evaluator, the chair, an evaluator
    /// affiliated with `op-a`, and both KPIs assigned to every operator.
    fn new() -> Run {
        let dir = tempfile::tempdir().unwrap();
        let (store, clock) = common::create(dir.path(), config());
        let ledger = common::ledger_id(&store);
        let mut run = Run {
            dir_path: dir.path().to_owned(),
            _dir: dir,
            clock,
            store: Some(store),
            ledger,
            next_id: 0,
            reference: Reference::default(),
            at: "setup".to_owned(),
        };
        let authority = fixture::authority_key();
        for (operator, ciso) in OPERATORS {
            let body = json!({"operator": operator, "name": format!("Operator {operator}")});
            run.setup("operator.registered", &authority, body);
            let body = json!({"member": format!("ciso-{operator}"), "name": "CISO",
                "roles": ["ciso"], "operator": operator, "key": hisaab_testkit::public_b64(ciso)});
            run.setup("member.enrolled", &authority, body);
        }
        for (member, roles, operator, seed) in [
            ("evaluator", "evaluator", None, seed::EVALUATOR),
            ("chair", "chair", None, seed::CHAIR),
            (
                "evaluator-a",
                "evaluator",
                Some("op-a"),
                seed::EVALUATOR_INDUS,
            ),
        ] {
            let mut body = json!({"member": member, "name": member, "roles": [roles],
                "key": hisaab_testkit::public_b64(seed)});
            if let Some(operator) = operator {
                body["operator"] = json!(operator);
            }
            run.setup("member.enrolled", &authority, body);
        }
        for (k, (kpi, pillar)) in KPIS.iter().enumerate() {
            let body = json!({"kpi": kpi, "pillar": pillar, "title": format!("KPI {kpi}"),
                "unit": "percent", "direction": "higher_is_better", "cadence": "monthly",
                "evidence_required": false});
            run.setup("kpi.defined", &authority, body);
            for (operator, _) in OPERATORS {
                let mut body = json!({"kpi": kpi, "operator": operator, "target": "90",
                    "due": ASSIGNMENT_DUE, "first_period": "2026-01"});
                if k == 0 {
                    body["baseline"] = json!("70");
                }
                run.setup("kpi.assigned", &authority, body);
            }
        }
        run
    }

    fn store(&self) -> &Store {
        self.store.as_ref().expect("a store is open")
    }

    fn envelope(&mut self, kind: &str, key: &SigningKey, body: Value) -> Envelope {
        self.next_id += 1;
        fixture::statement_in(self.ledger, NS, self.next_id, kind, key, body).unwrap()
    }

    fn setup(&mut self, kind: &str, key: &SigningKey, body: Value) {
        let envelope = self.envelope(kind, key, body);
        self.store().append_blocking(envelope).unwrap();
    }

    fn today(&self) -> Date {
        Timestamp::from_unix_millis(self.clock.now_unix_millis())
            .unwrap()
            .date()
    }

    fn ciso(operator: usize) -> SigningKey {
        key(OPERATORS[operator % OPERATORS.len()].1)
    }

    /// The statement an operation submits and the reference model's verdict on it; `None`
    /// for operations that submit nothing.
    fn statement(&mut self, op: &Op) -> Option<(Envelope, Verdict<Effect>)> {
        let reference = &self.reference;
        let (kind, key, body, verdict) = match *op {
            Op::File {
                operator,
                kpi,
                months_back,
                value,
                supersede,
                wrong_ciso,
            } => {
                let (o, k) = (usize::from(operator), usize::from(kpi));
                let today = self.today();
                let period = months_before((today.year(), today.month()), months_back);
                let current = reference.current.get(&(o, k, period)).copied();
                let value = format!("{}.{}", value / 2, (value % 2) * 5);
                let mut body = json!({"operator": OPERATORS[o].0, "kpi": KPIS[k].0,
                    "period": period_text(period), "value": value, "evidence": [], "note": ""});
                if supersede {
                    let named = current.map_or_else(
                        || Hash::sha256(b"no such submission"),
                        |c| reference.submissions[c].hash,
                    );
                    body["supersedes"] = json!(named.to_hex());
                }
                let verdict = if wrong_ciso {
                    Verdict::Refuse(Rule::Permission)
                } else if period < (2026, 1) || months_back < 0 || supersede != current.is_some() {
                    Verdict::Refuse(Rule::Reference)
                } else {
                    Verdict::Accept(Effect::Filed {
                        operator: o,
                        kpi: k,
                        period,
                        value,
                        supersedes: current,
                    })
                };
                let signer = Self::ciso(o + usize::from(wrong_ciso));
                ("submission.filed", signer, body, verdict)
            }
            Op::Evaluate {
                pick,
                verdict,
                score,
                supersede,
                by,
            } => {
                if reference.submissions.is_empty() {
                    return None;
                }
                let s = usize::from(pick) % reference.submissions.len();
                let submission = &reference.submissions[s];
                let verdict_text = VERDICTS[usize::from(verdict)];
                let mut body = json!({"submission": submission.hash.to_hex(),
                    "verdict": verdict_text, "score": score, "rationale": "Reviewed."});
                if supersede {
                    let named = submission.effective.map_or_else(
                        || Hash::sha256(b"no such evaluation"),
                        |e| reference.evaluations[e].hash,
                    );
                    body["supersedes"] = json!(named.to_hex());
                }
                let (signer, refusal) = match by {
                    EvaluatedBy::Unaffiliated => (key(seed::EVALUATOR), None),
                    EvaluatedBy::Chair => (key(seed::CHAIR), None),
                    EvaluatedBy::AffiliatedWithA => (
                        key(seed::EVALUATOR_INDUS),
                        (submission.operator == 0).then_some(Rule::ConflictOfInterest),
                    ),
                    EvaluatedBy::Ciso => (Self::ciso(submission.operator), Some(Rule::Permission)),
                };
                let verdict = match refusal {
                    Some(rule) => Verdict::Refuse(rule),
                    None if submission.superseded
                        || supersede != submission.effective.is_some() =>
                    {
                        Verdict::Refuse(Rule::Reference)
                    }
                    None => Verdict::Accept(Effect::Evaluated {
                        submission: s,
                        verdict: verdict_text,
                        score,
                        supersedes: submission.effective,
                    }),
                };
                ("evaluation.recorded", signer, body, verdict)
            }
            Op::OpenDispute { pick, own_ciso } => {
                if reference.evaluations.is_empty() {
                    return None;
                }
                let e = usize::from(pick) % reference.evaluations.len();
                let evaluation = &reference.evaluations[e];
                let submission = &reference.submissions[evaluation.submission];
                let id = format!("d-{}", self.next_id + 1);
                let body = json!({"dispute": id, "evaluation": evaluation.hash.to_hex(),
                    "grounds": "The evidence was not read."});
                let verdict = if !own_ciso {
                    Verdict::Refuse(Rule::Permission)
                } else if evaluation.superseded
                    || evaluation.overturned
                    || submission.superseded
                    || evaluation.open_dispute
                {
                    Verdict::Refuse(Rule::Reference)
                } else {
                    Verdict::Accept(Effect::DisputeOpened { id, evaluation: e })
                };
                let signer = Self::ciso(submission.operator + usize::from(!own_ciso));
                ("dispute.opened", signer, body, verdict)
            }
            Op::ResolveDispute {
                pick,
                overturn,
                right_digest,
            } => {
                if reference.disputes.is_empty() {
                    return None;
                }
                let d = usize::from(pick) % reference.disputes.len();
                let dispute = &reference.disputes[d];
                let size = self.store().size();
                let digest = if right_digest {
                    self.store().state(Some(size), None).unwrap().digest
                } else {
                    Hash::sha256(b"some other state")
                };
                let outcome = if overturn { "overturned" } else { "upheld" };
                let body = json!({"dispute": dispute.id, "outcome": outcome, "as_of": size,
                    "state_digest": digest.to_hex(), "rationale": "Decided."});
                let verdict = if dispute.outcome.is_some() || !right_digest {
                    Verdict::Refuse(Rule::Reference)
                } else {
                    Verdict::Accept(Effect::DisputeResolved {
                        dispute: d,
                        outcome,
                    })
                };
                ("dispute.resolved", fixture::authority_key(), body, verdict)
            }
            Op::Commit { operator, due_days } => {
                let o = usize::from(operator);
                let due = Timestamp::from_unix_millis(
                    self.clock.now_unix_millis() + i64::from(due_days) * DAY_MILLIS,
                )
                .unwrap()
                .date();
                let id = format!("c-{}", self.next_id + 1);
                let body = json!({"commitment": id, "operator": OPERATORS[o].0,
                    "action": "Patch the exposed systems.", "due": due.to_string()});
                let verdict = Verdict::Accept(Effect::Committed {
                    id,
                    operator: o,
                    due,
                });
                ("commitment.made", Self::ciso(o), body, verdict)
            }
            Op::Close { pick, outcome } => {
                if reference.commitments.is_empty() {
                    return None;
                }
                let c = usize::from(pick) % reference.commitments.len();
                let commitment = &reference.commitments[c];
                let outcome = OUTCOMES[usize::from(outcome)];
                let body = json!({"commitment": commitment.id, "outcome": outcome,
                    "note": "Checked."});
                let verdict = if commitment.outcome.is_some() {
                    Verdict::Refuse(Rule::Reference)
                } else {
                    Verdict::Accept(Effect::Closed {
                        commitment: c,
                        outcome,
                    })
                };
                ("commitment.closed", key(seed::EVALUATOR), body, verdict)
            }
            Op::Advance { .. } | Op::Reopen => return None,
        };
        Some((self.envelope(kind, &key, body), verdict))
    }

    fn step(&mut self, n: usize, op: &Op) -> Result<(), TestCaseError> {
        self.at = format!("step {n}: {op:?} (size {})", self.store().size());
        self.clock.advance(1000);
        match *op {
            Op::Advance { days } => self.clock.advance(i64::from(days) * DAY_MILLIS),
            Op::Reopen => {
                self.store.take().unwrap().close().unwrap();
                let clock = Arc::new(self.clock.clone());
                self.store = Some(
                    Store::open(&self.dir_path, fixture::log_key(), config(), clock)
                        .map_err(|e| TestCaseError::fail(format!("{}: reopen: {e}", self.at)))?,
                );
            }
            _ => {
                let Some((envelope, verdict)) = self.statement(op) else {
                    return Ok(());
                };
                if let Some((effect, appended)) =
                    append_judged(self.store(), &self.at, envelope, verdict)?
                {
                    prop_assert!(appended.created, "{}: not created", self.at);
                    self.reference.apply(effect, appended.receipt.event_hash);
                }
            }
        }
        self.check_state()
    }

    /// The store's state today equals the reference model's, operator by operator.
    fn check_state(&self) -> Result<(), TestCaseError> {
        let at = self.today();
        let state = self.store().state(None, Some(at)).unwrap();
        let state = serde_json::to_value(&state).unwrap();
        let (expected, sector) = self.reference.operators_and_sector(at);
        prop_assert_eq!(&state["sector"], &sector, "{}: sector at {}", &self.at, at);
        for (operator, _) in OPERATORS {
            prop_assert_eq!(
                &state["operators"][operator],
                &expected[operator],
                "{}: operator {} at {}",
                &self.at,
                operator,
                at
            );
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(common::model::proptest_config(0x5eed_f10e))]

    /// Every answer of the store (accepted, or refused under the rule the reference names)
    /// and every operator's state after each step agree with the reference model.
    #[test]
    fn the_workflow_agrees_with_a_reference_model(ops in prop::collection::vec(op(), 1..80)) {
        let mut run = Run::new();
        for (n, op) in ops.iter().enumerate() {
            run.step(n, op)?;
        }
        run.store.take().unwrap().close().unwrap();
    }
}
