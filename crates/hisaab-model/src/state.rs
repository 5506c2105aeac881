//! The projection of SPEC §5: the state at a tree size and date, its canonical JSON and its
//! digest, and what changed between two states.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use hisaab_log::jcs::{self, INTEGER_MAX};
use hisaab_log::{Date, Hash, Period, PublicKey};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ledger::Ledger;
use crate::value::epoch;
use crate::value::schema::nullable;
use crate::value::{
    schema, vocabulary, Cadence, Decimal, Direction, KpiId, Pillar, Role, Score, Slug, Text,
    Verdict,
};

/// The state of a ledger (SPEC §5): exactly its JSON shape, every key present, absent values
/// `null` (a missing `baseline` too).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The state of a ledger at a tree size and date (SPEC §5). Generated \
    from hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct State {
    /// The ledger id.
    #[schemars(schema_with = "schema::hash")]
    pub ledger: Hash,
    /// The tree size the state is taken at.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub size: u64,
    /// The date that decides what is overdue.
    #[schemars(schema_with = "schema::date")]
    pub at: Date,
    /// Every registered operator.
    #[schemars(schema_with = "schema::keyed_by::<Slug, OperatorState>")]
    pub operators: BTreeMap<Slug, OperatorState>,
    /// Per pillar, the rounded mean of the operators' non-null pillar scores.
    pub sector: PillarScores,
    /// Every member, the genesis authority included.
    #[schemars(schema_with = "schema::keyed_by::<Slug, MemberState>")]
    pub members: BTreeMap<Slug, MemberState>,
    /// The ledger's format; present only in the state of a ledger of format 2 (SPEC §11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2, max = 2))]
    pub format: Option<u64>,
    /// Format 2: every KPI defined, with its title, unit, direction, cadence and whether
    /// evidence is required. Absent in the state of a format-1 ledger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::keyed_by::<KpiId, KpiDefinition>")]
    pub kpis: Option<BTreeMap<KpiId, KpiDefinition>>,
    /// Format 2: the task force's cycle (SPEC §11.9): meetings with their agenda, attendance
    /// and quorum, action items, directives, extended commitments, escalations, and each
    /// member's attendance and actions. Absent in the state of a format-1 ledger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cycle: Option<crate::cycle::CycleState>,
    /// Format 2: the entries some of whose sealed fields were erased (SPEC §12.9), by seq;
    /// absent when none was. Public, as the `field.erased` statements are.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub erased: Vec<ErasedFields>,
    /// SHA-256 of JCS(state without `digest`).
    #[schemars(schema_with = "schema::hash")]
    pub digest: Hash,
}

/// Format 2: the fields erased from one entry (SPEC §12.9). Their values are gone from the
/// ledger; the entry's commitments stay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasedFields {
    /// The entry's seq.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub seq: u64,
    /// Its event hash.
    #[schemars(schema_with = "schema::hash")]
    pub entry: Hash,
    /// Its kind.
    pub kind: String,
    /// Each field erased, with the seq of the `field.erased` that erased it.
    pub fields: BTreeMap<String, u64>,
}

/// An operator in the state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OperatorState {
    /// Its name.
    pub name: Text,
    /// Every KPI assigned to it, with the assignment in force.
    #[schemars(schema_with = "schema::keyed_by::<KpiId, KpiState>")]
    pub kpis: BTreeMap<KpiId, KpiState>,
    /// Per pillar, the rounded mean of its non-null KPI scores in that pillar.
    pub pillar_scores: PillarScores,
    /// The rounded mean of its non-null pillar scores.
    #[schemars(schema_with = "nullable_score")]
    pub score: Option<u8>,
    /// Its commitments by state.
    pub commitments: CommitmentCounts,
    /// The disputes over its evaluations, by state.
    pub disputes: DisputeCounts,
}

/// Format 2: a KPI's definition in the state (SPEC §11).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KpiDefinition {
    /// Its pillar.
    pub pillar: Pillar,
    /// Its title.
    pub title: Text,
    /// The unit of its values.
    pub unit: Text,
    /// Whether higher or lower values are better.
    pub direction: Direction,
    /// How often it is reported.
    pub cadence: Cadence,
    /// Whether a submission must carry evidence.
    pub evidence_required: bool,
    /// The date it was retired (SPEC §11.11); `null` while it is in use.
    #[schemars(schema_with = "nullable_date")]
    pub retired: Option<Date>,
}

/// Format 2: the submission the KPI's verdict and score judge (SPEC §11), so that a value is
/// never read beside another period's verdict. Every key present, `null` when no submission of
/// the KPI has an effective evaluation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluatedSubmission {
    /// The event hash of the non-superseded submission with the greatest period that has an
    /// effective evaluation.
    #[schemars(schema_with = "nullable_hash")]
    pub submission: Option<Hash>,
    /// Its period.
    #[schemars(schema_with = "nullable_period")]
    pub period: Option<Period>,
    /// Its value.
    #[schemars(schema_with = "nullable_of::<Decimal>")]
    pub value: Option<Decimal>,
}

