//! Model-based test of format 2's cycle through the store (SPEC §11.7–§11.9): random
//! sequences of action items assigned (to a member or an operator, some naming no recorded
//! meeting), closed (by the owner, the chair, or someone else; some twice), commitments made,
//! extended (later, not later, or once closed) and closed, escalations of actions and
//! commitments (missed or not), challenges of the register raised with an owner and a due
//! date and measures against them (SPEC §11.12), an operator leaving the task force, the clock
//! moving by days, and reopens of the store.
//!
//! The oracle is a reference model written here from the text of SPEC §11.7–§11.9 and §11.12,
//! sharing no code with the production rules: it predicts whether each statement is accepted,
//! and if not under which rule, and what the state's `cycle` shows for every action, extended
//! commitment and challenge, and which actions and challenges are owed on the clock's date.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::model::{append_judged, Verdict};
use std::sync::Arc;

use hisaab_log::{Date, Envelope, Hash, SigningKey, Timestamp};
use hisaab_store::{Clock as _, ManualClock, Rule, Store};
use hisaab_testkit::{fixture, key, seed};
use proptest::prelude::*;
use serde_json::{json, Value};
use tempfile::TempDir;

/// The operators, each with its CISO's seed.
const OPERATORS: [(&str, u8); 2] = [("op-a", seed::CISO_INDUS), ("op-b", seed::CISO_KARAKORAM)];
/// The members who may own actions, with their seeds.
const MEMBERS: [(&str, u8); 2] = [("evaluator", seed::EVALUATOR), ("chair", seed::CHAIR)];
const NS: u32 = 9;
const DAY_MILLIS: i64 = 86_400_000;

#[derive(Clone, Copy, Debug)]
enum Closer {
    Owner,
    Chair,
    /// The CISO of the other operator: neither owner nor chair (unless the owner is it).
    Other,
}

#[derive(Clone, Debug)]
enum Op {
    /// An action of meeting `m` (or of a meeting never recorded), owned by member or operator
    /// `owner`, due `due_days` after today.
    Assign {
        owner: u8,
        to_operator: bool,
        due_days: u8,
        unknown_meeting: bool,
    },
    /// Closes action `pick` as done or missed.
    CloseAction {
        pick: u16,
        done: bool,
        by: Closer,
    },
    /// A commitment of operator `operator`, due `due_days` after today.
    Commit {
        operator: u8,
        due_days: u8,
    },
    /// The chair moves commitment `pick`'s due date by `days` (0: not later).
    Extend {
        pick: u16,
        days: u8,
    },
    /// The evaluator closes commitment `pick` as fulfilled.
    Fulfil {
        pick: u16,
    },
    /// The authority escalates action `pick` (or commitment `pick`).
    Escalate {
        pick: u16,
        commitment: bool,
    },
    /// The chair raises a challenge owned by member or operator `owner`, due `due_days` after
    /// today.
    Raise {
        owner: u8,
        to_operator: bool,
        due_days: u8,
    },
    /// A measure against challenge `pick`, taken by its owner, signed by the owner or the
    /// chair.
    Measure {
        pick: u16,
        by_chair: bool,
    },
    /// The authority records that operator `operator` left the task force.
    Leave {
        operator: u8,
    },
    Advance {
        days: u8,
    },
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..2, any::<bool>(), 0u8..40, prop::bool::weighted(0.1)).prop_map(
            |(owner, to_operator, due_days, unknown_meeting)| Op::Assign {
                owner, to_operator, due_days, unknown_meeting
            }
        ),
        2 => (any::<u16>(), any::<bool>(), prop_oneof![
            Just(Closer::Owner), Just(Closer::Chair), Just(Closer::Other)
        ]).prop_map(|(pick, done, by)| Op::CloseAction { pick, done, by }),
        2 => (0u8..2, 0u8..40).prop_map(|(operator, due_days)| Op::Commit { operator, due_days }),
        2 => (any::<u16>(), 0u8..30).prop_map(|(pick, days)| Op::Extend { pick, days }),
        1 => any::<u16>().prop_map(|pick| Op::Fulfil { pick }),
        2 => (any::<u16>(), any::<bool>())
            .prop_map(|(pick, commitment)| Op::Escalate { pick, commitment }),
        2 => (0u8..2, any::<bool>(), 0u8..40).prop_map(|(owner, to_operator, due_days)| {
            Op::Raise { owner, to_operator, due_days }
        }),
        2 => (any::<u16>(), any::<bool>()).prop_map(|(pick, by_chair)| Op::Measure {
            pick, by_chair
        }),
        1 => (0u8..2).prop_map(|operator| Op::Leave { operator }),
        2 => (1u8..20).prop_map(|days| Op::Advance { days }),
        1 => Just(Op::Reopen),
    ]
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Owner {
    Member(usize),
    Operator(usize),
}

