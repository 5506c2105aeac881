//! `hisaab verify`: a bundle file, a data directory or a server, end to end (SPEC §6). Exit 0
//! only if everything holds; 1 with the first failing seq and why; 2 for a malformed pin; 3
//! when the target cannot be reached or read. It always says what it checked: origin, log
//! vkey (and whether it was pinned), ledger id, size and root.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Context as _, Result};
use hisaab_log::bundle::BundleReader;
use hisaab_log::note::{verify_checkpoint, VerifierKey};
use hisaab_log::seal::OpeningsFile;
use hisaab_log::Hash;
use hisaab_model::{verify_bundle_cited, VerifiedBundle};
use serde_json::json;

use hisaab_client::Pins;

use crate::args::{TrustArgs, VerifyArgs};
use crate::connect;
use crate::exit;
use crate::progress::ProgressReader;
use crate::util;

/// Where the log key that was checked came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeySource {
    /// `--log-vkey`.
    Pinned,
    /// Remembered for a server (trust on first use).
    Remembered,
    /// The file's own genesis: nothing outside the file vouches for it.
    OwnKey,
}

/// What was verified.
#[derive(Debug)]
struct Verified {
    size: u64,
    root: Hash,
    ledger: Hash,
    origin: String,
    vkey: VerifierKey,
    source: KeySource,
    cosigned: Vec<String>,
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

impl From<hisaab_client::ClientError> for Failure {
    fn from(error: hisaab_client::ClientError) -> Self {
        anyhow::Error::new(error).into()
    }
}

impl From<hisaab_client::PinError> for Failure {
    fn from(error: hisaab_client::PinError) -> Self {
        anyhow::Error::new(error).into()
    }
}

/// Runs `hisaab verify`.
pub(crate) fn run(args: &VerifyArgs) -> Result<ExitCode> {
    let pins = connect::parse_pins(
        args.trust.log_vkey.as_deref(),
        args.ledger.as_deref(),
        &args.witnesses,
        args.min_cosignatures,
    )?;
    if (args.openings.is_some() || args.disclosure.is_some()) && !Path::new(&args.target).is_file()
    {
        return Err(exit::usage(
            "--openings and --disclosure go with a bundle file: their openings are checked \
             against that bundle's entries",
        ));
    }
    let outcome = if hisaab_client::is_url(&args.target) {
        verify_server(
            &args.target,
            &args.trust,
            &pins,
            args.checkpoint_only,
            args.reader.key.as_deref(),
        )
    } else {
        let path = PathBuf::from(&args.target);
        if path.is_dir() {
            if !pins.witnesses.is_empty() {
                return Err(exit::usage(
                    "--witness needs a checkpoint note with its cosignatures: verify the server \
                     or a bundle, not a data directory",
                ));
            }
            verify_data_dir(&path, &pins)
        } else if path.is_file() {
            let sub_state = args.sub_state_proof.as_deref().zip(args.resolution);
            verify_bundle_file(&path, &pins, args.openings.as_deref(), sub_state).and_then(
                |mut verified| {
                    if let Some(file) = &args.disclosure {
                        verified.notes.extend(check_disclosure_file(&path, file)?);
                    }
                    Ok(verified)
                },
            )
        } else {
            Err(anyhow::Error::new(exit::Unreachable(format!(
                "{} is neither a server URL (http://…), a directory nor a file",
                args.target
            )))
            .into())
        }
    };
    match outcome {
        Ok(v) => {
            report(args, &v);
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) => {
            let chain: Vec<String> = failure.error.chain().map(ToString::to_string).collect();
            let code = exit::code_of(&failure.error);
            if args.json {
                println!(
                    "{}",
                    json!({
                        "ok": false, "target": args.target, "seq": failure.seq,
                        "error": chain.join(": "), "exit": code,
                    })
                );
            } else {
                let what = if code == exit::UNREACHABLE {
                    "CANNOT VERIFY"
                } else {
                    "FAILED"
                };
                match failure.seq {
                    Some(seq) => eprintln!("{what}: {} at seq {seq}", args.target),
                    None => eprintln!("{what}: {}", args.target),
                }
                for (i, line) in chain.iter().enumerate() {
                    eprintln!("{}{line}", if i == 0 { "  " } else { "  caused by: " });
                }
            }
            Ok(ExitCode::from(code))
        }
    }
}

/// Prints what was checked.
fn report(args: &VerifyArgs, v: &Verified) {
    let source = match v.source {
        KeySource::Pinned => "pinned with --log-vkey",
        KeySource::Remembered => "pinned for this server in the client state file",
        KeySource::OwnKey => "NOT pinned",
    };
    if args.json {
        println!(
            "{}",
            json!({
                "ok": true, "target": args.target, "size": v.size,
                "root": v.root.to_hex(), "ledger": v.ledger.to_hex(),
                "ledger_pinned": args.ledger.is_some(),
                "origin": v.origin, "log_vkey": v.vkey.to_vkey(),
                "log_vkey_source": match v.source {
                    KeySource::Pinned => "pinned",
                    KeySource::Remembered => "remembered",
                    KeySource::OwnKey => "own_key",
                },
                "cosigned_by": v.cosigned, "notes": v.notes,
            })
        );
        return;
    }
    println!("OK: {} verified", args.target);
    println!("  origin:   {}", v.origin);
    println!("  log vkey: {} ({source})", v.vkey);
    println!(
        "  ledger:   {}{}",
        v.ledger,
        if args.ledger.is_some() {
            " (pinned with --ledger)"
        } else {
            ""
        }
    );
    println!("  size:     {} entries", v.size);
    println!("  root:     {}", v.root);
    if !v.cosigned.is_empty() {
        println!("  cosigned: {}", v.cosigned.join(", "));
    }
    for note in &v.notes {
        println!("  {note}");
    }
    if v.source == KeySource::OwnKey {
        println!(
            "note: no --log-vkey was given, so this trusted the file's own log key. Anyone can \
             make a ledger that verifies under its own key: compare the log vkey above with the \
             one the ledger's operator publishes, or pass --log-vkey."
        );
    }
}

/// Verifies a bundle read from `input` with the model's full verification, in memory that
/// does not grow with the log: it is spooled to a temporary file and read twice, as a bundle
/// file is (the sizes `dispute.resolved` statements cite, then the verification).
fn verify_stream(input: impl std::io::Read) -> Result<VerifiedBundle, Failure> {
    let mut file = util::spooled(input)?;
    let cited = hisaab_model::cited_sizes(util::from_start(&mut file)?)
        .context("cannot read the bundle back")?;
    verify_bundle_cited(util::from_start(&mut file)?, &cited).map_err(|e| Failure {
        seq: e.seq(),
        error: anyhow::Error::new(e),
    })
}

/// What a partial bundle (SPEC §6.2) proves, said in place of "every entry replayed"; `None`
/// for a whole bundle.
fn partial_note(verified: &VerifiedBundle) -> Option<String> {
    const LISTED_MAX: usize = 20;
    let withheld = &verified.withheld;
    if withheld.is_empty() {
        return None;
    }
    let mut seqs: Vec<String> = withheld
        .iter()
        .take(LISTED_MAX)
        .map(u64::to_string)
        .collect();
    if withheld.len() > LISTED_MAX {
        seqs.push("…".to_owned());
    }
    Some(format!(
        "the bundle is partial (SPEC §6.2): {} entries are withheld from this reader, at seq {}; \
         their leaf hashes are in the root checked against the checkpoint, their signatures \
         and own chain links are not checked; every entry present had its chain link and \
         signature checked; the rules were checked and the state replayed over the first {} \
         entries, up to the first withheld one",
        withheld.len(),
        seqs.join(", "),
        verified.replayed
    ))
}

fn open_file(path: &Path) -> Result<File> {
    File::open(path).with_context(|| format!("cannot open {}", path.display()))
}

/// Verifies a bundle file; with `openings`, replays it over the opened bodies; with
/// `sub_state` (a proof file and the seq of a resolution) also checks that proof against the
/// full-state digest that resolution names (SPEC §12.8).
fn verify_bundle_file(
    path: &Path,
    pins: &Pins,
    openings: Option<&Path>,
    sub_state: Option<(&Path, u64)>,
) -> Result<Verified, Failure> {
    // The header first: a bundle of another log fails on its key before anything is replayed.
    let header = BundleReader::new(BufReader::new(open_file(path)?))
        .map_err(|e| Failure {
            seq: None,
            error: anyhow::Error::new(e).context("the bundle's header is not a SPEC §6 header"),
        })?
        .header()
        .clone();
    let vkey = VerifierKey::try_parse(&header.log_key)
        .context("the bundle header's log_key is not a verifier key (SPEC §6)")?;
    pins.check(&vkey, None)?;
    let checkpoint = verify_checkpoint(&header.checkpoint, &vkey)
        .context("the bundle's checkpoint does not verify under its log key (SPEC §3)")?;
    let cosigned = pins.check_witnesses(&header.checkpoint, &checkpoint, &vkey)?;
    // Two passes, in memory that does not grow with the log: the sizes that
    // `dispute.resolved` statements cite, then the verification itself.
    let cited = hisaab_model::cited_sizes(BufReader::with_capacity(1 << 16, open_file(path)?))
        .with_context(|| format!("cannot read {}", path.display()))?;
    let file = open_file(path)?;
    let total = file.metadata().ok().map(|m| m.len());
    let input = BufReader::with_capacity(1 << 16, ProgressReader::new(file, "verifying", total));
    let mut notes = vec!["every entry replayed and checked (SPEC §2, §4, §6)".to_owned()];
    let verified = match openings {
        None => hisaab_model::verify_bundle_cited(input, &cited),
        Some(file) => {
            // A file made before an erasure may still open the field erased: ignored, and said.
            let erased =
                hisaab_model::erased_fields(BufReader::with_capacity(1 << 16, open_file(path)?))
                    .with_context(|| format!("cannot read {}", path.display()))?;
            if let Some((proof, seq)) = sub_state {
                let mut read = OpeningsFile::read(BufReader::new(open_file(file)?))
                    .map_err(|e| not_an_openings_file(file, e))?;
                for ignored in hisaab_model::drop_erased(&mut read, &erased) {
                    notes.push(format!("warning: {ignored}"));
                }
                let proof = read_proof(proof)?;
                let (as_of, digest) =
                    hisaab_model::resolution_at(BufReader::new(open_file(path)?), seq)
                        .map_err(|e| Failure {
                            seq: Some(seq),
                            error: anyhow::Error::new(e),
                        })?;
                hisaab_model::verify_sub_state(input, &cited, &read, &proof, as_of, &digest).map(
                    |checked| {
                        notes.push(format!(
                            "the sub-state of {} at size {as_of}, rebuilt from the bundle and \
                             these openings alone, is leaf {} of {} of the full-state digest \
                             {digest} that the resolution at seq {seq} names (SPEC §12.8)",
                            checked.operator, proof.index, proof.size
                        ));
                        checked.bundle
                    },
                )
            } else {
            // The openings file is read as the bundle is, a line at a time.
            let openings = BufReader::with_capacity(1 << 16, open_file(file)?);
            hisaab_model::verify_bundle_opened_streaming(input, &cited, openings, &erased)
                .map(|(opened, ignored)| {
                notes.extend(ignored.iter().map(|i| format!("warning: {i}")));
                notes.push(format!(
                    "{} entries opened, every opening checked against its commitment (SPEC §12.6)",
                    opened.opened
                ));
                notes.push(match opened.full_digest {
                    Some(digest) => format!("the full state replayed; its digest (SPEC §12.8): {digest}"),
                    None if opened.partial => {
                        "some sealed fields were not opened: the state replayed is partial (SPEC §12.8)"
                            .to_owned()
                    }
                    None => "every sealed field opened".to_owned(),
                });
                opened.bundle
            })
            }
        }
    }
    .map_err(|e| match (e, openings) {
        (hisaab_model::VerifyError::OpeningsFile(e), Some(file)) => not_an_openings_file(file, e),
        (e, _) => Failure {
            seq: e.seq(),
            error: anyhow::Error::new(e),
        },
    })?;
    pins.check(&vkey, Some(&verified.ledger_id))?;
    if let Some(note) = partial_note(&verified) {
        notes[0] = note;
    }
    // A replay without every opening does not recompute a report's aggregates (SPEC §12.12).
    if verified.resolution_digest.is_err() {
        let reports =
            hisaab_model::report_seqs(BufReader::with_capacity(1 << 16, open_file(path)?))
                .with_context(|| format!("cannot read {}", path.display()))?;
        if !reports.is_empty() {
            let seqs: Vec<String> = reports.iter().map(u64::to_string).collect();
            notes.push(format!(
                "the aggregates and digest of the reports at seq {} were not checked: they \
                 are recomputed from every opening (SPEC §12.12)",
                seqs.join(", ")
            ));
        }
    }
    Ok(Verified {
        size: verified.size,
        root: verified.root,
        ledger: verified.ledger_id,
        origin: verified.origin,
        vkey,
        source: source_of(pins),
        cosigned,
        notes,
    })
}

/// The failure of a file given as an openings file that is not one, naming its line.
fn not_an_openings_file(file: &Path, error: hisaab_log::seal::SealError) -> Failure {
    Failure {
        seq: None,
        error: anyhow::Error::new(error).context(format!(
            "{} is not an openings file (SPEC §12.6)",
            file.display()
        )),
    }
}

/// Checks a disclosure file against a bundle file verified already (SPEC §12.7): what it
/// proves, entry by entry, and whether the bundle records it.
fn check_disclosure_file(bundle: &Path, file: &Path) -> Result<Vec<String>, Failure> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let disclosure: hisaab_log::seal::Disclosure = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a disclosure (SPEC §12.7)", file.display()))?;
    let checked = hisaab_model::check_disclosure(BufReader::new(open_file(bundle)?), &disclosure)
        .map_err(|e| Failure {
        seq: None,
        error: anyhow::Error::new(e),
    })?;
    let mut notes = vec![format!(
        "the disclosure to {:?} checks against the bundle: every opening matches its \
         commitment (SPEC §12.7)",
        disclosure.to
    )];
    for item in &checked.disclosed {
        for (field, value) in &item.values {
            notes.push(format!("seq {} {} `{field}`: {value}", item.seq, item.kind));
        }
    }
    for ignored in &checked.ignored {
        notes.push(format!("warning: {ignored}"));
    }
    notes.push(match checked.recorded_at {
        Some(seq) => format!("recorded in the ledger by the disclosure.recorded at seq {seq}"),
        None => "warning: no disclosure.recorded of this bundle records this disclosure".to_owned(),
    });
    if let (Some(first), count) = (checked.withheld.first(), checked.withheld.len()) {
        notes.push(format!(
            "warning: the bundle is partial ({count} withheld, the first at seq {first}): an \
             erasure or a record of this disclosure among them cannot be ruled \
             out; check against a bundle that withholds nothing (the public one of a format-2 \
             ledger)"
        ));
    }
    Ok(notes)
}

