//! Extractors whose rejections are [`ApiError`]s, so that a malformed query string, path
//! parameter or body is answered in the error shape of SPEC §7 like every other error.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::app::AppState;
use crate::error::ApiError;

/// A query string deserialised into `T`; any failure is a 400 `bad_query`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Query<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(ApiError::bad_query(rejection.body_text())),
        }
    }
}

/// One path parameter as text; the handler parses it so that it can say what is wrong.
#[derive(Debug, Clone)]
pub(crate) struct PathText(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for PathText {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<String>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(PathText(value)),
            Err(rejection) => Err(ApiError::BadPath {
                message: rejection.body_text(),
            }),
        }
    }
}

/// The raw request body, read up to [`crate::ServerConfig::body_bytes_max`] (enforced by
/// axum's `DefaultBodyLimit`, set by [`crate::router`]). Over the limit it is a 413
/// `body_too_large`; a body that cannot be read is a 400 `malformed_body`.
#[derive(Debug, Clone)]
pub(crate) struct RawBody {
    /// The request's headers.
    pub(crate) headers: HeaderMap,
    /// The body.
    pub(crate) bytes: Bytes,
}

impl FromRequest<AppState> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let headers = request.headers().clone();
        match Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(RawBody { headers, bytes }),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::BodyTooLarge {
                    limit_bytes: state.config.body_bytes_max,
                })
            }
            Err(rejection) => Err(ApiError::MalformedBody {
                message: format!(
                    "the request body could not be read: {}",
                    rejection.body_text()
                ),
            }),
        }
    }
}

/// The media type of the `Content-Type` header, lowercased and without parameters; `None`
/// when there is no such header.
pub(crate) fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?;
    let text = String::from_utf8_lossy(value.as_bytes());
    let essence = text.split(';').next().unwrap_or_default().trim();
    Some(essence.to_ascii_lowercase())
}

/// Refuses a `Content-Type` other than `application/json` (or a `+json` type). A request
/// without one is taken as JSON, so that plain clients such as `curl --data` work.
pub(crate) fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    match media_type(headers) {
        None => Ok(()),
        Some(media) if media == "application/json" || media.ends_with("+json") => Ok(()),
        Some(found) => Err(ApiError::UnsupportedMediaType {
            found,
            expected: "application/json",
        }),
    }
}

/// Numbers in paths and query strings: plain decimal digits only, as the description says.
///
/// Rust's `u64::from_str` (which serde's query parsing uses) also takes a leading `+`, and
/// leading zeros are digits like any other; so `/v1/entries/+5` and `/v1/entries/05` would
/// answer like `/v1/entries/5`. One resource, one name: those are refused.
pub(crate) mod decimal {
    use serde::{Deserialize, Deserializer};

    /// The longest decimal a `u64` takes (`18446744073709551615`).
    const DIGITS_MAX: usize = 20;

    /// `text` as a `u64` if it is `0` or digits without a leading zero, and fits.
    pub(crate) fn parse(text: &str) -> Option<u64> {
        let bytes = text.as_bytes();
        let well_formed = !bytes.is_empty()
            && bytes.len() <= DIGITS_MAX
            && bytes.iter().all(u8::is_ascii_digit)
            && (bytes.len() == 1 || bytes.first() != Some(&b'0'));
        if well_formed {
            text.parse().ok()
        } else {
            None
        }
    }

    fn refuse<E: serde::de::Error>(text: &str) -> E {
        E::custom(format!(
            "expected a non-negative integer in plain decimal digits (no sign, no leading \
             zero), found {:?}",
            crate::error::short(text)
        ))
    }

    /// A required query parameter.
    pub(crate) fn required<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse(&text).ok_or_else(|| refuse(&text))
    }

    /// An optional query parameter (use with `#[serde(default)]`).
    pub(crate) fn optional<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<u64>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(None),
            Some(text) => parse(&text).map(Some).ok_or_else(|| refuse(&text)),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::parse;

        #[test]
        fn takes_plain_decimals_only() {
            assert_eq!(parse("0"), Some(0));
            assert_eq!(parse("5"), Some(5));
            assert_eq!(parse("18446744073709551615"), Some(u64::MAX));
            for refused in [
                "",
                "+5",
                "-5",
                "05",
                "00",
                " 5",
                "5 ",
                "0x5",
                "5e0",
                "١",
                "18446744073709551616",
            ] {
                assert_eq!(parse(refused), None, "{refused:?}");
            }
        }
    }
}
