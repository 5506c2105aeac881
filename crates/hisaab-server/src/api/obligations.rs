//! `GET /v1/obligations`: who owes what by when (SPEC §11.4), at a tree size and date.

use axum::extract::State;
use axum::Json;
use hisaab_api::{Obligation, ObligationKind, Obligations, OwedBy};
use hisaab_model::{ObligationFilter, Slug};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{blocking, projection_point};
use crate::app::AppState;
use crate::error::{short, ApiError, ErrorBody};
use crate::extract::Query;
use crate::schema;

/// The query of `GET /v1/obligations`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ObligationsQuery {
    /// Only the obligations concerning or owed by this operator.
    #[param(pattern = "^[a-z0-9][a-z0-9-]{0,62}$")]
    operator: Option<String>,
    /// Only the obligations this member owes (their operator's, or their roles' where they
    /// are not affiliated with the operator concerned).
    #[param(pattern = "^[a-z0-9][a-z0-9-]{0,62}$")]
    member: Option<String>,
    /// The date that decides what is due and late, `YYYY-MM-DD` (default: the date of the
    /// last entry's `recorded_at`).
    #[param(schema_with = schema::date)]
    at: Option<String>,
    /// The tree size to take them at, 1 to the ledger's size (default: all entries).
    #[serde(default, deserialize_with = "crate::extract::decimal::optional")]
    #[param(minimum = 1, maximum = 9_007_199_254_740_991_u64)]
    as_of: Option<u64>,
    /// Instead of `as_of`: the ledger as recorded up to the end of this date, `YYYY-MM-DD`,
    /// which is then also the default `at`.
    #[param(schema_with = schema::date)]
    as_of_date: Option<String>,
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
            body = Obligations),
        (status = 400, description = "`bad_query`: a parameter is unknown or ill-formed, \
            `as_of` is not an integer from 1 to 2^53 - 1, `at` or `as_of_date` not a real date.",
            body = ErrorBody),
        (status = 404, description = "`tree_size_out_of_range`: `as_of` is beyond the \
            ledger's size or nothing was recorded by `as_of_date`; `not_found`: no such \
            operator or member.", body = ErrorBody),
        (status = 503, description = "`ledger_empty`, `overloaded`, `timeout` or \
            `unavailable`.", body = ErrorBody),
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
    Ok(Json(wire(obligations)))
}

/// The model's obligations as the wire document.
fn wire(obligations: hisaab_model::Obligations) -> Obligations {
    Obligations {
        ledger: obligations.ledger,
        size: obligations.size,
        at: obligations.at,
        items: obligations
            .items
            .into_iter()
            .map(|item| Obligation {
                kind: match item.kind {
                    hisaab_model::ObligationKind::Report => ObligationKind::Report,
                    hisaab_model::ObligationKind::Evaluation => ObligationKind::Evaluation,
                    hisaab_model::ObligationKind::Commitment => ObligationKind::Commitment,
                    hisaab_model::ObligationKind::Dispute => ObligationKind::Dispute,
                    hisaab_model::ObligationKind::Challenge => ObligationKind::Challenge,
                    hisaab_model::ObligationKind::Action => ObligationKind::Action,
                    hisaab_model::ObligationKind::Directive => ObligationKind::Directive,
                },
                owed_by: match item.owed_by {
                    hisaab_model::OwedBy::Operator { operator } => OwedBy::Operator {
                        operator: operator.as_str().to_owned(),
                    },
                    hisaab_model::OwedBy::Roles { roles } => OwedBy::Roles {
                        roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
                    },
                    hisaab_model::OwedBy::Member { member } => OwedBy::Member {
                        member: member.as_str().to_owned(),
                    },
                },
                operator: item.operator.map(|s| s.as_str().to_owned()),
                kpi: item.kpi.map(|k| k.as_str().to_owned()),
                period: item.period,
                submission: item.submission,
                id: item.id.map(|s| s.as_str().to_owned()),
                escalation: item.escalation.map(|s| s.as_str().to_owned()),
                due: item.due,
                days_late: item.days_late,
            })
            .collect(),
    }
}
