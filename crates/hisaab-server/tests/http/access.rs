//! Read access (SPEC §13) through the router, every answer checked against the OpenAPI
//! description: withheld entries and lines, the bundle for every reader, private answers,
//! sessions, and the refusals of credentials that do not hold.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use hisaab_testkit::seed;
use serde_json::{json, Value};

use crate::common::{signed_headers, Fixture};

async fn with_submission() -> (Fixture, u64) {
    let mut f = Fixture::standard().await;
    f.append(
        seed::CISO_INDUS,
        "submission.filed",
        hisaab_testkit::submission("indus", "CR-01", "2026-10", "97.5"),
    )
    .await;
    let seq = f.store.size() - 1;
    (f, seq)
}

#[tokio::test]
async fn entries_are_withheld_by_operator_and_lists_say_so() {
    let (f, seq) = with_submission().await;
    let app = f.app();
    let path = format!("/v1/entries/{seq}");
    app.get(&path).await.assert_error(403, "forbidden");
    app.get_as(seed::CISO_KARAKORAM, "ciso-karakoram", &path)
        .await
        .assert_error(403, "forbidden");
    // A witness reads the public view, even one affiliated with an operator.
    app.get_as(seed::WITNESS, "witness-karakoram", &path)
        .await
        .assert_error(403, "forbidden");
    for (signer, member) in [
        (seed::CISO_INDUS, "ciso-indus"),
        (seed::EVALUATOR, "eval"),
        (seed::CHAIR, "chair"),
        (seed::EVALUATOR_INDUS, "eval-indus"),
    ] {
        let answer = app.get_as(signer, member, &path).await;
        assert_eq!(answer.status, StatusCode::OK, "{member}: {}", answer.text());
        assert_eq!(
            answer.headers[header::CACHE_CONTROL],
            "private, no-store",
            "{member}"
        );
        assert!(answer.headers[header::VARY]
            .to_str()
            .unwrap()
            .contains("Signature-Input"));
    }
    // A registry entry is the same for everyone.
    let genesis = app.get("/v1/entries/0").await;
    assert_eq!(genesis.status, StatusCode::OK);
    assert!(genesis.headers[header::CACHE_CONTROL]
        .to_str()
        .unwrap()
        .starts_with("public"));

    let listed = app.get("/v1/entries").await;
    assert_eq!(listed.status, StatusCode::OK);
    let text = listed.text();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let leaf = f.store.entry(seq).unwrap().unwrap().event_hash();
    assert_eq!(
        last,
        json!({"withheld": {"seq": seq, "kind": "submission.filed", "leaf_hash": leaf.to_hex()}})
    );
    let full = app.get_full("/v1/entries").await.text();
    assert!(full.lines().last().unwrap().contains("\"97.5\""));
    assert!(!text.contains("97.5"));
}

#[tokio::test]
async fn the_state_the_bundle_and_history_follow_the_reader() {
    let (f, _) = with_submission().await;
    let app = f.app();
    let public = app.get("/v1/state").await.json();
    let full = app.get_full("/v1/state").await.json();
    assert_eq!(full["operators"]["indus"]["kpis"]["CR-01"]["value"], "97.5");
    assert!(public["operators"]["indus"]["kpis"]["CR-01"]["value"].is_null());
    assert_eq!(
        public["operators"]["indus"]["kpis"]["CR-01"]["status"],
        "submitted"
    );
    let own = app
        .get_as(seed::CISO_INDUS, "ciso-indus", "/v1/state")
        .await
        .json();
    assert_eq!(own["operators"]["indus"], full["operators"]["indus"]);
    assert_eq!(
        own["operators"]["karakoram"],
        public["operators"]["karakoram"]
    );

    // The bundle is everyone's: each reader's lines are those of `GET /v1/entries` for them
    // (SPEC §13.4); a full reader's is the store's export byte for byte.
    let mut exported = Vec::new();
    f.store
        .export_bundle(f.store.size(), &mut exported)
        .unwrap();
    let full_bundle = app.get_full("/v1/bundle").await;
    assert_eq!(full_bundle.status, StatusCode::OK);
    assert_eq!(full_bundle.body, exported);
    let public_bundle = app.get("/v1/bundle").await;
    assert_eq!(public_bundle.status, StatusCode::OK);
    assert_eq!(
        public_bundle.headers[header::CACHE_CONTROL],
        "private, no-store"
    );
    let public_text = public_bundle.text();
    let (header_line, public_entries) = public_text.split_once('\n').unwrap();
    assert_eq!(header_line.as_bytes(), &exported[..header_line.len()]);
    assert_eq!(
        public_entries,
        app.get("/v1/entries").await.text(),
        "the public bundle's lines are the public's entries"
    );
    assert!(public_entries.contains("\"withheld\"") && !public_text.contains("97.5"));
    let own_bundle = app
        .get_as(seed::CISO_INDUS, "ciso-indus", "/v1/bundle")
        .await;
    assert_eq!(own_bundle.status, StatusCode::OK);
    assert_eq!(
        own_bundle.body, exported,
        "the operator reads its own entry"
    );
    let other_bundle = app
        .get_as(seed::CISO_KARAKORAM, "ciso-karakoram", "/v1/bundle")
        .await
        .text();
    assert_eq!(other_bundle, public_text);

    let history = "/v1/history?operator=indus&kpi=CR-01";
    let public_lines = app.get(history).await.text();
    assert!(public_lines.contains("\"withheld\""));
    let own_lines = app
        .get_as(seed::CISO_INDUS, "ciso-indus", history)
        .await
        .text();
    assert!(!own_lines.contains("\"withheld\"") && own_lines.contains("97.5"));
}

