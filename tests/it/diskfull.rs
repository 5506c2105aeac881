//! A full disk under a real server: the data directory sits on a small tmpfs (mounted by the
//! test, which needs root; `.ci/run` runs as root and sets `HISAAB_REQUIRE_TMPFS=1`, elsewhere
//! the test says it was skipped). Appends are posted until the disk is full. Then: the failed
//! append and every later one answer 503 `storage_failed` (not a 500), `/readyz` says so, the
//! checkpoint is still served, reads answer or get the same 503, and every acknowledged entry is
//! there and proven by the checkpoint. With space back, the same server (not restarted) reopens
//! its store and takes appends again, every receipt still holds; and so after a restart.

use std::path::{Path, PathBuf};
use std::process::Command;

use hisaab_log::merkle::{leaf_hash, MemoryTree};
use hisaab_log::note::{verify_checkpoint, Checkpoint, VerifierKey};
use hisaab_log::Hash;
use serde_json::{json, Value};

use crate::common::{self, fixed_key, sign, Sandbox, Server};

const ORIGIN: &str = "diskfull.test/hisaab";

/// The most appends tried before the disk must have filled (a 4 MiB tmpfs fills after about a
/// thousand).
const APPENDS_MAX: u64 = 50_000;

/// A tmpfs mounted for the test, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(path: &Path, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(path).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if out.status.success() {
            Ok(Tmpfs(path.to_owned()))
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    }

    fn resize(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success(), "remount failed");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_stops_appends_with_503_never_500_and_loses_nothing() {
    let sb = Sandbox::new();
    let tmpfs = match Tmpfs::mount(&sb.join("small"), "4m") {
        Ok(tmpfs) => tmpfs,
        Err(why) => {
            assert!(
                std::env::var("HISAAB_REQUIRE_TMPFS").as_deref() != Ok("1"),
                "HISAAB_REQUIRE_TMPFS=1 but a tmpfs cannot be mounted: {why}"
            );
            eprintln!("skipped: mounting a small tmpfs needs root ({why})");
            return;
        }
    };
    let (log_key, pta) = (fixed_key(1), fixed_key(2));
    let data = tmpfs.0.join("ledger");
    common::init_ledger(&sb, &data, ORIGIN, "Disk-full ledger");
    let vkey = common::vkey(ORIGIN, &log_key);
    let server = Server::start(&sb, &data, &sb.join("log.pem"));
    let http = server.http();
    let genesis = common::get_ok(&server, "/v1/entries/0");
    let ledger = common::entry(genesis.trim_end().as_bytes()).event_hash();

    // Fill the disk.
    let mut receipts: Vec<Value> = Vec::new();
    let mut refusal = None;
    for n in 0..APPENDS_MAX {
        let envelope = sign(
            &pta,
            ledger,
            "operator.registered",
            json!({"operator": format!("op-{n}"), "name": "An operator with a longish name"}),
        );
        let (status, body) = post(&http, &server.url, &envelope);
        if status == 201 {
            receipts.push(body);
        } else {
            refusal = Some((status, body));
            break;
        }
    }
    let (status, body) = refusal.expect("the disk never filled");
    assert!(!receipts.is_empty(), "the disk was full from the start");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], json!("storage_failed"), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("disk"));

    // Appends stay refused, with the same clear answer; readiness says why; reads go on.
    let envelope = sign(
        &pta,
        ledger,
        "operator.registered",
        json!({"operator": "after-full", "name": "After"}),
    );
    let (status, body) = post(&http, &server.url, &envelope);
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (503, json!("storage_failed"))
    );
    let ready = http.get(format!("{}/readyz", server.url)).send().unwrap();
    assert_eq!(ready.status().as_u16(), 503);
    let ready: Value = ready.json().unwrap();
    assert_eq!(ready["error"]["code"], json!("storage_failed"));
    let health = http.get(format!("{}/healthz", server.url)).send().unwrap();
    assert_eq!(health.status().as_u16(), 200);
    // The signed checkpoint is held in memory, so it is still served and still covers every
    // receipt. Reads from the storage go on while it answers them; once sled has recorded the
    // I/O error, it refuses reads that need the failed log too, and those get the same 503
    // (never a 500 and never wrong data), or a bundle cut short, which the client sees.
    let checkpoint = verify_checkpoint(&common::get_ok(&server, "/v1/checkpoint"), &vkey).unwrap();
    assert!(checkpoint.size > u64::try_from(receipts.len()).unwrap());
    for path in [
        "/v1/entries/0".to_owned(),
        format!("/v1/bundle?tree_size={}", checkpoint.size),
    ] {
        let response = common::signed_get(&http, &server.url, &path, &pta, "pta")
            .send()
            .unwrap();
        let status = response.status().as_u16();
        match (status, response.text()) {
            (200, Ok(_)) | (200, Err(_)) => {}
            (503, Ok(body)) => assert!(body.contains("\"storage_failed\""), "GET {path}: {body}"),
            (status, body) => panic!("GET {path} after the disk filled: {status} {body:?}"),
        }
    }

    // Space returns, and the same server, not restarted, takes appends again once it has
    // reopened its store (readiness polls start the attempt; one a second at most).
    tmpfs.resize("64m");
    let resized = std::time::Instant::now();
    let deadline = resized + std::time::Duration::from_secs(60);
    loop {
        let ready = http.get(format!("{}/readyz", server.url)).send().unwrap();
        if ready.status().as_u16() == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not take appends again within 60 s of space returning: {}",
            ready.text().unwrap()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    eprintln!(
        "ready again {} ms after space returned, without a restart",
        resized.elapsed().as_millis()
    );
    let size = check_receipts(&server, &vkey, &receipts).size;
    assert!(size > u64::try_from(receipts.len()).unwrap());
    let (status, body) = post(&http, &server.url, &envelope);
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["seq"], json!(size));
    receipts.push(body);
    let (status, body) = post(&http, &server.url, &envelope);
    assert_eq!(status, 200, "a resubmission after the recovery: {body}");

    // After a restart too, nothing acknowledged is lost and appends go on.
    drop(server);
    let server = Server::start(&sb, &data, &sb.join("log.pem"));
    let size = check_receipts(&server, &vkey, &receipts).size;
    let last = sign(
        &pta,
        ledger,
        "operator.registered",
        json!({"operator": "after-restart", "name": "After the restart"}),
    );
    let (status, body) = post(&server.http(), &server.url, &last);
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["seq"], json!(size));
    server.stop();
    let out = sb.ok(&["verify", data.to_str().unwrap()]);
    assert!(out.contains("OK"), "{out}");
}

