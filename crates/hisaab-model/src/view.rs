//! Read access by role (SPEC §13): who a reader is, what of the state they may see, and
//! whether they may read an entry.
//!
//! Everything here is decided from the ledger's own registry (the members of a [`State`]), with
//! no other user database:
//!
//! - [`Reader::of_member`] classes a member: `full` (an authority, a chair, an evaluator not
//!   affiliated with an operator), `operator(X)` (any other member affiliated with operator X),
//!   or `public` (a witness, or anyone without credentials).
//! - [`view_state`] turns the full state into what a reader may see: the registry and the
//!   workflow facts of every operator, the values, verdicts and scores only of the operators the
//!   reader may see, and sector aggregates only where at least [`SECTOR_CONTRIBUTORS_MIN`]
//!   operators contribute (format 1; in format 2 none, and sealed outcomes count as
//!   `withheld`, so that the public view is the public replay's state, SPEC §12.8).
//! - [`Scopes`] folds entries, in log order, into the scope of each one (the registry, one
//!   operator, or the sector), following references (an evaluation through its submission, a
//!   dispute through its evaluation); [`entry_access`] decides from a scope and a reader whether
//!   the entry is served or withheld. It is the one place that decides it, so that serving a
//!   sealed form instead of withholding is a change to that function alone.

use std::collections::{BTreeMap, HashMap};

use hisaab_log::seal::{Blinding, StateTree, SubState, SubStateProof};
use hisaab_log::{Date, Hash, PublicKey, SealedEntry};

use crate::body::{Body, PillarAggregate};
use crate::ledger::Ledger;
pub use crate::place::Scope;
use crate::place::{scope_of_body, Places};
use crate::record::{EscalatedItem, TaskStatus};
use crate::state::{hide_operator, MemberState, MemberStatus, PillarScores, State};
use crate::value::{Pillar, Role, Slug};

pub use crate::value::SECTOR_CONTRIBUTORS_MIN;

/// Who is reading, as far as access goes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reader {
    /// Sees everything: an authority, a chair, an evaluator not affiliated with an operator.
    Full,
    /// Sees everything about this operator and the public view of the rest.
    Operator(Slug),
    /// Sees the public view: no credentials, or a member with no other standing (a witness).
    Public,
}

impl Reader {
    /// The class of an active member: `full` for an authority or a chair, or an evaluator with
    /// no operator; `public` for a member who is only a witness (a log monitor, even one run
    /// by an operator); `operator(X)` for any other member affiliated with X; `public`
    /// otherwise.
    pub fn of_member(member: &MemberState) -> Reader {
        let has = |role: Role| member.roles.contains(&role);
        if has(Role::Authority) || has(Role::Chair) {
            return Reader::Full;
        }
        if member.roles.iter().all(|role| *role == Role::Witness) {
            return Reader::Public;
        }
        match &member.operator {
            Some(operator) => Reader::Operator(operator.clone()),
            None if has(Role::Evaluator) => Reader::Full,
            None => Reader::Public,
        }
    }

    /// Whether this reader sees everything about `operator`.
    pub fn sees_operator(&self, operator: &Slug) -> bool {
        match self {
            Reader::Full => true,
            Reader::Operator(own) => own == operator,
            Reader::Public => false,
        }
    }

    /// The class as SPEC §13 writes it: `full`, `operator:<id>` or `public`.
    pub fn label(&self) -> String {
        match self {
            Reader::Full => "full".to_owned(),
            Reader::Operator(operator) => format!("operator:{operator}"),
            Reader::Public => "public".to_owned(),
        }
    }
}

/// Why a member cannot read with a key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReaderError {
    /// No member has this id.
    #[error("no member {member:?} is enrolled in this ledger")]
    UnknownMember {
        /// The id asked for.
        member: String,
    },
    /// The member was revoked: they lose read access at once.
    #[error("member {member:?} was revoked and may no longer read")]
    Revoked {
        /// The member.
        member: String,
    },
    /// The key is not the member's current key (a rotated-away key, or another one).
    #[error("the key is not member {member:?}'s current key (a rotated-away key reads nothing)")]
    NotCurrentKey {
        /// The member.
        member: String,
    },
}