/// A sub-state proof file (SPEC §12.8): one JSON object.
fn read_proof(path: &Path) -> Result<hisaab_log::seal::SubStateProof, Failure> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{} is not a sub-state proof (SPEC §12.8: operator, index, size, path)",
            path.display()
        )
    })?)
}

fn source_of(pins: &Pins) -> KeySource {
    if pins.log_vkey.is_some() {
        KeySource::Pinned
    } else {
        KeySource::OwnKey
    }
}

/// Audits a data directory with no private key: the checkpoint under the genesis log key,
/// every stored hash and index record, and every entry through the model's full verification.
/// It changes nothing; a directory a running server holds cannot be opened.
fn verify_data_dir(dir: &Path, pins: &Pins) -> Result<Verified, Failure> {
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
    pins.check(&report.log_vkey, Some(&report.ledger_id))?;
    Ok(Verified {
        size: report.size,
        root: report.root,
        ledger: report.ledger_id,
        origin: report.origin,
        vkey: report.log_vkey,
        source: source_of(pins),
        cosigned: Vec::new(),
        notes: std::iter::once(
            "every stored hash, index record and entry checked (SPEC §2, §4, §6)".to_owned(),
        )
        .chain(
            report
                .mark
                .warning()
                .map(|warning| format!("warning: {warning}")),
        )
        .collect(),
    })
}

