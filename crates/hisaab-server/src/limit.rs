//! The budgets of requests in flight, the request timeout, and the checks made on a request's
//! head before anything else, as middleware.
//!
//! Appends and reads have budgets of their own, so that a flood of one cannot starve the
//! other; `/readyz` reports when either is used up.
//!
//! A request that finds every slot taken is answered at once with 503 `overloaded` and
//! `Retry-After` rather than queued: queueing would only hide overload behind latency. A
//! request that takes longer than the timeout is answered with 503 `timeout`; an append cut
//! off this way may still be committed, and resubmitting it is idempotent (SPEC §7: 200 with
//! the original receipt).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// The longest request target taken, in bytes; longer is 414 `uri_too_long`.
pub(crate) const URI_BYTES_MAX: usize = 8 << 10;
/// The most header fields taken; more is 431 `headers_too_large`.
pub(crate) const HEADER_FIELDS_MAX: usize = 100;
/// The most header bytes (names and values) taken; more is 431 `headers_too_large`.
pub(crate) const HEADER_BYTES_MAX: usize = 16 << 10;

/// The budgets of requests in flight.
#[derive(Debug, Clone)]
pub(crate) struct Budgets {
    /// Reads and cosignatures.
    pub(crate) reads: Limits,
    /// Appends.
    pub(crate) appends: Limits,
}

impl Budgets {
    /// Budgets of `reads_max` reads and `appends_max` appends in flight, each taking at most
    /// `timeout`.
    pub(crate) fn new(reads_max: usize, appends_max: usize, timeout: Duration) -> Self {
        Budgets {
            reads: Limits::new(reads_max, timeout),
            appends: Limits::new(appends_max, timeout),
        }
    }
}

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

impl Limits {
    /// Whether every slot is taken.
    pub(crate) fn is_saturated(&self) -> bool {
        self.permits.available_permits() == 0
    }
}

/// Refuses, from the request's head alone and before any of its body is read, what is over a
/// limit: a request target over [`URI_BYTES_MAX`] (414), headers over [`HEADER_FIELDS_MAX`]
/// fields or [`HEADER_BYTES_MAX`] bytes (431), and a `Content-Length` over the body limit
/// (413), `body_bytes_max`. Because the body is not read, a client that sent
/// `Expect: 100-continue` gets the 413 without a `100 Continue` first.
pub(crate) async fn check_head(
    State(body_bytes_max): State<usize>,
    request: Request,
    next: Next,
) -> Response {
    let uri_bytes = request
        .uri()
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    if uri_bytes > URI_BYTES_MAX {
        return ApiError::UriTooLong {
            limit_bytes: URI_BYTES_MAX,
        }
        .into_response();
    }
    let headers = request.headers();
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len().saturating_add(value.len()))
        .fold(0, usize::saturating_add);
    if headers.len() > HEADER_FIELDS_MAX || header_bytes > HEADER_BYTES_MAX {
        return ApiError::HeadersTooLarge {
            fields_max: HEADER_FIELDS_MAX,
            bytes_max: HEADER_BYTES_MAX,
        }
        .into_response();
    }
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok());
    let limit = body_bytes_max;
    if declared.is_some_and(|length| length > u64::try_from(limit).unwrap_or(u64::MAX)) {
        let error = ApiError::BodyTooLarge { limit_bytes: limit };
        if request.uri().path() == "/v1/statements" {
            return ApiError::EnvelopeTooLarge {
                message: format!(
                    "the request body is over the server's limit of {limit} bytes; an \
                     envelope's canonical JSON may be at most 65,536 bytes"
                ),
            }
            .into_response();
        }
        return error.into_response();
    }
    next.run(request).await
}

/// The slot a request holds, in its extensions: a handler whose answer outlives it (a
/// streamed bundle) takes the slot along with its body.
#[derive(Debug, Clone)]
pub(crate) struct Slot(Arc<std::sync::Mutex<Option<OwnedSemaphorePermit>>>);

impl Slot {
    /// The slot, which is then released when the taker drops it rather than when the handler
    /// returns; `None` if it was taken already.
    pub(crate) fn take(&self) -> Option<OwnedSemaphorePermit> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// Takes a slot or answers 503 `overloaded`, then runs the request under the timeout.
pub(crate) async fn limit(
    State(limits): State<Limits>,
    mut request: Request,
    next: Next,
) -> Response {
    let Ok(permit) = Arc::clone(&limits.permits).try_acquire_owned() else {
        tracing::warn!("overloaded: every request slot is taken");
        return ApiError::Overloaded.into_response();
    };
    let permit = Slot(Arc::new(std::sync::Mutex::new(Some(permit))));
    request.extensions_mut().insert(permit.clone());
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
