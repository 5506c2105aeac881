//! Health, a small index page, and the fallbacks. (`/openapi.json` is served by
//! `crate::openapi`, which lists every handler.)

use axum::extract::State;
use axum::response::Html;
use axum::Json;

use crate::app::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::schema::{Health, Readiness};

/// Liveness and the ledger's size: the process answers. Not counted against any budget; see
/// `/readyz` for whether requests would be taken.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "meta",
    responses((status = 200, description = "The server answers.", body = Health))
)]
pub(crate) async fn healthz(State(app): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        size: app.store.size(),
    })
}

/// Readiness: 200 when both budgets of requests in flight (reads, appends) have room and the
/// storage takes writes; 503 `saturated` or `storage_failed` otherwise, so that a load balancer
/// can send traffic elsewhere and a supervisor can restart a server whose disk filled. Not
/// counted against any budget.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "meta",
    responses(
        (status = 200, description = "The server takes requests: free slots of each budget.",
            body = Readiness),
        (status = 503, description = "`saturated`: the reads' or the appends' budget of \
            requests in flight is used up; `storage_failed`: a write failed (a full disk), \
            appends are stopped until a restart.",
            body = ErrorBody),
    )
)]
pub(crate) async fn readyz(State(app): State<AppState>) -> Result<Json<Readiness>, ApiError> {
    if app.store.storage_failure().is_some() {
        return Err(ApiError::StorageFailed);
    }
    let reads = &app.budgets.reads;
    let appends = &app.budgets.appends;
    let saturated: Vec<&str> = [("reads", reads), ("appends", appends)]
        .into_iter()
        .filter(|(_, budget)| budget.is_saturated())
        .map(|(name, _)| name)
        .collect();
    if !saturated.is_empty() {
        return Err(ApiError::Saturated {
            message: format!(
                "every slot of the {} budget is taken; retry shortly",
                saturated.join(" and ")
            ),
        });
    }
    let free = |budget: &crate::limit::Limits| {
        u64::try_from(budget.permits.available_permits()).unwrap_or(u64::MAX)
    };
    Ok(Json(Readiness {
        status: "ready".to_owned(),
        size: app.store.size(),
        reads_free: free(reads),
        appends_free: free(appends),
    }))
}

/// A small HTML page: the latest checkpoint and links to the API.
#[utoipa::path(
    get,
    path = "/",
    tag = "meta",
    responses((status = 200, description = "An HTML page for people.", body = String,
        content_type = "text/html"))
)]
pub(crate) async fn index(State(app): State<AppState>) -> Result<Html<String>, ApiError> {
    let size = app.store.size();
    let note = app.store.latest_checkpoint().note;
    let checkpoint = if note.is_empty() {
        "(the ledger is empty)".to_owned()
    } else {
        escape_html(&note)
    };
    Ok(Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hisaab ledger</title>
<style>body{{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}}
pre{{background:#f4f4f4;padding:1rem;overflow-x:auto}}</style></head>
<body><h1>Hisaab</h1>
<p>A tamper-evident accountability ledger of the Telecom Cyber Security Task Force.
It holds <strong>{size}</strong> entries.</p>
<h2>Latest checkpoint</h2><pre>{checkpoint}</pre>
<h2>API</h2><ul>
<li><a href="/v1/checkpoint">/v1/checkpoint</a>: the latest signed checkpoint</li>
<li><a href="/v1/entries?start=0&amp;limit=10">/v1/entries</a>: entries as JSON Lines</li>
<li><a href="/v1/state">/v1/state</a>: operators' KPIs, scores and commitments</li>
<li><a href="/v1/bundle">/v1/bundle</a>: everything, to verify offline</li>
<li><a href="/openapi.json">/openapi.json</a>: the OpenAPI description</li>
</ul></body></html>
"#
    )))
}

/// Any path the API does not have: 404 `not_found` in the error shape.
pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; GET /openapi.json lists them")
}

/// A method a path does not take: 405 `method_not_allowed` in the error shape.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
