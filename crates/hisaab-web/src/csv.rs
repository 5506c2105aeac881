//! The meeting pack's tables as CSV (RFC 4180), each opened by two `#` lines stamping the
//! checkpoint (origin, size, root) and the state digest it was computed from.

use hisaab_model::Pillar;
use hisaab_store::Store;

use hisaab_model::cycle::ActionOwner;

use crate::view::{body_at, meetings_newest_first, tasks_overdue_first, Task};
use crate::{View, WebError};

/// A table of the pack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Table {
    /// Operators × pillars.
    Scores,
    /// Every operator's KPIs.
    Kpis,
    /// Every commitment.
    Commitments,
    /// Every dispute.
    Disputes,
    /// Every challenge.
    Challenges,
    /// Every meeting of the cycle: dates, attendance, quorum.
    Meetings,
    /// Every action item, overdue first.
    Actions,
    /// Every directive, overdue first.
    Directives,
}

impl Table {
    /// Every table, in the pack's order.
    pub(crate) const ALL: [Table; 8] = [
        Table::Scores,
        Table::Kpis,
        Table::Commitments,
        Table::Disputes,
        Table::Challenges,
        Table::Meetings,
        Table::Actions,
        Table::Directives,
    ];

    pub(crate) fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Table::Scores => "scores",
            Table::Kpis => "kpis",
            Table::Commitments => "commitments",
            Table::Disputes => "disputes",
            Table::Challenges => "challenges",
            Table::Meetings => "meetings",
            Table::Actions => "actions",
            Table::Directives => "directives",
        }
    }
}

