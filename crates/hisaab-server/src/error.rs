//! The one error type of the API and its mapping to statuses and bodies (SPEC §7).
//!
//! Every failure a handler, an extractor or a middleware meets becomes an [`ApiError`], and
//! [`ApiError::into_response`] is the single place where an error turns into HTTP: a status,
//! a stable snake_case `code` per cause, and a message a person understands, in the body
//! `{"error":{"code":"...","message":"..."}}`. Server-side failures (5xx) are logged with
//! their details and answered with a generic message, so no internal path, store detail or
//! stack trace ever reaches a client.

use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hisaab_log::note::NoteError;
use hisaab_log::FormatError;
use hisaab_store::{AppendError, CosignatureError, Rule, StoreError};

/// Seconds a client is asked to wait (`Retry-After`) after a 503.
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// Why a request failed. Each variant has one status and one stable `code`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// 413 `envelope_too_large`: the envelope's canonical JSON is over 65,536 bytes (SPEC §4
    /// rule 1), or the request body is over the server's body limit.
    #[error("{message}")]
    EnvelopeTooLarge {
        /// What was too large, for the client.
        message: String,
    },
    /// 413 `body_too_large`: a request body (other than an envelope) over its limit.
    #[error("the request body is larger than the limit of {limit_bytes} bytes")]
    BodyTooLarge {
        /// The limit, in bytes.
        limit_bytes: usize,
    },
    /// 400 `malformed_envelope`: not an envelope, or one that breaks SPEC §4 rule 1.
    #[error("{message}")]
    MalformedEnvelope {
        /// What is wrong with it.
        message: String,
    },
    /// 400 `malformed_body`: a request body that is not what the endpoint takes.
    #[error("{message}")]
    MalformedBody {
        /// What is wrong with it.
        message: String,
    },
    /// 415 `unsupported_media_type`: a `Content-Type` the endpoint does not take.
    #[error("unsupported Content-Type {found:?}: this endpoint takes {expected}")]
    UnsupportedMediaType {
        /// The media type that was sent.
        found: String,
        /// The media types the endpoint takes.
        expected: &'static str,
    },
    /// A statement the ledger refuses under a rule of SPEC §4: the status and code come from
    /// the rule (401 signature or signer, 403 role or conflict of interest, 409 duplicate id,
    /// 422 the rest of rules 3 to 5).
    #[error("{message}")]
    Rejected {
        /// 400, 401, 403, 409 or 422.
        status: StatusCode,
        /// The rule's stable code.
        code: Cow<'static, str>,
        /// What was broken.
        message: String,
    },
    /// 400 `malformed_cosignature`: not one C2SP cosignature line.
    #[error("{message}")]
    MalformedCosignature {
        /// What is wrong with it.
        message: String,
    },
    /// 401 `unknown_witness`: the line names no active member holding the `witness` role.
    #[error("{message}")]
    UnknownWitness {
        /// Who was not found.
        message: String,
    },
    /// 401 `bad_cosignature`: the cosignature does not verify under the witness's key.
    #[error("{message}")]
    BadCosignature {
        /// Why it does not verify.
        message: String,
    },
    /// 409 `stale_checkpoint`: the cosignature is for a checkpoint that is no longer the latest.
    #[error("{message}")]
    StaleCheckpoint {
        /// Which checkpoint was expected.
        message: String,
    },
    /// 401: a read request's credentials do not hold (SPEC §13): `bad_request_signature`,
    /// `stale_request`, `replayed_request`, `unknown_reader`, `revoked_reader`,
    /// `session_expired`, `bad_credentials`, `bad_session_signature`.
    #[error("{message}")]
    Unauthorized {
        /// The stable code.
        code: &'static str,
        /// What does not hold.
        message: String,
    },
    /// 403 `forbidden`: the reader may not read this (SPEC §13); the message says who may.
    #[error("{message}")]
    Forbidden {
        /// What is withheld, and who may read it.
        message: String,
    },
    /// 404 `not_found`: no such entry, event or route.
    #[error("{message}")]
    NotFound {
        /// What was not found.
        message: String,
    },
    /// 405 `method_not_allowed`.
    #[error("this method is not allowed on this path")]
    MethodNotAllowed,
    /// 400 `bad_query`: a query string that is malformed, or a parameter missing or invalid.
    #[error("{message}")]
    BadQuery {
        /// What is wrong.
        message: String,
    },
    /// 400 `bad_path`: a path parameter (seq, event hash) that is malformed.
    #[error("{message}")]
    BadPath {
        /// What is wrong.
        message: String,
    },
    /// 404 `tree_size_out_of_range`: a well-formed tree size the ledger has no tree of (beyond
    /// its current size), or a pair of sizes with no proof between them (`from > to`).
    #[error("{message}")]
    TreeSizeOutOfRange {
        /// Which size, and the allowed range.
        message: String,
    },
    /// 404 `index_out_of_range`: a well-formed leaf index or start position outside the tree.
    #[error("{message}")]
    IndexOutOfRange {
        /// Which index, and the allowed range.
        message: String,
    },
    /// 414 `uri_too_long`: a request target over the server's limit.
    #[error("the request target is longer than the limit of {limit_bytes} bytes")]
    UriTooLong {
        /// The limit, in bytes.
        limit_bytes: usize,
    },
    /// 431 `headers_too_large`: more header fields, or more header bytes, than the limit.
    #[error(
        "the request's headers are over the limit of {fields_max} fields or {bytes_max} bytes"
    )]
    HeadersTooLarge {
        /// The most header fields taken.
        fields_max: usize,
        /// The most header bytes (names and values) taken.
        bytes_max: usize,
    },
    /// 503 `saturated`: `GET /readyz` when a budget of requests in flight is used up.
    #[error("{message}")]
    Saturated {
        /// Which budget is used up.
        message: String,
    },
    /// 503 `ledger_empty`: the ledger has no genesis entry yet.
    #[error("the ledger is empty: it has no genesis entry yet")]
    LedgerEmpty,
    /// 503 `overloaded`: too many requests in flight; retry after `Retry-After` seconds.
    #[error("the server is busy with other requests; retry shortly")]
    Overloaded,
    /// 503 `timeout`: the request took longer than the server's limit.
    #[error("the request took longer than the server's limit of {limit_ms} ms; retry shortly")]
    Timeout {
        /// The limit, in milliseconds.
        limit_ms: u128,
    },
    /// 503 `storage_failed`: a batch failed to commit (a full disk, an I/O error); appends stay
    /// stopped until the server is restarted on repaired storage. Reads go on where they need
    /// nothing from the failed storage (the checkpoint, cached pages); a read the storage cannot
    /// answer any more gets this same 503, never a 500.
    #[error(
        "the ledger's storage failed (is the disk full?): nothing was appended, and appends are \
         stopped until the storage is repaired and the server restarted; reads work where the \
         storage still answers them"
    )]
    StorageFailed,
    /// 503 `unavailable`: the store is shutting down.
    #[error("the ledger is shutting down; retry shortly")]
    Unavailable,
    /// 500 `internal`: a failure on the server's side. Its details are logged, never sent.
    #[error("internal error; the server has logged the details")]
    Internal,
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::EnvelopeTooLarge { .. } | ApiError::BodyTooLarge { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::MalformedEnvelope { .. }
            | ApiError::MalformedBody { .. }
            | ApiError::MalformedCosignature { .. }
            | ApiError::BadQuery { .. }
            | ApiError::BadPath { .. } => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Rejected { status, .. } => *status,
            ApiError::UnknownWitness { .. }
            | ApiError::BadCosignature { .. }
            | ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::StaleCheckpoint { .. } => StatusCode::CONFLICT,
            ApiError::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            ApiError::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            // What the description allows but the ledger does not have is not found, not a bad
            // request: 400 means the request breaks the description.
            ApiError::NotFound { .. }
            | ApiError::TreeSizeOutOfRange { .. }
            | ApiError::IndexOutOfRange { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::LedgerEmpty
            | ApiError::Overloaded
            | ApiError::Saturated { .. }
            | ApiError::Timeout { .. }
            | ApiError::StorageFailed
            | ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable snake_case code of this error's cause.
    pub fn code(&self) -> &str {
        match self {
            ApiError::EnvelopeTooLarge { .. } => "envelope_too_large",
            ApiError::BodyTooLarge { .. } => "body_too_large",
            ApiError::MalformedEnvelope { .. } => "malformed_envelope",
            ApiError::MalformedBody { .. } => "malformed_body",
            ApiError::UnsupportedMediaType { .. } => "unsupported_media_type",
            ApiError::Rejected { code, .. } => code,
            ApiError::MalformedCosignature { .. } => "malformed_cosignature",
            ApiError::UnknownWitness { .. } => "unknown_witness",
            ApiError::BadCosignature { .. } => "bad_cosignature",
            ApiError::StaleCheckpoint { .. } => "stale_checkpoint",
            ApiError::Unauthorized { code, .. } => code,
            ApiError::Forbidden { .. } => "forbidden",
            ApiError::NotFound { .. } => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::BadQuery { .. } => "bad_query",
            ApiError::BadPath { .. } => "bad_path",
            ApiError::TreeSizeOutOfRange { .. } => "tree_size_out_of_range",
            ApiError::IndexOutOfRange { .. } => "index_out_of_range",
            ApiError::UriTooLong { .. } => "uri_too_long",
            ApiError::HeadersTooLarge { .. } => "headers_too_large",
            ApiError::Saturated { .. } => "saturated",
            ApiError::LedgerEmpty => "ledger_empty",
            ApiError::Overloaded => "overloaded",
            ApiError::Timeout { .. } => "timeout",
            ApiError::StorageFailed => "storage_failed",
            ApiError::Unavailable => "unavailable",
            ApiError::Internal => "internal",
        }
    }

    /// A 500 for a server-side failure: `cause` is logged here at error level and never sent.
    pub fn internal(context: &str, cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(context, error = %cause, "internal error");
        ApiError::Internal
    }

    /// A 404 `not_found` with `message`.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::NotFound {
            message: message.into(),
        }
    }

    /// A 400 `bad_query` with `message`.
    pub fn bad_query(message: impl Into<String>) -> Self {
        ApiError::BadQuery {
            message: message.into(),
        }
    }

    /// The body this error is answered with.
    pub fn to_body(&self) -> ErrorBody {
        ErrorBody::new(self.code(), self.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_client_error() {
            tracing::debug!(
                status = status.as_u16(),
                code = self.code(),
                "request refused"
            );
        }
        let mut response = (status, Json(self.to_body())).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        response
    }
}