#[tokio::test]
async fn credentials_that_do_not_hold_are_refused() {
    let f = Fixture::standard().await;
    let app = f.app();
    app.get_as(seed::STRANGER, "nobody", "/v1/state")
        .await
        .assert_error(401, "unknown_reader");
    app.get_as(seed::STRANGER, "chair", "/v1/state")
        .await
        .assert_error(401, "bad_request_signature");
    // Replayed: the same headers twice.
    let headers = signed_headers(seed::CHAIR, "chair", "GET", "/v1/state");
    let request = || {
        let mut request = Request::get("/v1/state");
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        request.body(Body::empty()).unwrap()
    };
    assert_eq!(app.send(request()).await.status, StatusCode::OK);
    app.send(request())
        .await
        .assert_error(401, "replayed_request");
    // Half a signature is no signature.
    let request = Request::get("/v1/state")
        .header("signature", "hisaab=:AAAA:")
        .body(Body::empty())
        .unwrap();
    app.send(request)
        .await
        .assert_error(401, "bad_request_signature");
    let request = Request::get("/v1/state")
        .header(header::AUTHORIZATION, "Bearer not-a-session")
        .body(Body::empty())
        .unwrap();
    app.send(request).await.assert_error(401, "session_expired");
}

#[tokio::test]
async fn a_signed_challenge_opens_a_session_that_revocation_ends() {
    let mut f = Fixture::standard().await;
    let app = f.app();
    let challenge = app
        .post("/v1/session/challenge", "application/json", "")
        .await;
    assert_eq!(
        challenge.status,
        StatusCode::CREATED,
        "{}",
        challenge.text()
    );
    let challenge = challenge.json()["challenge"].as_str().unwrap().to_owned();
    let message = hisaab_api::access::session_message(hisaab_testkit::ORIGIN, &challenge);
    let signature = hisaab_log::Signature::sign(&hisaab_testkit::key(seed::CISO_INDUS), &message);
    let body = json!({"member": "ciso-indus", "challenge": challenge,
        "signature": signature.to_base64()})
    .to_string();
    let granted = app.post_json("/v1/session", body.clone()).await;
    assert_eq!(granted.status, StatusCode::CREATED, "{}", granted.text());
    assert!(granted.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("HttpOnly"));
    let granted = granted.json();
    assert_eq!(granted["reader"], "operator:indus");
    // The challenge was used up.
    app.post_json("/v1/session", body)
        .await
        .assert_error(401, "bad_session_signature");
    let token = granted["token"].as_str().unwrap().to_owned();
    let with_token = || {
        Request::get("/v1/state")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    let state = app.send(with_token()).await;
    assert_eq!(state.status, StatusCode::OK);
    assert!(state.json()["operators"]["karakoram"]["kpis"]["CR-01"]["value"].is_null());
    f.append(
        seed::AUTHORITY,
        "member.revoked",
        json!({"member": "ciso-indus", "reason": "left"}),
    )
    .await;
    app.send(with_token())
        .await
        .assert_error(401, "revoked_reader");
}

/// Opens a session as `member` with the key of `signer`: the token.
async fn open_session(app: &crate::common::App, signer: u8, member: &str) -> String {
    let challenge = app
        .post("/v1/session/challenge", "application/json", "")
        .await
        .json()["challenge"]
        .as_str()
        .unwrap()
        .to_owned();
    let message = hisaab_api::access::session_message(hisaab_testkit::ORIGIN, &challenge);
    let signature = hisaab_log::Signature::sign(&hisaab_testkit::key(signer), &message);
    let body = json!({"member": member, "challenge": challenge,
        "signature": signature.to_base64()})
    .to_string();
    let granted = app.post_json("/v1/session", body).await;
    assert_eq!(granted.status, StatusCode::CREATED, "{}", granted.text());
    granted.json()["token"].as_str().unwrap().to_owned()
}

fn with(name: header::HeaderName, value: &str, method: &str, uri: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(name, value)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn ending_a_session_refuses_its_token_from_then_on() {
    let f = Fixture::standard().await;
    let app = f.app();
    let token = open_session(&app, seed::CISO_INDUS, "ciso-indus").await;
    let bearer = format!("Bearer {token}");
    let state = app
        .send(with(header::AUTHORIZATION, &bearer, "GET", "/v1/state"))
        .await;
    assert_eq!(state.status, StatusCode::OK);

    let ended = app
        .send(with(
            header::AUTHORIZATION,
            &bearer,
            "DELETE",
            "/v1/session",
        ))
        .await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT, "{}", ended.text());
    assert!(ended.body.is_empty());
    let cleared = ended.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cleared.starts_with("hisaab_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    assert_eq!(ended.headers[header::CACHE_CONTROL], "private, no-store");
    app.send(with(header::AUTHORIZATION, &bearer, "GET", "/v1/state"))
        .await
        .assert_error(401, "session_expired");
    // Ending it again is no error: it is over either way.
    let again = app
        .send(with(
            header::AUTHORIZATION,
            &bearer,
            "DELETE",
            "/v1/session",
        ))
        .await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);

    // By the cookie, as a browser does; another member's session is untouched.
    let cookie_token = open_session(&app, seed::CHAIR, "chair").await;
    let other = open_session(&app, seed::EVALUATOR, "eval").await;
    let cookie = format!("hisaab_session={cookie_token}");
    let ended = app
        .send(with(header::COOKIE, &cookie, "DELETE", "/v1/session"))
        .await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT);
    app.send(with(header::COOKIE, &cookie, "GET", "/v1/state"))
        .await
        .assert_error(401, "session_expired");
    let still = app
        .send(with(
            header::AUTHORIZATION,
            &format!("Bearer {other}"),
            "GET",
            "/v1/state",
        ))
        .await;
    assert_eq!(still.status, StatusCode::OK);

    // Naming no session is refused, and changes nothing.
    app.send(Request::delete("/v1/session").body(Body::empty()).unwrap())
        .await
        .assert_error(401, "bad_credentials");
    app.send(with(
        header::AUTHORIZATION,
        "Basic cGFzc3dvcmQ=",
        "DELETE",
        "/v1/session",
    ))
    .await
    .assert_error(401, "bad_credentials");
    app.send(with(
        header::AUTHORIZATION,
        "Bearer",
        "DELETE",
        "/v1/session",
    ))
    .await
    .assert_error(401, "bad_credentials");
    let still = app
        .send(with(
            header::AUTHORIZATION,
            &format!("Bearer {other}"),
            "GET",
            "/v1/state",
        ))
        .await;
    assert_eq!(still.status, StatusCode::OK);
}

