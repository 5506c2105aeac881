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

/// Opens a connection from `local` (a loopback address) to `server`, sends the head of an
/// append and two bytes of its body, and keeps it open: the append holds its slot while the
/// server waits for the rest of the body.
async fn held_append(local: &str, server: std::net::SocketAddr) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{local}:0").parse().unwrap()).unwrap();
    let mut stream = socket.connect(server).await.unwrap();
    stream
        .write_all(
            b"POST /v1/statements HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"",
        )
        .await
        .unwrap();
    stream
}

/// Sends one bad append (`{}`) from `local` and answers its status and error code.
async fn append_status(local: &str, server: std::net::SocketAddr) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{local}:0").parse().unwrap()).unwrap();
    let mut stream = socket.connect(server).await.unwrap();
    stream
        .write_all(
            b"POST /v1/statements HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 2\r\nConnection: close\r\n\r\n{}",
        )
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let status = answer
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    let code = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|error| error["error"]["code"].as_str().map(str::to_owned))
        .unwrap_or_default();
    (status, code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_holds_at_most_its_share_of_the_budget_and_others_are_still_served() {
    let f = Fixture::genesis();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    // Four append slots, half of them (two) for one client.
    let config = ServerConfig::default()
        .with_appends_in_flight_max(4)
        .with_client_share_percent(50);
    let state = AppState::new(f.store.clone(), config);
    let server = tokio::spawn(serve(listener, state, async {
        let _ = stopped.await;
    }));

    let first = held_append("127.0.0.1", address).await;
    let second = held_append("127.0.0.1", address).await;
    // Wait until the server holds both: a third append of the same client is then refused.
    // (Up to 10 s: the workspace's tests share two cores.)
    let mut refused = (0, String::new());
    for _ in 0..500 {
        refused = append_status("127.0.0.1", address).await;
        if refused.0 == 503 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(refused, (503, "overloaded".to_owned()));
    // Another client still has slots: its bad append is read and refused for what it is.
    assert_eq!(
        append_status("127.0.0.2", address).await,
        (400, "malformed_envelope".to_owned())
    );
    // The first client gets a slot back when one of its requests ends.
    drop(first);
    let mut after = (0, String::new());
    for _ in 0..500 {
        after = append_status("127.0.0.1", address).await;
        if after.0 != 503 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(after, (400, "malformed_envelope".to_owned()));

    stop.send(()).unwrap();
    drop(second);
    server.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_holds_at_most_its_share_of_the_connections() {
    use tokio::io::AsyncReadExt;
    let f = Fixture::genesis();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    // Four connections, two of them for one client.
    let config = ServerConfig::default()
        .with_connections_max(4)
        .with_client_share_percent(50);
    let state = AppState::new(f.store.clone(), config);
    let server = tokio::spawn(serve(listener, state, async {
        let _ = stopped.await;
    }));
    let idle = |local: &'static str| async move {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{local}:0").parse().unwrap()).unwrap();
        socket.connect(address).await.unwrap()
    };
    let first = idle("127.0.0.1").await;
    let second = idle("127.0.0.1").await;
    // The third connection of the same client is closed at once, without an answer.
    let mut third = idle("127.0.0.1").await;
    let mut buffer = [0_u8; 16];
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), third.read(&mut buffer))
        .await
        .expect("the server closes the connection at once");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "closed without an answer: {read:?}"
    );
    // Another client still connects and is answered.
    assert_eq!(
        append_status("127.0.0.2", address).await,
        (400, "malformed_envelope".to_owned())
    );
    drop((first, second));
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
