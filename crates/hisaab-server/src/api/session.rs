//! Browser sessions (SPEC §13.2): a member signs a random challenge with their key and gets a
//! short-lived token, as a bearer token and an HttpOnly, SameSite=Strict cookie. Every request
//! made with it is checked against the registry again: a revoked member, or a rotated key,
//! ends the session at once.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hisaab_api::access::{session_message, SESSION_COOKIE};
use hisaab_api::{SessionChallenge, SessionGranted, SessionRequest};
use hisaab_log::{Signature, Timestamp};
use hisaab_model::view::Reader;
use hisaab_model::{MemberStatus, Slug};

use crate::access::now_s;
use crate::app::AppState;
use crate::error::{short, ApiError};
use crate::extract::{require_json, RawBody};
use crate::reader::{private, session_token, CLEAR_COOKIE};
use crate::schema::doc;

fn timestamp(seconds: u64) -> Result<Timestamp, ApiError> {
    i64::try_from(seconds)
        .ok()
        .and_then(|s| Timestamp::from_unix_seconds(s).ok())
        .ok_or_else(|| ApiError::internal("session time", &"out of range"))
}

/// A random challenge for `POST /v1/session`.
#[utoipa::path(
    post,
    path = "/v1/session/challenge",
    tag = "access",
    responses(
        (status = 201, description = "A challenge, good once for 120 s.",
            body = doc::SessionChallenge),
        (status = 503, description = "`overloaded` (too many challenges outstanding), \
            `timeout` or `unavailable`.", body = doc::ErrorBody),
    )
)]
pub(crate) async fn challenge(State(app): State<AppState>) -> Result<Response, ApiError> {
    let now = now_s();
    let (challenge, expires) = app.access.new_challenge(now)?;
    let body = SessionChallenge {
        challenge,
        expires_at: timestamp(expires)?,
    };
    Ok(private((StatusCode::CREATED, Json(body)).into_response()))
}

/// Opens a session for a member who signed a challenge.
#[utoipa::path(
    post,
    path = "/v1/session",
    tag = "access",
    request_body(content = doc::SessionRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The session: the token, also set as the HttpOnly, \
            SameSite=Strict cookie `hisaab_session`.", body = doc::SessionGranted,
            headers(("Set-Cookie" = String, description = "`hisaab_session=<token>; \
                HttpOnly; SameSite=Strict; Path=/; Max-Age=<seconds>`, and `Secure` behind \
                a proxy that says `X-Forwarded-Proto: https`."))),
        (status = 400, description = "`malformed_body`: not JSON of this shape.",
            body = doc::ErrorBody),
        (status = 401, description = "`bad_session_signature`: the challenge is unknown, \
            expired or used, or the signature does not verify under the member's current \
            key; `unknown_reader`: no such member; `revoked_reader`: the member is revoked.",
            body = doc::ErrorBody),
        (status = 413, description = "`body_too_large`.", body = doc::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not `application/json`.",
            body = doc::ErrorBody),
        (status = 503, description = "`ledger_empty`, `overloaded` (too many sessions), \
            `timeout` or `unavailable`.", body = doc::ErrorBody),
    )
)]
pub(crate) async fn open(State(app): State<AppState>, body: RawBody) -> Result<Response, ApiError> {
    require_json(&body.headers)?;
    let request: SessionRequest =
        serde_json::from_slice(&body.bytes).map_err(|error| ApiError::MalformedBody {
            message: format!(
                "expected {{\"member\": \"<id>\", \"challenge\": \"<challenge>\", \
                 \"signature\": \"<base64>\"}}: {error}"
            ),
        })?;
    let bad = |message: String| ApiError::Unauthorized {
        code: "bad_session_signature",
        message,
    };
    let signature = Signature::try_from_base64(&request.signature).map_err(|_| {
        bad("signature must be a 64-byte Ed25519 signature in canonical base64".to_owned())
    })?;
    let size = app.store.size();
    if size == 0 {
        return Err(ApiError::LedgerEmpty);
    }
    let now = now_s();
    // The challenge is used up whatever follows, so that one challenge gives one try.
    if !app.access.take_challenge(&request.challenge, now)? {
        return Err(bad(format!(
            "challenge {:?} is unknown, expired or used: ask POST /v1/session/challenge for \
             a new one",
            short(&request.challenge)
        )));
    }
    let projection = app.projections.get(&app.store, size, None).await?;
    let member = Slug::try_new(&request.member)
        .ok()
        .and_then(|id| projection.state.members.get(&id))
        .ok_or_else(|| ApiError::Unauthorized {
            code: "unknown_reader",
            message: format!(
                "no member {:?} is enrolled in this ledger",
                short(&request.member)
            ),
        })?;
    let message = session_message(app.store.origin(), &request.challenge);
    if member.key.verify_strict(&message, &signature).is_err() {
        return Err(bad(format!(
            "the signature does not verify under member {}'s current key over \
             `hisaab-session-v1\\n<origin>\\n<challenge>` (SPEC §13.2)",
            request.member
        )));
    }
    if member.status == MemberStatus::Revoked {
        return Err(ApiError::Unauthorized {
            code: "revoked_reader",
            message: format!(
                "member {} was revoked and may no longer read",
                request.member
            ),
        });
    }
    let ttl = app.config.session_ttl.as_secs().max(1);
    let expires = now + ttl;
    let token = app
        .access
        .open_session(&request.member, member.key, now, expires)?;
    let granted = SessionGranted {
        token: token.clone(),
        member: request.member.clone(),
        reader: Reader::of_member(member).label(),
        expires_at: timestamp(expires)?,
    };
    let secure = body
        .headers
        .get("x-forwarded-proto")
        .is_some_and(|proto| proto.as_bytes().eq_ignore_ascii_case(b"https"));
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={ttl}{}",
        if secure { "; Secure" } else { "" }
    );
    let mut response = private((StatusCode::CREATED, Json(granted)).into_response());
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// The session token a request carries, or 401 `bad_credentials` when it carries none.
fn token_to_end(headers: &axum::http::HeaderMap) -> Result<String, ApiError> {
    match session_token(headers)? {
        Some((token, _)) => Ok(token),
        None => Err(ApiError::Unauthorized {
            code: "bad_credentials",
            message: "name the session to end: send its token as `Authorization: Bearer \
                      <token>` or in the `hisaab_session` cookie"
                .to_owned(),
        }),
    }
}

