//! `GET /v1/obligations`: who owes what by when (SPEC §11.4), at a tree size and date.

use axum::extract::State;
use axum::Json;
use hisaab_api::Obligations;
use hisaab_model::{ObligationFilter, Slug};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{blocking, projection_point};
use crate::app::AppState;
use crate::error::{short, ApiError};
use crate::extract::Query;
use crate::schema;
use crate::schema::doc;

/// The query of `GET /v1/obligations`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ObligationsQuery {
    /// Only the obligations concerning or owed by this operator.
    #[schemars(regex(pattern = "^[a-z0-9][a-z0-9-]{0,62}$"))]
    operator: Option<String>,
    /// Only the obligations this member owes (their operator's, or their roles' where they
    /// are not affiliated with the operator concerned).
    #[schemars(regex(pattern = "^[a-z0-9][a-z0-9-]{0,62}$"))]
    member: Option<String>,
    /// The date that decides what is due and late, `YYYY-MM-DD` (default: the date of the
    /// last entry's `recorded_at`).
    #[schemars(regex = "schema::DATE_PATTERN")]
    at: Option<String>,
    /// The tree size to take them at, 1 to the ledger's size (default: all entries).
    #[serde(default, deserialize_with = "crate::extract::decimal::optional")]
    #[schemars(range(min = 1, max = "schema::INTEGER_MAX"))]
    as_of: Option<u64>,
    /// Instead of `as_of`: the ledger as recorded up to the end of this date, `YYYY-MM-DD`,
    /// which is then also the default `at`.
    #[schemars(regex = "schema::DATE_PATTERN")]
    as_of_date: Option<String>,
}

schema::parameters_of! {
    ObligationsQuery => Query,
}

/// Who owes what by when: missing reports, evaluations, commitments, disputes and challenges
/// waiting, each with who owes it, its due date and days late.
#[utoipa::path(
    get,
    path = "/v1/obligations",
    tag = "state",
    params(ObligationsQuery),
    responses(
        (status = 200, description = "The obligations, most days late first.",
            body = doc::Obligations),
        (status = 400, description = "`bad_query`: a parameter is unknown or ill-formed, \
            `as_of` is not an integer from 1 to 2^53 - 1, `at` or `as_of_date` not a real date.",
            body = doc::ErrorBody),
        (status = 404, description = "`tree_size_out_of_range`: `as_of` is beyond the \
            ledger's size or nothing was recorded by `as_of_date`; `not_found`: no such \
            operator or member.", body = doc::ErrorBody),
        (status = 503, description = "`ledger_empty`, `overloaded`, `timeout` or \
            `unavailable`.", body = doc::ErrorBody),
    )
)]
pub(crate) async fn obligations(
    State(app): State<AppState>,
    Query(query): Query<ObligationsQuery>,
) -> Result<Json<Obligations>, ApiError> {
    let slug = |name: &str, text: Option<&String>| {
        text.map(|text| {
            Slug::try_new(text).map_err(|_| {
                ApiError::bad_query(format!(
                    "{name} must be an id such as `indus`, found {:?}",
                    short(text)
                ))
            })
        })
        .transpose()
    };
    let filter = ObligationFilter {
        operator: slug("operator", query.operator.as_ref())?,
        member: slug("member", query.member.as_ref())?,
    };
    let (as_of, at) = projection_point(
        &app,
        query.as_of,
        query.as_of_date.as_deref(),
        query.at.as_deref(),
    )
    .await?;
    let obligations = blocking(move || {
        let ledger = app.store.ledger(Some(as_of)).map_err(ApiError::from)?;
        ledger
            .obligations(at, &filter)
            .map_err(|error| ApiError::not_found(error.to_string()))
    })
    .await?;
    Ok(Json(obligations))
}
