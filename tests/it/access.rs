//! Read access by role (SPEC §13) against a real `hisaab serve` on loopback, over the demo
//! ledger with its real keys: the read matrix (role × endpoint × own/other operator, plus a
//! revoked member, an unknown key, a replayed signature, a skewed date and an expired
//! session), and no sealed value in anything served without credentials.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use hisaab_log::SigningKey;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{json, Value};

use crate::common::{self, Sandbox, Server};

/// The kinds whose bodies the public never reads (SPEC §13.4).
const SEALED_KINDS: [&str; 15] = [
    "submission.filed",
    "evaluation.recorded",
    "commitment.made",
    "commitment.closed",
    "dispute.opened",
    "dispute.resolved",
    "challenge.raised",
    "challenge.resolved",
    "action.assigned",
    "action.closed",
    "directive.issued",
    "directive.closed",
    "commitment.extended",
    "escalation.recorded",
    "challenge.measure_recorded",
];

/// The session length the server is started with, so that a session expires within the test.
const SESSION_TTL_S: u64 = 2;

struct Demo {
    _sb: Sandbox,
    server: Server,
    keys: std::path::PathBuf,
    http: Client,
}

impl Demo {
    fn start() -> Demo {
        let sb = Sandbox::new();
        let data = sb.join("demo");
        sb.ok(&[
            "demo",
            "--no-serve",
            "--data",
            data.to_str().unwrap(),
            "--months",
            "6",
            "--seed",
            "11",
        ]);
        let keys = data.join("keys");
        let server = Server::spawn(
            &sb,
            &[
                "serve",
                "--data",
                data.join("ledger").to_str().unwrap(),
                "--log-key",
                keys.join("log.pem").to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
                "--session-ttl",
                &SESSION_TTL_S.to_string(),
            ],
        );
        let http = server.http();
        Demo {
            _sb: sb,
            server,
            keys,
            http,
        }
    }

    fn key(&self, member: &str) -> SigningKey {
        read_key(&self.keys.join(format!("{member}.pem")))
    }

    fn public(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.server.url))
            .send()
            .unwrap()
    }

    fn signed(&self, member: &str, path: &str) -> RequestBuilder {
        common::signed_get(
            &self.http,
            &self.server.url,
            path,
            &self.key(member),
            member,
        )
    }

    fn as_member(&self, member: &str, path: &str) -> Response {
        self.signed(member, path).send().unwrap()
    }
}