/// The reader a member is when they prove they hold `key`: refused when the member is unknown,
/// revoked, or `key` is not their current key.
///
/// # Errors
/// [`ReaderError`] as above.
pub fn identify(state: &State, member: &str, key: &PublicKey) -> Result<Reader, ReaderError> {
    let found = Slug::try_new(member)
        .ok()
        .and_then(|id| state.members.get(&id))
        .ok_or_else(|| ReaderError::UnknownMember {
            member: member.to_owned(),
        })?;
    if found.status == MemberStatus::Revoked {
        return Err(ReaderError::Revoked {
            member: member.to_owned(),
        });
    }
    if found.key != *key {
        return Err(ReaderError::NotCurrentKey {
            member: member.to_owned(),
        });
    }
    Ok(Reader::of_member(found))
}

/// The state as `reader` may see it (SPEC §13.3). A `full` reader sees it unchanged. For any
/// other reader, each operator they may not see keeps its registry and workflow facts (its
/// name, KPIs and their assignments, the latest submission's hash and period, commitment and
/// dispute counts) and loses its values, evaluations, verdicts and scores; a KPI's status
/// becomes one that no verdict decides (`disputed`, else `submitted` once something was filed,
/// else `overdue` or `pending`); and a sector score is kept only where at least
/// [`SECTOR_CONTRIBUTORS_MIN`] operators have a score for that pillar. In format 2 no sector
/// score is kept and the hidden operators' commitment and dispute outcomes count as
/// `withheld`. The digest is that of the view.
pub fn view_state(state: &State, reader: &Reader) -> State {
    if *reader == Reader::Full {
        return state.clone();
    }
    let v2 = state.format.is_some_and(|format| format >= 2);
    let mut view = state.clone();
    for (id, operator) in &mut view.operators {
        if !reader.sees_operator(id) {
            hide_operator(operator, v2);
        }
    }
    // Format 2: whether an escalated commitment of an operator the reader does not see was
    // fulfilled, missed or withdrawn is its sealed outcome; such a reader sees it closed, as a
    // replay without the opening does.
    if let Some(cycle) = view.cycle.as_mut() {
        for escalation in cycle.escalations.values_mut() {
            let hidden = escalation
                .operator
                .as_ref()
                .is_none_or(|operator| !reader.sees_operator(operator));
            let outcome = matches!(
                escalation.status,
                TaskStatus::Done | TaskStatus::Missed | TaskStatus::Withdrawn
            );
            if hidden && outcome && matches!(escalation.item, EscalatedItem::Commitment(_)) {
                escalation.status = TaskStatus::Closed;
            }
        }
    }
    // Format 2: the sector's scores are computed from every operator's sealed scores, which
    // a replay without them cannot recompute (SPEC §12.8): only `full` readers get them.
    view.sector = if v2 {
        PillarScores::default()
    } else {
        public_sector(state)
    };
    view.digest = view.compute_digest();
    view
}

/// The sector's scores, each only where at least [`SECTOR_CONTRIBUTORS_MIN`] operators have a
/// score for that pillar.
fn public_sector(state: &State) -> PillarScores {
    let mut sector = PillarScores::default();
    for aggregate in sector_aggregates(state) {
        if aggregate.mean.is_some() {
            set_pillar(
                &mut sector,
                aggregate.pillar,
                state.sector.get(aggregate.pillar),
            );
        }
    }
    sector
}

fn set_pillar(scores: &mut PillarScores, pillar: Pillar, score: Option<u8>) {
    let slot = match pillar {
        Pillar::Legal => &mut scores.legal,
        Pillar::Resilience => &mut scores.resilience,
        Pillar::Monitoring => &mut scores.monitoring,
        Pillar::Capacity => &mut scores.capacity,
        Pillar::Cooperation => &mut scores.cooperation,
        Pillar::Awareness => &mut scores.awareness,
    };
    *slot = score;
}

