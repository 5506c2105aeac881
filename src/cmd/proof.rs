//! `hisaab proof`: fetch an inclusion or consistency proof and verify it locally against a
//! checkpoint verified under the pinned log key.

use std::process::ExitCode;

use anyhow::{anyhow, bail, Context as _, Result};
use hisaab_client::ClientError;
use hisaab_log::merkle::{verify_consistency, verify_inclusion};
use hisaab_log::Hash;
use serde_json::json;

use crate::args::{ProofArgs, ProofKind};
use crate::connect;
use crate::util;

/// Runs `hisaab proof`.
pub(crate) fn run(args: &ProofArgs) -> Result<ExitCode> {
    match &args.which {
        ProofKind::Inclusion {
            index,
            event,
            reader,
            server,
            json,
        } => {
            let mut session = connect::open_server(server)?;
            connect::read_as(&mut session.client, reader.key.as_deref())?;
            let latest = session.latest_checkpoint()?;
            let (checkpoint, observation) = (latest.checkpoint, latest.observation);
            let fetched = match (index, event) {
                (Some(index), _) => session.client.entry(*index),
                (None, Some(event)) => {
                    let hash = Hash::try_from_hex(event).context("--event must be a hash")?;
                    session.client.event(&hash)
                }
                (None, None) => bail!("give --index or --event"),
            };
            // An entry withheld from this reader (SPEC §13) is still proven by its leaf hash:
            // the proof for --index names it, and it is checked against the signed root.
            let (seq, leaf, kind) = match fetched {
                Ok(entry) => (
                    entry.entry().seq,
                    entry.event_hash(),
                    entry.entry().statement.kind.clone(),
                ),
                Err(ClientError::Status { source, .. })
                    if source.status.as_u16() == 403 && index.is_some() =>
                {
                    let seq = index.unwrap_or_default();
                    let answer = session.client.inclusion(seq, checkpoint.size)?;
                    eprintln!(
                        "note: entry {seq} is withheld from this reader; proving its leaf hash"
                    );
                    (seq, answer.leaf_hash, "withheld".to_owned())
                }
                Err(error) => return Err(error.into()),
            };
            let answer = session.client.inclusion(seq, checkpoint.size)?;
            if answer.leaf_hash != leaf {
                bail!("the proof's leaf hash is not the entry's event hash");
            }
            verify_inclusion(&leaf, seq, checkpoint.size, &answer.proof, &checkpoint.root)
                .context("the inclusion proof does not verify")?;
            if *json {
                println!(
                    "{}",
                    json!({
                        "ok": true, "index": seq, "event_hash": leaf.to_hex(),
                        "tree_size": checkpoint.size, "root": checkpoint.root.to_hex(),
                        "proof": answer.proof.iter().map(Hash::to_hex).collect::<Vec<_>>(),
                    })
                );
            } else {
                println!(
                    "OK: entry {seq} ({kind} {leaf}) is included in the checkpoint of size {} \
                     (root {})",
                    checkpoint.size, checkpoint.root
                );
                println!("proof: {} hashes; {observation}", answer.proof.len());
            }
        }
        ProofKind::Consistency {
            checkpoint,
            reader,
            server,
            json,
        } => {
            let mut session = connect::open_server(server)?;
            // Checkpoints and proofs are public; a key given is still checked to be a member's.
            if reader.key.is_some() {
                connect::read_as(&mut session.client, reader.key.as_deref())?;
            }
            let old_note = match checkpoint {
                Some(path) => String::from_utf8(util::read_input(path)?)
                    .context("the checkpoint file is not text")?,
                None => session
                    .remembered_checkpoint()
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        anyhow!(
                            "no checkpoint remembered for {}: pass --checkpoint FILE, or run \
                             `hisaab verify {}` first",
                            session.client.base(),
                            session.client.base()
                        )
                    })?,
            };
            let old = session
                .verify_checkpoint(&old_note)
                .context("the earlier checkpoint")?;
            let new_note = session.client.checkpoint_note()?;
            let new = session.verify_checkpoint(&new_note)?;
            if new.size < old.size {
                bail!(
                    "the server's latest checkpoint (size {}) is smaller than the earlier one \
                     (size {}): the log shrank",
                    new.size,
                    old.size
                );
            }
            let proof = if new.size == old.size {
                Vec::new()
            } else {
                session.client.consistency(old.size, new.size)?
            };
            verify_consistency(old.size, new.size, &proof, &old.root, &new.root)
                .context("the consistency proof does not verify: the log was rewritten")?;
            session.observe(&new_note, &new)?;
            if *json {
                println!(
                    "{}",
                    json!({
                        "ok": true, "from": old.size, "to": new.size,
                        "from_root": old.root.to_hex(), "to_root": new.root.to_hex(),
                        "proof": proof.iter().map(Hash::to_hex).collect::<Vec<_>>(),
                    })
                );
            } else {
                println!(
                    "OK: the log of size {} (root {}) is a prefix of the log of size {} (root {})",
                    old.size, old.root, new.size, new.root
                );
                println!("proof: {} hashes", proof.len());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
