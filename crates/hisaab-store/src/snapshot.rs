//! Model snapshots written off the sequencer's critical path.
//!
//! Every `snapshot_every` entries the sequencer keeps a copy of its model state at exactly that
//! size (a clone of the `Ledger`, no serialisation). Once the batch that reached the size is
//! durable (flushed, the mark written, the size published) it hands the copies to the snapshot
//! thread, which serialises, chunks and hashes them and writes them with the pruning of older
//! snapshots (and the chunks only those named) in one sled transaction of its own, so that a
//! snapshot is never half-written. A snapshot is a cache and may land after later batches; it
//! never names a size whose entries are not durable: [`write`] refuses any size above the
//! published one. A crash between a batch and its snapshot leaves the older snapshots, which
//! `open` resumes from. Closing the store (and the reopen of [`crate::Store::recover`]) stops
//! the sequencer first, then lets this thread write what it was handed, then flushes.
//!
//! Only this thread writes the `snapshots` and `chunks` trees while a store is open (`open`
//! writes them before it starts, when it removes a torn tail or a refused snapshot).

use std::collections::{BTreeSet, HashSet};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use hisaab_model::Ledger;

use crate::error::StoreError;
use crate::layout::decode_u64;
use crate::replay::encode_snapshot;
use crate::shared::Shared;

/// Model states by tree size, handed over once their batch is durable.
pub(crate) type Job = Vec<(u64, Ledger)>;

/// How many jobs may wait for the thread before the sequencer waits for it: each holds copies
/// of the model state, so a thread that falls behind slows appends rather than filling memory.
const QUEUE_JOBS: usize = 2;

/// Starts the snapshot thread over `shared`: where to hand it jobs, and its handle to join
/// once every sender is gone (it writes what is queued first). `None` when the thread could
/// not be started: the sequencer then writes its snapshots itself.
pub(crate) fn spawn(shared: Arc<Shared>) -> Option<(mpsc::SyncSender<Job>, JoinHandle<()>)> {
    let (sender, receiver) = mpsc::sync_channel::<Job>(QUEUE_JOBS);
    let spawned = std::thread::Builder::new()
        .name("hisaab-snapshots".into())
        .spawn(move || run(&shared, &receiver));
    match spawned {
        Ok(handle) => Some((sender, handle)),
        Err(error) => {
            tracing::warn!(%error, "no snapshot thread: the sequencer writes its snapshots");
            None
        }
    }
}

/// Takes jobs until every sender is gone; jobs queued meanwhile are written together (one
/// transaction, and the copies that this pruning would remove at once are never serialised).
fn run(shared: &Shared, receiver: &mpsc::Receiver<Job>) {
    while let Ok(mut snapshots) = receiver.recv() {
        while let Ok(more) = receiver.try_recv() {
            snapshots.extend(more);
        }
        if let Err(error) = write(shared, snapshots) {
            // A snapshot is a cache: appends go on, and the next snapshot is tried as usual.
            tracing::warn!(%error, "a model snapshot was not written");
        }
    }
}

/// Writes the snapshots of `snapshots` (in increasing size) whose size is durable, with the
/// pruning of the recent snapshots beyond `snapshots_kept` and the chunks no remaining
/// snapshot names, in one transaction; answers the sizes written. A snapshot that this
/// pruning removes at once is not written at all.
pub(crate) fn write(shared: &Shared, snapshots: Job) -> Result<Vec<u64>, StoreError> {
    let durable = shared.size();
    let (snapshots, beyond): (Job, Job) = snapshots
        .into_iter()
        .partition(|(size, ledger)| *size <= durable && ledger.size() == *size);
    if let Some((size, _)) = beyond.first() {
        tracing::warn!(
            size,
            durable,
            "a snapshot beyond the durable size was not written"
        );
    }
    if snapshots.is_empty() {
        return Ok(Vec::new());
    }
    let trees = &shared.trees;
    let pruned = pruned_snapshots(shared, &snapshots)?;
    let mut chunks = sled::Batch::default();
    let mut records_batch = sled::Batch::default();
    let mut written = HashSet::new();
    let mut records = Vec::with_capacity(snapshots.len());
    let mut sizes = Vec::with_capacity(snapshots.len());
    for (size, ledger) in snapshots {
        if pruned.contains(&size) {
            continue;
        }
        let bytes = zeroize::Zeroizing::new(ledger.to_snapshot());
        drop(ledger);
        let encoded = encode_snapshot(trees, size, &bytes, &mut written)?;
        for (id, stored) in encoded.new_chunks {
            chunks.insert(id.as_bytes(), stored);
        }
        records_batch.insert(&size.to_be_bytes(), encoded.record.as_slice());
        records.push(encoded.record);
        sizes.push(size);
    }
    for size in &pruned {
        records_batch.remove(&size.to_be_bytes());
    }
    let added: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
    crate::chunks::release(trees, &pruned, &added, &mut chunks)?;
    trees.apply_snapshots(&records_batch, &chunks)?;
    Ok(sizes)
}

