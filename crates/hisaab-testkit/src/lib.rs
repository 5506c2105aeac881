//! # hisaab-testkit
//!
//! Test support for every crate of the workspace, and one cast of keys for all of them: fixed
//! keys from 32-byte seeds ([`seed`]), counter-built statement ids, fixed times, a [`Builder`]
//! that signs and seals entries onto a [`MemoryLedger`], and envelope-level fixtures for the
//! store ([`fixture`]). A dev-dependency only (`publish = false`): no production crate depends
//! on it (CI checks it with `cargo tree`). It panics on purpose when a test's setup is wrong.
// Test support: a wrong fixture is a broken test, and panicking says so loudest.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, missing_docs)]

pub mod fixture;

use hisaab_log::note::VerifierKey;
use hisaab_log::{
    Entry, Envelope, Hash, PublicKey, SealedEntry, SigningKey, Statement, StatementId, Timestamp,
};
use serde_json::{json, Value};

use hisaab_model::{MemoryLedger, Violation};

/// 2026-11-01T00:00:00Z: the recording time of entry 0 in fixtures.
pub const T0_UNIX_S: i64 = 1_793_491_200;
/// The origin of fixture ledgers.
pub const ORIGIN: &str = "hisaab.test/ledger";

/// Seeds of the keys of every fixture: one cast for the whole workspace. A test that needs
/// a key nobody else uses takes a seed in `11..=199`.
pub mod seed {
    pub const AUTHORITY: u8 = 1;
    pub const CHAIR: u8 = 2;
    pub const EVALUATOR: u8 = 3;
    pub const CISO_INDUS: u8 = 4;
    pub const CISO_KARAKORAM: u8 = 5;
    pub const EVALUATOR_INDUS: u8 = 6;
    pub const WITNESS: u8 = 7;
    pub const AUTHORITY_2: u8 = 8;
    pub const CHAIR_INDUS: u8 = 9;
    pub const AUTHORITY_INDUS: u8 = 10;
    /// A key no member holds.
    pub const STRANGER: u8 = 99;
    /// The log (checkpoint) key.
    pub const LOG: u8 = 200;
    /// Witness `n` of the store's fixture ([`crate::fixture::witness_key`]) has seed
    /// `WITNESSES + (n & 0x1f)`: 224..=255, which no other fixture key uses.
    pub const WITNESSES: u8 = 0xe0;
}

/// The signing key of a seed (all 32 bytes equal to `seed`).
pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// The public key of a seed.
pub fn public(seed: u8) -> PublicKey {
    PublicKey::from_signing_key(&key(seed))
}

/// The public key of a seed in base64.
pub fn public_b64(seed: u8) -> String {
    public(seed).to_base64()
}

/// A statement id from a counter: `00000000-0000-7000-8000-<12 hex digits>`.
pub fn uuid(n: u64) -> StatementId {
    StatementId::try_new(&format!(
        "00000000-0000-7000-8000-{:012x}",
        n & 0xffff_ffff_ffff
    ))
    .expect("a well-formed uuid")
}

/// A timestamp `s` seconds after the Unix epoch.
pub fn at(s: i64) -> Timestamp {
    Timestamp::from_unix_seconds(s).expect("a timestamp in range")
}

/// The log key's verifier key string, named by [`ORIGIN`].
pub fn log_vkey() -> String {
    VerifierKey::new(ORIGIN, public(seed::LOG))
        .expect("a valid key name")
        .to_vkey()
}

/// The standard genesis body: authority `pta`, policy max_future_skew_s = 300, max_age_s =
/// 86400.
pub fn genesis_body() -> Value {
    json!({
        "origin": ORIGIN,
        "title": "TCSTF accountability ledger (test)",
        "strategy": {"name": "Cyber Security Strategy for the Telecom Sector",
            "starts": "2023-01-01", "ends": "2028-12-31"},
        "log_key": log_vkey(),
        "authority": {"member": "pta", "name": "Pakistan Telecommunication Authority"},
        "policy": {"max_future_skew_s": 300, "max_age_s": 86400},
    })
}

