//! `POST /v1/cosignatures`: a witness's cosignature of the latest checkpoint (SPEC §3, C2SP
//! tlog-cosignature).
//!
//! The server refuses what it can answer precisely and cheaply before the store's work, since
//! anyone may post here: the line's form, down to the length of its signature (400); that the
//! name is a member holding the `witness` role and active (401 when unknown, 403 when not a
//! witness), looked up in the projection cached for the latest checkpoint, so that a flood of
//! junk lines costs a map look-up each and never a replay. The signature is checked once, by
//! the store, which keeps a line only if it verifies under the witness's current key over a
//! checkpoint it keeps (401 otherwise, 400 for a line that is no cosignature). A checkpoint
//! the client names that is not the latest is a 409.

use std::borrow::Cow;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use hisaab_log::note::Checkpoint;
use hisaab_store::{CosignatureError, StoreError};

use super::blocking;
use crate::app::AppState;
use crate::error::{short, ApiError};
use crate::extract::{media_type, RawBody};
use crate::schema::doc;
use crate::schema::{
    CosignatureAccepted, CosignatureRequest, COSIGNATURE_LINE_BYTES_MAX as LINE_BYTES_MAX,
};

/// Adds a witness's cosignature line to the latest checkpoint.
#[utoipa::path(
    post,
    path = "/v1/cosignatures",
    tag = "witness",
    request_body(
        description = "Either the cosignature line alone as `text/plain` (`— <witness> \
            <base64>`), or JSON naming the line and the checkpoint it cosigns.",
        content(
            (doc::CosignatureLine = "text/plain"),
            (doc::CosignatureRequest = "application/json"),
        )
    ),
    responses(
        (status = 201, description = "The cosignature is added to the latest checkpoint.",
            body = doc::CosignatureAccepted),
        (status = 200, description = "The latest checkpoint already holds this cosignature.",
            body = doc::CosignatureAccepted),
        (status = 400, description = "`malformed_cosignature`: not one cosignature line; \
            `malformed_body`: not UTF-8, or JSON of another shape.", body = doc::ErrorBody),
        (status = 401, description = "`unknown_witness`: no member by the line's name; \
            `bad_cosignature`: it does not verify under the witness's current key over the \
            latest checkpoint.", body = doc::ErrorBody),
        (status = 403, description = "`not_a_witness`: the member is revoked or does not hold \
            the `witness` role.", body = doc::ErrorBody),
        (status = 409, description = "`stale_checkpoint`: the checkpoint sent is not the \
            latest; fetch it, check consistency and cosign again.", body = doc::ErrorBody),
        (status = 413, description = "`body_too_large`.", body = doc::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: neither `text/plain` nor \
            `application/json`.", body = doc::ErrorBody),
        (status = 503, description = "`overloaded`, `timeout` or `unavailable`.",
            body = doc::ErrorBody),
    )
)]
pub(crate) async fn cosign(
    State(app): State<AppState>,
    body: RawBody,
) -> Result<(StatusCode, Json<CosignatureAccepted>), ApiError> {
    let request = parse_request(&body)?;
    let line = normalize_line(&request.cosignature)?;
    let witness = line_name(&line)?;
    let latest = app.store.latest_checkpoint();
    if latest.note.is_empty() {
        return Err(ApiError::LedgerEmpty);
    }
    if let Some(sent) = &request.checkpoint {
        // Refuse a malformed checkpoint before any work.
        checkpoint_body(sent)?;
    }
    check_signature_form(&line)?;
    check_witness(&app, latest.checkpoint.size, &witness).await?;
    // The store verifies the line, for the latest checkpoint or an older one it still keeps
    // (a witness may race with appends), and keeps it only then. A line the latest checkpoint
    // already holds changes nothing and answers 200.
    let already_kept = latest
        .note
        .lines()
        .any(|kept| kept == line.trim_end_matches('\n'));
    let store = app.store.clone();
    let to_add = line.clone();
    let added = blocking(move || Ok(store.add_cosignature(&to_add))).await?;
    let signed = match added {
        Ok(signed) => signed,
        Err(StoreError::Cosignature(
            refused
            @ (CosignatureError::NoCheckpoint { .. } | CosignatureError::NotAWitness { .. }),
        )) => {
            if let Some(sent) = &request.checkpoint {
                let sent = checkpoint_body(sent)?;
                if sent.size != latest.checkpoint.size {
                    return Err(ApiError::StaleCheckpoint {
                        message: format!(
                            "the checkpoint cosigned (size {}) is neither the latest (size {}) \
                             nor one the ledger still keeps; fetch GET /v1/checkpoint, check \
                             consistency and cosign it",
                            sent.size, latest.checkpoint.size
                        ),
                    });
                }
            }
            return Err(refused.into());
        }
        Err(error) => return Err(error.into()),
    };
    if already_kept && signed.checkpoint.size == latest.checkpoint.size {
        return Ok((
            StatusCode::OK,
            Json(CosignatureAccepted {
                witness,
                tree_size: signed.checkpoint.size,
                checkpoint: signed.note,
            }),
        ));
    }
    tracing::info!(
        witness,
        tree_size = signed.checkpoint.size,
        "cosignature added"
    );
    Ok((
        StatusCode::CREATED,
        Json(CosignatureAccepted {
            witness,
            tree_size: signed.checkpoint.size,
            checkpoint: signed.note,
        }),
    ))
}