struct Action {
    id: String,
    owner: Owner,
    due: Date,
    closed: Option<&'static str>,
    escalated: bool,
}

struct Challenge {
    id: String,
    owner: Owner,
    due: Date,
    measures: usize,
}

struct Commitment {
    id: String,
    operator: usize,
    original_due: Date,
    due: Date,
    extensions: usize,
    closed: bool,
    escalated: bool,
}

#[derive(Default)]
struct Reference {
    actions: Vec<Action>,
    commitments: Vec<Commitment>,
    challenges: Vec<Challenge>,
    /// Whether each operator left the task force.
    left: [bool; 2],
}

impl Reference {
    /// Whether `owner` is an operator that left.
    fn gone(&self, owner: Owner) -> bool {
        matches!(owner, Owner::Operator(o) if self.left[o])
    }
}

enum Effect {
    Assigned(Action),
    Closed(usize, &'static str),
    Committed(Commitment),
    Extended(usize, Date),
    Fulfilled(usize),
    EscalatedAction(usize),
    EscalatedCommitment(usize),
    Raised(Challenge),
    Measured(usize),
    Left(usize),
}

impl Reference {
    fn apply(&mut self, effect: Effect) {
        match effect {
            Effect::Assigned(action) => self.actions.push(action),
            Effect::Closed(a, outcome) => self.actions[a].closed = Some(outcome),
            Effect::Committed(commitment) => self.commitments.push(commitment),
            Effect::Extended(c, due) => {
                self.commitments[c].due = due;
                self.commitments[c].extensions += 1;
            }
            Effect::Fulfilled(c) => self.commitments[c].closed = true,
            Effect::EscalatedAction(a) => self.actions[a].escalated = true,
            Effect::EscalatedCommitment(c) => self.commitments[c].escalated = true,
            Effect::Raised(challenge) => self.challenges.push(challenge),
            Effect::Measured(c) => self.challenges[c].measures += 1,
            Effect::Left(o) => self.left[o] = true,
        }
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

/// Owner `index` among the operators or the members, and its JSON.
fn owner_of(index: u8, to_operator: bool) -> (Owner, Value) {
    let i = usize::from(index);
    if to_operator {
        (Owner::Operator(i), json!({"operator": OPERATORS[i].0}))
    } else {
        (Owner::Member(i), json!({"member": MEMBERS[i].0}))
    }
}

fn days_after(date: Date, days: u8) -> Date {
    date.plus_days(i64::from(days)).unwrap()
}

impl Run {
    fn new() -> Run {
        let dir = tempfile::tempdir().unwrap();
        let clock = common::clock();
        let store = Store::create(
            dir.path(),
            fixture::genesis_of_format(2).unwrap(),
            fixture::log_key(),
            common::config(),
            Arc::new(clock.clone()),
        )
        .unwrap();
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
        for (member, seed) in MEMBERS {
            let role = if member == "chair" {
                "chair"
            } else {
                "evaluator"
            };
            let body = json!({"member": member, "name": member, "roles": [role],
                "key": hisaab_testkit::public_b64(seed)});
            run.setup("member.enrolled", &authority, body);
        }
        let today = run.today().to_string();
        let body = json!({"meeting": "m-1", "held_on": today, "attendees": ["chair"],
            "minutes_sha256": Hash::sha256(b"minutes"), "decisions": []});
        run.setup("meeting.recorded", &key(seed::CHAIR), body);
        run
    }

    fn store(&self) -> &Store {
        self.store.as_ref().expect("a store is open")
    }

    fn envelope(&mut self, kind: &str, key: &SigningKey, body: Value) -> Envelope {
        self.next_id += 1;
        fixture::statement_in_format(2, self.ledger, NS, self.next_id, kind, key, body).unwrap()
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

    fn statement(&mut self, op: &Op) -> Option<(Envelope, Verdict<Effect>)> {
        let today = self.today();
        let reference = &self.reference;
        let (kind, signer, body, verdict) = match *op {
            Op::Assign {
                owner,
                to_operator,
                due_days,
                unknown_meeting,
            } => {
                let id = format!("a-{}", self.next_id + 1);
                let due = days_after(today, due_days);
                let (owner, owner_json) = owner_of(owner, to_operator);
                let meeting = if unknown_meeting { "m-never" } else { "m-1" };
                let body = json!({"action": id, "meeting": meeting, "owner": owner_json,
                    "due": due.to_string(), "text": "Send the figures."});
                let verdict = if unknown_meeting || reference.gone(owner) {
                    Verdict::Refuse(Rule::Reference)
                } else {
                    Verdict::Accept(Effect::Assigned(Action {
                        id,
                        owner,
                        due,
                        closed: None,
                        escalated: false,
                    }))
                };
                ("action.assigned", key(seed::CHAIR), body, verdict)
            }
            Op::CloseAction { pick, done, by } => {
                if reference.actions.is_empty() {
                    return None;
                }
                let a = usize::from(pick) % reference.actions.len();
                let action = &reference.actions[a];
                let outcome = if done { "done" } else { "missed" };
                let (signer, may) = match (by, action.owner) {
                    (Closer::Chair, _) => (key(seed::CHAIR), true),
                    (Closer::Owner, Owner::Member(m)) => (key(MEMBERS[m].1), true),
                    (Closer::Owner, Owner::Operator(o)) => (key(OPERATORS[o].1), true),
                    // The CISO of op-b: the owner only of op-b's actions.
                    (Closer::Other, owner) => (key(OPERATORS[1].1), owner == Owner::Operator(1)),
                };
                let body = json!({"action": action.id, "outcome": outcome, "note": ""});
                // The CISO of an operator that left signs nothing (rule 2a comes first).
                let ciso_gone = match (by, action.owner) {
                    (Closer::Owner, Owner::Operator(o)) => reference.left[o],
                    (Closer::Other, _) => reference.left[1],
                    _ => false,
                };
                let verdict = if ciso_gone {
                    Verdict::Refuse(Rule::Signer)
                } else if !may {
                    Verdict::Refuse(Rule::Permission)
                } else if action.closed.is_some() {
                    Verdict::Refuse(Rule::Reference)
                } else {
                    Verdict::Accept(Effect::Closed(a, outcome))
                };
                ("action.closed", signer, body, verdict)
            }
            Op::Commit { operator, due_days } => {
                let o = usize::from(operator);
                let id = format!("c-{}", self.next_id + 1);
                let due = days_after(today, due_days);
                let body = json!({"commitment": id, "operator": OPERATORS[o].0,
                    "action": "Patch.", "due": due.to_string()});
                let verdict = if reference.left[o] {
                    Verdict::Refuse(Rule::Signer)
                } else {
                    Verdict::Accept(Effect::Committed(Commitment {
                        id,
                        operator: o,
                        original_due: due,
                        due,
                        extensions: 0,
                        closed: false,
                        escalated: false,
                    }))
                };
                ("commitment.made", key(OPERATORS[o].1), body, verdict)
            }
            Op::Extend { pick, days } => {
                if reference.commitments.is_empty() {
                    return None;
                }
                let c = usize::from(pick) % reference.commitments.len();
                let commitment = &reference.commitments[c];
                let due = days_after(commitment.due, days);
                let body = json!({"commitment": commitment.id, "due": due.to_string(),
                    "reason": "The vendor is late."});
                let verdict = if commitment.closed || days == 0 {
                    Verdict::Refuse(Rule::Reference)
                } else {
                    Verdict::Accept(Effect::Extended(c, due))
                };
                ("commitment.extended", key(seed::CHAIR), body, verdict)
            }
            Op::Fulfil { pick } => {
                if reference.commitments.is_empty() {
                    return None;
                }
                let c = usize::from(pick) % reference.commitments.len();
                let commitment = &reference.commitments[c];
                let body = json!({"commitment": commitment.id, "outcome": "fulfilled",
                    "note": ""});
                let verdict = if commitment.closed {
                    Verdict::Refuse(Rule::Reference)
                } else {
                    Verdict::Accept(Effect::Fulfilled(c))
                };
                ("commitment.closed", key(seed::EVALUATOR), body, verdict)
            }
            Op::Escalate { pick, commitment } => {
                let id = format!("e-{}", self.next_id + 1);
                if commitment {
                    if reference.commitments.is_empty() {
                        return None;
                    }
                    let c = usize::from(pick) % reference.commitments.len();
                    let item = &reference.commitments[c];
                    // What an operator that left still owed is closed as left, not missed.
                    let missed = !item.closed && item.due < today && !reference.left[item.operator];
                    let body = json!({"escalation": id, "item": {"commitment": item.id},
                        "reason": "Missed."});
                    let verdict = if item.escalated || !missed {
                        Verdict::Refuse(Rule::Reference)
                    } else {
                        Verdict::Accept(Effect::EscalatedCommitment(c))
                    };
                    (
                        "escalation.recorded",
                        fixture::authority_key(),
                        body,
                        verdict,
                    )
                } else {
                    if reference.actions.is_empty() {
                        return None;
                    }
                    let a = usize::from(pick) % reference.actions.len();
                    let item = &reference.actions[a];
                    let missed = item.closed == Some("missed")
                        || (item.closed.is_none()
                            && item.due < today
                            && !reference.gone(item.owner));
                    let body = json!({"escalation": id, "item": {"action": item.id},
                        "reason": "Missed."});
                    let verdict = if item.escalated || !missed {
                        Verdict::Refuse(Rule::Reference)
                    } else {
                        Verdict::Accept(Effect::EscalatedAction(a))
                    };
                    (
                        "escalation.recorded",
                        fixture::authority_key(),
                        body,
                        verdict,
                    )
                }
            }
            Op::Raise {
                owner,
                to_operator,
                due_days,
            } => {
                let id = format!("ch-{}", self.next_id + 1);
                let due = days_after(today, due_days);
                let (owner, owner_json) = owner_of(owner, to_operator);
                let body = json!({"challenge": id, "pillar": "capacity", "owner": owner_json,
                    "due": due.to_string(), "severity": "high", "description": "Too few."});
                let verdict = if reference.gone(owner) {
                    Verdict::Refuse(Rule::Reference)
                } else {
                    Verdict::Accept(Effect::Raised(Challenge {
                        id,
                        owner,
                        due,
                        measures: 0,
                    }))
                };
                ("challenge.raised", key(seed::CHAIR), body, verdict)
            }
            Op::Measure { pick, by_chair } => {
                if reference.challenges.is_empty() {
                    return None;
                }
                let c = usize::from(pick) % reference.challenges.len();
                let challenge = &reference.challenges[c];
                let (by, signer) = match challenge.owner {
                    Owner::Member(m) => (json!({"member": MEMBERS[m].0}), MEMBERS[m].1),
                    Owner::Operator(o) => (json!({"operator": OPERATORS[o].0}), OPERATORS[o].1),
                };
                let signer = if by_chair { seed::CHAIR } else { signer };
                let body = json!({"challenge": challenge.id, "by": by, "measure": "Hired."});
                let gone = reference.gone(challenge.owner);
                let verdict = if gone && !by_chair {
                    Verdict::Refuse(Rule::Signer)
                } else if gone {
                    Verdict::Refuse(Rule::Reference)
                } else {
                    Verdict::Accept(Effect::Measured(c))
                };
                ("challenge.measure_recorded", key(signer), body, verdict)
            }
            Op::Leave { operator } => {
                let o = usize::from(operator);
                let body = json!({"operator": OPERATORS[o].0, "reason": "Licence surrendered."});
                let verdict = if reference.left[o] {
                    Verdict::Refuse(Rule::Reference)
                } else {
                    Verdict::Accept(Effect::Left(o))
                };
                ("operator.left", fixture::authority_key(), body, verdict)
            }
            Op::Advance { .. } | Op::Reopen => return None,
        };
        Some((self.envelope(kind, &signer, body), verdict))
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
                    Store::open(&self.dir_path, fixture::log_key(), common::config(), clock)
                        .map_err(|e| TestCaseError::fail(format!("{}: reopen: {e}", self.at)))?,
                );
            }
            _ => {
                let Some((envelope, verdict)) = self.statement(op) else {
                    return Ok(());
                };
                if let Some((effect, _)) = append_judged(self.store(), &self.at, envelope, verdict)?
                {
                    self.reference.apply(effect);
                }
            }
        }
        self.check_state()
    }

