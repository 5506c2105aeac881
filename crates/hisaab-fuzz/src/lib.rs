//! # hisaab-fuzz
//!
//! The bodies of Hisaab's fuzz targets: each takes arbitrary bytes, feeds them to one parser or
//! verifier, and checks what must hold whatever the input (no panic, and the properties named
//! on each target). The libFuzzer harness in `fuzz/` calls these functions on stable Rust
//! (`cargo fuzz run TARGET -s none`), and `tests/regressions.rs` replays the kept corpus and
//! every finding under `cargo test`, so a fixed crash stays fixed.
//!
//! This crate is dev-only (`publish = false`); no production crate depends on it.

use hisaab_log::jcs;
use hisaab_log::merkle::{self, MemoryTree};
use hisaab_log::note::{self, Checkpoint, VerifierKey};
use hisaab_log::{Envelope, Hash, PublicKey, SealedEntry, SigningKey};
use hisaab_model::{Kind, Ledger};
use hisaab_testkit::seed;
use serde_json::{json, Map, Value};

/// A fuzz target: arbitrary bytes in; a panic is a finding.
pub type Target = fn(&[u8]);

/// Every target, by the name its corpus folder and libFuzzer binary carry.
pub const TARGETS: &[(&str, Target)] = &[
    ("jcs", jcs_target),
    ("envelope", envelope_target),
    ("leaf", leaf_target),
    ("note", note_target),
    ("checkpoint", checkpoint_target),
    ("inclusion", inclusion_target),
    ("consistency", consistency_target),
    ("bundle", bundle_target),
    ("apply", apply_target),
    ("snapshot", snapshot_target),
];

/// Canonical JSON (SPEC §1): strict parsing never panics, and canonicalisation is idempotent:
/// the canonical bytes of anything accepted parse back to a value with the same canonical bytes.
pub fn jcs_target(data: &[u8]) {
    let Ok(value) = jcs::parse_strict(data) else {
        return;
    };
    // Straight from serde (`to_canonical`, whose one-pass writer answers for every value
    // inside the profile) and from the parsed value: the same bytes. Outside the profile it
    // declines and `to_canonical` is `canonicalize_profile` itself: nothing to compare there.
    assert_eq!(
        jcs::to_canonical(&value),
        jcs::canonicalize_profile(&value),
        "the serde writer and the value writer disagree"
    );
    let Ok(canonical) = jcs::canonicalize_profile(&value) else {
        return;
    };
    #[allow(clippy::expect_used)] // A fuzz property: a failure here is the finding.
    let again = jcs::parse_strict(&canonical).expect("canonical bytes parse strictly");
    #[allow(clippy::expect_used)]
    let recanonical = jcs::canonicalize_profile(&again).expect("canonical bytes re-canonicalise");
    assert_eq!(canonical, recanonical, "canonicalisation is not idempotent");
}

/// Envelopes (SPEC §2): parsing never panics; an accepted envelope has canonical bytes that
/// parse back to the same envelope, and its signature check never panics.
pub fn envelope_target(data: &[u8]) {
    let Ok(envelope) = Envelope::try_from_json(data) else {
        return;
    };
    let Ok(canonical) = envelope.canonical_bytes() else {
        return;
    };
    #[allow(clippy::expect_used)] // A fuzz property: a failure here is the finding.
    let again = Envelope::try_from_json(&canonical).expect("an envelope's canonical bytes parse");
    #[allow(clippy::expect_used)]
    let recanonical = again.canonical_bytes().expect("and canonicalise again");
    assert_eq!(
        canonical, recanonical,
        "envelope canonical bytes are not stable"
    );
    let first = envelope.verify_signature_canonical(&canonical).is_ok();
    assert_eq!(
        first,
        again.verify_signature().is_ok(),
        "signature check depends on the parse"
    );
}

