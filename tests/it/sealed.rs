//! Format 2's sealed fields on the command line (SPEC §12.6): the public bundle of the demo
//! ledger sealed verifies for anyone, and `hisaab verify BUNDLE --openings FILE` checks every
//! opening against its commitment and replays the full state to the full-state digest.

use std::path::{Path, PathBuf};

use hisaab_log::bundle::{BundleHeader, BundleWriter};
use hisaab_log::merkle::Frontier;
use hisaab_log::note::{Checkpoint, VerifierKey};
use hisaab_log::seal::{Openings, OpeningsFile};
use hisaab_log::{Entry, Envelope, PublicKey, SealedEntry};
use hisaab_model::view::{Scope, Scopes};
use hisaab_scenario::{build, Scenario, ScenarioConfig, SealedScenario, SealedStep};
use serde_json::{json, Value};

use crate::common::{write_pem, Sandbox};

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The demo ledger sealed, its public bundle written to `sealed.jsonl` (the log key's vkey
/// beside it) and the full replay.
struct SealedFiles {
    scenario: Scenario,
    sealed: SealedScenario,
    bundle: PathBuf,
    vkey: String,
}

fn sealed_files(sb: &Sandbox) -> SealedFiles {
    let scenario = build(&ScenarioConfig::default()).unwrap();
    let sealed = scenario.sealed().unwrap();
    let entries: Vec<SealedEntry> = sealed.steps.iter().map(|s| s.entry.clone()).collect();
    let (bundle, vkey) = write_bundle(sb, "sealed.jsonl", &scenario, &entries);
    SealedFiles {
        scenario,
        sealed,
        bundle,
        vkey,
    }
}

/// A bundle of `entries` (sealed: their public form) under the scenario's log key, and its
/// vkey.
fn write_bundle(
    sb: &Sandbox,
    name: &str,
    scenario: &Scenario,
    entries: &[SealedEntry],
) -> (PathBuf, String) {
    let mut frontier = Frontier::new();
    for entry in entries {
        frontier.push(entry.event_hash());
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
    for entry in entries {
        writer.write_leaf(entry.leaf_bytes()).unwrap();
    }
    let bundle = sb.join(name);
    std::fs::write(&bundle, writer.finish().unwrap()).unwrap();
    (bundle, vkey)
}

/// The openings of the steps `keep` chooses, as an openings file's bytes, and how many
/// entries it opens.
fn openings_bytes(sealed: &SealedScenario, keep: impl Fn(&SealedStep) -> bool) -> (Vec<u8>, usize) {
    let ledger = sealed.steps[0].entry.event_hash();
    let openings: Vec<Openings> = sealed
        .steps
        .iter()
        .filter(|step| keep(step))
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
    let size = u64::try_from(sealed.steps.len()).unwrap();
    let file = OpeningsFile::new(ledger, size, openings).unwrap();
    let mut bytes = Vec::new();
    file.write(&mut bytes).unwrap();
    (bytes, count)
}

#[test]
fn verify_with_openings_replays_the_full_state_of_a_sealed_bundle() {
    let sb = Sandbox::new();
    let SealedFiles {
        sealed,
        bundle,
        vkey,
        ..
    } = sealed_files(&sb);
    let full_digest = sealed.ledger.ledger().full_state_digest(None).unwrap();

    // Every opening, in an openings file.
    let (bytes, count) = openings_bytes(&sealed, |_| true);
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

#[test]
fn an_operator_checks_its_own_part_of_a_resolutions_digest_with_its_own_openings_only() {
    let sb = Sandbox::new();
    let SealedFiles {
        sealed,
        bundle,
        vkey,
        ..
    } = sealed_files(&sb);
    // A resolution of the demo: its seq, the size it decided on and the digest it names.
    let resolution = sealed
        .steps
        .iter()
        .find(|step| step.entry.entry().statement.kind == "dispute.resolved")
        .expect("the demo resolves a dispute");
    let seq = resolution.entry.entry().seq;
    let body = &resolution.entry.entry().statement.body;
    let as_of = body["as_of"].as_u64().unwrap();
    let digest = body["state_digest"].as_str().unwrap().to_owned();

    // Whoever holds every opening (the authority) makes the operator's proof.
    let (full, _) = openings_bytes(&sealed, |_| true);
    let full_path = sb.join("full.openings.jsonl");
    std::fs::write(&full_path, full).unwrap();
    let proof_of = |operator: &str| {
        let output = sb.run(&[
            "replay",
            s(&bundle),
            "--log-vkey",
            &vkey,
            "--openings",
            s(&full_path),
            "--as-of",
            &as_of.to_string(),
            "--sub-state-proof",
            operator,
        ]);
        assert!(output.status.success(), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&digest),
            "the digest the resolution names: {stderr}"
        );
        let path = sb.join(&format!("{operator}.proof.json"));
        std::fs::write(&path, &output.stdout).unwrap();
        path
    };
    let operator = "indus-mobile";
    let proof = proof_of(operator);
    let v: Value = serde_json::from_slice(&std::fs::read(&proof).unwrap()).unwrap();
    assert_eq!(v["operator"], json!(operator));

    // The operator's own openings: the entries of its scope and its registration, nothing
    // of any other operator's.
    let mut scopes = Scopes::new();
    let mine = |step: &SealedStep, scope: Scope| {
        let statement = &step.entry.entry().statement;
        scope == Scope::Operator(hisaab_model::Slug::try_new(operator).unwrap())
            || (statement.kind == "operator.registered"
                && statement.body["operator"] == json!(operator))
    };
    let chosen: std::collections::BTreeSet<u64> = sealed
        .steps
        .iter()
        .filter(|step| {
            let scope = scopes.push(&step.entry);
            mine(step, scope)
        })
        .map(|step| step.entry.entry().seq)
        .collect();
    let (own, opened) = openings_bytes(&sealed, |step| chosen.contains(&step.entry.entry().seq));
    assert!(opened > 1 && opened < sealed.steps.len() / 2, "{opened}");
    let own_path = sb.join("own.openings.jsonl");
    std::fs::write(&own_path, own).unwrap();

    let verify = |proof: &Path, resolution: u64| {
        sb.run(&[
            "verify",
            s(&bundle),
            "--log-vkey",
            &vkey,
            "--openings",
            s(&own_path),
            "--sub-state-proof",
            s(proof),
            "--resolution",
            &resolution.to_string(),
            "--json",
        ])
    };
    let output = verify(&proof, seq);
    let v: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(v["ok"], json!(true), "{output:?}");
    let notes = v["notes"].to_string();
    assert!(
        notes.contains(&format!("the sub-state of {operator} at size {as_of}"))
            && notes.contains(&digest),
        "{notes}"
    );

    // Another operator's proof cannot be checked without that operator's blinding.
    let other = proof_of("sindh-link");
    let output = verify(&other, seq);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let v: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("`blinding` of operator `sindh-link`"),
        "{v}"
    );
    // A proof with its path altered does not lead to the digest.
    let mut bent: Value = serde_json::from_slice(&std::fs::read(&proof).unwrap()).unwrap();
    bent["path"][0] = json!(hisaab_log::Hash::sha256(b"another sibling"));
    let bent_path = sb.join("bent.proof.json");
    std::fs::write(&bent_path, bent.to_string()).unwrap();
    let output = verify(&bent_path, seq);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    // A seq that is no resolution names no digest.
    let output = verify(&proof, seq - 1);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let v: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("not a dispute.resolved"),
        "{v}"
    );
    // The proof needs every opening to be made: the operator's own do not make one.
    let output = sb.run(&[
        "replay",
        s(&bundle),
        "--openings",
        s(&own_path),
        "--sub-state-proof",
        operator,
    ]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("were not opened"),
        "{output:?}"
    );
}

