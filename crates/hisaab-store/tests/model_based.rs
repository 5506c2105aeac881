//! Model-based test of the store (STYLE, "Tests and benches"): random sequences of appends
//! (one after another or from several threads at once), resubmissions, refused statements,
//! reopens, reads, proofs and state queries run against a store in a temporary sled directory
//! and against an in-memory model, and every answer of the store must equal the model's.
//!
//! The model builds each entry itself (seq, the previous event hash, `recorded_at` predicted
//! from the manual clock, the submitted envelope), keeps the leaf bytes, a [`MemoryTree`] over
//! them, the receipts the store gave, and a [`MemoryLedger`] that replays the same entries
//! through every rule. Small batches and a snapshot every 4 entries make group commit,
//! snapshots and reopen-with-replay happen within a few operations.
//!
//! On a failure proptest shrinks to the shortest sequence of operations; the operations name
//! their targets by a raw number taken modulo the current size, and each assertion message
//! names the step, the operation and the size it failed at.
//!
//! The seed is fixed (16 cases), so runs are repeatable; set `PROPTEST_CASES` and
//! `PROPTEST_RNG_SEED` in the environment to explore further (800 cases over four seeds pass
//! in about a minute).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::sync::Arc;

use hisaab_log::merkle::{leaf_hash, tree_root, verify_consistency, verify_inclusion, MemoryTree};
use hisaab_log::note::verify_checkpoint;
use hisaab_log::{Entry, Envelope, Hash, SealedEntry, StatementId, Timestamp};
use hisaab_model::MemoryLedger;
use hisaab_store::{
    AppendError, Appended, ManualClock, MarkStatus, Receipt, Rule, Store, StoreConfig,
};
use hisaab_testkit::fixture;
use proptest::prelude::*;
use tempfile::TempDir;

/// The snapshot interval of the store under test.
const SNAPSHOT_EVERY: u64 = 4;
/// How far the clock moves before each operation.
const TICK_MILLIS: i64 = 1000;
/// The namespace of the operators the test registers.
const NS_APPENDED: u32 = 1;
/// The namespace of the statement ids of refused statements (never in the ledger).
const NS_REFUSED: u32 = 2;

/// Small batches, a snapshot every [`SNAPSHOT_EVERY`] entries, few kept snapshots and
/// checkpoints, a short signature-checked tail on open.
fn config() -> StoreConfig {
    StoreConfig {
        batch_entries_max: 3,
        snapshot_every: SNAPSHOT_EVERY,
        snapshots_kept: 2,
        snapshot_archive_every: 4 * SNAPSHOT_EVERY,
        checkpoints_kept: 3,
        tail_check_entries: 6,
        ..common::config()
    }
}

/// What is submitted alongside a concurrent append.
#[derive(Clone, Copy, Debug)]
enum Extra {
    /// Nothing.
    None,
    /// The first new envelope a second time, from another thread: one of the two is created,
    /// the other answered as a resubmission, both with the same receipt.
    Twin,
    /// A statement reusing the genesis statement id, which is refused (409) and changes nothing.
    Refused,
}

/// A statement the rules refuse.
#[derive(Clone, Copy, Debug)]
enum Refusal {
    /// The statement id of an entry with another body: 409, [`Rule::DuplicateId`].
    DuplicateId,
    /// A new statement id registering an operator already registered: 422.
    OperatorTaken,
    /// A new statement naming another ledger: 422, [`Rule::Identity`].
    OtherLedger,
}

/// One step of a sequence. `pick`, `index`, `size`, `from`, `to` and `as_of` are raw numbers
/// reduced modulo the store's size when the step runs.
#[derive(Clone, Debug)]
enum Op {
    /// Appends `count` new operator registrations, from `count` threads at once or one after
    /// another, with `extra` submitted too when concurrent.
    Append {
        count: u8,
        concurrent: bool,
        extra: Extra,
    },
    /// Submits the envelope of entry `pick` again.
    Resubmit { pick: u16 },
    /// Submits a statement the rules refuse, aimed at entry `pick` where it names one.
    Refuse { refusal: Refusal, pick: u16 },
    /// Closes the store and opens it again.
    Reopen,
    /// Reads entry `pick` by seq, event hash and statement id, and its receipt.
    Read { pick: u16 },
    /// The inclusion proof of a leaf in a tree of some size.
    Prove { index: u16, size: u16 },
    /// The consistency proof between two sizes.
    Consistency { from: u16, to: u16 },
    /// The state at the current size, or at `as_of`.
    State { as_of: Option<u16> },
    /// Sets the clock back: `recorded_at` must still not decrease.
    ClockBack { millis: u16 },
}