/// Whether a reader gets an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryAccess {
    /// The entry as it is, its leaf bytes exactly.
    Full,
    /// Withheld: the reader learns that the entry exists, its kind and its leaf hash (which
    /// proofs carry anyway), nothing of its body. An entry in sealed form is served
    /// [`EntryAccess::Sealed`] instead.
    Withheld,
    /// The entry as it is, in sealed form (SPEC §12.4): its leaf bytes exactly, which hold no
    /// value of a sealed field, so that every reader can check it and replay the public state
    /// from it; its openings are not this reader's.
    Sealed,
}

/// How `reader` gets an entry of `scope` whose body is in sealed form or not (SPEC §13.4): as
/// [`entry_access`] says, except that an entry in sealed form that would be withheld is served
/// as it is ([`EntryAccess::Sealed`]). Its openings are served only where [`entry_access`]
/// gives [`EntryAccess::Full`].
pub fn entry_access_of(reader: &Reader, scope: &Scope, sealed_form: bool) -> EntryAccess {
    match entry_access(reader, scope) {
        EntryAccess::Withheld if sealed_form => EntryAccess::Sealed,
        access => access,
    }
}

/// Whether `reader` gets an entry of `scope`: registry entries are for everyone; an operator's
/// data for `full` readers and that operator's members; the sector's for `full` readers.
pub fn entry_access(reader: &Reader, scope: &Scope) -> EntryAccess {
    let allowed = match scope {
        Scope::Registry => true,
        Scope::Operator(operator) => reader.sees_operator(operator),
        Scope::Sector => *reader == Reader::Full,
    };
    if allowed {
        EntryAccess::Full
    } else {
        EntryAccess::Withheld
    }
}

/// Whether `reader` may have the openings of `statement`, an entry of `scope` (SPEC §13.4):
/// whoever may read it in full ([`entry_access`]), except that an operator's registration
/// (whose sealed field is its blinding, SPEC §12.8) is opened only to the full readers and
/// that operator's members, though the registry is everyone's.
pub fn openings_access(reader: &Reader, scope: &Scope, statement: &hisaab_log::Statement) -> bool {
    if statement.kind == "operator.registered" {
        let operator = statement
            .body
            .get("operator")
            .and_then(serde_json::Value::as_str)
            .and_then(|id| Slug::try_new(id).ok());
        return operator.is_some_and(|operator| reader.sees_operator(&operator));
    }
    entry_access(reader, scope) == EntryAccess::Full
}

/// Who may read an entry of `scope`, in words, for a refusal's message.
pub fn readable_by(scope: &Scope) -> String {
    match scope {
        Scope::Registry => "anyone".to_owned(),
        Scope::Operator(operator) => format!(
            "an authority, a chair, an evaluator not affiliated with an operator, or a member \
             of operator {operator}"
        ),
        Scope::Sector => {
            "an authority, a chair, or an evaluator not affiliated with an operator".to_owned()
        }
    }
}

/// The scope of every entry of a ledger, folded in log order.
///
/// It keeps, per entry, a small code (not the entry), and the operator of each submission,
/// evaluation, commitment, challenge and dispute so that later entries naming them can be
/// scoped.
#[derive(Clone, Debug, Default)]
pub struct Scopes {
    /// Per seq: 0 registry, 1 sector, `2 + i` the operator `operators[i]`.
    codes: Vec<u32>,
    operators: Vec<Slug>,
    operator_codes: BTreeMap<Slug, u32>,
    /// Submissions' and evaluations' event hashes → operator code.
    by_hash: HashMap<Hash, u32>,
    /// Commitment, dispute and challenge ids → scope code.
    commitments: HashMap<Slug, u32>,
    disputes: HashMap<Slug, u32>,
    challenges: HashMap<Slug, u32>,
    /// Format 2: action and directive ids → scope code.
    tasks: HashMap<Slug, u32>,
}

const REGISTRY: u32 = 0;
const SECTOR: u32 = 1;

impl Scopes {
    /// No entries yet.
    pub fn new() -> Self {
        Scopes::default()
    }

    /// How many entries were folded.
    pub fn len(&self) -> u64 {
        u64::try_from(self.codes.len()).unwrap_or(u64::MAX)
    }

