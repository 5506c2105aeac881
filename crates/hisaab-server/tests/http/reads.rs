//! Reading the log: checkpoints, entries (byte-exact), proofs, state, bundles, and the
//! refusals of malformed or out-of-range queries.

use std::io::Cursor;

use axum::http::{header, StatusCode};
use hisaab_log::merkle::{leaf_hash, verify_consistency, verify_inclusion};
use hisaab_log::Hash;
use hisaab_server::schema::{ConsistencyProof, InclusionProof, Receipt};
use hisaab_testkit::seed;
use serde_json::json;

use crate::common::Fixture;

#[tokio::test]
async fn serves_the_latest_checkpoint_as_a_signed_note() {
    let f = Fixture::standard().await;
    let app = f.app();
    let answer = app.get("/v1/checkpoint").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.content_type().starts_with("text/plain"));
    let checkpoint = f.verify_checkpoint(&answer.text());
    assert_eq!(checkpoint.size, f.store.size());
    assert_eq!(checkpoint.root, f.store.root(checkpoint.size).unwrap());
}

#[tokio::test]
async fn serves_entries_as_their_leaf_bytes_exactly() {
    let f = Fixture::standard().await;
    let app = f.app();
    let size = f.store.size();
    let answer = app.get("/v1/entries?start=0&limit=1000").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.content_type(), "application/x-ndjson");
    let mut expected = Vec::new();
    for seq in 0..size {
        let leaf = f.store.entry_bytes(seq).unwrap().unwrap();
        expected.extend_from_slice(&leaf);
        expected.push(b'\n');
        let one = app.get(&format!("/v1/entries/{seq}")).await;
        assert_eq!(one.status, StatusCode::OK);
        assert_eq!(one.content_type(), "application/json");
        assert_eq!(one.body, leaf);
        let by_hash = app.get(&format!("/v1/events/{}", leaf_hash(&leaf))).await;
        assert_eq!(by_hash.status, StatusCode::OK);
        assert_eq!(by_hash.body, leaf);
    }
    assert_eq!(answer.body, expected);

    // Paging: a window, the end of the log, and the page cap.
    let window = app.get("/v1/entries?start=2&limit=3").await;
    assert_eq!(window.text().lines().count(), 3);
    assert!(window
        .text()
        .starts_with(&String::from_utf8(f.store.entry_bytes(2).unwrap().unwrap()).unwrap()));
    let end = app.get(&format!("/v1/entries?start={size}")).await;
    assert_eq!(end.status, StatusCode::OK);
    assert!(end.body.is_empty());
    let capped = f.app_with(hisaab_server::ServerConfig::default().with_entries_page_max(2));
    assert_eq!(
        capped
            .get("/v1/entries?limit=50")
            .await
            .text()
            .lines()
            .count(),
        2
    );
}

