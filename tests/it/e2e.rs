//! End to end over HTTP: the real `hisaab serve` on a loopback port, a temporary data
//! directory and real keys. Every endpoint and every error status of SPEC §7; each receipt's
//! proof and checkpoint verified with `hisaab-log`; and a restart after which the state, the
//! proofs and the checkpoints are the same and consistent.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use hisaab_log::merkle::{leaf_hash, verify_consistency, verify_inclusion};
use hisaab_log::note::{
    cosign_checkpoint, verify_checkpoint, verify_cosignature, Checkpoint, VerifierKey,
};
use hisaab_log::{Envelope, Hash, SigningKey, Timestamp};
use reqwest::blocking::{Client, RequestBuilder};
use reqwest::StatusCode;
use serde_json::{json, Map, Value};

use crate::common::{self, fixed_key, sign, sign_with, write_pem, Sandbox, Server};
use crate::openapi_check;

const ORIGIN: &str = "e2e.test/hisaab";

/// A client of one running server, with the log's key. Every answer it receives is checked
/// against the server's own `GET /openapi.json`: the status documented for the operation, the
/// content type, and the body valid against the schema.
struct Api {
    http: Client,
    url: String,
    vkey: VerifierKey,
    openapi: Value,
}

/// One answer, read whole.
struct Answer {
    status: StatusCode,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

impl Api {
    fn new(server: &Server, vkey: VerifierKey) -> Api {
        let http = server.http();
        let text = http
            .get(format!("{}/openapi.json", server.url))
            .send()
            .unwrap()
            .text()
            .unwrap();
        Api {
            http,
            url: server.url.clone(),
            vkey,
            openapi: serde_json::from_str(&text).unwrap(),
        }
    }

    /// Sends a request, reads the answer and checks it against the OpenAPI description.
    fn send(&self, method: &str, path: &str, request: RequestBuilder) -> Answer {
        let response = request.send().unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = response.bytes().unwrap().to_vec();
        if let Err(problem) = openapi_check::check_response(
            &self.openapi,
            method,
            path,
            status.as_u16(),
            &content_type,
            &body,
        ) {
            panic!("the answer does not match /openapi.json: {problem}");
        }
        Answer { status, body }
    }

    /// `GET path` as the ledger's authority (`pta`, [`fixed_key`] 2): a full reader (SPEC §13).
    fn get(&self, path: &str) -> Answer {
        let request = common::signed_get(&self.http, &self.url, path, &fixed_key(2), "pta");
        self.send("GET", path, request)
    }

    fn get_ok(&self, path: &str) -> String {
        let answer = self.get(path);
        assert_eq!(answer.status, StatusCode::OK, "GET {path}");
        answer.text()
    }

    fn get_json(&self, path: &str) -> Value {
        serde_json::from_str(&self.get_ok(path)).unwrap()
    }

    fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let request = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", content_type)
            .body(body);
        let answer = self.send("POST", path, request);
        let text = answer.text();
        (
            answer.status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    fn post(&self, envelope: &Envelope) -> (StatusCode, Value) {
        self.post_raw(
            "/v1/statements",
            "application/json",
            envelope.canonical_bytes().unwrap(),
        )
    }

    /// Posts and expects 201 with a receipt that verifies; returns it.
    fn append(&self, envelope: &Envelope) -> Value {
        let (status, receipt) = self.post(envelope);
        assert_eq!(status, StatusCode::CREATED, "{receipt}");
        self.check_receipt(&receipt, envelope);
        receipt
    }

    /// A receipt's checkpoint verifies under the log key and covers the entry, whose leaf
    /// hash is the event hash and whose inclusion proof leads to the checkpoint's root.
    fn check_receipt(&self, receipt: &Value, envelope: &Envelope) -> Checkpoint {
        let checkpoint =
            verify_checkpoint(receipt["checkpoint"].as_str().unwrap(), &self.vkey).unwrap();
        let seq = receipt["seq"].as_u64().unwrap();
        let event = Hash::try_from_hex(receipt["event_hash"].as_str().unwrap()).unwrap();
        let proof = hashes(&receipt["inclusion_proof"]);
        verify_inclusion(&event, seq, checkpoint.size, &proof, &checkpoint.root).unwrap();
        let leaf = self.get_ok(&format!("/v1/entries/{seq}"));
        let entry = common::entry(leaf.trim_end_matches('\n').as_bytes());
        assert_eq!(entry.event_hash(), event);
        assert_eq!(&entry.entry().envelope(), envelope);
        assert_eq!(
            entry.entry().recorded_at.as_str(),
            receipt["recorded_at"].as_str().unwrap()
        );
        checkpoint
    }

    fn checkpoint(&self) -> (String, Checkpoint) {
        let note = self.get_ok("/v1/checkpoint");
        let checkpoint = verify_checkpoint(&note, &self.vkey).unwrap();
        (note, checkpoint)
    }

    fn consistent(&self, old: &Checkpoint, new: &Checkpoint) {
        let answer = self.get_json(&format!(
            "/v1/proofs/consistency?from={}&to={}",
            old.size, new.size
        ));
        verify_consistency(
            old.size,
            new.size,
            &hashes(&answer["proof"]),
            &old.root,
            &new.root,
        )
        .unwrap();
    }

    /// Expects an error answer with `status` and `code` in the error shape of SPEC §7.
    fn expect_error(&self, (status, body): (StatusCode, Value), want: StatusCode, code: &str) {
        assert_eq!(status, want, "{body}");
        assert_eq!(body["error"]["code"], json!(code), "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    }

    fn get_error(&self, path: &str, want: StatusCode, code: &str) {
        let answer = self.get(path);
        let body: Value = serde_json::from_str(&answer.text()).unwrap();
        self.expect_error((answer.status, body), want, code);
    }
}

fn hashes(value: &Value) -> Vec<Hash> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|h| Hash::try_from_hex(h.as_str().unwrap()).unwrap())
        .collect()
}

fn object(value: Value) -> Map<String, Value> {
    let Value::Object(map) = value else {
        panic!("not an object")
    };
    map
}

#[test]
#[allow(clippy::too_many_lines)] // One story: build, probe every endpoint, restart, compare.
fn serve_answers_every_endpoint_and_survives_a_restart() {
    let sb = Sandbox::new();
    let log_key = fixed_key(1);
    let pta = fixed_key(2);
    let ciso = fixed_key(3);
    let evaluator = fixed_key(4);
    let witness = fixed_key(5);
    let conflicted = fixed_key(6);
    let stranger = fixed_key(7);
    for (name, key) in [("log", &log_key), ("pta", &pta)] {
        write_pem(&sb.join(&format!("{name}.pem")), key);
    }
    let data = sb.join("ledger");
    // The statements below are signed by hand in format 1.
    sb.ok(&[
        "init",
        "--format",
        "1",
        "--data",
        data.to_str().unwrap(),
        "--log-key",
        sb.join("log.pem").to_str().unwrap(),
        "--authority-key",
        sb.join("pta.pem").to_str().unwrap(),
        "--origin",
        ORIGIN,
        "--title",
        "End-to-end ledger",
    ]);
    let server = Server::start(&sb, &data, &sb.join("log.pem"));
    let api = Api::new(&server, common::vkey(ORIGIN, &log_key));

    // Meta endpoints.
    let page = api.get_ok("/");
    assert!(page.contains("Hisaab") && page.contains(ORIGIN), "{page}");
    let health = api.get_json("/healthz");
    assert_eq!(
        (health["status"].clone(), health["size"].clone()),
        (json!("ok"), json!(1))
    );
    let openapi = api.get_json("/openapi.json");
    assert!(openapi["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/v1/statements",
        "/v1/checkpoint",
        "/v1/entries",
        "/v1/proofs/inclusion",
        "/v1/proofs/consistency",
        "/v1/state",
        "/v1/bundle",
        "/v1/cosignatures",
    ] {
        assert!(
            openapi["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }

    // The genesis: entry 0, its event hash is the ledger id, and the first checkpoint.
    let (_, genesis_checkpoint) = api.checkpoint();
    assert_eq!(genesis_checkpoint.size, 1);
    let genesis = common::entry(api.get_ok("/v1/entries/0").trim_end().as_bytes());
    let ledger = genesis.event_hash();
    assert_eq!(genesis_checkpoint.root, leaf_hash(genesis.leaf_bytes()));

    // A small ledger, every receipt verified.
    let r_operator = api.append(&sign(
        &pta,
        ledger,
        "operator.registered",
        json!({"operator":"indus","name":"Indus Mobile"}),
    ));
    assert_eq!(r_operator["seq"], json!(1));
    let enroll = |member: &str, roles: Value, operator: Option<&str>, key: &SigningKey| {
        let mut body = json!({"member": member, "name": member, "roles": roles, "key": common::public(key).to_base64()});
        if let Some(o) = operator {
            body["operator"] = json!(o);
        }
        api.append(&sign(&pta, ledger, "member.enrolled", body));
    };
    enroll("ciso-indus", json!(["ciso"]), Some("indus"), &ciso);
    enroll("eval-one", json!(["evaluator"]), None, &evaluator);
    enroll("witness-one", json!(["witness"]), None, &witness);
    enroll(
        "eval-indus",
        json!(["evaluator"]),
        Some("indus"),
        &conflicted,
    );
    api.append(&sign(
        &pta,
        ledger,
        "kpi.defined",
        json!({"kpi":"CR-01","pillar":"resilience",
        "title":"Critical patches","unit":"%","direction":"higher_is_better","cadence":"monthly",
        "evidence_required":false}),
    ));
    let month = common::this_month();
    api.append(&sign(
        &pta,
        ledger,
        "kpi.assigned",
        json!({"kpi":"CR-01","operator":"indus",
        "target":"95","due":"2099-12-31","first_period":month}),
    ));
    let submission = sign(
        &ciso,
        ledger,
        "submission.filed",
        json!({"operator":"indus","kpi":"CR-01",
        "period":month,"value":"96.5","evidence":[{"name":"report.pdf","sha256":Hash::sha256(b"r").to_hex(),"bytes":1}],"note":""}),
    );
    let r_submission = api.append(&submission);
    let submission_hash = r_submission["event_hash"].as_str().unwrap().to_owned();
    api.append(&sign(
        &evaluator,
        ledger,
        "evaluation.recorded",
        json!({"submission":submission_hash,
        "verdict":"met","score":90,"rationale":"patched on time"}),
    ));

    // 200: resubmitting an envelope gives its original receipt.
    let (status, again) = api.post(&submission);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (again["seq"].clone(), again["event_hash"].clone()),
        (
            r_submission["seq"].clone(),
            r_submission["event_hash"].clone()
        )
    );
    api.check_receipt(&again, &submission);

    // Every error status of POST /v1/statements.
    api.expect_error(
        api.post_raw("/v1/statements", "application/json", b"{not json".to_vec()),
        StatusCode::BAD_REQUEST,
        "malformed_envelope",
    );
    api.expect_error(
        api.post_raw(
            "/v1/statements",
            "application/json",
            br#"{"statement":{}}"#.to_vec(),
        ),
        StatusCode::BAD_REQUEST,
        "malformed_envelope",
    );
    let bad_body = sign(
        &pta,
        ledger,
        "operator.registered",
        json!({"operator":"Not A Slug","name":"x"}),
    );
    api.expect_error(
        api.post(&bad_body),
        StatusCode::BAD_REQUEST,
        "malformed_envelope",
    );
    let huge = sign(
        &pta,
        ledger,
        "operator.registered",
        json!({"operator":"big","name":"x","ext":{"pad":"a".repeat(70_000)}}),
    );
    api.expect_error(
        api.post(&huge),
        StatusCode::PAYLOAD_TOO_LARGE,
        "envelope_too_large",
    );
    api.expect_error(
        api.post_raw(
            "/v1/statements",
            "text/plain",
            submission.canonical_bytes().unwrap(),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    let mut forged = sign(
        &pta,
        ledger,
        "operator.registered",
        json!({"operator":"forged","name":"Forged"}),
    );
    forged
        .statement
        .body
        .insert("name".into(), json!("Changed after signing"));
    api.expect_error(api.post(&forged), StatusCode::UNAUTHORIZED, "bad_signature");
    api.expect_error(
        api.post(&sign(
            &stranger,
            ledger,
            "operator.registered",
            json!({"operator":"s","name":"S"}),
        )),
        StatusCode::UNAUTHORIZED,
        "unknown_signer",
    );
    api.expect_error(
        api.post(&sign(
            &ciso,
            ledger,
            "operator.registered",
            json!({"operator":"c","name":"C"}),
        )),
        StatusCode::FORBIDDEN,
        "forbidden_kind",
    );
    api.expect_error(api.post(&sign(&conflicted, ledger, "evaluation.recorded", json!({"submission":submission_hash,
        "verdict":"not_met","score":10,"rationale":"own operator","supersedes":r_submission["event_hash"]}))), StatusCode::FORBIDDEN, "conflict_of_interest");
    let same_id = sign_with(
        &pta,
        Some(ledger),
        "operator.registered",
        object(json!({"operator":"dup","name":"Dup"})),
        common::now(),
        Some(submission.statement.id.as_str()),
    );
    api.expect_error(api.post(&same_id), StatusCode::CONFLICT, "duplicate_id");
    api.expect_error(
        api.post(&sign(
            &pta,
            Hash::sha256(b"another ledger"),
            "operator.registered",
            json!({"operator":"w","name":"W"}),
        )),
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_ledger",
    );
    let stale = sign_with(
        &pta,
        Some(ledger),
        "operator.registered",
        object(json!({"operator":"old","name":"Old"})),
        Timestamp::try_parse("2001-01-01T00:00:00Z").unwrap(),
        None,
    );
    api.expect_error(
        api.post(&stale),
        StatusCode::UNPROCESSABLE_ENTITY,
        "time_out_of_window",
    );
    api.expect_error(
        api.post(&sign(
            &pta,
            ledger,
            "operator.registered",
            json!({"operator":"indus","name":"Again"}),
        )),
        StatusCode::UNPROCESSABLE_ENTITY,
        "rule_violation",
    );

    // Reads: entries as JSON Lines of leaf bytes exactly, one entry, by event hash.
    let (note, checkpoint) = api.checkpoint();
    let size = checkpoint.size;
    assert_eq!(size, 10);
    let lines = api.get_ok(&format!("/v1/entries?start=0&limit={size}"));
    let mut prev = Hash::ZERO;
    for (seq, line) in (0u64..).zip(lines.lines()) {
        let entry = common::entry(line.as_bytes());
        assert_eq!((entry.entry().seq, entry.entry().prev), (seq, prev));
        assert_eq!(api.get_ok(&format!("/v1/entries/{seq}")).trim_end(), line);
        assert_eq!(
            api.get_ok(&format!("/v1/events/{}", entry.event_hash()))
                .trim_end(),
            line
        );
        let proof = api.get_json(&format!(
            "/v1/proofs/inclusion?index={seq}&tree_size={size}"
        ));
        assert_eq!(proof["leaf_hash"], json!(entry.event_hash().to_hex()));
        verify_inclusion(
            &entry.event_hash(),
            seq,
            size,
            &hashes(&proof["proof"]),
            &checkpoint.root,
        )
        .unwrap();
        prev = entry.event_hash();
    }
    assert_eq!(lines.lines().count(), 10);
    let page = api.get_ok("/v1/entries?start=2&limit=3");
    assert_eq!(
        page.lines().collect::<Vec<_>>(),
        lines.lines().skip(2).take(3).collect::<Vec<_>>()
    );
    api.consistent(&genesis_checkpoint, &checkpoint);

    // State: the server's agrees with a local replay of its bundle.
    let state = api.get_json("/v1/state");
    assert_eq!(state["size"], json!(size));
    assert_eq!(
        state["operators"]["indus"]["kpis"]["CR-01"]["status"],
        json!("met")
    );
    let early = api.get_json("/v1/state?as_of=2&at=2030-01-01");
    assert_eq!(
        (early["size"].clone(), early["at"].clone()),
        (json!(2), json!("2030-01-01"))
    );
    let bundle = api.get_ok(&format!("/v1/bundle?tree_size={size}"));
    let verified = hisaab_model::verify_bundle(bundle.as_bytes()).unwrap();
    assert_eq!(
        (verified.size, verified.root, verified.ledger_id),
        (size, checkpoint.root, ledger)
    );
    assert_eq!(serde_json::to_value(&verified.state).unwrap(), state);
    let partial = api.get_ok("/v1/bundle?tree_size=3");
    assert_eq!(
        hisaab_model::verify_bundle(partial.as_bytes())
            .unwrap()
            .size,
        3
    );

    // Error statuses of the reads: 400 for what the description forbids, 404 for what it
    // allows but the ledger does not have.
    api.get_error("/v1/entries/999", StatusCode::NOT_FOUND, "not_found");
    api.get_error(
        &format!("/v1/events/{}", Hash::sha256(b"nothing")),
        StatusCode::NOT_FOUND,
        "not_found",
    );
    api.get_error("/v1/events/not-a-hash", StatusCode::BAD_REQUEST, "bad_path");
    api.get_error("/v1/entries/minus-one", StatusCode::BAD_REQUEST, "bad_path");
    api.get_error("/v1/nowhere", StatusCode::NOT_FOUND, "not_found");
    api.get_error(
        &format!("/v1/proofs/inclusion?index={size}&tree_size={size}"),
        StatusCode::NOT_FOUND,
        "index_out_of_range",
    );
    api.get_error(
        "/v1/proofs/consistency?from=0&to=1",
        StatusCode::BAD_REQUEST,
        "bad_query",
    );
    api.get_error(
        &format!("/v1/proofs/consistency?from=1&to={}", size + 1),
        StatusCode::NOT_FOUND,
        "tree_size_out_of_range",
    );
    api.get_error("/v1/state?as_of=0", StatusCode::BAD_REQUEST, "bad_query");
    api.get_error(
        "/v1/state?at=yesterday",
        StatusCode::BAD_REQUEST,
        "bad_query",
    );
    api.get_error(
        &format!("/v1/bundle?tree_size={}", size + 1),
        StatusCode::NOT_FOUND,
        "tree_size_out_of_range",
    );
    let answer = api.send(
        "DELETE",
        "/v1/statements",
        api.http.delete(format!("{}/v1/statements", api.url)),
    );
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);

    // Cosignatures: a witness cosigns the latest checkpoint; it shows in GET /v1/checkpoint.
    let line = cosign_checkpoint(&checkpoint, "witness-one", &witness, 1_800_000_000).unwrap();
    let (status, accepted) = api.post_raw(
        "/v1/cosignatures",
        "application/json",
        serde_json::to_vec(&json!({"cosignature": line, "checkpoint": note})).unwrap(),
    );
    assert_eq!(status, StatusCode::CREATED, "{accepted}");
    let (cosigned_note, _) = api.checkpoint();
    let cosignature = cosigned_note
        .lines()
        .find(|l| l.starts_with("\u{2014} witness-one "))
        .unwrap();
    verify_cosignature(
        &checkpoint,
        cosignature,
        "witness-one",
        &common::public(&witness),
    )
    .unwrap();
    let bad_line = cosign_checkpoint(&checkpoint, "witness-one", &stranger, 1_800_000_000).unwrap();
    api.expect_error(
        api.post_raw("/v1/cosignatures", "text/plain", bad_line.into_bytes()),
        StatusCode::UNAUTHORIZED,
        "bad_cosignature",
    );
    let not_witness = cosign_checkpoint(&checkpoint, "ciso-indus", &ciso, 1_800_000_000).unwrap();
    let (status, _) = api.post_raw("/v1/cosignatures", "text/plain", not_witness.into_bytes());
    assert!(
        status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN,
        "{status}"
    );
    api.expect_error(
        api.post_raw("/v1/cosignatures", "text/plain", b"not a line".to_vec()),
        StatusCode::BAD_REQUEST,
        "malformed_cosignature",
    );

    // Restart: the state, the entries, the proofs and the checkpoint survive.
    server.stop();
    let server = Server::start(&sb, &data, &sb.join("log.pem"));
    let api = Api::new(&server, api.vkey.clone());
    let (_, reopened) = api.checkpoint();
    assert_eq!(
        (reopened.size, reopened.root),
        (checkpoint.size, checkpoint.root)
    );
    assert_eq!(api.get_json("/v1/state"), state);
    assert_eq!(
        api.get_ok(&format!("/v1/entries?start=0&limit={size}")),
        lines
    );
    let (status, again) = api.post(&submission);
    assert_eq!(
        (status, again["seq"].clone()),
        (StatusCode::OK, r_submission["seq"].clone())
    );
    api.check_receipt(&again, &submission);
    let later = api.append(&sign(
        &pta,
        ledger,
        "operator.registered",
        json!({"operator":"karakoram","name":"Karakoram Tel"}),
    ));
    assert_eq!(later["seq"], json!(size));
    let (_, grown) = api.checkpoint();
    assert_eq!(grown.size, size + 1);
    api.consistent(&checkpoint, &grown);
    api.consistent(&genesis_checkpoint, &grown);
    server.stop();
}
