//! The bound on requests in flight and the request timeout, as one middleware.
//!
//! A request that finds every slot taken is answered at once with 503 `overloaded` and
//! `Retry-After` rather than queued: queueing would only hide overload behind latency. A
//! request that takes longer than the timeout is answered with 503 `timeout`; an append cut
//! off this way may still be committed, and resubmitting it is idempotent (SPEC §7: 200 with
//! the original receipt).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// The shared state of the middleware.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    /// One permit per request in flight.
    pub(crate) permits: Arc<Semaphore>,
    /// How long a request may take.
    pub(crate) timeout: Duration,
}

impl Limits {
    /// Limits of `in_flight_max` requests (at least 1) and `timeout` each.
    pub(crate) fn new(in_flight_max: usize, timeout: Duration) -> Self {
        Limits {
            permits: Arc::new(Semaphore::new(in_flight_max.max(1))),
            timeout,
        }
    }
}

/// Takes a slot or answers 503 `overloaded`, then runs the request under the timeout.
pub(crate) async fn limit(State(limits): State<Limits>, request: Request, next: Next) -> Response {
    let Ok(permit) = limits.permits.try_acquire_owned() else {
        tracing::warn!("overloaded: every request slot is taken");
        return ApiError::Overloaded.into_response();
    };
    let response = match tokio::time::timeout(limits.timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout_ms = limits.timeout.as_millis(), "request timed out");
            ApiError::Timeout {
                limit_ms: limits.timeout.as_millis(),
            }
            .into_response()
        }
    };
    drop(permit);
    response
}
