//! Model snapshots written off the sequencer's critical path.
//!
//! The snapshot thread keeps a replica of the model state of its own, built when it first needs
//! it from the nearest snapshot plus replay (so that neither the open nor the sequencer pays
//! for a copy of the state). Once a batch that reached
//! snapshot sizes is durable (flushed, the mark written, the size published) the sequencer
//! hands it those sizes, nothing more: the thread brings its replica to each size by replaying
//! the durable entries on the trusted path (`replay_trusted`, as every read of an older state
//! does: the stored bytes in one pass, each tied to its stored leaf hash, with the openings
//! kept now), serialises, chunks and hashes it, and writes it with the pruning of older
//! snapshots (and the chunks only those named) in one sled transaction of its own, so that a
//! snapshot is never half-written. The sequencer thus does no work that grows with the state
//! for a snapshot: a copy of the state costs as much as its serialisation.
//!
//! A snapshot is a cache and may land after later batches; it never names a size whose
//! entries are not durable: [`write`] refuses any size above the published one. A crash
//! between a batch and its snapshot leaves the older snapshots, which `open` resumes from.
//! Closing the store (and the reopen of [`crate::Store::recover`]) stops the sequencer first,
//! then lets this thread write what it was handed, then flushes.
//!
//! Only this thread writes the `snapshots` and `chunks` trees while a store is open (`open`
//! writes them before it starts, when it removes a torn tail or a refused snapshot).

use std::collections::{BTreeSet, HashSet};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use hisaab_model::Ledger;

use crate::error::StoreError;
use crate::files::decode_u64;
use crate::replay::{ledger_at, replay_trusted};
use crate::shared::Shared;

/// The snapshot sizes a durable batch reached, in increasing order.
pub(crate) type Job = Vec<u64>;

/// Starts the snapshot thread over `shared`: where to hand it jobs, and its handle to join once
/// every sender is gone (it writes what is queued first). `None` when the thread could not be
/// started: snapshots are then not written (they are a cache; `open` replays instead).
pub(crate) fn spawn(shared: Arc<Shared>) -> Option<(mpsc::Sender<Job>, JoinHandle<()>)> {
    let (sender, receiver) = mpsc::channel::<Job>();
    let spawned = std::thread::Builder::new()
        .name("hisaab-snapshots".into())
        .spawn(move || run(&shared, &receiver));
    match spawned {
        Ok(handle) => Some((sender, handle)),
        Err(error) => {
            tracing::warn!(%error, "no snapshot thread: no model snapshot will be written");
            None
        }
    }
}

/// Takes jobs until every sender is gone; jobs queued meanwhile are written together (one
/// transaction, and the states that this pruning would remove at once are never serialised).
fn run(shared: &Shared, receiver: &mpsc::Receiver<Job>) {
    let mut replica: Option<Ledger> = None;
    while let Ok(mut sizes) = receiver.recv() {
        while let Ok(more) = receiver.try_recv() {
            sizes.extend(more);
        }
        let first = sizes.first().copied().unwrap_or(0).min(shared.size());
        let replica = match &mut replica {
            Some(replica) => replica,
            // The nearest snapshot at or below the first size, and replay.
            None => match ledger_at(&shared.trees, first, None) {
                Ok(built) => replica.insert(built),
                Err(error) => {
                    tracing::warn!(%error, "the snapshot thread's state could not be built");
                    continue;
                }
            },
        };
        if let Err(error) = write(shared, replica, &sizes) {
            // A snapshot is a cache: appends go on, and the next snapshot is tried as usual.
            tracing::warn!(%error, "a model snapshot was not written");
        }
    }
}

/// Brings `replica` to each of `sizes` (increasing) that is durable and not behind it, and
/// writes the snapshots there, with the pruning of the recent snapshots beyond
/// `snapshots_kept` and of the chunks no remaining snapshot names, in one transaction;
/// answers the sizes written. A snapshot that this pruning removes at once is not serialised.
pub(crate) fn write(
    shared: &Shared,
    replica: &mut Ledger,
    sizes: &[u64],
) -> Result<Vec<u64>, StoreError> {
    let durable = shared.size();
    let from = replica.size();
    let (sizes, refused): (Vec<u64>, Vec<u64>) = sizes
        .iter()
        .partition(|&&size| size <= durable && size >= from && size > 0);
    if let Some(size) = refused.first() {
        tracing::warn!(
            size,
            durable,
            from,
            "a snapshot beyond the durable size, or behind the replica, was not written"
        );
    }
    if sizes.is_empty() {
        return Ok(Vec::new());
    }
    let trees = &shared.trees;
    let tag_key = crate::chunks::TagKey::of_log_key(&shared.log_key);
    let pruned = pruned_snapshots(shared, &sizes)?;
    let mut chunks = sled::Batch::default();
    let mut records_batch = sled::Batch::default();
    let mut written = HashSet::new();
    let mut records = Vec::with_capacity(sizes.len());
    let mut kept = Vec::with_capacity(sizes.len());
    for size in sizes {
        replay_trusted(trees, replica, size, None)?;
        if pruned.contains(&size) || kept.last() == Some(&size) {
            continue;
        }
        let bytes = zeroize::Zeroizing::new(replica.to_snapshot());
        let encoded = crate::chunks::encode(trees, size, &bytes, &tag_key, &mut written)?;
        for (id, stored) in encoded.new_chunks {
            chunks.insert(id.as_bytes(), stored);
        }
        records_batch.insert(&size.to_be_bytes(), encoded.record.as_slice());
        records.push(encoded.record);
        kept.push(size);
    }
    for size in &pruned {
        records_batch.remove(&size.to_be_bytes());
    }
    let added: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
    crate::chunks::release(trees, &pruned, &added, &mut chunks)?;
    trees.apply_snapshots(&records_batch, &chunks)?;
    Ok(kept)
}

/// The recent snapshots beyond `snapshots_kept` (archive ones stay), stored or about to be
/// written, once the new ones are counted.
fn pruned_snapshots(shared: &Shared, sizes: &[u64]) -> Result<BTreeSet<u64>, StoreError> {
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
    recent.extend(sizes.iter().copied().filter(|size| size % archive != 0));
    let excess = recent.len().saturating_sub(config.snapshots_kept);
    Ok(recent.into_iter().take(excess).collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::replay::load_snapshot;
    use crate::store::testing::{fixture_store, register_operators, unsnapshotted};

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
        let (store, _) = fixture_store(dir.path(), unsnapshotted());
        register_operators(&store, 5);
        let shared = store.shared().unwrap();
        assert_eq!(shared.size(), 6);
        let mut replica = ledger_at(&shared.trees, 2, None).unwrap();

        // Beyond the durable size: nothing is written, and the replica stays where it was.
        assert_eq!(
            write(&shared, &mut replica, &[7]).unwrap(),
            Vec::<u64>::new()
        );
        assert_eq!(stored_sizes(&shared), Vec::<u64>::new());
        assert_eq!(replica.size(), 2);

        // Durable sizes are written from the replica brought to each; one behind it is not.
        assert_eq!(
            write(&shared, &mut replica, &[1, 4, 6]).unwrap(),
            vec![4, 6]
        );
        assert_eq!(stored_sizes(&shared), vec![4, 6]);
        assert_eq!(replica, ledger_at(&shared.trees, 6, None).unwrap());
        for size in [4, 6] {
            let loaded = load_snapshot(&shared.trees, size, None).unwrap();
            assert_eq!(loaded.refused, 0);
            assert_eq!(loaded.ledger.size(), size);
        }
        drop(shared);
        store.close().unwrap();
    }
}
