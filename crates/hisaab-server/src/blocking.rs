//! Blocking store work (disk reads, replays, exports) run off the async workers, for the
//! handlers and the projection cache alike, and dropped if its request has gone before a
//! thread takes it (see [`hisaab_web::blocking`]).

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
    // The answer to an abandoned request is never sent: its connection is gone.
    match hisaab_web::blocking::run_blocking(work, || Err(ApiError::Unavailable)).await {
        Ok(result) => result,
        Err(error) => Err(ApiError::internal("blocking task", &error)),
    }
}
