//! RFC 8785 reference cases: canonical bytes and hashes (from a parsed value and straight
//! from serde), ES6 number formatting, and the Hisaab profile's refusal of every non-integer
//! number.

use std::path::Path;

use hisaab_log::jcs;
use hisaab_log::Hash;
use serde_json::{Number, Value};

pub(crate) fn run(dir: &Path) -> Result<(usize, usize), String> {
    let path = dir.join("jcs_vectors.json");
    let text = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc: Value =
        serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let (mut passed, mut failed) = (0, 0);
    let mut check = |ok: bool, what: String| {
        if ok {
            passed += 1;
        } else {
            failed += 1;
            println!("  FAIL jcs {what}");
        }
    };

    for case in doc["cases"].as_array().into_iter().flatten() {
        let name = case["name"].as_str().unwrap_or("?");
        let input = case["input"].as_str().unwrap_or("");
        let expected_hex = case["canonical_hex"].as_str().unwrap_or("");
        match jcs::parse_strict(input.as_bytes())
            .and_then(|v| jcs::canonicalize(&v).map(|c| (v, c)))
        {
            Ok((value, canonical)) => {
                check(
                    hex::encode(&canonical) == expected_hex,
                    format!("{name}: canonical bytes"),
                );
                let sha = case["canonical_sha256"].as_str().unwrap_or("");
                check(
                    Hash::sha256(&canonical).to_hex() == sha,
                    format!("{name}: sha256"),
                );
                // The profile admits a document exactly when all its numbers are safe integers.
                let all_integers = numbers(&value)
                    .iter()
                    .all(|n| n.as_u64().is_some_and(|u| u <= jcs::INTEGER_MAX));
                check(
                    jcs::canonicalize_profile(&value).is_ok() == all_integers,
                    format!("{name}: profile verdict"),
                );
                // Written straight from serde (no `Value` rebuilt): the RFC's bytes for every
                // document inside the profile, a refusal for the others.
                let direct = jcs::to_canonical(&value);
                check(
                    if all_integers {
                        direct
                            .as_deref()
                            .is_ok_and(|bytes| hex::encode(bytes) == expected_hex)
                    } else {
                        direct.is_err()
                    },
                    format!("{name}: canonical bytes written from serde"),
                );
            }
            Err(e) => check(false, format!("{name}: {e}")),
        }
    }

    for case in doc["es6_number_serialization"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let bits_hex = case["ieee754_hex"].as_str().unwrap_or("");
        let Ok(bits) = u64::from_str_radix(bits_hex, 16) else {
            check(false, format!("number {bits_hex}: unreadable"));
            continue;
        };
        let float = f64::from_bits(bits);
        let got = Number::from_f64(float)
            .map(Value::Number)
            .and_then(|v| jcs::canonicalize(&v).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        let expected = case["expected"].as_str().map(str::to_owned);
        check(
            got == expected,
            format!("number {bits_hex}: expected {expected:?}, got {got:?}"),
        );
        if let Some(n) = Number::from_f64(float) {
            // Hisaab refuses every float, even integral ones such as 0.0 or 1e+30.
            check(
                jcs::canonicalize_profile(&Value::Number(n)).is_err(),
                format!("number {bits_hex}: profile must refuse floats"),
            );
        }
    }
    Ok((passed, failed))
}

fn numbers(value: &Value) -> Vec<&Number> {
    match value {
        Value::Number(n) => vec![n],
        Value::Array(items) => items.iter().flat_map(numbers).collect(),
        Value::Object(map) => map.values().flat_map(numbers).collect(),
        _ => Vec::new(),
    }
}