fn op() -> impl Strategy<Value = Op> {
    let extra = prop_oneof![
        2 => Just(Extra::None),
        1 => Just(Extra::Twin),
        1 => Just(Extra::Refused),
    ];
    let refusal = prop_oneof![
        Just(Refusal::DuplicateId),
        Just(Refusal::OperatorTaken),
        Just(Refusal::OtherLedger),
    ];
    prop_oneof![
        6 => (1u8..5, any::<bool>(), extra).prop_map(|(count, concurrent, extra)| Op::Append {
            count,
            concurrent,
            extra,
        }),
        2 => any::<u16>().prop_map(|pick| Op::Resubmit { pick }),
        2 => (refusal, any::<u16>()).prop_map(|(refusal, pick)| Op::Refuse { refusal, pick }),
        1 => Just(Op::Reopen),
        2 => any::<u16>().prop_map(|pick| Op::Read { pick }),
        2 => (any::<u16>(), any::<u16>()).prop_map(|(index, size)| Op::Prove { index, size }),
        2 => (any::<u16>(), any::<u16>()).prop_map(|(from, to)| Op::Consistency { from, to }),
        1 => proptest::option::of(any::<u16>()).prop_map(|as_of| Op::State { as_of }),
        1 => (0u16..5000).prop_map(|millis| Op::ClockBack { millis }),
    ]
}

/// The in-memory model of the ledger.
struct Model {
    ledger_id: Hash,
    /// Leaf bytes by seq, built by the model.
    leaves: Vec<Vec<u8>>,
    /// The envelope of each entry.
    envelopes: Vec<Envelope>,
    /// The receipt the store gave for each entry (for genesis: the one it gave first).
    receipts: Vec<Receipt>,
    tree: MemoryTree,
    /// The same entries through every rule.
    ledger: MemoryLedger,
    /// The last entry's `recorded_at`, in Unix milliseconds.
    last_recorded_millis: i64,
    /// The next operator number in [`NS_APPENDED`].
    next_operator: u64,
    /// The next statement number in [`NS_REFUSED`].
    next_refused: u64,
}

impl Model {
    /// The model of a new store: genesis as the store recorded it, checked against the
    /// fixture's envelope.
    fn new(store: &Store) -> Model {
        let genesis = store.entry(0).unwrap().expect("genesis");
        let envelope = fixture::genesis().unwrap();
        let entry = Entry::new(
            0,
            Hash::ZERO,
            genesis.entry().recorded_at.clone(),
            envelope.clone(),
        );
        let sealed = SealedEntry::seal(entry).unwrap();
        assert_eq!(
            sealed.leaf_bytes(),
            genesis.leaf_bytes(),
            "genesis leaf bytes"
        );
        let mut model = Model {
            ledger_id: sealed.event_hash(),
            leaves: Vec::new(),
            envelopes: Vec::new(),
            receipts: Vec::new(),
            tree: MemoryTree::new(),
            ledger: MemoryLedger::with_snapshot_interval(SNAPSHOT_EVERY),
            last_recorded_millis: millis(&genesis.entry().recorded_at),
            next_operator: 0,
            next_refused: 0,
        };
        let receipt = store.receipt(0).unwrap();
        model.push(sealed, envelope, receipt);
        model
    }

    fn size(&self) -> u64 {
        self.tree.size()
    }

    fn last_event_hash(&self) -> Hash {
        self.leaves
            .last()
            .map_or(Hash::ZERO, |bytes| leaf_hash(bytes))
    }

    /// The `recorded_at` of the next entry: now by the clock, never before the last entry's.
    fn next_recorded_at(&self, clock_millis: i64) -> Timestamp {
        Timestamp::from_unix_millis(clock_millis.max(self.last_recorded_millis)).unwrap()
    }

    /// The entry the store should record for `envelope` next.
    fn next_entry(&self, envelope: &Envelope, clock_millis: i64) -> SealedEntry {
        let entry = Entry::new(
            self.size(),
            self.last_event_hash(),
            self.next_recorded_at(clock_millis),
            envelope.clone(),
        );
        SealedEntry::seal(entry).unwrap()
    }

