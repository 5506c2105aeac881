//! An in-memory ledger for tests, bundle verification and the demo.
//!
//! [`MemoryLedger`] keeps every sealed entry, a map of statement ids, and snapshots of the
//! replay state, and answers [`History`] from them. The state at an earlier size is rebuilt
//! from the nearest snapshot at or below it.
//!
//! **Memory trade-off.** A snapshot is a full clone of the [`Ledger`], whose size grows with
//! the number of submissions, evaluations and other records. Snapshots are taken every
//! `interval` entries (256 at first); when more than [`SNAPSHOTS_MAX`] are held, the interval
//! doubles and every other snapshot is dropped. So memory stays at most about
//! `SNAPSHOTS_MAX` × the state's size (plus the entries themselves), while rebuilding a past
//! state replays at most `interval` ≈ `2 · size / SNAPSHOTS_MAX` entries. The durable store
//! makes its own trade-off on disk.

use std::collections::{BTreeMap, HashMap};

use hisaab_log::seal::FieldOpenings;
use hisaab_log::{Date, Hash, SealedEntry, StatementId};

use crate::ledger::Ledger;
use crate::rule::{History, HistoryError, Rule, Violation};
use crate::state::State;

/// The first snapshot interval, in entries.
pub const SNAPSHOT_INTERVAL_MIN: u64 = 256;
/// The most snapshots kept at once.
pub const SNAPSHOTS_MAX: usize = 32;

/// An in-memory ledger: sealed entries, statement ids and periodic snapshots; implements
/// [`History`].
#[derive(Clone, Debug, Default)]
pub struct MemoryLedger {
    ledger: Ledger,
    history: MemoryHistory,
}

#[derive(Clone, Debug)]
struct MemoryHistory {
    entries: Vec<SealedEntry>,
    ids: HashMap<StatementId, u64>,
    /// The replay state at each snapshot size (never 0: an empty ledger is `Ledger::new()`).
    snapshots: BTreeMap<u64, Ledger>,
    interval: u64,
    /// The openings of the entries appended with some (format 2, SPEC §12.6), by seq.
    openings: HashMap<u64, FieldOpenings>,
}

impl Default for MemoryHistory {
    fn default() -> Self {
        MemoryHistory {
            entries: Vec::new(),
            ids: HashMap::new(),
            snapshots: BTreeMap::new(),
            interval: SNAPSHOT_INTERVAL_MIN,
            openings: HashMap::new(),
        }
    }
}

impl MemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        MemoryLedger::default()
    }

    /// An empty ledger that snapshots every `interval` entries at first (at least 1), for
    /// tests of replay from snapshots.
    pub fn with_snapshot_interval(interval: u64) -> Self {
        let mut ledger = MemoryLedger::default();
        ledger.history.interval = interval.max(1);
        ledger
    }

    /// Verifies the entry's signature strictly, applies every rule
    /// ([`Ledger::apply`]) and keeps the entry.
    ///
    /// The signature is checked first; a verifier replaying a ledger reports the first failing
    /// seq either way.
    ///
    /// # Errors
    /// The [`Violation`]; on error nothing changes.
    pub fn append(&mut self, entry: SealedEntry) -> Result<(), Violation> {
        self.append_opened(entry, None)
    }

    /// As [`MemoryLedger::append`] for an entry whose body may be sealed, with the openings
    /// of its sealed fields ([`Ledger::apply_with`]), which are kept for replays of earlier
    /// sizes.
    ///
    /// # Errors
    /// The [`Violation`]; on error nothing changes.
    pub fn append_opened(
        &mut self,
        entry: SealedEntry,
        openings: Option<FieldOpenings>,
    ) -> Result<(), Violation> {
        let seq = entry.entry().seq;
        // The signed bytes are cut from the leaf bytes rather than canonicalised again.
        let envelope = entry.entry().envelope();
        let verified = match entry.envelope_canonical_bytes() {
            Ok(canonical) => envelope.verify_signature_canonical(&canonical),
            Err(_) => envelope.verify_signature(),
        };
        if verified.is_err() {
            return Err(Violation::new(
                seq,
                Rule::Signer,
                format!(
                    "the signature does not verify strictly under the signer's key {}",
                    entry.entry().statement.signer
                ),
            ));
        }
        self.append_unverified_opened(entry, openings)
    }

    /// As [`MemoryLedger::append`], without the signature check (for callers that verified
    /// signatures already).
    ///
    /// # Errors
    /// The [`Violation`]; on error nothing changes.
    pub fn append_unverified(&mut self, entry: SealedEntry) -> Result<(), Violation> {
        self.append_unverified_opened(entry, None)
    }

    fn append_unverified_opened(
        &mut self,
        entry: SealedEntry,
        openings: Option<FieldOpenings>,
    ) -> Result<(), Violation> {
        self.ledger
            .apply_with(&entry, openings.as_ref(), &self.history)?;
        if let Some(openings) = openings.filter(|o| !o.is_empty()) {
            self.history.openings.insert(entry.entry().seq, openings);
        }
        let size = self.ledger.size();
        self.history
            .ids
            .insert(entry.entry().statement.id.clone(), entry.entry().seq);
        self.history.entries.push(entry);
        if size % self.history.interval == 0 {
            self.history.snapshots.insert(size, self.ledger.clone());
            if self.history.snapshots.len() > SNAPSHOTS_MAX {
                self.history.interval = self.history.interval.saturating_mul(2);
                let interval = self.history.interval;
                self.history.snapshots.retain(|s, _| s % interval == 0);
            }
        }
        Ok(())
    }

    /// The replay state at the current size.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Every entry, in order.
    pub fn entries(&self) -> &[SealedEntry] {
        &self.history.entries
    }

    /// The number of entries.
    pub fn size(&self) -> u64 {
        self.ledger.size()
    }

    /// The state of SPEC §5 at tree size `size` (1 ..= current) and date `at`.
    ///
    /// # Errors
    /// [`HistoryError::SizeOutOfRange`] for a size outside 1 ..= current.
    pub fn state_at(&self, size: u64, at: Option<Date>) -> Result<State, HistoryError> {
        if size == self.ledger.size() && size >= 1 {
            return Ok(self.ledger.state(at));
        }
        Ok(self.history.replay_to(size)?.state(at))
    }

    /// The replay state at tree size `size` (1 ..= current).
    ///
    /// # Errors
    /// [`HistoryError::SizeOutOfRange`] for a size outside 1 ..= current.
    pub fn ledger_at(&self, size: u64) -> Result<Ledger, HistoryError> {
        if size == self.ledger.size() && size >= 1 {
            return Ok(self.ledger.clone());
        }
        self.history.replay_to(size)
    }
}

