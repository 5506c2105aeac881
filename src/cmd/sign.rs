//! `hisaab sign`: an envelope signed offline, for an air-gapped key.

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use hisaab_log::Hash;
use hisaab_model::Kind;

use crate::args::SignArgs;
use crate::keyfile;
use crate::util::{self, Draft};

/// Signs the body and writes the envelope's canonical JSON.
pub(crate) fn run(args: &SignArgs) -> Result<ExitCode> {
    let key = keyfile::read(&args.key)?;
    let body = util::parse_body(&util::read_input(&args.body)?)?;
    let ledger = args
        .ledger
        .as_deref()
        .map(Hash::try_from_hex)
        .transpose()
        .context("--ledger must be the ledger id, 64 lowercase hex digits")?;
    let envelope = util::sign_draft(
        Draft {
            v: args.format,
            kind: Kind::try_from_str(&args.kind).with_context(|| {
                format!(
                    "unknown kind {:?}: only the kinds of SPEC §4 and §11 exist",
                    args.kind
                )
            })?,
            ledger,
            id: args.id.clone(),
            issued_at: args.issued_at.clone(),
            body,
        },
        &key,
    )?;
    let mut bytes = envelope.canonical_bytes()?;
    bytes.push(b'\n');
    util::write_output(args.out.as_deref(), &bytes)?;
    if let Some(out) = &args.out {
        eprintln!(
            "wrote {} ({} {} by {})",
            out.display(),
            envelope.statement.kind,
            envelope.statement.id,
            envelope.statement.signer
        );
    }
    Ok(ExitCode::SUCCESS)
}
