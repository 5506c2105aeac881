//! The bound on requests in flight and the request timeout.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, Request, StatusCode};
use hisaab_server::{ServerConfig, RETRY_AFTER_SECONDS};
use tokio::sync::oneshot;

use crate::common::Fixture;

/// A request whose body tells `started` when it is first read, then waits for `release`.
fn held_request(started: oneshot::Sender<()>, release: oneshot::Receiver<()>) -> Request<Body> {
    let state = (Some(started), Some(release));
    let stream = futures_util::stream::unfold(state, |(started, release)| async move {
        if let Some(started) = started {
            let _ = started.send(());
        }
        let release = release?;
        let _ = release.await;
        Some((
            Ok::<_, std::io::Error>(Bytes::from_static(b"{}")),
            (None, None),
        ))
    });
    Request::post("/v1/statements")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(stream))
        .unwrap()
}

#[tokio::test]
async fn appends_and_reads_have_budgets_of_their_own_and_readyz_reports_saturation() {
    let f = Fixture::genesis();
    let app = f.app_with(
        ServerConfig::default()
            .with_appends_in_flight_max(1)
            .with_in_flight_max(1),
    );
    assert_eq!(app.get("/readyz").await.json()["status"], "ready");
    let (started, is_started) = oneshot::channel();
    let (release, released) = oneshot::channel();
    let router = app.router.clone();
    let slow = tokio::spawn(async move {
        use tower::ServiceExt;
        router
            .oneshot(held_request(started, released))
            .await
            .unwrap()
    });
    // The first append holds the only append slot while its body is being read.
    is_started.await.unwrap();
    let answer = app.post_json("/v1/statements", b"{}".to_vec()).await;
    answer.assert_error(503, "overloaded");
    assert_eq!(
        answer.headers.get(header::RETRY_AFTER).unwrap(),
        &RETRY_AFTER_SECONDS.to_string()
    );
    // Reads have their own budget: a slow append does not starve them.
    assert_eq!(app.get("/v1/checkpoint").await.status, StatusCode::OK);
    // Liveness says the process answers; readiness says a budget is used up.
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
    let ready = app.get("/readyz").await;
    ready.assert_error(503, "saturated");
    assert!(ready.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("appends"));

    release.send(()).unwrap();
    let first = slow.await.unwrap();
    assert_eq!(first.status(), StatusCode::BAD_REQUEST);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text());
    assert_eq!(ready.json()["appends_free"], 1);
}

#[tokio::test]
async fn answers_503_when_a_request_takes_too_long() {
    let f = Fixture::genesis();
    let app = f.app_with(ServerConfig::default().with_request_timeout(Duration::from_millis(50)));
    let (started, _is_started) = oneshot::channel();
    let (_release, released) = oneshot::channel::<()>();
    let answer = app.send(held_request(started, released)).await;
    answer.assert_error(503, "timeout");
    assert!(answer.headers.get(header::RETRY_AFTER).is_some());
}
