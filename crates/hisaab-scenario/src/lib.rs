//! # hisaab-scenario
//!
//! A realistic, deterministic scenario: a year of the task force's work as signed envelopes.
//! It is demo data, not part of the model: it lives in its own crate so that the pure
//! `hisaab-model` carries no fixtures, and only the CLI's `demo`, the tests and the benches
//! depend on it.
//!
//! [`build`] writes the ledger that `hisaab demo` serves and that the tests replay: five
//! fictional operators, the six pillars of the strategy with three KPIs each, a year of monthly
//! submissions with evidence, evaluations of every verdict, commitments and challenges, key
//! rotations, a revoked CISO and the one who replaced them, monthly meetings with attestations,
//! and disputes resolved both ways. Every name is invented; no real operator or person appears.
//!
//! The scenario is a pure function of its [`ScenarioConfig`]: keys are derived from the seed, a
//! splitmix64 generator seeded from it chooses values and minutes, and times follow a fixed
//! calendar from [`ScenarioConfig::start`]. The same configuration always gives the same bytes.
//! While building, every step is appended to a [`MemoryLedger`], so a scenario that builds is
//! one the model's rules (SPEC §4) accept, and each dispute resolution carries the real digest
//! of the state it names. Signatures are verified when the steps are replayed by
//! [`Scenario::into_memory_ledger`].
//!
//! The default scenario has about 620 steps and builds in about 0.2 s in a release build
//! (most of it Ed25519 signing).

#![deny(missing_docs)]

use std::collections::BTreeMap;

use hisaab_log::note::{NoteError, VerifierKey};
use hisaab_log::seal::{FieldOpenings, Sealing, Seed};
use hisaab_log::{
    Date, Entry, Envelope, FormatError, Hash, Period, PublicKey, SealedEntry, SigningKey,
    Statement, StatementId, Timestamp,
};
use serde_json::{json, Value};

use hisaab_model::{Cadence, MemoryLedger, Violation};

/// The seed of the default scenario.
pub const DEFAULT_SEED: u64 = 0x4849_5341_4142_2026;

/// The default number of reporting months.
pub const DEFAULT_MONTHS: u32 = 12;

/// The fewest reporting months a scenario can tell its story in.
pub const MONTHS_MIN: u32 = 6;

/// The most reporting months a scenario may span.
pub const MONTHS_MAX: u32 = 60;

/// The default origin (checkpoint key name) of the scenario's ledger.
pub const DEFAULT_ORIGIN: &str = "tcstf.example/hisaab";

/// How the scenario is built. The same configuration always gives the same scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioConfig {
    /// Seeds the keys, the values and the wording.
    pub seed: u64,
    /// Reporting months: submissions cover periods `start` .. `start + months - 1`, each filed
    /// in the following month. Between [`MONTHS_MIN`] and [`MONTHS_MAX`].
    pub months: u32,
    /// The first reporting period. Only its month matters: the ledger opens on the first of
    /// that month and the scenario ends in the month after the last period.
    pub start: Date,
    /// The ledger's origin, a C2SP key name.
    pub origin: String,
    /// The ledger's format: 2 (SPEC §11, the default) or 1.
    pub format: u64,
}

impl Default for ScenarioConfig {
    /// Seed [`DEFAULT_SEED`], twelve months from 2025-12, origin [`DEFAULT_ORIGIN`], format 2.
    fn default() -> Self {
        #[allow(clippy::expect_used)] // A fixed, real calendar date.
        let start = Date::new(2025, 12, 1).expect("2025-12-01 is a calendar date");
        ScenarioConfig {
            seed: DEFAULT_SEED,
            months: DEFAULT_MONTHS,
            start,
            origin: DEFAULT_ORIGIN.to_owned(),
            format: 2,
        }
    }
}

/// A member of the scenario, with every key it ever held.
#[derive(Clone, Debug)]
pub struct Actor {
    /// The member id (a slug).
    pub member: String,
    /// The member's display name.
    pub name: String,
    /// The roles it was enrolled with.
    pub roles: Vec<String>,
    /// The operator its record names, if any.
    pub operator: Option<String>,
    /// Its current key at the end of the scenario (for a revoked member, its last key).
    pub key: SigningKey,
    /// Keys rotated away, oldest first.
    pub former_keys: Vec<SigningKey>,
    /// Whether the member is revoked at the end of the scenario.
    pub revoked: bool,
}

/// One statement of the scenario, in ledger order.
#[derive(Clone, Debug)]
pub struct Step {
    /// The signed statement.
    pub envelope: Envelope,
    /// The time the ledger should record it at; never decreases along the steps.
    pub recorded_at: Timestamp,
    /// What happens, in words (for logs and the demo).
    pub label: String,
}

/// A built scenario: the keys of everyone involved and the statements in order.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The ledger's log key, which signs checkpoints.
    pub log_key: SigningKey,
    /// The ledger's origin (genesis `body.origin`).
    pub origin: String,
    /// Every member, the genesis authority first, including rotated and revoked ones.
    pub actors: Vec<Actor>,
    /// The statements, in the order the ledger appends them (step `i` is entry `i`).
    pub steps: Vec<Step>,
}