impl History for MemoryLedger {
    fn statement_seq(&self, id: &StatementId) -> Result<Option<u64>, HistoryError> {
        self.history.statement_seq(id)
    }

    fn state_digest_at(&self, size: u64) -> Result<Hash, HistoryError> {
        self.history.state_digest_at(size)
    }
}

impl MemoryHistory {
    fn replay_to(&self, size: u64) -> Result<Ledger, HistoryError> {
        let current = u64::try_from(self.entries.len()).unwrap_or(u64::MAX);
        if size == 0 || size > current {
            return Err(HistoryError::SizeOutOfRange { size, current });
        }
        let (mut ledger, from) = match self.snapshots.range(..=size).next_back() {
            Some((at, snapshot)) => (snapshot.clone(), *at),
            None => (Ledger::new(), 0),
        };
        let from = usize::try_from(from).unwrap_or(usize::MAX);
        let to = usize::try_from(size).unwrap_or(usize::MAX);
        for entry in self.entries.get(from..to).unwrap_or_default() {
            ledger
                .apply_trusted_with(entry, self.openings.get(&entry.entry().seq))
                .map_err(|v| HistoryError::Replay(Box::new(v)))?;
        }
        Ok(ledger)
    }
}

impl History for MemoryHistory {
    fn statement_seq(&self, id: &StatementId) -> Result<Option<u64>, HistoryError> {
        Ok(self.ids.get(id).copied())
    }

    fn state_digest_at(&self, size: u64) -> Result<Hash, HistoryError> {
        self.replay_to(size)?
            .resolution_digest()
            .map_err(HistoryError::no_digest(size))
    }
}

#[cfg(test)]
mod tests {
    use hisaab_testkit::Builder;

    use super::*;

    /// This crate's own [`MemoryLedger`] over the entries of a testkit builder (whose ledger
    /// is of the testkit's copy of this crate).
    fn own(b: &Builder) -> MemoryLedger {
        let mut m = MemoryLedger::new();
        for entry in b.ledger.entries() {
            m.append_unverified(entry.clone()).unwrap();
        }
        m
    }

    #[test]
    fn state_at_refuses_sizes_outside_the_ledger() {
        let m = own(&Builder::with_genesis());
        assert!(m.state_at(1, None).is_ok());
        assert!(matches!(
            m.state_at(0, None),
            Err(HistoryError::SizeOutOfRange {
                size: 0,
                current: 1
            })
        ));
        assert!(m.state_at(2, None).is_err());
        assert!(MemoryLedger::new().state_at(1, None).is_err());
    }

    #[test]
    fn snapshots_stay_bounded_as_the_interval_doubles() {
        let standard = Builder::standard();
        let mut m = MemoryLedger::with_snapshot_interval(1);
        for entry in standard.ledger.entries() {
            m.append_unverified(entry.clone()).unwrap();
        }
        assert!(m.history.snapshots.len() <= SNAPSHOTS_MAX);
        assert_eq!(m.state_at(3, None).unwrap().size, 3);
        let id = &standard.ledger.entries()[2].entry().statement.id;
        assert_eq!(m.statement_seq(id).unwrap(), Some(2));
    }
}
