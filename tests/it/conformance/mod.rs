//! SPEC conformance, end to end: the real `hisaab serve` on a loopback port, driven with raw
//! JSON text, and every byte it answers with re-derived here from SPEC.md alone. The test
//! carries its own tiny RFC 8785 canonicaliser, base64, RFC 9162 Merkle tree and proofs, and
//! C2SP note and cosignature code, so that a bug shared by the implementation's own helpers
//! cannot hide.
//!
//! One module per section of the SPEC: `encodings` §1 (each refused form is a 400 in the
//! error shape), `entries` §2 and §3 (entries and the chain, checkpoints, proofs and
//! cosignatures), `state` §5 (the state on hand-built histories), `bundles` §6 (bundles and
//! `hisaab verify`/`replay` over them), `http` §7 (statuses in their order of precedence,
//! receipts, concurrency and durability across a crash), `keys` §8 (key files). Every command
//! and server log of the suite is checked for private key material. The node under test and
//! the independent helpers are here, shared by the sections.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bundles;
mod encodings;
mod entries;
mod http;
mod keys;
mod state;

use std::collections::BTreeSet;

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use crate::common::{self, fixed_key, write_pem, Sandbox, Server};

const ORIGIN: &str = "conformance.test/hisaab";
const SIGNING_PREFIX: &[u8] = b"hisaab/statement/v1\n";
/// 2^53 - 1, the greatest JSON number of the profile (SPEC §1).
const NUMBER_MAX: u64 = 9_007_199_254_740_991;

// ---------------------------------------------------------------------------------------------
// The node under test.
// ---------------------------------------------------------------------------------------------

/// A running server over a new ledger (log key `fixed_key(1)`, authority `fixed_key(2)` as
/// member `pta`). Fields drop in order: the server before its sandbox.
struct Node {
    server: Option<Server>,
    sb: Sandbox,
    http: Client,
    /// The ledger id, hex.
    ledger: String,
}