/// Builds signed, sealed entries at fixed times onto a [`MemoryLedger`].
#[derive(Clone, Debug)]
pub struct Builder {
    /// The ledger built so far.
    pub ledger: MemoryLedger,
    /// The next statement id counter.
    pub next_id: u64,
    /// The `recorded_at` of the next entry, in Unix seconds.
    pub clock_s: i64,
    /// Seconds added to the clock after each entry.
    pub step_s: i64,
    /// Whether [`Builder::push`] verifies signatures ([`MemoryLedger::append`]) or not
    /// ([`MemoryLedger::append_unverified`]). Off by default: strict verification costs ~20 ms
    /// per entry in a debug build, and the rules never look at the signature.
    pub verify_signatures: bool,
    /// The `v` of the statements built: the ledger's format (1 unless made with
    /// [`Builder::of_format`]).
    pub format: u64,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// An empty ledger whose first entry is recorded at [`T0_UNIX_S`].
    pub fn new() -> Self {
        Builder {
            ledger: MemoryLedger::new(),
            next_id: 1,
            clock_s: T0_UNIX_S,
            step_s: 60,
            verify_signatures: false,
            format: 1,
        }
    }

    /// An empty ledger whose statements carry `v` = `format`.
    pub fn of_format(format: u64) -> Self {
        Builder {
            format,
            ..Builder::new()
        }
    }

    /// A ledger of format 2 holding the standard genesis.
    pub fn with_genesis_v2() -> Self {
        let mut builder = Builder::of_format(2);
        builder.append(seed::AUTHORITY, "ledger.genesis", genesis_body());
        builder
    }

    /// [`Builder::standard`] on a ledger of format 2 (SPEC §11).
    pub fn standard_v2() -> Self {
        static STANDARD: std::sync::OnceLock<Builder> = std::sync::OnceLock::new();
        STANDARD
            .get_or_init(|| Builder::build_standard_from(Builder::with_genesis_v2()))
            .clone()
    }

    /// A ledger holding the standard genesis signed by the authority key.
    pub fn with_genesis() -> Self {
        let mut builder = Builder::new();
        builder.append(seed::AUTHORITY, "ledger.genesis", genesis_body());
        builder
    }

    /// The standard fixture: genesis; operators `indus` and `karakoram`; members `chair` (chair),
    /// `eval` (evaluator), `ciso-indus`, `ciso-karakoram` (ciso), `eval-indus` (evaluator of operator
    /// indus), `witness-karakoram` (witness of karakoram), `pta-2` (a second authority), `chair-indus`
    /// (chair and evaluator of indus), `pta-indus` (an authority of indus); KPIs `CR-01`
    /// (resilience), `LG-01` (legal), `MN-01` (monitoring); `CR-01` and `LG-01` assigned to
    /// both operators (due 2026-12-31, first period 2026-01), `MN-01` to indus (due
    /// 2026-11-15).
    pub fn standard() -> Self {
        static STANDARD: std::sync::OnceLock<Builder> = std::sync::OnceLock::new();
        STANDARD.get_or_init(Builder::build_standard).clone()
    }

    fn build_standard() -> Self {
        Builder::build_standard_from(Builder::with_genesis())
    }

    fn build_standard_from(genesis: Builder) -> Self {
        let mut b = genesis;
        let a = seed::AUTHORITY;
        for (operator, name, blinding) in
            [("indus", "Indus", 0xb1), ("karakoram", "Karakoram", 0xb2)]
        {
            let mut body = json!({"operator": operator, "name": name});
            if b.format >= 2 {
                // Format 2: the blinding of the full-state digest tree (SPEC §12.8).
                body["blinding"] = json!(hisaab_log::Hash::from_bytes([blinding; 32]).to_hex());
            }
            b.append(a, "operator.registered", body);
        }
        for (member, roles, operator, s) in [
            ("chair", json!(["chair"]), None, seed::CHAIR),
            ("eval", json!(["evaluator"]), None, seed::EVALUATOR),
            (
                "ciso-indus",
                json!(["ciso"]),
                Some("indus"),
                seed::CISO_INDUS,
            ),
            (
                "ciso-karakoram",
                json!(["ciso"]),
                Some("karakoram"),
                seed::CISO_KARAKORAM,
            ),
            (
                "eval-indus",
                json!(["evaluator"]),
                Some("indus"),
                seed::EVALUATOR_INDUS,
            ),
            (
                "witness-karakoram",
                json!(["witness"]),
                Some("karakoram"),
                seed::WITNESS,
            ),
            ("pta-2", json!(["authority"]), None, seed::AUTHORITY_2),
            (
                "chair-indus",
                json!(["chair", "evaluator"]),
                Some("indus"),
                seed::CHAIR_INDUS,
            ),
            (
                "pta-indus",
                json!(["authority"]),
                Some("indus"),
                seed::AUTHORITY_INDUS,
            ),
        ] {
            let mut body = json!({"member": member, "name": member.to_uppercase(),
                "roles": roles, "key": public_b64(s)});
            if let Some(op) = operator {
                body["operator"] = json!(op);
            }
            b.append(a, "member.enrolled", body);
        }
        for (kpi, pillar) in [
            ("CR-01", "resilience"),
            ("LG-01", "legal"),
            ("MN-01", "monitoring"),
        ] {
            b.append(
                a,
                "kpi.defined",
                json!({"kpi": kpi, "pillar": pillar, "title": format!("KPI {kpi}"),
                    "unit": "%", "direction": "higher_is_better", "cadence": "monthly",
                    "evidence_required": true}),
            );
        }
        for operator in ["indus", "karakoram"] {
            for kpi in ["CR-01", "LG-01"] {
                b.append(
                    a,
                    "kpi.assigned",
                    assignment(kpi, operator, "95", "2026-12-31"),
                );
            }
        }
        b.append(
            a,
            "kpi.assigned",
            assignment("MN-01", "indus", "10", "2026-11-15"),
        );
        b
    }