    /// Whether no entry was folded.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The scope of entry `seq`, once folded.
    pub fn scope(&self, seq: u64) -> Option<Scope> {
        let code = *self.codes.get(usize::try_from(seq).ok()?)?;
        Some(self.decode(code))
    }

    fn decode(&self, code: u32) -> Scope {
        match code {
            REGISTRY => Scope::Registry,
            SECTOR => Scope::Sector,
            other => usize::try_from(other - 2)
                .ok()
                .and_then(|i| self.operators.get(i))
                .map_or(Scope::Sector, |operator| Scope::Operator(operator.clone())),
        }
    }

    fn operator_code(&mut self, operator: &Slug) -> u32 {
        if let Some(code) = self.operator_codes.get(operator) {
            return *code;
        }
        let code = u32::try_from(self.operators.len())
            .unwrap_or(u32::MAX - 2)
            .saturating_add(2);
        self.operators.push(operator.clone());
        self.operator_codes.insert(operator.clone(), code);
        code
    }

    /// Folds the next entry (its seq must be [`Scopes::len`]) and returns its scope. An entry
    /// out of order, or whose body does not parse (an accepted entry always does), or naming
    /// something not seen, is scoped to the sector: withheld from all but `full` readers.
    pub fn push(&mut self, entry: &SealedEntry) -> Scope {
        let code = if entry.entry().seq == self.len() {
            self.code_of(entry)
        } else {
            SECTOR
        };
        self.codes.push(code);
        self.decode(code)
    }

    fn code_of(&mut self, entry: &SealedEntry) -> u32 {
        let statement = &entry.entry().statement;
        let Ok(body) = Body::try_parse(&statement.kind, &statement.body) else {
            return SECTOR;
        };
        let scope = scope_of_body(&body, &*self);
        let code = self.code(&scope);
        // Remember what later entries may name, with the scope it gives them.
        match &body {
            Body::SubmissionFiled(_) | Body::EvaluationRecorded(_) => {
                self.by_hash.insert(entry.event_hash(), code);
            }
            Body::ActionAssigned(b) => {
                self.tasks.insert(b.action.clone(), code);
            }
            Body::DirectiveIssued(b) => {
                self.tasks.insert(b.directive.clone(), code);
            }
            Body::DisputeOpened(b) => {
                self.disputes.insert(b.dispute.clone(), code);
            }
            Body::CommitmentMade(b) => {
                self.commitments.insert(b.commitment.clone(), code);
            }
            Body::ChallengeRaised(b) => {
                self.challenges.insert(b.challenge.clone(), code);
            }
            _ => {}
        }
        code
    }

    fn code(&mut self, scope: &Scope) -> u32 {
        match scope {
            Scope::Registry => REGISTRY,
            Scope::Sector => SECTOR,
            Scope::Operator(operator) => self.operator_code(operator),
        }
    }
}

impl Places for Scopes {
    fn of_event(&self, hash: &Hash) -> Option<Scope> {
        self.by_hash.get(hash).map(|code| self.decode(*code))
    }
    fn of_commitment(&self, id: &Slug) -> Option<Scope> {
        self.commitments.get(id).map(|code| self.decode(*code))
    }
    fn of_dispute(&self, id: &Slug) -> Option<Scope> {
        self.disputes.get(id).map(|code| self.decode(*code))
    }
    fn of_challenge(&self, id: &Slug) -> Option<Scope> {
        self.challenges.get(id).map(|code| self.decode(*code))
    }
    fn of_action(&self, id: &Slug) -> Option<Scope> {
        self.tasks.get(id).map(|code| self.decode(*code))
    }
    fn of_directive(&self, id: &Slug) -> Option<Scope> {
        self.tasks.get(id).map(|code| self.decode(*code))
    }
}

impl Ledger {
    /// The full-state digest of a format-2 ledger (SPEC §12.8): the root of the tree over the
    /// public state P (the state as the public view shows it, without `digest`) and each
    /// registered operator's sub-state with its blinding. `None` for a format-1 ledger (whose
    /// digest is §5.7's, [`crate::State::digest`]), for a replay that lacks some openings,
    /// and while an operator has no opened blinding (a registration written before sealing).
    pub fn full_state_digest(&self, at: Option<Date>) -> Option<Hash> {
        self.full_state_tree(at).ok().map(|tree| tree.digest())
    }