/// The store's refusal of an envelope, mapped to SPEC §7: the one place where an
/// [`AppendError`] becomes HTTP. A rule violation answers with `rule_status` and the rule's
/// own code ([`Rule::code`]), so the model and the API share one vocabulary.
impl From<AppendError> for ApiError {
    fn from(error: AppendError) -> Self {
        match error {
            AppendError::Format(format) => ApiError::from(format),
            AppendError::Signature => ApiError::Rejected {
                status: StatusCode::UNAUTHORIZED,
                code: Cow::Borrowed("bad_signature"),
                message: "the signature does not verify strictly under `signer` (SPEC §1, §2)"
                    .to_owned(),
            },
            AppendError::Violation(violation) => {
                let Some(status) = rule_status(violation.rule) else {
                    tracing::error!(%violation, "the ledger's history could not be read");
                    return ApiError::Unavailable;
                };
                ApiError::Rejected {
                    status,
                    code: Cow::Borrowed(violation.rule.code()),
                    message: format!("{}: {}", violation.rule, violation.detail),
                }
            }
            AppendError::Closed => ApiError::Unavailable,
            AppendError::StorageFailed { reason } => {
                tracing::error!(error = %reason, "storage failed: appends are stopped");
                ApiError::StorageFailed
            }
            AppendError::Store(store) => ApiError::from(store),
            other => ApiError::internal("append", &other),
        }
    }
}

