//! How long each page takes to render on the server, over a real store of the demo ledger
//! (twelve months, five operators): through the router with the view cached (every request
//! after the first at a size), the rendering alone, and a cold view (the first request after
//! a start: the month-end series replays the whole log once, the view replays from the
//! nearest snapshot).
//!
//! `cargo bench -p hisaab-web --bench pages -- --warm-up-time 1 --measurement-time 2`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use criterion::{criterion_group, criterion_main, Criterion};
use hisaab_web::{pages, Reader, Web};
use tower::ServiceExt as _;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = support::demo_store(&dir.path().join("ledger"), 12);
    let web = Web::new(store.clone());
    let view = web.view(None).unwrap();
    let (operator, state) = view.state.operators.iter().next().unwrap();
    let kpi = state.kpis.keys().next().unwrap().to_string();
    let operator = operator.to_string();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mid = view.size / 2;
    let paths = [
        ("overview", "/".to_owned()),
        ("scorecard", format!("/app/operators/{operator}")),
        (
            "kpi_history",
            format!("/app/operators/{operator}/kpis/{kpi}"),
        ),
        ("commitments", "/app/commitments".to_owned()),
        ("meetings", "/app/meetings".to_owned()),
        ("pack", "/app/pack".to_owned()),
        ("pack_csv", "/app/pack/kpis.csv".to_owned()),
        ("ledger", "/app/ledger".to_owned()),
        ("entry", "/app/entries/100".to_owned()),
        ("verify", "/app/verify".to_owned()),
        ("overview_as_of", format!("/?as_of={mid}")),
    ];
    let mut group = c.benchmark_group(format!("page ({} entries, view cached)", view.size));
    for (name, path) in &paths {
        group.bench_function(*name, |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let router: axum::Router = hisaab_web::router(Arc::clone(&web));
                    let response = router
                        .oneshot(Request::get(path.as_str()).body(Body::empty()).unwrap())
                        .await
                        .unwrap();
                    assert_eq!(response.status(), StatusCode::OK);
                    axum::body::to_bytes(response.into_body(), usize::MAX)
                        .await
                        .unwrap()
                })
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("render only");
    group.bench_function("overview", |b| {
        b.iter(|| pages::overview(&view, &Reader::PUBLIC).into_string())
    });
    group.bench_function("verify", |b| {
        b.iter(|| pages::verify(&view, &Reader::PUBLIC).into_string())
    });
    group.finish();

    let mut group = c.benchmark_group("cold view");
    group.sample_size(10);
    group.bench_function("first request after a start (series and view built)", |b| {
        b.iter(|| Web::new(store.clone()).view(None).unwrap().size)
    });
    group.bench_function("view at a new size (series kept)", |b| {
        let mut size = 1;
        b.iter(|| {
            // A size not yet cached: each iteration asks for another.
            size = size % view.size + 1;
            web.view(Some(size)).unwrap().size
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
