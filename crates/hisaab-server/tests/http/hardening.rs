//! What an attacker tried (issue 15 §4): unauthenticated work, downloads never read, idle and
//! half-sent connections, non-canonical numbers, `Expect: 100-continue`, and 414/431 answers.

use std::time::Duration;

use axum::http::StatusCode;
use hisaab_log::note::cosign_checkpoint;
use hisaab_server::{serve, AppState, ServerConfig};
use hisaab_testkit::{self as testing, key, seed};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tower::ServiceExt;

use crate::common::Fixture;

const TIMESTAMP_S: u64 = 1_793_491_300;
/// The bound on every wait for the server in these tests.
const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn junk_cosignatures_cost_no_replay_and_the_state_is_rebuilt_once_per_checkpoint() {
    let mut f = Fixture::standard().await;
    let app = f.app();
    // The 13-byte body of the attack: refused from the line alone.
    for _ in 0..20 {
        app.post("/v1/cosignatures", "text/plain", "\u{2014} nobody AAAA")
            .await
            .assert_error(400, "malformed_cosignature");
    }
    assert_eq!(app.state.projection_rebuilds(), 0);

    // Well-formed lines by a name that is no member: one rebuild for the checkpoint, shared.
    let note = app.get("/v1/checkpoint").await.text();
    let checkpoint = f.verify_checkpoint(&note);
    let line = cosign_checkpoint(&checkpoint, "nobody", &key(seed::WITNESS), TIMESTAMP_S).unwrap();
    for _ in 0..20 {
        app.post("/v1/cosignatures", "text/plain", line.clone())
            .await
            .assert_error(401, "unknown_witness");
    }
    assert_eq!(app.state.projection_rebuilds(), 1);

    // The latest state is the same projection: served from the cache, byte for byte.
    let first = app.get("/v1/state").await;
    assert_eq!(first.status, StatusCode::OK);
    for _ in 0..10 {
        assert_eq!(app.get("/v1/state").await.body, first.body);
    }
    assert_eq!(app.state.projection_rebuilds(), 1);

    // A new checkpoint is a new projection, once.
    f.append(
        seed::CISO_INDUS,
        "submission.filed",
        testing::submission("indus", "CR-01", "2026-10", "97.5"),
    )
    .await;
    let second = app.get("/v1/state").await;
    assert_eq!(second.status, StatusCode::OK);
    assert_ne!(second.body, first.body);
    assert_eq!(app.get("/v1/state").await.body, second.body);
    assert_eq!(app.state.projection_rebuilds(), 2);
}

#[tokio::test]
async fn numbers_in_paths_and_queries_are_plain_decimals() {
    let f = Fixture::standard().await;
    let app = f.app();
    assert_eq!(app.get("/v1/entries/5").await.status, StatusCode::OK);
    for path in [
        "/v1/entries/+5",
        "/v1/entries/05",
        "/v1/entries/01",
        "/v1/entries/-0",
    ] {
        app.get(path).await.assert_error(400, "bad_path");
    }
    for uri in [
        "/v1/entries?start=+1",
        "/v1/entries?limit=01",
        "/v1/state?as_of=+3",
        "/v1/bundle?tree_size=03",
        "/v1/proofs/inclusion?index=+0&tree_size=3",
        "/v1/proofs/consistency?from=1&to=+3",
        "/v1/history?operator=indus&kpi=CR-01&start=00",
    ] {
        app.get(uri).await.assert_error(400, "bad_query");
    }
    assert_eq!(
        app.get("/v1/proofs/inclusion?index=0&tree_size=3")
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_bundle_counts_against_the_reads_budget_until_its_body_is_dropped() {
    let f = Fixture::standard().await;
    let app = f.app_with(ServerConfig::default().with_in_flight_max(1));
    let download = app
        .router
        .clone()
        .oneshot(crate::common::signed_get(
            hisaab_testkit::seed::AUTHORITY,
            "pta",
            "/v1/bundle",
        ))
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    // Its headers are sent, but its body is not read: the slot is still taken.
    app.get("/v1/checkpoint")
        .await
        .assert_error(503, "overloaded");
    app.get("/readyz").await.assert_error(503, "saturated");
    drop(download);
    assert_eq!(app.get("/v1/checkpoint").await.status, StatusCode::OK);
}

/// A real server on loopback with `config`, stopped by the sender.
async fn spawn(
    f: &Fixture,
    config: ServerConfig,
) -> (
    std::net::SocketAddr,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let state = AppState::new(f.store.clone(), config);
    let server = tokio::spawn(serve(listener, state, async {
        let _ = stopped.await;
    }));
    (address, stop, server)
}

/// Reads until the server closes the connection (or `WAIT` passes, which fails the test).
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut out))
        .await
        .expect("the server should close the connection")
        .unwrap_or_default();
    out
}

