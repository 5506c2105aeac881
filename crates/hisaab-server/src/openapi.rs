//! The OpenAPI 3 description, generated from the handlers' `#[utoipa::path]` attributes and
//! the types of [`crate::schema`]. Building it is deterministic: utoipa keeps paths, schemas
//! and properties in ordered maps, so the same code always gives the same bytes.

use utoipa::OpenApi;

use crate::api;
use crate::error::{ErrorBody, ErrorDetail};
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
        api::meta::openapi,
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
