//! `hisaab verify`: a bundle file, a data directory or a server, end to end (SPEC §6). Exit 0
//! only if everything holds; otherwise the first failing seq and why.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Context as _, Result};
use hisaab_log::Hash;
use hisaab_model::{verify_bundle, VerifiedBundle};
use serde_json::json;

use crate::args::{TrustArgs, VerifyArgs};
use crate::client::{Session, SessionOptions};
use crate::cmd::submit::describe;
use crate::progress::ProgressReader;

/// What was verified.
#[derive(Debug)]
struct Verified {
    size: u64,
    root: Hash,
    ledger: Option<Hash>,
    origin: Option<String>,
    notes: Vec<String>,
}

/// Why verification failed: the first failing seq, when one entry is at fault.
#[derive(Debug)]
struct Failure {
    seq: Option<u64>,
    error: anyhow::Error,
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Failure { seq: None, error }
    }
}

/// Runs `hisaab verify`.
pub(crate) fn run(args: &VerifyArgs) -> Result<ExitCode> {
    let outcome = if crate::client::is_url(&args.target) {
        verify_server(&args.target, &args.trust, args.checkpoint_only)
    } else {
        let path = PathBuf::from(&args.target);
        if path.is_dir() {
            verify_data_dir(&path)
        } else if path.is_file() {
            verify_bundle_file(&path)
        } else {
            Err(anyhow!(
                "{} is neither a server URL, a directory nor a file",
                args.target
            )
            .into())
        }
    };
    match outcome {
        Ok(v) => {
            if args.json {
                println!(
                    "{}",
                    json!({
                        "ok": true, "target": args.target, "size": v.size,
                        "root": v.root.to_hex(), "ledger": v.ledger.map(|h| h.to_hex()),
                        "origin": v.origin, "notes": v.notes,
                    })
                );
            } else {
                println!(
                    "OK: {} verified: {} entries, root {}",
                    args.target, v.size, v.root
                );
                if let Some(ledger) = v.ledger {
                    println!("ledger: {ledger}");
                }
                for note in &v.notes {
                    println!("{note}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) => {
            let chain: Vec<String> = failure.error.chain().map(ToString::to_string).collect();
            if args.json {
                println!(
                    "{}",
                    json!({
                        "ok": false, "target": args.target, "seq": failure.seq,
                        "error": chain.join(": "),
                    })
                );
            } else {
                match failure.seq {
                    Some(seq) => eprintln!("FAILED: {} at seq {seq}", args.target),
                    None => eprintln!("FAILED: {}", args.target),
                }
                for (i, line) in chain.iter().enumerate() {
                    eprintln!("{}{line}", if i == 0 { "  " } else { "  caused by: " });
                }
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Verifies a bundle read from `input` with the model's full verification.
fn verify_stream(input: impl std::io::Read) -> Result<VerifiedBundle, Failure> {
    verify_bundle(BufReader::with_capacity(1 << 16, input)).map_err(|e| Failure {
        seq: e.seq(),
        error: anyhow::Error::new(e),
    })
}

fn verify_bundle_file(path: &Path) -> Result<Verified, Failure> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let total = file.metadata().ok().map(|m| m.len());
    let verified = verify_stream(ProgressReader::new(file, "verifying", total))?;
    Ok(from_bundle(verified, Vec::new()))
}

fn from_bundle(b: VerifiedBundle, notes: Vec<String>) -> Verified {
    Verified {
        size: b.size,
        root: b.root,
        ledger: Some(b.ledger_id),
        origin: Some(b.origin),
        notes,
    }
}

/// Audits a data directory with no private key: the checkpoint under the genesis log key,
/// every stored hash and index record, and every entry through the model's full verification.
/// It changes nothing; a directory a running server holds cannot be opened.
fn verify_data_dir(dir: &Path) -> Result<Verified, Failure> {
    let report =
        hisaab_store::audit_dir(dir, &hisaab_store::StoreConfig::default()).map_err(|e| {
            Failure {
                seq: match &e {
                    hisaab_store::StoreError::Corrupt(c) => c.seq(),
                    _ => None,
                },
                error: anyhow::Error::new(e),
            }
        })?;
    Ok(Verified {
        size: report.size,
        root: report.root,
        ledger: Some(report.ledger_id),
        origin: Some(report.origin),
        notes: Vec::new(),
    })
}

/// Checks the server's latest checkpoint against the one remembered, then downloads the bundle
/// at that size and verifies every entry.
fn verify_server(url: &str, trust: &TrustArgs, checkpoint_only: bool) -> Result<Verified, Failure> {
    let mut session = Session::open(
        url,
        &SessionOptions {
            state: trust.state.as_deref(),
            log_vkey: trust.log_vkey.as_deref(),
            repin: trust.repin,
        },
    )?;
    let (_note, checkpoint, observation) = session.latest_checkpoint()?;
    let mut notes = vec![format!(
        "checkpoint: size {}, {}",
        checkpoint.size,
        describe(observation)
    )];
    if checkpoint_only {
        notes.push("entries not downloaded (--checkpoint-only)".to_owned());
        return Ok(Verified {
            size: checkpoint.size,
            root: checkpoint.root,
            ledger: Some(session.log.ledger),
            origin: Some(checkpoint.origin),
            notes,
        });
    }
    let response = session
        .client
        .get(&format!("/v1/bundle?tree_size={}", checkpoint.size))?;
    let total = response.content_length();
    let verified =
        verify_stream(ProgressReader::new(response, "verifying", total)).map_err(|f| Failure {
            seq: f.seq,
            error: f.error.context("the server's bundle does not verify"),
        })?;
    if verified.size != checkpoint.size || verified.root != checkpoint.root {
        return Err(anyhow!(
            "the bundle is for size {} root {}, not the checkpoint's size {} root {}",
            verified.size,
            verified.root,
            checkpoint.size,
            checkpoint.root
        )
        .into());
    }
    if verified.ledger_id != session.log.ledger {
        return Err(anyhow!(
            "the bundle is of ledger {}, not the pinned {}",
            verified.ledger_id,
            session.log.ledger
        )
        .into());
    }
    notes.push("every entry replayed and checked (SPEC §2, §4, §6)".to_owned());
    Ok(from_bundle(verified, notes))
}
