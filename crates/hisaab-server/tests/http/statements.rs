//! `POST /v1/statements`: receipts, idempotence, and every refusal in SPEC §7's order.

use axum::http::StatusCode;
use hisaab_log::merkle::{leaf_hash, verify_inclusion};
use hisaab_log::{Hash, Signature};
use hisaab_server::schema::Receipt;
use hisaab_server::ServerConfig;
use hisaab_testkit::{key, public, seed};
use serde_json::json;

use crate::common::{json_text, sign, Fixture};

fn receipt(answer: &crate::common::Answer) -> Receipt {
    serde_json::from_slice(&answer.body).unwrap()
}

#[tokio::test]
async fn accepts_a_statement_with_a_receipt_whose_proof_verifies() {
    let mut f = Fixture::standard().await;
    let app = f.app();
    let size = f.store.size();
    let envelope = f.envelope(
        seed::CISO_INDUS,
        "submission.filed",
        hisaab_testkit::submission("indus", "CR-01", "2026-10", "97.5"),
    );
    let answer = app.submit(&envelope).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    let receipt = receipt(&answer);
    assert_eq!(receipt.seq, size);

    // The receipt's checkpoint covers the entry, and the proof is for its size.
    let checkpoint = f.verify_checkpoint(&receipt.checkpoint);
    assert!(checkpoint.size > receipt.seq);
    let entry = app.get_full(&format!("/v1/entries/{}", receipt.seq)).await;
    assert_eq!(entry.status, StatusCode::OK);
    let leaf = leaf_hash(&entry.body);
    assert_eq!(leaf, receipt.event_hash);
    verify_inclusion(
        &leaf,
        receipt.seq,
        checkpoint.size,
        &receipt.inclusion_proof,
        &checkpoint.root,
    )
    .unwrap();
}

#[tokio::test]
async fn resubmission_answers_200_with_the_original_receipt() {
    let mut f = Fixture::standard().await;
    let app = f.app();
    let envelope = f.envelope(
        seed::CISO_INDUS,
        "submission.filed",
        hisaab_testkit::submission("indus", "CR-01", "2026-10", "97.5"),
    );
    let first = receipt(&app.submit(&envelope).await);
    // Something else lands in between; the resubmission still gets the original seq.
    f.append(
        seed::CISO_KARAKORAM,
        "submission.filed",
        hisaab_testkit::submission("karakoram", "CR-01", "2026-10", "90"),
    )
    .await;
    // Other whitespace, same envelope.
    let pretty = serde_json::to_string_pretty(&envelope).unwrap();
    let again = app.post_json("/v1/statements", pretty).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    let again = receipt(&again);
    assert_eq!(again.seq, first.seq);
    assert_eq!(again.event_hash, first.event_hash);
    assert_eq!(again.recorded_at, first.recorded_at);
    assert_eq!(f.store.size(), first.seq + 2);
}

#[tokio::test]
async fn refuses_an_envelope_over_the_size_limit_with_413() {
    let mut f = Fixture::standard().await;
    let app = f.app();
    let mut body = hisaab_testkit::submission("indus", "CR-01", "2026-10", "97.5");
    body["note"] = json!("x".repeat(65_600));
    let envelope = f.envelope(seed::CISO_INDUS, "submission.filed", body);
    app.submit(&envelope)
        .await
        .assert_error(413, "envelope_too_large");

    // A body over the server's body limit is a 413 too, in the same shape.
    let small = f.app_with(ServerConfig::default().with_body_bytes_max(1024));
    let mut body = hisaab_testkit::submission("indus", "CR-01", "2026-10", "97.5");
    body["note"] = json!("y".repeat(2048));
    let envelope = f.envelope(seed::CISO_INDUS, "submission.filed", body);
    small
        .submit(&envelope)
        .await
        .assert_error(413, "envelope_too_large");
}

#[tokio::test]
async fn decides_the_size_on_canonical_bytes_not_on_whitespace() {
    let mut f = Fixture::standard().await;
    let app = f.app();
    let mut body = hisaab_testkit::submission("indus", "CR-01", "2026-10", "97.5");
    body["note"] = json!("z".repeat(4000));
    let envelope = f.envelope(seed::CISO_INDUS, "submission.filed", body);
    // 70 KB of whitespace: over 65,536 raw bytes, well under it canonically.
    let padded = format!("{}{}", " ".repeat(70_000), json_text(&envelope));
    let answer = app.post_json("/v1/statements", padded).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
}

