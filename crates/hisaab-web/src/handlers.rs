//! The page handlers: parse the query, build (or take from the cache) the view on a blocking
//! thread, and render it. Bad input gets a 400 page saying why; nothing is ever a 500 for it.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use hisaab_log::Date;

use crate::pages::Cases;
use crate::view::Here;
use crate::{assets, blocking, csv, pages, Reader, View, Web, WebError};

/// What a page was asked: its path and its query's parameters (or why the query does not
/// parse).
pub(crate) struct Params {
    path: String,
    query: Result<BTreeMap<String, String>, String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Params {
            path: parts.uri.path().to_owned(),
            query: Query::<BTreeMap<String, String>>::try_from_uri(&parts.uri)
                .map(|Query(q)| q)
                .map_err(|e| e.body_text()),
        })
    }
}

/// The query's parameters, or a 400 for a query that does not parse.
fn params(query: Params) -> Result<(String, BTreeMap<String, String>), WebError> {
    query
        .query
        .map(|q| (query.path, q))
        .map_err(|e| WebError::BadRequest(format!("the query does not parse: {e}")))
}

/// `as_of_date`: a real date `YYYY-MM-DD`.
fn as_of_date(params: &BTreeMap<String, String>) -> Result<Option<Date>, WebError> {
    match params.get("as_of_date").map(String::as_str) {
        None | Some("") => Ok(None),
        Some(text) => Date::try_parse(text).map(Some).map_err(|_| {
            WebError::BadRequest(format!(
                "as_of_date must be a real date YYYY-MM-DD (the ledger as recorded up to the end \
                 of that day), not {:?}",
                text.chars().take(40).collect::<String>()
            ))
        }),
    }
}

/// `as_of`: a tree size, at least 1.
fn as_of(params: &BTreeMap<String, String>) -> Result<Option<u64>, WebError> {
    match params.get("as_of").map(String::as_str) {
        None | Some("") => Ok(None),
        Some(text) => match text.parse::<u64>() {
            Ok(n) if n >= 1 => Ok(Some(n)),
            _ => Err(WebError::BadRequest(format!(
                "as_of must be a tree size, a whole number from 1, not {:?}",
                text.chars().take(40).collect::<String>()
            ))),
        },
    }
}

/// A non-negative whole number parameter.
fn number(params: &BTreeMap<String, String>, name: &str) -> Result<Option<u64>, WebError> {
    match params.get(name).map(String::as_str) {
        None | Some("") => Ok(None),
        Some(text) => text.parse::<u64>().map(Some).map_err(|_| {
            WebError::BadRequest(format!(
                "{name} must be a whole number, not {:?}",
                text.chars().take(40).collect::<String>()
            ))
        }),
    }
}

/// Runs `render` on the view the query asks for, on a blocking thread.
async fn page<F>(web: Arc<Web>, reader: Reader, query: Params, render: F) -> Response
where
    F: FnOnce(&Web, &View, &Reader, &BTreeMap<String, String>) -> Result<Response, WebError>
        + Send
        + 'static,
{
    let result = blocking::run_blocking(
        move || {
            let (path, params) = params(query)?;
            let view = web.page_view(as_of(&params)?, as_of_date(&params)?)?;
            let mut view = view.for_reader(&reader.class);
            view.here = Here::new(&path, &params);
            render(&web, &view, &reader, &params)
        },
        // Nobody waits for the page any more: whatever is answered is not read.
        || Err(WebError::Busy),
    )
    .await;
    match result {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => error_response(&error),
        Err(join) => {
            tracing::error!(%join, "a page's rendering failed");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
        }
    }
}

fn html(markup: maud::Markup) -> Result<Response, WebError> {
    Ok(Html(markup.into_string()).into_response())
}

fn error_response(error: &WebError) -> Response {
    match error {
        WebError::BadRequest(message) => error_page(StatusCode::BAD_REQUEST, message),
        WebError::NotFound(message) => error_page(StatusCode::NOT_FOUND, message),
        WebError::Busy => {
            let mut response = error_page(StatusCode::SERVICE_UNAVAILABLE, &error.to_string());
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        WebError::Store(store) if store.is_storage_failure() => {
            tracing::error!(%store, "storage failed while rendering a page");
            error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "the ledger's storage failed; try again later",
            )
        }
        WebError::Store(store) => {
            tracing::error!(%store, "the store failed while rendering a page");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the ledger could not be read",
            )
        }
    }
}