impl Node {
    fn start() -> Node {
        let sb = Sandbox::new();
        write_pem(&sb.join("log.pem"), &fixed_key(1));
        write_pem(&sb.join("pta.pem"), &fixed_key(2));
        let data = sb.join("ledger");
        // The conformance suite checks §1–§8: a ledger of format 1.
        let out = sb.run(&[
            "init",
            "--format",
            "1",
            "--data",
            data.to_str().unwrap(),
            "--log-key",
            sb.join("log.pem").to_str().unwrap(),
            "--authority-key",
            sb.join("pta.pem").to_str().unwrap(),
            "--authority-member",
            "pta",
            "--origin",
            ORIGIN,
            "--title",
            "Conformance ledger",
        ]);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "init: {all}");
        assert_no_private_key(&all, &all_fixed_seeds());
        let server = Server::start(&sb, &data, &sb.join("log.pem"));
        let http = server.http();
        let mut node = Node {
            server: Some(server),
            sb,
            http,
            ledger: String::new(),
        };
        node.ledger = hex::encode(leaf_hash(&node.entry_bytes(0)));
        assert!(
            all.contains(&node.ledger),
            "init prints the ledger id: {all}"
        );
        node
    }

    /// `GET path` as the ledger's authority (`pta`): a full reader (SPEC §13), as these
    /// checks of the format need every entry and the whole state.
    fn get(&self, path: &str) -> reqwest::blocking::Response {
        common::signed_get(&self.http, self.url(), path, &fixed_key(2), "pta")
            .send()
            .unwrap()
    }

    fn get_json(&self, path: &str) -> Value {
        let response = self.get(path);
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        serde_json::from_str(&response.text().unwrap()).unwrap()
    }

    fn entry_bytes(&self, seq: usize) -> Vec<u8> {
        let response = self.get(&format!("/v1/entries/{seq}"));
        assert_eq!(response.status(), StatusCode::OK);
        response.bytes().unwrap().to_vec()
    }

    fn size(&self) -> u64 {
        self.get_json("/healthz")["size"].as_u64().unwrap()
    }

    /// A statement of `kind` by `signer`, issued now, with a fresh lowercase UUIDv7.
    fn statement(&self, signer: &SigningKey, kind: &str, body: Value) -> Value {
        json!({"v":1,"ledger":self.ledger,"id":uuid::Uuid::now_v7().hyphenated().to_string(),
            "kind":kind,"signer":b64(signer.verifying_key().as_bytes()),
            "issued_at":common::now().as_str(),"body":body})
    }

    /// The canonical envelope text of `statement` signed by `key`.
    fn envelope_text(&self, key: &SigningKey, statement: &Value) -> String {
        jcs_string(&json!({"statement": statement, "signature": sign_statement(key, statement)}))
    }

    fn post_text(&self, text: &str) -> (StatusCode, Value) {
        self.post_bytes(text.as_bytes())
    }

    fn post_bytes(&self, bytes: &[u8]) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}/v1/statements", self.url()))
            .header("content-type", "application/json")
            .body(bytes.to_vec())
            .send()
            .unwrap();
        let status = response.status();
        let text = response.text().unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Signs and posts; expects 201 and a receipt that checks; returns the receipt.
    fn append(&self, key: &SigningKey, kind: &str, body: Value) -> Value {
        let (status, receipt) =
            self.post_text(&self.envelope_text(key, &self.statement(key, kind, body)));
        assert_eq!(status, StatusCode::CREATED, "{kind}: {receipt}");
        self.check_receipt(&receipt);
        receipt
    }

    /// SPEC §7: the receipt's fields; its checkpoint is signed, covers the entry, has the root
    /// of the leaves up to its size; its inclusion proof is RFC 9162's for that size.
    fn check_receipt(&self, receipt: &Value) {
        assert_eq!(
            keys(receipt),
            set(&[
                "seq",
                "event_hash",
                "recorded_at",
                "checkpoint",
                "inclusion_proof"
            ]),
            "{receipt}"
        );
        let seq = usize::try_from(receipt["seq"].as_u64().unwrap()).unwrap();
        let (size, root) = self.verify_checkpoint(receipt["checkpoint"].as_str().unwrap());
        let size = usize::try_from(size).unwrap();
        assert!(
            seq < size,
            "the receipt's checkpoint (size {size}) does not cover seq {seq}"
        );
        let leaves: Vec<[u8; 32]> = (0..size).map(|i| leaf_hash(&self.entry_bytes(i))).collect();
        assert_eq!(root, mth(&leaves), "the receipt's checkpoint root");
        assert_eq!(receipt["event_hash"], json!(hex::encode(leaves[seq])));
        assert_eq!(
            receipt["inclusion_proof"],
            hex_list(&path(seq, &leaves)),
            "{receipt}"
        );
        let entry: Value = serde_json::from_slice(&self.entry_bytes(seq)).unwrap();
        assert_eq!(receipt["recorded_at"], entry["recorded_at"]);
    }

    /// Checks a checkpoint note per C2SP tlog-checkpoint and signed-note: three body lines
    /// (origin, decimal size, base64 root), no extension lines, then a blank line and a
    /// signature line naming the origin with the key id of SPEC §3, which verifies. Returns
    /// the size and the root.
    fn verify_checkpoint(&self, note: &str) -> (u64, [u8; 32]) {
        let (body, signatures) = note
            .split_once("\n\n")
            .unwrap_or_else(|| panic!("{note:?}"));
        let body = format!("{body}\n");
        let lines: Vec<&str> = body.lines().collect();
        assert_eq!(lines.len(), 3, "exactly 3 body lines: {note:?}");
        assert_eq!(lines[0], ORIGIN);
        let size: u64 = lines[1].parse().unwrap();
        assert_eq!(lines[1], size.to_string(), "the size in decimal");
        let root: [u8; 32] = b64_decode(lines[2]).try_into().unwrap();
        assert_eq!(b64(&root), lines[2]);
        assert!(signatures.ends_with('\n'), "{note:?}");
        let log_public = fixed_key(1).verifying_key();
        let key_id = key_id(&log_public);
        let mut found = false;
        for line in signatures.lines() {
            let rest = line
                .strip_prefix("\u{2014} ")
                .unwrap_or_else(|| panic!("{line:?}"));
            let (name, signature) = rest.split_once(' ').unwrap();
            if name != ORIGIN {
                continue;
            }
            let bytes = b64_decode(signature);
            assert_eq!(bytes.len(), 68);
            assert_eq!(bytes[..4], key_id, "key id");
            let signature = ed25519_dalek::Signature::from_slice(&bytes[4..]).unwrap();
            log_public
                .verify_strict(body.as_bytes(), &signature)
                .unwrap();
            found = true;
        }
        assert!(found, "no signature line names the origin: {note:?}");
        (size, root)
    }

    /// SPEC §2 over every entry: leaf bytes are JCS(entry) (re-canonicalised here); exactly
    /// the fields; `seq`, `prev`; `recorded_at` in the grammar and non-decreasing; entry 0 and
    /// only it is the genesis, whose event hash is the ledger id every other statement names;
    /// every signature verifies strictly over `hisaab/statement/v1\n` || JCS(statement). The
    /// list, one entry and the entry by event hash answer the same bytes. Returns the leaves.
    fn check_all_entries(&self) -> Vec<Vec<u8>> {
        let size = usize::try_from(self.size()).unwrap();
        let response = self.get(&format!("/v1/entries?start=0&limit={size}"));
        assert_eq!(response.status(), StatusCode::OK);
        let list = response.bytes().unwrap().to_vec();
        assert!(list.ends_with(b"\n"));
        let lines: Vec<Vec<u8>> = list[..list.len() - 1]
            .split(|b| *b == b'\n')
            .map(<[u8]>::to_vec)
            .collect();
        assert_eq!(lines.len(), size);
        let mut prev = hex::encode([0u8; 32]);
        let mut last_time: Option<(String, String)> = None;
        for (seq, leaf) in lines.iter().enumerate() {
            let value: Value = serde_json::from_slice(leaf).unwrap();
            assert_eq!(&jcs(&value), leaf, "entry {seq} is not JCS(entry)");
            assert_eq!(
                &self.entry_bytes(seq),
                leaf,
                "GET /v1/entries/{seq} is not the leaf bytes"
            );
            let event = hex::encode(leaf_hash(leaf));
            let response = self.get(&format!("/v1/events/{event}"));
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(
                &response.bytes().unwrap().to_vec(),
                leaf,
                "GET /v1/events/{event}"
            );
            assert_eq!(
                keys(&value),
                set(&["seq", "prev", "recorded_at", "statement", "signature"])
            );
            assert_eq!(value["seq"], json!(seq));
            assert_eq!(value["prev"], json!(prev), "entry {seq}: prev");
            let recorded_at = value["recorded_at"].as_str().unwrap();
            let instant = timestamp_key(recorded_at).unwrap_or_else(|| panic!("{recorded_at:?}"));
            if let Some(last) = &last_time {
                assert!(*last <= instant, "entry {seq}: recorded_at decreases");
            }
            last_time = Some(instant);
            let statement = &value["statement"];
            let genesis = seq == 0;
            let mut fields = set(&["v", "id", "kind", "signer", "issued_at", "body"]);
            if !genesis {
                fields.insert("ledger".to_owned());
                assert_eq!(
                    statement["ledger"],
                    json!(self.ledger),
                    "entry {seq}: ledger"
                );
            }
            assert_eq!(keys(statement), fields, "entry {seq}");
            assert_eq!(
                statement["kind"] == json!("ledger.genesis"),
                genesis,
                "entry {seq}: kind"
            );
            let signer: [u8; 32] = b64_decode(statement["signer"].as_str().unwrap())
                .try_into()
                .unwrap();
            let signer = VerifyingKey::from_bytes(&signer).unwrap();
            let signature = ed25519_dalek::Signature::from_slice(&b64_decode(
                value["signature"].as_str().unwrap(),
            ))
            .unwrap();
            let mut input = SIGNING_PREFIX.to_vec();
            input.extend_from_slice(&jcs(statement));
            signer
                .verify_strict(&input, &signature)
                .unwrap_or_else(|_| panic!("entry {seq}: signature"));
            assert!(signer.verify_strict(&jcs(statement), &signature).is_err());
            prev = event;
        }
        lines
    }

    /// Kills the server with SIGKILL and starts a new one over the same data directory.
    fn restart_after_kill(&mut self) {
        // Dropping the guard kills the process (SIGKILL) and waits for it.
        drop(self.server.take());
        let server = Server::start(&self.sb, &self.sb.join("ledger"), &self.sb.join("log.pem"));
        self.http = server.http();
        self.server = Some(server);
    }

    fn url(&self) -> &str {
        &self.server.as_ref().unwrap().url
    }

    /// Stops the server gracefully and checks its log for private key material.
    fn finish(self) {
        let Node { server, sb, .. } = self;
        server.unwrap().stop();
        for file in std::fs::read_dir(sb.path()).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|e| e == "log") {
                assert_no_private_key(&std::fs::read_to_string(&path).unwrap(), &all_fixed_seeds());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Independent helpers: JCS, base64, timestamps, RFC 9162, C2SP key ids, secrets.
// ---------------------------------------------------------------------------------------------

/// RFC 8785 for the JSON the test handles (integers, and the few floats of the refused cases).
fn jcs(value: &Value) -> Vec<u8> {
    let mut out = String::new();
    write_jcs(value, &mut out);
    out.into_bytes()
}

fn jcs_string(value: &Value) -> String {
    String::from_utf8(jcs(value)).unwrap()
}

fn write_jcs(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_jcs_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_jcs(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            // RFC 8785 §3.2.3: by UTF-16 code units.
            keys.sort_by_key(|k| k.encode_utf16().collect::<Vec<u16>>());
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_jcs_string(key, out);
                out.push(':');
                write_jcs(&map[key], out);
            }
            out.push('}');
        }
    }
}

