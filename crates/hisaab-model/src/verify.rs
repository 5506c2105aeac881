//! Full verification (SPEC §6 + §4): the structure of a bundle or a sequence of entries (the
//! chain, every signature, the Merkle root against a checkpoint signed by the genesis log key),
//! checked by `hisaab-log`, and then every rule of acceptance, entry by entry. The first
//! failing seq is reported, whichever check fails.

use std::io::BufRead;

use hisaab_log::bundle::{verify_bundle_structure, BundleError};
use hisaab_log::chain::{ChainError, ChainVerifier};
use hisaab_log::merkle::Frontier;
use hisaab_log::{Hash, SealedEntry};

use crate::ledger::Ledger;
use crate::memory::MemoryLedger;
use crate::rule::Violation;
use crate::state::State;

/// What a verified bundle proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedBundle {
    /// The number of entries (= the checkpoint's size).
    pub size: u64,
    /// Their Merkle root (= the checkpoint's root).
    pub root: Hash,
    /// The ledger id.
    pub ledger_id: Hash,
    /// The origin.
    pub origin: String,
    /// The state after the last entry, with the default `at`.
    pub state: State,
}

/// What verified entries prove.
#[derive(Clone, Debug)]
pub struct VerifiedEntries {
    /// The number of entries.
    pub size: u64,
    /// Their Merkle root.
    pub root: Hash,
    /// The replay state after the last entry.
    pub ledger: Ledger,
}

/// Why verification failed. [`VerifyError::seq`] names the failing entry, where there is one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The bundle's structure: header, checkpoint, a line, the chain, a signature, the root.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The chain or a signature breaks (for entries not read from a bundle).
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// An entry breaks a rule of acceptance.
    #[error(transparent)]
    Rule(#[from] Violation),
    /// The entries could not be read from their source.
    #[error("seq {seq}: the entry could not be read: {source}")]
    Read {
        /// The seq that was being read.
        seq: u64,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// No entry at all.
    #[error("there is no entry; a ledger has at least its genesis")]
    Empty,
}

impl VerifyError {
    /// The seq of the failing entry, when the failure is one entry's.
    pub fn seq(&self) -> Option<u64> {
        match self {
            VerifyError::Bundle(e) => e.seq(),
            VerifyError::Chain(e) => Some(e.seq()),
            VerifyError::Rule(violation) => Some(violation.seq),
            VerifyError::Read { seq, .. } => Some(*seq),
            VerifyError::Empty => None,
        }
    }
}

/// Verifies a bundle (SPEC §6 and §4): the header, the checkpoint's signature by the header's
/// log key, every entry's canonical form, chain link, strict signature and rules, the
/// header against the genesis, and the checkpoint's size and root against the entries.
///
/// ```
/// # use hisaab_model::verify_bundle;
/// let err = verify_bundle(&b"not a bundle\n"[..]).unwrap_err();
/// assert!(err.to_string().contains("header"));
/// ```
///
/// # Errors
/// The first failure, as a [`VerifyError`]; [`VerifyError::seq`] names the failing entry.
pub fn verify_bundle<R: BufRead>(reader: R) -> Result<VerifiedBundle, VerifyError> {
    let mut memory = MemoryLedger::new();
    // The structural check has verified each signature before the callback runs.
    let summary = verify_bundle_structure(reader, |entry| memory.append_unverified(entry.clone()))
        .map_err(|error| match error {
            BundleError::Rejected { source, .. } => match source.downcast::<Violation>() {
                Ok(violation) => VerifyError::Rule(*violation),
                Err(source) => VerifyError::Bundle(BundleError::Rejected {
                    seq: memory.size(),
                    source,
                }),
            },
            other => VerifyError::Bundle(other),
        })?;
    Ok(VerifiedBundle {
        size: summary.checkpoint.size,
        root: summary.checkpoint.root,
        ledger_id: summary.ledger_id,
        origin: summary.checkpoint.origin,
        state: memory.ledger().state(None),
    })
}

/// Verifies a sequence of entries from seq 0: chain, strict signatures and every rule (for
/// the store's full check). Keeps the entries in memory while it runs, to answer
/// `dispute.resolved`'s past state digests.
///
/// # Errors
/// The first failure; [`VerifyError::Read`] when the source fails.
pub fn verify_entries<I, E>(entries: I) -> Result<VerifiedEntries, VerifyError>
where
    I: IntoIterator<Item = Result<SealedEntry, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
{
    let mut chain = ChainVerifier::new();
    let mut memory = MemoryLedger::new();
    let mut frontier = Frontier::new();
    for (seq, entry) in (0u64..).zip(entries) {
        let entry = entry.map_err(|e| VerifyError::Read {
            seq,
            source: e.into(),
        })?;
        chain.push(&entry)?;
        frontier.push(entry.event_hash());
        memory.append_unverified(entry)?;
    }
    if memory.size() == 0 {
        return Err(VerifyError::Empty);
    }
    Ok(VerifiedEntries {
        size: memory.size(),
        root: frontier.root(),
        ledger: memory.ledger().clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_malformed_headers() {
        for bad in [
            &b""[..],
            b"{}\n",
            b"{\"bundle\":\"hisaab/v2\",\"origin\":\"o\",\"log_key\":\"k\",\"checkpoint\":\"c\"}\n",
            b"{\"bundle\":\"hisaab/v1\",\"origin\":\"o\",\"log_key\":\"k\",\"checkpoint\":\"c\",\"x\":1}\n",
            b"{\"bundle\":\"hisaab/v1\",\"bundle\":\"hisaab/v1\"}\n",
            b"{\"bundle\":\"hisaab/v1\",\"origin\":\"o\",\"log_key\":\"k\",\"checkpoint\":\"c\"}",
        ] {
            let err = verify_bundle(bad).unwrap_err();
            assert!(err.seq().is_none(), "{err}");
        }
    }

    #[test]
    fn verify_entries_needs_at_least_one_entry() {
        let none: Vec<Result<SealedEntry, std::io::Error>> = Vec::new();
        assert!(matches!(verify_entries(none), Err(VerifyError::Empty)));
        let failing = vec![Err::<SealedEntry, _>(std::io::Error::other("disk"))];
        assert_eq!(verify_entries(failing).unwrap_err().seq(), Some(0));
    }
}
