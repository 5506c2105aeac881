//! Blocking work (disk reads, replays, renderings) run off the async workers, and dropped if
//! its request has gone before it starts.
//!
//! A request that times out, or whose client disconnects, drops the future that awaits its
//! blocking task; tokio cannot stop a task already running on a blocking thread, but one still
//! queued for a thread (as they are in a flood, when every thread is busy) is told through an
//! abandon flag and returns at once instead of doing work nobody will read. Work already
//! running runs to its bounded end (a replay of at most one snapshot interval, a page).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Why blocking work gave no answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlockingError {
    /// The task panicked or the runtime is shutting down.
    #[error("the blocking task did not run to its end: {0}")]
    Failed(#[from] tokio::task::JoinError),
}

/// Sets the flag when the awaiting future is dropped, finished or not.
struct Abandon(Arc<AtomicBool>);

impl Drop for Abandon {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Runs `work` on a blocking thread and answers what it returns; if the future is dropped
/// before a thread takes the task, `abandoned` is called there instead of `work`.
///
/// # Errors
/// [`BlockingError::Failed`] if the task could not run to its end.
pub async fn run_blocking<T, W, A>(work: W, abandoned: A) -> Result<T, BlockingError>
where
    T: Send + 'static,
    W: FnOnce() -> T + Send + 'static,
    A: FnOnce() -> T + Send + 'static,
{
    let flag = Arc::new(AtomicBool::new(false));
    let _abandon = Abandon(Arc::clone(&flag));
    let task = tokio::task::spawn_blocking(move || {
        if flag.load(Ordering::Acquire) {
            abandoned()
        } else {
            work()
        }
    });
    Ok(task.await?)
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    /// With the one blocking thread busy, a request that times out while its work is queued
    /// leaves the work undone: the task runs `abandoned` when the thread frees up.
    #[test]
    fn work_queued_past_its_request_is_not_done() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .max_blocking_threads(1)
            .enable_time()
            .build()
            .unwrap();
        let (release, held) = mpsc::channel::<()>();
        let (report, reports) = mpsc::channel::<&'static str>();
        runtime.block_on(async {
            let busy = tokio::task::spawn_blocking(move || held.recv().unwrap());
            let (done, skipped) = (report.clone(), report.clone());
            let waited = tokio::time::timeout(
                Duration::from_millis(50),
                run_blocking(
                    move || done.send("done").unwrap(),
                    move || skipped.send("abandoned").unwrap(),
                ),
            )
            .await;
            assert!(waited.is_err(), "the request should have timed out");
            release.send(()).unwrap();
            busy.await.unwrap();
        });
        // The queued task runs on the freed thread, sees the flag and does not do the work.
        assert_eq!(
            reports.recv_timeout(Duration::from_secs(10)).unwrap(),
            "abandoned"
        );
        drop(runtime);
    }

    /// Work whose request is still waiting is done and answered.
    #[test]
    fn work_for_a_waiting_request_is_done() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let answer = runtime.block_on(run_blocking(|| 7, || 0)).unwrap();
        assert_eq!(answer, 7);
    }
}
