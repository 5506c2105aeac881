//! `hisaab keygen` and `hisaab pubkey`.

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use hisaab_log::note::VerifierKey;

use crate::args::{KeygenArgs, PubkeyArgs};
use crate::keyfile;

/// Generates a key file and prints its public key (never the private key).
pub(crate) fn run(args: &KeygenArgs) -> Result<ExitCode> {
    let key = keyfile::generate();
    // Check the name before writing anything, so a bad name leaves no key behind.
    let vkey = args
        .log_name
        .as_deref()
        .map(|name| VerifierKey::new(name, keyfile::public(&key)))
        .transpose()
        .context("--log-name is not a valid key name (1-255 bytes, no whitespace or `+`)")?;
    keyfile::write_new(&args.out, &key)?;
    eprintln!("wrote {} (mode 0600)", args.out.display());
    println!("public key: {}", keyfile::public(&key));
    if let Some(vkey) = vkey {
        println!("vkey: {vkey}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the public key of a key file.
pub(crate) fn run_pubkey(args: &PubkeyArgs) -> Result<ExitCode> {
    let key = keyfile::read(&args.key)?;
    println!("public key: {}", keyfile::public(&key));
    if let Some(name) = &args.log_name {
        let vkey = VerifierKey::new(name, keyfile::public(&key))
            .context("--log-name is not a valid key name")?;
        println!("vkey: {vkey}");
    }
    Ok(ExitCode::SUCCESS)
}
