//! `hisaab keygen` and `hisaab pubkey`.

use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use hisaab_log::note::VerifierKey;
use hisaab_log::PublicKey;

use crate::args::{KeygenArgs, PubkeyArgs};
use crate::keyfile;

/// Generates a key file and prints its public key (never the private key).
pub(crate) fn run(args: &KeygenArgs) -> Result<ExitCode> {
    let key = keyfile::generate();
    // Check the name before writing anything, so a bad name leaves no key behind.
    let vkey = args
        .log_name
        .as_deref()
        .map(|name| log_vkey(name, keyfile::public(&key)))
        .transpose()?;
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
        let vkey = log_vkey(name, keyfile::public(&key))?;
        println!("vkey: {vkey}");
    }
    if let Some(name) = &args.witness_name {
        if !hisaab_log::note::is_valid_key_name(name) {
            return Err(crate::exit::usage(format!(
                "--witness-name {name:?} is not a valid key name (no whitespace or `+`)"
            )));
        }
        let witness = hisaab_client::WitnessKey {
            name: name.clone(),
            key: keyfile::public(&key),
        };
        println!("witness vkey: {}", witness.to_vkey());
    }
    Ok(ExitCode::SUCCESS)
}

/// The verifier key of a log key under `name`, which must be a valid genesis `origin` (SPEC
/// §4: a C2SP key name of 1–255 bytes, no whitespace, no `+`). C2SP itself sets no length
/// limit, so [`VerifierKey::new`] does not check the 255 bytes: without this check, keygen
/// would print a vkey that no genesis can carry.
fn log_vkey(name: &str, key: PublicKey) -> Result<VerifierKey> {
    const ORIGIN_BYTES_MAX: usize = 255;
    if name.len() > ORIGIN_BYTES_MAX {
        bail!(
            "--log-name is {} bytes; an origin has at most {ORIGIN_BYTES_MAX} (SPEC §4)",
            name.len()
        );
    }
    VerifierKey::new(name, key)
        .context("--log-name is not a valid key name (1-255 bytes, no whitespace or `+`)")
}
