//! Blocking store work (disk reads, replays, exports) run off the async workers, for the
//! handlers and the projection cache alike.

use crate::error::ApiError;

/// Runs blocking store work (disk reads, replays, exports) off the async workers.
///
/// # Errors
/// Whatever `work` returns; 500 `internal` if the task could not run to its end.
pub(crate) async fn blocking<T, F>(work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(join_error) => Err(ApiError::internal("blocking task", &join_error)),
    }
}
