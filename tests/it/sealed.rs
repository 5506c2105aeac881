//! Format 2's sealed fields on the command line (SPEC §12.6): the public bundle of the demo
//! ledger sealed verifies for anyone, and `hisaab verify BUNDLE --openings FILE` checks every
//! opening against its commitment and replays the full state to the full-state digest.

use std::path::Path;

use hisaab_log::bundle::{BundleHeader, BundleWriter};
use hisaab_log::merkle::Frontier;
use hisaab_log::note::{Checkpoint, VerifierKey};
use hisaab_log::seal::{Openings, OpeningsFile};
use hisaab_log::PublicKey;
use hisaab_scenario::{build, ScenarioConfig};
use serde_json::{json, Value};

use crate::common::Sandbox;

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn verify_with_openings_replays_the_full_state_of_a_sealed_bundle() {
    let sb = Sandbox::new();
    let scenario = build(&ScenarioConfig::default()).unwrap();
    let sealed = scenario.sealed().unwrap();
    let full_digest = sealed.ledger.ledger().full_state_digest(None).unwrap();

    // The public bundle: sealed entries only.
    let mut frontier = Frontier::new();
    for step in &sealed.steps {
        frontier.push(step.entry.event_hash());
    }
    let note = Checkpoint {
        origin: scenario.origin.clone(),
        size: frontier.size(),
        root: frontier.root(),
    }
    .sign(&scenario.log_key)
    .unwrap();
    let vkey = VerifierKey::new(
        &scenario.origin,
        PublicKey::from_signing_key(&scenario.log_key),
    )
    .unwrap()
    .to_vkey();
    let header = BundleHeader::for_format(2, &scenario.origin, &vkey, &note);
    let mut writer = BundleWriter::new(Vec::new(), &header).unwrap();
    for step in &sealed.steps {
        writer.write_leaf(step.entry.leaf_bytes()).unwrap();
    }
    let bundle = sb.join("sealed.jsonl");
    std::fs::write(&bundle, writer.finish().unwrap()).unwrap();

    // Every opening, in an openings file.
    let ledger = sealed.steps[0].entry.event_hash();
    let openings: Vec<Openings> = sealed
        .steps
        .iter()
        .filter_map(|step| {
            Some(Openings {
                seq: step.entry.entry().seq,
                event_hash: step.entry.event_hash(),
                kind: step.entry.entry().statement.kind.clone(),
                fields: step.openings.clone()?,
            })
        })
        .collect();
    let count = openings.len();
    let file = OpeningsFile::new(ledger, frontier.size(), openings).unwrap();
    let mut bytes = Vec::new();
    file.write(&mut bytes).unwrap();
    let openings_path = sb.join("sealed.openings.jsonl");
    std::fs::write(&openings_path, &bytes).unwrap();

    // Without openings: it verifies, and says nothing of a full state.
    let out = sb.ok(&["verify", s(&bundle), "--log-vkey", &vkey]);
    assert!(!out.contains("full state"), "{out}");

    // With them: every opening checked, the full state's digest printed.
    let out = sb.ok(&[
        "verify",
        s(&bundle),
        "--log-vkey",
        &vkey,
        "--openings",
        s(&openings_path),
        "--json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], json!(true), "{out}");
    let notes = v["notes"].to_string();
    assert!(
        notes.contains(&format!("{count} entries opened")),
        "{notes}"
    );
    assert!(notes.contains(&full_digest.to_hex()), "{notes}");

    // A tampered opening fails at its entry's seq.
    let text = String::from_utf8(bytes).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let at = lines
        .iter()
        .position(|l| l.contains("\"kind\":\"submission.filed\""))
        .unwrap();
    let mut line: Value = serde_json::from_str(&lines[at]).unwrap();
    let seq = line["seq"].clone();
    line["fields"]["value"]["value"] = json!("0.5");
    lines[at] = line.to_string();
    let tampered = sb.join("tampered.openings.jsonl");
    std::fs::write(&tampered, lines.join("\n") + "\n").unwrap();
    let output = sb.run(&["verify", s(&bundle), "--openings", s(&tampered), "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!((v["ok"].clone(), v["seq"].clone()), (json!(false), seq));

    // --openings goes with a bundle file only.
    let output = sb.run(&[
        "verify",
        "http://127.0.0.1:9",
        "--openings",
        s(&openings_path),
    ]);
    assert_eq!(output.status.code(), Some(2));
}

/// Sealing at append against a real `hisaab serve` (SPEC §7.2, §12.5, §12.10): `hisaab init`
/// writes the master key beside the log key (mode 0600); `hisaab submit` seals what it signs
/// and the server stores the entry sealed; a sealing that does not open the body is refused
/// and nothing changes; a restart replays with the openings to the same state; the data
/// directory holds no sealed value in the clear.
#[test]
fn a_format_2_server_stores_sealed_statements_and_replays_them_with_their_openings() {
    use crate::common::{fixed_key, get_full_ok, get_ok, now, post_envelope, write_pem, Server};
    use hisaab_log::seal::{Sealing, Seed};
    use hisaab_log::{Envelope, Hash, Statement, StatementId};

    let sb = Sandbox::new();
    for (name, seed) in [("log", 1), ("pta", 2), ("ciso", 3)] {
        write_pem(&sb.join(&format!("{name}.pem")), &fixed_key(seed));
    }
    let data = sb.join("ledger");
    let out = sb.ok(&[
        "init",
        "--data",
        s(&data),
        "--log-key",
        s(&sb.join("log.pem")),
        "--authority-key",
        s(&sb.join("pta.pem")),
        "--origin",
        "sealed.test/hisaab",
        "--title",
        "Sealed",
    ]);
    let master = sb.join("log.master");
    assert!(
        out.contains(&format!("wrote the master key to {}", s(&master))),
        "{out}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&master).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let ledger = out
        .lines()
        .find_map(|l| l.strip_prefix("ledger: "))
        .unwrap()
        .to_owned();
    let vkey = out
        .lines()
        .find_map(|l| l.strip_prefix("log vkey: "))
        .unwrap()
        .to_owned();

    let server = Server::start(&sb, &data, &sb.join("log.pem"));
    let url = server.url.clone();
    let submit = |args: &[&str]| -> Value {
        let mut full = vec!["submit"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--server", &url, "--log-vkey", &vkey, "--json"]);
        serde_json::from_str(&sb.ok(&full)).unwrap()
    };
    let saved = sb.join("operator.json");
    submit(&[
        "operator",
        "--key",
        s(&sb.join("pta.pem")),
        "--operator",
        "ravi-tel",
        "--name",
        "Ravi Telecom",
        "--save",
        s(&saved),
    ]);
    submit(&[
        "member",
        "--key",
        s(&sb.join("pta.pem")),
        "--member",
        "ciso-ravi",
        "--name",
        "CISO of Ravi",
        "--role",
        "ciso",
        "--operator",
        "ravi-tel",
        "--member-key",
        s(&sb.join("ciso.pem")),
    ]);
    submit(&[
        "define-kpi",
        "--key",
        s(&sb.join("pta.pem")),
        "--kpi",
        "CR-01",
        "--pillar",
        "resilience",
        "--title",
        "Critical patches applied",
        "--unit",
        "%",
    ]);
    let month = crate::common::this_month();
    submit(&[
        "assign",
        "--key",
        s(&sb.join("pta.pem")),
        "--kpi",
        "CR-01",
        "--operator",
        "ravi-tel",
        "--target",
        "95",
        "--due",
        "2099-12-31",
        "--first-period",
        &month,
    ]);
    let note = "Quarterly failover drill passed at the Lahore site";
    let filed = submit(&[
        "kpi",
        "--key",
        s(&sb.join("ciso.pem")),
        "--operator",
        "ravi-tel",
        "--kpi",
        "CR-01",
        "--period",
        &month,
        "--value",
        "91.5",
        "--note",
        note,
    ]);
    let seq = filed["seq"].as_u64().unwrap();

    // What `--save` wrote is the sealed submission that was posted.
    let posted: Value = serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    assert!(posted["sealing"]["seed"].is_string(), "{posted}");
    assert!(
        posted["envelope"]["statement"]["body"]["blinding"]["commitment"].is_string(),
        "{posted}"
    );

    // The entry is stored sealed: the full reader gets the sealed form too, and the public
    // the registration, sealed.
    let entry: Value =
        serde_json::from_str(&get_full_ok(&server, &format!("/v1/entries/{seq}"))).unwrap();
    let body = &entry["statement"]["body"];
    for field in ["value", "note", "evidence", "ext"] {
        assert!(body[field]["commitment"].is_string(), "{field}: {entry}");
    }
    assert_eq!(body["operator"], "ravi-tel");
    let registration: Value = serde_json::from_str(&get_ok(&server, "/v1/entries/1")).unwrap();
    assert!(registration["statement"]["body"]["blinding"]["commitment"].is_string());
    // The server's model has the opened values: the full reader's state shows the value.
    let state: Value = serde_json::from_str(&get_full_ok(&server, "/v1/state")).unwrap();
    assert_eq!(
        state["operators"]["ravi-tel"]["kpis"]["CR-01"]["value"], "91.5",
        "{state}"
    );

    // A sealing that does not open the body is refused under rule 1; nothing changes.
    let checkpoint = get_ok(&server, "/v1/checkpoint");
    let statement = Statement {
        v: 2,
        ledger: Some(Hash::try_from_hex(&ledger).unwrap()),
        id: StatementId::try_new(&uuid::Uuid::now_v7().hyphenated().to_string()).unwrap(),
        kind: "operator.registered".to_owned(),
        signer: crate::common::public(&fixed_key(2)),
        issued_at: now(),
        body: json!({"operator":"indus","name":"Indus","blinding":"ab".repeat(32)})
            .as_object()
            .unwrap()
            .clone(),
    };
    let (sealed, sealing) =
        hisaab_model::sealed::seal_statement(&statement, &Seed::from_bytes([5; 32])).unwrap();
    let (good, _) = sealing.unwrap();
    let envelope = Envelope::sign(sealed, &fixed_key(2)).unwrap();
    let http = server.http();
    let post = |body: Value| {
        let response = http
            .post(format!("{url}/v1/statements"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.text().unwrap())
    };
    let wrong = Sealing {
        seed: Seed::from_bytes([6; 32]),
        values: good.values.clone(),
    };
    for (body, says) in [
        (
            json!({"envelope": envelope, "sealing": wrong}),
            "does not match",
        ),
        (json!({"envelope": envelope}), "`sealing` is missing"),
        (
            json!({"envelope": envelope, "sealing": good, "more": 1}),
            "only the members",
        ),
    ] {
        let (status, answer) = post(body);
        assert_eq!(status, 400, "{answer}");
        assert!(answer.contains("malformed_envelope"), "{answer}");
        assert!(answer.contains(says), "{says}: {answer}");
    }
    let (status, answer) = post_envelope(&http, &url, &envelope).unwrap();
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("no sealing was sent"), "{answer}");
    assert_eq!(get_ok(&server, "/v1/checkpoint"), checkpoint);
    // The good sealing is accepted.
    let (status, answer) = post(json!({"envelope": envelope, "sealing": good}));
    assert_eq!(status, 201, "{answer}");

    let digest = state_digest(&get_full_ok(&server, "/v1/state"));
    server.stop();

    // Nothing of a sealed value lies in the clear in the data directory.
    for file in files_under(&data) {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        for needle in [note, "ab".repeat(32).as_str()] {
            assert!(
                !text.contains(needle),
                "{} holds {needle:?}",
                file.display()
            );
        }
    }

    // A restart replays every entry with its openings to the same state.
    let server = Server::start(&sb, &data, &sb.join("log.pem"));
    assert_eq!(state_digest(&get_full_ok(&server, "/v1/state")), digest);
    // Openings go only to who may read an entry in full; a registration's (its blinding) to
    // the full readers and its operator's members, though the registry is everyone's.
    let public = server
        .http()
        .get(format!("{}/v1/entries/1/openings", server.url))
        .send()
        .unwrap();
    assert_eq!(public.status().as_u16(), 403);
    let opened: Value =
        serde_json::from_str(&get_full_ok(&server, "/v1/entries/1/openings")).unwrap();
    assert!(opened["fields"]["blinding"]["salt"].is_string(), "{opened}");
    let public_file = get_ok(&server, "/v1/openings");
    assert_eq!(public_file.lines().count(), 1, "{public_file}");
    server.stop();

    // `hisaab export --key --openings` writes the openings file of what the key may read in
    // full; `hisaab verify BUNDLE --openings` checks it and replays the full state.
    let export = |key: &str, bundle: &Path, openings: &Path| {
        sb.ok(&[
            "export",
            "--data",
            s(&data),
            "--log-key",
            s(&sb.join("log.pem")),
            "--out",
            s(bundle),
            "--key",
            s(&sb.join(key)),
            "--openings",
            s(openings),
        ])
    };
    let (bundle, openings) = (sb.join("bundle.jsonl"), sb.join("openings.jsonl"));
    export("pta.pem", &bundle, &openings);
    let out = sb.ok(&[
        "verify",
        s(&bundle),
        "--log-vkey",
        &vkey,
        "--openings",
        s(&openings),
        "--json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], json!(true), "{out}");
    assert!(out.contains("the full state replayed"), "{out}");
    // The CISO's file holds its own operator's entries only: its registration and report.
    let (bundle, openings) = (sb.join("ciso-bundle.jsonl"), sb.join("ciso-openings.jsonl"));
    export("ciso.pem", &bundle, &openings);
    let text = std::fs::read_to_string(&openings).unwrap();
    let kinds: Vec<String> = text
        .lines()
        .skip(1)
        .map(|line| {
            let opened: Value = serde_json::from_str(line).unwrap();
            opened["kind"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(kinds, ["operator.registered", "submission.filed"], "{text}");

    // Served without its master key, the server keeps no openings: a new sealed statement is
    // 503 `unavailable`, and nothing changes.
    std::fs::rename(&master, sb.join("elsewhere.master")).unwrap();
    let server = Server::start(&sb, &data, &sb.join("log.pem"));
    let mut statement = statement;
    statement.id = StatementId::try_new(&uuid::Uuid::now_v7().hyphenated().to_string()).unwrap();
    statement.body.insert("operator".into(), json!("sindh"));
    let (sealed, sealing) =
        hisaab_model::sealed::seal_statement(&statement, &Seed::from_bytes([7; 32])).unwrap();
    let envelope = Envelope::sign(sealed, &fixed_key(2)).unwrap();
    let checkpoint = get_ok(&server, "/v1/checkpoint");
    let response = server
        .http()
        .post(format!("{}/v1/statements", server.url))
        .body(json!({"envelope": envelope, "sealing": sealing.unwrap().0}).to_string())
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert!(response.text().unwrap().contains("unavailable"));
    assert_eq!(get_ok(&server, "/v1/checkpoint"), checkpoint);
    server.stop();
}

fn state_digest(state: &str) -> String {
    let state: Value = serde_json::from_str(state).unwrap();
    state["digest"].as_str().unwrap().to_owned()
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}