/// A page's answer, straight from the router (pages are HTML, outside the API's description).
async fn page(
    app: &crate::common::App,
    request: Request<Body>,
) -> (StatusCode, header::HeaderMap, String) {
    use tower::ServiceExt as _;
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn the_pages_sign_out_ends_the_session_and_a_stale_cookie_reads_as_the_public() {
    let (f, _) = with_submission().await;
    let app = f.app();
    let token = open_session(&app, seed::CISO_INDUS, "ciso-indus").await;
    let cookie = format!("hisaab_session={token}");
    let (status, _, signed_in) = page(&app, with(header::COOKIE, &cookie, "GET", "/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        signed_in.contains("id=\"signed-in-member\">ciso-indus<"),
        "{signed_in}"
    );
    assert!(signed_in.contains("id=\"signed-in-roles\">ciso<"));
    assert!(signed_in.contains("action=\"/app/signout\""));
    // A request signed with the member's key reads as them too, with nothing to sign out of.
    let (status, _, signed) =
        page(&app, crate::common::signed_get(seed::CHAIR, "chair", "/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(signed.contains("id=\"signed-in-member\">chair<"));
    assert!(!signed.contains("/app/signout"));

    let (status, headers, _) =
        page(&app, with(header::COOKIE, &cookie, "POST", "/app/signout")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/");
    assert!(headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    // The token is refused by the API ...
    app.send(with(
        header::AUTHORIZATION,
        &format!("Bearer {token}"),
        "GET",
        "/v1/state",
    ))
    .await
    .assert_error(401, "session_expired");
    // ... and the old cookie gets the public view, saying why, and is cleared.
    let (status, headers, public) = page(&app, with(header::COOKIE, &cookie, "GET", "/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(public.contains("id=\"session-ended\""), "{public}");
    assert!(public.contains("id=\"sign-in\""));
    assert!(!public.contains("signed-in-member"));
    assert!(headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    // Signing out with no session is no error: it goes to the public view all the same.
    let (status, headers, _) = page(
        &app,
        Request::post("/app/signout").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/");
    // A bearer token that does not hold is still refused on a page, as on the API.
    let (status, _, _) = page(
        &app,
        with(
            header::AUTHORIZATION,
            &format!("Bearer {token}"),
            "GET",
            "/",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// A reader's bundle with withheld lines (SPEC §6.2) verifies: the root and chain through the
/// withheld leaf hashes, the rules and the replay up to the first withheld line; a withheld
/// line whose leaf hash was changed fails at its seq.
#[tokio::test]
async fn a_partial_bundle_verifies_and_a_wrong_withheld_hash_fails_at_its_seq() {
    let mut f = Fixture::standard().await;
    let before = f.store.size();
    f.append(
        seed::CISO_KARAKORAM,
        "submission.filed",
        hisaab_testkit::submission("karakoram", "CR-01", "2026-10", "88.0"),
    )
    .await;
    f.append(
        seed::CISO_INDUS,
        "submission.filed",
        hisaab_testkit::submission("indus", "CR-01", "2026-10", "97.5"),
    )
    .await;
    let (karakoram, indus) = (before, before + 1);
    let app = f.app();

    let full = app.get_full("/v1/bundle").await;
    let whole = hisaab_model::verify_bundle(&full.body[..]).unwrap();
    assert!(whole.withheld.is_empty());
    assert_eq!(whole.replayed, whole.size);

    let own = app
        .get_as(seed::CISO_INDUS, "ciso-indus", "/v1/bundle")
        .await
        .text();
    assert!(own.contains("97.5") && !own.contains("88.0"));
    let partial = hisaab_model::verify_bundle(own.as_bytes()).unwrap();
    assert_eq!(partial.withheld, vec![karakoram]);
    assert_eq!(partial.replayed, karakoram);
    assert_eq!((partial.size, partial.root), (whole.size, whole.root));
    assert_eq!(partial.ledger_id, whole.ledger_id);

    let public = app.get("/v1/bundle").await.text();
    let verified = hisaab_model::verify_bundle(public.as_bytes()).unwrap();
    assert_eq!(verified.withheld, vec![karakoram, indus]);
    assert!(!public.contains("97.5") && !public.contains("88.0"));

    // The withheld line's leaf hash changed: the next entry's prev no longer matches.
    let line = own
        .lines()
        .nth(1 + usize::try_from(karakoram).unwrap())
        .unwrap();
    let withheld: Value = serde_json::from_str(line).unwrap();
    let hash = withheld["withheld"]["leaf_hash"].as_str().unwrap();
    let flipped = if hash.starts_with('0') { "1" } else { "0" };
    let tampered = own.replacen(hash, &format!("{flipped}{}", &hash[1..]), 1);
    assert_ne!(tampered, own);
    let error = hisaab_model::verify_bundle(tampered.as_bytes()).unwrap_err();
    assert_eq!(error.seq(), Some(karakoram), "{error}");
    // A withheld line at another seq than its position, or with other fields, fails there.
    let moved = own.replacen(
        &format!("\"seq\":{karakoram}"),
        &format!("\"seq\":{}", karakoram + 7),
        1,
    );
    let error = hisaab_model::verify_bundle(moved.as_bytes()).unwrap_err();
    assert_eq!(error.seq(), Some(karakoram), "{error}");
    // A replay past the first withheld line is refused, not answered with a shorter state.
    let error = hisaab_model::replay_bundle(own.as_bytes(), &Default::default(), &[None], None)
        .unwrap_err();
    assert!(error.to_string().contains("partial"), "{error}");
}