/// A store's error, mapped to SPEC §7: the one place where a [`StoreError`] becomes HTTP. What
/// the client asked for out of range is a 400, a cosignature the store would not keep a 400 or
/// a 401, a closed store a 503, anything else a 500 whose details are only logged.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::BeyondLog { what, value, size } => ApiError::TreeSizeOutOfRange {
                message: format!("{what} {value} is beyond the ledger's current size, {size}"),
            },
            StoreError::Proof(merkle) => ApiError::TreeSizeOutOfRange {
                message: merkle.to_string(),
            },
            StoreError::Cosignature(refused) => ApiError::from(refused),
            StoreError::Closed => ApiError::Unavailable,
            // A server that holds no master key cannot keep a sealed statement's openings.
            StoreError::NoMasterKey => {
                tracing::error!("a sealed statement came to a store without its master key");
                ApiError::Unavailable
            }
            other if other.is_storage_failure() => {
                tracing::error!(error = %other, "storage failed under a read");
                ApiError::StorageFailed
            }
            other => ApiError::internal("store", &other),
        }
    }
}

/// A cosignature line the store did not keep: 400 when the line is not one, else 401 (it
/// verifies under the witness's current key for no checkpoint the ledger keeps).
impl From<CosignatureError> for ApiError {
    fn from(error: CosignatureError) -> Self {
        match error {
            CosignatureError::Malformed {
                source: source @ NoteError::BadTimestamp { .. },
            } => ApiError::MalformedCosignature {
                message: source.to_string(),
            },
            CosignatureError::Malformed { .. } => ApiError::MalformedCosignature {
                message: "not a cosignature line: expected `— <witness> <base64 of key id, \
                          timestamp and signature>`"
                    .to_owned(),
            },
            // A line by a member who is no witness (any more) is one that verifies for no
            // checkpoint under a witness's key: the same answer.
            CosignatureError::NoCheckpoint {
                name,
                latest_size: size,
            }
            | CosignatureError::NotAWitness { name, size } => ApiError::BadCosignature {
                message: format!(
                    "the cosignature by {name:?} does not verify under the witness's current \
                     key over the latest checkpoint (size {size}) or any kept one"
                ),
            },
            other => ApiError::internal("cosignature", &other),
        }
    }
}

