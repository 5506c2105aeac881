//! `hisaab replay`: the state of SPEC §5 at a tree size and date, or what changed between two
//! sizes, from a bundle file, a data directory or a server. From a bundle or a server the
//! entries are verified (SPEC §6) and replayed here; from a data directory the store replays
//! them from its snapshots.

use std::fmt::{self, Write as _};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context as _, Result};
use hisaab_log::bundle::{BundleLine, BundleReader};
use hisaab_log::seal::OpeningsFile;
use hisaab_log::{Date, Hash};
use hisaab_model::{diff, replay_bundle, Pillar, Reader, Slug, State, VerifyError};

use crate::args::{ReplayArgs, TrustArgs};
use crate::connect;
use crate::datadir::open_read_only;
use crate::progress::ProgressReader;
use crate::util::{self, table};

/// Runs `hisaab replay`.
pub(crate) fn run(args: &ReplayArgs) -> Result<ExitCode> {
    if let (Some(operator), Some(openings)) = (&args.sub_state_proof, &args.openings) {
        return print_sub_state_proof(args, operator, openings);
    }
    let at = args
        .at
        .as_deref()
        .map(Date::try_parse)
        .transpose()
        .context("--at must be a date YYYY-MM-DD")?;
    let as_of_date = args
        .as_of_date
        .as_deref()
        .map(Date::try_parse)
        .transpose()
        .context("--as-of-date must be a date YYYY-MM-DD")?;
    // The ledger as recorded up to the end of the day, with that day as the clock. From a
    // server, the day's size is counted in the bundle that is then replayed (one download).
    let (as_of, at) = match as_of_date {
        Some(day) if !hisaab_client::is_url(&args.source) => (
            Some(size_at_date(&args.source, day)?),
            Some(at.unwrap_or(day)),
        ),
        Some(day) => (None, Some(at.unwrap_or(day))),
        None => (args.as_of, at),
    };
    let sizes: Vec<Option<u64>> = match &args.diff {
        Some(pair) => pair.iter().map(|s| Some(*s)).collect(),
        None => vec![as_of],
    };
    for size in sizes.iter().flatten() {
        if *size == 0 {
            bail!("a state exists for sizes from 1 (the genesis) up");
        }
    }
    let states = states_from(
        &args.source,
        &sizes,
        as_of_date,
        at,
        &args.trust,
        args.reader.key.as_deref(),
    )?;
    match (&args.diff, states.as_slice()) {
        (Some(_), [a, b]) => {
            let changes = diff(a, b);
            if args.json {
                emit_json(&format!("{}\n", serde_json::to_string_pretty(&changes)?))?;
            } else {
                util::emit(&util::escape_for_terminal(&changes.to_string()))?;
            }
        }
        (None, [state]) => {
            if args.json {
                let bytes = state.to_canonical_json();
                emit_json(&format!("{}\n", String::from_utf8_lossy(&bytes)))?;
            } else {
                util::emit(&util::escape_for_terminal(&render_state(state)))?;
            }
        }
        _ => bail!("internal: unexpected number of states"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Emits JSON; on a terminal, with the characters [`util::escape_for_terminal`] hides written as
/// JSON escapes (`\uXXXX`, the same JSON). Piped, the bytes are left exactly as they are.
fn emit_json(json: &str) -> Result<()> {
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        return util::emit(json);
    }
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c == '\n' || c == '\t' || !(c.is_control() || hisaab_model::value::is_refused_in_text(c))
        {
            out.push(c);
        } else {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        }
    }
    util::emit(&out)
}

/// The number of entries of a data directory or bundle file recorded by the end of `day`,
/// at least one.
fn size_at_date(source: &str, day: Date) -> Result<u64> {
    let path = PathBuf::from(source);
    let size = if path.is_dir() {
        open_read_only(&path)?.size_at_date(day)?
    } else {
        let file = File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        count_recorded_by(BufReader::new(file), day)?
    };
    recorded_by(size, day)
}

/// `size`, the entries recorded by the end of `day`, when there is one.
fn recorded_by(size: u64, day: Date) -> Result<u64> {
    if size == 0 {
        bail!("nothing was recorded by the end of {day}");
    }
    Ok(size)
}

/// The entries of a bundle recorded by the end of `day` (they are in recording order). A
/// withheld line (SPEC §6.1) carries no date: it is counted when an entry after it was
/// recorded by then, and when it lies between the last entry of `day` and the next one (or
/// the end), the size cannot be told and the error says so.
fn count_recorded_by(input: impl std::io::BufRead, day: Date) -> Result<u64> {
    let mut reader = BundleReader::new(input).context("not a SPEC §6 bundle")?;
    let mut count = 0;
    let mut undated = Vec::new();
    while let Some(line) = reader
        .next_item()
        .context("a bundle line is not an entry")?
    {
        match line {
            BundleLine::Withheld { seq, .. } => undated.push(seq),
            BundleLine::Entry(entry) if entry.entry().recorded_at.date() <= day => {
                count += 1 + undated.len() as u64;
                undated.clear();
            }
            BundleLine::Entry(_) => break,
        }
    }
    if let (Some(first), Some(last)) = (undated.first(), undated.last()) {
        bail!(
            "entries {first} to {last} are withheld from this reader (SPEC §13.4), so whether \
             they were recorded by the end of {day} cannot be read here: replay with --as-of N, \
             or, from a server, with --key as a reader who may read them"
        );
    }
    Ok(count)
}

/// The states at `sizes` (`None`: the whole log) from `source`.
fn states_from(
    source: &str,
    sizes: &[Option<u64>],
    as_of_date: Option<Date>,
    at: Option<Date>,
    trust: &TrustArgs,
    key: Option<&std::path::Path>,
) -> Result<Vec<State>> {
    if hisaab_client::is_url(source) {
        return states_from_server(source, sizes, as_of_date, at, trust, key);
    }
    let pins = connect::parse_pins(trust.log_vkey.as_deref(), None, &[], None)?;
    let path = PathBuf::from(source);
    if path.is_dir() {
        // Read only, after a full check, with no private key (SPEC §8: only signing a
        // checkpoint needs one).
        let dir = open_read_only(&path)?;
        pins.check(&dir.report().log_vkey, None)?;
        return sizes
            .iter()
            .map(|size| {
                dir.state(*size, at)
                    .with_context(|| format!("no state at size {}", show(*size)))
            })
            .collect::<Result<Vec<_>>>();
    }
    if !path.is_file() {
        bail!("{source} is neither a server URL, a directory nor a file");
    }
    let open = || File::open(&path).with_context(|| format!("cannot open {}", path.display()));
    check_header_key(&path, &pins)?;
    // Two passes, in memory that does not grow with the log: the sizes that
    // `dispute.resolved` statements cite, then verification up to the largest size needed.
    let cited = hisaab_model::cited_sizes(BufReader::new(open()?))
        .with_context(|| format!("cannot read {}", path.display()))?;
    let file = open()?;
    let total = file.metadata().ok().map(|m| m.len());
    let input = BufReader::new(ProgressReader::new(file, "verifying", total));
    let replayed = replay_bundle(input, &cited, sizes, at).map_err(|e| match e {
        VerifyError::SizeOutOfRange { size, entries } => {
            anyhow!("no state at size {size} (the log has {entries})")
        }
        other => anyhow::Error::new(other).context(format!("{} does not verify", path.display())),
    })?;
    Ok(replayed.states)
}

/// Checks a bundle file's header key against the pins (a file's own key is trusted, and
/// shown, when none is pinned).
fn check_header_key(path: &Path, pins: &hisaab_client::Pins) -> Result<()> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let header = BundleReader::new(BufReader::new(file))
        .with_context(|| format!("{} has no SPEC §6 bundle header", path.display()))?
        .header()
        .clone();
    let vkey = hisaab_log::note::VerifierKey::try_parse(&header.log_key)
        .context("the bundle header's log_key is not a verifier key (SPEC §6)")?;
    pins.check(&vkey, None)?;
    Ok(())
}

