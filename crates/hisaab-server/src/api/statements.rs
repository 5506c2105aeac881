//! `POST /v1/statements`: append a signed statement (SPEC §7).

use std::borrow::Cow;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use hisaab_log::key::decode_base64_canonical;
use hisaab_log::seal::Sealing;
use hisaab_log::{jcs, Envelope, FormatError, PublicKey, SigningKey};
use serde_json::Value;

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{require_json, RawBody};
use crate::schema::doc;
use crate::schema::Receipt;

/// Appends an envelope, or a sealed statement with its sealing. The answer is sent only once
/// the entry is durable.
#[utoipa::path(
    post,
    path = "/v1/statements",
    tag = "statements",
    request_body(
        content = doc::Submission,
        content_type = "application/json",
        description = "An envelope: a statement and its signature (SPEC §2); or, for a \
            format-2 statement whose body is in sealed form, `{\"envelope\":…,\"sealing\":…}` \
            with the sealing that opens it (SPEC §12.5)."
    ),
    responses(
        (status = 201, description = "Accepted and durable: the entry's receipt.", body = doc::Receipt),
        (status = 200, description = "The envelope is already in the ledger: its original \
            receipt, whatever changed since.", body = doc::Receipt),
        (status = 400, description = "`malformed_envelope`: not an envelope, or it breaks SPEC \
            §4 rule 1 (form), which includes a sealing that does not open the sealed body, a \
            sealed body without its sealing, and a sealing with a body in the clear (SPEC \
            §12.5).", body = doc::ErrorBody),
        (status = 401, description = "`bad_signature`: the signature does not verify strictly; \
            `unknown_signer`: `signer` is not the current key of an active member.",
            body = doc::ErrorBody),
        (status = 403, description = "`forbidden_kind`: the member's roles may not sign this \
            kind; `conflict_of_interest`: the statement concerns the signer's own operator.",
            body = doc::ErrorBody),
        (status = 409, description = "`duplicate_id`: the statement id is in the ledger with \
            another envelope.", body = doc::ErrorBody),
        (status = 413, description = "`envelope_too_large`: the envelope's canonical JSON is \
            over 65,536 bytes.", body = doc::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not sent as \
            `application/json`.", body = doc::ErrorBody),
        (status = 422, description = "Rules 3 to 5 of SPEC §4: `wrong_ledger`, \
            `time_out_of_window` or `rule_violation`.", body = doc::ErrorBody),
        (status = 503, description = "`overloaded`, `timeout` or `unavailable`; retry after \
            `Retry-After` seconds.", body = doc::ErrorBody),
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
    let (envelope, sealing) = match parse_submission(&body.bytes) {
        Ok(parts) => parts,
        Err(_) if only_the_signer_is_no_key(&body.bytes) => {
            return Err(ApiError::Rejected {
                status: StatusCode::UNAUTHORIZED,
                code: Cow::Borrowed("bad_signature"),
                message: "the signature cannot verify: `signer` is 32 bytes of canonical base64 \
                          but not an Ed25519 public key (SPEC §1, §2)"
                    .to_owned(),
            });
        }
        Err(error) => return Err(ApiError::from(error)),
    };
    let id = envelope.statement.id.clone();
    let kind = envelope.statement.kind.clone();
    let appended = app
        .store
        .append_sealed(envelope, sealing)
        .await
        .map_err(ApiError::from)?;
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

/// The envelope of a request body and, for a sealed submission (SPEC §12.5: a JSON object with
/// the member `envelope`, which an envelope never has), its sealing. Anything else is read as
/// an envelope, with the envelope's errors.
fn parse_submission(bytes: &[u8]) -> Result<(Envelope, Option<Sealing>), FormatError> {
    let value = jcs::parse_strict(bytes)?;
    let Value::Object(mut object) = value else {
        return Envelope::try_from_value(value).map(|envelope| (envelope, None));
    };
    let Some(envelope) = object.remove("envelope") else {
        return Envelope::try_from_value(Value::Object(object)).map(|envelope| (envelope, None));
    };
    let shape = |detail: String| FormatError::Json { detail };
    let sealing = object.remove("sealing").ok_or_else(|| {
        shape("a sealed submission is {\"envelope\":…,\"sealing\":…}: `sealing` is missing (SPEC §12.5)".into())
    })?;
    if let Some(extra) = object.keys().next() {
        return Err(shape(format!(
            "a sealed submission has only the members `envelope` and `sealing`, not `{}` \
             (SPEC §12.5)",
            crate::error::short(extra)
        )));
    }
    let envelope = Envelope::try_from_value(envelope)?;
    jcs::check_profile(&sealing)?;
    let sealing: Sealing = serde_json::from_value(sealing)
        .map_err(|e| shape(format!("`sealing` is not a sealing (SPEC §12.5): {e}")))?;
    Ok((envelope, Some(sealing)))
}

/// Whether `bytes` is an envelope in every respect but one: its `signer` is canonical base64 of
/// 32 bytes that is not an Ed25519 public key (not a point, or of small order). No schema can
/// say which 32 bytes are a point, so the description allows any such text; the server answers
/// what is true of it, that the signature does not verify under it (401 `bad_signature`, step 5
/// of SPEC §7.2), instead of refusing a request the description allows.
///
/// Run only on the error path: it parses the body again with the signer replaced by a key.
fn only_the_signer_is_no_key(bytes: &[u8]) -> bool {
    let Ok(mut value) = jcs::parse_strict(bytes) else {
        return false;
    };
    let pointer = if value.get("envelope").is_some() {
        "/envelope/statement/signer"
    } else {
        "/statement/signer"
    };
    let Some(Value::String(signer)) = value.pointer_mut(pointer) else {
        return false;
    };
    let is_32_bytes =
        decode_base64_canonical("a public key", signer).is_ok_and(|decoded| decoded.len() == 32);
    if !is_32_bytes || PublicKey::try_from_base64(signer).is_ok() {
        return false;
    }
    // Any valid key will do: the question is only whether the rest of the envelope parses.
    *signer = PublicKey::from_signing_key(&SigningKey::from_bytes(&[1; 32])).to_base64();
    serde_json::to_vec(&value).is_ok_and(|replaced| parse_submission(&replaced).is_ok())
}
