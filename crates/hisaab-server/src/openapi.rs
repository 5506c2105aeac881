//! The OpenAPI 3 description, generated from the handlers' `#[utoipa::path]` attributes and
//! the types of [`crate::schema`] (`hisaab-api`'s wire types), with the state's schema taken
//! from `hisaab-model`'s `JsonSchema` derive: each document has one description, the one
//! `schemas/` is checked against. Building it is deterministic: utoipa keeps paths, schemas and
//! properties in ordered maps and schemars in sorted ones, so the same code gives the same
//! bytes.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use schemars::gen::SchemaSettings;
use serde_json::{json, Value};
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
            `Retry-After`. Reads are filtered by who asks (SPEC §13): sign a request with a \
            member's Ed25519 key (RFC 9421: `Signature-Input`, `Signature`, `Date`), or send \
            a session token (`Authorization: Bearer`, or the `hisaab_session` cookie); without \
            credentials a request reads as the public.",
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
        api::obligations::obligations,
        api::log::bundle,
        api::log::history,
        api::witness::cosign,
        api::session::challenge,
        api::session::open,
        api::session::end,
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
        schema::CosignatureRequestSchema,
        schema::CosignatureLine,
        schema::JsonValue,
        schema::CosignatureAccepted,
        schema::HexHash,
        schema::Envelope,
        schema::Statement,
        schema::Entry,
        schema::State,
        schema::EntryLine,
        schema::WithheldLine,
        schema::Withheld,
        schema::SessionChallenge,
        schema::SessionRequest,
        schema::SessionGranted,
        hisaab_api::Obligations,
        hisaab_api::Obligation,
        hisaab_api::ObligationKind,
        hisaab_api::OwedBy,
    )),
    modifiers(&RetryAfter),
    tags(
        (name = "statements", description = "Appending signed statements."),
        (name = "log", description = "Checkpoints, entries and bundles."),
        (name = "proofs", description = "RFC 9162 inclusion and consistency proofs."),
        (name = "state", description = "The projection of SPEC §5."),
        (name = "witness", description = "Witnesses' cosignatures of checkpoints."),
        (name = "access", description = "Browser sessions for reading as a member (SPEC §13)."),
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
    add_links(&mut doc);
    add_transport_statuses(&mut doc);
    serde_json::to_string_pretty(&doc)
}

/// The statuses any request can get before it reaches a handler, on every operation: 414
/// `uri_too_long` (a request line over the server's limit) and 431 `headers_too_large`, both in
/// the error shape.
fn add_transport_statuses(doc: &mut Value) {
    let error = |text: &str| {
        json!({"description": text,
            "content": {"application/json":
                {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}})
    };
    let Some(Value::Object(paths)) = doc.get_mut("paths") else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for operation in item.values_mut() {
            if let Some(Value::Object(responses)) = operation.get_mut("responses") {
                responses
                    .entry("414")
                    .or_insert_with(|| error("`uri_too_long`: the request line is too long."));
                responses.entry("431").or_insert_with(|| {
                    error("`headers_too_large`: the request's headers are too large.")
                });
            }
        }
    }
}

/// The links between operations (OpenAPI 3.1 §4.8.20), so that a client or a stateful test can
/// follow an answer to what it names: a receipt to its entry, its event and its inclusion
/// proof; an entry to its proof; the health answer's size to the bundle, state and proofs of
/// that size. utoipa has no attribute for links; they are added to the generated document.
fn add_links(doc: &mut Value) {
    let receipt_links = json!({
        "GetEntry": {"operationId": "entry",
            "parameters": {"seq": "$response.body#/seq"},
            "description": "The entry the receipt is for."},
        "GetEvent": {"operationId": "event",
            "parameters": {"event_hash": "$response.body#/event_hash"},
            "description": "The same entry, by its event hash."},
        "GetInclusionProof": {"operationId": "inclusion_proof",
            "parameters": {"index": "$response.body#/seq"},
            "description": "The entry's inclusion proof in the ledger's current tree."},
    });
    let links = [
        ("/v1/statements", "post", "201", receipt_links.clone()),
        ("/v1/statements", "post", "200", receipt_links),
        (
            "/v1/entries/{seq}",
            "get",
            "200",
            json!({"GetInclusionProof": {"operationId": "inclusion_proof",
                "parameters": {"index": "$response.body#/seq"},
                "description": "The entry's inclusion proof in the ledger's current tree."}}),
        ),
        (
            "/v1/proofs/inclusion",
            "get",
            "200",
            json!({"GetConsistencyProof": {"operationId": "consistency_proof",
                "parameters": {"from": "$response.body#/tree_size",
                    "to": "$response.body#/tree_size"},
                "description": "A consistency proof from the tree the proof is for."}}),
        ),
        (
            "/healthz",
            "get",
            "200",
            json!({
                "GetBundle": {"operationId": "bundle",
                    "parameters": {"tree_size": "$response.body#/size"},
                    "description": "A bundle of every entry."},
                "GetState": {"operationId": "state",
                    "parameters": {"as_of": "$response.body#/size"},
                    "description": "The state after every entry."},
                "GetConsistencyProof": {"operationId": "consistency_proof",
                    "parameters": {"from": "$response.body#/size", "to": "$response.body#/size"},
                    "description": "The (empty) consistency proof of the current tree."},
            }),
        ),
    ];
    for (path, method, status, links) in links {
        let pointer = format!(
            "/paths/{}/{method}/responses/{status}",
            path.replace('~', "~0").replace('/', "~1")
        );
        if let Some(Value::Object(response)) = doc.pointer_mut(&pointer) {
            response.insert("links".to_owned(), links);
        }
    }
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