fn write_jcs_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn sign_statement(key: &SigningKey, statement: &Value) -> String {
    let mut input = SIGNING_PREFIX.to_vec();
    input.extend_from_slice(&jcs(statement));
    b64(&key.sign(&input).to_bytes())
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Lenient decoding (ignores the trailing bits), for the test's own use.
fn b64_decode(text: &str) -> Vec<u8> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes().filter(|c| *c != b'=') {
        let v = B64
            .iter()
            .position(|x| *x == c)
            .unwrap_or_else(|| panic!("{text:?}"));
        bits = bits << 6 | u32::try_from(v).unwrap();
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push(u8::try_from((bits >> count) & 0xff).unwrap());
        }
    }
    out
}

/// The same bytes in non-canonical base64: the last character before the padding gets its
/// lowest (unused) bit set.
fn set_trailing_bits(canonical: &str) -> String {
    let data = canonical.trim_end_matches('=');
    assert!(
        data.len() < canonical.len(),
        "needs padding to have unused bits"
    );
    let last = data.as_bytes()[data.len() - 1];
    let index = B64.iter().position(|x| *x == last).unwrap() | 1;
    format!(
        "{}{}{}",
        &data[..data.len() - 1],
        char::from(B64[index]),
        &canonical[data.len()..]
    )
}

