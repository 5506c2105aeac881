//! `hisaab disclose`: chosen sealed fields of chosen entries, from an openings file, written
//! as a disclosure (SPEC §12.7) that a third party verifies against the public bundle with
//! `hisaab verify BUNDLE --disclosure FILE`. The body of the `disclosure.recorded` statement
//! that records it goes to stdout, to be signed and sent as any statement is (`hisaab sign
//! --kind disclosure.recorded --body - …`, then `hisaab submit`).

use std::fs::File;
use std::io::BufReader;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use hisaab_log::seal::{Choice, Disclosure, OpeningsFile};

use crate::args::DiscloseArgs;
use crate::exit;
use crate::util;

/// Runs `hisaab disclose`.
pub(crate) fn run(args: &DiscloseArgs) -> Result<ExitCode> {
    let file = File::open(&args.openings)
        .with_context(|| format!("cannot open {}", args.openings.display()))?;
    let openings = OpeningsFile::read(BufReader::new(file)).with_context(|| {
        format!(
            "{} is not an openings file (SPEC §12.6)",
            args.openings.display()
        )
    })?;
    let mut chosen = Vec::with_capacity(args.entries.len());
    for text in &args.entries {
        let (seq, fields) = match text.split_once(':') {
            Some((seq, fields)) => (seq, Some(fields)),
            None => (text.as_str(), None),
        };
        let seq: u64 = seq.parse().map_err(|_| {
            exit::usage(format!(
                "--entry {text:?}: SEQ[:FIELD,...], SEQ a whole number"
            ))
        })?;
        let fields: Vec<&str> = match fields {
            Some(list) => list.split(',').filter(|f| !f.is_empty()).collect(),
            None => openings
                .get(seq)
                .map(|o| o.fields.keys().map(String::as_str).collect())
                .unwrap_or_default(),
        };
        chosen.push(Choice { seq, fields });
    }
    let disclosure = Disclosure::build(openings.header.ledger, &args.to, &chosen, |seq| {
        openings.get(seq).cloned()
    })
    .context("the disclosure cannot be made from these openings")?;
    let record = hisaab_model::disclosure_record(&disclosure)?;
    let mut bytes = hisaab_log::jcs::to_canonical(&disclosure)?;
    bytes.push(b'\n');
    std::fs::write(&args.out, &bytes)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let body = hisaab_log::jcs::to_canonical(&record)?;
    eprintln!(
        "wrote the disclosure to {} ({} entries); record it by signing the body below as a \
         `disclosure.recorded` statement (hisaab sign --kind disclosure.recorded --body - \
         --ledger {} --key KEY) and sending it (hisaab submit)",
        args.out.display(),
        disclosure.entries.len(),
        openings.header.ledger
    );
    util::emit(&format!("{}\n", String::from_utf8_lossy(&body)))?;
    Ok(ExitCode::SUCCESS)
}