    /// A statement of `kind` signed by `signer` with a fresh id, for this ledger, issued at the
    /// next entry's recording time.
    pub fn statement(&mut self, signer: u8, kind: &str, body: Value) -> Statement {
        let id = uuid(self.next_id);
        self.next_id += 1;
        Statement {
            v: self.format,
            ledger: if kind == "ledger.genesis" {
                None
            } else {
                self.ledger.ledger().ledger_id()
            },
            id,
            kind: kind.to_owned(),
            signer: public(signer),
            issued_at: at(self.clock_s),
            body: body.as_object().expect("a JSON object body").clone(),
        }
    }

    /// Signs `statement` with the key of `signer` and seals it at the next position and time.
    pub fn seal(&self, statement: Statement, signer: u8) -> SealedEntry {
        let envelope = Envelope::sign(statement, &key(signer)).expect("a canonical statement");
        self.seal_envelope(envelope)
    }

    /// Seals an envelope at the next position and time.
    pub fn seal_envelope(&self, envelope: Envelope) -> SealedEntry {
        let ledger = self.ledger.ledger();
        let entry = Entry::new(
            ledger.size(),
            ledger.last_event_hash(),
            at(self.clock_s),
            envelope,
        );
        SealedEntry::seal(entry).expect("a canonical entry")
    }

    /// The next entry for a statement of `kind` by `signer`, not appended.
    pub fn entry(&mut self, signer: u8, kind: &str, body: Value) -> SealedEntry {
        let statement = self.statement(signer, kind, body);
        self.seal(statement, signer)
    }

    /// Appends a sealed entry, advancing the clock on success.
    pub fn push(&mut self, entry: SealedEntry) -> Result<Hash, Violation> {
        let hash = entry.event_hash();
        if self.verify_signatures {
            self.ledger.append(entry)?;
        } else {
            self.ledger.append_unverified(entry)?;
        }
        self.clock_s += self.step_s;
        Ok(hash)
    }

    /// Builds and appends; returns the event hash or the violation.
    pub fn try_append(&mut self, signer: u8, kind: &str, body: Value) -> Result<Hash, Violation> {
        let entry = self.entry(signer, kind, body);
        self.push(entry)
    }

    /// Builds and appends; panics (test setup) on a violation.
    pub fn append(&mut self, signer: u8, kind: &str, body: Value) -> Hash {
        match self.try_append(signer, kind, body) {
            Ok(hash) => hash,
            Err(violation) => panic!("fixture entry refused: {violation}"),
        }
    }

    /// Moves the clock forward by `days`.
    pub fn advance_days(&mut self, days: i64) {
        self.clock_s += days * 86_400;
    }
}

/// A `kpi.assigned` body with first period 2026-01.
pub fn assignment(kpi: &str, operator: &str, target: &str, due: &str) -> Value {
    json!({"kpi": kpi, "operator": operator, "target": target, "due": due,
        "first_period": "2026-01"})
}

/// A `submission.filed` body with no evidence and an empty note.
pub fn submission(operator: &str, kpi: &str, period: &str, value: &str) -> Value {
    json!({"operator": operator, "kpi": kpi, "period": period, "value": value,
        "evidence": [], "note": ""})
}

/// An `evaluation.recorded` body.
pub fn evaluation(submission: Hash, verdict: &str, score: u8) -> Value {
    json!({"submission": submission, "verdict": verdict, "score": score,
        "rationale": "checked against the evidence"})
}