    /// The store's `cycle` and action obligations today equal the reference model's.
    fn check_state(&self) -> Result<(), TestCaseError> {
        let at = self.today();
        let state = serde_json::to_value(self.store().state(None, Some(at)).unwrap()).unwrap();
        let cycle = &state["cycle"];
        let actions = cycle["actions"].as_object().unwrap();
        prop_assert_eq!(actions.len(), self.reference.actions.len(), "{}", &self.at);
        for action in &self.reference.actions {
            let got = &actions[&action.id];
            let status = match action.closed {
                Some(outcome) => outcome,
                None if self.reference.gone(action.owner) => "left",
                None if at > action.due => "overdue",
                None => "open",
            };
            prop_assert_eq!(&got["status"], status, "{}: {}", &self.at, &action.id);
            prop_assert_eq!(&got["due"], &json!(action.due.to_string()));
            prop_assert_eq!(got["escalation"].is_string(), action.escalated);
        }
        let extended = cycle["extended"].as_object().unwrap();
        for commitment in &self.reference.commitments {
            let got = extended.get(&commitment.id);
            prop_assert_eq!(got.is_some(), commitment.extensions > 0, "{}", &self.at);
            if let Some(got) = got {
                prop_assert_eq!(
                    &got["original_due"],
                    &json!(commitment.original_due.to_string())
                );
                prop_assert_eq!(&got["due"], &json!(commitment.due.to_string()));
                prop_assert_eq!(
                    got["extensions"].as_array().unwrap().len(),
                    commitment.extensions
                );
            }
        }
        // Action obligations: open and due within 30 days, late by the days past due.
        let ledger = self.store().ledger(None).unwrap();
        let owed = ledger
            .obligations(Some(at), &hisaab_model::ObligationFilter::default())
            .unwrap();
        let mut got: Vec<(String, u64)> = owed
            .items
            .iter()
            .filter(|o| o.kind == hisaab_model::ObligationKind::Action)
            .map(|o| (o.id.as_ref().unwrap().to_string(), o.days_late))
            .collect();
        got.sort();
        let mut expected: Vec<(String, u64)> = self
            .reference
            .actions
            .iter()
            .filter(|a| {
                a.closed.is_none()
                    && a.due <= at.plus_days(30).unwrap()
                    && !self.reference.gone(a.owner)
            })
            .map(|a| {
                let late = at.days_since_epoch() - a.due.days_since_epoch();
                (a.id.clone(), u64::try_from(late.max(0)).unwrap())
            })
            .collect();
        expected.sort();
        prop_assert_eq!(got, expected, "{}: action obligations at {}", &self.at, at);
        // The challenge register and the challenges owed by their owners.
        let challenges = cycle["challenges"].as_object().unwrap();
        prop_assert_eq!(
            challenges.len(),
            self.reference.challenges.len(),
            "{}",
            &self.at
        );
        for challenge in &self.reference.challenges {
            let got = &challenges[&challenge.id];
            let status = if at > challenge.due {
                "overdue"
            } else {
                "open"
            };
            prop_assert_eq!(&got["status"], status, "{}: {}", &self.at, &challenge.id);
            prop_assert_eq!(
                got["measures"].as_array().unwrap().len(),
                challenge.measures,
                "{}: {}",
                &self.at,
                &challenge.id
            );
        }
        let mut got: Vec<(String, u64)> = owed
            .items
            .iter()
            .filter(|o| o.kind == hisaab_model::ObligationKind::Challenge)
            .map(|o| (o.id.as_ref().unwrap().to_string(), o.days_late))
            .collect();
        got.sort();
        let mut expected: Vec<(String, u64)> = self
            .reference
            .challenges
            .iter()
            .filter(|c| !self.reference.gone(c.owner))
            .map(|c| {
                let late = at.days_since_epoch() - c.due.days_since_epoch();
                (c.id.clone(), u64::try_from(late.max(0)).unwrap())
            })
            .collect();
        expected.sort();
        prop_assert_eq!(
            got,
            expected,
            "{}: challenge obligations at {}",
            &self.at,
            at
        );
        Ok(())
    }
}

proptest! {
    #![proptest_config(common::model::proptest_config(0x00c1_c1e2))]

    /// Every answer of the store and the cycle's state after each step agree with the
    /// reference model.
    #[test]
    fn the_cycle_agrees_with_a_reference_model(ops in prop::collection::vec(op(), 1..60)) {
        let mut run = Run::new();
        for (n, op) in ops.iter().enumerate() {
            run.step(n, op)?;
        }
        run.store.take().unwrap().close().unwrap();
    }
}
