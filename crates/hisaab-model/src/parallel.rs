//! An ordered parallel map for verification: the calling thread reads, worker threads do the
//! per-entry work that needs no state (parsing, canonical form, strict signature checks), and
//! one consumer thread folds the results into the state in the order they were read.
//!
//! Memory is bounded: each worker holds at most [`QUEUE_BATCHES`] batches waiting and
//! [`QUEUE_BATCHES`] batches done, of [`BATCH_LEN`] items each, whatever the input's length.
//! The order is kept by construction: batch `k` goes to worker `k mod n`, each worker answers
//! its batches in order, and the consumer takes batch `k` from worker `k mod n`.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread;

/// Items per batch handed to a worker.
pub(crate) const BATCH_LEN: usize = 256;
/// Batches that may wait in each worker's queue, and batches done that may wait for the
/// consumer.
const QUEUE_BATCHES: usize = 2;
/// The most worker threads, whatever the machine.
const WORKERS_MAX: usize = 16;

/// The number of worker threads: the machine's parallelism, at least 1, at most
/// [`WORKERS_MAX`].
fn workers() -> usize {
    thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .clamp(1, WORKERS_MAX)
}

/// The results, in order, as the consumer sees them.
pub(crate) struct Ordered<Out> {
    done: Vec<Receiver<Vec<Out>>>,
    next_batch: usize,
    current: std::vec::IntoIter<Out>,
}

impl<Out> Iterator for Ordered<Out> {
    type Item = Out;

    fn next(&mut self) -> Option<Out> {
        loop {
            if let Some(out) = self.current.next() {
                return Some(out);
            }
            let count = self.done.len();
            let worker = self.done.get(self.next_batch.checked_rem(count)?)?;
            // A worker that hung up has no more batches, and neither has anyone after it.
            let batch = worker.recv().ok()?;
            self.next_batch = self.next_batch.wrapping_add(1);
            self.current = batch.into_iter();
        }
    }
}

/// Runs `produce` on the calling thread, which hands items to its `emit` argument (`emit`
/// answers `false` once the consumer has stopped: then there is no use producing more). The
/// items are mapped by `work` on worker threads, in batches, and given to `consume`, on a
/// thread of its own, in the order they were emitted. Answers what `consume` answers.
pub(crate) fn ordered_map<In, Out, R, P, W, C>(produce: P, work: W, consume: C) -> R
where
    In: Send,
    Out: Send,
    R: Send,
    P: FnOnce(&mut dyn FnMut(In) -> bool),
    W: Fn(In) -> Out + Sync,
    C: FnOnce(&mut Ordered<Out>) -> R + Send,
{
    let count = workers();
    let stopped = AtomicBool::new(false);
    thread::scope(|scope| {
        let mut jobs: Vec<SyncSender<Vec<In>>> = Vec::with_capacity(count);
        let mut done = Vec::with_capacity(count);
        for _ in 0..count {
            let (job_tx, job_rx) = sync_channel::<Vec<In>>(QUEUE_BATCHES);
            let (done_tx, done_rx) = sync_channel::<Vec<Out>>(QUEUE_BATCHES);
            jobs.push(job_tx);
            done.push(done_rx);
            let work = &work;
            scope.spawn(move || {
                for batch in job_rx {
                    let out: Vec<Out> = batch.into_iter().map(work).collect();
                    if done_tx.send(out).is_err() {
                        break;
                    }
                }
            });
        }
        let stopped = &stopped;
        let consumer = scope.spawn(move || {
            let mut ordered = Ordered {
                done,
                next_batch: 0,
                current: Vec::new().into_iter(),
            };
            let result = consume(&mut ordered);
            stopped.store(true, Ordering::Relaxed);
            result
        });

        let mut batch: Vec<In> = Vec::with_capacity(BATCH_LEN);
        let mut next_batch = 0usize;
        let send = |batch: Vec<In>, next_batch: &mut usize| -> bool {
            let Some(worker) = jobs.get(*next_batch % count) else {
                return false;
            };
            *next_batch = next_batch.wrapping_add(1);
            worker.send(batch).is_ok()
        };
        let mut open = true;
        produce(&mut |item| {
            if !open || stopped.load(Ordering::Relaxed) {
                open = false;
                return false;
            }
            batch.push(item);
            if batch.len() >= BATCH_LEN {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_LEN));
                open = send(full, &mut next_batch);
            }
            open
        });
        if open && !batch.is_empty() {
            send(batch, &mut next_batch);
        }
        // Hanging up ends the workers, and through them the consumer's input.
        drop(jobs);
        match consumer.join() {
            Ok(result) => result,
            // The consumer's panic is a bug; carry it to the caller as it is.
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_order_of_the_input() {
        let n = BATCH_LEN * 7 + 13;
        let out = ordered_map(
            |emit| {
                for i in 0..n {
                    if !emit(i) {
                        break;
                    }
                }
            },
            |i| i * 2,
            |ordered| ordered.collect::<Vec<_>>(),
        );
        assert_eq!(out, (0..n).map(|i| i * 2).collect::<Vec<_>>());
    }

    #[test]
    fn stops_the_producer_when_the_consumer_stops() {
        let mut produced = 0usize;
        let first = ordered_map(
            |emit| {
                for i in 0..1_000_000usize {
                    produced += 1;
                    if !emit(i) {
                        break;
                    }
                }
            },
            |i| i,
            |ordered| ordered.next(),
        );
        assert_eq!(first, Some(0));
        assert!(produced < 1_000_000);
    }

    #[test]
    fn an_empty_input_gives_an_empty_output() {
        let out = ordered_map(|_emit| {}, |i: u32| i, |ordered| ordered.count());
        assert_eq!(out, 0);
    }
}