/// A KPI of an operator in the state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KpiState {
    /// The KPI's pillar.
    pub pillar: Pillar,
    /// The target of the assignment in force.
    pub target: Decimal,
    /// The baseline of the assignment in force; `null` when it has none (SPEC §5).
    #[schemars(schema_with = "nullable_of::<Decimal>")]
    pub baseline: Option<Decimal>,
    /// When the target is due.
    #[schemars(schema_with = "schema::date")]
    pub due: Date,
    /// The first period a submission may report.
    #[schemars(schema_with = "schema::period")]
    pub first_period: Period,
    /// The event hash of the non-superseded submission with the greatest period.
    #[schemars(schema_with = "nullable_hash")]
    pub latest_submission: Option<Hash>,
    /// The latest submission's period.
    #[schemars(schema_with = "nullable_period")]
    pub period: Option<Period>,
    /// The latest submission's value.
    #[schemars(schema_with = "nullable_of::<Decimal>")]
    pub value: Option<Decimal>,
    /// The effective evaluation of the non-superseded submission with the greatest period that
    /// has one.
    #[schemars(schema_with = "nullable_hash")]
    pub evaluation: Option<Hash>,
    /// That evaluation's verdict.
    #[schemars(schema_with = "nullable_of::<Verdict>")]
    pub verdict: Option<Verdict>,
    /// That evaluation's score.
    #[schemars(schema_with = "nullable_score")]
    pub score: Option<u8>,
    /// The status, by SPEC §5's precedence.
    pub status: KpiStatus,
    /// Format 2: the KPI's title. Absent in the state of a format-1 ledger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Text>,
    /// Format 2: the period and value that `evaluation`, `verdict` and `score` judge, which
    /// may be older than `period` and `value` (the latest submission). Absent in the state of
    /// a format-1 ledger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluated: Option<EvaluatedSubmission>,
    /// Format 2: whether the verdict differs from the one the evaluated value, the target and
    /// the direction indicate (the evaluation carries a `reason`, SPEC §11.10). Absent in the
    /// state of a format-1 ledger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict_differs: Option<bool>,
}

vocabulary!(
    /// A KPI's status (SPEC §5), first match: disputed, met, overdue, submitted, the verdict,
    /// pending.
    KpiStatus {
        /// An open dispute names an evaluation of a non-superseded submission of this KPI.
        Disputed = "disputed",
        /// The verdict is `met`.
        Met = "met",
        /// `at` is after `due`.
        Overdue = "overdue",
        /// The latest submission has no effective evaluation.
        Submitted = "submitted",
        /// The verdict is `partially_met`.
        PartiallyMet = "partially_met",
        /// The verdict is `not_met`.
        NotMet = "not_met",
        /// The verdict is `insufficient_evidence`.
        InsufficientEvidence = "insufficient_evidence",
        /// Nothing yet.
        Pending = "pending",
    }
);

impl KpiStatus {
    fn from_verdict(verdict: Verdict) -> KpiStatus {
        match verdict {
            Verdict::Met => KpiStatus::Met,
            Verdict::PartiallyMet => KpiStatus::PartiallyMet,
            Verdict::NotMet => KpiStatus::NotMet,
            Verdict::InsufficientEvidence => KpiStatus::InsufficientEvidence,
        }
    }
}

/// A score per pillar, `null` where there is none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PillarScores {
    /// Legal Framework.
    #[schemars(schema_with = "nullable_score")]
    pub legal: Option<u8>,
    /// Cyber Resilience.
    #[schemars(schema_with = "nullable_score")]
    pub resilience: Option<u8>,
    /// Proactive Monitoring and Incident Response.
    #[schemars(schema_with = "nullable_score")]
    pub monitoring: Option<u8>,
    /// Capacity Building.
    #[schemars(schema_with = "nullable_score")]
    pub capacity: Option<u8>,
    /// Cooperation and Collaboration.
    #[schemars(schema_with = "nullable_score")]
    pub cooperation: Option<u8>,
    /// Public Awareness.
    #[schemars(schema_with = "nullable_score")]
    pub awareness: Option<u8>,
}

impl PillarScores {
    /// The score of `pillar`.
    pub fn get(&self, pillar: Pillar) -> Option<u8> {
        match pillar {
            Pillar::Legal => self.legal,
            Pillar::Resilience => self.resilience,
            Pillar::Monitoring => self.monitoring,
            Pillar::Capacity => self.capacity,
            Pillar::Cooperation => self.cooperation,
            Pillar::Awareness => self.awareness,
        }
    }

    fn set(&mut self, pillar: Pillar, score: Option<u8>) {
        let slot = match pillar {
            Pillar::Legal => &mut self.legal,
            Pillar::Resilience => &mut self.resilience,
            Pillar::Monitoring => &mut self.monitoring,
            Pillar::Capacity => &mut self.capacity,
            Pillar::Cooperation => &mut self.cooperation,
            Pillar::Awareness => &mut self.awareness,
        };
        *slot = score;
    }
}

