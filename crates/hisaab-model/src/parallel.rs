//! An ordered parallel map for verification: the calling thread reads, worker threads do the
//! per-entry work that needs no state (parsing, canonical form, strict signature checks), and
//! one consumer thread folds the results into the state in the order they were read.
//!
//! The workers take batches from one shared queue, whichever is free first, so that a worker
//! the scheduler sets aside (on two cores the reader and the consumer share them with the
//! workers) holds up no other; the consumer puts the batches back in order. Memory is
//! bounded: at most [`WINDOW_BATCHES`] batches of [`BATCH_LEN`] items are read and not yet
//! consumed, whatever the input's length.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Mutex, PoisonError};
use std::thread;

/// Items per batch handed to a worker.
pub(crate) const BATCH_LEN: usize = 256;
/// Batches read and not yet consumed, per worker.
const WINDOW_BATCHES: usize = 8;
/// The most worker threads, whatever the machine.
const WORKERS_MAX: usize = 16;

/// The number of worker threads: the machine's parallelism, at least 1, at most
/// [`WORKERS_MAX`].
pub(crate) fn workers() -> usize {
    thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .clamp(1, WORKERS_MAX)
}

/// A batch's results, or `None` when the work panicked on it.
type Done<Out> = (usize, Option<Vec<Out>>);

/// The results, in order, as the consumer sees them.
pub(crate) struct Ordered<Out> {
    done: Receiver<Done<Out>>,
    /// Batches done ahead of the one the consumer waits for.
    ahead: BTreeMap<usize, Vec<Out>>,
    /// One token per batch read and not yet consumed: taken back as a batch is consumed.
    window: Receiver<()>,
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
            let batch = loop {
                if let Some(batch) = self.ahead.remove(&self.next_batch) {
                    break batch;
                }
                // Every worker hung up: no more batches. A batch the work panicked on ends
                // the results too (the panic is carried to the caller of `ordered_map`).
                let (index, batch) = self.done.recv().ok()?;
                self.ahead.insert(index, batch?);
            };
            let _token = self.window.recv();
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
    let (jobs, job_queue) = sync_channel::<(usize, Vec<In>)>(count);
    let job_queue = Mutex::new(job_queue);
    let (done_tx, done) = sync_channel::<Done<Out>>(count);
    let panicked: Mutex<Option<Box<dyn std::any::Any + Send>>> = Mutex::new(None);
    let (tokens, window) = sync_channel::<()>(count * WINDOW_BATCHES);
    thread::scope(|scope| {
        for _ in 0..count {
            let (work, job_queue, done_tx) = (&work, &job_queue, done_tx.clone());
            let panicked = &panicked;
            scope.spawn(move || {
                let mut consumed = true;
                loop {
                    let job = job_queue
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .recv();
                    let Ok((index, batch)) = job else { break };
                    // Once the consumer has stopped, the batches still queued are taken and
                    // dropped, so that the producer never waits on a full queue for ever.
                    if !consumed {
                        continue;
                    }
                    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        batch.into_iter().map(work).collect::<Vec<Out>>()
                    }));
                    let out = match out {
                        Ok(out) => Some(out),
                        Err(panic) => {
                            panicked
                                .lock()
                                .unwrap_or_else(PoisonError::into_inner)
                                .get_or_insert(panic);
                            None
                        }
                    };
                    consumed = done_tx.send((index, out)).is_ok();
                }
            });
        }
        drop(done_tx);
        let stopped = &stopped;
        let consumer = scope.spawn(move || {
            let mut ordered = Ordered {
                done,
                ahead: BTreeMap::new(),
                window,
                next_batch: 0,
                current: Vec::new().into_iter(),
            };
            let result = consume(&mut ordered);
            stopped.store(true, Ordering::Relaxed);
            result
        });

        let mut batch: Vec<In> = Vec::with_capacity(BATCH_LEN);
        let mut next_batch = 0usize;
        // A batch goes out once the window has room for it; the consumer's end closes both.
        let send = |batch: Vec<In>, next_batch: &mut usize| -> bool {
            let index = *next_batch;
            *next_batch = next_batch.wrapping_add(1);
            tokens.send(()).is_ok() && jobs.send((index, batch)).is_ok()
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
        drop(tokens);
        let result = consumer.join();
        // A panic of the work or of the consumer is a bug; carry it to the caller as it is.
        if let Some(panic) = panicked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            std::panic::resume_unwind(panic);
        }
        match result {
            Ok(result) => result,
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
    fn a_consumer_that_stops_with_full_queues_ends_the_map() {
        // A consumer slower than the workers lets every queue fill, then stops: the
        // producer, blocked on a full queue, must still be let go.
        for wanted in [0, 3] {
            let taken = ordered_map(
                |emit| {
                    for i in 0..BATCH_LEN * 64 {
                        if !emit(i) {
                            break;
                        }
                    }
                },
                |i| i,
                |ordered| {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                    ordered.take(wanted).count()
                },
            );
            assert_eq!(taken, wanted);
        }
    }

    #[test]
    fn a_panic_of_the_work_reaches_the_caller() {
        let result = std::panic::catch_unwind(|| {
            ordered_map(
                |emit| {
                    for i in 0..BATCH_LEN * 64 {
                        if !emit(i) {
                            break;
                        }
                    }
                },
                |i: usize| {
                    assert!(i != BATCH_LEN * 3 + 5, "the work's own panic");
                    i
                },
                |ordered| ordered.count(),
            )
        });
        assert!(result.is_err());
    }

    #[test]
    fn an_empty_input_gives_an_empty_output() {
        let out = ordered_map(|_emit| {}, |i: u32| i, |ordered| ordered.count());
        assert_eq!(out, 0);
    }
}