/// Reads one answer's head and as much body as `Content-Length` says.
async fn read_answer(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let n = tokio::time::timeout_at(deadline, stream.read(&mut buf))
            .await
            .expect("an answer in time")
            .unwrap();
        out.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&out).into_owned();
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length = text[..head_end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if out.len() >= head_end + 4 + length {
                return text;
            }
        }
        if n == 0 {
            return text;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_too_large_expect_100_continue_gets_413_without_100_continue() {
    let f = Fixture::standard().await;
    let (address, stop, server) = spawn(&f, ServerConfig::default()).await;
    for (path, code) in [
        ("/v1/statements", "envelope_too_large"),
        ("/v1/cosignatures", "body_too_large"),
    ] {
        let mut stream = TcpStream::connect(address).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
             Content-Length: 100000000\r\nExpect: 100-continue\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let answer = read_answer(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
        assert!(!answer.contains("100 Continue"), "{answer}");
        assert!(answer.contains(&format!("\"code\":\"{code}\"")), "{answer}");
    }
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uri_too_long_and_headers_too_large_are_answered_in_the_error_shape() {
    let f = Fixture::standard().await;
    let (address, stop, server) = spawn(&f, ServerConfig::default()).await;
    let client = reqwest::Client::new();
    let base = format!("http://{address}");

    let long = format!("{base}/v1/entries?start=0&x={}", "a".repeat(9000));
    let answer = client.get(long).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 414);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["error"]["code"], "uri_too_long");

    let mut many = client.get(format!("{base}/v1/checkpoint"));
    for i in 0..120 {
        many = many.header(format!("x-filler-{i}"), "1");
    }
    let answer = many.send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 431);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["error"]["code"], "headers_too_large");

    let answer = client
        .get(format!("{base}/v1/checkpoint"))
        .header("x-filler", "a".repeat(20_000))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 431);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["error"]["code"], "headers_too_large");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_half_sent_connections_are_closed_and_connections_are_bounded() {
    let f = Fixture::standard().await;
    let config = ServerConfig::default()
        .with_header_read_timeout(Duration::from_millis(300))
        .with_connections_max(3)
        // One client here: the bound on all connections is tested, not a client's share.
        .with_client_share_percent(100);
    let (address, stop, server) = spawn(&f, config).await;

    // Connected, nothing sent.
    let mut idle = TcpStream::connect(address).await.unwrap();
    // Half a request head.
    let mut half = TcpStream::connect(address).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: te")
        .await
        .unwrap();
    // A whole request, then idle on a kept-alive connection.
    let mut kept = TcpStream::connect(address).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let answer = read_answer(&mut kept).await;
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");

    // A fourth connection is over the bound: closed at once, without an answer.
    let mut over = TcpStream::connect(address).await.unwrap();
    let _ = over
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .await;
    let refused = read_to_close(&mut over).await;
    assert!(refused.is_empty(), "{}", String::from_utf8_lossy(&refused));

    let started = tokio::time::Instant::now();
    for stream in [&mut idle, &mut half, &mut kept] {
        let rest = read_to_close(stream).await;
        let rest = String::from_utf8_lossy(&rest);
        assert!(
            rest.is_empty() || rest.starts_with("HTTP/1.1 408"),
            "{rest}"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(5));

    // The slots are free again.
    let health = reqwest::get(format!("http://{address}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn texts_with_control_or_bidi_characters_are_refused_at_append() {
    let mut f = Fixture::standard().await;
    let app = f.app();
    let size = app.get("/healthz").await.json()["size"].as_u64().unwrap();
    for name in ["Evil\u{1b}[2J", "nul\u{0}", "\u{202e}gnp.exe", "c1\u{9b}"] {
        let envelope = f.envelope(
            seed::AUTHORITY,
            "operator.registered",
            serde_json::json!({"operator": "evil", "name": name}),
        );
        let answer = app.submit(&envelope).await;
        assert!(
            answer.status.is_client_error(),
            "{name:?}: {}",
            answer.text()
        );
        let message = answer.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains("control character U+"), "{message}");
    }
    assert_eq!(
        app.get("/healthz").await.json()["size"].as_u64().unwrap(),
        size
    );
    // Line feeds and tabs stay allowed: texts are multi-line.
    let envelope = f.envelope(
        seed::AUTHORITY,
        "operator.registered",
        serde_json::json!({"operator": "fine", "name": "Fine\tLtd\nsecond line"}),
    );
    assert_eq!(app.submit(&envelope).await.status, StatusCode::CREATED);
}