/// Commitments of an operator by state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitmentCounts {
    /// Not closed, not yet due.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub open: u64,
    /// Not closed, `at` after `due`.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub overdue: u64,
    /// Closed as fulfilled.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub fulfilled: u64,
    /// Closed as missed.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub missed: u64,
    /// Closed as withdrawn.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub withdrawn: u64,
    /// Format 2: closed, with an outcome sealed from this reader (SPEC §12.8); absent when
    /// none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u64", range(min = 1, max = "INTEGER_MAX"))]
    pub withheld: Option<u64>,
}

/// Disputes over an operator's evaluations by state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeCounts {
    /// Not yet resolved.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub open: u64,
    /// Resolved: the evaluation stands.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub upheld: u64,
    /// Resolved: the evaluation is void.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub overturned: u64,
    /// Format 2: resolved, with an outcome sealed from this reader (SPEC §12.8); absent when
    /// none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u64", range(min = 1, max = "INTEGER_MAX"))]
    pub withheld: Option<u64>,
}

/// A member in the state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberState {
    /// Their roles, sorted.
    #[schemars(schema_with = "schema::set_of::<Role>", length(min = 1))]
    pub roles: Vec<Role>,
    /// Their operator.
    #[schemars(schema_with = "nullable_of::<Slug>")]
    pub operator: Option<Slug>,
    /// Their current key.
    #[schemars(schema_with = "schema::public_key")]
    pub key: PublicKey,
    /// Whether they may still sign.
    pub status: MemberStatus,
}

vocabulary!(
    /// Whether a member may still sign.
    MemberStatus {
        /// Enrolled and not revoked.
        Active = "active",
        /// Revoked.
        Revoked = "revoked",
    }
);

// The state's `Option` fields are "present, `null` when absent" (SPEC §5), so each has a
// `schema_with` function: for a derive, an `Option` field is one that may be left out, and
// `#[schemars(required)]` would also drop the `null`. A function's schema is always required.

/// A score 0–100 or `null`.
fn nullable_score(generator: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    use schemars::schema::InstanceType;
    let mut schema = Score::json_schema(generator).into_object();
    schema.instance_type = Some(vec![InstanceType::Integer, InstanceType::Null].into());
    schema.into()
}

/// A `T` or `null`.
fn nullable_of<T: JsonSchema>(
    generator: &mut schemars::gen::SchemaGenerator,
) -> schemars::schema::Schema {
    nullable(generator.subschema_for::<T>())
}

fn nullable_hash(generator: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    nullable(schema::hash(generator))
}

fn nullable_date(generator: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    nullable(schema::date(generator))
}

fn nullable_period(generator: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    nullable(schema::period(generator))
}

/// The rounded mean of SPEC §5: (2·sum + n) div 2n, half up; `None` for no values.
pub fn rounded_mean(values: &[u8]) -> Option<u8> {
    let n = u64::try_from(values.len()).ok().filter(|n| *n > 0)?;
    let sum: u64 = values.iter().map(|v| u64::from(*v)).sum();
    let mean = (2 * sum + n) / (2 * n);
    u8::try_from(mean).ok()
}

impl State {
    /// The state digest, SHA-256 of JCS(state without `digest`), as stored in the state.
    pub fn digest(&self) -> Hash {
        self.digest
    }

    /// Computes the digest from the other fields.
    pub fn compute_digest(&self) -> Hash {
        // Every number in a state is a small integer, so the profile always admits it, and a
        // state is always JSON; a state that were not would have the zero digest.
        match jcs::to_canonical_without(self, "digest") {
            Ok(bytes) => Hash::sha256(&bytes),
            Err(_) => Hash::ZERO,
        }
    }

    /// Whether `digest` is the digest of the other fields (for a state read from elsewhere).
    pub fn has_valid_digest(&self) -> bool {
        self.compute_digest() == self.digest
    }

    /// JCS(state), digest included.
    pub fn to_canonical_json(&self) -> Vec<u8> {
        jcs::to_canonical(self).unwrap_or_default()
    }

    fn with_digest(mut self) -> State {
        self.digest = self.compute_digest();
        self
    }
}

impl Ledger {
    /// The state of SPEC §5 at [`Ledger::size`] and date `at` (default: the date of the last
    /// entry's `recorded_at`). Before the genesis, an empty state with a zero ledger id and
    /// `at` defaulting to 1970-01-01.
    pub fn state(&self, at: Option<Date>) -> State {
        self.state_undigested(at).with_digest()
    }

    /// The sector's pillar scores of [`Ledger::state`], without the state's digest (which
    /// canonicalises the whole state: the month-end series needs only these scores).
    pub fn sector_scores(&self, at: Option<Date>) -> PillarScores {
        self.state_undigested(at).sector
    }

