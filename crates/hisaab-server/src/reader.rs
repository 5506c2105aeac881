//! Who reads a request (SPEC §13), decided from its credentials against the members of the
//! latest state the server holds: the extractor of the API's handlers ([`ReaderOf`]), the
//! middleware of the web app's pages ([`page_reader`]), and the answers that depend on who
//! asks ([`private`], [`withheld`]). What guards the credentials against replay (nonces,
//! challenges, sessions) is [`crate::access`], below the application's state.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use hisaab_api::access::{parse_signature, parse_signature_input, signature_base, SESSION_COOKIE};
use hisaab_log::Signature;
use hisaab_model::view::Reader;
use hisaab_model::{MemberStatus, Scope, Slug, State};

use crate::access::{now_s, unauthorized, SIGNATURE_SKEW_S};
use crate::app::AppState;
use crate::error::{short, ApiError};

/// The reader of a request, from its credentials. Refused (401) when credentials are sent but
/// do not hold; no credentials at all is the public reader.
#[derive(Debug, Clone)]
pub(crate) struct ReaderOf(pub(crate) Reader);

impl FromRequestParts<AppState> for ReaderOf {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        reader_of(parts, app)
            .await
            .map(|(reader, _)| ReaderOf(reader))
    }
}

/// How a request's credentials came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Credentials {
    /// A request signed with the member's key (SPEC §13.1).
    Signature,
    /// `Authorization: Bearer` with a session token (SPEC §13.2).
    Bearer,
    /// The session cookie a browser keeps (SPEC §13.2).
    Cookie,
}

/// The member a request reads as, and how they proved it.
#[derive(Debug, Clone)]
pub(crate) struct Who {
    pub(crate) member: String,
    pub(crate) roles: Vec<hisaab_model::Role>,
    pub(crate) credentials: Credentials,
}

/// The reader of a request and, when it carried credentials that hold, who they are.
async fn reader_of(parts: &Parts, app: &AppState) -> Result<(Reader, Option<Who>), ApiError> {
    let headers = &parts.headers;
    if headers.contains_key("signature-input") || headers.contains_key("signature") {
        return signed_reader(parts, app)
            .await
            .map(|(reader, who)| (reader, Some(who)));
    }
    if let Some((token, credentials)) = session_token(headers)? {
        return session_reader(&token, credentials, app)
            .await
            .map(|(reader, who)| (reader, Some(who)));
    }
    Ok((Reader::Public, None))
}

/// The session token of `Authorization: Bearer` or the session cookie, if any, and which.
pub(crate) fn session_token(
    headers: &HeaderMap,
) -> Result<Option<(String, Credentials)>, ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let text = value.to_str().unwrap_or_default();
        return match text.strip_prefix("Bearer ") {
            Some(token) if !token.is_empty() => {
                Ok(Some((token.trim().to_owned(), Credentials::Bearer)))
            }
            _ => Err(unauthorized(
                "bad_credentials",
                "Authorization must be `Bearer <session token>` (POST /v1/session gives one); \
                 or sign the request with a member's key (SPEC §13)",
            )),
        };
    }
    for value in headers.get_all(header::COOKIE) {
        let text = value.to_str().unwrap_or_default();
        for pair in text.split(';') {
            if let Some((name, token)) = pair.trim().split_once('=') {
                if name == SESSION_COOKIE && !token.is_empty() {
                    return Ok(Some((token.to_owned(), Credentials::Cookie)));
                }
            }
        }
    }
    Ok(None)
}

/// The latest state, as the registry that decides who reads.
async fn latest_state(
    app: &AppState,
) -> Result<std::sync::Arc<crate::projection::Projection>, ApiError> {
    let size = app.store.size();
    if size == 0 {
        return Err(ApiError::LedgerEmpty);
    }
    app.projections.get(&app.store, size, None).await
}

fn member_of<'a>(state: &'a State, member: &str) -> Option<&'a hisaab_model::MemberState> {
    Slug::try_new(member)
        .ok()
        .and_then(|id| state.members.get(&id))
}

