//! `hisaab history`: every entry about an operator and a KPI, as the reader may see them; and
//! `hisaab login`: a read session opened by signing the server's challenge (SPEC §13).

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use hisaab_client::Listed;
use hisaab_model::{KpiId, Slug};

use crate::args::{HistoryArgs, LoginArgs};
use crate::connect;

/// The most entries asked for per page.
const PAGE: u64 = 1000;

/// Runs `hisaab history`.
pub(crate) fn run(args: &HistoryArgs) -> Result<ExitCode> {
    let operator = Slug::try_new(&args.operator)
        .map_err(|e| crate::exit::usage(format!("--operator {:?}: {e}", args.operator)))?;
    let kpi = KpiId::try_new(&args.kpi)
        .map_err(|e| crate::exit::usage(format!("--kpi {:?}: {e}", args.kpi)))?;
    let mut session = connect::open_server(&args.server)?;
    connect::read_as(&mut session.client, args.reader.key.as_deref())?;
    let mut start = 0;
    let mut withheld = 0_usize;
    loop {
        let page = session.client.history(&operator, &kpi, start, PAGE)?;
        let Some(last) = page.last().map(Listed::seq) else {
            break;
        };
        for listed in &page {
            match listed {
                Listed::Entry(entry) => {
                    if args.json {
                        println!("{}", String::from_utf8_lossy(entry.leaf_bytes()));
                    } else {
                        let e = entry.entry();
                        println!(
                            "{:>6}  {}  {:<20} {}",
                            e.seq,
                            e.recorded_at,
                            e.statement.kind,
                            crate::util::escape_for_terminal(
                                &serde_json::to_string(&e.statement.body)
                                    .context("an entry's body")?
                            )
                        );
                    }
                }
                Listed::Withheld(w) => {
                    withheld += 1;
                    if args.json {
                        println!("{}", serde_json::json!({"withheld": w}));
                    } else {
                        println!(
                            "{:>6}  {:<45} {} (withheld; leaf hash {})",
                            w.seq, "", w.kind, w.leaf_hash
                        );
                    }
                }
            }
        }
        start = last + 1;
    }
    if withheld > 0 {
        eprintln!(
            "note: {withheld} entries are withheld from this reader; their leaf hashes stay \
             provable (`hisaab proof inclusion --index SEQ`)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `hisaab login`.
pub(crate) fn login(args: &LoginArgs) -> Result<ExitCode> {
    let session = connect::open_server(&args.server)?;
    let key = crate::keyfile::read(&args.key)?;
    let member = connect::member_of_key(&session.client, &crate::keyfile::public(&key))?;
    let granted = session.client.open_session(&member, &key)?;
    eprintln!(
        "session for member {} (reads as {}) until {}; send it as `Authorization: Bearer \
         <token>` or the hisaab_session cookie",
        granted.member, granted.reader, granted.expires_at
    );
    println!("{}", granted.token);
    Ok(ExitCode::SUCCESS)
}