#[tokio::test]
async fn answers_404_for_an_unknown_seq_or_event() {
    let f = Fixture::standard().await;
    let app = f.app();
    let size = f.store.size();
    app.get(&format!("/v1/entries/{size}"))
        .await
        .assert_error(404, "not_found");
    app.get(&format!("/v1/events/{}", Hash::sha256(b"nothing")))
        .await
        .assert_error(404, "not_found");
    app.get("/v1/entries/-1")
        .await
        .assert_error(400, "bad_path");
    app.get("/v1/events/ABC")
        .await
        .assert_error(400, "bad_path");
    app.get("/v1/nothing").await.assert_error(404, "not_found");
    let answer = app
        .send(
            axum::http::Request::delete("/v1/checkpoint")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    answer.assert_error(405, "method_not_allowed");
}

#[tokio::test]
async fn refuses_queries_the_description_forbids_with_400() {
    let f = Fixture::standard().await;
    let app = f.app();
    let above = "9007199254740992"; // 2^53: one above every integer parameter's maximum.
    for uri in [
        "/v1/entries?start=abc".to_owned(),
        "/v1/entries?start=-1".to_owned(),
        "/v1/entries?begin=0".to_owned(),
        format!("/v1/entries?limit={above}"),
        format!("/v1/entries?start={above}"),
        "/v1/proofs/inclusion?tree_size=1".to_owned(),
        "/v1/proofs/inclusion?index=x&tree_size=1".to_owned(),
        "/v1/proofs/inclusion?index=0&tree_size=0".to_owned(),
        format!("/v1/proofs/inclusion?index={above}&tree_size=1"),
        "/v1/proofs/consistency?from=0&to=3".to_owned(),
        "/v1/proofs/consistency?from=1".to_owned(),
        format!("/v1/proofs/consistency?from=1&to={above}"),
        "/v1/state?as_of=0".to_owned(),
        format!("/v1/state?as_of={above}"),
        "/v1/state?at=2026-02-30".to_owned(),
        "/v1/state?at=0000-00-00".to_owned(),
        "/v1/state?at=tomorrow".to_owned(),
        "/v1/state?as_of_date=2026-13-01".to_owned(),
        "/v1/obligations?at=2026-02-30".to_owned(),
        "/v1/obligations?as_of=0".to_owned(),
        "/v1/obligations?operator=Indus".to_owned(),
        "/v1/obligations?member=".to_owned(),
        "/v1/obligations?who=indus".to_owned(),
        "/v1/bundle?tree_size=0".to_owned(),
        format!("/v1/bundle?tree_size={above}"),
        "/v1/bundle?size=1".to_owned(),
        format!("/v1/history?operator=indus&kpi=CR-01&limit={above}"),
    ] {
        app.get(&uri).await.assert_error(400, "bad_query");
    }
    app.get(&format!("/v1/entries/{above}"))
        .await
        .assert_error(400, "bad_path");
}

#[tokio::test]
async fn answers_404_for_sizes_and_indexes_the_ledger_does_not_have() {
    let f = Fixture::standard().await;
    let app = f.app();
    let size = f.store.size();
    let max = "9007199254740991"; // 2^53 - 1: allowed by the description, beyond any ledger.
    for (uri, code) in [
        (
            format!("/v1/entries?start={}", size + 1),
            "index_out_of_range",
        ),
        (format!("/v1/entries?start={max}"), "index_out_of_range"),
        (
            format!("/v1/proofs/inclusion?index=0&tree_size={}", size + 1),
            "tree_size_out_of_range",
        ),
        (
            format!("/v1/proofs/inclusion?index=0&tree_size={max}"),
            "tree_size_out_of_range",
        ),
        (
            "/v1/proofs/inclusion?index=3&tree_size=3".to_owned(),
            "index_out_of_range",
        ),
        (
            format!("/v1/proofs/inclusion?index={size}"),
            "index_out_of_range",
        ),
        (
            "/v1/proofs/consistency?from=4&to=3".to_owned(),
            "tree_size_out_of_range",
        ),
        (
            format!("/v1/proofs/consistency?from=1&to={}", size + 1),
            "tree_size_out_of_range",
        ),
        (
            format!("/v1/state?as_of={}", size + 1),
            "tree_size_out_of_range",
        ),
        (
            format!("/v1/bundle?tree_size={max}"),
            "tree_size_out_of_range",
        ),
    ] {
        app.get_full(&uri).await.assert_error(404, code);
    }
}

#[tokio::test]
async fn inclusion_proof_defaults_to_the_current_tree_size() {
    let f = Fixture::standard().await;
    let app = f.app();
    let size = f.store.size();
    let answer = app.get("/v1/proofs/inclusion?index=2").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let proof: InclusionProof = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!((proof.index, proof.tree_size), (2, size));
    // The current size grows: that answer is not cached, a proof for a named size is.
    assert!(answer.headers.get(header::CACHE_CONTROL).is_none());
    let explicit = app
        .get(&format!("/v1/proofs/inclusion?index=2&tree_size={size}"))
        .await;
    assert_eq!(explicit.body, answer.body);
    assert!(explicit.headers.get(header::CACHE_CONTROL).is_some());
}

#[tokio::test]
async fn entries_limit_at_the_maximum_is_cut_to_the_page_size() {
    let f = Fixture::standard().await;
    let app = f.app();
    let answer = app.get("/v1/entries?limit=9007199254740991").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.text().lines().count() as u64, f.store.size());
}

#[tokio::test]
async fn serves_proofs_that_verify_against_signed_checkpoints() {
    let mut f = Fixture::standard().await;
    let app = f.app();
    let old = f.verify_checkpoint(&app.get("/v1/checkpoint").await.text());
    let envelope = f.envelope(
        seed::CISO_INDUS,
        "submission.filed",
        hisaab_testkit::submission("indus", "CR-01", "2026-10", "97.5"),
    );
    let receipt: Receipt = serde_json::from_slice(&app.submit(&envelope).await.body).unwrap();
    let new = f.verify_checkpoint(&receipt.checkpoint);
    assert!(new.size > old.size);

    for index in [0, 3, old.size - 1] {
        let answer = app
            .get(&format!(
                "/v1/proofs/inclusion?index={index}&tree_size={}",
                old.size
            ))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        let proof: InclusionProof = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!((proof.index, proof.tree_size), (index, old.size));
        let leaf = leaf_hash(&f.store.entry_bytes(index).unwrap().unwrap());
        assert_eq!(proof.leaf_hash, leaf);
        verify_inclusion(&leaf, index, old.size, &proof.proof, &old.root).unwrap();
    }

    let answer = app
        .get(&format!(
            "/v1/proofs/consistency?from={}&to={}",
            old.size, new.size
        ))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let proof: ConsistencyProof = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!((proof.from, proof.to), (old.size, new.size));
    verify_consistency(old.size, new.size, &proof.proof, &old.root, &new.root).unwrap();
    let same = app
        .get(&format!("/v1/proofs/consistency?from={0}&to={0}", new.size))
        .await;
    assert_eq!(same.json()["proof"], json!([]));
}

