//! The rules of acceptance (SPEC §4) as a verifier reports them, and what applying an entry
//! needs to know from outside the in-memory state.

use std::fmt;

use hisaab_log::{Hash, StatementId};

/// Which rule an entry breaks. The order of the variants is SPEC §7's order of precedence.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[non_exhaustive]
pub enum Rule {
    /// Rule 1: the statement or body does not have the fields and types of its kind.
    Form,
    /// Rule 2: the signature does not verify, or `signer` is not the current key of an active
    /// member.
    Signer,
    /// Rule 2: the member's roles do not allow them to sign this kind.
    Permission,
    /// Rule 2: nobody judges their own operator.
    ConflictOfInterest,
    /// Rule 3: the statement id was used before.
    DuplicateId,
    /// Rule 3: `ledger` is not this ledger's id.
    Identity,
    /// Rule 4: `issued_at` is outside the window of the genesis policy.
    Time,
    /// Rule 5: a reference or lifecycle rule.
    Reference,
    /// SPEC §2: the entry's `seq`, `prev` or `recorded_at` does not continue the chain, or
    /// entry 0 is not the genesis.
    Chain,
    /// Not a rule: the history the check needs could not be read, so the entry was neither
    /// accepted nor judged. A server answers 503 and the client may retry.
    HistoryUnavailable,
}

impl Rule {
    /// The number of the rule in SPEC §4 (1–5); 0 for what is not one of the five
    /// ([`Rule::Chain`], from SPEC §2, and [`Rule::HistoryUnavailable`]).
    pub fn number(&self) -> u8 {
        match self {
            Rule::Form => 1,
            Rule::Signer | Rule::Permission | Rule::ConflictOfInterest => 2,
            Rule::DuplicateId | Rule::Identity => 3,
            Rule::Time => 4,
            Rule::Reference => 5,
            Rule::Chain | Rule::HistoryUnavailable => 0,
        }
    }

    /// The stable snake_case code of this rule: exactly the `code` the API answers a statement
    /// that breaks it with (SPEC §7), and the word logs use. The rules of references and of
    /// the chain share `rule_violation`; a history that could not be read is `unavailable`.
    pub fn code(&self) -> &'static str {
        match self {
            Rule::Form => "malformed_envelope",
            Rule::Signer => "unknown_signer",
            Rule::Permission => "forbidden_kind",
            Rule::ConflictOfInterest => "conflict_of_interest",
            Rule::DuplicateId => "duplicate_id",
            Rule::Identity => "wrong_ledger",
            Rule::Time => "time_out_of_window",
            Rule::Reference | Rule::Chain => "rule_violation",
            Rule::HistoryUnavailable => "unavailable",
        }
    }

    /// A short name in words, as an auditor reads it.
    pub fn title(&self) -> &'static str {
        match self {
            Rule::Form => "form",
            Rule::Signer => "signer",
            Rule::Permission => "permission",
            Rule::ConflictOfInterest => "conflict of interest",
            Rule::DuplicateId => "identity: statement id reused",
            Rule::Identity => "identity",
            Rule::Time => "time",
            Rule::Reference => "references and lifecycles",
            Rule::Chain => "chain",
            Rule::HistoryUnavailable => "history unavailable",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.number() {
            0 => write!(f, "{}", self.title()),
            n => write!(f, "rule {n} ({})", self.title()),
        }
    }
}

/// An entry that breaks a rule at its position, e.g.
/// `seq 41: rule 2 (signer): member `ciso-alpha` was revoked at seq 30; their key may no longer
/// sign`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("seq {seq}: {rule}: {detail}")]
pub struct Violation {
    /// The position of the entry.
    pub seq: u64,
    /// The rule broken.
    pub rule: Rule,
    /// What is wrong, in words.
    pub detail: String,
}

impl Violation {
    /// A violation of `rule` at `seq`.
    pub fn new(seq: u64, rule: Rule, detail: impl Into<String>) -> Self {
        Violation {
            seq,
            rule,
            detail: detail.into(),
        }
    }
}

/// The history could not answer a question.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// The storage failed.
    #[error("the ledger's history could not be read: {message}")]
    Storage {
        /// What failed.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
    /// A size outside `1..=current` was asked for.
    #[error("no state at size {size}: the ledger has {current} entries")]
    SizeOutOfRange {
        /// The size asked for.
        size: u64,
        /// The ledger's size.
        current: u64,
    },
    /// An entry of the history no longer passes the rules (the storage was tampered with).
    #[error("replaying the history failed: {0}")]
    Replay(#[from] Box<Violation>),
    /// The state at `size` has no digest a resolution can name: on a format-2 ledger, a
    /// registered operator has no blinding (SPEC §12.8).
    #[error("the state at size {size} has no digest to name: {reason}")]
    NoDigest {
        /// The size asked for.
        size: u64,
        /// Why, in a sentence.
        reason: String,
    },
}

impl HistoryError {
    /// [`HistoryError::NoDigest`] from [`crate::Ledger::resolution_digest`]'s answer.
    pub(crate) fn no_digest(size: u64) -> impl FnOnce(String) -> HistoryError {
        move |reason| HistoryError::NoDigest { size, reason }
    }
}

/// What [`crate::Ledger::apply`] needs from outside the in-memory state. The store answers
/// from its database; [`crate::MemoryLedger`] from memory.
pub trait History {
    /// The seq of the entry holding a statement with this id, if any. Statement ids are not
    /// kept in [`crate::Ledger`], to keep snapshots small.
    ///
    /// # Errors
    /// [`HistoryError`] when the storage cannot answer.
    fn statement_seq(&self, id: &StatementId) -> Result<Option<u64>, HistoryError>;

    /// The digest a `dispute.resolved` names for the state at tree size `size`
    /// (1 <= size <= current) with the default `at`: [`crate::Ledger::resolution_digest`],
    /// §5.7's on a format-1 ledger, the full-state digest of §12.8 on a format-2 one.
    ///
    /// # Errors
    /// [`HistoryError`] when the storage cannot answer or `size` is out of range;
    /// [`HistoryError::NoDigest`] when that digest is not defined.
    fn state_digest_at(&self, size: u64) -> Result<Hash, HistoryError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_codes_follow_spec_sections_4_and_7() {
        let expected = [
            (Rule::Form, 1, "malformed_envelope"),
            (Rule::Signer, 2, "unknown_signer"),
            (Rule::Permission, 2, "forbidden_kind"),
            (Rule::ConflictOfInterest, 2, "conflict_of_interest"),
            (Rule::DuplicateId, 3, "duplicate_id"),
            (Rule::Identity, 3, "wrong_ledger"),
            (Rule::Time, 4, "time_out_of_window"),
            (Rule::Reference, 5, "rule_violation"),
            (Rule::Chain, 0, "rule_violation"),
            (Rule::HistoryUnavailable, 0, "unavailable"),
        ];
        for (rule, number, code) in expected {
            assert_eq!(rule.number(), number, "{rule:?}");
            assert_eq!(rule.code(), code, "{rule:?}");
        }
    }

    #[test]
    fn violations_read_like_an_auditor_writes() {
        let v = Violation::new(
            41,
            Rule::Signer,
            "member `ciso-alpha` was revoked at seq 30; their key may no longer sign",
        );
        assert_eq!(
            v.to_string(),
            "seq 41: rule 2 (signer): member `ciso-alpha` was revoked at seq 30; their key may \
             no longer sign"
        );
        assert_eq!(
            Violation::new(3, Rule::Chain, "x").to_string(),
            "seq 3: chain: x"
        );
    }
}