    /// [`Ledger::state`] with its digest still zero.
    fn state_undigested(&self, at: Option<Date>) -> State {
        let at = at
            .or_else(|| self.last_recorded_at.as_ref().map(|t| t.date()))
            .unwrap_or_else(epoch);
        // Operators and KPIs with an open dispute on an evaluation of a non-superseded
        // submission.
        let mut disputed: BTreeSet<(&Slug, &KpiId)> = BTreeSet::new();
        let mut dispute_counts: BTreeMap<&Slug, DisputeCounts> = BTreeMap::new();
        for dispute in self.disputes.values() {
            let counts = dispute_counts.entry(&dispute.operator).or_default();
            match dispute.resolved {
                None => {
                    counts.open += 1;
                    let live = self
                        .evaluations
                        .get(&dispute.evaluation)
                        .and_then(|e| self.submissions.get(&e.submission))
                        .is_some_and(|s| s.superseded_seq.is_none());
                    if live {
                        disputed.insert((&dispute.operator, &dispute.kpi));
                    }
                }
                Some((_, Some(crate::value::DisputeOutcome::Upheld))) => counts.upheld += 1,
                Some((_, Some(crate::value::DisputeOutcome::Overturned))) => {
                    counts.overturned += 1;
                }
                Some((_, None)) => add_withheld(&mut counts.withheld, 1),
            }
        }
        let mut commitment_counts: BTreeMap<&Slug, CommitmentCounts> = BTreeMap::new();
        for commitment in self.commitments.values() {
            let counts = commitment_counts.entry(&commitment.operator).or_default();
            match commitment.closed {
                Some((_, Some(crate::value::CommitmentOutcome::Fulfilled))) => {
                    counts.fulfilled += 1;
                }
                Some((_, Some(crate::value::CommitmentOutcome::Missed))) => counts.missed += 1,
                Some((_, Some(crate::value::CommitmentOutcome::Withdrawn))) => {
                    counts.withdrawn += 1;
                }
                Some((_, None)) => add_withheld(&mut counts.withheld, 1),
                None if at > commitment.due => counts.overdue += 1,
                None => counts.open += 1,
            }
        }

        let v2 = self.is_v2();
        let mut operators = BTreeMap::new();
        let mut sector_values: BTreeMap<Pillar, Vec<u8>> = BTreeMap::new();
        for (operator, record) in &self.operators {
            let mut kpis = BTreeMap::new();
            let mut pillar_values: BTreeMap<Pillar, Vec<u8>> = BTreeMap::new();
            for (kpi, track) in self.tracks.get(operator).into_iter().flatten() {
                let (Some(assignment), Some(definition)) =
                    (track.assignments.last(), self.kpis.get(kpi))
                else {
                    continue;
                };
                let latest = track
                    .periods
                    .values()
                    .next_back()
                    .and_then(|h| self.submissions.get(h).map(|s| (h, s)));
                let evaluated_submission = track.periods.values().rev().find_map(|h| {
                    let s = self.submissions.get(h)?;
                    let e = s.effective_evaluation?;
                    self.evaluations.get(&e).map(|record| (h, s, e, record))
                });
                let evaluated = evaluated_submission.map(|(_, _, e, record)| (e, record));
                let verdict = evaluated.and_then(|(_, e)| e.verdict);
                let score = evaluated.and_then(|(_, e)| e.score.map(crate::value::Score::get));
                let latest_has_effective =
                    latest.is_some_and(|(_, s)| s.effective_evaluation.is_some());
                let status = if disputed.contains(&(operator, kpi)) {
                    KpiStatus::Disputed
                } else if verdict == Some(Verdict::Met) {
                    KpiStatus::Met
                } else if at > assignment.due {
                    KpiStatus::Overdue
                } else if latest.is_some() && !latest_has_effective {
                    KpiStatus::Submitted
                } else if let Some(verdict) = verdict {
                    KpiStatus::from_verdict(verdict)
                } else {
                    KpiStatus::Pending
                };
                if let Some(score) = score {
                    pillar_values
                        .entry(definition.pillar)
                        .or_default()
                        .push(score);
                }
                kpis.insert(
                    kpi.clone(),
                    KpiState {
                        pillar: definition.pillar,
                        target: assignment.target.clone(),
                        baseline: assignment.baseline.clone(),
                        due: assignment.due,
                        first_period: assignment.first_period,
                        latest_submission: latest.map(|(h, _)| *h),
                        period: latest.map(|(_, s)| s.period),
                        value: latest.and_then(|(_, s)| s.value.clone()),
                        evaluation: evaluated.map(|(h, _)| h),
                        verdict,
                        score,
                        status,
                        title: v2.then(|| definition.title.clone()),
                        evaluated: v2.then(|| EvaluatedSubmission {
                            submission: evaluated_submission.map(|(h, ..)| *h),
                            period: evaluated_submission.map(|(_, s, ..)| s.period),
                            value: evaluated_submission.and_then(|(_, s, ..)| s.value.clone()),
                        }),
                        verdict_differs: v2.then(|| {
                            evaluated.is_some_and(|(h, _)| self.cycle.differing.contains(&h))
                        }),
                    },
                );
            }
            let mut pillar_scores = PillarScores::default();
            for pillar in Pillar::ALL {
                let mean = pillar_values.get(pillar).and_then(|v| rounded_mean(v));
                pillar_scores.set(*pillar, mean);
                if let Some(mean) = mean {
                    sector_values.entry(*pillar).or_default().push(mean);
                }
            }
            let present: Vec<u8> = Pillar::ALL
                .iter()
                .filter_map(|p| pillar_scores.get(*p))
                .collect();
            operators.insert(
                operator.clone(),
                OperatorState {
                    name: record.name.clone(),
                    kpis,
                    pillar_scores,
                    score: rounded_mean(&present),
                    commitments: commitment_counts.get(operator).copied().unwrap_or_default(),
                    disputes: dispute_counts.get(operator).copied().unwrap_or_default(),
                },
            );
        }
        // An operator some of whose entries stayed sealed shows as the public view shows it,
        // and then no sector score is known (SPEC §12.8).
        for (id, operator) in &mut operators {
            if self.unopened_unplaced || self.unopened.contains(id) {
                hide_operator(operator, v2);
            }
        }
        let mut sector = PillarScores::default();
        if !self.is_partial() {
            for pillar in Pillar::ALL {
                sector.set(
                    *pillar,
                    sector_values.get(pillar).and_then(|v| rounded_mean(v)),
                );
            }
        }
        let members = self
            .members
            .iter()
            .map(|(id, m)| {
                (
                    id.clone(),
                    MemberState {
                        roles: m.roles.iter().copied().collect(),
                        operator: m.operator.clone(),
                        key: m.key,
                        status: if m.revoked_seq.is_some() {
                            MemberStatus::Revoked
                        } else {
                            MemberStatus::Active
                        },
                    },
                )
            })
            .collect();
        State {
            ledger: self.ledger_id.unwrap_or(Hash::ZERO),
            size: self.size,
            at,
            operators,
            sector,
            members,
            format: v2.then_some(self.format),
            kpis: v2.then(|| {
                self.kpis
                    .iter()
                    .map(|(id, k)| {
                        (
                            id.clone(),
                            KpiDefinition {
                                pillar: k.pillar,
                                title: k.title.clone(),
                                unit: k.unit.clone(),
                                direction: k.direction,
                                cadence: k.cadence,
                                evidence_required: k.evidence_required,
                                retired: self.cycle.retired.get(id).map(|(_, date)| *date),
                            },
                        )
                    })
                    .collect()
            }),
            cycle: v2.then(|| self.cycle_state(at)),
            erased: self.erased_fields(),
            digest: Hash::ZERO,
        }
    }
}

