//! `POST /v1/cosignatures`: collecting witnesses' cosignatures of checkpoints.

use axum::http::StatusCode;
use hisaab_log::note::{cosign_checkpoint, Checkpoint};
use hisaab_log::Hash;
use hisaab_testkit::{key, seed};
use serde_json::json;

use crate::common::Fixture;

const TIMESTAMP_S: u64 = 1_793_491_300;

#[tokio::test]
async fn collects_a_witness_cosignature_once() {
    let f = Fixture::standard().await;
    let app = f.app();
    let note = app.get("/v1/checkpoint").await.text();
    let checkpoint = f.verify_checkpoint(&note);
    let line = cosign_checkpoint(
        &checkpoint,
        "witness-karakoram",
        &key(seed::WITNESS),
        TIMESTAMP_S,
    )
    .unwrap();

    let answer = app
        .post("/v1/cosignatures", "text/plain", line.clone())
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    let body = answer.json();
    assert_eq!(body["witness"], "witness-karakoram");
    assert_eq!(body["tree_size"], checkpoint.size);
    let served = app.get("/v1/checkpoint").await.text();
    assert!(served.ends_with(&line), "{served}");
    assert_eq!(f.verify_checkpoint(&served), checkpoint);

    // Again, as JSON naming the checkpoint: already there.
    let again = app
        .post_json(
            "/v1/cosignatures",
            json!({"cosignature": line, "checkpoint": note}).to_string(),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    assert_eq!(app.get("/v1/checkpoint").await.text(), served);
}

#[tokio::test]
async fn refuses_cosignatures_that_are_not_from_an_active_witness() {
    let f = Fixture::standard().await;
    let app = f.app();
    let note = app.get("/v1/checkpoint").await.text();
    let checkpoint = f.verify_checkpoint(&note);

    app.post("/v1/cosignatures", "text/plain", "hello")
        .await
        .assert_error(400, "malformed_cosignature");
    app.post(
        "/v1/cosignatures",
        "text/plain",
        "\u{2014} witness-karakoram AAAA\n",
    )
    .await
    .assert_error(400, "malformed_cosignature");
    app.post_json("/v1/cosignatures", "{\"line\": 1}")
        .await
        .assert_error(400, "malformed_body");
    app.post("/v1/cosignatures", "image/png", "x")
        .await
        .assert_error(415, "unsupported_media_type");

    let unknown =
        cosign_checkpoint(&checkpoint, "nobody", &key(seed::WITNESS), TIMESTAMP_S).unwrap();
    app.post("/v1/cosignatures", "text/plain", unknown)
        .await
        .assert_error(401, "unknown_witness");

    let forged = cosign_checkpoint(
        &checkpoint,
        "witness-karakoram",
        &key(seed::CHAIR),
        TIMESTAMP_S,
    )
    .unwrap();
    app.post("/v1/cosignatures", "text/plain", forged)
        .await
        .assert_error(401, "bad_cosignature");

    let not_a_witness = cosign_checkpoint(
        &checkpoint,
        "ciso-indus",
        &key(seed::CISO_INDUS),
        TIMESTAMP_S,
    )
    .unwrap();
    app.post("/v1/cosignatures", "text/plain", not_a_witness)
        .await
        .assert_error(403, "not_a_witness");

    // A checkpoint the ledger never signed.
    let other = Checkpoint {
        origin: checkpoint.origin.clone(),
        size: checkpoint.size + 7,
        root: Hash::sha256(b"elsewhere"),
    };
    let stale = cosign_checkpoint(
        &other,
        "witness-karakoram",
        &key(seed::WITNESS),
        TIMESTAMP_S,
    )
    .unwrap();
    app.post_json(
        "/v1/cosignatures",
        json!({"cosignature": stale, "checkpoint": other.to_body()}).to_string(),
    )
    .await
    .assert_error(409, "stale_checkpoint");

    assert_eq!(app.get("/v1/checkpoint").await.text(), note);
}