    /// Adds an entry the store accepted; the model's rules must accept it too.
    fn push(&mut self, sealed: SealedEntry, envelope: Envelope, receipt: Receipt) {
        self.ledger
            .append(sealed.clone())
            .unwrap_or_else(|v| panic!("the store accepted what the model refuses: {v}"));
        self.last_recorded_millis = millis(&sealed.entry().recorded_at);
        self.tree.push_leaf(sealed.event_hash());
        self.leaves.push(sealed.leaf_bytes().to_vec());
        self.envelopes.push(envelope);
        self.receipts.push(receipt);
    }

    fn root(&self, size: u64) -> Hash {
        tree_root(size, &self.tree).unwrap()
    }

    fn leaf(&self, seq: u64) -> &[u8] {
        &self.leaves[usize::try_from(seq).unwrap()]
    }

    fn pick(&self, raw: u16) -> u64 {
        u64::from(raw) % self.size()
    }

    fn new_operator(&mut self) -> Envelope {
        let n = self.next_operator;
        self.next_operator += 1;
        fixture::register_operator(self.ledger_id, NS_APPENDED, n).unwrap()
    }

    /// A statement the rules refuse with `refusal` (a duplicate id instead of a taken operator
    /// while no operator is registered), and the refusal it is.
    fn refused_statement(&mut self, refusal: Refusal, pick: u16) -> (Refusal, Envelope) {
        let n = self.next_refused;
        self.next_refused += 1;
        let key = fixture::authority_key();
        let kind = "operator.registered";
        let target = self.pick_operator(pick);
        let refusal = match (refusal, target) {
            (Refusal::OperatorTaken, None) => Refusal::DuplicateId,
            (refusal, _) => refusal,
        };
        let envelope = match (refusal, target) {
            (Refusal::DuplicateId, _) => {
                // The id of an appended operator, or of genesis (namespace 0, n 0).
                let (namespace, number) = target.map_or((0, 0), |t| (NS_APPENDED, t));
                let body = serde_json::json!({"operator": format!("op-dup-{n}"), "name": "Dup"});
                fixture::statement_in(self.ledger_id, namespace, number, kind, &key, body)
            }
            (Refusal::OperatorTaken, Some(t)) => {
                let body = serde_json::json!({"operator": format!("op-{NS_APPENDED}-{t}"), "name": "Taken"});
                fixture::statement_in(self.ledger_id, NS_REFUSED, n, kind, &key, body)
            }
            (Refusal::OperatorTaken, None) => unreachable!("resolved above"),
            (Refusal::OtherLedger, _) => {
                let body = serde_json::json!({"operator": format!("op-other-{n}"), "name": "O"});
                let other = Hash::sha256(b"another ledger");
                fixture::statement_in(other, NS_REFUSED, n, kind, &key, body)
            }
        };
        (refusal, envelope.unwrap())
    }

    /// The number of the appended operator nearest entry `pick`, if any was appended.
    fn pick_operator(&self, pick: u16) -> Option<u64> {
        (self.next_operator > 0).then(|| u64::from(pick) % self.next_operator)
    }
}

fn millis(timestamp: &Timestamp) -> i64 {
    i64::try_from(timestamp.unix_nanos() / 1_000_000).unwrap()
}

/// The store under test, its directory and clock, and the model.
struct Run {
    dir: TempDir,
    clock: ManualClock,
    /// Empty only while reopening.
    store_slot: Option<Store>,
    model: Model,
    /// "step N: Op (size S)", for assertion messages.
    at: String,
}

impl Run {
    fn new() -> Run {
        let dir = tempfile::tempdir().unwrap();
        let (store, clock) = common::create(dir.path(), config());
        let model = Model::new(&store);
        Run {
            dir,
            clock,
            store_slot: Some(store),
            model,
            at: String::from("create"),
        }
    }

    fn open(dir: &Path, clock: &ManualClock) -> Store {
        Store::open(dir, fixture::log_key(), config(), Arc::new(clock.clone())).unwrap()
    }

    fn store(&self) -> &Store {
        self.store_slot.as_ref().expect("a store is open")
    }

    fn now(&self) -> i64 {
        use hisaab_store::Clock as _;
        self.clock.now_unix_millis()
    }

