//! Where an entry belongs (SPEC §13.4): the one rule that says which operator an entry
//! concerns, following what its body names (an evaluation through its submission, a dispute
//! through its evaluation, a closing through what it closes).
//!
//! Two answers are read from it: the entry's [`Scope`] for read access (something named and
//! not found is the sector's, withheld from all but full readers), and, while the ledger
//! applies an entry with a sealed field unopened, whose state that entry leaves unknown
//! ([`crate::Ledger::concern_of`], where "not found" stays distinct from "the sector"). What
//! the body names is looked up through `Places`: the log-order fold of [`crate::view::Scopes`]
//! and the ledger's own records answer alike.

use hisaab_log::Hash;

use crate::body::Body;
use crate::record::{ActionOwner, EscalatedItem};
use crate::value::Slug;

/// What an entry is about, for access.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The registry and the task force's own workflow (the genesis, operators, members, KPIs
    /// and their assignments, meetings): public.
    Registry,
    /// Data about one operator: a submission, its evaluations, disputes over them, a commitment
    /// of the operator and its closing, a challenge naming the operator and its resolution.
    Operator(Slug),
    /// Data about no single operator that is not the registry: a challenge to the whole
    /// sector and its resolution.
    Sector,
}

/// Where the scope of what an entry names is found: the submission or evaluation with an
/// event hash, the commitment, dispute or challenge with an id. The fold of
/// [`crate::view::Scopes`] keeps its own small maps; a [`crate::Ledger`] answers from its
/// records.
pub(crate) trait Places {
    /// The scope of the submission or evaluation with this event hash.
    fn of_event(&self, hash: &Hash) -> Option<Scope>;
    /// The scope of the commitment with this id.
    fn of_commitment(&self, id: &Slug) -> Option<Scope>;
    /// The scope of the dispute with this id.
    fn of_dispute(&self, id: &Slug) -> Option<Scope>;
    /// The scope of the challenge with this id.
    fn of_challenge(&self, id: &Slug) -> Option<Scope>;
    /// The scope of the action item with this id (format 2).
    fn of_action(&self, id: &Slug) -> Option<Scope>;
    /// The scope of the directive with this id (format 2).
    fn of_directive(&self, id: &Slug) -> Option<Scope>;
}

/// An action item owned by an operator is that operator's; one owned by a member is the
/// task force's, withheld from all but full readers (its text may name any operator).
pub(crate) fn owner_scope(owner: &ActionOwner) -> Scope {
    match owner {
        ActionOwner::Operator(operator) => Scope::Operator(operator.clone()),
        ActionOwner::Member(_) => Scope::Sector,
    }
}

/// The one rule of SPEC §13.4: where an entry with this body belongs, what it names looked up
/// in `places`; `None` when something it names is not found.
pub(crate) fn place_of_body(body: &Body, places: &impl Places) -> Option<Scope> {
    // Every kind is named, so that a kind added later must be placed before it compiles.
    match body {
        Body::Genesis(_)
        | Body::OperatorRegistered(_)
        | Body::MemberEnrolled(_)
        | Body::MemberKeyRotated(_)
        | Body::MemberRevoked(_)
        | Body::KpiDefined(_)
        | Body::KpiAssigned(_)
        | Body::MeetingRecorded(_)
        | Body::MeetingAttested(_)
        | Body::MeetingScheduled(_)
        | Body::RubricSet(_)
        | Body::KpiRetired(_)
        | Body::DelegationGranted(_)
        | Body::MemberSuspended(_)
        | Body::MemberReinstated(_)
        | Body::AssignmentWithdrawn(_)
        | Body::OperatorLeft(_)
        | Body::StakeholderRegistered(_)
        // Who disclosed which fields of which entries to whom is public (SPEC §12.7), as is
        // which fields of which entry were erased, and why (§12.9).
        | Body::DisclosureRecorded(_)
        | Body::FieldErased(_)
        // A report publishes only sector aggregates, withheld below three operators (§12.12).
        | Body::ReportPublished(_) => Some(Scope::Registry),
        Body::ActionAssigned(b) => Some(owner_scope(&b.owner)),
        Body::ActionClosed(b) => places.of_action(&b.action),
        Body::DirectiveIssued(b) => Some(Scope::Operator(b.operator.clone())),
        Body::DirectiveClosed(b) => places.of_directive(&b.directive),
        Body::CommitmentExtended(b) => places.of_commitment(&b.commitment),
        Body::EscalationRecorded(b) => match &b.item {
            EscalatedItem::Commitment(id) => places.of_commitment(id),
            EscalatedItem::Directive(id) => places.of_directive(id),
            EscalatedItem::Action(id) => places.of_action(id),
        },
        Body::SubmissionFiled(b) => Some(Scope::Operator(b.operator.clone())),
        Body::EvaluationRecorded(b) => places.of_event(&b.submission),
        Body::DisputeOpened(b) => places.of_event(&b.evaluation),
        Body::DisputeResolved(b) => places.of_dispute(&b.dispute),
        Body::CommitmentMade(b) => Some(Scope::Operator(b.operator.clone())),
        Body::CommitmentClosed(b) => places.of_commitment(&b.commitment),
        Body::ChallengeRaised(b) => Some(
            b.operator
                .as_ref()
                .map_or(Scope::Sector, |operator| Scope::Operator(operator.clone())),
        ),
        Body::ChallengeResolved(b) => places.of_challenge(&b.challenge),
        Body::ChallengeMeasureRecorded(b) => places.of_challenge(&b.challenge),
    }
}