#[test]
fn a_disclosure_of_chosen_fields_verifies_against_the_public_bundle_and_is_recorded() {
    let sb = Sandbox::new();
    let SealedFiles {
        scenario,
        sealed,
        bundle,
        vkey,
    } = sealed_files(&sb);
    let (full, _) = openings_bytes(&sealed, |_| true);
    let full_path = sb.join("full.openings.jsonl");
    std::fs::write(&full_path, full).unwrap();
    let seq_of = |kind: &str| {
        sealed
            .steps
            .iter()
            .find(|s| s.entry.entry().statement.kind == kind)
            .unwrap()
            .entry
            .entry()
            .seq
    };
    let (submission, evaluation) = (seq_of("submission.filed"), seq_of("evaluation.recorded"));
    let value = sealed.steps[usize::try_from(submission).unwrap()]
        .openings
        .as_ref()
        .unwrap()["value"]
        .value
        .clone();

    // The value of one submission, and every field of one evaluation, for a court.
    let disclosure = sb.join("disclosure.json");
    let out = sb.run(&[
        "disclose",
        "--openings",
        s(&full_path),
        "--entry",
        &format!("{submission}:value"),
        "--entry",
        &evaluation.to_string(),
        "--to",
        "The Islamabad High Court",
        "--out",
        s(&disclosure),
    ]);
    assert!(out.status.success(), "{out:?}");
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["to"], json!("The Islamabad High Court"));
    assert_eq!(body["entries"][0]["fields"], json!(["value"]));
    let written: Value = serde_json::from_slice(&std::fs::read(&disclosure).unwrap()).unwrap();
    assert_eq!(written["entries"][0]["fields"]["value"]["value"], value);
    assert!(written["entries"][0]["fields"].get("note").is_none());

    // The recipient checks it against the public bundle alone; it is not recorded there yet.
    let check = |bundle: &Path, disclosure: &Path| {
        sb.run(&[
            "verify",
            s(bundle),
            "--log-vkey",
            &vkey,
            "--disclosure",
            s(disclosure),
            "--json",
        ])
    };
    let output = check(&bundle, &disclosure);
    let v: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(v["ok"], json!(true), "{output:?}");
    let notes = v["notes"].to_string();
    assert!(
        notes.contains(&format!("seq {submission} submission.filed `value`")),
        "{notes}"
    );
    assert!(notes.contains("no disclosure.recorded"), "{notes}");

    // A partial bundle (SPEC §6.1) serves as well while it holds the entries disclosed; an
    // entry disclosed that is withheld from it is named.
    let lines: Vec<String> = std::fs::read_to_string(&bundle)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let withheld = |seq: u64| {
        let mut lines = lines.clone();
        let entry = &sealed.steps[usize::try_from(seq).unwrap()].entry;
        lines[usize::try_from(seq).unwrap() + 1] = json!({"withheld": {
            "seq": seq,
            "kind": entry.entry().statement.kind,
            "leaf_hash": entry.event_hash().to_hex(),
        }})
        .to_string();
        let path = sb.join(&format!("partial-{seq}.jsonl"));
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        path
    };
    let other = (1..)
        .find(|seq| ![submission, evaluation].contains(seq))
        .unwrap();
    let output = check(&withheld(other), &disclosure);
    let v: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(v["ok"], json!(true), "{output:?}");
    let notes = v["notes"].to_string();
    assert!(
        notes.contains(&format!("seq {submission} submission.filed `value`"))
            && notes.contains(&format!(
                "the bundle is partial (1 withheld, the first at seq {other})"
            ))
            && notes.contains("cannot be ruled out"),
        "{notes}"
    );
    let output = check(&withheld(submission), &disclosure);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let v: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        v["error"].as_str().unwrap().contains(&format!(
            "entry {submission}, which it discloses, is withheld"
        )),
        "{v}"
    );

    // The authority signs the record with the usual flow, and the ledger takes it.
    let authority = scenario.actor("pta").unwrap();
    let key = sb.join("pta.pem");
    write_pem(&key, &authority.key);
    let body_path = sb.join("record.json");
    std::fs::write(&body_path, &out.stdout).unwrap();
    let ledger = sealed.steps[0].entry.event_hash();
    let last = &sealed.steps.last().unwrap().entry;
    // Issued on the demo's last day, after its last entry.
    let issued_at = format!("{}T23:59:59Z", last.entry().recorded_at.date());
    let signed = sb.ok(&[
        "sign",
        "--key",
        s(&key),
        "--kind",
        "disclosure.recorded",
        "--body",
        s(&body_path),
        "--ledger",
        &ledger.to_hex(),
        "--issued-at",
        &issued_at,
    ]);
    let envelope: Envelope = serde_json::from_str(signed.trim()).unwrap();
    let mut full_ledger = sealed.ledger.clone();
    let entry = SealedEntry::seal(Entry::new(
        last.entry().seq + 1,
        last.event_hash(),
        envelope.statement.issued_at.clone(),
        envelope,
    ))
    .unwrap();
    full_ledger
        .append(entry.clone())
        .expect("the ledger accepts the record");
    let mut entries: Vec<SealedEntry> = sealed.steps.iter().map(|s| s.entry.clone()).collect();
    entries.push(entry);
    let (recorded, _) = write_bundle(&sb, "recorded.jsonl", &scenario, &entries);
    let output = check(&recorded, &disclosure);
    let v: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(v["ok"], json!(true), "{output:?}");
    assert!(
        v["notes"]
            .to_string()
            .contains(&format!("disclosure.recorded at seq {}", entries.len() - 1)),
        "{v}"
    );

    // A value altered in the disclosure does not check.
    let mut bent = written.clone();
    bent["entries"][0]["fields"]["value"]["value"] = json!("0.5");
    let bent_path = sb.join("bent.json");
    std::fs::write(&bent_path, bent.to_string()).unwrap();
    let output = check(&recorded, &bent_path);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    // A field the openings file does not hold cannot be disclosed.
    let output = sb.run(&[
        "disclose",
        "--openings",
        s(&full_path),
        "--entry",
        &format!("{submission}:period"),
        "--to",
        "x",
        "--out",
        s(&sb.join("no.json")),
    ]);
    assert!(!output.status.success(), "{output:?}");
}

