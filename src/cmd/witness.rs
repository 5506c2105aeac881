//! `hisaab witness`: cosign the server's latest checkpoint (C2SP tlog-cosignature) after
//! checking that it is consistent with the last checkpoint this witness cosigned (SPEC §3).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use hisaab_log::note::cosign_checkpoint;
use hisaab_log::SigningKey;

use crate::args::WitnessArgs;
use crate::client::{check_consistent, Session};
use crate::cmd::submit::open_session;
use crate::keyfile;
use crate::util;

/// Runs `hisaab witness`.
pub(crate) fn run(args: &WitnessArgs) -> Result<ExitCode> {
    let key = keyfile::read(&args.key)?;
    let mut session = open_session(&args.server)?;
    loop {
        witness_once(&mut session, &key, &args.name)?;
        match args.every {
            Some(seconds) => std::thread::sleep(Duration::from_secs(seconds.max(1))),
            None => return Ok(ExitCode::SUCCESS),
        }
    }
}

fn witness_once(session: &mut Session, key: &SigningKey, name: &str) -> Result<()> {
    let note = session.client.checkpoint_note()?;
    let checkpoint = session.verify_checkpoint(&note)?;
    let slot = format!("{} {name}", session.client.base());
    if let Some(last_note) = session.trust.state.witnessed.get(&slot).cloned() {
        let last = session
            .verify_checkpoint(&last_note)
            .context("the checkpoint this witness last cosigned no longer verifies")?;
        if checkpoint.size < last.size {
            bail!(
                "refusing to cosign: the server's checkpoint (size {}) is smaller than the one \
                 this witness cosigned (size {})",
                checkpoint.size,
                last.size
            );
        }
        check_consistent(&session.client, &last, &checkpoint).with_context(|| {
            format!(
                "refusing to cosign: size {} is not consistent with the size {} cosigned before",
                checkpoint.size, last.size
            )
        })?;
    }
    let now_s = u64::try_from(util::now_unix_millis().div_euclid(1000)).unwrap_or(0);
    let line = cosign_checkpoint(&checkpoint, name, key, now_s)?;
    let answer = session
        .client
        .post_cosignature(&line, &note)
        .context("the server refused the cosignature")?;
    session.trust.state.witnessed.insert(slot, note.clone());
    session.observe(&note, &checkpoint)?;
    session.trust.save()?;
    println!(
        "cosigned the checkpoint of size {} (root {}) as {name} ({})",
        checkpoint.size,
        checkpoint.root,
        keyfile::public(key)
    );
    if let Some(collected) = answer.get("checkpoint").and_then(|v| v.as_str()) {
        let count = collected
            .lines()
            .filter(|l| l.starts_with('\u{2014}'))
            .count();
        println!("the server now holds {count} signature line(s) on it");
    }
    Ok(())
}