/// An envelope that is not one, or breaks SPEC §4 rule 1 before any ledger is consulted: 413
/// when it is too large, else 400.
impl From<FormatError> for ApiError {
    fn from(error: FormatError) -> Self {
        match error {
            FormatError::TooLarge { bytes, max } => ApiError::EnvelopeTooLarge {
                message: format!(
                    "the envelope is {bytes} bytes of canonical JSON, over the limit of {max} \
                     (SPEC §4 rule 1)"
                ),
            },
            other => ApiError::MalformedEnvelope {
                message: format!("not a valid envelope: {other}"),
            },
        }
    }
}

/// The status of SPEC §7 for a statement that breaks `rule`: 400 form, 401 signer, 403 role or
/// conflict of interest, 409 duplicate id, 422 the rest of rules 3 to 5 and the chain. `None`
/// when the history could not be read: that is no verdict, and answers 503 `unavailable`.
pub(crate) fn rule_status(rule: Rule) -> Option<StatusCode> {
    match rule {
        Rule::Form => Some(StatusCode::BAD_REQUEST),
        Rule::Signer => Some(StatusCode::UNAUTHORIZED),
        Rule::Permission | Rule::ConflictOfInterest => Some(StatusCode::FORBIDDEN),
        Rule::DuplicateId => Some(StatusCode::CONFLICT),
        Rule::Identity | Rule::Time | Rule::Reference | Rule::Chain => {
            Some(StatusCode::UNPROCESSABLE_ENTITY)
        }
        Rule::HistoryUnavailable => None,
        // A rule added later and not mapped yet is still a refusal of the statement.
        _ => Some(StatusCode::UNPROCESSABLE_ENTITY),
    }
}

/// The body of every error answer (SPEC §7), defined once in `hisaab-api`.
pub use hisaab_api::{ErrorBody, ErrorDetail};

/// Untrusted text shortened for an error message.
pub(crate) fn short(text: &str) -> String {
    const CHARS_MAX: usize = 80;
    if text.chars().count() <= CHARS_MAX {
        text.to_owned()
    } else {
        let mut shortened: String = text.chars().take(CHARS_MAX).collect();
        shortened.push('…');
        shortened
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_5xx_says_nothing_internal_and_503_asks_to_retry() {
        let response = ApiError::internal("test", &"/secret/path failed").into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = ApiError::Internal.to_body();
        assert!(!body.error.message.contains("/secret"));
        let response = ApiError::Overloaded.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers().get(header::RETRY_AFTER),
            Some(&HeaderValue::from(RETRY_AFTER_SECONDS))
        );
    }

    #[test]
    fn rule_statuses_and_codes_follow_spec_section_7() {
        let expected = [
            (Rule::Form, 400, "malformed_envelope"),
            (Rule::Signer, 401, "unknown_signer"),
            (Rule::Permission, 403, "forbidden_kind"),
            (Rule::ConflictOfInterest, 403, "conflict_of_interest"),
            (Rule::DuplicateId, 409, "duplicate_id"),
            (Rule::Identity, 422, "wrong_ledger"),
            (Rule::Time, 422, "time_out_of_window"),
            (Rule::Reference, 422, "rule_violation"),
            (Rule::Chain, 422, "rule_violation"),
        ];
        for (rule, status, code) in expected {
            let error = ApiError::from(AppendError::Violation(hisaab_store::Violation::new(
                3, rule, "x",
            )));
            assert_eq!(error.status().as_u16(), status, "{rule:?}");
            assert_eq!(error.code(), code, "{rule:?}");
        }
        let unreadable = hisaab_store::Violation::new(3, Rule::HistoryUnavailable, "x");
        assert_eq!(
            ApiError::from(AppendError::Violation(unreadable)),
            ApiError::Unavailable
        );
        assert_eq!(
            ApiError::from(AppendError::Signature).code(),
            "bad_signature"
        );
        assert_eq!(ApiError::from(AppendError::Closed), ApiError::Unavailable);
    }

    #[test]
    fn codes_are_snake_case() {
        let errors = [
            ApiError::EnvelopeTooLarge {
                message: "x".into(),
            },
            ApiError::UnsupportedMediaType {
                found: "text/plain".into(),
                expected: "application/json",
            },
            ApiError::TreeSizeOutOfRange {
                message: "x".into(),
            },
            ApiError::Timeout { limit_ms: 5 },
            ApiError::MethodNotAllowed,
        ];
        for error in errors {
            assert!(error
                .code()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
    }
}