fn error_page(status: StatusCode, message: &str) -> Response {
    (status, Html(pages::error(status, message).into_string())).into_response()
}

/// `GET /`: the sector overview.
pub(crate) async fn overview(
    State(web): State<Arc<Web>>,
    reader: Reader,
    query: Params,
) -> Response {
    page(web, reader, query, |_, view, reader, _| {
        html(pages::overview(view, reader))
    })
    .await
}

/// `GET /app/operators/{operator}`: an operator's scorecard.
pub(crate) async fn scorecard(
    State(web): State<Arc<Web>>,
    Path(operator): Path<String>,
    reader: Reader,
    query: Params,
) -> Response {
    page(web, reader, query, move |web, view, reader, _| {
        known_operator(view, &operator)?;
        html(pages::scorecard(web.store(), view, reader, &operator)?)
    })
    .await
}

/// `GET /app/operators/{operator}/kpis/{kpi}`: every entry about the pair.
pub(crate) async fn kpi_history(
    State(web): State<Arc<Web>>,
    Path((operator, kpi)): Path<(String, String)>,
    reader: Reader,
    query: Params,
) -> Response {
    page(web, reader, query, move |web, view, reader, _| {
        known_operator(view, &operator)?;
        let assigned = view
            .state
            .operators
            .iter()
            .find(|(id, _)| id.as_str() == operator)
            .is_some_and(|(_, o)| o.kpis.keys().any(|k| k.as_str() == kpi));
        if !assigned {
            return Err(WebError::NotFound(format!(
                "{operator} has no KPI {:?} assigned at size {}",
                kpi.chars().take(40).collect::<String>(),
                view.size
            )));
        }
        html(pages::kpi_history(
            web.store(),
            view,
            reader,
            &operator,
            &kpi,
        )?)
    })
    .await
}

fn known_operator(view: &View, operator: &str) -> Result<(), WebError> {
    if view
        .state
        .operators
        .keys()
        .any(|id| id.as_str() == operator)
    {
        Ok(())
    } else {
        Err(WebError::NotFound(format!(
            "no operator {:?} at size {}",
            operator.chars().take(40).collect::<String>(),
            view.size
        )))
    }
}

/// `GET /app/commitments`: who owes what by when.
pub(crate) async fn commitments(
    State(web): State<Arc<Web>>,
    reader: Reader,
    query: Params,
) -> Response {
    page(web, reader, query, |web, view, reader, params| {
        let operator = params.get("operator").filter(|o| !o.is_empty()).cloned();
        if let Some(operator) = &operator {
            known_operator(view, operator)?;
        }
        let status = params.get("status").filter(|s| !s.is_empty()).cloned();
        if let Some(status) = &status {
            if !pages::COMMITMENT_FILTERS.contains(&status.as_str()) {
                return Err(WebError::BadRequest(format!(
                    "status must be one of {}, not {:?}",
                    pages::COMMITMENT_FILTERS.join(", "),
                    status.chars().take(40).collect::<String>()
                )));
            }
        }
        html(pages::commitments(
            web.store(),
            view,
            reader,
            operator.as_deref(),
            status.as_deref(),
        )?)
    })
    .await
}

/// `GET /app/meetings`.
pub(crate) async fn meetings(
    State(web): State<Arc<Web>>,
    reader: Reader,
    query: Params,
) -> Response {
    page(web, reader, query, |web, view, reader, _| {
        html(pages::meetings(web.store(), view, reader)?)
    })
    .await
}

/// `GET /app/directives?operator=`: every directive and action item, overdue first.
pub(crate) async fn directives(
    State(web): State<Arc<Web>>,
    reader: Reader,
    query: Params,
) -> Response {
    page(web, reader, query, |_, view, reader, params| {
        let operator = params.get("operator").filter(|o| !o.is_empty()).cloned();
        if let Some(operator) = &operator {
            known_operator(view, operator)?;
        }
        html(pages::directives(view, reader, operator.as_deref()))
    })
    .await
}

/// `GET /app/disputes`: the disputes register.
pub(crate) async fn disputes(
    State(web): State<Arc<Web>>,
    reader: Reader,
    query: Params,
) -> Response {
    register(web, reader, query, Cases::Disputes).await
}

/// `GET /app/disputes/{dispute}`: one dispute.
pub(crate) async fn dispute(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    reader: Reader,
    query: Params,
) -> Response {
    case(web, reader, query, Cases::Disputes, id).await
}

