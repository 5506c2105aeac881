//! The description says exactly what the server takes: each pattern of `/openapi.json` agrees
//! with the parser behind it, the statuses a valid request can get are the documented ones, and
//! the links chain a receipt to its entry and proof.

use hisaab_log::{Date, Timestamp};
use hisaab_server::schema::{
    CHECKPOINT_PATTERN, COSIGNATURE_LINE_PATTERN, DATE_PATTERN, KEY_PATTERN, SIGNATURE_PATTERN,
    TIMESTAMP_PATTERN,
};
use hisaab_testkit::seed;
use serde_json::{json, Value};

use crate::common::{openapi, Fixture};

fn matches(pattern: &str, text: &str) -> bool {
    jsonschema::JSONSchema::compile(&json!({"type": "string", "pattern": pattern}))
        .unwrap()
        .is_valid(&json!(text))
}

#[test]
fn the_date_pattern_takes_exactly_the_real_dates() {
    let mut checked = 0;
    for year in [
        0, 4, 100, 400, 1900, 1970, 2000, 2024, 2025, 2026, 2100, 9999,
    ] {
        for month in 0..=13 {
            for day in 0..=32 {
                let text = format!("{year:04}-{month:02}-{day:02}");
                assert_eq!(
                    matches(DATE_PATTERN, &text),
                    Date::try_parse(&text).is_ok(),
                    "{text}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 5000);
    for text in [
        "2026-1-01",
        "20260101",
        "2026-01-01 ",
        "+2026-01-01",
        "٢٠٢٦-01-01",
    ] {
        assert!(!matches(DATE_PATTERN, text), "{text}");
        assert!(Date::try_parse(text).is_err(), "{text}");
    }
}

#[test]
fn the_timestamp_pattern_takes_exactly_what_the_parser_takes() {
    for text in [
        "2026-11-29T07:51:41Z",
        "2026-11-29T07:51:41.1Z",
        "2026-11-29T07:51:41.123456789Z",
        "2024-02-29T23:59:59.000Z",
        "2026-11-29T07:51:41.1234567890Z",
        "2026-11-29T24:00:00Z",
        "2026-11-29T07:60:00Z",
        "2026-11-29T07:51:60Z",
        "2025-02-29T00:00:00Z",
        "2026-11-29T07:51:41",
        "2026-11-29t07:51:41Z",
        "2026-11-29T07:51:41.Z",
        "2026-11-29T07:51:41+00:00",
        "",
    ] {
        assert_eq!(
            matches(TIMESTAMP_PATTERN, text),
            Timestamp::try_parse(text).is_ok(),
            "{text}"
        );
    }
}

#[test]
fn the_base64_patterns_take_exactly_canonical_base64_of_their_length() {
    let key = hisaab_testkit::public(seed::AUTHORITY).to_base64();
    assert!(matches(KEY_PATTERN, &key));
    let signature = "A".repeat(86) + "==";
    assert!(matches(SIGNATURE_PATTERN, &signature));
    for (pattern, bytes) in [(KEY_PATTERN, 32), (SIGNATURE_PATTERN, 64)] {
        for last in 0..=255u8 {
            let mut data = vec![7u8; bytes];
            *data.last_mut().unwrap() = last;
            let text = hisaab_log::key::encode_base64(&data);
            assert!(matches(pattern, &text), "{text}");
            // A non-canonical last character (low bits set) is refused by both.
            let mut chars: Vec<char> = text.chars().collect();
            let at = chars.iter().rposition(|c| *c != '=').unwrap();
            if let Some(other) = chars.get(at).and_then(|c| bump_low_bit(*c)) {
                chars[at] = other;
                let bent: String = chars.into_iter().collect();
                assert!(!matches(pattern, &bent), "{bent}");
                assert!(
                    hisaab_log::key::decode_base64_canonical("x", &bent).is_err(),
                    "{bent}"
                );
            }
        }
    }
    assert!(!matches(SIGNATURE_PATTERN, ""));
    assert!(!matches(KEY_PATTERN, &(key.clone() + "\n")));
}

/// The base64 character one above `c` when that sets a low bit the padding does not allow.
fn bump_low_bit(c: char) -> Option<char> {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let index = ALPHABET.find(c)?;
    ALPHABET.chars().nth(index + 1)
}

#[test]
fn the_cosignature_patterns_take_a_line_and_a_checkpoint() {
    let line = format!("\u{2014} witness-karakoram {}==", "A".repeat(102));
    assert!(matches(COSIGNATURE_LINE_PATTERN, &line));
    assert!(matches(COSIGNATURE_LINE_PATTERN, &(line.clone() + "\n")));
    assert!(!matches(COSIGNATURE_LINE_PATTERN, ""));
    assert!(!matches(
        COSIGNATURE_LINE_PATTERN,
        &line.replace('\u{2014}', "-")
    ));
    assert!(!matches(COSIGNATURE_LINE_PATTERN, &(line.clone() + "\n\n")));
    let body = format!("example.org/ledger\n12\n{}=\n", "A".repeat(43));
    assert!(matches(CHECKPOINT_PATTERN, &body));
    hisaab_log::note::Checkpoint::try_parse_body(&body).unwrap();
    let note = format!("{body}\n\u{2014} example.org/ledger AAAA\n");
    assert!(matches(CHECKPOINT_PATTERN, &note));
    for bad in [
        format!("example.org/ledger\n012\n{}=\n", "A".repeat(43)),
        format!("example org\n12\n{}=\n", "A".repeat(43)),
        format!("example.org/ledger\n12\n{}=", "A".repeat(43)),
        String::new(),
    ] {
        assert!(!matches(CHECKPOINT_PATTERN, &bad), "{bad:?}");
        assert!(
            hisaab_log::note::Checkpoint::try_parse_body(&bad).is_err(),
            "{bad:?}"
        );
    }
}

#[test]
fn integer_parameters_are_bounded_by_2_to_the_53() {
    let doc = openapi();
    let mut seen = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let schema = &parameter["schema"];
                if schema["type"] == "integer" {
                    seen += 1;
                    assert_eq!(
                        schema["maximum"],
                        json!(9_007_199_254_740_991_u64),
                        "{method} {path} {}",
                        parameter["name"]
                    );
                    assert!(schema["minimum"].is_number(), "{method} {path}");
                }
            }
        }
    }
    assert_eq!(
        seen, 14,
        "start, limit, seq, seq (openings), index, tree_size, from, to, as_of (state), as_of \
         (obligations), tree_size (bundle), tree_size (openings), start, limit"
    );
}

#[test]
fn links_chain_a_receipt_to_its_entry_event_and_proof() {
    let doc = openapi();
    let operation_ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|operation| operation["operationId"].as_str())
        .collect();
    let links = &doc["paths"]["/v1/statements"]["post"]["responses"]["201"]["links"];
    assert_eq!(
        links["GetEntry"]["parameters"]["seq"],
        "$response.body#/seq"
    );
    assert_eq!(
        links["GetEvent"]["parameters"]["event_hash"],
        "$response.body#/event_hash"
    );
    assert_eq!(
        links["GetInclusionProof"]["parameters"]["index"],
        "$response.body#/seq"
    );
    let mut count = 0;
    for item in doc["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            for response in operation["responses"].as_object().unwrap().values() {
                for link in response["links"]
                    .as_object()
                    .into_iter()
                    .flat_map(|l| l.values())
                {
                    let target = link["operationId"].as_str().unwrap();
                    assert!(operation_ids.contains(&target), "no operation {target}");
                    count += 1;
                }
            }
        }
    }
    assert!(count >= 9, "{count}");
}