impl Ledger {
    /// The state's `erased`: every entry with erased fields, by seq (SPEC §12.9).
    fn erased_fields(&self) -> Vec<ErasedFields> {
        let mut erased: Vec<ErasedFields> = self
            .erased
            .iter()
            .filter_map(|(entry, record)| {
                let named = self.erasable.get(entry)?;
                Some(ErasedFields {
                    seq: named.seq,
                    entry: *entry,
                    kind: named.kind.clone(),
                    fields: record.fields.clone(),
                })
            })
            .collect();
        erased.sort_by_key(|e| e.seq);
        erased
    }
}

/// An operator as a reader who may not see it sees it (SPEC §13.3): its registry and workflow
/// facts, no value, evaluation, verdict or score; in format 2 (`v2`) the outcomes of its
/// closed commitments and resolved disputes are sealed too (SPEC §12.1), so they count as
/// `withheld`. The state of a replay that lacks some of an operator's openings shows the
/// operator the same way, which makes the public replay equal the public view.
pub(crate) fn hide_operator(operator: &mut OperatorState, v2: bool) {
    for kpi in operator.kpis.values_mut() {
        kpi.status = public_status(kpi.status, kpi.latest_submission.is_some());
        kpi.value = None;
        kpi.evaluation = None;
        kpi.verdict = None;
        kpi.score = None;
        // Which submission a verdict judges, and its value, go with the verdict (v2).
        kpi.evaluated = kpi.evaluated.as_ref().map(|_| EvaluatedSubmission {
            submission: None,
            period: None,
            value: None,
        });
        // Whether the verdict differs from the indicated one goes with the verdict (v2).
        kpi.verdict_differs = None;
    }
    operator.pillar_scores = PillarScores::default();
    operator.score = None;
    if v2 {
        let c = &mut operator.commitments;
        let closed = c.fulfilled + c.missed + c.withdrawn;
        (c.fulfilled, c.missed, c.withdrawn) = (0, 0, 0);
        add_withheld(&mut c.withheld, closed);
        let d = &mut operator.disputes;
        let resolved = d.upheld + d.overturned;
        (d.upheld, d.overturned) = (0, 0);
        add_withheld(&mut d.withheld, resolved);
    }
}

/// A KPI's status without what a verdict decides: `disputed` stays (an open dispute is a
/// workflow fact); once something was filed, `submitted`; before, the status is already
/// `overdue` or `pending`, which no verdict decides.
fn public_status(status: KpiStatus, filed: bool) -> KpiStatus {
    match status {
        KpiStatus::Disputed => KpiStatus::Disputed,
        _ if filed => KpiStatus::Submitted,
        other => other,
    }
}