    /// The full-state digest tree of a format-2 ledger with every opening (SPEC §12.8), or
    /// why it is not defined.
    ///
    /// # Errors
    /// A sentence: a format-1 ledger, a replay that lacks some openings, a registered
    /// operator without a blinding.
    pub fn full_state_tree(&self, at: Option<Date>) -> Result<StateTree, String> {
        self.full_state_tree_of(&self.state(at))
    }

    /// [`Ledger::full_state_tree`] of `state`, this ledger's state at some date.
    fn full_state_tree_of(&self, state: &State) -> Result<StateTree, String> {
        if !self.is_v2() {
            return Err(format!(
                "a format-{} ledger has no full-state digest tree; its digest is SPEC §5.7's",
                self.format()
            ));
        }
        if self.is_partial() {
            return Err(
                "some sealed fields were not opened: only the full state (every \
                        opening) has a full-state digest (SPEC §12.8)"
                    .to_owned(),
            );
        }
        state_tree(state, |id| {
            self.operators.get(id).and_then(|o| o.blinding.as_ref())
        })
    }

    /// The digest a `dispute.resolved` names for the state this ledger has reached, with the
    /// default `at` (SPEC §4 rule 5): §5.7's digest on a format-1 ledger, the full-state
    /// digest (§12.8) on a format-2 one.
    ///
    /// # Errors
    /// As [`Ledger::full_state_tree`] on a format-2 ledger whose full-state digest is not
    /// defined.
    pub fn resolution_digest(&self) -> Result<Hash, String> {
        self.resolution_digest_of(&self.state(None))
    }

    /// [`Ledger::resolution_digest`] of `state`, which must be `self.state(None)`: for a
    /// caller that has it, so that it is not built twice (at 10^5 operators it takes half a
    /// second).
    pub(crate) fn resolution_digest_of(&self, state: &State) -> Result<Hash, String> {
        if self.is_v2() {
            self.full_state_tree_of(state).map(|tree| tree.digest())
        } else {
            Ok(state.digest())
        }
    }

    /// The sector's aggregates of the state at this size ([`sector_aggregates`]), as a
    /// `report.published` names them (SPEC §12.12). Of the full state only when no sealed
    /// field the state reads was left unopened ([`Ledger::is_partial`]).
    pub fn sector_aggregates(&self) -> Vec<PillarAggregate> {
        sector_aggregates(&self.state(None))
    }

    /// The opened blinding of `operator`'s registration (SPEC §12.8), if it was opened.
    pub fn blinding(&self, operator: &Slug) -> Option<&Blinding> {
        self.operators.get(operator)?.blinding.as_ref()
    }
}

/// The sector's aggregates of a full state (SPEC §12.12): per pillar, in the order of
/// [`Pillar::ALL`], the operators with a score in it and, where at least
/// [`SECTOR_CONTRIBUTORS_MIN`] do, the rounded mean of their scores; otherwise the pillar is
/// withheld (no `mean`).
pub fn sector_aggregates(state: &State) -> Vec<PillarAggregate> {
    Pillar::ALL
        .iter()
        .map(|pillar| {
            let scores: Vec<u8> = state
                .operators
                .values()
                .filter_map(|operator| operator.pillar_scores.get(*pillar))
                .collect();
            PillarAggregate {
                pillar: *pillar,
                operators: u32::try_from(scores.len()).unwrap_or(u32::MAX),
                mean: if scores.len() >= SECTOR_CONTRIBUTORS_MIN {
                    crate::state::rounded_mean(&scores)
                } else {
                    None
                },
            }
        })
        .collect()
}