/// Leaf bytes of an entry (SPEC §2): a sealed entry only comes from its exact canonical bytes,
/// and its event hash is the RFC 9162 leaf hash of those bytes.
pub fn leaf_target(data: &[u8]) {
    let Ok(sealed) = SealedEntry::try_from_leaf_bytes(data) else {
        return;
    };
    assert_eq!(
        sealed.leaf_bytes(),
        data,
        "a sealed entry's leaf bytes are its input"
    );
    assert_eq!(sealed.event_hash(), merkle::leaf_hash(data));
    #[allow(clippy::expect_used)] // A fuzz property: a failure here is the finding.
    let rebuilt = sealed
        .entry()
        .leaf_bytes()
        .expect("an accepted entry re-encodes");
    assert_eq!(rebuilt, data, "accepted leaf bytes are not canonical");
}

/// Signed notes (C2SP signed-note): opening never panics, and a note that verifies under the
/// golden log key carries that key's name among the verified ones.
pub fn note_target(data: &[u8]) {
    let key = golden_verifier_key();
    if let Ok(opened) = note::open_note_bytes(data, std::slice::from_ref(&key)) {
        assert!(opened.verified.iter().all(|name| name == key.name()));
        assert!(
            opened.text.ends_with('\n'),
            "a note's text ends with a newline"
        );
    }
}

/// Checkpoints (C2SP tlog-checkpoint): body parsing never panics and round-trips; a checkpoint
/// that verifies under the golden log key re-encodes to the same body; cosignature checks on the
/// input's lines never panic.
pub fn checkpoint_target(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(checkpoint) = Checkpoint::try_parse_body(text) {
        assert_eq!(checkpoint.to_body(), text, "checkpoint bodies round-trip");
    }
    let key = golden_verifier_key();
    if let Ok(checkpoint) = note::verify_checkpoint(text, &key) {
        #[allow(clippy::expect_used)] // A fuzz property: a failure here is the finding.
        let body = Checkpoint::try_parse_body(&checkpoint.to_body()).expect("re-parses");
        assert_eq!(body, checkpoint);
    }
    let witness = PublicKey::from_signing_key(&SigningKey::from_bytes(&[2; 32]));
    let checkpoint = Checkpoint {
        origin: key.name().to_owned(),
        size: 1,
        root: Hash::ZERO,
    };
    for line in text.lines() {
        let _ = note::verify_cosignature(&checkpoint, line, "witness.example", &witness);
    }
}

/// Inclusion proofs (RFC 9162 §2.1.3.2) from a lying prover: whatever leaf, index and proof
/// the input claims against a tree it also chooses, verification never panics, and a proof is
/// only accepted for the leaf that really is at that index.
///
/// The tree size and root are the true ones, as a signed checkpoint binds them: a root checked
/// against a size it does not belong to proves nothing (the first finding of this target was
/// exactly that: leaf 1 of a 2-leaf tree "verifies" as leaf 2 of a 3-leaf tree whose root is
/// claimed to be the 2-leaf root). Other sizes are still fed in, for panics only.
pub fn inclusion_target(data: &[u8]) {
    let mut input = Input::new(data);
    let tree = input.tree();
    let size = tree.size();
    if size == 0 {
        return;
    }
    let index = input.u64() % size;
    let claimed_leaf = if input.bool() {
        leaf(index)
    } else {
        input.hash()
    };
    let claimed_index = if input.bool() { index } else { input.u64() };
    let proof = input.proof(&tree, index, size);
    let root = tree.root();
    if merkle::verify_inclusion(&claimed_leaf, claimed_index, size, &proof, &root).is_ok() {
        // Only the true leaf at its true position verifies (barring a SHA-256 collision):
        // `leaf` gives every index a distinct leaf.
        assert!(claimed_index < size);
        assert_eq!(
            claimed_leaf,
            leaf(claimed_index),
            "accepted a proof for a leaf not there"
        );
    }
    let other_size = input.u64();
    let _ = merkle::verify_inclusion(&claimed_leaf, claimed_index, other_size, &proof, &root);
}

