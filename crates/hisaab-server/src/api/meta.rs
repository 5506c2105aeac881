//! Health, a small index page, and the fallbacks. (`/openapi.json` is served by
//! `crate::openapi`, which lists every handler.)

use axum::extract::State;
use axum::Json;

use crate::app::AppState;
use crate::error::ApiError;
use crate::schema::doc;
use crate::schema::{Health, Readiness};

/// Liveness and the ledger's size: the process answers. Not counted against any budget; see
/// `/readyz` for whether requests would be taken.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "meta",
    responses((status = 200, description = "The server answers.", body = doc::Health))
)]
pub(crate) async fn healthz(State(app): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        size: app.store.size(),
    })
}

/// Readiness: 200 when both budgets of requests in flight (reads, appends) have room and the
/// storage takes writes; 503 `saturated` or `storage_failed` otherwise, so that a load balancer
/// can send traffic elsewhere while the server is saturated or its store reopens after a
/// failed write (a full disk: it reopens in place once space returns). Not counted against
/// any budget.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "meta",
    responses(
        (status = 200, description = "The server takes requests: free slots of each budget.",
            body = doc::Readiness),
        (status = 503, description = "`saturated`: the reads' or the appends' budget of \
            requests in flight is used up; `storage_failed`: a write failed (a full disk), \
            appends are stopped until the store has reopened, once space returns.",
            body = doc::ErrorBody),
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

/// The sector overview, an HTML page for people. The route is the web app's
/// (`hisaab_web::router`); this function only carries its entry in the description.
#[utoipa::path(
    get,
    path = "/",
    tag = "meta",
    responses((status = 200, description = "An HTML page for people: the sector overview.",
        body = String, content_type = "text/html"))
)]
#[allow(dead_code)] // Described here, served by hisaab-web.
pub(crate) async fn index() {}

/// Any path the API does not have: 404 `not_found` in the error shape.
pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; GET /openapi.json lists them")
}

/// A method a path does not take: 405 `method_not_allowed` in the error shape.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