/// `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` with real calendar values and seconds 00–59, as a key that
/// orders instants; `None` outside the grammar.
fn timestamp_key(text: &str) -> Option<(String, String)> {
    let b = text.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || *b.last()? != b'Z'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        text.get(r)
            .filter(|s| s.bytes().all(|c| c.is_ascii_digit()))?
            .parse()
            .ok()
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month)
        || day == 0
        || day > days[month as usize - 1]
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let fraction = &text[19..text.len() - 1];
    let fraction = match fraction.strip_prefix('.') {
        None if fraction.is_empty() => String::new(),
        Some(f) if (1..=9).contains(&f.len()) && f.bytes().all(|c| c.is_ascii_digit()) => {
            f.to_owned()
        }
        _ => return None,
    };
    Some((text[..19].to_owned(), format!("{fraction:0<9}")))
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (days to civil date after H. Hinnant).
fn utc(seconds: i64) -> String {
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn date_of(leaf: &[u8]) -> String {
    let value: Value = serde_json::from_slice(leaf).unwrap();
    value["recorded_at"].as_str().unwrap()[..10].to_owned()
}

fn previous_month(month: &str) -> String {
    let (year, m) = month.split_once('-').unwrap();
    let (year, m): (u32, u32) = (year.parse().unwrap(), m.parse().unwrap());
    if m == 1 {
        format!("{:04}-12", year - 1)
    } else {
        format!("{year:04}-{:02}", m - 1)
    }
}

/// RFC 9162 §2.1.1.
fn leaf_hash(leaf: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(leaf);
    h.finalize().into()
}

fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH (RFC 9162 §2.1.1).
fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves.len() {
        0 => Sha256::digest(b"").into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

/// PATH (RFC 9162 §2.1.3.1).
fn path(m: usize, leaves: &[[u8; 32]]) -> Vec<[u8; 32]> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut p = path(m, &leaves[..k]);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = path(m - k, &leaves[k..]);
        p.push(mth(&leaves[..k]));
        p
    }
}

