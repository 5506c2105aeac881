//! The real server on a loopback socket: requests with a real HTTP client, graceful shutdown,
//! and the data intact when the store is opened again.

use std::sync::Arc;

use hisaab_server::{serve, AppState, ServerConfig};
use hisaab_store::{ManualClock, Store};
use hisaab_testkit::{key, seed};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::common::{json_text, store_config, Fixture, T0_MS};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_on_a_socket_and_shuts_down_gracefully_with_data_intact() {
    let mut f = Fixture::standard().await;
    let envelope = f.envelope(
        seed::CISO_INDUS,
        "submission.filed",
        hisaab_testkit::submission("indus", "CR-01", "2026-10", "97.5"),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let state = AppState::new(f.store.clone(), ServerConfig::default());
    let server = tokio::spawn(serve(listener, state, async {
        let _ = stopped.await;
    }));

    let client = reqwest::Client::new();
    let base = format!("http://{address}");
    let answer = client
        .post(format!("{base}/v1/statements"))
        .header("content-type", "application/json")
        .body(json_text(&envelope))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 201);
    let receipt: serde_json::Value = answer.json().await.unwrap();
    let seq = receipt["seq"].as_u64().unwrap();
    let health: serde_json::Value = client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["size"].as_u64().unwrap(), seq + 1);
    let mut signed = client.get(format!("{base}/v1/entries/{seq}"));
    for (name, value) in
        crate::common::signed_headers(seed::AUTHORITY, "pta", "GET", &format!("/v1/entries/{seq}"))
    {
        signed = signed.header(name, value);
    }
    let leaf = signed.send().await.unwrap().bytes().await.unwrap();
    let checkpoint = client
        .get(format!("{base}/v1/checkpoint"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let missing = client
        .get(format!("{base}/v1/entries/{}", seq + 1))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let error: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(error["error"]["code"], "not_found");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    // The store is closed: appends are refused, and it opens again with everything in it.
    let late = f.envelope(
        seed::CISO_KARAKORAM,
        "submission.filed",
        hisaab_testkit::submission("karakoram", "CR-01", "2026-10", "91"),
    );
    assert!(f.store.append(late).await.is_err());
    let Fixture { dir, store, .. } = f;
    drop(store);
    let reopened = tokio::task::spawn_blocking(move || {
        let store = Store::open(
            dir.path(),
            key(seed::LOG),
            store_config(),
            Arc::new(ManualClock::new(T0_MS)),
        )
        .unwrap();
        (dir, store)
    })
    .await
    .unwrap();
    let (_dir, store) = reopened;
    assert_eq!(store.size(), seq + 1);
    assert_eq!(store.entry_bytes(seq).unwrap().unwrap(), leaf.to_vec());
    assert_eq!(store.latest_checkpoint().note, checkpoint);
}