/// `GET /app/challenges`: the challenges register.
pub(crate) async fn challenges(
    State(web): State<Arc<Web>>,
    reader: Reader,
    query: Params,
) -> Response {
    register(web, reader, query, Cases::Challenges).await
}

/// `GET /app/challenges/{challenge}`: one challenge.
pub(crate) async fn challenge(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    reader: Reader,
    query: Params,
) -> Response {
    case(web, reader, query, Cases::Challenges, id).await
}

/// A register of cases.
async fn register(web: Arc<Web>, reader: Reader, query: Params, which: Cases) -> Response {
    page(web, reader, query, move |web, view, reader, _| {
        html(pages::register(web.store(), view, reader, which)?)
    })
    .await
}

/// A dispute's or a challenge's page, or a 404 naming what was asked.
async fn case(web: Arc<Web>, reader: Reader, query: Params, which: Cases, id: String) -> Response {
    page(
        web,
        reader,
        query,
        move |web, view, reader, _| match which.find(view, &id) {
            Some(found) => html(pages::case(web.store(), view, reader, &found)?),
            None => Err(WebError::NotFound(format!(
                "no {} {:?} at size {}",
                which.kind(),
                id.chars().take(40).collect::<String>(),
                view.size
            ))),
        },
    )
    .await
}

/// `GET /app/pack`: the monthly meeting pack.
pub(crate) async fn pack(State(web): State<Arc<Web>>, reader: Reader, query: Params) -> Response {
    page(web, reader, query, |web, view, reader, _| {
        html(pages::pack(web.store(), view, reader)?)
    })
    .await
}

/// `GET /app/pack/{table}.csv`.
pub(crate) async fn pack_csv(
    State(web): State<Arc<Web>>,
    Path(table): Path<String>,
    reader: Reader,
    query: Params,
) -> Response {
    page(web, reader, query, move |web, view, _, _| {
        let name = table.strip_suffix(".csv").unwrap_or(&table);
        let Some(table) = csv::Table::from_name(name) else {
            return Err(WebError::NotFound(format!(
                "no table {:?}; the pack's tables are {}",
                table.chars().take(40).collect::<String>(),
                csv::Table::ALL.map(csv::Table::name).join(", ")
            )));
        };
        let body = csv::render(web.store(), view, table)?;
        let disposition = format!(
            "attachment; filename=\"hisaab-{}-size-{}.csv\"",
            table.name(),
            view.size
        );
        let mut response = body.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        if let Ok(value) = HeaderValue::from_str(&disposition) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
        Ok(response)
    })
    .await
}

/// `GET /app/ledger`: the ledger explorer.
pub(crate) async fn ledger(State(web): State<Arc<Web>>, reader: Reader, query: Params) -> Response {
    page(web, reader, query, |web, view, reader, params| {
        let start = number(params, "start")?;
        html(pages::ledger(web.store(), view, reader, start)?)
    })
    .await
}

/// `GET /app/entries/{seq}`: one entry.
pub(crate) async fn entry(
    State(web): State<Arc<Web>>,
    Path(seq): Path<String>,
    reader: Reader,
    query: Params,
) -> Response {
    page(web, reader, query, move |web, view, reader, _| {
        let seq = seq.parse::<u64>().map_err(|_| {
            WebError::BadRequest(format!(
                "an entry is named by its seq, a whole number, not {:?}",
                seq.chars().take(40).collect::<String>()
            ))
        })?;
        if seq >= view.size {
            return Err(WebError::NotFound(format!(
                "no entry {seq}: the tree of size {} holds seqs 0 to {}",
                view.size,
                view.size.saturating_sub(1)
            )));
        }
        html(pages::entry(web.store(), view, reader, seq)?)
    })
    .await
}

/// `GET /app/verify`.
pub(crate) async fn verify(State(web): State<Arc<Web>>, reader: Reader, query: Params) -> Response {
    page(web, reader, query, |_, view, reader, _| {
        html(pages::verify(view, reader))
    })
    .await
}

/// `GET /app/signin`: signing in with a key file, in the browser.
pub(crate) async fn signin(State(web): State<Arc<Web>>, reader: Reader, query: Params) -> Response {
    page(web, reader, query, |_, view, reader, _| {
        html(pages::signin(view, reader))
    })
    .await
}

/// `GET /app/assets/{name}`: an embedded file, cached for a year (its name changes with it).
pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    match assets::find(&name) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            asset.body,
        )
            .into_response(),
        None => error_page(StatusCode::NOT_FOUND, "no such asset"),
    }
}