/// Checks the server's latest checkpoint against the one remembered, then downloads the bundle
/// at that size and verifies every entry.
fn verify_server(
    url: &str,
    trust: &TrustArgs,
    pins: &Pins,
    checkpoint_only: bool,
    key: Option<&std::path::Path>,
) -> Result<Verified, Failure> {
    let mut session = connect::open(url, trust)?;
    connect::read_as(&mut session.client, key)?;
    pins.check(&session.log.vkey, Some(&session.log.ledger))?;
    let latest = session.latest_checkpoint()?;
    let (note, checkpoint, observation) = (latest.note, latest.checkpoint, latest.observation);
    let cosigned = pins.check_witnesses(&note, &checkpoint, &session.log.vkey)?;
    let source = if pins.log_vkey.is_some() {
        KeySource::Pinned
    } else {
        KeySource::Remembered
    };
    let mut notes = vec![format!(
        "checkpoint: size {}, {observation}",
        checkpoint.size
    )];
    // The bundle is every reader's, with the entries this reader may not read withheld
    // (SPEC §13.4): without a key, the public's.
    if checkpoint_only {
        notes.push("entries not downloaded (--checkpoint-only)".to_owned());
        return Ok(Verified {
            size: checkpoint.size,
            root: checkpoint.root,
            ledger: session.log.ledger,
            origin: checkpoint.origin,
            vkey: session.log.vkey.clone(),
            source,
            cosigned,
            notes,
        });
    }
    let response = session.client.bundle(checkpoint.size)?;
    let total = response.content_length();
    let verified =
        verify_stream(ProgressReader::new(response, "downloading", total)).map_err(|f| {
            Failure {
                seq: f.seq,
                error: f.error.context("the server's bundle does not verify"),
            }
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
    pins.check(&session.log.vkey, Some(&verified.ledger_id))?;
    if verified.ledger_id != session.log.ledger {
        return Err(anyhow!(
            "the bundle is of ledger {}, not the pinned {}",
            verified.ledger_id,
            session.log.ledger
        )
        .into());
    }
    notes.push(
        partial_note(&verified)
            .unwrap_or_else(|| "every entry replayed and checked (SPEC §2, §4, §6)".to_owned()),
    );
    Ok(Verified {
        size: verified.size,
        root: verified.root,
        ledger: verified.ledger_id,
        origin: verified.origin,
        vkey: session.log.vkey.clone(),
        source,
        cosigned,
        notes,
    })
}