#[tokio::test]
async fn serves_the_state_at_a_size_and_date() {
    let mut f = Fixture::standard().await;
    let app = f.app();
    f.append(
        seed::CISO_INDUS,
        "submission.filed",
        hisaab_testkit::submission("indus", "CR-01", "2026-10", "97.5"),
    )
    .await;
    let answer = app.get("/v1/state").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let state = answer.json();
    assert_eq!(state["size"], f.store.size());
    assert_eq!(state["ledger"], f.ledger_id.to_hex());
    assert_eq!(
        state["operators"]["indus"]["kpis"]["CR-01"]["status"],
        "submitted"
    );
    // Canonical JSON, so the digest can be checked on the bytes served.
    let mut without = state.clone();
    without.as_object_mut().unwrap().remove("digest");
    let canonical = hisaab_log::jcs::canonicalize(&without).unwrap();
    assert_eq!(state["digest"], Hash::sha256(&canonical).to_hex());
    assert_eq!(hisaab_log::jcs::canonicalize(&state).unwrap(), answer.body);

    let early = app.get("/v1/state?as_of=1").await.json();
    assert_eq!(early["size"], 1);
    assert_eq!(early["operators"], json!({}));
    let late = app.get("/v1/state?at=2027-01-15").await.json();
    assert_eq!(late["at"], "2027-01-15");
    assert_eq!(
        late["operators"]["karakoram"]["kpis"]["CR-01"]["status"],
        "overdue"
    );
}

#[tokio::test]
async fn serves_a_bundle_that_verifies() {
    let f = Fixture::standard().await;
    let app = f.app();
    let answer = app.get_full("/v1/bundle").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.content_type(), "application/x-ndjson");
    assert!(answer.headers.get(header::CONTENT_DISPOSITION).is_some());
    let verified = hisaab_model::verify_bundle(Cursor::new(&answer.body)).unwrap();
    assert_eq!(verified.size, f.store.size());
    assert_eq!(verified.ledger_id, f.ledger_id);
    // Its entry lines are the leaf bytes exactly.
    let lines: Vec<&[u8]> = answer.body.split(|b| *b == b'\n').collect();
    assert_eq!(lines[1], f.store.entry_bytes(0).unwrap().unwrap());

    let partial = app.get_full("/v1/bundle?tree_size=3").await;
    let verified = hisaab_model::verify_bundle(Cursor::new(&partial.body)).unwrap();
    assert_eq!(verified.size, 3);
}

#[tokio::test]
async fn serves_health_an_index_page_and_the_openapi_description() {
    let f = Fixture::standard().await;
    let app = f.app();
    let health = app.get("/healthz").await;
    assert_eq!(
        health.json(),
        json!({"status": "ok", "size": f.store.size()})
    );
    let page = app.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.content_type().starts_with("text/html"));
    assert!(page.text().contains("hisaab.test/ledger"));
    let description = app.get("/openapi.json").await;
    assert_eq!(description.status, StatusCode::OK);
    assert_eq!(&description.json(), crate::common::openapi());
}

