//! The pages, as maud templates over a [`View`]: layout only. What a page shows is read off
//! the state, the model's registers and trends, and the entries; nothing is decided here.

use axum::http::StatusCode;
use hisaab_log::SealedEntry;
use hisaab_model::cycle::{
    ActionOwner, ActionState, AgendaItem, ChallengeState, CycleState, DirectiveState,
    EscalatedItem, MeetingState, TaskStatus,
};
use hisaab_model::report::{
    Band, ChallengeItem, CommitmentItem, CommitmentStatus, DisputeItem, MonthPoint, TrendPoint,
};
use hisaab_model::sealed::or_sealed;
use hisaab_model::{Body, ChallengeStatus, KpiState, Pillar, Slug};
use hisaab_store::Store;
use maud::{html, Markup, DOCTYPE};

use crate::view::{
    body_at, body_of, encode, meetings_newest_first, next_meeting, tasks_overdue_first, Task,
    WITHHELD_TEXT,
};
use crate::{assets, Reader, View, WebError};

/// The `status` filters of the commitments page.
pub const COMMITMENT_FILTERS: [&str; 3] = ["pending", "overdue", "closed"];

/// How many entries the explorer shows per page.
pub const ENTRIES_PER_PAGE: u64 = 50;

/// The sections of the navigation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Nav {
    Overview,
    Commitments,
    Meetings,
    Directives,
    Disputes,
    Pack,
    Ledger,
    Verify,
    None,
}

const NAV: [(Nav, &str, &str); 8] = [
    (Nav::Overview, "/", "Overview"),
    (Nav::Commitments, "/app/commitments", "Who owes what"),
    (Nav::Meetings, "/app/meetings", "Meetings"),
    (Nav::Directives, "/app/directives", "Directives and actions"),
    (Nav::Disputes, "/app/disputes", "Disputes and challenges"),
    (Nav::Pack, "/app/pack", "Meeting pack"),
    (Nav::Ledger, "/app/ledger", "Ledger"),
    (Nav::Verify, "/app/verify", "Verify"),
];

/// `path` with the view's `as_of` and `as_of_date`, so links stay at the point being viewed.
fn at(view: &View, path: &str) -> String {
    let query = view.as_of_query();
    match query.strip_prefix('?') {
        None => path.to_owned(),
        Some(pairs) if path.contains('?') => format!("{path}&{pairs}"),
        Some(_) => format!("{path}{query}"),
    }
}

/// Hidden inputs carrying the page's other parameters (filters), for the forms that change
/// only the size or the date.
fn kept_params(view: &View) -> Markup {
    html! {
        @for (name, value) in &view.here.params {
            input type="hidden" name=(name) value=(value);
        }
    }
}

/// Who reads the page, and the "Sign in" link or the "Sign out" button.
fn reader_box(reader: &Reader) -> Markup {
    html! {
        div.reader #reader {
            @if let Some(member) = &reader.member {
                span #signed-in {
                    "Signed in as " strong #signed-in-member { (member.member) }
                    " (" span #signed-in-roles { (member.roles_text()) } "). "
                    span #reader-class { (reader.label()) } "."
                }
                @if member.session {
                    " "
                    form.signout method="post" action="/app/signout" {
                        button #sign-out type="submit" aria-label=(format!("Sign out {}", member.member)) { "Sign out" }
                    }
                }
            } @else {
                span #reader-class { (reader.label()) } " "
                a #sign-in href="/app/signin" { "Sign in" }
            }
        }
    }
}

/// The header's date control: view the ledger as recorded on a day.
fn date_picker(view: &View) -> Markup {
    html! {
        form.asof.no-print method="get" action=(view.here.path) role="search" aria-label="View the ledger as recorded on a date" {
            (kept_params(view))
            label for="as-of-date" { "As recorded on" }
            @let (min, max) = view.dates.map_or((String::new(), String::new()), |(first, last)| (first.to_string(), last.to_string()));
            input #as-of-date type="date" name="as_of_date" required
                value=(view.as_of_date.map(|d| d.to_string()).unwrap_or_default())
                min=(min) max=(max);
            button type="submit" { "Show" }
        }
    }
}

fn layout(view: Option<&View>, reader: &Reader, title: &str, nav: Nav, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Hisaab" }
                link rel="icon" href="data:,";
                link rel="stylesheet" href=(assets::css_path());
                script defer src=(assets::js_path()) {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href=(view.map_or_else(|| "/".to_owned(), |v| at(v, "/"))) { "Hisaab" }
                    nav aria-label="Main" {
                        ul {
                            @for (section, path, label) in NAV {
                                @let href = view.map_or_else(|| path.to_owned(), |v| at(v, path));
                                li {
                                    @if section == nav {
                                        a href=(href) aria-current="page" { (label) }
                                    } @else {
                                        a href=(href) { (label) }
                                    }
                                }
                            }
                        }
                    }
                    @if let Some(view) = view { (date_picker(view)) }
                    (reader_box(reader))
                }
                main #main {
                    @if let Some(why) = &reader.ended {
                        p.notice #session-ended role="status" {
                            "Your session has ended (" (why) "). You see the public view. "
                            a href="/app/signin" { "Sign in again" }
                        }
                    }
                    @if let Some(view) = view {
                        @if let Some(date) = view.as_of_date {
                            p.notice #as-of-banner role="status" {
                                "As recorded on " strong { (date) } " (size " (view.size) ")"
                                ": the ledger's first " (view.size) " entries, with " (date)
                                " as the clock for what is overdue. The log now holds "
                                (view.latest_size) " entries. "
                                a #see-present href=(view.present_href()) { "See the present" }
                            }
                        } @else if !view.is_latest() {
                            p.notice #as-of-banner role="status" {
                                "As of tree size " strong { (view.size) } ": the ledger's first "
                                (view.size) " entries (the log now holds " (view.latest_size)
                                " entries). "
                                a #see-present href=(view.present_href()) { "See the present" }
                            }
                        }
                    }
                    (main)
                }
                @if let Some(view) = view {
                    (provenance(view))
                }
            }
        }
    }
}

