//! The OpenAPI 3 description, generated from the handlers' `#[utoipa::path]` attributes and
//! the types of [`crate::schema`] (`hisaab-api`'s wire types), with the state's schema taken
//! from `hisaab-model`'s `JsonSchema` derive: each document has one description, the one
//! `schemas/` is checked against. Building it is deterministic: utoipa keeps paths, schemas and
//! properties in ordered maps and schemars in sorted ones, so the same code gives the same
//! bytes.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use schemars::gen::SchemaSettings;
use serde_json::Value;
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
    let mut doc = serde_json::to_value(ApiDoc::openapi())?;
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        for (name, schema) in model_schemas()? {
            schemas.insert(name, schema);
        }
    }
    serde_json::to_string_pretty(&doc)
}

/// The state (SPEC §5) and the types it names, as `hisaab-model` derives their schemas, with
/// references pointing into the description's components.
fn model_schemas() -> Result<Vec<(String, Value)>, serde_json::Error> {
    let root = SchemaSettings::draft07()
        .with(|settings| settings.definitions_path = "#/components/schemas/".to_owned())
        .into_generator()
        .into_root_schema_for::<hisaab_model::State>();
    let mut schemas = vec![("State".to_owned(), serde_json::to_value(&root.schema)?)];
    for (name, schema) in &root.definitions {
        schemas.push((name.clone(), serde_json::to_value(schema)?));
    }
    Ok(schemas)
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
