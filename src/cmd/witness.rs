//! `hisaab witness`: cosign the server's latest checkpoint (C2SP tlog-cosignature) after
//! checking that it is consistent with the last checkpoint this witness cosigned (SPEC §3).

use std::process::ExitCode;
use std::time::Duration;

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};
use hisaab_log::note::cosign_checkpoint;
use hisaab_log::SigningKey;

use hisaab_client::{check_consistent, Session, WitnessKey};

use crate::args::WitnessArgs;
use crate::connect;
use crate::keyfile;
use crate::util;

/// Runs `hisaab witness`.
pub(crate) fn run(args: &WitnessArgs) -> Result<ExitCode> {
    let key = keyfile::read(&args.key)?;
    let mut session = connect::open_server(&args.server)?;
    loop {
        witness_once(&mut session, &key, &args.name, args.evidence.as_deref())?;
        match args.every {
            Some(seconds) => std::thread::sleep(Duration::from_secs(seconds.max(1))),
            None => return Ok(ExitCode::SUCCESS),
        }
    }
}

fn witness_once(
    session: &mut Session,
    key: &SigningKey,
    name: &str,
    evidence: Option<&Path>,
) -> Result<()> {
    let note = session.client.checkpoint_note()?;
    let checkpoint = session.verify_checkpoint(&note)?;
    let slot = format!("{} {name}", session.client.base());
    if let Some(last_note) = session.file.trust.witnessed.get(&slot).cloned() {
        let last = session
            .verify_checkpoint(&last_note)
            .context("the checkpoint this witness last cosigned no longer verifies")?;
        let refusal = if checkpoint.size < last.size {
            Some(anyhow!(
                "the server's checkpoint (size {}) is smaller than the one this witness \
                 cosigned (size {})",
                checkpoint.size,
                last.size
            ))
        } else {
            check_consistent(&session.client, &last, &checkpoint)
                .err()
                .map(|e| {
                    anyhow::Error::new(e).context(format!(
                        "size {} is not consistent with the size {} cosigned before",
                        checkpoint.size, last.size
                    ))
                })
        };
        if let Some(refusal) = refusal {
            let path =
                write_evidence(evidence, session.client.base(), &last_note, &note, &refusal)?;
            return Err(refusal.context(format!(
                "refusing to cosign: {} shows a history that forks from the one this witness \
                 cosigned (SPEC §3); both signed checkpoints are in {}",
                session.client.base(),
                path.display()
            )));
        }
    }
    let now_s = u64::try_from(util::now_unix_millis().div_euclid(1000)).unwrap_or(0);
    let line = cosign_checkpoint(&checkpoint, name, key, now_s)?;
    let answer = session
        .client
        .post_cosignature(&line, &note)
        .context("the server refused the cosignature")?;
    session.file.trust.witnessed.insert(slot, note.clone());
    session.observe(&note, &checkpoint)?;
    session.file.save()?;
    println!(
        "cosigned the checkpoint of size {} (root {}) as {name} ({})",
        checkpoint.size,
        checkpoint.root,
        keyfile::public(key)
    );
    let vkey = WitnessKey {
        name: name.to_owned(),
        key: keyfile::public(key),
    };
    println!("witness vkey (for verify --witness): {}", vkey.to_vkey());
    let count = answer
        .checkpoint
        .lines()
        .filter(|l| l.starts_with('\u{2014}'))
        .count();
    println!("the server now holds {count} signature line(s) on it");
    Ok(())
}

/// Writes the two signed checkpoints that prove the server forked (each verifies under the
/// log key; together they cannot both be honest) to a new file, and returns its path.
fn write_evidence(
    path: Option<&Path>,
    server: &str,
    cosigned: &str,
    shown: &str,
    why: &anyhow::Error,
) -> Result<PathBuf> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => PathBuf::from(format!(
            "hisaab-fork-evidence-{}.txt",
            util::now_unix_millis()
        )),
    };
    let why: Vec<String> = why.chain().map(ToString::to_string).collect();
    let text = format!(
        "Evidence that {server} forked its log (SPEC §3): two checkpoints signed by its log key \
         that are not consistent.\nWhy: {}\n\n--- the checkpoint this witness cosigned before ---\n\
         {cosigned}--- the checkpoint the server shows now ---\n{shown}",
        why.join(": ")
    );
    util::write_output(Some(&path), text.as_bytes())
        .with_context(|| format!("cannot write the fork evidence to {}", path.display()))?;
    Ok(path)
}