/// The request, from a `text/plain` line or JSON.
fn parse_request(body: &RawBody) -> Result<CosignatureRequest, ApiError> {
    let text = std::str::from_utf8(&body.bytes).map_err(|_| ApiError::MalformedBody {
        message: "the body is not UTF-8".to_owned(),
    })?;
    match media_type(&body.headers).as_deref() {
        Some("application/json") => {
            serde_json::from_str(text).map_err(|error| ApiError::MalformedBody {
                message: format!(
                    "expected {{\"cosignature\": \"<line>\", \"checkpoint\": \"<note>\"}}: \
                     {error}"
                ),
            })
        }
        None | Some("text/plain") => Ok(CosignatureRequest {
            cosignature: text.to_owned(),
            checkpoint: None,
        }),
        Some(other) => Err(ApiError::UnsupportedMediaType {
            found: other.to_owned(),
            expected: "text/plain or application/json",
        }),
    }
}

/// One signature line ending in exactly one `\n`.
fn normalize_line(text: &str) -> Result<String, ApiError> {
    let line = text.strip_suffix('\n').unwrap_or(text);
    let malformed = |reason: &str| ApiError::MalformedCosignature {
        message: format!("{reason}; expected one line `— <witness> <base64>`"),
    };
    if line.len() > LINE_BYTES_MAX {
        return Err(malformed("the line is too long"));
    }
    if line.contains('\n') {
        return Err(malformed("the body holds more than one line"));
    }
    if !line.starts_with("\u{2014} ") {
        return Err(malformed(
            "a signature line starts with an em dash and a space",
        ));
    }
    Ok(format!("{line}\n"))
}

/// The key name of a signature line: the witness's member id.
fn line_name(line: &str) -> Result<String, ApiError> {
    let rest = line.strip_prefix("\u{2014} ").unwrap_or(line);
    match rest.split_once(' ') {
        Some((name, _)) if !name.is_empty() => Ok(name.to_owned()),
        _ => Err(ApiError::MalformedCosignature {
            message: format!(
                "expected `— <witness> <base64>`, found {:?}",
                short(line.trim_end())
            ),
        }),
    }
}

/// The checkpoint body of a note (the part before its blank line), or the body itself.
fn checkpoint_body(text: &str) -> Result<Checkpoint, ApiError> {
    let body = match text.find("\n\n") {
        Some(end) => text.get(..=end).unwrap_or(text),
        None => text,
    };
    Checkpoint::try_parse_body(body).map_err(|error| ApiError::MalformedBody {
        message: format!("`checkpoint` is not a checkpoint: {error}"),
    })
}

/// Refuses a line whose signature is not base64 of a key id, a timestamp and a signature (4,
/// 8 and 64 bytes): a check on the line alone, before any look-up.
fn check_signature_form(line: &str) -> Result<(), ApiError> {
    use base64::Engine as _;
    const SIGNATURE_BYTES: usize = 4 + 8 + 64;
    let encoded = line
        .trim_end_matches('\n')
        .rsplit(' ')
        .next()
        .unwrap_or_default();
    match base64::engine::general_purpose::STANDARD.decode(encoded) {
        Ok(bytes) if bytes.len() == SIGNATURE_BYTES => Ok(()),
        _ => Err(ApiError::MalformedCosignature {
            message: "not a cosignature line: expected `— <witness> <base64 of key id, \
                      timestamp and signature>` (76 bytes)"
                .to_owned(),
        }),
    }
}

/// Refuses `name` unless it is an active member holding the `witness` role, read from the
/// state of SPEC §5 at `tree_size` (cached per tree size): a map look-up, so that a flood of
/// lines by strangers never costs the store a replay. The store checks it again, with the
/// signature, before it keeps a line.
async fn check_witness(app: &AppState, tree_size: u64, name: &str) -> Result<(), ApiError> {
    let projection = app.projections.get(&app.store, tree_size, None).await?;
    let Some(member) = projection.members.get(name) else {
        return Err(ApiError::UnknownWitness {
            message: format!("no member is named {:?}", short(name)),
        });
    };
    if !member.is_witness || !member.is_active {
        return Err(ApiError::Rejected {
            status: StatusCode::FORBIDDEN,
            code: Cow::Borrowed("not_a_witness"),
            message: format!(
                "member {name:?} is {} and may not cosign checkpoints",
                if member.is_active {
                    "not a witness"
                } else {
                    "revoked"
                }
            ),
        });
    }
    Ok(())
}