/// `--sub-state-proof OPERATOR --openings FILE`: the operator's sub-state proof (SPEC §12.8)
/// in the full-state digest of the state at --as-of, from a bundle file verified with
/// openings of every sealed field. The proof goes to stdout as JSON, the digest to stderr.
fn print_sub_state_proof(args: &ReplayArgs, operator: &str, openings: &Path) -> Result<ExitCode> {
    let operator = Slug::try_new(operator)
        .map_err(|e| crate::exit::usage(format!("--sub-state-proof {operator:?}: {e}")))?;
    let path = PathBuf::from(&args.source);
    if !path.is_file() {
        return Err(crate::exit::usage(
            "--sub-state-proof reads a bundle file and its openings file, not a server or a \
             data directory",
        ));
    }
    let pins = connect::parse_pins(args.trust.log_vkey.as_deref(), None, &[], None)?;
    check_header_key(&path, &pins)?;
    let file =
        File::open(openings).with_context(|| format!("cannot open {}", openings.display()))?;
    let openings_file = OpeningsFile::read(BufReader::new(file)).with_context(|| {
        format!(
            "{} is not an openings file (SPEC §12.6)",
            openings.display()
        )
    })?;
    let as_of = args.as_of.unwrap_or(openings_file.header.size);
    let open = || File::open(&path).with_context(|| format!("cannot open {}", path.display()));
    let cited = hisaab_model::cited_sizes(BufReader::new(open()?))
        .with_context(|| format!("cannot read {}", path.display()))?;
    let (digest, proof) = hisaab_model::sub_state_proof(
        BufReader::new(open()?),
        &cited,
        &openings_file,
        as_of,
        &operator,
    )
    .with_context(|| format!("{} with {}", path.display(), openings.display()))?;
    eprintln!(
        "the sub-state proof of {operator} in the full-state digest {digest} of the state at \
         size {as_of} (SPEC §12.8)"
    );
    let bytes = hisaab_log::jcs::to_canonical(&proof)?;
    emit_json(&format!("{}\n", String::from_utf8_lossy(&bytes)))?;
    Ok(ExitCode::SUCCESS)
}

