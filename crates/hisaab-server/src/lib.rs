//! # hisaab-server
//!
//! The HTTP API of Hisaab (SPEC §7) on axum: append signed statements, read the latest
//! signed checkpoint, entries as their leaf bytes exactly, RFC 9162 proofs, the state of
//! SPEC §5, streamed bundles (SPEC §6), and collect witnesses' cosignatures. `GET
//! /openapi.json` describes all of it, generated from the handlers.
//!
//! What it deliberately does not do: decide whether a statement is accepted (that is
//! `hisaab-model`, through `hisaab-store`), hold keys other than through the store, or
//! terminate TLS (put a reverse proxy in front).
//!
//! | method, path | answers |
//! |---|---|
//! | `POST /v1/statements` | 201/200 receipt; 400, 401, 403, 409, 413, 415, 422, 503 |
//! | `GET /v1/checkpoint` | 200 `text/plain` note with cosignatures; 503 |
//! | `GET /v1/entries?start=&limit=` | 200 JSON Lines of leaf bytes; 400, 404, 503 |
//! | `GET /v1/entries/{seq}`, `GET /v1/events/{event_hash}` | 200 leaf bytes; 400, 404, 503 |
//! | `GET /v1/proofs/inclusion?index=&tree_size=` | 200 `{index, tree_size, leaf_hash, proof}`; 400, 404, 503 |
//! | `GET /v1/proofs/consistency?from=&to=` | 200 `{from, to, proof}`; 400, 404, 503 |
//! | `GET /v1/state?as_of=&as_of_date=&at=` | 200 the state of SPEC §5 as canonical JSON; 400, 404, 503 |
//! | `GET /v1/obligations?operator=&member=&at=&as_of=&as_of_date=` | 200 who owes what by when (SPEC §11.4); 400, 404, 503 |
//! | `GET /v1/bundle?tree_size=` | 200 a streamed bundle of SPEC §6; 400, 404, 503 |
//! | `GET /v1/history?operator=&kpi=` | 200 JSON Lines of every entry about the pair (evaluations and disputes too); 400, 503 |
//! | `POST /v1/cosignatures` | 201/200 the checkpoint with cosignatures; 400, 401, 403, 409, 413, 415, 503 |
//! | `POST /v1/session/challenge`, `POST /v1/session` | 201 a challenge; 201 a session token (SPEC §13.2); 400, 401, 413, 415, 503 |
//! | `DELETE /v1/session` | 204 the session ended (SPEC §13.2); 401, 503 |
//! | `GET /openapi.json`, `GET /healthz` | the description, `{"status":"ok","size":N}` |
//! | `GET /`, `GET /app/...` | the web app's pages (`hisaab-web`): the sector overview and the rest |
//! | `POST /app/signout` | the pages' "Sign out": ends the browser's session, 303 to `/` |
//! | `GET /readyz` | 200 `{"status":"ready",...}`; 503 `saturated` when a budget is used up |
//!
//! Reads are filtered by who asks (SPEC §13): a request signed with a member's key (RFC 9421),
//! or a session token, reads as that member's class (`full`, `operator:<id>`); without
//! credentials, as the public. Answers that depend on who asks are `Cache-Control: private,
//! no-store` with `Vary` on the credentials' headers.
//!
//! The description is exact: a request it allows is never refused as malformed (400 means the
//! request breaks the description; a well-formed tree size, index or entry the ledger does not
//! have is 404), and a request it forbids is refused. CI runs schemathesis against it.
//!
//! Every error is answered in one shape, `{"error":{"code":"...","message":"..."}}`, from
//! one place, [`ApiError`]'s `IntoResponse`; the statuses for statements follow SPEC §7's
//! order of precedence (413, 400, 401, 403, 409, 422). Requests are bounded: a body limit
//! (decided on `Content-Length` before any byte of the body is read), limits on the request
//! target and headers, a request timeout, separate budgets of reads and appends in flight
//! (503 with `Retry-After` past them; a streamed bundle counts until its end), a bound on
//! projection rebuilds (cached per tree size), a page size for lists, and on the connection a
//! header-read timeout, an idle timeout, a send timeout and a bound on connections.
//!
//! ```no_run
//! # async fn run(store: hisaab_store::Store) -> std::io::Result<()> {
//! use hisaab_server::{serve, AppState, ServerConfig};
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! let state = AppState::new(store, ServerConfig::default());
//! serve(listener, state, async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await
//! # }
//! ```

// The crate's own layers, bottom up, one group a layer; a module imports only from its own
// layer and those above it in this list (doc links aside).
// Errors, bounds and the memory of credentials: `error`, `blocking`, `limit`, `access`.
mod access;
mod blocking;
mod error;
mod limit;
// Projections cached per tree size.
mod projection;
// The state every handler shares: the store, the limits, the budgets, the projections.
mod app;
// What a request carries: its connection, its body and query (`extract`), its reader.
mod conn;
mod extract;
mod reader;
// The handlers, the schemas of what they answer, and the description made from them.
mod api;
pub mod openapi;
pub mod schema;

