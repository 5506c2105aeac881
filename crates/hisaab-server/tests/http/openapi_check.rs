//! Checks one HTTP answer against an OpenAPI description: the status must be documented for
//! the operation, the content type too, and the body must validate against its schema (JSON
//! Lines line by line). Shared by the handler tests here and the end-to-end tests of the root
//! package (`#[path]`-included there), so both hold the real answers to the same description.
#![allow(dead_code)]

use serde_json::{json, Value};

/// The path template of `doc` that `path` (without query) matches, if any.
pub(crate) fn path_template(doc: &Value, path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').collect();
    doc["paths"].as_object()?.keys().find_map(|template| {
        let parts: Vec<&str> = template.split('/').collect();
        let matches = parts.len() == segments.len()
            && parts
                .iter()
                .zip(&segments)
                .all(|(p, s)| p == s || (p.starts_with('{') && !s.is_empty()));
        matches.then(|| template.clone())
    })
}

/// Checks an answer; `Err` says what does not match.
pub(crate) fn check_response(
    doc: &Value,
    method: &str,
    path: &str,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> Result<(), String> {
    let path = path.split('?').next().unwrap_or(path);
    let as_json = || -> Result<Value, String> {
        serde_json::from_slice(body)
            .map_err(|e| format!("{method} {path} {status}: the body is not JSON: {e}"))
    };
    let error_body = || inline(doc, &json!({"$ref": "#/components/schemas/ErrorBody"}));
    let Some(template) = path_template(doc, path) else {
        // Paths the API does not have still answer in the error shape.
        return validate(&error_body()?, &as_json()?, path);
    };
    let operation = &doc["paths"][&template][method.to_lowercase()];
    if operation.is_null() {
        if status != 405 {
            return Err(format!(
                "{method} {template}: undocumented operation answered {status}"
            ));
        }
        return validate(&error_body()?, &as_json()?, path);
    }
    let response = &operation["responses"][status.to_string()];
    if response.is_null() {
        return Err(format!(
            "{method} {template}: status {status} is not documented; body: {}",
            String::from_utf8_lossy(body)
        ));
    }
    // A response documented with no content (204) must have none.
    if response.get("content").is_none() {
        return if body.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{method} {template} {status}: documented without content, answered {} bytes",
                body.len()
            ))
        };
    }
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let content = response["content"]
        .as_object()
        .ok_or_else(|| format!("{method} {template} {status}: no content documented"))?;
    let (media, entry) = content
        .iter()
        .find(|(media, _)| media.as_str() == essence)
        .ok_or_else(|| {
            format!(
                "{method} {template} {status}: content type {essence:?} is not documented \
                 (documented: {:?})",
                content.keys().collect::<Vec<_>>()
            )
        })?;
    let schema = inline(doc, &entry["schema"])?;
    match media.as_str() {
        "application/json" => validate(&schema, &as_json()?, &template),
        "application/x-ndjson" if template != "/v1/bundle" => {
            let text = String::from_utf8_lossy(body);
            if !(text.is_empty() || text.ends_with('\n')) {
                return Err(format!("{template}: JSON Lines must end in a newline"));
            }
            for line in text.lines() {
                let value: Value = serde_json::from_str(line)
                    .map_err(|e| format!("{template}: a line is not JSON: {e}"))?;
                validate(&schema, &value, &template)?;
            }
            Ok(())
        }
        _ if schema["type"] == "string" => Ok(()),
        _ => Err(format!(
            "{template}: {media} documented with a non-string schema"
        )),
    }
}

/// Replaces every `$ref` to a component of `doc` by the component, recursively. A component
/// that refers to itself (`JsonValue`, any JSON value of the number profile) is inlined once;
/// its inner references become `{}` (any value), so the inlined schema is finite.
pub(crate) fn inline(doc: &Value, schema: &Value) -> Result<Value, String> {
    inline_within(doc, schema, &mut Vec::new())
}

fn inline_within(doc: &Value, schema: &Value, within: &mut Vec<String>) -> Result<Value, String> {
    Ok(match schema {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                let name = reference
                    .strip_prefix("#/components/schemas/")
                    .ok_or_else(|| format!("unsupported $ref {reference}"))?;
                let target = &doc["components"]["schemas"][name];
                if target.is_null() {
                    return Err(format!("no component {name}"));
                }
                if within.iter().any(|outer| outer == name) {
                    return Ok(json!({}));
                }
                within.push(name.to_owned());
                let inlined = inline_within(doc, target, within);
                within.pop();
                return inlined;
            }
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                out.insert(k.clone(), inline_within(doc, v, within)?);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| inline_within(doc, item, within))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

/// Validates `instance` against `schema` (draft 7).
pub(crate) fn validate(schema: &Value, instance: &Value, what: &str) -> Result<(), String> {
    let compiled = jsonschema::JSONSchema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .compile(schema)
        .map_err(|e| format!("{what}: the schema does not compile: {e}"))?;
    let errors: Vec<String> = match compiled.validate(instance) {
        Ok(()) => return Ok(()),
        Err(errors) => errors
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect(),
    };
    Err(format!(
        "{what}: the body does not validate: {errors:?}\nbody: {instance}"
    ))
}
