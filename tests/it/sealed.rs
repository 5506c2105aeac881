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
