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

#[test]
fn parameters_and_retry_after_are_described_as_schemars_generates_them() {
    let spec = openapi();
    let parameters = |path: &str| spec["paths"][path]["get"]["parameters"].clone();
    // A required and an optional integer, each with its bounds and its doc comment.
    let inclusion = parameters("/v1/proofs/inclusion");
    let index = inclusion
        .as_array()
        .unwrap()
        .iter()
        .find(|parameter| parameter["name"] == "index")
        .unwrap();
    assert_eq!(index["in"], "query");
    assert_eq!(index["required"], true);
    assert_eq!(index["description"], "The leaf index (the entry's seq).");
    assert_eq!(index["schema"]["type"], "integer");
    assert_eq!(index["schema"]["minimum"].as_f64(), Some(0.0));
    assert_eq!(
        index["schema"]["maximum"].as_f64(),
        Some(9_007_199_254_740_991.0)
    );
    let tree_size = inclusion
        .as_array()
        .unwrap()
        .iter()
        .find(|parameter| parameter["name"] == "tree_size")
        .unwrap();
    assert_eq!(tree_size["required"], false);
    assert_eq!(tree_size["schema"]["minimum"].as_f64(), Some(1.0));
    // An optional date: a plain string with the date pattern, never `null`.
    let state = parameters("/v1/state");
    let at = state
        .as_array()
        .unwrap()
        .iter()
        .find(|parameter| parameter["name"] == "at")
        .unwrap();
    assert_eq!(at["required"], false);
    assert_eq!(at["schema"]["type"], "string");
    assert_eq!(at["schema"]["pattern"], hisaab_server::schema::DATE_PATTERN);
    assert!(at["description"].as_str().unwrap().contains("YYYY-MM-DD"));
    // Path parameters, required.
    let seq = &parameters("/v1/entries/{seq}")[0];
    assert_eq!(
        (&seq["name"], &seq["in"], &seq["required"]),
        (&"seq".into(), &"path".into(), &true.into())
    );
    let hash = &parameters("/v1/events/{event_hash}")[0];
    assert_eq!(hash["in"], "path");
    assert_eq!(hash["schema"]["pattern"], "^[0-9a-f]{64}$");
    // Every parameter has a schema, and none says `null`.
    for item in spec["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let schema = &parameter["schema"];
                assert!(schema.is_object(), "{parameter}");
                assert!(schema["type"].is_string(), "{parameter}");
            }
            if let Some(header) = operation.pointer("/responses/503/headers/Retry-After") {
                assert_eq!(header["schema"]["type"], "integer");
                assert_eq!(header["schema"]["minimum"].as_f64(), Some(0.0));
            }
        }
    }
    let state_503 = &spec["paths"]["/v1/state"]["get"]["responses"]["503"];
    assert!(state_503["headers"]["Retry-After"].is_object());
}