/// SUBPROOF (RFC 9162 §2.1.4.1).
fn subproof(m: usize, leaves: &[[u8; 32]], complete: bool) -> Vec<[u8; 32]> {
    let n = leaves.len();
    if m == n {
        return if complete {
            Vec::new()
        } else {
            vec![mth(leaves)]
        };
    }
    let k = split(n);
    if m <= k {
        let mut p = subproof(m, &leaves[..k], complete);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = subproof(m - k, &leaves[k..], false);
        p.push(mth(&leaves[..k]));
        p
    }
}

fn hex_list(hashes: &[[u8; 32]]) -> Value {
    json!(hashes.iter().map(hex::encode).collect::<Vec<_>>())
}

/// C2SP signed-note key id for an Ed25519 key: SHA-256(name || 0x0A || 0x01 || key)[:4].
fn key_id(key: &VerifyingKey) -> [u8; 4] {
    key_id_for(ORIGIN, key)
}

fn key_id_for(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0a, 0x01]);
    h.update(key.as_bytes());
    h.finalize()[..4].try_into().unwrap()
}

fn vkey_string(key: &VerifyingKey) -> String {
    let mut typed = vec![0x01];
    typed.extend_from_slice(key.as_bytes());
    format!("{ORIGIN}+{}+{}", hex::encode(key_id(key)), b64(&typed))
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// SPEC §7: `{"error":{"code":"<snake_case>","message":"..."}}`, exactly.
fn check_error_shape(body: &Value) {
    assert_eq!(keys(body), set(&["error"]), "{body}");
    assert_eq!(keys(&body["error"]), set(&["code", "message"]), "{body}");
    let code = body["error"]["code"].as_str().unwrap();
    assert!(
        code.starts_with(|c: char| c.is_ascii_lowercase())
            && code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "{body}"
    );
    assert!(
        !body["error"]["message"].as_str().unwrap().is_empty(),
        "{body}"
    );
}

fn all_fixed_seeds() -> Vec<[u8; 32]> {
    (1..=60u8).map(|n| [n; 32]).collect()
}

/// No form of a private key in `text`: the seed in hex or base64, the seed with its public
/// key (the 64-byte keypair), or the PEM body.
fn assert_no_private_key(text: &str, seeds: &[[u8; 32]]) {
    for seed in seeds {
        let key = SigningKey::from_bytes(seed);
        let mut der = hex::decode("302e020100300506032b657004220420").unwrap();
        der.extend_from_slice(seed);
        for secret in [
            hex::encode(seed),
            hex::encode(seed).to_uppercase(),
            b64(seed),
            b64(&key.to_keypair_bytes()),
            b64(&der),
        ] {
            assert!(
                !text.contains(&secret),
                "private key material printed: {secret}\n{text}"
            );
        }
    }
}