/// Adds `n` to a count that is absent when 0.
pub(crate) fn add_withheld(count: &mut Option<u64>, n: u64) {
    if n > 0 {
        *count = Some(count.unwrap_or(0).saturating_add(n));
    }
}

/// What changed between two states, line by line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StateDiff {
    /// The size of the first state.
    pub from_size: u64,
    /// The size of the second state.
    pub to_size: u64,
    /// The changes, in a stable order.
    pub changes: Vec<Change>,
}

/// A KPI's assignment as the state shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// The target.
    pub target: Decimal,
    /// The due date.
    #[schemars(schema_with = "schema::date")]
    pub due: Date,
}

/// A KPI's latest report as the state shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// The period reported.
    #[schemars(schema_with = "schema::period")]
    pub period: Period,
    /// The value reported.
    pub value: Decimal,
}

impl fmt::Display for Assignment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "target {}, due {}", self.target, self.due)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {}", self.period, self.value)
    }
}

/// One change between two states. `None` on a side means absent there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "change", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // A diff holds few changes; flat variants serialise plainly.
pub enum Change {
    /// An operator appeared or disappeared.
    Operator {
        /// The operator.
        operator: Slug,
        /// Whether it is in the first state.
        before: bool,
        /// Whether it is in the second state.
        after: bool,
    },
    /// A KPI's status changed (or the KPI was assigned).
    KpiStatus {
        /// The operator.
        operator: Slug,
        /// The KPI.
        kpi: KpiId,
        /// Before.
        from: Option<KpiStatus>,
        /// After.
        to: Option<KpiStatus>,
    },
    /// A KPI was assigned, or its assignment revised (targets are versioned by the log).
    KpiAssignment {
        /// The operator.
        operator: Slug,
        /// The KPI.
        kpi: KpiId,
        /// The assignment in force before, if any.
        from: Option<Assignment>,
        /// The assignment in force after, if any.
        to: Option<Assignment>,
    },
    /// The latest report (period and value) of a KPI changed.
    KpiReport {
        /// The operator.
        operator: Slug,
        /// The KPI.
        kpi: KpiId,
        /// The latest report before, if any.
        from: Option<Report>,
        /// The latest report after, if any.
        to: Option<Report>,
    },
    /// A KPI's score changed.
    KpiScore {
        /// The operator.
        operator: Slug,
        /// The KPI.
        kpi: KpiId,
        /// Before.
        from: Option<u8>,
        /// After.
        to: Option<u8>,
    },
    /// An operator's pillar score changed.
    PillarScore {
        /// The operator.
        operator: Slug,
        /// The pillar.
        pillar: Pillar,
        /// Before.
        from: Option<u8>,
        /// After.
        to: Option<u8>,
    },
    /// An operator's overall score changed.
    OperatorScore {
        /// The operator.
        operator: Slug,
        /// Before.
        from: Option<u8>,
        /// After.
        to: Option<u8>,
    },
    /// The sector's score for a pillar changed.
    SectorScore {
        /// The pillar.
        pillar: Pillar,
        /// Before.
        from: Option<u8>,
        /// After.
        to: Option<u8>,
    },
    /// An operator's commitment counts changed.
    Commitments {
        /// The operator.
        operator: Slug,
        /// Before.
        from: CommitmentCounts,
        /// After.
        to: CommitmentCounts,
    },
    /// An operator's dispute counts changed.
    Disputes {
        /// The operator.
        operator: Slug,
        /// Before.
        from: DisputeCounts,
        /// After.
        to: DisputeCounts,
    },
    /// A member appeared, or their roles, operator, key or status changed.
    Member {
        /// The member.
        member: Slug,
        /// Before.
        from: Option<MemberState>,
        /// After.
        to: Option<MemberState>,
    },
}

