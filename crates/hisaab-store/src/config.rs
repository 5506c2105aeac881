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
    /// commits. Zero (the default) commits whatever is queued at once; requests that arrive
    /// during a flush form the next batch either way, so batches still grow with the load. A
    /// wait of 1 ms (the default before) held 64 concurrent HTTP clients about a tenth below
    /// what they reach without it (docs/PERFORMANCE.md), and adds its whole length to a lone
    /// append's latency.
    pub batch_wait: Duration,
    /// A model-state snapshot is written each time the log size reaches a multiple of the
    /// snapshot interval ([`StoreConfig::snapshot_interval`]): this, at least 1, until the log
    /// is `snapshot_log_fraction` times longer, then doubling as the log grows. Opening
    /// replays at most one interval of entries, and so does `state(as_of)` from the nearest
    /// recent snapshot.
    pub snapshot_every: u64,
    /// How the snapshot interval grows with the log: it is the largest `snapshot_every · 2^k`
    /// that is at most the log's size divided by this and divides `snapshot_archive_every`
    /// (at least `snapshot_every`). A snapshot serialises the whole model state, which grows
    /// with the log when every entry adds to it (an operator, a submission), so at a fixed
    /// interval its cost per entry would grow with the log; this way it stays bounded, and an
    /// open replays at most about this fraction of the log. 0 keeps the interval at
    /// `snapshot_every`.
    pub snapshot_log_fraction: u64,
    /// How many of the most recent snapshots are kept.
    pub snapshots_kept: usize,
    /// Snapshots at multiples of this size are kept for good (anchors for old `as_of` queries).
    /// It should be a multiple of `snapshot_every` by a power of two; the snapshot interval
    /// grows no further.
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
    /// How many entries' event hashes and statement ids are kept in memory before they are
    /// written as a run of the index (`hisaab-index`); an open after a crash reads at most
    /// about this many entries again to index them.
    pub index_run_entries: u64,
    /// Whether a store created with this configuration compresses what sled writes (zstd):
    /// the snapshots, the KPI index and the checkpoints, not the entry files or the index
    /// runs. At 10^4 entries its data directory is 1.3× the bundle instead of 1.4×
    /// (docs/PERFORMANCE.md). A store keeps the setting it was created with whatever this
    /// says, since sled opens a database only with that setting.
    pub compression: bool,
}

impl StoreConfig {
    /// The snapshot interval at log size `size` (see [`StoreConfig::snapshot_log_fraction`]).
    pub fn snapshot_interval(&self, size: u64) -> u64 {
        let every = self.snapshot_every.max(1);
        if self.snapshot_log_fraction == 0 {
            return every;
        }
        let most = self.snapshot_archive_every.max(every);
        let mut interval = every;
        while let Some(next) = interval.checked_mul(2) {
            let reached = next
                .checked_mul(self.snapshot_log_fraction)
                .is_some_and(|span| span <= size);
            // It grows only while it divides the archive interval, so that every archive
            // size stays a snapshot size.
            if !reached || most % next != 0 {
                break;
            }
            interval = next;
        }
        interval
    }

    /// Whether a snapshot is written when the log reaches `size` entries.
    pub fn is_snapshot_size(&self, size: u64) -> bool {
        size > 0 && size % self.snapshot_interval(size) == 0
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            batch_entries_max: 1024,
            batch_wait: Duration::ZERO,
            snapshot_every: 1024,
            snapshot_log_fraction: 8,
            snapshots_kept: 8,
            snapshot_archive_every: 65_536,
            checkpoints_kept: 64,
            queue_entries_max: 65_536,
            tail_check_entries: 64,
            cache_capacity_bytes: 128 << 20,
            index_run_entries: 1024,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snapshot_interval_doubles_as_the_log_grows_up_to_the_archive_interval() {
        let config = StoreConfig::default();
        let interval = |size| config.snapshot_interval(size);
        assert_eq!(interval(0), 1024);
        assert_eq!(interval(16_383), 1024);
        assert_eq!(interval(16_384), 2048);
        assert_eq!(interval(20_000), 2048);
        assert_eq!(interval(100_000), 8192);
        assert_eq!(interval(1_000_000), 65_536);
        assert_eq!(
            interval(u64::MAX),
            65_536,
            "never past the archive interval"
        );
        assert!(config.is_snapshot_size(1024));
        assert!(
            !config.is_snapshot_size(17_408),
            "17 · 1024, not a multiple of 2048"
        );
        assert!(config.is_snapshot_size(18_432));
        assert!(!config.is_snapshot_size(0));
        // Every archive size is a snapshot size, whatever the log's length.
        assert!(config.is_snapshot_size(65_536));
        assert!(config.is_snapshot_size(65_536 * 40));
        let fixed = StoreConfig {
            snapshot_log_fraction: 0,
            ..StoreConfig::default()
        };
        assert_eq!(fixed.snapshot_interval(1 << 40), 1024);
        let odd = StoreConfig {
            snapshot_every: 1000,
            ..StoreConfig::default()
        };
        // 2000 does not divide the archive interval (65,536): it stays at 1000.
        assert_eq!(odd.snapshot_interval(1 << 30), 1000);
        let third = StoreConfig {
            snapshot_every: 1024,
            snapshot_archive_every: 3072,
            ..StoreConfig::default()
        };
        assert_eq!(third.snapshot_interval(1 << 30), 1024);
        let even = StoreConfig {
            snapshot_every: 1000,
            snapshot_archive_every: 64_000,
            ..StoreConfig::default()
        };
        assert_eq!(even.snapshot_interval(16_000), 2000);
        assert_eq!(even.snapshot_interval(15_999), 1000);
    }
}
