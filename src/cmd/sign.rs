//! `hisaab sign`: a statement signed offline, for an air-gapped key, sealed as the server
//! expects it (SPEC §12.5) unless `--clear` says otherwise.

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use hisaab_log::Hash;
use hisaab_model::Kind;

use crate::args::SignArgs;
use crate::keyfile;
use crate::util::{self, Draft};

/// Signs the body and writes what `hisaab submit FILE` sends: the envelope's canonical JSON, or,
/// for a format-2 statement of a kind with sealed fields, the sealed submission (the envelope
/// signed in its sealed form and the sealing with the openings beside it).
pub(crate) fn run(args: &SignArgs) -> Result<ExitCode> {
    let key = keyfile::read(&args.key)?;
    let body = util::parse_body(&util::read_input(&args.body)?)?;
    let ledger = args
        .ledger
        .as_deref()
        .map(Hash::try_from_hex)
        .transpose()
        .context("--ledger must be the ledger id, 64 lowercase hex digits")?;
    let draft = Draft {
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
    };
    let (envelope, sealing) = if args.clear {
        (util::sign_draft(draft, &key)?, None)
    } else {
        util::seal_and_sign_draft(draft, &key)?
    };
    util::write_output(
        args.out.as_deref(),
        &util::submission_bytes(&envelope, sealing.as_ref())?,
    )?;
    if let Some(out) = &args.out {
        eprintln!(
            "wrote {} ({} {} by {}{})",
            out.display(),
            envelope.statement.kind,
            envelope.statement.id,
            envelope.statement.signer,
            if sealing.is_some() {
                "; sealed: the file holds the openings of its sealed fields, keep it as \
                 private as the body"
            } else {
                ""
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