async fn signed_reader(parts: &Parts, app: &AppState) -> Result<(Reader, Who), ApiError> {
    let headers = &parts.headers;
    let text = |name: &str| -> Result<&str, ApiError> {
        let value = headers.get(name).ok_or_else(|| {
            unauthorized(
                "bad_request_signature",
                format!(
                    "a signed request carries Signature-Input, Signature and Date; {name} is \
                     missing"
                ),
            )
        })?;
        value.to_str().map_err(|_| {
            unauthorized(
                "bad_request_signature",
                format!("{name} is not printable ASCII"),
            )
        })
    };
    let bad = |message: String| unauthorized("bad_request_signature", message);
    let input = text("signature-input")?;
    let signature = text("signature")?;
    let date = text("date")?;
    let (params, params_value) =
        parse_signature_input(input).map_err(|error| bad(error.to_string()))?;
    let signature = parse_signature(signature).map_err(|error| bad(error.to_string()))?;
    let signature = Signature::try_from_base64(signature).map_err(|_| {
        bad("Signature holds no 64-byte Ed25519 signature in canonical base64".to_owned())
    })?;
    let now = now_s();
    let date_s = httpdate::parse_http_date(date)
        .ok()
        .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .ok_or_else(|| {
            bad(format!(
                "Date {:?} is not an HTTP date such as `Sun, 06 Dec 2026 10:46:24 GMT`",
                short(date)
            ))
        })?;
    for (what, at) in [("created", params.created), ("Date", date_s)] {
        if at.abs_diff(now) > SIGNATURE_SKEW_S {
            return Err(unauthorized(
                "stale_request",
                format!(
                    "the request's {what} is {} s from the server's clock, more than the {} s \
                     allowed: sign it again now",
                    at.abs_diff(now),
                    SIGNATURE_SKEW_S
                ),
            ));
        }
    }
    let projection = latest_state(app).await?;
    let state = &projection.state;
    let member = member_of(state, &params.keyid).ok_or_else(|| {
        unauthorized(
            "unknown_reader",
            format!(
                "keyid {:?} names no member of this ledger (keyid is the member id)",
                short(&params.keyid)
            ),
        )
    })?;
    let base = signature_base(
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query().unwrap_or_default(),
        date,
        &params_value,
    );
    if member
        .key
        .verify_strict(base.as_bytes(), &signature)
        .is_err()
    {
        return Err(bad(format!(
            "the signature does not verify under member {}'s current key over the signature \
             base of SPEC §13.1 (a rotated-away key is refused)",
            params.keyid
        )));
    }
    if member.status == MemberStatus::Revoked {
        return Err(unauthorized(
            "revoked_reader",
            format!("member {} was revoked and may no longer read", params.keyid),
        ));
    }
    if !app
        .access
        .remember_nonce(&params.keyid, &params.nonce, now)?
    {
        return Err(unauthorized(
            "replayed_request",
            format!(
                "nonce {:?} of member {} was used already: every signed request needs a new one",
                params.nonce, params.keyid
            ),
        ));
    }
    let who = Who {
        member: params.keyid.clone(),
        roles: member.roles.clone(),
        credentials: Credentials::Signature,
    };
    Ok((Reader::of_member(member), who))
}

async fn session_reader(
    token: &str,
    credentials: Credentials,
    app: &AppState,
) -> Result<(Reader, Who), ApiError> {
    let now = now_s();
    let Some(session) = app.access.session(token, now)? else {
        return Err(unauthorized(
            "session_expired",
            "the session is unknown or has expired: open a new one (POST /v1/session/challenge, \
             then POST /v1/session)",
        ));
    };
    let projection = latest_state(app).await?;
    let member = member_of(&projection.state, &session.member);
    match member {
        Some(member) if member.status == MemberStatus::Revoked => Err(unauthorized(
            "revoked_reader",
            format!(
                "member {} was revoked and may no longer read",
                session.member
            ),
        )),
        Some(member) if member.key == session.key => Ok((
            Reader::of_member(member),
            Who {
                member: session.member.clone(),
                roles: member.roles.clone(),
                credentials,
            },
        )),
        _ => Err(unauthorized(
            "session_expired",
            format!(
                "the session ended: member {}'s key was rotated since it was opened",
                session.member
            ),
        )),
    }
}

/// The header value of `Vary` on answers that depend on who asks.
pub(crate) const VARY_READER: &str = "Authorization, Cookie, Signature, Signature-Input";

/// Marks an answer as depending on who asks: never stored by a shared cache.
pub(crate) fn private(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(header::VARY, HeaderValue::from_static(VARY_READER));
    response
}

/// The web app's pages read as the request's reader: it is decided here, as for the API, and
/// handed to the pages in the request's extensions with who signed in. A signed request or an
/// `Authorization` header that does not hold gets the API's 401; a browser's session cookie
/// that no longer holds (the session expired, was ended, or its member was revoked) gets the
/// public view, which says why, and the cookie is cleared. A page depends on who reads it, so
/// it is private; the app's assets are not.
pub(crate) async fn page_reader(
    axum::extract::State(app): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::response::IntoResponse as _;
    let (mut parts, body) = request.into_parts();
    let asset = parts.uri.path().starts_with("/app/assets/");
    let by_cookie = !parts.headers.contains_key("signature-input")
        && !parts.headers.contains_key("signature")
        && matches!(
            session_token(&parts.headers),
            Ok(Some((_, Credentials::Cookie)))
        );
    let (reader, clear) = match reader_of(&parts, &app).await {
        Ok((class, who)) => (page_reader_of(class, who), false),
        Err(ApiError::Unauthorized { message, .. }) if by_cookie => {
            (hisaab_web::Reader::session_ended(message), true)
        }
        Err(error) => return error.into_response(),
    };
    parts.extensions.insert(reader);
    let mut response = next
        .run(axum::extract::Request::from_parts(parts, body))
        .await;
    if clear {
        response
            .headers_mut()
            .append(header::SET_COOKIE, HeaderValue::from_static(CLEAR_COOKIE));
    }
    if asset {
        response
    } else {
        private(response)
    }
}

/// The `Set-Cookie` value that makes a browser forget its session cookie.
pub(crate) const CLEAR_COOKIE: &str =
    "hisaab_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0";

fn page_reader_of(class: Reader, who: Option<Who>) -> hisaab_web::Reader {
    match who {
        Some(who) => hisaab_web::Reader::signed_in(
            class,
            hisaab_web::SignedIn {
                member: who.member,
                roles: who.roles,
                session: who.credentials != Credentials::Signature,
            },
        ),
        None => hisaab_web::Reader::new(class),
    }
}

/// The 403 of an entry withheld from `reader`.
pub(crate) fn withheld(seq: u64, kind: &str, scope: &Scope, reader: &Reader) -> ApiError {
    ApiError::Forbidden {
        message: format!(
            "entry {seq} ({}) is withheld from a {} reader: it may be read by {}; its leaf \
             hash stays provable (GET /v1/proofs/inclusion?index={seq})",
            short(kind),
            reader.label(),
            hisaab_model::view::readable_by(scope)
        ),
    }
}