/// Every receipt's entry is in the server's log at its seq, under a checkpoint whose root the
/// whole log recomputes; returns that checkpoint.
fn check_receipts(server: &Server, vkey: &VerifierKey, receipts: &[Value]) -> Checkpoint {
    let checkpoint = verify_checkpoint(&common::get_ok(server, "/v1/checkpoint"), vkey).unwrap();
    let bundle = common::get_full_ok(server, &format!("/v1/bundle?tree_size={}", checkpoint.size));
    let mut tree = MemoryTree::new();
    let mut leaves = Vec::new();
    for line in bundle.lines().skip(1) {
        let hash = leaf_hash(line.as_bytes());
        leaves.push(hash);
        tree.push_leaf(hash);
    }
    assert_eq!(tree.root(), checkpoint.root);
    for receipt in receipts {
        let seq = usize::try_from(receipt["seq"].as_u64().unwrap()).unwrap();
        let event = Hash::try_from_hex(receipt["event_hash"].as_str().unwrap()).unwrap();
        assert_eq!(
            leaves.get(seq),
            Some(&event),
            "acknowledged seq {seq} is gone"
        );
    }
    checkpoint
}

/// Posts `envelope`: the status and the JSON body.
fn post(
    http: &reqwest::blocking::Client,
    url: &str,
    envelope: &hisaab_log::Envelope,
) -> (u16, Value) {
    let (status, body) = common::post_envelope(http, url, envelope).unwrap();
    (status, serde_json::from_str(&body).unwrap())
}