    fn step(&mut self, n: usize, op: &Op) -> Result<(), TestCaseError> {
        self.at = format!("step {n}: {op:?} (size {})", self.model.size());
        self.clock.advance(TICK_MILLIS);
        match *op {
            Op::Append {
                count,
                concurrent,
                extra,
            } => self.append(count, concurrent, extra)?,
            Op::Resubmit { pick } => self.resubmit(pick)?,
            Op::Refuse { refusal, pick } => self.refuse(refusal, pick)?,
            Op::Reopen => self.reopen()?,
            Op::Read { pick } => self.read(pick)?,
            Op::Prove { index, size } => self.prove(index, size)?,
            Op::Consistency { from, to } => self.consistency(from, to)?,
            Op::State { as_of } => self.state(as_of)?,
            Op::ClockBack { millis } => self.clock.advance(-i64::from(millis)),
        }
        self.check_head()
    }

    /// The size and latest checkpoint agree with the model.
    fn check_head(&self) -> Result<(), TestCaseError> {
        let at = &self.at;
        let size = self.model.size();
        prop_assert_eq!(self.store().size(), size, "size after {}", at);
        let latest = self.store().latest_checkpoint();
        prop_assert_eq!(
            latest.checkpoint.size,
            size,
            "latest checkpoint size after {}",
            at
        );
        prop_assert_eq!(
            latest.checkpoint.root,
            self.model.root(size),
            "latest root after {}",
            at
        );
        let verified = verify_checkpoint(&latest.note, &fixture::log_vkey().unwrap());
        prop_assert_eq!(
            verified.ok(),
            Some(latest.checkpoint),
            "latest note after {}",
            at
        );
        prop_assert!(
            self.store().entry(size).unwrap().is_none(),
            "entry(size) after {}",
            at
        );
        Ok(())
    }

    fn append(&mut self, count: u8, concurrent: bool, extra: Extra) -> Result<(), TestCaseError> {
        let before = self.model.size();
        // The refused extra first: it must name an operator committed before this step.
        let refused = matches!(extra, Extra::Refused)
            .then(|| self.model.refused_statement(Refusal::DuplicateId, 0).1);
        let envelopes: Vec<Envelope> = (0..count).map(|_| self.model.new_operator()).collect();
        let (results, extra_result) = if concurrent {
            let extra_envelope = match extra {
                Extra::None => None,
                Extra::Twin => Some(envelopes[0].clone()),
                Extra::Refused => refused,
            };
            let store = self.store();
            std::thread::scope(|scope| {
                let handles: Vec<_> = envelopes
                    .iter()
                    .map(|e| scope.spawn(move || store.append_blocking(e.clone())))
                    .collect();
                let extra_handle =
                    extra_envelope.map(|e| scope.spawn(move || store.append_blocking(e)));
                let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
                (results, extra_handle.map(|h| h.join().unwrap()))
            })
        } else {
            let results = envelopes
                .iter()
                .map(|e| self.store().append_blocking(e.clone()))
                .collect();
            (results, None)
        };
        let at = &self.at;

        // Every new envelope is created at a seq of its own, together the next `count` seqs.
        let mut appended: Vec<(Appended, Envelope)> = Vec::new();
        for (result, envelope) in results.into_iter().zip(&envelopes) {
            match result {
                Ok(a) => appended.push((a, envelope.clone())),
                Err(e) => return Err(TestCaseError::fail(format!("{at}: append refused: {e}"))),
            }
        }
        appended.sort_by_key(|(a, _)| a.receipt.seq);
        let twin_created = match (&extra_result, extra) {
            (Some(Ok(twin)), Extra::Twin) => {
                let first = appended
                    .iter()
                    .find(|(_, e)| *e == envelopes[0])
                    .map(|(a, _)| a)
                    .unwrap();
                prop_assert_eq!(&twin.receipt, &first.receipt, "{}: the twin's receipt", at);
                prop_assert!(
                    twin.created != first.created,
                    "{}: exactly one of the twins is created ({} and {})",
                    at,
                    twin.created,
                    first.created
                );
                twin.created
            }
            (Some(Err(e)), Extra::Refused) => {
                prop_assert!(
                    matches!(e, AppendError::Violation(v) if v.rule == Rule::DuplicateId),
                    "{}: the concurrent refusal: {:?}",
                    at,
                    e
                );
                false
            }
            (None, _) => false,
            (Some(other), _) => {
                return Err(TestCaseError::fail(format!(
                    "{at}: the extra submission ({extra:?}) answered {other:?}"
                )))
            }
        };
        for (i, (a, envelope)) in appended.iter().enumerate() {
            let expected_seq = before + u64::try_from(i).unwrap();
            prop_assert_eq!(
                a.receipt.seq,
                expected_seq,
                "{}: seqs of the new entries",
                at
            );
            let is_twin = matches!(extra, Extra::Twin) && *envelope == envelopes[0];
            prop_assert!(
                a.created || (is_twin && twin_created),
                "{}: seq {} not created",
                at,
                expected_seq
            );
        }

        // The model builds each entry; the receipt must match it and the model's tree.
        let clock = self.now();
        for (a, envelope) in appended {
            let seq = a.receipt.seq;
            let sealed = self.model.next_entry(&envelope, clock);
            let receipt = &a.receipt;
            prop_assert_eq!(
                receipt.event_hash,
                sealed.event_hash(),
                "{}: event hash of seq {}",
                at,
                seq
            );
            prop_assert_eq!(
                &receipt.recorded_at,
                &sealed.entry().recorded_at,
                "{}: recorded_at of seq {}",
                at,
                seq
            );
            self.model.push(sealed, envelope, receipt.clone());
        }
        let size = self.model.size();
        for seq in before..size {
            self.check_receipt(seq, size)?;
        }
        Ok(())
    }