/// One field, quoted when it must be.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn row(out: &mut String, fields: &[String]) {
    let line: Vec<String> = fields.iter().map(|f| field(f)).collect();
    out.push_str(&line.join(","));
    out.push_str("\r\n");
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// The table as CSV.
pub(crate) fn render(store: &Store, view: &View, table: Table) -> Result<String, WebError> {
    let mut out = format!(
        "# checkpoint origin={} size={} root={}\r\n# state digest={} at={}\r\n",
        view.origin,
        view.size,
        view.root.to_hex(),
        view.state.digest.to_hex(),
        view.state.at
    );
    match table {
        Table::Scores => {
            let mut header = vec!["operator".to_owned(), "name".to_owned()];
            header.extend(Pillar::ALL.iter().map(|p| p.as_str().to_owned()));
            header.push("overall".to_owned());
            row(&mut out, &header);
            for (id, o) in &view.state.operators {
                let mut fields = vec![id.to_string(), o.name.to_string()];
                fields.extend(Pillar::ALL.iter().map(|p| opt(o.pillar_scores.get(*p))));
                fields.push(opt(o.score));
                row(&mut out, &fields);
            }
            let mut sector = vec!["sector".to_owned(), String::new()];
            sector.extend(Pillar::ALL.iter().map(|p| opt(view.state.sector.get(*p))));
            sector.push(String::new());
            row(&mut out, &sector);
        }
        Table::Kpis => {
            row(
                &mut out,
                &[
                    "operator",
                    "kpi",
                    "title",
                    "pillar",
                    "unit",
                    "direction",
                    "target",
                    "due",
                    "period",
                    "value",
                    "verdict",
                    "score",
                    "status",
                ]
                .map(str::to_owned),
            );
            for (id, o) in &view.state.operators {
                for (kpi, k) in &o.kpis {
                    let definition = view.kpis.get(kpi.as_str());
                    row(
                        &mut out,
                        &[
                            id.to_string(),
                            kpi.to_string(),
                            view.kpi_title(kpi.as_str()).to_owned(),
                            k.pillar.as_str().to_owned(),
                            opt(definition.map(|d| d.unit.to_string())),
                            opt(definition.map(|d| d.direction.as_str())),
                            k.target.to_string(),
                            k.due.to_string(),
                            opt(k.period),
                            opt(k.value.as_ref()),
                            opt(k.verdict.map(|v| v.as_str())),
                            opt(k.score),
                            k.status.as_str().to_owned(),
                        ],
                    );
                }
            }
        }
        Table::Commitments => {
            row(
                &mut out,
                &[
                    "commitment",
                    "operator",
                    "kpi",
                    "action",
                    "due",
                    "status",
                    "days_overdue",
                    "seq",
                ]
                .map(str::to_owned),
            );
            for c in &view.register.commitments {
                let action = if !view.may_read(c.seq) {
                    crate::view::WITHHELD_TEXT.to_owned()
                } else {
                    match body_at(store, c.seq)? {
                        Some(hisaab_model::Body::CommitmentMade(b)) => {
                            hisaab_model::sealed::or_sealed(b.action.as_ref())
                        }
                        _ => String::new(),
                    }
                };
                row(
                    &mut out,
                    &[
                        c.commitment.to_string(),
                        c.operator.to_string(),
                        opt(c.kpi.as_ref()),
                        action,
                        c.due.to_string(),
                        c.status.as_str().to_owned(),
                        opt(c.days_overdue),
                        c.seq.to_string(),
                    ],
                );
            }
        }
        Table::Disputes => {
            row(
                &mut out,
                &[
                    "dispute",
                    "operator",
                    "kpi",
                    "evaluation",
                    "status",
                    "seq",
                    "resolved_seq",
                ]
                .map(str::to_owned),
            );
            for d in &view.register.disputes {
                row(
                    &mut out,
                    &[
                        d.dispute.to_string(),
                        d.operator.to_string(),
                        d.kpi.to_string(),
                        d.evaluation.to_hex(),
                        view.dispute_status(d).as_str().to_owned(),
                        d.seq.to_string(),
                        opt(d.resolved_seq),
                    ],
                );
            }
        }
        Table::Challenges => {
            row(
                &mut out,
                &[
                    "challenge",
                    "operator",
                    "kpi",
                    "owner_kind",
                    "owner",
                    "severity",
                    "raised",
                    "due",
                    "status",
                    "seq",
                    "resolved_seq",
                ]
                .map(str::to_owned),
            );
            for c in &view.register.challenges {
                // Format 2 keeps who answers for it, how grave it is and by when (and says
                // when it is overdue); format 1 knows only whether it is resolved.
                let cycle = view
                    .state
                    .cycle
                    .as_ref()
                    .and_then(|cycle| cycle.challenges.get(&c.challenge));
                let (owner_kind, owner) = match cycle.and_then(|x| x.owner.as_ref()) {
                    Some(ActionOwner::Member(m)) => ("member", m.to_string()),
                    Some(ActionOwner::Operator(o)) => ("operator", o.to_string()),
                    None => ("", String::new()),
                };
                let status = cycle.map_or(if c.is_open() { "open" } else { "resolved" }, |x| {
                    x.status.as_str()
                });
                row(
                    &mut out,
                    &[
                        c.challenge.to_string(),
                        opt(c.operator.as_ref()),
                        opt(c.kpi.as_ref()),
                        owner_kind.to_owned(),
                        owner,
                        opt(cycle.and_then(|x| x.severity.map(|s| s.as_str()))),
                        opt(cycle.map(|x| x.raised)),
                        opt(cycle.and_then(|x| x.due)),
                        status.to_owned(),
                        c.seq.to_string(),
                        opt(c.resolved_seq),
                    ],
                );
            }
        }
        Table::Meetings => {
            row(
                &mut out,
                &[
                    "meeting",
                    "scheduled_for",
                    "held_on",
                    "attended",
                    "absent",
                    "attested",
                    "operators",
                    "represented",
                    "quorum_percent",
                    "quorate",
                ]
                .map(str::to_owned),
            );
            if let Some(cycle) = &view.state.cycle {
                for (id, m) in meetings_newest_first(cycle) {
                    row(
                        &mut out,
                        &[
                            id.to_string(),
                            opt(m.scheduled_for),
                            opt(m.held_on),
                            m.attendees.len().to_string(),
                            m.absent.len().to_string(),
                            m.attested.len().to_string(),
                            m.operators.to_string(),
                            m.represented.to_string(),
                            cycle.quorum_percent.to_string(),
                            opt(m.quorate),
                        ],
                    );
                }
            }
        }
        Table::Actions | Table::Directives => {
            let (header, want): (&[&str], fn(&Task<'_>) -> bool) = if table == Table::Actions {
                (
                    &[
                        "action",
                        "meeting",
                        "owner_kind",
                        "owner",
                        "operator",
                        "due",
                        "status",
                        "escalation",
                    ],
                    |t| matches!(t, Task::Action(..)),
                )
            } else {
                (
                    &[
                        "directive",
                        "operator",
                        "issued",
                        "due",
                        "status",
                        "escalation",
                    ],
                    |t| matches!(t, Task::Directive(..)),
                )
            };
            let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
            row(&mut out, &header);
            if let Some(cycle) = &view.state.cycle {
                for task in tasks_overdue_first(cycle, &view.register, None) {
                    if !want(&task) {
                        continue;
                    }
                    let fields = match task {
                        Task::Action(id, a) => {
                            let (kind, owner) = match &a.owner {
                                ActionOwner::Member(m) => ("member", m),
                                ActionOwner::Operator(o) => ("operator", o),
                            };
                            vec![
                                id.to_string(),
                                a.meeting.to_string(),
                                kind.to_owned(),
                                owner.to_string(),
                                opt(task.operator(&view.register)),
                                a.due.to_string(),
                                a.status.as_str().to_owned(),
                                opt(a.escalation.as_ref()),
                            ]
                        }
                        Task::Directive(id, d) => vec![
                            id.to_string(),
                            d.operator.to_string(),
                            d.issued.to_string(),
                            d.due.to_string(),
                            d.status.as_str().to_owned(),
                            opt(d.escalation.as_ref()),
                        ],
                    };
                    row(&mut out, &fields);
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{field, Table};

    #[test]
    fn every_table_is_found_by_its_name() {
        for table in Table::ALL {
            assert_eq!(Table::from_name(table.name()), Some(table));
        }
        assert_eq!(Table::from_name("minutes"), None);
    }

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
    }
}