#[tokio::test]
async fn serves_the_history_of_an_operator_and_kpi() {
    let mut f = Fixture::standard().await;
    let app = f.app();
    let submission = f
        .append(
            seed::CISO_INDUS,
            "submission.filed",
            hisaab_testkit::submission("indus", "CR-01", "2026-10", "97.5"),
        )
        .await;
    let answer = app.get_full("/v1/history?operator=indus&kpi=CR-01").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let text = answer.text();
    let lines: Vec<&str> = text.lines().collect();
    // The assignment, then the submission.
    assert_eq!(lines.len(), 2, "{}", answer.text());
    assert_eq!(leaf_hash(lines[1].as_bytes()), submission);
    let kinds: Vec<String> = lines
        .iter()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["statement"]["kind"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(kinds, ["kpi.assigned", "submission.filed"]);
    assert!(app
        .get("/v1/history?operator=margalla&kpi=CR-01")
        .await
        .body
        .is_empty());
    app.get("/v1/history?operator=Indus&kpi=CR-01")
        .await
        .assert_error(400, "bad_query");
    app.get("/v1/history?operator=indus")
        .await
        .assert_error(400, "bad_query");
}

#[tokio::test]
async fn serves_the_state_as_recorded_by_a_date() {
    let f = Fixture::standard().await;
    let app = f.app();
    // Every fixture entry is recorded on 2026-11-01.
    let state = app.get("/v1/state?as_of_date=2026-11-01").await.json();
    assert_eq!(state["size"], f.store.size());
    assert_eq!(state["at"], "2026-11-01");
    let later = app
        .get("/v1/state?as_of_date=2026-12-20&at=2027-01-15")
        .await
        .json();
    assert_eq!(later["size"], f.store.size());
    assert_eq!(later["at"], "2027-01-15");
    app.get("/v1/state?as_of_date=2026-10-31")
        .await
        .assert_error(404, "tree_size_out_of_range");
    // With `as_of` too: the first N entries of what was recorded by the date.
    let both = app
        .get("/v1/state?as_of=2&as_of_date=2026-11-01")
        .await
        .json();
    assert_eq!(
        (both["size"].clone(), both["at"].clone()),
        (2.into(), "2026-11-01".into())
    );
}

#[tokio::test]
async fn serves_who_owes_what_by_when() {
    let mut f = Fixture::standard().await;
    let app = f.app();
    f.append(
        seed::CISO_INDUS,
        "submission.filed",
        hisaab_testkit::submission("indus", "CR-01", "2026-10", "97.5"),
    )
    .await;
    let answer = app.get("/v1/obligations?at=2026-12-01").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    crate::common::check_against_openapi(&axum::http::Method::GET, "/v1/obligations", &answer);
    let doc: hisaab_api::Obligations = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(doc.size, f.store.size());
    assert_eq!(doc.at.to_string(), "2026-12-01");
    // Indus filed CR-01 for October: not missing, but waiting for an evaluation.
    let missing_october = doc.items.iter().any(|i| {
        i.kind == hisaab_api::ObligationKind::Report
            && i.operator.as_ref().map(|s| s.as_str()) == Some("indus")
            && i.kpi.as_ref().map(|k| k.as_str()) == Some("CR-01")
            && i.period.map(|p| p.to_string()).as_deref() == Some("2026-10")
    });
    assert!(!missing_october);
    let waiting = doc
        .items
        .iter()
        .find(|i| i.kind == hisaab_api::ObligationKind::Evaluation)
        .unwrap();
    assert_eq!(waiting.due.to_string(), "2026-12-01");
    assert_eq!(waiting.days_late, 0);
    // January's CR-01 report of karakoram was due 2026-02-15 (15 days after the month).
    let january = doc
        .items
        .iter()
        .find(|i| {
            i.operator.as_ref().map(|s| s.as_str()) == Some("karakoram")
                && i.kpi.as_ref().map(|k| k.as_str()) == Some("CR-01")
                && i.period.map(|p| p.to_string()).as_deref() == Some("2026-01")
        })
        .unwrap();
    assert_eq!(january.due.to_string(), "2026-02-15");
    assert_eq!(january.days_late, 289);
    assert_eq!(
        january.owed_by,
        hisaab_api::OwedBy::Operator {
            operator: hisaab_model::Slug::try_new("karakoram").unwrap()
        }
    );
    // Filters: an operator's, a member's; unknown names are 404.
    let karakoram: hisaab_api::Obligations =
        serde_json::from_slice(&app.get("/v1/obligations?operator=karakoram").await.body).unwrap();
    assert!(!karakoram.items.is_empty());
    assert!(karakoram
        .items
        .iter()
        .all(|i| i.operator.as_ref().map(|s| s.as_str()) == Some("karakoram")));
    let ciso: hisaab_api::Obligations = serde_json::from_slice(
        &app.get("/v1/obligations?member=ciso-indus&at=2026-12-01")
            .await
            .body,
    )
    .unwrap();
    assert!(!ciso.items.is_empty());
    assert!(ciso.items.iter().all(|i| i.owed_by
        == hisaab_api::OwedBy::Operator {
            operator: hisaab_model::Slug::try_new("indus").unwrap()
        }));
    // The evaluator of indus owes no evaluation of indus's submission.
    let eval_indus: hisaab_api::Obligations = serde_json::from_slice(
        &app.get("/v1/obligations?member=eval-indus&at=2026-12-01")
            .await
            .body,
    )
    .unwrap();
    assert!(eval_indus.items.is_empty());
    let eval: hisaab_api::Obligations = serde_json::from_slice(
        &app.get("/v1/obligations?member=eval&at=2026-12-01")
            .await
            .body,
    )
    .unwrap();
    assert_eq!(eval.items.len(), 1);
    app.get("/v1/obligations?operator=zong")
        .await
        .assert_error(404, "not_found");
    app.get("/v1/obligations?member=nobody")
        .await
        .assert_error(404, "not_found");
}