/// The footer of every page: the checkpoint and state digest it was computed from, the check
/// in the browser, and the form to view it as of an earlier size.
fn provenance(view: &View) -> Markup {
    html! {
        footer.provenance aria-label="Provenance" {
            div {
                h2 { "Computed from" }
                dl.fields {
                    dt { "Log (origin)" } dd { code { (view.origin) } }
                    dt { "Tree size" } dd { span #prov-size { (view.size) } }
                    dt { "Root" } dd { code #prov-root { (view.root.to_hex()) } }
                    dt { "State digest" } dd { code #prov-digest { (view.state.digest.to_hex()) } }
                    dt { "State date" } dd { (view.state.at) }
                    dt { "Log key" } dd { code { (view.vkey) } }
                }
                p {
                    output #checkpoint-check .check
                        data-note=(view.signed_note())
                        data-vkey=(view.vkey)
                        data-size=(view.size)
                        data-root=(hisaab_log::key::encode_base64(view.root.as_bytes())) {
                        "Not checked in your browser (it needs JavaScript). Check it with "
                        code { "hisaab verify" } "."
                    }
                }
                @if view.reader == hisaab_model::view::Reader::Full {
                    p {
                        "Re-check these numbers yourself: "
                        code { "hisaab replay ledger.jsonl --as-of " (view.size) " --json" }
                        " gives the same state digest ("
                        a href=(format!("/v1/bundle?tree_size={}", view.size)) { "bundle at this size" }
                        ")."
                    }
                } @else {
                    p {
                        "This is the digest of the view you may read (SPEC §13.3): "
                        code { "hisaab replay --server URL --as-of " (view.size) " --json" }
                        " reads the same view, with your " code { "--key" } " if you signed in."
                    }
                }
                form.inline.no-print method="get" action=(view.here.path) {
                    (kept_params(view))
                    label {
                        "View as of tree size"
                        input type="number" name="as_of" min="1" max=(view.latest_size)
                            value=(view.size) inputmode="numeric";
                    }
                    button type="submit" { "Show" }
                }
                details {
                    summary { "The signed checkpoint" }
                    pre.note { (view.signed_note()) }
                }
            }
        }
    }
}

/// An error page, with no view.
pub fn error(status: StatusCode, message: &str) -> Markup {
    let title = status.canonical_reason().unwrap_or("Error");
    layout(
        None,
        &Reader::PUBLIC,
        title,
        Nav::None,
        html! {
            h1 { (status.as_u16()) " " (title) }
            p #error-message { (message) }
            p { a href="/" { "Back to the overview" } }
        },
    )
}

fn band_cell(score: Option<u8>) -> Markup {
    band_cell_labelled(score, "Score")
}

fn band_cell_labelled(score: Option<u8>, label: &str) -> Markup {
    let band = Band::of(score);
    html! {
        td class={ "num band band-" (band.as_str()) } data-label=(label) {
            @match score {
                Some(s) => { (s) }
                None => { "–" }
            }
            small { (band.meaning()) }
        }
    }
}

fn legend() -> Markup {
    html! {
        ul.legend aria-label="Legend" {
            li.band-green { "80–100: on track" }
            li.band-amber { "50–79: needs attention" }
            li.band-red { "0–49: off track" }
            li.band-none { "–: no score yet" }
        }
    }
}

/// The date `operator` left the task force (SPEC §11.12), if it did.
fn left_on(view: &View, operator: &Slug) -> Option<hisaab_log::Date> {
    view.state.cycle.as_ref()?.left.get(operator).map(|l| l.on)
}

/// A link to the entry that made a commitment, directive or action item, by its id (the id
/// alone when the ledger at this size has no such item).
fn item_link(view: &View, item: &EscalatedItem) -> Markup {
    let id = match item {
        EscalatedItem::Commitment(id)
        | EscalatedItem::Directive(id)
        | EscalatedItem::Action(id) => id,
    };
    match view.ledger.item_seq(item) {
        Some(seq) => html! { a href=(at(view, &format!("/app/entries/{seq}"))) { code { (id) } } },
        None => html! { code { (id) } },
    }
}

fn heatmap(view: &View) -> Markup {
    html! {
        div.table-wrap {
            table #heatmap {
                caption { "Score per operator and pillar (0–100), with its band in words" }
                thead {
                    tr {
                        th scope="col" { "Operator" }
                        @for pillar in Pillar::ALL {
                            th scope="col" { (pillar.title()) }
                        }
                        th scope="col" { "Overall" }
                    }
                }
                tbody {
                    @for (id, operator) in &view.state.operators {
                        tr {
                            th scope="row" {
                                a href=(at(view, &format!("/app/operators/{id}"))) { (operator.name) }
                                @if let Some(left) = left_on(view, id) {
                                    " " small.left { "(left " (left) ")" }
                                }
                            }
                            @for pillar in Pillar::ALL {
                                (band_cell(operator.pillar_scores.get(*pillar)))
                            }
                            (band_cell(operator.score))
                        }
                    }
                    tr {
                        th scope="row" { "Sector" }
                        @for pillar in Pillar::ALL {
                            (band_cell(view.state.sector.get(*pillar)))
                        }
                        td {}
                    }
                }
            }
        }
        (legend())
        @if view.state.cycle.as_ref().is_some_and(|c| !c.left.is_empty()) {
            p.legend-note #left-legend { "(left D): the operator left the task force on D; its members sign nothing more and its scores stay as they were." }
        }
    }
}

/// Dash patterns and markers per pillar, so the lines differ without colour.
const STYLES: [(&str, &str); 6] = [
    ("#0550ae", ""),
    ("#1a7f37", "6 3"),
    ("#a40e26", "2 3"),
    ("#7d4e00", "8 3 2 3"),
    ("#6639ba", "12 4"),
    ("#57606a", "1 2"),
];

fn sector_chart(series: &[MonthPoint]) -> Markup {
    let (w, h, left, right, top, bottom) = (720.0_f64, 300.0_f64, 40.0, 200.0, 12.0, 30.0);
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let n = series.len();
    let x = |i: usize| -> f64 {
        if n <= 1 {
            left + plot_w / 2.0
        } else {
            left + plot_w * (i as f64) / ((n - 1) as f64)
        }
    };
    let y = |score: u8| -> f64 { top + plot_h * (1.0 - f64::from(score) / 100.0) };
    html! {
        figure {
            svg.chart role="img" aria-labelledby="chart-title" viewBox=(format!("0 0 {w} {h}"))
                width=(w) height=(h) xmlns="http://www.w3.org/2000/svg" {
                title #chart-title { "Sector score per pillar at each month's end" }
                @for tick in [0u8, 25, 50, 75, 100] {
                    line x1=(left) x2=(left + plot_w) y1=(y(tick)) y2=(y(tick)) stroke="#d0d7de" {}
                    text x=(left - 6.0) y=(y(tick) + 4.0) text-anchor="end" { (tick) }
                }
                @for (i, point) in series.iter().enumerate() {
                    // At most about eight month labels, the last always.
                    @if i % n.div_ceil(8).max(1) == 0 || i + 1 == n {
                        text x=(x(i)) y=(h - 10.0) text-anchor="middle" { (point.month) }
                    }
                }
                @for (p, pillar) in Pillar::ALL.iter().enumerate() {
                    @let (colour, dash) = STYLES.get(p).copied().unwrap_or(("#000", ""));
                    @let points: Vec<String> = series.iter().enumerate()
                        .filter_map(|(i, m)| m.sector.get(*pillar).map(|s| format!("{:.1},{:.1}", x(i), y(s))))
                        .collect();
                    polyline points=(points.join(" ")) fill="none" stroke=(colour)
                        stroke-width="2" stroke-dasharray=(dash) {}
                    @for (i, m) in series.iter().enumerate() {
                        @if let Some(s) = m.sector.get(*pillar) {
                            circle cx=(x(i)) cy=(y(s)) r="3" fill=(colour) {
                                title { (pillar.title()) ", " (m.month) ": " (s) }
                            }
                        }
                    }
                    @let ly = top + 14.0 + 20.0 * (p as f64);
                    line x1=(w - right + 10.0) x2=(w - right + 40.0) y1=(ly) y2=(ly) stroke=(colour)
                        stroke-width="2" stroke-dasharray=(dash) {}
                    text x=(w - right + 46.0) y=(ly + 4.0) { (pillar.as_str()) }
                }
            }
            figcaption {
                "Sector score per pillar (the rounded mean of the operators' pillar scores) at the end of each month, "
                "and the current month as it stands."
            }
        }
        details {
            summary { "The chart's numbers as a table" }
            div.table-wrap {
                table #sector-series {
                    thead {
                        tr {
                            th scope="col" { "Month" }
                            th scope="col" { "Size" }
                            @for pillar in Pillar::ALL { th scope="col" { (pillar.title()) } }
                        }
                    }
                    tbody {
                        @for m in series {
                            tr {
                                th scope="row" { (m.month) }
                                td.num { (m.size) }
                                @for pillar in Pillar::ALL {
                                    td.num { (opt(m.sector.get(*pillar))) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn opt<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| v.to_string())
}

/// The sector overview.
pub fn overview(view: &View, reader: &Reader) -> Markup {
    let register = &view.register;
    let overdue = register
        .commitments
        .iter()
        .filter(|c| c.status == CommitmentStatus::Overdue)
        .count();
    let pending = register
        .commitments
        .iter()
        .filter(|c| c.status.is_pending())
        .count();
    let open_disputes = register
        .disputes
        .iter()
        .filter(|d| d.status == hisaab_model::report::DisputeStatus::Open)
        .count();
    let open_challenges = register.challenges.iter().filter(|c| c.is_open()).count();
    let cycle = view.state.cycle.as_ref();
    let overdue_challenges = cycle.map(|c| {
        c.challenges
            .values()
            .filter(|x| x.status == ChallengeStatus::Overdue)
            .count()
    });
    let overdue_actions = cycle.map(|c| {
        c.actions
            .values()
            .filter(|a| a.status == TaskStatus::Overdue)
            .count()
    });
    let overdue_directives = cycle.map(|c| {
        c.directives
            .values()
            .filter(|d| d.status == TaskStatus::Overdue)
            .count()
    });
    let next = cycle.and_then(|c| next_meeting(c, view.state.at));
    let title = view.ledger.genesis().map_or("Hisaab", |g| g.title.as_str());
    layout(
        Some(view),
        reader,
        "Sector overview",
        Nav::Overview,
        html! {
            h1 { "Sector overview" }
            p.lead { (title) ", as of " (view.state.at) ": "
                (view.state.operators.len()) " operators, " (view.register.kpis.len()) " KPIs defined, " (view.kpis.len()) " assigned." }
            div.cards {
                div.card { span.big #count-overdue { (overdue) } "commitments overdue "
                    a href=(at(view, "/app/commitments?status=overdue")) { "see them" } }
                div.card { span.big #count-pending { (pending) } "commitments still to meet "
                    a href=(at(view, "/app/commitments?status=pending")) { "see them" } }
                div.card { span.big #count-disputes { (open_disputes) } "disputes open "
                    a href=(at(view, "/app/disputes")) { "see them" } }
                div.card { span.big #count-challenges { (open_challenges) } "challenges open "
                    a href=(at(view, "/app/challenges")) { "see them" } }
                @if let Some(n) = overdue_challenges {
                    div.card { span.big #count-overdue-challenges { (n) } "challenges past their due date "
                        a href=(at(view, "/app/challenges")) { "see them" } }
                }
                @if let Some(n) = overdue_actions {
                    div.card { span.big #count-overdue-actions { (n) } "action items overdue "
                        a href=(at(view, "/app/directives")) { "see them" } }
                }
                @if let Some(n) = overdue_directives {
                    div.card { span.big #count-overdue-directives { (n) } "directives overdue "
                        a href=(at(view, "/app/directives")) { "see them" } }
                }
                div.card { span.big { (register.meetings.len()) } "meetings recorded "
                    a href=(at(view, "/app/meetings")) { "see them" } }
                @if cycle.is_some() {
                    div.card #next-meeting { "Next meeting: "
                        @match next {
                            Some((id, m)) => {
                                a href=(format!("{}#meeting-{id}", at(view, "/app/meetings"))) { strong { (id) } }
                                @if let Some(d) = m.scheduled_for { ", scheduled for " (d) }
                            }
                            None => { "none scheduled" }
                        }
                    }
                }
            }
            h2 { "Heat map: operators × pillars" }
            (heatmap(view))
            h2 { "Sector score per pillar over the months" }
            @if view.reader == hisaab_model::view::Reader::Full && view.series_pending {
                p #sector-history role="status" { "The sector's scores month by month are being computed from the whole log (the server started a moment ago): reload this page shortly to see them." }
            } @else if view.reader == hisaab_model::view::Reader::Full {
                (sector_chart(&view.series))
            } @else {
                p #sector-history { "The sector's scores month by month are shown to the task force: an earlier month's score may rest on fewer than three operators' scores. Sign in to see them." }
            }
        },
    )
}

/// The date the assignment of `kpi` to `operator` was withdrawn, when it was and was not
/// assigned again (SPEC §11.12).
fn withdrawn_on(view: &View, operator: &str, kpi: &str) -> Option<hisaab_log::Date> {
    view.state
        .cycle
        .as_ref()?
        .withdrawn
        .iter()
        .find(|w| w.operator.as_str() == operator && w.kpi.as_str() == kpi)
        .map(|w| w.on)
}

fn kpi_row_cells(view: &View, operator: &str, kpi: &str, state: &KpiState) -> Markup {
    let definition = view.kpis.get(kpi);
    html! {
        td.id data-label="KPI" { span {
            a href=(at(view, &format!("/app/operators/{operator}/kpis/{kpi}"))) { code { (kpi) } }
            @if let Some(on) = withdrawn_on(view, operator, kpi) { br; small.withdrawn { "withdrawn " (on) } }
        } }
        td data-label="Title" { (view.kpi_title(kpi)) }
        td data-label="Pillar" { (state.pillar.title()) }
        td data-label="Unit" { (definition.map_or_else(String::new, |d| d.unit.to_string())) }
        td.num data-label="Target" { (state.target) }
        td data-label="Direction" { (definition.map_or_else(String::new, |d| d.direction.as_str().replace('_', " "))) }
        td data-label="Due" { (state.due) }
        td.num data-label="Latest value" { (opt(state.value.as_ref())) @if let Some(p) = state.period { br; small { (p) } } }
        td data-label="Latest verdict" { (opt(state.verdict.map(|v| v.as_str().replace('_', " ")))) }
        (band_cell_labelled(state.score, "Score"))
        td data-label="Status" { span class={ "status status-" (state.status.as_str()) } { (state.status.as_str().replace('_', " ")) } }
    }
}

fn sparkline(points: &[TrendPoint]) -> Markup {
    trend_line(points, 100.0, 24.0)
}

fn trend_line(points: &[TrendPoint], w: f64, h: f64) -> Markup {
    let values: Vec<f64> = points
        .iter()
        .filter_map(|p| p.value.as_str().parse::<f64>().ok())
        .collect();
    if values.len() < 2 {
        return html! { span { "–" } };
    }
    let (lo, hi) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    let span = if hi > lo { hi - lo } else { 1.0 };
    let step = w / ((values.len() - 1) as f64);
    let coords: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                step * i as f64,
                2.0 + (h - 4.0) * (1.0 - (v - lo) / span)
            )
        })
        .collect();
    let first = points
        .first()
        .map(|p| p.value.to_string())
        .unwrap_or_default();
    let last = points
        .last()
        .map(|p| p.value.to_string())
        .unwrap_or_default();
    html! {
        svg.spark role="img" width=(w) height=(h) viewBox=(format!("0 0 {w} {h}")) xmlns="http://www.w3.org/2000/svg" {
            title { "Trend over " (values.len()) " periods, from " (first) " to " (last) }
            polyline points=(coords.join(" ")) fill="none" stroke="#0550ae" stroke-width="1.5" {}
        }
    }
}

fn commitments_table(
    store: &Store,
    view: &View,
    items: &[&CommitmentItem],
) -> Result<Markup, WebError> {
    let mut actions = Vec::with_capacity(items.len());
    for item in items {
        let action = if !view.may_read(item.seq) {
            WITHHELD_TEXT.to_owned()
        } else {
            match body_at(store, item.seq)? {
                Some(Body::CommitmentMade(b)) => or_sealed(b.action.as_ref()),
                _ => String::new(),
            }
        };
        actions.push(action);
    }
    Ok(html! {
        @if items.is_empty() {
            p { "None." }
        } @else {
            div.table-wrap {
                table.commitments.stack {
                    thead {
                        tr {
                            th scope="col" { "Status" }
                            th scope="col" { "Due" }
                            th scope="col" { "Owner (operator)" }
                            th scope="col" { "KPI" }
                            th scope="col" { "Action" }
                            th scope="col" { "Commitment" }
                        }
                    }
                    tbody {
                        @for (item, action) in items.iter().zip(&actions) {
                            tr {
                                td data-label="Status" { span class={ "status status-" (item.status.as_str()) } { (item.status.as_str()) }
                                    @if let Some(days) = item.days_overdue { br; small { (days) " days late" } } }
                                td data-label="Due" { (item.due) }
                                td data-label="Owner" { a href=(at(view, &format!("/app/operators/{}", item.operator))) { (view.operator_name(item.operator.as_str())) } }
                                td data-label="KPI" { @if let Some(kpi) = &item.kpi {
                                    a href=(at(view, &format!("/app/operators/{}/kpis/{kpi}", item.operator))) { code { (kpi) } }
                                } @else { "–" } }
                                td data-label="Action" { (action) }
                                td data-label="Commitment" { a href=(at(view, &format!("/app/entries/{}", item.seq))) { code { (item.commitment) } } }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// The items of one of the cycle's registers (`register`) that `mine` keeps, in id order;
/// none on a ledger with no cycle.
fn of_cycle<'a, V>(
    cycle: Option<&'a CycleState>,
    register: impl Fn(&'a CycleState) -> &'a std::collections::BTreeMap<Slug, V>,
    mine: impl Fn(&V) -> bool,
) -> Vec<(&'a Slug, &'a V)> {
    cycle.map_or_else(Vec::new, |c| {
        register(c).iter().filter(|(_, v)| mine(v)).collect()
    })
}

/// An operator's scorecard.
///
/// # Errors
/// The store's, reading the bodies of the entries it cites.
pub fn scorecard(
    store: &Store,
    view: &View,
    reader: &Reader,
    operator: &str,
) -> Result<Markup, WebError> {
    let Some((_, state)) = view
        .state
        .operators
        .iter()
        .find(|(id, _)| id.as_str() == operator)
    else {
        return Err(WebError::NotFound(format!("no operator {operator:?}")));
    };
    let commitments: Vec<&CommitmentItem> = view
        .register
        .commitments
        .iter()
        .filter(|c| c.operator.as_str() == operator)
        .collect();
    let mut evidence = Vec::new();
    for (kpi, kpi_state) in &state.kpis {
        let mut names = Vec::new();
        if let Some(hash) = kpi_state.latest_submission {
            let trend = if view.sees_operator(operator) {
                view.ledger.kpi_trend(operator, kpi.as_str())
            } else {
                Vec::new()
            };
            if let Some(point) = trend.iter().find(|p| p.submission == hash) {
                if let Some(Body::SubmissionFiled(b)) = body_at(store, point.seq)? {
                    names.extend(
                        b.evidence
                            .iter()
                            .flatten()
                            .map(|e| (e.name.to_string(), e.sha256.to_hex())),
                    );
                }
            }
            evidence.push((kpi.as_str().to_owned(), trend, names));
        } else {
            evidence.push((kpi.as_str().to_owned(), Vec::new(), names));
        }
    }
    let disputes: Vec<_> = view
        .register
        .disputes
        .iter()
        .filter(|d| d.operator.as_str() == operator)
        .collect();
    let challenges: Vec<_> = view
        .register
        .challenges
        .iter()
        .filter(|c| c.operator.as_ref().is_some_and(|o| o.as_str() == operator))
        .collect();
    let ciso: Vec<_> = view
        .register
        .members
        .iter()
        .filter(|m| m.operator.as_ref().is_some_and(|o| o.as_str() == operator))
        .collect();
    let table = commitments_table(store, view, &commitments)?;
    let cycle = view.state.cycle.as_ref();
    let of = |o: &Slug| o.as_str() == operator;
    let actions = of_cycle(
        cycle,
        |c| &c.actions,
        |a| matches!(&a.owner, ActionOwner::Operator(o) if of(o)),
    );
    let directives = of_cycle(cycle, |c| &c.directives, |d| of(&d.operator));
    let extended = of_cycle(cycle, |c| &c.extended, |e| of(&e.operator));
    let escalations = of_cycle(
        cycle,
        |c| &c.escalations,
        |e| e.operator.as_ref().is_some_and(of),
    );
    let deputies = of_cycle(cycle, |c| &c.delegations, |d| of(&d.operator));
    let withdrawn: Vec<_> = cycle
        .map(|c| {
            c.withdrawn
                .iter()
                .filter(|w| w.operator.as_str() == operator)
                .collect()
        })
        .unwrap_or_default();
    let left = cycle.and_then(|c| c.left.iter().find(|(id, _)| id.as_str() == operator));
    Ok(layout(
        Some(view),
        reader,
        state.name.as_str(),
        Nav::Overview,
        html! {
            h1 { (state.name) " — scorecard" }
            @if let Some((_, l)) = left {
                p.notice #operator-left role="status" {
                    strong { (state.name) " left the task force on " (l.on) "." }
                    " Its members sign nothing more; what it still owed then is closed as "
                    strong { "left" } ". Its record below stays as it was."
                }
            }
            p.lead {
                "Overall score " strong #operator-score { (opt(state.score)) } " ("
                (Band::of(state.score).meaning()) "). "
                @for m in &ciso {
                    @let roles = m.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ");
                    (m.name) " (" (roles)
                    @if !m.active { ", revoked" } "). " }
            }
            @if cycle.is_some() {
                p #operator-deputies {
                    @if deputies.is_empty() { "No deputy acts for " (state.name) "." } @else {
                        @for (deputy, d) in &deputies {
                            (view.member_name(deputy.as_str())) " (" code { (deputy) } ") acts for " (state.name)
                            " until " (d.expires) " ("
                            (d.status.as_str().replace('_', " "))
                            "). "
                        }
                    }
                }
            }
            div.table-wrap {
                table {
                    caption { "Pillar scores" }
                    thead { tr { @for pillar in Pillar::ALL { th scope="col" { (pillar.title()) } } } }
                    tbody { tr { @for pillar in Pillar::ALL { (band_cell(state.pillar_scores.get(*pillar))) } } }
                }
            }
            (legend())
            h2 { "KPIs" }
            div.table-wrap {
                table #kpis .stack {
                    thead {
                        tr {
                            th scope="col" { "KPI" } th scope="col" { "Title" } th scope="col" { "Pillar" }
                            th scope="col" { "Unit" } th scope="col" { "Target" } th scope="col" { "Direction" }
                            th scope="col" { "Due" } th scope="col" { "Latest value" } th scope="col" { "Latest verdict" }
                            th scope="col" { "Score" } th scope="col" { "Status" } th scope="col" { "Trend" }
                            th scope="col" { "Evidence (latest)" }
                        }
                    }
                    tbody {
                        @for ((kpi, kpi_state), (_, trend, names)) in state.kpis.iter().zip(&evidence) {
                            tr {
                                (kpi_row_cells(view, operator, kpi.as_str(), kpi_state))
                                td data-label="Trend" { (sparkline(trend)) }
                                td.evidence data-label="Evidence" { @for (name, hash) in names { span title=(format!("SHA-256 {hash}")) { (name) } br; } }
                            }
                        }
                    }
                }
            }
            @if !withdrawn.is_empty() {
                div.table-wrap {
                    table.stack #operator-withdrawn {
                        caption { "Assignments withdrawn: no report of these KPIs is owed for a period ending on or after the date" }
                        thead { tr { th scope="col" { "KPI" } th scope="col" { "Title" } th scope="col" { "Withdrawn on" } } }
                        tbody { @for w in &withdrawn { tr {
                            td data-label="KPI" { a href=(at(view, &format!("/app/operators/{operator}/kpis/{}", w.kpi))) { code { (w.kpi) } } }
                            td data-label="Title" { (view.kpi_title(w.kpi.as_str())) }
                            td data-label="Withdrawn on" { (w.on) }
                        } } }
                    }
                }
            }
            h2 { "Commitments" }
            (table)
            @if cycle.is_some() {
                h2 { "Action items and directives" }
                (task_legend())
                (actions_table(view, "Action items it owns", "operator-actions", &actions))
                (directives_table(view, &format!("Directives of the authority to {}", state.name), "operator-directives", &directives))
                h2 { "Extended commitments" }
                @if extended.is_empty() { p { "None." } } @else {
                    div.table-wrap {
                        table.extended.stack #operator-extended {
                            caption { "Commitments whose due date was extended: the due date as made → the due date in force" }
                            thead { tr {
                                th scope="col" { "Commitment" } th scope="col" { "Original due" }
                                th scope="col" { "Due" } th scope="col" { "Extensions" }
                            } }
                            tbody { @for (id, e) in &extended { tr {
                                td data-label="Commitment" { (item_link(view, &EscalatedItem::Commitment((*id).clone()))) }
                                td data-label="Original due" { (e.original_due) }
                                td data-label="Due" { "→ " (e.due) }
                                td data-label="Extensions" { span {
                                    @for x in &e.extensions {
                                        a href=(at(view, &format!("/app/entries/{}", x.seq))) { (x.from) " → " (x.to) } br;
                                    }
                                } }
                            } } }
                        }
                    }
                }
                h2 { "Escalations" }
                @if escalations.is_empty() { p { "None." } } @else {
                    div.table-wrap {
                        table.escalations.stack #operator-escalations {
                            caption { "Escalations of what " (state.name) " missed" }
                            thead { tr {
                                th scope="col" { "Escalation" } th scope="col" { "Item" }
                                th scope="col" { "Recorded on" } th scope="col" { "Status" }
                            } }
                            tbody { @for (id, e) in &escalations { tr {
                                td data-label="Escalation" { (escalation_link(view, id)) }
                                td data-label="Item" { span {
                                    @match &e.item {
                                        EscalatedItem::Commitment(_) => { "commitment " }
                                        EscalatedItem::Directive(_) => { "directive " }
                                        EscalatedItem::Action(_) => { "action item " }
                                    }
                                    (item_link(view, &e.item))
                                } }
                                td data-label="Recorded on" { (e.on) }
                                (status_cell(e.status))
                            } } }
                        }
                    }
                }
            }
            h2 { "Disputes" }
            @if disputes.is_empty() { p { "None." } } @else {
                ul { @for d in &disputes { li {
                    a href=(at(view, &format!("/app/disputes/{}", d.dispute))) { code { (d.dispute) } }
                    " on " code { (d.kpi) } ": " (dispute_status(view, d))
                } } }
            }
            h2 { "Challenges" }
            @if challenges.is_empty() { p { "None." } } @else {
                ul { @for c in &challenges { li {
                    a href=(at(view, &format!("/app/challenges/{}", c.challenge))) { code { (c.challenge) } }
                    @if c.is_open() { " (open)" } @else { " (resolved)" }
                } } }
            }
        },
    ))
}

fn signer_of(view: &View, sealed: &SealedEntry) -> String {
    let key = &sealed.entry().statement.signer;
    match view.ledger.member_for_key(key) {
        Some(member) => format!("{} ({member})", view.member_name(member)),
        None => "the ledger's first authority".to_owned(),
    }
}

/// What an entry says, in words.
fn summary(view: &View, body: &Body) -> String {
    match body {
        Body::Genesis(b) => format!("Ledger opened: {}", b.title),
        Body::OperatorRegistered(b) => format!("Operator {} registered as {}", b.operator, b.name),
        Body::MemberEnrolled(b) => format!(
            "{} ({}) enrolled as {}",
            b.name,
            b.member,
            b.roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Body::MemberKeyRotated(b) => format!("{} rotated their key", b.member),
        Body::MemberRevoked(b) => format!("{} revoked: {}", b.member, b.reason),
        Body::KpiDefined(b) => format!(
            "KPI {} defined: {} ({}, {})",
            b.kpi,
            b.title,
            b.unit,
            b.pillar.title()
        ),
        Body::KpiAssigned(b) => format!(
            "{} assigned to {}: target {}, due {}",
            b.kpi,
            view.operator_name(b.operator.as_str()),
            b.target,
            b.due
        ),
        Body::SubmissionFiled(b) => format!(
            "{} reported {} {} for {} ({} evidence file(s))",
            view.operator_name(b.operator.as_str()),
            b.kpi,
            or_sealed(b.value.as_ref()),
            b.period,
            or_sealed(b.evidence.as_ref().map(Vec::len).as_ref())
        ),
        Body::EvaluationRecorded(b) => format!(
            "Evaluated: {}, score {} — {}",
            or_sealed(b.verdict.map(|v| v.as_str().replace('_', " ")).as_ref()),
            or_sealed(b.score.map(|s| s.get()).as_ref()),
            or_sealed(b.rationale.as_ref())
        ),
        Body::CommitmentMade(b) => format!(
            "{} committed ({}): {} by {}",
            view.operator_name(b.operator.as_str()),
            b.commitment,
            or_sealed(b.action.as_ref()),
            b.due
        ),
        Body::CommitmentClosed(b) => {
            format!(
                "Commitment {} closed: {}",
                b.commitment,
                or_sealed(b.outcome.map(|o| o.as_str()).as_ref())
            )
        }
        Body::ChallengeRaised(b) => format!(
            "Challenge {} raised: {}",
            b.challenge,
            or_sealed(b.description.as_ref())
        ),
        Body::ChallengeResolved(b) => {
            format!(
                "Challenge {} resolved: {}",
                b.challenge,
                or_sealed(b.resolution.as_ref())
            )
        }
        Body::MeetingRecorded(b) => format!(
            "Meeting {} held on {}: {} attendees, {} decision(s)",
            b.meeting,
            b.held_on,
            b.attendees.len(),
            b.decisions.len()
        ),
        Body::MeetingAttested(b) => format!("Attested the record of meeting {}", b.meeting),
        Body::DisputeOpened(b) => format!(
            "Dispute {} opened: {}",
            b.dispute,
            or_sealed(b.grounds.as_ref())
        ),
        Body::DisputeResolved(b) => format!(
            "Dispute {} resolved: {} (replayed at size {}) — {}",
            b.dispute,
            or_sealed(b.outcome.map(|o| o.as_str()).as_ref()),
            b.as_of,
            or_sealed(b.rationale.as_ref())
        ),
        // A kind this page has no sentence for yet: its name (the card shows every field).
        other => other.kind().as_str().to_owned(),
    }
}

/// What a card says of an entry the reader may not read (SPEC §13.4).
const WITHHELD: &str = "Withheld: this entry is about an operator whose members and the task \
                        force may read it; its leaf hash is in the ledger and provable.";

fn entry_card(view: &View, sealed: &SealedEntry) -> Markup {
    let entry = sealed.entry();
    let text = if view.may_read(entry.seq) {
        body_of(sealed).map_or_else(|| entry.statement.kind.clone(), |b| summary(view, &b))
    } else {
        WITHHELD.to_owned()
    };
    html! {
        article.entry-card {
            h3 { a href=(at(view, &format!("/app/entries/{}", entry.seq))) { "#" (entry.seq) " · " (entry.statement.kind) } }
            p { (text) }
            @if let Some(erased) = erased_of(view, entry.seq) {
                p.meta { "Erased: " @for (i, (field, by)) in erased.fields.iter().enumerate() {
                    @if i > 0 { ", " } code { (field) } " (by " a href=(at(view, &format!("/app/entries/{by}"))) { "#" (by) } ")"
                } }
            }
            p.meta { "Signed by " (signer_of(view, sealed)) " · recorded " time datetime=(entry.recorded_at) { (entry.recorded_at) }
                " · " a href=(format!("{}#inclusion-proof", at(view, &format!("/app/entries/{}", entry.seq)))) { "its inclusion proof" } }
        }
    }
}

/// The fields erased from entry `seq` (public, as `field.erased` statements are), if any.
fn erased_of(view: &View, seq: u64) -> Option<&hisaab_model::ErasedFields> {
    view.state.erased.iter().find(|e| e.seq == seq)
}

/// Every entry about one operator and KPI.
///
/// # Errors
/// The store's.
pub fn kpi_history(
    store: &Store,
    view: &View,
    reader: &Reader,
    operator: &str,
    kpi: &str,
) -> Result<Markup, WebError> {
    let seqs: Vec<u64> = store
        .history(operator, kpi)?
        .into_iter()
        .filter(|s| *s < view.size)
        .collect();
    let mut entries = Vec::with_capacity(seqs.len());
    for seq in seqs {
        if let Some(sealed) = store.entry(seq)? {
            entries.push(sealed);
        }
    }
    let trend = if view.sees_operator(operator) {
        view.ledger.kpi_trend(operator, kpi)
    } else {
        Vec::new()
    };
    let state = view
        .state
        .operators
        .iter()
        .find(|(id, _)| id.as_str() == operator)
        .and_then(|(_, o)| {
            o.kpis
                .iter()
                .find(|(k, _)| k.as_str() == kpi)
                .map(|(_, s)| s)
        });
    let title = format!("{} · {kpi}", view.operator_name(operator));
    Ok(layout(
        Some(view),
        reader,
        &title,
        Nav::Overview,
        html! {
            h1 { (view.operator_name(operator)) ": " code { (kpi) } " " (view.kpi_title(kpi)) }
            p.lead { a href=(at(view, &format!("/app/operators/{operator}"))) { "Back to the scorecard" } }
            @if let Some(state) = state {
                div.table-wrap { table.stack {
                    thead { tr { th { "KPI" } th { "Title" } th { "Pillar" } th { "Unit" } th { "Target" } th { "Direction" } th { "Due" } th { "Latest value" } th { "Latest verdict" } th { "Score" } th { "Status" } } }
                    tbody { tr { (kpi_row_cells(view, operator, kpi, state)) } }
                } }
            }
            h2 { "Reports by period" }
            div.table-wrap { table #trend {
                thead { tr { th scope="col" { "Period" } th scope="col" { "Value" } th scope="col" { "Verdict" } th scope="col" { "Score" } th scope="col" { "Entry" } } }
                tbody { @for p in &trend { tr {
                    th scope="row" { (p.period) }
                    td.num { (p.value) }
                    td { (opt(p.evaluation.map(|(v, _)| v.as_str().replace('_', " ")))) }
                    td.num { (opt(p.evaluation.map(|(_, s)| s))) }
                    td { a href=(at(view, &format!("/app/entries/{}", p.seq))) { "#" (p.seq) } }
                } } }
            } }
            p { (trend_line(&trend, 320.0, 64.0)) }
            h2 { "Every entry about this KPI, in order (" (entries.len()) ")" }
            @for sealed in &entries {
                (entry_card(view, sealed))
            }
        },
    ))
}

/// Who owes what by when: commitments, overdue first.
///
/// # Errors
/// The store's.
pub fn commitments(
    store: &Store,
    view: &View,
    reader: &Reader,
    operator: Option<&str>,
    status: Option<&str>,
) -> Result<Markup, WebError> {
    let items: Vec<&CommitmentItem> = view
        .register
        .commitments
        .iter()
        .filter(|c| operator.is_none_or(|o| c.operator.as_str() == o))
        .filter(|c| match status {
            Some("pending") => c.status.is_pending(),
            Some("overdue") => c.status == CommitmentStatus::Overdue,
            Some("closed") => !c.status.is_pending(),
            _ => true,
        })
        .collect();
    let table = commitments_table(store, view, &items)?;
    // Everything owed (SPEC §11.4) on the view's date: reports, evaluations, decisions and
    // commitments, most late first. Workflow facts, the same for every reader (SPEC §13.5a).
    let filter = hisaab_model::ObligationFilter {
        operator: operator.and_then(|o| hisaab_model::Slug::try_new(o).ok()),
        member: None,
    };
    let owed = view.ledger.obligations(view.as_of_date, &filter).ok();
    Ok(layout(
        Some(view),
        reader,
        "Who owes what by when",
        Nav::Commitments,
        html! {
            h1 { "Who owes what by when" }
            @if let Some(owed) = &owed {
                h2 { "Everything owed on " (owed.at) }
                p #obligation-count { (owed.items.len()) " obligation(s), most days late first." }
                div.table-wrap { table.stack #obligations {
                    thead { tr { th scope="col" { "What" } th scope="col" { "Owed by" } th scope="col" { "Operator" } th scope="col" { "KPI" } th scope="col" { "Period or id" } th scope="col" { "Due" } th scope="col" { "Days late" } } }
                    tbody { @for o in &owed.items { tr {
                        td data-label="What" { (o.kind.as_str()) }
                        td data-label="Owed by" { (owed_by(view, &o.owed_by)) }
                        td data-label="Operator" { (o.operator.as_ref().map_or("–", |op| view.operator_name(op.as_str()))) }
                        td data-label="KPI" { (o.kpi.as_ref().map_or("–".to_owned(), |k| format!("{k} {}", view.kpi_title(k.as_str())))) }
                        td data-label="Period or id" { (o.period.map(|p| p.to_string()).or_else(|| o.id.as_ref().map(|i| i.as_str().to_owned())).unwrap_or_else(|| "–".to_owned())) }
                        td data-label="Due" { time datetime=(o.due) { (o.due) } }
                        td.num data-label="Days late" { @if o.days_late > 0 { strong { (o.days_late) } } @else { "0" } }
                    } } }
                } }
                h2 { "Commitments" }
            }
            p.lead { "Commitments as of " (view.state.at) ": overdue first (most days late first), then open by due date, then closed." }
            form.inline method="get" action="/app/commitments" {
                label { "Operator"
                    select name="operator" {
                        option value="" { "All operators" }
                        @for (id, o) in &view.state.operators {
                            option value=(id) selected[operator == Some(id.as_str())] { (o.name) }
                        }
                    }
                }
                label { "Status"
                    select name="status" {
                        option value="" { "All" }
                        @for f in COMMITMENT_FILTERS {
                            option value=(f) selected[status == Some(f)] { (f) }
                        }
                    }
                }
                @for (name, value) in view.point_params() { input type="hidden" name=(name) value=(value); }
                button type="submit" { "Filter" }
            }
            p #commitment-count { (items.len()) " commitment(s)." }
            (table)
        },
    ))
}

/// Meetings: attendance, attestations, decisions.
///
/// On a ledger of format 2, every meeting of the cycle (scheduled or recorded) with its agenda,
/// attendance, quorum, decisions and action items, and the members' accountability.
///
/// # Errors
/// The store's.
pub fn meetings(store: &Store, view: &View, reader: &Reader) -> Result<Markup, WebError> {
    if let Some(cycle) = &view.state.cycle {
        return cycle_meetings(store, view, reader, cycle);
    }
    let mut rows = Vec::new();
    for m in view.register.meetings.iter().rev() {
        rows.push((m, recorded_body(store, view, m.seq)?));
    }
    Ok(layout(
        Some(view),
        reader,
        "Meetings",
        Nav::Meetings,
        html! {
            h1 { "Meetings" }
            p.lead { (rows.len()) " meeting(s) recorded, newest first. Each record is signed by the chair; each attendee attests it with their own key." }
            @for (m, body) in &rows {
                section.entry-card {
                    h2 { a href=(at(view, &format!("/app/entries/{}", m.seq))) { (m.meeting) }
                        @if let Some(b) = body { " · held on " (b.held_on) } }
                    p { "Attendance: " (m.attendees.len()) "; attested by " (m.attested.len()) " of them." }
                    ul { @for a in &m.attendees { li {
                        (view.member_name(a.as_str()))
                        @if m.attested.contains(a) { " — attested" } @else { " — not attested" }
                    } } }
                    @if let Some(b) = body { (decisions(b)) }
                }
            }
        },
    ))
}

/// The body of a `meeting.recorded` entry the reader may read.
fn recorded_body(
    store: &Store,
    view: &View,
    seq: u64,
) -> Result<Option<hisaab_model::body::MeetingRecordedBody>, WebError> {
    if !view.may_read(seq) {
        return Ok(None);
    }
    Ok(match body_at(store, seq)? {
        Some(Body::MeetingRecorded(b)) => Some(b),
        _ => None,
    })
}

fn decisions(body: &hisaab_model::body::MeetingRecordedBody) -> Markup {
    html! {
        p { "Minutes: SHA-256 " code { (body.minutes_sha256.to_hex()) } }
        @if body.decisions.is_empty() { p { "No decisions recorded." } } @else {
            h3 { "Decisions" }
            ol.decisions { @for d in &body.decisions { li { (d) } } }
        }
    }
}

/// What the status words of actions, directives and escalations mean, in words.
fn task_legend() -> Markup {
    html! {
        ul.legend aria-label="Legend of statuses" {
            li { strong { "open" } ": not closed, not yet due" }
            li { strong { "overdue" } ": not closed, past its due date" }
            li { strong { "done" } ": closed as done" }
            li { strong { "missed" } ": closed as missed" }
            li { strong { "escalated" } ": an escalation names it (its id follows)" }
            li { strong { "left" } ": closed because the operator that owed it left the task force" }
            li { strong { "closed" } ": closed, its outcome sealed and not yours to read" }
            li { strong { "NOT quorate" } ": too few operators represented to decide" }
        }
    }
}

fn status_cell(status: TaskStatus) -> Markup {
    html! {
        td data-label="Status" { span class={ "status status-" (status.as_str()) } { (status.as_str()) } }
    }
}

/// A link to an escalation's entry, by its id.
fn escalation_link(view: &View, id: &Slug) -> Markup {
    match view.ledger.escalation_seq(id) {
        Some(seq) => html! { a href=(at(view, &format!("/app/entries/{seq}"))) { code { (id) } } },
        None => html! { code { (id) } },
    }
}

fn escalation_cell(view: &View, escalation: Option<&Slug>) -> Markup {
    html! {
        td data-label="Escalation" { span {
            @match escalation {
                Some(e) => { span.escalated { "escalated" } " (" (escalation_link(view, e)) ")" }
                None => { "–" }
            }
        } }
    }
}

/// Who owns an action item or a challenge: a member, or an operator (linking to its
/// scorecard).
fn owner_name(view: &View, owner: &ActionOwner) -> Markup {
    html! {
        @match owner {
            ActionOwner::Member(m) => { (view.member_name(m.as_str())) " (member)" }
            ActionOwner::Operator(o) => {
                a href=(at(view, &format!("/app/operators/{o}"))) { (view.operator_name(o.as_str())) } " (operator)"
            }
        }
    }
}

fn owner_cell(view: &View, owner: &ActionOwner) -> Markup {
    html! {
        td data-label="Owner" { span { (owner_name(view, owner)) } }
    }
}

/// A table of action items, labelled by `caption`.
fn actions_table(
    view: &View,
    caption: &str,
    id: &str,
    actions: &[(&Slug, &ActionState)],
) -> Markup {
    let tasks: Vec<Task<'_>> = actions.iter().map(|(id, a)| Task::Action(id, a)).collect();
    kind_table(view, caption, id, ["Action", "Meeting", "Owner"], &tasks)
}

/// A table of directives, labelled by `caption`.
fn directives_table(
    view: &View,
    caption: &str,
    id: &str,
    directives: &[(&Slug, &DirectiveState)],
) -> Markup {
    let tasks: Vec<Task<'_>> = directives
        .iter()
        .map(|(id, d)| Task::Directive(id, d))
        .collect();
    kind_table(view, caption, id, ["Directive", "Owner", "Issued"], &tasks)
}

/// A table of tasks of one kind: the id and the kind's two columns (`heads`: an action's
/// meeting and owner, a directive's owner and date issued), then due date, status and
/// escalation.
fn kind_table(
    view: &View,
    caption: &str,
    id: &str,
    heads: [&str; 3],
    tasks: &[Task<'_>],
) -> Markup {
    let class = heads[0].to_lowercase() + "s";
    html! {
        @if tasks.is_empty() { p { (caption) ": none." } } @else {
            div.table-wrap {
                table.stack class=(class) id=(id) {
                    caption { (caption) }
                    thead { tr {
                        @for head in heads { th scope="col" { (head) } }
                        th scope="col" { "Due" } th scope="col" { "Status" } th scope="col" { "Escalation" }
                    } }
                    tbody { @for task in tasks { tr {
                        td data-label=(heads[0]) { (item_link(view, &task.item())) }
                        @match task {
                            Task::Action(_, a) => {
                                td data-label="Meeting" { a href=(at(view, &format!("/app/meetings#meeting-{}", a.meeting))) { (a.meeting) } }
                                (owner_cell(view, &a.owner))
                            }
                            Task::Directive(_, d) => {
                                (owner_cell(view, &ActionOwner::Operator(d.operator.clone())))
                                td data-label="Issued" { (d.issued) }
                            }
                        }
                        td data-label="Due" { (task.due()) }
                        (status_cell(task.status()))
                        (escalation_cell(view, task.escalation()))
                    } } }
                }
            }
        }
    }
}

/// Every action item and directive in one table, in the order given.
fn tasks_table(view: &View, caption: &str, tasks: &[Task<'_>]) -> Markup {
    html! {
        div.table-wrap {
            table.tasks.stack #tasks {
                caption { (caption) }
                thead { tr {
                    th scope="col" { "Item" } th scope="col" { "Operator" } th scope="col" { "Owner" }
                    th scope="col" { "From" } th scope="col" { "Stakeholders" } th scope="col" { "Due" }
                    th scope="col" { "Status" } th scope="col" { "Escalation" }
                } }
                tbody { @for task in tasks { tr id=(format!("task-{}", task.id())) {
                    td data-label="Item" { span { (task.kind()) " " (item_link(view, &task.item())) } }
                    td data-label="Operator" { span {
                        @match task.operator(&view.register) {
                            Some(o) => { a href=(at(view, &format!("/app/operators/{o}"))) { (view.operator_name(o.as_str())) } }
                            None => { "–" }
                        }
                    } }
                    @match task {
                        Task::Action(_, a) => {
                            (owner_cell(view, &a.owner))
                            td data-label="From" { span { "meeting " a href=(at(view, &format!("/app/meetings#meeting-{}", a.meeting))) { (a.meeting) } } }
                        }
                        Task::Directive(_, d) => {
                            td data-label="Owner" { span { (view.operator_name(d.operator.as_str())) " (operator)" } }
                            td data-label="From" { span { "the authority, issued " (d.issued) } }
                        }
                    }
                    td data-label="Stakeholders" { span {
                        @if task.stakeholders().is_empty() { "–" }
                        @for (i, k) in task.stakeholders().iter().enumerate() {
                            @if i > 0 { ", " }
                            a href=(format!("{}#stakeholder-{k}", at(view, "/app/meetings"))) { (stakeholder_name(view, k)) }
                        }
                    } }
                    td data-label="Due" { (task.due()) }
                    (status_cell(task.status()))
                    (escalation_cell(view, task.escalation()))
                } } }
            }
        }
    }
}

/// A dispute's status as the reader may see it.
fn dispute_status(view: &View, dispute: &DisputeItem) -> Markup {
    let status = view.dispute_status(dispute).as_str();
    html! { span class={ "status status-" (status) "-dispute" } { (status) } }
}

/// The quorum of a meeting, in words.
fn quorum_text(meeting: &MeetingState, percent: u64) -> String {
    let counts = format!(
        "{} of {} operators represented, quorum {percent} %",
        meeting.represented, meeting.operators
    );
    match meeting.quorate {
        Some(true) => format!("quorate: {counts}"),
        Some(false) => format!("NOT quorate: {counts}"),
        None => format!("quorum not yet known: the meeting is not held (quorum {percent} %)"),
    }
}

/// A stakeholder's name, or its id.
fn stakeholder_name<'a>(view: &'a View, id: &'a Slug) -> &'a str {
    view.state
        .cycle
        .as_ref()
        .and_then(|c| c.stakeholders.get(id))
        .map_or(id.as_str(), |k| k.name.as_str())
}

fn agenda_names(view: &View, item: &AgendaItem) -> Markup {
    html! {
        @if let Some(o) = &item.operator {
            "operator " a href=(at(view, &format!("/app/operators/{o}"))) { (view.operator_name(o.as_str())) } " "
        }
        @if let Some(k) = &item.kpi {
            "KPI "
            @match &item.operator {
                Some(o) => { a href=(at(view, &format!("/app/operators/{o}/kpis/{k}"))) { code { (k) } } }
                None => { code { (k) } }
            }
            " "
        }
        @if let Some(d) = &item.dispute {
            "dispute "
            @match view.register.disputes.iter().find(|x| x.dispute == *d) {
                Some(x) => { a href=(at(view, &format!("/app/entries/{}", x.seq))) { code { (d) } } }
                None => { code { (d) } }
            }
            " "
        }
        @if let Some(c) = &item.challenge {
            "challenge "
            @match view.register.challenges.iter().find(|x| x.challenge == *c) {
                Some(x) => { a href=(at(view, &format!("/app/entries/{}", x.seq))) { code { (c) } } }
                None => { code { (c) } }
            }
        }
        @if let Some(k) = &item.stakeholder {
            " stakeholder " a href=(format!("{}#stakeholder-{k}", at(view, "/app/meetings"))) { (stakeholder_name(view, k)) }
        }
        @if item.operator.is_none() && item.kpi.is_none() && item.dispute.is_none() && item.challenge.is_none() && item.stakeholder.is_none() { "–" }
    }
}

fn cycle_meetings(
    store: &Store,
    view: &View,
    reader: &Reader,
    cycle: &CycleState,
) -> Result<Markup, WebError> {
    let mut rows = Vec::new();
    for (id, m) in meetings_newest_first(cycle) {
        let item = view.register.meetings.iter().find(|r| r.meeting == *id);
        let body = match item {
            Some(r) => recorded_body(store, view, r.seq)?,
            None => None,
        };
        let actions: Vec<(&Slug, &ActionState)> = cycle
            .actions
            .iter()
            .filter(|(_, a)| a.meeting == *id)
            .collect();
        rows.push((id, m, item.map(|r| r.seq), body, actions));
    }
    let next = next_meeting(cycle, view.state.at);
    Ok(layout(
        Some(view),
        reader,
        "Meetings",
        Nav::Meetings,
        html! {
            h1 { "Meetings" }
            p.lead { (rows.len()) " meeting(s) scheduled or recorded, newest first. Quorum: "
                (cycle.quorum_percent) " % of the operators represented. Each record is signed by the chair; each attendee attests it with their own key." }
            p #next-meeting { "Next meeting: "
                @match next {
                    Some((id, m)) => { a href=(format!("#meeting-{id}")) { (id) } @if let Some(d) = m.scheduled_for { ", scheduled for " (d) } }
                    None => { "none scheduled" }
                }
            }
            (task_legend())
            p { a href="#members" { "Members' accountability" } " · " a href="#delegations" { "Who acts for whom" } " · " a href="#stakeholders" { "Stakeholders" } }
            @for (id, m, seq, body, actions) in &rows {
                section.entry-card.meeting id=(format!("meeting-{id}")) {
                    h2 {
                        @match seq {
                            Some(seq) => { a href=(at(view, &format!("/app/entries/{seq}"))) { (id) } }
                            None => { (id) }
                        }
                    }
                    p.dates {
                        "Scheduled for " (opt(m.scheduled_for)) " · "
                        @match m.held_on { Some(d) => { "held on " (d) } None => { "not yet held" } }
                    }
                    p.quorum { strong { (quorum_text(m, cycle.quorum_percent)) } }
                    @if m.agenda.is_empty() { p { "Agenda: none scheduled." } } @else {
                        div.table-wrap {
                            table.agenda.stack {
                                caption { "Agenda of " (id) }
                                thead { tr { th scope="col" { "#" } th scope="col" { "Item" } th scope="col" { "Names" } } }
                                tbody { @for (n, item) in m.agenda.iter().enumerate() { tr {
                                    td data-label="#" { (n + 1) }
                                    td data-label="Item" { (item.title) }
                                    td data-label="Names" { span { (agenda_names(view, item)) } }
                                } } }
                            }
                        }
                    }
                    @if m.held_on.is_some() {
                        div.table-wrap {
                            table.attendance.stack {
                                caption { "Attendance at " (id) ": " (m.attendees.len()) " attended, " (m.absent.len()) " absent, " (m.attested.len()) " attested" }
                                thead { tr { th scope="col" { "Member" } th scope="col" { "Attendance" } th scope="col" { "Attested the record" } } }
                                tbody {
                                    @for a in &m.attendees { tr {
                                        td data-label="Member" { (view.member_name(a.as_str())) }
                                        td data-label="Attendance" { "attended" }
                                        td data-label="Attested" { @if m.attested.contains(a) { "yes" } @else { "no" } }
                                    } }
                                    @for a in &m.absent { tr {
                                        td data-label="Member" { (view.member_name(a.as_str())) }
                                        td data-label="Attendance" { "absent" }
                                        td data-label="Attested" { "–" }
                                    } }
                                }
                            }
                        }
                    }
                    @if let Some(b) = body { (decisions(b)) }
                    (actions_table(view, &format!("Action items of {id}"), &format!("actions-{id}"), actions))
                }
            }
            h2 #members { "Members' accountability" }
            @if cycle.members.is_empty() { p { "No members yet." } } @else {
                div.table-wrap {
                    table.members.stack {
                        caption { "Each member's attendance at the meetings recorded, the action items and challenges they own, and the measures they took" }
                        thead { tr {
                            th scope="col" { "Member" } th scope="col" { "Attended" } th scope="col" { "Absent" }
                            th scope="col" { "Actions open" } th scope="col" { "Actions overdue" }
                            th scope="col" { "Actions done" } th scope="col" { "Actions missed" }
                            th scope="col" { "Challenges open" } th scope="col" { "Challenges overdue" } th scope="col" { "Measures" }
                            th scope="col" { "Suspended" }
                        } }
                        tbody { @for (member, r) in &cycle.members { tr {
                            td data-label="Member" { span { (view.member_name(member.as_str())) " " small { code { (member) } } } }
                            td.num data-label="Attended" { (r.attended) }
                            td.num data-label="Absent" { (r.absent) }
                            td.num data-label="Actions open" { (r.actions_open) }
                            td.num data-label="Actions overdue" { (r.actions_overdue) }
                            td.num data-label="Actions done" { (r.actions_done) }
                            td.num data-label="Actions missed" { (r.actions_missed) }
                            td.num data-label="Challenges open" { (r.challenges_open) }
                            td.num data-label="Challenges overdue" { (r.challenges_overdue) }
                            td.num data-label="Measures" { (r.measures) }
                            td data-label="Suspended" { @if r.suspended { strong { "suspended" } } @else { "no" } }
                        } } }
                    }
                }
            }
            h2 #delegations { "Who acts for whom" }
            @if cycle.delegations.is_empty() { p { "No deputies named." } } @else {
                div.table-wrap {
                    table.delegations.stack {
                        caption { "Deputies a CISO named to sign for their operator, until the day given" }
                        thead { tr {
                            th scope="col" { "Deputy" } th scope="col" { "Acts for" }
                            th scope="col" { "Until" } th scope="col" { "Status" }
                        } }
                        tbody { @for (deputy, d) in &cycle.delegations { tr {
                            td data-label="Deputy" { span { (view.member_name(deputy.as_str())) " " small { code { (deputy) } } } }
                            td data-label="Acts for" { a href=(at(view, &format!("/app/operators/{}", d.operator))) { (view.operator_name(d.operator.as_str())) } }
                            td data-label="Until" { (d.expires) }
                            td data-label="Status" { (d.status.as_str().replace('_', " ")) }
                        } } }
                    }
                }
            }
            h2 #stakeholders { "Stakeholders" }
            @if cycle.stakeholders.is_empty() { p { "No stakeholders registered." } } @else {
                div.table-wrap {
                    table.stakeholders.stack {
                        caption { "The outside bodies the task force works with" }
                        thead { tr {
                            th scope="col" { "Stakeholder" } th scope="col" { "Name" }
                            th scope="col" { "Type" } th scope="col" { "Registered on" }
                        } }
                        tbody { @for (id, k) in &cycle.stakeholders { tr id=(format!("stakeholder-{id}")) {
                            td data-label="Stakeholder" { code { (id) } }
                            td data-label="Name" { (k.name) }
                            td data-label="Type" { (k.kind.as_str().replace('_', " ")) }
                            td data-label="Registered on" { (k.registered) }
                        } } }
                    }
                }
            }
        },
    ))
}

/// The monthly meeting pack: one printable page.
///
/// # Errors
/// The store's.
pub fn pack(store: &Store, view: &View, reader: &Reader) -> Result<Markup, WebError> {
    let pending: Vec<&CommitmentItem> = view
        .register
        .commitments
        .iter()
        .filter(|c| c.status.is_pending())
        .collect();
    let table = commitments_table(store, view, &pending)?;
    let title = view.ledger.genesis().map_or("Hisaab", |g| g.title.as_str());
    let csv = |name: &str| at(view, &format!("/app/pack/{name}.csv"));
    let cycle = view.state.cycle.as_ref();
    let tasks = cycle.map_or_else(Vec::new, |c| tasks_overdue_first(c, &view.register, None));
    let actions: Vec<(&Slug, &ActionState)> = tasks
        .iter()
        .filter_map(|t| match t {
            Task::Action(id, a) => Some((*id, *a)),
            Task::Directive(..) => None,
        })
        .collect();
    let directives: Vec<(&Slug, &DirectiveState)> = tasks
        .iter()
        .filter_map(|t| match t {
            Task::Directive(id, d) => Some((*id, *d)),
            Task::Action(..) => None,
        })
        .collect();
    let download = |name: &str, what: &str| {
        html! {
            p.no-print.csv { a href=(csv(name)) download { "Download " (what) " as CSV" } }
        }
    };
    Ok(layout(
        Some(view),
        reader,
        "Monthly meeting pack",
        Nav::Pack,
        html! {
            h1 { "Monthly meeting pack — " (view.state.at) }
            p.lead { (title) }
            section #pack-stamp {
                p { "Computed from the checkpoint of " code { (view.origin) } " at tree size " strong { (view.size) }
                    ", root " code { (view.root.to_hex()) } "; state digest " code { (view.state.digest.to_hex()) } "." }
                p { "Re-verify: " code { "hisaab replay ledger.jsonl --as-of " (view.size) " --json" } " must print this digest." }
            }
            p.no-print { "Print this page, or save it as PDF from the browser's print dialog. Every table is also a CSV file stamped with this checkpoint and digest: "
                @for (i, name) in crate::csv::Table::ALL.map(crate::csv::Table::name).iter().enumerate() {
                    @if i > 0 { ", " }
                    a href=(csv(name)) { (name) }
                }
                "." }
            h2 { "1. Scores: operators × pillars" }
            (heatmap(view))
            (download("scores", "the scores"))
            h2 { "2. KPIs needing attention" }
            div.table-wrap { table #pack-kpis .stack {
                thead { tr { th { "Operator" } th { "KPI" } th { "Title" } th { "Pillar" } th { "Unit" } th { "Target" } th { "Direction" } th { "Due" } th { "Latest value" } th { "Latest verdict" } th { "Score" } th { "Status" } } }
                tbody {
                    @for (id, o) in &view.state.operators {
                        @for (kpi, k) in &o.kpis {
                            @if k.status.needs_attention() {
                                tr { td data-label="Operator" { span { (o.name) @if let Some(left) = left_on(view, id) { br; small.left { "left " (left) } } } }
                                    (kpi_row_cells(view, id.as_str(), kpi.as_str(), k)) }
                            }
                        }
                    }
                }
            } }
            (download("kpis", "every KPI"))
            h2 { "3. Commitments still to meet (overdue first)" }
            (table)
            (download("commitments", "every commitment"))
            @if let Some(cycle) = cycle {
                h2 #pack-quorum-heading { "4. Meetings and quorum" }
                p #pack-next-meeting { "Next meeting: "
                    @match next_meeting(cycle, view.state.at) {
                        Some((id, m)) => { (id) @if let Some(d) = m.scheduled_for { ", scheduled for " (d) } }
                        None => { "none scheduled" }
                    }
                    ". Quorum: " (cycle.quorum_percent) " % of the operators represented."
                }
                @if cycle.meetings.is_empty() { p { "No meetings yet." } } @else {
                    div.table-wrap { table.stack #pack-meetings {
                        caption { "Meetings, newest first: dates, attendance and quorum" }
                        thead { tr { th scope="col" { "Meeting" } th scope="col" { "Scheduled for" } th scope="col" { "Held on" } th scope="col" { "Attendance" } th scope="col" { "Quorum" } } }
                        tbody { @for (id, m) in meetings_newest_first(cycle) { tr {
                            td data-label="Meeting" { a href=(format!("{}#meeting-{id}", at(view, "/app/meetings"))) { (id) } }
                            td data-label="Scheduled for" { (opt(m.scheduled_for)) }
                            td data-label="Held on" { (opt(m.held_on)) }
                            td data-label="Attendance" { @if m.held_on.is_some() { (m.attendees.len()) " attended, " (m.absent.len()) " absent, " (m.attested.len()) " attested" } @else { "–" } }
                            td data-label="Quorum" { (quorum_text(m, cycle.quorum_percent)) }
                        } } }
                    } }
                }
                (download("meetings", "the meetings"))
                h2 { "5. Action items (overdue first)" }
                (task_legend())
                (actions_table(view, "Action items of the meetings: owner, due date, status", "pack-actions", &actions))
                (download("actions", "the action items"))
                h2 { "6. Directives (overdue first)" }
                (directives_table(view, "Directives of the authority: the operator that owes each, due date, status", "pack-directives", &directives))
                (download("directives", "the directives"))
            } @else {
                h2 { "4. Meetings" }
                ul { @for m in view.register.meetings.iter().rev().take(3) { li { (m.meeting) ": " (m.attendees.len()) " attended, " (m.attested.len()) " attested" } } }
            }
            h2 { (if cycle.is_some() { "7." } else { "5." }) " Disputes and challenges" }
            @if view.register.disputes.is_empty() && view.register.challenges.is_empty() { p { "None." } }
            ul #pack-disputes {
                @for d in &view.register.disputes { li { "Dispute " a href=(at(view, &format!("/app/disputes/{}", d.dispute))) { code { (d.dispute) } } " (" (view.operator_name(d.operator.as_str())) ", " code { (d.kpi) } "): " (dispute_status(view, d)) } }
                @for c in &view.register.challenges {
                    @let case = Case::challenge(view, c);
                    li { "Challenge " a href=(case.href(view)) { code { (c.challenge) } } ": " (case.status)
                        @for (head, cell) in &case.columns { "; " (head.to_lowercase()) " " (cell) } }
                }
            }
            (download("disputes", "the disputes"))
            (download("challenges", "the challenges"))
            p.print-only { "Log key: " code { (view.vkey) } }
        },
    ))
}

/// Every action item and directive the reader may see, overdue first, those concerning
/// `operator` only when given.
pub fn directives(view: &View, reader: &Reader, operator: Option<&str>) -> Markup {
    let cycle = view.state.cycle.as_ref();
    let tasks = cycle.map_or_else(Vec::new, |c| {
        tasks_overdue_first(c, &view.register, operator)
    });
    let overdue = tasks
        .iter()
        .filter(|t| t.status() == TaskStatus::Overdue)
        .count();
    let open = tasks
        .iter()
        .filter(|t| t.status() == TaskStatus::Open)
        .count();
    let name = operator.map(|o| view.operator_name(o));
    layout(
        Some(view),
        reader,
        "Directives and action items",
        Nav::Directives,
        html! {
            h1 { "Directives and action items" @if let Some(name) = name { " — " (name) } }
            p.lead { "The authority's directives to operators and the action items of the meetings' minutes, as of " (view.state.at)
                ": overdue first (the longest overdue first), then open by due date, then closed." }
            form.inline method="get" action="/app/directives" {
                label { "Operator"
                    select name="operator" {
                        option value="" { "All operators" }
                        @for (id, o) in &view.state.operators {
                            option value=(id) selected[operator == Some(id.as_str())] { (o.name) }
                        }
                    }
                }
                @for (name, value) in view.point_params() { input type="hidden" name=(name) value=(value); }
                button type="submit" { "Filter" }
            }
            @if cycle.is_none() {
                p { "This ledger has no meeting cycle (format 1): no directives or action items." }
            } @else {
                p #task-count { (tasks.len()) " item(s): " strong { (overdue) " overdue" } ", " (open) " open, "
                    (tasks.len() - overdue - open) " closed."
                    @if operator.is_some() { " An action item owned by a member counts for the member's operator." } }
                (task_legend())
                @if tasks.is_empty() { p { "None." } } @else {
                    (tasks_table(view, "Directives and action items, overdue first", &tasks))
                }
                p.no-print { "As CSV, stamped with the checkpoint: "
                    a href=(at(view, "/app/pack/directives.csv")) { "directives" } ", "
                    a href=(at(view, "/app/pack/actions.csv")) { "action items" } "." }
            }
        },
    )
}

/// A dispute or a challenge, as its register and its page show it.
pub struct Case<'a> {
    /// `dispute` or `challenge`.
    kind: &'static str,
    id: &'a Slug,
    /// What it is about: the operator (and KPI), or the sector.
    about: Markup,
    /// Where it stands, as the reader may see it.
    status: Markup,
    /// Its fields beyond those every case has.
    fields: Markup,
    /// The register's columns beyond those every case has: heading and cell.
    columns: Vec<(&'static str, Markup)>,
    /// The seqs of the entry that opened (raised) it and of the one that resolved it.
    opened: u64,
    resolved: Option<u64>,
    /// Whether an agenda item names it.
    on_agenda: Box<dyn Fn(&AgendaItem) -> bool + 'a>,
}

impl<'a> Case<'a> {
    /// A dispute as the view's reader may see it.
    pub fn dispute(view: &'a View, d: &'a DisputeItem) -> Case<'a> {
        Case {
            kind: "dispute",
            id: &d.dispute,
            about: html! { span {
                a href=(at(view, &format!("/app/operators/{}", d.operator))) { (view.operator_name(d.operator.as_str())) }
                ", KPI " a href=(at(view, &format!("/app/operators/{}/kpis/{}", d.operator, d.kpi))) { code { (d.kpi) } }
            } },
            status: dispute_status(view, d),
            fields: html! {
                dt { "KPI" } dd { code { (d.kpi) } " " (view.kpi_title(d.kpi.as_str())) }
                dt { "Evaluation disputed" } dd { code { (d.evaluation.to_hex()) } }
            },
            columns: Vec::new(),
            opened: d.seq,
            resolved: d.resolved_seq,
            on_agenda: Box::new(|item: &AgendaItem| item.dispute.as_ref() == Some(&d.dispute)),
        }
    }

    /// A challenge as the view's reader may see it: on a format-2 ledger with its place in
    /// the register (owner, severity, due date, measures; SPEC §11.12).
    pub fn challenge(view: &'a View, c: &'a ChallengeItem) -> Case<'a> {
        let register = view
            .state
            .cycle
            .as_ref()
            .and_then(|cycle| cycle.challenges.get(&c.challenge));
        let status = register.map_or_else(
            || if c.is_open() { "open" } else { "resolved" },
            |r| r.status.as_str(),
        );
        Case {
            kind: "challenge",
            id: &c.challenge,
            about: challenge_about(view, c),
            status: html! { span class={ "status status-" (status) "-challenge" } { (status) } },
            fields: register.map_or_else(|| html! {}, |r| challenge_fields(view, r)),
            columns: register.map_or_else(Vec::new, |r| {
                vec![
                    ("Owner", html! { @match &r.owner { Some(o) => { (owner_name(view, o)) } None => { "–" } } }),
                    ("Severity", html! { (opt(r.severity.map(|s| s.as_str()))) }),
                    ("Due", html! { (opt(r.due)) }),
                ]
            }),
            opened: c.seq,
            resolved: c.resolved_seq,
            on_agenda: Box::new(|item: &AgendaItem| item.challenge.as_ref() == Some(&c.challenge)),
        }
    }

    fn href(&self, view: &View) -> String {
        at(view, &format!("/app/{}s/{}", self.kind, self.id))
    }

    /// What the entry that opened it is called.
    fn opened_word(&self) -> &'static str {
        if self.kind == "challenge" {
            "Raised"
        } else {
            "Opened"
        }
    }
}

