//! The budgets of requests in flight, the request timeout, and the checks made on a request's
//! head before anything else, as middleware.
//!
//! Appends and reads have budgets of their own, so that a flood of one cannot starve the
//! other; `/readyz` reports when either is used up.
//!
//! A request that finds every slot taken is answered at once with 503 `overloaded` and
//! `Retry-After` rather than queued: queueing would only hide overload behind latency. One
//! client (one IP address) may hold at most its share of each budget
//! ([`crate::ServerConfig::client_share_percent`]), so that one client cannot take every slot
//! and starve the others; past its share it gets the same 503 `overloaded`. A
//! request that takes longer than the timeout is answered with 503 `timeout`; an append cut
//! off this way may still be committed, and resubmitting it is idempotent (SPEC §7: 200 with
//! the original receipt).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
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
    /// `timeout`, of which one client may hold `share_percent` % (at least one slot).
    pub(crate) fn new(
        reads_max: usize,
        appends_max: usize,
        share_percent: u8,
        timeout: Duration,
    ) -> Self {
        Budgets {
            reads: Limits::new(reads_max, share_percent, timeout),
            appends: Limits::new(appends_max, share_percent, timeout),
        }
    }
}

/// The shared state of the middleware.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    /// One permit per request in flight.
    pub(crate) permits: Arc<Semaphore>,
    /// What each client holds of the permits.
    clients: Arc<Clients>,
    /// How long a request may take.
    pub(crate) timeout: Duration,
}

impl Limits {
    /// Limits of `in_flight_max` requests (at least 1), `share_percent` % of them (at least
    /// 1) for one client, and `timeout` each.
    pub(crate) fn new(in_flight_max: usize, share_percent: u8, timeout: Duration) -> Self {
        let in_flight_max = in_flight_max.max(1);
        Limits {
            permits: Arc::new(Semaphore::new(in_flight_max)),
            clients: Arc::new(Clients::new(share_of(in_flight_max, share_percent))),
            timeout,
        }
    }

    /// Whether every slot is taken.
    pub(crate) fn is_saturated(&self) -> bool {
        self.permits.available_permits() == 0
    }
}

/// `share_percent` % of `total`, rounded up, at least 1 and at most `total`.
pub(crate) fn share_of(total: usize, share_percent: u8) -> usize {
    let percent = usize::from(share_percent.clamp(1, 100));
    total
        .saturating_mul(percent)
        .div_ceil(100)
        .clamp(1, total.max(1))
}

/// How many of something (slots, connections) each client holds, by IP address, and the most
/// one may hold.
#[derive(Debug)]
pub(crate) struct Clients {
    held: Mutex<HashMap<IpAddr, usize>>,
    max: usize,
}

impl Clients {
    /// At most `max` (at least 1) per client.
    pub(crate) fn new(max: usize) -> Self {
        Clients {
            held: Mutex::new(HashMap::new()),
            max: max.max(1),
        }
    }

    /// One more for `ip`, released when the hold is dropped; `None` when `ip` holds its most.
    pub(crate) fn hold(self: &Arc<Self>, ip: IpAddr) -> Option<ClientHold> {
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = held.entry(ip).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(ClientHold {
            clients: Arc::clone(self),
            ip,
        })
    }

    /// How many clients hold anything (entries are removed at zero, so the map stays as small
    /// as the set of clients with something in flight).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

/// One client's hold on one of its share, given back on drop.
#[derive(Debug)]
pub(crate) struct ClientHold {
    clients: Arc<Clients>,
    ip: IpAddr,
}

impl Drop for ClientHold {
    fn drop(&mut self) {
        let mut held = self
            .clients
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                held.remove(&self.ip);
            }
        }
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
pub(crate) struct Slot(Arc<Mutex<Option<Held>>>);

/// What a request in flight holds: a permit of its budget and, when the client's address is
/// known, one of that client's share. Both are given back when it is dropped.
#[derive(Debug)]
pub(crate) struct Held {
    _permit: OwnedSemaphorePermit,
    _client: Option<ClientHold>,
}

impl Slot {
    /// The slot, which is then released when the taker drops it rather than when the handler
    /// returns; `None` if it was taken already.
    pub(crate) fn take(&self) -> Option<Held> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// Takes a slot, and one of the client's share of them, or answers 503 `overloaded`; then
/// runs the request under the timeout.
///
/// The client is the peer's IP address, which the connection loop puts in the request's
/// extensions (`ConnectInfo`); a request without one (a router called in-process) is bound by
/// the budget alone.
pub(crate) async fn limit(
    State(limits): State<Limits>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let client = match peer {
        Some(ip) => match limits.clients.hold(ip) {
            Some(hold) => Some(hold),
            None => {
                tracing::warn!(%ip, "overloaded: one client holds its whole share of the slots");
                return ApiError::Overloaded.into_response();
            }
        },
        None => None,
    };
    let Ok(permit) = Arc::clone(&limits.permits).try_acquire_owned() else {
        tracing::warn!("overloaded: every request slot is taken");
        return ApiError::Overloaded.into_response();
    };
    let held = Held {
        _permit: permit,
        _client: client,
    };
    let slot = Slot(Arc::new(Mutex::new(Some(held))));
    request.extensions_mut().insert(slot.clone());
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
    drop(slot);
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn a_share_is_rounded_up_and_never_zero_nor_above_the_total() {
        assert_eq!(share_of(384, 50), 192);
        assert_eq!(share_of(128, 50), 64);
        assert_eq!(share_of(3, 50), 2);
        assert_eq!(share_of(1, 1), 1);
        assert_eq!(share_of(10, 0), 1);
        assert_eq!(share_of(10, 100), 10);
        assert_eq!(share_of(10, 255), 10);
    }

    #[test]
    fn a_client_holds_at_most_its_share_and_gets_it_back_on_drop() {
        let clients = Arc::new(Clients::new(2));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = clients.hold(a).unwrap();
        let _second = clients.hold(a).unwrap();
        assert!(clients.hold(a).is_none(), "a third hold is over the share");
        // Another client is not affected by the first one's share.
        let other = clients.hold(b).unwrap();
        drop(first);
        let _third = clients.hold(a).expect("a dropped hold is given back");
        drop(other);
        assert_eq!(clients.len(), 1, "a client holding nothing is forgotten");
    }
}