/// Downloads the bundle up to the largest size needed, as the reader may read it, verifies
/// it, checks that it is consistent with the latest checkpoint under the pinned key, and
/// replays it over the openings the reader may have: the public replays the public state
/// from the sealed entries (SPEC §12.8), a member its own view. Only a partial bundle (an
/// entry withheld from this reader before a size asked for, SPEC §6.2) cannot be replayed
/// that far: the reader then gets the server's state as its role may see it, and is told so.
fn states_from_server(
    url: &str,
    sizes: &[Option<u64>],
    as_of_date: Option<Date>,
    at: Option<Date>,
    trust: &TrustArgs,
    key: Option<&std::path::Path>,
) -> Result<Vec<State>> {
    let mut session = connect::open(url, trust)?;
    let reader = connect::read_as(&mut session.client, key)?;
    let latest = session.latest_checkpoint()?.checkpoint;
    let needed = sizes
        .iter()
        .map(|s| s.unwrap_or(latest.size))
        .max()
        .unwrap_or(latest.size);
    if needed > latest.size {
        bail!("size {needed} is beyond the log of size {}", latest.size);
    }
    // Downloaded to a temporary file and read from it as a bundle file is: memory does not
    // grow with the log.
    let response = session.client.bundle(needed)?;
    let total = response.content_length();
    let mut file = util::spooled(ProgressReader::new(response, "downloading", total))?;
    // By date: the size is counted in this bundle (the latest's), which the replay verifies.
    let sizes: Vec<Option<u64>> = match as_of_date {
        Some(day) => {
            let counted = count_recorded_by(util::from_start(&mut file)?, day)?;
            vec![Some(recorded_by(counted, day)?)]
        }
        None => sizes.iter().map(|s| Some(s.unwrap_or(needed))).collect(),
    };
    let cited = hisaab_model::cited_sizes(util::from_start(&mut file)?)?;
    // Replayed over the openings this reader may have (SPEC §12.6), so that a full reader's
    // replay is the full state; the openings file, as long as the bundle, is read a line at
    // a time beside it.
    let replayed = match session.openings_response(needed)? {
        Some(response) => {
            let mut openings = util::spooled(response)?;
            hisaab_model::replay_bundle_opened_streaming(
                util::from_start(&mut file)?,
                &cited,
                &sizes,
                at,
                util::from_start(&mut openings)?,
            )
        }
        None => replay_bundle(util::from_start(&mut file)?, &cited, &sizes, at),
    };
    // The bundle must be the pinned ledger's, consistent with the latest checkpoint.
    let check = |ledger_id: Hash, checkpoint: &hisaab_log::note::Checkpoint| -> Result<()> {
        if ledger_id != session.log.ledger {
            bail!(
                "the bundle is of ledger {ledger_id}, not the pinned {}",
                session.log.ledger
            );
        }
        hisaab_client::check_consistent(&session.client, checkpoint, &latest)
            .context("the bundle is not consistent with the server's latest checkpoint")?;
        Ok(())
    };
    let replayed = match replayed {
        Err(VerifyError::Partial { first_withheld, .. }) => {
            // A full reader is served every entry (SPEC §13.4): a bundle that withholds one
            // from it is not to be taken, nor a state in its place.
            if reader == Reader::Full {
                bail!(
                    "the server withheld entry {first_withheld} from this reader, who may read \
                     every entry (SPEC §13.4): its bundle is not the whole log"
                );
            }
            // The bundle verified to its end (§6.2: a partial one is refused otherwise); only
            // its replay stops at the first withheld entry. It is checked as any bundle, then
            // the server's state for this reader is shown, checked against its own digest only.
            let summary =
                hisaab_log::bundle::verify_bundle_structure(util::from_start(&mut file)?, |_| {
                    Ok::<(), std::convert::Infallible>(())
                })
                .context("the server's bundle does not verify")?;
            check(summary.ledger_id, &summary.checkpoint)?;
            eprintln!(
                "note: entry {first_withheld} is withheld from this reader (SPEC §13.4), so its \
                 bundle replays up to size {first_withheld} only; the state shown is the \
                 server's, as this reader may see it, not replayed here"
            );
            return sizes
                .iter()
                .map(|size| session.client.state(*size, at).map_err(anyhow::Error::from))
                .collect();
        }
        other => other.context("the server's bundle does not verify")?,
    };
    let bundle_checkpoint = hisaab_log::note::Checkpoint {
        origin: replayed.origin.clone(),
        size: replayed.size,
        root: replayed.root,
    };
    check(replayed.ledger_id, &bundle_checkpoint)?;
    Ok(replayed.states)
}

