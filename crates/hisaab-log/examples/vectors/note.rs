//! Runs the public C2SP signed-note and checkpoint vectors of `note_vectors.json`.
//!
//! Each case gives a note (`msg`, or `msg_hex` for bytes that are not UTF-8), the verifier keys
//! a client knows (`vkeys`), the expected outcome (`expect`: `ok` or `fail`) and, for `ok`, the
//! key names whose signatures verify, in order (`verified`). Cases of kind `checkpoint` must also
//! have a body that follows the generic C2SP tlog-checkpoint rules, which allow extension lines;
//! Hisaab's own checkpoints additionally refuse them (SPEC §3), which the unit tests cover.
//! The `key_ids` list gives key ids computed from a name, a signature type and a public key.

use std::path::Path;

use hisaab_log::key::decode_base64_canonical;
use hisaab_log::note::{
    key_id_with_type, open_note_bytes, Checkpoint, NoteError, VerifierKey, SIGNATURE_TYPE_ED25519,
};
use hisaab_log::PublicKey;
use serde_json::Value;

/// The vectors file inside `dir`.
const FILE_NAME: &str = "note_vectors.json";

/// Runs every case of `dir/note_vectors.json` and returns (passed, failed), printing a line to
/// stderr per failure.
///
/// # Errors
/// When the file is missing, unreadable, not JSON, or lacks the `cases` and `key_ids` lists.
pub(crate) fn run(dir: &Path) -> Result<(usize, usize), String> {
    let path = dir.join(FILE_NAME);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let root: Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    let cases = root
        .get("cases")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{}: no `cases` list", path.display()))?;
    let key_ids = root
        .get("key_ids")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{}: no `key_ids` list", path.display()))?;
    let (mut passed, mut failed) = (0usize, 0usize);
    let results = cases
        .iter()
        .map(|case| ("case", case, run_case(case)))
        .chain(
            key_ids
                .iter()
                .map(|case| ("key_id", case, run_key_id(case))),
        );
    for (what, case, result) in results {
        match result {
            Ok(()) => passed += 1,
            Err(why) => {
                failed += 1;
                let name = case.get("name").and_then(Value::as_str).unwrap_or("?");
                eprintln!("note vectors: {what} {name:?} FAILED: {why}");
            }
        }
    }
    Ok((passed, failed))
}

/// Runs one case of `cases` and says why it did not have its expected outcome.
fn run_case(case: &Value) -> Result<(), String> {
    let field = |name: &str| case.get(name).and_then(Value::as_str);
    let kind = field("kind").ok_or("no `kind`")?;
    let expect = field("expect").ok_or("no `expect`")?;
    let message: Vec<u8> = match (field("msg"), field("msg_hex")) {
        (Some(msg), None) => msg.as_bytes().to_vec(),
        (None, Some(hex_text)) => hex::decode(hex_text).map_err(|e| format!("bad msg_hex: {e}"))?,
        _ => return Err("exactly one of `msg` and `msg_hex` is needed".to_owned()),
    };
    let vkeys = case
        .get("vkeys")
        .and_then(Value::as_array)
        .ok_or("no `vkeys` list")?;
    let expected_names: Option<Vec<&str>> = match case.get("verified") {
        None => None,
        Some(list) => Some(
            list.as_array()
                .and_then(|items| items.iter().map(Value::as_str).collect::<Option<Vec<_>>>())
                .ok_or("`verified` must be a list of strings")?,
        ),
    };
    if !matches!(kind, "note" | "checkpoint") {
        return Err(format!("unknown kind {kind:?}"));
    }

    let outcome = open_case(kind, &message, vkeys);
    match (expect, outcome) {
        ("ok", Ok(verified)) => match expected_names {
            Some(names) if names != verified => {
                Err(format!("verified {verified:?}, expected {names:?}"))
            }
            _ => Ok(()),
        },
        ("ok", Err(e)) => Err(format!("expected ok, got error: {e}")),
        ("fail", Ok(verified)) => Err(format!("expected failure, but it verified by {verified:?}")),
        ("fail", Err(_)) => Ok(()),
        (other, _) => Err(format!("unknown expectation {other:?}")),
    }
}

/// Opens a case's note with its keys; for checkpoints, also parses the body.
fn open_case(kind: &str, message: &[u8], vkeys: &[Value]) -> Result<Vec<String>, NoteError> {
    let mut known = Vec::new();
    for vkey in vkeys {
        let Some(vkey) = vkey.as_str() else {
            return Err(NoteError::BadVerifierKey {
                reason: "a vkey in the vectors is not a string",
            });
        };
        match VerifierKey::try_parse(vkey) {
            Ok(key) => known.push(key),
            // A well-formed key of a type Hisaab does not verify (only Ed25519 is supported) is
            // a key we do not know: its signatures are ignored, as C2SP requires of unknown keys.
            Err(NoteError::UnsupportedKeyType { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let opened = open_note_bytes(message, &known)?;
    if kind == "checkpoint" {
        Checkpoint::try_parse_body_with_extensions(&opened.text)?;
    }
    Ok(opened.verified)
}

/// Runs one case of `key_ids`: the key id of (name, type, public key), and for Ed25519 keys the
/// verifier key string round trip.
fn run_key_id(case: &Value) -> Result<(), String> {
    let name = case
        .get("name")
        .and_then(Value::as_str)
        .ok_or("no `name`")?;
    let key_type = case
        .get("type")
        .and_then(Value::as_u64)
        .and_then(|t| u8::try_from(t).ok())
        .ok_or("no `type` byte")?;
    let key_base64 = case
        .get("pubkey_b64")
        .and_then(Value::as_str)
        .ok_or("no `pubkey_b64`")?;
    let expected = case
        .get("key_id")
        .and_then(Value::as_str)
        .ok_or("no `key_id`")?;
    let key = decode_base64_canonical("a public key", key_base64).map_err(|e| e.to_string())?;
    let found = format!("{:08x}", key_id_with_type(name, key_type, &key));
    if found != expected {
        return Err(format!("key id {found}, expected {expected}"));
    }
    if key_type == SIGNATURE_TYPE_ED25519 {
        let public = PublicKey::try_from_base64(key_base64).map_err(|e| e.to_string())?;
        let vkey = VerifierKey::new(name, public).map_err(|e| e.to_string())?;
        let reparsed = VerifierKey::try_parse(&vkey.to_vkey()).map_err(|e| e.to_string())?;
        if reparsed != vkey || format!("{:08x}", vkey.key_id()) != expected {
            return Err(format!("verifier key {vkey} does not round trip"));
        }
    }
    Ok(())
}