    /// The receipt given for entry `seq`: a checkpoint signed by the log key over a tree of
    /// the model's at a size between `seq + 1` and `size`, and the model's inclusion proof.
    fn check_receipt(&self, seq: u64, size: u64) -> Result<(), TestCaseError> {
        let at = &self.at;
        let receipt = &self.model.receipts[usize::try_from(seq).unwrap()];
        common::verify_receipt(receipt);
        let checkpoint =
            verify_checkpoint(&receipt.checkpoint, &fixture::log_vkey().unwrap()).unwrap();
        prop_assert!(
            seq < checkpoint.size && checkpoint.size <= size,
            "{}: receipt of seq {} has checkpoint size {}",
            at,
            seq,
            checkpoint.size
        );
        prop_assert_eq!(
            checkpoint.origin.as_str(),
            fixture::ORIGIN,
            "{}: origin",
            at
        );
        prop_assert_eq!(
            checkpoint.root,
            self.model.root(checkpoint.size),
            "{}: receipt root of seq {}",
            at,
            seq
        );
        prop_assert_eq!(
            &receipt.inclusion_proof,
            &self
                .model
                .tree
                .inclusion_proof(seq, checkpoint.size)
                .unwrap(),
            "{}: receipt proof of seq {}",
            at,
            seq
        );
        Ok(())
    }

    fn resubmit(&mut self, pick: u16) -> Result<(), TestCaseError> {
        let seq = self.model.pick(pick);
        let at = format!("{} [seq {seq}]", self.at);
        let envelope = self.model.envelopes[usize::try_from(seq).unwrap()].clone();
        let appended = self.store().append_blocking(envelope);
        let appended = appended.map_err(|e| TestCaseError::fail(format!("{at}: {e}")))?;
        prop_assert!(!appended.created, "{}: a resubmission is created", at);
        prop_assert_eq!(
            &appended.receipt,
            &self.model.receipts[usize::try_from(seq).unwrap()],
            "{}: the receipt of a resubmission is the original one",
            at
        );
        Ok(())
    }

