//! Configuration of a store and the clock it takes `recorded_at` from.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How a store batches, snapshots and checks itself. [`StoreConfig::default`] suits a server.
///
/// Build one with struct update syntax: `StoreConfig { batch_entries_max: 64,
/// ..StoreConfig::default() }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// The most envelopes one group commit takes (one flush, one checkpoint). At least 1.
    pub batch_entries_max: usize,
    /// How long the sequencer waits for more envelopes after the first one of a batch before it
    /// commits. Zero commits whatever is queued at once; requests that arrive during a flush
    /// form the next batch either way.
    pub batch_wait: Duration,
    /// A model-state snapshot is written each time the log size reaches a multiple of this. At
    /// least 1. Opening replays at most this many entries, and so does `state(as_of)` from the
    /// nearest recent snapshot.
    pub snapshot_every: u64,
    /// How many of the most recent snapshots are kept.
    pub snapshots_kept: usize,
    /// Snapshots at multiples of this size are kept for good (anchors for old `as_of` queries).
    /// It should be a multiple of `snapshot_every`.
    pub snapshot_archive_every: u64,
    /// How many of the most recent signed checkpoints (with their cosignatures) are kept.
    pub checkpoints_kept: usize,
    /// The most `append` calls that may wait for the sequencer at once; more wait their turn.
    pub queue_entries_max: usize,
    /// How many entries at the end of the log `open` checks (chain links, leaf hashes, index)
    /// besides the ones it replays.
    pub tail_check_entries: u64,
    /// sled's page cache, in bytes.
    pub cache_capacity_bytes: u64,
    /// Whether a store created with this configuration compresses what sled writes (zstd):
    /// its data directory is about half the size, and durable appends about half as fast
    /// (docs/PERFORMANCE.md). A store keeps the setting it was created with whatever this
    /// says, since sled opens a database only with that setting.
    pub compression: bool,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            batch_entries_max: 1024,
            batch_wait: Duration::from_millis(1),
            snapshot_every: 1024,
            snapshots_kept: 8,
            snapshot_archive_every: 65_536,
            checkpoints_kept: 64,
            queue_entries_max: 65_536,
            tail_check_entries: 64,
            cache_capacity_bytes: 128 << 20,
            compression: false,
        }
    }
}

/// Where a store takes the time of `recorded_at` from.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Milliseconds since the Unix epoch, UTC.
    fn now_unix_millis(&self) -> i64;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_millis(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(elapsed) => i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX),
            // A clock set before 1970 is stepped back; the store clamps to its last time.
            Err(_) => 0,
        }
    }
}

/// A clock that moves only when told to, for tests and replays. Clones share the time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    millis: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock showing `unix_millis`.
    pub fn new(unix_millis: i64) -> Self {
        ManualClock {
            millis: Arc::new(AtomicI64::new(unix_millis)),
        }
    }

    /// Sets the time (it may go back: the store never lets `recorded_at` decrease).
    pub fn set(&self, unix_millis: i64) {
        self.millis.store(unix_millis, Ordering::SeqCst);
    }

    /// Moves the time by `delta_millis` (negative steps back).
    pub fn advance(&self, delta_millis: i64) {
        self.millis.fetch_add(delta_millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_unix_millis(&self) -> i64 {
        self.millis.load(Ordering::SeqCst)
    }
}
