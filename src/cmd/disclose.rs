//! `hisaab disclose`: chosen sealed fields of chosen entries, from an openings file, written
//! as a disclosure (SPEC §12.7) that a third party verifies against the public bundle with
//! `hisaab verify BUNDLE --disclosure FILE`. Given the ledger's bundle (`--bundle`), it leaves
//! out what was erased since the openings file was written (SPEC §12.9). The body of the
//! `disclosure.recorded` statement that records it goes to stdout, to be signed and sent as
//! any statement is (`hisaab sign --kind disclosure.recorded --body - …`, then `hisaab
//! submit`).

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
    // With the ledger's bundle: what it erased, and how many entries it holds.
    let (erased, covered) = match &args.bundle {
        Some(path) => {
            // The bundle must be this ledger's and verify: a wrong or damaged one would say
            // nothing was erased.
            let open = || {
                File::open(path)
                    .map(BufReader::new)
                    .with_context(|| format!("cannot open {}", path.display()))
            };
            let verified = hisaab_model::verify_bundle(open()?)
                .with_context(|| format!("{} does not verify", path.display()))?;
            if verified.ledger_id != openings.header.ledger {
                return Err(exit::usage(format!(
                    "{} is the bundle of ledger {}, the openings file of ledger {}",
                    path.display(),
                    verified.ledger_id,
                    openings.header.ledger
                )));
            }
            let erased = hisaab_model::erased_fields(open()?)
                .with_context(|| format!("cannot read {}", path.display()))?;
            (erased, Some(verified.size))
        }
        None => {
            eprintln!(
                "note: without --bundle, a field erased after the openings file was written \
                 (SPEC §12.9) cannot be left out"
            );
            (hisaab_model::Erasures::new(), None)
        }
    };
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
        if let Some(size) = covered.filter(|size| seq >= *size) {
            return Err(exit::usage(format!(
                "--entry {text:?}: the bundle holds {size} entries, not seq {seq}; give the \
                 ledger's bundle as it stands"
            )));
        }
        let gone = openings
            .get(seq)
            .and_then(|o| erased.get(&o.event_hash))
            .cloned()
            .unwrap_or_default();
        let fields: Vec<&str> = match fields {
            Some(list) => {
                let named: Vec<&str> = list.split(',').filter(|f| !f.is_empty()).collect();
                if let Some((field, at)) =
                    named.iter().find_map(|f| gone.get(*f).map(|at| (*f, at)))
                {
                    return Err(exit::usage(format!(
                        "--entry {text:?}: `{field}` of seq {seq} was erased at seq {at} \
                         (SPEC §12.9); a disclosure cannot carry it"
                    )));
                }
                named
            }
            None => {
                let all: Vec<&str> = openings
                    .get(seq)
                    .map(|o| o.fields.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                for (field, at) in gone.iter().filter(|(f, _)| all.contains(&f.as_str())) {
                    eprintln!("left out `{field}` of seq {seq}: erased at seq {at}");
                }
                all.into_iter().filter(|f| !gone.contains_key(*f)).collect()
            }
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