/// Ends a session: its token is refused from then on (SPEC §13.2).
#[utoipa::path(
    delete,
    path = "/v1/session",
    tag = "access",
    responses(
        (status = 204, description = "The session named by `Authorization: Bearer <token>` \
            or the `hisaab_session` cookie is ended, or was over already: the token is refused \
            from now on, and the cookie is cleared.",
            headers(("Set-Cookie" = String, description = "`hisaab_session=; HttpOnly; \
                SameSite=Strict; Path=/; Max-Age=0`."))),
        (status = 401, description = "`bad_credentials`: the request names no session \
            (no `Authorization: Bearer <token>`, no cookie), or `Authorization` is not \
            `Bearer <token>`.", body = doc::ErrorBody),
        (status = 503, description = "`overloaded`, `timeout` or `unavailable`.",
            body = doc::ErrorBody),
    )
)]
pub(crate) async fn end(
    State(app): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let token = token_to_end(&headers)?;
    let ended = app.access.end_session(&token, now_s())?;
    tracing::info!(ended, "a session was ended");
    let mut response = private(StatusCode::NO_CONTENT.into_response());
    response
        .headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_static(CLEAR_COOKIE));
    Ok(response)
}

/// `POST /app/signout`, the web app's "Sign out" button: ends the browser's session (its
/// cookie), clears the cookie and goes back to the public view with 303 See Other. A request
/// with no session (an expired one, or none) is sent there too: it is signed out either way.
/// The cookie is `SameSite=Strict`, so a form on another site cannot end it.
pub(crate) async fn sign_out(
    State(app): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    if let Ok(Some((token, _))) = session_token(&headers) {
        app.access.end_session(&token, now_s())?;
    }
    let mut response = private(StatusCode::SEE_OTHER.into_response());
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, HeaderValue::from_static("/"));
    headers.insert(header::SET_COOKIE, HeaderValue::from_static(CLEAR_COOKIE));
    Ok(response)
}