/// The scope of an entry with this body (SPEC §13.4): [`place_of_body`], with something named
/// and not found the sector's (withheld from all but full readers).
pub(crate) fn scope_of_body(body: &Body, places: &impl Places) -> Scope {
    place_of_body(body, places).unwrap_or(Scope::Sector)
}

/// Whose state an entry with an unopened sealed field leaves unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Concern {
    /// One operator's.
    Operator(Slug),
    /// No operator's: a challenge to the whole sector, an action item a member owns.
    Nothing,
    /// Not known: every operator is shown as the public view shows it.
    Unknown,
}

/// The operator an entry's body concerns, for marking it as not fully known when a sealed
/// field stays unopened (SPEC §12.8): where [`place_of_body`] puts it, a registry entry by the
/// operator its body names (`Body::subject`, an operator's registration). Something named and
/// not found is [`Concern::Unknown`], never the sector. Call it before the body is committed.
pub(crate) fn concerned_operator(body: &Body, places: &impl Places) -> Concern {
    match place_of_body(body, places) {
        Some(Scope::Operator(operator)) => Concern::Operator(operator),
        Some(Scope::Sector) => Concern::Nothing,
        Some(Scope::Registry) => body.subject().0.map_or(Concern::Unknown, |operator| {
            Concern::Operator(operator.clone())
        }),
        None => Concern::Unknown,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::{json, Map, Value};

    use super::*;

    /// Places that know nothing: everything named is not found.
    struct Nowhere;

    impl Places for Nowhere {
        fn of_event(&self, _: &Hash) -> Option<Scope> {
            None
        }
        fn of_commitment(&self, _: &Slug) -> Option<Scope> {
            None
        }
        fn of_dispute(&self, _: &Slug) -> Option<Scope> {
            None
        }
        fn of_challenge(&self, _: &Slug) -> Option<Scope> {
            None
        }
        fn of_action(&self, _: &Slug) -> Option<Scope> {
            None
        }
        fn of_directive(&self, _: &Slug) -> Option<Scope> {
            None
        }
    }

    fn body(kind: &str, value: Value) -> Body {
        let Value::Object(map) = value else {
            unreachable!("an object")
        };
        let map: Map<String, Value> = map;
        Body::try_parse(kind, &map).unwrap()
    }

    #[test]
    fn not_found_is_the_sector_for_access_and_unknown_for_the_state() {
        let closed = body(
            "action.closed",
            json!({"action": "a-1", "outcome": "done", "note": "n"}),
        );
        assert_eq!(place_of_body(&closed, &Nowhere), None);
        assert_eq!(scope_of_body(&closed, &Nowhere), Scope::Sector);
        assert_eq!(concerned_operator(&closed, &Nowhere), Concern::Unknown);
    }

    #[test]
    fn the_sector_concerns_no_operator_and_an_operator_itself() {
        let sector = body(
            "challenge.raised",
            json!({"challenge": "c-1", "pillar": "resilience", "description": "d"}),
        );
        assert_eq!(scope_of_body(&sector, &Nowhere), Scope::Sector);
        assert_eq!(concerned_operator(&sector, &Nowhere), Concern::Nothing);
        let indus = Slug::try_new("indus").unwrap();
        let named = body(
            "challenge.raised",
            json!({"challenge": "c-2", "pillar": "resilience", "operator": "indus", "description": "d"}),
        );
        assert_eq!(
            scope_of_body(&named, &Nowhere),
            Scope::Operator(indus.clone())
        );
        assert_eq!(
            concerned_operator(&named, &Nowhere),
            Concern::Operator(indus)
        );
    }
}