/// What changed from state `a` to state `b`: statuses, scores, commitments, disputes and
/// members. Pure and deterministic (ordered by operator, KPI, pillar, member).
pub fn diff(a: &State, b: &State) -> StateDiff {
    let mut changes = Vec::new();
    let operators: BTreeSet<&Slug> = a.operators.keys().chain(b.operators.keys()).collect();
    for operator in operators {
        let before = a.operators.get(operator);
        let after = b.operators.get(operator);
        if before.is_some() != after.is_some() {
            changes.push(Change::Operator {
                operator: operator.clone(),
                before: before.is_some(),
                after: after.is_some(),
            });
        }
        let empty = BTreeMap::new();
        let kpis_a = before.map_or(&empty, |o| &o.kpis);
        let kpis_b = after.map_or(&empty, |o| &o.kpis);
        let kpis: BTreeSet<&KpiId> = kpis_a.keys().chain(kpis_b.keys()).collect();
        for kpi in kpis {
            let (ka, kb) = (kpis_a.get(kpi), kpis_b.get(kpi));
            let assignment = |k: &KpiState| Assignment {
                target: k.target.clone(),
                due: k.due,
            };
            let (aa, ab) = (ka.map(assignment), kb.map(assignment));
            if aa != ab {
                changes.push(Change::KpiAssignment {
                    operator: operator.clone(),
                    kpi: kpi.clone(),
                    from: aa,
                    to: ab,
                });
            }
            let (sa, sb) = (ka.map(|k| k.status), kb.map(|k| k.status));
            if sa != sb {
                changes.push(Change::KpiStatus {
                    operator: operator.clone(),
                    kpi: kpi.clone(),
                    from: sa,
                    to: sb,
                });
            }
            let report = |k: &KpiState| {
                Some(Report {
                    period: k.period?,
                    value: k.value.clone()?,
                })
            };
            let (ra, rb) = (ka.and_then(report), kb.and_then(report));
            if ra != rb {
                changes.push(Change::KpiReport {
                    operator: operator.clone(),
                    kpi: kpi.clone(),
                    from: ra,
                    to: rb,
                });
            }
            let (sa, sb) = (ka.and_then(|k| k.score), kb.and_then(|k| k.score));
            if sa != sb {
                changes.push(Change::KpiScore {
                    operator: operator.clone(),
                    kpi: kpi.clone(),
                    from: sa,
                    to: sb,
                });
            }
        }
        let pa = before.map(|o| o.pillar_scores).unwrap_or_default();
        let pb = after.map(|o| o.pillar_scores).unwrap_or_default();
        for pillar in Pillar::ALL {
            if pa.get(*pillar) != pb.get(*pillar) {
                changes.push(Change::PillarScore {
                    operator: operator.clone(),
                    pillar: *pillar,
                    from: pa.get(*pillar),
                    to: pb.get(*pillar),
                });
            }
        }
        let (sa, sb) = (before.and_then(|o| o.score), after.and_then(|o| o.score));
        if sa != sb {
            changes.push(Change::OperatorScore {
                operator: operator.clone(),
                from: sa,
                to: sb,
            });
        }
        let ca = before.map(|o| o.commitments).unwrap_or_default();
        let cb = after.map(|o| o.commitments).unwrap_or_default();
        if ca != cb {
            changes.push(Change::Commitments {
                operator: operator.clone(),
                from: ca,
                to: cb,
            });
        }
        let da = before.map(|o| o.disputes).unwrap_or_default();
        let db = after.map(|o| o.disputes).unwrap_or_default();
        if da != db {
            changes.push(Change::Disputes {
                operator: operator.clone(),
                from: da,
                to: db,
            });
        }
    }
    for pillar in Pillar::ALL {
        let (sa, sb) = (a.sector.get(*pillar), b.sector.get(*pillar));
        if sa != sb {
            changes.push(Change::SectorScore {
                pillar: *pillar,
                from: sa,
                to: sb,
            });
        }
    }
    let members: BTreeSet<&Slug> = a.members.keys().chain(b.members.keys()).collect();
    for member in members {
        let (ma, mb) = (a.members.get(member), b.members.get(member));
        if ma != mb {
            changes.push(Change::Member {
                member: member.clone(),
                from: ma.cloned(),
                to: mb.cloned(),
            });
        }
    }
    StateDiff {
        from_size: a.size,
        to_size: b.size,
        changes,
    }
}

struct Shown<'a, T>(&'a Option<T>);

impl<T: fmt::Display> fmt::Display for Shown<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(value) => value.fmt(f),
            None => f.write_str("—"),
        }
    }
}

impl fmt::Display for CommitmentCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "open {}, overdue {}, fulfilled {}, missed {}, withdrawn {}",
            self.open, self.overdue, self.fulfilled, self.missed, self.withdrawn
        )
    }
}

impl fmt::Display for DisputeCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "open {}, upheld {}, overturned {}",
            self.open, self.upheld, self.overturned
        )
    }
}

impl fmt::Display for MemberState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let roles: Vec<&str> = self.roles.iter().map(|r| r.as_str()).collect();
        write!(f, "{} [{}]", self.status_text(), roles.join(", "))?;
        if let Some(operator) = &self.operator {
            write!(f, " of `{operator}`")?;
        }
        write!(f, ", key {}", self.key)
    }
}