/// When an entry was recorded and who signed it.
fn recorded_by(store: &Store, view: &View, seq: u64) -> Result<Option<(String, String)>, WebError> {
    Ok(store.entry(seq)?.map(|sealed| {
        (
            sealed.entry().recorded_at.date().to_string(),
            signer_of(view, &sealed),
        )
    }))
}

/// A register cell: the date an entry was recorded, who signed it, and a link to it.
fn recorded_cells(
    view: &View,
    what: &str,
    seq: Option<u64>,
    recorded: Option<&(String, String)>,
) -> Markup {
    html! {
        td data-label=(format!("{what} on")) { span {
            @match (seq, recorded) {
                (Some(seq), Some((date, _))) => { a href=(at(view, &format!("/app/entries/{seq}"))) { time datetime=(date) { (date) } } }
                _ => { "–" }
            }
        } }
        td data-label=(format!("{what} by")) { (recorded.map_or("–", |(_, by)| by.as_str())) }
    }
}

/// The two registers of cases: the disputes and the challenges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cases {
    /// Disputes of evaluations.
    Disputes,
    /// Challenges raised against the ledger's data.
    Challenges,
}

impl Cases {
    /// What one case is called: `dispute` or `challenge`.
    pub fn kind(self) -> &'static str {
        match self {
            Cases::Disputes => "dispute",
            Cases::Challenges => "challenge",
        }
    }

    /// Every case of the register, as the view's reader may see it, in the register's order.
    pub fn all(self, view: &View) -> Vec<Case<'_>> {
        match self {
            Cases::Disputes => view
                .register
                .disputes
                .iter()
                .map(|d| Case::dispute(view, d))
                .collect(),
            Cases::Challenges => view
                .register
                .challenges
                .iter()
                .map(|c| Case::challenge(view, c))
                .collect(),
        }
    }

    /// The case `id` of the register, if there is one.
    pub fn find<'a>(self, view: &'a View, id: &str) -> Option<Case<'a>> {
        match self {
            Cases::Disputes => view
                .register
                .disputes
                .iter()
                .find(|d| d.dispute.as_str() == id)
                .map(|d| Case::dispute(view, d)),
            Cases::Challenges => view
                .register
                .challenges
                .iter()
                .find(|c| c.challenge.as_str() == id)
                .map(|c| Case::challenge(view, c)),
        }
    }
}