fn read_key(path: &Path) -> SigningKey {
    SigningKey::from_pkcs8_pem(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn ok_text(response: Response, what: &str) -> String {
    let status = response.status().as_u16();
    let text = response.text().unwrap();
    assert_eq!(status, 200, "{what}: {text}");
    text
}

#[track_caller]
fn assert_error(response: Response, status: u16, code: &str) -> String {
    let got = response.status().as_u16();
    let body: Value = response.json().unwrap();
    assert_eq!(
        (got, body["error"]["code"].as_str().unwrap_or_default()),
        (status, code),
        "{body}"
    );
    body["error"]["message"].as_str().unwrap().to_owned()
}

/// Who is who in the demo, from the public registry.
struct Cast {
    authority: String,
    chair: String,
    evaluator: String,
    witness: String,
    revoked: String,
    /// Two active CISOs of different operators: (member, operator).
    ciso_a: (String, String),
    ciso_b: (String, String),
}

fn cast(state: &Value) -> Cast {
    let members = state["members"].as_object().unwrap();
    let with = |role: &str, active: bool, operator: bool| -> Vec<(String, Option<String>)> {
        members
            .iter()
            .filter(|(_, m)| {
                m["roles"].as_array().unwrap().contains(&json!(role))
                    && (m["status"] == "active") == active
                    && m["operator"].is_string() == operator
            })
            .map(|(id, m)| (id.clone(), m["operator"].as_str().map(str::to_owned)))
            .collect()
    };
    let first = |list: Vec<(String, Option<String>)>, what: &str| {
        list.into_iter()
            .next()
            .unwrap_or_else(|| panic!("the demo has no {what}"))
            .0
    };
    let cisos = with("ciso", true, true);
    let ciso_a = cisos[0].clone();
    let ciso_b = cisos
        .iter()
        .find(|(_, operator)| *operator != ciso_a.1)
        .unwrap()
        .clone();
    Cast {
        authority: first(with("authority", true, false), "authority"),
        chair: first(with("chair", true, false), "chair"),
        evaluator: first(with("evaluator", true, false), "unaffiliated evaluator"),
        witness: first(with("witness", true, true), "witness"),
        revoked: first(with("ciso", false, true), "revoked ciso"),
        ciso_a: (ciso_a.0, ciso_a.1.unwrap()),
        ciso_b: (ciso_b.0, ciso_b.1.unwrap()),
    }
}

/// Each line of a JSON Lines answer, parsed.
fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The operator an entry is about, as the full reader sees it: the body's `operator`, or
/// through its references (as SPEC §13.4 scopes it).
fn operators_of(entries: &[Value]) -> Vec<Option<String>> {
    let mut by_ref: std::collections::HashMap<String, String> = Default::default();
    let mut out = Vec::new();
    for entry in entries {
        let body = &entry["statement"]["body"];
        let kind = entry["statement"]["kind"].as_str().unwrap();
        let hash = hex_leaf_hash(entry);
        let named = body["operator"].as_str().map(str::to_owned);
        let operator = match kind {
            "submission.filed" | "commitment.made" | "challenge.raised" | "directive.issued" => {
                named
            }
            "action.assigned" => body["owner"]["operator"].as_str().map(str::to_owned),
            "action.closed" => by_ref.get(body["action"].as_str().unwrap()).cloned(),
            "directive.closed" => by_ref.get(body["directive"].as_str().unwrap()).cloned(),
            "commitment.extended" => by_ref.get(body["commitment"].as_str().unwrap()).cloned(),
            "escalation.recorded" => body["item"]
                .as_object()
                .and_then(|item| item.values().next())
                .and_then(|id| by_ref.get(id.as_str().unwrap()).cloned()),
            "evaluation.recorded" => by_ref.get(body["submission"].as_str().unwrap()).cloned(),
            "dispute.opened" => by_ref.get(body["evaluation"].as_str().unwrap()).cloned(),
            "dispute.resolved" => by_ref.get(body["dispute"].as_str().unwrap()).cloned(),
            "commitment.closed" => by_ref.get(body["commitment"].as_str().unwrap()).cloned(),
            "challenge.resolved" | "challenge.measure_recorded" => {
                by_ref.get(body["challenge"].as_str().unwrap()).cloned()
            }
            _ => None,
        };
        if let Some(operator) = &operator {
            by_ref.insert(hash, operator.clone());
            for id in ["dispute", "commitment", "challenge", "action", "directive"] {
                if let Some(id) = body[id].as_str() {
                    by_ref.insert(id.to_owned(), operator.clone());
                }
            }
        }
        out.push(operator);
    }
    out
}

fn hex_leaf_hash(entry: &Value) -> String {
    let bytes = hisaab_log::jcs::to_canonical(entry).unwrap();
    hisaab_log::merkle::leaf_hash(&bytes).to_hex()
}

#[test]
#[allow(clippy::too_many_lines)] // One matrix over one served demo ledger.
fn reads_are_filtered_by_role_end_to_end() {
    let demo = Demo::start();
    let public_state: Value = demo.public("/v1/state").json().unwrap();
    let cast = cast(&public_state);

    // Full readers: authority, chair, unaffiliated evaluator — the same full state.
    let full_text = ok_text(
        demo.as_member(&cast.authority, "/v1/state"),
        "state as authority",
    );
    let full: Value = serde_json::from_str(&full_text).unwrap();
    for member in [&cast.chair, &cast.evaluator] {
        let state: Value = demo.as_member(member, "/v1/state").json().unwrap();
        assert_eq!(
            state["digest"], full["digest"],
            "{member} reads the full state"
        );
    }
    assert_ne!(public_state["digest"], full["digest"]);
    let (ciso_a, operator_a) = &cast.ciso_a;
    let (ciso_b, operator_b) = &cast.ciso_b;
    let own: Value = demo.as_member(ciso_a, "/v1/state").json().unwrap();
    assert_eq!(own["operators"][operator_a], full["operators"][operator_a]);
    for operator in full["operators"].as_object().unwrap().keys() {
        let public_operator = &public_state["operators"][operator];
        assert!(public_operator["score"].is_null());
        for kpi in public_operator["kpis"].as_object().unwrap().values() {
            assert!(kpi["value"].is_null() && kpi["verdict"].is_null() && kpi["score"].is_null());
        }
        if operator != operator_a {
            assert_eq!(own["operators"][operator], *public_operator, "{operator}");
        }
    }
    // The registry is the same for everyone.
    assert_eq!(public_state["members"], full["members"]);
    // A witness reads the public view.
    let witnessed: Value = demo.as_member(&cast.witness, "/v1/state").json().unwrap();
    assert_eq!(witnessed, public_state);

    // Answers that depend on who asks are private.
    let response = demo.as_member(&cast.authority, "/v1/state");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(header("cache-control"), "private, no-store");
    assert!(header("vary").contains("Signature"), "{}", header("vary"));

    // Entries: the full reader reads all; find one submission of each operator.
    let all_text = ok_text(
        demo.as_member(&cast.authority, "/v1/entries?start=0&limit=1000"),
        "entries as authority",
    );
    let all = lines(&all_text);
    let about = operators_of(&all);
    let submission_of = |operator: &str| {
        all.iter()
            .zip(&about)
            .find(|(e, o)| {
                e["statement"]["kind"] == "submission.filed" && o.as_deref() == Some(operator)
            })
            .map(|(e, _)| e["seq"].as_u64().unwrap())
            .unwrap()
    };
    let (seq_a, seq_b) = (submission_of(operator_a), submission_of(operator_b));
    let entry = |seq: u64| format!("/v1/entries/{seq}");
    for member in [&cast.authority, &cast.chair, &cast.evaluator] {
        for seq in [seq_a, seq_b] {
            ok_text(demo.as_member(member, &entry(seq)), "a full reader's entry");
        }
    }
    ok_text(
        demo.as_member(ciso_a, &entry(seq_a)),
        "own operator's entry",
    );
    // Another operator's entry is served to every reader in its sealed form (SPEC §12.4,
    // §13.4), no value of a sealed field in it; its openings only to who may read it in full.
    for answer in [
        demo.as_member(ciso_a, &entry(seq_b)),
        demo.as_member(ciso_b, &entry(seq_a)),
        demo.public(&entry(seq_a)),
        demo.as_member(&cast.witness, &entry(seq_a)),
    ] {
        let text = ok_text(answer, "a sealed entry");
        let sealed: Value = serde_json::from_str(&text).unwrap();
        assert!(
            sealed["statement"]["body"]["value"]["commitment"].is_string(),
            "{text}"
        );
    }
    let openings = |seq: u64| format!("/v1/entries/{seq}/openings");
    let own: Value = serde_json::from_str(&ok_text(
        demo.as_member(ciso_a, &openings(seq_a)),
        "own operator's openings",
    ))
    .unwrap();
    assert_eq!(own["seq"], seq_a);
    assert!(own["fields"]["value"]["salt"].is_string(), "{own}");
    ok_text(
        demo.as_member(&cast.authority, &openings(seq_b)),
        "a full reader's openings",
    );
    let message = assert_error(demo.as_member(ciso_a, &openings(seq_b)), 403, "forbidden");
    assert!(message.contains(operator_b.as_str()), "{message}");
    assert_error(demo.as_member(ciso_b, &openings(seq_a)), 403, "forbidden");
    assert_error(demo.public(&openings(seq_a)), 403, "forbidden");
    assert_error(
        demo.as_member(&cast.witness, &openings(seq_a)),
        403,
        "forbidden",
    );
    // Registry entries are public, and cacheable as such; proofs of withheld entries too.
    let genesis = demo.public("/v1/entries/0");
    assert!(genesis
        .headers()
        .get("cache-control")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("public"));
    ok_text(genesis, "the genesis");
    let proof: Value = demo
        .public(&format!("/v1/proofs/inclusion?index={seq_b}"))
        .json()
        .unwrap();
    assert_eq!(
        proof["leaf_hash"].as_str().unwrap(),
        hex_leaf_hash(&all[usize::try_from(seq_b).unwrap()])
    );

    // Lists: every reader gets every entry of the sealed demo as it is, the others' in their
    // sealed form (SPEC §13.4): no withheld line.
    for listed in [
        demo.as_member(ciso_a, "/v1/entries?start=0&limit=1000"),
        demo.public("/v1/entries?start=0&limit=1000"),
    ] {
        let listed = lines(&ok_text(listed, "entries as a ciso and as the public"));
        assert_eq!(listed, all);
    }
    let kpi = full["operators"][operator_a]["kpis"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let history = |member: Option<&str>, operator: &str| {
        let path = format!("/v1/history?operator={operator}&kpi={kpi}");
        let response = match member {
            Some(member) => demo.as_member(member, &path),
            None => demo.public(&path),
        };
        lines(&ok_text(response, "history"))
    };
    let own_history = history(Some(ciso_a), operator_a);
    assert!(own_history
        .iter()
        .all(|line| line.get("withheld").is_none()));
    assert!(own_history
        .iter()
        .any(|line| line["statement"]["kind"] == "submission.filed"));
    for line in history(Some(ciso_a), operator_b)
        .iter()
        .chain(&history(None, operator_a))
    {
        let kind = line["withheld"]["kind"]
            .as_str()
            .or(line["statement"]["kind"].as_str())
            .unwrap();
        // Sealed, so served to every reader (SPEC §13.4).
        assert!(line.get("withheld").is_none(), "{kind}: {line}");
    }

    // The bundle is everyone's (SPEC §13.4): every entry of the format-2 demo is in the
    // registry or in sealed form, so every reader's bundle is the full reader's, and it
    // verifies with the rules and the replay.
    let full_bundle = ok_text(demo.as_member(&cast.chair, "/v1/bundle"), "bundle as chair");
    let verified = hisaab_model::verify_bundle(full_bundle.as_bytes()).unwrap();
    assert!(verified.withheld.is_empty());
    for (who, answer) in [
        ("public", demo.public("/v1/bundle")),
        ("ciso", demo.as_member(ciso_a, "/v1/bundle")),
        ("witness", demo.as_member(&cast.witness, "/v1/bundle")),
    ] {
        let bundle = ok_text(answer, who);
        assert_eq!(bundle, full_bundle, "{who}");
        assert_eq!(
            hisaab_model::verify_bundle(bundle.as_bytes()).unwrap(),
            verified
        );
    }

    // Refusals: a revoked member, a key that is not the member's, an unknown member, a
    // replayed signature, a skewed date, malformed credentials.
    assert_error(
        demo.as_member(&cast.revoked, "/v1/state"),
        401,
        "revoked_reader",
    );
    let stranger = common::fixed_key(77);
    let wrong_key = common::signed_get(
        &demo.http,
        &demo.server.url,
        "/v1/state",
        &stranger,
        &cast.authority,
    );
    assert_error(wrong_key.send().unwrap(), 401, "bad_request_signature");
    let nobody = common::signed_get(
        &demo.http,
        &demo.server.url,
        "/v1/state",
        &stranger,
        "nobody",
    );
    assert_error(nobody.send().unwrap(), 401, "unknown_reader");
    let once = demo.signed(&cast.authority, "/v1/state");
    let again = once.try_clone().unwrap();
    ok_text(once.send().unwrap(), "a signed request");
    assert_error(again.send().unwrap(), 401, "replayed_request");
    // The signature covers the path: the same headers on another path do not verify.
    let signed = demo.signed(&cast.authority, "/v1/state").build().unwrap();
    let mut moved = demo.http.get(format!("{}/v1/bundle", demo.server.url));
    for (name, value) in signed.headers() {
        moved = moved.header(name, value);
    }
    assert_error(moved.send().unwrap(), 401, "bad_request_signature");
    let skewed_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - hisaab_server::SIGNATURE_SKEW_S
        - 60;
    let skewed = hisaab_api::access::sign_request(
        &demo.key(&cast.authority),
        &cast.authority,
        "GET",
        "/v1/state",
        "",
        skewed_at,
        "skewed-nonce-0000000001",
    );
    let response = demo
        .http
        .get(format!("{}/v1/state", demo.server.url))
        .header("date", skewed.date)
        .header("signature-input", skewed.signature_input)
        .header("signature", skewed.signature)
        .send()
        .unwrap();
    assert_error(response, 401, "stale_request");
    let response = demo
        .http
        .get(format!("{}/v1/state", demo.server.url))
        .header("authorization", "Basic cHRhOnB0YQ==")
        .send()
        .unwrap();
    assert_error(response, 401, "bad_credentials");

    // Sessions: a signed challenge gives a token, as a bearer token and a cookie; it ends.
    let open_session = |member: &str| -> Value {
        let challenge: Value = demo
            .http
            .post(format!("{}/v1/session/challenge", demo.server.url))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let challenge = challenge["challenge"].as_str().unwrap().to_owned();
        let origin = demo.public("/v1/checkpoint").text().unwrap();
        let origin = origin.lines().next().unwrap();
        let signature = hisaab_log::Signature::sign(
            &demo.key(member),
            &hisaab_api::access::session_message(origin, &challenge),
        );
        let response = demo
            .http
            .post(format!("{}/v1/session", demo.server.url))
            .json(&json!({"member": member, "challenge": challenge,
                "signature": signature.to_base64()}))
            .send()
            .unwrap();
        assert_eq!(response.status().as_u16(), 201);
        let cookie = response
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        response.json().unwrap()
    };
    let session = open_session(&cast.authority);
    assert_eq!(session["reader"], "full");
    let token = session["token"].as_str().unwrap().to_owned();
    let by_bearer: Value = demo
        .http
        .get(format!("{}/v1/state", demo.server.url))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(by_bearer["digest"], full["digest"]);
    let by_cookie: Value = demo
        .http
        .get(format!("{}/v1/state", demo.server.url))
        .header("cookie", format!("hisaab_session={token}"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(by_cookie["digest"], full["digest"]);
    // A challenge is good once; a revoked member gets no session.
    let response = demo
        .http
        .post(format!("{}/v1/session", demo.server.url))
        .json(&json!({"member": cast.authority, "challenge": "A".repeat(43),
            "signature": hisaab_log::Signature::sign(&demo.key(&cast.authority), b"x").to_base64()}))
        .send()
        .unwrap();
    assert_error(response, 401, "bad_session_signature");
    std::thread::sleep(Duration::from_secs(SESSION_TTL_S + 1));
    let expired = demo
        .http
        .get(format!("{}/v1/state", demo.server.url))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_error(expired, 401, "session_expired");

    // The CLI reads with --key, and the public view without, saying so.
    let sb = Sandbox::new();
    let url = demo.server.url.as_str();
    let pta_key = demo.keys.join(format!("{}.pem", cast.authority));
    let out = sb.run(&[
        "history",
        "--server",
        url,
        "--operator",
        operator_a,
        "--kpi",
        &kpi,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("reading the public view"), "{stderr}");
    // The public gets the entries in their sealed form (SPEC §13.4).
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        !shown.contains("withheld") && shown.contains("commitment"),
        "{shown}"
    );
    let out = sb.ok(&[
        "history",
        "--server",
        url,
        "--operator",
        operator_a,
        "--kpi",
        &kpi,
        "--key",
        pta_key.to_str().unwrap(),
    ]);
    assert!(!out.contains("withheld"), "{out}");
    let out = sb.ok(&["verify", url, "--key", pta_key.to_str().unwrap()]);
    assert!(out.contains("every entry replayed"), "{out}");
    // Without a key, the public's bundle: every entry of the demo is in the registry or
    // sealed, so it is whole and replays (SPEC §13.4).
    let out = sb.ok(&["verify", url]);
    assert!(
        out.contains("every entry replayed") && !out.contains("partial"),
        "{out}"
    );
    let replayed: Value = serde_json::from_str(&sb.ok(&[
        "replay",
        url,
        "--json",
        "--key",
        pta_key.to_str().unwrap(),
    ]))
    .unwrap();
    assert_eq!(replayed["digest"], full["digest"]);
    // The public replays the public state from the sealed entries itself, and it is the
    // server's public state.
    let out = sb.run(&["replay", url, "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("not replayed here"), "{stderr}");
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["digest"], public_state["digest"]);
    let token = sb.ok(&["login", "--server", url, "--key", pta_key.to_str().unwrap()]);
    assert_eq!(token.trim().len(), 43, "{token}");
    let refused = sb.fails(&[
        "replay",
        url,
        "--key",
        demo.keys
            .join(format!("{}.pem", cast.revoked))
            .to_str()
            .unwrap(),
    ]);
    assert!(refused.contains("revoked"), "{refused}");

    no_sealed_value_reaches_the_public(&demo, &all, &full);
    demo.server.stop();
}

/// Every sealed value of the demo ledger (KPI values, evidence digests, notes, verdict
/// rationales, commitment texts, dispute and challenge grounds and outcomes' reasons) is
/// searched for in everything served without credentials: none is found. Verdicts and scores,
/// too short to search for as text, are checked to be absent from every public state and
/// every entry line.
fn no_sealed_value_reaches_the_public(demo: &Demo, all: &[Value], full: &Value) {
    // The JSON strings of the registry (public by design): a sealed value equal to one of them
    // by coincidence (a value equal to a target) cannot be told apart.
    let mut public_strings = BTreeSet::new();
    let mut sealed = BTreeSet::new();
    fn strings(value: &Value, out: &mut BTreeSet<String>) {
        match value {
            Value::String(text) => {
                out.insert(text.clone());
            }
            Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
            Value::Object(map) => map.values().for_each(|v| strings(v, out)),
            _ => {}
        }
    }
    // Every entry as served (sealed bodies hold commitments, which are public) ...
    for entry in all {
        strings(&entry["statement"]["body"], &mut public_strings);
    }
    // ... and the sealed texts, from the openings a full reader gets (SPEC §12.6); outcomes
    // and verdicts are also keys of the public state, and `action.assigned`'s `action` is its
    // public id.
    let openings = demo.as_member(&cast(full).authority, "/v1/openings");
    let openings = ok_text(openings, "the openings as the authority");
    for line in openings.lines().skip(1) {
        let opened: Value = serde_json::from_str(line).unwrap();
        let action = (opened["kind"] == "commitment.made").then_some("action");
        for field in [
            "value",
            "evidence",
            "note",
            "rationale",
            "grounds",
            "description",
            "resolution",
            "text",
            "reason",
        ]
        .into_iter()
        .chain(action)
        {
            strings(&opened["fields"][field]["value"], &mut sealed);
        }
    }
    let secrets: Vec<String> = sealed
        .difference(&public_strings)
        .filter(|s| !s.is_empty())
        .map(|s| serde_json::to_string(s).unwrap())
        .collect();
    assert!(
        secrets.len() > 20,
        "the demo has sealed values: {}",
        secrets.len()
    );

    let mut answers = Vec::new();
    for path in [
        "/v1/state".to_owned(),
        "/v1/entries?start=0&limit=1000".to_owned(),
        "/v1/bundle".to_owned(),
        "/v1/checkpoint".to_owned(),
        "/v1/openings".to_owned(),
    ] {
        answers.push((path.clone(), demo.public(&path).text().unwrap()));
    }
    for seq in 0..all.len() {
        let path = format!("/v1/entries/{seq}");
        answers.push((path.clone(), demo.public(&path).text().unwrap()));
    }
    for (operator, state) in full["operators"].as_object().unwrap() {
        for kpi in state["kpis"].as_object().unwrap().keys() {
            let path = format!("/v1/history?operator={operator}&kpi={kpi}");
            answers.push((path.clone(), demo.public(&path).text().unwrap()));
        }
    }
    for (path, body) in &answers {
        for secret in &secrets {
            assert!(
                !body.contains(secret.as_str()),
                "GET {path} without credentials contains the sealed value {secret}"
            );
        }
        for line in body.lines() {
            let Ok(value) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            // An entry of a sealed kind is served in its sealed form only (SPEC §12.4).
            let kind = value["statement"]["kind"].as_str().unwrap_or_default();
            if SEALED_KINDS.contains(&kind) {
                let body = &value["statement"]["body"];
                for field in hisaab_log::seal::sealed_fields(kind) {
                    assert!(
                        body[field.name]["commitment"].is_string(),
                        "GET {path} served the {} of a {kind} unsealed",
                        field.name
                    );
                }
            }
        }
    }
    let public_state: Value = serde_json::from_str(&answers[0].1).unwrap();
    for operator in public_state["operators"].as_object().unwrap().values() {
        assert!(operator["score"].is_null());
        assert!(operator["pillar_scores"]
            .as_object()
            .unwrap()
            .values()
            .all(Value::is_null));
        for kpi in operator["kpis"].as_object().unwrap().values() {
            assert!(kpi["verdict"].is_null() && kpi["score"].is_null() && kpi["value"].is_null());
        }
    }
}