/// Why a scenario could not be built or replayed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// `months` is out of range.
    #[error("a scenario spans {min}..={max} months, not {found}")]
    Months {
        /// The number asked for.
        found: u32,
        /// [`MONTHS_MIN`].
        min: u32,
        /// [`MONTHS_MAX`].
        max: u32,
    },
    /// The calendar ran out (a date past year 9999).
    #[error("the scenario's calendar runs past year 9999")]
    Calendar,
    /// A value did not have the form of SPEC §1–2.
    #[error("a scenario value is malformed")]
    Format(#[from] FormatError),
    /// The origin is not a C2SP key name.
    #[error("the scenario's origin cannot name the log key")]
    Note(#[from] NoteError),
    /// The model refused a step: the scenario and the rules of SPEC §4 disagree.
    #[error("the ledger refused step {seq} ({label})")]
    Rejected {
        /// The step's index, which is its seq.
        seq: u64,
        /// The step's label.
        label: String,
        /// The rule it broke.
        #[source]
        source: Violation,
    },
    /// A body did not seal (SPEC §12.4).
    #[error(transparent)]
    Seal(#[from] hisaab_log::seal::SealError),
    /// The builder lost track of something it wrote (a bug in this module).
    #[error("scenario bookkeeping: {what}")]
    Bookkeeping {
        /// What was missing.
        what: &'static str,
    },
}

/// Builds the scenario described by `config`.
///
/// ```
/// use hisaab_scenario::{build, ScenarioConfig};
///
/// let scenario = build(&ScenarioConfig::default())?;
/// let ledger = scenario.into_memory_ledger()?;
/// assert_eq!(ledger.entries().len(), scenario.steps.len());
/// # Ok::<(), hisaab_scenario::ScenarioError>(())
/// ```
///
/// # Errors
/// [`ScenarioError::Months`] when `months` is out of range, [`ScenarioError::Note`] for an
/// origin that is not a key name, [`ScenarioError::Calendar`] when the dates run past 9999,
/// and [`ScenarioError::Rejected`] if the model refuses a step.
pub fn build(config: &ScenarioConfig) -> Result<Scenario, ScenarioError> {
    if !(MONTHS_MIN..=MONTHS_MAX).contains(&config.months) {
        return Err(ScenarioError::Months {
            found: config.months,
            min: MONTHS_MIN,
            max: MONTHS_MAX,
        });
    }
    let mut builder = Builder::new(config)?;
    builder.setup()?;
    for month in 1..=config.months {
        builder.reporting_month(month)?;
    }
    Ok(builder.finish())
}

impl Scenario {
    /// Seals the steps into entries: seq `i`, `prev` the event hash of entry `i - 1` (zeros for
    /// entry 0) and each step's `recorded_at`.
    ///
    /// # Errors
    /// [`ScenarioError::Format`] when an entry cannot be canonicalised.
    pub fn sealed_entries(&self) -> Result<Vec<SealedEntry>, ScenarioError> {
        let mut prev = Hash::ZERO;
        let mut sealed = Vec::with_capacity(self.steps.len());
        for (seq, step) in (0u64..).zip(&self.steps) {
            let entry = Entry::new(seq, prev, step.recorded_at.clone(), step.envelope.clone());
            let entry = SealedEntry::seal(entry)?;
            prev = entry.event_hash();
            sealed.push(entry);
        }
        Ok(sealed)
    }

    /// Appends every step to a new [`MemoryLedger`], checking each against the rules.
    ///
    /// # Errors
    /// [`ScenarioError::Rejected`] naming the first step the model refuses, or
    /// [`ScenarioError::Format`] when an entry cannot be canonicalised.
    pub fn into_memory_ledger(&self) -> Result<MemoryLedger, ScenarioError> {
        let mut ledger = MemoryLedger::new();
        for ((seq, entry), step) in (0u64..).zip(self.sealed_entries()?).zip(&self.steps) {
            ledger
                .append(entry)
                .map_err(|source| ScenarioError::Rejected {
                    seq,
                    label: step.label.clone(),
                    source,
                })?;
        }
        Ok(ledger)
    }

    /// The actor with member id `member`.
    pub fn actor(&self, member: &str) -> Option<&Actor> {
        self.actors.iter().find(|a| a.member == member)
    }

    /// The scenario as a ledger of sealed entries (format 2, SPEC §12): each statement's
    /// body sealed with [`hisaab_model::sealed::seal_statement`] and signed again by its
    /// signer, each `operator.registered` given its `blinding`, the references between
    /// entries and the digests `dispute.resolved` cites rewritten for the new chain, and every
    /// entry appended with its openings to a [`MemoryLedger`] (the full replay, every rule
    /// checked). The demo is deterministic, so its seeds and blindings are derived, not drawn:
    /// seed = SHA-256(`hisaab/demo/seal-seed\n` || ledger id || u64be(seq)), blinding =
    /// SHA-256(`hisaab/demo/blinding\n` || ledger id || operator id). A real signer draws its
    /// seed from the OS (SPEC §12.3). A format-1 scenario comes back with no sealing.
    ///
    /// # Errors
    /// [`ScenarioError::Rejected`] if the model refuses an entry, [`ScenarioError::Seal`] if
    /// a body does not seal, [`ScenarioError::Format`] for an entry that cannot be
    /// canonicalised.
    pub fn sealed(&self) -> Result<SealedScenario, ScenarioError> {
        let mut keys: BTreeMap<PublicKey, &SigningKey> = BTreeMap::new();
        for actor in &self.actors {
            for key in std::iter::once(&actor.key).chain(&actor.former_keys) {
                keys.insert(PublicKey::from_signing_key(key), key);
            }
        }
        let mut renamed: BTreeMap<String, String> = BTreeMap::new();
        let mut ledger = MemoryLedger::new();
        let mut steps = Vec::with_capacity(self.steps.len());
        let (mut prev, mut old_prev, mut ledger_id) = (Hash::ZERO, Hash::ZERO, Hash::ZERO);
        for (seq, step) in (0u64..).zip(&self.steps) {
            let old = SealedEntry::seal(Entry::new(
                seq,
                old_prev,
                step.recorded_at.clone(),
                step.envelope.clone(),
            ))?;
            old_prev = old.event_hash();
            let mut statement = step.envelope.statement.clone();
            let mut body = Value::Object(std::mem::take(&mut statement.body));
            rename_hashes(&mut body, &renamed);
            let Value::Object(mut body) = body else {
                return Err(ScenarioError::Bookkeeping {
                    what: "a body that is an object",
                });
            };
            let derive = |domain: &str, tail: &[u8]| {
                let mut bytes = domain.as_bytes().to_vec();
                bytes.extend_from_slice(ledger_id.as_bytes());
                bytes.extend_from_slice(tail);
                Hash::sha256(&bytes)
            };
            if statement.v >= 2 && statement.kind == "operator.registered" {
                let operator = body.get("operator").and_then(Value::as_str).unwrap_or("");
                let blinding = derive("hisaab/demo/blinding\n", operator.as_bytes());
                body.insert("blinding".into(), Value::String(blinding.to_hex()));
            }
            if statement.kind == "dispute.resolved" {
                let as_of = body.get("as_of").and_then(Value::as_u64).unwrap_or(0);
                let digest = ledger
                    .ledger_at(as_of)
                    .ok()
                    .and_then(|at| at.resolution_digest().ok())
                    .ok_or(ScenarioError::Bookkeeping {
                        what: "the state a resolution cites",
                    })?;
                body.insert("state_digest".into(), Value::String(digest.to_hex()));
            }
            if statement.kind == "report.published" {
                // The sealed chain's blindings differ: the digest (and, for safety, the
                // aggregates) are of the sealed full state at `as_of`.
                let as_of = body.get("as_of").and_then(Value::as_u64).unwrap_or(0);
                let at = ledger
                    .ledger_at(as_of)
                    .ok()
                    .ok_or(ScenarioError::Bookkeeping {
                        what: "the state a report is of",
                    })?;
                let digest = at
                    .resolution_digest()
                    .ok()
                    .ok_or(ScenarioError::Bookkeeping {
                        what: "the full-state digest a report names",
                    })?;
                body.insert("state_digest".into(), Value::String(digest.to_hex()));
                let pillars = hisaab_model::view::sector_aggregates(&at.state(None));
                body.insert(
                    "pillars".into(),
                    serde_json::to_value(pillars).map_err(|_| ScenarioError::Bookkeeping {
                        what: "a report's aggregates",
                    })?,
                );
            }
            if statement.kind == "disclosure.recorded" {
                let digest = disclosure_digest(&body, &steps, ledger_id)?;
                body.insert("disclosure_sha256".into(), Value::String(digest.to_hex()));
            }
            statement.body = body;
            let seed =
                Seed::from_bytes(*derive("hisaab/demo/seal-seed\n", &seq.to_be_bytes()).as_bytes());
            let (statement, sealing) = hisaab_model::sealed::seal_statement(&statement, &seed)?;
            let key = keys
                .get(&statement.signer)
                .ok_or(ScenarioError::Bookkeeping {
                    what: "the signer's key",
                })?;
            let envelope = Envelope::sign(statement, key)?;
            let entry =
                SealedEntry::seal(Entry::new(seq, prev, step.recorded_at.clone(), envelope))?;
            prev = entry.event_hash();
            if seq == 0 {
                ledger_id = prev;
            }
            renamed.insert(old.event_hash().to_hex(), entry.event_hash().to_hex());
            let (sealing, openings) = sealing.map_or((None, None), |(s, o)| (Some(s), Some(o)));
            ledger
                .append_opened(entry.clone(), openings.clone())
                .map_err(|source| ScenarioError::Rejected {
                    seq,
                    label: step.label.clone(),
                    source,
                })?;
            steps.push(SealedStep {
                entry,
                sealing,
                openings,
            });
        }
        Ok(SealedScenario { steps, ledger })
    }
}

/// The SHA-256 of the disclosure a sealed `disclosure.recorded` body records (SPEC §12.7),
/// made from the openings of the entries it names among `steps`.
fn disclosure_digest(
    body: &serde_json::Map<String, Value>,
    steps: &[SealedStep],
    ledger_id: Hash,
) -> Result<Hash, ScenarioError> {
    let bookkeeping = |what| ScenarioError::Bookkeeping { what };
    let record: hisaab_model::body::DisclosureRecordedBody =
        serde_json::from_value(Value::Object(body.clone()))
            .map_err(|_| bookkeeping("a disclosure record"))?;
    let mut chosen = Vec::new();
    for item in &record.entries {
        let step = steps
            .iter()
            .find(|s| s.entry.event_hash() == item.entry)
            .ok_or(bookkeeping("the entry a disclosure names"))?;
        chosen.push(hisaab_log::seal::Choice {
            seq: step.entry.entry().seq,
            fields: item.fields.iter().map(String::as_str).collect(),
        });
    }
    let disclosure =
        hisaab_log::seal::Disclosure::build(ledger_id, record.to.as_str(), &chosen, |seq| {
            let step = steps.get(usize::try_from(seq).ok()?)?;
            Some(hisaab_log::seal::Openings {
                seq,
                event_hash: step.entry.event_hash(),
                kind: step.entry.entry().statement.kind.clone(),
                fields: step.openings.clone()?,
            })
        })
        .map_err(|_| bookkeeping("a disclosure of the openings"))?;
    hisaab_model::disclosure_record(&disclosure)
        .map(|r| r.disclosure_sha256)
        .map_err(|_| bookkeeping("a disclosure's SHA-256"))
}

/// Replaces every string of `value` that is a key of `renamed` (an old event hash) by its
/// value.
fn rename_hashes(value: &mut Value, renamed: &BTreeMap<String, String>) {
    match value {
        Value::String(text) => {
            if let Some(new) = renamed.get(text.as_str()) {
                text.clone_from(new);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rename_hashes(v, renamed)),
        Value::Object(map) => map.values_mut().for_each(|v| rename_hashes(v, renamed)),
        _ => {}
    }
}

/// One entry of [`Scenario::sealed`].
#[derive(Clone, Debug)]
pub struct SealedStep {
    /// The entry, its body sealed.
    pub entry: SealedEntry,
    /// What its signer sends beside the envelope (SPEC §12.5), for a kind that seals fields.
    pub sealing: Option<Sealing>,
    /// Its openings (SPEC §12.6), for a kind that seals fields.
    pub openings: Option<FieldOpenings>,
}

/// The scenario as sealed entries, and their full replay.
#[derive(Clone, Debug)]
pub struct SealedScenario {
    /// The entries in order.
    pub steps: Vec<SealedStep>,
    /// Every entry appended with its openings.
    pub ledger: MemoryLedger,
}

// ---------------------------------------------------------------------------------------------
// The cast and the catalogue.

/// The six pillars of SPEC §4, in order.
const PILLARS: [&str; 6] = [
    "legal",
    "resilience",
    "monitoring",
    "capacity",
    "cooperation",
    "awareness",
];

/// Who the demo's disclosure is for, and the fields it discloses (SPEC §12.7).
const DISCLOSED_TO: &str = "The Islamabad High Court (writ petition 1234 of 2026)";
const DISCLOSED_FIELDS: [&str; 2] = ["value", "evidence"];

/// The genesis authority's member id.
const AUTHORITY: &str = "pta";
/// The task force chair's member id.
const CHAIR: &str = "tcstf-chair";
/// An evaluator seconded from an operator, who never evaluates that operator.
const SECONDED_EVALUATOR: &str = "eval-farhan";
/// The evaluator whose key the authority rotates.
const ROTATED_BY_AUTHORITY: &str = "eval-bilal";
/// The CISO who rotates their own key.
const ROTATES_OWN_KEY: &str = "ciso-karakoram";
/// The CISO who is revoked, and the one enrolled in their place.
const REVOKED_CISO: &str = "ciso-ravi";
const REPLACEMENT_CISO: (&str, &str) = ("ciso-ravi-2", "Hina Javed");

struct OperatorSpec {
    id: &'static str,
    name: &'static str,
    ciso: &'static str,
    ciso_name: &'static str,
}

const OPERATORS: [OperatorSpec; 5] = [
    OperatorSpec {
        id: "indus-mobile",
        name: "Indus Mobile",
        ciso: "ciso-indus",
        ciso_name: "Imran Baig",
    },
    OperatorSpec {
        id: "karakoram-telecom",
        name: "Karakoram Telecom",
        ciso: "ciso-karakoram",
        ciso_name: "Nadia Karim",
    },
    OperatorSpec {
        id: "margalla-networks",
        name: "Margalla Networks",
        ciso: "ciso-margalla",
        ciso_name: "Usman Tariq",
    },
    OperatorSpec {
        id: "ravi-communications",
        name: "Ravi Communications",
        ciso: "ciso-ravi",
        ciso_name: "Kamran Aslam",
    },
    OperatorSpec {
        id: "sindh-link",
        name: "Sindh Link",
        ciso: "ciso-sindh",
        ciso_name: "Zainab Soomro",
    },
];

/// Members other than the CISOs: (member, name, roles, operator index).
const STAFF: [(&str, &str, &[&str], Option<usize>); 7] = [
    (CHAIR, "Dr. Samina Qureshi", &["chair", "evaluator"], None),
    ("eval-ayesha", "Ayesha Rahman", &["evaluator"], None),
    (ROTATED_BY_AUTHORITY, "Bilal Hashmi", &["evaluator"], None),
    (
        SECONDED_EVALUATOR,
        "Farhan Siddiqui",
        &["evaluator"],
        Some(0),
    ),
    (
        "witness-indus",
        "Indus Mobile log monitor",
        &["witness"],
        Some(0),
    ),
    (
        "witness-margalla",
        "Margalla Networks log monitor",
        &["witness"],
        Some(2),
    ),
    (
        "witness-sindh",
        "Sindh Link log monitor",
        &["witness"],
        Some(4),
    ),
];

/// A KPI of the catalogue. Baselines and targets are in tenths of the unit.
struct KpiSpec {
    id: &'static str,
    title: &'static str,
    unit: &'static str,
    lower_is_better: bool,
    cadence: Cadence,
    evidence_required: bool,
    baseline_tenths: i64,
    target_tenths: i64,
    /// Whether values carry one decimal place (else whole numbers).
    tenths: bool,
    /// The documents a submission attaches.
    documents: [&'static str; 3],
}

impl KpiSpec {
    fn percent(&self) -> bool {
        self.unit.starts_with('%')
    }
}

#[allow(clippy::too_many_arguments)] // A row of the catalogue: one argument per column.
const fn kpi(
    id: &'static str,
    title: &'static str,
    unit: &'static str,
    lower_is_better: bool,
    cadence: Cadence,
    evidence_required: bool,
    (baseline_tenths, target_tenths, tenths): (i64, i64, bool),
    documents: [&'static str; 3],
) -> KpiSpec {
    KpiSpec {
        id,
        title,
        unit,
        lower_is_better,
        cadence,
        evidence_required,
        baseline_tenths,
        target_tenths,
        tenths,
        documents,
    }
}

/// Three KPIs per pillar, in the order of [`PILLARS`]. The first of each pillar is monthly.
/// Columns: id, title, unit, lower is better, cadence, evidence required, (baseline, target in
/// tenths, values in tenths), documents.
#[rustfmt::skip] // A table reads better in columns than one argument per line.
const CATALOGUE: [[KpiSpec; 3]; 6] = [
    [
        kpi("LF-01", "Open findings of the regulatory cyber security compliance audit",
            "findings", true, Cadence::Monthly, true, (240, 50, false),
            ["audit-tracker.xlsx", "remediation-plan.pdf", "board-summary.pdf"]),
        kpi("LF-02", "Legal and regulatory compliance gap assessments completed",
            "assessments", false, Cadence::Quarterly, true, (0, 40, false),
            ["gap-assessment.pdf", "legal-opinion.pdf", "sign-off.pdf"]),
        kpi("LF-03", "Cyber security policies approved by the board and aligned with the strategy",
            "% of policies", false, Cadence::Once, true, (400, 1000, false),
            ["policy-register.xlsx", "board-resolution.pdf", "mapping.pdf"]),
    ],
    [
        kpi("CR-01", "Median critical-patch latency, vendor release to deployment",
            "days", true, Cadence::Monthly, true, (450, 140, true),
            ["patch-export.csv", "change-tickets.csv", "exceptions.pdf"]),
        kpi("CR-02", "Critical systems whose backups were restored in a test this quarter",
            "% of systems", false, Cadence::Quarterly, true, (550, 950, true),
            ["restore-test-log.csv", "dr-report.pdf", "sign-off.pdf"]),
        kpi("CR-03", "Internet-facing systems passing the external vulnerability scan",
            "% of systems", false, Cadence::Monthly, true, (700, 980, true),
            ["scan-summary.pdf", "scan-export.json", "exceptions.pdf"]),
    ],
    [
        kpi("PM-01", "Critical assets covered by 24x7 security operations centre monitoring",
            "% of assets", false, Cadence::Monthly, true, (600, 1000, true),
            ["soc-coverage.xlsx", "siem-sources.csv", "asset-register.xlsx"]),
        kpi("PM-02", "Significant incidents reported to the sector CERT within 24 hours",
            "% of incidents", false, Cadence::Monthly, true, (500, 950, true),
            ["incident-register.xlsx", "cert-acknowledgements.pdf", "timeline.pdf"]),
        kpi("PM-03", "Mean time to contain high-severity incidents",
            "hours", true, Cadence::Quarterly, true, (720, 240, true),
            ["incident-metrics.csv", "post-incident-reviews.pdf", "soc-report.pdf"]),
    ],
    [
        kpi("CB-01", "Staff who completed cyber security training this year",
            "staff", false, Cadence::Monthly, true, (1200, 40000, false),
            ["lms-completions.csv", "training-plan.pdf", "attendance.xlsx"]),
        kpi("CB-02", "Tabletop exercises conducted with the incident response team",
            "exercises", false, Cadence::Quarterly, true, (0, 40, false),
            ["exercise-report.pdf", "lessons-learned.pdf", "participants.xlsx"]),
        kpi("CB-03", "Security staff holding a recognised professional certification",
            "certified staff", false, Cadence::Once, true, (40, 250, false),
            ["certificates.zip", "hr-register.xlsx", "training-budget.pdf"]),
    ],
    [
        kpi("CC-01", "Threat-intelligence indicators shared with the sector CERT",
            "indicators", false, Cadence::Monthly, true, (500, 5000, false),
            ["misp-export.json", "sharing-log.csv", "cert-receipt.pdf"]),
        kpi("CC-02", "Joint incident-response drills held with other operators",
            "drills", false, Cadence::Quarterly, true, (0, 20, false),
            ["drill-report.pdf", "participants.xlsx", "after-action.pdf"]),
        kpi("CC-03", "Information-sharing agreements signed with sector peers",
            "agreements", false, Cadence::Once, true, (0, 40, false),
            ["agreements.zip", "legal-review.pdf", "register.xlsx"]),
    ],
    [
        kpi("PA-01", "Public cyber security awareness campaigns run this year",
            "campaigns", false, Cadence::Monthly, true, (0, 120, false),
            ["campaign-plan.pdf", "media-report.pdf", "reach-survey.xlsx"]),
        kpi("PA-02", "Subscribers reached by anti-fraud SMS alerts",
            "% of subscribers", false, Cadence::Quarterly, false, (200, 900, true),
            ["sms-delivery.csv", "campaign-text.pdf", "survey.xlsx"]),
        kpi("PA-03", "Fraud and phishing reports from the public resolved within 48 hours",
            "% of reports", false, Cadence::Monthly, true, (400, 900, true),
            ["complaints-register.xlsx", "resolution-times.csv", "qa-sample.pdf"]),
    ],
];

/// The KPI defined late in the scenario, assigned but never reported on (status `pending`).
#[rustfmt::skip] // As the catalogue.
const LATE_KPI: KpiSpec =
    kpi("PM-04", "Critical network functions with a post-quantum cryptography migration plan",
        "% of functions", false, Cadence::Once, true, (0, 1000, false),
        ["pqc-inventory.xlsx", "migration-plan.pdf", "vendor-letters.pdf"]);
/// The operator the late KPI is assigned to.
const LATE_KPI_OPERATOR: usize = 3;

/// How a KPI's values develop over the year, as per mille of the way from baseline to target.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Profile {
    /// Reaches the target in the second half of the year.
    Meets,
    /// Meets the target almost from the start.
    Early,
    /// Ends partly met.
    Partial,
    /// Ends far from the target.
    Misses,
    /// Meets the target but files the last period without evidence.
    NoEvidenceAtEnd,
}

impl Profile {
    fn permille(self, index: u32, months: u32) -> i64 {
        let (from, to) = match self {
            Profile::Meets | Profile::NoEvidenceAtEnd => (350, 1120),
            Profile::Early => (1080, 1150),
            Profile::Partial => (250, 820),
            Profile::Misses => (150, 420),
        };
        let span = i64::from(months.saturating_sub(1).max(1));
        from + (to - from) * i64::from(index) / span
    }
}

// Pairs (operator index, pillar index) that carry the story. Operator `o` is assigned, in pillar
// `p`, the KPI `(o + p) % 3` of that pillar, so every pair below is a monthly KPI.
/// Its last evaluation is disputed and the dispute stays open (status `disputed`).
const DISPUTED_AT_END: (usize, usize) = (0, 0);
/// Its target is revised by a second assignment half-way through.
const REVISED_TARGET: (usize, usize) = (0, 3);
/// Its last submission is not evaluated (status `submitted`).
const SUBMITTED_AT_END: (usize, usize) = (1, 2);
/// Filed once without evidence, then superseded by a resubmission with evidence.
const RESUBMITTED: (usize, usize) = (1, 5);
/// An evaluation of it is disputed and overturned, then evaluated again.
const OVERTURNED: (usize, usize) = (2, 1);
/// An evaluation of it is disputed and upheld.
const UPHELD: (usize, usize) = (4, 2);
/// An evaluation of it is superseded by the chair's review.
const SUPERSEDED_EVALUATION: (usize, usize) = (3, 3);
/// Due before the end and not met (status `overdue`).
const OVERDUE: [(usize, usize); 2] = [(3, 0), (4, 2)];
/// The last period is filed without evidence (verdict `insufficient_evidence`).
const INSUFFICIENT_AT_END: (usize, usize) = (4, 5);
/// On a ledger of format 2, the report of its third-last period is never filed (a missing
/// report the obligations list, SPEC §11.4).
const MISSED_REPORT: (usize, usize) = (2, 4);
/// Format 2: the pair whose assignment is withdrawn mid-year (SPEC §11.12): its reports stop.
const WITHDRAWN: (usize, usize) = (2, 3);
/// Format 2: the operator that leaves the task force at the end of the year.
const LEAVING: usize = 2;

fn profile_of(pair: (usize, usize)) -> Profile {
    match pair {
        (0, 0) | (1, 4) | (2, 4) | (3, 0) => Profile::Misses,
        (0, 1) | (1, 2) | (2, 0) | (3, 5) | (4, 2) => Profile::Partial,
        (2, 1) => Profile::Early,
        (4, 5) => Profile::NoEvidenceAtEnd,
        _ => Profile::Meets,
    }
}

/// Decisions a monthly meeting may take.
const DECISIONS: [&str; 10] = [
    "Operators to report patch exceptions with a named risk owner.",
    "The sector CERT to circulate a common incident-report template.",
    "Evaluators to sample evidence files for every operator each quarter.",
    "Awareness campaigns to be coordinated to avoid duplicate SMS alerts.",
    "Witnesses to cosign checkpoints at least daily.",
    "Operators to name a deputy CISO with ledger signing rights.",
    "Tabletop scenario for next quarter: SIM-swap fraud at scale.",
    "Threat-intelligence sharing to move to a common MISP instance.",
    "Commitments past due to be reviewed at the next meeting.",
    "Minutes to be attested on the ledger within five days.",
];

// ---------------------------------------------------------------------------------------------
// The builder.

/// A deterministic generator (splitmix64), so that the same seed gives the same scenario.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..=high` (`low` when the range is empty).
    fn range(&mut self, low: i64, high: i64) -> i64 {
        let width = u64::try_from(high.saturating_sub(low)).unwrap_or(0);
        let offset = self.next_u64() % width.saturating_add(1).max(1);
        low.saturating_add(i64::try_from(offset).unwrap_or(0))
    }

    /// An index below `len` (0 when `len` is 0).
    fn index(&mut self, len: usize) -> usize {
        let len = u64::try_from(len).unwrap_or(u64::MAX).max(1);
        usize::try_from(self.next_u64() % len).unwrap_or(0)
    }
}

/// A KPI as assigned to an operator.
struct Pair {
    operator: usize,
    pillar: usize,
    spec: &'static KpiSpec,
    profile: Profile,
    baseline_tenths: i64,
    target_tenths: i64,
    due: Date,
}

#[derive(Clone)]
struct EvaluationRecord {
    hash: Hash,
    verdict: &'static str,
    score: u64,
}

/// The non-superseded submission of a pair and period, and its effective evaluation.
struct SubmissionRecord {
    hash: Hash,
    value_tenths: i64,
    with_evidence: bool,
    evaluation: Option<EvaluationRecord>,
}

struct Builder {
    /// The ledger's format, every statement's `v`.
    format: u64,
    months: u32,
    seed: u64,
    /// The first period's year and month.
    first: (u16, u8),
    origin: String,
    log_key: SigningKey,
    rng: SplitMix64,
    clock_ms: i64,
    counter: u64,
    ledger: MemoryLedger,
    ledger_id: Option<Hash>,
    prev: Hash,
    steps: Vec<Step>,
    actors: Vec<Actor>,
    /// The CISO currently signing for each operator.
    cisos: [String; 5],
    pairs: Vec<Pair>,
    /// Keyed by (pair index, period index).
    submissions: BTreeMap<(usize, u32), SubmissionRecord>,
    /// The first report filed, whose note names a member of the operator's staff.
    person_note: Option<Hash>,
    /// The last evaluation recorded for each pair, for commitments to respond to.
    last_evaluation: BTreeMap<usize, Hash>,
    challenges: BTreeMap<&'static str, Hash>,
    /// Whether the dispute to overturn was opened (and resolved).
    overturned: bool,
    upheld_dispute: Option<String>,
    /// Format 2: whether the assignment of [`WITHDRAWN`] was withdrawn.
    withdrawn: bool,
}

impl Builder {
    /// The genesis policy: the time window, and on a ledger of format 2 the deadlines of the
    /// cycle (reports 15 days after their month, evaluations within 30 days, decisions within
    /// 30 days).
    fn policy(&self) -> Value {
        let mut policy = json!({"max_future_skew_s": 300, "max_age_s": 86_400});
        if self.format >= 2 {
            policy["filing_days"] = json!(15);
            policy["evaluation_days"] = json!(30);
            policy["decision_days"] = json!(30);
        }
        policy
    }

    fn new(config: &ScenarioConfig) -> Result<Self, ScenarioError> {
        let log_key = derive_key(config.seed, "log");
        // Refuse a bad origin before anything is signed.
        VerifierKey::new(&config.origin, PublicKey::from_signing_key(&log_key))?;
        Ok(Builder {
            format: config.format,
            months: config.months,
            seed: config.seed,
            first: (config.start.year(), config.start.month()),
            origin: config.origin.clone(),
            log_key,
            rng: SplitMix64(config.seed ^ 0x5CE4_A510_0000_0001),
            clock_ms: 0,
            counter: 0,
            ledger: MemoryLedger::new(),
            ledger_id: None,
            prev: Hash::ZERO,
            steps: Vec::new(),
            actors: Vec::new(),
            cisos: OPERATORS.map(|o| o.ciso.to_owned()),
            pairs: Vec::new(),
            submissions: BTreeMap::new(),
            person_note: None,
            last_evaluation: BTreeMap::new(),
            challenges: BTreeMap::new(),
            overturned: false,
            upheld_dispute: None,
            withdrawn: false,
        })
    }

    fn finish(self) -> Scenario {
        Scenario {
            log_key: self.log_key,
            origin: self.origin,
            actors: self.actors,
            steps: self.steps,
        }
    }

    /// The month `n` of a twelve-month story, scaled to the configured length.
    fn story_month(&self, n: u32) -> u32 {
        (n * self.months / 12).clamp(1, self.months)
    }

    // -- Calendar ------------------------------------------------------------------------------

    /// The period `index` months after the first.
    fn period(&self, index: u32) -> Result<Period, ScenarioError> {
        let (year, month) = self.year_month(index)?;
        Period::new(year, month).ok_or(ScenarioError::Calendar)
    }

    fn year_month(&self, index: u32) -> Result<(u16, u8), ScenarioError> {
        let (year, month) = self.first;
        let total = u32::from(year) * 12 + u32::from(month) - 1 + index;
        let year = u16::try_from(total / 12).map_err(|_| ScenarioError::Calendar)?;
        let month = u8::try_from(total % 12 + 1).map_err(|_| ScenarioError::Calendar)?;
        Ok((year, month))
    }

    /// The first day of calendar month `index` (0 = the first period's month).
    fn month_first(&self, index: u32) -> Result<Date, ScenarioError> {
        let (year, month) = self.year_month(index)?;
        Date::new(year, month, 1).ok_or(ScenarioError::Calendar)
    }

    /// The last day of calendar month `index`.
    fn month_last(&self, index: u32) -> Result<Date, ScenarioError> {
        let next = self.month_first(index + 1)?;
        Date::from_days_since_epoch(next.days_since_epoch() - 1).ok_or(ScenarioError::Calendar)
    }

    /// Milliseconds since the epoch at `hour`:00 UTC on `day` of calendar month `index`.
    fn at(&self, index: u32, day: u32, hour: u32) -> Result<i64, ScenarioError> {
        let days = self.month_first(index)?.days_since_epoch() + i64::from(day) - 1;
        Ok((days * 86_400 + i64::from(hour) * 3_600) * 1_000)
    }

    /// The next recording time: not before `not_before_ms`, and some seconds to minutes after
    /// the previous step, so that `recorded_at` never decreases.
    fn next_time(&mut self, not_before_ms: i64) -> i64 {
        let gap = self.rng.range(15_000, 420_000);
        let jitter = self.rng.range(0, 59_999);
        let time = (not_before_ms + jitter).max(self.clock_ms + gap);
        self.clock_ms = time;
        time
    }

    // -- Keys and members ----------------------------------------------------------------------

    fn actor_index(&self, member: &str) -> Result<usize, ScenarioError> {
        self.actors
            .iter()
            .position(|a| a.member == member)
            .ok_or(ScenarioError::Bookkeeping {
                what: "an actor the script names",
            })
    }

    fn is_active(&self, member: &str) -> bool {
        self.actors.iter().any(|a| a.member == member && !a.revoked)
    }

    // -- Appending -----------------------------------------------------------------------------

    /// Signs a statement of `kind` by `signer`, records it at the next time not before
    /// `not_before_ms`, appends it to the ledger and returns its event hash.
    fn push(
        &mut self,
        signer: &str,
        kind: &str,
        body: Value,
        not_before_ms: i64,
        label: String,
    ) -> Result<Hash, ScenarioError> {
        let Value::Object(body) = body else {
            return Err(ScenarioError::Bookkeeping {
                what: "a body that is not an object",
            });
        };
        let key = self
            .actors
            .get(self.actor_index(signer)?)
            .map(|a| a.key.clone())
            .ok_or(ScenarioError::Bookkeeping {
                what: "a signer's key",
            })?;
        let recorded_ms = self.next_time(not_before_ms);
        // Signers sign a few seconds to minutes before the ledger records (SPEC §4 rule 4).
        let issued_s = recorded_ms.div_euclid(1_000) - self.rng.range(2, 240);
        let statement = Statement {
            v: self.format,
            ledger: self.ledger_id,
            id: self.statement_id(issued_s * 1_000)?,
            kind: kind.to_owned(),
            signer: PublicKey::from_signing_key(&key),
            issued_at: Timestamp::from_unix_seconds(issued_s)?,
            body,
        };
        let envelope = Envelope::sign(statement, &key)?;
        let recorded_at = Timestamp::from_unix_millis(recorded_ms)?;
        let seq = u64::try_from(self.steps.len()).map_err(|_| ScenarioError::Bookkeeping {
            what: "a step count beyond u64",
        })?;
        let entry = SealedEntry::seal(Entry::new(
            seq,
            self.prev,
            recorded_at.clone(),
            envelope.clone(),
        ))?;
        let hash = entry.event_hash();
        // The signature was made just above; [`Scenario::into_memory_ledger`] verifies it, and
        // skipping it here halves the cost of building.
        self.ledger
            .append_unverified(entry)
            .map_err(|source| ScenarioError::Rejected {
                seq,
                label: label.clone(),
                source,
            })?;
        if self.ledger_id.is_none() {
            self.ledger_id = Some(hash);
        }
        self.prev = hash;
        self.steps.push(Step {
            envelope,
            recorded_at,
            label,
        });
        Ok(hash)
    }

    /// The seq the next step will have.
    fn next_seq(&self) -> u64 {
        u64::try_from(self.steps.len()).unwrap_or(u64::MAX)
    }

    /// A UUIDv7-shaped id: the issue time in milliseconds, a counter and random bits.
    fn statement_id(&mut self, unix_ms: i64) -> Result<StatementId, ScenarioError> {
        self.counter += 1;
        let millis = u64::try_from(unix_ms).unwrap_or(0) & 0xFFFF_FFFF_FFFF;
        let high = (millis << 16) | 0x7000 | (self.counter & 0x0FFF);
        let low = 0x8000_0000_0000_0000 | (self.rng.next_u64() & 0x3FFF_FFFF_FFFF_FFFF);
        let text = format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            high >> 32,
            (high >> 16) & 0xFFFF,
            high & 0xFFFF,
            low >> 48,
            low & 0xFFFF_FFFF_FFFF
        );
        Ok(StatementId::try_new(&text)?)
    }

    // -- Month 0: the ledger opens -------------------------------------------------------------

    fn setup(&mut self) -> Result<(), ScenarioError> {
        let authority_key = derive_key(self.seed, AUTHORITY);
        self.actors.push(Actor {
            member: AUTHORITY.to_owned(),
            name: "PTA Cyber Security Directorate".to_owned(),
            roles: vec!["authority".to_owned()],
            operator: None,
            key: authority_key,
            former_keys: Vec::new(),
            revoked: false,
        });
        let log_vkey =
            VerifierKey::new(&self.origin, PublicKey::from_signing_key(&self.log_key))?.to_vkey();
        let day1 = self.at(0, 1, 9)?;
        self.push(
            AUTHORITY,
            "ledger.genesis",
            json!({
                "origin": self.origin,
                "title": "TCSTF accountability ledger for the telecom sector",
                "strategy": {
                    "name": "Cyber Security Strategy for the Telecom Sector 2023-2028",
                    "starts": "2023-07-01",
                    "ends": "2028-06-30",
                },
                "log_key": log_vkey,
                "authority": {"member": AUTHORITY, "name": "PTA Cyber Security Directorate"},
                "policy": self.policy(),
            }),
            day1,
            "The authority opens the ledger (genesis)".to_owned(),
        )?;
        for operator in &OPERATORS {
            let mut body = json!({"operator": operator.id, "name": operator.name});
            if self.format >= 2 {
                // Format 2's registration carries the operator's blinding of the full-state
                // digest tree (SPEC §12.8), derived as `Scenario::sealed` derives it.
                let mut bytes = b"hisaab/demo/blinding\n".to_vec();
                bytes.extend_from_slice(self.ledger_id.unwrap_or(Hash::ZERO).as_bytes());
                bytes.extend_from_slice(operator.id.as_bytes());
                body["blinding"] = Value::String(Hash::sha256(&bytes).to_hex());
            }
            self.push(
                AUTHORITY,
                "operator.registered",
                body,
                day1,
                format!("The authority registers {}", operator.name),
            )?;
        }
        for (member, name, roles, operator) in STAFF {
            let operator = operator.map(operator_of).transpose()?.map(|o| o.id);
            self.enroll(member, name, roles, operator, day1)?;
        }
        for operator in &OPERATORS {
            self.enroll(
                operator.ciso,
                operator.ciso_name,
                &["ciso"],
                Some(operator.id),
                day1,
            )?;
        }
        let day2 = self.at(0, 2, 10)?;
        for (pillar, specs) in PILLARS.iter().zip(&CATALOGUE) {
            for spec in specs {
                // The authority defines the legal and resilience KPIs, the chair the rest.
                let signer = if matches!(*pillar, "legal" | "resilience") {
                    AUTHORITY
                } else {
                    CHAIR
                };
                self.define_kpi(signer, pillar, spec, day2)?;
            }
        }
        let day3 = self.at(0, 3, 10)?;
        let due = self.month_last(self.months)?;
        let overdue_due = self.month_last(self.months - 3)?;
        for (operator, _) in OPERATORS.iter().enumerate() {
            for pillar in 0..PILLARS.len() {
                let spec = CATALOGUE
                    .get(pillar)
                    .and_then(|specs| specs.get((operator + pillar) % 3))
                    .ok_or(ScenarioError::Bookkeeping {
                        what: "a catalogue entry",
                    })?;
                // Baselines differ between operators by up to a tenth either way.
                let spread = spec.baseline_tenths / 10;
                let baseline = spec.baseline_tenths + self.rng.range(-spread, spread);
                let pair = Pair {
                    operator,
                    pillar,
                    spec,
                    profile: profile_of((operator, pillar)),
                    baseline_tenths: baseline,
                    target_tenths: spec.target_tenths,
                    due: if OVERDUE.contains(&(operator, pillar)) {
                        overdue_due
                    } else {
                        due
                    },
                };
                self.pairs.push(pair);
                let index = self.pairs.len() - 1;
                self.assign(index, 0, day3, "assigns")?;
            }
        }
        if self.format >= 2 {
            // The authority's scoring rubric: the band of scores each verdict may carry.
            self.push(
                AUTHORITY,
                "rubric.set",
                json!({"bands": [
                    {"verdict": "met", "min": 80, "max": 100},
                    {"verdict": "partially_met", "min": 40, "max": 89},
                    {"verdict": "not_met", "min": 0, "max": 49},
                    {"verdict": "insufficient_evidence", "min": 0, "max": 10},
                ]}),
                day3,
                format!("{AUTHORITY} sets the scoring rubric"),
            )?;
            // The outside bodies the task force works with (SPEC §11.12).
            for (id, name, kind) in STAKEHOLDERS {
                self.push(
                    AUTHORITY,
                    "stakeholder.registered",
                    json!({"stakeholder": id, "name": name, "type": kind}),
                    day3,
                    format!("{AUTHORITY} registers the stakeholder {name}"),
                )?;
            }
        }
        self.meeting(0)
    }

    fn enroll(
        &mut self,
        member: &str,
        name: &str,
        roles: &[&str],
        operator: Option<&str>,
        not_before_ms: i64,
    ) -> Result<(), ScenarioError> {
        let key = derive_key(self.seed, member);
        let mut body = json!({
            "member": member,
            "name": name,
            "roles": roles,
            "key": PublicKey::from_signing_key(&key).to_base64(),
        });
        if let (Some(operator), Some(map)) = (operator, body.as_object_mut()) {
            map.insert("operator".to_owned(), Value::from(operator));
        }
        self.actors.push(Actor {
            member: member.to_owned(),
            name: name.to_owned(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            operator: operator.map(str::to_owned),
            key,
            former_keys: Vec::new(),
            revoked: false,
        });
        self.push(
            AUTHORITY,
            "member.enrolled",
            body,
            not_before_ms,
            format!(
                "The authority enrols {name} ({member}) as {}",
                roles.join(" and ")
            ),
        )?;
        Ok(())
    }

    fn define_kpi(
        &mut self,
        signer: &str,
        pillar: &str,
        spec: &KpiSpec,
        not_before_ms: i64,
    ) -> Result<(), ScenarioError> {
        let direction = if spec.lower_is_better {
            "lower_is_better"
        } else {
            "higher_is_better"
        };
        self.push(
            signer,
            "kpi.defined",
            json!({
                "kpi": spec.id,
                "pillar": pillar,
                "title": spec.title,
                "unit": spec.unit,
                "direction": direction,
                "cadence": spec.cadence.as_str(),
                "evidence_required": spec.evidence_required,
            }),
            not_before_ms,
            format!("{signer} defines {} ({pillar}): {}", spec.id, spec.title),
        )?;
        Ok(())
    }

    /// Assigns pair `index` from period `first_period` (an index) with its current target.
    fn assign(
        &mut self,
        index: usize,
        first_period: u32,
        not_before_ms: i64,
        verb: &str,
    ) -> Result<(), ScenarioError> {
        let pair = self.pairs.get(index).ok_or(ScenarioError::Bookkeeping {
            what: "a pair being assigned",
        })?;
        let operator = operator_of(pair.operator)?;
        let mut body = json!({
            "kpi": pair.spec.id,
            "operator": operator.id,
            "target": decimal(pair.target_tenths, pair.spec.tenths),
            "due": pair.due.to_string(),
            "first_period": self.period(first_period)?.to_string(),
        });
        // A baseline of zero goes without saying; the assignment leaves it out.
        if pair.baseline_tenths != 0 {
            if let Some(map) = body.as_object_mut() {
                map.insert(
                    "baseline".to_owned(),
                    Value::from(decimal(pair.baseline_tenths, pair.spec.tenths)),
                );
            }
        }
        let label = format!(
            "The chair {verb} {} to {}: target {} {} by {}",
            pair.spec.id,
            operator.name,
            decimal(pair.target_tenths, pair.spec.tenths),
            pair.spec.unit,
            pair.due
        );
        self.push(CHAIR, "kpi.assigned", body, not_before_ms, label)?;
        Ok(())
    }

    // -- A reporting month ---------------------------------------------------------------------

    /// Calendar month `month` (1..=months): the CISOs file period `month - 1`, evaluators judge
    /// it, the story's events of that month happen, and the task force meets.
    fn reporting_month(&mut self, month: u32) -> Result<(), ScenarioError> {
        let period_index = month - 1;
        for index in 0..self.pairs.len() {
            self.file_if_due(month, index, period_index)?;
        }
        self.evaluate_pending(month)?;
        self.key_events(month)?;
        self.challenges_raised(month)?;
        if self.format >= 2 {
            self.challenge_measures(month)?;
        }
        self.commitments(month)?;
        self.challenges_resolved(month)?;
        self.review_and_resubmit(month)?;
        self.disputes(month)?;
        if month == self.months {
            self.late_assignment(month)?;
            if self.format >= 2 {
                self.disclosure(month)?;
                self.erasure(month)?;
                self.report(month)?;
            }
        }
        if self.format >= 2 {
            self.cycle(month)?;
        }
        self.meeting(month)?;
        if self.format >= 2 && month == self.months {
            self.operator_leaves(month)?;
        }
        Ok(())
    }

    fn reports_in(&self, cadence: Cadence, period_index: u32) -> bool {
        match cadence {
            Cadence::Monthly => true,
            Cadence::Quarterly => (period_index + 1) % 3 == 0,
            Cadence::Once => period_index == self.months / 2,
        }
    }

    fn file_if_due(
        &mut self,
        month: u32,
        index: usize,
        period_index: u32,
    ) -> Result<(), ScenarioError> {
        let Some(pair) = self.pairs.get(index) else {
            return Ok(());
        };
        if !self.reports_in(pair.spec.cadence, period_index) {
            return Ok(());
        }
        let pair_key = (pair.operator, pair.pillar);
        if self.format >= 2 && pair_key == MISSED_REPORT && period_index + 3 == self.months {
            return Ok(());
        }
        // A withdrawn assignment is reported no more.
        if self.withdrawn && pair_key == WITHDRAWN {
            return Ok(());
        }
        let omit_evidence = (pair_key == INSUFFICIENT_AT_END && period_index == self.months - 1)
            || (pair_key == RESUBMITTED && period_index == self.story_month(2) - 1);
        let day = 3 + u32::try_from(pair.operator).unwrap_or(0);
        let not_before = self.at(month, day, 9)?;
        self.file(index, period_index, !omit_evidence, None, not_before)
    }

    /// Files pair `index` for period `period_index`, superseding `supersedes` if given.
    fn file(
        &mut self,
        index: usize,
        period_index: u32,
        with_evidence: bool,
        supersedes: Option<Hash>,
        not_before_ms: i64,
    ) -> Result<(), ScenarioError> {
        let pair = self.pairs.get(index).ok_or(ScenarioError::Bookkeeping {
            what: "a pair being filed",
        })?;
        let operator = operator_of(pair.operator)?;
        let period = self.period(period_index)?;
        // A once-only KPI reports where the profile ends.
        let progress_index = if pair.spec.cadence == Cadence::Once {
            self.months - 1
        } else {
            period_index
        };
        let mut permille = pair.profile.permille(progress_index, self.months);
        // Noise everywhere but the last period and once-only KPIs, whose verdicts the story needs.
        if period_index + 1 < self.months && pair.spec.cadence != Cadence::Once {
            permille += self.rng.range(-40, 40);
        }
        let (value_tenths, value) = value_at(pair, permille);
        let mut evidence = Vec::new();
        if with_evidence {
            let count = self.rng.range(1, 3);
            for document in pair
                .spec
                .documents
                .iter()
                .take(usize::try_from(count).unwrap_or(1))
            {
                let name = format!("{}-{}-{period}-{document}", operator.id, pair.spec.id);
                let sha256 = Hash::sha256_parts(&[&self.seed.to_be_bytes(), name.as_bytes()]);
                let bytes = self.rng.range(24_576, 6_000_000);
                evidence.push(json!({"name": name, "sha256": sha256.to_hex(), "bytes": bytes}));
            }
        }
        if !with_evidence && self.format >= 2 && pair.spec.evidence_required {
            // A ledger of format 2 refuses a submission without the evidence its KPI
            // requires: the operator attaches a cover note, which does not support the figure.
            let name = format!("{}-{}-{period}-cover-note.pdf", operator.id, pair.spec.id);
            let sha256 = Hash::sha256_parts(&[&self.seed.to_be_bytes(), name.as_bytes()]);
            evidence.push(json!({"name": name, "sha256": sha256.to_hex(), "bytes": 18_432}));
        }
        let note = match (supersedes.is_some(), with_evidence) {
            (true, _) => "Corrected filing with the evidence that was missing.".to_owned(),
            (false, false) if !evidence.is_empty() => {
                "Only a cover note for now; the export is still being reviewed.".to_owned()
            }
            (false, false) => "Evidence to follow; the export is still being reviewed.".to_owned(),
            (false, true) if self.rng.range(0, 5) == 0 => {
                format!(
                    "Figures reconciled with the internal {} report.",
                    pair.spec.unit
                )
            }
            (false, true) => String::new(),
        };
        // The first report filed names a member of the operator's staff in its note; the
        // authority erases that note in the last month (SPEC §12.9, `erasure`).
        let names_person = self.format >= 2 && self.person_note.is_none() && supersedes.is_none();
        let note = if names_person {
            "Figures signed off by Kamal Haider (NOC shift lead, +92 300 5550142).".to_owned()
        } else {
            note
        };
        let mut body = json!({
            "operator": operator.id,
            "kpi": pair.spec.id,
            "period": period.to_string(),
            "value": value,
            "evidence": evidence,
            "note": note,
        });
        if let (Some(old), Some(map)) = (supersedes, body.as_object_mut()) {
            map.insert("supersedes".to_owned(), Value::from(old.to_hex()));
        }
        let ciso = self
            .cisos
            .get(pair.operator)
            .cloned()
            .ok_or(ScenarioError::Bookkeeping {
                what: "an operator's CISO",
            })?;
        let label = format!(
            "{} {} {} for {period}: {value} {} ({})",
            operator.name,
            if supersedes.is_some() {
                "refiles"
            } else {
                "files"
            },
            pair.spec.id,
            pair.spec.unit,
            match evidence.len() {
                0 => "no evidence".to_owned(),
                1 => "1 evidence file".to_owned(),
                n => format!("{n} evidence files"),
            },
        );
        let hash = self.push(&ciso, "submission.filed", body, not_before_ms, label)?;
        if names_person {
            self.person_note = Some(hash);
        }
        self.submissions.insert(
            (index, period_index),
            SubmissionRecord {
                hash,
                value_tenths,
                with_evidence,
                evaluation: None,
            },
        );
        Ok(())
    }

    /// Evaluates every non-superseded submission that has no effective evaluation, except the
    /// last period of [`SUBMITTED_AT_END`].
    fn evaluate_pending(&mut self, month: u32) -> Result<(), ScenarioError> {
        let waiting: Vec<(usize, u32)> = self
            .submissions
            .iter()
            .filter(|(_, record)| record.evaluation.is_none())
            .map(|(key, _)| *key)
            .collect();
        let overturn_month = self.months / 2 + 1;
        for (index, period_index) in waiting {
            let pair_key = self.pair_key(index)?;
            if pair_key == SUBMITTED_AT_END && period_index + 1 == self.months {
                continue;
            }
            let operator = pair_key.0;
            let day = 12 + u32::try_from(operator).unwrap_or(0);
            let not_before = self.at(month, day, 10)?;
            let evaluator = self.pick_evaluator(operator);
            // The story's evaluator error: a met value recorded as not met, later overturned.
            let erroneous = pair_key == OVERTURNED
                && month == overturn_month
                && period_index + 1 == month
                && !self.overturned;
            self.evaluate(index, period_index, &evaluator, erroneous, None, not_before)?;
        }
        Ok(())
    }

    fn pair_key(&self, index: usize) -> Result<(usize, usize), ScenarioError> {
        self.pairs
            .get(index)
            .map(|p| (p.operator, p.pillar))
            .ok_or(ScenarioError::Bookkeeping { what: "a pair" })
    }

    /// An evaluator who may judge `operator`: never one whose record names it.
    fn pick_evaluator(&mut self, operator: usize) -> String {
        let mut candidates = vec!["eval-ayesha", ROTATED_BY_AUTHORITY];
        if operator != 0 {
            candidates.push(SECONDED_EVALUATOR);
        }
        if self.rng.range(0, 9) == 0 {
            return CHAIR.to_owned();
        }
        let choice = self.rng.index(candidates.len());
        candidates
            .get(choice)
            .copied()
            .unwrap_or("eval-ayesha")
            .to_owned()
    }

    /// Records an evaluation of the submission of pair `index` for `period_index`.
    fn evaluate(
        &mut self,
        index: usize,
        period_index: u32,
        evaluator: &str,
        erroneous: bool,
        review_of: Option<EvaluationRecord>,
        not_before_ms: i64,
    ) -> Result<(), ScenarioError> {
        let pair = self.pairs.get(index).ok_or(ScenarioError::Bookkeeping {
            what: "a pair being evaluated",
        })?;
        let record =
            self.submissions
                .get(&(index, period_index))
                .ok_or(ScenarioError::Bookkeeping {
                    what: "a submission being evaluated",
                })?;
        let operator = operator_of(pair.operator)?;
        let period = self.period(period_index)?;
        let value = decimal(record.value_tenths, pair.spec.tenths);
        let target = decimal(pair.target_tenths, pair.spec.tenths);
        let (verdict, mut score, mut rationale) = if !record.with_evidence {
            (
                "insufficient_evidence",
                0,
                format!(
                    "No evidence was attached for {value} {}; the figure cannot be verified.",
                    pair.spec.unit
                ),
            )
        } else if erroneous {
            (
                "not_met",
                35,
                format!(
                    "The reported {value} {} could not be reconciled with the attached export; \
                     treated as not met against the target of {target}.",
                    pair.spec.unit
                ),
            )
        } else {
            let progress = progress_permille(pair, record.value_tenths);
            let (verdict, score) = if progress >= 1000 {
                ("met", 90 + self.rng.range(0, 10))
            } else if progress >= 600 {
                ("partially_met", 50 + (progress - 600) * 35 / 400)
            } else {
                ("not_met", (progress * 45 / 600).clamp(5, 45))
            };
            (
                verdict,
                score,
                format!(
                    "Reported {value} {} against a target of {target} (baseline {}); {} \
                     evidence files sampled and consistent with the figure.",
                    pair.spec.unit,
                    decimal(pair.baseline_tenths, pair.spec.tenths),
                    pair.spec.documents.len().min(2),
                ),
            )
        };
        let mut body = json!({"submission": record.hash.to_hex()});
        if let Some(previous) = &review_of {
            score = i64::try_from(previous.score)
                .unwrap_or(0)
                .saturating_sub(6)
                .max(0);
            rationale = format!(
                "Chair's review: the training register counts contractors outside the scope of \
                 the KPI; the verdict stands with the score lowered. {rationale}"
            );
            if let Some(map) = body.as_object_mut() {
                map.insert("supersedes".to_owned(), Value::from(previous.hash.to_hex()));
            }
        }
        let score = u64::try_from(score.clamp(0, 100)).unwrap_or(0);
        // Format 2: a verdict other than the one value, target and direction indicate says
        // why (SPEC §11.10).
        let differs = self.format >= 2
            && hisaab_model::Verdict::try_from_str(verdict).is_some_and(|v| {
                self.ledger.ledger().verdict_differs(&record.hash, v) == Some(true)
            });
        if let Some(map) = body.as_object_mut() {
            map.insert("verdict".to_owned(), Value::from(verdict));
            map.insert("score".to_owned(), Value::from(score));
            map.insert("rationale".to_owned(), Value::from(rationale));
            if differs {
                map.insert(
                    "reason".to_owned(),
                    Value::from(
                        "The verdict weighs the evidence behind the figure, not the figure \
                         alone: the export does not support it.",
                    ),
                );
            }
        }
        let label = format!(
            "{evaluator} {} {} {} for {period}: {verdict} ({score})",
            if review_of.is_some() {
                "re-evaluates"
            } else {
                "evaluates"
            },
            operator.name,
            pair.spec.id,
        );
        let hash = self.push(evaluator, "evaluation.recorded", body, not_before_ms, label)?;
        if let Some(record) = self.submissions.get_mut(&(index, period_index)) {
            record.evaluation = Some(EvaluationRecord {
                hash,
                verdict,
                score,
            });
        }
        self.last_evaluation.insert(index, hash);
        Ok(())
    }

    // -- The story's events --------------------------------------------------------------------

    fn key_events(&mut self, month: u32) -> Result<(), ScenarioError> {
        if month == self.story_month(4) {
            let not_before = self.at(month, 19, 11)?;
            self.rotate(
                ROTATES_OWN_KEY,
                ROTATES_OWN_KEY,
                "rotates her own key",
                not_before,
            )?;
        }
        if month == self.months / 2 {
            let not_before = self.at(month, 19, 9)?;
            self.push(
                AUTHORITY,
                "member.revoked",
                json!({
                    "member": REVOKED_CISO,
                    "reason": "Left Ravi Communications; signing rights end with the appointment.",
                }),
                not_before,
                format!("The authority revokes {REVOKED_CISO}"),
            )?;
            let index = self.actor_index(REVOKED_CISO)?;
            if let Some(actor) = self.actors.get_mut(index) {
                actor.revoked = true;
            }
            let (member, name) = REPLACEMENT_CISO;
            let ravi = operator_of(3)?;
            self.enroll(member, name, &["ciso"], Some(ravi.id), not_before)?;
            if let Some(slot) = self.cisos.get_mut(3) {
                *slot = member.to_owned();
            }
            self.rotate(
                AUTHORITY,
                ROTATED_BY_AUTHORITY,
                "rotates the key of eval-bilal after a lost laptop",
                not_before,
            )?;
            // The indus-mobile training target is raised from this month on.
            let revised = self
                .pairs
                .iter()
                .position(|p| (p.operator, p.pillar) == REVISED_TARGET)
                .ok_or(ScenarioError::Bookkeeping {
                    what: "the pair whose target is revised",
                })?;
            if let Some(pair) = self.pairs.get_mut(revised) {
                pair.target_tenths = pair.target_tenths * 5 / 4;
            }
            self.assign(revised, month, not_before, "revises the target of")?;
        }
        Ok(())
    }

    /// `signer` rotates `member`'s key to a fresh one.
    fn rotate(
        &mut self,
        signer: &str,
        member: &str,
        what: &str,
        not_before_ms: i64,
    ) -> Result<(), ScenarioError> {
        let index = self.actor_index(member)?;
        let generation = self
            .actors
            .get(index)
            .map(|a| a.former_keys.len() + 1)
            .unwrap_or(1);
        let new_key = derive_key(self.seed, &format!("{member}#{generation}"));
        let body = json!({
            "member": member,
            "new_key": PublicKey::from_signing_key(&new_key).to_base64(),
        });
        self.push(
            signer,
            "member.key_rotated",
            body,
            not_before_ms,
            format!("{signer} {what}"),
        )?;
        if let Some(actor) = self.actors.get_mut(index) {
            let old = std::mem::replace(&mut actor.key, new_key);
            actor.former_keys.push(old);
        }
        Ok(())
    }

    fn challenges_raised(&mut self, month: u32) -> Result<(), ScenarioError> {
        for challenge in &CHALLENGES {
            let ChallengeSpec {
                slug,
                signer,
                pillar,
                description,
                ..
            } = *challenge;
            if month != self.story_month(challenge.month) {
                continue;
            }
            let not_before = self.at(month, 19, 14)?;
            let mut body = json!({
                "challenge": slug,
                "pillar": pillar,
                "description": description,
            });
            let mut kpi_id = challenge.kpi.map(str::to_owned);
            if let Some(pair) = challenge.about {
                let operator = operator_of(pair.0)?;
                if let Some(map) = body.as_object_mut() {
                    map.insert("operator".to_owned(), Value::from(operator.id));
                }
                if kpi_id.is_none() {
                    kpi_id = self
                        .pairs
                        .iter()
                        .find(|p| (p.operator, p.pillar) == pair)
                        .map(|p| p.spec.id.to_owned());
                }
            }
            if let (Some(kpi_id), Some(map)) = (kpi_id, body.as_object_mut()) {
                map.insert("kpi".to_owned(), Value::from(kpi_id));
            }
            // Format 2: the register's owner (the operator it names, else the chair), a due
            // date two months on, and a severity.
            if self.format >= 2 {
                body["owner"] = match challenge.about {
                    Some((operator, _)) => json!({"operator": operator_of(operator)?.id}),
                    None => json!({"member": CHAIR}),
                };
                body["due"] = json!(self.month_last(month + 2)?.to_string());
                body["severity"] = json!(challenge.severity);
            }
            let hash = self.push(
                signer,
                "challenge.raised",
                body,
                not_before,
                format!("{signer} raises a challenge on {pillar}: {slug}"),
            )?;
            self.challenges.insert(slug, hash);
        }
        Ok(())
    }

    /// Format 2: the month after a challenge is raised, the chair records a measure its owner
    /// took against it (SPEC §11.12).
    fn challenge_measures(&mut self, month: u32) -> Result<(), ScenarioError> {
        for challenge in &CHALLENGES {
            let raised = self.story_month(challenge.month);
            if month != self.story_month(challenge.month + 1)
                || month == raised
                || !self.challenges.contains_key(challenge.slug)
            {
                continue;
            }
            let by = match challenge.about {
                Some((operator, _)) => json!({"operator": operator_of(operator)?.id}),
                None => json!({"member": CHAIR}),
            };
            let not_before = self.at(month, 18, 11)?;
            self.push(
                CHAIR,
                "challenge.measure_recorded",
                json!({"challenge": challenge.slug, "by": by, "measure": challenge.measure}),
                not_before,
                format!("{CHAIR} records a measure against {}", challenge.slug),
            )?;
        }
        Ok(())
    }

    fn challenges_resolved(&mut self, month: u32) -> Result<(), ScenarioError> {
        let resolved: [(u32, &str, &str, &str); 4] = [
            (
                4,
                "legal-data-retention-guidance",
                AUTHORITY,
                "The authority issued guidance: security logs are kept for one year, call \
                 records as the directive requires; the rules will be aligned at their review.",
            ),
            (
                6,
                "cooperation-indicator-format",
                CHAIR,
                "Indicators are shared as STIX 2.1 through the sector CERT's MISP instance from \
                 next month.",
            ),
            (
                7,
                "awareness-reach-sampling",
                CHAIR,
                "Reach will be checked by a quarterly independent sample survey commissioned by \
                 the task force.",
            ),
            (
                10,
                "resilience-vendor-embargo",
                AUTHORITY,
                "Embargoed patches are reported as exceptions with compensating controls and \
                 excluded from the latency median.",
            ),
        ];
        for (story_month, slug, signer, resolution) in resolved {
            if month != self.story_month(story_month) || !self.challenges.contains_key(slug) {
                continue;
            }
            let not_before = self.at(month, 20, 15)?;
            self.push(
                signer,
                "challenge.resolved",
                json!({"challenge": slug, "resolution": resolution}),
                not_before,
                format!("{signer} resolves the challenge {slug}"),
            )?;
        }
        Ok(())
    }

    fn commitments(&mut self, month: u32) -> Result<(), ScenarioError> {
        let m = self.months;
        // (made, slug, operator, pillar of its KPI, due month, closing, responds to, action)
        let plan: [Commitment; 10] = [
            Commitment {
                made: self.story_month(2),
                slug: "indus-patch-orchestration",
                operator: 0,
                pillar: Some(1),
                due: self.story_month(5),
                closing: Some((self.story_month(5), "fulfilled", "eval-ayesha")),
                respond: Respond::Evaluation,
                action: "Deploy automated patch orchestration to the core network elements.",
            },
            Commitment {
                made: self.story_month(2),
                slug: "karakoram-soc-legacy-core",
                operator: 1,
                pillar: Some(2),
                due: self.story_month(6),
                closing: Some((self.story_month(6), "fulfilled", CHAIR)),
                respond: Respond::Evaluation,
                action: "Extend SOC monitoring to the legacy 2G/3G core and its signalling links.",
            },
            Commitment {
                made: self.story_month(3),
                slug: "margalla-red-team-tabletop",
                operator: 2,
                pillar: Some(3),
                due: self.story_month(8),
                closing: Some((self.story_month(8), "fulfilled", SECONDED_EVALUATOR)),
                respond: Respond::Nothing,
                action: "Run a red-team tabletop exercise with the sector CERT.",
            },
            Commitment {
                made: self.story_month(3),
                slug: "ravi-data-retention-gap",
                operator: 3,
                pillar: Some(0),
                due: self.story_month(5),
                closing: Some((self.story_month(6), "missed", AUTHORITY)),
                respond: Respond::Challenge("legal-data-retention-guidance"),
                action: "Complete a legal gap assessment against the data-retention directive.",
            },
            Commitment {
                made: self.story_month(4),
                slug: "sindh-noc-incident-training",
                operator: 4,
                pillar: Some(2),
                due: self.story_month(7),
                closing: Some((self.story_month(8), "missed", ROTATED_BY_AUTHORITY)),
                respond: Respond::Evaluation,
                action: "Train every network operations centre shift in incident reporting.",
            },
            Commitment {
                made: self.story_month(6),
                slug: "sindh-anti-phishing-sms",
                operator: 4,
                pillar: Some(5),
                due: self.story_month(9),
                closing: Some((self.story_month(7), "withdrawn", CHAIR)),
                respond: Respond::Challenge("awareness-reach-sampling"),
                action: "Run an own anti-phishing SMS campaign (withdrawn for the sector-wide \
                         campaign).",
            },
            Commitment {
                made: self.story_month(8),
                slug: "indus-audit-findings",
                operator: 0,
                pillar: Some(0),
                due: m + 3,
                closing: None,
                respond: Respond::Evaluation,
                action: "Bring open compliance-audit findings below five.",
            },
            Commitment {
                made: self.story_month(9),
                slug: "margalla-cti-automation",
                operator: 2,
                pillar: Some(4),
                due: m + 2,
                closing: None,
                respond: Respond::Nothing,
                action: "Automate the threat-intelligence feed to the sector CERT.",
            },
            Commitment {
                made: m - 4,
                slug: "ravi-policy-refresh",
                operator: 3,
                pillar: None,
                due: m - 2,
                closing: None,
                respond: Respond::Nothing,
                action: "Have the board approve the refreshed information security policy set.",
            },
            Commitment {
                made: self.story_month(7),
                slug: "karakoram-restore-tests",
                operator: 1,
                pillar: Some(1),
                due: m - 1,
                closing: None,
                respond: Respond::Evaluation,
                action: "Restore-test the backups of every critical system.",
            },
        ];
        for commitment in plan.iter().filter(|c| c.made == month) {
            self.make_commitment(commitment, month)?;
        }
        for commitment in &plan {
            if let Some((close_month, outcome, closer)) = commitment.closing {
                if close_month == month {
                    let not_before = self.at(month, 20, 11)?;
                    let note = match outcome {
                        "fulfilled" => "Verified against the evidence filed with the KPI.",
                        "missed" => "Not completed by the due date; carried into the next plan.",
                        _ => "Withdrawn by agreement at the task force meeting.",
                    };
                    self.push(
                        closer,
                        "commitment.closed",
                        json!({"commitment": commitment.slug, "outcome": outcome, "note": note}),
                        not_before,
                        format!("{closer} closes {} as {outcome}", commitment.slug),
                    )?;
                }
            }
        }
        Ok(())
    }

    fn make_commitment(&mut self, c: &Commitment, month: u32) -> Result<(), ScenarioError> {
        let operator = operator_of(c.operator)?;
        let pair_index = c.pillar.and_then(|pillar| {
            self.pairs
                .iter()
                .position(|p| (p.operator, p.pillar) == (c.operator, pillar))
        });
        let mut body = json!({
            "commitment": c.slug,
            "operator": operator.id,
            "action": c.action,
            "due": self.month_last(c.due)?.to_string(),
        });
        let Some(map) = body.as_object_mut() else {
            return Err(ScenarioError::Bookkeeping {
                what: "a commitment body",
            });
        };
        if let Some(pair) = pair_index.and_then(|i| self.pairs.get(i)) {
            map.insert("kpi".to_owned(), Value::from(pair.spec.id));
        }
        let response = match c.respond {
            Respond::Evaluation => pair_index
                .and_then(|i| self.last_evaluation.get(&i))
                .copied(),
            Respond::Challenge(slug) => self.challenges.get(slug).copied(),
            Respond::Nothing => None,
        };
        if let Some(hash) = response {
            map.insert("in_response_to".to_owned(), Value::from(hash.to_hex()));
        }
        let ciso = self
            .cisos
            .get(c.operator)
            .cloned()
            .ok_or(ScenarioError::Bookkeeping {
                what: "an operator's CISO",
            })?;
        let not_before = self.at(month, 20, 9)?;
        self.push(
            &ciso,
            "commitment.made",
            body,
            not_before,
            format!("{} commits: {}", operator.name, c.action),
        )?;
        Ok(())
    }

    /// The chair's review superseding an evaluation, and the resubmission of a filing that
    /// lacked evidence.
    fn review_and_resubmit(&mut self, month: u32) -> Result<(), ScenarioError> {
        if month == self.story_month(4) {
            if let Some((index, period_index, previous)) =
                self.latest_evaluated(SUPERSEDED_EVALUATION)
            {
                let not_before = self.at(month, 21, 10)?;
                self.evaluate(
                    index,
                    period_index,
                    CHAIR,
                    false,
                    Some(previous),
                    not_before,
                )?;
            }
        }
        if month == self.story_month(3) {
            let period_index = self.story_month(2) - 1;
            let index = self
                .pairs
                .iter()
                .position(|p| (p.operator, p.pillar) == RESUBMITTED)
                .ok_or(ScenarioError::Bookkeeping {
                    what: "the pair to resubmit",
                })?;
            let old = self
                .submissions
                .get(&(index, period_index))
                .map(|r| r.hash)
                .ok_or(ScenarioError::Bookkeeping {
                    what: "the submission to supersede",
                })?;
            let not_before = self.at(month, 21, 12)?;
            self.file(index, period_index, true, Some(old), not_before)?;
        }
        Ok(())
    }

    /// The pair's most recent period with an effective evaluation.
    fn latest_evaluated(&self, pair: (usize, usize)) -> Option<(usize, u32, EvaluationRecord)> {
        let index = self
            .pairs
            .iter()
            .position(|p| (p.operator, p.pillar) == pair)?;
        self.submissions
            .range((index, 0)..=(index, u32::MAX))
            .rev()
            .find_map(|((i, period), record)| record.evaluation.clone().map(|e| (*i, *period, e)))
    }

    fn disputes(&mut self, month: u32) -> Result<(), ScenarioError> {
        // Upheld: Sindh Link disputes a verdict on SOC coverage; the authority upholds it.
        if month == self.story_month(4) {
            let grounds = "The coverage figure excludes sites decommissioned during the period; \
                           counted correctly the target is met in part.";
            if let Some(opened) = self.open_dispute(UPHELD, month, grounds)? {
                self.upheld_dispute = Some(opened.slug);
            }
        }
        if month == self.story_month(5) {
            if let Some(slug) = self.upheld_dispute.clone() {
                let as_of = self.next_seq();
                self.resolve_dispute(
                    &slug,
                    "upheld",
                    as_of,
                    month,
                    "The decommissioned sites were in scope until their removal from the asset \
                     register; the evaluation stands.",
                )?;
            }
        }
        // Overturned: the evaluator's error on Margalla's patch latency.
        if month == self.months / 2 + 1 {
            if let Some(opened) = self.open_dispute(
                OVERTURNED,
                month,
                "The patch-management export attached to the filing shows the reported median; \
                 the verdict ignores it.",
            )? {
                // The resolution names the state just after the dispute was opened.
                let as_of = opened.seq + 1;
                self.resolve_dispute(
                    &opened.slug,
                    "overturned",
                    as_of,
                    month,
                    "The export supports the reported latency; the evaluation is void and the \
                     filing will be evaluated again.",
                )?;
                if let Some(record) = self.submissions.get_mut(&opened.submission) {
                    record.evaluation = None;
                }
                self.overturned = true;
            }
        }
        // Open at the end: Indus Mobile disputes its last audit-findings verdict.
        if month == self.months {
            self.open_dispute(
                DISPUTED_AT_END,
                month,
                "Eleven of the open findings were closed on the last day of the period and \
                 verified by the internal auditor; the count should be lower.",
            )?;
        }
        Ok(())
    }

    /// The CISO of the pair's operator disputes its latest effective evaluation, if it has one.
    fn open_dispute(
        &mut self,
        pair: (usize, usize),
        month: u32,
        grounds: &str,
    ) -> Result<Option<OpenedDispute>, ScenarioError> {
        let Some((index, period_index, evaluation)) = self.latest_evaluated(pair) else {
            return Ok(None);
        };
        let spec_id = self
            .pairs
            .get(index)
            .map(|p| p.spec.id)
            .ok_or(ScenarioError::Bookkeeping { what: "a pair" })?;
        let operator = operator_of(pair.0)?;
        let period = self.period(period_index)?;
        let slug = format!(
            "{}-{}-{period}",
            operator.id.split('-').next().unwrap_or("op"),
            spec_id.to_ascii_lowercase()
        );
        let ciso = self
            .cisos
            .get(pair.0)
            .cloned()
            .ok_or(ScenarioError::Bookkeeping {
                what: "an operator's CISO",
            })?;
        let seq = self.next_seq();
        let not_before = self.at(month, 21, 15)?;
        self.push(
            &ciso,
            "dispute.opened",
            json!({
                "dispute": slug,
                "evaluation": evaluation.hash.to_hex(),
                "grounds": grounds,
            }),
            not_before,
            format!(
                "{} disputes the {} verdict on {spec_id} for {period}",
                operator.name, evaluation.verdict
            ),
        )?;
        Ok(Some(OpenedDispute {
            slug,
            seq,
            submission: (index, period_index),
        }))
    }

    fn resolve_dispute(
        &mut self,
        slug: &str,
        outcome: &str,
        as_of: u64,
        month: u32,
        rationale: &str,
    ) -> Result<(), ScenarioError> {
        let digest = self.state_digest(as_of)?;
        let not_before = self.at(month, 22, 9)?;
        self.push(
            AUTHORITY,
            "dispute.resolved",
            json!({
                "dispute": slug,
                "outcome": outcome,
                "as_of": as_of,
                "state_digest": digest.to_hex(),
                "rationale": rationale,
            }),
            not_before,
            format!("The authority resolves the dispute {slug}: {outcome}"),
        )?;
        Ok(())
    }

    /// The digest a dispute resolution names for the state at tree size `size` with the
    /// default `at`: SPEC §5.7's in format 1, the full-state digest (§12.8) in format 2.
    fn state_digest(&self, size: u64) -> Result<Hash, ScenarioError> {
        self.ledger
            .ledger_at(size)
            .ok()
            .and_then(|ledger| ledger.resolution_digest().ok())
            .ok_or(ScenarioError::Bookkeeping {
                what: "the state a dispute resolution names",
            })
    }

    /// In the last month the authority defines a new KPI and assigns it from the next period:
    /// nothing is filed for it yet (status `pending`).
    fn late_assignment(&mut self, month: u32) -> Result<(), ScenarioError> {
        let not_before = self.at(month, 21, 16)?;
        self.define_kpi(AUTHORITY, "monitoring", &LATE_KPI, not_before)?;
        let operator = operator_of(LATE_KPI_OPERATOR)?;
        self.push(
            AUTHORITY,
            "kpi.assigned",
            json!({
                "kpi": LATE_KPI.id,
                "operator": operator.id,
                "target": decimal(LATE_KPI.target_tenths, LATE_KPI.tenths),
                "baseline": "0",
                "due": self.month_last(month + 6)?.to_string(),
                "first_period": self.period(month)?.to_string(),
            }),
            not_before,
            format!("The authority assigns {} to {}", LATE_KPI.id, operator.name),
        )?;
        Ok(())
    }

    /// In the last month the authority discloses the value and evidence of the first report
    /// filed to a court, and records it (SPEC §12.7). The plain ledger holds no openings, so
    /// its `disclosure_sha256` only stands in: [`Scenario::sealed`] makes the disclosure from
    /// the openings and writes its real SHA-256.
    fn disclosure(&mut self, month: u32) -> Result<(), ScenarioError> {
        let Some(first) = self.submissions.values().next().map(|s| s.hash) else {
            return Ok(());
        };
        let not_before = self.at(month, 22, 11)?;
        self.push(
            AUTHORITY,
            "disclosure.recorded",
            json!({
                "to": DISCLOSED_TO,
                "entries": [{"entry": first, "fields": DISCLOSED_FIELDS}],
                "disclosure_sha256": Hash::sha256(b"hisaab/demo/disclosure\n"),
            }),
            not_before,
            format!("The authority records a disclosure to {DISCLOSED_TO}"),
        )?;
        Ok(())
    }

    /// In the last month the authority erases the note of the first report filed, which
    /// named a person (SPEC §12.9): its opening is deleted; its value and evidence stay.
    fn erasure(&mut self, month: u32) -> Result<(), ScenarioError> {
        let Some(first) = self.person_note else {
            return Ok(());
        };
        let not_before = self.at(month, 23, 10)?;
        self.push(
            AUTHORITY,
            "field.erased",
            json!({
                "entry": first,
                "fields": ["note"],
                "reason": "The note named a member of the operator's staff",
            }),
            not_before,
            "The authority erases the note of the first report filed".to_owned(),
        )?;
        Ok(())
    }

    /// In the last month the authority publishes the year's report: the sector's aggregates
    /// per pillar of the full state just before it, with its full-state digest (SPEC §12.12).
    fn report(&mut self, month: u32) -> Result<(), ScenarioError> {
        let as_of = self.next_seq();
        let digest = self.state_digest(as_of)?;
        let pillars = hisaab_model::view::sector_aggregates(&self.ledger.ledger().state(None));
        let (from, to) = (self.period(0)?, self.period(month - 1)?);
        let not_before = self.at(month, 24, 10)?;
        self.push(
            AUTHORITY,
            "report.published",
            json!({
                "from": from,
                "to": to,
                "as_of": as_of,
                "state_digest": digest,
                "pillars": pillars,
            }),
            not_before,
            format!("The authority publishes the report for {from} to {to}"),
        )?;
        Ok(())
    }

    /// The monthly meeting of calendar month `month`, its record and attestations.
    fn meeting(&mut self, month: u32) -> Result<(), ScenarioError> {
        let held_on = self.month_first(month)?;
        let held_on = Date::from_days_since_epoch(held_on.days_since_epoch() + 21)
            .ok_or(ScenarioError::Calendar)?;
        let slug = format!("tcstf-{}", held_on.period());
        let mut attendees: Vec<String> = vec![CHAIR.to_owned(), AUTHORITY.to_owned()];
        attendees.push("eval-ayesha".to_owned());
        attendees.push(if month % 2 == 0 {
            ROTATED_BY_AUTHORITY.to_owned()
        } else {
            SECONDED_EVALUATOR.to_owned()
        });
        // One meeting of the year lacks its quorum: a single operator's CISO attends.
        let cisos_attending = if self.format >= 2 && month == self.story_month(8) {
            1
        } else {
            self.cisos.len()
        };
        for ciso in self.cisos.clone() {
            if self.is_active(&ciso) && attendees.len() < 4 + cisos_attending {
                attendees.push(ciso);
            }
        }
        if month % 3 == 1 {
            let witnesses = ["witness-indus", "witness-margalla", "witness-sindh"];
            let pick = usize::try_from(month / 3 % 3).unwrap_or(0);
            if let Some(witness) = witnesses.get(pick) {
                attendees.push((*witness).to_owned());
            }
        }
        let mut decisions = Vec::new();
        let count = self.rng.range(0, 3);
        for _ in 0..count {
            let decision = DECISIONS
                .get(self.rng.index(DECISIONS.len()))
                .copied()
                .unwrap_or("No decisions.");
            if !decisions.contains(&decision) {
                decisions.push(decision);
            }
        }
        let minutes = format!(
            "Minutes of the TCSTF meeting {slug} held on {held_on}.\nAttendees: {}.\n\
             Decisions:\n{}\n",
            attendees.join(", "),
            decisions.join("\n")
        );
        // The authority records the minutes when the chair is away, once a year.
        let recorder = if month == self.story_month(6) {
            AUTHORITY
        } else {
            CHAIR
        };
        if self.format >= 2 {
            self.schedule_meeting(month, &slug, held_on)?;
        }
        let recorded = self.at(month, 23, 10)?;
        self.push(
            recorder,
            "meeting.recorded",
            json!({
                "meeting": slug,
                "held_on": held_on.to_string(),
                "attendees": attendees,
                "minutes_sha256": Hash::sha256(minutes.as_bytes()).to_hex(),
                "decisions": decisions,
            }),
            recorded,
            format!(
                "{recorder} records meeting {slug}: {} attendees, {} decisions",
                attendees.len(),
                decisions.len()
            ),
        )?;
        // The chair and two or three other attendees attest over the following days.
        let mut attesters = vec![CHAIR.to_owned()];
        let wanted = 1 + usize::try_from(self.rng.range(2, 3)).unwrap_or(2);
        let mut guard = 0;
        while attesters.len() < wanted && guard < 32 {
            guard += 1;
            let candidate = attendees
                .get(self.rng.index(attendees.len()))
                .cloned()
                .unwrap_or_default();
            if !attesters.contains(&candidate) && self.is_active(&candidate) {
                attesters.push(candidate);
            }
        }
        for (day, attester) in (24u32..).zip(attesters) {
            let not_before = self.at(month, day, 9)?;
            self.push(
                &attester,
                "meeting.attested",
                json!({"meeting": slug}),
                not_before,
                format!("{attester} attests the minutes of {slug}"),
            )?;
        }
        if self.format >= 2 {
            self.assign_actions(month, &slug, held_on)?;
        }
        Ok(())
    }

    // -- Format 2: the task force's cycle (SPEC §11.7–§11.9) -------------------------------------

    /// The chair schedules the month's meeting with an agenda naming an operator and its KPI,
    /// a challenge and a dispute where there are some.
    fn schedule_meeting(
        &mut self,
        month: u32,
        slug: &str,
        date: Date,
    ) -> Result<(), ScenarioError> {
        let index = usize::try_from(month).unwrap_or(0) % self.pairs.len().max(1);
        let mut agenda = Vec::new();
        if let Some(pair) = self.pairs.get(index) {
            let operator = operator_of(pair.operator)?;
            agenda.push(
                json!({"title": format!("{} on {}", operator.name, pair.spec.title),
                "operator": operator.id, "kpi": pair.spec.id}),
            );
        }
        if let Some(challenge) = self.challenges.keys().next() {
            agenda.push(json!({"title": "Challenges raised to the task force",
                "challenge": challenge}));
        }
        if let Some(dispute) = &self.upheld_dispute {
            agenda.push(json!({"title": "The dispute before the authority", "dispute": dispute}));
        }
        agenda.push(json!({"title": "Coordination with the national CERT",
            "stakeholder": STAKEHOLDERS[0].0}));
        agenda.push(json!({"title": "Action items of the last meeting"}));
        let not_before = self.at(month, 21, 6)?;
        self.push(
            CHAIR,
            "meeting.scheduled",
            json!({"meeting": slug, "date": date.to_string(), "agenda": agenda}),
            not_before,
            format!(
                "{CHAIR} schedules {slug} for {date} with {} agenda items",
                agenda.len()
            ),
        )?;
        Ok(())
    }

    /// The action items of the month's minutes: one for an evaluator, one for an operator.
    fn assign_actions(
        &mut self,
        month: u32,
        slug: &str,
        held_on: Date,
    ) -> Result<(), ScenarioError> {
        let operator = operator_of(usize::try_from(month).unwrap_or(0) % OPERATORS.len())?;
        let items = [
            (
                format!("{slug}-review"),
                json!({"member": ACTION_MEMBER}),
                14,
                "Review the evidence filed for the KPIs on the agenda and report back.",
                json!([]),
            ),
            (
                format!("{slug}-figures"),
                json!({"operator": operator.id}),
                21,
                "Send the task force and the national CERT the incident figures discussed at \
                 the meeting.",
                json!([STAKEHOLDERS[0].0]),
            ),
        ];
        for (day, (action, owner, days, text, stakeholders)) in (27u32..).zip(items) {
            let due = held_on.plus_days(days).ok_or(ScenarioError::Calendar)?;
            let not_before = self.at(month, day, 8)?;
            let mut body = json!({"action": action, "meeting": slug, "owner": owner,
                "due": due.to_string(), "text": text});
            if stakeholders.as_array().is_some_and(|s| !s.is_empty()) {
                body["stakeholders"] = stakeholders;
            }
            self.push(
                CHAIR,
                "action.assigned",
                body,
                not_before,
                format!("{CHAIR} assigns {action}, due {due}"),
            )?;
        }
        Ok(())
    }

    /// Each month of a format-2 ledger: last month's action items closed (one missed and
    /// escalated, the last member's item left overdue), a directive done and one missed and
    /// escalated, a commitment extended and a missed one escalated.
    fn cycle(&mut self, month: u32) -> Result<(), ScenarioError> {
        let m = self.months;
        // An assignment withdrawn: the service it measured was closed down.
        if month == self.story_month(7) {
            if let Some(pair) = self
                .pairs
                .iter()
                .find(|p| (p.operator, p.pillar) == WITHDRAWN)
            {
                let (operator, kpi) = (operator_of(pair.operator)?, pair.spec.id);
                let not_before = self.at(month, 5, 11)?;
                self.push(
                    CHAIR,
                    "assignment.withdrawn",
                    json!({"operator": operator.id, "kpi": kpi,
                        "reason": "The service this KPI measured was closed down."}),
                    not_before,
                    format!("{CHAIR} withdraws {kpi} from {}", operator.name),
                )?;
                self.withdrawn = true;
            }
        }
        if month >= 2 {
            let previous = format!("tcstf-{}", self.meeting_date(month - 1)?.period());
            let operator = operator_of(usize::try_from(month - 1).unwrap_or(0) % OPERATORS.len())?;
            let ciso = self
                .cisos
                .get(usize::try_from(month - 1).unwrap_or(0) % OPERATORS.len())
                .cloned()
                .unwrap_or_default();
            // The evaluator's review of the month before last is left open at the end.
            if month < m {
                let not_before = self.at(month, 3, 10)?;
                let action = format!("{previous}-review");
                self.push(
                    ACTION_MEMBER,
                    "action.closed",
                    json!({"action": action, "outcome": "done",
                        "note": "Reviewed; findings sent to the chair."}),
                    not_before,
                    format!("{ACTION_MEMBER} closes {action} as done"),
                )?;
            }
            let action = format!("{previous}-figures");
            let not_before = self.at(month, 16, 10)?;
            if month == self.story_month(5) {
                self.push(
                    CHAIR,
                    "action.closed",
                    json!({"action": action, "outcome": "missed",
                        "note": "No figures were sent."}),
                    not_before,
                    format!("{CHAIR} closes {action} as missed"),
                )?;
                self.push(
                    AUTHORITY,
                    "escalation.recorded",
                    json!({"escalation": format!("esc-{action}"), "item": {"action": action},
                        "reason": format!("{} sent no incident figures; the authority \
                            asks its board.", operator.name)}),
                    not_before,
                    format!("{AUTHORITY} escalates the missed {action}"),
                )?;
            } else if self.is_active(&ciso) && month < m {
                self.push(
                    &ciso,
                    "action.closed",
                    json!({"action": action, "outcome": "done", "note": ""}),
                    not_before,
                    format!("{ciso} closes {action} as done"),
                )?;
            }
        }
        // Directives: one done in time, one missed and escalated the month after its due.
        let directives = [
            (
                self.story_month(3),
                "dir-sim-swap-reporting",
                2usize,
                "done",
            ),
            (self.story_month(8), "dir-ss7-filtering", 4usize, "missed"),
        ];
        for (issued, id, operator_index, outcome) in directives {
            let operator = operator_of(operator_index)?;
            let due_month = issued + 1;
            if month == issued {
                let not_before = self.at(month, 6, 10)?;
                self.push(
                    AUTHORITY,
                    "directive.issued",
                    json!({"directive": id, "operator": operator.id,
                    "due": self.month_last(due_month)?.to_string(),
                    "stakeholders": if outcome == "done" {
                        json!([STAKEHOLDERS[0].0, STAKEHOLDERS[2].0])
                    } else {
                        json!([STAKEHOLDERS[0].0, STAKEHOLDERS[1].0])
                    },
                    "text": if outcome == "done" {
                        "Report SIM-swap fraud incidents to the sector CERT within 24 hours."
                    } else {
                        "Deploy SS7 signalling filtering on every international gateway."
                    }}),
                    not_before,
                    format!("{AUTHORITY} directs {} ({id})", operator.name),
                )?;
            }
            if outcome == "done" && month == due_month {
                let ciso = self.cisos.get(operator_index).cloned().unwrap_or_default();
                let closer = if self.is_active(&ciso) {
                    ciso
                } else {
                    CHAIR.to_owned()
                };
                let not_before = self.at(month, 12, 10)?;
                self.push(
                    &closer,
                    "directive.closed",
                    json!({"directive": id, "outcome": "done",
                        "note": "Reporting line in place."}),
                    not_before,
                    format!("{closer} closes {id} as done"),
                )?;
            }
            if outcome == "missed" && month == due_month + 1 {
                let not_before = self.at(month, 4, 10)?;
                self.push(
                    AUTHORITY,
                    "escalation.recorded",
                    json!({"escalation": format!("esc-{id}"), "item": {"directive": id},
                        "reason": format!("{} did not deploy the filtering by the date \
                            directed.", operator.name)}),
                    not_before,
                    format!("{AUTHORITY} escalates {id}"),
                )?;
            }
        }
        // A delegation: Indus's CISO names a deputy for a month, who makes a commitment.
        if month == self.story_month(6) {
            let ciso = self.cisos.first().cloned().unwrap_or_default();
            let operator = operator_of(0)?;
            let not_before = self.at(month, 2, 9)?;
            self.push(
                &ciso,
                "delegation.granted",
                json!({"operator": operator.id, "deputy": DEPUTY,
                    "expires": self.month_last(month)?.to_string()}),
                not_before,
                format!("{ciso} names {DEPUTY} deputy until the end of the month"),
            )?;
            let not_before = self.at(month, 14, 9)?;
            self.push(
                DEPUTY,
                "commitment.made",
                json!({"commitment": "indus-sbom-inventory", "operator": operator.id,
                    "action": "Keep a software bill of materials for every core network \
                        function.",
                    "due": self.month_last(month + 2)?.to_string()}),
                not_before,
                format!("{DEPUTY}, deputy of {ciso}, commits {}", operator.name),
            )?;
        }
        // A member suspended pending a review, and reinstated a few days later.
        if month == self.story_month(10) {
            let not_before = self.at(month, 1, 9)?;
            self.push(
                AUTHORITY,
                "member.suspended",
                json!({"member": SUSPENDED,
                    "reason": "Pending a review of how the monitor's key is held."}),
                not_before,
                format!("{AUTHORITY} suspends {SUSPENDED}"),
            )?;
            let not_before = self.at(month, 4, 9)?;
            self.push(
                AUTHORITY,
                "member.reinstated",
                json!({"member": SUSPENDED}),
                not_before,
                format!("{AUTHORITY} reinstates {SUSPENDED}"),
            )?;
        }
        // A KPI retired: no report of it is owed from then on.
        if month == self.story_month(9) {
            let not_before = self.at(month, 5, 10)?;
            self.push(
                CHAIR,
                "kpi.retired",
                json!({"kpi": RETIRED_KPI,
                    "reason": "Merged into the sector-wide anti-fraud reporting of PA-02."}),
                not_before,
                format!("{CHAIR} retires {RETIRED_KPI}"),
            )?;
        }
        // A commitment extended with a reason; a missed one escalated.
        let (extend_made, extend_at) = (self.story_month(7), self.story_month(10));
        if month == extend_at && extend_at > extend_made {
            let not_before = self.at(month, 22, 10)?;
            self.push(
                CHAIR,
                "commitment.extended",
                json!({"commitment": "karakoram-restore-tests",
                    "due": self.month_last(m + 2)?.to_string(),
                    "reason": "The backup vendor's migration moved the restore window."}),
                not_before,
                format!("{CHAIR} extends karakoram-restore-tests to month {}", m + 2),
            )?;
        }
        if month == m {
            let not_before = self.at(month, 22, 11)?;
            self.push(
                AUTHORITY,
                "escalation.recorded",
                json!({"escalation": "esc-ravi-policy-refresh",
                    "item": {"commitment": "ravi-policy-refresh"},
                    "reason": "The board has not approved the policy set two months past \
                        its date."}),
                not_before,
                format!("{AUTHORITY} escalates ravi-policy-refresh"),
            )?;
        }
        Ok(())
    }

    /// Format 2: at the end of the year an operator leaves the task force (SPEC §11.12): its
    /// members sign nothing more and what it still owed is closed as left.
    fn operator_leaves(&mut self, month: u32) -> Result<(), ScenarioError> {
        let operator = operator_of(LEAVING)?;
        let not_before = self.at(month, 28, 16)?;
        self.push(
            AUTHORITY,
            "operator.left",
            json!({"operator": operator.id,
                "reason": "Its licence was transferred to another operator of the task force."}),
            not_before,
            format!("{} leaves the task force", operator.name),
        )?;
        Ok(())
    }

    /// The date of month `month`'s meeting: the 22nd.
    fn meeting_date(&self, month: u32) -> Result<Date, ScenarioError> {
        let first = self.month_first(month)?;
        Date::from_days_since_epoch(first.days_since_epoch() + 21).ok_or(ScenarioError::Calendar)
    }
}

/// Format 2: the outside bodies the task force works with (SPEC §11.12): id, name, type.
const STAKEHOLDERS: [(&str, &str, &str); 3] = [
    (
        "pkcert",
        "National Computer Emergency Response Team",
        "cert",
    ),
    ("fia-cybercrime", "FIA Cybercrime Wing", "law_enforcement"),
    ("sbp", "State Bank of Pakistan", "regulator"),
];

/// The member of Indus who deputises for its CISO for a month.
const DEPUTY: &str = "witness-indus";

/// The member suspended and reinstated late in the year.
const SUSPENDED: &str = "witness-sindh";

/// The KPI the chair retires late in the year.
const RETIRED_KPI: &str = "PA-03";

/// The member who owns an action item of every meeting.
const ACTION_MEMBER: &str = "eval-ayesha";

/// A challenge of the story, raised in month `month` of a twelve-month story.
struct ChallengeSpec {
    month: u32,
    slug: &'static str,
    signer: &'static str,
    pillar: &'static str,
    /// The (operator, pillar) pair it is about, naming that operator and its KPI.
    about: Option<(usize, usize)>,
    /// A KPI it names without an operator.
    kpi: Option<&'static str>,
    description: &'static str,
    /// Format 2: how grave it is, and the measure taken against it the month after.
    severity: &'static str,
    measure: &'static str,
}

/// The challenges raised over the year.
const CHALLENGES: [ChallengeSpec; 5] = [
    ChallengeSpec {
        month: 2,
        slug: "legal-data-retention-guidance",
        signer: REVOKED_CISO,
        pillar: "legal",
        about: None,
        kpi: None,
        description: "The draft critical infrastructure protection rules and the data-retention \
                 directive set conflicting log-retention periods; operators need guidance.",
        severity: "medium",
        measure: "The chair asked the authority's legal wing for a reconciled retention table.",
    },
    ChallengeSpec {
        month: 3,
        slug: "cooperation-indicator-format",
        signer: "witness-indus",
        pillar: "cooperation",
        about: None,
        kpi: Some("CC-01"),
        description: "Operators share SIM-swap fraud indicators in incompatible formats, so the \
                 sector CERT cannot deduplicate them.",
        severity: "low",
        measure: "The sector CERT published a draft common indicator profile for comment.",
    },
    ChallengeSpec {
        month: 5,
        slug: "awareness-reach-sampling",
        signer: "eval-ayesha",
        pillar: "awareness",
        about: Some((4, 5)),
        kpi: Some("PA-01"),
        description:
            "Campaign reach is self-reported without independent sampling; figures cannot \
                 be compared between operators.",
        severity: "low",
        measure: "Sindh Link agreed to an independent sample of its next campaign.",
    },
    ChallengeSpec {
        month: 8,
        slug: "capacity-incident-handlers",
        signer: CHAIR,
        pillar: "capacity",
        about: None,
        kpi: None,
        description:
            "The sector is short of certified incident handlers; operators compete for the \
                 same small pool.",
        severity: "high",
        measure:
            "The chair opened talks with two universities on a certified incident-handler course.",
    },
    ChallengeSpec {
        month: 9,
        slug: "resilience-vendor-embargo",
        signer: "ciso-sindh",
        pillar: "resilience",
        about: Some((4, 1)),
        kpi: None,
        description: "Vendor embargoes on radio-network patches delay deployment beyond the \
                 critical-patch target.",
        severity: "critical",
        measure: "Sindh Link listed the embargoed patches and the compensating controls in place.",
    },
];

/// A dispute the builder opened.
struct OpenedDispute {
    slug: String,
    /// The seq of its `dispute.opened`.
    seq: u64,
    /// The disputed evaluation's submission: (pair index, period index).
    submission: (usize, u32),
}

/// A commitment of the story; months are calendar months from the first period.
struct Commitment {
    made: u32,
    slug: &'static str,
    operator: usize,
    pillar: Option<usize>,
    due: u32,
    closing: Option<(u32, &'static str, &'static str)>,
    respond: Respond,
    action: &'static str,
}

#[derive(Clone, Copy)]
enum Respond {
    Evaluation,
    Challenge(&'static str),
    Nothing,
}

fn operator_of(index: usize) -> Result<&'static OperatorSpec, ScenarioError> {
    OPERATORS.get(index).ok_or(ScenarioError::Bookkeeping {
        what: "an operator index",
    })
}

/// A key derived from the seed and a label: distinct labels give distinct keys.
fn derive_key(seed: u64, label: &str) -> SigningKey {
    let secret = Hash::sha256_parts(&[
        b"hisaab/scenario/key/v1\n",
        &seed.to_be_bytes(),
        label.as_bytes(),
    ]);
    SigningKey::from_bytes(secret.as_bytes())
}

/// A value `permille` of the way from the pair's baseline to its target, in tenths and as the
/// decimal text a CISO files (whole numbers for whole units, capped at 100 for percentages).
fn value_at(pair: &Pair, permille: i64) -> (i64, String) {
    let mut tenths =
        pair.baseline_tenths + (pair.target_tenths - pair.baseline_tenths) * permille / 1000;
    tenths = tenths.max(0);
    if pair.spec.percent() {
        tenths = tenths.min(1000);
    }
    if !pair.spec.tenths {
        tenths = (tenths + 5) / 10 * 10;
    }
    (tenths, decimal(tenths, pair.spec.tenths))
}

/// How far `value_tenths` lies from baseline to target, in per mille (either direction).
fn progress_permille(pair: &Pair, value_tenths: i64) -> i64 {
    let span = pair.target_tenths - pair.baseline_tenths;
    if span == 0 {
        return 1000;
    }
    (value_tenths - pair.baseline_tenths) * 1000 / span
}

/// Tenths as a SPEC §1 decimal: `12.5`, or `12` for whole units.
fn decimal(tenths: i64, with_tenths: bool) -> String {
    let sign = if tenths < 0 { "-" } else { "" };
    let magnitude = tenths.unsigned_abs();
    if with_tenths {
        format!("{sign}{}.{}", magnitude / 10, magnitude % 10)
    } else {
        format!("{sign}{}", magnitude / 10)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    /// The default scenario and its replay, built once for all tests (signing is slow in
    /// debug builds).
    fn shared() -> &'static (Scenario, MemoryLedger) {
        static SHARED: std::sync::OnceLock<(Scenario, MemoryLedger)> = std::sync::OnceLock::new();
        SHARED.get_or_init(|| {
            let scenario = build(&ScenarioConfig::default()).unwrap();
            let ledger = scenario.into_memory_ledger().unwrap();
            (scenario, ledger)
        })
    }

    fn default_scenario() -> &'static Scenario {
        &shared().0
    }

    #[test]
    fn builds_and_every_step_is_accepted() {
        let (scenario, ledger) = shared();
        assert!(
            (300..=900).contains(&scenario.steps.len()),
            "{} steps",
            scenario.steps.len()
        );
        assert_eq!(ledger.entries().len(), scenario.steps.len());
        for pair in scenario.steps.windows(2) {
            assert!(pair[0].recorded_at <= pair[1].recorded_at);
        }
    }

    #[test]
    fn uses_every_kind() {
        let scenario = default_scenario();
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for step in &scenario.steps {
            *counts
                .entry(step.envelope.statement.kind.as_str())
                .or_default() += 1;
        }
        for kind in hisaab_model::Kind::ALL {
            assert!(
                counts.contains_key(kind.as_str()),
                "no {kind:?}: {counts:?}"
            );
        }
    }

    #[test]
    fn final_state_shows_every_status_and_outcome() {
        let (_, ledger) = shared();
        let state = ledger.state_at(ledger.size(), None).unwrap();
        let state = serde_json::to_value(&state).unwrap();
        let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
        let mut commitments: BTreeMap<String, u64> = BTreeMap::new();
        let mut disputes: BTreeMap<String, u64> = BTreeMap::new();
        for operator in state["operators"].as_object().unwrap().values() {
            for kpi in operator["kpis"].as_object().unwrap().values() {
                *statuses
                    .entry(kpi["status"].as_str().unwrap().to_owned())
                    .or_default() += 1;
            }
            for (name, count) in operator["commitments"].as_object().unwrap() {
                *commitments.entry(name.clone()).or_default() += count.as_u64().unwrap();
            }
            for (name, count) in operator["disputes"].as_object().unwrap() {
                *disputes.entry(name.clone()).or_default() += count.as_u64().unwrap();
            }
        }
        for status in [
            "disputed",
            "met",
            "overdue",
            "submitted",
            "partially_met",
            "not_met",
            "insufficient_evidence",
            "pending",
        ] {
            assert!(
                statuses.get(status).is_some_and(|n| *n > 0),
                "{status}: {statuses:?}"
            );
        }
        for category in ["open", "overdue", "fulfilled", "missed", "withdrawn"] {
            assert!(commitments[category] > 0, "{category}: {commitments:?}");
        }
        for outcome in ["open", "upheld", "overturned"] {
            assert_eq!(disputes[outcome], 1, "{outcome}: {disputes:?}");
        }
        let members = state["members"].as_object().unwrap();
        assert_eq!(members[REVOKED_CISO]["status"], "revoked");
        assert_eq!(members[REPLACEMENT_CISO.0]["status"], "active");
        // Every pillar has a sector score.
        for pillar in PILLARS {
            assert!(state["sector"][pillar].is_u64(), "{pillar}");
        }
    }

    #[test]
    fn rotated_keys_and_revocations_are_reflected_in_actors() {
        let scenario = default_scenario();
        let rotated = scenario.actor(ROTATES_OWN_KEY).unwrap();
        assert_eq!(rotated.former_keys.len(), 1);
        let by_authority = scenario.actor(ROTATED_BY_AUTHORITY).unwrap();
        assert_eq!(by_authority.former_keys.len(), 1);
        assert!(scenario.actor(REVOKED_CISO).unwrap().revoked);
        let (_, ledger) = shared();
        let state = ledger.state_at(ledger.size(), None).unwrap();
        let state = serde_json::to_value(&state).unwrap();
        for actor in &scenario.actors {
            let key = PublicKey::from_signing_key(&actor.key).to_base64();
            assert_eq!(
                state["members"][&actor.member]["key"], key,
                "{}",
                actor.member
            );
        }
    }

    #[test]
    fn building_twice_gives_the_same_bytes() {
        let first = default_scenario().sealed_entries().unwrap();
        let second = build(&ScenarioConfig::default())
            .unwrap()
            .sealed_entries()
            .unwrap();
        assert_eq!(first.len(), second.len());
        for (a, b) in first.iter().zip(&second) {
            assert_eq!(a.leaf_bytes(), b.leaf_bytes());
        }
        let other = build(&ScenarioConfig {
            seed: 7,
            ..ScenarioConfig::default()
        })
        .unwrap()
        .sealed_entries()
        .unwrap();
        assert_ne!(first[0].leaf_bytes(), other[0].leaf_bytes());
    }

    #[test]
    fn other_seeds_lengths_and_starts_build() {
        for (seed, months, start) in [
            (1, MONTHS_MIN, (2024, 1, 1)),
            (2, 7, (2026, 6, 15)),
            (3, 18, (2025, 12, 1)),
        ] {
            let config = ScenarioConfig {
                seed,
                months,
                start: Date::new(start.0, start.1, start.2).unwrap(),
                ..ScenarioConfig::default()
            };
            // Building appends every step to a ledger, so the rules accept them all.
            let scenario = build(&config).unwrap();
            assert!(!scenario.steps.is_empty());
        }
    }

    #[test]
    fn the_default_ledger_is_of_format_2_and_format_1_still_builds() {
        let v2 = build(&ScenarioConfig::default()).unwrap();
        assert!(v2.steps.iter().all(|s| s.envelope.statement.v == 2));
        let ledger = v2.into_memory_ledger().unwrap();
        assert_eq!(ledger.ledger().format(), 2);
        let v1 = build(&ScenarioConfig {
            format: 1,
            ..ScenarioConfig::default()
        })
        .unwrap();
        assert!(v1.steps.iter().all(|s| s.envelope.statement.v == 1));
        assert_eq!(v1.into_memory_ledger().unwrap().ledger().format(), 1);
    }

    #[test]
    fn the_v2_ledger_owes_every_kind_of_obligation_after_its_last_month() {
        use hisaab_model::{ObligationFilter, ObligationKind};
        let scenario = build(&ScenarioConfig::default()).unwrap();
        let memory = scenario.into_memory_ledger().unwrap();
        let ledger = memory.ledger();
        let last = ledger.last_recorded_at().unwrap().date();
        let at = last.plus_days(45).unwrap();
        let owed = ledger
            .obligations(Some(at), &ObligationFilter::default())
            .unwrap();
        for kind in [
            ObligationKind::Report,
            ObligationKind::Evaluation,
            ObligationKind::Commitment,
            ObligationKind::Dispute,
            ObligationKind::Challenge,
            ObligationKind::Action,
            ObligationKind::Directive,
        ] {
            assert!(
                owed.items.iter().any(|i| i.kind == kind && i.days_late > 0),
                "no late {kind} on {at}"
            );
        }
    }

    #[test]
    fn the_v2_ledger_keeps_the_challenge_register_stakeholders_and_lifecycles() {
        use hisaab_model::cycle::TaskStatus;
        use hisaab_model::{ChallengeStatus, ObligationFilter, OwedBy, Slug};
        let (_, memory) = shared();
        let ledger = memory.ledger();
        let state = ledger.state(None);
        let cycle = state.cycle.as_ref().unwrap();
        let slug = |s: &str| Slug::try_new(s).unwrap();
        // Stakeholders registered and named by agendas, actions and directives.
        assert_eq!(cycle.stakeholders.len(), STAKEHOLDERS.len());
        assert!(cycle.meetings.values().all(|m| m
            .agenda
            .iter()
            .any(|i| i.stakeholder == Some(slug("pkcert")))));
        assert!(cycle.actions.values().any(|a| !a.stakeholders.is_empty()));
        assert!(cycle
            .directives
            .values()
            .all(|d| !d.stakeholders.is_empty()));
        // Every challenge has an owner, a severity and a due date, and a measure; one is
        // overdue at the end.
        assert_eq!(cycle.challenges.len(), CHALLENGES.len());
        assert!(cycle
            .challenges
            .values()
            .all(|c| c.owner.is_some() && c.severity.is_some() && c.measures.len() == 1));
        let statuses: BTreeSet<ChallengeStatus> =
            cycle.challenges.values().map(|c| c.status).collect();
        assert!(
            statuses.contains(&ChallengeStatus::Resolved),
            "{statuses:?}"
        );
        assert!(statuses.contains(&ChallengeStatus::Overdue), "{statuses:?}");
        assert_eq!(cycle.members[&slug(CHAIR)].challenges_overdue, 1);
        // The delegation of the year, expired by the end.
        assert_eq!(cycle.delegations.len(), 1);
        assert_eq!(
            cycle.delegations[&slug(DEPUTY)].status,
            hisaab_model::DelegationStatus::Expired
        );
        // An assignment withdrawn, an operator that left with what it owed closed as left.
        let leaving = operator_of(LEAVING).unwrap().id;
        assert_eq!(cycle.withdrawn.len(), 1);
        assert_eq!(cycle.withdrawn[0].operator, slug(leaving));
        assert!(cycle.left.contains_key(&slug(leaving)));
        assert!(cycle.actions.values().any(|a| a.status == TaskStatus::Left));
        let owed = ledger
            .obligations(None, &ObligationFilter::default())
            .unwrap();
        assert!(!owed.items.iter().any(
            |o| matches!(&o.owed_by, OwedBy::Operator { operator } if operator.as_str() == leaving)
        ));
        assert!(owed
            .items
            .iter()
            .any(|o| o.kind == hisaab_model::ObligationKind::Challenge
                && o.owed_by
                    == OwedBy::Member {
                        member: slug(CHAIR)
                    }));
    }

    #[test]
    fn the_v2_ledger_runs_the_cycle_of_meetings_actions_directives_and_escalations() {
        use hisaab_model::{ObligationFilter, ObligationKind, OwedBy};
        let (scenario, memory) = shared();
        // Under the authority's rubric, an evaluation whose verdict differs from what the
        // value and target indicate says why.
        assert!(scenario.steps.iter().any(|s| {
            s.envelope.statement.kind == "evaluation.recorded"
                && s.envelope.statement.body.contains_key("reason")
        }));
        let ledger = memory.ledger();
        let state = ledger.state(None);
        let cycle = state.cycle.as_ref().unwrap();
        let meetings: Vec<_> = cycle.meetings.values().collect();
        assert!(meetings
            .iter()
            .all(|m| m.scheduled_for.is_some() && m.held_on.is_some()));
        assert!(meetings.iter().all(|m| !m.agenda.is_empty()));
        let without_quorum = meetings.iter().filter(|m| m.quorate == Some(false)).count();
        assert_eq!(without_quorum, 1, "one meeting lacks its quorum");
        assert!(meetings.iter().any(|m| !m.absent.is_empty()));
        let statuses: BTreeSet<&str> = cycle.actions.values().map(|a| a.status.as_str()).collect();
        for status in ["done", "missed", "overdue"] {
            assert!(
                statuses.contains(status),
                "no {status} action: {statuses:?}"
            );
        }
        assert_eq!(cycle.escalations.len(), 3);
        let kpis = state.kpis.as_ref().unwrap();
        assert!(kpis[&hisaab_model::KpiId::try_new(RETIRED_KPI).unwrap()]
            .retired
            .is_some());
        let items: BTreeSet<String> = cycle
            .escalations
            .values()
            .map(|e| {
                serde_json::to_value(&e.item)
                    .unwrap()
                    .as_object()
                    .unwrap()
                    .keys()
                    .next()
                    .unwrap()
                    .clone()
            })
            .collect();
        assert_eq!(
            items,
            BTreeSet::from([
                "action".to_owned(),
                "commitment".to_owned(),
                "directive".to_owned()
            ])
        );
        let extended =
            &cycle.extended[&hisaab_model::Slug::try_new("karakoram-restore-tests").unwrap()];
        assert_eq!(extended.extensions.len(), 1);
        assert!(extended.due > extended.original_due);
        let ayesha = &cycle.members[&hisaab_model::Slug::try_new(ACTION_MEMBER).unwrap()];
        assert!(ayesha.attended >= 10 && ayesha.actions_done >= 9 && ayesha.actions_overdue >= 1);
        // The member's overdue action is hers to do, with its due date.
        let owed = ledger
            .obligations(
                None,
                &ObligationFilter {
                    member: Some(hisaab_model::Slug::try_new(ACTION_MEMBER).unwrap()),
                    ..ObligationFilter::default()
                },
            )
            .unwrap();
        assert!(owed.items.iter().any(|o| o.kind == ObligationKind::Action
            && matches!(&o.owed_by, OwedBy::Member { member } if member.as_str() == ACTION_MEMBER)
            && o.days_late > 0));
        // The escalated commitment and directive show their escalation among the obligations.
        let all = ledger
            .obligations(None, &ObligationFilter::default())
            .unwrap();
        for kind in [ObligationKind::Commitment, ObligationKind::Directive] {
            assert!(
                all.items
                    .iter()
                    .any(|o| o.kind == kind && o.escalation.is_some()),
                "no escalated {kind}"
            );
        }
    }

    #[test]
    fn refuses_bad_configurations() {
        for months in [0, MONTHS_MIN - 1, MONTHS_MAX + 1] {
            let config = ScenarioConfig {
                months,
                ..ScenarioConfig::default()
            };
            assert!(matches!(build(&config), Err(ScenarioError::Months { .. })));
        }
        let config = ScenarioConfig {
            origin: "has space".to_owned(),
            ..ScenarioConfig::default()
        };
        assert!(matches!(build(&config), Err(ScenarioError::Note(_))));
    }

    #[test]
    fn statement_ids_are_lowercase_uuid_v7_and_unique() {
        let scenario = default_scenario();
        let mut seen = std::collections::BTreeSet::new();
        for step in &scenario.steps {
            let id = step.envelope.statement.id.as_str();
            assert_eq!(id.as_bytes()[14], b'7', "{id}");
            assert!(
                matches!(id.as_bytes()[19], b'8' | b'9' | b'a' | b'b'),
                "{id}"
            );
            assert!(seen.insert(id.to_owned()), "{id} twice");
        }
    }

    #[test]
    fn issued_at_is_shortly_before_recorded_at() {
        for step in &default_scenario().steps {
            let issued = step.envelope.statement.issued_at.unix_seconds();
            let recorded = step.recorded_at.unix_seconds();
            assert!((1..=300).contains(&(recorded - issued)), "{}", step.label);
        }
    }
}