/// A register of cases: every dispute (challenge), open first, with who opened (raised) and
/// resolved it.
///
/// # Errors
/// The store's.
pub fn register(
    store: &Store,
    view: &View,
    reader: &Reader,
    which: Cases,
) -> Result<Markup, WebError> {
    let cases = which.all(view);
    let head = match which {
        Cases::Disputes => {
            let open = view
                .register
                .disputes
                .iter()
                .filter(|d| d.status == hisaab_model::report::DisputeStatus::Open)
                .count();
            html! {
                h1 { "Disputes" }
                p.lead { "Disputes of evaluations, as of " (view.state.at) ": " (cases.len()) " in all, " strong #disputes-open { (open) " open" }
                    "; open first, then resolved, each in log order. See also the " a href=(at(view, "/app/challenges")) { "challenges" } "." }
                (dispute_legend())
            }
        }
        Cases::Challenges => {
            let open = view
                .register
                .challenges
                .iter()
                .filter(|c| c.is_open())
                .count();
            let overdue = view.state.cycle.as_ref().map(|c| {
                c.challenges
                    .values()
                    .filter(|x| x.status == ChallengeStatus::Overdue)
                    .count()
            });
            html! {
                h1 { "Challenges" }
                p.lead { "Challenges raised against the ledger's data, as of " (view.state.at) ": " (cases.len()) " in all, " strong #challenges-open { (open) " open" }
                    @if let Some(n) = overdue { " (" strong #challenges-overdue { (n) " past their due date" } ")" }
                    "; open first, then resolved, each in log order. A challenge to the whole sector is read by the task force only. See also the " a href=(at(view, "/app/disputes")) { "disputes" } "." }
                @if overdue.is_some() { (challenge_legend()) }
            }
        }
    };
    register_page(store, view, reader, &cases, head, which)
}

/// A register of disputes or challenges, under `head`.
fn register_page(
    store: &Store,
    view: &View,
    reader: &Reader,
    cases: &[Case<'_>],
    head: Markup,
    which: Cases,
) -> Result<Markup, WebError> {
    let table = match which {
        Cases::Disputes => "disputes",
        Cases::Challenges => "challenges",
    };
    let mut rows = Vec::with_capacity(cases.len());
    for case in cases {
        let opened = recorded_by(store, view, case.opened)?;
        let resolved = match case.resolved {
            Some(seq) => recorded_by(store, view, seq)?,
            None => None,
        };
        rows.push((case, opened, resolved));
    }
    let title = match which {
        Cases::Disputes => "Disputes",
        Cases::Challenges => "Challenges",
    };
    let kind = title.trim_end_matches('s');
    Ok(layout(
        Some(view),
        reader,
        title,
        Nav::Disputes,
        html! {
            (head)
            @if rows.is_empty() { p { "None." } } @else {
                div.table-wrap { table.stack id=(table) {
                    caption { "The " (table) " register" }
                    thead { tr {
                        th scope="col" { (kind) } th scope="col" { "About" } th scope="col" { "Status" }
                        @for (head, _) in &rows[0].0.columns { th scope="col" { (head) } }
                        @let opened = rows[0].0.opened_word();
                        th scope="col" { (opened) " on" } th scope="col" { (opened) " by" } th scope="col" { "Resolved on" } th scope="col" { "Resolved by" }
                    } }
                    tbody { @for (case, opened, resolved) in &rows { tr id=(format!("{}-{}", case.kind, case.id)) {
                        td data-label=(kind) { a href=(case.href(view)) { code { (case.id) } } }
                        td data-label="About" { (case.about) }
                        td data-label="Status" { (case.status) }
                        @for (head, cell) in &case.columns { td data-label=(head) { span { (cell) } } }
                        (recorded_cells(view, case.opened_word(), Some(case.opened), opened.as_ref()))
                        (recorded_cells(view, "Resolved", case.resolved, resolved.as_ref()))
                    } } }
                } }
            }
            p.no-print { a href=(at(view, &format!("/app/pack/{table}.csv"))) { "The register as CSV" } ", stamped with the checkpoint." }
        },
    ))
}

fn dispute_legend() -> Markup {
    html! {
        ul.legend aria-label="Legend of dispute statuses" {
            li { strong { "open" } ": not yet resolved; the KPI shows as disputed" }
            li { strong { "upheld" } ": resolved, the evaluation stands" }
            li { strong { "overturned" } ": resolved, the evaluation is void" }
            li { strong { "resolved" } ": resolved, its outcome is not yours to read (SPEC §12)" }
        }
    }
}

fn challenge_legend() -> Markup {
    html! {
        ul.legend aria-label="Legend of challenge statuses" {
            li { strong { "open" } ": not yet resolved, not past its due date (or it has none)" }
            li { strong { "overdue" } ": not yet resolved, past its due date" }
            li { strong { "resolved" } ": resolved" }
            li { strong { "Owner" } ": who answers for it; with none, the authority and the chair" }
        }
    }
}

/// What a challenge names: an operator (and a KPI), or the whole sector.
fn challenge_about(view: &View, c: &ChallengeItem) -> Markup {
    html! { span {
        @match &c.operator {
            Some(o) => {
                a href=(at(view, &format!("/app/operators/{o}"))) { (view.operator_name(o.as_str())) }
                @if let Some(k) = &c.kpi {
                    ", KPI " a href=(at(view, &format!("/app/operators/{o}/kpis/{k}"))) { code { (k) } }
                }
            }
            None => {
                "the sector"
                @if let Some(k) = &c.kpi { ", KPI " code { (k) } }
            }
        }
    } }
}

/// A challenge's place in the register (SPEC §11.12): who answers for it, how grave it is,
/// by when, and the measures taken, each linking to its entry.
fn challenge_fields(view: &View, r: &ChallengeState) -> Markup {
    html! {
        dt { "Owner" } dd { @match &r.owner { Some(o) => { (owner_name(view, o)) } None => { "none: the authority and the chair answer for it" } } }
        dt { "Severity" } dd { (opt(r.severity.map(|s| s.as_str()))) }
        dt { "Due" } dd {
            (opt(r.due))
            @if r.status == ChallengeStatus::Overdue { " — " strong { "overdue" } }
        }
        dt { "Measures taken" } dd {
            @if r.measures.is_empty() { "none yet" } @else {
                ul.measures { @for m in &r.measures { li {
                    a href=(at(view, &format!("/app/entries/{}", m.seq))) { (m.on) } " by " (owner_name(view, &m.by))
                } } }
            }
        }
    }
}

/// One dispute or challenge: where it stands, who opened and resolved it, the meetings whose
/// agenda names it, its entries.
///
/// # Errors
/// The store's.
pub fn case(
    store: &Store,
    view: &View,
    reader: &Reader,
    case: &Case<'_>,
) -> Result<Markup, WebError> {
    let opened = store.entry(case.opened)?;
    let resolved = match case.resolved {
        Some(seq) => store.entry(seq)?,
        None => None,
    };
    let agendas: Vec<&Slug> = view.state.cycle.as_ref().map_or_else(Vec::new, |c| {
        meetings_newest_first(c)
            .into_iter()
            .filter(|(_, m)| m.agenda.iter().any(|item| (case.on_agenda)(item)))
            .map(|(id, _)| id)
            .collect()
    });
    let title = if case.kind == "dispute" {
        "Dispute"
    } else {
        "Challenge"
    };
    Ok(layout(
        Some(view),
        reader,
        &format!("{title} {}", case.id),
        Nav::Disputes,
        html! {
            h1 { (title) " " code { (case.id) } }
            dl.fields id=(format!("{}-fields", case.kind)) {
                dt { "Status" } dd { (case.status) }
                dt { "About" } dd { (case.about) }
                (case.fields)
                dt { (case.opened_word()) } dd { @match &opened {
                    Some(e) => { (e.entry().recorded_at.date()) " by " (signer_of(view, e)) }
                    None => { "–" }
                } }
                dt { "Resolved" } dd { @match &resolved {
                    Some(e) => { (e.entry().recorded_at.date()) " by " (signer_of(view, e)) }
                    None => { "not yet" }
                } }
                dt { "On the agenda of" } dd {
                    @if agendas.is_empty() { "no meeting" } @else {
                        @for (i, m) in agendas.iter().enumerate() {
                            @if i > 0 { ", " }
                            a href=(format!("{}#meeting-{m}", at(view, "/app/meetings"))) { (m) }
                        }
                    }
                }
            }
            h2 { "Its entries" }
            @if let Some(e) = &opened { (entry_card(view, e)) }
            @if let Some(e) = &resolved { (entry_card(view, e)) }
            p { a href=(at(view, &format!("/app/{}s", case.kind))) { "All " (case.kind) "s" } }
        },
    ))
}

/// The ledger explorer: the checkpoint and a page of entries, newest first.
///
/// # Errors
/// The store's.
pub fn ledger(
    store: &Store,
    view: &View,
    reader: &Reader,
    start: Option<u64>,
) -> Result<Markup, WebError> {
    // Newest first: the page ends at `start` (default: the view's last entry).
    let last = start
        .unwrap_or(view.size.saturating_sub(1))
        .min(view.size.saturating_sub(1));
    let first = last.saturating_add(1).saturating_sub(ENTRIES_PER_PAGE);
    let entries = if view.size == 0 {
        Vec::new()
    } else {
        store.entries(first, last + 1 - first)?
    };
    let older = (first > 0).then(|| first - 1);
    let newer = (last + 1 < view.size).then(|| (last + ENTRIES_PER_PAGE).min(view.size - 1));
    let page = |s: u64| at(view, &format!("/app/ledger?start={s}"));
    Ok(layout(
        Some(view),
        reader,
        "Ledger",
        Nav::Ledger,
        html! {
            h1 { "Ledger explorer" }
            dl.fields {
                dt { "Origin" } dd { code { (view.origin) } }
                dt { "Tree size" } dd { (view.size) }
                dt { "Root" } dd { code { (view.root.to_hex()) } }
                dt { "Signed checkpoint at this size" } dd { @if view.note.is_some() { "yes (below)" } @else { "not kept for this size; the latest signed checkpoint covers it" } }
            }
            pre.note { (view.signed_note()) }
            p { "Raw: " a href="/v1/checkpoint" { "/v1/checkpoint" } ", " a href=(format!("/v1/entries?start={first}&limit={}", last + 1 - first)) { "these entries as JSON Lines" } "." }
            h2 { "Entries " (first) "–" (last) ", newest first" }
            nav.pager aria-label="Pages of entries" {
                @if let Some(n) = newer { a href=(page(n)) rel="prev" { "Newer" } }
                @if let Some(o) = older { a href=(page(o)) rel="next" { "Older" } }
            }
            @for sealed in entries.iter().rev() { (entry_card(view, sealed)) }
        },
    ))
}

/// One entry: what it says, who signed it when, its hashes, its inclusion proof and receipt.
///
/// # Errors
/// The store's.
pub fn entry(store: &Store, view: &View, reader: &Reader, seq: u64) -> Result<Markup, WebError> {
    let Some(sealed) = store.entry(seq)? else {
        return Err(WebError::NotFound(format!("no entry {seq}")));
    };
    let entry = sealed.entry();
    // A withheld entry shows what the API's withheld line shows: its seq, kind and leaf hash,
    // and the proof of that hash.
    let readable = view.may_read(seq);
    let proof = store.inclusion_proof(seq, view.size)?;
    let receipt = store.receipt(seq)?;
    let receipt_json = serde_json::to_string_pretty(&receipt).unwrap_or_default();
    let receipt_link = format!(
        "/app/verify#receipt={}",
        encode(&serde_json::to_string(&receipt).unwrap_or_default())
    );
    let body_fields: Vec<(String, String)> = entry
        .statement
        .body
        .iter()
        .filter(|_| readable)
        .map(|(k, v)| {
            (
                k.clone(),
                match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
            )
        })
        .collect();
    let text = if readable {
        body_of(&sealed).map_or_else(|| entry.statement.kind.clone(), |b| summary(view, &b))
    } else {
        WITHHELD.to_owned()
    };
    let subject = view.ledger.subject_of(&entry.statement);
    Ok(layout(
        Some(view),
        reader,
        &format!("Entry {seq}"),
        Nav::Ledger,
        html! {
            h1 { "Entry #" (seq) " · " (entry.statement.kind) }
            p.lead #entry-summary { (text) }
            @if let Some((operator, kpi)) = &subject {
                p { a href=(at(view, &format!("/app/operators/{operator}/kpis/{kpi}"))) { "Every entry about " (operator) " / " (kpi) } }
            }
            nav.pager aria-label="Neighbouring entries" {
                @if seq > 0 { a href=(at(view, &format!("/app/entries/{}", seq - 1))) rel="prev" { "Previous entry" } }
                @if seq + 1 < view.size { a href=(at(view, &format!("/app/entries/{}", seq + 1))) rel="next" { "Next entry" } }
            }
            @if !readable {
                dl.fields { dt { "Leaf hash" } dd { code #event-hash { (sealed.event_hash().to_hex()) } } }
            }
            @if readable {
            h2 { "Who and when" }
            dl.fields {
                dt { "Signed by" } dd { (signer_of(view, &sealed)) }
                dt { "Signer's key" } dd { code { (hisaab_log::key::encode_base64(entry.statement.signer.as_bytes())) } }
                dt { "Issued at" } dd { (entry.statement.issued_at) }
                dt { "Recorded at" } dd { (entry.recorded_at) }
                dt { "Statement id" } dd { code { (entry.statement.id.as_str()) } }
                dt { "Event hash" } dd { code #event-hash { (sealed.event_hash().to_hex()) } }
                dt { "Previous event hash" } dd { code { (entry.prev.to_hex()) } }
            }
            h2 { "What it says" }
            dl.fields { @for (k, v) in &body_fields { dt { (k) } dd { (v) } } }
            p { a href=(format!("/v1/entries/{seq}")) { "The entry's exact bytes" } }
            }
            @if let Some(erased) = erased_of(view, seq) {
                h2 #erased { "Erased fields" }
                p { "The values of these fields were erased (SPEC §12.9): their openings are deleted, so nobody can read them any more, while the entry, its signature and its commitment to each value stay in the chain and keep verifying. Where a field above says \"sealed\", this is why." }
                dl.fields { @for (field, by) in &erased.fields {
                    dt { code { (field) } } dd { "erased by " a href=(at(view, &format!("/app/entries/{by}"))) { "entry #" (by) } }
                } }
            }
            h2 #inclusion-proof { "Inclusion proof in the tree of size " (view.size) }
            p { "Root " code { (view.root.to_hex()) } "; " (proof.len()) " hash(es), leaf first:" }
            ol.hash { @for h in &proof { li { code { (h.to_hex()) } } } }
            @if readable {
            h2 { "Receipt" }
            p { "The receipt its submitter got (the checkpoint of the batch that appended it). "
                a #check-receipt href=(receipt_link) { "Check this receipt in your browser" } }
            pre.note { (receipt_json) }
            }
        },
    ))
}

/// Who owes an obligation, in words.
fn owed_by(view: &View, owed: &hisaab_model::OwedBy) -> String {
    match owed {
        hisaab_model::OwedBy::Operator { operator } => {
            view.operator_name(operator.as_str()).to_owned()
        }
        hisaab_model::OwedBy::Roles { roles } => {
            let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            format!("any {}", roles.join(" or "))
        }
        hisaab_model::OwedBy::Member { member } => format!("member {member}"),
    }
}

/// Signing in: the member's key file stays in the browser, which signs the server's challenge
/// with WebCrypto (SPEC §13.2); the server answers with a session cookie. `hisaab login` does
/// the same from the command line and prints the token for the API.
pub fn signin(view: &View, reader: &Reader) -> Markup {
    layout(
        Some(view),
        reader,
        "Sign in",
        Nav::Verify,
        html! {
            h1 { "Sign in" }
            p.lead { "Members read what their role allows (SPEC §13): the task force everything, \
                      an operator's members everything about it and the public view of the rest. \
                      Sign in with your own key: your browser signs a challenge from this server \
                      with it; the key never leaves this page." }
            form #signin-form {
                p { label { "Your member id" input #signin-member type="text" name="member" required autocomplete="username" spellcheck="false"; } }
                p { label { "Your key file (PKCS#8 PEM, as " code { "hisaab keygen" } " writes it)" input #signin-key type="file" accept=".pem,.key,text/plain" required; } }
                p { button type="submit" { "Sign in" } }
                p { output #signin-result .check aria-live="polite" {} }
                p #signin-next hidden { a href="/" { "Go to the sector overview" } }
            }
            p { "From the command line: " code { "hisaab login --key FILE --server URL" } " prints a session token for the API (" code { "Authorization: Bearer" } ")." }
            p { "A session lasts a short while and ends at once if your membership is revoked." }
        },
    )
}

/// Pin a log key; check the checkpoint and a receipt in the browser.
pub fn verify(view: &View, reader: &Reader) -> Markup {
    layout(
        Some(view),
        reader,
        "Verify",
        Nav::Verify,
        html! {
            h1 { "Verify in your browser" }
            p.lead { "Your browser checks the log's signature (Ed25519, WebCrypto) and inclusion proofs (RFC 9162, SHA-256) itself: you need not trust this server's word, only the log key you pin." }
            h2 { "1. The log key you trust" }
            p { "This server says its log key is " code { (view.vkey) } ". Compare it with the key the task force published, or paste the one you were given." }
            form.inline onsubmit="return false" {
                label.wide { "Pinned log key (name+id+key)"
                    input #pin-vkey .wide type="text" value=(view.vkey) spellcheck="false" autocomplete="off";
                }
                button #pin-check type="button" { "Check the latest checkpoint" }
                button #pin-save type="button" { "Pin this key in this browser" }
                button #pin-forget type="button" { "Forget the pinned key" }
            }
            p { output #pin-result .check aria-live="polite" data-note=(view.latest_note) { "Not checked yet (this needs JavaScript)." } }
            pre.note { (view.latest_note) }
            h2 { "2. Is my submission included?" }
            p { "Paste the receipt " code { "hisaab submit … --json" } " printed (or any entry's receipt from the ledger explorer)." }
            form onsubmit="return false" {
                label for="receipt" { "Receipt (JSON)" }
                textarea #receipt name="receipt" spellcheck="false" {}
                p { button #receipt-check type="button" { "Check the receipt" } }
            }
            p { output #receipt-result .check aria-live="polite" { "" } }
        },
    )
}