/// Consistency proofs (RFC 9162 §2.1.4.2) from a lying prover: verification never panics, and
/// is only accepted when the claimed old root is the real root at the claimed old size.
pub fn consistency_target(data: &[u8]) {
    let mut input = Input::new(data);
    let tree = input.tree();
    let size = tree.size();
    if size == 0 {
        return;
    }
    let from = 1 + input.u64() % size;
    let claimed_from = if input.bool() { from } else { input.u64() };
    let from_root = if input.bool() {
        root_at(&tree, from)
    } else {
        input.hash()
    };
    let proof = match tree.consistency_proof(from, size) {
        Ok(honest) if input.bool() => honest,
        Ok(mut honest) => {
            input.mutate(&mut honest);
            honest
        }
        Err(_) => input.hashes(),
    };
    let root = tree.root();
    if merkle::verify_consistency(claimed_from, size, &proof, &from_root, &root).is_ok() {
        assert!(claimed_from >= 1 && claimed_from <= size);
        assert_eq!(
            from_root,
            root_at(&tree, claimed_from),
            "accepted a forged old root"
        );
    }
}

/// Bundles (SPEC §6): the full verification of an arbitrary file (structure, signatures,
/// Merkle root, the rules of §4) never panics.
pub fn bundle_target(data: &[u8]) {
    let _ = hisaab_model::verify_bundle(data);
}

/// The rules of acceptance (SPEC §4) over arbitrary statement sequences: from the standard
/// fixture world (two operators, ten members, three KPIs), the input chooses each statement's
/// signer, kind and body (fields drawn from small pools of valid and invalid values, references
/// to earlier entries, dropped and unknown fields) and the clock. Applying never panics; a
/// refused statement leaves the ledger byte for byte as it was (its snapshot is unchanged); an
/// accepted one keeps the state projectable with a valid digest; and a snapshot taken at any
/// point restores to the same ledger.
pub fn apply_target(data: &[u8]) {
    let _ = apply_kinds(data);
}

/// [`apply_target`], returning the kinds of the statements it accepted, in order (so a test can
/// see how far past the rules' first refusals the corpus reaches).
pub fn apply_kinds(data: &[u8]) -> Vec<Kind> {
    let mut input = Input::new(data);
    let mut kinds = Vec::new();
    let mut builder = hisaab_testkit::Builder::standard();
    let mut accepted: Vec<Hash> = Vec::new();
    for _ in 0..STATEMENTS_MAX {
        if input.data.is_empty() {
            break;
        }
        let [signer, kind, clock] = input.take::<3>();
        let signer = SIGNERS[usize::from(signer) % SIGNERS.len()];
        // The kinds of format 1, the fixture's format (the first of `Kind::ALL`, so that the
        // corpus keeps its meaning as later formats add kinds).
        let v1 = Kind::ALL.iter().take_while(|k| k.since() == 1).count();
        let kind = Kind::ALL[usize::from(kind) % v1.max(1)];
        builder.clock_s += i64::from(clock) * 3_600;
        let body = input.body(kind, &accepted);
        let before = builder.ledger.ledger().to_snapshot();
        match builder.try_append(signer, kind.as_str(), body) {
            Ok(hash) => {
                accepted.push(hash);
                kinds.push(kind);
            }
            Err(_) => assert_eq!(
                builder.ledger.ledger().to_snapshot(),
                before,
                "a refused {} changed the ledger",
                kind.as_str()
            ),
        }
    }
    let ledger = builder.ledger.ledger();
    let state = ledger.state(None);
    assert!(
        state.has_valid_digest(),
        "the state's digest is not its own"
    );
    let snapshot = ledger.to_snapshot();
    #[allow(clippy::expect_used)] // A fuzz property: a failure here is the finding.
    let restored = Ledger::from_snapshot(&snapshot).expect("a snapshot restores");
    assert_eq!(
        restored.to_snapshot(),
        snapshot,
        "a snapshot does not round-trip"
    );
    assert_eq!(restored.state(None).digest(), state.digest());
    kinds
}

