//! Erasure end to end (SPEC §12.9), against a real server with real keys: `hisaab submit
//! erase` records a `field.erased`; the openings endpoint and the vault on disk no longer hold
//! the fields; the public replay is unchanged and the full replay lists the erasure; an
//! openings file or a disclosure made before it is verified with the erased field ignored, and
//! said so.

use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::common::{
    fixed_key, get_full_ok, get_ok, init_v2_ledger, register_ravi, this_month, Sandbox, Server,
    V2Ledger,
};

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Every file under `dir`.
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

fn as_refs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn an_erased_field_leaves_the_openings_the_vault_and_old_files_while_the_replays_hold() {
    let sb = Sandbox::new();
    let V2Ledger { data, vkey, .. } = init_v2_ledger(&sb, "erase.test/hisaab");
    let server = Server::start(&sb, &data, &sb.join("log.pem"));
    let url = server.url.clone();
    let submit = |args: &[&str]| -> Value {
        let mut full = vec!["submit"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--server", &url, "--log-vkey", &vkey, "--json"]);
        json_of(&sb.ok(&full))
    };
    let refused = |args: &[&str]| -> String {
        let mut full = vec!["submit"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--server", &url, "--log-vkey", &vkey]);
        sb.fails(&full)
    };
    let pta = s(&sb.join("pta.pem")).to_owned();
    register_ravi(&sb, &submit, &[]);
    let month = this_month();
    // A note that should never have been written: a person's name and number.
    let note = "Call Bilal Qureshi on 0300-7654321 about the failover";
    let filed = crate::common::file_ravi_report(&sb, &submit, note);
    let seq = filed["seq"].as_u64().unwrap();
    let hash = filed["event_hash"].as_str().unwrap().to_owned();
    let size_before = seq + 1;

    // Before: the full reader's openings hold the note; keep them, and a disclosure of it.
    let opened = json_of(&get_full_ok(
        &server,
        &format!("/v1/entries/{seq}/openings"),
    ));
    assert_eq!(opened["fields"]["note"]["value"], note, "{opened}");
    let old_openings = sb.join("old-openings.jsonl");
    std::fs::write(&old_openings, get_full_ok(&server, "/v1/openings")).unwrap();
    let disclosure = sb.join("disclosure.json");
    sb.ok(&[
        "disclose",
        "--openings",
        s(&old_openings),
        "--entry",
        &format!("{seq}:note,value"),
        "--to",
        "The High Court",
        "--out",
        s(&disclosure),
    ]);
    let public_before = get_ok(&server, &format!("/v1/state?as_of={size_before}"));
    let full_before = json_of(&get_full_ok(&server, "/v1/state"));
    let leaf_before = get_ok(&server, &format!("/v1/entries/{seq}"));

    // Refused, and nothing changes: a state field, a field the kind does not seal, a signer
    // who is no authority, an entry that is not there.
    let checkpoint = get_ok(&server, "/v1/checkpoint");
    let erase = |key: &str, entry: &str, fields: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = ["erase", "--key", key, "--entry", entry]
            .iter()
            .map(|a| (*a).to_owned())
            .collect();
        for field in fields {
            args.extend(["--field".to_owned(), (*field).to_owned()]);
        }
        args.extend([
            "--reason".to_owned(),
            "A person's name and number".to_owned(),
        ]);
        args
    };
    for (args, says) in [
        (erase(&pta, &hash, &["value"]), "`value` is never erased"),
        (
            erase(&pta, &hash, &["rationale"]),
            "`rationale` is no erasable sealed field of submission.filed",
        ),
        (
            erase(s(&sb.join("ciso.pem")), &hash, &["note"]),
            "forbidden_kind",
        ),
        (
            erase(&pta, &"ab".repeat(32), &["note"]),
            "no entry with event hash",
        ),
    ] {
        let error = refused(&as_refs(&args));
        assert!(error.contains(says), "{says}: {error}");
    }
    assert_eq!(get_ok(&server, "/v1/checkpoint"), checkpoint);

    // The erasure.
    let erased = submit(&as_refs(&erase(&pta, &hash, &["note", "evidence"])));
    let erased_at = erased["seq"].as_u64().unwrap();
    let again = refused(&as_refs(&erase(&pta, &hash, &["note"])));
    assert!(
        again.contains(&format!(
            "`note` of seq {seq} was already erased at seq {erased_at}"
        )),
        "{again}"
    );

    // The openings endpoint no longer has the fields; the value's opening stays.
    let opened = json_of(&get_full_ok(
        &server,
        &format!("/v1/entries/{seq}/openings"),
    ));
    let fields = opened["fields"].as_object().unwrap();
    assert!(
        !fields.contains_key("note") && !fields.contains_key("evidence"),
        "{opened}"
    );
    assert_eq!(opened["fields"]["value"]["value"], "91.5", "{opened}");
    assert!(!get_full_ok(&server, "/v1/openings").contains(note));
    // The entry's bytes and the public replay up to it are unchanged.
    assert_eq!(get_ok(&server, &format!("/v1/entries/{seq}")), leaf_before);
    assert_eq!(
        get_ok(&server, &format!("/v1/state?as_of={size_before}")),
        public_before
    );
    // A report (SPEC §12.12), computed by the CLI from the full state it replays: with one
    // operator every pillar is withheld.
    let report = submit(&["report", "--key", &pta, "--from", &month, "--to", &month]);
    let report_seq = report["seq"].as_u64().unwrap();
    let entry = json_of(&get_ok(&server, &format!("/v1/entries/{report_seq}")));
    let body = &entry["statement"]["body"];
    assert_eq!(body["as_of"], report_seq, "{entry}");
    assert_eq!(body["pillars"].as_array().unwrap().len(), 6, "{entry}");
    assert!(
        body["pillars"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p.get("mean").is_none()),
        "{entry}"
    );

    // The full replay keeps every value and lists the erasure; so does the public state.
    let full = json_of(&get_full_ok(&server, "/v1/state"));
    assert_eq!(full["operators"], full_before["operators"], "{full}");
    let listed = json!([{"seq": seq, "entry": hash, "kind": "submission.filed",
        "fields": {"evidence": erased_at, "note": erased_at}}]);
    assert_eq!(full["erased"], listed, "{full}");
    assert_eq!(json_of(&get_ok(&server, "/v1/state"))["erased"], listed);
    let digest = full["digest"].clone();
    let bundle = sb.join("bundle.jsonl");
    std::fs::write(&bundle, get_full_ok(&server, "/v1/bundle")).unwrap();
    server.stop();

    // The vault on disk: no byte of the data directory holds the note, and decrypted with
    // the master key, no record holds it either.
    for file in files_under(&data) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(note.len()).any(|w| w == note.as_bytes()),
            "{} holds the note",
            file.display()
        );
    }
    {
        let master = hisaab_store::MasterKey::read_file(&sb.join("log.master")).unwrap();
        let store = hisaab_store::Store::open_with_master_key(
            &data,
            fixed_key(1),
            master,
            hisaab_store::StoreConfig::default(),
            Arc::new(hisaab_store::SystemClock),
        )
        .unwrap();
        let size = store.size();
        for n in 0..size {
            if let Some(openings) = store.openings(n).unwrap() {
                let text = serde_json::to_string(&openings).unwrap();
                assert!(!text.contains(note), "seq {n}: {text}");
            }
        }
        let kept = store.openings(seq).unwrap().unwrap();
        assert_eq!(
            kept.fields.keys().map(String::as_str).collect::<Vec<_>>(),
            ["ext", "value"]
        );
        store.close().unwrap();
    }

    // A restart replays to the same full state.
    let server = Server::start(&sb, &data, &sb.join("log.pem"));
    assert_eq!(
        json_of(&get_full_ok(&server, "/v1/state"))["digest"],
        digest
    );
    server.stop();

    // Without openings the replay is the public one: the report is not checked, and said.
    let out = sb.ok(&["verify", s(&bundle), "--log-vkey", &vkey]);
    assert!(
        out.contains(&format!(
            "the aggregates and digest of the reports at seq {report_seq} were not checked"
        )),
        "{out}"
    );
    // The openings file made before the erasure: verified with the note ignored, and said.
    let out = sb.ok(&[
        "verify",
        s(&bundle),
        "--log-vkey",
        &vkey,
        "--openings",
        s(&old_openings),
    ]);
    assert!(
        out.contains(&format!(
            "the opening of `note` of the submission.filed at seq {seq} is ignored: that field \
             was erased by the field.erased at seq {erased_at}"
        )),
        "{out}"
    );
    assert!(out.contains("the full state replayed"), "{out}");
    assert!(!out.contains(note), "{out}");
    // The disclosure made before it: the value still proved, the note ignored, and said.
    let out = sb.ok(&[
        "verify",
        s(&bundle),
        "--log-vkey",
        &vkey,
        "--disclosure",
        s(&disclosure),
    ]);
    assert!(out.contains("`value`: \"91.5\""), "{out}");
    assert!(
        out.contains(&format!(
            "the opening of `note` of the submission.filed at seq {seq}"
        )),
        "{out}"
    );
    assert!(!out.contains(note), "{out}");

    // A disclosure made now from that old openings file, given the bundle as it stands: the
    // erased note named is refused, and the whole entry is disclosed without it.
    let disclose = |entry: &str, out: &std::path::Path| {
        sb.run(&[
            "disclose",
            "--openings",
            s(&old_openings),
            "--entry",
            entry,
            "--to",
            "The High Court",
            "--out",
            s(out),
            "--bundle",
            s(&bundle),
        ])
    };
    let late = sb.join("late-disclosure.json");
    // A bundle that does not verify says nothing about erasures: refused, nothing written.
    let good = std::fs::read_to_string(&bundle).unwrap();
    let (head, last) = good.trim_end().rsplit_once('\n').unwrap();
    let flipped = last.replacen("\"seq\":", "\"seq\": ", 1);
    let damaged = sb.join("damaged.jsonl");
    std::fs::write(&damaged, format!("{head}\n{flipped}\n")).unwrap();
    let refused = sb.run(&[
        "disclose",
        "--openings",
        s(&old_openings),
        "--entry",
        &seq.to_string(),
        "--to",
        "The High Court",
        "--out",
        s(&late),
        "--bundle",
        s(&damaged),
    ]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("does not verify"), "{said}");
    assert!(!late.exists());
    let refused = disclose(&format!("{seq}:note,value"), &late);
    assert_eq!(refused.status.code(), Some(2));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains(&format!(
            "`note` of seq {seq} was erased at seq {erased_at} (SPEC §12.9); a disclosure \
             cannot carry it"
        )),
        "{said}"
    );
    assert!(!late.exists());
    let made = disclose(&seq.to_string(), &late);
    assert!(made.status.success(), "{made:?}");
    let said = String::from_utf8_lossy(&made.stderr);
    assert!(
        said.contains(&format!(
            "left out `note` of seq {seq}: erased at seq {erased_at}"
        )),
        "{said}"
    );
    let written = std::fs::read_to_string(&late).unwrap();
    assert!(!written.contains(note), "{written}");
    let out = sb.ok(&[
        "verify",
        s(&bundle),
        "--log-vkey",
        &vkey,
        "--disclosure",
        s(&late),
    ]);
    assert!(out.contains("`value`: \"91.5\""), "{out}");
    assert!(!out.contains("is ignored"), "{out}");
}
