//! The hash chain of SPEC §2: dense seqs from 0, `prev` links, `recorded_at` never
//! decreasing, genesis at entry 0 only, the `ledger` field, and every signature verified
//! strictly. These are the structural checks; the accountability rules of SPEC §4 are
//! `hisaab-model`'s.

use thiserror::Error;

use crate::hash::Hash;
use crate::statement::SealedEntry;
use crate::time::Timestamp;

/// A break in the chain, naming the seq where it was found.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ChainError {
    /// Seqs must count 0, 1, 2, … without gaps.
    #[error("seq {expected}: the entry says seq {found}")]
    Seq {
        /// The seq this position must have.
        expected: u64,
        /// The seq written in the entry.
        found: u64,
    },
    /// `prev` is not the event hash of the entry before.
    #[error("seq {seq}: prev is {found}, but the event hash of entry {} is {expected}", seq.saturating_sub(1))]
    Prev {
        /// The entry's seq.
        seq: u64,
        /// The event hash of the entry before (zeros for entry 0).
        expected: Hash,
        /// What `prev` says.
        found: Hash,
    },
    /// `recorded_at` went back in time.
    #[error(
        "seq {} or {seq}: recorded_at {found} of seq {seq} is before {previous} of seq {}; one \
         of the two was changed, and the chain cannot tell which",
        seq.saturating_sub(1),
        seq.saturating_sub(1)
    )]
    RecordedAtDecreased {
        /// The entry's seq.
        seq: u64,
        /// The previous entry's `recorded_at`.
        previous: String,
        /// This entry's `recorded_at`.
        found: String,
    },
    /// Entry 0 must hold `ledger.genesis`.
    #[error("seq 0: the first entry must be ledger.genesis, found {kind}")]
    NotGenesis {
        /// The kind found at entry 0.
        kind: String,
    },
    /// `ledger.genesis` anywhere but entry 0.
    #[error("seq {seq}: a second ledger.genesis")]
    SecondGenesis {
        /// The entry's seq.
        seq: u64,
    },
    /// The statement's `ledger` field is wrong for its position.
    #[error("seq {seq}: {reason}")]
    LedgerField {
        /// The entry's seq.
        seq: u64,
        /// What is wrong.
        reason: String,
    },
    /// A withheld line's leaf hash is not the `prev` of the entry after it (SPEC §6.2).
    #[error(
        "seq {seq}: the withheld line's leaf hash {leaf_hash} is not the prev {next_prev} of \
         the entry after it"
    )]
    WithheldLeafHash {
        /// The withheld line's seq.
        seq: u64,
        /// Its leaf hash.
        leaf_hash: Hash,
        /// What the next entry's `prev` says.
        next_prev: Hash,
    },
    /// A withheld line at seq 0, where the genesis must be (SPEC §6.1).
    #[error("seq 0: the genesis is never withheld")]
    WithheldGenesis,
    /// The statement's signature does not verify strictly under its `signer`.
    #[error("seq {seq}: the signature does not verify under the statement's signer {signer}")]
    Signature {
        /// The entry's seq.
        seq: u64,
        /// The signer's public key (base64).
        signer: String,
    },
}

impl ChainError {
    /// The seq of the entry where the chain breaks.
    pub fn seq(&self) -> u64 {
        match self {
            ChainError::Seq { expected, .. } => *expected,
            ChainError::NotGenesis { .. } | ChainError::WithheldGenesis => 0,
            ChainError::WithheldLeafHash { seq, .. } => *seq,
            ChainError::Prev { seq, .. }
            | ChainError::RecordedAtDecreased { seq, .. }
            | ChainError::SecondGenesis { seq }
            | ChainError::LedgerField { seq, .. }
            | ChainError::Signature { seq, .. } => *seq,
        }
    }
}

/// Checks entries one at a time, in order, in O(1) memory.
#[derive(Debug, Clone, Default)]
pub struct ChainVerifier {
    next_seq: u64,
    prev: Hash,
    last_recorded_at: Option<Timestamp>,
    ledger_id: Option<Hash>,
    /// Whether `prev` is a withheld line's leaf hash (SPEC §6.2).
    prev_withheld: bool,
}

impl ChainVerifier {
    /// A verifier expecting entry 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// A verifier that continues after `next_seq` entries whose last event hash is `prev`.
    pub fn resume(
        next_seq: u64,
        prev: Hash,
        last_recorded_at: Option<Timestamp>,
        ledger_id: Option<Hash>,
    ) -> Self {
        ChainVerifier {
            next_seq,
            prev,
            last_recorded_at,
            ledger_id,
            prev_withheld: false,
        }
    }

    /// Checks the next entry, including its signature, and advances.
    ///
    /// # Errors
    /// The first [`ChainError`] the entry shows; the verifier does not advance.
    pub fn push(&mut self, sealed: &SealedEntry) -> Result<(), ChainError> {
        self.check_links(sealed)?;
        let entry = sealed.entry();
        entry
            .envelope()
            .verify_signature()
            .map_err(|_| ChainError::Signature {
                seq: entry.seq,
                signer: entry.statement.signer.to_base64(),
            })?;
        self.advance(sealed);
        Ok(())
    }