/// Sealing at append against a real `hisaab serve` (SPEC §7.2, §12.5, §12.10): `hisaab init`
/// writes the master key beside the log key (mode 0600); `hisaab submit` seals what it signs
/// and the server stores the entry sealed; a sealing that does not open the body is refused
/// and nothing changes; a restart replays with the openings to the same state; the data
/// directory holds no sealed value in the clear.
#[test]
fn a_format_2_server_stores_sealed_statements_and_replays_them_with_their_openings() {
    use crate::common::{
        fixed_key, get_full_ok, get_ok, init_v2_ledger, now, post_envelope, register_ravi, Server,
        V2Ledger,
    };
    use hisaab_log::seal::{Sealing, Seed};
    use hisaab_log::{Envelope, Hash, Statement, StatementId};

    let sb = Sandbox::new();
    let V2Ledger {
        data,
        init_out: out,
        ledger,
        vkey,
    } = init_v2_ledger(&sb, "sealed.test/hisaab");
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
    let server = Server::start(&sb, &data, &sb.join("log.pem"));
    let url = server.url.clone();
    let submit = |args: &[&str]| -> Value {
        let mut full = vec!["submit"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--server", &url, "--log-vkey", &vkey, "--json"]);
        serde_json::from_str(&sb.ok(&full)).unwrap()
    };
    let saved = sb.join("operator.json");
    register_ravi(&sb, &submit, &["--save", s(&saved)]);
    let note = "Quarterly failover drill passed at the Lahore site";
    let filed = crate::common::file_ravi_report(&sb, &submit, note);
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
    // It has no openings to give a full reader either (503 `unavailable`): the authority's
    // replay is of the sealed entries, as the server's own state is.
    let out = sb.run(&[
        "replay",
        &server.url,
        "--key",
        s(&sb.join("pta.pem")),
        "--json",
    ]);
    assert!(out.status.success(), "{out:?}");
    let replayed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        replayed["digest"].as_str().unwrap(),
        state_digest(&get_full_ok(&server, "/v1/state"))
    );
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

/// The vectors of what anyone checks without openings, re-derived from SPEC alone by
/// `tests/vectors/rederive_public.py` (written here with `HISAAB_BLESS=1`, compared otherwise):
///
/// - `report`: the demo's year report (SPEC §12.12) with the full state it was computed from,
///   split as the full-state digest tree splits it (§12.8): its aggregates and its
///   `state_digest` follow from that split, which a verifier re-derives;
/// - `partial_bundle`: the format-1 demo's bundle (its shortest run) as the CISO of indus-mobile is served it
///   (§6.1, §13.4): every other operator's entry and the sector's withheld.
#[test]
fn public_vectors_are_the_demo_s_report_and_a_partial_bundle() {
    use hisaab_model::view::{entry_access, view_state, EntryAccess};
    use hisaab_model::{MemoryLedger, Reader, Slug};

    let scenario = build(&ScenarioConfig::default()).unwrap();
    let sealed = scenario.sealed().unwrap();
    let report = sealed
        .steps
        .iter()
        .find(|step| step.entry.entry().statement.kind == "report.published")
        .expect("the demo publishes a report");
    let seq = report.entry.entry().seq;
    let mut before = MemoryLedger::new();
    for step in &sealed.steps[..usize::try_from(seq).unwrap()] {
        before
            .append_opened(step.entry.clone(), step.openings.clone())
            .unwrap();
    }
    let state = before.ledger().state(None);
    let mut public = serde_json::to_value(view_state(&state, &Reader::Public)).unwrap();
    public.as_object_mut().unwrap().remove("digest");
    let operators: Vec<Value> = state
        .operators
        .iter()
        .map(|(id, operator)| {
            json!({
                "operator": id,
                "blinding": before.ledger().blinding(id).unwrap(),
                "state": operator,
            })
        })
        .collect();
    let leaf = String::from_utf8(report.entry.leaf_bytes().to_vec()).unwrap();
    // The report names the full-state digest of this split, as the ledger checked at append.
    assert_eq!(
        before.ledger().full_state_digest(None).map(|d| d.to_hex()),
        report.entry.entry().statement.body["state_digest"]
            .as_str()
            .map(str::to_owned)
    );

    let v1 = build(&ScenarioConfig {
        format: 1,
        months: hisaab_scenario::MONTHS_MIN,
        ..ScenarioConfig::default()
    })
    .unwrap();
    let entries = v1.into_memory_ledger().unwrap().entries().to_vec();
    let reader = Reader::Operator(Slug::try_new("indus-mobile").unwrap());
    let mut scopes = Scopes::new();
    let mut frontier = Frontier::new();
    let mut lines = Vec::new();
    let mut withheld = Vec::new();
    for entry in &entries {
        frontier.push(entry.event_hash());
        let scope = scopes.push(entry);
        if entry_access(&reader, &scope) == EntryAccess::Withheld {
            withheld.push(entry.entry().seq);
            lines.push(
                json!({"withheld": {
                    "seq": entry.entry().seq,
                    "kind": entry.entry().statement.kind,
                    "leaf_hash": entry.event_hash().to_hex(),
                }})
                .to_string(),
            );
        } else {
            lines.push(String::from_utf8(entry.leaf_bytes().to_vec()).unwrap());
        }
    }
    let note = Checkpoint {
        origin: v1.origin.clone(),
        size: frontier.size(),
        root: frontier.root(),
    }
    .sign(&v1.log_key)
    .unwrap();
    let vkey = VerifierKey::new(&v1.origin, PublicKey::from_signing_key(&v1.log_key))
        .unwrap()
        .to_vkey();
    let header = BundleHeader::for_format(1, &v1.origin, &vkey, &note);
    let mut bundle = String::from_utf8(hisaab_log::jcs::to_canonical(&header).unwrap()).unwrap();
    bundle.push('\n');
    for line in &lines {
        bundle.push_str(line);
        bundle.push('\n');
    }
    // What the verifier makes of it, which the re-derivation must agree with.
    let verified = hisaab_model::verify_bundle(bundle.as_bytes()).unwrap();
    assert_eq!(verified.withheld, withheld);
    assert!(withheld.len() > 10 && verified.replayed < verified.size);

    let vectors = json!({
        "description": "What anyone checks without openings (SPEC §6.1-6.2, §12.8, §12.12), \
            re-derived by tests/vectors/rederive_public.py. `report`: the format-2 demo's \
            report.published (its leaf bytes and seq) with the full state at size `seq` split \
            as the full-state digest tree splits it (the public part without its digest; each \
            registered operator's blinding and sub-state). `partial_bundle`: the format-1 \
            demo's bundle (its shortest run) as the CISO of indus-mobile is served it; `withheld` its withheld \
            seqs, `replayed` the size a verifier replays the rules to. Generated by \
            tests/it/sealed.rs (HISAAB_BLESS=1).",
        "report": {
            "seq": seq,
            "leaf": leaf,
            "public": public,
            "operators": operators,
        },
        "partial_bundle": {
            "reader": "operator:indus-mobile",
            "bundle": bundle,
            "withheld": withheld,
            "replayed": verified.replayed,
            "root": verified.root,
        },
    });
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/public.json");
    let text = serde_json::to_string_pretty(&vectors).unwrap() + "\n";
    if std::env::var_os("HISAAB_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    assert!(
        std::fs::read_to_string(&path).unwrap_or_default() == text,
        "{} differs from what the code gives now: if the change is meant, regenerate it with \
         HISAAB_BLESS=1 cargo test --test it public_vectors, and re-derive it with python3 \
         tests/vectors/rederive_public.py",
        path.display()
    );
}