#[tokio::test]
async fn refuses_what_is_not_an_envelope_with_400() {
    let mut f = Fixture::standard().await;
    let app = f.app();
    app.post_json("/v1/statements", "not json")
        .await
        .assert_error(400, "malformed_envelope");
    let envelope = f.envelope(
        seed::CISO_INDUS,
        "submission.filed",
        hisaab_testkit::submission("indus", "CR-01", "2026-10", "97.5"),
    );
    let mut value = serde_json::to_value(&envelope).unwrap();
    // A missing field.
    let mut missing = value.clone();
    missing.as_object_mut().unwrap().remove("signature");
    app.post_json("/v1/statements", missing.to_string())
        .await
        .assert_error(400, "malformed_envelope");
    // A duplicate key.
    let text = json_text(&envelope);
    let duplicated = text.replacen("{\"statement\"", "{\"signature\":\"x\",\"statement\"", 1);
    assert_ne!(duplicated, text);
    app.post_json("/v1/statements", duplicated)
        .await
        .assert_error(400, "malformed_envelope");
    // A float.
    value["statement"]["v"] = json!(1.5);
    app.post_json("/v1/statements", value.to_string())
        .await
        .assert_error(400, "malformed_envelope");
    // A body that breaks rule 1 (a submission without its value).
    let mut body = hisaab_testkit::submission("indus", "CR-01", "2026-10", "97.5");
    body.as_object_mut().unwrap().remove("value");
    let envelope = f.envelope(seed::CISO_INDUS, "submission.filed", body);
    app.submit(&envelope)
        .await
        .assert_error(400, "malformed_envelope");
    // Not JSON at all, as another media type.
    app.post("/v1/statements", "text/plain", json_text(&envelope))
        .await
        .assert_error(415, "unsupported_media_type");
}

#[tokio::test]
async fn refuses_a_bad_signature_or_an_unknown_signer_with_401() {
    let mut f = Fixture::standard().await;
    let app = f.app();
    let statement = f.statement(
        seed::CISO_INDUS,
        "submission.filed",
        hisaab_testkit::submission("indus", "CR-01", "2026-10", "97.5"),
    );
    // Signed by another key than `signer`.
    let mut forged = sign(seed::CISO_KARAKORAM, statement.clone());
    forged.statement = statement;
    app.submit(&forged).await.assert_error(401, "bad_signature");
    let mut zeroed = forged.clone();
    zeroed.signature = Signature::from_bytes([0; 64]);
    app.submit(&zeroed).await.assert_error(401, "bad_signature");
    // A valid signature by a key no member holds.
    let stranger = 99;
    let mut statement = f.statement(
        stranger,
        "submission.filed",
        hisaab_testkit::submission("indus", "CR-01", "2026-10", "97.5"),
    );
    statement.signer = public(stranger);
    let envelope = hisaab_log::Envelope::sign(statement, &key(stranger)).unwrap();
    app.submit(&envelope)
        .await
        .assert_error(401, "unknown_signer");
}

#[tokio::test]
async fn refuses_a_forbidden_kind_or_a_conflict_of_interest_with_403() {
    let mut f = Fixture::standard().await;
    let app = f.app();
    let envelope = f.envelope(
        seed::CISO_INDUS,
        "operator.registered",
        json!({"operator": "margalla", "name": "Margalla"}),
    );
    app.submit(&envelope)
        .await
        .assert_error(403, "forbidden_kind");

    let submission = f
        .append(
            seed::CISO_INDUS,
            "submission.filed",
            hisaab_testkit::submission("indus", "CR-01", "2026-10", "97.5"),
        )
        .await;
    let envelope = f.envelope(
        seed::EVALUATOR_INDUS,
        "evaluation.recorded",
        hisaab_testkit::evaluation(submission, "met", 90),
    );
    app.submit(&envelope)
        .await
        .assert_error(403, "conflict_of_interest");
}

#[tokio::test]
async fn refuses_a_reused_id_with_another_envelope_with_409() {
    let mut f = Fixture::standard().await;
    let app = f.app();
    let first = f.envelope(
        seed::CISO_INDUS,
        "submission.filed",
        hisaab_testkit::submission("indus", "CR-01", "2026-10", "97.5"),
    );
    assert_eq!(app.submit(&first).await.status, StatusCode::CREATED);
    let mut statement = f.statement(
        seed::CISO_INDUS,
        "submission.filed",
        hisaab_testkit::submission("indus", "CR-01", "2026-09", "96"),
    );
    statement.id = first.statement.id.clone();
    let second = sign(seed::CISO_INDUS, statement);
    app.submit(&second).await.assert_error(409, "duplicate_id");
}

#[tokio::test]
async fn refuses_broken_references_and_identity_with_422() {
    let mut f = Fixture::standard().await;
    let app = f.app();
    // LG-01 is defined but not assigned to indus.
    let envelope = f.envelope(
        seed::CISO_INDUS,
        "submission.filed",
        hisaab_testkit::submission("indus", "LG-01", "2026-10", "50"),
    );
    app.submit(&envelope)
        .await
        .assert_error(422, "rule_violation");
    // Another ledger's id.
    let mut statement = f.statement(
        seed::CISO_INDUS,
        "submission.filed",
        hisaab_testkit::submission("indus", "CR-01", "2026-10", "97.5"),
    );
    statement.ledger = Some(Hash::sha256(b"another ledger"));
    app.submit(&sign(seed::CISO_INDUS, statement))
        .await
        .assert_error(422, "wrong_ledger");
    // Nothing was appended by any refusal.
    assert_eq!(app.get("/healthz").await.json()["size"], f.store.size());
}