impl MemberState {
    fn status_text(&self) -> &'static str {
        match self.status {
            MemberStatus::Active => "active",
            MemberStatus::Revoked => "revoked",
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Operator {
                operator, after, ..
            } => {
                if *after {
                    write!(f, "operator `{operator}` registered")
                } else {
                    write!(f, "operator `{operator}` absent")
                }
            }
            Change::KpiStatus {
                operator,
                kpi,
                from,
                to,
            } => write!(
                f,
                "`{operator}` {kpi}: status {} → {}",
                Shown(from),
                Shown(to)
            ),
            Change::KpiAssignment {
                operator,
                kpi,
                from: None,
                to: Some(to),
            } => write!(f, "`{operator}` {kpi}: assigned, {to}"),
            Change::KpiAssignment {
                operator,
                kpi,
                from,
                to,
            } => write!(
                f,
                "`{operator}` {kpi}: assignment {} → {}",
                Shown(from),
                Shown(to)
            ),
            Change::KpiReport {
                operator,
                kpi,
                from,
                to,
            } => write!(
                f,
                "`{operator}` {kpi}: latest report {} → {}",
                Shown(from),
                Shown(to)
            ),
            Change::KpiScore {
                operator,
                kpi,
                from,
                to,
            } => write!(
                f,
                "`{operator}` {kpi}: score {} → {}",
                Shown(from),
                Shown(to)
            ),
            Change::PillarScore {
                operator,
                pillar,
                from,
                to,
            } => write!(
                f,
                "`{operator}` pillar {pillar}: score {} → {}",
                Shown(from),
                Shown(to)
            ),
            Change::OperatorScore { operator, from, to } => {
                write!(f, "`{operator}`: score {} → {}", Shown(from), Shown(to))
            }
            Change::SectorScore { pillar, from, to } => {
                write!(f, "sector {pillar}: score {} → {}", Shown(from), Shown(to))
            }
            Change::Commitments { operator, from, to } => {
                write!(f, "`{operator}` commitments: {from} → {to}")
            }
            Change::Disputes { operator, from, to } => {
                write!(f, "`{operator}` disputes: {from} → {to}")
            }
            Change::Member { member, from, to } => {
                write!(f, "member `{member}`: {} → {}", Shown(from), Shown(to))
            }
        }
    }
}

impl fmt::Display for StateDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "changes from size {} to size {}:",
            self.from_size, self.to_size
        )?;
        if self.changes.is_empty() {
            return writeln!(f, "  (none)");
        }
        for change in &self.changes {
            writeln!(f, "  {change}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounded_mean_is_half_up_over_integers() {
        // (2·sum + n) div 2n, worked by hand:
        assert_eq!(rounded_mean(&[]), None);
        assert_eq!(rounded_mean(&[80]), Some(80)); // (160 + 1) / 2 = 80
        assert_eq!(rounded_mean(&[80, 81]), Some(81)); // (322 + 2) / 4 = 81 (80.5 rounds up)
        assert_eq!(rounded_mean(&[80, 80, 81]), Some(80)); // (482 + 3) / 6 = 80 (80.33)
        assert_eq!(rounded_mean(&[80, 81, 81]), Some(81)); // (484 + 3) / 6 = 81 (80.67)
        assert_eq!(rounded_mean(&[0, 1]), Some(1)); // (2 + 2) / 4 = 1 (0.5 rounds up)
        assert_eq!(rounded_mean(&[0, 0, 1]), Some(0)); // (2 + 3) / 6 = 0 (0.33)
        assert_eq!(rounded_mean(&[100, 100]), Some(100)); // (400 + 2) / 4 = 100
        assert_eq!(rounded_mean(&[50, 75, 90, 33]), Some(62)); // (496 + 4) / 8 = 62 (62.0)
        assert_eq!(rounded_mean(&[1, 2]), Some(2)); // (6 + 2) / 4 = 2 (1.5 rounds up)
    }

    #[test]
    fn status_texts_are_the_spec_words() {
        for (status, text) in [
            (KpiStatus::Disputed, "disputed"),
            (KpiStatus::Met, "met"),
            (KpiStatus::Overdue, "overdue"),
            (KpiStatus::Submitted, "submitted"),
            (KpiStatus::PartiallyMet, "partially_met"),
            (KpiStatus::NotMet, "not_met"),
            (KpiStatus::InsufficientEvidence, "insufficient_evidence"),
            (KpiStatus::Pending, "pending"),
        ] {
            assert_eq!(serde_json::to_value(status).unwrap(), text);
            assert_eq!(status.as_str(), text);
        }
    }

    #[test]
    fn json_schemas_generate_for_the_state_and_every_body() {
        let state = serde_json::to_value(schemars::schema_for!(State)).unwrap();
        let required = state["required"].as_array().unwrap();
        assert_eq!(required.len(), 7);
        let kpi = serde_json::to_value(schemars::schema_for!(KpiState)).unwrap();
        assert!(kpi["required"]
            .as_array()
            .unwrap()
            .contains(&"baseline".into()));
        let body =
            serde_json::to_value(schemars::schema_for!(crate::body::SubmissionFiledBody)).unwrap();
        assert_eq!(body["additionalProperties"], false);
        assert!(!body["required"]
            .as_array()
            .unwrap()
            .contains(&"supersedes".into()));
    }

    #[test]
    fn empty_ledger_state_has_every_key() {
        let state = Ledger::new().state(None);
        let json: serde_json::Value = serde_json::from_slice(&state.to_canonical_json()).unwrap();
        for key in [
            "ledger",
            "size",
            "at",
            "operators",
            "sector",
            "members",
            "digest",
        ] {
            assert!(json.get(key).is_some(), "{key}");
        }
        assert_eq!(json["sector"]["legal"], serde_json::Value::Null);
        assert!(state.has_valid_digest());
    }
}
