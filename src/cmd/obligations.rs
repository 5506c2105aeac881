//! `hisaab obligations`: who owes what by when (SPEC §11.4), as a server projects it, for a
//! chair before a meeting or a ciso before a deadline. The clock is today unless `--at` says.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use hisaab_client::api::{ObligationKind, Obligations, OwedBy};
use hisaab_log::Date;
use hisaab_model::Slug;

use crate::args::ObligationsArgs;
use crate::connect;
use crate::util;

/// Runs `hisaab obligations`.
pub(crate) fn run(args: &ObligationsArgs) -> Result<ExitCode> {
    let date = |flag: &str, text: &Option<String>| {
        text.as_deref()
            .map(Date::try_parse)
            .transpose()
            .with_context(|| format!("{flag} must be a date YYYY-MM-DD"))
    };
    let at = match date("--at", &args.at)? {
        Some(at) => at,
        None => util::now_timestamp()?.date(),
    };
    let as_of_date = date("--as-of-date", &args.as_of_date)?;
    let slug = |flag: &str, text: &Option<String>| {
        text.as_deref()
            .map(Slug::try_new)
            .transpose()
            .with_context(|| format!("{flag} must be an id such as `indus`"))
    };
    let operator = slug("--operator", &args.operator)?;
    let member = slug("--member", &args.member)?;
    let session = connect::open_server(&args.server)?;
    let obligations =
        session
            .client
            .obligations(operator.as_ref(), member.as_ref(), Some(at), as_of_date)?;
    if obligations.ledger != session.log.ledger {
        anyhow::bail!(
            "the server answered for ledger {}, not the pinned {}",
            obligations.ledger,
            session.log.ledger
        );
    }
    if args.json {
        util::emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&obligations)?
        ))?;
    } else {
        util::emit(&util::escape_for_terminal(&render(&obligations)))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The obligations as a table, most late first, with a count per kind.
fn render(obligations: &Obligations) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "obligations of ledger {} at size {} on {}",
        obligations.ledger, obligations.size, obligations.at
    );
    let kinds = [
        ObligationKind::Report,
        ObligationKind::Evaluation,
        ObligationKind::Commitment,
        ObligationKind::Dispute,
        ObligationKind::Challenge,
    ];
    let counts: Vec<String> = kinds
        .iter()
        .map(|kind| {
            let all = obligations.items.iter().filter(|i| i.kind == *kind);
            let late = all.clone().filter(|i| i.days_late > 0).count();
            format!("{} {} ({late} late)", all.count(), kind.as_str())
        })
        .collect();
    let _ = writeln!(out, "{}\n", counts.join(", "));
    if obligations.items.is_empty() {
        let _ = writeln!(out, "  nothing is owed");
        return out;
    }
    let header = [
        "KIND",
        "OWED BY",
        "OPERATOR",
        "KPI",
        "WHAT",
        "DUE",
        "DAYS LATE",
    ];
    let rows: Vec<Vec<String>> = obligations
        .items
        .iter()
        .map(|item| {
            let owed_by = match &item.owed_by {
                OwedBy::Operator { operator } => format!("operator {operator}"),
                OwedBy::Roles { roles } => roles
                    .iter()
                    .map(|role| role.as_str())
                    .collect::<Vec<_>>()
                    .join("|"),
                OwedBy::Member { member } => format!("member {member}"),
            };
            let what = match (item.period, &item.id, &item.submission) {
                (Some(period), _, Some(submission)) => {
                    let hex = submission.to_hex();
                    format!("{period} {}…", hex.get(..12).unwrap_or(""))
                }
                (Some(period), _, None) => period.to_string(),
                (None, Some(id), _) => match &item.escalation {
                    Some(escalation) => format!("{id} (escalated: {escalation})"),
                    None => id.to_string(),
                },
                _ => "-".to_owned(),
            };
            vec![
                item.kind.as_str().to_owned(),
                owed_by,
                item.operator
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), ToString::to_string),
                item.kpi
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), ToString::to_string),
                what,
                item.due.to_string(),
                if item.days_late == 0 {
                    "-".to_owned()
                } else {
                    item.days_late.to_string()
                },
            ]
        })
        .collect();
    util::table(&mut out, &header, &rows);
    out
}
