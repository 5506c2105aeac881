//! The `hisaab` command as a user runs it: keys, a new ledger, the server, offline signing,
//! submitting with verified receipts, witnessing, proofs, verifying a server, a data directory
//! and a bundle, replaying, exporting; tampered bundles; and the demo.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use serde_json::{json, Value};

use crate::common::{self, Sandbox, Server};

const ORIGIN: &str = "cli.test/hisaab";

/// The value after `label` on the first line of `text` that starts with it.
fn field(text: &str, label: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label:?} in:\n{text}"))
        .trim()
        .to_owned()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn a_user_runs_a_ledger_from_keygen_to_a_verified_bundle() {
    let sb = Sandbox::new();
    let key = |name: &str| sb.join(&format!("{name}.pem"));

    // keygen: PKCS#8 PEM, mode 0600, never overwritten, public key and vkey printed.
    let out = sb.ok(&["keygen", s(&key("log")), "--log-name", ORIGIN]);
    let vkey = field(&out, "vkey:");
    assert!(vkey.starts_with(&format!("{ORIGIN}+")), "{out}");
    let pem = std::fs::read_to_string(key("log")).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI"));
    assert!(
        !out.contains(pem.lines().nth(1).unwrap()),
        "keygen printed the private key"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(key("log")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let refused = sb.fails(&["keygen", s(&key("log"))]);
    assert!(refused.contains("refusing to overwrite"), "{refused}");
    assert_eq!(std::fs::read_to_string(key("log")).unwrap(), pem);
    for name in ["pta", "ciso", "witness"] {
        sb.ok(&["keygen", s(&key(name))]);
    }
    let out = sb.ok(&["pubkey", s(&key("log")), "--log-name", ORIGIN]);
    assert_eq!(field(&out, "vkey:"), vkey);

    // init: a new ledger, genesis signed by the authority.
    let data = sb.join("ledger");
    let out = sb.ok(&[
        "init",
        "--data",
        s(&data),
        "--log-key",
        s(&key("log")),
        "--authority-key",
        s(&key("pta")),
        "--origin",
        ORIGIN,
        "--title",
        "CLI test ledger",
    ]);
    let ledger = field(&out, "ledger:");
    assert_eq!(field(&out, "log vkey:"), vkey);
    let again = sb.fails(&[
        "init",
        "--data",
        s(&data),
        "--log-key",
        s(&key("log")),
        "--authority-key",
        s(&key("pta")),
        "--origin",
        ORIGIN,
        "--title",
        "again",
    ]);
    assert!(again.contains("not empty"), "{again}");

    // A genesis signed elsewhere (an air-gapped authority), then `init --genesis`.
    let airgap_vkey = field(
        &sb.ok(&[
            "keygen",
            s(&key("airgap-log")),
            "--log-name",
            "airgap.test/hisaab",
        ]),
        "vkey:",
    );
    let genesis_body = sb.join("genesis-body.json");
    std::fs::write(
        &genesis_body,
        json!({"origin":"airgap.test/hisaab","title":"Signed offline",
               "strategy":{"name":"Strategy","starts":"2023-01-01","ends":"2028-12-31"},
               "log_key":airgap_vkey,"authority":{"member":"pta","name":"PTA"},
               "policy":{"max_future_skew_s":300,"max_age_s":86400}})
        .to_string(),
    )
    .unwrap();
    let genesis = sb.join("genesis.json");
    sb.ok(&[
        "sign",
        "--key",
        s(&key("pta")),
        "--kind",
        "ledger.genesis",
        "--body",
        s(&genesis_body),
        "--out",
        s(&genesis),
    ]);
    let wrong_key = sb.fails(&[
        "init",
        "--data",
        s(&sb.join("airgap-wrong")),
        "--log-key",
        s(&key("log")),
        "--genesis",
        s(&genesis),
    ]);
    assert!(wrong_key.contains("genesis names"), "{wrong_key}");
    let airgap = sb.join("airgap");
    sb.ok(&[
        "init",
        "--data",
        s(&airgap),
        "--log-key",
        s(&key("airgap-log")),
        "--genesis",
        s(&genesis),
    ]);
    let out = sb.ok(&["verify", s(&airgap)]);
    assert!(
        out.starts_with(&format!("OK: {} verified\n", s(&airgap))),
        "{out}"
    );
    assert_eq!(field(&out, "  size:"), "1 entries", "{out}");
    assert_eq!(field(&out, "  origin:"), "airgap.test/hisaab", "{out}");

    // serve.
    let server = Server::start(&sb, &data, &key("log"));
    let url = server.url.clone();
    let submit = |args: &[&str]| -> Value {
        let mut full = vec!["submit"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--server", &url, "--log-vkey", &vkey, "--json"]);
        serde_json::from_str(&sb.ok(&full)).unwrap()
    };

    // Sign-and-send helpers, each receipt verified by the command.
    let r = submit(&[
        "operator",
        "--key",
        s(&key("pta")),
        "--operator",
        "ravi-tel",
        "--name",
        "Ravi Telecom",
    ]);
    assert_eq!(
        (r["seq"].as_u64(), r["created"].as_bool()),
        (Some(1), Some(true))
    );
    submit(&[
        "member",
        "--key",
        s(&key("pta")),
        "--member",
        "ciso-ravi",
        "--name",
        "CISO of Ravi",
        "--role",
        "ciso",
        "--operator",
        "ravi-tel",
        "--member-key",
        s(&key("ciso")),
    ]);
    submit(&[
        "member",
        "--key",
        s(&key("pta")),
        "--member",
        "witness-one",
        "--name",
        "Witness One",
        "--role",
        "witness",
        "--member-key",
        s(&key("witness")),
    ]);
    submit(&[
        "define-kpi",
        "--key",
        s(&key("pta")),
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
        s(&key("pta")),
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

    // Offline signing on an "air-gapped" machine, then submitting the envelope file.
    let body = sb.join("body.json");
    std::fs::write(
        &body,
        json!({"operator":"ravi-tel","kpi":"CR-01","period":month,"value":"91.5",
               "evidence":[],"note":"first report"})
        .to_string(),
    )
    .unwrap();
    let envelope = sb.join("envelope.json");
    sb.ok(&[
        "sign",
        "--key",
        s(&key("ciso")),
        "--kind",
        "submission.filed",
        "--body",
        s(&body),
        "--ledger",
        &ledger,
        "--out",
        s(&envelope),
    ]);
    let missing_ledger = sb.fails(&[
        "sign",
        "--key",
        s(&key("ciso")),
        "--kind",
        "submission.filed",
        "--body",
        s(&body),
    ]);
    assert!(missing_ledger.contains("--ledger"), "{missing_ledger}");
    // Signed in its sealed form (SPEC §12.5): the file carries the sealing beside the envelope,
    // and the entry the server records holds a commitment, not the value, so anyone may read it.
    let signed: Value = serde_json::from_str(&std::fs::read_to_string(&envelope).unwrap()).unwrap();
    assert!(
        signed["sealing"].is_object() && signed["envelope"]["statement"]["body"].is_object(),
        "{signed}"
    );
    assert!(
        !signed["envelope"].to_string().contains("91.5"),
        "the value is signed in the clear: {signed}"
    );
    let first = submit(&[s(&envelope)]);
    assert_eq!(first["created"], json!(true));
    let public = crate::common::get_ok(&server, &format!("/v1/entries/{}", first["seq"]));
    assert!(
        public.contains("submission.filed") && !public.contains("91.5"),
        "{public}"
    );
    // Resubmitting is idempotent: the original receipt.
    let resent = submit(&[s(&envelope)]);
    assert_eq!(
        (resent["created"].clone(), resent["seq"].clone()),
        (json!(false), first["seq"].clone())
    );

    // A corrected report with evidence hashed locally, superseding the first.
    let evidence = sb.join("patch-report.txt");
    std::fs::write(&evidence, "patched 97 of 100 systems\n").unwrap();
    let second = submit(&[
        "kpi",
        "--key",
        s(&key("ciso")),
        "--operator",
        "ravi-tel",
        "--kpi",
        "CR-01",
        "--period",
        &month,
        "--value",
        "97",
        "--evidence",
        s(&evidence),
        "--supersedes",
        first["event_hash"].as_str().unwrap(),
    ]);
    let size_after_submissions = second["seq"].as_u64().unwrap() + 1;

    // A refused statement: the CISO may not register operators (403), and the command fails.
    let refused = sb.fails(&[
        "submit",
        "operator",
        "--key",
        s(&key("ciso")),
        "--operator",
        "x",
        "--name",
        "X",
        "--server",
        &url,
    ]);
    assert!(refused.contains("403"), "{refused}");

    // witness, then proofs.
    let out = sb.ok(&[
        "witness",
        "--server",
        &url,
        "--key",
        s(&key("witness")),
        "--name",
        "witness-one",
    ]);
    assert!(out.contains("cosigned the checkpoint of size"), "{out}");
    let checkpoint = server
        .http()
        .get(format!("{url}/v1/checkpoint"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(checkpoint.contains("\u{2014} witness-one "), "{checkpoint}");
    let out = sb.ok(&["proof", "inclusion", "--index", "1", "--server", &url]);
    assert!(out.starts_with("OK: entry 1 (operator.registered"), "{out}");
    let out = sb.ok(&[
        "proof",
        "inclusion",
        "--event",
        second["event_hash"].as_str().unwrap(),
        "--key",
        s(&key("pta")),
        "--server",
        &url,
    ]);
    assert!(out.starts_with("OK: entry"), "{out}");
    // Without a key, by its index.
    let out = sb.ok(&[
        "proof",
        "inclusion",
        "--index",
        &second["seq"].to_string(),
        "--server",
        &url,
    ]);
    assert!(out.starts_with("OK: entry"), "{out}");
    let out = sb.ok(&["proof", "consistency", "--server", &url]);
    assert!(out.starts_with("OK: the log of size"), "{out}");

    // verify a server: the whole bundle, replayed as a full reader; then again, consistent with
    // what was seen.
    let out = sb.ok(&["verify", &url, "--key", s(&key("pta"))]);
    assert!(out.starts_with(&format!("OK: {url} verified\n")), "{out}");
    assert_eq!(
        field(&out, "  size:"),
        format!("{size_after_submissions} entries"),
        "{out}"
    );
    assert!(out.contains("checkpoint: size"), "{out}");

    // A server that rewrote history is caught: the checkpoint this client remembers (here
    // forged with the log key: same size, another root) is not consistent with the server's.
    let log_key = {
        use ed25519_dalek::pkcs8::DecodePrivateKey as _;
        ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).unwrap()
    };
    let forged = hisaab_log::note::Checkpoint {
        origin: ORIGIN.to_owned(),
        size: size_after_submissions,
        root: hisaab_log::Hash::sha256(b"another history"),
    }
    .sign(&log_key)
    .unwrap();
    let mut memory: Value =
        serde_json::from_str(&std::fs::read_to_string(sb.state_file()).unwrap()).unwrap();
    memory["servers"][&url]["checkpoint"] = json!(forged);
    let forged_state = sb.join("forged-state.json");
    std::fs::write(&forged_state, memory.to_string()).unwrap();
    let out = sb.fails(&["verify", &url, "--state", s(&forged_state)]);
    assert!(out.contains("FAILED") && out.contains("forked"), "{out}");

    let out = sb.ok(&["verify", &url, "--json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["ok"].clone(), v["ledger"].clone()),
        (json!(true), json!(ledger))
    );

    // replay from the server: tables, JSON, and a diff. The public replays the sealed
    // entries itself.
    let out = sb.run(&["replay", &url]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("ravi-tel") && stdout.contains("CR-01") && stdout.contains("submitted"),
        "{stdout}"
    );
    assert!(!stderr.contains("not replayed here"), "{stderr}");
    let state: Value =
        serde_json::from_str(&sb.ok(&["replay", &url, "--json", "--key", s(&key("pta"))])).unwrap();
    assert_eq!(
        state["operators"]["ravi-tel"]["kpis"]["CR-01"]["value"],
        json!("97")
    );
    let served: Value =
        serde_json::from_str(&get_as(&server, "/v1/state", &key("pta"), "pta")).unwrap();
    assert_eq!(
        state["digest"], served["digest"],
        "local replay and the server agree"
    );
    let out = sb.ok(&[
        "replay",
        &url,
        "--diff",
        "2",
        &size_after_submissions.to_string(),
    ]);
    assert!(out.contains("CR-01"), "{out}");
    server.stop();

    // export the data directory; verify it and the bundle; replay the bundle.
    let bundle = sb.join("bundle.jsonl");
    sb.ok(&[
        "export",
        "--data",
        s(&data),
        "--log-key",
        s(&key("log")),
        "--out",
        s(&bundle),
    ]);
    let out = sb.ok(&["verify", s(&bundle)]);
    assert!(
        out.starts_with(&format!("OK: {} verified\n", s(&bundle))),
        "{out}"
    );
    assert_eq!(
        field(&out, "  size:"),
        format!("{size_after_submissions} entries"),
        "{out}"
    );
    let out = sb.ok(&["verify", s(&data)]);
    assert!(out.starts_with("OK:"), "{out}");
    let early: Value =
        serde_json::from_str(&sb.ok(&["replay", s(&bundle), "--as-of", "2", "--json"])).unwrap();
    assert_eq!(early["size"], json!(2));
    assert!(early["operators"]["ravi-tel"]["kpis"]
        .as_object()
        .unwrap()
        .is_empty());

    // Tampering: flip one byte in entry 1 (its signature no longer verifies), or drop entry 3
    // (the chain breaks there). Both fail, naming the seq.
    let text = std::fs::read_to_string(&bundle).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let flipped = lines[2].replacen("Ravi Telecom", "Ravi Telecon", 1);
    assert_ne!(flipped, lines[2]);
    let mut tampered: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    tampered[2] = flipped;
    let flipped_path = sb.join("flipped.jsonl");
    std::fs::write(&flipped_path, tampered.join("\n") + "\n").unwrap();
    let out = sb.fails(&["verify", s(&flipped_path)]);
    assert!(out.contains("FAILED") && out.contains("at seq 1"), "{out}");
    let v: Value = serde_json::from_str(
        &String::from_utf8(sb.run(&["verify", s(&flipped_path), "--json"]).stdout).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (v["ok"].clone(), v["seq"].clone()),
        (json!(false), json!(1))
    );

    let mut dropped: Vec<&str> = lines.clone();
    dropped.remove(4);
    let dropped_path = sb.join("dropped.jsonl");
    std::fs::write(&dropped_path, dropped.join("\n") + "\n").unwrap();
    let out = sb.fails(&["verify", s(&dropped_path)]);
    // The entry now at position 3 says it is seq 4: named at position 3, where the chain breaks.
    assert!(out.contains("FAILED") && out.contains("at seq 3"), "{out}");
    assert!(!out.contains("at seq 4"), "{out}");
}

#[test]
fn demo_builds_and_verifies_a_realistic_ledger_without_serving() {
    let sb = Sandbox::new();
    let data = sb.join("demo");
    let out = sb.ok(&[
        "demo",
        "--no-serve",
        "--data",
        s(&data),
        "--months",
        "6",
        "--seed",
        "7",
    ]);
    assert!(out.contains("verified end to end"), "{out}");
    assert!(
        out.contains("/v1/checkpoint") && out.contains("--diff"),
        "{out}"
    );
    assert!(data.join("keys/log.pem").is_file());
    assert!(data.join("keys/pta.pem").is_file());
    // The exported bundle verifies with the command too.
    let out = sb.ok(&["verify", s(&data.join("bundle.jsonl"))]);
    assert!(out.starts_with("OK:"), "{out}");
    // A non-empty directory is refused.
    let refused = sb.fails(&["demo", "--no-serve", "--data", s(&data)]);
    assert!(refused.contains("not empty"), "{refused}");
}

#[test]
fn the_demo_says_who_owes_what_by_when_and_replays_by_date() {
    let sb = Sandbox::new();
    let data = sb.join("demo");
    sb.ok(&[
        "demo",
        "--no-serve",
        "--data",
        s(&data),
        "--months",
        "6",
        "--seed",
        "7",
    ]);
    let bundle = data.join("bundle.jsonl");
    let header = std::fs::read_to_string(&bundle).unwrap();
    assert!(
        header.starts_with("{\"bundle\":\"hisaab/v2\""),
        "a v2 ledger"
    );
    // replay --as-of-date: the ledger as recorded by the end of a day, that day the clock;
    // the same from the bundle and the data directory.
    let by_date = |source: &Path, day: &str| -> Value {
        serde_json::from_str(&sb.ok(&["replay", s(source), "--as-of-date", day, "--json"])).unwrap()
    };
    let full: Value = serde_json::from_str(&sb.ok(&["replay", s(&bundle), "--json"])).unwrap();
    // The day the ledger opened (the demo's months end before today).
    let genesis: Value = serde_json::from_str(header.lines().nth(1).unwrap()).unwrap();
    let opened = genesis["recorded_at"].as_str().unwrap()[..10].to_owned();
    let first = by_date(&bundle, &opened);
    assert_eq!(first["at"], json!(opened));
    let size = first["size"].as_u64().unwrap();
    assert!(size >= 1 && size < full["size"].as_u64().unwrap());
    assert_eq!(by_date(&data.join("ledger"), &opened), first);
    assert_eq!(first["format"], 2);
    assert!(first["kpis"].is_object());
    assert!(full["kpis"].as_object().is_some_and(|k| !k.is_empty()));
    let out = sb.fails(&["replay", s(&bundle), "--as-of-date", "2020-01-01"]);
    assert!(out.contains("nothing was recorded"), "{out}");

    // obligations, from a server of the demo's ledger: every kind, with due dates.
    let server = Server::start(&sb, &data.join("ledger"), &data.join("keys/log.pem"));
    let url = server.url.clone();
    let last_day = full["at"].as_str().unwrap().to_owned();
    let at = hisaab_log::Date::try_parse(&last_day)
        .unwrap()
        .plus_days(45)
        .unwrap()
        .to_string();
    let out = sb.ok(&["obligations", "--server", &url, "--at", &at]);
    for kind in [
        "report",
        "evaluation",
        "commitment",
        "dispute",
        "challenge",
        "action",
        "directive",
    ] {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(kind)),
            "no {kind} in:\n{out}"
        );
    }
    assert!(out.contains("DAYS LATE"), "{out}");
    assert!(
        out.contains("member eval-ayesha"),
        "an action owed by a member:\n{out}"
    );
    assert!(
        out.contains("(escalated: esc-"),
        "an escalated item:\n{out}"
    );
    let doc: Value =
        serde_json::from_str(&sb.ok(&["obligations", "--server", &url, "--at", &at, "--json"]))
            .unwrap();
    let items = doc["items"].as_array().unwrap();
    assert!(items.iter().all(|i| i["due"].is_string()));
    let operator = items
        .iter()
        .find_map(|i| i["operator"].as_str())
        .unwrap()
        .to_owned();
    let mine: Value = serde_json::from_str(&sb.ok(&[
        "obligations",
        "--server",
        &url,
        "--at",
        &at,
        "--operator",
        &operator,
        "--json",
    ]))
    .unwrap();
    assert!(mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["operator"] == json!(operator)));
    let out = sb.fails(&["obligations", "--server", &url, "--operator", "nobody-here"]);
    assert!(out.contains("nobody-here"), "{out}");
    server.stop();
}

/// Runs `hisaab args…` and returns its exit code and stdout + stderr.
/// `GET path` signed as `member` with the PEM key at `key_path` (SPEC §13.1): the body of a 200.
fn get_as(server: &Server, path: &str, key_path: &Path, member: &str) -> String {
    use ed25519_dalek::pkcs8::DecodePrivateKey as _;
    let key =
        ed25519_dalek::SigningKey::from_pkcs8_pem(&std::fs::read_to_string(key_path).unwrap())
            .unwrap();
    let response = common::signed_get(&server.http(), &server.url, path, &key, member)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "GET {path} as {member}");
    response.text().unwrap()
}

fn code(sb: &Sandbox, args: &[&str]) -> (i32, String) {
    let output = sb.run(args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap(), text)
}

#[test]
fn verify_holds_to_the_pinned_log_key_and_ledger_and_exit_codes_say_why() {
    let sb = Sandbox::new();
    let key = |name: &str| sb.join(&format!("{name}.pem"));
    let vkey = field(
        &sb.ok(&["keygen", s(&key("log")), "--log-name", ORIGIN]),
        "vkey:",
    );
    let other_vkey = field(
        &sb.ok(&["keygen", s(&key("other-log")), "--log-name", ORIGIN]),
        "vkey:",
    );
    sb.ok(&["keygen", s(&key("pta"))]);
    let data = sb.join("ledger");
    let out = sb.ok(&[
        "init",
        "--data",
        s(&data),
        "--log-key",
        s(&key("log")),
        "--authority-key",
        s(&key("pta")),
        "--origin",
        ORIGIN,
        "--title",
        "Pins",
    ]);
    let ledger = field(&out, "ledger:");

    // Reading a data directory needs no private key: export and replay without --log-key.
    let bundle = sb.join("bundle.jsonl");
    sb.ok(&["export", "--data", s(&data), "--out", s(&bundle)]);
    let state: Value = serde_json::from_str(&sb.ok(&["replay", s(&data), "--json"])).unwrap();
    assert_eq!(state["ledger"], json!(ledger));
    // replay holds to a pin too.
    for target in [s(&data), s(&bundle)] {
        let (status, out) = code(&sb, &["replay", target, "--log-vkey", &other_vkey]);
        assert_eq!(status, 1, "{out}");
        assert!(out.contains(&format!("found {vkey}")), "{out}");
        sb.ok(&["replay", target, "--log-vkey", &vkey]);
    }

    // Without a pin a file's own key is trusted, and said so, with the vkey to compare.
    let (status, out) = code(&sb, &["verify", s(&bundle)]);
    assert_eq!(status, 0, "{out}");
    assert!(
        out.contains(&format!("log vkey: {vkey} (NOT pinned)")),
        "{out}"
    );
    assert!(out.contains("trusted the file's own log key"), "{out}");
    assert_eq!(field(&out, "  ledger:"), ledger, "{out}");
    assert_eq!(field(&out, "  origin:"), ORIGIN, "{out}");
    assert!(out.contains("  root:"), "{out}");

    for target in [s(&bundle), s(&data)] {
        let (status, out) = code(
            &sb,
            &["verify", target, "--log-vkey", &vkey, "--ledger", &ledger],
        );
        assert_eq!(status, 0, "{out}");
        assert!(out.contains("(pinned with --log-vkey)"), "{out}");
        assert!(out.contains("(pinned with --ledger)"), "{out}");
        assert!(!out.contains("NOT pinned"), "{out}");

        // Another log's key: fails (1), naming the expected and the found key.
        let (status, out) = code(&sb, &["verify", target, "--log-vkey", &other_vkey]);
        assert_eq!(status, 1, "{out}");
        assert!(out.contains(&format!("expected {other_vkey}")), "{out}");
        assert!(out.contains(&format!("found {vkey}")), "{out}");
        assert!(!out.contains("OK"), "{out}");

        // Another ledger id: fails (1).
        let other_ledger = "ab".repeat(32);
        let (status, out) = code(&sb, &["verify", target, "--ledger", &other_ledger]);
        assert_eq!(status, 1, "{out}");
        assert!(out.contains(&format!("expected {other_ledger}")), "{out}");

        // A malformed pin is a usage error (2), whatever the target holds.
        let (status, out) = code(&sb, &["verify", target, "--log-vkey", "garbage"]);
        assert_eq!(status, 2, "{out}");
        assert!(
            out.contains("--log-vkey \"garbage\" is not a log verifier key"),
            "{out}"
        );
        let (status, _) = code(&sb, &["verify", target, "--ledger", "00"]);
        assert_eq!(status, 2);
    }

    // Nothing there (3), an unknown flag (2), a server that does not answer (3, with the URL and
    // how to set it).
    let (status, out) = code(&sb, &["verify", s(&sb.join("missing.jsonl"))]);
    assert_eq!(status, 3, "{out}");
    assert_eq!(code(&sb, &["verify", s(&bundle), "--no-such-flag"]).0, 2);
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let (status, out) = code(&sb, &["verify", &closed]);
    assert_eq!(status, 3, "{out}");
    assert!(
        out.contains(&closed) && out.contains("HISAAB_SERVER"),
        "{out}"
    );
    let (status, out) = code(
        &sb,
        &[
            "submit",
            "operator",
            "--key",
            s(&key("pta")),
            "--operator",
            "x",
            "--name",
            "X",
            "--server",
            &closed,
        ],
    );
    assert_eq!(status, 3, "{out}");
    assert!(out.contains("--server URL or the HISAAB_SERVER"), "{out}");
    let help = sb.ok(&["--help"]);
    assert!(
        help.contains("Exit codes:") && help.contains("3  unreachable"),
        "{help}"
    );

    // A data directory held by a running server: said plainly, exit 3, nothing written.
    let server = Server::start(&sb, &data, &key("log"));
    let (status, out) = code(&sb, &["verify", s(&data)]);
    assert_eq!(status, 3, "{out}");
    assert!(out.contains("in use by another process"), "{out}");
    let locked_out = sb.join("locked.jsonl");
    let (status, out) = code(
        &sb,
        &["export", "--data", s(&data), "--out", s(&locked_out)],
    );
    assert_eq!(status, 3, "{out}");
    assert!(!locked_out.exists());

    // A server pinned to another key fails (1), naming both.
    let (status, out) = code(&sb, &["verify", &server.url, "--log-vkey", &other_vkey]);
    assert_eq!(status, 1, "{out}");
    assert!(
        out.contains(&format!("expected {other_vkey}")) && out.contains(&format!("found {vkey}")),
        "{out}"
    );
    let (status, out) = code(
        &sb,
        &[
            "verify",
            &server.url,
            "--log-vkey",
            &vkey,
            "--ledger",
            &ledger,
        ],
    );
    assert_eq!(status, 0, "{out}");
    server.stop();
}

#[test]
fn helpers_make_every_kind_without_json_and_resolve_a_dispute_on_a_replayed_digest() {
    let sb = Sandbox::new();
    let key = |name: &str| sb.join(&format!("{name}.pem"));
    let vkey = field(
        &sb.ok(&["keygen", s(&key("log")), "--log-name", ORIGIN]),
        "vkey:",
    );
    for name in ["pta", "ciso", "chair", "evaluator", "ciso-new"] {
        sb.ok(&["keygen", s(&key(name))]);
    }
    let data = sb.join("ledger");
    sb.ok(&[
        "init",
        "--data",
        s(&data),
        "--log-key",
        s(&key("log")),
        "--authority-key",
        s(&key("pta")),
        "--origin",
        ORIGIN,
        "--title",
        "Helpers",
    ]);
    let server = Server::start(&sb, &data, &key("log"));
    let url = server.url.clone();
    // Every helper signs with --key and sends to --server, pinned to the log key.
    let send = |name: &str, args: &[&str]| -> Value {
        let key_path = key(name);
        let mut all: Vec<&str> = vec!["submit"];
        all.extend_from_slice(args);
        all.extend_from_slice(&[
            "--key",
            s(&key_path),
            "--server",
            &url,
            "--log-vkey",
            &vkey,
            "--json",
        ]);
        serde_json::from_str(&sb.ok(&all)).unwrap()
    };
    let hash = |receipt: &Value| receipt["event_hash"].as_str().unwrap().to_owned();
    let month = crate::common::this_month();
    let today = crate::common::now().as_str()[..10].to_owned();

    send(
        "pta",
        &[
            "operator",
            "--operator",
            "indus-mobile",
            "--name",
            "Indus Mobile",
        ],
    );
    send(
        "pta",
        &[
            "member",
            "--member",
            "ciso-indus",
            "--name",
            "Ayesha",
            "--role",
            "ciso",
            "--operator",
            "indus-mobile",
            "--member-key",
            s(&key("ciso")),
        ],
    );
    send(
        "pta",
        &[
            "member",
            "--member",
            "chair",
            "--name",
            "Chair",
            "--role",
            "chair",
            "--member-key",
            s(&key("chair")),
        ],
    );
    send(
        "pta",
        &[
            "member",
            "--member",
            "evaluator",
            "--name",
            "Evaluator",
            "--role",
            "evaluator",
            "--member-key",
            s(&key("evaluator")),
        ],
    );
    send(
        "chair",
        &[
            "define-kpi",
            "--kpi",
            "CR-01",
            "--pillar",
            "resilience",
            "--title",
            "Patches",
            "--unit",
            "percent",
        ],
    );
    send(
        "chair",
        &[
            "assign",
            "--kpi",
            "CR-01",
            "--operator",
            "indus-mobile",
            "--target",
            "95",
            "--due",
            "2099-12-31",
            "--first-period",
            &month,
        ],
    );
    let evidence = sb.join("report.pdf");
    std::fs::write(&evidence, b"patch report").unwrap();
    let submission = hash(&send(
        "ciso",
        &[
            "kpi",
            "--operator",
            "indus-mobile",
            "--kpi",
            "CR-01",
            "--period",
            &month,
            "--value",
            "80",
            "--evidence",
            s(&evidence),
        ],
    ));
    let evaluation = hash(&send(
        "evaluator",
        &[
            "evaluate",
            "--submission",
            &submission,
            "--verdict",
            "not_met",
            "--score",
            "40",
            "--rationale",
            "Below target",
        ],
    ));

    // A dispute, opened by the CISO and resolved by the authority on a digest computed here.
    send(
        "ciso",
        &[
            "dispute",
            "open",
            "--dispute",
            "d-1",
            "--evaluation",
            &evaluation,
            "--grounds",
            "Two patches were applied late for a vendor delay",
        ],
    );
    let opened_size = send(
        "ciso",
        &[
            "commitment",
            "--commitment",
            "c-1",
            "--operator",
            "indus-mobile",
            "--kpi",
            "CR-01",
            "--action",
            "Patch within 14 days",
            "--due",
            "2099-06-30",
            "--in-response-to",
            &evaluation,
        ],
    )["seq"]
        .as_u64()
        .unwrap();
    let resolved = send(
        "pta",
        &[
            "dispute",
            "resolve",
            "--dispute",
            "d-1",
            "--outcome",
            "upheld",
            "--rationale",
            "The evaluation stands",
            "--as-of",
            &opened_size.to_string(),
        ],
    );
    let entry: Value = serde_json::from_str(&get_as(
        &server,
        &format!("/v1/entries/{}", resolved["seq"]),
        &key("pta"),
        "pta",
    ))
    .unwrap();
    let replayed: Value = serde_json::from_str(&sb.ok(&[
        "replay",
        &url,
        "--as-of",
        &opened_size.to_string(),
        "--json",
        "--key",
        s(&key("pta")),
    ]))
    .unwrap();
    // Format 2: the resolution names the full-state digest (SPEC §12.8), not §5.7's digest
    // of the state, which the bundle at that size, replayed here, gives too.
    let bundle = get_as(
        &server,
        &format!("/v1/bundle?tree_size={opened_size}"),
        &key("pta"),
        "pta",
    );
    // The entries are sealed: the bundle alone replays to the public state; with the openings
    // the authority may read, to the full state that `replay --key` printed.
    let openings = get_as(
        &server,
        &format!("/v1/openings?tree_size={opened_size}"),
        &key("pta"),
        "pta",
    );
    let openings = hisaab_log::seal::OpeningsFile::read(openings.as_bytes()).unwrap();
    let cited = hisaab_model::cited_sizes(bundle.as_bytes()).unwrap();
    let opened = hisaab_model::verify_bundle_opened(bundle.as_bytes(), &cited, &openings).unwrap();
    assert!(!opened.partial);
    let verified = opened.bundle;
    assert_eq!(verified.state.digest().to_hex(), replayed["digest"]);
    assert_eq!(
        entry["statement"]["body"]["state_digest"],
        json!(verified.resolution_digest.unwrap())
    );
    assert_ne!(
        entry["statement"]["body"]["state_digest"],
        replayed["digest"]
    );
    assert_eq!(entry["statement"]["body"]["as_of"], json!(opened_size));

    // Format 2: the chair extends the commitment, never silently.
    send(
        "chair",
        &[
            "extend",
            "--commitment",
            "c-1",
            "--due",
            "2099-09-30",
            "--reason",
            "Vendor delay",
        ],
    );
    send(
        "evaluator",
        &[
            "close-commitment",
            "--commitment",
            "c-1",
            "--outcome",
            "fulfilled",
            "--note",
            "Done",
        ],
    );
    send(
        "ciso",
        &[
            "challenge",
            "--challenge",
            "ch-1",
            "--pillar",
            "resilience",
            "--operator",
            "indus-mobile",
            "--kpi",
            "CR-01",
            "--description",
            "Vendor patch delays",
        ],
    );
    send(
        "chair",
        &[
            "resolve-challenge",
            "--challenge",
            "ch-1",
            "--resolution",
            "Escalated",
        ],
    );
    let minutes = sb.join("minutes.txt");
    std::fs::write(&minutes, b"Minutes of the meeting").unwrap();
    send(
        "chair",
        &[
            "meeting",
            "--meeting",
            "m-1",
            "--held-on",
            &today,
            "--attendee",
            "chair",
            "--attendee",
            "ciso-indus",
            "--minutes",
            s(&minutes),
            "--decision",
            "Patch faster",
        ],
    );
    send("ciso", &["attest", "--meeting", "m-1"]);
    // Format 2: a stakeholder, the next meeting scheduled with an agenda naming it, an
    // action of the minutes missed and escalated, a directive done.
    send(
        "pta",
        &[
            "stakeholder",
            "--stakeholder",
            "pkcert",
            "--name",
            "National CERT",
            "--type",
            "cert",
        ],
    );
    send(
        "chair",
        &[
            "schedule",
            "--meeting",
            "m-2",
            "--date",
            "2099-01-15",
            "--item",
            "Patching|operator=indus-mobile|kpi=CR-01",
            "--item",
            "Indicators|stakeholder=pkcert",
        ],
    );
    send("pta", &["rubric", "--band", "not_met=0-49"]);
    // The challenge register: an owner, a due date, a severity and a measure.
    send(
        "ciso",
        &[
            "challenge",
            "--challenge",
            "ch-2",
            "--pillar",
            "capacity",
            "--owner-member",
            "ciso-indus",
            "--due",
            "2099-01-31",
            "--severity",
            "high",
            "--description",
            "Too few analysts",
        ],
    );
    send(
        "ciso",
        &[
            "measure",
            "--challenge",
            "ch-2",
            "--by-member",
            "ciso-indus",
            "--measure",
            "Two analysts hired",
        ],
    );
    send(
        "chair",
        &["retire-kpi", "--kpi", "CR-01", "--reason", "Replaced"],
    );
    send(
        "chair",
        &[
            "withdraw",
            "--operator",
            "indus-mobile",
            "--kpi",
            "CR-01",
            "--reason",
            "Retired",
        ],
    );
    // An operator that joins and leaves.
    send(
        "pta",
        &[
            "operator",
            "--operator",
            "sindh-link",
            "--name",
            "Sindh Link",
        ],
    );
    send(
        "pta",
        &["leave", "--operator", "sindh-link", "--reason", "Merged"],
    );
    // A deputy of the operator, named by its CISO until today.
    sb.ok(&["keygen", s(&key("deputy"))]);
    send(
        "pta",
        &[
            "member",
            "--member",
            "deputy-indus",
            "--name",
            "Deputy",
            "--role",
            "witness",
            "--operator",
            "indus-mobile",
            "--member-key",
            s(&key("deputy")),
        ],
    );
    send(
        "ciso",
        &[
            "delegate",
            "--operator",
            "indus-mobile",
            "--deputy",
            "deputy-indus",
            "--expires",
            &today,
        ],
    );
    send(
        "pta",
        &[
            "suspend",
            "--member",
            "deputy-indus",
            "--reason",
            "Under review",
        ],
    );
    // The generic path: any kind, its body from a file.
    let reinstated = sb.join("reinstated.json");
    std::fs::write(&reinstated, json!({"member": "deputy-indus"}).to_string()).unwrap();
    send(
        "pta",
        &[
            "raw",
            "--kind",
            "member.reinstated",
            "--body",
            s(&reinstated),
        ],
    );
    send(
        "pta",
        &["suspend", "--member", "deputy-indus", "--reason", "Again"],
    );
    send("pta", &["reinstate", "--member", "deputy-indus"]);
    send(
        "chair",
        &[
            "action",
            "--action",
            "a-1",
            "--meeting",
            "m-1",
            "--owner-operator",
            "indus-mobile",
            "--due",
            "2099-02-01",
            "--text",
            "Send the patch report",
        ],
    );
    send(
        "ciso",
        &["close-action", "--action", "a-1", "--outcome", "missed"],
    );
    send(
        "chair",
        &[
            "escalate",
            "--escalation",
            "e-1",
            "--action",
            "a-1",
            "--reason",
            "To the authority",
        ],
    );
    send(
        "pta",
        &[
            "directive",
            "--directive",
            "dir-1",
            "--operator",
            "indus-mobile",
            "--due",
            "2099-03-01",
            "--text",
            "Rotate the keys",
            "--stakeholder",
            "pkcert",
        ],
    );
    send(
        "ciso",
        &[
            "close-action",
            "--directive",
            "--action",
            "dir-1",
            "--outcome",
            "done",
            "--note",
            "Rotated",
        ],
    );
    send(
        "ciso",
        &[
            "rotate-key",
            "--member",
            "ciso-indus",
            "--new-key",
            s(&key("ciso-new")),
        ],
    );
    send(
        "pta",
        &[
            "revoke",
            "--member",
            "evaluator",
            "--reason",
            "Left the task force",
        ],
    );
    // A disclosure is recorded with the offline flow (SPEC §12.7): the body `hisaab disclose`
    // prints, signed by `hisaab sign` and sent by `hisaab submit`.
    let genesis = get_as(&server, "/v1/entries?start=0&limit=1", &key("pta"), "pta");
    let ledger = crate::common::entry(genesis.trim().as_bytes()).event_hash();
    let record = sb.join("disclosure-record.json");
    std::fs::write(
        &record,
        json!({"to": "The Islamabad High Court",
            "entries": [{"entry": submission, "fields": ["value"]}],
            "disclosure_sha256": hisaab_log::Hash::sha256(b"a disclosure")})
        .to_string(),
    )
    .unwrap();
    let envelope = sb.join("disclosure-record.envelope.json");
    sb.ok(&[
        "sign",
        "--key",
        s(&key("pta")),
        "--kind",
        "disclosure.recorded",
        "--body",
        s(&record),
        "--ledger",
        &ledger.to_hex(),
        "--out",
        s(&envelope),
    ]);
    sb.ok(&[
        "submit",
        s(&envelope),
        "--server",
        &url,
        "--log-vkey",
        &vkey,
    ]);

    // The evidence of the first report is erased (SPEC §12.9), and the sector's report is
    // published from the full state the helper replays (§12.12).
    send(
        "pta",
        &[
            "erase",
            "--entry",
            &submission,
            "--field",
            "evidence",
            "--reason",
            "The file name named a person",
        ],
    );
    send("pta", &["report", "--from", &month, "--to", &month]);

    // Every kind of SPEC §4 is in the log, and it verifies end to end.
    let entries = get_as(&server, "/v1/entries?start=0&limit=100", &key("pta"), "pta");
    let kinds: std::collections::BTreeSet<String> = entries
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["statement"]["kind"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(kinds.len(), hisaab_model::Kind::ALL.len(), "{kinds:?}");
    let state: Value =
        serde_json::from_str(&sb.ok(&["replay", &url, "--json", "--key", s(&key("pta"))])).unwrap();
    assert_eq!(
        state["operators"]["indus-mobile"]["disputes"]["upheld"],
        json!(1)
    );
    assert_eq!(
        state["operators"]["indus-mobile"]["commitments"]["fulfilled"],
        json!(1)
    );
    assert_eq!(state["members"]["evaluator"]["status"], "revoked");
    let cycle = &state["cycle"];
    assert_eq!(cycle["extended"]["c-1"]["due"], "2099-09-30");
    assert_eq!(cycle["actions"]["a-1"]["escalation"], "e-1");
    assert_eq!(cycle["directives"]["dir-1"]["status"], "done");
    assert_eq!(cycle["meetings"]["m-2"]["scheduled_for"], "2099-01-15");
    assert_eq!(
        cycle["meetings"]["m-2"]["agenda"][1]["stakeholder"],
        "pkcert"
    );
    assert_eq!(
        cycle["directives"]["dir-1"]["stakeholders"],
        json!(["pkcert"])
    );
    assert_eq!(cycle["stakeholders"]["pkcert"]["type"], "cert");
    assert_eq!(cycle["challenges"]["ch-2"]["severity"], "high");
    assert_eq!(
        cycle["challenges"]["ch-2"]["measures"][0]["by"],
        json!({"member": "ciso-indus"})
    );
    assert_eq!(cycle["withdrawn"][0]["kpi"], "CR-01");
    assert!(cycle["left"]["sindh-link"]["on"].is_string());
    assert_eq!(
        cycle["delegations"]["deputy-indus"]["operator"],
        "indus-mobile"
    );
    assert_eq!(cycle["members"]["ciso-indus"]["measures"], 1);
    // The public view of a format-2 ledger counts sealed outcomes as withheld (SPEC §12.8).
    let public: Value = serde_json::from_str(&sb.ok(&["replay", &url, "--json"])).unwrap();
    let operator = &public["operators"]["indus-mobile"];
    assert_eq!(
        (
            operator["disputes"]["upheld"].clone(),
            operator["disputes"]["withheld"].clone()
        ),
        (json!(0), json!(1))
    );
    assert_eq!(
        (
            operator["commitments"]["fulfilled"].clone(),
            operator["commitments"]["withheld"].clone()
        ),
        (json!(0), json!(1))
    );

    // The history of the pair holds its evaluation, dispute (opened and resolved), commitment
    // and challenge (made or raised, and closed or resolved), and the withdrawal of its
    // assignment.
    let history = get_as(
        &server,
        "/v1/history?operator=indus-mobile&kpi=CR-01",
        &key("pta"),
        "pta",
    );
    let kinds: Vec<String> = history
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["statement"]["kind"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "kpi.assigned",
            "submission.filed",
            "evaluation.recorded",
            "dispute.opened",
            "commitment.made",
            "dispute.resolved",
            "commitment.closed",
            "challenge.raised",
            "challenge.resolved",
            "assignment.withdrawn",
        ]
    );

    // Bad input is refused before anything is sent, and changes nothing.
    let size = state["size"].clone();
    let (status, out) = code(
        &sb,
        &[
            "submit",
            "dispute",
            "resolve",
            "--key",
            s(&key("pta")),
            "--server",
            &url,
            "--dispute",
            "d-1",
            "--outcome",
            "upheld",
            "--rationale",
            "r",
            "--as-of",
            "100000",
        ],
    );
    assert_eq!(status, 2, "{out}");
    let after: Value = serde_json::from_str(&sb.ok(&["replay", &url, "--json"])).unwrap();
    assert_eq!(after["size"], size);
    server.stop();
}

#[test]
fn witness_policy_is_enforced_and_a_forking_server_is_caught_with_evidence() {
    let sb = Sandbox::new();
    let key = |name: &str| sb.join(&format!("{name}.pem"));
    let (pta_key, witness_key) = (key("pta"), key("witness"));
    let vkey = field(
        &sb.ok(&["keygen", s(&key("log")), "--log-name", ORIGIN]),
        "vkey:",
    );
    sb.ok(&["keygen", s(&key("pta"))]);
    let witness_vkey = field(
        &sb.ok(&["keygen", s(&key("witness"))])
            .replace("public key:", "x:"),
        "x:",
    );
    assert!(!witness_vkey.is_empty());
    let witness_vkey = field(
        &sb.ok(&["pubkey", s(&key("witness")), "--witness-name", "witness-1"]),
        "witness vkey:",
    );
    assert!(witness_vkey.starts_with("witness-1+"), "{witness_vkey}");

    // One genesis, two data directories: the same ledger id, two histories after it.
    let body = sb.join("genesis-body.json");
    std::fs::write(
        &body,
        json!({"origin":ORIGIN,"title":"Fork","strategy":{"name":"S","starts":"2023-01-01",
               "ends":"2028-12-31"},"log_key":vkey,"authority":{"member":"pta","name":"PTA"},
               "policy":{"max_future_skew_s":300,"max_age_s":604800}})
        .to_string(),
    )
    .unwrap();
    let genesis = sb.join("genesis.json");
    sb.ok(&[
        "sign",
        "--key",
        s(&key("pta")),
        "--kind",
        "ledger.genesis",
        "--body",
        s(&body),
        "--out",
        s(&genesis),
    ]);
    for dir in ["honest", "forked"] {
        sb.ok(&[
            "init",
            "--data",
            s(&sb.join(dir)),
            "--log-key",
            s(&key("log")),
            "--genesis",
            s(&genesis),
        ]);
    }
    let enrol_and_register = |url: &str, state: &Path, operator: &str| {
        for args in [
            vec![
                "member",
                "--member",
                "witness-1",
                "--name",
                "Witness",
                "--role",
                "witness",
                "--member-key",
                s(&witness_key),
            ],
            vec!["operator", "--operator", operator, "--name", operator],
        ] {
            let mut all = vec!["submit"];
            all.extend(args);
            all.extend(["--key", s(&pta_key), "--server", url, "--state", s(state)]);
            sb.ok(&all);
        }
    };

    let honest = Server::start(&sb, &sb.join("honest"), &key("log"));
    let url = honest.url.clone();
    enrol_and_register(&url, &sb.join("client-1.json"), "indus-mobile");

    // The policy: a checkpoint nobody named has cosigned fails (1); once cosigned, it holds.
    let policy = [
        "--witness",
        witness_vkey.as_str(),
        "--min-cosignatures",
        "1",
    ];
    let mut args = vec!["verify", url.as_str(), "--checkpoint-only"];
    args.extend(policy);
    let (status, out) = code(&sb, &args);
    assert_eq!(status, 1, "{out}");
    assert!(out.contains("0 valid cosignature(s)"), "{out}");
    let witness = [
        "witness",
        "--key",
        s(&witness_key),
        "--name",
        "witness-1",
        "--server",
    ];
    let mut args = witness.to_vec();
    args.push(&url);
    let out = sb.ok(&args);
    assert!(
        out.contains(&format!(
            "witness vkey (for verify --witness): {witness_vkey}"
        )),
        "{out}"
    );
    let mut args = vec!["verify", url.as_str()];
    args.extend(policy);
    let out = sb.ok(&args);
    assert!(out.contains("cosigned: witness-1"), "{out}");
    let (status, out) = code(&sb, &["verify", &url, "--witness", "not-a-vkey"]);
    assert_eq!(status, 2, "{out}");
    let address = url.strip_prefix("http://").unwrap().to_owned();
    honest.stop();

    // The same address now serves the other history to another client...
    let forked = Server::spawn(
        &sb,
        &[
            "serve",
            "--data",
            s(&sb.join("forked")),
            "--log-key",
            s(&key("log")),
            "--listen",
            &address,
        ],
    );
    assert_eq!(forked.url, url);
    enrol_and_register(&url, &sb.join("client-2.json"), "karakoram-telecom");

    // ...and the witness, which cosigned the first, refuses and keeps both checkpoints.
    let evidence = sb.join("fork-evidence.txt");
    let mut args = witness.to_vec();
    args.extend([url.as_str(), "--evidence", s(&evidence)]);
    let (status, out) = code(&sb, &args);
    assert_eq!(status, 1, "{out}");
    assert!(out.contains("refusing to cosign"), "{out}");
    assert!(out.contains("the log forked"), "{out}");
    let text = std::fs::read_to_string(&evidence).unwrap();
    let (first, second) = (
        "--- the checkpoint this witness cosigned before ---\n",
        "--- the checkpoint the server shows now ---\n",
    );
    let (start, middle) = (text.find(first).unwrap(), text.find(second).unwrap());
    let notes = [
        &text[start + first.len()..middle],
        &text[middle + second.len()..],
    ];
    let log = hisaab_log::note::VerifierKey::try_parse(&vkey).unwrap();
    let a = hisaab_log::note::verify_checkpoint(notes[0], &log).unwrap();
    let b = hisaab_log::note::verify_checkpoint(notes[1], &log).unwrap();
    assert_eq!(a.size, b.size);
    assert_ne!(
        a.root, b.root,
        "two signed checkpoints of one size with different roots"
    );
    forked.stop();
}

/// `replay URL` replays the bundle the reader may read. On a format-1 ledger the public's
/// bundle withholds a KPI report (SPEC §13.4), so its replay cannot pass it (§6.2): the public
/// is shown the server's state, told so, and the state before it is replayed here.
#[test]
fn replay_of_a_server_replays_the_reader_s_bundle_and_says_when_an_entry_is_withheld() {
    let sb = Sandbox::new();
    let data = sb.join("data");
    common::init_ledger(&sb, &data, "partial.test/hisaab", "Partial");
    common::write_pem(&sb.join("ciso.pem"), &common::fixed_key(3));
    let server = Server::start(&sb, &data, &sb.join("log.pem"));
    let url = server.url.clone();
    let submit = |args: &[&str]| -> Value {
        let mut full = vec!["submit"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--server", &url, "--json"]);
        serde_json::from_str(&sb.ok(&full)).unwrap()
    };
    common::register_ravi(&sb, &submit, &[]);
    let seq = common::file_ravi_report(&sb, &submit, "a format-1 report, in the clear")["seq"]
        .as_u64()
        .unwrap();
    let replay = |args: &[&str]| -> (Value, String) {
        let mut full = vec!["replay", url.as_str(), "--json"];
        full.extend_from_slice(args);
        let out = sb.run(&full);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        (serde_json::from_slice(&out.stdout).unwrap(), stderr)
    };
    let digest = |text: &str| serde_json::from_str::<Value>(text).unwrap()["digest"].clone();

    let (shown, stderr) = replay(&[]);
    assert!(
        stderr.contains(&format!("entry {seq} is withheld from this reader"))
            && stderr.contains("not replayed here"),
        "{stderr}"
    );
    assert_eq!(
        shown["digest"],
        digest(&common::get_ok(&server, "/v1/state"))
    );
    assert_eq!(
        shown["operators"]["ravi-tel"]["kpis"]["CR-01"]["status"],
        "submitted"
    );
    let (before, stderr) = replay(&["--as-of", &seq.to_string()]);
    assert!(!stderr.contains("withheld"), "{stderr}");
    assert_eq!(
        before["digest"],
        digest(&common::get_ok(&server, &format!("/v1/state?as_of={seq}")))
    );
    // By date: the report carries no date the public can read, so where it falls is not told.
    let today = common::now().date().to_string();
    let refused = sb.fails(&["replay", &url, "--as-of-date", &today]);
    assert!(
        refused.contains(&format!(
            "entries {seq} to {seq} are withheld from this reader"
        )),
        "{refused}"
    );
    let pta = sb.join("pta.pem");
    let (by_date, _) = replay(&["--as-of-date", &today, "--key", s(&pta)]);
    assert_eq!(by_date["size"], seq + 1, "{by_date}");
    let (full, stderr) = replay(&["--key", s(&pta)]);
    assert!(!stderr.contains("withheld"), "{stderr}");
    assert_eq!(
        full["digest"],
        digest(&common::get_full_ok(&server, "/v1/state"))
    );
    assert_eq!(
        full["operators"]["ravi-tel"]["kpis"]["CR-01"]["value"],
        "91.5"
    );
    server.stop();
}

/// `hisaab load` against `server` as the authority (`pta.pem`), with `args`: its JSON report.
fn load_json(sb: &Sandbox, server: &Server, args: &[&str]) -> Value {
    let key = sb.join("pta.pem");
    let mut full = vec!["load", "--server", &server.url, "--key", s(&key)];
    full.extend_from_slice(args);
    full.push("--json");
    serde_json::from_str(&sb.ok(&full)).unwrap()
}

#[test]
fn load_offers_a_fixed_rate_and_checks_every_receipt_against_the_in_process_floor() {
    let sb = Sandbox::new();
    let data = sb.join("data");
    common::init_ledger(&sb, &data, "load.test/hisaab", "Load");
    let server = Server::start(&sb, &data, &sb.join("log.pem"));
    let (count, rate) = (60u64, 150u32);
    let report = load_json(
        &sb,
        &server,
        &[
            "-n",
            &count.to_string(),
            "-c",
            "4",
            "--rate",
            &rate.to_string(),
            "--log-key",
            s(&sb.join("log.pem")),
        ],
    );
    assert_eq!(report["offered_per_second"], rate, "{report}");
    assert_eq!(report["http"]["ok"], count, "{report}");
    assert_eq!(report["http"]["failed"], 0, "{report}");
    assert_eq!(report["receipts_verified"], count, "{report}");
    let log = &report["log"];
    assert_eq!(
        log["to"].as_u64().unwrap(),
        log["from"].as_u64().unwrap() + count,
        "{report}"
    );
    // Open loop: the last statement is not due before (count - 1) / rate seconds.
    #[allow(clippy::cast_precision_loss)]
    let due = (count - 1) as f64 / f64::from(rate);
    assert!(
        report["http"]["seconds"].as_f64().unwrap() >= due,
        "{report}"
    );
    assert!(report["http"]["p50_ms"].as_f64().unwrap() > 0.0, "{report}");
    assert_eq!(report["floor"]["ok"], count, "{report}");
    let key = sb.join("pta.pem");
    let refused = |extra: &[&str]| {
        let mut args = vec!["load", "--server", &server.url, "--key", s(&key)];
        args.extend_from_slice(extra);
        sb.fails(&args)
    };
    // A rate of 0 is refused before anything is sent.
    let error = refused(&["--rate", "0"]);
    assert!(error.contains("--rate"), "{error}");
    // The raw floor compares capacities: not against an offered rate.
    let error = refused(&["--rate", "100", "--floor"]);
    assert!(error.contains("--floor"), "{error}");
    server.stop();
}

#[test]
fn load_seals_on_a_format_2_ledger_and_measures_the_floor_on_a_replica_of_its_genesis() {
    let sb = Sandbox::new();
    let common::V2Ledger { data, vkey, .. } = common::init_v2_ledger(&sb, "load2.test/hisaab");
    let server = Server::start(&sb, &data, &sb.join("log.pem"));
    let url = server.url.clone();
    let submit = |args: &[&str]| -> Value {
        let mut full = vec!["submit"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--server", &url, "--log-vkey", &vkey, "--json"]);
        serde_json::from_str(&sb.ok(&full)).unwrap()
    };
    // Sealed entries the replica cannot append again (their sealings stay with their signers).
    common::register_ravi(&sb, &submit, &[]);
    let report = load_json(
        &sb,
        &server,
        &[
            "-n",
            "30",
            "-c",
            "3",
            "--log-key",
            s(&sb.join("log.pem")),
            "--floor",
        ],
    );
    assert_eq!(report["receipts_verified"], 30, "{report}");
    // Sealed lines pass the raw floor's checks too: the signature covers the sealed statement.
    assert_eq!(report["raw_floor"]["entries"], 30, "{report}");
    assert_eq!(report["floor"]["ok"], 30, "{report}");
    assert_eq!(report["floor"]["failed"], 0, "{report}");
    // The operators' registrations are sealed too (their blinding), so the public reads them.
    assert_eq!(report["sealed"], 30, "{report}");

    // KPI submissions by a new operator's CISO, each sealed: values, evidence and notes reach
    // neither the public's bundle nor its entries, and the bundle replays for the public.
    let before = report["log"]["to"].as_u64().unwrap();
    let report = load_json(
        &sb,
        &server,
        &[
            "--kind",
            "submission",
            "-n",
            "30",
            "-c",
            "3",
            "--log-key",
            s(&sb.join("log.pem")),
            "--floor",
        ],
    );
    assert_eq!(report["kind"], "submission.filed", "{report}");
    // The raw floor ran on exactly the entries the run appended, the set-up left out, read
    // back from the server; its ratio is the rate over HTTP over its own.
    let raw = &report["raw_floor"];
    assert_eq!(raw["entries"], 30, "{report}");
    let ratio =
        report["http"]["per_second"].as_f64().unwrap() / raw["per_second"].as_f64().unwrap();
    assert!(
        (raw["ratio"].as_f64().unwrap() - ratio).abs() < 1e-9,
        "{report}"
    );
    assert_eq!(report["sealed"], 30, "{report}");
    // An operator, its CISO, one KPI and its assignment (30 months fit in one KPI).
    assert_eq!(report["setup"], 4, "{report}");
    assert_eq!(report["http"]["ok"], 30, "{report}");
    assert_eq!(report["receipts_verified"], 30, "{report}");
    assert_eq!(report["floor"]["ok"], 30, "{report}");
    assert_eq!(report["floor"]["failed"], 0, "{report}");
    let log = &report["log"];
    assert_eq!(log["from"].as_u64().unwrap(), before, "{report}");
    assert_eq!(log["to"].as_u64().unwrap(), before + 4 + 30, "{report}");
    let public = [
        common::get_ok(&server, "/v1/bundle"),
        common::get_ok(&server, &format!("/v1/entries?start={before}&limit=100")),
    ];
    for text in &public {
        assert!(text.contains("\"submission.filed\""), "{text}");
        assert!(!text.contains("Load test submission"), "{text}");
        assert!(!text.contains(".pdf"), "{text}");
    }
    let full = common::get_full_ok(&server, &format!("/v1/openings?tree_size={}", log["to"]));
    assert!(full.contains("Load test submission 29"), "{full}");
    let verified = sb.ok(&["verify", &url, "--log-vkey", &vkey]);
    assert!(!verified.contains("partial"), "{verified}");
    server.stop();
}

#[test]
fn init_compress_makes_a_compressed_store_that_serves_and_verifies() {
    let sb = Sandbox::new();
    let data = sb.join("data");
    common::write_pem(&sb.join("log.pem"), &common::fixed_key(1));
    common::write_pem(&sb.join("pta.pem"), &common::fixed_key(2));
    sb.ok(&[
        "init",
        "--format",
        "1",
        "--data",
        s(&data),
        "--log-key",
        s(&sb.join("log.pem")),
        "--authority-key",
        s(&sb.join("pta.pem")),
        "--origin",
        "compress.test/hisaab",
        "--title",
        "Compressed",
        "--compress",
    ]);
    // sled records the setting; the store keeps it on every later open.
    let conf = String::from_utf8_lossy(&std::fs::read(data.join("conf")).unwrap()).into_owned();
    assert!(conf.lines().any(|l| l == "use_compression: true"), "{conf}");
    let server = Server::start(&sb, &data, &sb.join("log.pem"));
    let report = load_json(&sb, &server, &["-n", "40", "-c", "4"]);
    assert_eq!(report["receipts_verified"], 40, "{report}");
    server.stop();
    let verified = sb.ok(&["verify", s(&data)]);
    assert!(verified.contains("41 entries"), "{verified}");
    let conf = String::from_utf8_lossy(&std::fs::read(data.join("conf")).unwrap()).into_owned();
    assert!(conf.lines().any(|l| l == "use_compression: true"), "{conf}");
}
