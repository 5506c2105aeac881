//! The OpenAPI description: complete, deterministic, and valid enough to check answers with.

use crate::common::openapi;

#[test]
fn is_deterministic() {
    let first = hisaab_server::openapi::to_json().unwrap();
    let second = hisaab_server::openapi::to_json().unwrap();
    assert_eq!(first, second);
}

#[test]
fn describes_every_endpoint_of_spec_section_7() {
    let spec = openapi();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    for (method, path) in [
        ("post", "/v1/statements"),
        ("get", "/v1/checkpoint"),
        ("get", "/v1/entries"),
        ("get", "/v1/entries/{seq}"),
        ("get", "/v1/events/{event_hash}"),
        ("get", "/v1/proofs/inclusion"),
        ("get", "/v1/proofs/consistency"),
        ("get", "/v1/state"),
        ("get", "/v1/bundle"),
        ("post", "/v1/cosignatures"),
        ("get", "/openapi.json"),
        ("get", "/healthz"),
    ] {
        let operation = &spec["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is not described");
        let responses = operation["responses"].as_object().unwrap();
        assert!(!responses.is_empty());
        if path.starts_with("/v1/") {
            assert!(responses.contains_key("503"), "{method} {path}: no 503");
        }
    }
    for status in [
        "201", "200", "400", "401", "403", "409", "413", "415", "422", "503",
    ] {
        assert!(
            spec["paths"]["/v1/statements"]["post"]["responses"][status].is_object(),
            "POST /v1/statements: {status} is not described"
        );
    }
}

#[test]
fn every_schema_compiles_once_references_are_inlined() {
    let schemas = openapi()["components"]["schemas"].as_object().unwrap();
    for (name, schema) in schemas {
        let inlined = crate::common::inline(schema);
        jsonschema::JSONSchema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .compile(&inlined)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