/// Model snapshots (a store's cache of the state, read back on every restart): the input is
/// what follows the format line. Reading arbitrary bytes never panics and allocates in
/// proportion to them; a snapshot that reads back writes bytes that read back to the same
/// ledger, and writing those again gives the same bytes.
pub fn snapshot_target(data: &[u8]) {
    let mut bytes = format!("{}\n", hisaab_model::SNAPSHOT_FORMAT).into_bytes();
    bytes.extend_from_slice(data);
    let Ok(ledger) = Ledger::from_snapshot(&bytes) else {
        return;
    };
    let written = ledger.to_snapshot();
    #[allow(clippy::expect_used)] // A fuzz property: a failure here is the finding.
    let again = Ledger::from_snapshot(&written).expect("a written snapshot reads back");
    assert_eq!(again, ledger, "a snapshot reads back to another ledger");
    assert_eq!(
        again.to_snapshot(),
        written,
        "a snapshot is written two ways"
    );
}

/// The most statements one `apply` input appends.
const STATEMENTS_MAX: usize = 24;

/// Who signs: every member of the standard fixture, and a stranger.
const SIGNERS: &[u8] = &[
    seed::AUTHORITY,
    seed::CHAIR,
    seed::EVALUATOR,
    seed::CISO_INDUS,
    seed::CISO_KARAKORAM,
    seed::EVALUATOR_INDUS,
    seed::WITNESS,
    seed::AUTHORITY_2,
    seed::CHAIR_INDUS,
    seed::AUTHORITY_INDUS,
    seed::STRANGER,
];

/// The log key of the golden vectors (`tests/vectors/golden.json`), whose checkpoint and
/// bundle seed the corpus, so the fuzzer starts from notes that verify.
pub const GOLDEN_LOG_VKEY: &str =
    "golden.hisaab.example/tcstf+93c5820d+AaCapfR6Z1mAL/lV+NwtKhSlyZ0jvpf4ZBJ/+Tg0VaTw";

/// [`GOLDEN_LOG_VKEY`], parsed.
pub fn golden_verifier_key() -> VerifierKey {
    #[allow(clippy::expect_used)] // A constant, checked by the regression tests.
    VerifierKey::try_parse(GOLDEN_LOG_VKEY).expect("the golden log vkey parses")
}

/// The leaf hash of the `index`th leaf of the fuzz targets' trees: distinct for every index.
fn leaf(index: u64) -> Hash {
    merkle::leaf_hash(&index.to_be_bytes())
}

/// The root of `tree`'s first `size` leaves.
fn root_at(tree: &MemoryTree, size: u64) -> Hash {
    let mut prefix = MemoryTree::new();
    for index in 0..size {
        prefix.push_leaf(leaf(index));
    }
    debug_assert!(size <= tree.size());
    prefix.root()
}

/// Bytes read off the fuzzer's input, with zeros past its end.
struct Input<'a> {
    data: &'a [u8],
}

/// The largest tree a proof target builds: big enough for every proof shape, small enough to
/// keep an iteration in microseconds.
const TREE_LEAVES_MAX: u64 = 300;