/// The full-state digest tree (SPEC §12.8) of a full state `state` of format 2, each
/// registered operator blinded with `blinding(id)`.
///
/// # Errors
/// A sentence naming the first operator without a blinding.
pub fn state_tree<'a>(
    state: &State,
    blinding: impl Fn(&Slug) -> Option<&'a Blinding>,
) -> Result<StateTree, String> {
    let public = view_state(state, &Reader::Public);
    let mut parts = Vec::with_capacity(state.operators.len());
    for (id, operator) in &state.operators {
        let blinding = blinding(id).ok_or_else(|| {
            format!(
                "operator `{id}` has no opened `blinding` (SPEC §12.1): the full-state digest \
                 is not defined without every operator's"
            )
        })?;
        parts.push(SubState {
            operator: id.as_str(),
            blinding,
            state: operator,
        });
    }
    StateTree::build(&PublicPart(&public), &parts).map_err(|e| e.to_string())
}

/// Checks `proof` (SPEC §12.8): that `operator`'s sub-state in `state` (replayed with that
/// operator's openings, or more), blinded with `blinding`, is a leaf of `digest` at the
/// index and size the registry of `state` gives. `state` need not be the full state: only
/// `operators.<operator>` is read, and the list of registered operators (public).
///
/// # Errors
/// A sentence: the operator is not in `state`, or the proof does not hold
/// ([`hisaab_log::seal::SubStateProof::verify_operator`]).
pub fn check_sub_state(
    state: &State,
    operator: &Slug,
    blinding: &Blinding,
    proof: &SubStateProof,
    digest: &Hash,
) -> Result<(), String> {
    let own = state.operators.get(operator).ok_or_else(|| {
        format!("operator `{operator}` is not registered in the state the digest is of")
    })?;
    let registered: Vec<&str> = state.operators.keys().map(Slug::as_str).collect();
    proof
        .verify_operator(operator.as_str(), blinding, own, &registered, digest)
        .map_err(|e| e.to_string())
}

/// A state serialised without its `digest` member: P of SPEC §12.8.
struct PublicPart<'a>(&'a State);

