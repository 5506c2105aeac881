//! The fixture: a real sled store in a temporary directory over the model's standard fixture
//! keys, and a client that drives `router(state)` with `oneshot` and checks every answer
//! against the OpenAPI description served at `/openapi.json`.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use hisaab_log::note::{verify_checkpoint, Checkpoint, VerifierKey};
use hisaab_log::{Envelope, Hash, Statement, Timestamp};
use hisaab_server::{router, AppState, ServerConfig};
use hisaab_store::{ManualClock, Store, StoreConfig};
use hisaab_testkit::{key, public, seed, uuid};
use serde_json::{json, Value};
use tempfile::TempDir;
use tower::ServiceExt;

/// 2026-11-01T00:00:00Z, the fixed time of every statement and entry.
pub const T0_MS: i64 = hisaab_testkit::T0_UNIX_S * 1000;

/// A ledger on disk with the standard members, KPIs and assignments.
pub struct Fixture {
    pub dir: TempDir,
    pub store: Store,
    pub clock: ManualClock,
    pub ledger_id: Hash,
    pub next_id: u64,
}

// `StoreConfig` is `#[non_exhaustive]`: no struct literal outside its crate.
#[allow(clippy::field_reassign_with_default)]
pub fn store_config() -> StoreConfig {
    let mut config = StoreConfig::default();
    config.batch_wait = Duration::ZERO;
    config
}

impl Fixture {
    /// Genesis only.
    pub fn genesis() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(T0_MS);
        let mut fixture_ids = 1;
        let genesis = sign(
            seed::AUTHORITY,
            Statement {
                v: 1,
                ledger: None,
                id: uuid(fixture_ids),
                kind: "ledger.genesis".into(),
                signer: public(seed::AUTHORITY),
                issued_at: t0(),
                body: hisaab_testkit::genesis_body().as_object().unwrap().clone(),
            },
        );
        fixture_ids += 1;
        let store = Store::create(
            dir.path(),
            genesis,
            key(seed::LOG),
            store_config(),
            Arc::new(clock.clone()),
        )
        .unwrap();
        let ledger_id = store.entry(0).unwrap().unwrap().event_hash();
        Fixture {
            dir,
            store,
            clock,
            ledger_id,
            next_id: fixture_ids,
        }
    }

    /// The standard fixture of `hisaab_testkit::Builder::standard`, appended directly.
    pub async fn standard() -> Fixture {
        let mut f = Fixture::genesis();
        let a = seed::AUTHORITY;
        for (operator, name) in [("indus", "Indus"), ("karakoram", "Karakoram")] {
            f.append(
                a,
                "operator.registered",
                json!({"operator": operator, "name": name}),
            )
            .await;
        }
        for (member, roles, operator, s) in [
            ("chair", json!(["chair"]), None, seed::CHAIR),
            ("eval", json!(["evaluator"]), None, seed::EVALUATOR),
            (
                "ciso-indus",
                json!(["ciso"]),
                Some("indus"),
                seed::CISO_INDUS,
            ),
            (
                "ciso-karakoram",
                json!(["ciso"]),
                Some("karakoram"),
                seed::CISO_KARAKORAM,
            ),
            (
                "eval-indus",
                json!(["evaluator"]),
                Some("indus"),
                seed::EVALUATOR_INDUS,
            ),
            (
                "witness-karakoram",
                json!(["witness"]),
                Some("karakoram"),
                seed::WITNESS,
            ),
        ] {
            let mut body = json!({"member": member, "name": member.to_uppercase(),
                "roles": roles, "key": public(s).to_base64()});
            if let Some(operator) = operator {
                body["operator"] = json!(operator);
            }
            f.append(a, "member.enrolled", body).await;
        }
        for (kpi, pillar) in [("CR-01", "resilience"), ("LG-01", "legal")] {
            f.append(
                a,
                "kpi.defined",
                json!({"kpi": kpi, "pillar": pillar, "title": format!("KPI {kpi}"),
                    "unit": "%", "direction": "higher_is_better", "cadence": "monthly",
                    "evidence_required": false}),
            )
            .await;
        }
        for operator in ["indus", "karakoram"] {
            f.append(
                a,
                "kpi.assigned",
                hisaab_testkit::assignment("CR-01", operator, "95", "2026-12-31"),
            )
            .await;
        }
        f
    }

    /// A signed envelope of `kind` by `signer` with a fresh id, for this ledger.
    pub fn envelope(&mut self, signer: u8, kind: &str, body: Value) -> Envelope {
        let statement = self.statement(signer, kind, body);
        sign(signer, statement)
    }

    /// An unsigned statement of `kind` by `signer` with a fresh id, for this ledger.
    pub fn statement(&mut self, signer: u8, kind: &str, body: Value) -> Statement {
        let id = uuid(self.next_id);
        self.next_id += 1;
        Statement {
            v: 1,
            ledger: Some(self.ledger_id),
            id,
            kind: kind.to_owned(),
            signer: public(signer),
            issued_at: t0(),
            body: body.as_object().unwrap().clone(),
        }
    }

    /// Appends through the store (setup), returning the event hash.
    pub async fn append(&mut self, signer: u8, kind: &str, body: Value) -> Hash {
        let envelope = self.envelope(signer, kind, body);
        self.store
            .append(envelope)
            .await
            .unwrap()
            .receipt
            .event_hash
    }

    pub fn app(&self) -> App {
        self.app_with(ServerConfig::default())
    }

    pub fn app_with(&self, config: ServerConfig) -> App {
        let state = AppState::new(self.store.clone(), config);
        App {
            router: router(state.clone()),
            state,
        }
    }

    pub fn log_vkey(&self) -> VerifierKey {
        VerifierKey::try_parse(&hisaab_testkit::log_vkey()).unwrap()
    }

    pub fn verify_checkpoint(&self, note: &str) -> Checkpoint {
        verify_checkpoint(note, &self.log_vkey()).unwrap()
    }
}