    fn refuse(&mut self, refusal: Refusal, pick: u16) -> Result<(), TestCaseError> {
        let (refusal, envelope) = self.model.refused_statement(refusal, pick);
        let at = format!("{} [{}]", self.at, envelope.statement.id.as_str());
        let latest = self.store().latest_checkpoint();
        // The model's verdict at the next seq.
        let sealed = self.model.next_entry(&envelope, self.now());
        let expected = match self.model.ledger.append(sealed) {
            Err(v) => v,
            Ok(()) => panic!("{at}: the model accepted the statement meant to be refused"),
        };
        let (rule, code) = match refusal {
            Refusal::DuplicateId => (Some(Rule::DuplicateId), "duplicate_id"),
            Refusal::OperatorTaken => (None, "rule_violation"),
            Refusal::OtherLedger => (Some(Rule::Identity), "wrong_ledger"),
        };
        if let Some(rule) = rule {
            prop_assert_eq!(expected.rule, rule, "{}: the model's verdict", at);
        }
        let error = match self.store().append_blocking(envelope) {
            Err(e) => e,
            Ok(a) => {
                return Err(TestCaseError::fail(format!(
                    "{at}: accepted at seq {} (created {})",
                    a.receipt.seq, a.created
                )))
            }
        };
        match &error {
            AppendError::Violation(v) => {
                prop_assert_eq!(v.rule, expected.rule, "{}: rule", at);
                prop_assert_eq!(v.rule.code(), code, "{}: code", at);
                prop_assert_eq!(v.seq, self.model.size(), "{}: violation seq", at);
            }
            other => {
                return Err(TestCaseError::fail(format!(
                    "{at}: expected a violation, got {other:?}"
                )))
            }
        }
        prop_assert_eq!(
            self.store().latest_checkpoint(),
            latest,
            "{}: checkpoint changed",
            at
        );
        Ok(())
    }

    fn reopen(&mut self) -> Result<(), TestCaseError> {
        let latest = self.store().latest_checkpoint();
        self.store().close().unwrap();
        // Later appends answer Closed.
        let fresh = fixture::register_operator(self.model.ledger_id, 9, 0).unwrap();
        let closed = self.store().append_blocking(fresh);
        prop_assert!(
            matches!(closed, Err(AppendError::Closed)),
            "{}: append after close: {:?}",
            self.at,
            closed
        );
        // The old handle goes first: it holds sled's lock.
        drop(self.store_slot.take());
        self.store_slot = Some(Run::open(self.dir.path(), &self.clock));
        let at = &self.at;
        let size = self.model.size();
        let report = self.store().open_report();
        prop_assert_eq!(report.size, size, "{}: report size", at);
        prop_assert_eq!(
            report.snapshot_size,
            size - size % SNAPSHOT_EVERY,
            "{}: resumed from the latest snapshot",
            at
        );
        prop_assert_eq!(
            report.replayed_entries,
            size % SNAPSHOT_EVERY,
            "{}: replayed",
            at
        );
        prop_assert!(
            report.replayed_entries <= SNAPSHOT_EVERY,
            "{}: replayed",
            at
        );
        prop_assert_eq!(report.truncated_entries, 0, "{}: truncated", at);
        prop_assert_eq!(report.snapshots_refused, 0, "{}: snapshots refused", at);
        prop_assert_eq!(report.mark, MarkStatus::Agrees, "{}: mark", at);
        prop_assert_eq!(
            self.store().latest_checkpoint(),
            latest,
            "{}: latest checkpoint",
            at
        );
        Ok(())
    }

    fn read(&self, pick: u16) -> Result<(), TestCaseError> {
        let seq = self.model.pick(pick);
        let at = format!("{} [seq {seq}]", self.at);
        let leaf = self.model.leaf(seq);
        let hash = leaf_hash(leaf);
        let envelope = &self.model.envelopes[usize::try_from(seq).unwrap()];
        let by_seq = self.store().entry(seq).unwrap();
        prop_assert_eq!(
            by_seq.as_ref().map(SealedEntry::leaf_bytes),
            Some(leaf),
            "{}: entry",
            at
        );
        let bytes = self.store().entry_bytes(seq).unwrap();
        prop_assert_eq!(bytes.as_deref(), Some(leaf), "{}: entry_bytes", at);
        let by_hash = self.store().entry_by_event_hash(&hash).unwrap();
        prop_assert_eq!(
            by_hash.as_ref().map(SealedEntry::leaf_bytes),
            Some(leaf),
            "{}: by event hash",
            at
        );
        let by_id = self
            .store()
            .entry_by_statement_id(&envelope.statement.id)
            .unwrap();
        prop_assert_eq!(
            by_id.as_ref().map(SealedEntry::leaf_bytes),
            Some(leaf),
            "{}: by statement id",
            at
        );
        prop_assert_eq!(
            &self.store().receipt(seq).unwrap(),
            &self.model.receipts[usize::try_from(seq).unwrap()],
            "{}: receipt",
            at
        );
        // A page of entries from here.
        let page = self.store().entries(seq, 3).unwrap();
        let end = (seq + 3).min(self.model.size());
        let expected: Vec<&[u8]> = (seq..end).map(|s| self.model.leaf(s)).collect();
        let got: Vec<&[u8]> = page.iter().map(SealedEntry::leaf_bytes).collect();
        prop_assert_eq!(got, expected, "{}: entries page", at);
        // Refused statement ids were never indexed.
        if self.model.next_refused > 0 {
            let id: StatementId =
                fixture::statement_id(NS_REFUSED, self.model.next_refused - 1).unwrap();
            prop_assert!(
                self.store().entry_by_statement_id(&id).unwrap().is_none(),
                "{}: a refused statement id is indexed",
                at
            );
        }
        Ok(())
    }