fn show(size: Option<u64>) -> String {
    size.map_or_else(|| "latest".to_owned(), |s| s.to_string())
}

/// An optional value as a table cell: `-` when absent.
fn cell<T: fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// A hash shortened for a table.
fn short_hash(hash: Option<&Hash>) -> String {
    hash.map_or_else(
        || "-".to_owned(),
        |h| format!("{}…", h.to_hex().get(..12).unwrap_or("")),
    )
}

/// Renders a state (SPEC §5) as readable tables.
pub(crate) fn render_state(state: &State) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "ledger {}  size {}  at {}\ndigest {}\n",
        state.ledger, state.size, state.at, state.digest
    );
    let _ = writeln!(out, "Sector scores");
    let pillars: Vec<&str> = Pillar::ALL.iter().map(|p| p.as_str()).collect();
    let sector: Vec<String> = Pillar::ALL
        .iter()
        .map(|p| cell(state.sector.get(*p)))
        .collect();
    table(&mut out, &pillars, &[sector]);

    let _ = writeln!(out, "\nOperators");
    let mut rows = Vec::new();
    for (id, op) in &state.operators {
        let mut row = vec![id.to_string(), op.name.to_string(), cell(op.score)];
        row.extend(Pillar::ALL.iter().map(|p| cell(op.pillar_scores.get(*p))));
        let c = &op.commitments;
        row.push(format!(
            "{}/{}/{}/{}/{}",
            c.open, c.overdue, c.fulfilled, c.missed, c.withdrawn
        ));
        let d = &op.disputes;
        row.push(format!("{}/{}/{}", d.open, d.upheld, d.overturned));
        rows.push(row);
    }
    table(
        &mut out,
        &[
            "OPERATOR",
            "NAME",
            "SCORE",
            "LEGAL",
            "RESIL",
            "MONIT",
            "CAPAC",
            "COOPR",
            "AWARE",
            "COMMITMENTS o/od/f/m/w",
            "DISPUTES o/u/x",
        ],
        &rows,
    );

    let _ = writeln!(out, "\nKPIs");
    let mut rows = Vec::new();
    for (id, op) in &state.operators {
        for (kpi, k) in &op.kpis {
            rows.push(vec![
                id.to_string(),
                kpi.to_string(),
                k.pillar.to_string(),
                k.target.to_string(),
                k.due.to_string(),
                cell(k.period.as_ref()),
                cell(k.value.as_ref()),
                cell(k.verdict),
                cell(k.score),
                k.status.to_string(),
                short_hash(k.latest_submission.as_ref()),
            ]);
        }
    }
    table(
        &mut out,
        &[
            "OPERATOR",
            "KPI",
            "PILLAR",
            "TARGET",
            "DUE",
            "PERIOD",
            "VALUE",
            "VERDICT",
            "SCORE",
            "STATUS",
            "SUBMISSION",
        ],
        &rows,
    );

    let _ = writeln!(out, "\nMembers");
    let rows: Vec<Vec<String>> = state
        .members
        .iter()
        .map(|(id, m)| {
            let roles: Vec<&str> = m.roles.iter().map(|r| r.as_str()).collect();
            vec![
                id.to_string(),
                roles.join(","),
                cell(m.operator.as_ref()),
                m.status.to_string(),
                m.key.to_string(),
            ]
        })
        .collect();
    table(
        &mut out,
        &["MEMBER", "ROLES", "OPERATOR", "STATUS", "KEY"],
        &rows,
    );
    out
}

#[cfg(test)]
mod tests {
    use crate::util::escape_for_terminal;

    #[test]
    fn escapes_what_could_drive_a_terminal_and_keeps_the_rest() {
        assert_eq!(
            escape_for_terminal("a\u{1b}[2Jb\u{0}\u{202e}c\u{9b}"),
            "a\\u{001B}[2Jb\\u{0000}\\u{202E}c\\u{009B}"
        );
        assert_eq!(escape_for_terminal("Zoë\tok\nnext ☎"), "Zoë\tok\nnext ☎");
    }
}
