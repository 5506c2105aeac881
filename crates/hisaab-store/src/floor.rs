//! The floor that Hisaab's ingest and audit are measured against: only the unavoidable work of
//! each entry, done with the same crates Hisaab is built on and none of its own code.
//!
//! For each bundle line (an entry's leaf bytes): parse it (`serde_json`), canonicalise it again
//! and compare (`serde_json_canonicalizer`, RFC 8785), canonicalise the statement's signing
//! input and verify its signature with ed25519-dalek `verify_strict`, and hash the leaf
//! (SHA-256) ([`check_line`]). Durable ingest adds sled: the lines inserted under their seq,
//! one flush per batch, the checks on the other cores beside the writer
//! ([`durable_ingest`]). `cargo bench -p hisaab-store --bench floor` runs it beside the store,
//! `hisaab load --floor` beside a server.

use std::path::Path;
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use base64::Engine as _;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest as _, Sha256};

/// Why a line did not pass the floor's checks (a line of a verified bundle always does).
#[derive(Debug, thiserror::Error)]
#[error("the floor's check of a line failed: {0}")]
pub struct FloorError(&'static str);

/// The floor's checks of one bundle line; answers nothing but whether it passed.
///
/// # Errors
/// [`FloorError`] naming the check that failed.
pub fn check_line(line: &[u8]) -> Result<(), FloorError> {
    let value: serde_json::Value =
        serde_json::from_slice(line).map_err(|_| FloorError("not JSON"))?;
    let canonical =
        serde_json_canonicalizer::to_vec(&value).map_err(|_| FloorError("not canonical"))?;
    if canonical != line {
        return Err(FloorError("not canonical"));
    }
    let statement = &value["statement"];
    // The domain separator of the statement's format (`hisaab/statement/v<v>\n`).
    let context = statement["v"]
        .as_u64()
        .and_then(hisaab_log::statement::signing_context)
        .ok_or(FloorError("no format"))?;
    let mut input = context.to_vec();
    input.extend_from_slice(
        &serde_json_canonicalizer::to_vec(statement).map_err(|_| FloorError("no statement"))?,
    );
    let b64 = base64::engine::general_purpose::STANDARD;
    let decode = |text: Option<&str>, what: &'static str| {
        b64.decode(text.ok_or(FloorError(what))?)
            .map_err(|_| FloorError(what))
    };
    let key: [u8; 32] = decode(statement["signer"].as_str(), "no signer")?
        .try_into()
        .map_err(|_| FloorError("no signer"))?;
    let signature: [u8; 64] = decode(value["signature"].as_str(), "no signature")?
        .try_into()
        .map_err(|_| FloorError("no signature"))?;
    VerifyingKey::from_bytes(&key)
        .map_err(|_| FloorError("no signer"))?
        .verify_strict(&input, &Signature::from_bytes(&signature))
        .map_err(|_| FloorError("bad signature"))?;
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(line);
    let _leaf: [u8; 32] = hasher.finalize().into();
    Ok(())
}

/// The floor of durable ingest: `lines` checked ([`check_line`], half of each batch on a
/// second thread) and inserted into a new sled database in `dir` under their seq, with a
/// flush per `batch` lines (what group commit gathers from as many clients), the writer
/// taking a batch while the next is checked. Answers how long it took.
///
/// # Errors
/// A line that fails its checks; sled's errors.
pub fn durable_ingest(dir: &Path, lines: &[Vec<u8>], batch: usize) -> Result<Duration, FloorError> {
    let db = sled::open(dir).map_err(|_| FloorError("sled did not open"))?;
    let tree = db
        .open_tree("entries")
        .map_err(|_| FloorError("sled did not open"))?;
    let started = Instant::now();
    let (tx, rx) = sync_channel::<&[Vec<u8>]>(4);
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let mut seq = 0u64;
            for batch in rx {
                for line in batch {
                    tree.insert(seq.to_be_bytes(), line.as_slice())
                        .map_err(|_| FloorError("sled failed"))?;
                    seq += 1;
                }
                db.flush().map_err(|_| FloorError("sled failed"))?;
            }
            Ok::<(), FloorError>(())
        });
        for batch in lines.chunks(batch.max(1)) {
            let checked = std::thread::scope(|inner| {
                let (a, b) = batch.split_at(batch.len() / 2);
                let other = inner.spawn(|| a.iter().try_for_each(|line| check_line(line)));
                let here = b.iter().try_for_each(|line| check_line(line));
                other
                    .join()
                    .unwrap_or(Err(FloorError("a check panicked")))?;
                here
            });
            if let Err(error) = checked {
                drop(tx);
                let _ = writer.join();
                return Err(error);
            }
            if tx.send(batch).is_err() {
                break;
            }
        }
        drop(tx);
        writer
            .join()
            .unwrap_or(Err(FloorError("the writer panicked")))
    })?;
    Ok(started.elapsed())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::store::testing::{fixture_store, register_operators, unsnapshotted};

    #[test]
    fn stored_entries_pass_and_a_changed_or_respaced_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = fixture_store(dir.path(), unsnapshotted());
        register_operators(&store, 3);
        let lines: Vec<Vec<u8>> = (0..4)
            .map(|seq| store.entry(seq).unwrap().unwrap().leaf_bytes().to_vec())
            .collect();
        for line in &lines {
            check_line(line).unwrap();
        }
        let mut spaced = lines[1].clone();
        spaced.insert(1, b' ');
        assert_eq!(check_line(&spaced).unwrap_err().0, "not canonical");
        let changed = String::from_utf8(lines[2].clone()).unwrap().replacen(
            "operator.registered",
            "operator.registeree",
            1,
        );
        assert_eq!(
            check_line(changed.as_bytes()).unwrap_err().0,
            "bad signature"
        );

        let out = tempfile::tempdir().unwrap();
        durable_ingest(&out.path().join("good"), &lines, 2).unwrap();
        let mut bad = lines.clone();
        bad[3] = changed.into_bytes();
        assert!(durable_ingest(&out.path().join("bad"), &bad, 2).is_err());
        drop(store);
    }
}