impl serde::Serialize for PublicPart<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut value = serde_json::to_value(self.0).map_err(serde::ser::Error::custom)?;
        if let Some(object) = value.as_object_mut() {
            object.remove("digest");
        }
        value.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{
        CommitmentCounts, DisputeCounts, EvaluatedSubmission, KpiState, KpiStatus, OperatorState,
    };
    use crate::value::{Decimal, KpiId, Text, Verdict};
    use hisaab_log::{Date, Period, SigningKey};

    fn slug(text: &str) -> Slug {
        Slug::try_new(text).unwrap()
    }

    fn key(seed: u8) -> PublicKey {
        PublicKey::from_signing_key(&SigningKey::from_bytes(&[seed; 32]))
    }

    fn member(roles: &[Role], operator: Option<&str>, seed: u8) -> MemberState {
        MemberState {
            roles: roles.to_vec(),
            operator: operator.map(slug),
            key: key(seed),
            status: MemberStatus::Active,
        }
    }

    fn operator(score: Option<u8>) -> OperatorState {
        let kpi = KpiState {
            pillar: Pillar::Resilience,
            target: Decimal::try_new("95").unwrap(),
            baseline: None,
            due: Date::try_parse("2026-12-31").unwrap(),
            first_period: Period::try_parse("2026-01").unwrap(),
            latest_submission: Some(Hash::sha256(b"s")),
            period: Some(Period::try_parse("2026-10").unwrap()),
            value: Some(Decimal::try_new("97.5").unwrap()),
            evaluation: Some(Hash::sha256(b"e")),
            verdict: Some(Verdict::Met),
            score,
            status: KpiStatus::Met,
            title: Some(Text::try_new("Patch latency").unwrap()),
            evaluated: Some(EvaluatedSubmission {
                submission: Some(Hash::sha256(b"s")),
                period: Some(Period::try_parse("2026-10").unwrap()),
                value: Some(Decimal::try_new("97.5").unwrap()),
            }),
            verdict_differs: None,
        };
        let pillar_scores = PillarScores {
            resilience: score,
            ..PillarScores::default()
        };
        OperatorState {
            name: Text::try_new("Op").unwrap(),
            kpis: [(KpiId::try_new("CR-01").unwrap(), kpi)]
                .into_iter()
                .collect(),
            pillar_scores,
            score,
            commitments: CommitmentCounts::default(),
            disputes: DisputeCounts::default(),
        }
    }

    #[test]
    fn an_escalated_commitment_of_an_operator_not_seen_shows_closed_not_its_sealed_outcome() {
        use crate::cycle::{CycleState, EscalationState};
        let mut full = state(&[("jazz", Some(70)), ("zong", Some(60))]);
        let escalation = |operator: &str, status| EscalationState {
            item: EscalatedItem::Commitment(slug(&format!("c-{operator}"))),
            operator: Some(slug(operator)),
            on: Date::try_parse("2026-10-01").unwrap(),
            status,
        };
        full.cycle = Some(CycleState {
            escalations: [
                (slug("e-jazz"), escalation("jazz", TaskStatus::Done)),
                (slug("e-zong"), escalation("zong", TaskStatus::Missed)),
                (slug("e-open"), escalation("zong", TaskStatus::Overdue)),
            ]
            .into_iter()
            .collect(),
            ..CycleState::default()
        });
        let status =
            |view: &State, id: &str| view.cycle.as_ref().unwrap().escalations[&slug(id)].status;
        let jazz = view_state(&full, &Reader::Operator(slug("jazz")));
        assert_eq!(status(&jazz, "e-jazz"), TaskStatus::Done, "its own outcome");
        assert_eq!(
            status(&jazz, "e-zong"),
            TaskStatus::Closed,
            "another's is sealed"
        );
        assert_eq!(
            status(&jazz, "e-open"),
            TaskStatus::Overdue,
            "open is a workflow fact"
        );
        let public = view_state(&full, &Reader::Public);
        assert_eq!(status(&public, "e-jazz"), TaskStatus::Closed);
        assert_eq!(view_state(&full, &Reader::Full), full);
    }

    fn state(operators: &[(&str, Option<u8>)]) -> State {
        let mut state = State {
            format: Some(2),
            kpis: None,
            cycle: None,
            erased: Vec::new(),
            ledger: Hash::sha256(b"l"),
            size: 9,
            at: Date::try_parse("2026-11-01").unwrap(),
            operators: operators
                .iter()
                .map(|(id, score)| (slug(id), operator(*score)))
                .collect(),
            sector: PillarScores {
                resilience: Some(80),
                ..PillarScores::default()
            },
            members: [
                ("pta", member(&[Role::Authority], None, 1)),
                ("eva", member(&[Role::Evaluator], None, 2)),
                ("eva-jazz", member(&[Role::Evaluator], Some("jazz"), 3)),
                ("ciso-jazz", member(&[Role::Ciso], Some("jazz"), 4)),
                ("wit", member(&[Role::Witness], None, 5)),
                ("wit-jazz", member(&[Role::Witness], Some("jazz"), 6)),
            ]
            .into_iter()
            .map(|(id, m)| (slug(id), m))
            .collect(),
            digest: Hash::ZERO,
        };
        state.digest = state.compute_digest();
        state
    }

    #[test]
    fn members_are_classed_by_role_and_affiliation() {
        let state = state(&[("jazz", Some(90))]);
        let class = |id: &str, seed: u8| identify(&state, id, &key(seed));
        assert_eq!(class("pta", 1), Ok(Reader::Full));
        assert_eq!(class("eva", 2), Ok(Reader::Full));
        assert_eq!(class("eva-jazz", 3), Ok(Reader::Operator(slug("jazz"))));
        assert_eq!(class("ciso-jazz", 4), Ok(Reader::Operator(slug("jazz"))));
        assert_eq!(class("wit", 5), Ok(Reader::Public));
        assert_eq!(class("wit-jazz", 6), Ok(Reader::Public));
        assert!(matches!(
            class("nobody", 1),
            Err(ReaderError::UnknownMember { .. })
        ));
        assert!(matches!(
            class("pta", 2),
            Err(ReaderError::NotCurrentKey { .. })
        ));
        let mut revoked = state.clone();
        if let Some(m) = revoked.members.get_mut(&slug("pta")) {
            m.status = MemberStatus::Revoked;
        }
        assert!(matches!(
            identify(&revoked, "pta", &key(1)),
            Err(ReaderError::Revoked { .. })
        ));
    }

    #[test]
    fn the_public_view_drops_values_verdicts_and_scores_of_others() {
        let full = state(&[("jazz", Some(90)), ("ufone", Some(70))]);
        assert_eq!(view_state(&full, &Reader::Full), full);
        let own = view_state(&full, &Reader::Operator(slug("jazz")));
        assert_eq!(own.operators[&slug("jazz")], full.operators[&slug("jazz")]);
        let other = &own.operators[&slug("ufone")];
        let kpi = &other.kpis[&KpiId::try_new("CR-01").unwrap()];
        assert_eq!(kpi.value, None);
        assert_eq!(kpi.verdict, None);
        assert_eq!(kpi.score, None);
        assert_eq!(kpi.evaluation, None);
        let evaluated = kpi.evaluated.as_ref().unwrap();
        assert_eq!(
            (evaluated.submission, evaluated.period, &evaluated.value),
            (None, None, &None)
        );
        assert_eq!(kpi.status, KpiStatus::Submitted);
        assert_eq!(kpi.latest_submission, Some(Hash::sha256(b"s")));
        assert_eq!(other.score, None);
        assert_eq!(other.pillar_scores, PillarScores::default());
        // Two contributors: the sector's resilience score would tell one from the other.
        assert_eq!(own.sector.resilience, None);
        assert!(own.has_valid_digest());
        assert_ne!(own.digest, full.digest);
        let public = view_state(&full, &Reader::Public);
        assert!(public.operators.values().all(|o| o.score.is_none()));
        assert_eq!(public.members, full.members);
    }

    #[test]
    fn sector_scores_need_three_contributors() {
        // Format 1: kept where at least three operators contribute.
        let v1 = |operators: &[(&str, Option<u8>)]| State {
            format: None,
            ..state(operators)
        };
        let three = v1(&[("a", Some(90)), ("b", Some(70)), ("c", Some(80))]);
        assert_eq!(
            view_state(&three, &Reader::Public).sector.resilience,
            Some(80)
        );
        let two_of_three = v1(&[("a", Some(90)), ("b", Some(70)), ("c", None)]);
        assert_eq!(
            view_state(&two_of_three, &Reader::Public).sector.resilience,
            None
        );
        // Format 2: the sector's scores come from sealed scores, which a replay without
        // openings cannot recompute (SPEC §12.8): only `full` readers get them.
        let three = state(&[("a", Some(90)), ("b", Some(70)), ("c", Some(80))]);
        for reader in [Reader::Public, Reader::Operator(slug("a"))] {
            assert_eq!(view_state(&three, &reader).sector, PillarScores::default());
        }
        assert_eq!(
            view_state(&three, &Reader::Full).sector.resilience,
            Some(80)
        );
    }

    #[test]
    fn entries_are_served_by_scope_and_reader() {
        let jazz = Scope::Operator(slug("jazz"));
        for (reader, registry, own, sector) in [
            (Reader::Full, true, true, true),
            (Reader::Operator(slug("jazz")), true, true, false),
            (Reader::Operator(slug("ufone")), true, false, false),
            (Reader::Public, true, false, false),
        ] {
            let served = |scope: &Scope| entry_access(&reader, scope) == EntryAccess::Full;
            assert_eq!(served(&Scope::Registry), registry, "{reader:?}");
            assert_eq!(served(&jazz), own, "{reader:?}");
            assert_eq!(served(&Scope::Sector), sector, "{reader:?}");
            // An entry in sealed form is served to everyone; in full only as above.
            for scope in [Scope::Registry, jazz.clone(), Scope::Sector] {
                let full = served(&scope);
                let expected = if full {
                    EntryAccess::Full
                } else {
                    EntryAccess::Sealed
                };
                assert_eq!(entry_access_of(&reader, &scope, true), expected);
                assert_eq!(
                    entry_access_of(&reader, &scope, false) == EntryAccess::Full,
                    full
                );
            }
        }
    }
}