impl<'a> Input<'a> {
    fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        out
    }

    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take::<8>())
    }

    fn bool(&mut self) -> bool {
        self.take::<1>()[0] & 1 == 1
    }

    fn hash(&mut self) -> Hash {
        Hash::from_bytes(self.take::<32>())
    }

    /// A tree of up to [`TREE_LEAVES_MAX`] distinct leaves.
    fn tree(&mut self) -> MemoryTree {
        let size = u64::from(u16::from_le_bytes(self.take::<2>())) % (TREE_LEAVES_MAX + 1);
        let mut tree = MemoryTree::new();
        for index in 0..size {
            tree.push_leaf(leaf(index));
        }
        tree
    }

    /// Up to 70 hashes straight from the input.
    fn hashes(&mut self) -> Vec<Hash> {
        let count = self.take::<1>()[0] % 70;
        (0..count).map(|_| self.hash()).collect()
    }

    /// The honest proof, a mutation of it, or hashes of the input's choosing.
    fn proof(&mut self, tree: &MemoryTree, index: u64, size: u64) -> Vec<Hash> {
        match (self.take::<1>()[0] % 3, tree.inclusion_proof(index, size)) {
            (0, Ok(honest)) => honest,
            (1, Ok(mut honest)) => {
                self.mutate(&mut honest);
                honest
            }
            _ => self.hashes(),
        }
    }

    /// One of `pool`.
    fn pick<T: Copy>(&mut self, pool: &[T]) -> T {
        pool[usize::from(self.take::<1>()[0]) % pool.len()]
    }

    /// A reference: one of the last few accepted entries (most of the time, so that chains
    /// such as submission → evaluation → dispute form), any earlier one, or an arbitrary hash.
    fn reference(&mut self, accepted: &[Hash]) -> Value {
        let choice = usize::from(self.take::<1>()[0]);
        match accepted.len() {
            0 => json!(Hash::ZERO.to_hex()),
            n if choice < 192 => json!(accepted[n - 1 - choice % n.min(4)].to_hex()),
            n if choice < 240 => json!(accepted[n - 1 - choice % n].to_hex()),
            _ => json!(self.hash().to_hex()),
        }
    }

    /// A body for `kind`: each field the kind may have, drawn from a pool of valid and invalid
    /// values; then, sometimes, a field dropped or an unknown one added.
    fn body(&mut self, kind: Kind, accepted: &[Hash]) -> Value {
        const OPERATORS: &[&str] = &["indus", "karakoram", "ravi", "Indus", ""];
        const KPIS: &[&str] = &["CR-01", "LG-01", "MN-01", "PA-07", "cr-01"];
        const PERIODS: &[&str] = &["2026-01", "2026-06", "2026-11", "2025-12", "2026-13"];
        const DATES: &[&str] = &["2026-12-31", "2026-11-15", "2027-02-29", "2026-06-30"];
        const DECIMALS: &[&str] = &["95", "97.5", "0", "-3", "1e3", "100.00"];
        const VERDICTS: &[&str] = &[
            "met",
            "partially_met",
            "not_met",
            "insufficient_evidence",
            "ok",
        ];
        const OUTCOMES: &[&str] = &["fulfilled", "missed", "withdrawn", "upheld", "overturned"];
        const IDS: &[&str] = &["c-1", "c-2", "d-1", "m-2026-01", "Bad Id"];
        const ROLES: &[&str] = &[
            "ciso",
            "evaluator",
            "chair",
            "authority",
            "witness",
            "admin",
        ];
        const PILLARS: &[&str] = &["legal", "resilience", "monitoring", "cooperation", "law"];
        const TEXTS: &[&str] = &["Reviewed", "", "a\u{1b}[31m", "Quarterly patch cycle"];
        const MEMBERS: &[&str] = &["chair", "eval", "ciso-indus", "newcomer", "pta-2"];
        let mut body = Map::new();
        let fields: &[&str] = match kind.as_str() {
            "operator.registered" => &["operator", "name"],
            "member.enrolled" => &["member", "name", "roles", "key", "?operator"],
            "member.key_rotated" => &["member", "new_key"],
            "member.revoked" => &["member", "reason"],
            "kpi.defined" => &[
                "kpi",
                "pillar",
                "title",
                "unit",
                "direction",
                "cadence",
                "evidence_required",
            ],
            "kpi.assigned" => &[
                "kpi",
                "operator",
                "target",
                "?baseline",
                "due",
                "first_period",
            ],
            "submission.filed" => &[
                "operator",
                "kpi",
                "period",
                "value",
                "evidence",
                "note",
                "?supersedes",
            ],
            "evaluation.recorded" => {
                &["submission", "verdict", "score", "rationale", "?supersedes"]
            }
            "commitment.made" => &[
                "commitment",
                "operator",
                "?kpi",
                "action",
                "due",
                "?in_response_to",
            ],
            "commitment.closed" => &["commitment", "outcome", "note"],
            "dispute.opened" => &["dispute", "evaluation", "grounds"],
            "dispute.resolved" => &["dispute", "outcome", "as_of", "state_digest", "rationale"],
            "challenge.raised" => &["challenge", "pillar", "?operator", "?kpi", "description"],
            "challenge.resolved" => &["challenge", "resolution"],
            "meeting.recorded" => &["meeting", "held_on", "attendees", "decisions"],
            "meeting.attested" => &["meeting"],
            _ => &["origin", "title", "log_key", "authority", "policy"],
        };
        for field in fields {
            // Optional fields ("?name") are present half of the time.
            let field = match field.strip_prefix('?') {
                Some(optional) if self.bool() => optional,
                Some(_) => continue,
                None => field,
            };
            let value = match field {
                "operator" => json!(self.pick(OPERATORS)),
                "kpi" => json!(self.pick(KPIS)),
                "period" | "first_period" => json!(self.pick(PERIODS)),
                "due" | "held_on" => json!(self.pick(DATES)),
                "value" | "target" | "baseline" => json!(self.pick(DECIMALS)),
                "verdict" => json!(self.pick(VERDICTS)),
                "score" => json!(self.take::<1>()[0] % 110),
                "roles" => json!([self.pick(ROLES)]),
                "pillar" => json!(self.pick(PILLARS)),
                "member" => json!(self.pick(MEMBERS)),
                "key" | "new_key" => {
                    let seed = self.take::<1>()[0] % 16;
                    json!(
                        PublicKey::from_signing_key(&SigningKey::from_bytes(&[seed; 32]))
                            .to_base64()
                    )
                }
                "direction" => json!(self.pick(&["higher_is_better", "lower_is_better", "up"])),
                "cadence" => json!(self.pick(&["monthly", "quarterly", "once", "weekly"])),
                "evidence_required" => json!(self.bool()),
                "evidence" => json!([]),
                "outcome" => json!(self.pick(OUTCOMES)),
                "as_of" => json!(u64::from(self.take::<1>()[0])),
                "commitment" | "dispute" | "challenge" | "meeting" => json!(self.pick(IDS)),
                "submission" | "evaluation" | "supersedes" | "in_response_to" | "state_digest" => {
                    self.reference(accepted)
                }
                "attendees" => json!([self.pick(MEMBERS), self.pick(MEMBERS)]),
                "decisions" => json!([self.pick(TEXTS)]),
                _ => json!(self.pick(TEXTS)),
            };
            body.insert(field.to_owned(), value);
        }
        match self.take::<1>()[0] % 8 {
            0 => {
                let index = usize::from(self.take::<1>()[0]) % fields.len().max(1);
                if let Some(field) = fields.get(index) {
                    body.remove(field.trim_start_matches('?'));
                }
            }
            1 => {
                body.insert("unexpected".to_owned(), json!(true));
            }
            _ => {}
        }
        Value::Object(body)
    }

    /// Drops, duplicates, swaps or flips one hash of `proof`.
    fn mutate(&mut self, proof: &mut Vec<Hash>) {
        if proof.is_empty() {
            proof.push(self.hash());
            return;
        }
        let [how, at] = self.take::<2>();
        let at = usize::from(at) % proof.len();
        match how % 4 {
            0 => {
                proof.remove(at);
            }
            1 => proof.insert(at, proof[at]),
            2 => {
                let last = proof.len() - 1;
                proof.swap(at, last);
            }
            _ => {
                let mut bytes = *proof[at].as_bytes();
                bytes[usize::from(how) % 32] ^= 1 | how;
                proof[at] = Hash::from_bytes(bytes);
            }
        }
    }
}