pub fn t0() -> Timestamp {
    hisaab_testkit::at(hisaab_testkit::T0_UNIX_S)
}

pub fn sign(signer: u8, statement: Statement) -> Envelope {
    Envelope::sign(statement, &key(signer)).unwrap()
}

/// The JSON text of an envelope.
pub fn json_text(envelope: &Envelope) -> String {
    serde_json::to_string(envelope).unwrap()
}

/// An answer, already checked against the OpenAPI description.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// The error code of an error answer.
    pub fn code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap().to_owned()
    }

    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status.as_u16(), self.code().as_str()),
            (status, code),
            "{}",
            self.text()
        );
        let message = self.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(!message.is_empty());
    }
}

pub struct App {
    pub router: Router,
    pub state: AppState,
}

/// The headers of a read request signed as member `member` with the key of `signer` now, with
/// a fresh nonce (SPEC §13.1).
pub fn signed_headers(signer: u8, member: &str, method: &str, uri: &str) -> Vec<(String, String)> {
    static NONCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NONCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let signed = hisaab_api::access::sign_request(
        &key(signer),
        member,
        method,
        path,
        query,
        now,
        &format!("test-nonce-{n:016}"),
    );
    vec![
        ("date".to_owned(), signed.date),
        ("signature-input".to_owned(), signed.signature_input),
        ("signature".to_owned(), signed.signature),
    ]
}

/// A GET signed as member `member` with the key of `signer`.
pub fn signed_get(signer: u8, member: &str, uri: &str) -> Request<Body> {
    let mut request = Request::get(uri);
    for (name, value) in signed_headers(signer, member, "GET", uri) {
        request = request.header(name, value);
    }
    request.body(Body::empty()).unwrap()
}

impl App {
    /// `GET uri` as a full reader: signed with the genesis authority's key (SPEC §13).
    pub async fn get_full(&self, uri: &str) -> Answer {
        self.get_as(hisaab_testkit::seed::AUTHORITY, "pta", uri)
            .await
    }

    /// `GET uri` signed as member `member` with the key of `signer`.
    pub async fn get_as(&self, signer: u8, member: &str, uri: &str) -> Answer {
        self.send(signed_get(signer, member, uri)).await
    }

    pub async fn get(&self, uri: &str) -> Answer {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    pub async fn post_json(&self, uri: &str, body: impl Into<Vec<u8>>) -> Answer {
        let request = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.into()))
            .unwrap();
        self.send(request).await
    }

    pub async fn post(&self, uri: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Answer {
        let request = Request::post(uri)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body.into()))
            .unwrap();
        self.send(request).await
    }

    pub async fn submit(&self, envelope: &Envelope) -> Answer {
        self.post_json("/v1/statements", json_text(envelope)).await
    }

    /// Sends a request and checks the answer against `/openapi.json`.
    pub async fn send(&self, request: Request<Body>) -> Answer {
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        let answer = Answer {
            status,
            headers,
            body,
        };
        check_against_openapi(&method, &path, &answer);
        answer
    }
}

/// The OpenAPI description, built once.
pub fn openapi() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| serde_json::from_str(&hisaab_server::openapi::to_json().unwrap()).unwrap())
}

/// Checks that the description documents this status for this operation, and that the body
/// validates against the schema of its content type.
#[track_caller]
pub fn check_against_openapi(method: &Method, path: &str, answer: &Answer) {
    if let Err(problem) = crate::openapi_check::check_response(
        openapi(),
        method.as_str(),
        path,
        answer.status.as_u16(),
        answer.content_type(),
        &answer.body,
    ) {
        panic!("{problem}");
    }
}

/// Replaces every `$ref` to a component by the component, recursively.
pub fn inline(schema: &Value) -> Value {
    crate::openapi_check::inline(openapi(), schema).unwrap()
}