    fn prove(&self, index: u16, size: u16) -> Result<(), TestCaseError> {
        let size = 1 + u64::from(size) % self.model.size();
        let index = u64::from(index) % size;
        let at = format!("{} [index {index} in size {size}]", self.at);
        let proof = self.store().inclusion_proof(index, size).unwrap();
        let root = self.model.root(size);
        prop_assert_eq!(
            &proof,
            &self.model.tree.inclusion_proof(index, size).unwrap(),
            "{}: proof",
            at
        );
        prop_assert_eq!(self.store().root(size).unwrap(), root, "{}: root", at);
        let verified = verify_inclusion(
            &leaf_hash(self.model.leaf(index)),
            index,
            size,
            &proof,
            &root,
        );
        prop_assert!(
            verified.is_ok(),
            "{}: the proof does not verify: {:?}",
            at,
            verified
        );
        // Out of range.
        prop_assert!(
            self.store().inclusion_proof(size, size).is_err(),
            "{}: index = size",
            at
        );
        let beyond = self.model.size() + 1;
        prop_assert!(
            self.store().inclusion_proof(index, beyond).is_err(),
            "{}: beyond the log",
            at
        );
        Ok(())
    }

    fn consistency(&self, from: u16, to: u16) -> Result<(), TestCaseError> {
        let size = self.model.size();
        let from = 1 + u64::from(from) % size;
        let to = from + u64::from(to) % (size - from + 1);
        let at = format!("{} [{from} to {to}]", self.at);
        let proof = self.store().consistency_proof(from, to).unwrap();
        prop_assert_eq!(
            &proof,
            &self.model.tree.consistency_proof(from, to).unwrap(),
            "{}: proof",
            at
        );
        let verified = verify_consistency(
            from,
            to,
            &proof,
            &self.model.root(from),
            &self.model.root(to),
        );
        prop_assert!(
            verified.is_ok(),
            "{}: the proof does not verify: {:?}",
            at,
            verified
        );
        prop_assert!(
            self.store().consistency_proof(0, to).is_err(),
            "{}: from 0",
            at
        );
        prop_assert!(
            self.store().consistency_proof(from, size + 1).is_err(),
            "{}: beyond the log",
            at
        );
        Ok(())
    }

    fn state(&self, as_of: Option<u16>) -> Result<(), TestCaseError> {
        let size = self.model.size();
        let as_of = as_of.map(|raw| 1 + u64::from(raw) % size);
        let at = format!("{} [as of {as_of:?}]", self.at);
        let state = self.store().state(as_of, None).unwrap();
        let expected = self
            .model
            .ledger
            .state_at(as_of.unwrap_or(size), None)
            .unwrap();
        prop_assert_eq!(state.digest(), expected.digest(), "{}: state digest", at);
        prop_assert_eq!(&state, &expected, "{}: state", at);
        prop_assert_eq!(
            state.digest(),
            state.compute_digest(),
            "{}: digest of the state",
            at
        );
        Ok(())
    }
}

proptest! {
    #![proptest_config(common::model::proptest_config(0x4869_7361_6162))]

    #[test]
    fn store_matches_the_model(ops in proptest::collection::vec(op(), 1..40)) {
        let mut run = Run::new();
        for (n, op) in ops.iter().enumerate() {
            run.step(n, op)?;
        }
        // Finally, every entry and receipt once more, after one last reopen.
        run.at = String::from("final reopen");
        run.reopen()?;
        for seq in 0..run.model.size() {
            let pick = u16::try_from(seq).unwrap();
            run.read(pick)?;
        }
        run.state(None)?;
    }
}