    /// Checks the next entry's links (seq, prev, time, genesis, ledger) without its signature,
    /// for callers that verified it already, and advances.
    ///
    /// # Errors
    /// The first [`ChainError`] the entry shows; the verifier does not advance.
    pub fn push_verified(&mut self, sealed: &SealedEntry) -> Result<(), ChainError> {
        self.check_links(sealed)?;
        self.advance(sealed);
        Ok(())
    }

    /// As [`ChainVerifier::push`] for a caller that checked the signature already (on another
    /// thread, say) and passes the outcome as `signature_ok`: the links are checked first and
    /// a failed signature is reported after them, exactly as [`ChainVerifier::push`] would.
    ///
    /// # Errors
    /// The first [`ChainError`] the entry shows; the verifier does not advance.
    pub fn push_checked(
        &mut self,
        sealed: &SealedEntry,
        signature_ok: bool,
    ) -> Result<(), ChainError> {
        self.check_links(sealed)?;
        if !signature_ok {
            let entry = sealed.entry();
            return Err(ChainError::Signature {
                seq: entry.seq,
                signer: entry.statement.signer.to_base64(),
            });
        }
        self.advance(sealed);
        Ok(())
    }

    fn check_links(&self, sealed: &SealedEntry) -> Result<(), ChainError> {
        let entry = sealed.entry();
        let seq = self.next_seq;
        if entry.seq != seq {
            return Err(ChainError::Seq {
                expected: seq,
                found: entry.seq,
            });
        }
        if entry.prev != self.prev && self.prev_withheld {
            return Err(ChainError::WithheldLeafHash {
                seq: seq.saturating_sub(1),
                leaf_hash: self.prev,
                next_prev: entry.prev,
            });
        }
        if entry.prev != self.prev {
            return Err(ChainError::Prev {
                seq,
                expected: self.prev,
                found: entry.prev,
            });
        }
        if let Some(previous) = &self.last_recorded_at {
            if entry.recorded_at.unix_nanos() < previous.unix_nanos() {
                return Err(ChainError::RecordedAtDecreased {
                    seq,
                    previous: previous.to_string(),
                    found: entry.recorded_at.to_string(),
                });
            }
        }
        let genesis = entry.statement.is_genesis();
        match (seq, genesis) {
            (0, false) => {
                return Err(ChainError::NotGenesis {
                    kind: entry.statement.kind.clone(),
                })
            }
            (0, true) => {
                if entry.statement.ledger.is_some() {
                    return Err(ChainError::LedgerField {
                        seq,
                        reason: "the genesis statement must not carry a ledger field".into(),
                    });
                }
            }
            (_, true) => return Err(ChainError::SecondGenesis { seq }),
            (_, false) => match (entry.statement.ledger, self.ledger_id) {
                (Some(found), Some(id)) if found == id => {}
                (Some(found), Some(id)) => {
                    return Err(ChainError::LedgerField {
                        seq,
                        reason: format!("ledger is {found}, but this ledger's id is {id}"),
                    })
                }
                (None, _) => {
                    return Err(ChainError::LedgerField {
                        seq,
                        reason: "the statement has no ledger field".into(),
                    })
                }
                (Some(_), None) => {
                    return Err(ChainError::LedgerField {
                        seq,
                        reason: "no ledger id is known before entry 0".into(),
                    })
                }
            },
        }
        Ok(())
    }

    fn advance(&mut self, sealed: &SealedEntry) {
        if self.next_seq == 0 {
            self.ledger_id = Some(sealed.event_hash());
        }
        self.next_seq = self.next_seq.saturating_add(1);
        self.prev = sealed.event_hash();
        self.prev_withheld = false;
        self.last_recorded_at = Some(sealed.entry().recorded_at.clone());
    }

    /// Takes the withheld line of `seq` (SPEC §6.2): its seq must be the next, and not 0; its
    /// `leaf_hash` becomes the `prev` the next entry must carry. Its own links and signature
    /// cannot be checked; `recorded_at` is checked from the entry before it to the next one.
    ///
    /// # Errors
    /// [`ChainError::Seq`] or [`ChainError::WithheldGenesis`]; the verifier does not advance.
    pub fn push_withheld(&mut self, seq: u64, leaf_hash: Hash) -> Result<(), ChainError> {
        if seq != self.next_seq {
            return Err(ChainError::Seq {
                expected: self.next_seq,
                found: seq,
            });
        }
        if seq == 0 {
            return Err(ChainError::WithheldGenesis);
        }
        self.next_seq = seq.saturating_add(1);
        self.prev = leaf_hash;
        self.prev_withheld = true;
        Ok(())
    }

    /// How many entries have been checked.
    pub fn size(&self) -> u64 {
        self.next_seq
    }

    /// The event hash of the last checked entry (zeros before entry 0).
    pub fn last_event_hash(&self) -> Hash {
        self.prev
    }

    /// The ledger id, once entry 0 has been checked.
    pub fn ledger_id(&self) -> Option<Hash> {
        self.ledger_id
    }
}
