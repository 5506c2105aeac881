//! The OpenAPI 3 description, generated from the handlers' `#[utoipa::path]` attributes and
//! the types of [`crate::schema`]. Building it is deterministic: utoipa keeps paths, schemas
//! and properties in ordered maps, so the same code always gives the same bytes.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::{HeaderBuilder, OpenApi as Document};
use utoipa::{Modify, OpenApi, PartialSchema};

use crate::api::{self, JSON};
use crate::error::{ApiError, ErrorBody, ErrorDetail};
use crate::schema;

/// The API's description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hisaab",
        description = "The HTTP API (v1) of Hisaab, a tamper-evident accountability ledger of \
            the PTA's Telecom Cyber Security Task Force: signed statements appended to a hash \
            chain and an RFC 9162 Merkle tree, signed C2SP checkpoints, proofs, the state of \
            operators' KPIs, and bundles to verify offline. Every error answers \
            `{\"error\":{\"code\":\"<snake_case>\",\"message\":\"...\"}}`; every 503 carries \
            `Retry-After`.",
        license(name = "Apache-2.0")
    ),
    paths(
        api::statements::submit,
        api::log::checkpoint,
        api::log::entries,
        api::log::entry,
        api::log::event,
        api::log::inclusion_proof,
        api::log::consistency_proof,
        api::state::state,
        api::log::bundle,
        api::log::history,
        api::witness::cosign,
        api::meta::healthz,
        api::meta::readyz,
        openapi,
        api::meta::index,
    ),
    components(schemas(
        ErrorBody,
        ErrorDetail,
        schema::Receipt,
        schema::InclusionProof,
        schema::ConsistencyProof,
        schema::Health,
        schema::Readiness,
        schema::CosignatureRequest,
        schema::CosignatureAccepted,
        schema::HexHash,
        schema::Envelope,
        schema::Statement,
        schema::Entry,
        schema::State,
        schema::OperatorState,
        schema::KpiState,
        schema::PillarScores,
        schema::CommitmentCounts,
        schema::DisputeCounts,
        schema::MemberState,
        schema::Pillar,
        schema::Verdict,
        schema::KpiStatus,
        schema::Role,
        schema::MemberStatus,
    )),
    modifiers(&RetryAfter),
    tags(
        (name = "statements", description = "Appending signed statements."),
        (name = "log", description = "Checkpoints, entries and bundles."),
        (name = "proofs", description = "RFC 9162 inclusion and consistency proofs."),
        (name = "state", description = "The projection of SPEC §5."),
        (name = "witness", description = "Witnesses' cosignatures of checkpoints."),
        (name = "meta", description = "Health, this description, and a page for people."),
    )
)]
pub struct ApiDoc;

/// The description as a pretty-printed JSON document.
///
/// # Errors
/// [`serde_json::Error`] if it cannot be serialised (it always can).
pub fn to_json() -> Result<String, serde_json::Error> {
    ApiDoc::openapi().to_pretty_json()
}

/// The OpenAPI 3 description of this API, generated from the code.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    responses((status = 200, description = "An OpenAPI 3.1 document.", body = Object))
)]
pub(crate) async fn openapi() -> Response {
    match to_json() {
        Ok(json) => (
            [(header::CONTENT_TYPE, HeaderValue::from_static(JSON))],
            json,
        )
            .into_response(),
        Err(error) => ApiError::internal("openapi", &error).into_response(),
    }
}

/// Declares the `Retry-After` header on every 503 answer of every operation: the description's
/// side of [`ApiError`]'s `IntoResponse`, which sends it with every 503, so neither is written
/// out per endpoint.
struct RetryAfter;

impl Modify for RetryAfter {
    fn modify(&self, openapi: &mut Document) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                let Some(utoipa::openapi::RefOr::T(response)) =
                    operation.responses.responses.get_mut("503")
                else {
                    continue;
                };
                response.headers.insert(
                    "Retry-After".to_owned(),
                    HeaderBuilder::new()
                        .schema(u32::schema())
                        .description(Some("Seconds to wait before retrying."))
                        .build(),
                );
            }
        }
    }
}