use std::future::Future;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use access::{
    CHALLENGES_MAX, CHALLENGE_TTL_S, NONCES_MAX, SESSIONS_MAX, SESSION_TTL_DEFAULT,
    SIGNATURE_SKEW_S,
};
pub use app::{AppState, ServerConfig};
pub use error::{ApiError, ErrorBody, ErrorDetail, RETRY_AFTER_SECONDS};

/// The API's routes with their limits, logging and error mapping, over `state`.
///
/// Routers made from clones of one state share its budgets of requests in flight.
pub fn router(state: AppState) -> Router<()> {
    let body_limit = DefaultBodyLimit::max(state.config.body_bytes_max);
    let reads = Router::new()
        // The web app's pages (`/` and `/app/...`), read-only, under the same read budget.
        .merge(
            hisaab_web::router(hisaab_web::Web::new(state.store.clone())).layer(
                axum::middleware::from_fn_with_state(state.clone(), reader::page_reader),
            ),
        )
        .route("/openapi.json", get(openapi::openapi))
        .route("/v1/checkpoint", get(api::log::checkpoint))
        .route("/v1/entries", get(api::log::entries))
        .route("/v1/entries/{seq}", get(api::log::entry))
        .route("/v1/entries/{seq}/openings", get(api::log::openings))
        .route("/v1/events/{event_hash}", get(api::log::event))
        .route("/v1/proofs/inclusion", get(api::log::inclusion_proof))
        .route("/v1/proofs/consistency", get(api::log::consistency_proof))
        .route("/v1/state", get(api::state::state))
        .route("/v1/obligations", get(api::obligations::obligations))
        .route("/v1/bundle", get(api::log::bundle))
        .route("/v1/openings", get(api::log::openings_file))
        .route("/v1/history", get(api::log::history))
        .route("/v1/cosignatures", post(api::witness::cosign))
        .route("/v1/session/challenge", post(api::session::challenge))
        .route(
            "/v1/session",
            post(api::session::open).delete(api::session::end),
        )
        .route("/app/signout", post(api::session::sign_out))
        .route_layer(axum::middleware::from_fn_with_state(
            state.budgets.reads.clone(),
            limit::limit,
        ));
    let appends = Router::new()
        .route("/v1/statements", post(api::statements::submit))
        .route_layer(axum::middleware::from_fn_with_state(
            state.budgets.appends.clone(),
            limit::limit,
        ));
    reads
        .merge(appends)
        .layer(body_limit)
        .route("/healthz", get(api::meta::healthz))
        .route("/readyz", get(api::meta::readyz))
        .fallback(api::meta::not_found)
        .method_not_allowed_fallback(api::meta::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.config.body_bytes_max,
            limit::check_head,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        // A line per request at `debug` (`RUST_LOG=info,tower_http=debug`): at `info` it was a
        // formatted line and a write to stderr for every request (with the append's own line,
        // 5 % of a loaded server's profile; no throughput change measurable on two cores). An
        // append logs its own line at `info`, and server errors are logged (outside the
        // request's span).
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::DEBUG))
                .on_response(DefaultOnResponse::new().level(Level::DEBUG)),
        )
        .with_state(state)
}

/// Serves [`router`] on `listener` until `shutdown` completes, then shuts down gracefully:
/// no new connections are taken, requests in flight (an append waiting for its batch) finish,
/// and the store is closed, which flushes it.
///
/// Connections are bounded ([`ServerConfig::connections_max`]); one that takes longer than
/// [`ServerConfig::header_read_timeout`] to send a request's headers, or stays idle between
/// requests that long, is closed; so is one whose client stops taking an answer for
/// [`ServerConfig::send_timeout`].
///
/// # Errors
/// The store's failure to close (as an I/O error).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = state.store.clone();
    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, "serving the Hisaab API");
    }
    let config = state.config.clone();
    conn::serve_connections(listener, router(state), &config, shutdown).await;
    tracing::info!("stopped taking requests; closing the store");
    // Closing joins the sequencer thread and flushes sled: blocking work.
    let closed = tokio::task::spawn_blocking(move || store.close()).await;
    match closed {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(std::io::Error::other(error.to_string())),
        Err(join_error) => Err(std::io::Error::other(join_error.to_string())),
    }
}

/// A panic in a handler is a bug: it is logged by the panic hook, and the client gets a 500
/// in the error shape with nothing of the panic's message.
fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a handler panicked");
    let mut response = ApiError::Internal.into_response();
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}