/// The recent snapshots beyond `snapshots_kept` (archive ones stay), stored or about to be
/// written, once the new ones are counted.
fn pruned_snapshots(shared: &Shared, snapshots: &Job) -> Result<BTreeSet<u64>, StoreError> {
    let config = &shared.config;
    let archive = config.snapshot_archive_every.max(1);
    let mut recent: BTreeSet<u64> = BTreeSet::new();
    for item in shared.trees.snapshots.iter().keys() {
        let key = item.map_err(StoreError::sled("listing snapshots"))?;
        if let Some(size) = decode_u64(&key) {
            if size % archive != 0 {
                recent.insert(size);
            }
        }
    }
    recent.extend(
        snapshots
            .iter()
            .map(|(size, _)| *size)
            .filter(|size| size % archive != 0),
    );
    let excess = recent.len().saturating_sub(config.snapshots_kept);
    Ok(recent.into_iter().take(excess).collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Arc;

    use hisaab_log::{Entry, SealedEntry, Timestamp};
    use hisaab_testkit::fixture;

    use super::*;
    use crate::config::{ManualClock, StoreConfig};
    use crate::replay::ledger_at;
    use crate::store::Store;

    fn stored_sizes(shared: &Shared) -> Vec<u64> {
        shared
            .trees
            .snapshots
            .iter()
            .keys()
            .map(|key| decode_u64(&key.unwrap()).unwrap())
            .collect()
    }

    #[test]
    fn no_snapshot_is_written_for_a_size_whose_entries_are_not_durable() {
        let dir = tempfile::tempdir().unwrap();
        let config = StoreConfig {
            snapshot_every: 1 << 20,
            ..StoreConfig::default()
        };
        let clock = Arc::new(ManualClock::new(fixture::EPOCH_MILLIS + 1000));
        let store = Store::create(
            dir.path(),
            fixture::genesis().unwrap(),
            fixture::log_key(),
            config,
            clock,
        )
        .unwrap();
        let ledger_id = store.entry(0).unwrap().unwrap().event_hash();
        for n in 0..3 {
            let envelope = fixture::register_operator(ledger_id, 1, n).unwrap();
            store.append_blocking(envelope).unwrap();
        }
        let shared = store.shared().unwrap();
        assert_eq!(shared.size(), 4);
        let durable = ledger_at(&shared.trees, 4, None).unwrap();

        // The state one entry further, whose entry 4 was never appended (not durable).
        let mut ahead = durable.clone();
        let envelope = fixture::register_operator(ledger_id, 1, 3).unwrap();
        let recorded_at = Timestamp::from_unix_millis(fixture::EPOCH_MILLIS + 2000).unwrap();
        let entry = Entry::new(4, ahead.last_event_hash(), recorded_at, envelope);
        ahead
            .apply_trusted(&SealedEntry::seal(entry).unwrap())
            .unwrap();
        assert_eq!(ahead.size(), 5);
        assert_eq!(write(&shared, vec![(5, ahead)]).unwrap(), Vec::<u64>::new());
        assert_eq!(stored_sizes(&shared), Vec::<u64>::new());

        // A copy that does not hold the size it is filed under is refused too.
        assert_eq!(
            write(&shared, vec![(3, durable.clone())]).unwrap(),
            Vec::<u64>::new()
        );
        assert_eq!(stored_sizes(&shared), Vec::<u64>::new());

        // The durable one is written, and read back as the state at its size.
        assert_eq!(write(&shared, vec![(4, durable.clone())]).unwrap(), vec![4]);
        assert_eq!(stored_sizes(&shared), vec![4]);
        let (loaded, refused) = crate::replay::load_snapshot(&shared.trees, 4).unwrap();
        assert_eq!((loaded, refused), (durable, 0));
        drop(shared);
        store.close().unwrap();
    }
}
