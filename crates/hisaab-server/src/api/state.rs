//! `GET /v1/state`: the projection of SPEC §5 at a tree size and date.

use axum::extract::State;
use axum::response::Response;
use hisaab_log::jcs;
use hisaab_model::view::{view_state, Reader};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{bytes_response, projection_point, JSON};
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::Query;
use crate::reader::{private, ReaderOf};
use crate::schema;
use crate::schema::doc;

/// The query of `GET /v1/state`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StateQuery {
    /// The tree size to project, 1 to the ledger's size (default: all entries), in plain
    /// decimal digits.
    #[serde(default, deserialize_with = "crate::extract::decimal::optional")]
    #[schemars(range(min = 1, max = "schema::INTEGER_MAX"))]
    as_of: Option<u64>,
    /// The date that is the clock for "overdue", `YYYY-MM-DD` (default: the date of the last
    /// entry's `recorded_at`).
    #[schemars(regex = "schema::DATE_PATTERN")]
    at: Option<String>,
    /// Instead of `as_of`: the ledger as recorded up to the end of this date, `YYYY-MM-DD`,
    /// which is then also the default `at` (SPEC §11.5).
    #[schemars(regex = "schema::DATE_PATTERN")]
    as_of_date: Option<String>,
}

schema::parameters_of! {
    StateQuery => Query,
}

/// The state of SPEC §5, served as canonical JSON (its `digest` covers the rest).
#[utoipa::path(
    get,
    path = "/v1/state",
    tag = "state",
    params(StateQuery),
    responses(
        (status = 200, description = "The state as the reader may see it (SPEC §13.3), as \
            canonical JSON (RFC 8785); its digest is that of what is served.",
            body = doc::State),
        (status = 400, description = "`bad_query`: a parameter is unknown, `as_of` is not an \
            integer from 1 to 2^53 - 1, `at` or `as_of_date` not a real \
            date.", body = doc::ErrorBody),
        (status = 404, description = "`tree_size_out_of_range`: `as_of` is beyond the \
            ledger's size, or nothing was recorded by `as_of_date`.", body = doc::ErrorBody),
        (status = 401, description = "Credentials were sent and do not hold (SPEC §13): \
            `bad_request_signature`, `stale_request`, `replayed_request`, `unknown_reader`, \
            `revoked_reader`, `session_expired` or `bad_credentials`. Without credentials the \
            request reads as the public.", body = doc::ErrorBody),
        (status = 503, description = "`ledger_empty`, `overloaded` (every request slot or \
            every projection rebuild slot is taken), `timeout` or `unavailable`.",
            body = doc::ErrorBody),
    )
)]
pub(crate) async fn state(
    State(app): State<AppState>,
    ReaderOf(reader): ReaderOf,
    Query(query): Query<StateQuery>,
) -> Result<Response, ApiError> {
    let (tree_size, at) = projection_point(
        &app,
        query.as_of,
        query.as_of_date.as_deref(),
        query.at.as_deref(),
    )
    .await?;
    // Cached per tree size and date: repeated requests cost a look-up, not a replay.
    let projection = app.projections.get(&app.store, tree_size, at).await?;
    // A full reader gets the state itself; others the view of SPEC §13.3, with its own digest.
    let body = if reader == Reader::Full {
        projection.canonical.clone()
    } else {
        jcs::to_canonical(&view_state(&projection.state, &reader))
            .map_err(|error| ApiError::internal("state view to JSON", &error))?
    };
    Ok(private(bytes_response(JSON, body)))
}
