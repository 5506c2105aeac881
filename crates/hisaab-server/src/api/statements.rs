//! `POST /v1/statements`: append a signed statement (SPEC §7).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use hisaab_log::Envelope;

use crate::app::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{require_json, RawBody};
use crate::schema::{self, Receipt};

/// Appends an envelope. The answer is sent only once the entry is durable.
#[utoipa::path(
    post,
    path = "/v1/statements",
    tag = "statements",
    request_body(
        content = schema::Envelope,
        content_type = "application/json",
        description = "An envelope: a statement and its signature (SPEC §2)."
    ),
    responses(
        (status = 201, description = "Accepted and durable: the entry's receipt.", body = Receipt),
        (status = 200, description = "The envelope is already in the ledger: its original \
            receipt, whatever changed since.", body = Receipt),
        (status = 400, description = "`malformed_envelope`: not an envelope, or it breaks SPEC \
            §4 rule 1 (form).", body = ErrorBody),
        (status = 401, description = "`bad_signature`: the signature does not verify strictly; \
            `unknown_signer`: `signer` is not the current key of an active member.",
            body = ErrorBody),
        (status = 403, description = "`forbidden_kind`: the member's roles may not sign this \
            kind; `conflict_of_interest`: the statement concerns the signer's own operator.",
            body = ErrorBody),
        (status = 409, description = "`duplicate_id`: the statement id is in the ledger with \
            another envelope.", body = ErrorBody),
        (status = 413, description = "`envelope_too_large`: the envelope's canonical JSON is \
            over 65,536 bytes.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not sent as \
            `application/json`.", body = ErrorBody),
        (status = 422, description = "Rules 3 to 5 of SPEC §4: `wrong_ledger`, \
            `time_out_of_window` or `rule_violation`.", body = ErrorBody),
        (status = 503, description = "`overloaded`, `timeout` or `unavailable`; retry after \
            `Retry-After` seconds.", body = ErrorBody),
    )
)]
pub(crate) async fn submit(
    State(app): State<AppState>,
    body: Result<RawBody, ApiError>,
) -> Result<(StatusCode, Json<Receipt>), ApiError> {
    let body = body.map_err(|error| match error {
        ApiError::BodyTooLarge { limit_bytes } => ApiError::EnvelopeTooLarge {
            message: format!(
                "the request body is over the server's limit of {limit_bytes} bytes; an \
                 envelope's canonical JSON may be at most 65,536 bytes"
            ),
        },
        other => other,
    })?;
    require_json(&body.headers)?;
    let envelope = Envelope::try_from_json(&body.bytes).map_err(ApiError::from)?;
    let id = envelope.statement.id.clone();
    let kind = envelope.statement.kind.clone();
    let appended = app.store.append(envelope).await.map_err(ApiError::from)?;
    let receipt = appended.receipt;
    let status = if appended.created {
        tracing::info!(seq = receipt.seq, %id, %kind, "statement appended");
        StatusCode::CREATED
    } else {
        tracing::info!(seq = receipt.seq, %id, %kind, "statement already in the ledger");
        StatusCode::OK
    };
    Ok((status, Json(receipt)))
}