#[tokio::test]
async fn a_signer_that_is_no_key_is_a_bad_signature_not_a_malformed_envelope() {
    let mut f = Fixture::standard().await;
    let app = f.app();
    let envelope = f.envelope(seed::CHAIR, "kpi.defined", json!({}));
    let mut value: Value = serde_json::to_value(&envelope).unwrap();
    // 32 zero bytes: canonical base64 of 32 bytes, as the description allows, but a point of
    // small order, which no member's key can be.
    value["statement"]["signer"] = json!(format!("{}=", "A".repeat(43)));
    let answer = app
        .post_json("/v1/statements", serde_json::to_vec(&value).unwrap())
        .await;
    answer.assert_error(401, "bad_signature");
    // Anything else wrong with the envelope is still what the description forbids: 400.
    value["statement"]["kind"] = json!("");
    let answer = app
        .post_json("/v1/statements", serde_json::to_vec(&value).unwrap())
        .await;
    answer.assert_error(400, "malformed_envelope");
    value["statement"]["kind"] = json!("kpi.defined");
    value["signature"] = json!("");
    let answer = app
        .post_json("/v1/statements", serde_json::to_vec(&value).unwrap())
        .await;
    answer.assert_error(400, "malformed_envelope");
}

#[tokio::test]
async fn an_empty_cosignature_body_breaks_the_description_and_is_refused() {
    let f = Fixture::standard().await;
    let app = f.app();
    app.post("/v1/cosignatures", "text/plain", "")
        .await
        .assert_error(400, "malformed_cosignature");
    app.post_json("/v1/cosignatures", r#"{"cosignature":""}"#)
        .await
        .assert_error(400, "malformed_cosignature");
}
